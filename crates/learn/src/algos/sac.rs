//! Soft Actor-Critic (Haarnoja et al., 2018) with automatic entropy tuning, in one file the way
//! CleanRL's `sac_continuous_action.py` lays it out, and its multi-task form, MT-SAC (Meta-World's
//! baseline; Yu et al., 2019): one network for every task with the task's one-hot code appended
//! to the observation, and one entropy coefficient per task. Its multi-head form (MT-MH-SAC,
//! [`SacConfig::conditioning`]): a shared trunk with one output head per task in the actor
//! and in each critic ([`crate::nets::heads`]).
//!
//! - Actor: ReLU MLP giving a mean and a log standard deviation per action (the latter squashed
//!   into [−5, 2]); actions are `tanh(mean + σ·ε)`, so they stay in [−1, 1].
//! - Critics: twin Q networks on (observation, action) with Polyak-averaged targets; the target
//!   is `r + γ·(1 − terminated)·(min Q' − α·log π)` at the next observation (an episode cut by the
//!   time limit still bootstraps from its last observation). With `n_step` > 1 the stored
//!   transition spans up to n steps: `r₀ + γr₁ + … + γⁿ⁻¹rₙ₋₁ + γⁿ·(min Q' − α·log π)` at the
//!   observation n steps on (fewer at an episode's end), without off-policy correction, as in
//!   Rainbow and DrQ-v2.
//! - Entropy: `log α` per task is tuned towards a target entropy, −(action size) unless set.
//!
//! The critics are hand-fused CPU MLPs ([`crate::nets::fused`]); the actor is any
//! architecture ([`SacConfig::architecture`]: the fused MLP by default, the task-aware ones
//! through burn). The actor's loss reaches it through the critics' input gradients (the
//! reparameterisation trick), written out below. With a combiner ([`SacConfig::combiner`])
//! every critic and actor update forms each task's loss on its own rows of the minibatch and
//! goes through the multi-task seam (PCGrad, CAGrad, FAMO, … as in the MT10 experiments of
//! those papers); α stays per task. One [`IterativeRun::iterate`] call runs
//! `steps_per_iteration` environment steps.

use crate::algos::Algorithm;
use crate::algos::gaussian::standard_normal;
use crate::multitask::{
    CombinerConfig, MultiTaskStep, gather_rows, positive_losses, shared_except, task_sam,
};
use crate::nets::fused::{Adam, FastMlp, Trace};
use crate::nets::heads::TaskHeads;
use crate::nets::mlp::seeded_init;
use crate::nets::{ArchitectureKind, BurnNet, TrainNet};
use crate::policy::append_one_hot;
use crate::record::{EpisodeWindow, Record};
use crate::{Architecture, Conditioning, IterativeRun, Mlp, Policy, PolicyInfo, SettingsCheck};
use burn::tensor::Device;
use polyskill_sim::VecEnv;
use polyskill_sim::task::Task;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::VecDeque;

/// Bounds of the actor's log standard deviation (CleanRL's).
const LOG_STD_MIN: f32 = -5.0;
const LOG_STD_MAX: f32 = 2.0;
/// log √(2π).
const HALF_LOG_TAU: f32 = 0.918_938_5;

/// SAC hyperparameters. Defaults are CleanRL's `sac_continuous_action.py` (256×256 ReLU
/// networks, batch 256, γ 0.99, τ 0.005, learning rates 3e-4 actor / 1e-3 critics and α,
/// actor updated every 2nd step, 5000 random steps first) with a smaller replay buffer.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SacConfig {
    /// Hidden widths of the actor and of each critic.
    pub hidden: Vec<usize>,
    /// Environments per task, stepped together (one gradient update per joint step).
    pub envs_per_task: usize,
    /// Environment steps in all, over every environment.
    pub total_steps: u64,
    /// Transitions the replay buffer keeps (the oldest are overwritten).
    pub buffer_size: usize,
    /// Transitions per gradient update.
    pub batch: usize,
    /// Environment steps of uniformly random actions before learning starts.
    pub learning_starts: u64,
    /// Discount factor.
    pub gamma: f32,
    /// Environment steps summed into each stored transition (n-step returns; 1 is plain SAC).
    pub n_step: usize,
    /// Polyak factor of the target critics.
    pub tau: f32,
    /// Actor learning rate (Adam).
    pub policy_lr: f64,
    /// Critic and entropy-coefficient learning rate (Adam).
    pub q_lr: f64,
    /// The actor (and α) is updated this many times every this many critic updates.
    pub policy_frequency: u32,
    /// Entropy coefficient at the start.
    pub initial_alpha: f32,
    /// Tune α towards the target entropy (else keep `initial_alpha`).
    pub autotune: bool,
    /// The policy entropy α is tuned towards, in nats; `None`: −(action size), the SAC paper's
    /// choice. Lower values make the trained policy more nearly deterministic.
    pub target_entropy: Option<f32>,
    /// Environment steps per reported iteration.
    pub steps_per_iteration: u64,
    /// Seed for initialisation, environments, sampling and replay.
    pub seed: u64,
    /// The actor's architecture (a task-aware one needs several tasks).
    pub architecture: ArchitectureKind,
    /// Experts, encoders, parameter sets or modules per layer (the architecture's default).
    pub experts: Option<usize>,
    /// MoE: experts per row.
    pub top_k: Option<usize>,
    /// With several tasks: how the tasks' gradients become one critic and one actor update.
    /// `None`: the minibatch's rows pooled into one loss (MT-SAC).
    pub combiner: Option<CombinerConfig>,
    /// With a combiner: task-based flat regions' radius ρ ([`crate::multitask::task_sam`]):
    /// each task's critic and actor gradients are taken at the weights moved by ρ along them
    /// before the combiner weighs them. `None`: plain gradients.
    pub task_sam: Option<f32>,
    /// With several tasks: how the networks are told the task. One-hot (MT-SAC) appends the
    /// task's code to the observation; multi-head (MT-MH-SAC) gives the actor and each critic
    /// one output head per task on a shared trunk (an MLP only); none leaves them blind.
    pub conditioning: Conditioning,
    /// Gradient updates per joint environment step (the update-to-data ratio). A multi-task
    /// learner with one environment per task and `updates_per_step` = tasks makes as many
    /// updates per task-step as a single-task learner does.
    pub updates_per_step: u32,
}

