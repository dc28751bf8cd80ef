//! Rep-MTL's task-specific saliency regulation (TSR; Wang, Li and Xu, "Rep-MTL: Unleashing the
//! Power of Representation-level Task Saliency for Multi-Task Learning", ICCV 2025), on the
//! fused MLP's last hidden layer, the representation every task's head reads.
//!
//! A task's saliency on the shared representation is the gradient of its own loss with respect
//! to that representation, `gₖ = ∂Lₜ/∂hₖ` for each row k of task t. Per channel c the tasks'
//! mean absolute saliencies `Sₜ(c) = mean_{k∈t} |gₖ(c)|` are normalised across the tasks,
//! `Pₜ(c) = Sₜ(c) / Σᵤ Sᵤ(c)`, and the penalty is their entropy averaged over the channels and
//! divided by log T (so it lies in [0, 1]): `R = (1 / (H log T)) Σ_c −Σₜ Pₜ(c) log Pₜ(c)`.
//! Minimising it keeps channels task-specific instead of blurred across tasks, the paper's
//! remedy for negative transfer. It is added to the equally weighted loss, `L + λR`, as in the
//! paper's results with equal weighting.
//!
//! The paper's second term, cross-task saliency alignment (CSA), contrasts the saliencies of
//! *different tasks on the same sample*. In multi-task control every sample comes from one
//! task's environment and has only that task's loss, so CSA has nothing to align and is not
//! implemented (stated in docs/multitask.md).
//!
//! `R` depends on a gradient, so its own gradient is second order. For a linear last layer
//! `z = W h + b` followed by an optional tanh, the saliency is linear in the output gradient:
//! `gₖ = W δₖ` with `δₖ = ∂Lₜ/∂zₖ`. Its gradient therefore has a closed form: with
//! `qₖ = ∂R/∂gₖ`, the weight gets `Σₖ qₖ δₖᵀ` directly and every output gets
//! `(Wᵀ qₖ) ⊙ ∂δₖ/∂zₖ`, which backpropagates through the network like any output gradient.
//! A test checks the whole against finite differences.

use crate::nets::fused::{FastMlp, Trace};

/// Rep-MTL's saliency penalty on one minibatch and what its gradient adds to the training
/// step (both unscaled by λ).
#[derive(Debug, Clone)]
pub struct SaliencyPenalty {
    /// `R` in [0, 1].
    pub value: f32,
    /// `∂R/∂a` for every output `a` (after the output activation), row-major like the
    /// output: add `λ ·` this to the loss's output gradient before the backward pass.
    pub output_gradient: Vec<f32>,
    /// `∂R/∂W` of the last layer's weight through the saliency directly (layout of
    /// `params[len − 2]`, `[in, out]`): add `λ ·` this to that gradient.
    pub weight_gradient: Vec<f32>,
}

