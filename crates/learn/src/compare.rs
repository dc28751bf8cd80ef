//! Method comparisons: a spec names an algorithm, a task set, methods (architecture ×
//! combiner, or single-task training) and seeds; every (method, seed) run trains on the same
//! budget, is evaluated on the same unseen seeds, and the report gives per-task success, the
//! mean and IQM over runs × tasks with 95% stratified-bootstrap intervals (rliable's protocol,
//! [`crate::stats`]), final and best-checkpoint figures, learning curves, wall time and the
//! gradient conflict.
//!
//! Runs go to `OUT/runs/METHOD-sSEED.json` as each finishes (written whole, then renamed), so a
//! comparison that is interrupted at any point continues with [`run_matrix`] on the same
//! directory: finished runs are read back, the others start again. A run is the unit of
//! resumption (the longest here take minutes); the spec is stored beside the runs and a changed
//! spec is refused rather than mixed with old results.

use crate::algos::bc::{self, BcConfig};
use crate::algos::ppo::{PpoConfig, PpoRun};
use crate::algos::sac::{SacConfig, SacRun};
use crate::eval::{BestCheckpoint, evaluate};
use crate::multitask::{CombinerConfig, CombinerKind, Conflict};
use crate::nets::ArchitectureKind;
use crate::stats::{BOOTSTRAP_RESAMPLES, Estimate, iqm, mean, stratified_bootstrap};
use crate::{IterativeRun, Policy, Record};
use polyskill_sim::task::Task;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// A comparison: what to train, on what, how often, and how to evaluate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSpec {
    /// A short name (the report's title).
    pub name: String,
    /// What the comparison asks, in a sentence or two (printed in the report).
    #[serde(default)]
    pub question: String,
    /// `bc`, `ppo` or `sac`.
    pub algorithm: CompareAlgorithm,
    /// Task names, task files or set names (resolved by the caller).
    pub tasks: Vec<String>,
    /// Training seeds; every method runs once per seed.
    pub seeds: Vec<u64>,
    /// The methods compared.
    pub methods: Vec<MethodSpec>,
    /// Settings of the algorithm's configuration shared by every method (its field names,
    /// e.g. `{"total_steps": 100000, "hidden": [64, 64]}`); the budget lives here.
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// How runs are evaluated.
    #[serde(default)]
    pub evaluation: EvaluationSpec,
    /// How the budget relates to the papers' (printed in the report).
    #[serde(default)]
    pub budget_note: String,
}

/// The algorithms a comparison can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompareAlgorithm {
    /// Behaviour cloning from the tasks' experts.
    Bc,
    /// (Multi-task) PPO.
    Ppo,
    /// (MT-)SAC.
    Sac,
}

/// One method of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodSpec {
    /// Its name in the report (unique in the spec).
    pub name: String,
    /// The network's architecture.
    #[serde(default = "mlp")]
    pub architecture: ArchitectureKind,
    /// How the tasks' gradients are combined (`None`: rows pooled into one loss).
    #[serde(default)]
    pub combiner: Option<CombinerKind>,
    /// Experts, encoders, parameter sets or modules per layer.
    #[serde(default)]
    pub experts: Option<usize>,
    /// MoE: experts per row.
    #[serde(default)]
    pub top_k: Option<usize>,
    /// Train one network per task on that task alone (same per-task budget) instead of one
    /// network for all.
    #[serde(default)]
    pub single_task: bool,
    /// Settings of this method only (as [`CompareSpec::settings`], applied after them).
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

fn mlp() -> ArchitectureKind {
    ArchitectureKind::Mlp
}

/// The evaluation protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationSpec {
    /// Test episodes per task, on seeds `first_seed..first_seed + episodes` (never trained on:
    /// demonstrations and training episodes use seeds from 1 000 000 on).
    pub episodes: u32,
    /// First test seed.
    pub first_seed: u64,
    /// PPO/SAC: validate every this many environment steps on validation seeds (from 2·10⁹)
    /// and also report the best checkpoint's test figures; 0: final policy only.
    pub checkpoint_every: u64,
    /// Validation episodes per task at each checkpoint.
    pub validation_episodes: u32,
}

