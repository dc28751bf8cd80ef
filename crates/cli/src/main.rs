//! `polyskill`: the native front door. Validate task files, run a task's expert, train and
//! evaluate policies, and benchmark the simulator and policy inference. `--json` prints
//! machine-readable results on stdout; progress bars go to stderr.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use polyskill_learn::Record;
use polyskill_learn::algos::bc::{self, BcConfig};
use polyskill_learn::algos::grpo::{self, Baseline, GrpoConfig};
use polyskill_learn::algos::ppo::{self, PpoConfig};
use polyskill_learn::algos::sac::{self, SacConfig};
use polyskill_learn::eval::{BestCheckpoint, evaluate};
use polyskill_learn::multitask::{CombinerConfig, CombinerKind};
use polyskill_learn::nets::ArchitectureKind;
use polyskill_learn::{Conditioning, Device, IterativeRun, weights};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy, run_episode};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "polyskill",
    version,
    about = "Polyskill: multi-task policy learning on data-defined tasks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct TaskArgs {
    /// Task name (looked up as TASKS_DIR/NAME.json) or a path to a task file.
    #[arg(long)]
    task: String,
    /// Directory of task files.
    #[arg(long, default_value = "web/tasks")]
    tasks_dir: PathBuf,
}

// Parsed once per process: the variants' sizes do not matter.
#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Check task files; prints one line per problem (with its place and JSON path) and exits
    /// non-zero if any.
    Validate {
        /// Task files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print a JSON report instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Run the task's data-defined expert on seeded episodes and report its success rate.
    Expert {
        #[command(flatten)]
        task: TaskArgs,
        /// Number of episodes (seeds FIRST_SEED..FIRST_SEED+EPISODES).
        #[arg(long, default_value_t = 100)]
        episodes: u32,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train a policy and save it as safetensors with metadata. `--task` takes one task, a
    /// comma-separated list, or a set named in TASKS_DIR/../tasks.json (e.g. `mt10`): BC trains
    /// one network on all of them.
    Train {
        #[command(flatten)]
        task: TaskArgs,
        /// Algorithm: `bc` (behaviour cloning from the task's expert), `ppo`, `sac` (continuous
        /// actions), or for discrete tasks `grpo` or `rloo` (group-relative advantages, no
        /// critic). With several tasks, ppo and sac train one network told the task by a
        /// one-hot input (multi-task PPO, MT-SAC).
        #[arg(long, default_value = "bc")]
        algo: String,
        /// PPO, SAC, GRPO, RLOO: environment steps in all (default: 500 000; PPO on a
        /// continuous task 1 000 000; SAC 300 000).
        #[arg(long)]
        env_steps: Option<u64>,
        /// PPO, SAC: environments per task, stepped together (default: PPO 4; SAC 1, one
        /// gradient update per joint step).
        #[arg(long)]
        envs: Option<usize>,
        /// PPO, SAC: discount factor (default 0.99; PPO on a continuous task 0.95).
        #[arg(long)]
        gamma: Option<f32>,
        /// SAC: the entropy α is tuned towards, in nats (default: −(action size)).
        #[arg(long, allow_negative_numbers = true)]
        target_entropy: Option<f32>,
        /// SAC: environment steps summed into each stored transition (n-step returns; default 1).
        #[arg(long)]
        n_step: Option<usize>,
        /// PPO, SAC, GRPO, RLOO: stop once the mean return of the last 10 episodes reaches this.
        #[arg(long)]
        target_return: Option<f32>,
        /// BC: expert demonstration episodes per task.
        #[arg(long, default_value_t = 40)]
        demos: u32,
        /// BC: noise (standard deviation) added to the expert's actions while recording
        /// demonstrations (DART); the labels stay the expert's.
        #[arg(long, default_value_t = 0.1)]
        demo_noise: f32,
        /// BC: keep the learning rate constant (by default it falls linearly to zero over
        /// each fit's gradient steps).
        #[arg(long)]
        constant_lr: bool,
        /// BC: DAgger rounds after the first fit (the learner drives, the expert labels).
        #[arg(long, default_value_t = 0)]
        dagger_rounds: u32,
        /// BC: learner episodes per task in each DAgger round.
        #[arg(long, default_value_t = 20)]
        dagger_episodes: u32,
        /// BC, SAC with several tasks: how the network is told the task (`one-hot`,
        /// `multi-head` or `none`).
        #[arg(long, default_value = "one-hot")]
        conditioning: String,
        /// SAC: gradient updates per joint environment step (default 1).
        #[arg(long)]
        updates_per_step: Option<u32>,
        /// BC, PPO, SAC with several tasks: how the tasks' gradients become one update: mean, sum,
        /// uncertainty, dwa, pcgrad, cagrad, famo or nash-mtl, with their default settings
        /// (default: the minibatch's rows pooled into one loss, no per-task gradients).
        #[arg(long)]
        combiner: Option<String>,
        /// BC, PPO, SAC with several tasks: the (actor) network's architecture: mlp, film, moe,
        /// soft-modular, care, paco or moore (the task-aware ones read the task as a one-hot
        /// input).
        #[arg(long, default_value = "mlp")]
        architecture: String,
        /// Experts (moe, moore), encoders (care), parameter sets (paco) or modules per
        /// layer (soft-modular); the architecture's default if omitted.
        #[arg(long)]
        experts: Option<usize>,
        /// With --architecture moe: experts each row is routed to (default 2).
        #[arg(long)]
        top_k: Option<usize>,
        /// BC, PPO or SAC with a combiner: seek task-based flat regions, each task's gradient
        /// taken at the weights moved this radius along it (sharpness-aware per task).
        #[arg(long, value_name = "RHO")]
        task_sam: Option<f32>,
        /// BC with several tasks, no combiner: Rep-MTL's saliency regulation with this weight
        /// λ (the entropy of the tasks' saliencies on the last hidden layer).
        #[arg(long, value_name = "LAMBDA")]
        rep_mtl: Option<f32>,
        /// Hidden layer widths, comma-separated (default: 256,256 for bc and sac; 64,64 for
        /// ppo, grpo and rloo).
        #[arg(long, value_delimiter = ',')]
        hidden: Option<Vec<usize>>,
        /// Gradient steps.
        #[arg(long, default_value_t = 3000)]
        steps: u32,
        /// Minibatch size.
        #[arg(long, default_value_t = 256)]
        batch: usize,
        /// Learning rate (default: 1e-3 for bc; 2.5e-3 for ppo, grpo and rloo on discrete tasks;
        /// 1e-3 for ppo on continuous ones; sac: the actor's, 3e-4).
        #[arg(long)]
        lr: Option<f64>,
        /// Seed (initialisation and minibatches).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Episodes to evaluate the result on (unseen seeds 0..N).
        #[arg(long, default_value_t = 100)]
        eval_episodes: u32,
        /// PPO, SAC, GRPO, RLOO: every STEPS environment steps, evaluate the policy as it
        /// stands on 10 validation seeds per task (from 2 000 000 000, apart from the
        /// evaluation's) and keep the best, which is saved instead of the last.
        #[arg(long, value_name = "STEPS")]
        keep_best: Option<u64>,
        /// Output file; defaults to web/weights/TASK-ALGO.safetensors.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where the run's metrics go: RUNS_DIR/NAME/metrics.jsonl.
        #[arg(long, default_value = "runs")]
        runs_dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a saved policy on seeded episodes.
    Eval {
        #[command(flatten)]
        task: TaskArgs,
        /// Weights file (.safetensors).
        #[arg(long)]
        policy: PathBuf,
        /// Number of episodes.
        #[arg(long, default_value_t = 100)]
        episodes: u32,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Convert a PyTorch `Sequential` MLP saved as safetensors (`0.weight`, `0.bias`, …) into
    /// a Polyskill policy file, given a JSON architecture `{kind, sizes, activation, output}`.
    Import {
        /// The PyTorch safetensors file.
        #[arg(long)]
        weights: PathBuf,
        /// JSON file describing the architecture.
        #[arg(long)]
        architecture: PathBuf,
        /// Check the sizes against this task (name or path) and record it in the metadata.
        #[arg(long)]
        task: Option<String>,
        /// Directory of task files.
        #[arg(long, default_value = "web/tasks")]
        tasks_dir: PathBuf,
        /// Output Polyskill weights file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a comparison (methods × seeds on one task set and budget, `docs/comparisons/*.json`)
    /// on both cores and write OUT/report.json and OUT/report.md: per-task success, mean and
    /// IQM with 95% stratified-bootstrap intervals, curves, wall time, gradient conflict. Each
    /// finished run is saved in OUT/runs/, so `--resume` continues an interrupted comparison.
    Compare {
        /// The comparison spec (JSON).
        spec: PathBuf,
        /// Output directory (default: the spec's path without `.json`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue a comparison whose OUT already holds runs (same spec).
        #[arg(long)]
        resume: bool,
        /// Train nothing: write the report of the runs finished so far (a partial report says
        /// how many remain).
        #[arg(long)]
        report_only: bool,
        /// Runs trained at once (each on one thread).
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Directory of task files.
        #[arg(long, default_value = "web/tasks")]
        tasks_dir: PathBuf,
    },
    /// Print the task format's JSON Schema (generated from the Rust types).
    Schema,
    /// Draw a task's first frame to a PNG with the native renderer (Vulkan; lavapipe works headless).
    Render {
        #[command(flatten)]
        task: TaskArgs,
        /// Output PNG file.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the episode whose first frame is drawn.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Image width in pixels.
        #[arg(long, default_value_t = 320)]
        width: u32,
        /// Image height in pixels.
        #[arg(long, default_value_t = 240)]
        height: u32,
    },
    /// Measure simulator steps/s and policy inference samples/s (one thread).
    Bench {
        /// `sim`: steps/s of every task in TASKS_DIR/../tasks.json and VecEnv throughput;
        /// `learn`: behaviour-cloning training samples/s (39→256→256→4, batch 256), PPO's
        /// time to solve cart-pole (seeds 1–3), and multi-task BC on 10 tasks for every
        /// architecture and combiner;
        /// omitted: one task's steps/s and policy inference.
        what: Option<String>,
        /// Task for the default benchmark (name or path).
        #[arg(long, default_value = "reach")]
        task: String,
        /// Directory of task files.
        #[arg(long, default_value = "web/tasks")]
        tasks_dir: PathBuf,
        /// Environment steps to time (per task).
        #[arg(long, default_value_t = 20_000)]
        steps: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Mesa's Vulkan device-select layer connects to a Wayland display to choose the GPU; with no
/// display it prints "error: XDG_RUNTIME_DIR is invalid or not set" twice and carries on, which
/// reads as a failure. Headless there is no display to choose for, so switch the layer off
/// (`NODEVICE_SELECT=1`, Mesa's own switch) unless the user has set it either way.
fn quiet_headless_vulkan() {
    let headless =
        std::env::var_os("WAYLAND_DISPLAY").is_none() && std::env::var_os("DISPLAY").is_none();
    if headless && std::env::var_os("NODEVICE_SELECT").is_none() {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

fn main() -> ExitCode {
    quiet_headless_vulkan();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { files, json } => return validate(&files, json),
        Command::Expert {
            task,
            episodes,
            first_seed,
            json,
        } => expert(&task, episodes, first_seed, json),
        Command::Train {
            task,
            algo,
            env_steps,
            envs,
            gamma,
            n_step,
            updates_per_step,
            target_entropy,
            target_return,
            demos,
            demo_noise,
            constant_lr,
            dagger_rounds,
            dagger_episodes,
            conditioning,
            combiner,
            architecture,
            experts,
            top_k,
            task_sam,
            rep_mtl,
            hidden,
            steps,
            batch,
            lr,
            seed,
            eval_episodes,
            keep_best,
            out,
            runs_dir,
            json,
        } => {
            let combiner = match combiner.as_deref().map(CombinerKind::parse).transpose() {
                Ok(kind) => kind.map(|kind| CombinerConfig {
                    seed,
                    ..CombinerConfig::of(kind)
                }),
                Err(e) => {
                    eprintln!("error: --combiner: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let architecture = match ArchitectureKind::parse(&architecture) {
                Ok(kind) => kind,
                Err(e) => {
                    eprintln!("error: --architecture: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let multi_task = ["bc", "ppo", "sac"].contains(&algo.as_str());
            if (architecture != ArchitectureKind::Mlp || experts.is_some() || top_k.is_some())
                && !multi_task
            {
                eprintln!(
                    "error: --architecture, --experts and --top-k are for bc, ppo and sac (got --algo {algo})"
                );
                return ExitCode::FAILURE;
            }
            if combiner.is_some() && !multi_task {
                eprintln!("error: --combiner is for bc, ppo and sac (got --algo {algo})");
                return ExitCode::FAILURE;
            }
            let shape = (architecture, experts, top_k);
            if rep_mtl.is_some() && algo != "bc" {
                eprintln!("error: --rep-mtl is for bc (got --algo {algo})");
                return ExitCode::FAILURE;
            }
            if task_sam.is_some() && !matches!(algo.as_str(), "bc" | "ppo" | "sac") {
                eprintln!("error: --task-sam is for bc, ppo and sac (got --algo {algo})");
                return ExitCode::FAILURE;
            }
            let conditioning: Conditioning = match serde_json::from_value(json!(conditioning)) {
                Ok(c) => c,
                Err(_) => {
                    eprintln!(
                        "error: --conditioning {conditioning:?}: expected one-hot, multi-head or none"
                    );
                    return ExitCode::FAILURE;
                }
            };
            if conditioning != Conditioning::OneHot && algo != "bc" && algo != "sac" {
                eprintln!("error: --conditioning is for bc and sac (got --algo {algo})");
                return ExitCode::FAILURE;
            }
            if updates_per_step.is_some() && algo != "sac" {
                eprintln!("error: --updates-per-step is for sac (got --algo {algo})");
                return ExitCode::FAILURE;
            }
            let trainer = match algo.as_str() {
                "bc" => Trainer::Bc(BcConfig {
                    hidden: hidden.unwrap_or(BcConfig::default().hidden),
                    steps,
                    batch,
                    learning_rate: lr.unwrap_or(BcConfig::default().learning_rate),
                    anneal_lr: !constant_lr,
                    seed,
                    demos,
                    demo_noise,
                    dagger_rounds,
                    dagger_episodes,
                    conditioning,
                    combiner,
                    architecture,
                    experts,
                    top_k,
                    task_sam,
                    rep_mtl,
                    ..BcConfig::default()
                }),
                "grpo" | "rloo" => Trainer::Grpo {
                    config: GrpoConfig {
                        baseline: if algo == "grpo" {
                            Baseline::Grpo
                        } else {
                            Baseline::Rloo
                        },
                        total_steps: env_steps.unwrap_or(GrpoConfig::default().total_steps),
                        learning_rate: lr.unwrap_or(GrpoConfig::default().learning_rate),
                        seed,
                        hidden: hidden.unwrap_or(GrpoConfig::default().hidden),
                        ..GrpoConfig::default()
                    },
                    target_return,
                },
                "ppo" => Trainer::Ppo {
                    combiner,
                    task_sam,
                    shape,
                    env_steps,
                    envs,
                    lr,
                    gamma,
                    hidden,
                    seed,
                    target_return,
                },
                "sac" => {
                    let defaults = SacConfig::default();
                    Trainer::Sac {
                        config: SacConfig {
                            total_steps: env_steps.unwrap_or(defaults.total_steps),
                            hidden: hidden.unwrap_or(defaults.hidden.clone()),
                            envs_per_task: envs.unwrap_or(defaults.envs_per_task),
                            policy_lr: lr.unwrap_or(defaults.policy_lr),
                            gamma: gamma.unwrap_or(defaults.gamma),
                            n_step: n_step.unwrap_or(defaults.n_step),
                            updates_per_step: updates_per_step.unwrap_or(defaults.updates_per_step),
                            conditioning,
                            target_entropy,
                            architecture,
                            experts,
                            top_k,
                            combiner,
                            task_sam,
                            batch,
                            seed,
                            ..defaults
                        },
                        target_return,
                    }
                }
                other => {
                    eprintln!(
                        "error: unknown --algo {other:?}; available: bc, ppo, sac, grpo, rloo"
                    );
                    return ExitCode::FAILURE;
                }
            };
            if keep_best.is_some() && algo == "bc" {
                eprintln!(
                    "error: --keep-best is for ppo, sac, grpo and rloo (behaviour cloning has no environment steps)"
                );
                return ExitCode::FAILURE;
            }
            train(
                &task,
                &algo,
                &trainer,
                eval_episodes,
                keep_best,
                out,
                runs_dir,
                json,
            )
        }
        Command::Eval {
            task,
            policy,
            episodes,
            first_seed,
            json,
        } => eval(&task, &policy, episodes, first_seed, json),
        Command::Bench {
            what,
            task,
            tasks_dir,
            steps,
            json,
        } => match what.as_deref() {
            None => bench(&TaskArgs { task, tasks_dir }, steps, json),
            Some("sim") => bench_sim(&tasks_dir, steps, json),
            Some("learn") => bench_learn(&tasks_dir, json),
            Some(other) => Err(format!(
                "unknown benchmark {other:?}; available: sim, learn (or none)"
            )),
        },
        Command::Import {
            weights,
            architecture,
            task,
            tasks_dir,
            out,
        } => {
            let task = task.map(|task| TaskArgs { task, tasks_dir });
            import(&weights, &architecture, task.as_ref(), &out)
        }
        Command::Compare {
            spec,
            out,
            resume,
            report_only,
            workers,
            tasks_dir,
        } => compare(&spec, out, resume, report_only, workers, &tasks_dir),
        Command::Schema => serde_json::to_string_pretty(&Task::json_schema())
            .map(|s| println!("{s}"))
            .map_err(|e| e.to_string()),
        Command::Render {
            task,
            out,
            seed,
            width,
            height,
        } => render(&task, &out, seed, width, height),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `polyskill compare`: loads the spec and its tasks (names, sets, or files relative to the
/// spec), runs what is not yet done, and prints the report's table.
fn compare(
    spec_path: &Path,
    out: Option<PathBuf>,
    resume: bool,
    report_only: bool,
    workers: usize,
    tasks_dir: &Path,
) -> Result<(), String> {
    use polyskill_learn::compare::{CompareSpec, report_so_far, run_matrix, write_report_index};
    let text =
        std::fs::read_to_string(spec_path).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let spec =
        CompareSpec::from_json(&text).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let base = spec_path.parent().unwrap_or(Path::new("."));
    let mut tasks = Vec::new();
    for name in &spec.tasks {
        let beside = base.join(name);
        let task = if beside.is_file() {
            beside.to_string_lossy().into_owned()
        } else {
            name.clone()
        };
        tasks.extend(load_tasks(&TaskArgs {
            task,
            tasks_dir: tasks_dir.to_path_buf(),
        })?);
    }
    let out = out.unwrap_or_else(|| spec_path.with_extension(""));
    let started = out
        .join("runs")
        .read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    // The compare page lists the reports beside this one.
    let index = |out: &Path| match out.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => write_report_index(parent),
        None => Ok(()),
    };
    if report_only {
        let report = report_so_far(&spec, &tasks, &out)?;
        println!("{}", polyskill_learn::compare::markdown(&report));
        return index(&out);
    }
    if started && !resume {
        return Err(format!(
            "{} already holds runs: pass --resume to continue them, or choose another --out",
            out.display()
        ));
    }
    let total = spec.methods.len() * spec.seeds.len();
    eprintln!(
        "compare {}: {} methods × {} seeds on {} task(s), {workers} at a time -> {}",
        spec.name,
        spec.methods.len(),
        spec.seeds.len(),
        tasks.len(),
        out.display()
    );
    let report = run_matrix(&spec, &tasks, &out, workers, |run, done, _| {
        let mean = run.success.iter().sum::<f32>() / run.success.len().max(1) as f32;
        eprintln!(
            "  [{done}/{total}] {} seed {}: success {:.1}% in {:.0} s{}",
            run.method,
            run.seed,
            100.0 * mean,
            run.seconds,
            run.error
                .as_ref()
                .map(|e| format!(" (stopped early: {e})"))
                .unwrap_or_default()
        );
    })?;
    println!("{}", polyskill_learn::compare::markdown(&report));
    index(&out)
}

fn load_task(args: &TaskArgs) -> Result<Task, String> {
    let direct = Path::new(&args.task);
    let path = if direct.is_file() {
        direct.to_path_buf()
    } else {
        args.tasks_dir.join(format!("{}.json", args.task))
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let known: Vec<String> = std::fs::read_dir(&args.tasks_dir)
            .map(|d| {
                d.filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        format!(
            "cannot read task {} ({e}); known tasks in {}: {}",
            path.display(),
            args.tasks_dir.display(),
            known.join(", ")
        )
    })?;
    Task::from_json(&text).map_err(|e| format!("{}:\n{e}", path.display()))
}

/// The tasks `args.task` names: one task, a comma-separated list, or a set from
/// TASKS_DIR/../tasks.json's `sets` (e.g. `mt10`).
fn load_tasks(args: &TaskArgs) -> Result<Vec<Task>, String> {
    let index_path = args
        .tasks_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("tasks.json");
    let sets = std::fs::read_to_string(&index_path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|index| index["sets"].clone())
        .unwrap_or_default();
    let mut tasks = Vec::new();
    for name in args
        .task
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let members: Vec<String> = match sets[name].as_array() {
            Some(list) => list
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            None => vec![name.to_string()],
        };
        for member in members {
            tasks.push(load_task(&TaskArgs {
                task: member,
                tasks_dir: args.tasks_dir.clone(),
            })?);
        }
    }
    if tasks.is_empty() {
        return Err(format!("--task {:?} names no task", args.task));
    }
    Ok(tasks)
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn validate(files: &[PathBuf], json: bool) -> ExitCode {
    let mut report = Vec::new();
    let mut failed = false;
    for file in files {
        let issues = match std::fs::read_to_string(file) {
            Err(e) => vec![polyskill_sim::task::Issue::new(
                "",
                format!("cannot read: {e}"),
            )],
            Ok(text) => match Task::from_json(&text) {
                Ok(_) => vec![],
                Err(e) => e.issues,
            },
        };
        failed |= !issues.is_empty();
        if !json {
            if issues.is_empty() {
                println!("{}: ok", file.display());
            }
            for issue in &issues {
                // `file:line:column: path: message`, the form editors and terminals link.
                match (issue.line, issue.column) {
                    (Some(line), Some(column)) => {
                        println!("{}:{line}:{column}: {issue}", file.display())
                    }
                    _ => println!("{}: {issue}", file.display()),
                }
            }
        }
        report.push(json!({"file": file, "ok": issues.is_empty(), "errors": issues}));
    }
    if json {
        println!("{}", serde_json::Value::Array(report));
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn expert(args: &TaskArgs, episodes: u32, first_seed: u64, json: bool) -> Result<(), String> {
    let task = load_task(args)?;
    let mut env = Env::new(task.clone());
    let mut expert =
        ExpertPolicy::for_env(&env).ok_or_else(|| format!("task {} has no expert", task.id))?;
    let bar = progress(episodes as u64, "expert");
    let (mut successes, mut total_return) = (0u32, 0.0f32);
    let started = Instant::now();
    for seed in first_seed..first_seed + episodes as u64 {
        expert.reset();
        let r = run_episode(&mut env, seed, |env| expert.act(env)).map_err(|e| e.to_string())?;
        successes += r.success as u32;
        total_return += r.episode_return;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let rate = successes as f32 / episodes.max(1) as f32;
    let mean_return = total_return / episodes.max(1) as f32;
    if json {
        println!(
            "{}",
            json!({"task": task.id, "episodes": episodes, "first_seed": first_seed,
            "success_rate": rate, "mean_return": mean_return, "seconds": started.elapsed().as_secs_f64()})
        );
    } else {
        println!(
            "{}: expert success {:.1}% over {episodes} episodes, mean return {mean_return:.1}",
            task.id,
            rate * 100.0
        );
    }
    Ok(())
}

/// An algorithm and its settings, as chosen on the command line.
enum Trainer {
    /// Behaviour cloning (with DAgger rounds if configured) on one or several tasks.
    Bc(BcConfig),
    /// PPO with the action space's defaults ([`PpoConfig::for_task`]) and these overrides,
    /// optionally stopping at a return target.
    Ppo {
        combiner: Option<CombinerConfig>,
        /// Task-based flat regions' radius ρ (with a combiner).
        task_sam: Option<f32>,
        /// The actor's architecture, experts and top-k.
        shape: (ArchitectureKind, Option<usize>, Option<usize>),
        env_steps: Option<u64>,
        envs: Option<usize>,
        lr: Option<f64>,
        gamma: Option<f32>,
        hidden: Option<Vec<usize>>,
        seed: u64,
        target_return: Option<f32>,
    },
    /// GRPO or RLOO (group-relative advantages, no critic), optionally stopping at a target.
    Grpo {
        config: GrpoConfig,
        target_return: Option<f32>,
    },
    /// SAC on one task, MT-SAC on several, optionally stopping at a return target.
    Sac {
        config: SacConfig,
        target_return: Option<f32>,
    },
}

/// A run's name from `--task`: the tasks joined by `+`, each a task name or, for a path to a
/// task file, its file stem (so a run never names a directory outside the runs directory).
fn run_name(task_arg: &str) -> String {
    task_arg
        .split(',')
        .map(|t| {
            std::path::Path::new(t)
                .file_stem()
                .map_or_else(|| t.to_string(), |s| s.to_string_lossy().into_owned())
        })
        .collect::<Vec<_>>()
        .join("+")
}

/// Where a run's metrics go: `RUNS_DIR/NAME/metrics.jsonl` (`--runs-dir`, default `runs`), and
/// echoed on stdout with `--json`.
struct LogTo {
    runs_dir: PathBuf,
    echo: bool,
}

/// A run's metrics: one JSON line per record (with the wall time so far) into
/// `RUNS_DIR/NAME/metrics.jsonl`, echoed on stdout with `--json`.
struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
    echo: bool,
    started: Instant,
    error: Option<String>,
}

impl MetricsLog {
    fn create(to: &LogTo, name: &str) -> Result<MetricsLog, String> {
        let (dir, echo) = (to.runs_dir.join(name), to.echo);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let path = dir.join("metrics.jsonl");
        let file = std::fs::File::create(&path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        Ok(MetricsLog {
            path,
            file,
            echo,
            started: Instant::now(),
            error: None,
        })
    }

    /// Writes one record; false (and the error kept for [`MetricsLog::finish`]) if it cannot.
    fn write(&mut self, record: &impl serde::Serialize) -> bool {
        let mut line = serde_json::to_value(record).unwrap_or_default();
        line["seconds"] = json!(self.started.elapsed().as_secs_f64());
        if self.echo {
            println!("{line}");
        }
        if let Err(e) = writeln!(self.file, "{line}") {
            self.error = Some(format!("writing {}: {e}", self.path.display()));
        }
        self.error.is_none()
    }

    /// The first write error, if any.
    fn finish(self) -> Result<PathBuf, String> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.path),
        }
    }
}

/// Behaviour cloning on `tasks`, with a progress bar and one metrics line per progress record
/// in `runs/NAME-bc-sSEED/metrics.jsonl`; returns the policy and a summary.
fn train_bc(
    name: &str,
    tasks: &[Task],
    config: &BcConfig,
    to: &LogTo,
) -> Result<(polyskill_learn::Policy, serde_json::Value), String> {
    let mut log = MetricsLog::create(to, &format!("{name}-bc-s{}", config.seed))?;
    let fit_steps = config.steps as u64 * (config.dagger_rounds as u64 + 1);
    let bar = progress(fit_steps, "bc");
    let mut last_loss = f32::NAN;
    let policy = bc::train_tasks(tasks, config, |p| {
        match p.phase {
            bc::BcPhase::Recording => bar.set_message(match p.learner_success {
                Some(s) => format!("dagger {} ({:.0}%)", p.round, s * 100.0),
                None => format!("demos {}", p.episodes),
            }),
            bc::BcPhase::Fitting => {
                bar.set_position(p.step as u64);
                bar.set_message(format!("loss {:.4}", p.loss));
                last_loss = p.loss;
            }
        }
        log.write(&p);
    })?;
    bar.finish_and_clear();
    let seconds = log.started.elapsed().as_secs_f64();
    let metrics = log.finish()?;
    Ok((
        policy,
        json!({ "final_loss": last_loss, "seconds": seconds, "metrics": metrics }),
    ))
}

/// An iterative run (PPO, SAC, GRPO, RLOO): one JSON line of metrics per iteration into
/// `runs/NAME-ALGO-sSEED/metrics.jsonl` (and on stdout with `--json`), with a progress bar on
/// stderr, until the budget is spent or the return target met. A run that fails (diverges)
/// still returns its last good policy, with the error as the summary's `"failed"`.
#[allow(clippy::too_many_arguments)]
fn train_pg<R: IterativeRun>(
    name: &str,
    algo: &str,
    seed: u64,
    total_steps: u64,
    target_return: Option<f32>,
    keep_best: Option<(&[Task], u64)>,
    to: &LogTo,
    run: R,
) -> Result<(polyskill_learn::Policy, serde_json::Value), String> {
    let mut log = MetricsLog::create(to, &format!("{name}-{algo}-s{seed}"))?;
    let bar = progress(total_steps, algo);
    let mut last = None;
    let mut best = keep_best
        .map(|(tasks, every)| BestCheckpoint::new(tasks, every, 10))
        .transpose()?;
    let mut validation_error = None;
    let (mut policy, failed) =
        polyskill_learn::run_keeping_last_good(run, |it: &Record, run: &R| {
            bar.set_position(it.env_steps);
            bar.set_message(format!("return {:.1}", it.mean_return));
            last = Some(it.clone());
            if let Some(best) = best.as_mut() {
                match best.observe(it.env_steps, || run.policy()) {
                    Ok(Some(v)) => bar.println(format!(
                        "validation at {} env steps: success {:.0}%, return {:.1}",
                        v.env_steps,
                        v.success_rate * 100.0,
                        v.mean_return
                    )),
                    Ok(None) => {}
                    Err(e) => {
                        validation_error = Some(e);
                        return false;
                    }
                }
            }
            log.write(it)
                && !target_return.is_some_and(|t| it.episodes >= 10 && it.mean_return >= t)
        });
    bar.finish_and_clear();
    if let Some(e) = validation_error {
        return Err(format!("validating a checkpoint: {e}"));
    }
    let seconds = log.started.elapsed().as_secs_f64();
    let metrics = log.finish()?;
    let (env_steps, final_mean_return) =
        last.map_or((0, f32::NAN), |l| (l.env_steps, l.mean_return));
    let mut summary = json!({ "env_steps": env_steps, "final_mean_return": final_mean_return, "seconds": seconds, "metrics": metrics });
    if let Some(best) = best {
        summary["validations"] = json!(best.history);
        if let Some((kept, validation)) = best.into_best() {
            summary["kept"] = json!(validation);
            policy = kept;
        }
    }
    if let Some(failure) = failed {
        summary["failed"] = json!(failure);
    }
    Ok((policy, summary))
}

#[allow(clippy::too_many_arguments)]
fn train(
    args: &TaskArgs,
    algo: &str,
    trainer: &Trainer,
    eval_episodes: u32,
    keep_best: Option<u64>,
    out: Option<PathBuf>,
    runs_dir: PathBuf,
    json: bool,
) -> Result<(), String> {
    let tasks = load_tasks(args)?;
    let log_to = LogTo {
        runs_dir,
        echo: json,
    };
    let started = Instant::now();
    // Iterative runs validate on every task they train (--keep-best).
    let keep = keep_best.map(|every| (tasks.as_slice(), every));
    let (mut policy, summary) = match trainer {
        Trainer::Bc(config) => train_bc(&run_name(&args.task), &tasks, config, &log_to)?,
        Trainer::Ppo {
            combiner,
            task_sam,
            shape,
            env_steps,
            envs,
            lr,
            gamma,
            hidden,
            seed,
            target_return,
        } => {
            // Several tasks: multi-task PPO (one network, a task one-hot input).
            let defaults = PpoConfig::for_task(&tasks[0]);
            let config = PpoConfig {
                total_steps: env_steps.unwrap_or(defaults.total_steps),
                learning_rate: lr.unwrap_or(defaults.learning_rate),
                gamma: gamma.unwrap_or(defaults.gamma),
                hidden: hidden.clone().unwrap_or(defaults.hidden.clone()),
                num_envs: envs.unwrap_or(defaults.num_envs),
                seed: *seed,
                combiner: combiner.clone(),
                task_sam: *task_sam,
                architecture: shape.0,
                experts: shape.1,
                top_k: shape.2,
                ..defaults
            };
            let name = run_name(&args.task);
            train_pg(
                &name,
                algo,
                config.seed,
                config.total_steps,
                *target_return,
                keep,
                &log_to,
                ppo::PpoRun::multi_task(&tasks, &config)?,
            )?
        }
        Trainer::Grpo {
            config,
            target_return,
        } => match tasks.as_slice() {
            [task] => train_pg(
                &task.id,
                algo,
                config.seed,
                config.total_steps,
                *target_return,
                keep,
                &log_to,
                grpo::GrpoRun::new(task, config)?,
            )?,
            _ => {
                return Err(format!(
                    "--algo {algo} trains one task; got {}",
                    tasks.len()
                ));
            }
        },
        Trainer::Sac {
            config,
            target_return,
        } => {
            let name = run_name(&args.task);
            train_pg(
                &name,
                algo,
                config.seed,
                config.total_steps,
                *target_return,
                keep,
                &log_to,
                sac::SacRun::new(&tasks, config)?,
            )?
        }
    };
    let evaluations = tasks
        .iter()
        .map(|task| evaluate(&policy, task, 0, eval_episodes))
        .collect::<Result<Vec<_>, _>>()?;
    let mean_success =
        evaluations.iter().map(|e| e.success_rate).sum::<f32>() / evaluations.len() as f32;
    policy.info.eval_success = Some(mean_success);
    policy.info.eval_episodes = Some(eval_episodes);
    let per_task: serde_json::Map<String, serde_json::Value> = tasks
        .iter()
        .zip(&evaluations)
        .map(|(t, e)| (t.id.clone(), json!(e.success_rate)))
        .collect();
    let command: Vec<String> = std::env::args().collect();
    if let (serde_json::Value::Object(t), serde_json::Value::Object(extra)) =
        (&mut policy.info.training, &summary)
    {
        t.insert(
            "command".into(),
            json!(format!("polyskill {}", command[1..].join(" "))),
        );
        t.insert("eval_seeds".into(), json!(format!("0..{eval_episodes}")));
        t.insert("eval_success_per_task".into(), json!(per_task));
        t.insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
        t.extend(extra.clone());
    }
    let name = if tasks.len() == 1 {
        format!("{}-{algo}", tasks[0].id)
    } else {
        let conditioning = serde_json::to_value(policy.info.conditioning).unwrap_or_default();
        format!(
            "{}-{algo}-{}",
            run_name(&args.task),
            conditioning.as_str().unwrap_or("none")
        )
    };
    let out = out.unwrap_or_else(|| PathBuf::from(format!("web/weights/{name}.safetensors")));
    let bytes = weights::save(&policy).map_err(|e| e.to_string())?;
    std::fs::write(&out, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))?;
    if json {
        println!(
            "{}",
            json!({"tasks": policy.info.tasks, "algo": algo, "out": out, "bytes": bytes.len(), "training": summary,
            "evaluation": evaluations, "mean_success": mean_success, "seconds": started.elapsed().as_secs_f64()})
        );
    } else {
        for (task, e) in tasks.iter().zip(&evaluations) {
            println!(
                "{:>22}: success {:5.1}%, mean return {:.1}",
                task.id,
                e.success_rate * 100.0,
                e.mean_return
            );
        }
        println!(
            "wrote {} ({} KiB); mean success {:.1}% over {} unseen seeds per task; {:.1} s",
            out.display(),
            bytes.len() / 1024,
            mean_success * 100.0,
            eval_episodes,
            started.elapsed().as_secs_f64()
        );
    }
    match summary["failed"].as_str() {
        Some(failure) => Err(format!(
            "{failure}; the last good weights (before the failing update) are saved in {}",
            out.display()
        )),
        None => Ok(()),
    }
}

fn eval(
    args: &TaskArgs,
    policy: &Path,
    episodes: u32,
    first_seed: u64,
    json: bool,
) -> Result<(), String> {
    let task = load_task(args)?;
    let bytes = std::fs::read(policy).map_err(|e| format!("reading {}: {e}", policy.display()))?;
    let policy = weights::load(&bytes, &Device::flex()).map_err(|e| e.to_string())?;
    let e = evaluate(&policy, &task, first_seed, episodes)?;
    if json {
        println!("{}", json!({"task": task.id, "evaluation": e}));
    } else {
        println!(
            "{}: success {:.1}% over {episodes} episodes (seeds {first_seed}..), mean return {:.1}",
            task.id,
            e.success_rate * 100.0,
            e.mean_return
        );
    }
    Ok(())
}

fn import(
    weights_file: &Path,
    architecture: &Path,
    task: Option<&TaskArgs>,
    out: &Path,
) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let arch_text = read(architecture)?;
    let arch: polyskill_learn::Architecture = serde_json::from_slice(&arch_text)
        .map_err(|e| format!("{}: {e}", architecture.display()))?;
    let mut policy = weights::import_sequential(&read(weights_file)?, &arch, &Device::flex())
        .map_err(|e| format!("{}: {e}", weights_file.display()))?;
    if let Some(args) = task {
        let task = load_task(args)?;
        let (inputs, outputs) = (policy.observation_size(), policy.action_size());
        if (inputs, outputs) != (task.observation.size, task.action_size()) {
            return Err(format!(
                "task {} observes {} values and takes {} actions; the network maps {inputs} to {outputs}",
                task.id,
                task.observation.size,
                task.action_size()
            ));
        }
        policy.info.tasks = vec![task.id.clone()];
    }
    policy.info.training["source"] = json!(weights_file.display().to_string());
    let bytes = weights::save(&policy).map_err(|e| e.to_string())?;
    std::fs::write(out, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!(
        "wrote {} ({} layers, sizes {:?})",
        out.display(),
        arch.sizes.len() - 1,
        arch.sizes
    );
    Ok(())
}

fn bench(args: &TaskArgs, steps: u32, json: bool) -> Result<(), String> {
    let task = load_task(args)?;
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_secs_f64() * 1000.0;
    let report = polyskill_learn::bench::report(&task, steps, 20_000, 100, &now_ms)?;
    let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    value["target"] = json!(format!("{} native", std::env::consts::ARCH));
    if json {
        println!("{value}");
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    }
    Ok(())
}

fn bench_learn(tasks_dir: &Path, json: bool) -> Result<(), String> {
    let cart_pole = load_task(&TaskArgs {
        task: "cart-pole".into(),
        tasks_dir: tasks_dir.to_path_buf(),
    })?;
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_secs_f64() * 1000.0;
    let report = polyskill_learn::bench::learning(&cart_pole, 2000, &now_ms)?;
    let multitask = polyskill_learn::bench::multitask_throughput(10, 300, &now_ms)?;
    let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    value["target"] = json!(format!("{} native", std::env::consts::ARCH));
    value["multitask_bc_10_tasks"] = serde_json::to_value(&multitask).map_err(|e| e.to_string())?;
    if json {
        println!("{value}");
    } else {
        println!(
            "BC training (39→256→256→4, batch 256, Adam): {:.0} samples/s",
            report.bc.samples_per_s
        );
        let equal = multitask
            .iter()
            .find(|m| m.combiner.as_deref() == Some("mean"))
            .map_or(f64::NAN, |m| m.ms_per_step);
        println!("Multi-task BC, 10 tasks (39+10→256→256→4, batch 256):");
        for m in &multitask {
            println!(
                "  {:<13} {:<12} {:>6} {:>9.0} samples/s {:>7.2} ms/step{}",
                m.architecture,
                m.combiner.as_deref().unwrap_or("pooled"),
                m.engine,
                m.samples_per_s,
                m.ms_per_step,
                if m.combiner.is_some() {
                    format!("  ({:.2}× mean's step)", m.ms_per_step / equal)
                } else {
                    String::new()
                }
            );
        }
        for p in &report.ppo_cart_pole {
            println!(
                "PPO cart-pole seed {}: {} env steps, {:.2} s{}",
                p.seed,
                p.env_steps,
                p.seconds,
                if p.solved { "" } else { " (not solved)" }
            );
        }
    }
    Ok(())
}

fn bench_sim(tasks_dir: &Path, steps: u32, json: bool) -> Result<(), String> {
    let index_path = tasks_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("tasks.json");
    let index: serde_json::Value = std::fs::read_to_string(&index_path)
        .map_err(|e| format!("{}: {e}", index_path.display()))
        .and_then(|t| {
            serde_json::from_str(&t).map_err(|e| format!("{}: {e}", index_path.display()))
        })?;
    let names = index["tasks"]
        .as_array()
        .ok_or_else(|| format!("{}: no \"tasks\" list", index_path.display()))?;
    let tasks = names
        .iter()
        .map(|n| {
            load_task(&TaskArgs {
                task: n.as_str().unwrap_or_default().to_string(),
                tasks_dir: tasks_dir.to_path_buf(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bar = progress(1, "bench sim");
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_secs_f64() * 1000.0;
    let report = polyskill_learn::bench::suite(&tasks, steps, &now_ms)?;
    bar.finish_and_clear();
    let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    value["target"] = json!(format!("{} native", std::env::consts::ARCH));
    if json {
        println!("{value}");
    } else {
        for f in &report.tasks {
            println!("{:>22}  {:>9.0} steps/s", f.task, f.env_steps_per_s);
        }
        println!(
            "{:>22}  {:>9.0} steps/s",
            "manipulation mean", report.manipulation_mean_steps_per_s
        );
        println!(
            "{:>22}  {:>9.0} steps/s",
            "VecEnv (multi-task)", report.vec_env_steps_per_s
        );
    }
    Ok(())
}

fn render(args: &TaskArgs, out: &Path, seed: u64, width: u32, height: u32) -> Result<(), String> {
    use polyskill_render::{Camera, OFFSCREEN_FORMAT, Renderer, offscreen};
    let task = load_task(args)?;
    let mut env = Env::new(task);
    env.reset(seed);
    let (device, queue, adapter) = offscreen::device()?;
    let mut renderer = Renderer::new(device, queue, OFFSCREEN_FORMAT);
    let rgba = offscreen::render_rgba(
        &mut renderer,
        &env.visuals(),
        &Camera::for_task(env.task()),
        width,
        height,
    )?;
    offscreen::write_png(out, &rgba, width, height)?;
    eprintln!("wrote {} ({width}×{height}, {adapter})", out.display());
    Ok(())
}
