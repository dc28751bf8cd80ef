//! Task output heads: a network's last layer laid out as one block of outputs per task (the
//! multi-head baseline of Meta-World and mtrl, "MT-MH-SAC"; Yu et al., 2019; Sodhani et al.,
//! 2021). A row of a multi-head output is `blocks` consecutive groups, each holding `count`
//! task slices of `per` values: `[block 0: task 0 … task T−1 | block 1: task 0 … | …]`.
//! A SAC actor has two blocks (means, then raw log standard deviations), so its first block
//! alone is the multi-head policy of the means ([`crate::nets::Network::keep_first_outputs`]).

/// How many heads an output has and how a row's task picks among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskHeads {
    /// Heads (tasks); 1 is a single-head network, for which the methods are identities.
    pub count: usize,
    /// Blocks per row (e.g. 2: means and log standard deviations).
    pub blocks: usize,
    /// Values per task in each block.
    pub per: usize,
}

impl TaskHeads {
    /// The network's output width: `blocks · count · per`.
    pub fn width(&self) -> usize {
        self.blocks * self.count * self.per
    }

    /// The width of one row's task head: `blocks · per`.
    pub fn head_width(&self) -> usize {
        self.blocks * self.per
    }

    /// Each row's own head (row k reads task `tasks[k]`'s slice of every block): `[rows,
    /// blocks · per]`.
    pub fn select(&self, outputs: &[f32], tasks: &[usize]) -> Vec<f32> {
        if self.count == 1 {
            return outputs.to_vec();
        }
        let (w, p) = (self.width(), self.per);
        let mut picked = Vec::with_capacity(tasks.len() * self.head_width());
        for (row, &t) in outputs.chunks_exact(w).zip(tasks) {
            for b in 0..self.blocks {
                let start = (b * self.count + t) * p;
                picked.extend_from_slice(&row[start..start + p]);
            }
        }
        picked
    }

    /// The gradient of the full output from the gradient of each row's head (zero at the
    /// heads of other tasks): the adjoint of [`TaskHeads::select`].
    pub fn scatter(&self, head_gradient: &[f32], tasks: &[usize]) -> Vec<f32> {
        if self.count == 1 {
            return head_gradient.to_vec();
        }
        let (w, p) = (self.width(), self.per);
        let mut full = vec![0.0f32; tasks.len() * w];
        for ((row, g), &t) in full
            .chunks_exact_mut(w)
            .zip(head_gradient.chunks_exact(self.head_width()))
            .zip(tasks)
        {
            for b in 0..self.blocks {
                let start = (b * self.count + t) * p;
                row[start..start + p].copy_from_slice(&g[b * p..(b + 1) * p]);
            }
        }
        full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two blocks of three tasks with two values each: row 0 reads task 2, row 1 task 0, and
    /// scatter puts a head's gradient back where select read it, zeros elsewhere.
    #[test]
    fn select_reads_the_rows_task_from_every_block_and_scatter_is_its_adjoint() {
        let heads = TaskHeads {
            count: 3,
            blocks: 2,
            per: 2,
        };
        assert_eq!(heads.width(), 12);
        let outputs: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let tasks = [2, 0];
        let picked = heads.select(&outputs, &tasks);
        assert_eq!(picked, vec![4., 5., 10., 11., 12., 13., 18., 19.]);
        let full = heads.scatter(&picked, &tasks);
        for (i, v) in full.iter().enumerate() {
            let expected = if picked.contains(&(i as f32)) {
                i as f32
            } else {
                0.0
            };
            assert_eq!(*v, expected, "output {i}");
        }
        // ⟨select(x), g⟩ = ⟨x, scatter(g)⟩ for any g.
        let g: Vec<f32> = (0..8).map(|v| 0.5 - v as f32).collect();
        let lhs: f32 = picked.iter().zip(&g).map(|(a, b)| a * b).sum();
        let rhs: f32 = outputs
            .iter()
            .zip(heads.scatter(&g, &tasks))
            .map(|(a, b)| a * b)
            .sum();
        assert_eq!(lhs, rhs);
    }
}
