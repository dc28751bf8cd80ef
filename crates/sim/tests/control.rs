//! Control tasks built from joints and actuators: cart-pole follows Gymnasium's dynamics,
//! falls without control, and is balanced by its data-defined linear expert.

use polyskill_sim::task::Task;
use polyskill_sim::{Env, run_episode};

fn cart_pole() -> Env {
    Env::new(Task::from_json(include_str!("../../../web/tasks/cart-pole.json")).unwrap())
}

/// One 0.02 s step of Gymnasium's CartPole-v1 equations with its "semi-implicit euler"
/// integrator, in two 0.01 s halves like the task's two physics steps.
fn gym_step(mut s: [f32; 4], force: f32) -> [f32; 4] {
    let (g, mc, mp, l, tau) = (9.8f32, 1.0f32, 0.1f32, 0.5f32, 0.01f32);
    for _ in 0..2 {
        let [x, xd, th, thd] = s;
        let total = mc + mp;
        let temp = (force + mp * l * thd * thd * th.sin()) / total;
        let thacc =
            (g * th.sin() - th.cos() * temp) / (l * (4.0 / 3.0 - mp * th.cos() * th.cos() / total));
        let xacc = temp - mp * l * thacc * th.cos() / total;
        let (xd, thd) = (xd + tau * xacc, thd + tau * thacc);
        s = [x + tau * xd, xd, th + tau * thd, thd];
    }
    s
}

#[test]
fn starts_inside_gymnasiums_range() {
    let mut env = cart_pole();
    for seed in 0..20 {
        let obs = env.reset(seed).to_vec();
        assert_eq!(obs.len(), 4);
        assert!(
            obs.iter().all(|v| v.abs() <= 0.0501),
            "seed {seed}: {obs:?}"
        );
    }
    assert_ne!(env.reset(1).to_vec(), env.reset(2).to_vec());
}

#[test]
fn follows_gymnasium_dynamics_closely() {
    let mut env = cart_pole();
    let mut gym: [f32; 4] = env.reset(4).to_vec().try_into().unwrap();
    for step in 0..40 {
        // Choice 1 pushes right (+10 N), choice 0 left.
        let (choice, force) = if (step / 5) % 2 == 0 {
            (1.0, 10.0)
        } else {
            (0.0, -10.0)
        };
        let obs = env.step(&[choice]).unwrap().observation;
        gym = gym_step(gym, force);
        for (i, (a, b)) in obs.iter().zip(gym).enumerate() {
            assert!(
                (a - b).abs() < 0.005 + 0.02 * b.abs(),
                "step {step}, state[{i}]: rapier {a} vs Gymnasium {b}"
            );
        }
    }
}

#[test]
fn pushing_right_moves_the_cart_right_and_tips_the_pole_back() {
    let mut env = cart_pole();
    let start = env.reset(0).to_vec();
    let mut obs = start.clone();
    for _ in 0..5 {
        obs = env.step(&[1.0]).unwrap().observation;
    }
    assert!(obs[1] > start[1] + 0.5, "cart velocity {obs:?}");
    assert!(obs[3] < start[3] - 0.5, "pole angular velocity {obs:?}");
}

#[test]
fn without_control_the_pole_falls_and_the_episode_terminates() {
    let mut env = cart_pole();
    for choice in [0.0, 1.0] {
        let result = run_episode(&mut env, 3, |_| vec![choice]).unwrap();
        assert!(result.steps < 200 && !result.success, "{result:?}");
    }
}

#[test]
fn an_exploding_simulation_ends_the_episode_with_a_flag_and_no_nans() {
    let text = include_str!("../../../web/tasks/cart-pole.json")
        .replace("\"gear\": 10.0", "\"gear\": 1e6");
    let mut env = Env::new(Task::from_json(&text).unwrap());
    env.reset(0);
    let step = env.step(&[1.0]).unwrap(); // push right with a million newtons
    assert!(
        step.diverged && step.terminated && !step.truncated && !step.success,
        "{step:?}"
    );
    assert_eq!(step.reward, 0.0);
    assert!(
        step.observation.iter().all(|v| !v.is_nan()),
        "{:?}",
        step.observation
    );
}

