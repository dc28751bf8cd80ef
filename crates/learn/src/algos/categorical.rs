//! The categorical (discrete-choice) policy of PPO, GRPO and RLOO on discrete tasks: sampling
//! from a row of logits, and the clipped surrogate objective with an entropy bonus and its
//! gradient with respect to the logits.

pub use crate::algos::policy_gradient::{Surrogate, SurrogateTerms};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Log-probabilities of a row of logits (a numerically safe log-softmax).
pub fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let log_sum = logits.iter().map(|l| (l - max).exp()).sum::<f32>().ln();
    logits.iter().map(|l| l - max - log_sum).collect()
}

/// Samples a choice from a row of logits; returns it with its log-probability.
pub fn sample(logits: &[f32], rng: &mut ChaCha8Rng) -> (usize, f32) {
    let logp = log_softmax(logits);
    let u = rng.random::<f32>();
    let mut acc = 0.0;
    for (i, l) in logp.iter().enumerate() {
        acc += l.exp();
        if u < acc {
            return (i, *l);
        }
    }
    (logp.len() - 1, logp[logp.len() - 1])
}

/// The clipped surrogate for one sample (logits now, the action taken, `s`), minus
/// `s.entropy_coef` × entropy. Adds `s.scale` × its gradient with respect to the logits into
/// `grad`.
pub fn clipped_surrogate(
    logits: &[f32],
    action: usize,
    s: &Surrogate,
    grad: &mut [f32],
) -> SurrogateTerms {
    let logp = log_softmax(logits);
    let p: Vec<f32> = logp.iter().map(|l| l.exp()).collect();
    let log_ratio = logp[action] - s.old_logp;
    let (loss, g_logp) = s.loss_and_slope(log_ratio);
    let entropy: f32 = -p.iter().zip(&logp).map(|(p, l)| p * l).sum::<f32>();
    for (j, g) in grad.iter_mut().enumerate() {
        let d_logp = if j == action { 1.0 } else { 0.0 } - p[j];
        let d_neg_entropy = p[j] * (logp[j] + entropy);
        *g += s.scale * (g_logp * d_logp + s.entropy_coef * d_neg_entropy);
    }
    SurrogateTerms {
        loss,
        entropy,
        approx_kl: (log_ratio.exp() - 1.0) - log_ratio,
    }
}
