//! SAC and MT-SAC: learning reach from its reward alone lifts the return well above random
//! actions; a multi-task run gives a one-hot policy with one entropy coefficient per task;
//! a multi-head run gives one head per task; discrete tasks, tasks with other action bounds and
//! bad settings are refused by name.

use polyskill_learn::algos::sac::{self, SacConfig};
use polyskill_learn::eval::evaluate;
use polyskill_learn::multitask::{CombinerConfig, CombinerKind};
use polyskill_learn::nets::ArchitectureKind;
use polyskill_learn::{Conditioning, Device, Policy, weights};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, RandomPolicy};

mod common;

fn task(name: &str) -> Task {
    let path = format!(
        "{}/../../web/tasks/{name}.json",
        std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test")
    );
    Task::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Mean return of uniformly random actions on reach's seeds `first..first + n`.
fn random_return(task: &Task, first: u64, n: u64) -> f32 {
    let mut total = 0.0;
    for seed in first..first + n {
        let mut env = Env::new(task.clone());
        env.reset(seed);
        let mut random = RandomPolicy::new(task, seed);
        loop {
            let step = env.step(&random.act()).unwrap();
            total += step.reward;
            if step.terminated || step.truncated {
                break;
            }
        }
    }
    total / n as f32
}

#[test]
fn sac_learns_reach_from_its_reward() {
    let reach = task("reach");
    let config = SacConfig {
        hidden: vec![64, 64],
        batch: 128,
        learning_starts: 2_000,
        total_steps: 10_000,
        seed: 1,
        ..SacConfig::default()
    };
    let mut history = Vec::new();
    let policy = sac::train(std::slice::from_ref(&reach), &config, |it| {
        history.push(it.clone());
        true
    })
    .unwrap();
    assert_eq!(history.len(), 10);
    assert!(
        history
            .iter()
            .all(|it| it.value_loss.is_finite() && it.alpha.is_some_and(|a| a > 0.0)),
        "{history:?}"
    );
    let random = random_return(&reach, 500, 10);
    let learned = evaluate(&policy, &reach, 500, 10).unwrap();
    eprintln!(
        "SAC on reach after 10k steps: return {:.0} (success {:.0}%) vs random {random:.0}",
        learned.mean_return,
        learned.success_rate * 100.0
    );
    assert!(
        learned.mean_return > random + 1000.0,
        "SAC {learned:?} vs random actions {random}"
    );
    assert_eq!(
        (
            policy.info.architecture.output.as_str(),
            policy.action_size()
        ),
        ("tanh", 4)
    );
}

#[test]
fn mt_sac_gives_a_one_hot_policy_with_an_entropy_coefficient_per_task() {
    let tasks = [task("reach"), task("push")];
    let config = SacConfig {
        hidden: vec![16],
        batch: 32,
        learning_starts: 200,
        total_steps: 600,
        steps_per_iteration: 200,
        ..SacConfig::default()
    };
    let policy: Policy = sac::train(&tasks, &config, |_| true).unwrap();
    assert_eq!(policy.info.conditioning, Conditioning::OneHot);
    assert_eq!(policy.info.tasks, ["reach", "push"]);
    assert_eq!(policy.info.architecture.sizes, [39 + 2, 16, 4]);
    assert_eq!(
        policy.info.training["alpha"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(policy.info.training["algorithm"], "mt-sac");
    let obs = Env::new(tasks[1].clone()).reset(0).to_vec();
    assert_eq!(policy.act_in(&obs, Some("push")).unwrap().len(), 4);
    assert!(policy.act_in(&obs, None).unwrap_err().contains("say which"));
}

/// MT-MH-SAC: a shared trunk with one head per task in the actor and the critics. The policy
/// is multi-head (no one-hot input; the last layer holds every task's means), its tasks' heads
/// act differently on one observation, and it saves and loads to the same actions. More
/// updates per step make that many more gradient updates, and task-aware architectures refuse
/// multi-head conditioning by name.
#[test]
fn multi_head_sac_gives_one_head_per_task_and_updates_per_step_multiplies_updates() {
    let tasks = [task("reach"), task("push")];
    let config = SacConfig {
        hidden: vec![16],
        batch: 32,
        learning_starts: 200,
        total_steps: 600,
        steps_per_iteration: 200,
        conditioning: Conditioning::MultiHead,
        combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
        ..SacConfig::default()
    };
    let policy: Policy = sac::train(&tasks, &config, |_| true).unwrap();
    assert_eq!(policy.info.conditioning, Conditioning::MultiHead);
    assert_eq!(policy.info.architecture.sizes, [39, 16, 2 * 4]);
    assert_eq!(policy.info.training["algorithm"], "mt-mh-sac");
    let obs = Env::new(tasks[1].clone()).reset(0).to_vec();
    let (reach, push) = (
        policy.act_in(&obs, Some("reach")).unwrap(),
        policy.act_in(&obs, Some("push")).unwrap(),
    );
    assert_eq!((reach.len(), push.len()), (4, 4));
    assert_ne!(reach, push, "the two heads act alike");
    let loaded = weights::load(&weights::save(&policy).unwrap(), &Device::flex()).unwrap();
    assert_eq!(loaded.act_in(&obs, Some("push")).unwrap(), push);

    let updates = |updates_per_step: u32| {
        let config = SacConfig {
            updates_per_step,
            conditioning: Conditioning::OneHot,
            combiner: None,
            ..config.clone()
        };
        sac::train(&tasks, &config, |_| true).unwrap().info.training["updates"]
            .as_u64()
            .unwrap()
    };
    // 201 joint steps of two environments from step 200 to 600, each with its updates.
    assert_eq!((updates(1), updates(3)), (201, 603));

    let e = sac::train(
        &tasks,
        &SacConfig {
            architecture: ArchitectureKind::Moe,
            ..config
        },
        |_| true,
    )
    .err()
    .unwrap();
    assert!(e.contains("conditioning") && e.contains("one-hot"), "{e}");
}

#[test]
fn sac_refuses_discrete_tasks_other_bounds_and_bad_settings() {
    let e = sac::train(&[task("cart-pole")], &SacConfig::default(), |_| true)
        .err()
        .unwrap();
    assert!(e.contains("cart-pole") && e.contains("discrete"), "{e}");
    let e = sac::train(&[task("pendulum")], &SacConfig::default(), |_| true)
        .err()
        .unwrap();
    assert!(e.contains("pendulum") && e.contains("[-1, 1]"), "{e}");
    let e = sac::train(
        &[task("reach"), task("cart-pole")],
        &SacConfig::default(),
        |_| true,
    )
    .err()
    .unwrap();
    assert!(e.contains("cart-pole"), "{e}");
    let bad = SacConfig {
        tau: 0.0,
        batch: 0,
        gamma: 1.5,
        n_step: 0,
        target_entropy: Some(f32::NAN),
        ..SacConfig::default()
    };
    let e = sac::train(&[task("reach")], &bad, |_| true).err().unwrap();
    assert!(
        e.contains("tau: must be") && e.contains("batch: must be") && e.contains("gamma: must be"),
        "{e}"
    );
    assert!(
        e.contains("n_step: must be in 1..=100")
            && e.contains("target_entropy: must be a finite number"),
        "{e}"
    );
}

/// α is tuned towards the target entropy asked for: a lower target ends with a less random
/// policy (the entropy of its actions, as reported) than a higher one.
#[test]
fn the_target_entropy_sets_how_random_the_policy_stays() {
    let entropy = |target: f32| {
        let config = SacConfig {
            hidden: vec![32, 32],
            batch: 64,
            learning_starts: 500,
            total_steps: 4_000,
            target_entropy: Some(target),
            seed: 3,
            ..SacConfig::default()
        };
        let mut last = None;
        sac::train(&[task("reach")], &config, |it| {
            last = Some(it.entropy);
            true
        })
        .unwrap();
        last.unwrap()
    };
    let (high, low) = (entropy(2.0), entropy(-12.0));
    assert!(
        high > low + 4.0,
        "entropy {high} aiming at 2, {low} aiming at -12"
    );
}

/// Task-based flat regions under SAC, through the same seam as BC and PPO: a vanishing ρ
/// trains as plain gradients do, a real one differently (critics and actor both moved); a ρ
/// without a combiner is refused by name.
#[test]
fn task_sam_moves_the_critic_and_actor_gradients() {
    let tasks = [task("reach"), task("push")];
    let fit = |task_sam: Option<f32>| {
        let config = SacConfig {
            hidden: vec![16],
            batch: 32,
            learning_starts: 200,
            total_steps: 240,
            steps_per_iteration: 40,
            combiner: Some(CombinerConfig::of(CombinerKind::Pcgrad)),
            task_sam,
            ..SacConfig::default()
        };
        let policy = sac::train(&tasks, &config, |_| true).unwrap();
        let observation = vec![0.1f32; 39];
        [
            policy.act_in(&observation, Some("reach")).unwrap(),
            policy.act_in(&observation, Some("push")).unwrap(),
        ]
        .concat()
    };
    common::assert_task_sam_acts("SAC", 1e-4, fit);
    let error = SacConfig {
        task_sam: Some(0.05),
        ..SacConfig::default()
    }
    .check()
    .unwrap_err();
    assert!(error.contains("task_sam: needs a combiner"), "{error}");
}
