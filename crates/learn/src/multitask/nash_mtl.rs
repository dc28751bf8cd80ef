//! Nash-MTL (Navon et al. 2022, "Multi-Task Learning as a Bargaining Game", Claim 3.1): the
//! update `Σᵢ αᵢ gᵢ` with `α > 0` solving `Gα = 1/α` elementwise, the Nash bargaining
//! solution, where no task's utility `gᵢ · d` can rise without another's falling
//! proportionally more. As in the reference implementation, G is first divided by its
//! Frobenius norm (so α does not depend on the gradients' scale).
//!
//! The paper solves the system by a sequence of convex programs; here it is the stationary
//! point of the strictly convex `f(α) = ½ αᵀGα − Σᵢ log αᵢ` (∇f = Gα − 1/α), found exactly by
//! damped Newton steps on the T × T system. A task whose gradient is zero gets weight 0.

use super::{Combiner, Gram};

/// Nash-MTL (stateless: solved afresh every update).
#[derive(Debug, Clone, Default)]
pub struct NashMtl;

/// Solves `a x = b` for a small dense system (Gaussian elimination with partial pivoting);
/// `None` if it is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// The α with `(Gα)ᵢ = 1/αᵢ` for the tasks whose gradients are non-zero (0 for the others).
pub fn bargaining_weights(gram: &Gram) -> Vec<f64> {
    let t = gram.tasks;
    let frobenius = gram.g.iter().map(|v| v * v).sum::<f64>().sqrt();
    let live: Vec<usize> = (0..t)
        .filter(|&i| gram.at(i, i) > 1e-20 * frobenius.max(1e-300))
        .collect();
    let mut out = vec![0.0; t];
    if live.is_empty() {
        return out;
    }
    let n = live.len();
    let g: Vec<Vec<f64>> = live
        .iter()
        .map(|&i| {
            live.iter()
                .map(|&j| gram.at(i, j) / frobenius + if i == j { 1e-9 } else { 0.0 })
                .collect()
        })
        .collect();
    let f = |a: &[f64]| -> f64 {
        let quad: f64 = (0..n)
            .map(|i| (0..n).map(|j| a[i] * g[i][j] * a[j]).sum::<f64>())
            .sum();
        0.5 * quad - a.iter().map(|v| v.ln()).sum::<f64>()
    };
    // Start where the system holds for orthogonal gradients.
    let mut alpha: Vec<f64> = (0..n).map(|i| 1.0 / g[i][i].sqrt()).collect();
    for _ in 0..100 {
        let ga: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| g[i][j] * alpha[j]).sum())
            .collect();
        let grad: Vec<f64> = (0..n).map(|i| ga[i] - 1.0 / alpha[i]).collect();
        if grad.iter().zip(&alpha).all(|(d, a)| (d * a).abs() < 1e-12) {
            break;
        }
        let hessian: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        g[i][j]
                            + if i == j {
                                1.0 / (alpha[i] * alpha[i])
                            } else {
                                0.0
                            }
                    })
                    .collect()
            })
            .collect();
        let Some(step) = solve(hessian, grad.iter().map(|d| -d).collect()) else {
            break;
        };
        // Damped: stay positive and descend.
        let (value, mut s) = (f(&alpha), 1.0);
        loop {
            let next: Vec<f64> = alpha.iter().zip(&step).map(|(a, d)| a + s * d).collect();
            if next.iter().all(|v| *v > 0.0) && f(&next) <= value {
                alpha = next;
                break;
            }
            s *= 0.5;
            if s < 1e-12 {
                break;
            }
        }
        if s < 1e-12 {
            break;
        }
    }
    for (k, &i) in live.iter().enumerate() {
        out[i] = alpha[k];
    }
    out
}

impl Combiner for NashMtl {
    fn weights(&mut self, gram: &Gram, _losses: &[f32]) -> Vec<f32> {
        bargaining_weights(gram)
            .into_iter()
            .map(|a| a as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_gradients_are_weighted_by_their_inverse_norms() {
        let gram = Gram::from_rows(&[vec![4.0, 0.0], vec![0.0, 1.0]]);
        let a = bargaining_weights(&gram);
        // With G/‖G‖ = diag(4, 1)/√17: αᵢ = 1/√Gᵢᵢ.
        let f = 17f64.sqrt();
        assert!(
            (a[0] - (f / 4.0).sqrt()).abs() < 1e-6 && (a[1] - f.sqrt()).abs() < 1e-6,
            "{a:?}"
        );
    }

    #[test]
    fn the_solution_satisfies_the_bargaining_equations() {
        let grads = [[1.0, 0.2, -0.5], [-0.8, 0.4, 0.1], [0.3, 1.5, 0.7]];
        let dot = |a: &[f64; 3], b: &[f64; 3]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let gram = Gram::from_rows(
            &grads
                .iter()
                .map(|a| grads.iter().map(|b| dot(a, b)).collect())
                .collect::<Vec<_>>(),
        );
        let a = bargaining_weights(&gram);
        let frob = gram.g.iter().map(|v| v * v).sum::<f64>().sqrt();
        for i in 0..3 {
            let ga: f64 = (0..3).map(|j| gram.at(i, j) / frob * a[j]).sum();
            assert!(
                (ga * a[i] - 1.0).abs() < 1e-6,
                "task {i}: (Gα)ᵢ αᵢ = {}",
                ga * a[i]
            );
        }
        let zero = Gram::from_rows(&[vec![1.0, 0.0], vec![0.0, 0.0]]);
        assert_eq!(bargaining_weights(&zero)[1], 0.0);
    }
}
