//! Polyskill learning: the burn MLP policy ([`Policy`], single- or multi-task), behaviour
//! cloning from the tasks' experts with DART and DAgger ([`bc`]), PPO with categorical or
//! Gaussian actors ([`ppo`]), SAC and MT-SAC ([`sac`]), group-relative GRPO / RLOO
//! ([`grpo`]), the pieces they share ([`categorical`], [`gaussian`], the fused CPU MLP
//! [`fused`]), batched evaluation and best-checkpoint keeping ([`eval`]), work split between workers ([`parallel`]), benchmarks ([`bench`]) and safetensors weights with metadata ([`weights`]).
//!
//! Backends are runtime devices (burn 0.22): `Device::flex()` is the CPU backend used
//! natively and in wasm; the `webgpu` feature adds burn's WebGPU backend for the browser.

pub mod bc;
pub mod bench;
pub mod categorical;
pub mod eval;
pub mod fused;
pub mod gaussian;
pub mod grpo;
pub mod parallel;
mod policy;
pub mod ppo;
pub mod sac;
pub mod weights;

pub use burn::tensor::Device;
pub use fused::FastMlp;
pub use policy::{Architecture, Conditioning, Mlp, PolicyInfo, normalise};

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};

/// A policy-gradient run (PPO, GRPO, RLOO) that advances one iteration per call.
pub trait IterativeRun {
    /// Runs the next iteration and returns its metrics, or `None` once the budget is spent.
    fn iterate(&mut self) -> Result<Option<ppo::PpoIteration>, String>;
    /// The policy as it stands, acting greedily.
    fn policy(&self) -> Policy;
}

/// Drives `run` until its budget is spent or `on_iteration` returns false; the policy then.
pub fn run_to_end(
    run: impl IterativeRun,
    mut on_iteration: impl FnMut(&ppo::PpoIteration) -> bool,
) -> Result<Policy, String> {
    match run_keeping_last_good(run, |record, _| on_iteration(record)) {
        (policy, None) => Ok(policy),
        (_, Some(error)) => Err(error),
    }
}

/// Drives `run` as [`run_to_end`] does, but a run that fails (e.g. diverges) is not lost:
/// returns the policy as it stands (every run checks an update before applying it, so these
/// are the last good weights) together with the error. `on_iteration` also sees the run
/// (e.g. to validate its policy, see [`eval::BestCheckpoint`]).
pub fn run_keeping_last_good<R: IterativeRun>(
    mut run: R,
    mut on_iteration: impl FnMut(&ppo::PpoIteration, &R) -> bool,
) -> (Policy, Option<String>) {
    loop {
        match run.iterate() {
            Ok(Some(record)) if on_iteration(&record, &run) => {}
            Ok(_) => return (run.policy(), None),
            Err(error) => return (run.policy(), Some(error)),
        }
    }
}

/// Collects the settings a training configuration rejects, each as `field: rule`.
#[derive(Debug, Default)]
pub struct SettingsCheck {
    problems: Vec<String>,
}

impl SettingsCheck {
    /// Records `field: rule` unless `ok`.
    pub fn need(&mut self, ok: bool, field: &str, rule: &str) {
        if !ok {
            self.problems.push(format!("{field}: {rule}"));
        }
    }

    /// Records a problem unless `widths` (hidden layer widths) lists at least one, each in
    /// 1..=4096.
    pub fn hidden_widths(&mut self, widths: &[usize]) {
        let ok = !widths.is_empty() && widths.iter().all(|w| (1..=4096).contains(w));
        self.need(
            ok,
            "hidden",
            &format!("must list at least one width, each in 1..=4096; got {widths:?}"),
        );
    }

