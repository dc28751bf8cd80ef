//! A policy as it is saved and played: its description ([`PolicyInfo`]: architecture,
//! task conditioning, observation normalisation, provenance; the weights file's metadata) and
//! [`Policy`], the network with that description on a device, acting on observations.

use crate::nets::fused::FastMlp;
use crate::nets::{ArchitectureKind, Network};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// A policy network's shape: its architecture (`kind`, one of [`ArchitectureKind`]'s names),
/// layer widths `sizes = [in, hidden…, out]` (the input counts the task one-hot where the
/// policy takes one), a hidden activation, and an output: `tanh` (continuous actions in
/// [−1, 1]), `linear`, or `categorical` (logits of a discrete choice; the policy acts by
/// argmax). Mixture-style architectures also say how many experts they have (and the MoE how
/// many each row uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// The architecture's name (`"mlp"`, `"film"`, `"moe"`, …).
    pub kind: String,
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    /// Hidden activation: `"relu"` or `"tanh"`.
    pub activation: String,
    /// Output: `"tanh"`, `"linear"` or `"categorical"`.
    pub output: String,
    /// Experts (MoE, MOORE), encoders (CARE), parameter sets (PaCo) or modules per layer
    /// (soft modularisation); the architecture's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts: Option<usize>,
    /// MoE: experts each row is routed to (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<usize>,
}

/// Largest number of weights an architecture may have (checked before anything is allocated).
pub const MAX_PARAMETERS: usize = 16 << 20;

impl Architecture {
    /// An MLP with ReLU hidden layers and a tanh output.
    pub fn mlp(sizes: &[usize]) -> Architecture {
        Architecture {
            kind: "mlp".into(),
            sizes: sizes.to_vec(),
            activation: "relu".into(),
            output: "tanh".into(),
            experts: None,
            top_k: None,
        }
    }

    /// `kind` with ReLU hidden layers and a tanh output, and the kind's default experts.
    pub fn of(kind: ArchitectureKind, sizes: &[usize]) -> Architecture {
        Architecture {
            kind: kind.name().into(),
            experts: kind.default_experts(),
            ..Architecture::mlp(sizes)
        }
    }

    /// The registered architecture this names.
    pub fn kind(&self) -> Result<ArchitectureKind, String> {
        ArchitectureKind::parse(&self.kind).map_err(|e| format!("architecture.kind: {e}"))
    }

    /// Checks that this crate can build the architecture.
    pub fn check(&self) -> Result<(), String> {
        let kind = self.kind()?;
        if !["relu", "tanh"].contains(&self.activation.as_str()) {
            return Err(format!(
                "architecture.activation \"{}\" is not supported (relu or tanh)",
                self.activation
            ));
        }
        if !["tanh", "linear", "categorical"].contains(&self.output.as_str()) {
            return Err(format!(
                "architecture.output \"{}\" is not supported (tanh, linear or categorical)",
                self.output
            ));
        }
        if self.sizes.len() < 2
            || self.sizes.len() > 18
            || self.sizes.iter().any(|&s| s == 0 || s > 65_536)
        {
            return Err(format!(
                "architecture.sizes {:?}: need 2..=18 widths, each 1..=65536",
                self.sizes
            ));
        }
        let hidden = self.sizes.len() - 2;
        let needs = match kind {
            ArchitectureKind::Mlp => 0,
            ArchitectureKind::SoftModular => 3,
            _ => 1,
        };
        if hidden < needs {
            return Err(format!(
                "architecture.sizes {:?}: {kind} needs at least {needs} hidden widths",
                self.sizes
            ));
        }
        if kind == ArchitectureKind::SoftModular
            && self.sizes[1..=hidden].iter().any(|&w| w != self.sizes[1])
        {
            return Err(format!(
                "architecture.sizes {:?}: soft-modular needs every hidden width equal (the module width)",
                self.sizes
            ));
        }
        match (kind.default_experts(), self.experts) {
            (None, Some(_)) => return Err(format!("architecture.experts: {kind} has no experts")),
            (Some(_), Some(e)) if !(1..=64).contains(&e) => {
                return Err(format!("architecture.experts: must be in 1..=64, got {e}"));
            }
            _ => {}
        }
        match (kind, self.top_k) {
            (ArchitectureKind::Moe, Some(k)) if k == 0 || k > self.experts.unwrap_or(4) => {
                return Err(format!(
                    "architecture.top_k: must be in 1..=experts, got {k}"
                ));
            }
            (ArchitectureKind::Moe, _) | (_, None) => {}
            (_, Some(_)) => {
                return Err(format!(
                    "architecture.top_k: only moe routes to top-k experts, not {kind}"
                ));
            }
        }
        let dense: usize = self.sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
        let copies = self.experts.or(kind.default_experts()).unwrap_or(1)
            * if kind == ArchitectureKind::SoftModular {
                hidden
            } else {
                1
            };
        if dense.saturating_mul(copies.max(1)) > MAX_PARAMETERS {
            return Err(format!(
                "architecture: about {} weights, more than the {MAX_PARAMETERS} allowed",
                dense.saturating_mul(copies)
            ));
        }
        Ok(())
    }
}