impl Default for EvaluationSpec {
    fn default() -> Self {
        EvaluationSpec {
            episodes: 50,
            first_seed: 0,
            checkpoint_every: 0,
            validation_episodes: 10,
        }
    }
}

impl CompareSpec {
    /// Reads a spec from JSON, naming the path of anything wrong (`methods[2].combiner: …`).
    pub fn from_json(text: &str) -> Result<CompareSpec, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let spec: CompareSpec = serde_path_to_error::deserialize(de)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        spec.check()?;
        Ok(spec)
    }

    /// Rejects empty lists, duplicate names and out-of-range evaluation settings.
    pub fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.tasks.is_empty() {
            problems.push("tasks: list at least one task".to_string());
        }
        if self.seeds.is_empty() || self.seeds.len() > 100 {
            problems.push(format!(
                "seeds: list 1..=100 seeds, got {}",
                self.seeds.len()
            ));
        }
        if self.methods.is_empty() {
            problems.push("methods: list at least one method".to_string());
        }
        for (i, m) in self.methods.iter().enumerate() {
            if m.name.is_empty()
                || !m
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_+.".contains(c))
            {
                problems.push(format!(
                    "methods[{i}].name: \"{}\" must be non-empty letters, digits, - _ + .",
                    m.name
                ));
            }
            if self.methods[..i].iter().any(|o| o.name == m.name) {
                problems.push(format!("methods[{i}].name: \"{}\" is used twice", m.name));
            }
        }
        if !(1..=10_000).contains(&self.evaluation.episodes) {
            problems.push(format!(
                "evaluation.episodes: must be in 1..=10000, got {}",
                self.evaluation.episodes
            ));
        }
        if self.evaluation.checkpoint_every > 0 && self.evaluation.validation_episodes == 0 {
            problems
                .push("evaluation.validation_episodes: must be ≥ 1 with checkpoints".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("compare spec: {}", problems.join("; ")))
        }
    }
}

/// A point of a run's learning curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Environment steps (PPO/SAC) or gradient steps (BC) so far.
    pub at: u64,
    /// Success of the recent training episodes (PPO/SAC; none for BC).
    pub success: Option<f32>,
    /// The loss at that point (BC: the fit's; PPO/SAC: the policy's), if finite.
    pub loss: Option<f32>,
}

/// What one (method, seed) run gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The method's name.
    pub method: String,
    /// The training seed.
    pub seed: u64,
    /// Test success per task (spec order) of the final policy.
    pub success: Vec<f32>,
    /// Test mean return per task of the final policy.
    pub returns: Vec<f32>,
    /// Test success per task of the best validated checkpoint (when checkpoints were taken).
    pub best_success: Option<Vec<f32>>,
    /// The learning curve.
    pub curve: Vec<CurvePoint>,
    /// Mean over the run's records of the mean pairwise cosine of the task gradients (runs
    /// with a combiner).
    pub mean_cosine: Option<f32>,
    /// Mean share of conflicting (negative-cosine) task pairs.
    pub conflicting: Option<f32>,
    /// The run's mean task × task cosine matrix.
    pub cosine: Option<Vec<Vec<f32>>>,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
    /// Why the run stopped early (e.g. it diverged; its last good policy was evaluated).
    pub error: Option<String>,
}

