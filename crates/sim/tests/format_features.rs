//! Format features beyond shapes and joints, each checked by what it does in the simulation:
//! body rotations (a tilted ramp), joint friction (stiction and sliding), stated action
//! bounds (clipping), discrete choices, the one-hot task id, and the lift and upright terms.

use polyskill_sim::task::{ActionSpace, Task};
use polyskill_sim::{Env, RandomPolicy, SimError};
use serde_json::{Value, json};

/// A one-body task on a table; `patch` edits it before loading.
fn task(patch: impl FnOnce(&mut Value)) -> Env {
    let mut v = json!({
      "format": 1, "id": "probe", "instruction": "test", "timestep": 0.0025, "frame_skip": 5, "max_steps": 200,
      "bodies": [
        { "name": "table", "shape": { "box": { "half_extents": [1.0, 1.0, 0.02] } }, "position": [0, 0, -0.02] },
        { "name": "ball", "shape": { "sphere": { "radius": 0.03 } }, "motion": "dynamic", "position": [0, 0, 0.03] },
        { "name": "arm", "shape": { "box": { "half_extents": [0.02, 0.02, 0.2] } }, "motion": "dynamic", "mass": 1.0,
          "position": [0.5, 0, 0.4], "collides": false }
      ],
      "joints": [ { "name": "hinge", "kind": "revolute", "child": "arm", "anchor": [0.5, 0, 0.6], "axis": [0, 1, 0] } ],
      "actuators": [ { "joint": "hinge", "mode": "force", "gear": 1.0 } ],
      "observation": { "size": 7, "features": [ { "position": "ball" }, { "quaternion": "arm" } ] },
      "reward": [ { "alive": { "weight": 1 } } ],
      "success": "survived"
    });
    patch(&mut v);
    Env::new(Task::from_json(&v.to_string()).unwrap_or_else(|e| panic!("{e}")))
}

fn run(env: &mut Env, action: &[f32], steps: usize) -> Vec<f32> {
    env.reset(0);
    for _ in 0..steps {
        env.step(action).unwrap();
    }
    env.observation().to_vec()
}

#[test]
fn a_ball_rolls_down_a_rotated_ramp() {
    // The table tilted by 0.2 rad about x (quaternion [sin 0.1, 0, 0, cos 0.1]): +y side up.
    let (s, c) = (0.1f32.sin(), 0.1f32.cos());
    let mut tilted = task(|v| {
        v["bodies"][0]["rotation"] = json!([s, 0.0, 0.0, c]);
        v["bodies"][1]["position"] = json!([0.0, 0.0, 0.05]);
    });
    let end = run(&mut tilted, &[0.0], 60);
    assert!(
        end[1] < -0.1,
        "the ball rolled downhill towards −y: {end:?}"
    );
    let mut flat = task(|_| {});
    let end = run(&mut flat, &[0.0], 60);
    assert!(end[1].abs() < 1e-3, "on the flat table it stays: {end:?}");
}

#[test]
fn a_rotated_body_starts_with_its_rotation() {
    let q = [
        0.0,
        0.0,
        std::f32::consts::FRAC_1_SQRT_2,
        std::f32::consts::FRAC_1_SQRT_2,
    ];
    let mut env = task(|v| v["bodies"][2]["rotation"] = json!(q));
    let obs = env.reset(0).to_vec();
    for k in 0..4 {
        assert!((obs[3 + k] - q[k]).abs() < 1e-6, "{obs:?}");
    }
}

#[test]
fn joint_friction_holds_below_its_limit_and_slips_above() {
    // The arm hangs straight down; a torque smaller than the friction does not turn it.
    let angle = |env: &Env| 2.0 * env.observation()[4].atan2(env.observation()[6]);
    let mut env = task(|v| v["joints"][0]["friction"] = json!(0.5));
    run(&mut env, &[0.4], 40);
    assert!(
        angle(&env).abs() < 0.01,
        "stuck below the friction torque: {}",
        angle(&env)
    );
    let mut env = task(|v| {
        v["joints"][0]["friction"] = json!(0.5);
        v["actuators"][0]["range"] = json!([-3.0, 3.0]);
    });
    run(&mut env, &[3.0], 10);
    assert!(angle(&env).abs() > 0.1, "turns above it: {}", angle(&env));
    let mut free = task(|_| {});
    run(&mut free, &[0.4], 40);
    assert!(
        angle(&free).abs() > 0.05,
        "without friction the small torque turns it: {}",
        angle(&free)
    );
}

#[test]
fn actions_are_clipped_into_the_stated_range() {
    let mut env = task(|v| v["actuators"][0]["range"] = json!([-2.0, 2.0]));
    assert_eq!(
        env.task().action_space(),
        ActionSpace::Continuous {
            low: vec![-2.0],
            high: vec![2.0]
        }
    );
    let clipped = run(&mut env, &[50.0], 20);
    let at_bound = run(&mut env, &[2.0], 20);
    let inside = run(&mut env, &[1.0], 20);
    assert_eq!(clipped, at_bound);
    assert_ne!(at_bound, inside);
}