/// The penalty of [`SaliencyPenalty`] for the fused MLP `net` after the forward pass `trace`.
/// `task_gradient` is each row's `∂Lₜ/∂a` of its own task's (mean) loss, `task_curvature` the
/// diagonal `∂²Lₜ/∂a²` (for a squared error `2/(nₜ·A)` on the outputs the task is scored on,
/// 0 elsewhere), `tasks[k]` row k's task among `count`, `tanh_output` whether the output layer
/// ends in tanh.
pub fn saliency_penalty(
    net: &FastMlp,
    trace: &Trace,
    task_gradient: &[f32],
    task_curvature: &[f32],
    tasks: &[usize],
    count: usize,
    tanh_output: bool,
) -> SaliencyPenalty {
    let layers = net.sizes.len() - 1;
    let (hidden, out) = (net.sizes[layers - 1], net.sizes[layers]);
    let w = &net.params[2 * (layers - 1)];
    let a = trace.output();
    let rows = tasks.len();
    // δ = ∂Lₜ/∂z and the saliency g = W δ (W is [hidden, out]).
    let delta: Vec<f32> = (0..rows * out)
        .map(|i| {
            let slope = if tanh_output { 1.0 - a[i] * a[i] } else { 1.0 };
            task_gradient[i] * slope
        })
        .collect();
    let mut saliency = vec![0.0f32; rows * hidden];
    for k in 0..rows {
        let d = &delta[k * out..(k + 1) * out];
        for (c, g) in saliency[k * hidden..(k + 1) * hidden]
            .iter_mut()
            .enumerate()
        {
            *g = (0..out).map(|o| w[c * out + o] * d[o]).sum();
        }
    }
    let mut rows_of = vec![0usize; count];
    tasks.iter().for_each(|&t| rows_of[t] += 1);
    let present: Vec<usize> = (0..count).filter(|&t| rows_of[t] > 0).collect();
    let zero = || SaliencyPenalty {
        value: 0.0,
        output_gradient: vec![0.0; rows * out],
        weight_gradient: vec![0.0; w.len()],
    };
    if present.len() < 2 {
        return zero();
    }
    // Sₜ(c): mean absolute saliency of task t's rows.
    let mut s = vec![0.0f32; count * hidden];
    for (k, &t) in tasks.iter().enumerate() {
        for c in 0..hidden {
            s[t * hidden + c] += saliency[k * hidden + c].abs() / rows_of[t] as f32;
        }
    }
    // Entropy per channel and ∂R/∂Sₜ(c).
    let norm = 1.0 / (hidden as f32 * (present.len() as f32).ln());
    let mut value = 0.0f32;
    let mut d_s = vec![0.0f32; count * hidden];
    for c in 0..hidden {
        let total: f32 = present.iter().map(|&t| s[t * hidden + c]).sum();
        if total <= 0.0 {
            continue;
        }
        let logs: Vec<f32> = present
            .iter()
            .map(|&t| (s[t * hidden + c] / total).max(1e-12).ln())
            .collect();
        let mean_log: f32 = present
            .iter()
            .zip(&logs)
            .map(|(&t, l)| s[t * hidden + c] / total * l)
            .sum();
        value -= norm * mean_log;
        for (&t, l) in present.iter().zip(&logs) {
            d_s[t * hidden + c] = -norm / total * (l - mean_log);
        }
    }
    // qₖ = ∂R/∂gₖ = sign(gₖ) ∂R/∂Sₜ / nₜ; then the weight's direct term and each output's.
    let mut penalty = zero();
    penalty.value = value;
    for (k, &t) in tasks.iter().enumerate() {
        let q: Vec<f32> = (0..hidden)
            .map(|c| {
                let g = saliency[k * hidden + c];
                let sign = if g > 0.0 {
                    1.0
                } else if g < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                sign * d_s[t * hidden + c] / rows_of[t] as f32
            })
            .collect();
        let d = &delta[k * out..(k + 1) * out];
        for c in 0..hidden {
            for o in 0..out {
                penalty.weight_gradient[c * out + o] += q[c] * d[o];
            }
        }
        for o in 0..out {
            let i = k * out + o;
            let wq: f32 = (0..hidden).map(|c| w[c * out + o] * q[c]).sum();
            // ∂δ/∂z written as the gradient the backward pass expects at the output (it
            // multiplies by tanh's slope itself).
            let through = if tanh_output {
                (1.0 - a[i] * a[i]) * task_curvature[i] - 2.0 * a[i] * task_gradient[i]
            } else {
                task_curvature[i]
            };
            penalty.output_gradient[i] = wq * through;
        }
    }
    penalty
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nets::mlp::{Mlp, seeded_init};

    /// The penalty of a small tanh-output MLP on three tasks' squared errors, recomputed from
    /// scratch at shifted weights: its analytic gradient (output term backpropagated plus the
    /// direct weight term) matches central differences on every parameter.
    #[test]
    fn the_saliency_penalty_gradient_matches_finite_differences() {
        let net = seeded_init(3, |device| {
            FastMlp::from_mlp(&Mlp::init(&[3, 5, 4, 2], device))
        })
        .unwrap();
        let x: Vec<f32> = (0..6 * 3)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0)
            .collect();
        let y: Vec<f32> = (0..6 * 2)
            .map(|i| ((i * 5 % 7) as f32 - 3.0) / 4.0)
            .collect();
        let tasks = [0, 1, 2, 0, 1, 1];
        let penalty_at = |net: &FastMlp| {
            let trace = net.trace(&x, false, true);
            let counts = [2.0f32, 3.0, 1.0];
            let (mut g, mut h) = (vec![0.0; 12], vec![0.0; 12]);
            for (i, (a, y)) in trace.output().iter().zip(&y).enumerate() {
                let scale = 2.0 / (counts[tasks[i / 2]] * 2.0);
                g[i] = scale * (a - y);
                h[i] = scale;
            }
            (
                saliency_penalty(net, &trace, &g, &h, &tasks, 3, true),
                trace,
            )
        };
        let (penalty, trace) = penalty_at(&net);
        assert!(
            penalty.value > 0.0 && penalty.value <= 1.0,
            "{}",
            penalty.value
        );
        let mut analytic = net.backward(&trace, &penalty.output_gradient, false, true);
        let last = analytic.len() - 2;
        for (g, d) in analytic[last].iter_mut().zip(&penalty.weight_gradient) {
            *g += d;
        }
        let eps = 1e-3f32;
        let mut worst = 0.0f32;
        for (l, list) in net.params.iter().enumerate() {
            for i in 0..list.len() {
                let shifted = |by: f32| {
                    let mut n = net.clone();
                    n.params[l][i] += by;
                    penalty_at(&n).0.value as f64
                };
                let numeric = ((shifted(eps) - shifted(-eps)) / (2.0 * eps as f64)) as f32;
                let error = (numeric - analytic[l][i]).abs();
                worst = worst.max(error / (1e-3 + numeric.abs()));
                assert!(
                    error < 2e-3 + 0.05 * numeric.abs(),
                    "list {l} entry {i}: analytic {} vs numeric {numeric}",
                    analytic[l][i]
                );
            }
        }
        eprintln!("worst relative error {worst}");
    }
}
