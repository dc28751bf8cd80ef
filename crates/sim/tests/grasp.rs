//! The two-finger gripper: fingers open and close on command, and pick-place's expert really
//! lifts the puck (it does not drag it along the table).

use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy};

fn pick_place() -> Env {
    Env::new(Task::from_json(include_str!("../../../web/tasks/pick-place.json")).unwrap())
}

#[test]
fn fingers_follow_the_gripper_command() {
    let mut env = pick_place();
    let obs = env.reset(0).to_vec();
    assert!(obs[3] > 0.95, "fingers start open: {}", obs[3]);
    let mut opening = obs[3];
    for _ in 0..30 {
        opening = env.step(&[0.0, 0.0, 0.0, 1.0]).unwrap().observation[3];
    }
    assert!(opening < 0.05, "closing on nothing closes fully: {opening}");
    for _ in 0..30 {
        opening = env.step(&[0.0, 0.0, 0.0, -1.0]).unwrap().observation[3];
    }
    assert!(opening > 0.95, "and opens again: {opening}");
}

#[test]
fn the_expert_lifts_the_puck_to_a_high_goal() {
    let mut env = pick_place();
    let seed = (0..200)
        .find(|&s| env.reset(s)[38] > 0.22)
        .expect("a seed with a high goal");
    env.reset(seed);
    let mut expert = ExpertPolicy::for_env(&env).unwrap();
    let mut highest: f32 = 0.0;
    for _ in 0..300 {
        let step = env.step(&expert.act(&env)).unwrap();
        highest = highest.max(step.observation[6]);
        if env.episode_success() {
            break;
        }
    }
    assert!(
        env.episode_success() && highest > 0.15,
        "puck rose to z = {highest}"
    );
    // Held by friction alone: squeezed but not crushed (the opening stays near the puck's width).
    let opening = env.observation()[3];
    assert!(
        (0.3..0.7).contains(&opening),
        "opening while holding: {opening}"
    );
}

#[test]
fn grasp_and_lift_terms_pay_only_while_the_puck_is_held_up() {
    // pick-place's reward: reach, grasp (1), lift (2 at 0.1 m), place, success bonus.
    let task = Task::from_json(include_str!("../../../web/tasks/pick-place.json")).unwrap();
    let only = |k: usize| {
        let mut t = task.clone();
        t.reward = vec![t.reward[k].clone()];
        Env::new(t)
    };
    let (mut grasp, mut lift) = (only(1), only(2));
    let seed = (0..200)
        .find(|&s| grasp.reset(s)[38] > 0.2)
        .expect("a seed with a high goal");
    let mut seen = [(f32::MAX, f32::MIN); 2];
    for (i, env) in [&mut grasp, &mut lift].into_iter().enumerate() {
        env.reset(seed);
        let mut expert = ExpertPolicy::for_env(env).unwrap();
        let first = env.step(&[0.0; 4]).unwrap().reward;
        seen[i].0 = first;
        for _ in 0..200 {
            let r = env.step(&expert.act(env)).unwrap().reward;
            seen[i].1 = seen[i].1.max(r);
        }
    }
    assert_eq!(seen[0], (0.0, 1.0), "grasp: 0 at the start, 1 while held");
    assert_eq!(seen[1].0, 0.0, "lift: 0 on the table");
    assert!(seen[1].1 > 0.5, "lift: paid when raised: {}", seen[1].1);
}
