//! [`BcRun`]: behaviour cloning with DAgger rounds, advancing one recorded episode or a few
//! gradient steps per call, optionally split over workers that gather each round's
//! episodes and sum every minibatch's gradients.

use super::{
    BcConfig, BcPhase, BcProgress, DAGGER_SEED_BASE, DEMO_SEED_BASE, Demonstrations, Driver,
    Learner, Recording, record,
};
use crate::Policy;
use crate::algos::Algorithm;
use crate::eval::{Evaluation, evaluate_shared};
use crate::multitask::MultiTaskStep;
use crate::parallel::{AllReduce, gather};
use polyskill_sim::task::Task;

/// Where a [`BcRun`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Recording episode `episode` of task `task` (the expert's in round 0, the learner's after).
    Recording { task: usize, episode: u32 },
    /// `done` gradient steps of this round's fit are taken.
    Fitting { done: u32 },
    /// All rounds are fitted.
    Finished,
}

/// Behaviour cloning (with DAgger rounds) that advances a little per call, so a caller (a
/// Web Worker, a progress bar) can report and stop in between: one recorded episode, or up
/// to [`BcRun::FIT_CHUNK`] gradient steps.
pub struct BcRun {
    tasks: Vec<Task>,
    config: BcConfig,
    demos: Demonstrations,
    learner: Option<Learner>,
    /// The policy driving this DAgger round's episodes.
    driver: Option<Policy>,
    round: u32,
    stage: Stage,
    round_episodes: u32,
    /// Episodes of this round recorded by this worker so far (all of them once gathered),
    /// and how many succeeded.
    round_recorded: u32,
    round_successes: u32,
    learner_success: Vec<f32>,
    /// Set when this run is one worker of several that split it.
    exchange: Option<Box<dyn AllReduce>>,
    /// This round's episodes recorded by this worker (when split), by their place in the
    /// round, to be gathered once the round's recording ends.
    own_episodes: Vec<(usize, Recording)>,
}

/// The most observation and action values a run's recordings may hold at their longest
/// (1 GB of `f32`).
pub const MAX_RECORDED_VALUES: u64 = 1 << 28;

impl BcRun {
    /// Gradient steps per [`BcRun::advance`] call while fitting.
    pub const FIT_CHUNK: u32 = 50;

    /// Checks the settings and the tasks (they must share observation and action sizes).
    pub fn new(tasks: &[Task], config: &BcConfig) -> Result<BcRun, String> {
        config.check()?;
        let first = tasks.first().ok_or("no tasks to learn")?;
        for task in tasks {
            if (
                task.observation.size,
                task.action_size(),
                task.choices.len(),
            ) != (
                first.observation.size,
                first.action_size(),
                first.choices.len(),
            ) {
                let shape = |t: &Task| {
                    let choices = match t.choices.len() {
                        0 => String::new(),
                        n => format!(" ({n} choices)"),
                    };
                    format!(
                        "{} has {} / {}{choices}",
                        t.id,
                        t.observation.size,
                        t.action_size()
                    )
                };
                return Err(format!(
                    "tasks trained together must share observation and action sizes: {}, {}",
                    shape(first),
                    shape(task)
                ));
            }
            if let Some(refusal) = Algorithm::Bc.refuses(task) {
                return Err(refusal);
            }
        }
        // The recordings at their longest (every episode running to the time limit) must fit
        // in memory: a wasm page has at most 4 GB, and an allocation past it is a trap.
        let rounds = 1 + config.dagger_rounds as u64;
        let per_round = config.demos.max(config.dagger_episodes) as u64;
        let values: u64 = tasks
            .iter()
            .map(|t| t.max_steps as u64 * (t.observation.size + t.action_size()) as u64)
            .sum::<u64>()
            * per_round
            * rounds;
        if values > MAX_RECORDED_VALUES {
            return Err(format!(
                "BC settings: demos: {} episodes per task{} could record up to {values} values, more than the {MAX_RECORDED_VALUES} a run may hold; record fewer",
                config.demos,
                if config.dagger_rounds > 0 {
                    " and round"
                } else {
                    ""
                }
            ));
        }
        Ok(BcRun {
            tasks: tasks.to_vec(),
            config: config.clone(),
            demos: Demonstrations::default(),
            learner: None,
            driver: None,
            round: 0,
            stage: Stage::Recording {
                task: 0,
                episode: 0,
            },
            round_episodes: 0,
            round_recorded: 0,
            round_successes: 0,
            learner_success: Vec::new(),
            exchange: None,
            own_episodes: Vec::new(),
        })
    }

