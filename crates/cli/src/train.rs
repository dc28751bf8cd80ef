//! `polyskill train ALGO`: one subcommand per algorithm, each taking only the flags that apply
//! to it. A flag that sets part of the algorithm's configuration is a field of the same name as
//! the configuration's (serialised, the given flags *are* the settings that
//! [`TrainConfig::with_settings`] lays over the configuration's defaults), so defaults, ranges
//! and names are the configuration type's, shared with the page and comparison specs; the help
//! text shows each default read from it ([`with_defaults_in_help`]).

use crate::log::{LogTo, MetricsLog, progress};
use crate::tasks::{TaskArgs, load_tasks, run_name};
use clap::builder::PossibleValuesParser;
use polyskill_learn::algos::Algorithm;
use polyskill_learn::algos::bc;
use polyskill_learn::eval::{BestCheckpoint, evaluate};
use polyskill_learn::multitask::CombinerKind;
use polyskill_learn::nets::ArchitectureKind;
use polyskill_learn::{IterativeRun, Policy, Record, TrainConfig, TrainRun, weights};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::Instant;

/// The algorithm to train, with its flags.
// Parsed once per process: the variants' sizes do not matter.
#[derive(clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum TrainCommand {
    /// Behaviour cloning of the tasks' scripted experts (DART noise while recording, optional
    /// DAgger rounds); several tasks train one network.
    Bc {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        multi_task: MultiTaskArgs,
        #[command(flatten)]
        bc: BcArgs,
    },
    /// PPO (CleanRL's settings for the action space); several tasks train one network told the
    /// task by a one-hot input (multi-task PPO).
    Ppo {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        iterative: IterativeArgs,
        #[command(flatten)]
        multi_task: MultiTaskArgs,
        #[command(flatten)]
        ppo: PpoArgs,
    },
    /// Soft actor-critic on continuous actions in [-1, 1]; MT-SAC (one entropy coefficient per
    /// task) on several tasks.
    Sac {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        iterative: IterativeArgs,
        #[command(flatten)]
        multi_task: MultiTaskArgs,
        #[command(flatten)]
        sac: SacArgs,
    },
    /// GRPO: group-relative advantages (group mean and deviation), no critic; one discrete task.
    Grpo {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        iterative: IterativeArgs,
    },
    /// RLOO: leave-one-out baselines within each group, no critic; one discrete task.
    Rloo {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        iterative: IterativeArgs,
    },
}

/// What every run takes: tasks, seed, evaluation and where results go.
#[derive(clap::Args, Serialize)]
pub struct RunArgs {
    #[command(flatten)]
    #[serde(skip)]
    task: TaskArgs,
    /// Seed (initialisation, sampling and environments).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    /// Episodes to evaluate the result on (unseen seeds 0..N).
    #[arg(long, default_value_t = 100)]
    #[serde(skip)]
    eval_episodes: u32,
    /// Output file; defaults to web/weights/TASK-ALGO.safetensors.
    #[arg(long)]
    #[serde(skip)]
    out: Option<PathBuf>,
    /// Where the run's metrics go: RUNS_DIR/NAME/metrics.jsonl.
    #[arg(long, default_value = "runs")]
    #[serde(skip)]
    runs_dir: PathBuf,
    /// Print JSON (every record, then a summary).
    #[arg(long)]
    #[serde(skip)]
    json: bool,
}

/// The network of algorithms whose learning rate is `learning_rate`.
#[derive(clap::Args, Serialize)]
pub struct NetArgs {
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden: Option<Vec<usize>>,
    /// Adam learning rate.
    #[arg(long = "lr")]
    #[serde(skip_serializing_if = "Option::is_none")]
    learning_rate: Option<f64>,
}

/// Algorithms that step environments: budget, stop rule and checkpoints.
#[derive(clap::Args, Serialize)]
pub struct IterativeArgs {
    /// Environment steps in all.
    #[arg(long = "env-steps")]
    #[serde(skip_serializing_if = "Option::is_none")]
    total_steps: Option<u64>,
    /// Stop once the mean return of the last 10 episodes reaches this.
    #[arg(long, allow_negative_numbers = true)]
    #[serde(skip)]
    target_return: Option<f32>,
    /// Every STEPS environment steps, evaluate the policy as it stands on 10 validation seeds
    /// per task (from 2 000 000 000, apart from the evaluation's) and keep the best, which is
    /// saved instead of the last.
    #[arg(long, value_name = "STEPS")]
    #[serde(skip)]
    keep_best: Option<u64>,
}

