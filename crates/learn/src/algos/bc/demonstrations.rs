//! Labelled states: the experts' demonstrations (with DART noise while recording), DAgger's
//! learner episodes labelled by the expert, and the observation statistics a fit normalises by.

use crate::Policy;
use crate::algos::gaussian::standard_normal;
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seeds of demonstration episodes start here, far from the evaluation seeds (0, 1, 2, …).
pub const DEMO_SEED_BASE: u64 = 1_000_000;
/// Seeds of DAgger's learner episodes start here (apart from demonstrations and evaluation).
pub const DAGGER_SEED_BASE: u64 = 2_000_000;

/// Labelled states: row-major observations, the expert's actions, and each row's task.
/// In a discrete task (`choices > 0`) each label is the index of the expert's choice
/// (`act_dim` is 1).
#[derive(Debug, Clone, Default)]
pub struct Demonstrations {
    /// Observations, `len × obs_dim`.
    pub observations: Vec<f32>,
    /// Expert actions, `len × act_dim`.
    pub actions: Vec<f32>,
    /// Choices of a discrete task (0: continuous actions).
    pub choices: usize,
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
        if (other.obs_dim, other.act_dim, other.choices)
            != (self.obs_dim, self.act_dim, self.choices)
        {
            return Err(format!(
                "cannot pool demonstrations of {} observations / {} actions ({} choices) with {} / {} ({} choices)",
                other.obs_dim,
                other.act_dim,
                other.choices,
                self.obs_dim,
                self.act_dim,
                self.choices
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
    /// In a discrete task the noise is the probability of taking a uniformly drawn choice
    /// instead of the expert's (the label stays the expert's).
    Expert {
        /// Standard deviation of the noise, in action units (discrete: the probability).
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
    let choices = task.choices.len();
    let mut out = Recording {
        demonstrations: Demonstrations {
            obs_dim,
            act_dim,
            choices,
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
                Driver::Expert { noise } if noise > 0.0 && choices > 0 => {
                    if noise_rng.random::<f32>() < noise {
                        vec![noise_rng.random_range(0..choices) as f32]
                    } else {
                        label.clone()
                    }
                }
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
