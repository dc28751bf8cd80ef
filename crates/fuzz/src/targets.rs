//! The three fuzzed loaders and what a valid input is then made to do: a task file
//! ([`Task::from_json`], then a few simulated steps), a weights file ([`weights::load`], then
//! actions for every task it names and for wrong inputs) and a training run's settings (an
//! algorithm's config from JSON, its range check, then the run's constructor on real tasks).

use crate::mutate::{mutate_bytes, mutate_json};
use polyskill_learn::algos::bc::{BcConfig, BcRun};
use polyskill_learn::algos::ppo::{PpoConfig, PpoRun};
use polyskill_learn::algos::sac::{SacConfig, SacRun};
use polyskill_learn::multitask::{CombinerConfig, CombinerKind};
use polyskill_learn::nets::{ArchitectureKind, Network};
use polyskill_learn::{Architecture, Conditioning, Device, Policy, PolicyInfo, weights};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, RandomPolicy};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::path::Path;

/// What one execution did with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Rejected with an error.
    Rejected,
    /// Accepted and exercised.
    Accepted,
}

/// Reads every shipped task file (`web/tasks/*.json`) under the repository `root`, by name.
pub fn shipped_tasks(root: &Path) -> Result<Vec<(String, String)>, String> {
    let dir = root.join("web/tasks");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            out.push((name, text));
        }
    }
    out.sort();
    Ok(out)
}

// ---- task files ----

/// Seeds for the task fuzzer: every shipped task file as a JSON document.
pub fn task_corpus(root: &Path) -> Result<Vec<Value>, String> {
    shipped_tasks(root)?
        .into_iter()
        .map(|(name, text)| serde_json::from_str(&text).map_err(|e| format!("{name}: {e}")))
        .collect()
}

/// A mutant of one seed task (1–3 structural mutations), as the text a loader gets.
pub fn task_case(corpus: &[Value], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut doc = corpus[rng.random_range(0..corpus.len())].clone();
    for _ in 0..rng.random_range(1..4) {
        mutate_json(&mut doc, rng);
    }
    doc.to_string().into_bytes()
}