/// How a policy trained on several tasks is told which one it acts in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conditioning {
    /// One task (or tasks the observation tells apart): the network sees the observation only.
    #[default]
    None,
    /// The task's one-hot code (one input per task, in `tasks` order) is appended to the
    /// normalised observation.
    OneHot,
    /// A shared trunk with one output head per task: the last layer has `tasks × actions`
    /// outputs, and the task's block of them is the action.
    MultiHead,
}

/// Everything about a policy that is not a weight: stored as the weights file's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyInfo {
    /// Network shape.
    pub architecture: Architecture,
    /// Task ids the policy was trained on.
    pub tasks: Vec<String>,
    /// How the task is given to a multi-task network.
    #[serde(default)]
    pub conditioning: Conditioning,
    /// Per-feature observation mean subtracted before the network.
    pub obs_mean: Vec<f32>,
    /// Per-feature observation scale divided by before the network.
    pub obs_std: Vec<f32>,
    /// How it was trained (command, algorithm, seed, steps, …), free-form JSON.
    pub training: serde_json::Value,
    /// Evaluated success rate in [0, 1], if measured.
    pub eval_success: Option<f32>,
    /// Episodes the success rate was measured on.
    pub eval_episodes: Option<u32>,
}

impl PolicyInfo {
    /// Observation size the policy takes (its normalisation statistics' length).
    pub fn observation_size(&self) -> usize {
        self.obs_mean.len()
    }

    /// Network inputs added after the observation (the task one-hot).
    pub fn task_inputs(&self) -> usize {
        if self.conditioning == Conditioning::OneHot {
            self.tasks.len()
        } else {
            0
        }
    }

    /// Output heads of the last layer (one per task for a multi-head policy).
    pub fn heads(&self) -> usize {
        if self.conditioning == Conditioning::MultiHead {
            self.tasks.len().max(1)
        } else {
            1
        }
    }

