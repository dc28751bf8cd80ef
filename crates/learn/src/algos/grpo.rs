//! Group-relative policy optimisation for discrete tasks, in one file: no critic. Each
//! iteration picks a few start states (seeds) and plays K whole episodes from each; an
//! episode's advantage is its return compared with the other episodes of its group:
//! - **GRPO** (Shao et al., 2024): (return − group mean) / group standard deviation;
//! - **RLOO** (Ahmadian et al., 2024, "REINFORCE leave-one-out"): return − the mean of the
//!   other K − 1 returns (then divided by the batch's standard deviation, so both variants
//!   share a learning rate).
//!
//! Every step of an episode gets its episode's advantage, and the actor is updated with
//! PPO's clipped surrogate and entropy bonus over a few epochs of minibatches (global
//! gradient-norm clipping, Adam). There is no KL penalty to a reference policy: learning
//! starts from scratch here, not from a pretrained model. Same actor network, sampling and
//! records ([`crate::Record`], value loss 0) as [`crate::algos::ppo`], so the two compare directly.

use crate::algos::Algorithm;
use crate::algos::categorical;
use crate::algos::policy_gradient::{self, orthogonal_mlp};
use crate::nets::fused::{Adam, FastMlp, clip_global_norm};
use crate::nets::mlp::seeded_init;
use crate::record::{EpisodeWindow, Record};
use crate::{IterativeRun, Policy, SettingsCheck};
use polyskill_sim::Env;
use polyskill_sim::task::{ActionSpace, Task};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// How an episode's return becomes its advantage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// Group mean, divided by the group's standard deviation.
    Grpo,
    /// Mean of the group's other episodes (leave-one-out).
    Rloo,
}

/// Settings of a group-relative run.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpoConfig {
    /// GRPO or RLOO advantages.
    pub baseline: Baseline,
    /// Hidden widths of the actor.
    pub hidden: Vec<usize>,
    /// Start states (groups) per iteration.
    pub groups: usize,
    /// Episodes per group (K), all from the group's start state.
    pub group_size: usize,
    /// Environment steps in all (the run may stop earlier).
    pub total_steps: u64,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Passes over each iteration's episodes.
    pub epochs: usize,
    /// Steps per minibatch.
    pub minibatch: usize,
    /// Surrogate clipping range.
    pub clip: f32,
    /// Entropy bonus coefficient.
    pub entropy_coef: f32,
    /// Largest global gradient norm.
    pub max_grad_norm: f32,
    /// Seed for initialisation, start states and sampling.
    pub seed: u64,
}

impl Default for GrpoConfig {
    fn default() -> Self {
        GrpoConfig {
            baseline: Baseline::Grpo,
            hidden: vec![64, 64],
            groups: 2,
            group_size: 8,
            total_steps: 500_000,
            learning_rate: 2.5e-3,
            epochs: 4,
            minibatch: 512,
            clip: 0.2,
            entropy_coef: 0.01,
            max_grad_norm: 0.5,
            seed: 1,
        }
    }
}

impl GrpoConfig {
    /// Rejects settings out of range, naming each field.
    pub fn check(&self) -> Result<(), String> {
        let mut check = SettingsCheck::default();
        check.orthogonal_widths(&self.hidden);
        let mut need = |ok: bool, field: &str, rule: &str| check.need(ok, field, rule);
        need(
            (1..=1024).contains(&self.groups),
            "groups",
            "must be in 1..=1024",
        );
        need(
            (2..=1024).contains(&self.group_size),
            "group_size",
            "must be in 2..=1024 (a group needs others to compare with)",
        );
        need(self.total_steps >= 1, "total_steps", "must be ≥ 1");
        need(
            self.learning_rate > 0.0 && self.learning_rate <= 1.0,
            "learning_rate",
            "must be in (0, 1]",
        );
        need(
            (1..=100).contains(&self.epochs),
            "epochs",
            "must be in 1..=100",
        );
        need(
            (1..=1 << 20).contains(&self.minibatch),
            "minibatch",
            "must be in 1..=1048576",
        );
        need(
            self.clip > 0.0 && self.clip < 1.0,
            "clip",
            "must be in (0, 1)",
        );
        need(
            self.entropy_coef.is_finite() && self.entropy_coef >= 0.0,
            "entropy_coef",
            "must be ≥ 0",
        );
        need(
            self.max_grad_norm.is_finite() && self.max_grad_norm > 0.0,
            "max_grad_norm",
            "must be > 0",
        );
        check.finish("GRPO settings")
    }
}

