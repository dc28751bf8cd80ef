//! Joint damping, dry friction and springs do what docs/task-format.md says, for light and
//! heavy bodies: a handle on a vertical slide, hung from the world or from a tilted fixed body,
//! falls at the terminal speed m·g/c under damping, sticks under dry friction below its limit
//! (creeping at most at force / 10⁴ m/s) and slides above it, and sags m·g/k on a spring.

use polyskill_sim::Env;
use polyskill_sim::task::Task;
use serde_json::{Value, json};

const G: f32 = 9.81;
const STEP_SECONDS: f32 = 0.0025 * 5.0;

/// A `mass` kg handle on a vertical slide with the joint settings `joint`, hung from the world
/// or (`tilted_parent`) from a fixed body turned 30° about x.
fn slide(mass: f32, joint: Value, tilted_parent: bool) -> Env {
    let mut j = json!({ "name": "slide", "kind": "prismatic", "child": "handle", "anchor": [0, 0, 0.5], "axis": [0, 0, 1] });
    for (k, v) in joint.as_object().unwrap() {
        j[k] = v.clone();
    }
    let mut bodies = vec![
        json!({ "name": "table", "shape": { "box": { "half_extents": [1.0, 1.0, 0.02] } }, "position": [0, 0, -0.02] }),
        json!({ "name": "handle", "shape": { "box": { "half_extents": [0.02, 0.02, 0.02] } }, "motion": "dynamic",
                "mass": mass, "position": [0, 0, 0.5], "collides": false }),
    ];
    if tilted_parent {
        let (s, c) = (15f32.to_radians().sin(), 15f32.to_radians().cos());
        bodies.push(
            json!({ "name": "frame", "shape": { "box": { "half_extents": [0.05, 0.05, 0.05] } },
                            "position": [0, 0, 0.7], "rotation": [s, 0, 0, c], "collides": false }),
        );
        j["parent"] = json!("frame");
    }
    let v = json!({
      "format": 1, "id": "probe", "instruction": "test", "timestep": 0.0025, "frame_skip": 5, "max_steps": 1000,
      "bodies": bodies,
      "joints": [ j ],
      "actuators": [ { "joint": "slide", "mode": "force", "gear": 1.0 } ],
      "observation": { "size": 2, "features": [ { "joint_position": "slide" }, { "joint_velocity": "slide" } ] },
      "reward": [ { "alive": { "weight": 1 } } ],
      "success": "survived"
    });
    Env::new(Task::from_json(&v.to_string()).unwrap_or_else(|e| panic!("{e}")))
}

/// Joint position and velocity after `steps` steps with no action.
fn settle(env: &mut Env, steps: usize) -> (f32, f32) {
    env.reset(0);
    for _ in 0..steps {
        env.step(&[0.0]).unwrap();
    }
    let o = env.observation();
    (o[0], o[1])
}

#[test]
fn damping_gives_the_terminal_speed_m_g_over_c() {
    for tilted in [false, true] {
        for mass in [0.002, 0.05, 2.0] {
            let c = 30.0;
            // 40 steps = 0.5 s, over 7 time constants m/c for the heaviest body.
            let (_, v) = settle(&mut slide(mass, json!({ "damping": c }), tilted), 40);
            let expected = -mass * G / c;
            assert!(
                (v - expected).abs() <= 0.02 * expected.abs(),
                "m {mass} kg, c {c}, tilted parent {tilted}: {v} m/s, m·g/c predicts {expected}"
            );
        }
    }
}

#[test]
fn dry_friction_sticks_below_its_limit_and_slides_above() {
    for tilted in [false, true] {
        let friction = 10.0;
        for mass in [0.005, 0.05, 0.5] {
            let (_, v) = settle(
                &mut slide(mass, json!({ "friction": friction }), tilted),
                40,
            );
            let creep = mass * G / 1.0e4;
            assert!(
                v.abs() <= 1.1 * creep + 1e-6,
                "m {mass} kg (weight {} N < {friction} N), tilted parent {tilted}: creeps at {v} m/s, more than weight / 10⁴",
                mass * G
            );
        }
        // 2 kg weighs 19.6 N > 10 N: it accelerates at g − F/m.
        let (mass, steps) = (2.0, 40);
        let (_, v) = settle(
            &mut slide(mass, json!({ "friction": friction }), tilted),
            steps,
        );
        let expected = -(G - friction / mass) * steps as f32 * STEP_SECONDS;
        assert!(
            (v - expected).abs() <= 0.05 * expected.abs(),
            "2 kg over a 10 N limit, tilted parent {tilted}: {v} m/s after 0.5 s, (g − F/m)·t predicts {expected}"
        );
    }
}

#[test]
fn a_spring_sags_m_g_over_k() {
    for tilted in [false, true] {
        for mass in [0.002, 0.05, 0.5] {
            let k = 20.0;
            // Damping 5 (at least 0.8 of critical for 0.5 kg) and 5 s to settle.
            let joint = json!({ "spring": { "stiffness": k, "rest": 0.0 }, "damping": 5.0 });
            let (q, _) = settle(&mut slide(mass, joint, tilted), 400);
            let expected = -mass * G / k;
            assert!(
                (q - expected).abs() <= 0.03 * expected.abs() + 1e-5,
                "m {mass} kg, k {k}, tilted parent {tilted}: sags {q} m, m·g/k predicts {expected}"
            );
        }
    }
}
