//! Polyskill's wasm API (wasm-bindgen) for the page and tests: a [`Player`] (task + sim +
//! expert), a [`WasmPolicy`] (burn MLP on the CPU backend; WebGPU inference is the separate,
//! lazily loaded `polyskill-web-gpu` module), a
//! [`SceneView`] (wgpu renderer on a canvas) and a few free functions.
//!
//! Every function JS can call returns `Result<_, JsValue>`: failures become JS `Error`s with
//! a readable message (task errors also carry `issues: [{path, message}]`). Nothing here
//! unwraps or panics on input.

#![cfg(target_arch = "wasm32")]

use polyskill_learn::algos::Algorithm;
use polyskill_learn::multitask::{CombinerConfig, CombinerKind};
use polyskill_learn::nets::ArchitectureKind;
use polyskill_learn::{Device, Policy, weights};
use polyskill_render::{Camera, Renderer, wgpu};
use polyskill_sim::task::{Task, TaskError};
use polyskill_sim::{Env, ExpertPolicy, RandomPolicy, reference_trajectory_hash};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

mod shared;

/// Builds a JS `Error` with `message`.
fn js_error(message: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&message.to_string()).into()
}

/// A JS `Error` for a rejected task: the message lists every issue, `error.issues` holds them
/// as `[{path, message, line, column}]` (line and column 1-based, absent when the problem is
/// not at a place in the text).
fn task_error(e: &TaskError) -> JsValue {
    let error = js_sys::Error::new(&format!("invalid task:\n{e}"));
    let issues = js_sys::Array::new();
    for issue in &e.issues {
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"path".into(), &issue.path.as_str().into());
        let _ = js_sys::Reflect::set(&o, &"message".into(), &issue.message.as_str().into());
        if let (Some(line), Some(column)) = (issue.line, issue.column) {
            let _ = js_sys::Reflect::set(&o, &"line".into(), &line.into());
            let _ = js_sys::Reflect::set(&o, &"column".into(), &column.into());
        }
        issues.push(&o);
    }
    let _ = js_sys::Reflect::set(&error, &"issues".into(), &issues);
    error.into()
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(js_error)?;
    js_sys::JSON::parse(&text)
}

/// Installs a panic hook that reports panics on the console (a last resort: the API itself
/// returns errors instead of panicking).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("polyskill panicked: {info}").into());
    }));
}

/// Bytes of linear memory this wasm instance holds (it grows, never shrinks: the soak test
/// watches it for leaks).
#[wasm_bindgen(js_name = memoryBytes)]
pub fn memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| {
            m.buffer()
                .unchecked_into::<js_sys::ArrayBuffer>()
                .byte_length() as f64
        })
        .unwrap_or(f64::NAN)
}

/// Parses and validates a task; returns a summary `{id, instruction, observation_size,
/// action_size, action_space, max_steps, has_expert}` or throws an Error with `issues`.
#[wasm_bindgen(js_name = parseTask)]
pub fn parse_task(json: &str) -> Result<JsValue, JsValue> {
    let task = Task::from_json(json).map_err(|e| task_error(&e))?;
    to_js(&serde_json::json!({
        "id": task.id,
        "instruction": task.instruction,
        "observation_size": task.observation.size,
        "action_size": task.action_size(),
        "action_space": task.action_space(),
        "max_steps": task.max_steps,
        "has_expert": task.expert.is_some(),
    }))
}

/// The cross-platform determinism fingerprint of `steps` expert steps from `seed` (see
/// `polyskill_sim::reference_trajectory_hash`).
#[wasm_bindgen(js_name = referenceTrajectoryHash)]
pub fn reference_hash(task_json: &str, seed: u64, steps: u32) -> Result<String, JsValue> {
    at_most("referenceTrajectoryHash: steps", steps, MAX_CALL_STEPS)?;
    let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
    reference_trajectory_hash(&mut Env::new(task), seed, steps).map_err(js_error)
}

/// One simulated task: reset, step with an action, the expert's action, the scene.
#[wasm_bindgen]
pub struct Player {
    env: Env,
    expert: Option<ExpertPolicy>,
    random: RandomPolicy,
}

#[wasm_bindgen]
impl Player {
    /// Creates a player for a task file's JSON text; throws on an invalid task.
    #[wasm_bindgen(constructor)]
    pub fn new(task_json: &str) -> Result<Player, JsValue> {
        let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
        let env = Env::new(task);
        let expert = ExpertPolicy::for_env(&env);
        let random = RandomPolicy::new(env.task(), 0);
        Ok(Player {
            env,
            expert,
            random,
        })
    }

