//! PaCo (Sun et al. 2022, "PaCo: Parameter-Compositional Multi-Task Reinforcement Learning",
//! §4.1): a shared set of K whole parameter vectors Φ = [φ₁ … φ_K] and one compositional
//! vector wₜ ∈ ℝᴷ per task; task t's network is the MLP with parameters `Φ wₜ`. Since every
//! layer is linear in its parameters, a layer computes `Σₖ wₜₖ (x Wₖ + bₖ)`.
//!
//! Widths: an MLP's `[obs, hidden…, out]`. Tensors: `layers.{i}.weight` `[K, out, in]` as
//! saved (burn holds `[K, in, out]`), `layers.{i}.bias` `[K, out]`, `compose` `[tasks, K]`
//! (row t is wₜ).

use super::{Parts, hidden, weighted_sum};
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};

/// One layer's K parameter sets.
#[derive(Module, Debug)]
pub struct CompositionalLinear {
    /// `[K, in, out]`.
    pub weight: Param<Tensor<3>>,
    /// `[K, out]`.
    pub bias: Param<Tensor<2>>,
}

/// The PaCo network.
#[derive(Module, Debug)]
pub struct Paco {
    /// The layers, input first.
    pub layers: Vec<CompositionalLinear>,
    /// Task compositions `[tasks, K]`.
    pub compose: Param<Tensor<2>>,
}

impl Paco {
    /// `sets` parameter sets (K) of an MLP of widths `sizes`, for `tasks` tasks.
    pub fn init(sizes: &[usize], tasks: usize, sets: usize, device: &Device) -> Paco {
        let layers = sizes
            .windows(2)
            .map(|w| {
                let bound = 1.0 / (w[0] as f64).sqrt();
                let uniform = Initializer::Uniform {
                    min: -bound,
                    max: bound,
                };
                CompositionalLinear {
                    weight: uniform.init_with([sets, w[0], w[1]], Some(w[0]), Some(w[1]), device),
                    bias: uniform.init([sets, w[1]], device),
                }
            })
            .collect();
        // Every task starts as the mean of the sets (PaCo initialises w uniformly).
        let compose = Initializer::Constant {
            value: 1.0 / sets as f64,
        }
        .init([tasks, sets], device);
        Paco { layers, compose }
    }

    /// Raw outputs.
    pub fn forward(&self, parts: Parts) -> Tensor<2> {
        let Parts {
            obs,
            task,
            tanh_hidden,
        } = parts;
        let w = task.matmul(self.compose.val());
        let mut x = obs;
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let [sets, input, output] = layer.weight.dims();
            let per_set = (0..sets).map(|k| {
                let wk = layer.weight.val().narrow(0, k, 1).reshape([input, output]);
                x.clone().matmul(wk) + layer.bias.val().narrow(0, k, 1)
            });
            x = weighted_sum(per_set, &w);
            if i < last {
                x = hidden(x, tanh_hidden);
            }
        }
        x
    }
}
