//! Behaviour cloning's settings ([`BcConfig`]) and their check.

use crate::SettingsCheck;
use crate::multitask::CombinerConfig;
use crate::nets::ArchitectureKind;
use crate::policy::Conditioning;
use serde::Serialize;

/// Behaviour-cloning settings.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BcConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Gradient steps of the first fit and of each DAgger round.
    pub steps: u32,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate (at the start of each fit, see `anneal_lr`).
    pub learning_rate: f64,
    /// Lower the learning rate linearly to zero over each fit's `steps` (true by default).
    /// On MT10 with a browser's budget (multi-head, 30 demonstrations per task, 4000 steps)
    /// it took seeds 0/1/2 from 94.0/88.6/86.2% to 96.4/96.0/98.0% success: the last steps
    /// refine instead of jumping between minibatches.
    pub anneal_lr: bool,
    /// Seed for initialisation and minibatch sampling.
    pub seed: u64,
    /// Expert episodes recorded per task.
    pub demos: u32,
    /// Standard deviation of the noise added to the expert's actions while recording
    /// demonstrations (DART; the labels stay clean); in a discrete task, the probability of
    /// a uniformly drawn choice instead of the expert's. 0: none.
    pub demo_noise: f32,
    /// DAgger rounds after the first fit (0: plain behaviour cloning).
    pub dagger_rounds: u32,
    /// Learner episodes per task in each DAgger round.
    pub dagger_episodes: u32,
    /// How a multi-task network is told the task (one-hot by default, as for SAC and PPO;
    /// ignored for one task, which needs no telling).
    pub conditioning: Conditioning,
    /// How several tasks' gradients are combined into one update (`None`: the minibatch's rows
    /// pooled into one loss). Ignored for one task.
    pub combiner: Option<CombinerConfig>,
    /// The network's architecture; a task-aware one (all but the MLP) needs several tasks and
    /// one-hot conditioning.
    pub architecture: ArchitectureKind,
    /// Experts, encoders, parameter sets or modules per layer (the architecture's default when
    /// `None`).
    pub experts: Option<usize>,
    /// MoE: experts per row (default 2).
    pub top_k: Option<usize>,
    /// Which engine trains a plain MLP (task-aware architectures always train through burn).
    pub engine: Engine,
    /// With a combiner: seek task-based flat regions (Phan et al. 2022): each task's gradient
    /// is taken at the weights moved by this radius ρ along it (sharpness-aware, per task)
    /// before the combiner weighs them. `None`: plain gradients.
    pub task_sam: Option<f32>,
    /// Rep-MTL's saliency regulation (Wang et al. 2025; [`crate::multitask::rep_mtl`]): the
    /// weight λ of the entropy of the tasks' saliencies on the last hidden layer, added to the
    /// equally weighted loss. Several tasks, the fused MLP and no combiner. `None`: off.
    pub rep_mtl: Option<f32>,
}

/// The engine that computes a network's gradients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// The hand-fused CPU MLP (the fast path).
    #[default]
    Fused,
    /// burn's autodiff.
    Burn,
}

impl Default for BcConfig {
    fn default() -> Self {
        BcConfig {
            hidden: vec![256, 256],
            steps: 3000,
            batch: 256,
            learning_rate: 1e-3,
            anneal_lr: true,
            seed: 0,
            demos: 40,
            demo_noise: 0.1,
            dagger_rounds: 0,
            dagger_episodes: 20,
            conditioning: Conditioning::OneHot,
            combiner: None,
            architecture: ArchitectureKind::Mlp,
            experts: None,
            top_k: None,
            engine: Engine::Fused,
            task_sam: None,
            rep_mtl: None,
        }
    }
}

impl BcConfig {
    /// Rejects settings out of range, naming the field.
    pub fn check(&self) -> Result<(), String> {
        let mut check = SettingsCheck::default();
        check.hidden_widths(&self.hidden);
        check.need(
            (1..=10_000_000).contains(&self.steps),
            "steps",
            &format!("must be 1..=10000000, got {}", self.steps),
        );
        check.need(
            (1..=65_536).contains(&self.batch),
            "batch",
            &format!("must be 1..=65536, got {}", self.batch),
        );
        let lr_ok = self.learning_rate > 0.0 && self.learning_rate <= 1.0;
        check.need(
            lr_ok,
            "learning_rate",
            &format!("must be in (0, 1], got {}", self.learning_rate),
        );
        check.need(
            (1..=100_000).contains(&self.demos),
            "demos",
            &format!("must be 1..=100000 episodes, got {}", self.demos),
        );
        check.need(
            (0.0..=1.0).contains(&self.demo_noise),
            "demo_noise",
            &format!("must be in [0, 1], got {}", self.demo_noise),
        );
        check.need(
            self.dagger_rounds <= 100,
            "dagger_rounds",
            &format!("must be 0..=100, got {}", self.dagger_rounds),
        );
        let episodes_ok = self.dagger_rounds == 0 || (1..=100_000).contains(&self.dagger_episodes);
        check.need(
            episodes_ok,
            "dagger_episodes",
            &format!(
                "must be 1..=100000 with DAgger on, got {}",
                self.dagger_episodes
            ),
        );
        check.need(
            !(self.architecture.task_aware() && self.conditioning == Conditioning::MultiHead),
            "conditioning",
            &format!(
                "multi-head is an mlp's conditioning; {} reads the task as a one-hot input",
                self.architecture
            ),
        );
        check.task_sam(self.task_sam, self.combiner.is_some());
        if let Some(lambda) = self.rep_mtl {
            check.need(
                lambda.is_finite() && lambda > 0.0 && lambda <= 100.0,
                "rep_mtl",
                &format!("must be in (0, 100], got {lambda}"),
            );
            check.need(
                self.combiner.is_none()
                    && self.architecture == ArchitectureKind::Mlp
                    && self.engine == Engine::Fused,
                "rep_mtl",
                "regularises the equally weighted loss of the fused mlp: no combiner, architecture mlp, engine fused",
            );
        }
        if let Some(combiner) = &self.combiner
            && let Err(e) = combiner.check()
        {
            check.need(false, "combiner", &e);
        }
        check.finish("BC settings")
    }
}
