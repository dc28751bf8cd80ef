//! Behaviour cloning from the tasks' own experts, the whole algorithm in this file: record
//! expert demonstrations, regress the expert's actions with an MLP (mean squared error, Adam,
//! on the fused CPU network of [`crate::nets::fused`]), and optionally DAgger: let the learner
//! drive, label every state it visits with the expert's action, add those pairs and fit
//! again. Several tasks train one network, told which task it is in by a one-hot input or by
//! one output head per task ([`Conditioning`]). With a combiner ([`BcConfig::combiner`]) each
//! task's loss is the mean over its own rows of the minibatch and the update goes through the
//! multi-task seam ([`MultiTaskStep`]: PCGrad, CAGrad, FAMO, …); without one, the minibatch's
//! rows are pooled into one mean loss (each task weighted by its share of the rows).
//!
//! A run can be split over several workers (data parallelism, e.g. two Web Workers): each
//! records its share of the episodes and every worker gathers them all in the same order;
//! each draws the same minibatch, takes its share of the rows, and an [`AllReduce`] sums the
//! gradients, so every worker takes the same Adam step and holds the same weights; the final
//! evaluation's seeds are shared out too ([`BcRun::evaluate`]).

use crate::algos::Algorithm;
use crate::algos::gaussian::standard_normal;
use crate::eval::{Evaluation, evaluate_shared};
use crate::multitask::rep_mtl::saliency_penalty;
use crate::multitask::{
    CombinerConfig, Conflict, MultiTaskStep, gather_rows, shared_except, task_sam,
};
use crate::nets::fused::{Adam, FastMlp};
use crate::nets::mlp::{Mlp, seeded_init};
use crate::nets::{ArchitectureKind, BurnNet, NetTrace, TrainNet};
use crate::parallel::{AllReduce, gather, shard_rows};
use crate::policy::{Architecture, Conditioning, PolicyInfo};
use crate::record::TaskRecord;
use crate::{Policy, SettingsCheck, normalise};
use burn::tensor::Device;
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Seeds of demonstration episodes start here, far from the evaluation seeds (0, 1, 2, …).
pub const DEMO_SEED_BASE: u64 = 1_000_000;
/// Seeds of DAgger's learner episodes start here (apart from demonstrations and evaluation).
pub const DAGGER_SEED_BASE: u64 = 2_000_000;

/// Labelled states: row-major observations, the expert's actions, and each row's task.
#[derive(Debug, Clone, Default)]
pub struct Demonstrations {
    /// Observations, `len × obs_dim`.
    pub observations: Vec<f32>,
    /// Expert actions, `len × act_dim`.
    pub actions: Vec<f32>,
    /// Index of each row's task in the list being trained on.
    pub task_indices: Vec<u32>,
    /// Observation size.
    pub obs_dim: usize,
    /// Action size.
    pub act_dim: usize,
}

impl Demonstrations {
    /// Number of (observation, action) pairs.
    pub fn len(&self) -> usize {
        self.task_indices.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `other`'s pairs (same observation and action sizes, or `self` empty).
    pub fn append(&mut self, other: Demonstrations) -> Result<(), String> {
        if self.is_empty() && self.obs_dim == 0 {
            *self = other;
            return Ok(());
        }
        if (other.obs_dim, other.act_dim) != (self.obs_dim, self.act_dim) {
            return Err(format!(
                "cannot pool demonstrations of {} observations / {} actions with {} / {}",
                other.obs_dim, other.act_dim, self.obs_dim, self.act_dim
            ));
        }
        self.observations.extend(other.observations);
        self.actions.extend(other.actions);
        self.task_indices.extend(other.task_indices);
        Ok(())
    }
}

/// Episodes labelled by the expert, and how many of them succeeded.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The labelled states.
    pub demonstrations: Demonstrations,
    /// Episodes in which the task's success condition held at some step.
    pub successes: u32,
}

/// Who chooses the actions while episodes are recorded (the labels are always the expert's).
#[derive(Debug, Clone, Copy)]
pub enum Driver<'a> {
    /// The expert, with Gaussian noise of this standard deviation added to each action it
    /// takes (DART, Laskey et al. 2017: the demonstrations then show how to recover from
    /// small mistakes, while the expert's own phase stays consistent). 0: clean demonstrations.
    Expert {
        /// Standard deviation of the noise, in action units.
        noise: f32,
    },
    /// A learned policy (DAgger).
    Learner(&'a Policy),
}

/// Runs `episodes` episodes of `task` from seeds `seed_base + i` and labels every state with
/// the task's expert action, while `driver` acts; rows get task index `task_index`.
/// `episode_done` is called after each episode.
pub fn record(
    task: &Task,
    task_index: u32,
    episodes: u32,
    seed_base: u64,
    driver: Driver,
    mut episode_done: impl FnMut(u32),
) -> Result<Recording, String> {
    let mut env = Env::new(task.clone());
    let mut expert = ExpertPolicy::for_env(&env)
        .ok_or_else(|| format!("task {} has no expert to clone", task.id))?;
    let (obs_dim, act_dim) = (env.observation_size(), env.action_size());
    let mut out = Recording {
        demonstrations: Demonstrations {
            obs_dim,
            act_dim,
            ..Default::default()
        },
        successes: 0,
    };
    let demos = &mut out.demonstrations;
    for i in 0..episodes as u64 {
        env.reset(seed_base + i);
        expert.reset();
        let mut noise_rng = ChaCha8Rng::seed_from_u64(seed_base + i);
        let (low, high) = (
            env.continuous_bounds().0.to_vec(),
            env.continuous_bounds().1.to_vec(),
        );
        loop {
            let label = expert.act(&env);
            let action = match driver {
                Driver::Learner(policy) => policy.act_in(env.observation(), Some(&task.id))?,
                Driver::Expert { noise } if noise > 0.0 => label
                    .iter()
                    .enumerate()
                    .map(|(j, a)| {
                        (a + noise * standard_normal(&mut noise_rng)).clamp(low[j], high[j])
                    })
                    .collect(),
                Driver::Expert { .. } => label.clone(),
            };
            demos.observations.extend_from_slice(env.observation());
            demos.actions.extend_from_slice(&label);
            demos.task_indices.push(task_index);
            let step = env.step(&action).map_err(|e| e.to_string())?;
            if step.terminated || step.truncated {
                break;
            }
        }
        out.successes += env.episode_success() as u32;
        episode_done(i as u32 + 1);
    }
    Ok(out)
}

