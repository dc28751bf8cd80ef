//! A Sawyer-like arm drawn to the hand, **visual only**: Polyskill's simulated end-effector is
//! Meta-World's mocap-style kinematic hand, with no arm in the physics. The arm is a pedestal,
//! a shoulder yawing towards the hand, an upper arm and a forearm solved by two-link inverse
//! kinematics in the vertical plane (law of cosines, elbow up), and a vertical wrist link down
//! to the top of the hand; joints are spheres. [`ArmPose::reach`] solves it; [`ArmPose::visuals`]
//! gives the shapes the renderer draws.

use glam::{Quat, Vec3};
use polyskill_sim::task::Shape;
use polyskill_sim::{Role, Visual};

/// Where the arm stands: on the floor beyond the table's far edge, facing the default camera
/// (so it does not hide the table), shoulder height above the table top.
pub const SHOULDER: Vec3 = Vec3::new(0.0, 1.27, 0.3);
/// Upper arm and forearm lengths (m): together they reach every point of the manipulation
/// tasks' hand bounds (at most ~1.0 m from the shoulder).
pub const LINKS: [f32; 2] = [0.56, 0.56];
/// Length of the vertical wrist link above the top of the hand (m).
pub const WRIST: f32 = 0.1;

const ARM_COLOR: [f32; 3] = [0.62, 0.1, 0.1];
const JOINT_COLOR: [f32; 3] = [0.16, 0.16, 0.18];

/// The arm's joint positions for one hand pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArmPose {
    /// Shoulder joint.
    pub shoulder: Vec3,
    /// Elbow joint.
    pub elbow: Vec3,
    /// Wrist joint (the forearm's end), `WRIST` above the hand's top.
    pub wrist: Vec3,
    /// The point the wrist link ends at: the top of the hand.
    pub hand_top: Vec3,
}

impl ArmPose {
    /// The pose whose wrist link ends at `hand_top`. Targets out of reach leave the arm
    /// straight towards them (never the case within the tasks' hand bounds).
    pub fn reach(hand_top: Vec3) -> ArmPose {
        let wrist_target = hand_top + Vec3::Z * WRIST;
        let to = wrist_target - SHOULDER;
        let [a, b] = LINKS;
        let d = to.length().clamp((a - b).abs() + 1e-4, a + b - 1e-6);
        let u = to.normalize_or(Vec3::Y);
        // The bend direction: in the vertical plane through shoulder and wrist, upwards.
        let up = (Vec3::Z - u * Vec3::Z.dot(u)).normalize_or(Vec3::Y);
        let along = (a * a - b * b + d * d) / (2.0 * d);
        let height = (a * a - along * along).max(0.0).sqrt();
        let elbow = SHOULDER + u * along + up * height;
        let wrist = elbow + (SHOULDER + u * d - elbow).normalize_or(u) * b;
        ArmPose {
            shoulder: SHOULDER,
            elbow,
            wrist,
            hand_top,
        }
    }

    /// The arm's shapes: pedestal down to `floor_z`, links as cylinders, joints as spheres.
    pub fn visuals(&self, floor_z: f32) -> Vec<Visual> {
        let base = Vec3::new(SHOULDER.x, SHOULDER.y, floor_z);
        let mut out = vec![
            link(base, self.shoulder - Vec3::Z * 0.05, 0.07, JOINT_COLOR),
            link(self.shoulder, self.elbow, 0.04, ARM_COLOR),
            link(self.elbow, self.wrist, 0.033, ARM_COLOR),
            link(self.wrist, self.hand_top, 0.022, JOINT_COLOR),
        ];
        for (p, r) in [
            (self.shoulder, 0.058),
            (self.elbow, 0.046),
            (self.wrist, 0.036),
        ] {
            out.push(Visual {
                shape: Shape::Sphere { radius: r },
                position: p.to_array(),
                rotation: [0.0, 0.0, 0.0, 1.0],
                color: JOINT_COLOR,
                role: Role::Body,
            });
        }
        out
    }
}

/// A cylinder from `a` to `b`.
fn link(a: Vec3, b: Vec3, radius: f32, color: [f32; 3]) -> Visual {
    let axis = b - a;
    let rotation = Quat::from_rotation_arc(Vec3::Z, axis.normalize_or(Vec3::Z));
    Visual {
        shape: Shape::Cylinder {
            half_height: axis.length() / 2.0,
            radius,
        },
        position: ((a + b) / 2.0).to_array(),
        rotation: rotation.to_array(),
        color,
        role: Role::Body,
    }
}

/// The top of the hand's shape (its centre plus its half-height along z), from the hand's
/// visual.
pub fn hand_top(hand: &Visual) -> Vec3 {
    let up = match hand.shape {
        Shape::Box { half_extents } => half_extents.0[2],
        Shape::Sphere { radius } => radius,
        Shape::Cylinder { half_height, .. } | Shape::Capsule { half_height, .. } => half_height,
    };
    Vec3::from(hand.position) + Vec3::Z * up
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over a whole expert episode of push, the forearm ends where the wrist link starts and
    /// the wrist link ends at the top of the hand, to 1 mm; both links keep their lengths.
    #[test]
    fn the_arm_reaches_the_hand_over_an_episode() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../web/tasks/push.json"
        ))
        .unwrap();
        let task = polyskill_sim::task::Task::from_json(&text).unwrap();
        let mut env = polyskill_sim::Env::new(task.clone());
        env.reset(3);
        let mut expert = polyskill_sim::ExpertPolicy::for_env(&env).unwrap();
        let mut worst: f32 = 0.0;
        for _ in 0..task.max_steps {
            let visuals = env.visuals();
            let hand = visuals.iter().find(|v| v.role == Role::Hand).unwrap();
            let top = hand_top(hand);
            let pose = ArmPose::reach(top);
            worst = worst.max((pose.wrist - (top + Vec3::Z * WRIST)).length());
            assert!(((pose.elbow - pose.shoulder).length() - LINKS[0]).abs() < 1e-4);
            assert!(((pose.wrist - pose.elbow).length() - LINKS[1]).abs() < 1e-4);
            assert!(pose.elbow.z > pose.shoulder.z.min(pose.wrist.z), "elbow up");
            let action = expert.act(&env);
            if env.step(&action).unwrap().truncated {
                break;
            }
        }
        assert!(worst < 1e-3, "the wrist missed the hand by {worst} m");
    }

    /// A target beyond reach leaves the arm straight towards it, not broken.
    #[test]
    fn a_target_out_of_reach_straightens_the_arm() {
        let pose = ArmPose::reach(Vec3::new(0.0, 3.0, 0.2));
        let straight = (pose.wrist - pose.shoulder).length();
        assert!((straight - LINKS[0] - LINKS[1]).abs() < 1e-3, "{straight}");
    }
}
