//! A mixture of experts with a task-conditioned router (Shazeer et al. 2017's sparsely gated
//! top-k mixture; the router sees the task, as in MMoE, Ma et al. 2018, and TaskExpert /
//! M3ViT): E expert MLPs over the observation, gates `softmax` over the k largest of the
//! router's logits for the task (the others 0), the gated sum of the experts' features, one
//! output head. A load-balancing loss (Switch Transformer, Fedus et al. 2021, eq. 4: `E ·
//! Σₑ fₑ Pₑ`, f the share of rows routed to e, P the mean router probability) keeps every
//! expert in use.
//!
//! Tensors: `experts.{e}.layers.{i}.weight|bias`, `router.weight|bias` (tasks → E),
//! `head.weight|bias`.

use super::{Parts, hidden, weighted_sum};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};

/// One expert: an MLP with an activation after every layer.
#[derive(Module, Debug)]
pub struct Expert {
    /// Layers, input first.
    pub layers: Vec<Linear>,
}

impl Expert {
    /// An expert of widths `sizes`.
    pub fn init(sizes: &[usize], device: &Device) -> Expert {
        Expert {
            layers: sizes
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
        }
    }

    /// Features of `x`.
    pub fn forward(&self, mut x: Tensor<2>, tanh_hidden: bool) -> Tensor<2> {
        for layer in &self.layers {
            x = hidden(layer.forward(x), tanh_hidden);
        }
        x
    }
}

/// The mixture.
#[derive(Module, Debug)]
pub struct Moe {
    /// The experts.
    pub experts: Vec<Expert>,
    /// Task one-hot → one logit per expert.
    pub router: Linear,
    /// Features → outputs.
    pub head: Linear,
    /// Experts each row uses.
    pub top_k: usize,
}

impl Moe {
    /// `experts` experts of widths `sizes[..len-1]` (observation first), a head to the last
    /// width, `top_k` experts per row.
    pub fn init(
        sizes: &[usize],
        tasks: usize,
        experts: usize,
        top_k: usize,
        device: &Device,
    ) -> Moe {
        let features = sizes[sizes.len() - 2];
        Moe {
            experts: (0..experts)
                .map(|_| Expert::init(&sizes[..sizes.len() - 1], device))
                .collect(),
            router: LinearConfig::new(tasks, experts).init(device),
            head: LinearConfig::new(features, sizes[sizes.len() - 1]).init(device),
            top_k,
        }
    }

    /// The gates `[batch, E]` (zero outside each row's top k) and the router's probabilities.
    pub fn gates(&self, task: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let logits = self.router.forward(task);
        let experts = self.experts.len();
        // The k-th largest logit of each row by k rounds of "take the max, mask it out":
        // tensor operations only, so the same code runs on WebGPU without a read-back.
        let mut rest = logits.clone();
        let mut threshold = rest.clone().max_dim(1);
        for _ in 1..self.top_k.clamp(1, experts) {
            let taken = rest.clone().greater_equal(threshold.repeat_dim(1, experts));
            rest = rest.mask_fill(taken, f32::NEG_INFINITY);
            threshold = rest.clone().max_dim(1);
        }
        let kept = logits
            .clone()
            .greater_equal(threshold.repeat_dim(1, experts));
        let gates = softmax(
            logits.clone().mask_fill(kept.bool_not(), f32::NEG_INFINITY),
            1,
        );
        (gates, softmax(logits, 1))
    }

    /// Raw outputs and the load-balancing loss.
    pub fn forward(&self, parts: Parts) -> (Tensor<2>, Tensor<1>) {
        let Parts {
            obs,
            task,
            tanh_hidden,
        } = parts;
        let (gates, probabilities) = self.gates(task);
        let experts = self.experts.len();
        let mixed = weighted_sum(
            self.experts
                .iter()
                .map(|expert| expert.forward(obs.clone(), tanh_hidden)),
            &gates,
        );
        // Switch's balance loss: the share routed (no gradient; gates > 0) times the mean
        // probability, summed over experts, times E.
        let routed =
            gates.greater_elem(0.0).float().mean_dim(0).detach() / self.top_k.min(experts) as f32;
        let balance = (routed * probabilities.mean_dim(0)).sum() * experts as f32;
        (self.head.forward(mixed), balance)
    }
}
