//! Policy gradients on cart-pole: PPO, GRPO and RLOO raise the return to Gymnasium's
//! "solved" level and the greedy policies balance unseen episodes; bad settings and
//! continuous tasks are refused.

use polyskill_learn::eval::evaluate;
use polyskill_learn::grpo::{self, Baseline, GrpoConfig};
use polyskill_learn::ppo::{self, PpoConfig};
use polyskill_sim::task::Task;

fn cart_pole() -> Task {
    Task::from_json(include_str!("../../../web/tasks/cart-pole.json")).unwrap()
}

#[test]
fn ppo_solves_cart_pole() {
    let config = PpoConfig { total_steps: 300_000, seed: 1, ..PpoConfig::default() };
    let mut history = Vec::new();
    let policy = ppo::train(&cart_pole(), &config, |it| {
        history.push(it.clone());
        !(it.episodes >= 10 && it.mean_return >= 475.0)
    })
    .unwrap();
    let first = &history[0];
    let last = history.last().unwrap();
    assert!(first.mean_return < 100.0, "starts unsolved: {first:?}");
    assert!(last.mean_return >= 475.0, "solved within {} steps: {last:?}", config.total_steps);
    assert!(history.iter().all(|it| it.entropy.is_finite() && it.value_loss.is_finite()));
    let e = evaluate(&policy, &cart_pole(), 10_000, 10).unwrap();
    assert!(e.mean_return >= 475.0, "greedy policy on unseen seeds: {e:?}");
    assert_eq!(policy.info.architecture.output, "categorical");
}

#[test]
fn bad_settings_name_the_field_and_continuous_tasks_are_refused() {
    let config = PpoConfig { clip: 1.5, minibatches: 0, ..PpoConfig::default() };
    let e = ppo::train(&cart_pole(), &config, |_| true).unwrap_err();
    assert!(e.contains("minibatches must be") && e.contains("clip must be in (0, 1)"), "{e}");
    let reach = Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap();
    let e = ppo::train(&reach, &PpoConfig::default(), |_| true).unwrap_err();
    assert!(e.contains("continuous actions"), "{e}");
}

/// Group-relative advantages without a critic: GRPO (seed 1) and RLOO (seed 3) reach a
/// 10-episode mean of 475 within 200k steps, and their greedy policies balance for long.
#[test]
fn grpo_and_rloo_solve_cart_pole() {
    for (baseline, seed) in [(Baseline::Grpo, 1), (Baseline::Rloo, 3)] {
        let config = GrpoConfig { baseline, seed, total_steps: 200_000, ..GrpoConfig::default() };
        let mut last = None;
        let policy = grpo::train(&cart_pole(), &config, |it| {
            last = Some(it.clone());
            !(it.episodes >= 10 && it.mean_return >= 475.0)
        })
        .unwrap();
        let last = last.unwrap();
        assert!(last.mean_return >= 475.0, "{baseline:?}: {last:?}");
        assert_eq!(last.value_loss, 0.0, "no critic");
        let e = evaluate(&policy, &cart_pole(), 700, 10).unwrap();
        assert!(e.mean_return >= 350.0, "{baseline:?}: greedy policy {e:?}");
        assert_eq!(policy.info.training["algorithm"], if baseline == Baseline::Grpo { "grpo" } else { "rloo" });
    }
    let bad = GrpoConfig { group_size: 1, clip: 2.0, ..GrpoConfig::default() };
    let e = grpo::train(&cart_pole(), &bad, |_| true).unwrap_err();
    assert!(e.contains("group_size: must be in 2..=1024") && e.contains("clip: must be in (0, 1)"), "{e}");
    let reach = Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap();
    let e = grpo::train(&reach, &GrpoConfig::default(), |_| true).unwrap_err();
    assert!(e.contains("continuous actions"), "{e}");
}
