//! MOORE (Hendawi, Peters & D'Eramo 2024, "Multi-Task Reinforcement Learning with Mixture of
//! Orthogonal Experts", §4): K expert encoders whose representations of a state are made
//! orthonormal by the Gram–Schmidt process (a Stiefel-manifold representation), then combined
//! with task-specific weights, `h = Σₖ wₜₖ uₖ`, and read by the output head.
//!
//! Widths: `[obs, hidden…, out]`: each expert is an MLP through the hidden widths. Tensors:
//! `experts.{k}.layers.{i}`, `task_weights` (tasks → K, no bias), `head`.

use super::moe::Expert;
use super::{Parts, weighted_sum};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

/// The MOORE network.
#[derive(Module, Debug)]
pub struct Moore {
    /// The K experts.
    pub experts: Vec<Expert>,
    /// Task one-hot → the weight of each orthonormal representation.
    pub task_weights: Linear,
    /// Representation → outputs.
    pub head: Linear,
}

impl Moore {
    /// `experts` experts of widths `sizes[..len-1]`, a head to the last width.
    pub fn init(sizes: &[usize], tasks: usize, experts: usize, device: &Device) -> Moore {
        Moore {
            experts: (0..experts)
                .map(|_| Expert::init(&sizes[..sizes.len() - 1], device))
                .collect(),
            task_weights: LinearConfig::new(tasks, experts)
                .with_bias(false)
                .init(device),
            head: LinearConfig::new(sizes[sizes.len() - 2], sizes[sizes.len() - 1]).init(device),
        }
    }

    /// The experts' representations of each row, orthonormalised in expert order.
    pub fn orthonormal(&self, obs: Tensor<2>, tanh_hidden: bool) -> Vec<Tensor<2>> {
        let mut basis: Vec<Tensor<2>> = Vec::with_capacity(self.experts.len());
        for expert in &self.experts {
            let mut v = expert.forward(obs.clone(), tanh_hidden);
            for u in &basis {
                v = v.clone() - u.clone() * (v * u.clone()).sum_dim(1);
            }
            let norm = (v.clone() * v.clone()).sum_dim(1).add_scalar(1e-8).sqrt();
            basis.push(v / norm);
        }
        basis
    }

    /// Raw outputs.
    pub fn forward(&self, parts: Parts) -> Tensor<2> {
        let Parts {
            obs,
            task,
            tanh_hidden,
        } = parts;
        let w = self.task_weights.forward(task);
        self.head.forward(weighted_sum(
            self.orthonormal(obs, tanh_hidden).into_iter(),
            &w,
        ))
    }
}
