//! Structure-aware fuzzing of the loaders that take outside input (issue 16 §1): task files,
//! safetensors weights files and training settings. Each case is a seed input (a shipped
//! file, a freshly saved network of every architecture, an algorithm's defaults) mutated as
//! structure — JSON fields deleted, retyped, resized, pushed to extreme values; a weights
//! header's dtypes, shapes, offsets and metadata; raw bytes — then loaded and, when it is
//! accepted, used. A loader passes when every case ends in a value or an error: a panic is a
//! failure (kept as a fixture under `tests/fixtures/fuzz/TARGET/`), and so is a case that runs
//! longer than [`HANG_SECONDS`] (the watchdog writes it there and stops the process).
//!
//! The mutation engine is ours (not libFuzzer / `cargo fuzz`, which need a nightly compiler
//! and coverage instrumentation): it knows the inputs' structure, runs on the stable
//! toolchain in the ordinary test build, and is reproducible from its seed.

pub mod mutate;
pub mod targets;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use targets::Verdict;

/// A case running longer than this is a hang.
pub const HANG_SECONDS: u64 = 30;

/// The loaders that can be fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Task files ([`polyskill_sim::task::Task::from_json`], then simulated).
    Task,
    /// Safetensors weights files ([`polyskill_learn::weights::load`], then acting).
    Weights,
    /// Training settings (BC, PPO, SAC configs from JSON, checked, runs built).
    Settings,
}

impl Target {
    /// Every target, in the order a full run takes them.
    pub const ALL: [Target; 3] = [Target::Task, Target::Weights, Target::Settings];

    /// The target's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::Task => "task",
            Target::Weights => "weights",
            Target::Settings => "settings",
        }
    }

    /// The target called `name`.
    pub fn parse(name: &str) -> Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| format!("unknown fuzz target {name:?} (task, weights, settings)"))
    }
}

/// A case that panicked.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The panic message.
    pub message: String,
    /// Where the input was kept (the fixtures folder), if it could be written.
    pub fixture: Option<PathBuf>,
}

/// What a fuzzing run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The loader fuzzed.
    pub target: Target,
    /// The generator's seed.
    pub seed: u64,
    /// Cases executed.
    pub executions: u64,
    /// Cases the loader accepted (and which were then used).
    pub accepted: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Cases that panicked.
    pub failures: Vec<Failure>,
}

impl Report {
    /// The report as JSON (executions/s included).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "target": self.target.name(),
            "seed": self.seed,
            "executions": self.executions,
            "accepted": self.accepted,
            "rejected": self.executions - self.accepted,
            "seconds": self.seconds,
            "executions_per_s": self.executions as f64 / self.seconds.max(1e-9),
            "panics": self.failures.len(),
            "failures": self.failures.iter().map(|f| serde_json::json!({
                "message": f.message,
                "fixture": f.fixture.as_ref().map(|p| p.display().to_string()),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The folder where `target`'s failing inputs are kept, under the repository `root`.
pub fn fixture_dir(root: &Path, target: Target) -> PathBuf {
    root.join("tests/fixtures/fuzz").join(target.name())
}

/// Keeps `input` as a fixture named by its content's hash; returns its path.
fn keep(root: &Path, target: Target, input: &[u8]) -> Option<PathBuf> {
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let dir = fixture_dir(root, target);
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{hash:016x}.bin"));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

/// Makes one input from the random stream.
type Generator = Box<dyn FnMut(&mut ChaCha8Rng) -> Vec<u8>>;
/// Runs one input through the loader and says how it went.
type Executor = Box<dyn Fn(&[u8]) -> Verdict>;

/// One target's generator and executor, with their seed inputs loaded.
pub struct Harness {
    target: Target,
    generate: Generator,
    execute: Executor,
}

impl Harness {
    /// The harness for `target`, its seeds read from the repository at `root`.
    pub fn new(target: Target, root: &Path) -> Result<Harness, String> {
        let (generate, execute): (Generator, Executor) = match target {
            Target::Task => {
                let corpus = targets::task_corpus(root)?;
                (
                    Box::new(move |rng| targets::task_case(&corpus, rng)),
                    Box::new(targets::run_task),
                )
            }
            Target::Weights => {
                let corpus = targets::weights_corpus(root)?;
                (
                    Box::new(move |rng| targets::weights_case(&corpus, rng)),
                    Box::new(targets::run_weights),
                )
            }
            Target::Settings => {
                let corpus = targets::settings_corpus();
                let tasks = targets::SettingsTasks::load(root)?;
                (
                    Box::new(move |rng| targets::settings_case(&corpus, rng)),
                    Box::new(move |input| targets::run_settings(input, &tasks)),
                )
            }
        };
        Ok(Harness {
            target,
            generate,
            execute,
        })
    }

    /// Runs `input` once, catching a panic as its message.
    pub fn execute(&self, input: &[u8]) -> Result<Verdict, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.execute)(input))).map_err(
            |payload| {
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic without a message".into())
            },
        )
    }

    /// Generates and runs `iterations` cases from `seed`; failing inputs are kept under `root`.
    /// A watchdog stops the process (after keeping the input) if one case hangs.
    pub fn run(&mut self, iterations: u64, seed: u64, root: &Path) -> Report {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let started = Instant::now();
        let mut report = Report {
            target: self.target,
            seed,
            executions: 0,
            accepted: 0,
            seconds: 0.0,
            failures: Vec::new(),
        };
        // The watchdog: the current case and when it began (ms since the start; 0 when idle).
        let current: Arc<Mutex<Vec<u8>>> = Arc::default();
        let began = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let watchdog = {
            let (current, began, done) = (current.clone(), began.clone(), done.clone());
            let (root, target) = (root.to_path_buf(), self.target);
            std::thread::spawn(move || {
                while done.load(Ordering::Relaxed) == 0 {
                    std::thread::sleep(Duration::from_millis(200));
                    let at = began.load(Ordering::Relaxed);
                    let now = started.elapsed().as_millis() as u64 + 1;
                    if at != 0 && now.saturating_sub(at) > HANG_SECONDS * 1000 {
                        let input = current.lock().map(|c| c.clone()).unwrap_or_default();
                        let kept = keep(&root, target, &input);
                        eprintln!(
                            "fuzz {}: a case ran for more than {HANG_SECONDS} s (kept as {kept:?})",
                            target.name()
                        );
                        std::process::exit(3);
                    }
                }
            })
        };
        // Panics are caught and counted here: keep the default hook from printing each one.
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        for _ in 0..iterations {
            let input = (self.generate)(&mut rng);
            if let Ok(mut c) = current.lock() {
                c.clone_from(&input);
            }
            began.store(started.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
            match self.execute(&input) {
                Ok(Verdict::Accepted) => report.accepted += 1,
                Ok(Verdict::Rejected) => {}
                Err(message) => report.failures.push(Failure {
                    message,
                    fixture: keep(root, self.target, &input),
                }),
            }
            began.store(0, Ordering::Relaxed);
            report.executions += 1;
        }
        std::panic::set_hook(previous_hook);
        done.store(1, Ordering::Relaxed);
        let _ = watchdog.join();
        report.seconds = started.elapsed().as_secs_f64();
        report
    }
}