/// Figures of one method over its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// The method's name.
    pub method: String,
    /// Runs finished.
    pub runs: usize,
    /// Runs that stopped early, with why.
    pub failed: Vec<String>,
    /// Mean success over runs × tasks, with its interval.
    pub mean: Estimate,
    /// IQM of success over runs × tasks, with its interval.
    pub iqm: Estimate,
    /// The same figures for the best checkpoints, if taken.
    pub best_mean: Option<Estimate>,
    /// IQM of the best checkpoints.
    pub best_iqm: Option<Estimate>,
    /// Mean success per task over runs.
    pub per_task: Vec<f32>,
    /// Mean wall seconds per run.
    pub seconds: f64,
    /// Mean pairwise cosine of the task gradients over runs (with a combiner).
    pub mean_cosine: Option<f32>,
    /// Mean share of conflicting pairs.
    pub conflicting: Option<f32>,
    /// Mean learning curve over the runs (pointwise over the runs that reached each point).
    pub curve: Vec<CurvePoint>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The spec it ran.
    pub spec: CompareSpec,
    /// Task ids, in the order of every per-task list.
    pub tasks: Vec<String>,
    /// The protocol in words.
    pub protocol: String,
    /// One summary per method, spec order.
    pub methods: Vec<MethodSummary>,
    /// Every run finished.
    pub runs: Vec<RunResult>,
    /// Runs the spec plans (methods × seeds): more than `runs` in a partial report.
    #[serde(default)]
    pub planned_runs: usize,
}

/// The configuration a method's runs use: the algorithm's defaults for the tasks, the spec's
/// settings, the method's settings, then its architecture, combiner and the seed.
fn configure<T: Serialize + serde::de::DeserializeOwned>(
    defaults: T,
    spec: &CompareSpec,
    method: &MethodSpec,
    index: usize,
    seed: u64,
) -> Result<T, String> {
    let mut settings = spec.settings.clone();
    settings.extend(method.settings.clone());
    settings.insert("seed".into(), seed.into());
    settings.insert(
        "architecture".into(),
        serde_json::to_value(method.architecture).map_err(|e| e.to_string())?,
    );
    settings.insert(
        "experts".into(),
        serde_json::to_value(method.experts).map_err(|e| e.to_string())?,
    );
    settings.insert(
        "top_k".into(),
        serde_json::to_value(method.top_k).map_err(|e| e.to_string())?,
    );
    let combiner = method.combiner.map(|kind| CombinerConfig {
        seed,
        ..CombinerConfig::of(kind)
    });
    settings.insert(
        "combiner".into(),
        serde_json::to_value(&combiner).map_err(|e| e.to_string())?,
    );
    crate::settings::overlay(defaults, &settings, &format!("methods[{index}] settings"))
}

/// A trained policy, its curve and conflict, and an error if training stopped early.
struct Trained {
    policy: Policy,
    best: Option<Policy>,
    curve: Vec<CurvePoint>,
    conflicts: Vec<Conflict>,
    error: Option<String>,
}

fn train_iterative<R: IterativeRun>(
    run: R,
    tasks: &[Task],
    evaluation: &EvaluationSpec,
) -> Result<Trained, String> {
    let mut best = match evaluation.checkpoint_every {
        0 => None,
        every => Some(BestCheckpoint::new(
            tasks,
            every,
            evaluation.validation_episodes,
        )?),
    };
    let mut curve = Vec::new();
    let mut conflicts = Vec::new();
    let mut check_error = None;
    let (policy, error) = crate::run_keeping_last_good(run, |record: &Record, run: &R| {
        curve.push(CurvePoint {
            at: record.env_steps,
            success: Some(record.success_rate),
            loss: Some(record.policy_loss).filter(|l| l.is_finite()),
        });
        conflicts.extend(record.conflict.clone());
        if let Some(best) = best.as_mut()
            && let Err(e) = best.observe(record.env_steps, || run.policy())
        {
            check_error = Some(e);
            return false;
        }
        true
    });
    Ok(Trained {
        policy,
        best: best.and_then(|b| b.into_best()).map(|(p, _)| p),
        curve,
        conflicts,
        error: error.or(check_error),
    })
}

