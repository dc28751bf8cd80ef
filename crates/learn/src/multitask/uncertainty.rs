//! Uncertainty weighting (Kendall, Gal & Cipolla 2018, "Multi-Task Learning Using Uncertainty
//! to Weigh Losses for Scene Geometry and Semantics", eq. 7 in the log-variance form most
//! implementations use): the loss `Σᵢ exp(−sᵢ) ℓᵢ + sᵢ` with a learned log-variance `sᵢ` per
//! task, so the update weights task i by `exp(−sᵢ)`; each `sᵢ` descends its own gradient
//! `1 − exp(−sᵢ) ℓᵢ` (with Adam) and settles where `exp(−sᵢ) = 1/ℓᵢ`.

use super::{Combiner, Gram};
use crate::nets::fused::Adam;

/// The learned log-variances and their optimiser.
#[derive(Debug, Clone)]
pub struct Uncertainty {
    log_variance: Vec<f32>,
    adam: Adam,
    learning_rate: f32,
}

impl Uncertainty {
    /// Log-variances 0 (weights 1) for `tasks` tasks.
    pub fn new(tasks: usize, learning_rate: f32) -> Uncertainty {
        let log_variance = vec![0.0; tasks];
        Uncertainty {
            adam: Adam::new(std::slice::from_ref(&log_variance), 1e-8),
            log_variance,
            learning_rate,
        }
    }
}

impl Combiner for Uncertainty {
    fn weights(&mut self, _gram: &Gram, losses: &[f32]) -> Vec<f32> {
        let weights: Vec<f32> = self.log_variance.iter().map(|s| (-s).exp()).collect();
        let grad: Vec<f32> = weights
            .iter()
            .zip(losses)
            .map(|(w, l)| 1.0 - w * if l.is_finite() { *l } else { 0.0 })
            .collect();
        let mut params = vec![&mut self.log_variance];
        self.adam.step(&mut params, &[grad], self.learning_rate);
        weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_settle_at_the_inverse_losses() {
        let gram = Gram::from_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]);
        let mut u = Uncertainty::new(2, 0.02);
        let mut w = Vec::new();
        for _ in 0..3000 {
            w = u.weights(&gram, &[4.0, 0.5]);
        }
        assert!(
            (w[0] - 0.25).abs() < 0.02 && (w[1] - 2.0).abs() < 0.1,
            "{w:?}"
        );
    }
}