/// One 0.05 s step of Gymnasium's Pendulum-v1 equations (semi-implicit Euler), in two 0.025 s
/// halves like the task's two physics steps; no speed clip.
fn gym_pendulum(mut th: f32, mut thd: f32, u: f32) -> (f32, f32) {
    let (g, m, l, dt) = (10.0f32, 1.0f32, 1.0f32, 0.025f32);
    for _ in 0..2 {
        thd += (3.0 * g / (2.0 * l) * th.sin() + 3.0 / (m * l * l) * u) * dt;
        th += thd * dt;
    }
    (th, thd)
}

#[test]
fn pendulum_follows_gymnasium_dynamics_and_starts_anywhere() {
    let mut env =
        Env::new(Task::from_json(include_str!("../../../web/tasks/pendulum.json")).unwrap());
    let angles: Vec<f32> = (0..40)
        .map(|s| {
            let o = env.reset(s);
            o[1].atan2(o[0])
        })
        .collect();
    assert!(
        angles.iter().any(|a| *a > 2.0) && angles.iter().any(|a| *a < -2.0),
        "{angles:?}"
    );
    let obs = env.reset(3).to_vec();
    let (mut th, mut thd) = (obs[1].atan2(obs[0]), obs[2]);
    for step in 0..20 {
        // Torque in N·m, as in Gymnasium (the action range is [-2, 2]).
        let u = if step < 10 { 2.0 } else { -2.0 };
        let o = env.step(&[u]).unwrap().observation;
        (th, thd) = gym_pendulum(th, thd, u);
        let (a, b) = (o[1].atan2(o[0]), th.sin().atan2(th.cos()));
        assert!(
            (a - b).abs() < 0.01 + 0.02 * b.abs(),
            "step {step}: angle {a} vs Gymnasium {b}"
        );
        assert!(
            (o[2] - thd).abs() < 0.02 + 0.02 * thd.abs(),
            "step {step}: velocity {} vs Gymnasium {thd}",
            o[2]
        );
    }
}

/// A one-joint arm driven by a velocity or a position motor (the reacher's actuator kinds).
fn motor_arm(mode: &str, gear: f32) -> Env {
    let text = format!(
        r#"{{ "format": 1, "id": "arm", "instruction": "test arm", "timestep": 0.01, "frame_skip": 2, "max_steps": 100,
        "gravity": [0, 0, 0],
        "bodies": [ {{ "name": "link", "shape": {{ "box": {{ "half_extents": [0.1, 0.01, 0.01] }} }}, "motion": "dynamic",
                      "position": [0.1, 0, 0], "density": 1000 }} ],
        "joints": [ {{ "name": "shoulder", "kind": "revolute", "child": "link", "anchor": [0, 0, 0], "axis": [0, 0, 1] }} ],
        "actuators": [ {{ "joint": "shoulder", "mode": "{mode}", "gear": {gear} }} ],
        "observation": {{ "size": 2, "features": [ {{ "joint_position": "shoulder" }}, {{ "joint_velocity": "shoulder" }} ] }},
        "reward": [ {{ "alive": {{ "weight": 1 }} }} ],
        "success": "survived" }}"#
    );
    Env::new(Task::from_json(&text).unwrap())
}

#[test]
fn velocity_and_position_actuators_drive_their_joint() {
    let mut arm = motor_arm("velocity", 2.0);
    arm.reset(0);
    let mut obs = vec![];
    for _ in 0..30 {
        obs = arm.step(&[0.5]).unwrap().observation;
    }
    assert!(
        (obs[1] - 1.0).abs() < 0.05,
        "velocity target 1 rad/s, got {}",
        obs[1]
    );

    let mut arm = motor_arm("position", 1.0);
    arm.reset(0);
    for _ in 0..100 {
        obs = arm.step(&[0.6]).unwrap().observation;
    }
    assert!(
        (obs[0] - 0.6).abs() < 0.02 && obs[1].abs() < 0.1,
        "position target 0.6 rad, got {obs:?}"
    );
}

