//! Benchmarks shared by `polyskill bench` (native) and the in-browser bench page (wasm):
//! environment steps per second and policy inference samples per second. The clock is
//! passed in (milliseconds), because `std::time::Instant` does not exist in a browser.

use crate::{Architecture, Conditioning, Mlp, Policy, PolicyInfo};
use burn::tensor::Device;
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};

use serde::Serialize;

/// One inference measurement.
#[derive(Debug, Clone, Serialize)]
pub struct InferenceFigure {
    /// Batch size.
    pub batch: usize,
    /// Samples per second.
    pub samples_per_s: f64,
    /// Milliseconds per forward pass.
    pub ms_per_forward: f64,
}

/// The benchmark report.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Task benchmarked.
    pub task: String,
    /// Environment steps per second (expert actions, auto-reset), one thread.
    pub env_steps_per_s: f64,
    /// Physics steps per environment step.
    pub physics_steps_per_env_step: u32,
    /// MLP widths used for inference.
    pub mlp: Vec<usize>,
    /// Inference figures at batch 1 and 1024 on the CPU backend, as policies act (the
    /// hand-fused forward pass for this plain MLP).
    pub inference: Vec<InferenceFigure>,
    /// The same through burn's forward pass, measured in the same run (what the fused path
    /// saves).
    pub inference_through_burn: Vec<InferenceFigure>,
}

/// Times `steps` environment steps of `task` driven by its expert (zeros if it has none).
pub fn env_steps_per_second(
    task: &Task,
    steps: u32,
    now_ms: &dyn Fn() -> f64,
) -> Result<f64, String> {
    let mut env = Env::new(task.clone());
    let mut expert = ExpertPolicy::for_env(&env);
    let mut seed = 0;
    env.reset(seed);
    let start = now_ms();
    for _ in 0..steps {
        let action = expert
            .as_mut()
            .map(|e| e.act(&env))
            .unwrap_or_else(|| vec![0.0; env.action_size()]);
        let s = env.step(&action).map_err(|e| e.to_string())?;
        if s.terminated || s.truncated {
            seed += 1;
            env.reset(seed);
            if let Some(e) = expert.as_mut() {
                e.reset();
            }
        }
    }
    Ok(steps as f64 / ((now_ms() - start) / 1000.0).max(1e-9))
}

/// A randomly initialised policy of the given widths on the CPU backend (for timing only).
pub fn random_policy(sizes: &[usize]) -> Policy {
    let device = Device::flex();
    Policy::new(
        crate::nets::Network::Mlp(Mlp::init(sizes, &device)),
        PolicyInfo {
            architecture: Architecture::mlp(sizes),
            tasks: vec![],
            conditioning: Conditioning::None,
            obs_mean: vec![0.0; sizes[0]],
            obs_std: vec![1.0; sizes[0]],
            training: serde_json::Value::Null,
            eval_success: None,
            eval_episodes: None,
        },
        device,
    )
}

/// Times `reps` forward passes at `batch` (after one warm-up pass), as the policy acts or
/// (`through_burn`) through burn's forward pass.
pub fn inference(
    policy: &Policy,
    batch: usize,
    reps: u32,
    through_burn: bool,
    now_ms: &dyn Fn() -> f64,
) -> Result<InferenceFigure, String> {
    let input = vec![0.1f32; batch * policy.observation_size()];
    let act = |x: &[f32]| {
        if through_burn {
            policy.act_through_burn(x, None)
        } else {
            policy.act_batch(x)
        }
    };
    act(&input)?;
    let start = now_ms();
    for _ in 0..reps {
        act(&input)?;
    }
    let seconds = ((now_ms() - start) / 1000.0).max(1e-9);
    Ok(InferenceFigure {
        batch,
        samples_per_s: batch as f64 * reps as f64 / seconds,
        ms_per_forward: seconds * 1000.0 / reps as f64,
    })
}

