//! Batched evaluation: many seeded episodes stepped in lockstep, one policy forward pass
//! per step for all of them.

use crate::Policy;
use polyskill_sim::Env;
use polyskill_sim::task::Task;
use serde::Serialize;

/// Result of evaluating a policy on a set of seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Fraction of episodes in which success held at some step.
    pub success_rate: f32,
    /// Mean undiscounted return.
    pub mean_return: f32,
    /// Number of episodes.
    pub episodes: u32,
    /// First seed; episodes use `first_seed .. first_seed + episodes`.
    pub first_seed: u64,
}

/// Evaluates `policy` on `task` for `episodes` seeds starting at `first_seed` (a multi-task
/// policy is told the task).
pub fn evaluate(policy: &Policy, task: &Task, first_seed: u64, episodes: u32) -> Result<Evaluation, String> {
    let mut envs: Vec<Env> = (0..episodes).map(|_| Env::new(task.clone())).collect();
    let dim = task.observation.size;
    policy.info.task_index(Some(&task.id))?;
    if dim != policy.observation_size() {
        return Err(format!("policy takes {} inputs; task {} observes {dim}", policy.observation_size(), task.id));
    }
    if task.action_size() != policy.action_size() {
        return Err(format!(
            "policy returns {} action values; task {} takes {}",
            policy.action_size(),
            task.id,
            task.action_size()
        ));
    }
    let mut returns = vec![0.0f32; envs.len()];
    for (i, env) in envs.iter_mut().enumerate() {
        env.reset(first_seed + i as u64);
    }
    let mut done = vec![false; envs.len()];
    while done.iter().any(|d| !d) {
        let live: Vec<usize> = (0..envs.len()).filter(|&i| !done[i]).collect();
        let obs: Vec<f32> = live.iter().flat_map(|&i| envs[i].observation().to_vec()).collect();
        let actions = policy.act_in(&obs, Some(&task.id))?;
        let a = policy.action_size();
        for (k, &i) in live.iter().enumerate() {
            let step = envs[i].step(&actions[k * a..(k + 1) * a]).map_err(|e| e.to_string())?;
            returns[i] += step.reward;
            done[i] = step.terminated || step.truncated;
        }
    }
    let n = envs.len().max(1) as f32;
    Ok(Evaluation {
        success_rate: envs.iter().filter(|e| e.episode_success()).count() as f32 / n,
        mean_return: returns.iter().sum::<f32>() / n,
        episodes,
        first_seed,
    })
}
