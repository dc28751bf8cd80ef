//! Work split between workers that share nothing but a sum: [`AllReduce`] (every worker
//! gets the sum of every worker's values, added in worker order), [`shard_rows`] (which rows
//! of a batch a worker computes) and [`gather`] (every worker gets every worker's pieces,
//! through the same sum). Behaviour cloning splits its minibatches, its recorded episodes
//! and its evaluation this way between Web Workers (see `crates/web/src/shared.rs`) or threads.

/// Sums values over the workers of a split computation. Every worker has one, with the same
/// `workers()` and its own `index()`, and calls `sum` the same number of times with the same
/// lengths.
pub trait AllReduce {
    /// This worker's place, `0..workers()`.
    fn index(&self) -> usize;
    /// Workers sharing the computation.
    fn workers(&self) -> usize;
    /// Replaces `values` (e.g. this worker's gradients and loss, flattened) by their sum over
    /// all workers, added in worker order so that every worker gets the same bits. Errors if
    /// another worker stopped answering.
    fn sum(&mut self, values: &mut [f32]) -> Result<(), String>;
}

/// The rows `lo..hi` of a `batch`-row minibatch that worker `index` of `workers` computes.
pub fn shard_rows(batch: usize, index: usize, workers: usize) -> std::ops::Range<usize> {
    batch * index / workers..batch * (index + 1) / workers
}

/// The most values one [`gather`] may collect from all workers (256 MB of `f32`).
pub const MAX_GATHERED: usize = 1 << 26;

/// Every worker passes the pieces it made, each with its place in `0..count` (every place
/// made by exactly one worker), and gets all `count` pieces in place order, the same bits on
/// every worker: the lengths are summed first, then one table where each worker fills only
/// its own pieces' rows (a sum with zeros elsewhere is exact).
pub fn gather(
    exchange: &mut dyn AllReduce,
    own: &[(usize, Vec<f32>)],
    count: usize,
) -> Result<Vec<Vec<f32>>, String> {
    let mut lengths = vec![0.0f32; count];
    for (place, piece) in own {
        let slot = lengths
            .get_mut(*place)
            .ok_or_else(|| format!("piece {place} of {count} is out of range"))?;
        // Lengths travel as f32: exact up to 2^24 values per piece.
        if piece.len() >= 1 << 24 {
            return Err(format!(
                "piece {place} holds {} values, more than 2^24 can be gathered",
                piece.len()
            ));
        }
        *slot = piece.len() as f32;
    }
    exchange.sum(&mut lengths)?;
    // The sums come from the other workers: refuse what no honest worker could have sent
    // (a fraction, a negative or non-finite length, more than the gather may hold).
    if let Some((place, bad)) = lengths
        .iter()
        .enumerate()
        .find(|(_, l)| !(l.is_finite() && **l >= 0.0 && l.fract() == 0.0 && **l < (1 << 24) as f32))
    {
        return Err(format!(
            "piece {place}'s length came back as {bad} from the other workers: the shared buffer is corrupt"
        ));
    }
    let lengths: Vec<usize> = lengths.iter().map(|&l| l as usize).collect();
    if lengths.iter().sum::<usize>() > MAX_GATHERED {
        return Err(format!(
            "the workers' pieces hold {} values in all, more than the {MAX_GATHERED} a gather may hold",
            lengths.iter().sum::<usize>()
        ));
    }
    let starts: Vec<usize> = lengths
        .iter()
        .scan(0, |at, &l| Some(std::mem::replace(at, *at + l)))
        .collect();
    let mut table = vec![0.0f32; lengths.iter().sum()];
    for (place, piece) in own {
        if piece.len() != lengths[*place] {
            return Err(format!("piece {place} was made by more than one worker"));
        }
        table[starts[*place]..starts[*place] + piece.len()].copy_from_slice(piece);
    }
    exchange.sum(&mut table)?;
    Ok(starts
        .iter()
        .zip(&lengths)
        .map(|(&s, &l)| table[s..s + l].to_vec())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One worker alone: its sum is its own values.
    struct Alone;

    impl AllReduce for Alone {
        fn index(&self) -> usize {
            0
        }
        fn workers(&self) -> usize {
            1
        }
        fn sum(&mut self, _: &mut [f32]) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn gather_puts_pieces_in_place_order_and_refuses_a_place_out_of_range() {
        let own = vec![(2, vec![5.0]), (0, vec![1.0, 2.0]), (1, vec![])];
        assert_eq!(
            gather(&mut Alone, &own, 3).unwrap(),
            vec![vec![1.0, 2.0], vec![], vec![5.0]]
        );
        assert!(
            gather(&mut Alone, &[(3, vec![1.0])], 3)
                .unwrap_err()
                .contains("piece 3 of 3")
        );
    }

    /// An exchange whose sums come back corrupted by `add` (a peer writing garbage).
    struct Corrupt(f32);

    impl AllReduce for Corrupt {
        fn index(&self) -> usize {
            0
        }
        fn workers(&self) -> usize {
            2
        }
        fn sum(&mut self, values: &mut [f32]) -> Result<(), String> {
            values.iter_mut().for_each(|v| *v += self.0);
            Ok(())
        }
    }

    #[test]
    fn gather_refuses_lengths_no_worker_could_have_sent() {
        for garbage in [f32::NAN, f32::INFINITY, -3.0, 0.5, 1e9] {
            let e = gather(&mut Corrupt(garbage), &[(0, vec![1.0])], 2).unwrap_err();
            assert!(
                e.contains("length came back as") || e.contains("more than"),
                "{garbage}: {e}"
            );
        }
        // Lengths that are whole but together too many to hold.
        let e = gather(&mut Corrupt(16_000_000.0), &[(0, vec![1.0])], 8).unwrap_err();
        assert!(e.contains("a gather may hold"), "{e}");
    }

    #[test]
    fn shards_cover_a_batch_once() {
        let rows: Vec<usize> = (0..3).flat_map(|i| shard_rows(10, i, 3)).collect();
        assert_eq!(rows, (0..10).collect::<Vec<_>>());
    }
}