impl Default for SacConfig {
    fn default() -> Self {
        SacConfig {
            hidden: vec![256, 256],
            envs_per_task: 1,
            total_steps: 300_000,
            buffer_size: 300_000,
            batch: 256,
            learning_starts: 5_000,
            gamma: 0.99,
            n_step: 1,
            tau: 0.005,
            policy_lr: 3e-4,
            q_lr: 1e-3,
            policy_frequency: 2,
            initial_alpha: 0.2,
            autotune: true,
            target_entropy: None,
            steps_per_iteration: 1_000,
            seed: 0,
            architecture: ArchitectureKind::Mlp,
            experts: None,
            top_k: None,
            combiner: None,
            task_sam: None,
            conditioning: Conditioning::OneHot,
            updates_per_step: 1,
        }
    }
}

impl SacConfig {
    /// Rejects values out of range, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let mut check = SettingsCheck::default();
        check.hidden_widths(&self.hidden);
        check.task_sam(self.task_sam, self.combiner.is_some());
        let mut need = |ok: bool, field: &str, rule: &str| check.need(ok, field, rule);
        need(
            (1..=256).contains(&self.envs_per_task),
            "envs_per_task",
            "must be in 1..=256",
        );
        need(self.total_steps > 0, "total_steps", "must be > 0");
        need(
            (1..=10_000_000).contains(&self.buffer_size),
            "buffer_size",
            "must be in 1..=10000000",
        );
        need(
            (1..=65_536).contains(&self.batch),
            "batch",
            "must be in 1..=65536",
        );
        need(
            (0.0..=1.0).contains(&self.gamma),
            "gamma",
            "must be in [0, 1]",
        );
        need(
            (1..=100).contains(&self.n_step),
            "n_step",
            "must be in 1..=100",
        );
        need(
            self.tau > 0.0 && self.tau <= 1.0,
            "tau",
            "must be in (0, 1]",
        );
        need(
            self.policy_lr.is_finite() && self.policy_lr > 0.0 && self.policy_lr < 1.0,
            "policy_lr",
            "must be in (0, 1)",
        );
        need(
            self.q_lr.is_finite() && self.q_lr > 0.0 && self.q_lr < 1.0,
            "q_lr",
            "must be in (0, 1)",
        );
        need(
            (1..=100).contains(&self.policy_frequency),
            "policy_frequency",
            "must be in 1..=100",
        );
        need(
            self.initial_alpha.is_finite() && self.initial_alpha > 0.0,
            "initial_alpha",
            "must be > 0",
        );
        need(
            self.target_entropy.is_none_or(|h| h.is_finite()),
            "target_entropy",
            "must be a finite number",
        );
        need(
            self.steps_per_iteration > 0,
            "steps_per_iteration",
            "must be > 0",
        );
        need(
            (1..=64).contains(&self.updates_per_step),
            "updates_per_step",
            "must be in 1..=64",
        );
        need(
            !(self.architecture.task_aware() && self.conditioning != Conditioning::OneHot),
            "conditioning",
            "a task-aware architecture reads the task as a one-hot input: use one-hot",
        );
        if let Some(Err(e)) = self.combiner.as_ref().map(CombinerConfig::check) {
            check.need(false, "combiner", &e);
        }
        check.finish("SAC settings")
    }
}

/// A SAC (one task) or MT-SAC (several) run that advances `steps_per_iteration` environment
/// steps per call.
pub struct SacRun {
    config: SacConfig,
    task_ids: Vec<String>,
    obs_dim: usize,
    act_dim: usize,
    actor: TrainNet,
    /// The actor's shape (its outputs: means, then raw log standard deviations, each block
    /// with one slice per task head).
    actor_architecture: Architecture,
    /// The actor's heads (two blocks: means and raw log σ) and the critics' (one value).
    actor_heads: TaskHeads,
    q_heads: TaskHeads,
    /// Task one-hot inputs appended to the observation (0 unless one-hot conditioned).
    task_inputs: usize,
    /// How the networks are told the task (the policy's conditioning).
    conditioning: Conditioning,
    q: [FastMlp; 2],
    q_target: [FastMlp; 2],
    actor_adam: Adam,
    q_adam: Adam,
    /// `log α` per task, with its optimiser.
    log_alpha: Vec<f32>,
    alpha_adam: Adam,
    envs: VecEnv,
    replay: Replay,
    /// Per environment, the steps of its episode not yet stored (at most `n_step − 1` between
    /// joint steps).
    pending: Vec<VecDeque<PendingStep>>,
    rng: ChaCha8Rng,
    obs: Vec<f32>,
    window: EpisodeWindow,
    env_steps: u64,
    updates: u64,
    iteration: u32,
    /// Latest losses and entropy for the iteration's record.
    last: Losses,
    /// The multi-task seams of the critics' and the actor's updates (with a combiner).
    critic_step: Option<MultiTaskStep>,
    actor_step: Option<MultiTaskStep>,
    /// Each task's last critic and actor loss.
    task_losses: Vec<(f32, f32)>,
}