    /// Starts an episode from `seed`; returns the first observation.
    pub fn reset(&mut self, seed: u64) -> Vec<f32> {
        if let Some(e) = self.expert.as_mut() {
            e.reset();
        }
        self.random = RandomPolicy::new(self.env.task(), seed);
        self.env.reset(seed).to_vec()
    }

    /// Steps with `action`; returns `{observation, reward, terminated, truncated, success,
    /// diverged}`. Throws on a wrong-sized or non-finite action.
    pub fn step(&mut self, action: &[f32]) -> Result<JsValue, JsValue> {
        let step = self.env.step(action).map_err(js_error)?;
        to_js(&step)
    }

    /// The current observation.
    pub fn observation(&self) -> Vec<f32> {
        self.env.observation().to_vec()
    }

    /// The task expert's action for the current state; throws if the task has no expert.
    #[wasm_bindgen(js_name = expertAction)]
    pub fn expert_action(&mut self) -> Result<Vec<f32>, JsValue> {
        let expert = self
            .expert
            .as_mut()
            .ok_or_else(|| js_error("this task has no expert"))?;
        Ok(expert.act(&self.env).to_vec())
    }

    /// A uniformly random action from the task's action space (a seeded stream per episode).
    #[wasm_bindgen(js_name = randomAction)]
    pub fn random_action(&mut self) -> Vec<f32> {
        self.random.act()
    }

    /// The action space: `{continuous: {low, high}}` or `{discrete: {choices}}`.
    #[wasm_bindgen(js_name = actionSpace)]
    pub fn action_space(&self) -> Result<JsValue, JsValue> {
        to_js(&self.env.task().action_space())
    }

    /// Steps after which an episode is cut off (the task's `max_steps`).
    #[wasm_bindgen(getter, js_name = maxSteps)]
    pub fn max_steps(&self) -> u32 {
        self.env.task().max_steps
    }

    /// Steps taken in this episode.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> u32 {
        self.env.steps()
    }

    /// Whether success has held at some step of this episode.
    #[wasm_bindgen(getter, js_name = episodeSuccess)]
    pub fn episode_success(&self) -> bool {
        self.env.episode_success()
    }

    /// The task's id.
    #[wasm_bindgen(getter, js_name = taskId)]
    pub fn task_id(&self) -> String {
        self.env.task().id.clone()
    }

    /// Whether the task brings its own expert.
    #[wasm_bindgen(getter, js_name = hasExpert)]
    pub fn has_expert(&self) -> bool {
        self.expert.is_some()
    }

    /// Number of action components.
    #[wasm_bindgen(getter, js_name = actionSize)]
    pub fn action_size(&self) -> usize {
        self.env.action_size()
    }

    /// The task's camera `{eye, target, fov_degrees}`, so the 2D fallback view projects the
    /// scene exactly as the WebGPU view does.
    pub fn camera(&self) -> Result<JsValue, JsValue> {
        let c = Camera::for_task(self.env.task());
        to_js(
            &serde_json::json!({ "eye": c.eye, "target": c.target, "fov_degrees": c.fov_degrees }),
        )
    }

    /// Every body's `{shape, position, rotation, color}` (for the 2D fallback view).
    pub fn visuals(&self) -> Result<JsValue, JsValue> {
        to_js(&self.env.visuals())
    }
}

/// A policy loaded from safetensors bytes, on the CPU backend (WebGPU inference is the
/// separate `polyskill-web-gpu` module's `GpuPolicy`).
#[wasm_bindgen(js_name = Policy)]
pub struct WasmPolicy {
    cpu: Policy,
}

#[wasm_bindgen(js_class = Policy)]
impl WasmPolicy {
    /// Loads a policy; throws a readable Error for a broken or foreign file.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Result<WasmPolicy, JsValue> {
        Ok(WasmPolicy {
            cpu: weights::load(bytes, &Device::flex()).map_err(js_error)?,
        })
    }

    /// The policy's metadata: architecture, tasks, training and evaluation.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        to_js(&self.cpu.info)
    }

    /// Actions for a row-major batch of observations from task `task` (needed by a
    /// multi-task policy; a single-task one ignores it), on the CPU backend.
    pub fn act(&self, observations: &[f32], task: Option<String>) -> Result<Vec<f32>, JsValue> {
        self.cpu
            .act_in(observations, task.as_deref())
            .map_err(js_error)
    }
}

