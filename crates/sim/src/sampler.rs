//! Which task an environment of a multi-task [`crate::VecEnv`] plays next: the hook where
//! curricula plug in. Asked every time an environment's episode ends, before it resets.
//! Today: [`TaskSamplerKind::Fixed`] (each environment keeps its task, so every task gets the
//! share of steps its environment count says, Meta-World MT10's protocol) and
//! [`TaskSamplerKind::Uniform`] (each new episode's task drawn uniformly).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Chooses the task of an environment's next episode.
pub trait TaskSampler: Send {
    /// The task (an index into the VecEnv's tasks, below `tasks`) that environment `env`
    /// plays next; `finished` is the task of the episode that just ended.
    fn next_task(&mut self, env: usize, finished: usize, tasks: usize) -> usize;
}

/// The registered samplers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskSamplerKind {
    /// Every environment keeps the task it started with.
    #[default]
    Fixed,
    /// Every episode's task is drawn uniformly at random (seeded).
    Uniform,
}

impl TaskSamplerKind {
    /// A sampler of this kind whose randomness comes from `seed`.
    pub fn build(self, seed: u64) -> Box<dyn TaskSampler> {
        match self {
            TaskSamplerKind::Fixed => Box::new(Fixed),
            TaskSamplerKind::Uniform => {
                Box::new(Uniform(ChaCha8Rng::seed_from_u64(seed ^ 0x5a_3b1e)))
            }
        }
    }
}

/// Keeps each environment on its task.
#[derive(Debug, Clone, Copy)]
pub struct Fixed;

impl TaskSampler for Fixed {
    fn next_task(&mut self, _env: usize, finished: usize, _tasks: usize) -> usize {
        finished
    }
}

/// Draws every episode's task uniformly.
#[derive(Debug, Clone)]
pub struct Uniform(ChaCha8Rng);

impl TaskSampler for Uniform {
    fn next_task(&mut self, _env: usize, _finished: usize, tasks: usize) -> usize {
        self.0.random_range(0..tasks)
    }
}
