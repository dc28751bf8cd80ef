//! The tasks' Gram matrix over the shared parameters ([`Gram`]: every combiner's input) and
//! the gradient-conflict statistic ([`Conflict`]): the pairwise cosine similarity of the
//! task gradients (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning", §3: two tasks
//! conflict when the cosine of their gradients is negative).

use serde::{Deserialize, Serialize};

/// The dot products `G[i][j] = gᵢ · gⱼ` of T task gradients (in f64).
#[derive(Debug, Clone, PartialEq)]
pub struct Gram {
    /// Row-major T × T.
    pub g: Vec<f64>,
    /// T.
    pub tasks: usize,
}

impl Gram {
    /// The Gram matrix of `grads` (each a task's gradient as parameter lists), over the
    /// elements `shared` marks (every element when `None`).
    pub fn of(grads: &[&Vec<Vec<f32>>], shared: Option<&[Vec<bool>]>) -> Gram {
        let t = grads.len();
        let mut g = vec![0.0f64; t * t];
        for i in 0..t {
            for j in i..t {
                let mut dot = 0.0f64;
                for (k, (a, b)) in grads[i].iter().zip(grads[j].iter()).enumerate() {
                    dot += match shared.and_then(|s| s.get(k)) {
                        Some(mask) => dot_masked(a, b, mask),
                        None => dot_f32(a, b),
                    };
                }
                g[i * t + j] = dot;
                g[j * t + i] = dot;
            }
        }
        Gram { g, tasks: t }
    }

    /// From a row-major T × T matrix (tests, and callers that already hold one).
    pub fn from_rows(rows: &[Vec<f64>]) -> Gram {
        Gram {
            g: rows.iter().flatten().copied().collect(),
            tasks: rows.len(),
        }
    }

    /// `gᵢ · gⱼ`.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.g[i * self.tasks + j]
    }

    /// `‖Σᵢ wᵢ gᵢ‖²` for weights `w`.
    pub fn norm_squared(&self, w: &[f64]) -> f64 {
        let t = self.tasks;
        (0..t)
            .map(|i| (0..t).map(|j| w[i] * self.at(i, j) * w[j]).sum::<f64>())
            .sum()
    }

    /// The cosine similarity of tasks i and j (0 if either gradient is zero).
    pub fn cosine(&self, i: usize, j: usize) -> f64 {
        let norms = (self.at(i, i) * self.at(j, j)).sqrt();
        if norms > 0.0 {
            (self.at(i, j) / norms).clamp(-1.0, 1.0)
        } else {
            0.0
        }
    }
}

/// Dot product accumulated in blocks of f32 (vectorises) and summed in f64.
fn dot_f32(a: &[f32], b: &[f32]) -> f64 {
    a.chunks(1024)
        .zip(b.chunks(1024))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>() as f64)
        .sum()
}

fn dot_masked(a: &[f32], b: &[f32], mask: &[bool]) -> f64 {
    a.iter()
        .zip(b)
        .zip(mask)
        .map(|((p, q), &m)| if m { (p * q) as f64 } else { 0.0 })
        .sum()
}

/// How the tasks' gradients of the shared parameters agreed, averaged over the updates of
/// one iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// T × T mean pairwise cosine similarity (1 on the diagonal; 0 for pairs never measured).
    pub cosine: Vec<Vec<f32>>,
    /// Mean cosine over the pairs of distinct tasks.
    pub mean_cosine: f32,
    /// Share of (pair, update) measurements with a negative cosine: how often two tasks
    /// pulled the shared parameters apart.
    pub conflicting: f32,
    /// Updates measured.
    pub updates: u32,
}

/// Accumulates the pairwise cosines of successive updates into a [`Conflict`].
#[derive(Debug, Clone)]
pub struct ConflictMeter {
    tasks: usize,
    sum: Vec<f64>,
    count: Vec<u32>,
    negative: u32,
    pairs: u32,
    updates: u32,
}

impl ConflictMeter {
    /// An empty meter for `tasks` tasks.
    pub fn new(tasks: usize) -> ConflictMeter {
        ConflictMeter {
            tasks,
            sum: vec![0.0; tasks * tasks],
            count: vec![0; tasks * tasks],
            negative: 0,
            pairs: 0,
            updates: 0,
        }
    }

    /// Adds one update's Gram matrix, whose rows are the tasks `present` (indices into all).
    pub fn add(&mut self, gram: &Gram, present: &[usize]) {
        self.updates += 1;
        for (a, &i) in present.iter().enumerate() {
            for (b, &j) in present.iter().enumerate() {
                let c = if a == b { 1.0 } else { gram.cosine(a, b) };
                self.sum[i * self.tasks + j] += c;
                self.count[i * self.tasks + j] += 1;
                if a < b {
                    self.pairs += 1;
                    self.negative += (c < 0.0) as u32;
                }
            }
        }
    }

    /// The conflict since the last call, and a fresh start; `None` if nothing was added.
    pub fn take(&mut self) -> Option<Conflict> {
        if self.updates == 0 {
            return None;
        }
        let t = self.tasks;
        let cosine: Vec<Vec<f32>> = (0..t)
            .map(|i| {
                (0..t)
                    .map(|j| {
                        if self.count[i * t + j] > 0 {
                            (self.sum[i * t + j] / self.count[i * t + j] as f64) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let off: Vec<f32> = (0..t)
            .flat_map(|i| (0..t).filter(move |&j| j != i).map(move |j| (i, j)))
            .filter(|&(i, j)| self.count[i * t + j] > 0)
            .map(|(i, j)| cosine[i][j])
            .collect();
        let conflict = Conflict {
            mean_cosine: if off.is_empty() {
                0.0
            } else {
                off.iter().sum::<f32>() / off.len() as f32
            },
            conflicting: if self.pairs > 0 {
                self.negative as f32 / self.pairs as f32
            } else {
                0.0
            },
            updates: self.updates,
            cosine,
        };
        *self = ConflictMeter::new(t);
        Some(conflict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosines_of_known_gradients() {
        let a = vec![vec![1.0, 0.0]];
        let b = vec![vec![-1.0, 1.0]];
        let c = vec![vec![0.0, 0.0]];
        let gram = Gram::of(&[&a, &b, &c], None);
        assert_eq!(gram.at(0, 1), -1.0);
        assert!((gram.cosine(0, 1) + 0.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(
            gram.cosine(0, 2),
            0.0,
            "a zero gradient agrees with nothing"
        );
        let mut meter = ConflictMeter::new(3);
        meter.add(&gram, &[0, 1, 2]);
        meter.add(&Gram::of(&[&a, &a, &a], None), &[0, 1, 2]);
        let conflict = meter.take().unwrap();
        assert_eq!(conflict.updates, 2);
        assert!((conflict.cosine[0][1] as f64 - (1.0 - 0.5f64.sqrt()) / 2.0).abs() < 1e-6);
        assert_eq!(conflict.cosine[2][2], 1.0);
        // Pairs: 3 per update; only (0, 1) in the first is negative.
        assert!((conflict.conflicting - 1.0 / 6.0).abs() < 1e-6);
    }
}