/// Records `episodes` expert episodes of `task` from seeds `DEMO_SEED_BASE + seed_offset + i`;
/// `episode_done` is called after each.
pub fn record_demonstrations(
    task: &Task,
    episodes: u32,
    seed_offset: u64,
    episode_done: impl FnMut(u32),
) -> Result<Demonstrations, String> {
    Ok(record(
        task,
        0,
        episodes,
        DEMO_SEED_BASE + seed_offset,
        Driver::Expert { noise: 0.0 },
        episode_done,
    )?
    .demonstrations)
}

/// Behaviour-cloning settings.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BcConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Gradient steps of the first fit and of each DAgger round.
    pub steps: u32,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate (at the start of each fit, see `anneal_lr`).
    pub learning_rate: f64,
    /// Lower the learning rate linearly to zero over each fit's `steps` (true by default).
    /// On MT10 with a browser's budget (multi-head, 30 demonstrations per task, 4000 steps)
    /// it took seeds 0/1/2 from 94.0/88.6/86.2% to 96.4/96.0/98.0% success: the last steps
    /// refine instead of jumping between minibatches.
    pub anneal_lr: bool,
    /// Seed for initialisation and minibatch sampling.
    pub seed: u64,
    /// Expert episodes recorded per task.
    pub demos: u32,
    /// Standard deviation of the noise added to the expert's actions while recording
    /// demonstrations (DART; the labels stay clean). 0: none.
    pub demo_noise: f32,
    /// DAgger rounds after the first fit (0: plain behaviour cloning).
    pub dagger_rounds: u32,
    /// Learner episodes per task in each DAgger round.
    pub dagger_episodes: u32,
    /// How a multi-task network is told the task.
    pub conditioning: Conditioning,
    /// How several tasks' gradients are combined into one update (`None`: the minibatch's rows
    /// pooled into one loss). Ignored for one task.
    pub combiner: Option<CombinerConfig>,
    /// The network's architecture; a task-aware one (all but the MLP) needs several tasks and
    /// one-hot conditioning.
    pub architecture: ArchitectureKind,
    /// Experts, encoders, parameter sets or modules per layer (the architecture's default when
    /// `None`).
    pub experts: Option<usize>,
    /// MoE: experts per row (default 2).
    pub top_k: Option<usize>,
    /// Which engine trains a plain MLP (task-aware architectures always train through burn).
    pub engine: Engine,
    /// With a combiner: seek task-based flat regions (Phan et al. 2022): each task's gradient
    /// is taken at the weights moved by this radius ρ along it (sharpness-aware, per task)
    /// before the combiner weighs them. `None`: plain gradients.
    pub task_sam: Option<f32>,
    /// Rep-MTL's saliency regulation (Wang et al. 2025; [`crate::multitask::rep_mtl`]): the
    /// weight λ of the entropy of the tasks' saliencies on the last hidden layer, added to the
    /// equally weighted loss. Several tasks, the fused MLP and no combiner. `None`: off.
    pub rep_mtl: Option<f32>,
}

/// The engine that computes a network's gradients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// The hand-fused CPU MLP (the fast path).
    #[default]
    Fused,
    /// burn's autodiff.
    Burn,
}

impl Default for BcConfig {
    fn default() -> Self {
        BcConfig {
            hidden: vec![256, 256],
            steps: 3000,
            batch: 256,
            learning_rate: 1e-3,
            anneal_lr: true,
            seed: 0,
            demos: 40,
            demo_noise: 0.1,
            dagger_rounds: 0,
            dagger_episodes: 20,
            conditioning: Conditioning::None,
            combiner: None,
            architecture: ArchitectureKind::Mlp,
            experts: None,
            top_k: None,
            engine: Engine::Fused,
            task_sam: None,
            rep_mtl: None,
        }
    }
}

impl BcConfig {
    /// Rejects settings out of range, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let mut check = SettingsCheck::default();
        check.hidden_widths(&self.hidden);
        check.need(
            (1..=10_000_000).contains(&self.steps),
            "steps",
            &format!("must be 1..=10000000, got {}", self.steps),
        );
        check.need(
            (1..=65_536).contains(&self.batch),
            "batch",
            &format!("must be 1..=65536, got {}", self.batch),
        );
        let lr_ok = self.learning_rate > 0.0 && self.learning_rate <= 1.0;
        check.need(
            lr_ok,
            "learning_rate",
            &format!("must be in (0, 1], got {}", self.learning_rate),
        );
        check.need(
            (1..=100_000).contains(&self.demos),
            "demos",
            &format!("must be 1..=100000 episodes, got {}", self.demos),
        );
        check.need(
            (0.0..=1.0).contains(&self.demo_noise),
            "demo_noise",
            &format!("must be in [0, 1], got {}", self.demo_noise),
        );
        check.need(
            self.dagger_rounds <= 100,
            "dagger_rounds",
            &format!("must be 0..=100, got {}", self.dagger_rounds),
        );
        let episodes_ok = self.dagger_rounds == 0 || (1..=100_000).contains(&self.dagger_episodes);
        check.need(
            episodes_ok,
            "dagger_episodes",
            &format!(
                "must be 1..=100000 with DAgger on, got {}",
                self.dagger_episodes
            ),
        );
        check.need(
            !(self.architecture.task_aware() && self.conditioning == Conditioning::MultiHead),
            "conditioning",
            &format!(
                "multi-head is an mlp's conditioning; {} reads the task as a one-hot input",
                self.architecture
            ),
        );
        check.task_sam(self.task_sam, self.combiner.is_some());
        if let Some(lambda) = self.rep_mtl {
            check.need(
                lambda.is_finite() && lambda > 0.0 && lambda <= 100.0,
                "rep_mtl",
                &format!("must be in (0, 100], got {lambda}"),
            );
            check.need(
                self.combiner.is_none()
                    && self.architecture == ArchitectureKind::Mlp
                    && self.engine == Engine::Fused,
                "rep_mtl",
                "regularises the equally weighted loss of the fused mlp: no combiner, architecture mlp, engine fused",
            );
        }
        if let Some(combiner) = &self.combiner
            && let Err(e) = combiner.check()
        {
            check.need(false, "combiner", &e);
        }
        check.finish("BC settings")
    }
}

