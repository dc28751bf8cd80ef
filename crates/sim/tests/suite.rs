//! The shipped task suite (`web/tasks.json`): every task validates, every expert succeeds in
//! at least 95 of 100 seeded episodes, and doing nothing does not succeed (so success means
//! something).

use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy, run_episode};

fn suite() -> Vec<Task> {
    let web = &format!("{}/web", repo_root());
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{web}/tasks.json")).unwrap())
            .unwrap();
    index["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| {
            let name = name.as_str().unwrap();
            let text = std::fs::read_to_string(format!("{web}/tasks/{name}.json")).unwrap();
            Task::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
        })
        .collect()
}

#[test]
fn every_expert_succeeds_in_at_least_95_of_100_seeds() {
    let mut report = Vec::new();
    for task in suite().into_iter().filter(|t| t.expert.is_some()) {
        let mut env = Env::new(task.clone());
        let mut expert = ExpertPolicy::for_env(&env).unwrap();
        let mut successes = 0;
        for seed in 0..100 {
            expert.reset();
            successes += run_episode(&mut env, seed, |env| expert.act(env))
                .unwrap()
                .success as u32;
        }
        report.push((task.id.clone(), successes));
    }
    assert!(report.len() >= 3, "{report:?}");
    assert!(
        report.iter().all(|(_, s)| *s >= 95),
        "expert successes out of 100: {report:?}"
    );
}

#[test]
fn doing_nothing_does_not_succeed() {
    for task in suite() {
        let mut env = Env::new(task.clone());
        let zeros = vec![0.0; env.action_size()];
        let successes: u32 = (0..10)
            .map(|seed| {
                run_episode(&mut env, seed, |_| zeros.clone())
                    .unwrap()
                    .success as u32
            })
            .sum();
        assert_eq!(successes, 0, "{}: a zero policy succeeded", task.id);
    }
}

/// The repository root, read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): a test
/// binary built from another clone sharing the target directory must not read that clone.
fn repo_root() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test") + "/../.."
}
