//! Training settings, written once. An algorithm's configuration is its defaults for the tasks
//! ([`TrainConfig::defaults`]) overlaid with *settings*: a JSON object keyed by the
//! configuration's own field names (`{"hidden": [64, 64], "total_steps": 100000}`). The CLI's
//! flags, the wasm `Trainer` (the page and its workers) and comparison specs all go through
//! [`TrainConfig::with_settings`], so a default, a name or a range check lives in one place:
//! the configuration type.
//!
//! `"combiner"` may be given as a combiner's name (`"pcgrad"`): it stands for that method with
//! its default settings, seeded with the run's seed.

use crate::algos::Algorithm;
use crate::algos::bc::{BcConfig, BcRun};
use crate::algos::grpo::{Baseline, GrpoConfig, GrpoRun};
use crate::algos::ppo::{PpoConfig, PpoRun};
use crate::algos::sac::{SacConfig, SacRun};
use crate::multitask::{CombinerConfig, CombinerKind};
use crate::{IterativeRun, Policy};
use polyskill_sim::task::Task;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// An algorithm with its whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainConfig {
    /// Behaviour cloning (with DART noise and DAgger rounds as configured).
    Bc(BcConfig),
    /// PPO (multi-task with several tasks).
    Ppo(PpoConfig),
    /// SAC (MT-SAC with several tasks).
    Sac(SacConfig),
    /// GRPO or RLOO, as the configuration's baseline says.
    Grpo(GrpoConfig),
}

/// A started run: an iterative one (PPO, SAC, GRPO, RLOO) or behaviour cloning's staged run.
// One run per trainer: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum TrainRun {
    /// PPO, SAC, GRPO or RLOO, one iteration per call.
    Iterative(Box<dyn IterativeRun>),
    /// Behaviour cloning: recorded episodes, then a few gradient steps per call.
    Bc(BcRun),
}

impl TrainRun {
    /// The policy as it stands.
    pub fn policy(&self) -> Result<Policy, String> {
        match self {
            TrainRun::Iterative(run) => Ok(run.policy()),
            TrainRun::Bc(run) => run.policy(),
        }
    }
}

impl TrainConfig {
    /// `algorithm`'s defaults for `tasks` (PPO's depend on the first task's action space: see
    /// [`PpoConfig::for_task`]).
    pub fn defaults(algorithm: Algorithm, tasks: &[Task]) -> TrainConfig {
        match algorithm {
            Algorithm::Bc => TrainConfig::Bc(BcConfig::default()),
            Algorithm::Ppo => TrainConfig::Ppo(match tasks.first() {
                Some(task) => PpoConfig::for_task(task),
                None => PpoConfig::default(),
            }),
            Algorithm::Sac => TrainConfig::Sac(SacConfig::default()),
            Algorithm::Grpo => TrainConfig::Grpo(GrpoConfig::default()),
            Algorithm::Rloo => TrainConfig::Grpo(GrpoConfig {
                baseline: Baseline::Rloo,
                ..GrpoConfig::default()
            }),
        }
    }

    /// `algorithm`'s defaults for `tasks` overlaid with `settings` (see the module comment).
    /// A name the configuration does not have is an error that lists the ones it has; a
    /// value of the wrong type names its path (`hidden[1]: invalid type …`). Ranges are
    /// checked when the run starts, by the configuration's own check.
    pub fn with_settings(
        algorithm: Algorithm,
        tasks: &[Task],
        settings: &Map<String, Value>,
    ) -> Result<TrainConfig, String> {
        refuse_multi_task_settings_for_one_task(tasks, settings)?;
        let what = "settings";
        Ok(match TrainConfig::defaults(algorithm, tasks) {
            TrainConfig::Bc(c) => TrainConfig::Bc(overlay(c, settings, what)?),
            TrainConfig::Ppo(c) => TrainConfig::Ppo(overlay(c, settings, what)?),
            TrainConfig::Sac(c) => TrainConfig::Sac(overlay(c, settings, what)?),
            TrainConfig::Grpo(c) => {
                if settings.contains_key("baseline") {
                    return Err(
                        "settings.baseline: chosen by the algorithm's name (grpo or rloo)".into(),
                    );
                }
                TrainConfig::Grpo(overlay(c, settings, what)?)
            }
        })
    }