/// One environment step waiting to be summed into an n-step transition.
struct PendingStep {
    obs: Vec<f32>,
    action: Vec<f32>,
    reward: f32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Losses {
    actor: f32,
    critic: f32,
    entropy: f32,
}

impl SacRun {
    /// Sets up networks, optimisers, environments (`envs_per_task` of each task) and the replay
    /// buffer. Tasks must have continuous actions bounded by [−1, 1] and equal shapes.
    pub fn new(tasks: &[Task], config: &SacConfig) -> Result<SacRun, String> {
        config.check()?;
        let first = tasks.first().ok_or("SAC needs at least one task")?;
        if let Some(refusal) = tasks.iter().find_map(|t| Algorithm::Sac.refuses(t)) {
            return Err(refusal);
        }
        let counts = vec![config.envs_per_task; tasks.len()];
        let envs = VecEnv::new(tasks, &counts, config.seed * 1_000_003)?;
        let (obs_dim, act_dim) = (first.observation.size, first.action_size());
        let conditioning = match tasks.len() {
            1 => Conditioning::None,
            _ => config.conditioning,
        };
        let task_inputs = match conditioning {
            Conditioning::OneHot => tasks.len(),
            _ => 0,
        };
        let count = match conditioning {
            Conditioning::MultiHead => tasks.len(),
            _ => 1,
        };
        let actor_heads = TaskHeads {
            count,
            blocks: 2,
            per: act_dim,
        };
        let q_heads = TaskHeads {
            count,
            blocks: 1,
            per: 1,
        };
        let inputs = obs_dim + task_inputs;
        let sizes = |inp: usize, out: usize| [vec![inp], config.hidden.clone(), vec![out]].concat();
        let (actor, q1, q2) = seeded_init(config.seed, |device| {
            let fast = |s: &[usize]| FastMlp::from_mlp(&Mlp::init(s, device));
            (
                fast(&sizes(inputs, actor_heads.width())),
                fast(&sizes(inputs + act_dim, q_heads.width())),
                fast(&sizes(inputs + act_dim, q_heads.width())),
            )
        });
        let q = [q1?, q2?];
        let actor_architecture = Architecture {
            output: "linear".into(),
            experts: config.experts,
            top_k: config.top_k,
            ..Architecture::of(config.architecture, &sizes(inputs, actor_heads.width()))
        };
        let actor = match config.architecture {
            ArchitectureKind::Mlp => TrainNet::Fused {
                net: actor?,
                tanh_hidden: false,
                tanh_output: false,
            },
            kind if task_inputs == 0 => {
                return Err(format!(
                    "architecture {kind} is for several tasks; SAC got one"
                ));
            }
            _ => TrainNet::Burn(BurnNet::init(
                &actor_architecture,
                task_inputs,
                config.seed,
            )?),
        };
        let q_params = [q[0].params.clone(), q[1].params.clone()].concat();
        let log_alpha = vec![config.initial_alpha.ln(); tasks.len()];
        // With heads, the output layers (the last two lists of each network) are the tasks' own.
        let multi_head = conditioning == Conditioning::MultiHead;
        let lengths = |lists: &[Vec<f32>]| lists.iter().map(Vec::len).collect::<Vec<_>>();
        let step = |lengths: Vec<usize>, nets: usize| -> Result<Option<MultiTaskStep>, String> {
            let per = lengths.len() / nets;
            let own: Vec<usize> = (1..=nets)
                .flat_map(|n| [n * per - 2, n * per - 1])
                .collect();
            let shared = multi_head.then(|| shared_except(lengths, &own));
            match &config.combiner {
                Some(c) if tasks.len() > 1 => Ok(Some(MultiTaskStep::new(c, tasks.len(), shared)?)),
                _ => Ok(None),
            }
        };
        Ok(SacRun {
            actor_heads,
            q_heads,
            task_inputs,
            conditioning,
            critic_step: step(lengths(&q_params), 2)?,
            actor_step: step(lengths(actor.params()), 1)?,
            task_losses: vec![(f32::NAN, f32::NAN); tasks.len()],
            actor_architecture,
            actor_adam: Adam::new(actor.params(), 1e-8),
            q_adam: Adam::new(&q_params, 1e-8),
            alpha_adam: Adam::new(std::slice::from_ref(&log_alpha), 1e-8),
            log_alpha,
            q_target: q.clone(),
            q,
            actor,
            obs: envs.observations(),
            replay: Replay::new(config.buffer_size, obs_dim, act_dim),
            pending: (0..envs.num_envs()).map(|_| VecDeque::new()).collect(),
            envs,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            task_ids: tasks.iter().map(|t| t.id.clone()).collect(),
            obs_dim,
            act_dim,
            config: config.clone(),
            window: EpisodeWindow::new(tasks.len()),
            env_steps: 0,
            updates: 0,
            iteration: 0,
            last: Losses::default(),
        })
    }

    /// Network input rows: observations with the task one-hot appended (one-hot conditioning
    /// only).
    fn inputs(&self, obs: &[f32], tasks: impl Iterator<Item = usize>) -> Vec<f32> {
        append_one_hot(obs.to_vec(), self.obs_dim, self.task_inputs, tasks)
    }

    /// The actor's output for rows of tasks `tasks`: each row's head, `[mean | raw log σ]`.
    fn actor_heads_of(&self, x: &[f32], tasks: &[usize]) -> Result<Vec<f32>, String> {
        Ok(self.actor_heads.select(&self.actor.forward(x)?, tasks))
    }