/// The settings a page may change beyond the budget and seed: `{"learning_rate": 0.001,
/// "hidden": [64, 64]}`, for behaviour cloning `"demo_noise": 0`, and for multi-task BC and
/// SAC `"architecture"`, `"combiner"` (registered names, see [`methods`]), `"experts"` and
/// `"top_k"`; each optional (the algorithm's default otherwise; SAC's rate is the actor's).
/// Values out of range are named by the algorithm's own settings check.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainOptions {
    learning_rate: Option<f64>,
    hidden: Option<Vec<usize>>,
    demo_noise: Option<f32>,
    /// Multi-task runs (BC, SAC): the network's architecture, by its registered name.
    architecture: Option<ArchitectureKind>,
    /// Multi-task runs: the gradient combiner, by its registered name.
    combiner: Option<CombinerKind>,
    /// Experts, encoders, parameter sets or modules per layer.
    experts: Option<usize>,
    /// MoE: experts per row.
    top_k: Option<usize>,
}

impl TrainOptions {
    /// The combiner's settings (its defaults, seeded with the run's seed).
    fn combiner(&self, seed: u64) -> Option<CombinerConfig> {
        self.combiner.map(|kind| CombinerConfig {
            seed,
            ..CombinerConfig::of(kind)
        })
    }
}

/// The algorithms whose [`Trainer`] constructor takes several tasks for one network.
const MULTI_TASK_TRAINERS: [Algorithm; 2] = [Algorithm::Bc, Algorithm::Sac];

/// What the methods are called, from the registries the learner uses: `{algorithms: [names…],
/// multi_task: [algorithms that train several tasks here…], architectures: [names…],
/// combiners: [names…]}` (the page builds its menus from this).
#[wasm_bindgen]
pub fn methods() -> Result<JsValue, JsValue> {
    to_js(&serde_json::json!({
        "algorithms": Algorithm::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "multi_task": MULTI_TASK_TRAINERS.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "architectures": ArchitectureKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>(),
        "combiners": CombinerKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>(),
    }))
}

/// The algorithms that can train the task `task_json` (from its action space and whether it
/// has an expert: the rules each run's constructor applies), as names; throws for a broken
/// task.
#[wasm_bindgen(js_name = algorithmsFor)]
pub fn algorithms_for(task_json: &str) -> Result<Vec<String>, JsValue> {
    let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
    Ok(Algorithm::for_task(&task)
        .into_iter()
        .map(|a| a.name().to_string())
        .collect())
}

impl TrainOptions {
    /// Parses the options object (`""` means none) for an algorithm other than behaviour
    /// cloning, which alone takes `demo_noise`.
    fn parse(json: &str) -> Result<TrainOptions, JsValue> {
        let options = TrainOptions::parse_bc(json)?;
        if options.demo_noise.is_some() {
            return Err(js_error(
                "training options: demo_noise: only behaviour cloning records demonstrations",
            ));
        }
        Ok(options)
    }

    /// Refuses the multi-task options in a run of one task (`algorithm` says which trains one).
    fn single_task(&self, algorithm: &str) -> Result<(), JsValue> {
        if self.architecture.is_some()
            || self.combiner.is_some()
            || self.experts.is_some()
            || self.top_k.is_some()
        {
            return Err(js_error(format!(
                "training options: architecture, combiner, experts and top_k are for multi-task runs (bc, sac); {algorithm} here trains one task"
            )));
        }
        Ok(())
    }

    /// Parses the options object of a behaviour-cloning run.
    fn parse_bc(json: &str) -> Result<TrainOptions, JsValue> {
        if json.trim().is_empty() {
            return Ok(TrainOptions::default());
        }
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|e| match e.path().to_string().as_str() {
            "." => js_error(format!("training options: {}", e.inner())),
            path => js_error(format!("training options: {} (at {path})", e.inner())),
        })
    }
}

/// Parses task files, each error naming its path within the task.
fn parse_tasks(task_jsons: &[String]) -> Result<Vec<Task>, JsValue> {
    task_jsons
        .iter()
        .map(|t| Task::from_json(t).map_err(|e| task_error(&e)))
        .collect()
}

