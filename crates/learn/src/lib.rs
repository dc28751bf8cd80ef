//! Polyskill learning. Where things live:
//! - [`algos`]: the training algorithms, one file each (behaviour cloning with DART/DAgger,
//!   PPO, SAC / MT-SAC, GRPO / RLOO) and the action distributions they share;
//! - [`nets`]: the networks (the burn MLP, and the hand-fused CPU MLP that is its fast path);
//! - [`multitask`]: how several tasks share one update: gradient and loss combiners (PCGrad,
//!   CAGrad, FAMO, Nash-MTL, …), the gradient-conflict statistic and the task sampler;
//! - [`settings`]: every algorithm's configuration from named settings (CLI, page, specs);
//! - [`record`]: the metrics every algorithm reports per iteration, per task too;
//! - [`policy`]: a trained policy and its description (the weights file's metadata);
//! - [`weights`]: safetensors I/O; [`eval`]: batched evaluation and best checkpoints;
//! - [`compare`] and [`stats`]: method comparisons with IQM and bootstrap intervals;
//! - [`parallel`]: work split between workers; [`bench`]: benchmarks.
//!
//! Backends are runtime devices (burn 0.22): `Device::flex()` is the CPU backend used
//! natively and in wasm; the `webgpu` feature adds burn's WebGPU backend for the browser.

pub mod algos;
pub mod bench;
pub mod compare;
pub mod eval;
pub mod multitask;
pub mod nets;
pub mod onnx;
pub mod parallel;
pub mod policy;
pub mod record;
pub mod settings;
pub mod stats;
pub mod weights;

pub use burn::tensor::Device;
pub use nets::fused::FastMlp;
pub use nets::mlp::Mlp;
pub use policy::{Architecture, Conditioning, Policy, PolicyInfo, normalise};
pub use record::Record;
pub use settings::{TrainConfig, TrainRun};

/// A policy-gradient run (PPO, GRPO, RLOO) that advances one iteration per call.
pub trait IterativeRun {
    /// Runs the next iteration and returns its metrics, or `None` once the budget is spent.
    fn iterate(&mut self) -> Result<Option<Record>, String>;
    /// The policy as it stands, acting greedily.
    fn policy(&self) -> Policy;
}

/// A boxed run (as [`TrainRun::Iterative`] holds it) is a run.
impl<R: IterativeRun + ?Sized> IterativeRun for Box<R> {
    fn iterate(&mut self) -> Result<Option<Record>, String> {
        (**self).iterate()
    }
    fn policy(&self) -> Policy {
        (**self).policy()
    }
}

/// Drives `run` until its budget is spent or `on_iteration` returns false; the policy then.
pub fn run_to_end(
    run: impl IterativeRun,
    mut on_iteration: impl FnMut(&Record) -> bool,
) -> Result<Policy, String> {
    match run_keeping_last_good(run, |record, _| on_iteration(record)) {
        (policy, None) => Ok(policy),
        (_, Some(error)) => Err(error),
    }
}

/// Drives `run` as [`run_to_end`] does, but a run that fails (e.g. diverges) is not lost:
/// returns the policy as it stands (every run checks an update before applying it, so these
/// are the last good weights) together with the error. `on_iteration` also sees the run
/// (e.g. to validate its policy, see [`eval::BestCheckpoint`]).
pub fn run_keeping_last_good<R: IterativeRun>(
    mut run: R,
    mut on_iteration: impl FnMut(&Record, &R) -> bool,
) -> (Policy, Option<String>) {
    loop {
        match run.iterate() {
            Ok(Some(record)) if on_iteration(&record, &run) => {}
            Ok(_) => return (run.policy(), None),
            Err(error) => return (run.policy(), Some(error)),
        }
    }
}

/// Collects the settings a training configuration rejects, each as `field: rule`.
#[derive(Debug, Default)]
pub struct SettingsCheck {
    problems: Vec<String>,
}

/// The widest layer PPO and GRPO may initialise orthogonally: burn's orthogonal initialiser
/// is slow for wide layers (a 64×3732 layer took 53 s in the test build; the settings fuzzer
/// found it as a hang).
pub const MAX_ORTHOGONAL_WIDTH: usize = 512;

impl SettingsCheck {
    /// Records `field: rule` unless `ok`.
    pub fn need(&mut self, ok: bool, field: &str, rule: &str) {
        if !ok {
            self.problems.push(format!("{field}: {rule}"));
        }
    }

    /// Records a problem unless `widths` (hidden layer widths) lists at least one, each in
    /// 1..=4096.
    pub fn hidden_widths(&mut self, widths: &[usize]) {
        let ok = !widths.is_empty() && widths.iter().all(|w| (1..=4096).contains(w));
        self.need(
            ok,
            "hidden",
            &format!("must list at least one width, each in 1..=4096; got {widths:?}"),
        );
    }

    /// Hidden widths of a network initialised orthogonally (PPO, GRPO): as
    /// [`SettingsCheck::hidden_widths`], and each at most [`MAX_ORTHOGONAL_WIDTH`].
    pub fn orthogonal_widths(&mut self, widths: &[usize]) {
        self.hidden_widths(widths);
        if let Some(w) = widths
            .iter()
            .find(|&&w| w > MAX_ORTHOGONAL_WIDTH && w <= 4096)
        {
            self.need(
                false,
                "hidden",
                &format!(
                    "{w} is wider than the {MAX_ORTHOGONAL_WIDTH} an orthogonally initialised layer may be (wider ones take minutes to initialise)"
                ),
            );
        }
    }

    /// `Ok` if nothing was rejected, else every problem after `what` (e.g. "PPO settings").
    /// `task_sam` (task-based flat regions' radius ρ) is in (0, 1] and has a combiner to feed.
    pub fn task_sam(&mut self, task_sam: Option<f32>, has_combiner: bool) {
        if let Some(rho) = task_sam {
            self.need(
                rho.is_finite() && rho > 0.0 && rho <= 1.0,
                "task_sam",
                &format!("must be in (0, 1], got {rho}"),
            );
            self.need(
                has_combiner,
                "task_sam",
                "needs a combiner: it moves each task's gradient before they are combined",
            );
        }
    }

    pub fn finish(self, what: &str) -> Result<(), String> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{what}: {}", self.problems.join("; ")))
        }
    }
}
