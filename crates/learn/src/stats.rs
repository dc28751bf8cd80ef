//! Statistics for comparing methods over seeds, as rliable (Agarwal et al. 2021, "Deep
//! Reinforcement Learning at the Edge of the Statistical Precipice") and Meta-World+ report
//! them: the interquartile mean (IQM) of the per-run, per-task scores, and 95% confidence
//! intervals from the stratified bootstrap (runs resampled with replacement within each task).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The mean of the middle 50% of `values` (the IQM): sorted, the lowest and highest quarter
/// dropped, fractional ends weighted (so it is defined for any count, as scipy's
/// `trim_mean(·, 0.25)` is for multiples of 4). `NaN` for no values.
pub fn iqm(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.to_vec();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let (lo, hi) = (0.25 * n, 0.75 * n);
    let mut total = 0.0;
    for (i, x) in v.iter().enumerate() {
        // The share of value i's unit interval [i, i+1) inside [lo, hi).
        let overlap = ((i + 1) as f64).min(hi) - (i as f64).max(lo);
        if overlap > 0.0 {
            total += overlap * x;
        }
    }
    total / (hi - lo)
}

/// The arithmetic mean (`NaN` for no values).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// A point estimate with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The statistic on the data.
    pub value: f64,
    /// 2.5th percentile of the bootstrap distribution.
    pub low: f64,
    /// 97.5th percentile of the bootstrap distribution.
    pub high: f64,
}

/// Bootstrap resamples used by [`stratified_bootstrap`] in reports.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// `statistic` of `scores` (`scores[run][task]`, every run scoring every task) with a 95%
/// percentile interval from `resamples` stratified bootstrap resamples: for each task
/// independently, the runs are drawn with replacement (rliable's `StratifiedBootstrap`).
pub fn stratified_bootstrap(
    scores: &[Vec<f64>],
    statistic: fn(&[f64]) -> f64,
    resamples: usize,
    seed: u64,
) -> Estimate {
    let flat: Vec<f64> = scores.iter().flatten().copied().collect();
    let value = statistic(&flat);
    let runs = scores.len();
    let tasks = scores.first().map_or(0, Vec::len);
    if runs == 0 || tasks == 0 || resamples == 0 {
        return Estimate {
            value,
            low: value,
            high: value,
        };
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draws: Vec<f64> = Vec::with_capacity(resamples);
    let mut sample = Vec::with_capacity(runs * tasks);
    for _ in 0..resamples {
        sample.clear();
        for task in 0..tasks {
            for _ in 0..runs {
                sample.push(scores[rng.random_range(0..runs)][task]);
            }
        }
        draws.push(statistic(&sample));
    }
    draws.sort_by(f64::total_cmp);
    let at = |q: f64| draws[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Estimate {
        value,
        low: at(0.025),
        high: at(0.975),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iqm_drops_the_outer_quarters() {
        assert_eq!(iqm(&[0.0, 1.0, 2.0, 100.0]), 1.5);
        assert_eq!(iqm(&[5.0]), 5.0);
        // Eight values: the middle four.
        assert_eq!(iqm(&[8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -50.0]), 3.5);
        // Five values: [1.25, 3.75) covers ¾ of the 2nd, the 3rd, ¾ of the 4th.
        let v = iqm(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((v - 3.0).abs() < 1e-12, "{v}");
        assert!(iqm(&[]).is_nan());
    }

    #[test]
    fn the_interval_contains_the_estimate_and_shrinks_with_agreement() {
        let spread: Vec<Vec<f64>> = (0..5)
            .map(|r| vec![r as f64 / 4.0, 1.0 - r as f64 / 4.0, 0.5])
            .collect();
        let e = stratified_bootstrap(&spread, mean, 2000, 1);
        assert!(
            e.low <= e.value && e.value <= e.high && e.high - e.low > 0.05,
            "{e:?}"
        );
        let same = vec![vec![0.7, 0.2]; 4];
        let e = stratified_bootstrap(&same, iqm, 500, 1);
        assert_eq!((e.low, e.value, e.high), (0.45, 0.45, 0.45));
    }
}