/// The run a [`Trainer`] drives.
// One run per trainer: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Run {
    /// PPO, SAC, GRPO or RLOO.
    Iterative(Box<dyn polyskill_learn::IterativeRun>),
    Bc(polyskill_learn::algos::bc::BcRun),
}

/// A training run that advances a little per `advance()` call (a PPO/GRPO iteration, a
/// recorded episode or a few BC gradient steps), so a Web Worker can post each record and
/// handle a stop message in between.
#[wasm_bindgen]
pub struct Trainer {
    run: Run,
}

#[wasm_bindgen]
impl Trainer {
    /// PPO (CleanRL-style settings for the task's action space); throws a readable Error for
    /// a broken task or settings out of range.
    pub fn ppo(
        task_json: &str,
        seed: u64,
        total_steps: u32,
        options_json: &str,
    ) -> Result<Trainer, JsValue> {
        let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
        let options = TrainOptions::parse(options_json)?;
        options.single_task("PPO")?;
        let defaults = polyskill_learn::algos::ppo::PpoConfig::for_task(&task);
        let config = polyskill_learn::algos::ppo::PpoConfig {
            total_steps: total_steps as u64,
            seed,
            learning_rate: options.learning_rate.unwrap_or(defaults.learning_rate),
            hidden: options.hidden.clone().unwrap_or(defaults.hidden.clone()),
            ..defaults
        };
        let run = polyskill_learn::algos::ppo::PpoRun::new(&task, &config).map_err(js_error)?;
        Ok(Trainer {
            run: Run::Iterative(Box::new(run)),
        })
    }

    /// GRPO (`baseline` "grpo") or RLOO ("rloo") on a discrete task.
    pub fn grpo(
        task_json: &str,
        baseline: &str,
        seed: u64,
        total_steps: u32,
        options_json: &str,
    ) -> Result<Trainer, JsValue> {
        use polyskill_learn::algos::grpo::{Baseline, GrpoConfig, GrpoRun};
        let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
        let options = TrainOptions::parse(options_json)?;
        options.single_task("GRPO and RLOO")?;
        let baseline = match baseline {
            "grpo" => Baseline::Grpo,
            "rloo" => Baseline::Rloo,
            other => {
                return Err(js_error(format!(
                    "baseline \"{other}\" is not grpo or rloo"
                )));
            }
        };
        let defaults = GrpoConfig::default();
        let config = GrpoConfig {
            baseline,
            seed,
            total_steps: total_steps as u64,
            learning_rate: options.learning_rate.unwrap_or(defaults.learning_rate),
            hidden: options.hidden.clone().unwrap_or(defaults.hidden.clone()),
            ..defaults
        };
        Ok(Trainer {
            run: Run::Iterative(Box::new(GrpoRun::new(&task, &config).map_err(js_error)?)),
        })
    }

    /// Behaviour cloning from the tasks' experts (one network for several tasks: a shared
    /// trunk with one head per task, which cloned MT10 better than a one-hot input), with
    /// `dagger_rounds` rounds of DAgger.
    pub fn bc(
        task_jsons: Vec<String>,
        seed: u64,
        demos: u32,
        steps: u32,
        dagger_rounds: u32,
        options_json: &str,
    ) -> Result<Trainer, JsValue> {
        let tasks = parse_tasks(&task_jsons)?;
        let options = TrainOptions::parse_bc(options_json)?;
        let defaults = polyskill_learn::algos::bc::BcConfig::default();
        let config = polyskill_learn::algos::bc::BcConfig {
            seed,
            demos,
            steps,
            dagger_rounds,
            // One head per task cloned MT10 best with the MLP; the task-aware architectures
            // read a one-hot input.
            conditioning: match options.architecture {
                Some(kind) if kind.task_aware() => polyskill_learn::Conditioning::OneHot,
                _ => polyskill_learn::Conditioning::MultiHead,
            },
            learning_rate: options.learning_rate.unwrap_or(defaults.learning_rate),
            hidden: options.hidden.clone().unwrap_or(defaults.hidden.clone()),
            demo_noise: options.demo_noise.unwrap_or(defaults.demo_noise),
            architecture: options.architecture.unwrap_or(defaults.architecture),
            experts: options.experts,
            top_k: options.top_k,
            combiner: options.combiner(seed),
            ..defaults
        };
        Ok(Trainer {
            run: Run::Bc(
                polyskill_learn::algos::bc::BcRun::new(&tasks, &config).map_err(js_error)?,
            ),
        })
    }

