//! Polyskill learning: the burn MLP policy ([`Policy`]), behaviour cloning from a task's
//! expert ([`bc`]), PPO for discrete tasks ([`ppo`]), batched evaluation, and safetensors
//! weights with metadata ([`weights`]).
//!
//! Backends are runtime devices (burn 0.22): `Device::flex()` is the CPU backend used
//! natively and in wasm; the `webgpu` feature adds burn's WebGPU backend for the browser.

pub mod bc;
pub mod bench;
pub mod eval;
pub mod fused;
mod policy;
pub mod ppo;
pub mod weights;

pub use burn::tensor::Device;
pub use fused::FastMlp;
pub use policy::{Architecture, Mlp, PolicyInfo, normalise};

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};

/// A policy ready to act: network, description (normalisation, provenance) and device.
#[derive(Debug)]
pub struct Policy {
    /// The network.
    pub mlp: Mlp,
    /// Architecture, normalisation and provenance.
    pub info: PolicyInfo,
    /// Where the network's tensors live.
    pub device: Device,
}

impl Policy {
    /// Observation size the policy takes.
    pub fn observation_size(&self) -> usize {
        self.info.architecture.sizes[0]
    }

    /// Action size the policy returns (1, the choice's index, for a categorical policy).
    pub fn action_size(&self) -> usize {
        if self.is_categorical() { 1 } else { *self.info.architecture.sizes.last().unwrap_or(&0) }
    }

    /// Whether the policy picks a discrete choice (its outputs are logits).
    pub fn is_categorical(&self) -> bool {
        self.info.architecture.output == "categorical"
    }

    /// Network outputs to actions: the outputs themselves, or each row's argmax index.
    fn actions(&self, outputs: &[f32]) -> Vec<f32> {
        if !self.is_categorical() {
            return outputs.to_vec();
        }
        let n = *self.info.architecture.sizes.last().unwrap_or(&1);
        outputs
            .chunks_exact(n)
            .map(|row| (0..n).fold(0, |best, i| if row[i] > row[best] { i } else { best }) as f32)
            .collect()
    }

    /// The same policy on another device (e.g. from the CPU to WebGPU).
    pub fn to_device(&self, device: &Device) -> Policy {
        Policy { mlp: self.mlp.clone().to_device(device), info: self.info.clone(), device: device.clone() }
    }

    fn input(&self, observations: &[f32]) -> Result<Tensor<2>, String> {
        let dim = self.observation_size();
        if observations.is_empty() || observations.len() % dim != 0 {
            return Err(format!(
                "observations hold {} values; expected a non-empty multiple of the policy's {dim} inputs",
                observations.len()
            ));
        }
        let x = normalise(observations, &self.info.obs_mean, &self.info.obs_std);
        Ok(Tensor::from_data(TensorData::new(x, [observations.len() / dim, dim]), &self.device))
    }

    /// Actions for a row-major batch of observations (synchronous read: CPU devices only;
    /// on WebGPU in a browser use [`Policy::act_batch_async`]).
    pub fn act_batch(&self, observations: &[f32]) -> Result<Vec<f32>, String> {
        let y = self.mlp.forward_as(self.input(observations)?, &self.info.architecture);
        let data = y.try_into_data().map_err(|e| format!("reading actions: {e:?}"))?;
        data.as_slice::<f32>().map(|s| self.actions(s)).map_err(|e| format!("{e:?}"))
    }

    /// Actions for a batch of observations, read back asynchronously (works on every device).
    pub async fn act_batch_async(&self, observations: &[f32]) -> Result<Vec<f32>, String> {
        let y = self.mlp.forward_as(self.input(observations)?, &self.info.architecture);
        let data = y.into_data_async().await.map_err(|e| format!("reading actions: {e:?}"))?;
        data.as_slice::<f32>().map(|s| self.actions(s)).map_err(|e| format!("{e:?}"))
    }
}
