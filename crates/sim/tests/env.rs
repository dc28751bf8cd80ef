//! Environment behaviour: reset/step contract, seeded reproducibility, the expert's success
//! rate, bad actions, and the cross-platform determinism fixture.

use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy, SimError, reference_trajectory_hash};

fn reach() -> Env {
    Env::new(Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap())
}

#[test]
fn reset_and_step_follow_the_gymnasium_contract() {
    let mut env = reach();
    assert_eq!(env.step(&[0.0; 4]), Err(SimError::NotReset));
    let obs = env.reset(3).to_vec();
    assert_eq!(obs.len(), 39);
    assert_eq!(
        &obs[0..3],
        &[0.0, 0.6, 0.2],
        "hand starts at Meta-World's init position"
    );
    assert_eq!(obs[3], 1.0, "gripper starts open");
    assert_eq!(
        &obs[18..36],
        &obs[0..18],
        "previous frame equals the current one at reset"
    );
    let goal = &obs[36..39];
    assert!(
        (-0.1..=0.1).contains(&goal[0])
            && (0.8..=0.9).contains(&goal[1])
            && (0.05..=0.3).contains(&goal[2])
    );

    let step = env.step(&[1.0, 0.0, 0.0, 0.0]).unwrap();
    assert!(
        (step.observation[0] - 0.01).abs() < 1e-6,
        "full action moves the hand 1 cm"
    );
    assert_eq!(
        &step.observation[18..21],
        &obs[0..3],
        "previous frame is the last observation"
    );
    // Out-of-range actions are clipped, not rejected.
    let step = env.step(&[5.0, 0.0, 0.0, 0.0]).unwrap();
    assert!((step.observation[0] - 0.02).abs() < 1e-6);
    let mut truncated_at = None;
    for i in 3..=500 {
        let s = env.step(&[0.0; 4]).unwrap();
        assert!(!s.terminated);
        if s.truncated {
            truncated_at = Some(i);
            break;
        }
    }
    assert_eq!(
        truncated_at,
        Some(500),
        "episodes are truncated after 500 steps"
    );
}

#[test]
fn bad_actions_are_errors() {
    let mut env = reach();
    env.reset(0);
    assert_eq!(
        env.step(&[0.0; 3]),
        Err(SimError::ActionSize {
            expected: 4,
            got: 3
        })
    );
    assert_eq!(
        env.step(&[0.0, f32::NAN, 0.0, 0.0]),
        Err(SimError::ActionNotFinite { index: 1 })
    );
    assert_eq!(
        env.steps(),
        0,
        "a rejected action does not advance the episode"
    );
}

#[test]
fn seeded_runs_are_reproducible_and_seeds_differ() {
    let mut a = reach();
    let mut b = reach();
    assert_eq!(
        reference_trajectory_hash(&mut a, 11, 150),
        reference_trajectory_hash(&mut b, 11, 150)
    );
    assert_ne!(
        reference_trajectory_hash(&mut a, 11, 150),
        reference_trajectory_hash(&mut a, 12, 150)
    );
}

#[test]
fn reward_rises_as_the_hand_nears_the_goal() {
    let mut env = reach();
    env.reset(5);
    let mut expert = ExpertPolicy::for_env(&env).unwrap();
    let first = env.step(&expert.act(&env)).unwrap().reward;
    let mut last = first;
    for _ in 0..100 {
        last = env.step(&expert.act(&env)).unwrap().reward;
    }
    assert!(first < 5.0 && last > 9.9, "first {first}, last {last}");
}

/// The spot behind the puck (push's shaping point) lies 4 cm past the puck's centre on the
/// far side from the goal, at the puck's height, on every seed's layout.
#[test]
fn the_point_behind_the_puck_faces_away_from_the_goal() {
    use polyskill_sim::task::Point;
    let path = format!("{}/web/tasks/push.json", repo_root());
    let mut env = Env::new(Task::from_json(&std::fs::read_to_string(path).unwrap()).unwrap());
    let behind = Point::Behind {
        body: "puck".into(),
        toward: Box::new(Point::Goal),
        distance: 0.04,
    };
    for seed in 0..5 {
        env.reset(seed);
        let (puck, goal, spot) = (
            env.point(&Point::Body("puck".into())),
            env.goal(),
            env.point(&behind),
        );
        let away = [puck[0] - goal[0], puck[1] - goal[1]];
        let length = (away[0] * away[0] + away[1] * away[1]).sqrt();
        for i in 0..2 {
            assert!(
                (spot[i] - (puck[i] + 0.04 * away[i] / length)).abs() < 1e-6,
                "seed {seed}: {spot:?} {puck:?} {goal:?}"
            );
        }
        assert_eq!(spot[2], puck[2]);
        // The goal lies beyond the puck in +y on every seed, so the spot is on the near side.
        assert!(spot[1] < puck[1] && goal[1] > puck[1]);
        let d = |p: [f32; 3], q: [f32; 3]| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
        assert!((d(spot, goal) - d(puck, goal) - 0.04).abs() < 1e-5);
    }
    // Where the body sits on the `toward` point, the spot is the body's centre.
    let onto_itself = Point::Behind {
        body: "puck".into(),
        toward: Box::new(Point::Body("puck".into())),
        distance: 0.04,
    };
    assert_eq!(
        env.point(&onto_itself),
        env.point(&Point::Body("puck".into()))
    );
}

#[test]
fn trajectories_match_the_cross_platform_fixture() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/determinism.json")).unwrap();
    let episodes = fixture["episodes"].as_array().unwrap();
    let mut mismatches = Vec::new();
    for e in episodes {
        let name = e["task"].as_str().unwrap();
        let path = format!("{}/web/tasks/{name}.json", repo_root());
        let mut env = Env::new(Task::from_json(&std::fs::read_to_string(path).unwrap()).unwrap());
        let (seed, steps) = (
            e["seed"].as_u64().unwrap(),
            e["steps"].as_u64().unwrap() as u32,
        );
        let hash = reference_trajectory_hash(&mut env, seed, steps).unwrap();
        if hash != e["hash"].as_str().unwrap() {
            mismatches.push(format!("{name}: native {hash}, fixture {}", e["hash"]));
        }
    }
    assert!(
        episodes.len() >= 2 && mismatches.is_empty(),
        "{mismatches:#?}"
    );
}

/// The repository root, read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): a test
/// binary built from another clone sharing the target directory must not read that clone.
fn repo_root() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test") + "/../.."
}

/// A task built in code that does not validate (a joint's child names no body) is never
/// simulated with a guessed body: every step is an error naming the problem.
#[test]
fn a_task_that_does_not_validate_is_refused_not_guessed() {
    let mut task =
        polyskill_sim::task::Task::from_json(include_str!("../../../web/tasks/cart-pole.json"))
            .unwrap();
    task.joints[0].child = "no-such-body".into();
    let problems = task.check().unwrap_err().to_string();
    assert!(problems.contains("joints[0].child"), "{problems}");
    let mut env = polyskill_sim::Env::new(task);
    let observation = env.reset(0).to_vec();
    assert!(observation.iter().all(|v| *v == 0.0));
    let e = env.step(&[1.0]).unwrap_err().to_string();
    assert!(
        e.starts_with("the task does not validate: ") && e.contains("joints[0].child"),
        "{e}"
    );
}
