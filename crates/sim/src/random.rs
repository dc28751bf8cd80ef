//! The random policy: uniform actions from a task's action space (a continuous box or a
//! discrete choice), drawn from a seeded stream so a run can be replayed.

use crate::env::uniform;
use polyskill_task::{ActionSpace, Task};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Draws uniformly random actions for one task.
pub struct RandomPolicy {
    space: ActionSpace,
    rng: ChaCha8Rng,
}

impl RandomPolicy {
    /// A random policy for `task`, its stream seeded by `seed`.
    pub fn new(task: &Task, seed: u64) -> RandomPolicy {
        RandomPolicy {
            space: task.action_space(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The next action: each component uniform in its bounds, or a uniform choice index.
    pub fn act(&mut self) -> Vec<f32> {
        match &self.space {
            ActionSpace::Continuous { low, high } => low
                .iter()
                .zip(high)
                .map(|(&l, &h)| uniform(&mut self.rng, l, h))
                .collect(),
            ActionSpace::Discrete { choices } => {
                vec![self.rng.random_range(0..choices.len()) as f32]
            }
        }
    }
}
