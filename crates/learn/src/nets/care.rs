//! CARE (Sodhani, Zhang & Pineau 2021, "Multi-Task Reinforcement Learning with Context-based
//! Representations", §4): a mixture of K observation encoders whose outputs are combined by
//! attention weights computed from a task context, `h = Σₖ αₖ encₖ(s)` with `α = softmax(W z)`;
//! the policy network reads `[h, z]`. The paper's context is a pretrained language model's
//! encoding of the task's description; here it is a learned embedding of the task's one-hot
//! code (what the paper's ablation with one-hot metadata uses).
//!
//! Widths: `[obs, H, hidden…, out]`: encoders obs → H; the context is H wide; the trunk is an
//! MLP from 2H through the remaining hidden widths. Tensors: `encoders.{k}`, `context`,
//! `attention` (H → K), `trunk.{i}`.

use super::{Parts, hidden, weighted_sum};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

/// The CARE network.
#[derive(Module, Debug)]
pub struct Care {
    /// The K observation encoders (obs → H).
    pub encoders: Vec<Linear>,
    /// Task one-hot → the context (H).
    pub context: Linear,
    /// Context → one attention logit per encoder.
    pub attention: Linear,
    /// `[h, z]` (2H) → … → outputs.
    pub trunk: Vec<Linear>,
}

impl Care {
    /// `encoders` encoders; `sizes = [obs, H, hidden…, out]`.
    pub fn init(sizes: &[usize], tasks: usize, encoders: usize, device: &Device) -> Care {
        let h = sizes[1];
        let trunk_sizes: Vec<usize> = [vec![2 * h], sizes[2..].to_vec()].concat();
        Care {
            encoders: (0..encoders)
                .map(|_| LinearConfig::new(sizes[0], h).init(device))
                .collect(),
            context: LinearConfig::new(tasks, h).init(device),
            attention: LinearConfig::new(h, encoders).init(device),
            trunk: trunk_sizes
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
        }
    }

    /// Raw outputs.
    pub fn forward(&self, parts: Parts) -> Tensor<2> {
        let Parts {
            obs,
            task,
            tanh_hidden,
        } = parts;
        let z = self.context.forward(task);
        let alpha = softmax(self.attention.forward(z.clone()), 1);
        let encoded = self
            .encoders
            .iter()
            .map(|encoder| hidden(encoder.forward(obs.clone()), tanh_hidden));
        let mut x = Tensor::cat(vec![weighted_sum(encoded, &alpha), z], 1);
        let last = self.trunk.len() - 1;
        for (i, layer) in self.trunk.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = hidden(x, tanh_hidden);
            }
        }
        x
    }
}
