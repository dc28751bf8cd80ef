//! The training algorithms, one file each, readable top to bottom (CleanRL's way): behaviour
//! cloning ([`bc`]), PPO ([`ppo`]), SAC and MT-SAC ([`sac`]), GRPO and RLOO ([`grpo`]), and the
//! action distributions the policy-gradient ones share ([`categorical`], [`gaussian`]). Every
//! algorithm reports a [`crate::Record`] per iteration; in multi-task mode the update goes
//! through [`crate::multitask::Combiner`].

pub mod bc;
pub mod categorical;
pub mod gaussian;
pub mod grpo;
pub mod ppo;
pub mod sac;
