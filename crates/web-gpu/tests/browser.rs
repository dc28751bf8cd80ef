//! WebGPU inference in real headless Chromium (SwiftShader): the same actions as the CPU
//! backend to 1e-4 on a batch of reach observations, and a clear error before initialisation
//! or for a broken file; every architecture saved, loaded and acting the same on both.

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
    every_architecture_acts_the_same_on_cpu_and_webgpu().await;
}

/// Every architecture, saved and loaded, acts the same on the CPU backend and on WebGPU (to
/// 1e-4) in both of its tasks. (Called by the test above once WebGPU is up: the tests share one
/// module, and that test checks the state before initialisation.)
async fn every_architecture_acts_the_same_on_cpu_and_webgpu() {
    use polyskill_learn::nets::{ArchitectureKind, Network};
    use polyskill_learn::{Architecture, Conditioning, Policy, PolicyInfo};
    let (obs, tasks) = (6, 2);
    for kind in ArchitectureKind::ALL {
        let hidden = if kind == ArchitectureKind::SoftModular {
            vec![8, 8, 8]
        } else {
            vec![8, 8]
        };
        let architecture = Architecture::of(kind, &[vec![obs + tasks], hidden, vec![3]].concat());
        let device = Device::flex();
        let policy = Policy::new(
            Network::init(&architecture, tasks, &device).unwrap(),
            PolicyInfo {
                architecture,
                tasks: vec!["a".into(), "b".into()],
                conditioning: Conditioning::OneHot,
                obs_mean: vec![0.1; obs],
                obs_std: vec![0.9; obs],
                training: serde_json::Value::Null,
                eval_success: None,
                eval_episodes: None,
            },
            device,
        );
        let bytes = weights::save(&policy).unwrap();
        let cpu = weights::load(&bytes, &Device::flex()).unwrap();
        let gpu = GpuPolicy::new(&bytes).unwrap();
        let batch: Vec<f32> = (0..5 * obs)
            .map(|i| ((i * 29 % 53) as f32 / 53.0 - 0.5) * 2.0)
            .collect();
        for task in ["a", "b"] {
            let expected = cpu.act_in(&batch, Some(task)).unwrap();
            let actions = wasm_bindgen_futures::JsFuture::from(
                gpu.act(batch.clone(), Some(task.to_string())),
            )
            .await
            .unwrap();
            let actions = js_sys::Float32Array::new(&actions).to_vec();
            assert_eq!(expected.len(), actions.len(), "{kind}");
            let worst = expected
                .iter()
                .zip(&actions)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 1e-4,
                "{kind}, task {task}: CPU and WebGPU differ by {worst}"
            );
        }
    }
}