/// Trains `tasks` (all the spec's, or one of them for a single-task method, which then gets
/// `1/share` of the budget: the same steps per task as one network for all).
fn train(
    spec: &CompareSpec,
    index: usize,
    tasks: &[Task],
    seed: u64,
    share: usize,
) -> Result<Trained, String> {
    let method = &spec.methods[index];
    let part = |n: u64| (n / share.max(1) as u64).max(1);
    match spec.algorithm {
        CompareAlgorithm::Bc => {
            let mut config: BcConfig = configure(BcConfig::default(), spec, method, index, seed)?;
            config.steps = part(config.steps as u64) as u32;
            let (mut curve, mut conflicts) = (Vec::new(), Vec::new());
            // A fit that diverges stops before a bad step: its last good policy is evaluated
            // and the report says why it stopped.
            let mut run = bc::BcRun::new(tasks, &config)?;
            let error = loop {
                match run.advance() {
                    Ok(Some(p)) => {
                        if p.phase == bc::BcPhase::Fitting {
                            curve.push(CurvePoint {
                                at: p.step as u64,
                                success: None,
                                loss: Some(p.loss).filter(|l| l.is_finite()),
                            });
                            conflicts.extend(p.conflict);
                        }
                    }
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            };
            let policy = run.policy()?;
            Ok(Trained {
                policy,
                best: None,
                curve,
                conflicts,
                error,
            })
        }
        CompareAlgorithm::Ppo => {
            let mut config: PpoConfig =
                configure(PpoConfig::for_task(&tasks[0]), spec, method, index, seed)?;
            config.total_steps = part(config.total_steps);
            train_iterative(PpoRun::multi_task(tasks, &config)?, tasks, &spec.evaluation)
        }
        CompareAlgorithm::Sac => {
            let mut config: SacConfig = configure(SacConfig::default(), spec, method, index, seed)?;
            config.total_steps = part(config.total_steps);
            train_iterative(SacRun::new(tasks, &config)?, tasks, &spec.evaluation)
        }
    }
}

/// Trains and evaluates one (method, seed) run.
pub fn run_one(
    spec: &CompareSpec,
    index: usize,
    tasks: &[Task],
    seed: u64,
) -> Result<RunResult, String> {
    let method = &spec.methods[index];
    let start = Instant::now();
    // One network per task, or one for all.
    let groups: Vec<Vec<Task>> = if method.single_task {
        tasks.iter().map(|t| vec![t.clone()]).collect()
    } else {
        vec![tasks.to_vec()]
    };
    let (mut success, mut returns, mut best_success, mut curve, mut conflicts, mut errors) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut has_best = true;
    for group in &groups {
        let share = if method.single_task { tasks.len() } else { 1 };
        let trained = train(spec, index, group, seed, share)?;
        let figures: Vec<(f32, f32)> = group
            .iter()
            .map(|task| {
                evaluate(
                    &trained.policy,
                    task,
                    spec.evaluation.first_seed,
                    spec.evaluation.episodes,
                )
                .map(|e| (e.success_rate, e.mean_return))
            })
            .collect::<Result<_, _>>()?;
        success.extend(figures.iter().map(|f| f.0));
        returns.extend(figures.iter().map(|f| f.1));
        match &trained.best {
            Some(best) => {
                for task in group {
                    best_success.push(
                        evaluate(
                            best,
                            task,
                            spec.evaluation.first_seed,
                            spec.evaluation.episodes,
                        )?
                        .success_rate,
                    );
                }
            }
            None => has_best = false,
        }
        if curve.is_empty() {
            curve = trained.curve;
        }
        conflicts.extend(trained.conflicts);
        errors.extend(trained.error);
    }
    let mean_of = |f: fn(&Conflict) -> f32| {
        (!conflicts.is_empty())
            .then(|| conflicts.iter().map(f).sum::<f32>() / conflicts.len() as f32)
    };
    let cosine = (!conflicts.is_empty()).then(|| {
        let t = conflicts[0].cosine.len();
        (0..t)
            .map(|i| {
                (0..t)
                    .map(|j| {
                        conflicts.iter().map(|c| c.cosine[i][j]).sum::<f32>()
                            / conflicts.len() as f32
                    })
                    .collect()
            })
            .collect()
    });
    Ok(RunResult {
        method: method.name.clone(),
        seed,
        success,
        returns,
        best_success: (has_best && !best_success.is_empty()).then_some(best_success),
        curve: thin(curve, CURVE_POINTS),
        mean_cosine: mean_of(|c| c.mean_cosine),
        conflicting: mean_of(|c| c.conflicting),
        cosine,
        seconds: start.elapsed().as_secs_f64(),
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    })
}

/// Points kept of each learning curve.
pub const CURVE_POINTS: usize = 60;

/// At most `n` points of `curve`, evenly spaced, the last kept.
fn thin(curve: Vec<CurvePoint>, n: usize) -> Vec<CurvePoint> {
    if curve.len() <= n {
        return curve;
    }
    let step = curve.len() as f64 / n as f64;
    let last = curve.len() - 1;
    (0..n)
        .map(|i| curve[((i as f64 * step) as usize).min(last)].clone())
        .chain(std::iter::once(curve[last].clone()))
        .collect()
}

fn run_file(out: &Path, method: &str, seed: u64) -> PathBuf {
    out.join("runs").join(format!("{method}-s{seed}.json"))
}

/// Runs every (method, seed) of `spec` not already finished in `out` on `workers` threads,
/// saving each as it finishes; then writes `report.json` and `report.md` and returns the
/// report. `tasks` are the spec's tasks, loaded. `progress` hears each run as it ends.
pub fn run_matrix(
    spec: &CompareSpec,
    tasks: &[Task],
    out: &Path,
    workers: usize,
    progress: impl Fn(&RunResult, usize, usize) + Sync,
) -> Result<Report, String> {
    spec.check()?;
    std::fs::create_dir_all(out.join("runs")).map_err(|e| format!("{}: {e}", out.display()))?;
    let spec_path = out.join("spec.json");
    let spec_text = serde_json::to_string_pretty(spec).map_err(|e| e.to_string())?;
    match std::fs::read_to_string(&spec_path) {
        Ok(old) if old != spec_text => {
            return Err(format!(
                "{} holds runs of a different spec; continue with the same spec, or use another --out",
                out.display()
            ));
        }
        Ok(_) => {}
        Err(_) => write_whole(&spec_path, &spec_text)?,
    }
    // Check every method's settings before training anything.
    for index in 0..spec.methods.len() {
        let seed = spec.seeds[0];
        match spec.algorithm {
            CompareAlgorithm::Bc => {
                configure(BcConfig::default(), spec, &spec.methods[index], index, seed)
                    .and_then(|c| c.check())
            }
            CompareAlgorithm::Ppo => configure(
                PpoConfig::for_task(&tasks[0]),
                spec,
                &spec.methods[index],
                index,
                seed,
            )
            .and_then(|c| c.check()),
            CompareAlgorithm::Sac => configure(
                SacConfig::default(),
                spec,
                &spec.methods[index],
                index,
                seed,
            )
            .and_then(|c| c.check()),
        }?;
    }
    let all: Vec<(usize, u64)> = (0..spec.methods.len())
        .flat_map(|m| spec.seeds.iter().map(move |&s| (m, s)))
        .collect();
    let done = finished_runs(spec, out);
    let todo: Vec<(usize, u64)> = all
        .iter()
        .copied()
        .filter(|&(m, seed)| {
            !done
                .iter()
                .any(|r| r.method == spec.methods[m].name && r.seed == seed)
        })
        .collect();
    let total = all.len();
    let queue = Mutex::new(todo.into_iter());
    let finished = Mutex::new(done);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, 64) {
            scope.spawn(|| {
                loop {
                    let Some((m, seed)) = queue.lock().ok().and_then(|mut q| q.next()) else {
                        return;
                    };
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        return;
                    }
                    let outcome = run_one(spec, m, tasks, seed).and_then(|result| {
                        let text = serde_json::to_string(&result).map_err(|e| e.to_string())?;
                        write_whole(&run_file(out, &result.method, seed), &text)?;
                        Ok(result)
                    });
                    match outcome {
                        Ok(result) => {
                            if let Ok(mut f) = finished.lock() {
                                f.push(result.clone());
                                progress(&result, f.len(), total);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                *f = Some(format!(
                                    "method {} seed {seed}: {e}",
                                    spec.methods[m].name
                                ));
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().map_err(|_| "a worker panicked")? {
        return Err(e);
    }
    let runs = finished.into_inner().map_err(|_| "a worker panicked")?;
    write_report(spec, tasks, out, runs)
}

/// The runs of `spec` finished in `out` so far (read back from `OUT/runs/`).
fn finished_runs(spec: &CompareSpec, out: &Path) -> Vec<RunResult> {
    spec.methods
        .iter()
        .flat_map(|m| {
            spec.seeds
                .iter()
                .map(move |&seed| run_file(out, &m.name, seed))
        })
        .filter_map(|path| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|t| serde_json::from_str::<RunResult>(&t).ok())
        })
        .collect()
}

/// Writes the report of the runs finished in `out` so far (all of them, or a partial report
/// that says how many remain) without training anything, and returns it.
pub fn report_so_far(spec: &CompareSpec, tasks: &[Task], out: &Path) -> Result<Report, String> {
    spec.check()?;
    let runs = finished_runs(spec, out);
    if runs.is_empty() {
        return Err(format!(
            "{} holds no finished runs of this spec",
            out.display()
        ));
    }
    write_report(spec, tasks, out, runs)
}

fn write_report(
    spec: &CompareSpec,
    tasks: &[Task],
    out: &Path,
    runs: Vec<RunResult>,
) -> Result<Report, String> {
    let report = summarise(spec, tasks, runs);
    write_whole(
        &out.join("report.json"),
        &serde_json::to_string(&report).map_err(|e| e.to_string())?,
    )?;
    write_whole(&out.join("report.md"), &markdown(&report))?;
    Ok(report)
}

/// Writes `text` to `path` through a temporary file and a rename, so a reader (or a resumed
/// comparison) never sees half a file.
fn write_whole(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The report of finished runs (in spec order of methods and seeds).
pub fn summarise(spec: &CompareSpec, tasks: &[Task], mut runs: Vec<RunResult>) -> Report {
    let order = |r: &RunResult| {
        (
            spec.methods
                .iter()
                .position(|m| m.name == r.method)
                .unwrap_or(usize::MAX),
            spec.seeds.iter().position(|&s| s == r.seed),
        )
    };
    runs.sort_by_key(order);
    for run in &mut runs {
        run.curve = thin(std::mem::take(&mut run.curve), CURVE_POINTS);
    }
    let methods = spec
        .methods
        .iter()
        .enumerate()
        .map(|(m, method)| {
            let mine: Vec<&RunResult> = runs.iter().filter(|r| r.method == method.name).collect();
            let scores: Vec<Vec<f64>> = mine
                .iter()
                .map(|r| r.success.iter().map(|&s| s as f64).collect())
                .collect();
            let best: Vec<Vec<f64>> = mine
                .iter()
                .filter_map(|r| r.best_success.as_ref())
                .map(|b| b.iter().map(|&s| s as f64).collect())
                .collect();
            let seed = 7 + m as u64;
            let estimate = |rows: &[Vec<f64>], statistic| {
                stratified_bootstrap(rows, statistic, BOOTSTRAP_RESAMPLES, seed)
            };
            let t = tasks.len();
            let average = |values: Vec<f32>| {
                (!values.is_empty()).then(|| values.iter().sum::<f32>() / values.len() as f32)
            };
            MethodSummary {
                method: method.name.clone(),
                runs: mine.len(),
                failed: mine
                    .iter()
                    .filter_map(|r| r.error.as_ref().map(|e| format!("seed {}: {e}", r.seed)))
                    .collect(),
                mean: estimate(&scores, mean),
                iqm: estimate(&scores, iqm),
                best_mean: (best.len() == mine.len() && !best.is_empty())
                    .then(|| estimate(&best, mean)),
                best_iqm: (best.len() == mine.len() && !best.is_empty())
                    .then(|| estimate(&best, iqm)),
                per_task: (0..t)
                    .map(|k| {
                        average(
                            mine.iter()
                                .filter_map(|r| r.success.get(k).copied())
                                .collect(),
                        )
                        .unwrap_or(f32::NAN)
                    })
                    .collect(),
                seconds: mine.iter().map(|r| r.seconds).sum::<f64>() / mine.len().max(1) as f64,
                mean_cosine: average(mine.iter().filter_map(|r| r.mean_cosine).collect()),
                conflicting: average(mine.iter().filter_map(|r| r.conflicting).collect()),
                curve: mean_curve(&mine),
            }
        })
        .collect();
    let budget = if spec.settings.is_empty() {
        "the algorithm's defaults".to_string()
    } else {
        serde_json::Value::Object(spec.settings.clone()).to_string()
    };
    let protocol = format!(
        "{:?} on {} task(s) ({}); {} method(s) × {} seed(s) ({:?}); settings {budget}. Each run's final policy is evaluated on {} \
         test episodes per task, seeds {}..{} (never trained on){}. A single-task method trains one network per task \
         on 1/T of the budget each (the same steps per task). Scores are success rates per (run, task); the mean and the \
         IQM (mean of the middle 50%) are taken over runs × tasks, with 95% percentile intervals from {} stratified bootstrap \
         resamples (runs drawn with replacement within each task), as rliable does.",
        spec.algorithm,
        tasks.len(),
        tasks
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        spec.methods.len(),
        spec.seeds.len(),
        spec.seeds,
        spec.evaluation.episodes,
        spec.evaluation.first_seed,
        spec.evaluation.first_seed + spec.evaluation.episodes as u64,
        if spec.evaluation.checkpoint_every > 0 {
            format!(
                "; every {} environment steps the policy is validated on {} episodes per task (seeds from 2·10⁹) and the best checkpoint is tested too",
                spec.evaluation.checkpoint_every, spec.evaluation.validation_episodes
            )
        } else {
            String::new()
        },
        BOOTSTRAP_RESAMPLES,
    );
    // The report keeps each run's figures; the curves are in the methods' mean curves (and in
    // each run's own file).
    for run in &mut runs {
        run.curve.clear();
    }
    Report {
        spec: spec.clone(),
        tasks: tasks.iter().map(|t| t.id.clone()).collect(),
        protocol,
        methods,
        runs,
        planned_runs: spec.methods.len() * spec.seeds.len(),
    }
}

/// Pointwise mean of the runs' curves (point i over the runs that have a point i).
fn mean_curve(runs: &[&RunResult]) -> Vec<CurvePoint> {
    let longest = runs.iter().map(|r| r.curve.len()).max().unwrap_or(0);
    (0..longest)
        .map(|i| {
            let points: Vec<&CurvePoint> = runs.iter().filter_map(|r| r.curve.get(i)).collect();
            let average = |values: Vec<f32>| {
                (!values.is_empty()).then(|| values.iter().sum::<f32>() / values.len() as f32)
            };
            CurvePoint {
                at: points.iter().map(|p| p.at).sum::<u64>() / points.len() as u64,
                success: average(points.iter().filter_map(|p| p.success).collect()),
                loss: average(points.iter().filter_map(|p| p.loss).collect()),
            }
        })
        .collect()
}

/// The report as Markdown: the question and protocol, a table of methods with intervals, the
/// per-task table, and the runs that failed.
pub fn markdown(report: &Report) -> String {
    let pct = |v: f64| format!("{:.1}", 100.0 * v);
    let ci = |e: &Estimate| format!("{} [{}, {}]", pct(e.value), pct(e.low), pct(e.high));
    let mut md = format!("# {}\n\n", report.spec.name);
    if !report.spec.question.is_empty() {
        md += &format!("{}\n\n", report.spec.question);
    }
    md += &format!("**Protocol.** {}\n\n", report.protocol);
    if report.runs.len() < report.planned_runs {
        md += &format!(
            "**Partial.** {} of the {} planned runs have finished; `polyskill compare SPEC --resume` runs the rest. Methods with fewer runs have wider intervals.\n\n",
            report.runs.len(),
            report.planned_runs
        );
    }
    if !report.spec.budget_note.is_empty() {
        md += &format!("**Budget.** {}\n\n", report.spec.budget_note);
    }
    let has_best = report.methods.iter().any(|m| m.best_iqm.is_some());
    md += "| method | runs | success IQM % [95% CI] | mean % [95% CI] |";
    if has_best {
        md += " best-checkpoint IQM % |";
    }
    md += " gradient cosine | conflicting pairs | s per run |\n|---|---|---|---|";
    if has_best {
        md += "---|";
    }
    md += "---|---|---|\n";
    for m in &report.methods {
        if m.runs == 0 {
            md += &format!(
                "| {} | 0 | not run yet | |{} | | | |\n",
                m.method,
                if has_best { " |" } else { "" }
            );
            continue;
        }
        md += &format!(
            "| {} | {} | {} | {} |",
            m.method,
            m.runs,
            ci(&m.iqm),
            ci(&m.mean)
        );
        if has_best {
            md += &format!(
                " {} |",
                m.best_iqm.as_ref().map(ci).unwrap_or_else(|| "–".into())
            );
        }
        let opt =
            |v: Option<f32>, f: &dyn Fn(f32) -> String| v.map(f).unwrap_or_else(|| "–".into());
        md += &format!(
            " {} | {} | {:.0} |\n",
            opt(m.mean_cosine, &|c| format!("{c:.3}")),
            opt(m.conflicting, &|c| format!("{:.0}%", 100.0 * c)),
            m.seconds
        );
    }
    md += "\nSuccess per task (%, mean over runs):\n\n| method |";
    for t in &report.tasks {
        md += &format!(" {t} |");
    }
    md += "\n|---|";
    md += &"---|".repeat(report.tasks.len());
    md += "\n";
    for m in report.methods.iter().filter(|m| m.runs > 0) {
        md += &format!("| {} |", m.method);
        for s in &m.per_task {
            md += &format!(" {:.0} |", 100.0 * s);
        }
        md += "\n";
    }
    let failed: Vec<String> = report
        .methods
        .iter()
        .flat_map(|m| m.failed.iter().map(move |f| format!("- {}: {f}", m.method)))
        .collect();
    if !failed.is_empty() {
        md += &format!(
            "\nRuns that stopped early (their last good policy was evaluated):\n\n{}\n",
            failed.join("\n")
        );
    }
    md
}

/// Where the spec's runs of `method` and `seed` are stored under `out` (for tools and tests).
pub fn run_path(out: &Path, method: &str, seed: u64) -> PathBuf {
    run_file(out, method, seed)
}

/// The list of reports under `dir` (each subdirectory holding a `report.json`) as the compare
/// page reads it: `{"reports": [{dir, name, algorithm, tasks, methods, seeds}]}`, by directory.
pub fn report_index(dir: &Path) -> Result<String, String> {
    let mut reports = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("report.json").is_file())
        .collect();
    dirs.sort();
    for path in dirs {
        let text = std::fs::read_to_string(path.join("report.json"))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // Read as JSON values: a partial report's unrun methods hold nulls where figures go.
        let report: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: {e}", path.join("report.json").display()))?;
        reports.push(serde_json::json!({
            "dir": path.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
            "name": report["spec"]["name"],
            "algorithm": report["spec"]["algorithm"],
            "tasks": report["tasks"],
            "methods": report["methods"].as_array().map_or(0, Vec::len),
            "seeds": report["spec"]["seeds"].as_array().map_or(0, Vec::len),
            "runs": report["runs"].as_array().map_or(0, Vec::len),
            "planned_runs": report["planned_runs"],
        }));
    }
    serde_json::to_string_pretty(&serde_json::json!({ "reports": reports }))
        .map_err(|e| e.to_string())
}

/// Writes [`report_index`] of `dir` to `dir/index.json`.
pub fn write_report_index(dir: &Path) -> Result<(), String> {
    write_whole(&dir.join("index.json"), &(report_index(dir)? + "\n"))
}