/// The full report: env steps/s of `task`, and inference of a `obs→256→256→4` MLP at
/// batch 1 (`reps_b1` passes) and 1024 (`reps_b1024` passes), fused and through burn.
pub fn report(
    task: &Task,
    env_steps: u32,
    reps_b1: u32,
    reps_b1024: u32,
    now_ms: &dyn Fn() -> f64,
) -> Result<BenchReport, String> {
    let sizes = vec![
        task.observation.size,
        256,
        256,
        polyskill_sim::HAND_ACTION_SIZE,
    ];
    let policy = random_policy(&sizes);
    Ok(BenchReport {
        task: task.id.clone(),
        env_steps_per_s: env_steps_per_second(task, env_steps, now_ms)?,
        physics_steps_per_env_step: task.frame_skip,
        inference: vec![
            inference(&policy, 1, reps_b1, false, now_ms)?,
            inference(&policy, 1024, reps_b1024, false, now_ms)?,
        ],
        inference_through_burn: vec![
            inference(&policy, 1, reps_b1, true, now_ms)?,
            inference(&policy, 1024, reps_b1024, true, now_ms)?,
        ],
        mlp: sizes,
    })
}

/// Behaviour-cloning training throughput.
#[derive(Debug, Clone, Serialize)]
pub struct BcThroughput {
    /// MLP widths.
    pub mlp: Vec<usize>,
    /// Minibatch size.
    pub batch: usize,
    /// Gradient steps timed.
    pub steps: u32,
    /// Workers sharing each minibatch (data parallelism; 1: one thread).
    pub workers: usize,
    /// Training samples per second (forward, backward and Adam update), all workers together.
    pub samples_per_s: f64,
}

/// `rows` synthetic (observation, action) pairs in [−1, 1], row r of task `r mod tasks`: the
/// benchmarks' training data.
fn synthetic_demonstrations(
    rows: usize,
    obs: usize,
    act: usize,
    tasks: usize,
) -> crate::algos::bc::Demonstrations {
    crate::algos::bc::Demonstrations {
        observations: (0..rows * obs)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
            .collect(),
        actions: (0..rows * act)
            .map(|i| ((i * 104_729 % 1000) as f32 / 500.0) - 1.0)
            .collect(),
        task_indices: (0..rows).map(|r| (r % tasks) as u32).collect(),
        obs_dim: obs,
        act_dim: act,
        choices: 0,
    }
}

/// Times `steps` behaviour-cloning Adam steps of an `obs→256→256→act` MLP at minibatch
/// `batch` on synthetic data (10 000 pairs), the way [`crate::algos::bc::train`] runs them; as one
/// worker of a data-parallel fit when given an `exchange` (every worker times the same steps).
pub fn bc_throughput(
    obs: usize,
    act: usize,
    batch: usize,
    steps: u32,
    mut exchange: Option<&mut dyn crate::parallel::AllReduce>,
    now_ms: &dyn Fn() -> f64,
) -> Result<BcThroughput, String> {
    let n = 10_000;
    let demos = synthetic_demonstrations(n, obs, act, 1);
    let config = crate::algos::bc::BcConfig {
        steps,
        batch,
        ..Default::default()
    };
    let workers = exchange.as_ref().map_or(1, |e| e.workers());
    if let Some(e) = exchange.as_deref_mut() {
        // Start the clocks together: workers start up at different times.
        e.sum(&mut [0.0])?;
    }
    let start = now_ms();
    crate::algos::bc::train_shared(
        &demos,
        vec!["synthetic".into()],
        &config,
        steps,
        exchange,
        |_| {},
    )?;
    let seconds = ((now_ms() - start) / 1000.0).max(1e-9);
    Ok(BcThroughput {
        mlp: vec![obs, 256, 256, act],
        batch,
        steps,
        workers,
        samples_per_s: (batch * steps as usize) as f64 / seconds,
    })
}

/// PPO's time to solve a discrete task.
#[derive(Debug, Clone, Serialize)]
pub struct PpoToTarget {
    /// Task trained.
    pub task: String,
    /// Seed of the run.
    pub seed: u64,
    /// Return the last 10 episodes had to average.
    pub target_return: f32,
    /// Environment steps when the target was met (or the budget ran out).
    pub env_steps: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Whether the target was met within 500k steps.
    pub solved: bool,
}

