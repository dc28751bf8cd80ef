//! The training algorithms, one file each (behaviour cloning, the longest, one directory),
//! readable top to bottom (CleanRL's way): behaviour cloning ([`bc`]), PPO ([`ppo`]), SAC and
//! MT-SAC ([`sac`]), GRPO and RLOO ([`grpo`]), and the
//! action distributions of the policy-gradient ones ([`categorical`], [`gaussian`]) with what they
//! share whatever the distribution ([`policy_gradient`]). Every
//! algorithm reports a [`crate::Record`] per iteration; in multi-task mode the update goes
//! through [`crate::multitask::Combiner`].

pub mod bc;
pub mod categorical;
pub mod gaussian;
pub mod grpo;
pub mod policy_gradient;
pub mod ppo;
pub mod sac;

use polyskill_sim::task::{ActionSpace, Task};
use serde::{Deserialize, Serialize};

/// The training algorithms, by the names the CLI, the page and comparison specs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Behaviour cloning of the task's scripted expert ([`bc`]).
    Bc,
    /// Proximal policy optimisation ([`ppo`]).
    Ppo,
    /// Soft actor-critic ([`sac`]).
    Sac,
    /// Group-relative policy optimisation ([`grpo`]).
    Grpo,
    /// REINFORCE leave-one-out ([`grpo`]'s other baseline).
    Rloo,
}

impl Algorithm {
    /// Every algorithm, in the order menus list them.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Ppo,
        Algorithm::Sac,
        Algorithm::Grpo,
        Algorithm::Rloo,
        Algorithm::Bc,
    ];

    /// The algorithm's name (`bc`, `ppo`, `sac`, `grpo`, `rloo`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Bc => "bc",
            Algorithm::Ppo => "ppo",
            Algorithm::Sac => "sac",
            Algorithm::Grpo => "grpo",
            Algorithm::Rloo => "rloo",
        }
    }

    /// The algorithm named `name`; an unknown name lists the valid ones.
    pub fn parse(name: &str) -> Result<Algorithm, String> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown algorithm {name:?}; available: {}",
                    names.join(", ")
                )
            })
    }

    /// Whether it trains one network on several tasks at once.
    pub fn multi_task(self) -> bool {
        matches!(self, Algorithm::Bc | Algorithm::Ppo | Algorithm::Sac)
    }

    /// Why this algorithm cannot train `task` (`None`: it can). The one place these rules are
    /// written: each run's constructor refuses with this message, and the page lists a task's
    /// algorithms from it.
    pub fn refuses(self, task: &Task) -> Option<String> {
        let space = task.action_space();
        match (self, &space) {
            (Algorithm::Bc, _) if task.expert.is_none() => {
                Some(format!("task {} has no expert to clone", task.id))
            }
            (Algorithm::Sac, ActionSpace::Discrete { .. }) => Some(format!(
                "SAC acts in continuous action spaces; task {} has discrete choices (use ppo, grpo or rloo)",
                task.id
            )),
            (Algorithm::Sac, ActionSpace::Continuous { low, high })
                if low.iter().any(|l| *l != -1.0) || high.iter().any(|h| *h != 1.0) =>
            {
                Some(format!(
                    "SAC here squashes actions into [-1, 1]; task {} bounds them by {low:?}..{high:?} (use ppo)",
                    task.id
                ))
            }
            (Algorithm::Grpo | Algorithm::Rloo, ActionSpace::Continuous { .. }) => Some(format!(
                "task {} has continuous actions; GRPO/RLOO here need a discrete task (\"choices\")",
                task.id
            )),
            _ => None,
        }
    }

    /// The algorithms that can train `task`, in [`Algorithm::ALL`]'s order.
    pub fn for_task(task: &Task) -> Vec<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(|a| a.refuses(task).is_none())
            .collect()
    }
}