/// The advantages of one group's returns.
pub fn group_advantages(returns: &[f32], baseline: Baseline) -> Vec<f32> {
    let k = returns.len() as f32;
    let sum: f32 = returns.iter().sum();
    let mean = sum / k;
    match baseline {
        Baseline::Grpo => {
            let std = (returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f32>() / k).sqrt();
            returns.iter().map(|r| (r - mean) / (std + 1e-6)).collect()
        }
        Baseline::Rloo => returns.iter().map(|r| r - (sum - r) / (k - 1.0)).collect(),
    }
}

/// A group-relative run that advances one iteration per call.
pub struct GrpoRun {
    config: GrpoConfig,
    task: Task,
    n_actions: usize,
    actor: FastMlp,
    adam: Adam,
    rng: ChaCha8Rng,
    window: EpisodeWindow,
    env_steps: u64,
    iteration: u32,
}

impl GrpoRun {
    /// Sets up the actor and optimiser for a discrete `task`.
    pub fn new(task: &Task, config: &GrpoConfig) -> Result<GrpoRun, String> {
        config.check()?;
        let ActionSpace::Discrete { choices } = task.action_space() else {
            return Err(Algorithm::Grpo.refuses(task).unwrap_or_default());
        };
        let sizes = [
            vec![task.observation.size],
            config.hidden.clone(),
            vec![choices.len()],
        ]
        .concat();
        let actor = seeded_init(config.seed, |device| {
            FastMlp::from_mlp(&orthogonal_mlp(&sizes, 0.01, device))
        })?;
        let adam = Adam::new(&actor.params, 1e-5);
        Ok(GrpoRun {
            config: config.clone(),
            task: task.clone(),
            n_actions: choices.len(),
            actor,
            adam,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            window: EpisodeWindow::new(1),
            env_steps: 0,
            iteration: 0,
        })
    }
}

impl IterativeRun for GrpoRun {
    /// Plays one iteration's groups and updates the actor; `None` once `total_steps` are spent.
    fn iterate(&mut self) -> Result<Option<Record>, String> {
        if self.env_steps >= self.config.total_steps {
            return Ok(None);
        }
        self.iteration += 1;
        let (config, n_actions, obs_dim) =
            (&self.config, self.n_actions, self.task.observation.size);
        // Rollout: every episode of every group in lockstep, one forward pass per step.
        let count = config.groups * config.group_size;
        let mut envs: Vec<Env> = (0..count).map(|_| Env::new(self.task.clone())).collect();
        for g in 0..config.groups {
            let seed = self.rng.random::<u64>() >> 1;
            envs[g * config.group_size..(g + 1) * config.group_size]
                .iter_mut()
                .for_each(|e| {
                    e.reset(seed);
                });
        }
        let (mut obs, mut actions, mut logps, mut owner) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut returns = vec![0.0f32; count];
        let mut live: Vec<usize> = (0..count).collect();
        while !live.is_empty() {
            let x: Vec<f32> = live
                .iter()
                .flat_map(|&i| envs[i].observation().to_vec())
                .collect();
            let logits = self.actor.forward(&x, true, false);
            let mut still = Vec::with_capacity(live.len());
            for (k, &i) in live.iter().enumerate() {
                let (a, logp) =
                    categorical::sample(&logits[k * n_actions..(k + 1) * n_actions], &mut self.rng);
                obs.extend_from_slice(&x[k * obs_dim..(k + 1) * obs_dim]);
                actions.push(a);
                logps.push(logp);
                owner.push(i);
                let step = envs[i].step(&[a as f32]).map_err(|e| e.to_string())?;
                returns[i] += step.reward;
                self.env_steps += 1;
                if step.terminated || step.truncated {
                    self.window.push(0, returns[i], envs[i].episode_success());
                } else {
                    still.push(i);
                }
            }
            live = still;
        }
        // Advantages: each episode against its group, scaled by the batch's spread.
        let mut episode_adv: Vec<f32> = returns
            .chunks_exact(config.group_size)
            .flat_map(|g| group_advantages(g, config.baseline))
            .collect();
        if config.baseline == Baseline::Rloo {
            let std = (episode_adv.iter().map(|a| a * a).sum::<f32>() / count as f32).sqrt();
            episode_adv.iter_mut().for_each(|a| *a /= std + 1e-6);
        }
        // Update: PPO's clipped surrogate over shuffled minibatches of steps.
        let n = actions.len();
        let lr = config.learning_rate as f32;
        let (mut policy_loss, mut entropy, mut approx_kl) = (0.0, 0.0, 0.0);
        let mut order: Vec<usize> = (0..n).collect();
        for _ in 0..config.epochs {
            for i in (1..n).rev() {
                order.swap(i, self.rng.random_range(0..=i));
            }
            for chunk in order.chunks(config.minibatch) {
                let m = chunk.len();
                let x: Vec<f32> = chunk
                    .iter()
                    .flat_map(|&i| obs[i * obs_dim..(i + 1) * obs_dim].iter().copied())
                    .collect();
                let trace = self.actor.trace(&x, true, false);
                let logits = trace.output();
                let mut g_logits = vec![0.0f32; m * n_actions];
                let (mut pl, mut ent, mut kl) = (0.0f32, 0.0f32, 0.0f32);
                for (k, &i) in chunk.iter().enumerate() {
                    let s = categorical::Surrogate {
                        old_logp: logps[i],
                        advantage: episode_adv[owner[i]],
                        clip: config.clip,
                        entropy_coef: config.entropy_coef,
                        scale: 1.0 / m as f32,
                    };
                    let row = &logits[k * n_actions..(k + 1) * n_actions];
                    let terms = categorical::clipped_surrogate(
                        row,
                        actions[i],
                        &s,
                        &mut g_logits[k * n_actions..(k + 1) * n_actions],
                    );
                    pl += terms.loss;
                    ent += terms.entropy;
                    kl += terms.approx_kl;
                }
                (policy_loss, entropy, approx_kl) = (pl / m as f32, ent / m as f32, kl / m as f32);
                if !policy_loss.is_finite() {
                    return Err(format!(
                        "GRPO diverged at iteration {}: loss is not finite (learning_rate {} may be too high)",
                        self.iteration, config.learning_rate
                    ));
                }
                let mut grads = self.actor.backward(&trace, &g_logits, true, false);
                clip_global_norm(&mut grads, config.max_grad_norm);
                let mut params: Vec<&mut Vec<f32>> = self.actor.params.iter_mut().collect();
                self.adam.step(&mut params, &grads, lr);
            }
        }
        let (mean_return, success_rate) = self.window.recent();
        Ok(Some(Record {
            iteration: self.iteration,
            env_steps: self.env_steps,
            episodes: self.window.episodes(),
            mean_return,
            success_rate,
            policy_loss,
            value_loss: 0.0,
            entropy,
            approx_kl,
            learning_rate: config.learning_rate,
            alpha: None,
            tasks: Vec::new(),
            conflict: None,
            critic_conflict: None,
        }))
    }

