//! Compound bodies: a tray (a box bottom with four wall parts) rests on the table as one
//! rigid body, catches a ball on its bottom, and is drawn part by part.

use polyskill_sim::Env;
use polyskill_sim::task::Task;

const TRAY: &str = r#"{
  "format": 1, "id": "tray", "instruction": "test compound", "timestep": 0.0025, "frame_skip": 5, "max_steps": 100,
  "bodies": [
    { "name": "table", "shape": { "box": { "half_extents": [0.5, 0.5, 0.02] } }, "position": [0, 0, -0.02] },
    { "name": "tray", "shape": { "box": { "half_extents": [0.1, 0.1, 0.005] } }, "motion": "dynamic", "mass": 0.5,
      "position": [0, 0, 0.006],
      "parts": [
        { "shape": { "box": { "half_extents": [0.005, 0.1, 0.03] } }, "offset": [0.095, 0, 0.03] },
        { "shape": { "box": { "half_extents": [0.005, 0.1, 0.03] } }, "offset": [-0.095, 0, 0.03] },
        { "shape": { "box": { "half_extents": [0.1, 0.005, 0.03] } }, "offset": [0, 0.095, 0.03], "color": [1, 0, 0] },
        { "shape": { "box": { "half_extents": [0.1, 0.005, 0.03] } }, "offset": [0, -0.095, 0.03] }
      ] },
    { "name": "ball", "shape": { "sphere": { "radius": 0.02 } }, "motion": "dynamic", "position": [0.03, 0.02, 0.2] }
  ],
  "joints": [ { "name": "slide", "kind": "prismatic", "child": "tray", "anchor": [0, 0, 0.006], "axis": [1, 0, 0] } ],
  "actuators": [ { "joint": "slide", "mode": "force", "gear": 1.0 } ],
  "observation": { "size": 6, "features": [ { "position": "tray" }, { "position": "ball" } ] },
  "reward": [ { "alive": { "weight": 1 } } ],
  "success": "survived"
}"#;

#[test]
fn a_compound_tray_catches_and_carries_a_ball() {
    let mut env = Env::new(Task::from_json(TRAY).unwrap());
    env.reset(0);
    assert_eq!(env.visuals().len(), 3 + 4, "every part is drawn");
    let red_wall = env
        .visuals()
        .into_iter()
        .find(|v| v.color == [1.0, 0.0, 0.0])
        .unwrap();
    assert!(
        (red_wall.position[1] - 0.095).abs() < 1e-3,
        "parts sit at their offsets: {:?}",
        red_wall.position
    );
    let mut obs = Vec::new();
    for _ in 0..60 {
        obs = env.step(&[0.0]).unwrap().observation;
    }
    // The ball rests on the tray's bottom (top face at 0.011), not on the table.
    assert!((obs[5] - 0.031).abs() < 0.004, "ball height {}", obs[5]);
    // Sliding the tray takes the ball along: the walls hold it.
    for _ in 0..40 {
        obs = env.step(&[1.0]).unwrap().observation;
    }
    assert!(obs[0] > 0.1, "tray moved to x = {}", obs[0]);
    assert!(
        (obs[3] - obs[0]).abs() < 0.1 && obs[5] < 0.06,
        "ball stayed in the tray: {obs:?}"
    );
}
