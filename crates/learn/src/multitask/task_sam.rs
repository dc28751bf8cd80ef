//! Task-based flat regions (Phan et al. 2022, "Improving Multi-task Learning via Seeking
//! Task-based Flat Regions"), after sharpness-aware minimisation (Foret et al. 2021): each
//! task's gradient is taken not at the weights θ but at the worst point of a ρ-ball around
//! them, θ + ρ gₜ/‖gₜ‖ (the first-order ascent step, Foret et al. eq. 2), on the same rows;
//! those gradients then go to the combiner as the plain ones would. Any algorithm whose
//! per-task gradient can be re-evaluated at shifted weights uses it through [`ascent`] and
//! [`SettingsCheck::task_sam`](crate::SettingsCheck::task_sam).

/// The ascent step ρ g/‖g‖ over all of `gradient`'s lists, or `None` for a zero gradient
/// (nothing to climb: the task's plain gradient stands).
pub fn ascent(gradient: &[Vec<f32>], rho: f32) -> Option<Vec<Vec<f32>>> {
    let norm = gradient.iter().flatten().map(|v| v * v).sum::<f32>().sqrt();
    (norm > 0.0 && norm.is_finite()).then(|| {
        gradient
            .iter()
            .map(|l| l.iter().map(|v| rho * v / norm).collect())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_has_length_rho_along_the_gradient() {
        let g = vec![vec![3.0, 0.0], vec![4.0]];
        let s = ascent(&g, 0.5).unwrap();
        assert_eq!(s, vec![vec![0.3, 0.0], vec![0.4]]);
        assert!(ascent(&[vec![0.0, 0.0]], 0.5).is_none());
        assert!(ascent(&[vec![f32::NAN]], 0.5).is_none());
    }
}
