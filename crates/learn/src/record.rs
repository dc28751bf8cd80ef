//! What every algorithm reports once per iteration ([`Record`]): progress, the recent
//! episodes' return and success overall and per task ([`TaskRecord`]), the losses, and in
//! multi-task runs the gradient conflict between tasks ([`Conflict`]). The window of recent
//! episodes that the figures are taken over is kept by [`EpisodeWindow`], written once here.

use crate::multitask::Conflict;
use serde::Serialize;
use std::collections::VecDeque;

/// Episodes the recent return and success are averaged over (overall and per task).
pub const RECENT_EPISODES: usize = 10;

/// What one iteration measured: the same fields for every algorithm (PPO, SAC, GRPO, RLOO,
/// behaviour cloning); a field an algorithm has no use for is 0 or absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Iterations done.
    pub iteration: u32,
    /// Environment steps so far.
    pub env_steps: u64,
    /// Episodes finished so far.
    pub episodes: u32,
    /// Mean return of the last [`RECENT_EPISODES`] finished episodes (0 before any).
    pub mean_return: f32,
    /// Success rate of the last [`RECENT_EPISODES`] finished episodes.
    pub success_rate: f32,
    /// Policy loss (PPO/GRPO: clipped surrogate; SAC: actor loss; last minibatch).
    pub policy_loss: f32,
    /// Value loss (PPO; SAC: critic loss; last minibatch).
    pub value_loss: f32,
    /// Mean policy entropy (last minibatch).
    pub entropy: f32,
    /// Approximate KL divergence between the old and new policy (last minibatch; 0 for SAC).
    pub approx_kl: f32,
    /// Learning rate used in this iteration (SAC: the actor's).
    pub learning_rate: f64,
    /// SAC's entropy coefficient (mean over tasks); absent for the other algorithms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
    /// Per-task figures of a multi-task run (empty for one task), in the run's task order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskRecord>,
    /// How the tasks' gradients of the shared parameters agreed in this iteration's updates
    /// (multi-task runs whose updates go through a [`crate::multitask::Combiner`]; SAC: the
    /// actor's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
    /// The same for the critics' updates, where the algorithm has critics of its own (SAC;
    /// PPO's critic shares the one update with its actor, so `conflict` covers both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub critic_conflict: Option<Conflict>,
}

impl Record {
    /// Whether the run has met a return target: at least [`RECENT_EPISODES`] episodes
    /// finished and their mean return at `target` or above (the one stop rule of the CLI's
    /// `--target-return` and the page's target).
    pub fn reaches(&self, target: f32) -> bool {
        self.episodes as usize >= RECENT_EPISODES && self.mean_return >= target
    }
}

/// One task's figures in a multi-task [`Record`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// The task's id.
    pub task: String,
    /// Episodes of this task finished so far.
    pub episodes: u32,
    /// Mean return of the task's last [`RECENT_EPISODES`] episodes (algorithms that play
    /// episodes while they train; not behaviour cloning's fit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_return: Option<f32>,
    /// Success rate of the task's last [`RECENT_EPISODES`] episodes (as `mean_return`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f32>,
    /// The task's own loss (mean over its rows of the last update), where the algorithm
    /// forms per-task losses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f32>,
    /// The weight the combiner gave the task in the last update (loss-weighting methods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f32>,
    /// SAC's entropy coefficient of this task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
}

/// The last [`RECENT_EPISODES`] episodes overall and of each task, and how many finished.
#[derive(Debug, Clone)]
pub struct EpisodeWindow {
    all: VecDeque<(f32, bool)>,
    per_task: Vec<VecDeque<(f32, bool)>>,
    counts: Vec<u32>,
}

impl EpisodeWindow {
    /// An empty window for `tasks` tasks.
    pub fn new(tasks: usize) -> EpisodeWindow {
        EpisodeWindow {
            all: VecDeque::new(),
            per_task: vec![VecDeque::new(); tasks],
            counts: vec![0; tasks],
        }
    }

    /// Adds a finished episode of task `task` (its return and whether it succeeded).
    pub fn push(&mut self, task: usize, episode_return: f32, success: bool) {
        fn keep(window: &mut VecDeque<(f32, bool)>, entry: (f32, bool)) {
            window.push_back(entry);
            if window.len() > RECENT_EPISODES {
                window.pop_front();
            }
        }
        keep(&mut self.all, (episode_return, success));
        if let (Some(window), Some(count)) =
            (self.per_task.get_mut(task), self.counts.get_mut(task))
        {
            keep(window, (episode_return, success));
            *count += 1;
        }
    }

    /// Episodes finished in all.
    pub fn episodes(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// Mean return and success rate of the recent episodes (0, 0 before any).
    pub fn recent(&self) -> (f32, f32) {
        mean_of(&self.all)
    }

    /// Per-task figures under the given task ids (empty for a single task).
    pub fn tasks(&self, ids: &[String]) -> Vec<TaskRecord> {
        if self.per_task.len() < 2 {
            return Vec::new();
        }
        self.per_task
            .iter()
            .zip(&self.counts)
            .zip(ids)
            .map(|((window, &episodes), id)| {
                let (mean_return, success_rate) = mean_of(window);
                TaskRecord {
                    task: id.clone(),
                    episodes,
                    mean_return: Some(mean_return),
                    success_rate: Some(success_rate),
                    loss: None,
                    weight: None,
                    alpha: None,
                }
            })
            .collect()
    }
}

fn mean_of(window: &VecDeque<(f32, bool)>) -> (f32, f32) {
    let k = window.len().max(1) as f32;
    (
        window.iter().map(|r| r.0).sum::<f32>() / k,
        window.iter().filter(|r| r.1).count() as f32 / k,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_last_ten_episodes_overall_and_per_task() {
        let mut w = EpisodeWindow::new(2);
        for i in 0..15 {
            w.push(i % 2, i as f32, i >= 10);
        }
        assert_eq!(w.episodes(), 15);
        let (mean, success) = w.recent();
        assert_eq!(mean, (5..15).sum::<i32>() as f32 / 10.0);
        assert_eq!(success, 0.5);
        let tasks = w.tasks(&["a".into(), "b".into()]);
        assert_eq!((tasks[0].episodes, tasks[1].episodes), (8, 7));
        // Task a (even i): the last 8 even numbers 0..14, of which 10, 12, 14 succeeded.
        assert_eq!(
            tasks[0].mean_return,
            Some((0..15).step_by(2).sum::<i32>() as f32 / 8.0)
        );
        assert_eq!(tasks[0].success_rate, Some(3.0 / 8.0));
        assert!(EpisodeWindow::new(1).tasks(&["a".into()]).is_empty());
    }
}
