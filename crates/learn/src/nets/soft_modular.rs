//! Soft modularisation (Yang et al. 2020, "Multi-Task Reinforcement Learning with Soft
//! Modularization", §4.2 and eq. 2–4): a base network of L layers of M modules, and a routing
//! network that, from the observation's encoding multiplied by the task's embedding, gives
//! per sample a soft M × M routing between consecutive layers: module j of layer l + 1 reads
//! `Σᵢ p^l[j, i] · oᵢ^l`; the last layer's modules are averaged into the output head.
//! Routing: `p¹ = softmax(W_d¹ ReLU(e))`, `p^{l+1} = softmax(W_d^{l+1}(ReLU(W_u^l p^l) ⊙ e))`,
//! `e = f(s) ⊙ z(t)`.
//!
//! Widths: `[obs, D × (L+1), out]`: every hidden width is D; the first is the encoder, the
//! others the L module layers. Tensors: `encoder`, `task_embedding`, `modules.{l·M + j}`,
//! `route_in.{l}` (D → M²), `route_up.{l}` (M² → D, layers after the first), `head`.

use super::{Parts, hidden};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};

/// The soft-modular network.
#[derive(Module, Debug)]
pub struct SoftModular {
    /// Observation → D.
    pub encoder: Linear,
    /// Task one-hot → D.
    pub task_embedding: Linear,
    /// Module j of layer l at `l · M + j` (D → D).
    pub modules: Vec<Linear>,
    /// Routing logits between layer l and l + 1 (D → M²).
    pub route_in: Vec<Linear>,
    /// The previous routing's probabilities back to D (M² → D), for every routing but the first.
    pub route_up: Vec<Linear>,
    /// D → outputs.
    pub head: Linear,
    /// Modules per layer.
    pub per_layer: usize,
}

impl SoftModular {
    /// `modules` modules per layer; `sizes = [obs, D, D…, out]` with at least two module layers.
    pub fn init(sizes: &[usize], tasks: usize, modules: usize, device: &Device) -> SoftModular {
        let d = sizes[1];
        let layers = sizes.len() - 3;
        let m2 = modules * modules;
        SoftModular {
            encoder: LinearConfig::new(sizes[0], d).init(device),
            task_embedding: LinearConfig::new(tasks, d).init(device),
            modules: (0..layers * modules)
                .map(|_| LinearConfig::new(d, d).init(device))
                .collect(),
            route_in: (0..layers - 1)
                .map(|_| LinearConfig::new(d, m2).init(device))
                .collect(),
            route_up: (1..layers - 1)
                .map(|_| LinearConfig::new(m2, d).init(device))
                .collect(),
            head: LinearConfig::new(d, sizes[sizes.len() - 1]).init(device),
            per_layer: modules,
        }
    }

    /// Raw outputs.
    pub fn forward(&self, parts: Parts) -> Tensor<2> {
        let Parts {
            obs,
            task,
            tanh_hidden,
        } = parts;
        let m = self.per_layer;
        let layers = self.modules.len() / m;
        let base = hidden(self.encoder.forward(obs), tanh_hidden);
        let [batch, d] = base.dims();
        let e = base.clone() * self.task_embedding.forward(task);
        // The routings, first to last.
        let mut routes: Vec<Tensor<3>> = Vec::with_capacity(layers - 1);
        for l in 0..layers - 1 {
            let input = match routes.last() {
                None => relu(e.clone()),
                Some(previous) => {
                    relu(self.route_up[l - 1].forward(previous.clone().reshape([batch, m * m])))
                        * e.clone()
                }
            };
            routes.push(softmax(
                self.route_in[l].forward(input).reshape([batch, m, m]),
                2,
            ));
        }
        // Every module of the first layer reads the encoding.
        let mut inputs: Tensor<3> = base.unsqueeze_dim::<3>(1).repeat_dim(1, m);
        let mut outputs = inputs.clone();
        for l in 0..layers {
            let per_module: Vec<Tensor<2>> = (0..m)
                .map(|j| {
                    hidden(
                        self.modules[l * m + j]
                            .forward(inputs.clone().narrow(1, j, 1).reshape([batch, d])),
                        tanh_hidden,
                    )
                })
                .collect();
            outputs = Tensor::stack(per_module, 1);
            if l + 1 < layers {
                inputs = routes[l].clone().matmul(outputs.clone());
            }
        }
        self.head.forward(outputs.mean_dim(1).reshape([batch, d]))
    }
}
