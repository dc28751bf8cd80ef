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
    let seed = (0..200).find(|&s| env.reset(s)[38] > 0.22).expect("a seed with a high goal");
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
    assert!(env.episode_success() && highest > 0.15, "puck rose to z = {highest}");
    // Held by friction alone: squeezed but not crushed (the opening stays near the puck's width).
    let opening = env.observation()[3];
    assert!((0.3..0.7).contains(&opening), "opening while holding: {opening}");
}