#[test]
fn reacher_is_solvable_by_inverse_kinematics_and_not_by_standing_still() {
    let mut env =
        Env::new(Task::from_json(include_str!("../../../web/tasks/reacher.json")).unwrap());
    let (l1, l2, gear, k) = (0.1f32, 0.11f32, 4.0f32, 8.0f32);
    // Analytic two-link inverse kinematics (elbow up), then proportional joint-velocity control.
    let controller = |env: &Env| -> Vec<f32> {
        let o = env.observation();
        let (q1, q2) = (o[2].atan2(o[0]), o[3].atan2(o[1]));
        let g = env.goal();
        let d2 = g[0] * g[0] + g[1] * g[1];
        let t2 = ((d2 - l1 * l1 - l2 * l2) / (2.0 * l1 * l2))
            .clamp(-1.0, 1.0)
            .acos();
        let t1 = g[1].atan2(g[0]) - (l2 * t2.sin()).atan2(l1 + l2 * t2.cos());
        let wrap = |a: f32| (a.sin()).atan2(a.cos());
        [wrap(t1 - q1), t2 - q2]
            .iter()
            .map(|e| (k * e / gear).clamp(-1.0, 1.0))
            .collect()
    };
    let mut solved = 0;
    for seed in 0..50 {
        solved += run_episode(&mut env, seed, controller).unwrap().success as u32;
    }
    assert!(solved >= 45, "inverse kinematics solved {solved}/50");
    let idle = (0..20)
        .filter(|&seed| {
            run_episode(&mut env, seed, |_| vec![0.0, 0.0])
                .unwrap()
                .success
        })
        .count();
    assert_eq!(idle, 0);
}

/// Gymnasium Acrobot-v1's equations of motion ("book" variant): state [θ1, θ2, θ̇1, θ̇2].
fn acrobot_derivative(s: [f32; 4], torque: f32) -> [f32; 4] {
    let (m1, m2, l1, lc1, lc2, i1, i2, g) = (
        1.0f32, 1.0f32, 1.0f32, 0.5f32, 0.5f32, 1.0f32, 1.0f32, 9.8f32,
    );
    let [t1, t2, d1t, d2t] = s;
    let half_pi = std::f32::consts::FRAC_PI_2;
    let d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * t2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * t2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (t1 + t2 - half_pi).cos();
    let phi1 = -m2 * l1 * lc2 * d2t * d2t * t2.sin() - 2.0 * m2 * l1 * lc2 * d2t * d1t * t2.sin()
        + (m1 * lc1 + m2 * l1) * g * (t1 - half_pi).cos()
        + phi2;
    let dd2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * d1t * d1t * t2.sin() - phi2)
        / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
    let dd1 = -(d2 * dd2 + phi1) / d1;
    [d1t, d2t, dd1, dd2]
}

#[test]
fn acrobot_follows_gymnasium_dynamics() {
    let mut env =
        Env::new(Task::from_json(include_str!("../../../web/tasks/acrobot.json")).unwrap());
    let o = env.reset(5).to_vec();
    let mut s = [o[1].atan2(o[0]), o[3].atan2(o[2]), o[4], o[5]];
    for step in 0..10 {
        // Choices: 0 is torque −1, 1 none, 2 torque +1 (Gymnasium's Discrete(3)).
        let (choice, torque) = if step < 5 { (2.0, 1.0) } else { (0.0, -1.0) };
        let o = env.step(&[choice]).unwrap().observation;
        // Gymnasium integrates 0.2 s with RK4; small Euler steps reach the same solution.
        for _ in 0..2000 {
            let d = acrobot_derivative(s, torque);
            for k in 0..4 {
                s[k] += d[k] * 0.0001;
            }
        }
        let ours = [o[1].atan2(o[0]), o[3].atan2(o[2]), o[4], o[5]];
        for k in 0..4 {
            assert!(
                (ours[k] - s[k]).abs() < 0.03 + 0.05 * s[k].abs(),
                "step {step}, state[{k}]: rapier {ours:?} vs Gymnasium {s:?}"
            );
        }
    }
}