    /// Checks that the description is self-consistent: statistics sized like the observation,
    /// conditioning matching the tasks and the layer widths.
    pub fn check(&self) -> Result<(), String> {
        self.architecture.check()?;
        if self.obs_mean.is_empty() {
            return Err("obs_mean is empty: a policy observes at least one value".into());
        }
        let kind = self.architecture.kind()?;
        if kind.task_aware() && self.conditioning != Conditioning::OneHot {
            return Err(format!(
                "architecture {kind} reads the task from a one-hot input: conditioning must be one-hot (it is {:?})",
                self.conditioning
            ));
        }
        let sizes = &self.architecture.sizes;
        let inputs = self.observation_size() + self.task_inputs();
        if sizes[0] != inputs {
            return Err(format!(
                "the network takes {} inputs; obs_mean has {} values{}",
                sizes[0],
                self.obs_mean.len(),
                if self.task_inputs() > 0 {
                    format!(" plus {} task inputs", self.task_inputs())
                } else {
                    String::new()
                }
            ));
        }
        if self.obs_std.len() != self.obs_mean.len() {
            return Err(format!(
                "obs_std has {} values; obs_mean has {}",
                self.obs_std.len(),
                self.obs_mean.len()
            ));
        }
        if self.obs_std.iter().any(|s| !s.is_finite() || *s <= 0.0)
            || self.obs_mean.iter().any(|m| !m.is_finite())
        {
            return Err("obs_mean/obs_std must be finite, with obs_std > 0".into());
        }
        if self.conditioning != Conditioning::None && self.tasks.len() < 2 {
            return Err(format!(
                "conditioning {:?} needs at least 2 tasks; found {}",
                self.conditioning,
                self.tasks.len()
            ));
        }
        let outputs = sizes[sizes.len() - 1];
        if !outputs.is_multiple_of(self.heads()) {
            return Err(format!(
                "the network's {outputs} outputs do not split into {} equal task heads",
                self.heads()
            ));
        }
        Ok(())
    }

    /// Index of `task` among the policy's tasks: a single-task policy acts in any task it is
    /// given (index 0); a multi-task one must be told one of its tasks.
    pub fn task_index(&self, task: Option<&str>) -> Result<usize, String> {
        if self.conditioning == Conditioning::None {
            return Ok(0);
        }
        let task = task.ok_or_else(|| {
            format!(
                "this policy acts in {} tasks ({}); say which",
                self.tasks.len(),
                self.tasks.join(", ")
            )
        })?;
        self.tasks.iter().position(|t| t == task).ok_or_else(|| {
            format!(
                "this policy was trained on {}; not on task {task}",
                self.tasks.join(", ")
            )
        })
    }

    /// The network's input rows for a batch of observations in task `task_index`: normalised,
    /// with the task one-hot appended if the policy takes one.
    pub fn network_input(&self, observations: &[f32], task_index: usize) -> Vec<f32> {
        let x = normalise(observations, &self.obs_mean, &self.obs_std);
        append_one_hot(
            x,
            self.observation_size(),
            self.task_inputs(),
            std::iter::repeat(task_index),
        )
    }
}

/// The `training` metadata every algorithm writes into its policy: `{"algorithm", "config",
/// …details}`, with `details` (an object: steps, demonstrations, α, …) merged in. The CLI adds
/// the command, seconds and evaluation to the same object, for every algorithm at once.
pub fn training_metadata(
    algorithm: &str,
    config: &impl Serialize,
    details: serde_json::Value,
) -> serde_json::Value {
    let mut out = serde_json::json!({ "algorithm": algorithm, "config": config });
    if let (Some(out), serde_json::Value::Object(details)) = (out.as_object_mut(), details) {
        out.extend(details);
    }
    out
}

/// Appends to every `dim`-wide row of `x` the one-hot code (of `tasks` entries) of its task,
/// taken in turn from `task_of_row`; `x` unchanged when `tasks` is 0.
pub fn append_one_hot(
    x: Vec<f32>,
    dim: usize,
    tasks: usize,
    task_of_row: impl Iterator<Item = usize>,
) -> Vec<f32> {
    if tasks == 0 {
        return x;
    }
    let mut out = Vec::with_capacity(x.len() / dim * (dim + tasks));
    for (row, task) in x.chunks_exact(dim).zip(task_of_row) {
        out.extend_from_slice(row);
        out.extend((0..tasks).map(|i| (i == task) as u8 as f32));
    }
    out
}

/// Normalises a batch of observations (row-major `[batch, dim]`) with the policy's statistics.
pub fn normalise(observations: &[f32], mean: &[f32], std: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(observations.len());
    for row in observations.chunks(mean.len()) {
        out.extend(row.iter().zip(mean).zip(std).map(|((o, m), s)| (o - m) / s));
    }
    out
}

