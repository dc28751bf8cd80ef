//! Helpers shared by the learner's test binaries (not every binary uses every helper).
#![allow(dead_code)]

/// The largest absolute difference between two equally long lists.
pub fn max_gap(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max)
}

/// Task-based flat regions (`task_sam`) checked the same way under every algorithm: `fit`
/// trains with a radius ρ (or without, `None`) and returns the trained policy's outputs on
/// fixed inputs. A vanishing ρ must train as plain gradients do (within `tolerance`), a real
/// one (0.05) differently.
pub fn assert_task_sam_acts(what: &str, tolerance: f32, fit: impl Fn(Option<f32>) -> Vec<f32>) {
    let plain = fit(None);
    // 1e-9, not larger: Adam's first steps move each weight by about the learning rate times
    // the sign of its gradient, so a component near zero flips under any perturbation; at
    // ρ = 1e-7 one such weight moved PPO's output by 2e-4 on one AVX-512 machine (under 1e-4
    // on the AVX2 ones before), against 2e-3 for ρ = 0.05.
    let tiny = fit(Some(1e-9));
    let flat = fit(Some(0.05));
    let (near, far) = (max_gap(&plain, &tiny), max_gap(&plain, &flat));
    assert!(
        near < tolerance,
        "{what}: ρ → 0 must train as plain gradients do; gap {near} (ρ = 0.05: {far})"
    );
    assert!(
        far > tolerance,
        "{what}: ρ = 0.05 must change the updates; gap {far}"
    );
}

/// Cart-pole, as shipped.
pub fn cart_pole() -> polyskill_sim::task::Task {
    polyskill_sim::task::Task::from_json(include_str!("../../../../web/tasks/cart-pole.json"))
        .unwrap()
}

/// Cart-pole with its two choices listed the other way round (the conflicting twin).
pub fn cart_pole_swapped() -> polyskill_sim::task::Task {
    polyskill_sim::task::Task::from_json(include_str!(
        "../../../../docs/experiments/tasks/cart-pole-swapped.json"
    ))
    .unwrap()
}
