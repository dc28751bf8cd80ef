//! The hand is stopped by fixed bodies that collide (walls, shelves) and slides along them,
//! as Meta-World's mocap-welded hand is; a wall that does not collide is decoration.

use polyskill_sim::Env;
use polyskill_sim::task::Task;
use serde_json::{Value, json};

const REACH: &str = include_str!("../../../web/tasks/reach.json");
/// The wall's face towards the hand (x, metres) and the hand's half width along x.
const WALL_FACE: f32 = 0.2;
const HAND_HALF_X: f32 = 0.035;

/// Reach with a fixed wall across +x of the hand's start (no random start for the hand).
fn reach_with_wall(collides: bool) -> Env {
    let mut v: Value = serde_json::from_str(REACH).unwrap();
    let bodies = v["bodies"].as_array_mut().unwrap();
    for b in bodies.iter_mut() {
        if b["name"] == "hand" {
            b.as_object_mut().unwrap().remove("random_position");
        }
    }
    bodies.push(json!({
        "name": "wall", "shape": { "box": { "half_extents": [0.05, 0.3, 0.2] } },
        "position": [WALL_FACE + 0.05, 0.6, 0.2], "collides": collides
    }));
    Env::new(Task::from_json(&v.to_string()).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn the_hand_stops_at_a_wall_and_slides_along_it() {
    let mut env = reach_with_wall(true);
    env.reset(0);
    let start = env.hand_position();
    for _ in 0..40 {
        env.step(&[1.0, 0.0, 0.0, 0.0]).unwrap();
    }
    let stopped = env.hand_position();
    let limit = WALL_FACE - HAND_HALF_X;
    assert!(
        stopped[0] <= limit + 1e-4 && stopped[0] > limit - 0.01,
        "pushed 0.4 m into a wall whose face stops the hand at x = {limit}: x = {} (from {})",
        stopped[0],
        start[0]
    );
    // Diagonally into the wall: x stays, y goes on (the motion slides along the face).
    for _ in 0..10 {
        env.step(&[1.0, 1.0, 0.0, 0.0]).unwrap();
    }
    let slid = env.hand_position();
    assert!(slid[0] <= limit + 1e-4, "still at the wall: {slid:?}");
    assert!(
        slid[1] > stopped[1] + 0.08,
        "slid along y by {}: {slid:?}",
        slid[1] - stopped[1]
    );
    // Pushing into the wall winds nothing up: one step back moves the hand off at once.
    env.step(&[-1.0, 0.0, 0.0, 0.0]).unwrap();
    let back = env.hand_position();
    assert!(
        (back[0] - (slid[0] - 0.01)).abs() < 1e-3,
        "one step back from the wall moves 1 cm: {} → {}",
        slid[0],
        back[0]
    );
}

#[test]
fn a_wall_that_does_not_collide_is_decoration() {
    let mut env = reach_with_wall(false);
    env.reset(0);
    let start = env.hand_position();
    for _ in 0..40 {
        env.step(&[1.0, 0.0, 0.0, 0.0]).unwrap();
    }
    let end = env.hand_position();
    assert!(
        (end[0] - (start[0] + 0.4)).abs() < 1e-3,
        "{start:?} → {end:?}"
    );
}