/// A policy ready to act: network, description (normalisation, provenance) and device.
///
/// A plain MLP on the CPU acts through the hand-fused forward pass ([`FastMlp`], the same
/// arithmetic without burn's per-op dispatch; a test checks it equals burn's to 1e-5), made
/// from the network's weights the first time the policy acts. Every other network, and every
/// network on another device, runs through burn.
#[derive(Debug)]
pub struct Policy {
    net: Network,
    /// Architecture, normalisation and provenance.
    pub info: PolicyInfo,
    device: Device,
    /// The fused copy of a plain MLP on the CPU (`None` for any other network or device).
    fused: OnceLock<Option<FastMlp>>,
}

impl Policy {
    /// A policy of network `net`, described by `info`, whose tensors live on `device`.
    pub fn new(net: Network, info: PolicyInfo, device: Device) -> Policy {
        Policy {
            net,
            info,
            device,
            fused: OnceLock::new(),
        }
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// Where the network's tensors live.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The network and its description, taken apart (e.g. to change the description).
    pub fn into_parts(self) -> (Network, PolicyInfo, Device) {
        (self.net, self.info, self.device)
    }

    /// The fused forward pass, if this policy can use it: a plain MLP on the CPU device.
    fn fused(&self) -> Option<&FastMlp> {
        self.fused
            .get_or_init(|| match &self.net {
                Network::Mlp(mlp) if self.device == Device::flex() => FastMlp::from_mlp(mlp).ok(),
                _ => None,
            })
            .as_ref()
    }

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
        Policy::new(
            self.net.clone().to_device(device),
            self.info.clone(),
            device.clone(),
        )
    }

    /// Checks that `observations` are whole rows of the policy's observation.
    fn check_rows(&self, observations: &[f32]) -> Result<(), String> {
        let dim = self.observation_size();
        if dim == 0 || observations.is_empty() || !observations.len().is_multiple_of(dim) {
            return Err(format!(
                "observations hold {} values; expected a non-empty multiple of the policy's {dim} inputs",
                observations.len()
            ));
        }
        Ok(())
    }

    fn input(&self, observations: &[f32], task_index: usize) -> Result<Tensor<2>, String> {
        self.check_rows(observations)?;
        let x = self.info.network_input(observations, task_index);
        let inputs = self.info.architecture.sizes[0];
        Ok(Tensor::from_data(
            TensorData::new(x, [observations.len() / self.observation_size(), inputs]),
            &self.device,
        ))
    }