    /// Makes this run one worker of several that split it: the other workers run the same
    /// tasks and settings. Each records its share of every round's episodes and `exchange`
    /// gathers them (in the same order for all) and sums the gradients, so every worker ends
    /// with the same weights.
    pub fn split_between_workers(&mut self, exchange: Box<dyn AllReduce>) {
        self.exchange = Some(exchange);
    }

    /// Does the next piece of work and says what happened; `None` once training is done.
    pub fn advance(&mut self) -> Result<Option<BcProgress>, String> {
        match self.stage {
            Stage::Finished => Ok(None),
            Stage::Recording { task, episode } => {
                let (per_task, seed_base) = if self.round == 0 {
                    (self.config.demos, DEMO_SEED_BASE)
                } else {
                    (
                        self.config.dagger_episodes,
                        DAGGER_SEED_BASE
                            + (self.round as u64 - 1) * self.config.dagger_episodes as u64,
                    )
                };
                let driver = match &self.driver {
                    Some(policy) => Driver::Learner(policy),
                    None => Driver::Expert {
                        noise: self.config.demo_noise,
                    },
                };
                // Split runs: worker i records the round's episodes i, i + workers, …
                let place = task * per_task as usize + episode as usize;
                let (index, workers) = self
                    .exchange
                    .as_ref()
                    .map_or((0, 1), |e| (e.index(), e.workers()));
                if place % workers == index {
                    let recording = record(
                        &self.tasks[task],
                        task as u32,
                        1,
                        seed_base + episode as u64,
                        driver,
                        |_| {},
                    )?;
                    self.round_successes += recording.successes;
                    self.round_recorded += 1;
                    if workers > 1 {
                        self.own_episodes.push((place, recording));
                    } else {
                        self.demos.append(recording.demonstrations)?;
                    }
                }
                self.round_episodes += 1;
                self.stage = if episode + 1 < per_task {
                    Stage::Recording {
                        task,
                        episode: episode + 1,
                    }
                } else if task + 1 < self.tasks.len() {
                    Stage::Recording {
                        task: task + 1,
                        episode: 0,
                    }
                } else {
                    Stage::Fitting { done: 0 }
                };
                if matches!(self.stage, Stage::Fitting { .. }) {
                    self.gather_own_episodes(self.tasks.len() * per_task as usize)?;
                }
                let learner_success = (self.round > 0)
                    .then(|| self.round_successes as f32 / self.round_recorded.max(1) as f32);
                if matches!(self.stage, Stage::Fitting { .. }) {
                    if let Some(s) = learner_success {
                        self.learner_success.push(s);
                    }
                    if self.learner.is_none() {
                        let ids = self.tasks.iter().map(|t| t.id.clone()).collect();
                        let learner = Learner::new(&self.demos, ids, &self.config)?;
                        learner.info.check()?;
                        self.learner = Some(learner);
                    }
                }
                Ok(Some(self.progress(BcPhase::Recording, learner_success)))
            }
            Stage::Fitting { done } => {
                let learner = self
                    .learner
                    .as_mut()
                    .ok_or("fitting before any demonstration")?;
                let steps = Self::FIT_CHUNK.min(self.config.steps - done);
                learner.fit(
                    &self.demos,
                    &self.config,
                    done,
                    steps,
                    u32::MAX,
                    self.exchange.as_deref_mut(),
                    |_| {},
                )?;
                let done = done + steps;
                self.stage = if done < self.config.steps {
                    Stage::Fitting { done }
                } else if self.round < self.config.dagger_rounds {
                    self.round += 1;
                    (
                        self.round_episodes,
                        self.round_recorded,
                        self.round_successes,
                    ) = (0, 0, 0);
                    self.driver = Some(learner.policy());
                    Stage::Recording {
                        task: 0,
                        episode: 0,
                    }
                } else {
                    Stage::Finished
                };
                Ok(Some(self.progress(BcPhase::Fitting, None)))
            }
        }
    }

