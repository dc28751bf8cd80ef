//! PPO on cart-pole: the return rises to Gymnasium's "solved" level and the greedy policy
//! it returns balances unseen episodes; bad settings and continuous tasks are refused.

use polyskill_learn::eval::evaluate;
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