/// What training is doing when a progress record is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BcPhase {
    /// Recording expert (or DAgger learner) episodes.
    Recording,
    /// Gradient steps.
    Fitting,
}

/// One training progress record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BcProgress {
    /// What is happening.
    pub phase: BcPhase,
    /// DAgger round (0: the fit on expert demonstrations).
    pub round: u32,
    /// Gradient steps done in all.
    pub step: u32,
    /// Minibatch MSE loss at the last step (NaN before the first).
    pub loss: f32,
    /// Labelled pairs in the dataset.
    pub pairs: usize,
    /// Episodes recorded in this round so far (all tasks; in a split run, by every worker).
    pub episodes: u32,
    /// Success rate of the learner's episodes in this DAgger round so far, if any (in a split
    /// run, of this worker's until the round's recording ends).
    pub learner_success: Option<f32>,
    /// Per-task figures of a multi-task fit: each task's loss at the last step (and, with a
    /// combiner, its weight in that update); empty for one task or before the first step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskRecord>,
    /// The gradient conflict between the tasks since the previous record (fits with a
    /// combiner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
}

/// Per-feature mean and standard deviation (constant features get a scale of 1).
pub fn observation_statistics(demos: &Demonstrations) -> (Vec<f32>, Vec<f32>) {
    let (n, d) = (demos.len().max(1) as f64, demos.obs_dim);
    let mut mean = vec![0.0f64; d];
    let mut sq = vec![0.0f64; d];
    for row in demos.observations.chunks_exact(d) {
        for (j, v) in row.iter().enumerate() {
            mean[j] += *v as f64;
            sq[j] += (*v as f64) * (*v as f64);
        }
    }
    let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(s, m)| {
            let var = (s / n - m * m).max(0.0);
            if var < 1e-10 { 1.0 } else { var.sqrt() as f32 }
        })
        .collect();
    (mean.iter().map(|m| *m as f32).collect(), std)
}

/// A network being fitted: weights, optimiser state, minibatch sampler, description.
struct Learner {
    net: TrainNet,
    adam: Adam,
    rng: ChaCha8Rng,
    info: PolicyInfo,
    steps_done: u32,
    last_loss: f32,
    /// Each task's loss at the last step (NaN for a task without rows in it).
    task_losses: Vec<f32>,
    /// The multi-task seam, when the fit combines per-task gradients.
    multitask: Option<MultiTaskStep>,
}

impl Learner {
    /// A fresh network for `tasks` whose observations are normalised by `demos`' statistics.
    fn new(
        demos: &Demonstrations,
        tasks: Vec<String>,
        config: &BcConfig,
    ) -> Result<Learner, String> {
        let (obs_mean, obs_std) = observation_statistics(demos);
        let mut info = PolicyInfo {
            architecture: Architecture::mlp(&[]),
            tasks: tasks.clone(),
            // One task needs no telling which; a task-aware architecture reads the one-hot.
            conditioning: match tasks.len() {
                0 | 1 => Conditioning::None,
                _ if config.architecture.task_aware() => Conditioning::OneHot,
                _ => config.conditioning,
            },
            obs_mean,
            obs_std,
            training: serde_json::Value::Null,
            eval_success: None,
            eval_episodes: None,
        };
        let mut sizes = vec![demos.obs_dim + info.task_inputs()];
        sizes.extend(&config.hidden);
        sizes.push(demos.act_dim * info.heads());
        info.architecture = Architecture {
            experts: config.experts,
            top_k: config.top_k,
            ..Architecture::of(config.architecture, &sizes)
        };
        let net = if config.architecture == ArchitectureKind::Mlp && config.engine == Engine::Fused
        {
            // burn's default initialisation (Kaiming-uniform), seeded, then to the fused network.
            let net = seeded_init(config.seed, |device| {
                FastMlp::from_mlp(&Mlp::init(&sizes, device))
            })?;
            TrainNet::Fused {
                net,
                tanh_hidden: false,
                tanh_output: true,
            }
        } else {
            TrainNet::Burn(BurnNet::init(
                &info.architecture,
                info.task_inputs(),
                config.seed,
            )?)
        };
        let adam = Adam::new(net.params(), 1e-8);
        let t = tasks.len();
        let multitask = match &config.combiner {
            Some(combiner) if t > 1 => {
                let shared = task_specific_outputs(&net, &info);
                Some(MultiTaskStep::new(combiner, t, shared)?)
            }
            _ => None,
        };
        Ok(Learner {
            net,
            adam,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            info,
            steps_done: 0,
            last_loss: f32::NAN,
            task_losses: vec![f32::NAN; t],
            multitask,
        })
    }

    /// Per-task figures of the last step (empty for one task).
    fn task_records(&self) -> Vec<TaskRecord> {
        if self.info.tasks.len() < 2 || self.steps_done == 0 {
            return Vec::new();
        }
        let weights = self.multitask.as_ref().map(|m| m.last_weights());
        self.info
            .tasks
            .iter()
            .enumerate()
            .map(|(t, id)| TaskRecord {
                task: id.clone(),
                episodes: 0,
                mean_return: None,
                success_rate: None,
                loss: Some(self.task_losses[t]).filter(|l| l.is_finite()),
                weight: weights.map(|w| w[t]),
                alpha: None,
            })
            .collect()
    }

