//! Equal weighting, the baseline every multi-task method is measured against: the update is
//! the sum `Σₜ gₜ` or the mean `(1/T) Σₜ gₜ` of the task gradients (the loss `Σₜ ℓₜ` or its
//! mean). With one network and the tasks' rows in one minibatch this is plain multi-task
//! training (e.g. MT-SAC in Yu et al. 2019, Meta-World).

use super::{Combiner, Gram};

/// Sum (`mean: false`) or mean of the task gradients.
#[derive(Debug, Clone)]
pub struct Equal {
    /// Divide by the number of tasks.
    pub mean: bool,
}

impl Combiner for Equal {
    fn weights(&mut self, gram: &Gram, _losses: &[f32]) -> Vec<f32> {
        let w = if self.mean {
            1.0 / gram.tasks as f32
        } else {
            1.0
        };
        vec![w; gram.tasks]
    }
}
