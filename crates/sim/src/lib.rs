//! Polyskill simulation: a rapier3d world built from a task file, a Gymnasium-style
//! environment ([`Env`]), vectorised environments ([`VecEnv`]), the expert interpreter
//! ([`ExpertPolicy`]), the random policy ([`RandomPolicy`]), the task sampler of multi-task
//! runs ([`TaskSampler`]), and episode helpers shared by
//! the CLI, the learner and the wasm API.

mod env;
mod expert;
mod random;
pub mod sampler;
mod vec_env;

pub use env::{Env, HAND_ACTION_SIZE, Role, SimError, Step, Visual, long_tail_tolerance};
pub use expert::ExpertPolicy;
pub use polyskill_task as task;
pub use random::RandomPolicy;
pub use sampler::{TaskSampler, TaskSamplerKind};
pub use vec_env::{VecEnv, VecStep};

/// Outcome of one finished episode.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EpisodeResult {
    /// Sum of rewards.
    pub episode_return: f32,
    /// Steps taken.
    pub steps: u32,
    /// Whether success held at any step.
    pub success: bool,
}

/// Runs one episode from `seed` with `policy` choosing each action from the env.
pub fn run_episode(
    env: &mut Env,
    seed: u64,
    mut policy: impl FnMut(&Env) -> Vec<f32>,
) -> Result<EpisodeResult, SimError> {
    env.reset(seed);
    let mut episode_return = 0.0;
    loop {
        let action = policy(env);
        let step = env.step(&action)?;
        episode_return += step.reward;
        if step.terminated || step.truncated {
            return Ok(EpisodeResult {
                episode_return,
                steps: env.steps(),
                success: env.episode_success(),
            });
        }
    }
}

/// FNV-1a over the bits of a sequence of floats: a compact fingerprint of a trajectory,
/// equal on two platforms only if every value is bit-identical.
#[derive(Debug, Clone, Copy)]
pub struct TrajectoryHash(u64);

impl Default for TrajectoryHash {
    fn default() -> Self {
        TrajectoryHash(0xcbf2_9ce4_8422_2325)
    }
}

impl TrajectoryHash {
    /// Mixes floats into the hash.
    pub fn add(&mut self, values: &[f32]) {
        for v in values {
            for byte in v.to_bits().to_le_bytes() {
                self.0 = (self.0 ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }

    /// The hash as 16 hex digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The reference episode used by the cross-platform determinism check: `steps` steps of the
/// task's expert from `seed`, hashing every observation and reward. Natively and in wasm the
/// result must equal the committed fixture `tests/fixtures/determinism.json`.
pub fn reference_trajectory_hash(env: &mut Env, seed: u64, steps: u32) -> Result<String, SimError> {
    let mut hash = TrajectoryHash::default();
    env.reset(seed);
    hash.add(env.observation());
    let mut expert = ExpertPolicy::for_env(env);
    for _ in 0..steps {
        let action = match expert.as_mut() {
            Some(e) => e.act(env),
            None => vec![0.0; env.action_size()],
        };
        let step = env.step(&action)?;
        hash.add(&step.observation);
        hash.add(&[step.reward]);
        if step.terminated || step.truncated {
            break;
        }
    }
    Ok(hash.hex())
}
