//! Vectorised environments: batched shapes, per-env seeds, automatic reset with finished
//! episodes reported, mixed tasks, the task sampler, and mismatched tasks rejected.

use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy, TaskSamplerKind, VecEnv};

fn task(name: &str) -> Task {
    let path = format!("{}/web/tasks/{name}.json", repo_root());
    Task::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn steps_in_lockstep_and_autoresets_with_fresh_seeds() {
    let cart_pole = task("cart-pole");
    let mut v = VecEnv::new(std::slice::from_ref(&cart_pole), &[3], 10).unwrap();
    assert_eq!(
        (v.num_envs(), v.observation_size(), v.action_size()),
        (3, 4, 1)
    );
    let first = v.observations();
    assert_eq!(first.len(), 12);
    // Environment e starts like a single env reset with seed 10 + e.
    let mut single = Env::new(cart_pole.clone());
    assert_eq!(&first[4..8], single.reset(11));

    // Without control every pole falls: episodes finish, get reported, and restart.
    let mut finished = Vec::new();
    for _ in 0..300 {
        let s = v.step(&[0.0; 3]).unwrap();
        assert_eq!((s.observations.len(), s.rewards.len()), (12, 3));
        for (e, t, r) in &s.finished {
            assert!(s.terminated[*e] || s.truncated[*e]);
            assert_eq!(*t, 0);
            assert_eq!(
                r.episode_return, r.steps as f32,
                "alive reward is 1 per step"
            );
            finished.push(*e);
        }
    }
    assert!(
        finished.len() >= 3 && (0..3).all(|e| finished.contains(&e)),
        "{finished:?}"
    );
    // After its first episode, env 1 runs seed 11 + 3 = 14.
    let restarted = Env::new(cart_pole).reset(14).to_vec();
    let mut v2 = VecEnv::new(&[task("cart-pole")], &[3], 10).unwrap();
    // The finished episode's last observation is reported too: env 1 alone (seed 11) ends there.
    let mut alone = Env::new(task("cart-pole"));
    alone.reset(11);
    loop {
        let s = v2.step(&[0.0; 3]).unwrap();
        let last = alone.step(&[0.0]).unwrap().observation;
        assert_eq!(s.final_observations.len(), s.finished.len());
        if let Some(k) = s.finished.iter().position(|(e, _, _)| *e == 1) {
            assert_eq!(&s.observations[4..8], &restarted[..]);
            assert_eq!(s.final_observations[k], last);
            assert_ne!(last, restarted);
            break;
        }
    }
}

#[test]
fn several_tasks_share_one_batch_and_bad_batches_are_errors() {
    let reach = task("reach");
    let mut v = VecEnv::new(&[reach.clone(), reach], &[2, 1], 0).unwrap();
    assert_eq!(v.task_indices(), &[0, 0, 1]);
    let mut experts: Vec<ExpertPolicy> = v
        .envs()
        .iter()
        .map(|e| ExpertPolicy::for_env(e).unwrap())
        .collect();
    let mut successes = 0;
    for _ in 0..500 {
        let actions: Vec<f32> = experts
            .iter_mut()
            .zip(v.envs())
            .flat_map(|(x, e)| x.act(e))
            .collect();
        let s = v.step(&actions).unwrap();
        successes += s.finished.iter().filter(|(_, _, r)| r.success).count();
    }
    assert_eq!(
        successes, 3,
        "each env finished one successful 500-step episode"
    );
    assert!(v.step(&[0.0; 5]).is_err());
    let e = VecEnv::new(&[task("reach"), task("cart-pole")], &[1, 1], 0)
        .err()
        .unwrap();
    assert!(e.contains("task cart-pole observes 4 values and takes 1 actions; task reach observes 39 and takes 4"), "{e}");
}

/// The fixed sampler keeps every environment on its task; the uniform one moves them between
/// tasks as episodes end, and a moved environment plays its new task from a fresh reset.
#[test]
fn the_task_sampler_chooses_each_next_episode_task() {
    let a = task("cart-pole");
    let mut b = a.clone();
    b.id = "cart-pole-b".into();
    let tasks = [a, b];
    let run = |kind: TaskSamplerKind| {
        let mut v = VecEnv::with_sampler(&tasks, &[2, 0], 3, kind.build(3)).unwrap();
        let mut played = [0u32; 2];
        for _ in 0..400 {
            for (_, task, _) in v.step(&[1.0, 0.0]).unwrap().finished {
                played[task] += 1;
            }
        }
        (
            played,
            v.task_indices().to_vec(),
            v.envs()
                .iter()
                .map(|e| e.task().id.clone())
                .collect::<Vec<_>>(),
        )
    };
    let (fixed, indices, _) = run(TaskSamplerKind::Fixed);
    assert!(
        fixed[0] > 10 && fixed[1] == 0 && indices == [0, 0],
        "{fixed:?} {indices:?}"
    );
    let (uniform, indices, ids) = run(TaskSamplerKind::Uniform);
    assert!(
        uniform[0] > 3 && uniform[1] > 3,
        "both tasks played: {uniform:?}"
    );
    for (index, id) in indices.iter().zip(&ids) {
        assert_eq!(
            id, &tasks[*index].id,
            "each environment runs the task its index names"
        );
    }
}

/// The repository root, read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): a test
/// binary built from another clone sharing the target directory must not read that clone.
fn repo_root() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test") + "/../.."
}
