//! The multi-task seam inside the algorithms: behaviour cloning and PPO with a combiner report
//! each task's loss and weight and the gradient conflict between the tasks, and the conflict
//! statistic tells tasks that pull the shared network apart from tasks that agree.

use polyskill_learn::algos::bc::{self, BcConfig, BcProgress, Demonstrations};
use polyskill_learn::algos::ppo::{PpoConfig, PpoRun};
use polyskill_learn::multitask::{CombinerConfig, CombinerKind};
use polyskill_learn::{Conditioning, IterativeRun};
use polyskill_sim::task::Task;

mod common;

/// Two tasks on the same observations: task 1's actions are task 0's (`sign` 1) or their
/// opposite (`sign` −1).
fn paired_demonstrations(sign: f32) -> Demonstrations {
    let (n, d) = (400, 3);
    // Row r of task 1 sees row r of task 0's observation.
    let observations: Vec<f32> = (0..2 * n * d)
        .map(|i| (((i % (n * d)) * 7919 % 1000) as f32 / 500.0) - 1.0)
        .collect();
    let mut actions = Vec::new();
    let mut task_indices = Vec::new();
    for (row, obs) in observations.chunks_exact(d).enumerate() {
        let task = (row >= n) as u32;
        let target = (0.8 * obs[0] - 0.5 * obs[1] + 0.3 * obs[2]).tanh() * 0.9;
        actions.push(if task == 1 { sign * target } else { target });
        task_indices.push(task);
    }
    Demonstrations {
        observations,
        actions,
        task_indices,
        obs_dim: d,
        act_dim: 1,
        choices: 0,
    }
}

fn fit(demos: &Demonstrations, kind: CombinerKind, conditioning: Conditioning) -> Vec<BcProgress> {
    let config = BcConfig {
        hidden: vec![16, 16],
        steps: 60,
        batch: 64,
        conditioning,
        combiner: Some(CombinerConfig::of(kind)),
        ..BcConfig::default()
    };
    let mut records = Vec::new();
    bc::train(demos, vec!["a".into(), "b".into()], &config, 20, |p| {
        records.push(p)
    })
    .unwrap();
    records
}

#[test]
fn bc_reports_each_task_and_the_conflict_between_them() {
    for kind in CombinerKind::ALL {
        let records = fit(&paired_demonstrations(-1.0), kind, Conditioning::OneHot);
        let last = records.last().unwrap();
        assert_eq!(last.tasks.len(), 2, "{kind}");
        for task in &last.tasks {
            assert!(
                task.loss.is_some_and(f32::is_finite) && task.weight.is_some_and(f32::is_finite),
                "{kind}: {task:?}"
            );
        }
        let conflict = last
            .conflict
            .as_ref()
            .unwrap_or_else(|| panic!("{kind}: no conflict measured"));
        assert_eq!(
            conflict.updates, 20,
            "{kind}: updates since the previous record"
        );
        assert_eq!(conflict.cosine.len(), 2);
    }
}

/// Opposite targets from the same inputs give negative cosines; equal targets positive ones.
/// Without a task input (conditioning none) the mirrored tasks conflict outright.
#[test]
fn the_conflict_statistic_tells_mirrored_tasks_from_agreeing_ones() {
    // Over the last 20 of 60 updates, once the network has roughly fitted what it can.
    let first = |sign: f32, conditioning| {
        fit(
            &paired_demonstrations(sign),
            CombinerKind::Mean,
            conditioning,
        )
        .last()
        .unwrap()
        .conflict
        .clone()
        .unwrap()
    };
    let mirrored = first(-1.0, Conditioning::None);
    let agreeing = first(1.0, Conditioning::None);
    assert!(
        mirrored.mean_cosine < -0.5 && mirrored.conflicting > 0.8,
        "{mirrored:?}"
    );
    assert!(
        agreeing.mean_cosine > 0.5 && agreeing.conflicting < 0.2,
        "{agreeing:?}"
    );
    let one_hot = first(-1.0, Conditioning::OneHot);
    assert!(
        one_hot.mean_cosine < 0.0,
        "the shared trunk still conflicts: {one_hot:?}"
    );
}

