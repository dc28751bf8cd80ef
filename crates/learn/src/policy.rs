//! The MLP policy (burn module) and its description: architecture, observation
//! normalisation, and how it was trained and evaluated (stored in the weights file).

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Layer sizes and activations of an MLP policy: `sizes = [in, hidden…, out]`, a hidden
/// activation between layers, and an output: `tanh` (continuous actions in [−1, 1]),
/// `linear`, or `categorical` (logits of a discrete choice; the policy acts by argmax).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Always `"mlp"` for now.
    pub kind: String,
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    /// Hidden activation: `"relu"` or `"tanh"`.
    pub activation: String,
    /// Output: `"tanh"`, `"linear"` or `"categorical"`.
    pub output: String,
}

impl Architecture {
    /// An MLP with ReLU hidden layers and a tanh output.
    pub fn mlp(sizes: &[usize]) -> Architecture {
        Architecture {
            kind: "mlp".into(),
            sizes: sizes.to_vec(),
            activation: "relu".into(),
            output: "tanh".into(),
        }
    }

    /// Checks that this crate can build the architecture.
    pub fn check(&self) -> Result<(), String> {
        if self.kind != "mlp" {
            return Err(format!(
                "architecture.kind \"{}\" is not supported (only \"mlp\")",
                self.kind
            ));
        }
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
        if self.sizes.len() < 2 || self.sizes.iter().any(|&s| s == 0 || s > 65_536) {
            return Err(format!(
                "architecture.sizes {:?}: need at least 2 widths, each 1..=65536",
                self.sizes
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

/// The MLP as a burn module.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Linear layers, input first.
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// A freshly initialised MLP of the given widths on `device`.
    pub fn init(sizes: &[usize], device: &Device) -> Mlp {
        let layers = sizes
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Mlp { layers }
    }

    /// Builds an MLP from PyTorch-layout weights (`[out, in]`) and biases.
    pub fn from_weights(layers: &[(Vec<f32>, Vec<f32>)], sizes: &[usize], device: &Device) -> Mlp {
        let layers = layers
            .iter()
            .zip(sizes.windows(2))
            .map(|((w, b), io)| {
                let (inp, out) = (io[0], io[1]);
                // Burn's Linear stores [in, out]: transpose the PyTorch [out, in] matrix here,
                // into contiguous memory, so the loaded network computes bit for bit the same.
                let mut t = vec![0.0f32; w.len()];
                for o in 0..out {
                    for i in 0..inp {
                        t[i * out + o] = w[o * inp + i];
                    }
                }
                let weight = Tensor::<2>::from_data(TensorData::new(t, [inp, out]), device);
                let bias = Tensor::<1>::from_data(TensorData::new(b.clone(), [out]), device);
                Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(bias)),
                }
            })
            .collect();
        Mlp { layers }
    }

    /// Forward pass: `[batch, in] → [batch, out]`, ReLU between layers, tanh at the end.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_with(x, false, true)
    }

    /// Forward pass as `architecture` says (hidden activation; tanh or raw output).
    pub fn forward_as(&self, x: Tensor<2>, architecture: &Architecture) -> Tensor<2> {
        self.forward_with(
            x,
            architecture.activation == "tanh",
            architecture.output == "tanh",
        )
    }

    /// Forward pass with tanh (else ReLU) hidden layers and an optional tanh output.
    pub fn forward_with(
        &self,
        mut x: Tensor<2>,
        tanh_hidden: bool,
        tanh_output: bool,
    ) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            x = match Activation::of_layer(i < last, tanh_hidden, tanh_output) {
                Activation::Tanh => tanh(x),
                Activation::Relu => relu(x),
                Activation::Identity => x,
            };
        }
        x
    }
}

/// Runs `init` on the CPU device right after seeding burn's random generator with `seed`,
/// holding a process-wide lock: the generator is global, so two runs initialising at once
/// (tests in parallel threads, two trainers) would otherwise draw from each other's stream.
pub fn seeded_init<T>(seed: u64, init: impl FnOnce(&Device) -> T) -> T {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let device = Device::flex();
    device.seed(seed);
    init(&device)
}

/// The activation after one layer of an MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Hyperbolic tangent.
    Tanh,
    /// max(0, x).
    Relu,
    /// None (raw outputs: logits, values).
    Identity,
}

impl Activation {
    /// Hidden layers use tanh or ReLU; the output layer tanh or nothing.
    pub fn of_layer(hidden: bool, tanh_hidden: bool, tanh_output: bool) -> Activation {
        match (hidden, tanh_hidden, tanh_output) {
            (true, true, _) | (false, _, true) => Activation::Tanh,
            (true, false, _) => Activation::Relu,
            (false, _, false) => Activation::Identity,
        }
    }
}

/// Normalises a batch of observations (row-major `[batch, dim]`) with the policy's statistics.
pub fn normalise(observations: &[f32], mean: &[f32], std: &[f32]) -> Vec<f32> {
    let dim = mean.len();
    observations
        .iter()
        .enumerate()
        .map(|(i, o)| (o - mean[i % dim]) / std[i % dim])
        .collect()
}