/// How one network learns several tasks (BC, PPO, SAC).
#[derive(clap::Args, Serialize)]
pub struct MultiTaskArgs {
    /// With several tasks: how the tasks' gradients become one update (the combiner's default
    /// settings; omitted: the minibatch's rows pooled into one loss).
    #[arg(long, value_parser = PossibleValuesParser::new(CombinerKind::ALL.map(|k| k.name())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    combiner: Option<String>,
    /// The (actor) network's architecture; the task-aware ones (all but mlp) read the task as a
    /// one-hot input and need several tasks.
    #[arg(long, value_parser = PossibleValuesParser::new(ArchitectureKind::ALL.map(|k| k.name())))]
    #[serde(skip_serializing_if = "Option::is_none")]
    architecture: Option<String>,
    /// Experts (moe, moore), encoders (care), parameter sets (paco) or modules per layer
    /// (soft-modular); the architecture's own default if omitted.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    experts: Option<usize>,
    /// With --architecture moe: experts each row is routed to (2 if omitted).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<usize>,
    /// With a combiner: seek task-based flat regions, each task's gradient taken at the weights
    /// moved this radius along it (sharpness-aware per task).
    #[arg(long, value_name = "RHO")]
    #[serde(skip_serializing_if = "Option::is_none")]
    task_sam: Option<f32>,
}

/// The task conditionings a multi-task MLP can have.
const CONDITIONINGS: [&str; 3] = ["one-hot", "multi-head", "none"];

/// Behaviour cloning's own flags.
#[derive(clap::Args, Serialize)]
pub struct BcArgs {
    /// Gradient steps of the first fit and of each DAgger round.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<u32>,
    /// Minibatch size.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<usize>,
    /// Expert demonstration episodes per task.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    demos: Option<u32>,
    /// Noise (standard deviation) added to the expert's actions while recording (DART); the
    /// labels stay the expert's.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    demo_noise: Option<f32>,
    /// Keep the learning rate constant (by default it falls linearly to zero over each fit).
    #[arg(long)]
    #[serde(skip)]
    constant_lr: bool,
    /// DAgger rounds after the first fit (the learner drives, the expert labels).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    dagger_rounds: Option<u32>,
    /// Learner episodes per task in each DAgger round.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    dagger_episodes: Option<u32>,
    /// With several tasks: how the network is told the task.
    #[arg(long, value_parser = PossibleValuesParser::new(CONDITIONINGS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    conditioning: Option<String>,
    /// Several tasks, no combiner: Rep-MTL's saliency regulation with this weight λ (the
    /// entropy of the tasks' saliencies on the last hidden layer).
    #[arg(long, value_name = "LAMBDA")]
    #[serde(skip_serializing_if = "Option::is_none")]
    rep_mtl: Option<f32>,
}

/// PPO's own flags.
#[derive(clap::Args, Serialize)]
pub struct PpoArgs {
    /// Environments per task, stepped together.
    #[arg(long = "envs")]
    #[serde(skip_serializing_if = "Option::is_none")]
    num_envs: Option<usize>,
    /// Discount factor.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    gamma: Option<f32>,
}

/// SAC's own flags.
#[derive(clap::Args, Serialize)]
pub struct SacArgs {
    /// Hidden layer widths of the actor and of each critic, comma-separated.
    #[arg(long, value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden: Option<Vec<usize>>,
    /// The actor's learning rate (Adam).
    #[arg(long = "lr")]
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_lr: Option<f64>,
    /// Environments per task, stepped together (one gradient update per joint step).
    #[arg(long = "envs")]
    #[serde(skip_serializing_if = "Option::is_none")]
    envs_per_task: Option<usize>,
    /// Discount factor.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    gamma: Option<f32>,
    /// Transitions per gradient update.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<usize>,
    /// The entropy α is tuned towards, in nats (omitted: −(action size)).
    #[arg(long, allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    target_entropy: Option<f32>,
    /// Environment steps summed into each stored transition (n-step returns).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    n_step: Option<usize>,
    /// Gradient updates per joint environment step.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    updates_per_step: Option<u32>,
    /// With several tasks: how the networks are told the task.
    #[arg(long, value_parser = PossibleValuesParser::new(CONDITIONINGS))]
    #[serde(skip_serializing_if = "Option::is_none")]
    conditioning: Option<String>,
}

/// Adds the flags' settings (the given ones, by the configuration's field names) to `into`.
fn add(into: &mut Map<String, Value>, flags: &impl Serialize) {
    if let Ok(Value::Object(map)) = serde_json::to_value(flags) {
        into.extend(map);
    }
}

/// What a run does besides its configuration.
struct RunOptions<'a> {
    run: &'a RunArgs,
    target_return: Option<f32>,
    keep_best: Option<u64>,
}

