//! Policy gradients on cart-pole: PPO, GRPO and RLOO raise the return to Gymnasium's
//! "solved" level and the greedy policies balance unseen episodes; bad settings and
//! continuous tasks are refused.

use polyskill_learn::algos::grpo::{self, Baseline, GrpoConfig};
use polyskill_learn::algos::ppo::{self, PpoConfig, PpoRun};
use polyskill_learn::eval::{self, BestCheckpoint, evaluate};
use polyskill_learn::{Conditioning, IterativeRun};
use polyskill_sim::task::Task;

fn cart_pole() -> Task {
    Task::from_json(include_str!("../../../web/tasks/cart-pole.json")).unwrap()
}

#[test]
fn ppo_solves_cart_pole() {
    let config = PpoConfig {
        total_steps: 300_000,
        seed: 1,
        ..PpoConfig::default()
    };
    let mut history = Vec::new();
    let policy = ppo::train(&cart_pole(), &config, |it| {
        history.push(it.clone());
        !(it.episodes >= 10 && it.mean_return >= 475.0)
    })
    .unwrap();
    let first = &history[0];
    let last = history.last().unwrap();
    assert!(first.mean_return < 100.0, "starts unsolved: {first:?}");
    assert!(
        last.mean_return >= 475.0,
        "solved within {} steps: {last:?}",
        config.total_steps
    );
    assert!(
        history
            .iter()
            .all(|it| it.entropy.is_finite() && it.value_loss.is_finite())
    );
    let e = evaluate(&policy, &cart_pole(), 10_000, 10).unwrap();
    assert!(
        e.mean_return >= 475.0,
        "greedy policy on unseen seeds: {e:?}"
    );
    assert_eq!(policy.info.architecture.output, "categorical");
}

/// A run validated every 4096 steps keeps its best policy: the kept one re-validates to the
/// best recorded figure, which no other checkpoint beat, and it is not the run's first.
#[test]
fn the_best_validated_checkpoint_is_kept() {
    let task = cart_pole();
    let config = PpoConfig {
        total_steps: 40_960,
        seed: 2,
        ..PpoConfig::default()
    };
    let mut best = BestCheckpoint::new(std::slice::from_ref(&task), 4096, 5).unwrap();
    let (_last, failed) =
        polyskill_learn::run_keeping_last_good(PpoRun::new(&task, &config).unwrap(), |it, run| {
            best.observe(it.env_steps, || run.policy()).unwrap();
            true
        });
    assert!(failed.is_none());
    let history = best.history.clone();
    assert_eq!(
        history.iter().map(|v| v.env_steps).collect::<Vec<_>>(),
        (1..=10).map(|k| k * 4096).collect::<Vec<u64>>()
    );
    let (kept, validation) = best.into_best().unwrap();
    assert!(
        history.iter().all(|v| (v.success_rate, v.mean_return)
            <= (validation.success_rate, validation.mean_return))
    );
    assert!(
        validation.mean_return > history[0].mean_return,
        "learning happened: {history:?}"
    );
    let again = eval::validate(
        &kept,
        std::slice::from_ref(&task),
        eval::VALIDATION_SEEDS,
        5,
        validation.env_steps,
    )
    .unwrap();
    assert_eq!(again, validation);
    assert!(BestCheckpoint::new(std::slice::from_ref(&task), 0, 5).is_err());
}

#[test]
fn bad_settings_name_the_field() {
    let config = PpoConfig {
        clip: 1.5,
        minibatches: 0,
        ..PpoConfig::default()
    };
    let e = ppo::train(&cart_pole(), &config, |_| true).unwrap_err();
    assert!(
        e.contains("minibatches: must be") && e.contains("clip: must be in (0, 1)"),
        "{e}"
    );
}

/// Gaussian PPO with observation and reward normalisation swings the pendulum up: from about
/// −1260 (a fresh policy) to better than −400 within 150k steps (γ 0.95, learning rate 1e-3);
/// the saved policy acts with the mean and carries the running observation statistics.
#[test]
fn gaussian_ppo_learns_the_pendulum_swing_up() {
    let pendulum = Task::from_json(include_str!("../../../web/tasks/pendulum.json")).unwrap();
    let config = PpoConfig {
        gamma: 0.95,
        learning_rate: 1e-3,
        total_steps: 150_000,
        seed: 1,
        ..PpoConfig::continuous()
    };
    let mut history = Vec::new();
    let policy = ppo::train(&pendulum, &config, |it| {
        history.push(it.mean_return);
        true
    })
    .unwrap();
    let (first, best) = (
        history[2],
        history.iter().copied().fold(f32::NEG_INFINITY, f32::max),
    );
    assert!(
        first < -900.0 && best > -400.0,
        "first {first}, best {best}"
    );
    assert_eq!(policy.info.architecture.output, "linear");
    assert_eq!(policy.action_size(), 1);
    assert!(
        policy.info.obs_std.iter().any(|s| (s - 1.0).abs() > 0.05),
        "running statistics are stored: {:?}",
        policy.info.obs_std
    );
    let e = evaluate(&policy, &pendulum, 900, 10).unwrap();
    assert!(e.mean_return > -600.0, "greedy policy {e:?}");
}

