//! PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning", Algorithm 1): for each
//! task i, in a random order of the other tasks j, if `gᵢ' · gⱼ < 0` project `gᵢ'` onto the
//! normal plane of `gⱼ`: `gᵢ' ← gᵢ' − (gᵢ' · gⱼ / ‖gⱼ‖²) gⱼ`; the update is the mean of the
//! projected gradients (the reference implementation's default reduction).
//!
//! Every projected gradient stays a combination `gᵢ' = Σₖ cᵢₖ gₖ` of the original ones, so the
//! surgery runs on the T × T coefficients and the Gram matrix (`gᵢ' · gⱼ = Σₖ cᵢₖ Gₖⱼ`), and the
//! update's weight of task k is `(1/T) Σᵢ cᵢₖ`: one pass over the parameters, not T².

use super::{Combiner, Gram};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// PCGrad with its own seeded generator for the task orders.
#[derive(Debug, Clone)]
pub struct PcGrad {
    rng: ChaCha8Rng,
}

impl PcGrad {
    /// PCGrad whose random task orders come from `seed`.
    pub fn new(seed: u64) -> PcGrad {
        PcGrad {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x9c_67ad),
        }
    }
}

impl Combiner for PcGrad {
    fn weights(&mut self, gram: &Gram, _losses: &[f32]) -> Vec<f32> {
        let t = gram.tasks;
        let mut weights = vec![0.0f64; t];
        for i in 0..t {
            let mut c = vec![0.0f64; t];
            c[i] = 1.0;
            let mut others: Vec<usize> = (0..t).filter(|&j| j != i).collect();
            for k in (1..others.len()).rev() {
                others.swap(k, self.rng.random_range(0..=k));
            }
            for j in others {
                let norm = gram.at(j, j);
                let dot: f64 = (0..t).map(|k| c[k] * gram.at(k, j)).sum();
                if dot < 0.0 && norm > 0.0 {
                    c[j] -= dot / norm;
                }
            }
            for k in 0..t {
                weights[k] += c[k] / t as f64;
            }
        }
        weights.into_iter().map(|w| w as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(weights: &[f32], grads: &[[f64; 2]]) -> [f64; 2] {
        let mut d = [0.0; 2];
        for (w, g) in weights.iter().zip(grads) {
            d[0] += *w as f64 * g[0];
            d[1] += *w as f64 * g[1];
        }
        d
    }

    fn gram(grads: &[[f64; 2]]) -> Gram {
        Gram::from_rows(
            &grads
                .iter()
                .map(|a| grads.iter().map(|b| a[0] * b[0] + a[1] * b[1]).collect())
                .collect::<Vec<_>>(),
        )
    }

    /// g₁ = (1, 0), g₂ = (−1, 1): g₁' = (½, ½), g₂' = (0, 1), the mean (¼, ¾).
    #[test]
    fn two_conflicting_gradients_give_the_known_projections() {
        let grads = [[1.0, 0.0], [-1.0, 1.0]];
        let w = PcGrad::new(0).weights(&gram(&grads), &[1.0, 1.0]);
        let d = apply(&w, &grads);
        assert!(
            (d[0] - 0.25).abs() < 1e-7 && (d[1] - 0.75).abs() < 1e-7,
            "{d:?}"
        );
    }

    #[test]
    fn gradients_that_agree_are_left_alone() {
        let grads = [[1.0, 0.2], [0.5, 1.0], [2.0, 2.0]];
        let w = PcGrad::new(1).weights(&gram(&grads), &[1.0; 3]);
        assert!(w.iter().all(|w| (w - 1.0 / 3.0).abs() < 1e-7), "{w:?}");
    }

    /// With two tasks the update never has a negative inner product with either gradient.
    #[test]
    fn the_update_never_opposes_a_task_gradient_of_two() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut pc = PcGrad::new(2);
        for _ in 0..1000 {
            let mut g = || [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
            let grads = [g(), g()];
            let d = apply(&pc.weights(&gram(&grads), &[1.0, 1.0]), &grads);
            for g in grads {
                assert!(d[0] * g[0] + d[1] * g[1] >= -1e-6, "{grads:?} -> {d:?}");
            }
        }
    }
}