    /// The current network as a policy.
    fn policy(&self) -> Policy {
        let device = Device::flex();
        Policy {
            net: self.net.network(&device),
            info: self.info.clone(),
            device,
        }
    }

    /// `steps` Adam steps of mean squared error on minibatches drawn from `demos`, the first
    /// being step `first_step` of the fit's `config.steps` (for the learning-rate schedule);
    /// `report` gets the loss every `report_every` steps. With an `exchange`, this worker
    /// computes only its share of each minibatch's rows and the exchange sums the gradients.
    /// Stops with an error, before applying it, at the first update whose loss or gradients
    /// are not finite.
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        demos: &Demonstrations,
        config: &BcConfig,
        first_step: u32,
        steps: u32,
        report_every: u32,
        mut exchange: Option<&mut (dyn AllReduce + '_)>,
        mut report: impl FnMut(&mut Learner),
    ) -> Result<(), String> {
        let (d, a, n) = (demos.obs_dim, demos.act_dim, demos.len());
        let normalised = normalise(&demos.observations, &self.info.obs_mean, &self.info.obs_std);
        let (extra, multi_head) = (
            self.info.task_inputs(),
            self.info.conditioning == Conditioning::MultiHead,
        );
        let width = a * self.info.heads();
        let scale = 2.0 / (config.batch * a) as f32;
        let mine = match &exchange {
            Some(e) => shard_rows(config.batch, e.index(), e.workers()),
            None => 0..config.batch,
        };
        if exchange.is_some() && self.multitask.is_some() {
            return Err("a behaviour-cloning run with a combiner cannot be split between workers (each worker would combine only its own rows)".into());
        }
        let mut x = Vec::with_capacity(config.batch * (d + extra));
        let mut rows = Vec::with_capacity(config.batch);
        let mut flat = Vec::new();
        for step in first_step..first_step + steps {
            x.clear();
            rows.clear();
            // Every worker draws the whole minibatch, so the samplers stay in step.
            for b in 0..config.batch {
                let i = self.rng.random_range(0..n);
                if mine.contains(&b) {
                    rows.push(i);
                    x.extend_from_slice(&normalised[i * d..(i + 1) * d]);
                    x.extend(
                        (0..extra).map(|t| (t == demos.task_indices[i] as usize) as u8 as f32),
                    );
                }
            }
            let tasks = self.task_losses.len();
            let one_pass = matches!(self.net, TrainNet::Fused { .. }) && config.task_sam.is_none();
            let (mut loss, mut grads) = match self.multitask.as_mut() {
                // The fused MLP's one pass: the tasks' Gram matrix from the per-row deltas (no
                // per-task gradient formed), then one weighted gradient; equal to the per-task
                // path below (a test checks it against burn's per-task backward passes).
                Some(step) if one_pass => {
                    let TrainNet::Fused {
                        net,
                        tanh_hidden,
                        tanh_output,
                    } = &self.net
                    else {
                        unreachable!("one_pass is the fused MLP")
                    };
                    let task_of: Vec<usize> = rows
                        .iter()
                        .map(|&i| demos.task_indices[i] as usize)
                        .collect();
                    let mut counts = vec![0usize; tasks];
                    task_of.iter().for_each(|&t| counts[t] += 1);
                    let present: Vec<usize> = (0..tasks).filter(|&t| counts[t] > 0).collect();
                    let mut place = vec![0usize; tasks];
                    present.iter().enumerate().for_each(|(p, &t)| place[t] = p);
                    let trace = net.trace(&x, *tanh_hidden, *tanh_output);
                    let all: Vec<usize> = (0..rows.len()).collect();
                    // Each row's gradient as part of its task's mean loss.
                    let (sum, mut grad) =
                        squared_error(trace.output(), &all, &rows, demos, width, multi_head, 2.0);
                    for (b, g) in grad.chunks_exact_mut(width).enumerate() {
                        let n = (counts[task_of[b]] * a) as f32;
                        g.iter_mut().for_each(|v| *v /= n);
                    }
                    self.task_losses =
                        task_means(trace.output(), &rows, demos, width, multi_head, tasks);
                    let deltas = net.deltas(&trace, &grad, *tanh_hidden, *tanh_output);
                    let lists = step.shared_lists(net.params.len());
                    let shared: Vec<bool> =
                        (0..net.sizes.len() - 1).map(|k| lists[2 * k]).collect();
                    let row_place: Vec<usize> = task_of.iter().map(|&t| place[t]).collect();
                    let gram = net.task_gram(&trace, &deltas, &row_place, present.len(), &shared);
                    let weights = step.weigh(&gram, &present, &self.task_losses)?;
                    let row_weight: Vec<f32> = row_place.iter().map(|&p| weights[p]).collect();
                    (
                        sum / (config.batch * a) as f32,
                        net.weighted_gradients(&trace, &deltas, &row_weight, &shared),
                    )
                }
                // Each task's mean loss over its own rows, backpropagated alone on those rows
                // (the same arithmetic as one pass over the minibatch, in T smaller products),
                // then combined.
                Some(step) => {
                    let input = d + extra;
                    let mut total = 0.0f32;
                    let mut per_task = Vec::with_capacity(tasks);
                    for t in 0..tasks {
                        let mine: Vec<usize> = (0..rows.len())
                            .filter(|&b| demos.task_indices[rows[b]] as usize == t)
                            .collect();
                        if mine.is_empty() {
                            self.task_losses[t] = f32::NAN;
                            per_task.push(None);
                            continue;
                        }
                        let xt = gather_rows(&x, input, &mine);
                        // The task's summed squared error and its gradient at `net`'s weights.
                        let task_gradient =
                            |net: &TrainNet| -> Result<(f32, Vec<Vec<f32>>), String> {
                                let trace = net.trace(&xt)?;
                                let (sum, grad) = squared_error(
                                    trace.output(),
                                    &mine,
                                    &rows,
                                    demos,
                                    width,
                                    multi_head,
                                    2.0 / (mine.len() * a) as f32,
                                );
                                Ok((sum, net.backward(trace, &grad)?))
                            };
                        let (sum, mut g) = task_gradient(&self.net)?;
                        total += sum;
                        self.task_losses[t] = sum / (mine.len() * a) as f32;
                        // Task-based flat regions (multitask::task_sam): the task's gradient
                        // taken at θ + ρ gₜ/‖gₜ‖, on the same rows.
                        if let Some(rho) = config.task_sam
                            && let Some(shift) = task_sam::ascent(&g, rho)
                        {
                            g = self
                                .net
                                .at_shifted(&shift, |net| task_gradient(net).map(|(_, g)| g))?;
                        }
                        per_task.push(Some(g));
                    }
                    (
                        total / (config.batch * a) as f32,
                        step.combine(&per_task, &self.task_losses)?,
                    )
                }
                None => {
                    let trace = self.net.trace(&x)?;
                    let all: Vec<usize> = (0..rows.len()).collect();
                    let (sum, mut grad) =
                        squared_error(trace.output(), &all, &rows, demos, width, multi_head, scale);
                    if tasks > 1 {
                        self.task_losses =
                            task_means(trace.output(), &rows, demos, width, multi_head, tasks);
                    }
                    let rep_mtl = match (config.rep_mtl, &self.net, &trace) {
                        (
                            Some(lambda),
                            TrainNet::Fused {
                                net, tanh_output, ..
                            },
                            NetTrace::Fused(fused),
                        ) if tasks > 1 => {
                            let task_of: Vec<usize> = rows
                                .iter()
                                .map(|&i| demos.task_indices[i] as usize)
                                .collect();
                            let (gradient, curvature) = task_mean_gradients(
                                trace.output(),
                                &rows,
                                demos,
                                width,
                                multi_head,
                                &task_of,
                                tasks,
                            );
                            let penalty = saliency_penalty(
                                net,
                                fused,
                                &gradient,
                                &curvature,
                                &task_of,
                                tasks,
                                *tanh_output,
                            );
                            grad.iter_mut()
                                .zip(&penalty.output_gradient)
                                .for_each(|(g, p)| *g += lambda * p);
                            Some((lambda, penalty.weight_gradient))
                        }
                        _ => None,
                    };
                    let mut grads = self.net.backward(trace, &grad)?;
                    if let Some((lambda, weight)) = rep_mtl {
                        let last = grads.len() - 2;
                        grads[last]
                            .iter_mut()
                            .zip(&weight)
                            .for_each(|(g, w)| *g += lambda * w);
                    }
                    (sum / (config.batch * a) as f32, grads)
                }
            };
            if let Some(exchange) = exchange.as_deref_mut() {
                flat.clear();
                grads.iter().for_each(|g| flat.extend_from_slice(g));
                flat.push(loss);
                exchange.sum(&mut flat)?;
                let mut at = 0;
                for g in &mut grads {
                    let len = g.len();
                    g.copy_from_slice(&flat[at..at + len]);
                    at += len;
                }
                loss = flat[at];
            }
            self.steps_done += 1;
            if !loss.is_finite() || !crate::nets::fused::all_finite(&grads) {
                return Err(format!(
                    "behaviour cloning diverged at gradient step {} (loss {loss}); stopped before the weights \
                     became non-finite; try a learning_rate below {}",
                    self.steps_done, config.learning_rate
                ));
            }
            let remaining = if config.anneal_lr {
                1.0 - step as f32 / config.steps.max(1) as f32
            } else {
                1.0
            };
            let adam = &mut self.adam;
            self.net.update(|params| {
                adam.step(
                    params,
                    &grads,
                    config.learning_rate as f32 * remaining.max(0.0),
                )
            })?;
            self.last_loss = loss;
            if self.steps_done == 1 || self.steps_done.is_multiple_of(report_every.max(1)) {
                report(self);
            }
        }
        Ok(())
    }
}