/// A regression test of two seeded runs, not a claim about every seed: GRPO seed 1 and RLOO
/// seed 3 reach a 10-episode mean of 475 within 200k steps and their greedy policies balance
/// for long. Across seeds 1–5 (measured 2026-12-06, `polyskill train grpo|rloo --task cart-pole
/// --seed S --env-steps 200000 --target-return 475`) GRPO reached 475 in 3 of 5 runs (29.6k,
/// 103k, 189k steps) and RLOO in 4 of 5 (164k, 97.3k, 61.9k, 57.6k); docs/results.md has the
/// table. The run's figures are printed, so a change that moves them shows in the log.
#[test]
fn grpo_and_rloo_seeded_runs_still_solve_cart_pole() {
    for (baseline, seed) in [(Baseline::Grpo, 1), (Baseline::Rloo, 3)] {
        let config = GrpoConfig {
            baseline,
            seed,
            total_steps: 200_000,
            ..GrpoConfig::default()
        };
        let mut last = None;
        let policy = grpo::train(&cart_pole(), &config, |it| {
            last = Some(it.clone());
            !(it.episodes >= 10 && it.mean_return >= 475.0)
        })
        .unwrap();
        let last = last.unwrap();
        let e = evaluate(&policy, &cart_pole(), 700, 10).unwrap();
        println!(
            "{baseline:?} seed {seed}: last-10 mean return {:.1} after {} env steps; greedy {:.1} on seeds 700..710",
            last.mean_return, last.env_steps, e.mean_return
        );
        assert!(last.mean_return >= 475.0, "{baseline:?}: {last:?}");
        assert_eq!(last.value_loss, 0.0, "no critic");
        assert!(e.mean_return >= 350.0, "{baseline:?}: greedy policy {e:?}");
        assert_eq!(
            policy.info.training["algorithm"],
            if baseline == Baseline::Grpo {
                "grpo"
            } else {
                "rloo"
            }
        );
    }
    let bad = GrpoConfig {
        group_size: 1,
        clip: 2.0,
        ..GrpoConfig::default()
    };
    let e = grpo::train(&cart_pole(), &bad, |_| true).unwrap_err();
    assert!(
        e.contains("group_size: must be in 2..=1024") && e.contains("clip: must be in (0, 1)"),
        "{e}"
    );
    let reach = Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap();
    let e = grpo::train(&reach, &GrpoConfig::default(), |_| true).unwrap_err();
    assert!(e.contains("continuous actions"), "{e}");
}

/// Multi-task PPO: cart-pole and a mirrored cart-pole (its two choices swapped, so the same
/// state needs the opposite push) in one `VecEnv`, one network told the task by a one-hot
/// input. Only the task input can tell them apart; the greedy policy balances both.
#[test]
fn multi_task_ppo_balances_cart_pole_and_its_mirror_image() {
    let text = include_str!("../../../web/tasks/cart-pole.json");
    let mirrored = text
        .replacen("\"id\": \"cart-pole\"", "\"id\": \"cart-pole-mirrored\"", 1)
        .replacen("\"action\": [-1.0]", "\"action\": [2.0]", 1)
        .replacen("\"action\": [1.0]", "\"action\": [-1.0]", 1)
        .replacen("\"action\": [2.0]", "\"action\": [1.0]", 1);
    let tasks = [cart_pole(), Task::from_json(&mirrored).unwrap()];
    let config = PpoConfig {
        total_steps: 400_000,
        seed: 1,
        ..PpoConfig::default()
    };
    let mut run = PpoRun::multi_task(&tasks, &config).unwrap();
    let mut solved_at = None;
    while let Some(it) = run.iterate().unwrap() {
        if it.episodes >= 10 && it.mean_return >= 475.0 {
            solved_at = Some(it.env_steps);
            break;
        }
    }
    eprintln!(
        "multi-task PPO: both cart-poles at a mean return of 475 after {solved_at:?} env steps"
    );
    assert!(
        solved_at.is_some(),
        "not solved within {} steps",
        config.total_steps
    );
    let policy = run.policy();
    assert_eq!(policy.info.conditioning, Conditioning::OneHot);
    assert_eq!(policy.info.tasks, ["cart-pole", "cart-pole-mirrored"]);
    for task in &tasks {
        let e = evaluate(&policy, task, 10_000, 10).unwrap();
        assert!(e.mean_return >= 400.0, "{}: {e:?}", task.id);
    }
    let e = PpoRun::multi_task(
        &[
            cart_pole(),
            Task::from_json(include_str!("../../../web/tasks/pendulum.json")).unwrap(),
        ],
        &config,
    )
    .err()
    .unwrap();
    assert!(e.contains("cart-pole") && e.contains("pendulum"), "{e}");
}
