//! Proximal Policy Optimisation (Schulman et al., 2017), in one file the way CleanRL writes
//! it: a categorical actor (discrete tasks) or a diagonal Gaussian one with running
//! observation and reward normalisation (continuous tasks), a value critic (separate MLPs,
//! tanh hidden layers, orthogonal initialisation), rollouts from a `VecEnv`, GAE,
//! advantage normalisation, the clipped surrogate, a clipped value loss, an entropy bonus,
//! global gradient-norm clipping and a linearly annealed learning rate.
//!
//! The networks are small (4→64→64→2), so they are trained with the hand-fused CPU MLP of
//! [`crate::nets::fused`] (the loss gradient is written out below) rather than burn's autodiff,
//! whose per-op overhead made each minibatch update ~3 ms; the result is a burn [`Mlp`].
//!
//! Training reports one [`Record`] per rollout + update; the caller may stop early
//! (e.g. once the return target is met) by returning `false`.

use crate::Conditioning;
use crate::algos::categorical;
use crate::algos::gaussian::{self, RewardScaler, RunningStats};
use crate::algos::policy_gradient::{self, orthogonal_mlp};
use crate::multitask::{CombinerConfig, MultiTaskStep, gather_rows, positive_losses, task_sam};
use crate::nets::fused::{Adam, FastMlp, clip_global_norm};
use crate::nets::mlp::seeded_init;
use crate::nets::{ArchitectureKind, BurnNet, TrainNet};
use crate::policy::Architecture;
use crate::policy::append_one_hot;
use crate::record::{EpisodeWindow, Record};
use crate::{IterativeRun, Policy, SettingsCheck};
use polyskill_sim::VecEnv;
use polyskill_sim::task::{ActionSpace, Task};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// PPO hyperparameters. Defaults are CleanRL's `ppo.py` for CartPole except the learning
/// rate: 2.5e-3 instead of 2.5e-4 reaches cart-pole's 475 in 2–5× fewer steps here (seeds
/// 1–6: 16k–74k steps instead of 96k–148k).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PpoConfig {
    /// Hidden widths of the actor and of the critic.
    pub hidden: Vec<usize>,
    /// Parallel environments.
    pub num_envs: usize,
    /// Steps per environment per rollout.
    pub rollout_steps: usize,
    /// Environment steps in all (the run may stop earlier).
    pub total_steps: u64,
    /// Adam learning rate (at the start, when annealed).
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over `total_steps`.
    pub anneal_lr: bool,
    /// Discount factor.
    pub gamma: f32,
    /// GAE λ.
    pub gae_lambda: f32,
    /// Minibatches per epoch.
    pub minibatches: usize,
    /// Passes over each rollout.
    pub epochs: usize,
    /// Surrogate (and value) clipping range.
    pub clip: f32,
    /// Entropy bonus coefficient.
    pub entropy_coef: f32,
    /// Value loss coefficient.
    pub value_coef: f32,
    /// Largest global gradient norm.
    pub max_grad_norm: f32,
    /// Seed for initialisation, environments and sampling.
    pub seed: u64,
    /// The actor's architecture (several tasks for a task-aware one; the critic stays an MLP
    /// with the task one-hot).
    pub architecture: ArchitectureKind,
    /// Experts, encoders, parameter sets or modules per layer (the architecture's default).
    pub experts: Option<usize>,
    /// MoE: experts per row.
    pub top_k: Option<usize>,
    /// With several tasks: how the tasks' gradients become one update (each task's loss is the
    /// mean over its rows of the minibatch). `None`: the rows pooled into one loss.
    pub combiner: Option<CombinerConfig>,
    /// With a combiner: task-based flat regions' radius ρ ([`crate::multitask::task_sam`]):
    /// each task's gradient is taken at the weights moved by ρ along it before the combiner
    /// weighs them (one more forward and backward pass per task). `None`: plain gradients.
    pub task_sam: Option<f32>,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            hidden: vec![64, 64],
            num_envs: 4,
            rollout_steps: 128,
            total_steps: 500_000,
            learning_rate: 2.5e-3,
            anneal_lr: true,
            gamma: 0.99,
            gae_lambda: 0.95,
            minibatches: 4,
            epochs: 4,
            clip: 0.2,
            entropy_coef: 0.01,
            value_coef: 0.5,
            max_grad_norm: 0.5,
            seed: 0,
            architecture: ArchitectureKind::Mlp,
            experts: None,
            top_k: None,
            combiner: None,
            task_sam: None,
        }
    }
}

