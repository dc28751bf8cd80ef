//! Dynamic Weight Average (Liu, Johns & Davison 2019, "End-to-End Multi-Task Learning with
//! Attention", eq. 7): each task's weight follows how slowly its loss is falling, `rᵢ =
//! Lᵢ(k−1) / Lᵢ(k−2)` over the last two "epochs" (here windows of `window` updates), `wᵢ ∝
//! exp(rᵢ / T)`. Equal weights until two windows have passed. The paper's weights sum to the
//! number of tasks (the sum's scale); these sum to 1, the mean's scale, like the other methods.

use super::{Combiner, Gram};

/// DWA's state: the running window of losses and the last two window means.
#[derive(Debug, Clone)]
pub struct Dwa {
    temperature: f32,
    window: u32,
    sums: Vec<f64>,
    seen: u32,
    history: Vec<Vec<f64>>,
}

impl Dwa {
    /// DWA for `tasks` tasks with `temperature` and windows of `window` updates.
    pub fn new(tasks: usize, temperature: f32, window: u32) -> Dwa {
        Dwa {
            temperature,
            window: window.max(1),
            sums: vec![0.0; tasks],
            seen: 0,
            history: Vec::new(),
        }
    }
}

impl Combiner for Dwa {
    fn weights(&mut self, gram: &Gram, losses: &[f32]) -> Vec<f32> {
        let t = gram.tasks;
        let weights = match self.history.as_slice() {
            [.., older, newer] => {
                let r: Vec<f64> = newer
                    .iter()
                    .zip(older)
                    .map(|(n, o)| if *o > 0.0 { n / o } else { 1.0 } / self.temperature as f64)
                    .collect();
                let max = r.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                let e: Vec<f64> = r.iter().map(|v| (v - max).exp()).collect();
                let total: f64 = e.iter().sum();
                e.iter().map(|v| (v / total) as f32).collect()
            }
            _ => vec![1.0 / t as f32; t],
        };
        for (s, l) in self.sums.iter_mut().zip(losses) {
            *s += if l.is_finite() { *l as f64 } else { 0.0 };
        }
        self.seen += 1;
        if self.seen == self.window {
            self.history
                .push(self.sums.iter().map(|s| s / self.window as f64).collect());
            if self.history.len() > 2 {
                self.history.remove(0);
            }
            self.sums.iter_mut().for_each(|s| *s = 0.0);
            self.seen = 0;
        }
        weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_whose_loss_falls_slowest_gets_more_weight() {
        let gram = Gram::from_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]);
        let mut dwa = Dwa::new(2, 2.0, 3);
        // Window 1: losses (1, 1); window 2: (1, 0.5): task 0 ratio 1, task 1 ratio 0.5.
        for losses in [[1.0, 1.0]; 3].into_iter().chain([[1.0, 0.5]; 3]) {
            assert_eq!(dwa.weights(&gram, &losses), vec![0.5, 0.5]);
        }
        let w = dwa.weights(&gram, &[1.0, 0.5]);
        let expected = 0.5f32.exp() / (0.5f32.exp() + 0.25f32.exp());
        assert!(
            (w[0] - expected).abs() < 1e-6 && (w[0] + w[1] - 1.0).abs() < 1e-6,
            "{w:?}"
        );
    }
}
