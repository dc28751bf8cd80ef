//! The benchmarks run inside a browser tab (`cargo xtask bench-web`): the same code as
//! `polyskill bench`, timed with the page's clock.

use crate::{MAX_CALL_STEPS, at_most, js_error, shared, task_error, to_js};
use polyskill_sim::task::Task;
use wasm_bindgen::prelude::*;

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
