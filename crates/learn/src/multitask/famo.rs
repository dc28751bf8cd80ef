//! FAMO (Liu et al. 2023, "FAMO: Fast Adaptive Multitask Optimization", Algorithm 1): O(1)
//! per step, from the losses alone. Task weights `z = softmax(ξ)`; the update is the gradient
//! of `Σᵢ zᵢ log ℓᵢ`, normalised: `d = Σᵢ (c zᵢ / ℓᵢ) gᵢ` with `c = (Σᵢ zᵢ / ℓᵢ)⁻¹`. After each
//! step the logits follow the observed decrease of the log losses, `δᵢ = log ℓᵢ(before) −
//! log ℓᵢ(after)`: `ξ ← ξ − β (Jᵀδ + γξ)` with `J` the softmax's Jacobian (here with Adam, as
//! the reference implementation), so weight moves towards the tasks whose loss fell least.
//!
//! "After" is the next update's losses (on the next minibatch), as in FAMO's own training
//! loops, so no extra forward pass is needed. Losses must be positive; they are floored at
//! 1e-8.

use super::{Combiner, Gram};
use crate::nets::fused::Adam;

/// FAMO's state: the weight logits, their optimiser, and the previous update's losses.
#[derive(Debug, Clone)]
pub struct Famo {
    logits: Vec<f32>,
    adam: Adam,
    learning_rate: f32,
    decay: f32,
    previous: Option<Vec<f32>>,
}

impl Famo {
    /// FAMO for `tasks` tasks with logit learning rate β and decay γ.
    pub fn new(tasks: usize, learning_rate: f32, decay: f32) -> Famo {
        let logits = vec![0.0; tasks];
        Famo {
            adam: Adam::new(std::slice::from_ref(&logits), 1e-8),
            logits,
            learning_rate,
            decay,
            previous: None,
        }
    }

    /// The softmax weights `z` the next update starts from.
    pub fn task_weights(&self) -> Vec<f32> {
        let max = self.logits.iter().fold(f32::NEG_INFINITY, |m, &l| m.max(l));
        let e: Vec<f32> = self.logits.iter().map(|l| (l - max).exp()).collect();
        let total: f32 = e.iter().sum();
        e.iter().map(|v| v / total).collect()
    }
}

impl Combiner for Famo {
    fn weights(&mut self, _gram: &Gram, losses: &[f32]) -> Vec<f32> {
        let losses: Vec<f32> = losses
            .iter()
            .map(|l| if l.is_finite() { l.max(1e-8) } else { 1e-8 })
            .collect();
        if let Some(previous) = self.previous.take() {
            let z = self.task_weights();
            let delta: Vec<f32> = previous
                .iter()
                .zip(&losses)
                .map(|(before, after)| before.ln() - after.ln())
                .collect();
            let z_delta: f32 = z.iter().zip(&delta).map(|(a, b)| a * b).sum();
            let grad: Vec<f32> = z
                .iter()
                .zip(&delta)
                .zip(&self.logits)
                .map(|((zi, di), xi)| zi * (di - z_delta) + self.decay * xi)
                .collect();
            let mut params = vec![&mut self.logits];
            self.adam.step(&mut params, &[grad], self.learning_rate);
        }
        self.previous = Some(losses.clone());
        let z = self.task_weights();
        let c = 1.0 / z.iter().zip(&losses).map(|(zi, li)| zi / li).sum::<f32>();
        z.iter().zip(&losses).map(|(zi, li)| c * zi / li).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_move_towards_the_task_whose_loss_fell_least() {
        let gram = Gram::from_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]);
        let mut famo = Famo::new(2, 0.025, 0.001);
        let mut losses = [1.0f32, 1.0];
        for _ in 0..50 {
            famo.weights(&gram, &losses);
            // Task 0's loss halves every step; task 1's barely moves.
            losses = [losses[0] * 0.5, losses[1] * 0.99];
        }
        let z = famo.task_weights();
        assert!(z[1] > 0.6 && z[1] > z[0], "{z:?}");
    }

    /// Equal logits: the weights are `zᵢ/ℓᵢ` normalised to sum to 1 (the mean's scale), so the
    /// task with the smaller loss weighs more (the gradient of `log ℓ`).
    #[test]
    fn the_first_update_is_normalised_by_the_losses() {
        let gram = Gram::from_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]);
        let w = Famo::new(2, 0.025, 0.001).weights(&gram, &[2.0, 0.5]);
        assert!(
            (w[0] - 0.2).abs() < 1e-6 && (w[1] - 0.8).abs() < 1e-6,
            "{w:?}"
        );
    }
}
