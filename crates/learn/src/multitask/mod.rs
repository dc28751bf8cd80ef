//! How several tasks share one update: the multi-task seam every algorithm goes through.
//!
//! An algorithm in multi-task mode forms each task's loss on that task's rows and the
//! task's gradient of every parameter, and hands them to a [`MultiTaskStep`]. The step
//! computes the tasks' Gram matrix over the **shared** parameters, asks its [`Combiner`] for
//! one weight per task, and returns the update `Σₜ wₜ gₜ` on the shared parameters, while
//! task-specific parameters (a task's own output head) keep their own task's gradient. It also
//! measures the gradient conflict ([`Conflict`]: pairwise cosine similarities).
//!
//! Every combiner of the literature listed in [`CombinerKind`] fits this form, because each
//! returns a combination of the task gradients whose coefficients follow from the Gram matrix
//! and the losses alone: equal weighting, uncertainty weighting, DWA, PCGrad, CAGrad, FAMO
//! and Nash-MTL. So a combiner costs one Gram matrix (T²/2 dot products over the shared
//! parameters) and O(T³) work on it, never a second pass over the network.
//!
//! One file per combiner; [`CombinerKind`] is the one place their names are registered (the
//! CLI, the wasm API and compare specs read it). Which task an environment plays next is the
//! simulator's [`polyskill_sim::TaskSampler`].

pub mod cagrad;
pub mod conflict;
pub mod dwa;
pub mod equal;
pub mod famo;
pub mod nash_mtl;
pub mod pcgrad;
pub mod rep_mtl;
pub mod task_sam;
pub mod uncertainty;

pub use conflict::{Conflict, ConflictMeter, Gram};
pub use polyskill_sim::{TaskSampler, TaskSamplerKind};

use serde::{Deserialize, Serialize};

/// A method that turns the tasks' gradients (seen through their Gram matrix) and losses into
/// one weight per task: the update is `Σₜ wₜ gₜ`.
pub trait Combiner: Send {
    /// The weights of this update. `gram` holds the dot products of the tasks' shared-parameter
    /// gradients; `losses` each task's loss (a mean over its rows).
    fn weights(&mut self, gram: &Gram, losses: &[f32]) -> Vec<f32>;
}

/// The registered combiners (the names the CLI, the page and compare specs use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CombinerKind {
    /// Σₜ gₜ.
    Sum,
    /// (1/T) Σₜ gₜ.
    Mean,
    /// Kendall et al. 2018: learned homoscedastic-uncertainty weights.
    Uncertainty,
    /// Liu et al. 2019: dynamic weight average from the rate of each loss's descent.
    Dwa,
    /// Yu et al. 2020: gradient surgery on conflicting pairs.
    Pcgrad,
    /// Liu et al. 2021: conflict-averse gradient descent.
    Cagrad,
    /// Liu et al. 2023: fast adaptive multitask optimisation.
    Famo,
    /// Navon et al. 2022: the Nash bargaining solution.
    NashMtl,
}

impl CombinerKind {
    /// Every registered combiner, in the order menus list them.
    pub const ALL: [CombinerKind; 8] = [
        CombinerKind::Mean,
        CombinerKind::Sum,
        CombinerKind::Uncertainty,
        CombinerKind::Dwa,
        CombinerKind::Pcgrad,
        CombinerKind::Cagrad,
        CombinerKind::Famo,
        CombinerKind::NashMtl,
    ];

    /// The name used in settings and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CombinerKind::Sum => "sum",
            CombinerKind::Mean => "mean",
            CombinerKind::Uncertainty => "uncertainty",
            CombinerKind::Dwa => "dwa",
            CombinerKind::Pcgrad => "pcgrad",
            CombinerKind::Cagrad => "cagrad",
            CombinerKind::Famo => "famo",
            CombinerKind::NashMtl => "nash-mtl",
        }
    }

    /// The combiner called `name`, or an error listing the valid names.
    pub fn parse(name: &str) -> Result<CombinerKind, String> {
        CombinerKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = CombinerKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown combiner \"{name}\"; the combiners are {}",
                    names.join(", ")
                )
            })
    }

    /// Whether the method looks at the gradients (else only at the losses).
    pub fn uses_gradients(self) -> bool {
        matches!(
            self,
            CombinerKind::Pcgrad | CombinerKind::Cagrad | CombinerKind::NashMtl
        )
    }
}