#[test]
fn a_discrete_task_takes_a_choice_index() {
    let mut env = task(|v| {
        v["choices"] =
            json!([{ "name": "left", "action": [-1.0] }, { "name": "right", "action": [1.0] }])
    });
    assert_eq!(env.action_size(), 1);
    assert_eq!(
        env.task().action_space(),
        ActionSpace::Discrete {
            choices: vec!["left".into(), "right".into()]
        }
    );
    let left = run(&mut env, &[0.0], 20);
    let right = run(&mut env, &[1.0], 20);
    assert!(
        left[4] * right[4] < 0.0,
        "the choices turn the arm opposite ways: {left:?} {right:?}"
    );
    env.reset(0);
    for bad in [2.0, -1.0, 0.5] {
        assert_eq!(
            env.step(&[bad]),
            Err(SimError::ActionChoice {
                got: bad,
                choices: 2
            })
        );
    }
    let mut random = RandomPolicy::new(env.task(), 3);
    let draws: Vec<f32> = (0..50).map(|_| random.act()[0]).collect();
    assert!(
        draws.contains(&0.0)
            && draws.contains(&1.0)
            && draws.iter().all(|d| *d == 0.0 || *d == 1.0),
        "{draws:?}"
    );
}

#[test]
fn random_actions_stay_in_the_bounds_and_replay_from_a_seed() {
    let env = task(|v| v["actuators"][0]["range"] = json!([-2.0, 0.5]));
    let draws: Vec<f32> = {
        let mut r = RandomPolicy::new(env.task(), 7);
        (0..200).map(|_| r.act()[0]).collect()
    };
    assert!(draws.iter().all(|a| (-2.0..=0.5).contains(a)));
    assert!(draws.iter().any(|a| *a < -1.5) && draws.iter().any(|a| *a > 0.0));
    let mut again = RandomPolicy::new(env.task(), 7);
    assert_eq!(draws, (0..200).map(|_| again.act()[0]).collect::<Vec<_>>());
}

#[test]
fn a_one_hot_task_id_is_observed() {
    let mut env = task(
        |v| v["observation"] = json!({ "size": 10, "features": [ { "position": "ball" }, { "one_hot": { "index": 2, "size": 7 } } ] }),
    );
    let obs = env.reset(0).to_vec();
    assert_eq!(&obs[3..], &[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn lift_and_upright_rewards_measure_height_and_tilt() {
    // The ball dropped from 0.2 m falls: its lift term starts full and goes to 0.
    let mut env = task(|v| {
        v["bodies"][1]["position"] = json!([0.0, 0.0, 0.2]);
        v["reward"] = json!([{ "lift": { "object": "ball", "height": 0.1, "weight": 1.0 } }]);
    });
    env.reset(0);
    let first = env.step(&[0.0]).unwrap().reward;
    assert_eq!(first, 0.0, "not above its reset height");
    // The arm hangs with its z axis up: upright is 1; turned half a revolution, −1.
    let mut env = task(|v| v["reward"] = json!([{ "upright": { "body": "arm", "weight": 2.0 } }]));
    env.reset(0);
    let r = env.step(&[0.0]).unwrap().reward;
    assert!((r - 2.0).abs() < 1e-3, "{r}");
    let mut env = task(|v| {
        v["reward"] = json!([{ "upright": { "body": "arm", "weight": 2.0 } }]);
        v["joints"][0]["start_position"] = json!([std::f64::consts::PI, std::f64::consts::PI]);
    });
    env.reset(0);
    let r = env.step(&[0.0]).unwrap().reward;
    assert!((r + 2.0).abs() < 1e-3, "{r}");
}

/// Angle in radians between two unit quaternions (sign-insensitive).
fn angle_between(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    2.0 * dot.abs().min(1.0).acos()
}

#[test]
fn a_rotated_jointed_child_keeps_its_rotation_on_every_joint_kind() {
    // The arm turned 45° about z, hanging from the world or from a post tilted 30° about x;
    // each joint's free motion (a hinge about y through the arm's top, a slide along x) is one
    // that gravity does not drive, so after 100 steps the arm must still be turned as the file
    // says. (Jointed children used to snap to their parent's orientation at the first step.)
    let turned = [
        0.0,
        0.0,
        (std::f32::consts::PI / 8.0).sin(),
        (std::f32::consts::PI / 8.0).cos(),
    ];
    for kind in ["fixed", "revolute", "prismatic"] {
        for parent in [None, Some("post")] {
            let mut env = task(|v| {
                v["bodies"][2]["rotation"] = json!(turned);
                v["joints"][0]["kind"] = json!(kind);
                if kind == "prismatic" {
                    v["joints"][0]["axis"] = json!([1, 0, 0]);
                }
                if kind == "fixed" {
                    // A fixed joint takes no actuator: drive a hinge on the ball instead.
                    v["joints"].as_array_mut().unwrap().push(json!({
                        "name": "spin", "kind": "revolute", "child": "ball", "anchor": [0, 0, 0.03], "axis": [0, 0, 1]
                    }));
                    v["actuators"][0]["joint"] = json!("spin");
                }
                if let Some(name) = parent {
                    let (s, c) = (
                        (std::f32::consts::PI / 12.0).sin(),
                        (std::f32::consts::PI / 12.0).cos(),
                    );
                    v["bodies"].as_array_mut().unwrap().push(json!({
                        "name": name, "shape": { "box": { "half_extents": [0.02, 0.02, 0.02] } },
                        "position": [0.5, 0, 0.62], "rotation": [s, 0, 0, c], "collides": false
                    }));
                    v["joints"][0]["parent"] = json!(name);
                }
            });
            let action = vec![0.0; env.task().action_size()];
            let start = env.reset(0)[3..7].to_vec();
            assert!(
                angle_between(&start, &turned) < 1e-5,
                "{kind}/{parent:?} reset: {start:?}"
            );
            let end = run(&mut env, &action, 100);
            let angle = angle_between(&end[3..7], &turned);
            assert!(
                angle < 1e-3,
                "{kind} joint to {parent:?}: the arm turned {angle} rad away from its file rotation ({:?})",
                &end[3..7]
            );
        }
    }
}