/// The squared error of the network outputs `out` (rows `picked[k]` of the minibatch, whose
/// demonstration rows are `rows`) against the expert's actions, and its gradient with respect
/// to the outputs times `scale`: `(Σ diff², scale · diff)`. A multi-head network is scored on
/// each row's task head.
fn squared_error(
    out: &[f32],
    picked: &[usize],
    rows: &[usize],
    demos: &Demonstrations,
    width: usize,
    multi_head: bool,
    scale: f32,
) -> (f32, Vec<f32>) {
    let a = demos.act_dim;
    let mut grad = vec![0.0f32; out.len()];
    let mut sum = 0.0f32;
    for (k, &b) in picked.iter().enumerate() {
        let i = rows[b];
        let head = if multi_head {
            demos.task_indices[i] as usize * a
        } else {
            0
        };
        for j in 0..a {
            let o = k * width + head + j;
            let diff = out[o] - demos.actions[i * a + j];
            sum += diff * diff;
            grad[o] = scale * diff;
        }
    }
    (sum, grad)
}

/// Each task's mean squared error over its rows of a pooled minibatch (NaN for a task
/// without rows).
fn task_means(
    out: &[f32],
    rows: &[usize],
    demos: &Demonstrations,
    width: usize,
    multi_head: bool,
    tasks: usize,
) -> Vec<f32> {
    let a = demos.act_dim;
    let (mut sums, mut counts) = (vec![0.0f32; tasks], vec![0usize; tasks]);
    for (b, &i) in rows.iter().enumerate() {
        let t = demos.task_indices[i] as usize;
        if t < tasks {
            let (e, _) = squared_error(
                &out[b * width..(b + 1) * width],
                &[0],
                &[i],
                demos,
                width,
                multi_head,
                0.0,
            );
            sums[t] += e;
            counts[t] += 1;
        }
    }
    sums.iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / (c * a) as f32 } else { f32::NAN })
        .collect()
}

