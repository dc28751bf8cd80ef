//! Polyskill's wasm API (wasm-bindgen) for the page and tests, a module per job: [`player`]
//! (task + sim + expert), [`policy`] (a saved policy on the CPU backend; WebGPU inference is
//! the separate, lazily loaded `polyskill-web-gpu` module), [`trainer`] (runs in Web
//! Workers, settings shared with the CLI), [`view`] (the wgpu renderer on a canvas) and
//! [`bench`] (benchmarks in the tab); here the helpers they share and a few free functions.
//!
//! Every function JS can call returns `Result<_, JsValue>`: failures become JS `Error`s with
//! a readable message (task errors also carry `issues: [{path, message}]`). Nothing here
//! unwraps or panics on input.

#![cfg(target_arch = "wasm32")]

use polyskill_sim::task::{Task, TaskError};
use polyskill_sim::{Env, reference_trajectory_hash};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

mod bench;
mod player;
mod policy;
mod shared;
mod trainer;
mod view;

pub use bench::*;
pub use player::Player;
pub use policy::{WasmPolicy, evaluate_policy};
pub use trainer::{Trainer, algorithms_for, methods, train_defaults};
pub use view::{SceneView, render_offscreen};

/// Builds a JS `Error` with `message`.
pub(crate) fn js_error(message: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&message.to_string()).into()
}

/// A JS `Error` for a rejected task: the message lists every issue, `error.issues` holds them
/// as `[{path, message, line, column}]` (line and column 1-based, absent when the problem is
/// not at a place in the text).
pub(crate) fn task_error(e: &TaskError) -> JsValue {
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

pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
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

/// The most evaluation episodes one call may ask for.
pub const MAX_EPISODES: u32 = 10_000;
/// The most environment steps one benchmark or trajectory-hash call may ask for.
pub const MAX_CALL_STEPS: u32 = 10_000_000;

/// `value` if it is in `1..=max`, else an error naming `what` and the limit.
pub(crate) fn at_most(what: &str, value: u32, max: u32) -> Result<u32, JsValue> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(js_error(format!("{what} must be 1..={max}, got {value}")))
    }
}