impl std::fmt::Display for CombinerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A combiner and its settings, as a training configuration holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CombinerConfig {
    /// Which method.
    pub kind: CombinerKind,
    /// CAGrad's c in [0, 1): how far the update may move from the mean gradient to raise the
    /// worst task's improvement (0 is the mean); 0.9 by default.
    pub cagrad_c: f32,
    /// FAMO's learning rate of the weight logits (β; the paper's 0.025).
    pub famo_lr: f32,
    /// FAMO's decay of the weight logits (γ; the paper's 0.001).
    pub famo_decay: f32,
    /// DWA's temperature (T = 2 in the paper).
    pub dwa_temperature: f32,
    /// DWA: updates whose losses are averaged into one "epoch" of the method.
    pub dwa_window: u32,
    /// Learning rate of uncertainty weighting's log-variances.
    pub uncertainty_lr: f32,
    /// Seed of the method's own randomness (PCGrad's task order).
    pub seed: u64,
}

impl Default for CombinerConfig {
    fn default() -> Self {
        CombinerConfig {
            kind: CombinerKind::Mean,
            cagrad_c: 0.9,
            famo_lr: 0.025,
            famo_decay: 0.001,
            dwa_temperature: 2.0,
            dwa_window: 20,
            uncertainty_lr: 1e-3,
            seed: 0,
        }
    }
}

impl CombinerConfig {
    /// The default settings of `kind`.
    pub fn of(kind: CombinerKind) -> CombinerConfig {
        CombinerConfig {
            kind,
            ..CombinerConfig::default()
        }
    }

    /// Rejects settings out of range, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let mut check = crate::SettingsCheck::default();
        check.need(
            (0.0..1.0).contains(&self.cagrad_c),
            "cagrad_c",
            "must be in [0, 1)",
        );
        check.need(
            self.famo_lr.is_finite() && self.famo_lr > 0.0 && self.famo_lr <= 1.0,
            "famo_lr",
            "must be in (0, 1]",
        );
        check.need(
            self.famo_decay.is_finite() && (0.0..1.0).contains(&self.famo_decay),
            "famo_decay",
            "must be in [0, 1)",
        );
        check.need(
            self.dwa_temperature.is_finite() && self.dwa_temperature > 0.0,
            "dwa_temperature",
            "must be > 0",
        );
        check.need(
            (1..=100_000).contains(&self.dwa_window),
            "dwa_window",
            "must be in 1..=100000",
        );
        check.need(
            self.uncertainty_lr.is_finite()
                && self.uncertainty_lr > 0.0
                && self.uncertainty_lr < 1.0,
            "uncertainty_lr",
            "must be in (0, 1)",
        );
        check.finish("combiner settings")
    }

    /// A fresh combiner for `tasks` tasks.
    pub fn build(&self, tasks: usize) -> Box<dyn Combiner> {
        match self.kind {
            CombinerKind::Sum => Box::new(equal::Equal { mean: false }),
            CombinerKind::Mean => Box::new(equal::Equal { mean: true }),
            CombinerKind::Uncertainty => {
                Box::new(uncertainty::Uncertainty::new(tasks, self.uncertainty_lr))
            }
            CombinerKind::Dwa => {
                Box::new(dwa::Dwa::new(tasks, self.dwa_temperature, self.dwa_window))
            }
            CombinerKind::Pcgrad => Box::new(pcgrad::PcGrad::new(self.seed)),
            CombinerKind::Cagrad => Box::new(cagrad::CaGrad { c: self.cagrad_c }),
            CombinerKind::Famo => Box::new(famo::Famo::new(tasks, self.famo_lr, self.famo_decay)),
            CombinerKind::NashMtl => Box::new(nash_mtl::NashMtl),
        }
    }
}

/// The multi-task update of one network: per-task gradients in, one combined gradient out,
/// with the gradient conflict measured on the way. Parameters are flat lists (a network's
/// weight and bias vectors in order); `shared[k][i]` says whether element `i` of list `k` is
/// shared by the tasks (else it belongs to one task, e.g. its output head, and takes the sum
/// of the tasks' gradients there, which is its own task's gradient).
pub struct MultiTaskStep {
    combiner: Box<dyn Combiner>,
    kind: CombinerKind,
    shared: Option<Vec<Vec<bool>>>,
    meter: ConflictMeter,
    last_weights: Vec<f32>,
}

impl MultiTaskStep {
    /// The step of `config`'s combiner for `tasks` tasks; `shared` as in the type's doc (`None`:
    /// every parameter is shared).
    pub fn new(
        config: &CombinerConfig,
        tasks: usize,
        shared: Option<Vec<Vec<bool>>>,
    ) -> Result<MultiTaskStep, String> {
        config.check()?;
        Ok(MultiTaskStep {
            combiner: config.build(tasks),
            kind: config.kind,
            shared,
            meter: ConflictMeter::new(tasks),
            last_weights: vec![1.0; tasks],
        })
    }

