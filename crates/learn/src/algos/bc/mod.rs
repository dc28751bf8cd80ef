//! Behaviour cloning from the tasks' own experts, the whole algorithm in this directory: record
//! expert demonstrations, regress the expert's actions with an MLP (mean squared error, Adam,
//! on the fused CPU network of [`crate::nets::fused`]), and optionally DAgger: let the learner
//! drive, label every state it visits with the expert's action, add those pairs and fit
//! again. Several tasks train one network, told which task it is in by a one-hot input or by
//! one output head per task ([`Conditioning`]). With a combiner ([`BcConfig::combiner`]) each
//! task's loss is the mean over its own rows of the minibatch and the update goes through the
//! multi-task seam ([`MultiTaskStep`]: PCGrad, CAGrad, FAMO, …); without one, the minibatch's
//! rows are pooled into one mean loss (each task weighted by its share of the rows).
//!
//! A run can be split over several workers (data parallelism, e.g. two Web Workers): each
//! records its share of the episodes and every worker gathers them all in the same order;
//! each draws the same minibatch, takes its share of the rows, and an [`AllReduce`] sums the
//! gradients, so every worker takes the same Adam step and holds the same weights; the final
//! evaluation's seeds are shared out too ([`BcRun::evaluate`]).

//!
//! The files: [`demonstrations`] (recording the experts, DART noise and DAgger's learner
//! episodes), [`config`] (the settings and their check), [`fit`] (the network being fitted:
//! minibatches, losses per task, the multi-task seam, Adam), [`run`] (the staged run a worker
//! or a progress bar drives, and its split over workers); here the progress record and the
//! one-call entry points.

mod config;
mod demonstrations;
mod fit;
mod run;

pub use config::{BcConfig, Engine};
pub use demonstrations::{
    DAGGER_SEED_BASE, DEMO_SEED_BASE, Demonstrations, Driver, Recording, observation_statistics,
    record, record_demonstrations,
};
use fit::Learner;
pub use run::{BcRun, MAX_RECORDED_VALUES, train_tasks};

use crate::Policy;
use crate::multitask::{Conflict, MultiTaskStep};
use crate::parallel::AllReduce;
use crate::record::TaskRecord;
use serde::Serialize;

/// What training is doing when a progress record is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BcPhase {
    /// Recording expert (or DAgger learner) episodes.
    Recording,
    /// Gradient steps.
    Fitting,
}

/// One training progress record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BcProgress {
    /// What is happening.
    pub phase: BcPhase,
    /// DAgger round (0: the fit on expert demonstrations).
    pub round: u32,
    /// Gradient steps done in all.
    pub step: u32,
    /// Minibatch loss at the last step (mean squared error, or cross-entropy in a discrete
    /// task; NaN before the first).
    pub loss: f32,
    /// Labelled pairs in the dataset.
    pub pairs: usize,
    /// Episodes recorded in this round so far (all tasks; in a split run, by every worker).
    pub episodes: u32,
    /// Success rate of the learner's episodes in this DAgger round so far, if any (in a split
    /// run, of this worker's until the round's recording ends).
    pub learner_success: Option<f32>,
    /// Per-task figures of a multi-task fit: each task's loss at the last step (and, with a
    /// combiner, its weight in that update); empty for one task or before the first step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskRecord>,
    /// The gradient conflict between the tasks since the previous record (fits with a
    /// combiner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
}

/// Fits a policy to `demos` (rows labelled with indices into `tasks`); `progress` gets a
/// record every `report_every` gradient steps.
pub fn train(
    demos: &Demonstrations,
    tasks: Vec<String>,
    config: &BcConfig,
    report_every: u32,
    progress: impl FnMut(BcProgress),
) -> Result<Policy, String> {
    train_shared(demos, tasks, config, report_every, None, progress)
}