/// PCGrad on the mirrored pair fits both tasks (a one-hot input tells them apart), where
/// without the input one network cannot fit both.
#[test]
fn pcgrad_fits_mirrored_tasks_told_apart_by_a_one_hot() {
    let demos = paired_demonstrations(-1.0);
    let config = |conditioning| BcConfig {
        hidden: vec![32, 32],
        steps: 1500,
        batch: 128,
        learning_rate: 3e-3,
        conditioning,
        combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
        ..BcConfig::default()
    };
    let final_losses = |conditioning| {
        let mut last = None;
        bc::train(
            &demos,
            vec!["a".into(), "b".into()],
            &config(conditioning),
            500,
            |p| last = Some(p),
        )
        .unwrap();
        last.unwrap()
            .tasks
            .iter()
            .map(|t| t.loss.unwrap())
            .collect::<Vec<f32>>()
    };
    let told = final_losses(Conditioning::OneHot);
    let blind = final_losses(Conditioning::None);
    assert!(told.iter().all(|&l| l < 0.02), "{told:?}");
    // Blind, the best one network can do is the mean of ±target, 0: a loss of E[target²] ≈ 0.09.
    assert!(blind.iter().all(|&l| l > 0.05), "{blind:?}");
}

#[test]
fn multi_task_ppo_with_a_combiner_records_per_task_figures() {
    let config = PpoConfig {
        total_steps: 4 * 2 * 128 * 3,
        combiner: Some(CombinerConfig::of(CombinerKind::Cagrad)),
        ..PpoConfig::default()
    };
    let mut run =
        PpoRun::multi_task(&[common::cart_pole(), common::cart_pole_swapped()], &config).unwrap();
    let mut records = Vec::new();
    while let Some(record) = run.iterate().unwrap() {
        records.push(record);
    }
    assert_eq!(records.len(), 3);
    let last = records.last().unwrap();
    let ids: Vec<&str> = last.tasks.iter().map(|t| t.task.as_str()).collect();
    assert_eq!(ids, ["cart-pole", "cart-pole-swapped"]);
    assert!(
        last.tasks
            .iter()
            .all(|t| t.episodes > 0 && t.loss.is_some() && t.weight.is_some()),
        "{:?}",
        last.tasks
    );
    let conflict = last.conflict.as_ref().unwrap();
    // 4 epochs × 4 minibatches per iteration, each one combined update.
    assert_eq!(conflict.updates, 16);
    // Without a combiner: per-task episodes still, no conflict.
    let plain = PpoConfig {
        combiner: None,
        ..config
    };
    let record = PpoRun::multi_task(&[common::cart_pole(), common::cart_pole_swapped()], &plain)
        .unwrap()
        .iterate()
        .unwrap()
        .unwrap();
    assert_eq!(record.tasks.len(), 2);
    assert!(record.conflict.is_none() && record.tasks[0].loss.is_none());
}

/// Every architecture is an actor for multi-task PPO (on the two cart-poles), and its greedy
/// policy acts in both tasks with the saved architecture.
#[test]
fn every_architecture_trains_under_multi_task_ppo() {
    for kind in polyskill_learn::nets::ArchitectureKind::ALL {
        let config = PpoConfig {
            total_steps: 4 * 2 * 128 * 2,
            hidden: if kind == polyskill_learn::nets::ArchitectureKind::SoftModular {
                vec![16, 16, 16]
            } else {
                vec![16, 16]
            },
            architecture: kind,
            combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
            ..PpoConfig::default()
        };
        let mut run =
            PpoRun::multi_task(&[common::cart_pole(), common::cart_pole_swapped()], &config)
                .unwrap();
        while let Some(record) = run.iterate().unwrap() {
            assert!(record.policy_loss.is_finite(), "{kind}: {record:?}");
        }
        let policy = run.policy();
        assert_eq!(policy.info.architecture.kind, kind.name());
        for task in ["cart-pole", "cart-pole-swapped"] {
            let action = policy.act_in(&[0.0, 0.0, 0.01, 0.0], Some(task)).unwrap();
            assert!(action[0] == 0.0 || action[0] == 1.0, "{kind}: {action:?}");
        }
    }
}