    /// The combiner's name.
    pub fn kind(&self) -> CombinerKind {
        self.kind
    }

    /// Combines `task_grads[t]` (task t's gradient of every parameter list; a task with no rows
    /// in this update passes `None`) and the tasks' `losses` into one gradient of every list.
    /// Tasks without rows take no part (their weight is 0 and they do not enter the Gram
    /// matrix or the conflict statistic).
    pub fn combine(
        &mut self,
        task_grads: &[Option<Vec<Vec<f32>>>],
        losses: &[f32],
    ) -> Result<Vec<Vec<f32>>, String> {
        let present: Vec<usize> = (0..task_grads.len())
            .filter(|&t| task_grads[t].is_some())
            .collect();
        let grads: Vec<&Vec<Vec<f32>>> = present
            .iter()
            .filter_map(|&t| task_grads[t].as_ref())
            .collect();
        let first = grads
            .first()
            .ok_or("a multi-task update needs at least one task with rows")?;
        let shapes: Vec<usize> = first.iter().map(Vec::len).collect();
        if grads
            .iter()
            .any(|g| g.iter().map(Vec::len).ne(shapes.iter().copied()))
        {
            return Err("the tasks' gradients have different shapes".into());
        }
        let gram = Gram::of(&grads, self.shared.as_deref());
        let weights = self.weigh(&gram, &present, losses)?;
        let mut out: Vec<Vec<f32>> = shapes.iter().map(|&n| vec![0.0; n]).collect();
        for (g, &w) in grads.iter().zip(&weights) {
            for (k, (o, list)) in out.iter_mut().zip(g.iter()).enumerate() {
                match self.shared.as_ref().and_then(|s| s.get(k)) {
                    Some(mask) => {
                        for ((o, &v), &shared) in o.iter_mut().zip(list).zip(mask) {
                            *o += if shared { w * v } else { v };
                        }
                    }
                    None => o.iter_mut().zip(list).for_each(|(o, &v)| *o += w * v),
                }
            }
        }
        Ok(out)
    }

    /// The weights of the tasks `present` (indices into all tasks) from their Gram matrix over
    /// the shared parameters and every task's loss, with the conflict measured; for callers that
    /// form the Gram matrix without per-task gradients (the fused MLP's one-pass path) and then
    /// apply `Σₜ wₜ gₜ` themselves.
    pub fn weigh(
        &mut self,
        gram: &Gram,
        present: &[usize],
        losses: &[f32],
    ) -> Result<Vec<f32>, String> {
        if present.is_empty() || gram.tasks != present.len() {
            return Err(
                "a multi-task update needs at least one task with rows, and one Gram row each"
                    .into(),
            );
        }
        self.meter.add(gram, present);
        let present_losses: Vec<f32> = present
            .iter()
            .map(|&t| losses.get(t).copied().unwrap_or(0.0))
            .collect();
        let all = self.last_weights.len();
        let weights = if present.len() == all {
            self.combiner.weights(gram, &present_losses)
        } else {
            // A partial update (some tasks had no rows): the stateful methods' bookkeeping is
            // per task, so they are not consulted; the tasks present are averaged.
            vec![1.0 / present.len() as f32; present.len()]
        };
        if weights.iter().any(|w| !w.is_finite()) {
            return Err(format!(
                "the {} combiner gave non-finite task weights {weights:?}",
                self.kind
            ));
        }
        self.last_weights = vec![0.0; all];
        for (&t, &w) in present.iter().zip(&weights) {
            self.last_weights[t] = w;
        }
        Ok(weights)
    }

    /// Which parameter lists are shared, per list (`None`: all): a list is task-specific when
    /// none of its elements is shared.
    pub fn shared_lists(&self, lists: usize) -> Vec<bool> {
        (0..lists)
            .map(|k| {
                self.shared
                    .as_ref()
                    .and_then(|s| s.get(k))
                    .is_none_or(|m| m.iter().any(|&x| x))
            })
            .collect()
    }

    /// The weight each task had in the last update (0 for a task without rows).
    pub fn last_weights(&self) -> &[f32] {
        &self.last_weights
    }

    /// The conflict measured since the last call (`None` if no update happened).
    pub fn take_conflict(&mut self) -> Option<Conflict> {
        self.meter.take()
    }
}

