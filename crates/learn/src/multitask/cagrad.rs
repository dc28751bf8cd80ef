//! CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent for Multi-task Learning",
//! Algorithm 1): the update `d` maximises the worst task's improvement `minᵢ gᵢ · d` within a
//! ball around the mean gradient `g₀`, `‖d − g₀‖ ≤ c‖g₀‖`. Its dual is solved on the T × T
//! Gram matrix over the simplex: `min_w  g_w · g₀ + √φ ‖g_w‖` with `g_w = Σ wᵢ gᵢ` and
//! `φ = c² ‖g₀‖²`; then `d = g₀ + (√φ / ‖g_w‖) g_w`, rescaled by `1 / (1 + c²)` as the reference
//! implementation does. `c = 0` is the mean gradient exactly.

use super::{Combiner, Gram};

/// CAGrad with radius `c ∈ [0, 1)`.
#[derive(Debug, Clone)]
pub struct CaGrad {
    /// The ball's radius relative to the mean gradient's norm.
    pub c: f32,
}

/// Iterations of the dual's mirror descent (T is at most a few dozen: cheap).
const DUAL_ITERATIONS: usize = 300;

impl CaGrad {
    /// The dual's minimiser w on the simplex and `√φ`.
    fn dual(&self, gram: &Gram) -> (Vec<f64>, f64) {
        let t = gram.tasks;
        let mean = vec![1.0 / t as f64; t];
        // g_w · g₀ = wᵀ G b, with b the mean's weights.
        let gb: Vec<f64> = (0..t)
            .map(|i| (0..t).map(|j| gram.at(i, j) * mean[j]).sum())
            .collect();
        let root_phi = self.c as f64 * gram.norm_squared(&mean).max(0.0).sqrt();
        let objective = |w: &[f64]| -> f64 {
            w.iter().zip(&gb).map(|(a, b)| a * b).sum::<f64>()
                + root_phi * gram.norm_squared(w).max(0.0).sqrt()
        };
        let mut w = mean.clone();
        let (mut best, mut best_value) = (w.clone(), objective(&w));
        for k in 0..DUAL_ITERATIONS {
            let norm = gram.norm_squared(&w).max(1e-30).sqrt();
            let grad: Vec<f64> = (0..t)
                .map(|i| {
                    gb[i] + root_phi * (0..t).map(|j| gram.at(i, j) * w[j]).sum::<f64>() / norm
                })
                .collect();
            let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            if scale == 0.0 {
                break;
            }
            // Exponentiated gradient (mirror descent on the simplex) with a shrinking step.
            let eta = 2.0 / ((k + 1) as f64).sqrt();
            let mut total = 0.0;
            for (wi, gi) in w.iter_mut().zip(&grad) {
                *wi *= (-eta * gi / scale).exp();
                total += *wi;
            }
            w.iter_mut().for_each(|wi| *wi /= total);
            let value = objective(&w);
            if value < best_value {
                (best, best_value) = (w.clone(), value);
            }
        }
        (best, root_phi)
    }
}

impl Combiner for CaGrad {
    fn weights(&mut self, gram: &Gram, _losses: &[f32]) -> Vec<f32> {
        let t = gram.tasks;
        let mean = 1.0 / t as f64;
        if self.c == 0.0 {
            return vec![mean as f32; t];
        }
        let (w, root_phi) = self.dual(gram);
        let norm = gram.norm_squared(&w).max(0.0).sqrt();
        let lambda = if norm > 0.0 { root_phi / norm } else { 0.0 };
        let rescale = 1.0 + (self.c as f64) * (self.c as f64);
        w.iter()
            .map(|wi| ((mean + lambda * wi) / rescale) as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gram(grads: &[Vec<f64>]) -> Gram {
        let dot = |a: &Vec<f64>, b: &Vec<f64>| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        Gram::from_rows(
            &grads
                .iter()
                .map(|a| grads.iter().map(|b| dot(a, b)).collect())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn c_zero_is_the_mean() {
        let grads = vec![
            vec![1.0, 0.0, 2.0],
            vec![-3.0, 1.0, 0.0],
            vec![0.5, 0.5, -1.0],
        ];
        let w = CaGrad { c: 0.0 }.weights(&gram(&grads), &[1.0; 3]);
        assert_eq!(w, vec![1.0 / 3.0; 3]);
    }

    /// The update stays in the ball (before the rescale) and raises the worst task's
    /// improvement above the mean gradient's.
    #[test]
    fn the_update_raises_the_worst_task_improvement_within_the_ball() {
        let grads = vec![vec![1.0, 0.0], vec![-0.9, 0.3], vec![0.2, 1.0]];
        let g = gram(&grads);
        let c = 0.5f32;
        let w = CaGrad { c }.weights(&g, &[1.0; 3]);
        let d: Vec<f64> = (0..2)
            .map(|k| {
                grads
                    .iter()
                    .zip(&w)
                    .map(|(gr, wi)| gr[k] * *wi as f64)
                    .sum::<f64>()
                    * (1.0 + (c * c) as f64)
            })
            .collect();
        let g0: Vec<f64> = (0..2)
            .map(|k| grads.iter().map(|gr| gr[k]).sum::<f64>() / 3.0)
            .collect();
        let dist = ((d[0] - g0[0]).powi(2) + (d[1] - g0[1]).powi(2)).sqrt();
        let radius = c as f64 * (g0[0] * g0[0] + g0[1] * g0[1]).sqrt();
        assert!(dist <= radius * 1.001, "{dist} > {radius}");
        let worst = |v: &[f64]| {
            grads
                .iter()
                .map(|gr| gr[0] * v[0] + gr[1] * v[1])
                .fold(f64::INFINITY, f64::min)
        };
        assert!(
            worst(&d) > worst(&g0) + 1e-3,
            "worst improvement {} vs the mean's {}",
            worst(&d),
            worst(&g0)
        );
    }
}