    /// SAC on one task, MT-SAC (one-hot input, one entropy coefficient per task) on several;
    /// 128×128 networks (a quarter of CleanRL's 256×256 cost, and enough for reach) and a
    /// record every 200 environment steps, so a stop is handled within a second or two.
    pub fn sac(
        task_jsons: Vec<String>,
        seed: u64,
        total_steps: u32,
        options_json: &str,
    ) -> Result<Trainer, JsValue> {
        use polyskill_learn::algos::sac::{SacConfig, SacRun};
        let tasks = parse_tasks(&task_jsons)?;
        let options = TrainOptions::parse(options_json)?;
        let defaults = SacConfig::default();
        let config = SacConfig {
            hidden: options.hidden.clone().unwrap_or(vec![128, 128]),
            policy_lr: options.learning_rate.unwrap_or(defaults.policy_lr),
            total_steps: total_steps as u64,
            steps_per_iteration: 200,
            seed,
            architecture: options.architecture.unwrap_or(defaults.architecture),
            experts: options.experts,
            top_k: options.top_k,
            combiner: options.combiner(seed),
            ..defaults
        };
        Ok(Trainer {
            run: Run::Iterative(Box::new(SacRun::new(&tasks, &config).map_err(js_error)?)),
        })
    }

    /// Makes this behaviour-cloning run worker `index` of `workers` that split it (data
    /// parallelism across Web Workers): each worker runs the same tasks, seed and settings,
    /// records its share of the episodes and computes its share of each minibatch; the
    /// episodes are gathered and the gradients summed through `buffer`, a zeroed
    /// `SharedArrayBuffer` common to all (web/shared-buffer.js makes one). All end with the
    /// same weights. Throws for other algorithms, a worker index out of range and a buffer
    /// too small.
    #[wasm_bindgen(js_name = splitBetweenWorkers)]
    pub fn split_between_workers(
        &mut self,
        buffer: &js_sys::SharedArrayBuffer,
        index: u32,
        workers: u32,
    ) -> Result<(), JsValue> {
        let exchange =
            shared::SharedBufferExchange::new(buffer, index, workers).map_err(js_error)?;
        match &mut self.run {
            Run::Bc(run) => run.split_between_workers(Box::new(exchange)),
            Run::Iterative(_) => {
                return Err(js_error(
                    "only behaviour cloning can be split between workers",
                ));
            }
        }
        Ok(())
    }

    /// Does the next piece of work; returns its record (the CLI's JSON-lines record), or
    /// `null` once the run is done.
    pub fn advance(&mut self) -> Result<JsValue, JsValue> {
        let record = match &mut self.run {
            Run::Iterative(run) => run.iterate().map_err(js_error)?.map(|r| to_js(&r)),
            Run::Bc(run) => run.advance().map_err(js_error)?.map(|r| to_js(&r)),
        };
        record.unwrap_or(Ok(JsValue::NULL))
    }

    /// Evaluates the policy as it stands on a task for `episodes` seeds from `first_seed`, as
    /// `evaluatePolicy` does. A finished behaviour-cloning run split between workers
    /// (`splitBetweenWorkers`) shares the seeds out: each of its workers must then call this with
    /// the same arguments, and all get the same result.
    pub fn evaluate(
        &mut self,
        task_json: &str,
        first_seed: u64,
        episodes: u32,
    ) -> Result<JsValue, JsValue> {
        at_most("evaluate: episodes", episodes, MAX_EPISODES)?;
        let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
        let evaluation = match &mut self.run {
            Run::Iterative(run) => {
                polyskill_learn::eval::evaluate(&run.policy(), &task, first_seed, episodes)
            }
            Run::Bc(run) => run.evaluate(&task, first_seed, episodes),
        };
        to_js(&evaluation.map_err(js_error)?)
    }

    /// The current policy as safetensors bytes (loadable with `new Policy`).
    pub fn weights(&self) -> Result<Vec<u8>, JsValue> {
        let policy = match &self.run {
            Run::Iterative(run) => run.policy(),
            Run::Bc(run) => run.policy().map_err(js_error)?,
        };
        weights::save(&policy).map_err(js_error)
    }
}

