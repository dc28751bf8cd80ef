// The SharedArrayBuffer through which Web Workers splitting a behaviour-cloning run sum their
// gradients and gather their recorded episodes and evaluations (Trainer.splitBetweenWorkers /
// benchmarkBcShared of the wasm API). The wasm side takes any size above its minimum and
// exchanges as many values per round as fit: 128 Ki here, so a 39→256→256→4 network's 77k
// gradients go in one round.

/** A zeroed buffer for `workers` workers: a 64-byte barrier, then two phases × `workers`
 * slots of 128 Ki f32 values. */
export function sharedWorkBuffer(workers) {
  return new SharedArrayBuffer(64 + 2 * workers * 128 * 1024 * 4);
}