/// Loads a task file; a valid one is reset and stepped with random actions (up to 10 steps).
pub fn run_task(input: &[u8]) -> Verdict {
    let Ok(text) = std::str::from_utf8(input) else {
        return Verdict::Rejected;
    };
    let Ok(task) = Task::from_json(text) else {
        return Verdict::Rejected;
    };
    let mut env = Env::new(task);
    env.reset(1);
    let action = RandomPolicy::new(env.task(), 1).act();
    for _ in 0..10 {
        match env.step(&action) {
            Ok(s) if s.terminated || s.truncated => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Verdict::Accepted
}

// ---- weights files ----

/// Seeds for the weights fuzzer: the shipped PPO policies (small MLPs, two with categorical
/// outputs), and a freshly initialised two-task policy of every architecture (one-hot), plus
/// a multi-head MLP, saved as safetensors.
pub fn weights_corpus(root: &Path) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for name in [
        "cart-pole-ppo",
        "acrobot-ppo",
        "pendulum-ppo",
        "reacher-ppo",
    ] {
        let path = root.join(format!("web/weights/{name}.safetensors"));
        out.push(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let device = Device::flex();
    let tasks = vec!["reach".to_string(), "push".to_string()];
    let (obs, act) = (5, 2);
    let mut save = |architecture: Architecture, conditioning: Conditioning| -> Result<(), String> {
        let task_inputs = if conditioning == Conditioning::OneHot {
            tasks.len()
        } else {
            0
        };
        let net = Network::init(&architecture, task_inputs, &device)?;
        let info = PolicyInfo {
            architecture,
            tasks: tasks.clone(),
            conditioning,
            obs_mean: vec![0.1; obs],
            obs_std: vec![1.5; obs],
            training: json!({"algorithm": "fuzz"}),
            eval_success: Some(0.5),
            eval_episodes: Some(10),
        };
        let policy = Policy::new(net, info, device.clone());
        out.push(weights::save(&policy).map_err(|e| e.to_string())?);
        Ok(())
    };
    for kind in ArchitectureKind::ALL {
        let hidden = if kind == ArchitectureKind::Mlp {
            vec![8]
        } else {
            vec![8, 8, 8]
        };
        let sizes = [vec![obs + tasks.len()], hidden, vec![act]].concat();
        save(Architecture::of(kind, &sizes), Conditioning::OneHot)?;
    }
    save(
        Architecture::mlp(&[obs, 8, 2 * act]),
        Conditioning::MultiHead,
    )?;
    Ok(out)
}

/// A mutant of one seed weights file: its header JSON (tensor names, dtypes, shapes, offsets
/// and the metadata's own JSON strings) mutated structurally, its bytes mutated, or both; the
/// length prefix kept consistent with the header most of the time.
pub fn weights_case(corpus: &[Vec<u8>], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let file = &corpus[rng.random_range(0..corpus.len())];
    let n = u64::from_le_bytes(file[..8].try_into().expect("a seed file")) as usize;
    let (header, data) = (&file[8..8 + n], &file[8 + n..]);
    let mut data = data.to_vec();
    let mut header: Value = serde_json::from_slice(header).expect("a seed file's header");
    if rng.random_bool(0.8) {
        for _ in 0..rng.random_range(1..4) {
            mutate_json(&mut header, rng);
        }
    }
    if rng.random_bool(0.3) {
        mutate_bytes(&mut data, rng);
    }
    let header = header.to_string().into_bytes();
    let length = if rng.random_bool(0.9) {
        header.len() as u64
    } else {
        [0, 1, u64::MAX, header.len() as u64 + 1, 1 << 40][rng.random_range(0..5)]
    };
    let mut bytes = length.to_le_bytes().to_vec();
    bytes.extend(header);
    bytes.extend(data);
    if rng.random_bool(0.05) {
        mutate_bytes(&mut bytes, rng);
    }
    bytes
}

/// Loads a weights file; a valid one acts for each of its tasks, without a task, for an
/// unknown one, on one row, two rows and a wrong-sized row.
pub fn run_weights(input: &[u8]) -> Verdict {
    let Ok(policy) = weights::load(input, &Device::flex()) else {
        return Verdict::Rejected;
    };
    let dim = policy.observation_size();
    let mut tasks: Vec<Option<&str>> = policy.info.tasks.iter().map(|t| Some(t.as_str())).collect();
    tasks.extend([None, Some("no-such-task")]);
    for task in tasks {
        for rows in [
            vec![0.3; dim],
            vec![-2.0; 2 * dim],
            vec![1.0; dim + 1],
            Vec::new(),
        ] {
            let _ = policy.act_in(&rows, task);
        }
    }
    Verdict::Accepted
}

// ---- training settings ----

/// A config as a JSON value.
fn value<T: serde::Serialize>(config: &T) -> Value {
    serde_json::to_value(config).expect("configs serialise")
}

/// Seeds for the settings fuzzer: each algorithm's defaults and multi-task variants (an
/// architecture with experts, a combiner), tagged with the algorithm they configure.
pub fn settings_corpus() -> Vec<Value> {
    let bc_mt = BcConfig {
        architecture: ArchitectureKind::Moe,
        combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
        steps: 20,
        demos: 2,
        ..BcConfig::default()
    };
    let sac_mt = SacConfig {
        architecture: ArchitectureKind::Care,
        combiner: Some(CombinerConfig::of(CombinerKind::Famo)),
        ..SacConfig::default()
    };
    let ppo_mt = PpoConfig {
        architecture: ArchitectureKind::SoftModular,
        hidden: vec![16, 16],
        combiner: Some(CombinerConfig::of(CombinerKind::Cagrad)),
        ..PpoConfig::continuous()
    };
    let tagged = |algorithm: &str, config: Value| json!({"algorithm": algorithm, "config": config});
    vec![
        tagged("bc", value(&BcConfig::default())),
        tagged("bc", value(&bc_mt)),
        tagged("ppo", value(&PpoConfig::default())),
        tagged("ppo", value(&ppo_mt)),
        tagged("sac", value(&SacConfig::default())),
        tagged("sac", value(&sac_mt)),
    ]
}

/// A mutant of one seed's config (the algorithm tag kept), as JSON text.
pub fn settings_case(corpus: &[Value], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let seed = &corpus[rng.random_range(0..corpus.len())];
    let mut config = seed["config"].clone();
    for _ in 0..rng.random_range(1..4) {
        mutate_json(&mut config, rng);
    }
    json!({"algorithm": seed["algorithm"], "config": config})
        .to_string()
        .into_bytes()
}

/// The tasks a settings case's runs are built on.
pub struct SettingsTasks {
    /// Two MT10 tasks (BC and SAC train them together).
    pub pair: Vec<Task>,
    /// A discrete task, for PPO's categorical policy.
    pub cart_pole: Task,
}

impl SettingsTasks {
    /// Reach and push and cart-pole from the shipped files under `root`.
    pub fn load(root: &Path) -> Result<SettingsTasks, String> {
        let tasks = shipped_tasks(root)?;
        let get = |name: &str| -> Result<Task, String> {
            let (_, text) = tasks
                .iter()
                .find(|(n, _)| n == name)
                .ok_or(format!("no {name}.json"))?;
            Task::from_json(text).map_err(|e| format!("{name}: {e}"))
        };
        Ok(SettingsTasks {
            pair: vec![get("reach")?, get("push")?],
            cart_pole: get("cart-pole")?,
        })
    }
}

/// Parses an algorithm's config (unknown fields and wrong types are errors with their path),
/// checks its ranges and, if it passes, builds the run (networks, optimisers, environments,
/// buffers) on real tasks: BC and SAC on two tasks, PPO on cart-pole and on one task.
pub fn run_settings(input: &[u8], tasks: &SettingsTasks) -> Verdict {
    let Ok(doc) = serde_json::from_slice::<Value>(input) else {
        return Verdict::Rejected;
    };
    let config = doc["config"].to_string();
    fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).ok()
    }
    let built = match doc["algorithm"].as_str() {
        Some("bc") => parse::<BcConfig>(&config).map(|c| BcRun::new(&tasks.pair, &c).is_ok()),
        Some("ppo") => parse::<PpoConfig>(&config).map(|c| {
            let discrete = PpoRun::new(&tasks.cart_pole, &c).is_ok();
            PpoRun::new(&tasks.pair[0], &c).is_ok() || discrete
        }),
        Some("sac") => parse::<SacConfig>(&config).map(|c| SacRun::new(&tasks.pair, &c).is_ok()),
        _ => None,
    };
    if built == Some(true) {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    }
}