/// Evaluates a policy (safetensors bytes) on a task for `episodes` seeds from `first_seed`:
/// `{success_rate, mean_return, episodes, first_seed}`.
#[wasm_bindgen(js_name = evaluatePolicy)]
pub fn evaluate_policy(
    policy_bytes: &[u8],
    task_json: &str,
    first_seed: u64,
    episodes: u32,
) -> Result<JsValue, JsValue> {
    at_most("evaluatePolicy: episodes", episodes, MAX_EPISODES)?;
    let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
    let policy = weights::load(policy_bytes, &Device::flex()).map_err(js_error)?;
    to_js(&polyskill_learn::eval::evaluate(&policy, &task, first_seed, episodes).map_err(js_error)?)
}

/// A wgpu (WebGPU) view of a player's scene on a `<canvas>`.
#[wasm_bindgen]
pub struct SceneView {
    renderer: Renderer,
    surface: wgpu::Surface<'static>,
    canvas: web_sys::HtmlCanvasElement,
    format: wgpu::TextureFormat,
    configured: (u32, u32),
    adapter: String,
    /// A camera set by the page (e.g. an orbit control), else the task's own view.
    camera: Option<Camera>,
    /// Set when the device is lost: drawing then fails so the page switches to its 2D view.
    lost: DeviceLost,
}

/// Why the GPU device was lost, once it has been (a driver reset, the browser reclaiming the
/// GPU, `GPUDevice.destroy()`); shared with the device's lost callback.
#[derive(Clone, Default)]
struct DeviceLost(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl DeviceLost {
    fn set(&self, why: String) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(why);
        }
    }

    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Opens a WebGPU adapter and device (for a canvas surface when one is given), with handlers
/// for uncaptured errors and for the device's loss.
async fn open_gpu(
    instance: &wgpu::Instance,
    surface: Option<&wgpu::Surface<'_>>,
) -> Result<(wgpu::Adapter, wgpu::Device, wgpu::Queue, DeviceLost), JsValue> {
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            compatible_surface: surface,
            ..Default::default()
        })
        .await
        .map_err(|e| js_error(format!("no WebGPU adapter: {e}")))?;
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            required_limits: wgpu::Limits::downlevel_webgl2_defaults()
                .using_resolution(adapter.limits()),
            ..Default::default()
        })
        .await
        .map_err(|e| js_error(format!("WebGPU device: {e}")))?;
    // wgpu's default for an error nobody captured is to panic, which would trap the one
    // module every player on the page shares: say it in the console instead, and the
    // device's loss too (the next draw then fails with an error the page shows).
    device.on_uncaptured_error(std::sync::Arc::new(|e: wgpu::Error| {
        web_sys::console::error_1(&format!("WebGPU error: {e}").into());
    }));
    let lost = DeviceLost::default();
    let record = lost.clone();
    device.set_device_lost_callback(move |reason, message| {
        let why = format!("WebGPU device lost ({reason:?}): {message}");
        web_sys::console::error_1(&why.as_str().into());
        record.set(why);
    });
    Ok((adapter, device, queue, lost))
}

/// The most evaluation episodes one call may ask for.
pub const MAX_EPISODES: u32 = 10_000;
/// The most environment steps one benchmark or trajectory-hash call may ask for.
pub const MAX_CALL_STEPS: u32 = 10_000_000;

/// `value` if it is in `1..=max`, else an error naming `what` and the limit.
fn at_most(what: &str, value: u32, max: u32) -> Result<u32, JsValue> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(js_error(format!("{what} must be 1..={max}, got {value}")))
    }
}

/// The largest width and height `device` can render to.
fn max_texture_side(device: &wgpu::Device) -> u32 {
    device.limits().max_texture_dimension_2d
}

fn browser_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::BROWSER_WEBGPU;
    wgpu::Instance::new(desc)
}

#[wasm_bindgen]
impl SceneView {
    /// Creates a WebGPU view on `canvas`; rejects (the page then uses its 2D fallback) when
    /// the browser has no usable WebGPU.
    pub async fn create(canvas: web_sys::HtmlCanvasElement) -> Result<SceneView, JsValue> {
        let instance = browser_instance();
        let surface = instance
            .create_surface(wgpu::SurfaceTarget::Canvas(canvas.clone()))
            .map_err(|e| js_error(format!("WebGPU canvas: {e}")))?;
        let (adapter, device, queue, lost) = open_gpu(&instance, Some(&surface)).await?;
        let caps = surface.get_capabilities(&adapter);
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or(caps.formats.first().copied())
            .ok_or_else(|| js_error("the canvas offers no texture format"))?;
        let info = adapter.get_info();
        let adapter_name = if info.name.is_empty() {
            format!("{:?} WebGPU adapter", info.backend)
        } else {
            info.name
        };
        Ok(SceneView {
            renderer: Renderer::new(device, queue, format),
            surface,
            canvas,
            format,
            configured: (0, 0),
            adapter: adapter_name,
            camera: None,
            lost,
        })
    }