fn task(name: &str) -> Task {
    let path = format!(
        "{}/../../web/tasks/{name}.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    Task::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// MT-SAC with a combiner: critic and actor updates both go through the seam, each with its
/// own conflict statistic; every architecture is a SAC actor whose deterministic policy keeps
/// only the means (4 actions).
#[test]
fn mt_sac_combines_critic_and_actor_updates_and_takes_any_architecture() {
    use polyskill_learn::algos::sac::{SacConfig, SacRun};
    use polyskill_learn::nets::ArchitectureKind;
    let tasks = [task("reach"), task("push")];
    for kind in ArchitectureKind::ALL {
        let config = SacConfig {
            hidden: if kind == ArchitectureKind::SoftModular {
                vec![16, 16, 16]
            } else {
                vec![16, 16]
            },
            total_steps: 600,
            learning_starts: 200,
            batch: 32,
            steps_per_iteration: 300,
            architecture: kind,
            combiner: Some(CombinerConfig::of(CombinerKind::Famo)),
            ..SacConfig::default()
        };
        let mut run = SacRun::new(&tasks, &config).unwrap();
        let mut last = None;
        while let Some(record) = run.iterate().unwrap() {
            last = Some(record);
        }
        let last = last.unwrap();
        let (actor, critic) = (
            last.conflict.as_ref().unwrap(),
            last.critic_conflict.as_ref().unwrap(),
        );
        // 300 joint steps of 2 envs = 150 critic updates, 150 actor updates (policy_frequency 2).
        assert_eq!((critic.updates, actor.updates), (150, 150), "{kind}");
        assert!(
            last.tasks
                .iter()
                .all(|t| t.weight.is_some() && t.loss.is_some() && t.alpha.is_some()),
            "{kind}: {:?}",
            last.tasks
        );
        let policy = run.policy();
        assert_eq!(policy.info.architecture.kind, kind.name());
        assert_eq!(policy.action_size(), 4, "{kind}: means only");
        let obs = vec![0.1f32; 39];
        let action = policy.act_in(&obs, Some("push")).unwrap();
        assert!(
            action.len() == 4 && action.iter().all(|a| a.abs() <= 1.0),
            "{kind}: {action:?}"
        );
    }
}

/// Task-based flat regions: each task's gradient taken ρ along itself. A vanishing ρ trains as
/// plain gradients do; a real one trains differently and still fits; without a combiner (no
/// per-task gradients) it is refused by name.
#[test]
fn task_sam_moves_each_task_gradient_and_needs_a_combiner() {
    let demos = paired_demonstrations(-1.0);
    let fit = |task_sam: Option<f32>| {
        let config = BcConfig {
            hidden: vec![16, 16],
            steps: 200,
            batch: 64,
            learning_rate: 3e-3,
            conditioning: Conditioning::OneHot,
            combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
            task_sam,
            ..BcConfig::default()
        };
        let mut losses = Vec::new();
        let policy = bc::train(&demos, vec!["a".into(), "b".into()], &config, 50, |p| {
            losses.push(p.loss)
        })
        .unwrap();
        (
            policy.act_in(&demos.observations[..30], Some("b")).unwrap(),
            losses,
        )
    };
    common::assert_task_sam_acts("BC", 1e-3, |rho| fit(rho).0);
    let (_, losses) = fit(Some(0.05));
    assert!(losses.last().unwrap() < &(losses[0] * 0.5), "{losses:?}");
    let bad = BcConfig {
        task_sam: Some(0.05),
        combiner: None,
        ..BcConfig::default()
    };
    let error = bad.check().unwrap_err();
    assert!(error.contains("task_sam: needs a combiner"), "{error}");
}

/// Rep-MTL's saliency entropy (the penalty of `saliency_penalty`) of a trained BC policy on
/// the first rows of each task of `demos`.
fn saliency_entropy(policy: &polyskill_learn::Policy, demos: &Demonstrations) -> f32 {
    use polyskill_learn::multitask::rep_mtl::saliency_penalty;
    use polyskill_learn::nets::{Network, fused::FastMlp};
    let Network::Mlp(mlp) = policy.net() else {
        panic!("an mlp policy")
    };
    let net = FastMlp::from_mlp(mlp).unwrap();
    let rows: Vec<usize> = (0..100).chain(400..500).collect();
    let info = &policy.info;
    let mut x = Vec::new();
    for &r in &rows {
        let obs = &demos.observations[r * demos.obs_dim..(r + 1) * demos.obs_dim];
        x.extend(polyskill_learn::normalise(
            obs,
            &info.obs_mean,
            &info.obs_std,
        ));
        x.extend((0..2).map(|t| (t == demos.task_indices[r]) as u8 as f32));
    }
    let trace = net.trace(&x, info.architecture.activation == "tanh", true);
    let tasks: Vec<usize> = rows
        .iter()
        .map(|&r| demos.task_indices[r] as usize)
        .collect();
    let scale = 2.0 / 100.0;
    let gradient: Vec<f32> = trace
        .output()
        .iter()
        .zip(&rows)
        .map(|(a, &r)| scale * (a - demos.actions[r]))
        .collect();
    let curvature = vec![scale; rows.len()];
    saliency_penalty(&net, &trace, &gradient, &curvature, &tasks, 2, true).value
}

/// Rep-MTL's saliency regulation: a vanishing λ trains as the plain pooled loss does; a real
/// one lowers the entropy of the tasks' saliencies on the last hidden layer (what it
/// penalises) and still fits; with a combiner it is refused by name.
#[test]
fn rep_mtl_lowers_the_saliency_entropy_and_still_fits() {
    let demos = paired_demonstrations(-1.0);
    let fit = |rep_mtl: Option<f32>| {
        let config = BcConfig {
            hidden: vec![16, 16],
            steps: 300,
            batch: 64,
            learning_rate: 3e-3,
            conditioning: Conditioning::OneHot,
            rep_mtl,
            ..BcConfig::default()
        };
        let mut losses = Vec::new();
        let policy = bc::train(&demos, vec!["a".into(), "b".into()], &config, 50, |p| {
            losses.push(p.loss)
        })
        .unwrap();
        let actions = policy.act_in(&demos.observations[..30], Some("b")).unwrap();
        (actions, saliency_entropy(&policy, &demos), losses)
    };
    let (plain, plain_entropy, _) = fit(None);
    let (tiny, _, _) = fit(Some(1e-7));
    let (regulated, entropy, losses) = fit(Some(0.01));
    let gap = plain
        .iter()
        .zip(&tiny)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(gap < 1e-3, "λ → 0 is plain training: {gap}");
    eprintln!("saliency entropy: plain {plain_entropy:.3}, Rep-MTL λ = 0.01 {entropy:.3}");
    assert!(
        entropy < plain_entropy,
        "Rep-MTL {entropy} vs plain {plain_entropy}"
    );
    assert_ne!(plain, regulated);
    assert!(losses.last().unwrap() < &(losses[0] * 0.5), "{losses:?}");
    let bad = BcConfig {
        rep_mtl: Some(0.1),
        combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
        ..BcConfig::default()
    };
    let error = bad.check().unwrap_err();
    assert!(error.contains("rep_mtl: regularises"), "{error}");
}

/// Task-based flat regions under PPO, through the same seam: on one rollout of reach and push
/// (identical data for every run), a vanishing ρ updates as plain gradients do and a real one
/// differently (Gaussian head: actor, critic and log-stds moved together); on the two
/// cart-poles (categorical head) it trains with finite losses; without a combiner it is
/// refused by name.
#[test]
fn task_sam_under_multi_task_ppo() {
    let tasks = [task("reach"), task("push")];
    let after_one_update = |task_sam: Option<f32>| {
        let config = PpoConfig {
            total_steps: 4 * 2 * 128,
            rollout_steps: 128,
            minibatches: 4,
            epochs: 2,
            combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
            task_sam,
            ..PpoConfig::continuous()
        };
        let mut run = PpoRun::multi_task(&tasks, &config).unwrap();
        let record = run.iterate().unwrap().unwrap();
        assert!(record.policy_loss.is_finite(), "{record:?}");
        let observation = vec![0.1f32; 39];
        let policy = run.policy();
        [
            policy.act_in(&observation, Some("reach")).unwrap(),
            policy.act_in(&observation, Some("push")).unwrap(),
        ]
        .concat()
    };
    common::assert_task_sam_acts("PPO", 1e-4, after_one_update);

    let categorical = PpoConfig {
        total_steps: 4 * 2 * 128 * 2,
        combiner: Some(CombinerConfig::of(CombinerKind::Cagrad)),
        task_sam: Some(0.05),
        ..PpoConfig::default()
    };
    let mut run = PpoRun::multi_task(
        &[common::cart_pole(), common::cart_pole_swapped()],
        &categorical,
    )
    .unwrap();
    while let Some(record) = run.iterate().unwrap() {
        assert!(
            record.policy_loss.is_finite() && record.value_loss.is_finite(),
            "{record:?}"
        );
    }
    let error = PpoConfig {
        task_sam: Some(0.05),
        ..PpoConfig::default()
    }
    .check()
    .unwrap_err();
    assert!(error.contains("task_sam: needs a combiner"), "{error}");
}
