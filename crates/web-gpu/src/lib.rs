//! Policy inference on WebGPU through burn's wgpu backend, as its own wasm module. burn's
//! WebGPU backend (cubecl and its kernels) is about two thirds of the code a page would
//! otherwise download, and only the "burn WebGPU" inference choice needs it: the page's main
//! module (`polyskill-web`) runs policies on the CPU backend and loads this one on demand.
//!
//! Like the main module, every function returns `Result`s (rejected promises) to JS.

#![cfg(target_arch = "wasm32")]

use polyskill_learn::{Device, Policy, weights};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

fn js_error(message: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&message.to_string()).into()
}

thread_local! {
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

/// Initialises burn's WebGPU backend once; resolves to `true` when WebGPU compute is
/// available, `false` otherwise.
#[wasm_bindgen(js_name = initGpu)]
pub async fn init_gpu() -> bool {
    if GPU.with(|g| g.borrow().is_some()) {
        return true;
    }
    let has_gpu = web_sys::window()
        .map(|w| {
            !js_sys::Reflect::get(&w.navigator(), &"gpu".into())
                .map(|g| g.is_undefined())
                .unwrap_or(true)
        })
        .unwrap_or(false);
    if !has_gpu {
        return false;
    }
    match Device::wgpu_options().init_async().await {
        Ok(device) => {
            GPU.with(|g| *g.borrow_mut() = Some(device));
            true
        }
        Err(e) => {
            web_sys::console::warn_1(&format!("WebGPU compute unavailable: {e}").into());
            false
        }
    }
}

/// A policy (safetensors bytes) on the WebGPU backend; needs [`init_gpu`] first.
#[wasm_bindgen]
pub struct GpuPolicy {
    policy: Rc<Policy>,
}

#[wasm_bindgen]
impl GpuPolicy {
    /// Loads a policy onto WebGPU; throws a readable Error for a broken file or without WebGPU.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Result<GpuPolicy, JsValue> {
        let device = GPU.with(|g| g.borrow().clone()).ok_or_else(|| {
            js_error(
                "WebGPU is not initialised: call initGpu() first (and check it resolved to true)",
            )
        })?;
        let cpu = weights::load(bytes, &Device::flex()).map_err(js_error)?;
        Ok(GpuPolicy {
            policy: Rc::new(cpu.to_device(&device)),
        })
    }

    /// Actions for a row-major batch of observations from task `task` (needed by a multi-task
    /// policy), read back asynchronously: a promise of a `Float32Array`.
    pub fn act(&self, observations: Vec<f32>, task: Option<String>) -> js_sys::Promise {
        let policy = self.policy.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let actions = policy
                .act_batch_async(&observations, task.as_deref())
                .await
                .map_err(js_error)?;
            Ok(js_sys::Float32Array::from(actions.as_slice()).into())
        })
    }
}