    /// [`TrainConfig::with_settings`] from the page: [`browser_preset`]'s settings first, then
    /// `settings` (a task-aware architecture in `settings` drops the preset's multi-head
    /// conditioning, which only an MLP has).
    pub fn in_browser(
        algorithm: Algorithm,
        tasks: &[Task],
        settings: &Map<String, Value>,
    ) -> Result<TrainConfig, String> {
        let mut merged = browser_preset(algorithm, tasks);
        let task_aware = settings
            .get("architecture")
            .and_then(Value::as_str)
            .is_some_and(|a| a != "mlp");
        if task_aware {
            merged.remove("conditioning");
        }
        merged.extend(settings.clone());
        TrainConfig::with_settings(algorithm, tasks, &merged)
    }

    /// The algorithm this configures.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            TrainConfig::Bc(_) => Algorithm::Bc,
            TrainConfig::Ppo(_) => Algorithm::Ppo,
            TrainConfig::Sac(_) => Algorithm::Sac,
            TrainConfig::Grpo(c) => match c.baseline {
                Baseline::Grpo => Algorithm::Grpo,
                Baseline::Rloo => Algorithm::Rloo,
            },
        }
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        match self {
            TrainConfig::Bc(c) => c.seed,
            TrainConfig::Ppo(c) => c.seed,
            TrainConfig::Sac(c) => c.seed,
            TrainConfig::Grpo(c) => c.seed,
        }
    }

    /// Environment steps of an iterative run's budget; BC's gradient steps over all its fits.
    pub fn budget(&self) -> u64 {
        match self {
            TrainConfig::Bc(c) => c.steps as u64 * (c.dagger_rounds as u64 + 1),
            TrainConfig::Ppo(c) => c.total_steps,
            TrainConfig::Sac(c) => c.total_steps,
            TrainConfig::Grpo(c) => c.total_steps,
        }
    }

    /// The configuration as its settings (every field, by name).
    pub fn to_json(&self) -> Value {
        let value = match self {
            TrainConfig::Bc(c) => serde_json::to_value(c),
            TrainConfig::Ppo(c) => serde_json::to_value(c),
            TrainConfig::Sac(c) => serde_json::to_value(c),
            TrainConfig::Grpo(c) => serde_json::to_value(c),
        };
        value.unwrap_or_default()
    }

    /// Starts a run of this configuration on `tasks` (checks the settings and the tasks: an
    /// algorithm that cannot train a task says why, see [`Algorithm::refuses`]).
    pub fn start(&self, tasks: &[Task]) -> Result<TrainRun, String> {
        Ok(match self {
            TrainConfig::Bc(c) => TrainRun::Bc(BcRun::new(tasks, c)?),
            TrainConfig::Ppo(c) => TrainRun::Iterative(Box::new(PpoRun::multi_task(tasks, c)?)),
            TrainConfig::Sac(c) => TrainRun::Iterative(Box::new(SacRun::new(tasks, c)?)),
            TrainConfig::Grpo(c) => match tasks {
                [task] => TrainRun::Iterative(Box::new(GrpoRun::new(task, c)?)),
                _ => {
                    return Err(format!(
                        "{} trains one task; got {}",
                        self.algorithm().name(),
                        tasks.len()
                    ));
                }
            },
        })
    }
}

/// Parses settings from JSON text: an object (`""` means none), named in errors.
pub fn parse_settings(settings_json: &str) -> Result<Map<String, Value>, String> {
    if settings_json.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(settings_json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "settings: expected a JSON object of settings by name, got {other}"
        )),
        Err(e) => Err(format!("settings: {e}")),
    }
}