/// Each row's gradient of its own task's mean squared error with respect to the outputs, and
/// that loss's diagonal second derivative (`2/(nₜ·A)` on the outputs the row is scored on, 0
/// on other heads): what Rep-MTL's saliency needs ([`saliency_penalty`]).
fn task_mean_gradients(
    out: &[f32],
    rows: &[usize],
    demos: &Demonstrations,
    width: usize,
    multi_head: bool,
    task_of: &[usize],
    tasks: usize,
) -> (Vec<f32>, Vec<f32>) {
    let a = demos.act_dim;
    let all: Vec<usize> = (0..rows.len()).collect();
    let (_, mut gradient) = squared_error(out, &all, rows, demos, width, multi_head, 2.0);
    let mut counts = vec![0usize; tasks];
    task_of.iter().for_each(|&t| counts[t] += 1);
    let mut curvature = vec![0.0f32; gradient.len()];
    for (k, (g, h)) in gradient
        .chunks_exact_mut(width)
        .zip(curvature.chunks_exact_mut(width))
        .enumerate()
    {
        let t = task_of[k];
        let scale = 1.0 / (counts[t] * a) as f32;
        g.iter_mut().for_each(|v| *v *= scale);
        let head = if multi_head {
            t * a..(t + 1) * a
        } else {
            0..width
        };
        h[head].iter_mut().for_each(|v| *v = 2.0 * scale);
    }
    (gradient, curvature)
}

/// Which weights of a multi-head network are shared by the tasks: all but the last layer's
/// columns (and bias entries) of each task's head, which are that task's own. `None` (all
/// shared) for other conditionings.
fn task_specific_outputs(net: &TrainNet, info: &PolicyInfo) -> Option<Vec<Vec<bool>>> {
    if info.conditioning != Conditioning::MultiHead {
        return None;
    }
    let n = net.params().len();
    Some(shared_except(
        net.params().iter().map(Vec::len),
        &[n - 2, n - 1],
    ))
}

/// Fits a policy to `demos` (rows labelled with indices into `tasks`); `progress` gets a
/// record every `report_every` gradient steps.
pub fn train(
    demos: &Demonstrations,
    tasks: Vec<String>,
    config: &BcConfig,
    report_every: u32,
    progress: impl FnMut(BcProgress),
) -> Result<Policy, String> {
    train_shared(demos, tasks, config, report_every, None, progress)
}

/// [`train`] as one worker of a data-parallel fit when given an `exchange` (every worker
/// passes the same demonstrations and settings, and ends with the same policy).
pub fn train_shared(
    demos: &Demonstrations,
    tasks: Vec<String>,
    config: &BcConfig,
    report_every: u32,
    exchange: Option<&mut dyn AllReduce>,
    mut progress: impl FnMut(BcProgress),
) -> Result<Policy, String> {
    config.check()?;
    if demos.is_empty() {
        return Err("no demonstrations to learn from".into());
    }
    let mut learner = Learner::new(demos, tasks, config)?;
    learner.info.check()?;
    let pairs = demos.len();
    learner.fit(
        demos,
        config,
        0,
        config.steps,
        report_every,
        exchange,
        |l| {
            progress(BcProgress {
                phase: BcPhase::Fitting,
                round: 0,
                step: l.steps_done,
                loss: l.last_loss,
                pairs,
                episodes: 0,
                learner_success: None,
                tasks: l.task_records(),
                conflict: l.multitask.as_mut().and_then(MultiTaskStep::take_conflict),
            })
        },
    )?;
    let mut policy = learner.policy();
    policy.info.training =
        serde_json::json!({ "algorithm": "bc", "config": config, "demonstrations": pairs });
    Ok(policy)
}

/// Where a [`BcRun`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Recording episode `episode` of task `task` (the expert's in round 0, the learner's after).
    Recording { task: usize, episode: u32 },
    /// `done` gradient steps of this round's fit are taken.
    Fitting { done: u32 },
    /// All rounds are fitted.
    Finished,
}

/// Behaviour cloning (with DAgger rounds) that advances a little per call, so a caller (a
/// Web Worker, a progress bar) can report and stop in between: one recorded episode, or up
/// to [`BcRun::FIT_CHUNK`] gradient steps.
pub struct BcRun {
    tasks: Vec<Task>,
    config: BcConfig,
    demos: Demonstrations,
    learner: Option<Learner>,
    /// The policy driving this DAgger round's episodes.
    driver: Option<Policy>,
    round: u32,
    stage: Stage,
    round_episodes: u32,
    /// Episodes of this round recorded by this worker so far (all of them once gathered),
    /// and how many succeeded.
    round_recorded: u32,
    round_successes: u32,
    learner_success: Vec<f32>,
    /// Set when this run is one worker of several that split it.
    exchange: Option<Box<dyn AllReduce>>,
    /// This round's episodes recorded by this worker (when split), by their place in the
    /// round, to be gathered once the round's recording ends.
    own_episodes: Vec<(usize, Recording)>,
}

/// The most observation and action values a run's recordings may hold at their longest
/// (1 GB of `f32`).
pub const MAX_RECORDED_VALUES: u64 = 1 << 28;

impl BcRun {
    /// Gradient steps per [`BcRun::advance`] call while fitting.
    pub const FIT_CHUNK: u32 = 50;

