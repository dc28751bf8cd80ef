//! [`WasmPolicy`] (`Policy` in JS): a saved policy on the CPU backend, and
//! [`evaluate_policy`].

use crate::{MAX_EPISODES, at_most, js_error, task_error, to_js};
use polyskill_learn::{Device, Policy, weights};
use polyskill_sim::task::Task;
use wasm_bindgen::prelude::*;

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

    /// The policy as an ONNX model (the bytes of a `.onnx` file, as `polyskill export --onnx`
    /// writes it): for onnxruntime-web or any other ONNX runtime, and the page's download.
    #[wasm_bindgen(js_name = toOnnx)]
    pub fn to_onnx(&self) -> Result<Vec<u8>, JsValue> {
        polyskill_learn::onnx::export(&self.cpu).map_err(js_error)
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