impl PpoConfig {
    /// Continuous control: CleanRL's `ppo_continuous_action.py` settings (2048 steps per
    /// rollout, here as 4 environments × 512, 32 minibatches, 10 epochs, no entropy bonus)
    /// except γ 0.95 and learning rate 1e-3 (CleanRL: 0.99, 3e-4), with which the pendulum
    /// swings up (−152 after 300k steps) where CleanRL's settings stayed near −1400 after 1M.
    pub fn continuous() -> PpoConfig {
        PpoConfig {
            num_envs: 4,
            rollout_steps: 512,
            total_steps: 1_000_000,
            learning_rate: 1e-3,
            gamma: 0.95,
            minibatches: 32,
            epochs: 10,
            entropy_coef: 0.0,
            ..PpoConfig::default()
        }
    }

    /// The defaults for `task`'s action space: [`PpoConfig::default`] for discrete choices,
    /// [`PpoConfig::continuous`] otherwise.
    pub fn for_task(task: &Task) -> PpoConfig {
        match task.action_space() {
            ActionSpace::Discrete { .. } => PpoConfig::default(),
            ActionSpace::Continuous { .. } => PpoConfig::continuous(),
        }
    }

    /// Rejects values out of range, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let mut check = SettingsCheck::default();
        check.orthogonal_widths(&self.hidden);
        check.task_sam(self.task_sam, self.combiner.is_some());
        let mut need = |ok: bool, field: &str, rule: &str| check.need(ok, field, rule);
        need(
            (1..=4096).contains(&self.num_envs),
            "num_envs",
            "must be in 1..=4096",
        );
        need(
            (1..=100_000).contains(&self.rollout_steps),
            "rollout_steps",
            "must be in 1..=100000",
        );
        need(
            self.total_steps >= (self.num_envs * self.rollout_steps) as u64,
            "total_steps",
            "must cover at least one rollout",
        );
        need(
            self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate < 1.0,
            "learning_rate",
            "must be in (0, 1)",
        );
        need(
            (0.0..=1.0).contains(&self.gamma),
            "gamma",
            "must be in [0, 1]",
        );
        need(
            (0.0..=1.0).contains(&self.gae_lambda),
            "gae_lambda",
            "must be in [0, 1]",
        );
        need(
            self.minibatches >= 1 && self.minibatches <= self.num_envs * self.rollout_steps,
            "minibatches",
            "must be in 1..=num_envs·rollout_steps",
        );
        need(
            (1..=100).contains(&self.epochs),
            "epochs",
            "must be in 1..=100",
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
            self.value_coef.is_finite() && self.value_coef >= 0.0,
            "value_coef",
            "must be ≥ 0",
        );
        need(
            self.max_grad_norm.is_finite() && self.max_grad_norm > 0.0,
            "max_grad_norm",
            "must be > 0",
        );
        if let Some(Err(e)) = self.combiner.as_ref().map(CombinerConfig::check) {
            check.need(false, "combiner", &e);
        }
        check.finish("PPO settings")
    }
}

/// A PPO run that advances one iteration (rollout + update) per call, so a caller (a Web
/// Worker, a UI) can watch, pause or stop between iterations.
pub struct PpoRun {
    config: PpoConfig,
    task_ids: Vec<String>,
    obs_dim: usize,
    /// Task one-hot inputs appended to the observation (0 for a single task).
    task_inputs: usize,
    head: Head,
    actor: TrainNet,
    /// The actor's shape (as saved with the policy).
    actor_architecture: Architecture,
    critic: FastMlp,
    adam: Adam,
    envs: VecEnv,
    rng: ChaCha8Rng,
    /// The latest raw observations of every environment.
    obs: Vec<f32>,
    /// Running observation statistics (continuous actions only).
    obs_stats: Option<RunningStats>,
    /// Running reward scale (continuous actions only).
    reward_scaler: Option<RewardScaler>,
    window: EpisodeWindow,
    /// The multi-task seam (several tasks with a combiner).
    multitask: Option<MultiTaskStep>,
    env_steps: u64,
    iteration: u64,
    iterations: u64,
}

impl PpoRun {
    /// Sets up networks, optimiser and environments: a categorical actor for a discrete
    /// `task`, a Gaussian one (with observation and reward normalisation) for a continuous one.
    pub fn new(task: &Task, config: &PpoConfig) -> Result<PpoRun, String> {
        PpoRun::multi_task(std::slice::from_ref(task), config)
    }