    /// Checks the settings and the tasks (they must share observation and action sizes).
    pub fn new(tasks: &[Task], config: &BcConfig) -> Result<BcRun, String> {
        config.check()?;
        let first = tasks.first().ok_or("no tasks to learn")?;
        for task in tasks {
            if (task.observation.size, task.action_size())
                != (first.observation.size, first.action_size())
            {
                return Err(format!(
                    "tasks trained together must share observation and action sizes: {} has {} / {}, {} has {} / {}",
                    first.id,
                    first.observation.size,
                    first.action_size(),
                    task.id,
                    task.observation.size,
                    task.action_size()
                ));
            }
            if let Some(refusal) = Algorithm::Bc.refuses(task) {
                return Err(refusal);
            }
        }
        // The recordings at their longest (every episode running to the time limit) must fit
        // in memory: a wasm page has at most 4 GB, and an allocation past it is a trap.
        let rounds = 1 + config.dagger_rounds as u64;
        let per_round = config.demos.max(config.dagger_episodes) as u64;
        let values: u64 = tasks
            .iter()
            .map(|t| t.max_steps as u64 * (t.observation.size + t.action_size()) as u64)
            .sum::<u64>()
            * per_round
            * rounds;
        if values > MAX_RECORDED_VALUES {
            return Err(format!(
                "BC settings: demos: {} episodes per task{} could record up to {values} values, more than the {MAX_RECORDED_VALUES} a run may hold; record fewer",
                config.demos,
                if config.dagger_rounds > 0 {
                    " and round"
                } else {
                    ""
                }
            ));
        }
        Ok(BcRun {
            tasks: tasks.to_vec(),
            config: config.clone(),
            demos: Demonstrations::default(),
            learner: None,
            driver: None,
            round: 0,
            stage: Stage::Recording {
                task: 0,
                episode: 0,
            },
            round_episodes: 0,
            round_recorded: 0,
            round_successes: 0,
            learner_success: Vec::new(),
            exchange: None,
            own_episodes: Vec::new(),
        })
    }

    /// Makes this run one worker of several that split it: the other workers run the same
    /// tasks and settings. Each records its share of every round's episodes and `exchange`
    /// gathers them (in the same order for all) and sums the gradients, so every worker ends
    /// with the same weights.
    pub fn split_between_workers(&mut self, exchange: Box<dyn AllReduce>) {
        self.exchange = Some(exchange);
    }

    /// Does the next piece of work and says what happened; `None` once training is done.
    pub fn advance(&mut self) -> Result<Option<BcProgress>, String> {
        match self.stage {
            Stage::Finished => Ok(None),
            Stage::Recording { task, episode } => {
                let (per_task, seed_base) = if self.round == 0 {
                    (self.config.demos, DEMO_SEED_BASE)
                } else {
                    (
                        self.config.dagger_episodes,
                        DAGGER_SEED_BASE
                            + (self.round as u64 - 1) * self.config.dagger_episodes as u64,
                    )
                };
                let driver = match &self.driver {
                    Some(policy) => Driver::Learner(policy),
                    None => Driver::Expert {
                        noise: self.config.demo_noise,
                    },
                };
                // Split runs: worker i records the round's episodes i, i + workers, …
                let place = task * per_task as usize + episode as usize;
                let (index, workers) = self
                    .exchange
                    .as_ref()
                    .map_or((0, 1), |e| (e.index(), e.workers()));
                if place % workers == index {
                    let recording = record(
                        &self.tasks[task],
                        task as u32,
                        1,
                        seed_base + episode as u64,
                        driver,
                        |_| {},
                    )?;
                    self.round_successes += recording.successes;
                    self.round_recorded += 1;
                    if workers > 1 {
                        self.own_episodes.push((place, recording));
                    } else {
                        self.demos.append(recording.demonstrations)?;
                    }
                }
                self.round_episodes += 1;
                self.stage = if episode + 1 < per_task {
                    Stage::Recording {
                        task,
                        episode: episode + 1,
                    }
                } else if task + 1 < self.tasks.len() {
                    Stage::Recording {
                        task: task + 1,
                        episode: 0,
                    }
                } else {
                    Stage::Fitting { done: 0 }
                };
                if matches!(self.stage, Stage::Fitting { .. }) {
                    self.gather_own_episodes(self.tasks.len() * per_task as usize)?;
                }
                let learner_success = (self.round > 0)
                    .then(|| self.round_successes as f32 / self.round_recorded.max(1) as f32);
                if matches!(self.stage, Stage::Fitting { .. }) {
                    if let Some(s) = learner_success {
                        self.learner_success.push(s);
                    }
                    if self.learner.is_none() {
                        let ids = self.tasks.iter().map(|t| t.id.clone()).collect();
                        let learner = Learner::new(&self.demos, ids, &self.config)?;
                        learner.info.check()?;
                        self.learner = Some(learner);
                    }
                }
                Ok(Some(self.progress(BcPhase::Recording, learner_success)))
            }
            Stage::Fitting { done } => {
                let learner = self
                    .learner
                    .as_mut()
                    .ok_or("fitting before any demonstration")?;
                let steps = Self::FIT_CHUNK.min(self.config.steps - done);
                learner.fit(
                    &self.demos,
                    &self.config,
                    done,
                    steps,
                    u32::MAX,
                    self.exchange.as_deref_mut(),
                    |_| {},
                )?;
                let done = done + steps;
                self.stage = if done < self.config.steps {
                    Stage::Fitting { done }
                } else if self.round < self.config.dagger_rounds {
                    self.round += 1;
                    (
                        self.round_episodes,
                        self.round_recorded,
                        self.round_successes,
                    ) = (0, 0, 0);
                    self.driver = Some(learner.policy());
                    Stage::Recording {
                        task: 0,
                        episode: 0,
                    }
                } else {
                    Stage::Finished
                };
                Ok(Some(self.progress(BcPhase::Fitting, None)))
            }
        }
    }