/// [`train`] as one worker of a data-parallel fit when given an `exchange` (every worker
/// passes the same demonstrations and settings, and ends with the same policy).
pub fn train_shared(
    demos: &Demonstrations,
    tasks: Vec<String>,
    config: &BcConfig,
    report_every: u32,
    exchange: Option<&mut dyn AllReduce>,
    mut progress: impl FnMut(BcProgress),
) -> Result<Policy, String> {
    config.check()?;
    if demos.is_empty() {
        return Err("no demonstrations to learn from".into());
    }
    let mut learner = Learner::new(demos, tasks, config)?;
    learner.info.check()?;
    let pairs = demos.len();
    learner.fit(
        demos,
        config,
        0,
        config.steps,
        report_every,
        exchange,
        |l| {
            progress(BcProgress {
                phase: BcPhase::Fitting,
                round: 0,
                step: l.steps_done,
                loss: l.last_loss,
                pairs,
                episodes: 0,
                learner_success: None,
                tasks: l.task_records(),
                conflict: l.multitask.as_mut().and_then(MultiTaskStep::take_conflict),
            })
        },
    )?;
    let mut policy = learner.policy();
    policy.info.training = crate::policy::training_metadata(
        "bc",
        config,
        serde_json::json!({ "demonstrations": pairs }),
    );
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest change of any parameter made by one fit step taken as step `first_step`
    /// of a `steps`-step fit, from a fresh learner (Adam's first update moves every parameter
    /// by about the learning rate).
    fn first_update(anneal_lr: bool, first_step: u32, steps: u32) -> f32 {
        let n = 64;
        let demos = Demonstrations {
            observations: (0..n * 3).map(|i| (i % 7) as f32 * 0.3 - 1.0).collect(),
            actions: (0..n * 2).map(|i| (i % 5) as f32 * 0.4 - 0.8).collect(),
            task_indices: vec![0; n],
            obs_dim: 3,
            act_dim: 2,
            choices: 0,
        };
        let config = BcConfig {
            hidden: vec![8],
            steps,
            batch: 16,
            anneal_lr,
            ..Default::default()
        };
        let mut learner = Learner::new(&demos, vec!["t".into()], &config).unwrap();
        let before = learner.net.params().to_vec();
        learner
            .fit(&demos, &config, first_step, 1, u32::MAX, None, |_| {})
            .unwrap();
        learner
            .net
            .params()
            .iter()
            .flatten()
            .zip(before.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn the_learning_rate_falls_linearly_over_a_fit_unless_kept_constant() {
        let constant = first_update(false, 9, 10);
        assert!((constant - 1e-3).abs() < 1e-4, "constant rate: {constant}");
        assert!(
            (first_update(true, 0, 10) - constant).abs() < 1e-6,
            "annealing starts at the full rate"
        );
        let last = first_update(true, 9, 10);
        assert!(
            (last - 0.1 * constant).abs() < 1e-5,
            "the last of 10 steps runs at a tenth: {last}"
        );
    }

    /// Cross-entropy's gradient (a discrete task's loss) against central differences of
    /// the summed loss, on one head of a multi-head output.
    #[test]
    fn the_cross_entropy_gradient_matches_finite_differences() {
        let demos = Demonstrations {
            observations: vec![0.0; 6],
            actions: vec![2.0, 0.0, 1.0],
            task_indices: vec![1, 0, 1],
            obs_dim: 2,
            act_dim: 1,
            choices: 3,
        };
        let width = 6; // 2 heads of 3 logits
        let out: Vec<f32> = (0..3 * width)
            .map(|i| (i as f32 * 0.37).sin() * 2.0)
            .collect();
        let (rows, picked) = ([0, 1, 2], [0, 1, 2]);
        let scale = 0.5;
        let (sum, grad) = fit::label_loss(&out, &picked, &rows, &demos, width, true, scale);
        // Row 0 is task 1 (second head) with label 2: −log softmax(out[3..6])[2].
        let z = &out[3..6];
        let lse = z.iter().map(|v| v.exp()).sum::<f32>().ln();
        assert!(
            (sum - (lse - z[2])
                - {
                    let z1 = &out[6..9];
                    z1.iter().map(|v| v.exp()).sum::<f32>().ln() - z1[0]
                }
                - {
                    let z2 = &out[15..18];
                    z2.iter().map(|v| v.exp()).sum::<f32>().ln() - z2[1]
                })
            .abs()
                < 1e-5
        );
        for o in 0..out.len() {
            let h = 1e-2;
            let at = |d: f32| {
                let mut shifted = out.clone();
                shifted[o] += d;
                fit::label_loss(&shifted, &picked, &rows, &demos, width, true, scale).0
            };
            let numeric = scale * (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (numeric - grad[o]).abs() < 2e-3,
                "output {o}: analytic {} vs numeric {numeric}",
                grad[o]
            );
        }
        // The other head of each row gets no gradient.
        assert!(grad[0..3].iter().all(|g| *g == 0.0));
    }
}
