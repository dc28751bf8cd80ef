//! Behaviour cloning from a task's own expert: record demonstrations with the waypoint
//! expert, then regress the expert's actions with an MLP (MSE loss, Adam), the whole
//! algorithm in this file.

use crate::policy::{Architecture, Mlp, PolicyInfo};
use crate::Policy;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Seeds of demonstration episodes start here, far from the evaluation seeds (0, 1, 2, …).
pub const DEMO_SEED_BASE: u64 = 1_000_000;

/// Expert demonstrations: row-major observations and actions.
#[derive(Debug, Clone, Default)]
pub struct Demonstrations {
    /// Observations, `len × obs_dim`.
    pub observations: Vec<f32>,
    /// Expert actions, `len × act_dim`.
    pub actions: Vec<f32>,
    /// Observation size.
    pub obs_dim: usize,
    /// Action size.
    pub act_dim: usize,
}

impl Demonstrations {
    /// Number of (observation, action) pairs.
    pub fn len(&self) -> usize {
        if self.obs_dim == 0 { 0 } else { self.observations.len() / self.obs_dim }
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Records `episodes` expert episodes of `task` from seeds `DEMO_SEED_BASE + seed_offset + i`;
/// `episode_done` is called after each.
pub fn record_demonstrations(
    task: &Task,
    episodes: u32,
    seed_offset: u64,
    mut episode_done: impl FnMut(u32),
) -> Result<Demonstrations, String> {
    let mut env = Env::new(task.clone());
    let mut expert =
        ExpertPolicy::for_env(&env).ok_or_else(|| format!("task {} has no expert to clone", task.id))?;
    let mut demos = Demonstrations { obs_dim: env.observation_size(), act_dim: env.action_size(), ..Default::default() };
    for i in 0..episodes as u64 {
        env.reset(DEMO_SEED_BASE + seed_offset + i);
        expert.reset();
        loop {
            let action = expert.act(&env);
            demos.observations.extend_from_slice(env.observation());
            demos.actions.extend_from_slice(&action);
            let step = env.step(&action).map_err(|e| e.to_string())?;
            if step.terminated || step.truncated {
                break;
            }
        }
        episode_done(i as u32 + 1);
    }
    Ok(demos)
}

/// Behaviour-cloning settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BcConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Gradient steps.
    pub steps: u32,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seed for initialisation and minibatch sampling.
    pub seed: u64,
}

impl Default for BcConfig {
    fn default() -> Self {
        BcConfig { hidden: vec![256, 256], steps: 2000, batch: 256, learning_rate: 1e-3, seed: 0 }
    }
}

/// One training progress record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BcProgress {
    /// Gradient steps done.
    pub step: u32,
    /// Minibatch MSE loss at this step.
    pub loss: f32,
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

/// Trains an MLP policy on `demos`; `progress` is called every `report_every` steps.
pub fn train(
    demos: &Demonstrations,
    task_ids: Vec<String>,
    config: &BcConfig,
    report_every: u32,
    mut progress: impl FnMut(BcProgress),
) -> Result<Policy, String> {
    if demos.is_empty() {
        return Err("no demonstrations to learn from".into());
    }
    if config.batch == 0 || config.steps == 0 {
        return Err("batch and steps must be positive".into());
    }
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let mut sizes = vec![demos.obs_dim];
    sizes.extend(&config.hidden);
    sizes.push(demos.act_dim);
    let mut model = Mlp::init(&sizes, &device);
    let mut optim = AdamConfig::new().init();
    let (obs_mean, obs_std) = observation_statistics(demos);
    let normalised = crate::normalise(&demos.observations, &obs_mean, &obs_std);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let (d, a, n) = (demos.obs_dim, demos.act_dim, demos.len());
    let mut x = Vec::with_capacity(config.batch * d);
    let mut y = Vec::with_capacity(config.batch * a);
    for step in 1..=config.steps {
        x.clear();
        y.clear();
        for _ in 0..config.batch {
            let i = rng.random_range(0..n);
            x.extend_from_slice(&normalised[i * d..(i + 1) * d]);
            y.extend_from_slice(&demos.actions[i * a..(i + 1) * a]);
        }
        let xs = Tensor::<2>::from_data(TensorData::new(x.clone(), [config.batch, d]), &device);
        let ys = Tensor::<2>::from_data(TensorData::new(y.clone(), [config.batch, a]), &device);
        let loss = (model.forward(xs) - ys).powi_scalar(2).mean();
        if step == 1 || step % report_every.max(1) == 0 || step == config.steps {
            let value = loss.clone().into_scalar::<f32>();
            progress(BcProgress { step, loss: value });
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.learning_rate, model, grads);
    }
    let info = PolicyInfo {
        architecture: Architecture::mlp(&sizes),
        tasks: task_ids,
        obs_mean,
        obs_std,
        training: serde_json::json!({
            "algorithm": "bc",
            "config": config,
            "demonstrations": n,
        }),
        eval_success: None,
        eval_episodes: None,
    };
    Ok(Policy { mlp: model.valid(), info, device: Device::flex() })
}
