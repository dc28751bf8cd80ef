//! A diagonal Gaussian policy for continuous actions, as CleanRL's continuous PPO has it: the
//! network gives the mean, a learned state-independent log standard deviation the spread;
//! sampling, the log-probability, and the clipped surrogate with an entropy bonus and its
//! gradients with respect to the mean and the log standard deviation. Running
//! observation and reward normalisation (Gymnasium's `NormalizeObservation` /
//! `NormalizeReward`) live here too.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// log √(2π).
const HALF_LOG_TAU: f32 = 0.918_938_5;

/// A standard normal sample (Box–Muller).
pub fn standard_normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1 = rng.random::<f32>().max(1e-7);
    let u2 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Log-density of `action` under N(mean, exp(log_std)²), summed over dimensions.
pub fn log_prob(mean: &[f32], log_std: &[f32], action: &[f32]) -> f32 {
    mean.iter()
        .zip(log_std)
        .zip(action)
        .map(|((m, ls), a)| {
            let z = (a - m) / ls.exp();
            -0.5 * z * z - ls - HALF_LOG_TAU
        })
        .sum()
}

/// Samples an action; returns it with its log-density.
pub fn sample(mean: &[f32], log_std: &[f32], rng: &mut ChaCha8Rng) -> (Vec<f32>, f32) {
    let action: Vec<f32> = mean
        .iter()
        .zip(log_std)
        .map(|(m, ls)| m + ls.exp() * standard_normal(rng))
        .collect();
    let logp = log_prob(mean, log_std, &action);
    (action, logp)
}

pub use crate::algos::categorical::{Surrogate, SurrogateTerms};

/// The clipped surrogate for one sample (the Gaussian now, the action taken, `s`) minus
/// `s.entropy_coef` × entropy; adds `s.scale` × its gradient with respect to the mean into
/// `grad_mean` and with respect to the log standard deviations into `grad_log_std`.
pub fn clipped_surrogate(
    mean: &[f32],
    log_std: &[f32],
    action: &[f32],
    s: &Surrogate,
    grad_mean: &mut [f32],
    grad_log_std: &mut [f32],
) -> SurrogateTerms {
    let log_ratio = log_prob(mean, log_std, action) - s.old_logp;
    let (loss, g_logp) = s.loss_and_slope(log_ratio);
    for j in 0..mean.len() {
        let sigma = log_std[j].exp();
        let z = (action[j] - mean[j]) / sigma;
        // d logp / d mean = z / σ;  d logp / d log σ = z² − 1;  d entropy / d log σ = 1.
        grad_mean[j] += s.scale * g_logp * z / sigma;
        grad_log_std[j] += s.scale * (g_logp * (z * z - 1.0) - s.entropy_coef);
    }
    let entropy = log_std.iter().map(|ls| ls + 0.5 + HALF_LOG_TAU).sum();
    SurrogateTerms {
        loss,
        entropy,
        approx_kl: (log_ratio.exp() - 1.0) - log_ratio,
    }
}

/// Running mean and variance of vectors (Chan's parallel update), as Gymnasium's
/// `RunningMeanStd`.
#[derive(Debug, Clone)]
pub struct RunningStats {
    /// Per-feature mean.
    pub mean: Vec<f64>,
    /// Per-feature variance.
    pub var: Vec<f64>,
    count: f64,
}