    /// Multi-task PPO: `num_envs` environments of each task in one `VecEnv`, one actor and one
    /// critic for all of them, each told its task by a one-hot code appended to the
    /// observation (one task: exactly [`PpoRun::new`]). The tasks must share their action space
    /// and observation size.
    pub fn multi_task(tasks: &[Task], config: &PpoConfig) -> Result<PpoRun, String> {
        config.check()?;
        let task = tasks.first().ok_or("PPO needs at least one task")?;
        let head = match task.action_space() {
            ActionSpace::Discrete { choices } => Head::Categorical {
                choices: choices.len(),
            },
            ActionSpace::Continuous { low, .. } => Head::Gaussian {
                log_std: vec![0.0; low.len()],
            },
        };
        for other in &tasks[1..] {
            let same = match (task.action_space(), other.action_space()) {
                (ActionSpace::Discrete { choices: a }, ActionSpace::Discrete { choices: b }) => {
                    a.len() == b.len()
                }
                (
                    ActionSpace::Continuous { low: a, .. },
                    ActionSpace::Continuous { low: b, .. },
                ) => a.len() == b.len(),
                _ => false,
            };
            if !same {
                return Err(format!(
                    "tasks {} and {} have different action spaces; one PPO network cannot act in both",
                    task.id, other.id
                ));
            }
        }
        let obs_dim = task.observation.size;
        let task_inputs = if tasks.len() > 1 { tasks.len() } else { 0 };
        let sizes = |out: usize| {
            [
                vec![obs_dim + task_inputs],
                config.hidden.clone(),
                vec![out],
            ]
            .concat()
        };
        // CleanRL: the actor's last layer starts small (0.01), so the first policy is near
        // uniform (categorical) or centred (Gaussian).
        let (actor, critic) = seeded_init(config.seed, |device| {
            let actor = FastMlp::from_mlp(&orthogonal_mlp(&sizes(head.outputs()), 0.01, device));
            (
                actor,
                FastMlp::from_mlp(&orthogonal_mlp(&sizes(1), 1.0, device)),
            )
        });
        let (actor, critic) = (actor?, critic?);
        let actor_architecture = Architecture {
            activation: "tanh".into(),
            output: match head {
                Head::Categorical { .. } => "categorical".into(),
                Head::Gaussian { .. } => "linear".into(),
            },
            experts: config.experts,
            top_k: config.top_k,
            ..Architecture::of(config.architecture, &sizes(head.outputs()))
        };
        // The plain MLP trains on the fused path (orthogonal initialisation, as CleanRL);
        // every other architecture through burn.
        let actor = match config.architecture {
            ArchitectureKind::Mlp => TrainNet::Fused {
                net: actor,
                tanh_hidden: true,
                tanh_output: false,
            },
            _ if task_inputs == 0 => {
                return Err(format!(
                    "architecture {} is for several tasks; PPO got one",
                    config.architecture
                ));
            }
            _ => TrainNet::Burn(BurnNet::init(
                &actor_architecture,
                task_inputs,
                config.seed,
            )?),
        };
        let mut params = [actor.params().to_vec(), critic.params.clone()].concat();
        if let Head::Gaussian { log_std } = &head {
            params.push(log_std.clone());
        }
        let adam = Adam::new(&params, 1e-5);
        let envs = VecEnv::new(
            tasks,
            &vec![config.num_envs; tasks.len()],
            config.seed * 1_000_003,
        )?;
        let (obs, n) = (envs.observations(), envs.num_envs());
        let continuous = matches!(head, Head::Gaussian { .. });
        Ok(PpoRun {
            config: config.clone(),
            task_ids: tasks.iter().map(|t| t.id.clone()).collect(),
            obs_dim,
            task_inputs,
            head,
            actor,
            actor_architecture,
            critic,
            adam,
            envs,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            obs,
            obs_stats: continuous.then(|| RunningStats::new(obs_dim)),
            reward_scaler: continuous.then(|| RewardScaler::new(n, config.gamma)),
            window: EpisodeWindow::new(tasks.len()),
            multitask: match &config.combiner {
                Some(combiner) if tasks.len() > 1 => {
                    Some(MultiTaskStep::new(combiner, tasks.len(), None)?)
                }
                _ => None,
            },
            env_steps: 0,
            iteration: 0,
            iterations: config.total_steps / (n * config.rollout_steps) as u64,
        })
    }
}

