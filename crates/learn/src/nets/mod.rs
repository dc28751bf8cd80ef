//! The networks. [`Network`] is every architecture a policy can have, written once as a burn
//! module: it trains through burn's autodiff ([`autodiff::BurnNet`]), saves and loads
//! ([`crate::weights`]), plays in the player and runs on WebGPU. The plain MLP also has a
//! hand-fused CPU fast path ([`fused`], checked equal to burn's autodiff in its tests), which
//! the algorithms use where it measurably wins (small MLPs); [`TrainNet`] is the one interface
//! an algorithm trains either through.
//!
//! Architectures (the names in [`ArchitectureKind`], the one place they are registered):
//! the MLP ([`mlp`]; with the task as a one-hot input or one head per task), FiLM ([`film`]),
//! a task-routed mixture of experts ([`moe`]), soft modularisation ([`soft_modular`]), CARE
//! ([`care`]), PaCo ([`paco`]) and MOORE ([`moore`]). The task-aware ones read the task's
//! one-hot code from the last `tasks` inputs.

pub mod autodiff;
pub mod care;
pub mod film;
pub mod fused;
pub mod heads;
pub mod mlp;
pub mod moe;
pub mod moore;
pub mod paco;
pub mod params;
pub mod soft_modular;

pub use autodiff::{BurnNet, NetTrace, TrainNet};

use crate::policy::Architecture;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// The registered architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchitectureKind {
    /// A multilayer perceptron (one-hot task input or one head per task).
    Mlp,
    /// FiLM: hidden layers modulated by the task.
    Film,
    /// A mixture of experts with a task-conditioned top-k router.
    Moe,
    /// Soft modularisation: modules routed per sample by the task and state.
    SoftModular,
    /// CARE: encoders mixed by attention from a task context.
    Care,
    /// PaCo: task-specific compositions of shared parameter sets.
    Paco,
    /// MOORE: orthogonalised expert representations, task-weighted.
    Moore,
}

impl ArchitectureKind {
    /// Every architecture, in the order menus list them.
    pub const ALL: [ArchitectureKind; 7] = [
        ArchitectureKind::Mlp,
        ArchitectureKind::Film,
        ArchitectureKind::Moe,
        ArchitectureKind::SoftModular,
        ArchitectureKind::Care,
        ArchitectureKind::Paco,
        ArchitectureKind::Moore,
    ];

    /// The name in settings, weights metadata and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ArchitectureKind::Mlp => "mlp",
            ArchitectureKind::Film => "film",
            ArchitectureKind::Moe => "moe",
            ArchitectureKind::SoftModular => "soft-modular",
            ArchitectureKind::Care => "care",
            ArchitectureKind::Paco => "paco",
            ArchitectureKind::Moore => "moore",
        }
    }

    /// The architecture called `name`, or an error listing the valid names.
    pub fn parse(name: &str) -> Result<ArchitectureKind, String> {
        ArchitectureKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = ArchitectureKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown architecture \"{name}\"; the architectures are {}",
                    names.join(", ")
                )
            })
    }

    /// Whether it reads the task as a separate input (all but the MLP).
    pub fn task_aware(self) -> bool {
        self != ArchitectureKind::Mlp
    }

    /// Experts (MoE, MOORE), encoders (CARE), parameter sets (PaCo) or modules per layer
    /// (soft modularisation) when the settings do not say.
    pub fn default_experts(self) -> Option<usize> {
        match self {
            ArchitectureKind::Mlp | ArchitectureKind::Film => None,
            ArchitectureKind::SoftModular => Some(2),
            _ => Some(4),
        }
    }
}

impl std::fmt::Display for ArchitectureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an architecture's forward pass reads: the (normalised) observation, the task's one-hot
/// code, and the hidden activation.
pub struct Parts {
    /// `[batch, obs]`.
    pub obs: Tensor<2>,
    /// `[batch, tasks]` one-hot.
    pub task: Tensor<2>,
    /// tanh (else ReLU) hidden layers.
    pub tanh_hidden: bool,
}

/// The hidden activation.
pub fn hidden(x: Tensor<2>, tanh_hidden: bool) -> Tensor<2> {
    if tanh_hidden { tanh(x) } else { relu(x) }
}

/// `Σₖ weights[:, k] ⊙ termsₖ`: each row's terms mixed by that row's weights (`[batch, K]`,
/// one column per term, in order); the mixtures of experts, encoders and parameter sets.
pub fn weighted_sum(terms: impl Iterator<Item = Tensor<2>>, weights: &Tensor<2>) -> Tensor<2> {
    terms
        .enumerate()
        .map(|(k, term)| term * weights.clone().narrow(1, k, 1))
        .reduce(|sum, term| sum + term)
        .expect("a mixture has at least one term")
}

/// A policy network of any registered architecture.
#[derive(Module, Debug)]
pub enum Network {
    /// [`mlp::Mlp`].
    Mlp(mlp::Mlp),
    /// [`film::Film`].
    Film(film::Film),
    /// [`moe::Moe`].
    Moe(moe::Moe),
    /// [`soft_modular::SoftModular`].
    SoftModular(soft_modular::SoftModular),
    /// [`care::Care`].
    Care(care::Care),
    /// [`paco::Paco`].
    Paco(paco::Paco),
    /// [`moore::Moore`].
    Moore(moore::Moore),
}