    /// In a split run, gathers the round's `count` episodes from every worker and adds them
    /// to the demonstrations in round order (the order one worker alone records them in).
    fn gather_own_episodes(&mut self, count: usize) -> Result<(), String> {
        let Some(exchange) = self.exchange.as_deref_mut() else {
            return Ok(());
        };
        if exchange.workers() == 1 {
            return Ok(());
        }
        let (obs_dim, act_dim) = (self.tasks[0].observation.size, self.tasks[0].action_size());
        // One piece per episode: its success, then per step the observation, the label and
        // the task index (exact as f32).
        let width = obs_dim + act_dim + 1;
        let own: Vec<(usize, Vec<f32>)> = std::mem::take(&mut self.own_episodes)
            .into_iter()
            .map(|(place, r)| {
                let d = &r.demonstrations;
                let mut piece = Vec::with_capacity(1 + d.len() * width);
                piece.push(r.successes as f32);
                for row in 0..d.len() {
                    piece.extend_from_slice(&d.observations[row * obs_dim..(row + 1) * obs_dim]);
                    piece.extend_from_slice(&d.actions[row * act_dim..(row + 1) * act_dim]);
                    piece.push(d.task_indices[row] as f32);
                }
                (place, piece)
            })
            .collect();
        self.round_successes = 0;
        for piece in gather(exchange, &own, count)? {
            let mut demos = Demonstrations {
                obs_dim,
                act_dim,
                ..Default::default()
            };
            for row in piece[1..].chunks_exact(width) {
                demos.observations.extend_from_slice(&row[..obs_dim]);
                demos
                    .actions
                    .extend_from_slice(&row[obs_dim..obs_dim + act_dim]);
                demos.task_indices.push(row[obs_dim + act_dim] as u32);
            }
            self.round_successes += piece[0] as u32;
            self.demos.append(demos)?;
        }
        self.round_recorded = count as u32;
        Ok(())
    }

    /// The demonstrations gathered so far (every round's), in recording order.
    pub fn demonstrations(&self) -> &Demonstrations {
        &self.demos
    }

    /// Evaluates the policy as fitted so far on `task`'s seeds `first_seed..first_seed +
    /// episodes`. A split run that has finished shares the seeds out between its workers
    /// (every worker must call this with the same arguments, and all get the same result);
    /// one stopped early evaluates alone, since its other workers are not in step with it.
    pub fn evaluate(
        &mut self,
        task: &Task,
        first_seed: u64,
        episodes: u32,
    ) -> Result<Evaluation, String> {
        let policy = self.policy()?;
        let exchange = match self.stage {
            Stage::Finished => self.exchange.as_deref_mut(),
            _ => None,
        };
        evaluate_shared(&policy, task, first_seed, episodes, exchange)
    }

    fn progress(&mut self, phase: BcPhase, learner_success: Option<f32>) -> BcProgress {
        let (step, loss) = self
            .learner
            .as_ref()
            .map(|l| (l.steps_done, l.last_loss))
            .unwrap_or((0, f32::NAN));
        let tasks = self
            .learner
            .as_ref()
            .map(Learner::task_records)
            .unwrap_or_default();
        let conflict = self
            .learner
            .as_mut()
            .and_then(|l| l.multitask.as_mut())
            .and_then(MultiTaskStep::take_conflict);
        BcProgress {
            phase,
            round: self.round,
            step,
            loss,
            pairs: self.demos.len(),
            episodes: self.round_episodes,
            learner_success,
            tasks,
            conflict,
        }
    }

    /// The policy as fitted so far (an error before the first fit).
    pub fn policy(&self) -> Result<Policy, String> {
        let learner = self
            .learner
            .as_ref()
            .ok_or("no policy yet: the demonstrations are still being recorded")?;
        let mut policy = learner.policy();
        policy.info.training = serde_json::json!({
            "algorithm": if self.config.dagger_rounds > 0 { "bc+dagger" } else { "bc" },
            "config": self.config,
            "demonstrations": self.demos.len(),
            "demo_seeds": format!("{DEMO_SEED_BASE}..{}", DEMO_SEED_BASE + self.config.demos as u64),
            "dagger_learner_success": self.learner_success,
            "gradient_steps": learner.steps_done,
        });
        Ok(policy)
    }
}

/// Behaviour cloning on one or several tasks (one network), with `config.dagger_rounds`
/// rounds of DAgger: records `config.demos` expert episodes per task, fits, then each round
/// lets the learner drive `config.dagger_episodes` episodes per task, labels them with the
/// expert and fits again on everything. All tasks must share observation and action sizes.
pub fn train_tasks(
    tasks: &[Task],
    config: &BcConfig,
    mut progress: impl FnMut(BcProgress),
) -> Result<Policy, String> {
    let mut run = BcRun::new(tasks, config)?;
    while let Some(p) = run.advance()? {
        progress(p);
    }
    run.policy()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest change of any parameter made by one fit step taken as step `first_step`
    /// of a `steps`-step fit, from a fresh learner (Adam's first update moves every parameter
    /// by about the learning rate).
    fn first_update(anneal_lr: bool, first_step: u32, steps: u32) -> f32 {
        let n = 64;
        let demos = Demonstrations {
            observations: (0..n * 3).map(|i| (i % 7) as f32 * 0.3 - 1.0).collect(),
            actions: (0..n * 2).map(|i| (i % 5) as f32 * 0.4 - 0.8).collect(),
            task_indices: vec![0; n],
            obs_dim: 3,
            act_dim: 2,
        };
        let config = BcConfig {
            hidden: vec![8],
            steps,
            batch: 16,
            anneal_lr,
            ..Default::default()
        };
        let mut learner = Learner::new(&demos, vec!["t".into()], &config).unwrap();
        let before = learner.net.params().to_vec();
        learner
            .fit(&demos, &config, first_step, 1, u32::MAX, None, |_| {})
            .unwrap();
        learner
            .net
            .params()
            .iter()
            .flatten()
            .zip(before.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn the_learning_rate_falls_linearly_over_a_fit_unless_kept_constant() {
        let constant = first_update(false, 9, 10);
        assert!((constant - 1e-3).abs() < 1e-4, "constant rate: {constant}");
        assert!(
            (first_update(true, 0, 10) - constant).abs() < 1e-6,
            "annealing starts at the full rate"
        );
        let last = first_update(true, 9, 10);
        assert!(
            (last - 0.1 * constant).abs() < 1e-5,
            "the last of 10 steps runs at a tenth: {last}"
        );
    }
}