    /// One joint step of every environment, stored in the replay buffer.
    fn act_and_store(&mut self) -> Result<(), String> {
        let n = self.envs.num_envs();
        let actions: Vec<f32> = if self.env_steps < self.config.learning_starts {
            (0..n * self.act_dim)
                .map(|_| self.rng.random_range(-1.0f32..=1.0))
                .collect()
        } else {
            let tasks = self.envs.task_indices().to_vec();
            let x = self.inputs(&self.obs, tasks.iter().copied());
            let out = self.actor_heads_of(&x, &tasks)?;
            squashed_sample(&out, self.act_dim, &mut self.rng).actions
        };
        let step = self.envs.step(&actions).map_err(|e| e.to_string())?;
        let (o, a) = (self.obs_dim, self.act_dim);
        let mut finals = step
            .finished
            .iter()
            .map(|f| f.0)
            .zip(&step.final_observations);
        let mut next_final = finals.next();
        for e in 0..n {
            let (next, ended) = match next_final {
                Some((fe, last)) if fe == e => {
                    next_final = finals.next();
                    (last.as_slice(), true)
                }
                _ => (&step.observations[e * o..(e + 1) * o], false),
            };
            let task = self.envs.task_indices()[e];
            self.pending[e].push_back(PendingStep {
                obs: self.obs[e * o..(e + 1) * o].to_vec(),
                action: actions[e * a..(e + 1) * a].to_vec(),
                reward: step.rewards[e],
            });
            if ended || step.terminated[e] {
                // Episode over: store every pending step, each summed to the end.
                let bootstrap = !step.terminated[e];
                while !self.pending[e].is_empty() {
                    self.store_oldest(e, next, bootstrap, task);
                }
            } else if self.pending[e].len() == self.config.n_step {
                self.store_oldest(e, next, true, task);
            }
        }
        for (_, task, result) in &step.finished {
            self.window
                .push(*task, result.episode_return, result.success);
        }
        self.obs = step.observations;
        self.env_steps += n as u64;
        Ok(())
    }

    /// Stores environment `e`'s oldest pending step as one transition: its reward and the
    /// discounted rewards of the pending steps after it, ending at `next` (bootstrapped from
    /// with `γ^k` for k summed steps, or not at all when the episode terminated).
    fn store_oldest(&mut self, e: usize, next: &[f32], bootstrap: bool, task: usize) {
        let gamma = self.config.gamma;
        let (mut ret, mut discount) = (0.0f32, 1.0f32);
        for s in &self.pending[e] {
            ret += discount * s.reward;
            discount *= gamma;
        }
        let first = self.pending[e].pop_front().expect("a pending step");
        self.replay.push(
            &first.obs,
            &first.action,
            ret,
            next,
            if bootstrap { discount } else { 0.0 },
            task,
        );
    }

    /// One critic update, the actor's (and α's) every `policy_frequency`-th time, and the
    /// targets' Polyak step.
    fn update(&mut self) -> Result<(), String> {
        let (b, a) = (self.config.batch, self.act_dim);
        let picks: Vec<usize> = (0..b)
            .map(|_| self.rng.random_range(0..self.replay.len))
            .collect();
        let tasks: Vec<usize> = picks.iter().map(|&i| self.replay.tasks[i]).collect();
        let x = self.inputs(
            &self.replay.rows(&self.replay.obs, self.obs_dim, &picks),
            tasks.iter().copied(),
        );
        let x_next = self.inputs(
            &self
                .replay
                .rows(&self.replay.next_obs, self.obs_dim, &picks),
            tasks.iter().copied(),
        );
        let actions = self.replay.rows(&self.replay.actions, a, &picks);
        let alpha: Vec<f32> = tasks.iter().map(|&t| self.log_alpha[t].exp()).collect();

        // Critics: y = r + γ (1 − terminated) (min Q'(s', a') − α log π(a'|s')); with n-step
        // transitions r is the discounted sum and γ(1 − terminated) the stored `γ^k` or 0.
        let next = squashed_sample(&self.actor_heads_of(&x_next, &tasks)?, a, &mut self.rng);
        let xa_next = join(&x_next, &next.actions, a);
        let (t1, t2) = (
            self.q_heads
                .select(&self.q_target[0].forward(&xa_next, false, false), &tasks),
            self.q_heads
                .select(&self.q_target[1].forward(&xa_next, false, false), &tasks),
        );
        let targets: Vec<f32> = (0..b)
            .map(|k| {
                let (r, discount) = (
                    self.replay.rewards[picks[k]],
                    self.replay.discounts[picks[k]],
                );
                r + discount * (t1[k].min(t2[k]) - alpha[k] * next.log_probs[k])
            })
            .collect();
        let xa = join(&x, &actions, a);
        let width = xa.len() / b;
        // Each group's mean squared error (one group of every row, or one per task), both
        // critics' gradients in one list.
        let mut critic_loss = 0.0f32;
        let mut per_group = Vec::new();
        let mut group_losses = Vec::new();
        for rows in self.row_groups(&tasks) {
            if rows.is_empty() {
                per_group.push(None);
                group_losses.push(f32::NAN);
                continue;
            }
            let n = rows.len() as f32;
            let xa_g = gather_rows(&xa, width, &rows);
            let y: Vec<f32> = rows.iter().map(|&k| targets[k]).collect();
            let group_tasks: Vec<usize> = rows.iter().map(|&k| tasks[k]).collect();
            let (mut grads, sum) = critic_gradient(&self.q, &self.q_heads, &xa_g, &y, &group_tasks);
            // Task-based flat regions (multitask::task_sam): both critics' gradient again at
            // θ + ρ gₜ/‖gₜ‖, on the same rows and targets.
            if let Some(shift) = self
                .config
                .task_sam
                .filter(|_| self.critic_step.is_some())
                .and_then(|rho| task_sam::ascent(&grads, rho))
            {
                let mut moved = self.q.clone();
                let lists = moved.iter_mut().flat_map(|q| q.params.iter_mut());
                for (p, d) in lists.zip(&shift) {
                    p.iter_mut().zip(d).for_each(|(v, d)| *v += d);
                }
                grads = critic_gradient(&moved, &self.q_heads, &xa_g, &y, &group_tasks).0;
            }
            critic_loss += sum / b as f32;
            group_losses.push(sum / n);
            per_group.push(Some(grads));
        }
        let grads = match self.critic_step.as_mut() {
            Some(step) => {
                for (t, l) in group_losses.iter().enumerate() {
                    self.task_losses[t].0 = *l;
                }
                step.combine(&per_group, &group_losses)?
            }
            None => per_group.pop().flatten().ok_or("an update with no rows")?,
        };
        if !critic_loss.is_finite() || !crate::nets::fused::all_finite(&grads) {
            return Err(format!(
                "SAC diverged after {} environment steps: the critic loss is {critic_loss} (q_lr {} may be too high)",
                self.env_steps, self.config.q_lr
            ));
        }
        let [q1, q2] = &mut self.q;
        let mut params: Vec<&mut Vec<f32>> =
            q1.params.iter_mut().chain(q2.params.iter_mut()).collect();
        self.q_adam
            .step(&mut params, &grads, self.config.q_lr as f32);
        self.last.critic = critic_loss;
        self.updates += 1;

        if self
            .updates
            .is_multiple_of(self.config.policy_frequency as u64)
        {
            for _ in 0..self.config.policy_frequency {
                self.update_actor(&x, &tasks)?;
            }
        }
        let tau = self.config.tau;
        for (q, target) in self.q.iter().zip(&mut self.q_target) {
            for (p, t) in q
                .params
                .iter()
                .flatten()
                .zip(target.params.iter_mut().flatten())
            {
                *t += tau * (p - *t);
            }
        }
        Ok(())
    }

