//! `polyskill`: the native front door. Validate task files, run a task's expert, train and
//! evaluate policies, and benchmark the simulator and policy inference. `--json` prints
//! machine-readable results on stdout; progress bars go to stderr.

mod bench;
mod compare;
mod inspect;
mod log;
mod render;
mod tasks;
mod train;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use polyskill_sim::task::Task;
use std::path::PathBuf;
use std::process::ExitCode;
use tasks::TaskArgs;

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
    /// Train a policy and save it as safetensors with metadata: `polyskill train ALGO --task T`
    /// (`polyskill train ALGO --help` lists that algorithm's flags and their defaults).
    /// `--task` takes one task, a comma-separated list, or a set named in
    /// TASKS_DIR/../tasks.json (e.g. `mt10`): bc, ppo and sac train one network on all of them.
    #[command(subcommand)]
    Train(train::TrainCommand),
    /// Re-evaluate a shipped or saved policy on every task it names over the seeds its
    /// metadata records, and write the figures back into the file (the weights are unchanged):
    /// for when the simulator's dynamics or a task changed on purpose.
    Reevaluate {
        /// Weights files (.safetensors).
        #[arg(required = true)]
        policies: Vec<PathBuf>,
        /// Directory of task files.
        #[arg(long, default_value = "web/tasks")]
        tasks_dir: PathBuf,
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
    /// Write a policy as an ONNX model (observation normalisation, task conditioning and head
    /// selection included) for onnxruntime and other ONNX runtimes: inputs `observation`
    /// (float32 `[batch, obs]`) and, for a multi-task policy, `task` (int64 `[batch]`, the
    /// index in its `tasks`); output `action`.
    Export {
        /// Weights file (.safetensors).
        policy: PathBuf,
        /// Output ONNX file.
        #[arg(long)]
        onnx: PathBuf,
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
    /// Draw a task's first frame to a PNG with the native renderer (Vulkan; lavapipe works
    /// headless), or with `--episode` a whole episode to an animated GIF, played by a policy,
    /// the task's expert or random actions.
    Render {
        #[command(flatten)]
        task: TaskArgs,
        /// Output file: PNG, or GIF with `--episode`.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the episode drawn.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Image width in pixels.
        #[arg(long, default_value_t = 320)]
        width: u32,
        /// Image height in pixels.
        #[arg(long, default_value_t = 240)]
        height: u32,
        /// Record the whole episode (to its end or success) as an animated GIF.
        #[arg(long)]
        episode: bool,
        /// Who acts in the episode: a weights file or a shipped policy's name (default: the
        /// task's expert, or random actions for a task without one).
        #[arg(long)]
        policy: Option<String>,
        /// Simulator steps per GIF frame (the GIF plays in real time either way).
        #[arg(long, default_value_t = 4)]
        every: u32,
        /// Draw the hand's path so far as a trail of dots (debug view; with `--episode`).
        #[arg(long)]
        trail: bool,
        /// Draw the points where bodies touch as red dots (debug view; with `--episode`).
        #[arg(long)]
        contacts: bool,
    },
    /// Measure simulator steps/s and policy inference samples/s (one thread).
    Bench {
        /// `sim`: steps/s of every task in TASKS_DIR/../tasks.json and VecEnv throughput;
        /// `learn`: behaviour-cloning training samples/s (39→256→256→4, batch 256), PPO's
        /// time to solve cart-pole (seeds 1–3), and multi-task BC on 10 tasks for every
        /// architecture and combiner; `render`: native frame times (lavapipe or the GPU) at
        /// 1280×720 over an expert episode of `--task`;
        /// omitted: one task's steps/s and policy inference.
        what: Option<String>,
        /// Task for the default and `render` benchmarks (name or path).
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

/// Parses the command line, with `train`'s defaults read from the configuration types into
/// its help; a flag given to an algorithm that does not take it names the ones that do.
fn parse() -> Cli {
    let command = Cli::command().mut_subcommand("train", train::with_defaults_in_help);
    let mut matches = match command.clone().try_get_matches() {
        Ok(m) => m,
        Err(e) => explain(&command, e),
    };
    Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.exit())
}

/// Exits with clap's error, adding which `train` subcommands take an unexpected flag.
fn explain(command: &clap::Command, error: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let is_train = std::env::args().nth(1).as_deref() == Some("train");
    if error.kind() == ErrorKind::UnknownArgument
        && is_train
        && let Some(ContextValue::String(flag)) = error.get(ContextKind::InvalidArg)
        && let Some(train) = command.find_subcommand("train")
    {
        let takers = train::algorithms_taking(train, flag);
        let hint = if flag == "--algo" {
            "the algorithm is a subcommand now: polyskill train bc|ppo|sac|grpo|rloo --task …"
                .to_string()
        } else if takers.is_empty() {
            format!("no `polyskill train` algorithm takes {flag}")
        } else {
            format!(
                "{flag} is a setting of: {}",
                takers
                    .iter()
                    .map(|t| format!("polyskill train {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = error.print();
        eprintln!("\nnote: {hint}");
        std::process::exit(2);
    }
    if error.kind() == ErrorKind::InvalidSubcommand
        && is_train
        && let Some(train) = command.find_subcommand("train")
    {
        let names: Vec<&str> = train.get_subcommands().map(|c| c.get_name()).collect();
        let _ = error.print();
        eprintln!("\nnote: available: {}", names.join(", "));
        std::process::exit(2);
    }
    error.exit()
}

fn main() -> ExitCode {
    quiet_headless_vulkan();
    let cli = parse();
    let result = match cli.command {
        Command::Validate { files, json } => return inspect::validate(&files, json),
        Command::Expert {
            task,
            episodes,
            first_seed,
            json,
        } => inspect::expert(&task, episodes, first_seed, json),
        Command::Train(command) => command.run(),
        Command::Reevaluate {
            policies,
            tasks_dir,
        } => inspect::reevaluate(&policies, &tasks_dir),
        Command::Eval {
            task,
            policy,
            episodes,
            first_seed,
            json,
        } => inspect::eval(&task, &policy, episodes, first_seed, json),
        Command::Bench {
            what,
            task,
            tasks_dir,
            steps,
            json,
        } => match what.as_deref() {
            None => bench::bench(&TaskArgs { task, tasks_dir }, steps, json),
            Some("sim") => bench::bench_sim(&tasks_dir, steps, json),
            Some("learn") => bench::bench_learn(&tasks_dir, json),
            Some("render") => bench::bench_render(&TaskArgs { task, tasks_dir }, json),
            Some(other) => Err(format!(
                "unknown benchmark {other:?}; available: sim, learn, render (or none)"
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
            inspect::import(&weights, &architecture, task.as_ref(), &out)
        }
        Command::Export { policy, onnx } => inspect::export(&policy, &onnx),
        Command::Compare {
            spec,
            out,
            resume,
            report_only,
            workers,
            tasks_dir,
        } => compare::compare(&spec, out, resume, report_only, workers, &tasks_dir),
        Command::Schema => serde_json::to_string_pretty(&Task::json_schema())
            .map(|s| println!("{s}"))
            .map_err(|e| e.to_string()),
        Command::Render {
            task,
            out,
            seed,
            width,
            height,
            episode,
            policy,
            every,
            trail,
            contacts,
        } => {
            if episode {
                let overlays = render::OverlayChoice { trail, contacts };
                render::episode(
                    &task,
                    &out,
                    seed,
                    [width, height],
                    policy.as_deref(),
                    every,
                    overlays,
                )
            } else if policy.is_some() || trail || contacts {
                Err("--policy, --trail and --contacts are about an episode: add --episode (and a .gif --out)".into())
            } else {
                render::render(&task, &out, seed, width, height)
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
