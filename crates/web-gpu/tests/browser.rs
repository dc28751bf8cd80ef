//! WebGPU inference in real headless Chromium (SwiftShader): the same actions as the CPU
//! backend to 1e-4 on a batch of reach observations, and a clear error before initialisation
//! or for a broken file.

#![cfg(target_arch = "wasm32")]

use polyskill_learn::{Device, weights};
use polyskill_web_gpu::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const REACH_BC: &[u8] = include_bytes!("../../../web/weights/reach-bc.safetensors");

#[wasm_bindgen_test]
async fn cpu_and_webgpu_inference_agree() {
    let early = GpuPolicy::new(REACH_BC)
        .err()
        .expect("no WebGPU device yet");
    assert!(
        early
            .unchecked_into::<js_sys::Error>()
            .message()
            .as_string()
            .unwrap()
            .contains("call initGpu() first")
    );
    assert!(
        init_gpu().await,
        "WebGPU compute must be available in the test browser"
    );
    let cpu = weights::load(REACH_BC, &Device::flex()).unwrap();
    let gpu = GpuPolicy::new(REACH_BC).unwrap();
    // 16 varied observations (reach's 39 values each).
    let batch: Vec<f32> = (0..16 * 39)
        .map(|i| ((i * 37 % 101) as f32 / 101.0 - 0.5) * 0.8)
        .collect();
    let expected = cpu.act_in(&batch, None).unwrap();
    let actions = wasm_bindgen_futures::JsFuture::from(gpu.act(batch, None))
        .await
        .unwrap();
    let actions = js_sys::Float32Array::new(&actions).to_vec();
    assert_eq!(expected.len(), actions.len());
    let worst = expected
        .iter()
        .zip(&actions)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "CPU and WebGPU actions differ by {worst}");
    let broken = GpuPolicy::new(b"not a safetensors file")
        .err()
        .expect("a broken file is refused");
    assert!(
        !broken
            .unchecked_into::<js_sys::Error>()
            .message()
            .as_string()
            .unwrap()
            .is_empty()
    );
}