    /// The rows of a minibatch by the groups its losses are formed over: one group of every
    /// row, or (with a combiner) one per task (some possibly empty).
    fn row_groups(&self, tasks: &[usize]) -> Vec<Vec<usize>> {
        match self.critic_step {
            Some(_) => (0..self.task_ids.len())
                .map(|t| (0..tasks.len()).filter(|&k| tasks[k] == t).collect())
                .collect(),
            None => vec![(0..tasks.len()).collect()],
        }
    }

    /// The actor's step on `min Q(s, ã) − α log π(ã|s)` with ã drawn afresh, then α's step.
    fn update_actor(&mut self, x: &[f32], tasks: &[usize]) -> Result<(), String> {
        let (b, a) = (tasks.len(), self.act_dim);
        let alpha: Vec<f32> = tasks.iter().map(|&t| self.log_alpha[t].exp()).collect();
        let in_width = x.len() / b;
        let mut log_probs = vec![0.0f32; b];
        let mut loss = 0.0f32;
        let mut per_group = Vec::new();
        let mut group_losses = Vec::new();
        for rows in self.row_groups(tasks) {
            if rows.is_empty() {
                per_group.push(None);
                group_losses.push(f32::NAN);
                continue;
            }
            let n = rows.len();
            let x_g = gather_rows(x, in_width, &rows);
            let alpha_g: Vec<f32> = rows.iter().map(|&k| alpha[k]).collect();
            let group_tasks: Vec<usize> = rows.iter().map(|&k| tasks[k]).collect();
            let trace = self.actor.trace(&x_g)?;
            let out = self.actor_heads.select(trace.output(), &group_tasks);
            let sample = squashed_sample(&out, a, &mut self.rng);
            let (dq_da, min_q) = min_q_action_gradient(
                &self.q,
                &self.q_heads,
                a,
                &x_g,
                &sample.actions,
                &group_tasks,
            );
            let sum = (0..n)
                .map(|k| alpha_g[k] * sample.log_probs[k] - min_q[k])
                .sum::<f32>();
            loss += sum / b as f32;
            group_losses.push(sum / n as f32);
            for (k, &row) in rows.iter().enumerate() {
                log_probs[row] = sample.log_probs[k];
            }
            let g_out = actor_output_gradient(&out, &sample, &dq_da, &alpha_g, 1.0 / n as f32);
            let g_out = self.actor_heads.scatter(&g_out, &group_tasks);
            let mut g = self.actor.backward(trace, &g_out)?;
            // Task-based flat regions (multitask::task_sam): the actor's gradient again at
            // θ + ρ gₜ/‖gₜ‖, with the same draws ε, against the same critics.
            if let Some(shift) = self
                .config
                .task_sam
                .filter(|_| self.actor_step.is_some())
                .and_then(|rho| task_sam::ascent(&g, rho))
            {
                let (q, q_heads, heads) = (&self.q, &self.q_heads, &self.actor_heads);
                g = self.actor.at_shifted(&shift, |actor| {
                    let trace = actor.trace(&x_g)?;
                    let out = heads.select(trace.output(), &group_tasks);
                    let moved = squash(&out, a, sample.noise.clone());
                    let (dq_da, _) =
                        min_q_action_gradient(q, q_heads, a, &x_g, &moved.actions, &group_tasks);
                    let g_out =
                        actor_output_gradient(&out, &moved, &dq_da, &alpha_g, 1.0 / n as f32);
                    actor.backward(trace, &heads.scatter(&g_out, &group_tasks))
                })?;
            }
            per_group.push(Some(g));
        }
        let grads = match self.actor_step.as_mut() {
            Some(step) => {
                for (t, l) in group_losses.iter().enumerate() {
                    self.task_losses[t].1 = *l;
                }
                // The actor's loss can be negative: made positive for the methods that take
                // logs and ratios of losses.
                step.combine(&per_group, &positive_losses(&group_losses))?
            }
            None => per_group.pop().flatten().ok_or("an update with no rows")?,
        };
        if !loss.is_finite() || !crate::nets::fused::all_finite(&grads) {
            return Err(format!(
                "SAC diverged after {} environment steps: the actor loss is {loss} (policy_lr {} may be too high)",
                self.env_steps, self.config.policy_lr
            ));
        }
        let (adam, lr) = (&mut self.actor_adam, self.config.policy_lr as f32);
        self.actor.update(|params| adam.step(params, &grads, lr))?;
        let sample = SquashedSample {
            actions: Vec::new(),
            noise: Vec::new(),
            log_probs,
        };
        self.last.actor = loss;
        self.last.entropy = -sample.log_probs.iter().sum::<f32>() / b as f32;
        if self.config.autotune {
            // loss_α = mean(−α_task (log π + target entropy)).
            let target_entropy = self.config.target_entropy.unwrap_or(-(a as f32));
            let mut g = vec![0.0f32; self.log_alpha.len()];
            for (k, &t) in tasks.iter().enumerate() {
                g[t] -= alpha[k] * (sample.log_probs[k] + target_entropy) / b as f32;
            }
            let mut params = vec![&mut self.log_alpha];
            self.alpha_adam
                .step(&mut params, &[g], self.config.q_lr as f32);
        }
        Ok(())
    }
}

impl IterativeRun for SacRun {
    fn iterate(&mut self) -> Result<Option<Record>, String> {
        if self.env_steps >= self.config.total_steps {
            return Ok(None);
        }
        let end = (self.env_steps + self.config.steps_per_iteration).min(self.config.total_steps);
        while self.env_steps < end {
            self.act_and_store()?;
            if self.env_steps >= self.config.learning_starts && self.replay.len > 0 {
                for _ in 0..self.config.updates_per_step {
                    self.update()?;
                }
            }
        }
        self.iteration += 1;
        let alpha =
            self.log_alpha.iter().map(|l| l.exp()).sum::<f32>() / self.log_alpha.len() as f32;
        let (mean_return, success_rate) = self.window.recent();
        let mut tasks = self.window.tasks(&self.task_ids);
        let weights = self.actor_step.as_ref().map(|s| s.last_weights().to_vec());
        for (t, (task, log_alpha)) in tasks.iter_mut().zip(&self.log_alpha).enumerate() {
            task.alpha = Some(log_alpha.exp());
            if let Some(w) = &weights {
                // The task's critic loss (its actor loss is in the conflict's company below).
                task.loss = Some(self.task_losses[t].0).filter(|l| l.is_finite());
                task.weight = Some(w[t]);
            }
        }
        Ok(Some(Record {
            iteration: self.iteration,
            env_steps: self.env_steps,
            episodes: self.window.episodes(),
            mean_return,
            success_rate,
            policy_loss: self.last.actor,
            value_loss: self.last.critic,
            entropy: self.last.entropy,
            approx_kl: 0.0,
            learning_rate: self.config.policy_lr,
            alpha: Some(alpha),
            tasks,
            conflict: self
                .actor_step
                .as_mut()
                .and_then(MultiTaskStep::take_conflict),
            critic_conflict: self
                .critic_step
                .as_mut()
                .and_then(MultiTaskStep::take_conflict),
        }))
    }