/// Times PPO (default settings) on `task` until the last 10 episodes average `target_return`.
pub fn ppo_to_target(
    task: &Task,
    seed: u64,
    target_return: f32,
    now_ms: &dyn Fn() -> f64,
) -> Result<PpoToTarget, String> {
    let config = crate::algos::ppo::PpoConfig {
        seed,
        ..crate::algos::ppo::PpoConfig::for_task(task)
    };
    let start = now_ms();
    let (mut env_steps, mut solved) = (0, false);
    crate::algos::ppo::train(task, &config, |it| {
        env_steps = it.env_steps;
        solved = it.episodes >= 10 && it.mean_return >= target_return;
        !solved
    })?;
    let seconds = (now_ms() - start) / 1000.0;
    Ok(PpoToTarget {
        task: task.id.clone(),
        seed,
        target_return,
        env_steps,
        seconds,
        solved,
    })
}

/// The learning benchmarks: BC training throughput and PPO's time to solve cart-pole.
#[derive(Debug, Clone, Serialize)]
pub struct LearnReport {
    /// Behaviour-cloning samples per second (39→256→256→4, batch 256).
    pub bc: BcThroughput,
    /// PPO on cart-pole to a 10-episode mean of 475, seeds 1–3.
    pub ppo_cart_pole: Vec<PpoToTarget>,
}

/// Runs [`bc_throughput`] (`bc_steps` steps) and [`ppo_to_target`] on `cart_pole` for seeds 1–3.
pub fn learning(
    cart_pole: &Task,
    bc_steps: u32,
    now_ms: &dyn Fn() -> f64,
) -> Result<LearnReport, String> {
    Ok(LearnReport {
        bc: bc_throughput(39, 4, 256, bc_steps, None, now_ms)?,
        ppo_cart_pole: (1..=3)
            .map(|seed| ppo_to_target(cart_pole, seed, 475.0, now_ms))
            .collect::<Result<_, _>>()?,
    })
}

/// Steps per second of one task in a suite run.
#[derive(Debug, Clone, Serialize)]
pub struct TaskFigure {
    /// Task id.
    pub task: String,
    /// Environment steps per second (expert actions, auto-reset), one thread.
    pub env_steps_per_s: f64,
    /// Whether the task has a hand (a Meta-World-style manipulation task).
    pub manipulation: bool,
}

/// Simulator figures for a whole suite.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    /// One figure per task.
    pub tasks: Vec<TaskFigure>,
    /// Mean steps/s over the manipulation tasks.
    pub manipulation_mean_steps_per_s: f64,
    /// Environment steps per second of a `VecEnv` holding one environment of every
    /// manipulation task, stepped with the experts' actions.
    pub vec_env_steps_per_s: f64,
}

/// Times every task for `steps` steps, then a multi-task `VecEnv` of the manipulation tasks.
pub fn suite(tasks: &[Task], steps: u32, now_ms: &dyn Fn() -> f64) -> Result<SuiteReport, String> {
    let mut figures = Vec::new();
    for task in tasks {
        figures.push(TaskFigure {
            task: task.id.clone(),
            env_steps_per_s: env_steps_per_second(task, steps, now_ms)?,
            manipulation: task.hand.is_some(),
        });
    }
    let manipulation: Vec<Task> = tasks.iter().filter(|t| t.hand.is_some()).cloned().collect();
    let mean = figures
        .iter()
        .filter(|f| f.manipulation)
        .map(|f| f.env_steps_per_s)
        .sum::<f64>()
        / manipulation.len().max(1) as f64;
    let mut vec_env_steps_per_s = 0.0;
    if !manipulation.is_empty() {
        let mut v = polyskill_sim::VecEnv::new(&manipulation, &vec![1; manipulation.len()], 0)?;
        let mut experts: Vec<Option<ExpertPolicy>> =
            v.envs().iter().map(ExpertPolicy::for_env).collect();
        let rounds = (steps as usize / manipulation.len()).max(1);
        let start = now_ms();
        for _ in 0..rounds {
            let actions: Vec<f32> = experts
                .iter_mut()
                .zip(v.envs())
                .flat_map(|(x, e)| {
                    x.as_mut()
                        .map(|x| x.act(e))
                        .unwrap_or_else(|| vec![0.0; e.action_size()])
                })
                .collect();
            let s = v.step(&actions).map_err(|e| e.to_string())?;
            for (e, _, _) in &s.finished {
                if let Some(x) = experts[*e].as_mut() {
                    x.reset();
                }
            }
        }
        vec_env_steps_per_s =
            (rounds * manipulation.len()) as f64 / ((now_ms() - start) / 1000.0).max(1e-9);
    }
    Ok(SuiteReport {
        tasks: figures,
        manipulation_mean_steps_per_s: mean,
        vec_env_steps_per_s,
    })
}