impl IterativeRun for PpoRun {
    /// Runs the next iteration and returns its metrics, or `None` once `total_steps` are spent.
    fn iterate(&mut self) -> Result<Option<Record>, String> {
        if self.iteration >= self.iterations {
            return Ok(None);
        }
        self.iteration += 1;
        let iteration = self.iteration;
        let PpoRun {
            config,
            obs_dim,
            task_inputs,
            head,
            actor,
            critic,
            adam,
            envs,
            rng,
            obs,
            obs_stats,
            reward_scaler,
            window,
            multitask,
            env_steps,
            task_ids,
            ..
        } = self;
        let (obs_dim, task_inputs, config) = (*obs_dim, *task_inputs, &*config);
        // The networks see the observation (normalised for continuous control) and the task.
        let in_dim = obs_dim + task_inputs;
        let env_tasks = envs.task_indices().to_vec();
        let with_task =
            |x: Vec<f32>| append_one_hot(x, obs_dim, task_inputs, env_tasks.iter().copied());
        let (outputs, action_dim) = (head.outputs(), head.action_dim());
        let (n, t) = (envs.num_envs(), config.rollout_steps);
        let batch = n * t;
        let minibatch = batch / config.minibatches;
        let lr = if config.anneal_lr {
            config.learning_rate * (1.0 - (iteration - 1) as f64 / self.iterations as f64)
        } else {
            config.learning_rate
        };
        // Rollout with the current networks.
        let (mut b_obs, mut b_actions, mut b_logp, mut b_values, mut b_rewards, mut b_dones) = (
            Vec::with_capacity(batch * in_dim),
            Vec::with_capacity(batch),
            Vec::with_capacity(batch),
            Vec::with_capacity(batch),
            Vec::with_capacity(batch),
            Vec::with_capacity(batch),
        );
        for _ in 0..t {
            let x = with_task(match obs_stats.as_mut() {
                Some(stats) => {
                    stats.update(obs);
                    stats.normalise(obs)
                }
                None => obs.clone(),
            });
            let out = actor.forward(&x)?;
            let values = critic.forward(&x, true, false);
            let mut actions = Vec::with_capacity(n * action_dim);
            for row in out.chunks_exact(outputs) {
                let logp = match &*head {
                    Head::Categorical { .. } => {
                        let (a, logp) = categorical::sample(row, rng);
                        actions.push(a as f32);
                        logp
                    }
                    Head::Gaussian { log_std } => {
                        let (a, logp) = gaussian::sample(row, log_std, rng);
                        actions.extend(a);
                        logp
                    }
                };
                b_logp.push(logp);
            }
            b_obs.extend_from_slice(&x);
            b_values.extend_from_slice(&values);
            let step = envs.step(&actions).map_err(|e| e.to_string())?;
            b_actions.extend_from_slice(&actions);
            let dones: Vec<bool> = step
                .terminated
                .iter()
                .zip(&step.truncated)
                .map(|(a, b)| *a || *b)
                .collect();
            match reward_scaler.as_mut() {
                Some(scaler) => b_rewards.extend(scaler.scale(&step.rewards, &dones)),
                None => b_rewards.extend_from_slice(&step.rewards),
            }
            // A truncated episode is treated as ended too (CleanRL does the same).
            b_dones.extend(dones);
            for (_, task, result) in &step.finished {
                window.push(*task, result.episode_return, result.success);
            }
            *obs = step.observations;
            *env_steps += n as u64;
        }
        // Generalised advantage estimation, bootstrapped from the value of the last observation.
        let last_x = with_task(match obs_stats.as_ref() {
            Some(stats) => stats.normalise(obs),
            None => obs.clone(),
        });
        let last_values = critic.forward(&last_x, true, false);
        let mut advantages = vec![0.0f32; batch];
        for e in 0..n {
            let mut gae = 0.0f32;
            for s in (0..t).rev() {
                let i = s * n + e;
                let next_value = if s + 1 < t {
                    b_values[i + n]
                } else {
                    last_values[e]
                };
                let live = if b_dones[i] { 0.0 } else { 1.0 };
                let delta = b_rewards[i] + config.gamma * next_value * live - b_values[i];
                gae = delta + config.gamma * config.gae_lambda * live * gae;
                advantages[i] = gae;
            }
        }
        let returns: Vec<f32> = advantages
            .iter()
            .zip(&b_values)
            .map(|(a, v)| a + v)
            .collect();

        // Update: epochs of shuffled minibatches.
        let (mut policy_loss, mut value_loss, mut entropy, mut approx_kl) = (0.0, 0.0, 0.0, 0.0);
        let mut last_task_loss = Vec::new();
        let mut order: Vec<usize> = (0..batch).collect();
        for _ in 0..config.epochs {
            for i in (1..batch).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            for chunk in order.chunks_exact(minibatch) {
                let m = chunk.len();
                let pick = |v: &[f32]| -> Vec<f32> { chunk.iter().map(|&i| v[i]).collect() };
                let mut adv = pick(&advantages);
                let mean = adv.iter().sum::<f32>() / m as f32;
                let std = (adv.iter().map(|a| (a - mean) * (a - mean)).sum::<f32>()
                    / (m.max(2) - 1) as f32)
                    .sqrt();
                for a in &mut adv {
                    *a = (*a - mean) / (std + 1e-8);
                }
                let x: Vec<f32> = chunk
                    .iter()
                    .flat_map(|&i| b_obs[i * in_dim..(i + 1) * in_dim].iter().copied())
                    .collect();
                let (actor_trace, critic_trace) = (actor.trace(&x)?, critic.trace(&x, true, false));
                let head_out = actor_trace.output().to_vec();
                let values = critic_trace.output();
                // The loss (clipped surrogate − entropy bonus + clipped value loss, each a mean
                // over the minibatch) and its gradient with respect to the actor's outputs (and
                // the Gaussian's log standard deviations) and the values.
                let (mut g_out, mut g_values) = (vec![0.0f32; m * outputs], vec![0.0f32; m]);
                // The log-std gradient and the loss are kept per task too (one entry for a
                // single task or a pooled update).
                let tasks = multitask.as_ref().map_or(1, |_| task_ids.len());
                let task_of = |i: usize| if tasks > 1 { env_tasks[i % n] } else { 0 };
                let mut g_log_std = vec![vec![0.0f32; action_dim]; tasks];
                let mut task_loss = vec![0.0f32; tasks];
                let (mut pl, mut vl, mut ent, mut kl) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
                let no_log_std: Vec<f32> = Vec::new();
                let log_std_now = match &*head {
                    Head::Gaussian { log_std } => log_std,
                    Head::Categorical { .. } => &no_log_std,
                };
                // One row's loss given the network's outputs for it (`row`, the value, the
                // log-stds): writes the gradient of the outputs into `g_row`, adds the log-stds'
                // to `g_ls`, returns the surrogate's terms, the clipped value loss and its
                // gradient. (The plain pass and task-SAM's shifted pass share it.)
                let row_loss = |k: usize,
                                row: &[f32],
                                value: f32,
                                log_std: &[f32],
                                g_row: &mut [f32],
                                g_ls: &mut [f32]| {
                    let i = chunk[k];
                    let s = categorical::Surrogate {
                        old_logp: b_logp[i],
                        advantage: adv[k],
                        clip: config.clip,
                        entropy_coef: config.entropy_coef,
                        scale: 1.0 / m as f32,
                    };
                    let terms = match &*head {
                        Head::Categorical { .. } => {
                            categorical::clipped_surrogate(row, b_actions[i] as usize, &s, g_row)
                        }
                        Head::Gaussian { .. } => {
                            let action = &b_actions[i * action_dim..(i + 1) * action_dim];
                            gaussian::clipped_surrogate(row, log_std, action, &s, g_row, g_ls)
                        }
                    };
                    let (old_v, ret) = (b_values[i], returns[i]);
                    let v_clipped = old_v + (value - old_v).clamp(-config.clip, config.clip);
                    let (lu, lc) = (
                        (value - ret) * (value - ret),
                        (v_clipped - ret) * (v_clipped - ret),
                    );
                    let g_value = if lu >= lc {
                        config.value_coef * (value - ret) / m as f32
                    } else {
                        0.0
                    };
                    (terms, 0.5 * lu.max(lc), g_value)
                };
                for (k, &i) in chunk.iter().enumerate() {
                    let row = &head_out[k * outputs..(k + 1) * outputs];
                    let g_row = &mut g_out[k * outputs..(k + 1) * outputs];
                    let (terms, value_loss_k, g_value) = row_loss(
                        k,
                        row,
                        values[k],
                        log_std_now,
                        g_row,
                        &mut g_log_std[task_of(i)],
                    );
                    pl += terms.loss;
                    ent += terms.entropy;
                    kl += terms.approx_kl;
                    vl += value_loss_k;
                    task_loss[task_of(i)] += terms.loss + config.value_coef * value_loss_k;
                    g_values[k] = g_value;
                }
                let mf = m as f32;
                (policy_loss, value_loss, entropy, approx_kl) =
                    (pl / mf, vl / mf, ent / mf, kl / mf);
                if !(policy_loss.is_finite() && value_loss.is_finite()) {
                    return Err(format!(
                        "PPO diverged at iteration {iteration}: loss is not finite (learning_rate {lr} may be too high)"
                    ));
                }
                let mut grads = match multitask.as_mut() {
                    // Each task's mean loss over its rows: its rows' gradients rescaled from
                    // the minibatch mean to the task's, backpropagated on those rows alone.
                    Some(step) => {
                        let mut per_task = Vec::with_capacity(tasks);
                        for t in 0..tasks {
                            let rows: Vec<usize> =
                                (0..m).filter(|&k| task_of(chunk[k]) == t).collect();
                            if rows.is_empty() {
                                task_loss[t] = f32::NAN;
                                per_task.push(None);
                                continue;
                            }
                            let rescale = m as f32 / rows.len() as f32;
                            task_loss[t] /= rows.len() as f32;
                            let xt = gather_rows(&x, in_dim, &rows);
                            let scaled = |g: &[f32], width: usize| -> Vec<f32> {
                                gather_rows(g, width, &rows)
                                    .iter()
                                    .map(|v| v * rescale)
                                    .collect()
                            };
                            let mut g =
                                actor.backward(actor.trace(&xt)?, &scaled(&g_out, outputs))?;
                            g.extend(critic.backward(
                                &critic.trace(&xt, true, false),
                                &scaled(&g_values, 1),
                                true,
                                false,
                            ));
                            if let Head::Gaussian { .. } = head {
                                g.push(g_log_std[t].iter().map(|v| v * rescale).collect());
                            }
                            // Task-based flat regions (multitask::task_sam): the task's
                            // gradient again, at θ + ρ gₜ/‖gₜ‖ (actor, critic and log-stds
                            // moved together), on the same rows and rollout data.
                            if let Some(shift) =
                                config.task_sam.and_then(|rho| task_sam::ascent(&g, rho))
                            {
                                let gaussian = matches!(head, Head::Gaussian { .. });
                                let actor_lists =
                                    g.len() - critic.params.len() - usize::from(gaussian);
                                let (actor_shift, rest) = shift.split_at(actor_lists);
                                let mut moved_critic = critic.clone();
                                for (p, d) in moved_critic.params.iter_mut().zip(rest) {
                                    p.iter_mut().zip(d).for_each(|(v, d)| *v += d);
                                }
                                let moved_log_std: Vec<f32> = match rest.get(critic.params.len()) {
                                    Some(d) if gaussian => {
                                        log_std_now.iter().zip(d).map(|(v, d)| v + d).collect()
                                    }
                                    _ => Vec::new(),
                                };
                                g = actor.at_shifted(actor_shift, |actor| {
                                    let out = actor.trace(&xt)?;
                                    let value_trace = moved_critic.trace(&xt, true, false);
                                    let (head_rows, vals) = (out.output(), value_trace.output());
                                    let mut g_out_t = vec![0.0f32; rows.len() * outputs];
                                    let mut g_values_t = vec![0.0f32; rows.len()];
                                    let mut g_ls_t = vec![0.0f32; action_dim];
                                    for (j, &k) in rows.iter().enumerate() {
                                        let span = j * outputs..(j + 1) * outputs;
                                        g_values_t[j] = row_loss(
                                            k,
                                            &head_rows[span.clone()],
                                            vals[j],
                                            &moved_log_std,
                                            &mut g_out_t[span],
                                            &mut g_ls_t,
                                        )
                                        .2;
                                    }
                                    let times = |v: Vec<f32>| -> Vec<f32> {
                                        v.into_iter().map(|x| x * rescale).collect()
                                    };
                                    let mut g = actor.backward(out, &times(g_out_t))?;
                                    g.extend(moved_critic.backward(
                                        &value_trace,
                                        &times(g_values_t),
                                        true,
                                        false,
                                    ));
                                    if gaussian {
                                        g.push(times(g_ls_t));
                                    }
                                    Ok(g)
                                })?;
                            }
                            per_task.push(Some(g));
                        }
                        // The surrogate can be negative: made positive for the methods that
                        // take logs and ratios of losses.
                        step.combine(&per_task, &positive_losses(&task_loss))?
                    }
                    None => {
                        let mut g = actor.backward(actor_trace, &g_out)?;
                        g.extend(critic.backward(&critic_trace, &g_values, true, false));
                        if let Head::Gaussian { .. } = head {
                            g.push(std::mem::take(&mut g_log_std[0]));
                        }
                        g
                    }
                };
                last_task_loss = task_loss;
                clip_global_norm(&mut grads, config.max_grad_norm);
                // One Adam over actor, critic and log-std, the actor's lists first.
                actor.update(|actor_params| {
                    let mut params: Vec<&mut Vec<f32>> =
                        actor_params.iter_mut().map(|p| &mut **p).collect();
                    params.extend(critic.params.iter_mut());
                    if let Head::Gaussian { log_std } = head {
                        params.push(log_std);
                    }
                    adam.step(&mut params, &grads, lr as f32);
                })?;
            }
        }
        let (mean_return, success_rate) = window.recent();
        let mut record = Record {
            iteration: iteration as u32,
            env_steps: *env_steps,
            episodes: window.episodes(),
            mean_return,
            success_rate,
            policy_loss,
            value_loss,
            entropy,
            approx_kl,
            learning_rate: lr,
            alpha: None,
            tasks: window.tasks(task_ids),
            conflict: multitask.as_mut().and_then(MultiTaskStep::take_conflict),
            critic_conflict: None,
        };
        if let Some(step) = multitask.as_ref() {
            for ((task, loss), weight) in record
                .tasks
                .iter_mut()
                .zip(&last_task_loss)
                .zip(step.last_weights())
            {
                task.loss = Some(*loss).filter(|l| l.is_finite());
                task.weight = Some(*weight);
            }
        }
        Ok(Some(record))
    }