    /// The deterministic policy `tanh(mean)`: the actor without its log-standard-deviation
    /// outputs (the first block of every head), conditioned as it was trained.
    fn policy(&self) -> Policy {
        let means = self.act_dim * self.actor_heads.count;
        let device = Device::flex();
        let net = self.actor.network(&device).keep_first_outputs(means);
        let mut architecture = self.actor_architecture.clone();
        *architecture.sizes.last_mut().expect("an actor has layers") = means;
        architecture.output = "tanh".into();
        let info = PolicyInfo {
            architecture,
            tasks: self.task_ids.clone(),
            conditioning: self.conditioning,
            obs_mean: vec![0.0; self.obs_dim],
            obs_std: vec![1.0; self.obs_dim],
            training: crate::policy::training_metadata(
                match (self.task_ids.len(), self.conditioning) {
                    (1, _) => "sac",
                    (_, Conditioning::MultiHead) => "mt-mh-sac",
                    _ => "mt-sac",
                },
                &self.config,
                serde_json::json!({
                    "env_steps": self.env_steps,
                    "updates": self.updates,
                    "alpha": self.log_alpha.iter().map(|l| l.exp()).collect::<Vec<f32>>(),
                }),
            ),
            eval_success: None,
            eval_episodes: None,
        };
        Policy::new(net, info, device)
    }
}

/// Trains with SAC (one task) or MT-SAC (several); `on_iteration` receives each iteration's
/// record and returns whether to go on. Returns the deterministic policy.
pub fn train(
    tasks: &[Task],
    config: &SacConfig,
    on_iteration: impl FnMut(&Record) -> bool,
) -> Result<Policy, String> {
    crate::run_to_end(SacRun::new(tasks, config)?, on_iteration)
}

/// Rows `[x | a]`: each input row followed by its action row.
fn join(x: &[f32], actions: &[f32], act_dim: usize) -> Vec<f32> {
    let b = actions.len() / act_dim;
    let width = x.len() / b;
    x.chunks_exact(width)
        .zip(actions.chunks_exact(act_dim))
        .flat_map(|(r, a)| r.iter().chain(a).copied())
        .collect()
}

/// Both critics' gradients (one list after the other) of the mean squared error to the
/// targets `y` on rows `xa` = `[x | a]` of tasks `tasks`, and the summed squared error.
fn critic_gradient(
    q: &[FastMlp; 2],
    heads: &TaskHeads,
    xa: &[f32],
    y: &[f32],
    tasks: &[usize],
) -> (Vec<Vec<f32>>, f32) {
    let n = y.len() as f32;
    let (mut grads, mut sum) = (Vec::new(), 0.0f32);
    for q in q {
        let trace = q.trace(xa, false, false);
        let values = heads.select(trace.output(), tasks);
        let g: Vec<f32> = values
            .iter()
            .zip(y)
            .map(|(v, y)| 2.0 * (v - y) / n)
            .collect();
        sum += values
            .iter()
            .zip(y)
            .map(|(v, y)| (v - y) * (v - y))
            .sum::<f32>();
        let g = heads.scatter(&g, tasks);
        grads.extend(q.backward(&trace, &g, false, false));
    }
    (grads, sum)
}

/// For each row `[x | ã]` of task `tasks[k]`, `∂ min(Q₁, Q₂) / ∂ã` through whichever
/// critic is lower, and that minimum (for the critics `q` with output heads `heads`).
fn min_q_action_gradient(
    q: &[FastMlp; 2],
    heads: &TaskHeads,
    a: usize,
    x: &[f32],
    actions: &[f32],
    tasks: &[usize],
) -> (Vec<f32>, Vec<f32>) {
    let b = actions.len() / a;
    let xa = join(x, actions, a);
    let traces: Vec<Trace> = q.iter().map(|q| q.trace(&xa, false, false)).collect();
    let values: Vec<Vec<f32>> = traces
        .iter()
        .map(|t| heads.select(t.output(), tasks))
        .collect();
    let width = xa.len() / b;
    let mut dq_da = vec![0.0f32; b * a];
    let mut min_q = vec![0.0f32; b];
    for (i, (q, t)) in q.iter().zip(&traces).enumerate() {
        let lower: Vec<bool> = (0..b)
            .map(|k| {
                let (v, other) = (values[i][k], values[1 - i][k]);
                if i == 0 { v <= other } else { v < other }
            })
            .collect();
        let g: Vec<f32> = lower.iter().map(|&l| l as u8 as f32).collect();
        let g = heads.scatter(&g, tasks);
        let input_grad = q.input_gradient(t, &g, false, false);
        for k in (0..b).filter(|&k| lower[k]) {
            min_q[k] = values[i][k];
            dq_da[k * a..(k + 1) * a]
                .copy_from_slice(&input_grad[k * width + width - a..(k + 1) * width]);
        }
    }
    (dq_da, min_q)
}

/// Actions drawn from the squashed Gaussian, with what the actor's gradient needs.
#[derive(Debug, Clone)]
struct SquashedSample {
    /// `tanh(mean + σ ε)`, `[batch, act]`.
    actions: Vec<f32>,
    /// Standard normal draws ε, `[batch, act]`.
    noise: Vec<f32>,
    /// log π of each action, including tanh's change of variables.
    log_probs: Vec<f32>,
}

/// The log standard deviation from the actor's raw output: `tanh` rescaled into
/// [LOG_STD_MIN, LOG_STD_MAX]; with its slope.
fn log_std_of(raw: f32) -> (f32, f32) {
    let t = raw.tanh();
    let half_span = 0.5 * (LOG_STD_MAX - LOG_STD_MIN);
    (
        LOG_STD_MIN + half_span * (t + 1.0),
        half_span * (1.0 - t * t),
    )
}

/// Samples `tanh(mean + σ ε)` for every row of the actor's output (`[mean | raw log σ]`).
fn squashed_sample(out: &[f32], act_dim: usize, rng: &mut ChaCha8Rng) -> SquashedSample {
    let noise: Vec<f32> = (0..out.len() / 2).map(|_| standard_normal(rng)).collect();
    squash(out, act_dim, noise)
}

/// The squashed actions and their log-probabilities for given draws `noise`.
fn squash(out: &[f32], act_dim: usize, noise: Vec<f32>) -> SquashedSample {
    let mut actions = Vec::with_capacity(noise.len());
    let mut log_probs = Vec::with_capacity(noise.len() / act_dim);
    for (row, eps) in out
        .chunks_exact(2 * act_dim)
        .zip(noise.chunks_exact(act_dim))
    {
        let mut logp = 0.0f32;
        for j in 0..act_dim {
            let (log_std, _) = log_std_of(row[act_dim + j]);
            let action = (row[j] + log_std.exp() * eps[j]).tanh();
            logp += -0.5 * eps[j] * eps[j]
                - log_std
                - HALF_LOG_TAU
                - (1.0 - action * action + 1e-6).ln();
            actions.push(action);
        }
        log_probs.push(logp);
    }
    SquashedSample {
        actions,
        noise,
        log_probs,
    }
}

/// ∂/∂(actor output) of `scale · Σ_k (α_k log π(ã_k) − Q(ã_k))` with the draws held fixed,
/// given ∂Q/∂ã per row.
fn actor_output_gradient(
    out: &[f32],
    sample: &SquashedSample,
    dq_da: &[f32],
    alpha: &[f32],
    scale: f32,
) -> Vec<f32> {
    let a = sample.actions.len() / alpha.len();
    let mut g = vec![0.0f32; out.len()];
    for k in 0..alpha.len() {
        for j in 0..a {
            let i = k * a + j;
            let (action, eps) = (sample.actions[i], sample.noise[i]);
            let (log_std, slope) = log_std_of(out[k * 2 * a + a + j]);
            let one_minus = 1.0 - action * action;
            // u = mean + σ ε, ã = tanh u: ∂L/∂u from the squash term of log π and from Q.
            let d_u =
                alpha[k] * 2.0 * action * one_minus / (one_minus + 1e-6) - dq_da[i] * one_minus;
            g[k * 2 * a + j] = scale * d_u;
            // ∂u/∂log σ = σ ε; the Gaussian term of log π adds −1 per log σ.
            g[k * 2 * a + a + j] = scale * (d_u * log_std.exp() * eps - alpha[k]) * slope;
        }
    }
    g
}

/// A ring buffer of transitions.
struct Replay {
    capacity: usize,
    len: usize,
    next: usize,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    /// The factor on the bootstrapped value: `γ^k` after k summed steps, 0 where the episode
    /// terminated.
    discounts: Vec<f32>,
    tasks: Vec<usize>,
}

impl Replay {
    fn new(capacity: usize, obs_dim: usize, act_dim: usize) -> Replay {
        Replay {
            capacity,
            len: 0,
            next: 0,
            obs: Vec::with_capacity(capacity.min(1 << 16) * obs_dim),
            next_obs: Vec::with_capacity(capacity.min(1 << 16) * obs_dim),
            actions: Vec::with_capacity(capacity.min(1 << 16) * act_dim),
            rewards: Vec::new(),
            discounts: Vec::new(),
            tasks: Vec::new(),
        }
    }

