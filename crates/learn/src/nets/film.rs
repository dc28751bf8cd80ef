//! FiLM task conditioning (Perez et al. 2018, "FiLM: Visual Reasoning with a General
//! Conditioning Layer", eq. 1–2): an MLP over the observation whose every hidden layer is
//! modulated feature-wise by the task, `h ← γₜ ⊙ h + βₜ`, with `[γₜ − 1, βₜ]` a linear function of
//! the task's one-hot code (so a fresh network starts unmodulated, γ = 1, β = 0 for a zero
//! initialised modulation).
//!
//! Tensors (PyTorch names, weights saved `[out, in]`): `layers.{i}.weight|bias` (the MLP,
//! input first), `film.{i}.weight|bias` (hidden layer i's modulation, `2·width` outputs: γ − 1
//! then β).

use super::{Parts, hidden};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

/// The FiLM network.
#[derive(Module, Debug)]
pub struct Film {
    /// The MLP's layers, input first.
    pub layers: Vec<Linear>,
    /// One modulation per hidden layer.
    pub film: Vec<Linear>,
}

impl Film {
    /// Layer widths `[obs, hidden…, out]`, `tasks` task inputs.
    pub fn init(sizes: &[usize], tasks: usize, device: &Device) -> Film {
        let layers = sizes
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        let film = sizes[1..sizes.len() - 1]
            .iter()
            .map(|&w| {
                LinearConfig::new(tasks, 2 * w)
                    .with_initializer(burn::nn::Initializer::Zeros)
                    .init(device)
            })
            .collect();
        Film { layers, film }
    }

    /// Raw outputs for the observation and task parts of the input.
    pub fn forward(&self, parts: Parts) -> Tensor<2> {
        let Parts {
            obs,
            task,
            tanh_hidden,
        } = parts;
        let mut h = obs;
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i < last {
                h = hidden(h, tanh_hidden);
                let width = h.dims()[1];
                let m = self.film[i].forward(task.clone());
                let (gamma, beta) = (m.clone().narrow(1, 0, width), m.narrow(1, width, width));
                h = h.clone() + h * gamma + beta;
            }
        }
        h
    }
}