/// The settings that say how several tasks share one network: given for a run of one task they
/// would do nothing, so they are refused rather than ignored.
const MULTI_TASK_SETTINGS: [&str; 6] = [
    "combiner",
    "architecture",
    "experts",
    "top_k",
    "task_sam",
    "rep_mtl",
];

fn refuse_multi_task_settings_for_one_task(
    tasks: &[Task],
    settings: &Map<String, Value>,
) -> Result<(), String> {
    if tasks.len() != 1 {
        return Ok(());
    }
    let given: Vec<&str> = MULTI_TASK_SETTINGS
        .into_iter()
        .filter(|k| match settings.get(*k) {
            None | Some(Value::Null) => false,
            Some(Value::String(a)) if *k == "architecture" => a != "mlp",
            Some(_) => true,
        })
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(format!(
        "settings: {} are for multi-task runs; this run trains one task ({})",
        given.join(", "),
        tasks[0].id
    ))
}

/// The page's starting settings, where a browser tab's budget differs from a native run's
/// defaults (so a page run finishes in about a minute and a stop is handled within a second
/// or two): behaviour cloning records 30 clean demonstrations per task and fits 4000 steps,
/// several tasks with one head each (multi-head cloned MT10 best); SAC uses 128×128 networks
/// (a quarter of the 256×256 cost; an update still takes ~15 ms in wasm), 20 000 steps and a
/// record every 200 steps; PPO, GRPO and RLOO 200 000 steps (cart-pole's budget). The page
/// shows these values in its form and the wasm `Trainer` applies them under the page's own
/// settings ([`TrainConfig::in_browser`]).
pub fn browser_preset(algorithm: Algorithm, tasks: &[Task]) -> Map<String, Value> {
    let preset = match algorithm {
        Algorithm::Bc if tasks.len() > 1 => serde_json::json!({
            "demos": 30, "steps": 4000, "demo_noise": 0.0, "conditioning": "multi-head"
        }),
        Algorithm::Bc => serde_json::json!({ "demos": 30, "steps": 4000, "demo_noise": 0.0 }),
        Algorithm::Sac => serde_json::json!({
            "hidden": [128, 128], "total_steps": 20_000, "steps_per_iteration": 200
        }),
        Algorithm::Ppo | Algorithm::Grpo | Algorithm::Rloo => {
            serde_json::json!({ "total_steps": 200_000 })
        }
    };
    match preset {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `defaults` with `settings` written over it (see [`TrainConfig::with_settings`]); errors
/// name a setting as `PLACE.NAME` (`place` is e.g. `settings` or `methods[2] settings`).
/// Shared with comparison specs.
pub fn overlay<T: Serialize + DeserializeOwned>(
    defaults: T,
    settings: &Map<String, Value>,
    place: &str,
) -> Result<T, String> {
    let mut value = serde_json::to_value(defaults).map_err(|e| e.to_string())?;
    let object = value
        .as_object_mut()
        .ok_or("a configuration is a JSON object")?;
    for (key, setting) in settings {
        if !object.contains_key(key) {
            let known: Vec<&str> = object.keys().map(String::as_str).collect();
            return Err(format!(
                "{place}.{key}: not a setting of this algorithm; its settings are {}",
                known.join(", ")
            ));
        }
        object.insert(key.clone(), setting.clone());
    }
    // A combiner given by name: that method's defaults, seeded with the run's seed.
    if let Some(Value::String(name)) = object.get("combiner") {
        let kind = CombinerKind::parse(name).map_err(|e| format!("{place}.combiner: {e}"))?;
        let seed = object.get("seed").and_then(Value::as_u64).unwrap_or(0);
        let combiner = CombinerConfig {
            seed,
            ..CombinerConfig::of(kind)
        };
        object.insert(
            "combiner".into(),
            serde_json::to_value(combiner).map_err(|e| e.to_string())?,
        );
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        format!(
            "{place}.{}: {}",
            e.path(),
            e.inner().to_string().replace(" at line 0 column 0", "")
        )
    })
}
