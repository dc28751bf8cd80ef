//! Every architecture, written once as a burn module: its gradients through burn's autodiff
//! agree with finite differences; the burn MLP trains exactly as the fused fast path; every
//! architecture saves, loads and acts the same; the mixture's router learns to send separable
//! tasks to different experts.

use polyskill_learn::algos::bc::{self, BcConfig, Demonstrations, Engine};
use polyskill_learn::nets::moe::Moe;
use polyskill_learn::nets::{ArchitectureKind, BurnNet, Network, TrainNet};
use polyskill_learn::{Architecture, Conditioning, Device, weights};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const OBS: usize = 5;
const TASKS: usize = 3;

fn architecture(kind: ArchitectureKind) -> Architecture {
    let hidden = if kind == ArchitectureKind::SoftModular {
        vec![6, 6, 6]
    } else {
        vec![7, 6]
    };
    let sizes = [vec![OBS + TASKS], hidden, vec![2]].concat();
    Architecture {
        activation: "tanh".into(),
        output: "linear".into(),
        ..Architecture::of(kind, &sizes)
    }
}

/// Rows of observations with a task one-hot appended, one task per row in turn.
fn inputs(rows: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..rows)
        .flat_map(|r| {
            let obs: Vec<f32> = (0..OBS).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            obs.into_iter()
                .chain((0..TASKS).map(move |t| (t == r % TASKS) as u8 as f32))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `Σ output · G` (plus the weighted auxiliary loss) at the network's current parameters.
fn objective(net: &TrainNet, x: &[f32], g: &[f32]) -> f64 {
    let trace = net.trace(x).unwrap();
    let out: f64 = trace
        .output()
        .iter()
        .zip(g)
        .map(|(o, g)| (*o as f64) * (*g as f64))
        .sum();
    // The auxiliary loss enters through the backward pass; read it as the objective's gradient
    // with a zero output gradient would be awkward, so add it from the forward pass instead.
    out + match &trace {
        polyskill_learn::nets::NetTrace::Burn { aux: Some(aux), .. } => {
            0.01 * aux.clone().into_data().try_to_vec::<f32>().unwrap()[0] as f64
        }
        _ => 0.0,
    }
}

#[test]
fn every_architecture_s_gradients_match_finite_differences() {
    for kind in ArchitectureKind::ALL {
        let arch = architecture(kind);
        let mut net = TrainNet::Burn(BurnNet::init(&arch, TASKS, 11).unwrap());
        let x = inputs(6, 1);
        let g: Vec<f32> = (0..12).map(|i| ((i * 5 % 7) as f32 - 3.0) / 3.0).collect();
        let analytic = net.backward(net.trace(&x).unwrap(), &g).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut checked = 0;
        for _ in 0..40 {
            let list = rng.random_range(0..analytic.len());
            let at = rng.random_range(0..analytic[list].len());
            let original = net.params()[list][at];
            let h = 1e-2f32;
            let mut at_value = |v: f32| {
                net.update(|p| p[list][at] = v).unwrap();
                objective(&net, &x, &g)
            };
            let (up, down) = (at_value(original + h), at_value(original - h));
            at_value(original);
            let numeric = ((up - down) / (2.0 * h as f64)) as f32;
            let ours = analytic[list][at];
            assert!(
                (numeric - ours).abs() <= 2e-3 + 2e-2 * ours.abs(),
                "{kind}: parameter list {list}[{at}]: autodiff {ours}, finite differences {numeric}"
            );
            checked += 1;
        }
        assert_eq!(checked, 40);
    }
}

fn demos() -> Demonstrations {
    let x = inputs(300, 3);
    let mut d = Demonstrations {
        obs_dim: OBS,
        act_dim: 2,
        ..Default::default()
    };
    for (r, row) in x.chunks_exact(OBS + TASKS).enumerate() {
        let obs = &row[..OBS];
        let t = (r % TASKS) as f32 - 1.0;
        d.observations.extend_from_slice(obs);
        d.actions.extend([
            (obs[0] * t).tanh() * 0.8,
            (obs[1] - obs[2] * t).tanh() * 0.5,
        ]);
        d.task_indices.push((r % TASKS) as u32);
    }
    d
}

fn task_ids() -> Vec<String> {
    (0..TASKS).map(|t| format!("t{t}")).collect()
}

/// BC trained with `config(engine)` on the fused path and on burn: each task's largest
/// difference between the two policies' actions on 20 observations.
fn engine_gaps(config: impl Fn(Engine) -> BcConfig) -> Vec<(String, f32)> {
    let fused = bc::train(&demos(), task_ids(), &config(Engine::Fused), 100, |_| {}).unwrap();
    let burn = bc::train(&demos(), task_ids(), &config(Engine::Burn), 100, |_| {}).unwrap();
    let obs = &demos().observations[..OBS * 20];
    task_ids()
        .into_iter()
        .map(|t| {
            let (a, b) = (
                fused.act_in(obs, Some(&t)).unwrap(),
                burn.act_in(obs, Some(&t)).unwrap(),
            );
            let worst = a
                .iter()
                .zip(&b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0f32, f32::max);
            (t, worst)
        })
        .collect()
}

/// The burn MLP, trained by the same algorithm, ends with the fused path's weights.
#[test]
fn the_burn_mlp_trains_as_the_fused_fast_path() {
    let config = |engine| BcConfig {
        hidden: vec![16, 16],
        steps: 50,
        batch: 32,
        conditioning: Conditioning::OneHot,
        engine,
        ..BcConfig::default()
    };
    for (t, worst) in engine_gaps(config) {
        assert!(worst < 1e-4, "task {t}: fused and burn differ by {worst}");
    }
}

#[test]
fn every_architecture_trains_saves_loads_and_acts_the_same() {
    for kind in ArchitectureKind::ALL {
        let config = BcConfig {
            hidden: if kind == ArchitectureKind::SoftModular {
                vec![16, 16, 16]
            } else {
                vec![16, 16]
            },
            steps: 300,
            batch: 64,
            learning_rate: 3e-3,
            conditioning: Conditioning::OneHot,
            architecture: kind,
            ..BcConfig::default()
        };
        let mut losses = Vec::new();
        let policy =
            bc::train(&demos(), task_ids(), &config, 100, |p| losses.push(p.loss)).unwrap();
        assert!(
            losses.last().unwrap() < &(losses[0] * 0.6),
            "{kind} learns: {losses:?}"
        );
        assert_eq!(policy.info.architecture.kind, kind.name());
        let bytes = weights::save(&policy).unwrap();
        let loaded = weights::load(&bytes, &Device::flex()).unwrap();
        assert_eq!(loaded.info, policy.info, "{kind}");
        let obs = &demos().observations[..OBS * 10];
        for t in task_ids() {
            assert_eq!(
                policy.act_in(obs, Some(&t)).unwrap(),
                loaded.act_in(obs, Some(&t)).unwrap(),
                "{kind}, task {t}"
            );
        }
        // The file names the tensors by module path, weights as PyTorch's [out, in].
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        if kind == ArchitectureKind::Film {
            assert_eq!(file.tensor("layers.0.weight").unwrap().shape(), &[16, OBS]);
            assert_eq!(file.tensor("film.0.weight").unwrap().shape(), &[32, TASKS]);
        }
        if kind == ArchitectureKind::Paco {
            assert_eq!(
                file.tensor("layers.0.weight").unwrap().shape(),
                &[4, 16, OBS]
            );
            assert_eq!(file.tensor("compose").unwrap().shape(), &[TASKS, 4]);
        }
    }
}

/// Tasks that want opposite actions from the same observations, a mixture of two experts each
/// row routed to one: after training, the tasks use different experts.
#[test]
fn the_router_sends_separable_tasks_to_different_experts() {
    let mut d = Demonstrations {
        obs_dim: OBS,
        act_dim: 2,
        ..Default::default()
    };
    let x = inputs(400, 4);
    for (r, row) in x.chunks_exact(OBS + TASKS).enumerate() {
        let task = r % 2;
        let sign = if task == 0 { 1.0 } else { -1.0 };
        d.observations.extend_from_slice(&row[..OBS]);
        d.actions
            .extend([sign * 0.7, sign * (row[0] * 2.0).tanh() * 0.5]);
        d.task_indices.push(task as u32);
    }
    let config = BcConfig {
        hidden: vec![16],
        steps: 600,
        batch: 64,
        learning_rate: 5e-3,
        architecture: ArchitectureKind::Moe,
        experts: Some(2),
        top_k: Some(1),
        ..BcConfig::default()
    };
    let policy = bc::train(&d, vec!["a".into(), "b".into()], &config, 1000, |_| {}).unwrap();
    let Network::Moe(moe) = policy.net() else {
        panic!("not a mixture")
    };
    let chosen = |task: usize| expert_of(moe, task);
    assert_ne!(
        chosen(0),
        chosen(1),
        "both tasks routed to expert {}",
        chosen(0)
    );
}

fn expert_of(moe: &Moe, task: usize) -> usize {
    let device = Device::flex();
    let one_hot: Vec<f32> = (0..2).map(|t| (t == task) as u8 as f32).collect();
    let (gates, _) = moe.gates(burn::tensor::Tensor::<2>::from_data(
        burn::tensor::TensorData::new(one_hot, [1, 2]),
        &device,
    ));
    let g = gates.into_data().try_to_vec::<f32>().unwrap();
    (0..g.len()).fold(0, |best, e| if g[e] > g[best] { e } else { best })
}

/// With a combiner, the fused MLP's one pass (the Gram matrix from per-row deltas, one
/// weighted gradient) trains as burn's per-task backward passes do, one-hot and multi-head.
#[test]
fn the_fused_one_pass_combination_equals_per_task_backward_passes() {
    use polyskill_learn::multitask::{CombinerConfig, CombinerKind};
    for (combiner, conditioning) in [
        (CombinerKind::Pcgrad, Conditioning::OneHot),
        (CombinerKind::Cagrad, Conditioning::MultiHead),
        (CombinerKind::NashMtl, Conditioning::OneHot),
        (CombinerKind::Famo, Conditioning::MultiHead),
    ] {
        let config = |engine| BcConfig {
            hidden: vec![16, 16],
            steps: 40,
            batch: 32,
            conditioning,
            combiner: Some(CombinerConfig::of(combiner)),
            engine,
            ..BcConfig::default()
        };
        for (t, worst) in engine_gaps(config) {
            assert!(
                worst < 1e-4,
                "{combiner}, {conditioning:?}, task {t}: one pass and per-task passes differ by {worst}"
            );
        }
    }
}
