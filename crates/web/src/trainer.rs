//! Training in the page: which methods exist ([`methods`]), which algorithms can train a task
//! ([`algorithms_for`]), the settings a page run starts from ([`train_defaults`]) and the
//! [`Trainer`] a Web Worker drives. Settings are the learner's own
//! ([`polyskill_learn::settings`]): a JSON object of the configuration's field names, laid over
//! the algorithm's defaults and the page's budget preset, so the page, its workers and the CLI
//! share one mapping.

use crate::{MAX_EPISODES, at_most, js_error, shared, task_error, to_js};
use polyskill_learn::algos::Algorithm;
use polyskill_learn::multitask::CombinerKind;
use polyskill_learn::nets::ArchitectureKind;
use polyskill_learn::settings::parse_settings;
use polyskill_learn::{TrainConfig, TrainRun, weights};
use polyskill_sim::task::Task;
use wasm_bindgen::prelude::*;

/// What the methods are called, from the registries the learner uses: `{algorithms: [names…],
/// multi_task: [algorithms that train several tasks at once…], architectures: [names…],
/// combiners: [names…]}` (the page builds its menus from this).
#[wasm_bindgen]
pub fn methods() -> Result<JsValue, JsValue> {
    let multi_task: Vec<&str> = Algorithm::ALL
        .iter()
        .filter(|a| a.multi_task())
        .map(|a| a.name())
        .collect();
    to_js(&serde_json::json!({
        "algorithms": Algorithm::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "multi_task": multi_task,
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

/// Parses the algorithm's name and the tasks, each error naming what is wrong.
fn parse(algorithm: &str, task_jsons: &[String]) -> Result<(Algorithm, Vec<Task>), JsValue> {
    let algorithm = Algorithm::parse(algorithm).map_err(js_error)?;
    let tasks = task_jsons
        .iter()
        .map(|t| Task::from_json(t).map_err(|e| task_error(&e)))
        .collect::<Result<Vec<_>, _>>()?;
    if tasks.is_empty() {
        return Err(js_error("give at least one task"));
    }
    Ok((algorithm, tasks))
}

/// The whole configuration a page run of `algorithm` on these tasks starts from (every
/// setting by name: the algorithm's defaults with the page's budget preset,
/// `polyskill_learn::settings::browser_preset`); the page fills its form from it.
#[wasm_bindgen(js_name = trainDefaults)]
pub fn train_defaults(algorithm: &str, task_jsons: Vec<String>) -> Result<JsValue, JsValue> {
    let (algorithm, tasks) = parse(algorithm, &task_jsons)?;
    let config =
        TrainConfig::in_browser(algorithm, &tasks, &Default::default()).map_err(js_error)?;
    to_js(&config.to_json())
}

/// A training run that advances a little per `advance()` call (a PPO/GRPO iteration, a
/// recorded episode or a few BC gradient steps), so a Web Worker can post each record and
/// handle a stop message in between.
#[wasm_bindgen]
pub struct Trainer {
    run: TrainRun,
    /// Stop once a record reaches this return (see `Record::reaches`).
    target_return: Option<f32>,
    reached_target: bool,
}

#[wasm_bindgen]
impl Trainer {
    /// Starts `algorithm` (`bc`, `ppo`, `sac`, `grpo`, `rloo`) on the tasks (task JSON texts;
    /// several for one multi-task network where the algorithm trains sets) with `settings_json`
    /// (a JSON object of the configuration's settings by name, `""` for none) laid over the
    /// page's starting configuration ([`train_defaults`]). Throws a readable Error for a broken
    /// task, an unknown or mistyped setting (named with its path), a value out of range, or a
    /// task the algorithm cannot train.
    #[wasm_bindgen(constructor)]
    pub fn new(
        algorithm: &str,
        task_jsons: Vec<String>,
        settings_json: &str,
    ) -> Result<Trainer, JsValue> {
        let (algorithm, tasks) = parse(algorithm, &task_jsons)?;
        let settings = parse_settings(settings_json).map_err(js_error)?;
        let config = TrainConfig::in_browser(algorithm, &tasks, &settings).map_err(js_error)?;
        Ok(Trainer {
            run: config.start(&tasks).map_err(js_error)?,
            target_return: None,
            reached_target: false,
        })
    }

    /// Ends the run (`advance` returns `null`) once a record's mean return over the last 10
    /// episodes reaches `target` (behaviour cloning has no episodes and never stops early).
    #[wasm_bindgen(js_name = stopAtReturn)]
    pub fn stop_at_return(&mut self, target: f32) -> Result<(), JsValue> {
        if !target.is_finite() {
            return Err(js_error(format!(
                "stopAtReturn: the target must be a finite number, got {target}"
            )));
        }
        self.target_return = Some(target);
        Ok(())
    }

    /// Whether the run ended because it reached its `stopAtReturn` target.
    #[wasm_bindgen(getter, js_name = reachedTarget)]
    pub fn reached_target(&self) -> bool {
        self.reached_target
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
            TrainRun::Bc(run) => run.split_between_workers(Box::new(exchange)),
            TrainRun::Iterative(_) => {
                return Err(js_error(
                    "only behaviour cloning can be split between workers",
                ));
            }
        }
        Ok(())
    }

    /// Does the next piece of work; returns its record (the CLI's JSON-lines record), or
    /// `null` once the run is done (its budget spent, or its target reached).
    pub fn advance(&mut self) -> Result<JsValue, JsValue> {
        if self.reached_target {
            return Ok(JsValue::NULL);
        }
        let record = match &mut self.run {
            TrainRun::Iterative(run) => match run.iterate().map_err(js_error)? {
                Some(record) => {
                    self.reached_target = self.target_return.is_some_and(|t| record.reaches(t));
                    Some(to_js(&record))
                }
                None => None,
            },
            TrainRun::Bc(run) => run.advance().map_err(js_error)?.map(|r| to_js(&r)),
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
            TrainRun::Iterative(run) => {
                polyskill_learn::eval::evaluate(&run.policy(), &task, first_seed, episodes)
            }
            TrainRun::Bc(run) => run.evaluate(&task, first_seed, episodes),
        };
        to_js(&evaluation.map_err(js_error)?)
    }

    /// The current policy as safetensors bytes (loadable with `new Policy`).
    pub fn weights(&self) -> Result<Vec<u8>, JsValue> {
        let policy = self.run.policy().map_err(js_error)?;
        weights::save(&policy).map_err(js_error)
    }
}