    /// `Ok` if nothing was rejected, else every problem after `what` (e.g. "PPO settings").
    pub fn finish(self, what: &str) -> Result<(), String> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{what}: {}", self.problems.join("; ")))
        }
    }
}

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
        self.info.observation_size()
    }

    /// Action size the policy returns (1, the choice's index, for a categorical policy).
    pub fn action_size(&self) -> usize {
        if self.is_categorical() {
            1
        } else {
            self.head_size()
        }
    }

    /// Outputs of one task head (all outputs unless the policy is multi-head).
    fn head_size(&self) -> usize {
        self.info.architecture.sizes.last().copied().unwrap_or(0) / self.info.heads()
    }

    /// Whether the policy picks a discrete choice (its outputs are logits).
    pub fn is_categorical(&self) -> bool {
        self.info.architecture.output == "categorical"
    }

    /// Network outputs to actions: the task's head of each row, as it is or (categorical)
    /// as the index of its largest logit.
    fn actions(&self, outputs: &[f32], task_index: usize) -> Vec<f32> {
        let width = self.info.architecture.sizes.last().copied().unwrap_or(1);
        let n = self.head_size();
        let head = if self.info.heads() > 1 { task_index } else { 0 };
        let heads = outputs
            .chunks_exact(width)
            .map(|row| &row[head * n..(head + 1) * n]);
        if !self.is_categorical() {
            return heads.flatten().copied().collect();
        }
        heads
            .map(|row| (0..n).fold(0, |best, i| if row[i] > row[best] { i } else { best }) as f32)
            .collect()
    }

    /// The same policy on another device (e.g. from the CPU to WebGPU).
    pub fn to_device(&self, device: &Device) -> Policy {
        Policy {
            mlp: self.mlp.clone().to_device(device),
            info: self.info.clone(),
            device: device.clone(),
        }
    }

    fn input(&self, observations: &[f32], task_index: usize) -> Result<Tensor<2>, String> {
        let dim = self.observation_size();
        if observations.is_empty() || observations.len() % dim != 0 {
            return Err(format!(
                "observations hold {} values; expected a non-empty multiple of the policy's {dim} inputs",
                observations.len()
            ));
        }
        let x = self.info.network_input(observations, task_index);
        let inputs = self.info.architecture.sizes[0];
        Ok(Tensor::from_data(
            TensorData::new(x, [observations.len() / dim, inputs]),
            &self.device,
        ))
    }

    /// Actions for a row-major batch of observations of a single-task policy (see
    /// [`Policy::act_in`]).
    pub fn act_batch(&self, observations: &[f32]) -> Result<Vec<f32>, String> {
        self.act_in(observations, None)
    }

    /// Actions for a row-major batch of observations, all from `task` (required by a
    /// multi-task policy, ignored by a single-task one). Synchronous read: CPU devices only;
    /// on WebGPU in a browser use [`Policy::act_batch_async`].
    pub fn act_in(&self, observations: &[f32], task: Option<&str>) -> Result<Vec<f32>, String> {
        let task_index = self.info.task_index(task)?;
        let y = self.mlp.forward_as(
            self.input(observations, task_index)?,
            &self.info.architecture,
        );
        let data = y
            .try_into_data()
            .map_err(|e| format!("reading actions: {e:?}"))?;
        data.as_slice::<f32>()
            .map(|s| self.actions(s, task_index))
            .map_err(|e| format!("{e:?}"))
    }

    /// Actions for a batch of observations from `task` (as [`Policy::act_in`]), read back
    /// asynchronously (works on every device).
    pub async fn act_batch_async(
        &self,
        observations: &[f32],
        task: Option<&str>,
    ) -> Result<Vec<f32>, String> {
        let task_index = self.info.task_index(task)?;
        let y = self.mlp.forward_as(
            self.input(observations, task_index)?,
            &self.info.architecture,
        );
        let data = y
            .into_data_async()
            .await
            .map_err(|e| format!("reading actions: {e:?}"))?;
        data.as_slice::<f32>()
            .map(|s| self.actions(s, task_index))
            .map_err(|e| format!("{e:?}"))
    }
}