    /// The network's outputs for a batch of observations from `task` (still on the device),
    /// and the task's index.
    fn outputs(
        &self,
        observations: &[f32],
        task: Option<&str>,
    ) -> Result<(Tensor<2>, usize), String> {
        let task_index = self.info.task_index(task)?;
        let x = self.input(observations, task_index)?;
        Ok((
            self.net
                .forward(x, &self.info.architecture, self.info.task_inputs()),
            task_index,
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
        if let Some(fused) = self.fused() {
            let task_index = self.info.task_index(task)?;
            self.check_rows(observations)?;
            let x = normalise(observations, &self.info.obs_mean, &self.info.obs_std);
            let tasks = self.info.task_inputs();
            let architecture = &self.info.architecture;
            let y = fused.forward_in_task(
                &x,
                (tasks > 0).then_some((tasks, task_index)),
                architecture.activation == "tanh",
                architecture.output == "tanh",
            );
            return Ok(self.actions(&y, task_index));
        }
        self.act_through_burn(observations, task)
    }

    /// [`Policy::act_in`] through burn's forward pass even where the fused one would be
    /// used (to check one against the other).
    pub fn act_through_burn(
        &self,
        observations: &[f32],
        task: Option<&str>,
    ) -> Result<Vec<f32>, String> {
        let (y, task_index) = self.outputs(observations, task)?;
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
        let (y, task_index) = self.outputs(observations, task)?;
        let data = y
            .into_data_async()
            .await
            .map_err(|e| format!("reading actions: {e:?}"))?;
        data.as_slice::<f32>()
            .map(|s| self.actions(s, task_index))
            .map_err(|e| format!("{e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nets::mlp::Mlp;

    /// A random plain-MLP policy on the CPU with `activation`, `output` and `conditioning`.
    fn mlp_policy(activation: &str, output: &str, conditioning: Conditioning) -> Policy {
        let (obs, tasks, actions) = (7, 3, 2);
        let task_inputs = if conditioning == Conditioning::OneHot {
            tasks
        } else {
            0
        };
        let heads = if conditioning == Conditioning::MultiHead {
            tasks
        } else {
            1
        };
        let sizes = [obs + task_inputs, 32, 24, actions * heads];
        let device = Device::flex();
        let info = PolicyInfo {
            architecture: Architecture {
                activation: activation.into(),
                output: output.into(),
                ..Architecture::mlp(&sizes)
            },
            tasks: if conditioning == Conditioning::None {
                vec!["a".into()]
            } else {
                vec!["a".into(), "b".into(), "c".into()]
            },
            conditioning,
            obs_mean: (0..obs).map(|i| i as f32 * 0.1).collect(),
            obs_std: (0..obs).map(|i| 0.5 + i as f32 * 0.2).collect(),
            training: serde_json::Value::Null,
            eval_success: None,
            eval_episodes: None,
        };
        info.check().unwrap();
        Policy::new(Network::Mlp(Mlp::init(&sizes, &device)), info, device)
    }

    #[test]
    fn the_fused_fast_path_acts_as_burn_does() {
        let cases = [
            ("relu", "tanh", Conditioning::None, None),
            ("tanh", "linear", Conditioning::None, None),
            ("relu", "tanh", Conditioning::OneHot, Some("b")),
            ("tanh", "tanh", Conditioning::MultiHead, Some("c")),
            ("relu", "categorical", Conditioning::OneHot, Some("c")),
        ];
        for (activation, output, conditioning, task) in cases {
            let policy = mlp_policy(activation, output, conditioning);
            assert!(policy.fused().is_some(), "{activation}/{output}");
            for rows in [1, 300] {
                let obs: Vec<f32> = (0..rows * 7)
                    .map(|i| ((i * 37 % 101) as f32 / 25.0) - 2.0)
                    .collect();
                let fused = policy.act_in(&obs, task).unwrap();
                let burn = policy.act_through_burn(&obs, task).unwrap();
                assert_eq!(fused.len(), burn.len());
                assert_eq!(fused.len(), rows * policy.action_size());
                let worst = fused
                    .iter()
                    .zip(&burn)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst <= 1e-5,
                    "{activation}/{output}/{conditioning:?}, {rows} rows: differs by {worst}"
                );
            }
        }
        // A task-aware network does not take the fused path.
        let architecture = Architecture::of(ArchitectureKind::Film, &[10, 16, 2]);
        let device = Device::flex();
        let film = Network::init(&architecture, 3, &device).unwrap();
        let info = PolicyInfo {
            architecture,
            ..mlp_policy("relu", "tanh", Conditioning::OneHot).info
        };
        assert!(Policy::new(film, info, device).fused().is_none());
    }

    #[test]
    fn the_fused_path_refuses_what_burn_refuses() {
        let policy = mlp_policy("relu", "tanh", Conditioning::OneHot);
        for (obs, task) in [
            (vec![0.0; 6], Some("a")),
            (vec![0.0; 7], None),
            (vec![0.0; 7], Some("z")),
        ] {
            assert_eq!(
                policy.act_in(&obs, task).unwrap_err(),
                policy.act_through_burn(&obs, task).unwrap_err()
            );
        }
    }
}