impl TrainCommand {
    /// The algorithm, its settings from the flags given, and the run's other options.
    fn parts(&self) -> (Algorithm, Map<String, Value>, RunOptions<'_>) {
        let mut settings = Map::new();
        let (algorithm, run, iterative) = match self {
            TrainCommand::Bc {
                run,
                net,
                multi_task,
                bc,
            } => {
                add(&mut settings, net);
                add(&mut settings, multi_task);
                add(&mut settings, bc);
                if bc.constant_lr {
                    settings.insert("anneal_lr".into(), false.into());
                }
                (Algorithm::Bc, run, None)
            }
            TrainCommand::Ppo {
                run,
                net,
                iterative,
                multi_task,
                ppo,
            } => {
                add(&mut settings, net);
                add(&mut settings, multi_task);
                add(&mut settings, ppo);
                (Algorithm::Ppo, run, Some(iterative))
            }
            TrainCommand::Sac {
                run,
                iterative,
                multi_task,
                sac,
            } => {
                add(&mut settings, multi_task);
                add(&mut settings, sac);
                (Algorithm::Sac, run, Some(iterative))
            }
            TrainCommand::Grpo {
                run,
                net,
                iterative,
            }
            | TrainCommand::Rloo {
                run,
                net,
                iterative,
            } => {
                add(&mut settings, net);
                let algorithm = match self {
                    TrainCommand::Grpo { .. } => Algorithm::Grpo,
                    _ => Algorithm::Rloo,
                };
                (algorithm, run, Some(iterative))
            }
        };
        add(&mut settings, run);
        if let Some(iterative) = iterative {
            add(&mut settings, iterative);
        }
        let options = RunOptions {
            run,
            target_return: iterative.and_then(|i| i.target_return),
            keep_best: iterative.and_then(|i| i.keep_best),
        };
        (algorithm, settings, options)
    }

    /// Trains, evaluates and saves the policy.
    pub fn run(&self) -> Result<(), String> {
        let (algorithm, settings, options) = self.parts();
        let tasks = load_tasks(&options.run.task)?;
        let config = TrainConfig::with_settings(algorithm, &tasks, &settings)?;
        train(&tasks, &config, &options)
    }
}

/// Appends `[default: …]` to the help of every `train` flag that sets part of a configuration,
/// read from the configuration's defaults (PPO's continuous-action defaults too, where they
/// differ), so the help cannot disagree with the code.
pub fn with_defaults_in_help(train: clap::Command) -> clap::Command {
    let continuous_ppo = polyskill_learn::algos::ppo::PpoConfig::continuous();
    let mut train = train;
    // In the subcommands' own order: each is taken out and put back at the end.
    let names: Vec<String> = train
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for algorithm in names.iter().filter_map(|n| Algorithm::parse(n).ok()) {
        let defaults = TrainConfig::defaults(algorithm, &[]).to_json();
        let other = (algorithm == Algorithm::Ppo)
            .then(|| serde_json::to_value(&continuous_ppo).unwrap_or_default());
        train = train.mut_subcommand(algorithm.name(), |mut command| {
            let ids: Vec<String> = command
                .get_arguments()
                .map(|a| a.get_id().to_string())
                .collect();
            for id in ids {
                // A default of "none" is said in the flag's own help.
                let Some(value) = defaults.get(&id).filter(|v| !v.is_null()) else {
                    continue;
                };
                let mut text = format!("[default: {}]", shown(value));
                if let Some(other) = other.as_ref().and_then(|o| o.get(&id))
                    && other != value
                {
                    text = format!(
                        "[default: {}; continuous actions: {}]",
                        shown(value),
                        shown(other)
                    );
                }
                command = command.mut_arg(id.as_str(), |arg| {
                    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                    arg.help(format!("{help} {text}"))
                });
            }
            command
        });
    }
    train
}

/// A default as a flag would be written (`256,256`, `0.001`, `none`).
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        // Settings are f32 or f64: print the shortest form that reads back as an f32.
        Value::Number(n) if n.is_f64() => (n.as_f64().unwrap_or(f64::NAN) as f32).to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(","),
        Value::Object(o) => o
            .get("kind")
            .map(shown)
            .unwrap_or_else(|| value.to_string()),
        other => other.to_string(),
    }
}