/// Training throughput of one multi-task configuration (architecture × combiner).
#[derive(Debug, Clone, Serialize)]
pub struct MultiTaskThroughput {
    /// The architecture.
    pub architecture: String,
    /// The combiner (`None`: rows pooled into one loss).
    pub combiner: Option<String>,
    /// The engine (`fused` or `burn`).
    pub engine: String,
    /// Training samples per second (forward, backward, combination, Adam).
    pub samples_per_s: f64,
    /// Milliseconds per gradient step.
    pub ms_per_step: f64,
}

/// Times behaviour-cloning steps on `tasks` synthetic tasks (39 observations, 4 actions, one
/// network `39+T → 256 → 256 → 4`, batch 256) for every architecture (pooled rows; the plain
/// MLP on both engines) and for every combiner on the fused MLP: what T per-task backward
/// passes and each method's weighting cost against one pooled pass.
pub fn multitask_throughput(
    tasks: usize,
    steps: u32,
    now_ms: &dyn Fn() -> f64,
) -> Result<Vec<MultiTaskThroughput>, String> {
    use crate::algos::bc::{BcConfig, Engine};
    use crate::multitask::{CombinerConfig, CombinerKind};
    use crate::nets::ArchitectureKind;
    let (n, obs, act, batch) = (4_000 * tasks.max(1), 39, 4, 256);
    let demos = synthetic_demonstrations(n, obs, act, tasks.max(1));
    let ids: Vec<String> = (0..tasks).map(|t| format!("task-{t}")).collect();
    let time = |config: BcConfig| -> Result<f64, String> {
        let start = now_ms();
        crate::algos::bc::train(&demos, ids.clone(), &config, steps, |_| {})?;
        Ok(((now_ms() - start) / 1000.0).max(1e-9))
    };
    let base = BcConfig {
        steps,
        batch,
        conditioning: crate::Conditioning::OneHot,
        ..BcConfig::default()
    };
    let mut cases: Vec<(ArchitectureKind, Option<CombinerKind>, Engine)> = vec![
        (ArchitectureKind::Mlp, None, Engine::Fused),
        (ArchitectureKind::Mlp, None, Engine::Burn),
    ];
    cases.extend(
        ArchitectureKind::ALL
            .iter()
            .skip(1)
            .map(|&k| (k, None, Engine::Burn)),
    );
    cases.extend(
        CombinerKind::ALL
            .iter()
            .map(|&c| (ArchitectureKind::Mlp, Some(c), Engine::Fused)),
    );
    let mut out = Vec::new();
    for (architecture, combiner, engine) in cases {
        let hidden = if architecture == ArchitectureKind::SoftModular {
            vec![256, 256, 256]
        } else {
            vec![256, 256]
        };
        let config = BcConfig {
            architecture,
            engine,
            hidden,
            combiner: combiner.map(CombinerConfig::of),
            ..base.clone()
        };
        let seconds = time(config)?;
        out.push(MultiTaskThroughput {
            architecture: architecture.name().into(),
            combiner: combiner.map(|c| c.name().into()),
            engine: if engine == Engine::Fused && architecture == ArchitectureKind::Mlp {
                "fused"
            } else {
                "burn"
            }
            .into(),
            samples_per_s: (batch * steps as usize) as f64 / seconds,
            ms_per_step: 1000.0 * seconds / steps as f64,
        });
    }
    Ok(out)
}