    /// Looks from `eye` at `target` (3 numbers each) from now on, instead of the task's view;
    /// throws unless both are 3 finite numbers.
    #[wasm_bindgen(js_name = setCamera)]
    pub fn set_camera(&mut self, eye: Vec<f32>, target: Vec<f32>) -> Result<(), JsValue> {
        let point = |v: &[f32], name: &str| -> Result<[f32; 3], JsValue> {
            match v {
                [x, y, z] if v.iter().all(|c| c.is_finite()) => Ok([*x, *y, *z]),
                _ => Err(js_error(format!(
                    "camera {name} must be 3 finite numbers, got {v:?}"
                ))),
            }
        };
        let (eye, target) = (point(&eye, "eye")?, point(&target, "target")?);
        let fov_degrees = self
            .camera
            .as_ref()
            .map_or(Camera::default().fov_degrees, |c| c.fov_degrees);
        self.camera = Some(Camera {
            eye,
            target,
            fov_degrees,
        });
        Ok(())
    }

    /// Goes back to the task's own camera.
    #[wasm_bindgen(js_name = resetCamera)]
    pub fn reset_camera(&mut self) {
        self.camera = None;
    }

    /// The WebGPU adapter's name as the browser reports it.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.adapter.clone()
    }

    /// Why the view's GPU device was lost, or `undefined` while it works.
    #[wasm_bindgen(getter)]
    pub fn lost(&self) -> Option<String> {
        self.lost.get()
    }

    /// Draws the player's current scene into the canvas; throws once the device is lost (the
    /// page then draws with its 2D fallback).
    pub fn draw(&mut self, player: &Player) -> Result<(), JsValue> {
        if let Some(why) = self.lost.get() {
            return Err(js_error(why));
        }
        // A canvas larger than the device can render to is drawn at the largest size it can
        // (the browser scales it up), not passed on to fail validation.
        let side = max_texture_side(self.renderer.device());
        let size = (
            self.canvas.width().clamp(1, side),
            self.canvas.height().clamp(1, side),
        );
        if size != self.configured {
            self.surface.configure(
                self.renderer.device(),
                &wgpu::SurfaceConfiguration {
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                    format: self.format,
                    width: size.0,
                    height: size.1,
                    present_mode: wgpu::PresentMode::Fifo,
                    desired_maximum_frame_latency: 2,
                    alpha_mode: wgpu::CompositeAlphaMode::Auto,
                    view_formats: vec![],
                    color_space: wgpu::SurfaceColorSpace::Auto,
                },
            );
            self.configured = size;
        }
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(frame)
            | wgpu::CurrentSurfaceTexture::Suboptimal(frame) => frame,
            _ => {
                return Err(js_error(
                    "the canvas has no frame to draw into right now (timeout, occluded or lost)",
                ));
            }
        };
        let view = frame.texture.create_view(&Default::default());
        let task_camera = Camera::for_task(player.env.task());
        let camera = match &self.camera {
            Some(c) => Camera {
                fov_degrees: task_camera.fov_degrees,
                ..*c
            },
            None => task_camera,
        };
        self.renderer
            .render(&view, size.0, size.1, &player.env.visuals(), &camera);
        self.renderer.queue().present(frame);
        Ok(())
    }
}