/// The flags of `polyskill train` subcommands that take `flag` (`--demos`), for an error that
/// says which algorithm takes a flag given to another.
pub fn algorithms_taking(train: &clap::Command, flag: &str) -> Vec<String> {
    let long = flag.trim_start_matches('-').split('=').next().unwrap_or("");
    train
        .get_subcommands()
        .filter(|c| c.get_arguments().any(|a| a.get_long() == Some(long)))
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Behaviour cloning with a progress bar and one metrics line per progress record.
fn train_bc(
    name: &str,
    mut run: bc::BcRun,
    config: &TrainConfig,
    to: &LogTo,
) -> Result<(Policy, Value), String> {
    let mut log = MetricsLog::create(to, name)?;
    let bar = progress(config.budget(), "bc");
    let mut last_loss = f32::NAN;
    while let Some(p) = run.advance()? {
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
    }
    bar.finish_and_clear();
    let seconds = log.started.elapsed().as_secs_f64();
    let metrics = log.finish()?;
    Ok((
        run.policy()?,
        json!({ "final_loss": last_loss, "seconds": seconds, "metrics": metrics }),
    ))
}

/// An iterative run (PPO, SAC, GRPO, RLOO): one JSON line of metrics per iteration, a progress
/// bar on stderr, until the budget is spent or the return target met. A run that fails
/// (diverges) still returns its last good policy, with the error as the summary's `"failed"`.
fn train_iterative(
    name: &str,
    run: Box<dyn IterativeRun>,
    config: &TrainConfig,
    tasks: &[polyskill_sim::task::Task],
    options: &RunOptions,
    to: &LogTo,
) -> Result<(Policy, Value), String> {
    let algo = config.algorithm().name();
    let mut log = MetricsLog::create(to, name)?;
    let bar = progress(config.budget(), algo);
    let mut last = None;
    let mut best = options
        .keep_best
        .map(|every| BestCheckpoint::new(tasks, every, 10))
        .transpose()?;
    let mut validation_error = None;
    let (mut policy, failed) =
        polyskill_learn::run_keeping_last_good(run, |it: &Record, run: &_| {
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
            log.write(it) && !options.target_return.is_some_and(|t| it.reaches(t))
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

/// Trains `config` on `tasks`, evaluates the result on unseen seeds, records the command,
/// evaluation and summary in the policy's metadata, and saves it.
fn train(
    tasks: &[polyskill_sim::task::Task],
    config: &TrainConfig,
    options: &RunOptions,
) -> Result<(), String> {
    let algo = config.algorithm().name();
    let args = options.run;
    let log_to = LogTo {
        runs_dir: args.runs_dir.clone(),
        echo: args.json,
    };
    let started = Instant::now();
    let name = run_name(&args.task.task);
    let run_label = format!("{name}-{algo}-s{}", config.seed());
    if config.algorithm() == Algorithm::Bc && options.keep_best.is_some() {
        return Err("--keep-best needs environment steps; behaviour cloning has none".into());
    }
    let (mut policy, summary) = match config.start(tasks)? {
        TrainRun::Bc(run) => train_bc(&run_label, run, config, &log_to)?,
        TrainRun::Iterative(run) => {
            train_iterative(&run_label, run, config, tasks, options, &log_to)?
        }
    };
    let eval_episodes = args.eval_episodes;
    let evaluations = tasks
        .iter()
        .map(|task| evaluate(&policy, task, 0, eval_episodes))
        .collect::<Result<Vec<_>, _>>()?;
    let mean_success =
        evaluations.iter().map(|e| e.success_rate).sum::<f32>() / evaluations.len() as f32;
    policy.info.eval_success = Some(mean_success);
    policy.info.eval_episodes = Some(eval_episodes);
    let per_task: Map<String, Value> = tasks
        .iter()
        .zip(&evaluations)
        .map(|(t, e)| (t.id.clone(), json!(e.success_rate)))
        .collect();
    let command: Vec<String> = std::env::args().collect();
    if let (Value::Object(t), Value::Object(extra)) = (&mut policy.info.training, &summary) {
        t.insert(
            "command".into(),
            json!(format!("polyskill {}", command[1..].join(" "))),
        );
        t.insert("eval_seeds".into(), json!(format!("0..{eval_episodes}")));
        t.insert("eval_success_per_task".into(), json!(per_task));
        t.insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
        t.extend(extra.clone());
    }
    let file_name = if tasks.len() == 1 {
        format!("{}-{algo}", tasks[0].id)
    } else {
        let conditioning = serde_json::to_value(policy.info.conditioning).unwrap_or_default();
        format!("{name}-{algo}-{}", conditioning.as_str().unwrap_or("none"))
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("web/weights/{file_name}.safetensors")));
    let bytes = weights::save(&policy).map_err(|e| e.to_string())?;
    std::fs::write(&out, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))?;
    if args.json {
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
