//! Data parallelism between Web Workers: [`SharedBufferExchange`] is the sum (an
//! [`AllReduce`]) of a behaviour-cloning run split over several workers, each with its own
//! wasm instance — gradients every step, recorded episodes and evaluations gathered through
//! the same sum — over one `SharedArrayBuffer` (so it needs a cross-origin isolated page). No
//! wasm threads: the workers meet at a barrier built on `Atomics`, once per chunk of values.
//!
//! Buffer layout: bytes 0..[`HEADER_BYTES`] hold the barrier (`Int32` 0: workers arrived,
//! `Int32` 1: generation); the rest is `f32` slots, two phases × workers × `chunk` values,
//! the chunk being what fits (any size above a minimum works; web/shared-buffer.js makes
//! one).
//! A worker writes its chunk into its slot of the current phase, waits for everyone, and adds
//! all slots in worker order; phases alternate, so nobody overwrites a slot someone is still
//! reading (that would take passing the next barrier first).

use js_sys::{Atomics, Float32Array, Int32Array, SharedArrayBuffer};
use polyskill_learn::parallel::AllReduce;

/// Bytes reserved for the barrier at the start of the buffer.
const HEADER_BYTES: u32 = 64;
/// The most workers one run may be split between (a page has a handful of cores; the limit
/// keeps every size computed from the count far from overflowing).
pub const MAX_WORKERS: u32 = 256;
/// The smallest chunk (f32 values per slot) a buffer may give.
const MIN_CHUNK: u32 = 1024;
/// Spins (each an atomic load) before a waiting worker sleeps in `Atomics.wait`: a barrier
/// is usually met within microseconds, and waking from a sleep costs more.
const SPINS: u32 = 20_000;
/// How long a worker waits at a barrier before deciding the others are gone.
const TIMEOUT_MS: f64 = 30_000.0;

/// One worker's side of the exchange.
pub struct SharedBufferExchange {
    index: usize,
    workers: usize,
    control: Int32Array,
    /// Each (phase, worker)'s slot as a full-chunk view.
    slots: Vec<Float32Array>,
    chunk: usize,
    phase: usize,
    scratch: Vec<f32>,
}

/// Bytes of a buffer that exchanges `chunk` values per round between `workers` workers.
fn buffer_bytes(workers: u32, chunk: u32) -> u64 {
    HEADER_BYTES as u64 + 2 * workers as u64 * chunk as u64 * 4
}

impl SharedBufferExchange {
    /// Worker `index` of `workers` on `buffer` (zeroed, and the same buffer for all).
    pub fn new(
        buffer: &SharedArrayBuffer,
        index: u32,
        workers: u32,
    ) -> Result<SharedBufferExchange, String> {
        if workers == 0 || workers > MAX_WORKERS || index >= workers {
            return Err(format!(
                "split run: {workers} workers with this one as index {index}: need 1..={MAX_WORKERS} workers and an index below their count"
            ));
        }
        let bytes = buffer.byte_length();
        let chunk = bytes.saturating_sub(HEADER_BYTES) / 4 / (2 * workers);
        if chunk < MIN_CHUNK {
            return Err(format!(
                "split run: a buffer of {bytes} bytes is too small for {workers} workers (expected at least {})",
                buffer_bytes(workers, MIN_CHUNK)
            ));
        }
        let slots = (0..2 * workers)
            .map(|slot| {
                Float32Array::new_with_byte_offset_and_length(
                    buffer,
                    HEADER_BYTES + slot * chunk * 4,
                    chunk,
                )
            })
            .collect();
        Ok(SharedBufferExchange {
            index: index as usize,
            workers: workers as usize,
            control: Int32Array::new_with_byte_offset_and_length(buffer, 0, 2),
            slots,
            chunk: chunk as usize,
            phase: 0,
            scratch: vec![0.0; chunk as usize],
        })
    }

    /// The first `len` values of `worker`'s slot in the current phase.
    fn slot(&self, worker: usize, len: usize) -> Float32Array {
        let whole = &self.slots[self.phase * self.workers + worker];
        if len == self.chunk {
            whole.clone()
        } else {
            whole.subarray(0, len as u32)
        }
    }

    /// Waits until every worker has arrived (a generation barrier).
    fn barrier(&self) -> Result<(), String> {
        let js = |e: wasm_bindgen::JsValue| format!("split run: {e:?}");
        let generation = Atomics::load(&self.control, 1).map_err(js)?;
        if Atomics::add(&self.control, 0, 1).map_err(js)? + 1 == self.workers as i32 {
            // The last to arrive resets the count before opening the next generation, so
            // nobody can arrive at the next barrier before the count is back to zero.
            Atomics::store(&self.control, 0, 0).map_err(js)?;
            Atomics::add(&self.control, 1, 1).map_err(js)?;
            Atomics::notify(&self.control, 1).map_err(js)?;
            return Ok(());
        }
        for _ in 0..SPINS {
            if Atomics::load(&self.control, 1).map_err(js)? != generation {
                return Ok(());
            }
        }
        let start = js_sys::Date::now();
        while Atomics::load(&self.control, 1).map_err(js)? == generation {
            let left = TIMEOUT_MS - (js_sys::Date::now() - start);
            if left <= 0.0 {
                return Err(format!(
                    "split run: worker {} waited {} s for the other training workers, which stopped answering",
                    self.index,
                    TIMEOUT_MS / 1000.0
                ));
            }
            Atomics::wait_with_timeout(&self.control, 1, generation, left).map_err(js)?;
        }
        Ok(())
    }
}

impl AllReduce for SharedBufferExchange {
    fn index(&self) -> usize {
        self.index
    }

    fn workers(&self) -> usize {
        self.workers
    }

    fn sum(&mut self, values: &mut [f32]) -> Result<(), String> {
        let mut scratch = std::mem::take(&mut self.scratch);
        for part in values.chunks_mut(self.chunk) {
            self.slot(self.index, part.len()).copy_from(part);
            self.barrier()?;
            part.fill(0.0);
            for worker in 0..self.workers {
                let theirs = &mut scratch[..part.len()];
                self.slot(worker, part.len()).copy_to(theirs);
                part.iter_mut()
                    .zip(theirs.iter())
                    .for_each(|(v, t)| *v += t);
            }
            self.phase ^= 1;
        }
        self.scratch = scratch;
        Ok(())
    }
}