/// Task losses made positive for the methods that take their logs and ratios (FAMO, DWA,
/// uncertainty weighting), as the reference implementations do with a `min_losses` offset:
/// unchanged if every finite loss is positive, else shifted so the smallest is 1. For losses
/// that can be negative (policy-gradient surrogates, SAC's actor loss); NaN (no rows) stays.
pub fn positive_losses(losses: &[f32]) -> Vec<f32> {
    let low = losses
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .fold(f32::INFINITY, f32::min);
    if low > 0.0 || !low.is_finite() {
        return losses.to_vec();
    }
    losses.iter().map(|l| l - low + 1.0).collect()
}

/// The `shared` mask of [`MultiTaskStep::new`] for parameter lists of lengths `lengths` of
/// which the lists `own` (a multi-head network's output layers) are task-specific: each task's
/// gradient is non-zero only on its own head there, so the heads keep their own gradients.
pub fn shared_except(lengths: impl IntoIterator<Item = usize>, own: &[usize]) -> Vec<Vec<bool>> {
    lengths
        .into_iter()
        .enumerate()
        .map(|(k, n)| vec![!own.contains(&k); n])
        .collect()
}

/// The rows `rows` of a row-major matrix `width` wide, in that order (a task's share of a
/// minibatch).
pub fn gather_rows(x: &[f32], width: usize, rows: &[usize]) -> Vec<f32> {
    rows.iter()
        .flat_map(|&r| x[r * width..(r + 1) * width].iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_the_valid_ones_and_every_name_parses_back() {
        for kind in CombinerKind::ALL {
            assert_eq!(CombinerKind::parse(kind.name()), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
        let error = CombinerKind::parse("pc-grad").unwrap_err();
        assert!(
            error.contains("\"pc-grad\"") && error.contains("pcgrad, cagrad"),
            "{error}"
        );
    }

    #[test]
    fn settings_out_of_range_are_named() {
        let bad = CombinerConfig {
            cagrad_c: 1.0,
            famo_lr: 0.0,
            ..CombinerConfig::default()
        };
        let error = bad.check().unwrap_err();
        assert!(
            error.contains("cagrad_c") && error.contains("famo_lr"),
            "{error}"
        );
        assert!(
            serde_json::from_str::<CombinerConfig>(r#"{"kind":"pcgrad","cagrad":0.5}"#).is_err()
        );
    }

    /// Task-specific elements keep their own task's gradient; shared ones are combined, and
    /// the Gram matrix (hence the conflict) only sees the shared ones.
    #[test]
    fn task_specific_parameters_keep_their_own_gradient() {
        // One list of 3 elements: element 0 shared, 1 belongs to task 0, 2 to task 1.
        let shared = vec![vec![true, false, false]];
        let mut step =
            MultiTaskStep::new(&CombinerConfig::of(CombinerKind::Mean), 2, Some(shared)).unwrap();
        let g0 = vec![vec![2.0, 5.0, 0.0]];
        let g1 = vec![vec![-4.0, 0.0, 7.0]];
        let out = step.combine(&[Some(g0), Some(g1)], &[1.0, 1.0]).unwrap();
        assert_eq!(out, vec![vec![-1.0, 5.0, 7.0]]);
        let conflict = step.take_conflict().unwrap();
        assert_eq!(
            conflict.cosine[0][1], -1.0,
            "only the shared element counts"
        );
        assert!(step.take_conflict().is_none());
    }

    #[test]
    fn negative_losses_are_shifted_positive_and_positive_ones_kept() {
        assert_eq!(positive_losses(&[0.5, 2.0]), vec![0.5, 2.0]);
        let shifted = positive_losses(&[-3.0, 1.0, f32::NAN]);
        assert_eq!(&shifted[..2], &[1.0, 5.0]);
        assert!(shifted[2].is_nan());
    }

    #[test]
    fn a_task_without_rows_takes_no_part() {
        let mut step =
            MultiTaskStep::new(&CombinerConfig::of(CombinerKind::Pcgrad), 3, None).unwrap();
        let out = step
            .combine(
                &[Some(vec![vec![1.0, 0.0]]), None, Some(vec![vec![0.0, 1.0]])],
                &[1.0, 0.0, 1.0],
            )
            .unwrap();
        assert_eq!(out, vec![vec![0.5, 0.5]]);
        assert_eq!(step.last_weights(), &[0.5, 0.0, 0.5]);
        assert!(step.combine(&[None, None, None], &[0.0; 3]).is_err());
    }
}