    /// The policy as it stands, acting greedily: the most likely choice (categorical) or the
    /// Gaussian's mean, with the running observation statistics as its normalisation.
    fn policy(&self) -> Policy {
        let algorithm = if self.task_inputs > 0 {
            "mt-ppo"
        } else {
            "ppo"
        };
        let training = crate::policy::training_metadata(
            algorithm,
            &self.config,
            serde_json::json!({ "env_steps": self.env_steps }),
        );
        let mut policy = policy_gradient::greedy_policy(
            self.actor.network(&burn::tensor::Device::flex()),
            self.actor_architecture.clone(),
            &self.task_ids[0],
            training,
        );
        policy.info.obs_mean = vec![0.0; self.obs_dim];
        policy.info.obs_std = vec![1.0; self.obs_dim];
        if let Some(stats) = &self.obs_stats {
            policy.info.architecture.output = "linear".into();
            policy.info.obs_mean = stats.mean.iter().map(|m| *m as f32).collect();
            policy.info.obs_std = stats.std();
        }
        if self.task_inputs > 0 {
            policy.info.tasks = self.task_ids.clone();
            policy.info.conditioning = Conditioning::OneHot;
        }
        policy
    }
}

/// The actor's output distribution.
#[derive(Debug, Clone)]
enum Head {
    /// Logits of `choices` discrete actions.
    Categorical { choices: usize },
    /// Means of a diagonal Gaussian with learned, state-independent log standard deviations.
    Gaussian { log_std: Vec<f32> },
}

impl Head {
    /// Actor outputs per observation.
    fn outputs(&self) -> usize {
        match self {
            Head::Categorical { choices } => *choices,
            Head::Gaussian { log_std } => log_std.len(),
        }
    }

    /// Action values per step passed to the environment.
    fn action_dim(&self) -> usize {
        match self {
            Head::Categorical { .. } => 1,
            Head::Gaussian { log_std } => log_std.len(),
        }
    }
}

/// Trains a policy with PPO (categorical for a discrete task, Gaussian for a continuous one).
/// `on_iteration` receives each iteration's metrics and returns whether to go on. Returns the
/// greedy policy (argmax, or the Gaussian's mean).
pub fn train(
    task: &Task,
    config: &PpoConfig,
    on_iteration: impl FnMut(&Record) -> bool,
) -> Result<Policy, String> {
    crate::run_to_end(PpoRun::new(task, config)?, on_iteration)
}