impl Network {
    /// A freshly initialised network of `architecture` (checked) taking `tasks` task inputs.
    pub fn init(
        architecture: &Architecture,
        tasks: usize,
        device: &Device,
    ) -> Result<Network, String> {
        architecture.check()?;
        let kind = architecture.kind()?;
        let sizes = &architecture.sizes;
        if !kind.task_aware() {
            return Ok(Network::Mlp(mlp::Mlp::init(sizes, device)));
        }
        let mut obs_sizes = sizes.clone();
        obs_sizes[0] = sizes[0].checked_sub(tasks).filter(|&d| d > 0 && tasks > 0).ok_or_else(|| {
            format!("architecture {kind} takes {} inputs; it needs the observation and {tasks} task inputs", sizes[0])
        })?;
        let experts = architecture.experts.or(kind.default_experts()).unwrap_or(1);
        Ok(match kind {
            ArchitectureKind::Mlp => unreachable!("handled above"),
            ArchitectureKind::Film => Network::Film(film::Film::init(&obs_sizes, tasks, device)),
            ArchitectureKind::Moe => Network::Moe(moe::Moe::init(
                &obs_sizes,
                tasks,
                experts,
                architecture.top_k.unwrap_or(2).min(experts),
                device,
            )),
            ArchitectureKind::SoftModular => Network::SoftModular(soft_modular::SoftModular::init(
                &obs_sizes, tasks, experts, device,
            )),
            ArchitectureKind::Care => {
                Network::Care(care::Care::init(&obs_sizes, tasks, experts, device))
            }
            ArchitectureKind::Paco => {
                Network::Paco(paco::Paco::init(&obs_sizes, tasks, experts, device))
            }
            ArchitectureKind::Moore => {
                Network::Moore(moore::Moore::init(&obs_sizes, tasks, experts, device))
            }
        })
    }

    /// Outputs for a batch of network inputs (`[batch, obs + tasks]`: the task-aware
    /// architectures split off the last `tasks` columns), with `architecture`'s activations.
    pub fn forward(&self, x: Tensor<2>, architecture: &Architecture, tasks: usize) -> Tensor<2> {
        self.forward_with_aux(x, architecture, tasks).0
    }

    /// [`Network::forward`] and the architecture's auxiliary loss, if it has one (the
    /// mixture's load balancing).
    pub fn forward_with_aux(
        &self,
        x: Tensor<2>,
        architecture: &Architecture,
        tasks: usize,
    ) -> (Tensor<2>, Option<Tensor<1>>) {
        let tanh_hidden = architecture.activation == "tanh";
        let tanh_output = architecture.output == "tanh";
        if let Network::Mlp(mlp) = self {
            return (mlp.forward_with(x, tanh_hidden, tanh_output), None);
        }
        let [_, width] = x.dims();
        let obs_width = width.saturating_sub(tasks);
        let parts = Parts {
            obs: x.clone().narrow(1, 0, obs_width),
            task: x.narrow(1, obs_width, tasks),
            tanh_hidden,
        };
        let (y, aux) = match self {
            Network::Mlp(_) => unreachable!("handled above"),
            Network::Film(n) => (n.forward(parts), None),
            Network::Moe(n) => {
                let (y, balance) = n.forward(parts);
                (y, Some(balance))
            }
            Network::SoftModular(n) => (n.forward(parts), None),
            Network::Care(n) => (n.forward(parts), None),
            Network::Paco(n) => (n.forward(parts), None),
            Network::Moore(n) => (n.forward(parts), None),
        };
        (if tanh_output { tanh(y) } else { y }, aux)
    }

    /// The network with only its first `n` outputs (the output layer's other units dropped):
    /// e.g. a SAC actor's means without its log standard deviations. For inference (the
    /// parameters are new).
    pub fn keep_first_outputs(self, n: usize) -> Network {
        fn keep(linear: Linear, n: usize) -> Linear {
            let weight = linear.weight.val().narrow(1, 0, n);
            let bias = linear
                .bias
                .map(|b| Param::from_tensor(b.val().narrow(0, 0, n)));
            Linear {
                weight: Param::from_tensor(weight),
                bias,
            }
        }
        fn keep_last(mut layers: Vec<Linear>, n: usize) -> Vec<Linear> {
            if let Some(last) = layers.pop() {
                layers.push(keep(last, n));
            }
            layers
        }
        match self {
            Network::Mlp(m) => Network::Mlp(mlp::Mlp {
                layers: keep_last(m.layers, n),
            }),
            Network::Film(f) => Network::Film(film::Film {
                layers: keep_last(f.layers, n),
                film: f.film,
            }),
            Network::Moe(m) => Network::Moe(moe::Moe {
                head: keep(m.head, n),
                ..m
            }),
            Network::SoftModular(m) => Network::SoftModular(soft_modular::SoftModular {
                head: keep(m.head, n),
                ..m
            }),
            Network::Care(c) => Network::Care(care::Care {
                trunk: keep_last(c.trunk, n),
                ..c
            }),
            Network::Paco(mut p) => {
                if let Some(last) = p.layers.pop() {
                    p.layers.push(paco::CompositionalLinear {
                        weight: Param::from_tensor(last.weight.val().narrow(2, 0, n)),
                        bias: Param::from_tensor(last.bias.val().narrow(1, 0, n)),
                    });
                }
                Network::Paco(p)
            }
            Network::Moore(m) => Network::Moore(moore::Moore {
                head: keep(m.head, n),
                ..m
            }),
        }
    }

    /// The plain MLP, if this is one (the fused fast path converts only these).
    pub fn as_mlp(&self) -> Option<&mlp::Mlp> {
        match self {
            Network::Mlp(m) => Some(m),
            _ => None,
        }
    }
}
