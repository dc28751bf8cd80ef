//! What the policy-gradient algorithms share whatever their action distribution (PPO on
//! discrete and continuous tasks, GRPO and RLOO; [`crate::algos::categorical`] and
//! [`crate::algos::gaussian`] hold each distribution's own part): CleanRL's orthogonal
//! initialisation, the clipped surrogate's per-sample terms (Schulman et al. 2017, eq. 7), and
//! the greedy policy a trained actor becomes.

use crate::Mlp;
use crate::Policy;
use crate::nets::Network;
use crate::policy::{Architecture, Conditioning, PolicyInfo};
use burn::module::Param;
use burn::nn::{Initializer, Linear};
use burn::tensor::{Device, Tensor};

/// An MLP with orthogonal weights (gain √2 in hidden layers, `output_gain` in the last) and
/// zero biases, as CleanRL initialises its policy-gradient networks.
pub fn orthogonal_mlp(sizes: &[usize], output_gain: f64, device: &Device) -> Mlp {
    let last = sizes.len() - 2;
    let layers = sizes
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let gain = if i == last {
                output_gain
            } else {
                std::f64::consts::SQRT_2
            };
            let weight = Initializer::Orthogonal { gain }.init([w[0], w[1]], device);
            Linear {
                weight,
                bias: Some(Param::from_tensor(Tensor::zeros([w[1]], device))),
            }
        })
        .collect();
    Mlp { layers }
}

/// One sample's share of the clipped-surrogate loss.
#[derive(Debug, Clone, Copy)]
pub struct SurrogateTerms {
    /// max(−A·r, −A·clip(r, 1 ± ε)).
    pub loss: f32,
    /// Entropy of the current distribution.
    pub entropy: f32,
    /// (r − 1) − log r, the low-variance estimate of KL(old ‖ new).
    pub approx_kl: f32,
}

/// What one sample's clipped surrogate needs besides the policy's outputs and the action.
#[derive(Debug, Clone, Copy)]
pub struct Surrogate {
    /// Log-probability of the action when it was taken.
    pub old_logp: f32,
    /// Its advantage.
    pub advantage: f32,
    /// Clipping range ε of the probability ratio.
    pub clip: f32,
    /// Entropy bonus coefficient.
    pub entropy_coef: f32,
    /// Weight of this sample's gradient (1/minibatch for a mean).
    pub scale: f32,
}

impl Surrogate {
    /// The loss max(−A·r, −A·clip(r, 1 ± ε)) of a probability ratio r = exp(`log_ratio`), and
    /// its derivative with respect to the action's log-probability (0 where clipping wins).
    pub fn loss_and_slope(&self, log_ratio: f32) -> (f32, f32) {
        let ratio = log_ratio.exp();
        let (unclipped, clipped) = (
            -self.advantage * ratio,
            -self.advantage * ratio.clamp(1.0 - self.clip, 1.0 + self.clip),
        );
        (
            unclipped.max(clipped),
            if unclipped >= clipped {
                -self.advantage * ratio
            } else {
                0.0
            },
        )
    }
}

/// The architecture of a policy-gradient MLP actor of widths `sizes`: tanh hidden layers,
/// categorical output (PPO's Gaussian actors say "linear").
pub fn mlp_actor(sizes: &[usize]) -> Architecture {
    Architecture {
        activation: "tanh".into(),
        output: "categorical".into(),
        ..Architecture::mlp(sizes)
    }
}

/// The trained actor `net` of `architecture` as a greedy (argmax) policy for `task_id`, with
/// `training` provenance (single-task until the caller says otherwise).
pub fn greedy_policy(
    net: Network,
    architecture: Architecture,
    task_id: &str,
    training: serde_json::Value,
) -> Policy {
    let device = Device::flex();
    let obs_dim = architecture.sizes[0];
    let info = PolicyInfo {
        architecture,
        tasks: vec![task_id.to_string()],
        conditioning: Conditioning::None,
        obs_mean: vec![0.0; obs_dim],
        obs_std: vec![1.0; obs_dim],
        training,
        eval_success: None,
        eval_episodes: None,
    };
    Policy::new(net, info, device)
}