impl RunningStats {
    /// Statistics of `dim` features before any data (mean 0, variance 1, a tiny count).
    pub fn new(dim: usize) -> RunningStats {
        RunningStats {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    /// Folds in a row-major batch of `dim`-vectors.
    pub fn update(&mut self, batch: &[f32]) {
        let dim = self.mean.len();
        let n = (batch.len() / dim) as f64;
        if n == 0.0 {
            return;
        }
        for j in 0..dim {
            let values = batch.iter().skip(j).step_by(dim).map(|v| *v as f64);
            let batch_mean = values.clone().sum::<f64>() / n;
            let batch_var = values
                .map(|v| (v - batch_mean) * (v - batch_mean))
                .sum::<f64>()
                / n;
            let delta = batch_mean - self.mean[j];
            let total = self.count + n;
            let m2 =
                self.var[j] * self.count + batch_var * n + delta * delta * self.count * n / total;
            self.mean[j] += delta * n / total;
            self.var[j] = m2 / total;
        }
        self.count += n;
    }

    /// Per-feature standard deviation (√(var + 1e-8)).
    pub fn std(&self) -> Vec<f32> {
        self.var.iter().map(|v| (v + 1e-8).sqrt() as f32).collect()
    }

    /// Normalises a row-major batch, clipped to ±10.
    pub fn normalise(&self, batch: &[f32]) -> Vec<f32> {
        let dim = self.mean.len();
        let std = self.std();
        batch
            .iter()
            .enumerate()
            .map(|(i, v)| ((v - self.mean[i % dim] as f32) / std[i % dim]).clamp(-10.0, 10.0))
            .collect()
    }
}

/// Gymnasium's `NormalizeReward`: rewards divided by the running standard deviation of each
/// environment's discounted return, clipped to ±10.
#[derive(Debug, Clone)]
pub struct RewardScaler {
    returns: Vec<f64>,
    stats: RunningStats,
    gamma: f64,
}

impl RewardScaler {
    /// A scaler for `envs` environments and discount `gamma`.
    pub fn new(envs: usize, gamma: f32) -> RewardScaler {
        RewardScaler {
            returns: vec![0.0; envs],
            stats: RunningStats::new(1),
            gamma: gamma as f64,
        }
    }

    /// Scales one step's rewards (one per environment); `done` restarts an environment's return.
    pub fn scale(&mut self, rewards: &[f32], done: &[bool]) -> Vec<f32> {
        for (r, (reward, _)) in self.returns.iter_mut().zip(rewards.iter().zip(done)) {
            *r = *r * self.gamma + *reward as f64;
        }
        let returns: Vec<f32> = self.returns.iter().map(|r| *r as f32).collect();
        self.stats.update(&returns);
        for (r, d) in self.returns.iter_mut().zip(done) {
            if *d {
                *r = 0.0;
            }
        }
        let std = (self.stats.var[0] + 1e-8).sqrt() as f32;
        rewards
            .iter()
            .map(|r| (r / std).clamp(-10.0, 10.0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn surrogate_gradients_match_finite_differences() {
        let (mean, log_std, action) = (vec![0.3f32, -0.2], vec![-0.5f32, 0.1], vec![0.1f32, 0.4]);
        let old_logp = log_prob(&mean, &log_std, &action) - 0.05;
        let s = Surrogate {
            old_logp,
            advantage: 1.3,
            clip: 0.2,
            entropy_coef: 0.01,
            scale: 1.0,
        };
        let loss = |m: &[f32], ls: &[f32]| {
            let (mut gm, mut gl) = (vec![0.0; 2], vec![0.0; 2]);
            let t = clipped_surrogate(m, ls, &action, &s, &mut gm, &mut gl);
            t.loss - 0.01 * t.entropy
        };
        let (mut gm, mut gl) = (vec![0.0; 2], vec![0.0; 2]);
        clipped_surrogate(&mean, &log_std, &action, &s, &mut gm, &mut gl);
        let h = 1e-3;
        for j in 0..2 {
            let (mut up, mut down) = (mean.clone(), mean.clone());
            up[j] += h;
            down[j] -= h;
            let numeric = (loss(&up, &log_std) - loss(&down, &log_std)) / (2.0 * h);
            assert!(
                (numeric - gm[j]).abs() < 2e-3,
                "mean {j}: {numeric} vs {}",
                gm[j]
            );
            let (mut up, mut down) = (log_std.clone(), log_std.clone());
            up[j] += h;
            down[j] -= h;
            let numeric = (loss(&mean, &up) - loss(&mean, &down)) / (2.0 * h);
            assert!(
                (numeric - gl[j]).abs() < 2e-3,
                "log_std {j}: {numeric} vs {}",
                gl[j]
            );
        }
    }

    #[test]
    fn running_stats_agree_with_the_batch_formula() {
        let data: Vec<f32> = (0..200).map(|i| ((i * 37 % 101) as f32) / 10.0).collect();
        let mut s = RunningStats::new(2);
        for chunk in data.chunks(14) {
            s.update(chunk);
        }
        for j in 0..2 {
            let col: Vec<f64> = data.iter().skip(j).step_by(2).map(|v| *v as f64).collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / col.len() as f64;
            assert!(
                (s.mean[j] - mean).abs() < 1e-3 && (s.var[j] - var).abs() < 1e-2,
                "{j}: {s:?} vs {mean} {var}"
            );
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let draws: Vec<f32> = (0..20_000).map(|_| standard_normal(&mut rng)).collect();
        let m = draws.iter().sum::<f32>() / 20_000.0;
        let v = draws.iter().map(|d| (d - m) * (d - m)).sum::<f32>() / 20_000.0;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
    }
}