/// Renders a task's scene at reset from `seed` offscreen on WebGPU and resolves to its RGBA
/// pixels (tests and thumbnails).
#[wasm_bindgen(js_name = renderOffscreen)]
pub async fn render_offscreen(
    task_json: String,
    seed: u64,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, JsValue> {
    let task = Task::from_json(&task_json).map_err(|e| task_error(&e))?;
    let mut env = Env::new(task);
    env.reset(seed);
    let visuals = env.visuals();
    let (_, device, queue, _) = open_gpu(&browser_instance(), None).await?;
    let side = max_texture_side(&device);
    let (width, height) = (
        at_most("renderOffscreen: width", width, side)?,
        at_most("renderOffscreen: height", height, side)?,
    );
    let mut renderer = Renderer::new(device, queue, polyskill_render::OFFSCREEN_FORMAT);
    let target = renderer.offscreen_target(width, height);
    let view = target.create_view(&Default::default());
    renderer.render(
        &view,
        width,
        height,
        &visuals,
        &Camera::for_task(env.task()),
    );
    polyskill_render::read_rgba(renderer.device(), renderer.queue(), &target)
        .await
        .map_err(js_error)
}

/// Runs the shared benchmark (env steps/s of the task, CPU inference at batch 1 and 1024)
/// inside this browser tab and returns its JSON report.
#[wasm_bindgen]
pub fn benchmark(task_json: &str, env_steps: u32) -> Result<JsValue, JsValue> {
    at_most("benchmark: env_steps", env_steps, MAX_CALL_STEPS)?;
    let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
    let now_ms = || js_sys::Date::now();
    let report =
        polyskill_learn::bench::report(&task, env_steps, 5_000, 30, &now_ms).map_err(js_error)?;
    to_js(&report)
}

/// Runs the learning benchmark (BC training samples/s, PPO's time to solve cart-pole for
/// seeds 1–3) inside this browser tab and returns its JSON report.
#[wasm_bindgen(js_name = benchmarkLearn)]
pub fn benchmark_learn(cart_pole_json: &str) -> Result<JsValue, JsValue> {
    let task = Task::from_json(cart_pole_json).map_err(|e| task_error(&e))?;
    let now_ms = || js_sys::Date::now();
    to_js(&polyskill_learn::bench::learning(&task, 500, &now_ms).map_err(js_error)?)
}

/// The multi-task BC benchmark (`tasks` synthetic tasks, every architecture and every
/// combiner, `steps` steps each) inside this tab; its JSON list. `tasks` is 2..=16 and `steps`
/// 1..=10000.
#[wasm_bindgen(js_name = benchmarkMultiTask)]
pub fn benchmark_multi_task(tasks: u32, steps: u32) -> Result<JsValue, JsValue> {
    if !(2..=16).contains(&tasks) || !(1..=10_000).contains(&steps) {
        return Err(js_error(format!(
            "benchmarkMultiTask: tasks must be in 2..=16 and steps in 1..=10000; got {tasks}, {steps}"
        )));
    }
    let now_ms = || js_sys::Date::now();
    to_js(
        &polyskill_learn::bench::multitask_throughput(tasks as usize, steps, &now_ms)
            .map_err(js_error)?,
    )
}

/// The BC throughput benchmark (39→256→256→4, batch 256, `steps` steps) as worker `index`
/// of `workers` sharing every minibatch through `buffer` (see [`Trainer::split_between_workers`]);
/// every worker times the same steps. Returns the JSON report.
#[wasm_bindgen(js_name = benchmarkBcShared)]
pub fn benchmark_bc_shared(
    buffer: &js_sys::SharedArrayBuffer,
    index: u32,
    workers: u32,
    steps: u32,
) -> Result<JsValue, JsValue> {
    at_most("benchmarkBcShared: steps", steps, 100_000)?;
    let mut exchange =
        shared::SharedBufferExchange::new(buffer, index, workers).map_err(js_error)?;
    let now_ms = || js_sys::Date::now();
    to_js(
        &polyskill_learn::bench::bc_throughput(39, 4, 256, steps, Some(&mut exchange), &now_ms)
            .map_err(js_error)?,
    )
}

/// Runs the simulator suite benchmark (steps/s of every task given, then a multi-task
/// `VecEnv`) inside this browser tab and returns its JSON report.
#[wasm_bindgen(js_name = benchmarkSuite)]
pub fn benchmark_suite(task_jsons: Vec<String>, env_steps: u32) -> Result<JsValue, JsValue> {
    at_most("benchmarkSuite: env_steps", env_steps, MAX_CALL_STEPS)?;
    let tasks = task_jsons
        .iter()
        .map(|t| Task::from_json(t).map_err(|e| task_error(&e)))
        .collect::<Result<Vec<_>, _>>()?;
    let now_ms = || js_sys::Date::now();
    let report = polyskill_learn::bench::suite(&tasks, env_steps, &now_ms).map_err(js_error)?;
    to_js(&report)
}
