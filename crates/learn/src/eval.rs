//! Batched evaluation: many seeded episodes stepped in lockstep, one policy forward pass
//! per step for all of them, optionally with the seeds shared out between workers
//! ([`evaluate_shared`]); and [`BestCheckpoint`], which keeps a run's best policy by its
//! success on held-out validation seeds.

use crate::Policy;
use crate::parallel::{AllReduce, gather, shard_rows};
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
pub fn evaluate(
    policy: &Policy,
    task: &Task,
    first_seed: u64,
    episodes: u32,
) -> Result<Evaluation, String> {
    evaluate_shared(policy, task, first_seed, episodes, None)
}

/// [`evaluate`] as one of the workers of `exchange` (if any): each runs its share of the
/// seeds and every worker gets the same result over all of them — one worker's running them
/// all, as long as the policy's actions do not depend on how many rows a forward pass has
/// (a test checks it for the fused MLP). Every worker calls it with the same arguments.
pub fn evaluate_shared(
    policy: &Policy,
    task: &Task,
    first_seed: u64,
    episodes: u32,
    exchange: Option<&mut (dyn AllReduce + '_)>,
) -> Result<Evaluation, String> {
    let outcomes = match exchange {
        Some(exchange) if exchange.workers() > 1 => {
            let mine = shard_rows(episodes as usize, exchange.index(), exchange.workers());
            let seeds = first_seed + mine.start as u64..first_seed + mine.end as u64;
            let own: Vec<(usize, Vec<f32>)> = episode_outcomes(policy, task, seeds)?
                .into_iter()
                .zip(mine)
                .map(|((success, ret), place)| (place, vec![success as u8 as f32, ret]))
                .collect();
            gather(exchange, &own, episodes as usize)?
                .into_iter()
                .map(|o| (o[0] == 1.0, o[1]))
                .collect()
        }
        _ => episode_outcomes(policy, task, first_seed..first_seed + episodes as u64)?,
    };
    let n = outcomes.len().max(1) as f32;
    Ok(Evaluation {
        success_rate: outcomes.iter().filter(|o| o.0).count() as f32 / n,
        mean_return: outcomes.iter().map(|o| o.1).sum::<f32>() / n,
        episodes,
        first_seed,
    })
}

/// Whether each seed's episode succeeded at some step, and its return.
fn episode_outcomes(
    policy: &Policy,
    task: &Task,
    seeds: std::ops::Range<u64>,
) -> Result<Vec<(bool, f32)>, String> {
    let mut envs: Vec<Env> = seeds.clone().map(|_| Env::new(task.clone())).collect();
    let dim = task.observation.size;
    policy.info.task_index(Some(&task.id))?;
    if dim != policy.observation_size() {
        return Err(format!(
            "policy takes {} inputs; task {} observes {dim}",
            policy.observation_size(),
            task.id
        ));
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
    for (env, seed) in envs.iter_mut().zip(seeds) {
        env.reset(seed);
    }
    let mut done = vec![false; envs.len()];
    while done.iter().any(|d| !d) {
        let live: Vec<usize> = (0..envs.len()).filter(|&i| !done[i]).collect();
        let obs: Vec<f32> = live
            .iter()
            .flat_map(|&i| envs[i].observation().to_vec())
            .collect();
        let actions = policy.act_in(&obs, Some(&task.id))?;
        let a = policy.action_size();
        for (k, &i) in live.iter().enumerate() {
            let step = envs[i]
                .step(&actions[k * a..(k + 1) * a])
                .map_err(|e| e.to_string())?;
            returns[i] += step.reward;
            done[i] = step.terminated || step.truncated;
        }
    }
    Ok(envs
        .iter()
        .map(|e| e.episode_success())
        .zip(returns)
        .collect())
}

/// Validation episodes use seeds from here: apart from the evaluation seeds (0..N) and the
/// demonstrations' (from 1 000 000), so choosing a checkpoint does not peek at the test.
pub const VALIDATION_SEEDS: u64 = 2_000_000_000;

/// A checkpoint's validation: mean success and return over its tasks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    /// Environment steps of the run when the policy was taken.
    pub env_steps: u64,
    /// Mean over tasks of the success rate on the validation seeds.
    pub success_rate: f32,
    /// Mean over tasks of the mean return on the validation seeds.
    pub mean_return: f32,
}

/// Keeps the best policy of a training run: every `every` environment steps the policy as
/// it stands is evaluated on `episodes` validation seeds per task, and kept if its success
/// (then its return) beats the best so far. A run's last policy is not always its best
/// (SAC's success on reach flips between checkpoints near the success radius).
pub struct BestCheckpoint {
    tasks: Vec<Task>,
    every: u64,
    episodes: u32,
    next_at: u64,
    best: Option<(Policy, Validation)>,
    /// Every validation made, in order.
    pub history: Vec<Validation>,
}

impl BestCheckpoint {
    /// Validates on `tasks` every `every` (≥ 1) environment steps, `episodes` (≥ 1) seeds each.
    pub fn new(tasks: &[Task], every: u64, episodes: u32) -> Result<BestCheckpoint, String> {
        if every == 0 || episodes == 0 {
            return Err(format!(
                "keep-best: validate every ≥ 1 env steps on ≥ 1 episodes; got every {every}, episodes {episodes}"
            ));
        }
        Ok(BestCheckpoint {
            tasks: tasks.to_vec(),
            every,
            episodes,
            next_at: every,
            best: None,
            history: Vec::new(),
        })
    }

    /// Called after each iteration with the run's step count and its policy as it stands
    /// (made only when a validation is due): validates it if due, keeping it if best.
    pub fn observe(
        &mut self,
        env_steps: u64,
        policy: impl FnOnce() -> Policy,
    ) -> Result<Option<&Validation>, String> {
        if env_steps < self.next_at {
            return Ok(None);
        }
        self.next_at = (env_steps / self.every + 1) * self.every;
        let policy = policy();
        let validation = validate(
            &policy,
            &self.tasks,
            VALIDATION_SEEDS,
            self.episodes,
            env_steps,
        )?;
        let better = self.best.as_ref().is_none_or(|(_, best)| {
            (validation.success_rate, validation.mean_return)
                > (best.success_rate, best.mean_return)
        });
        self.history.push(validation.clone());
        if better {
            self.best = Some((policy, validation));
        }
        Ok(self.history.last())
    }

    /// The best policy validated, with its validation (None if none was due).
    pub fn into_best(self) -> Option<(Policy, Validation)> {
        self.best
    }
}

/// Mean success and return of `policy` over `tasks`, `episodes` seeds from `first_seed` each.
pub fn validate(
    policy: &Policy,
    tasks: &[Task],
    first_seed: u64,
    episodes: u32,
    env_steps: u64,
) -> Result<Validation, String> {
    let evaluations = tasks
        .iter()
        .map(|t| evaluate(policy, t, first_seed, episodes))
        .collect::<Result<Vec<_>, _>>()?;
    let n = evaluations.len().max(1) as f32;
    Ok(Validation {
        env_steps,
        success_rate: evaluations.iter().map(|e| e.success_rate).sum::<f32>() / n,
        mean_return: evaluations.iter().map(|e| e.mean_return).sum::<f32>() / n,
    })
}