    fn push(
        &mut self,
        obs: &[f32],
        action: &[f32],
        reward: f32,
        next_obs: &[f32],
        discount: f32,
        task: usize,
    ) {
        let i = self.next;
        if self.len < self.capacity {
            self.obs.extend_from_slice(obs);
            self.next_obs.extend_from_slice(next_obs);
            self.actions.extend_from_slice(action);
            self.rewards.push(reward);
            self.discounts.push(discount);
            self.tasks.push(task);
            self.len += 1;
        } else {
            let (o, a) = (obs.len(), action.len());
            self.obs[i * o..(i + 1) * o].copy_from_slice(obs);
            self.next_obs[i * o..(i + 1) * o].copy_from_slice(next_obs);
            self.actions[i * a..(i + 1) * a].copy_from_slice(action);
            self.rewards[i] = reward;
            self.discounts[i] = discount;
            self.tasks[i] = task;
        }
        self.next = (i + 1) % self.capacity;
    }

    /// The rows `picks` of a `[len, width]` table.
    fn rows(&self, table: &[f32], width: usize, picks: &[usize]) -> Vec<f32> {
        picks
            .iter()
            .flat_map(|&i| table[i * width..(i + 1) * width].iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The actor's output gradient agrees with central differences of
    /// `Σ_k α_k log π(ã_k) − c·ã_k` (a linear critic) with the draws held fixed.
    #[test]
    fn actor_gradient_matches_finite_differences() {
        let out = vec![0.3f32, -0.7, 0.2, -1.1, -0.4, 0.5, 0.9, 0.1];
        let noise = vec![0.8f32, -0.3, -1.2, 0.5];
        let (alpha, c) = (vec![0.2f32, 0.05], vec![1.5f32, -0.8, 0.4, 2.0]);
        let loss = |out: &[f32]| -> f64 {
            let s = squash(out, 2, noise.clone());
            (0..2)
                .map(|k| {
                    (alpha[k] * s.log_probs[k]
                        - (0..2)
                            .map(|j| c[k * 2 + j] * s.actions[k * 2 + j])
                            .sum::<f32>()) as f64
                })
                .sum()
        };
        let sample = squash(&out, 2, noise.clone());
        let g = actor_output_gradient(&out, &sample, &c, &alpha, 1.0);
        for i in 0..out.len() {
            let (mut up, mut down) = (out.clone(), out.clone());
            up[i] += 1e-3;
            down[i] -= 1e-3;
            let numeric = (loss(&up) - loss(&down)) / 2e-3;
            assert!(
                (numeric as f32 - g[i]).abs() < 3e-3,
                "output {i}: {numeric} vs {}",
                g[i]
            );
        }
    }

    #[test]
    fn the_replay_buffer_overwrites_its_oldest_transitions() {
        let mut r = Replay::new(3, 1, 1);
        for i in 0..5 {
            r.push(
                &[i as f32],
                &[0.0],
                i as f32,
                &[i as f32 + 1.0],
                if i == 4 { 0.0 } else { 0.99 },
                0,
            );
        }
        assert_eq!(
            (r.len, r.obs.clone(), r.rewards.clone()),
            (3, vec![3.0, 4.0, 2.0], vec![3.0, 4.0, 2.0])
        );
        assert_eq!(r.rows(&r.next_obs, 1, &[1, 2]), vec![5.0, 3.0]);
        assert_eq!(r.discounts, vec![0.99, 0.0, 0.99]);
    }

    /// With `n_step` 3, the transition stored for step t sums the one-step run's rewards of
    /// steps t..t+3 (fewer at an episode's end) and ends where step t+k−1 ended, with `γ^k` on
    /// the bootstrap (0 nowhere here: reach only truncates). Random actions before learning
    /// starts are the same draws in both runs.
    #[test]
    fn n_step_transitions_sum_the_rewards_of_the_steps_they_span() {
        let path = format!("{}/../../web/tasks/reach.json", env!("CARGO_MANIFEST_DIR"));
        let reach = Task::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let buffer = |n_step: usize| {
            let config = SacConfig {
                hidden: vec![8],
                n_step,
                learning_starts: 1_000_000,
                total_steps: 620,
                steps_per_iteration: 620,
                ..SacConfig::default()
            };
            let mut run = SacRun::new(std::slice::from_ref(&reach), &config).unwrap();
            run.iterate().unwrap();
            run.replay
        };
        let (one, three) = (buffer(1), buffer(3));
        let gamma = SacConfig::default().gamma;
        let max_steps = reach.max_steps as usize;
        assert_eq!(one.len, 620);
        assert_eq!(three.len, 618, "the last two steps wait for their third");
        let mut spans = [0usize; 4];
        for t in 0..three.len {
            let left_in_episode = max_steps - t % max_steps;
            let k = left_in_episode.min(3);
            spans[k] += 1;
            let expected: f32 = (0..k)
                .map(|j| gamma.powi(j as i32) * one.rewards[t + j])
                .sum();
            assert!(
                (three.rewards[t] - expected).abs() < 1e-4,
                "step {t}: {} vs {expected}",
                three.rewards[t]
            );
            assert!(
                (three.discounts[t] - gamma.powi(k as i32)).abs() < 1e-6,
                "step {t}"
            );
            let o = reach.observation.size;
            assert_eq!(
                three.rows(&three.next_obs, o, &[t]),
                one.rows(&one.next_obs, o, &[t + k - 1]),
                "step {t}"
            );
            assert_eq!(
                three.rows(&three.obs, o, &[t]),
                one.rows(&one.obs, o, &[t]),
                "step {t}"
            );
        }
        assert_eq!(
            spans,
            [0, 1, 1, 616],
            "one transition of one and one of two steps at the episode's end"
        );
        assert!(one.discounts.iter().all(|&d| d == gamma));
    }
}
