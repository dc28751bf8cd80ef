//! Vectorised environments: N environments of one or several tasks stepped together with
//! batched (row-major) observations and actions, per-env seeds, and automatic reset.

use crate::sampler::{TaskSampler, TaskSamplerKind};
use crate::{Env, EpisodeResult, SimError};
use polyskill_task::Task;

/// Several environments stepped in lockstep. When an episode ends, its environment is reset
/// at once with its next seed and the returned row is the new episode's first observation
/// (Gymnasium's "same-step" autoreset); the finished episode is reported in [`VecStep::finished`].
/// Which task the environment plays next is its [`TaskSampler`]'s choice.
pub struct VecEnv {
    tasks: Vec<Task>,
    sampler: Box<dyn TaskSampler>,
    envs: Vec<Env>,
    task_index: Vec<usize>,
    seeds: Vec<u64>,
    returns: Vec<f32>,
    obs_size: usize,
    action_size: usize,
}

/// The result of stepping every environment once.
#[derive(Debug, Clone, PartialEq)]
pub struct VecStep {
    /// Next observations, `num_envs × observation_size` (a reset observation where an episode ended).
    pub observations: Vec<f32>,
    /// Rewards, one per environment.
    pub rewards: Vec<f32>,
    /// Whether each environment's episode terminated at this step.
    pub terminated: Vec<bool>,
    /// Whether each environment's episode was truncated at this step.
    pub truncated: Vec<bool>,
    /// Episodes that ended at this step: (environment index, task index, result).
    pub finished: Vec<(usize, usize, EpisodeResult)>,
    /// The last observation of each episode in `finished` (same order): what an off-policy
    /// learner bootstraps from when an episode was truncated rather than terminated.
    pub final_observations: Vec<Vec<f32>>,
}

impl VecEnv {
    /// `counts[i]` environments of `tasks[i]`; environment `e` starts from seed `seed + e` and
    /// each of its later episodes adds the number of environments, so no two episodes share a
    /// seed. All tasks must have the same observation and action sizes.
    pub fn new(tasks: &[Task], counts: &[usize], seed: u64) -> Result<VecEnv, String> {
        VecEnv::with_sampler(tasks, counts, seed, TaskSamplerKind::Fixed.build(seed))
    }

    /// As [`VecEnv::new`], with `sampler` choosing each later episode's task.
    pub fn with_sampler(
        tasks: &[Task],
        counts: &[usize],
        seed: u64,
        sampler: Box<dyn TaskSampler>,
    ) -> Result<VecEnv, String> {
        if tasks.is_empty() || tasks.len() != counts.len() || counts.iter().sum::<usize>() == 0 {
            return Err(
                "a VecEnv needs at least one task and one environment, and one count per task"
                    .into(),
            );
        }
        let (obs_size, action_size) = (tasks[0].observation.size, tasks[0].action_size());
        for t in tasks {
            if t.observation.size != obs_size || t.action_size() != action_size {
                return Err(format!(
                    "task {} observes {} values and takes {} actions; task {} observes {obs_size} and takes {action_size}",
                    t.id,
                    t.observation.size,
                    t.action_size(),
                    tasks[0].id
                ));
            }
        }
        let mut envs = Vec::new();
        let mut task_index = Vec::new();
        for (i, (task, &count)) in tasks.iter().zip(counts).enumerate() {
            for _ in 0..count {
                envs.push(Env::new(task.clone()));
                task_index.push(i);
            }
        }
        let n = envs.len();
        let mut v = VecEnv {
            tasks: tasks.to_vec(),
            sampler,
            envs,
            task_index,
            seeds: (0..n as u64).map(|e| seed + e).collect(),
            returns: vec![0.0; n],
            obs_size,
            action_size,
        };
        for e in 0..n {
            v.envs[e].reset(v.seeds[e]);
        }
        Ok(v)
    }

    /// Number of environments.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Observation size of every environment.
    pub fn observation_size(&self) -> usize {
        self.obs_size
    }

    /// Action size of every environment.
    pub fn action_size(&self) -> usize {
        self.action_size
    }

    /// The environments (e.g. for an expert to act on each).
    pub fn envs(&self) -> &[Env] {
        &self.envs
    }

    /// Which task each environment runs (an index into the tasks given to [`VecEnv::new`]).
    pub fn task_indices(&self) -> &[usize] {
        &self.task_index
    }

    /// The current observations, row-major.
    pub fn observations(&self) -> Vec<f32> {
        self.envs
            .iter()
            .flat_map(|e| e.observation().iter().copied())
            .collect()
    }

    /// Steps every environment with its row of `actions` (`num_envs × action_size`).
    pub fn step(&mut self, actions: &[f32]) -> Result<VecStep, SimError> {
        let n = self.envs.len();
        if actions.len() != n * self.action_size {
            return Err(SimError::ActionSize {
                expected: n * self.action_size,
                got: actions.len(),
            });
        }
        let mut out = VecStep {
            observations: Vec::with_capacity(n * self.obs_size),
            rewards: Vec::with_capacity(n),
            terminated: Vec::with_capacity(n),
            truncated: Vec::with_capacity(n),
            finished: Vec::new(),
            final_observations: Vec::new(),
        };
        for e in 0..n {
            let step =
                self.envs[e].step(&actions[e * self.action_size..(e + 1) * self.action_size])?;
            self.returns[e] += step.reward;
            out.rewards.push(step.reward);
            out.terminated.push(step.terminated);
            out.truncated.push(step.truncated);
            if step.terminated || step.truncated {
                let result = EpisodeResult {
                    episode_return: self.returns[e],
                    steps: self.envs[e].steps(),
                    success: self.envs[e].episode_success(),
                };
                out.finished.push((e, self.task_index[e], result));
                out.final_observations.push(step.observation);
                self.returns[e] = 0.0;
                self.seeds[e] += n as u64;
                let next = self
                    .sampler
                    .next_task(e, self.task_index[e], self.tasks.len())
                    .min(self.tasks.len() - 1);
                if next != self.task_index[e] {
                    self.envs[e] = Env::new(self.tasks[next].clone());
                    self.task_index[e] = next;
                }
                self.envs[e].reset(self.seeds[e]);
                out.observations
                    .extend_from_slice(self.envs[e].observation());
            } else {
                out.observations.extend_from_slice(&step.observation);
            }
        }
        Ok(out)
    }
}