    /// In a split run, gathers the round's `count` episodes from every worker and adds them
    /// to the demonstrations in round order (the order one worker alone records them in).
    fn gather_own_episodes(&mut self, count: usize) -> Result<(), String> {
        let Some(exchange) = self.exchange.as_deref_mut() else {
            return Ok(());
        };
        if exchange.workers() == 1 {
            return Ok(());
        }
        let (obs_dim, act_dim) = (self.tasks[0].observation.size, self.tasks[0].action_size());
        // One piece per episode: its success, then per step the observation, the label and
        // the task index (exact as f32).
        let width = obs_dim + act_dim + 1;
        let own: Vec<(usize, Vec<f32>)> = std::mem::take(&mut self.own_episodes)
            .into_iter()
            .map(|(place, r)| {
                let d = &r.demonstrations;
                let mut piece = Vec::with_capacity(1 + d.len() * width);
                piece.push(r.successes as f32);
                for row in 0..d.len() {
                    piece.extend_from_slice(&d.observations[row * obs_dim..(row + 1) * obs_dim]);
                    piece.extend_from_slice(&d.actions[row * act_dim..(row + 1) * act_dim]);
                    piece.push(d.task_indices[row] as f32);
                }
                (place, piece)
            })
            .collect();
        self.round_successes = 0;
        for piece in gather(exchange, &own, count)? {
            let mut demos = Demonstrations {
                obs_dim,
                act_dim,
                choices: self.tasks[0].choices.len(),
                ..Default::default()
            };
            for row in piece[1..].chunks_exact(width) {
                demos.observations.extend_from_slice(&row[..obs_dim]);
                demos
                    .actions
                    .extend_from_slice(&row[obs_dim..obs_dim + act_dim]);
                demos.task_indices.push(row[obs_dim + act_dim] as u32);
            }
            self.round_successes += piece[0] as u32;
            self.demos.append(demos)?;
        }
        self.round_recorded = count as u32;
        Ok(())
    }

    /// The demonstrations gathered so far (every round's), in recording order.
    pub fn demonstrations(&self) -> &Demonstrations {
        &self.demos
    }

    /// Evaluates the policy as fitted so far on `task`'s seeds `first_seed..first_seed +
    /// episodes`. A split run that has finished shares the seeds out between its workers
    /// (every worker must call this with the same arguments, and all get the same result);
    /// one stopped early evaluates alone, since its other workers are not in step with it.
    pub fn evaluate(
        &mut self,
        task: &Task,
        first_seed: u64,
        episodes: u32,
    ) -> Result<Evaluation, String> {
        let policy = self.policy()?;
        let exchange = match self.stage {
            Stage::Finished => self.exchange.as_deref_mut(),
            _ => None,
        };
        evaluate_shared(&policy, task, first_seed, episodes, exchange)
    }

    fn progress(&mut self, phase: BcPhase, learner_success: Option<f32>) -> BcProgress {
        let (step, loss) = self
            .learner
            .as_ref()
            .map(|l| (l.steps_done, l.last_loss))
            .unwrap_or((0, f32::NAN));
        let tasks = self
            .learner
            .as_ref()
            .map(Learner::task_records)
            .unwrap_or_default();
        let conflict = self
            .learner
            .as_mut()
            .and_then(|l| l.multitask.as_mut())
            .and_then(MultiTaskStep::take_conflict);
        BcProgress {
            phase,
            round: self.round,
            step,
            loss,
            pairs: self.demos.len(),
            episodes: self.round_episodes,
            learner_success,
            tasks,
            conflict,
        }
    }

    /// The policy as fitted so far (an error before the first fit).
    pub fn policy(&self) -> Result<Policy, String> {
        let learner = self
            .learner
            .as_ref()
            .ok_or("no policy yet: the demonstrations are still being recorded")?;
        let mut policy = learner.policy();
        policy.info.training = crate::policy::training_metadata(
            if self.config.dagger_rounds > 0 {
                "bc+dagger"
            } else {
                "bc"
            },
            &self.config,
            serde_json::json!({
                "demonstrations": self.demos.len(),
                "demo_seeds": format!("{DEMO_SEED_BASE}..{}", DEMO_SEED_BASE + self.config.demos as u64),
                "dagger_learner_success": self.learner_success,
                "gradient_steps": learner.steps_done,
            }),
        );
        Ok(policy)
    }
}

/// Behaviour cloning on one or several tasks (one network), with `config.dagger_rounds`
/// rounds of DAgger: records `config.demos` expert episodes per task, fits, then each round
/// lets the learner drive `config.dagger_episodes` episodes per task, labels them with the
/// expert and fits again on everything. All tasks must share observation and action sizes.
pub fn train_tasks(
    tasks: &[Task],
    config: &BcConfig,
    mut progress: impl FnMut(BcProgress),
) -> Result<Policy, String> {
    let mut run = BcRun::new(tasks, config)?;
    while let Some(p) = run.advance()? {
        progress(p);
    }
    run.policy()
}
