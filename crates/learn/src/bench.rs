//! Benchmarks shared by `polyskill bench` (native) and the in-browser bench page (wasm):
//! environment steps per second and policy inference samples per second. The clock is
//! passed in (milliseconds), because `std::time::Instant` does not exist in a browser.

use crate::{Architecture, Mlp, Policy, PolicyInfo};
use burn::tensor::Device;
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};
use serde::Serialize;

/// One inference measurement.
#[derive(Debug, Clone, Serialize)]
pub struct InferenceFigure {
    /// Batch size.
    pub batch: usize,
    /// Samples per second.
    pub samples_per_s: f64,
    /// Milliseconds per forward pass.
    pub ms_per_forward: f64,
}

/// The benchmark report.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Task benchmarked.
    pub task: String,
    /// Environment steps per second (expert actions, auto-reset), one thread.
    pub env_steps_per_s: f64,
    /// Physics steps per environment step.
    pub physics_steps_per_env_step: u32,
    /// MLP widths used for inference.
    pub mlp: Vec<usize>,
    /// Inference figures at batch 1 and 1024 on the CPU backend.
    pub inference: Vec<InferenceFigure>,
}

/// Times `steps` environment steps of `task` driven by its expert (zeros if it has none).
pub fn env_steps_per_second(task: &Task, steps: u32, now_ms: &dyn Fn() -> f64) -> Result<f64, String> {
    let mut env = Env::new(task.clone());
    let mut expert = ExpertPolicy::for_env(&env);
    let mut seed = 0;
    env.reset(seed);
    let start = now_ms();
    for _ in 0..steps {
        let action = expert.as_mut().map(|e| e.act(&env)).unwrap_or_else(|| vec![0.0; env.action_size()]);
        let s = env.step(&action).map_err(|e| e.to_string())?;
        if s.terminated || s.truncated {
            seed += 1;
            env.reset(seed);
            if let Some(e) = expert.as_mut() {
                e.reset();
            }
        }
    }
    Ok(steps as f64 / ((now_ms() - start) / 1000.0).max(1e-9))
}

/// A randomly initialised policy of the given widths on the CPU backend (for timing only).
pub fn random_policy(sizes: &[usize]) -> Policy {
    let device = Device::flex();
    Policy {
        mlp: Mlp::init(sizes, &device),
        info: PolicyInfo {
            architecture: Architecture::mlp(sizes),
            tasks: vec![],
            obs_mean: vec![0.0; sizes[0]],
            obs_std: vec![1.0; sizes[0]],
            training: serde_json::Value::Null,
            eval_success: None,
            eval_episodes: None,
        },
        device,
    }
}

/// Times `reps` forward passes at `batch` (after one warm-up pass).
pub fn inference(policy: &Policy, batch: usize, reps: u32, now_ms: &dyn Fn() -> f64) -> Result<InferenceFigure, String> {
    let input = vec![0.1f32; batch * policy.observation_size()];
    policy.act_batch(&input)?;
    let start = now_ms();
    for _ in 0..reps {
        policy.act_batch(&input)?;
    }
    let seconds = ((now_ms() - start) / 1000.0).max(1e-9);
    Ok(InferenceFigure {
        batch,
        samples_per_s: batch as f64 * reps as f64 / seconds,
        ms_per_forward: seconds * 1000.0 / reps as f64,
    })
}

/// The full report: env steps/s of `task`, and inference of a `obs→256→256→4` MLP at
/// batch 1 (`reps_b1` passes) and 1024 (`reps_b1024` passes).
pub fn report(task: &Task, env_steps: u32, reps_b1: u32, reps_b1024: u32, now_ms: &dyn Fn() -> f64) -> Result<BenchReport, String> {
    let sizes = vec![task.observation.size, 256, 256, polyskill_sim::HAND_ACTION_SIZE];
    let policy = random_policy(&sizes);
    Ok(BenchReport {
        task: task.id.clone(),
        env_steps_per_s: env_steps_per_second(task, env_steps, now_ms)?,
        physics_steps_per_env_step: task.frame_skip,
        inference: vec![inference(&policy, 1, reps_b1, now_ms)?, inference(&policy, 1024, reps_b1024, now_ms)?],
        mlp: sizes,
    })
}