    /// The greedy (argmax) policy as it stands.
    fn policy(&self) -> Policy {
        let algorithm = match self.config.baseline {
            Baseline::Grpo => "grpo",
            Baseline::Rloo => "rloo",
        };
        let training = crate::policy::training_metadata(
            algorithm,
            &self.config,
            serde_json::json!({ "env_steps": self.env_steps }),
        );
        let device = burn::tensor::Device::flex();
        let net = crate::nets::Network::Mlp(self.actor.to_mlp(&device));
        policy_gradient::greedy_policy(
            net,
            policy_gradient::mlp_actor(&self.actor.sizes),
            &self.task.id,
            training,
        )
    }
}

/// Trains a categorical policy with group-relative advantages; `on_iteration` gets each
/// iteration's metrics and returns whether to go on. Returns the greedy policy.
pub fn train(
    task: &Task,
    config: &GrpoConfig,
    on_iteration: impl FnMut(&Record) -> bool,
) -> Result<Policy, String> {
    crate::run_to_end(GrpoRun::new(task, config)?, on_iteration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_advantages_follow_their_definitions() {
        let r = [1.0, 2.0, 3.0, 6.0];
        // Mean 3, population std √3.5.
        let g = group_advantages(&r, Baseline::Grpo);
        assert!(
            (g[3] - 3.0 / 3.5f32.sqrt()).abs() < 1e-5 && (g[2]).abs() < 1e-5,
            "{g:?}"
        );
        // Leave-one-out: 6 − (1 + 2 + 3) / 3 = 4; 1 − (2 + 3 + 6) / 3 = −8/3.
        let l = group_advantages(&r, Baseline::Rloo);
        assert!(
            (l[3] - 4.0).abs() < 1e-5 && (l[0] + 8.0 / 3.0).abs() < 1e-5,
            "{l:?}"
        );
        // Equal returns teach nothing.
        assert!(
            group_advantages(&[5.0; 4], Baseline::Grpo)
                .iter()
                .all(|a| a.abs() < 1e-3)
        );
    }
}
