//! The task semantics a task author extends: named points, the observation's features, the
//! reward terms and the success and termination predicates.

use super::*;
use polyskill_task::{Feature, Point, Predicate, RewardTerm};

impl Env {
    /// Position of a point the task refers to (a body centre, the goal, or the spot behind a
    /// body).
    pub fn point(&self, point: &Point) -> [f32; 3] {
        match point {
            Point::Goal => self.goal,
            Point::Body(name) => self.body_centre(name),
            Point::Behind {
                body,
                toward,
                distance,
            } => {
                let (p, t) = (self.body_centre(body), self.point(toward));
                let (dx, dy) = (p[0] - t[0], p[1] - t[1]);
                let length = (dx * dx + dy * dy).sqrt();
                if length > 0.0 {
                    [
                        p[0] + distance * dx / length,
                        p[1] + distance * dy / length,
                        p[2],
                    ]
                } else {
                    p
                }
            }
        }
    }

    /// The named body's centre (the origin for a name validation has already refused).
    pub(crate) fn body_centre(&self, name: &str) -> [f32; 3] {
        self.body_index(name)
            .map(|i| self.body_position(i))
            .unwrap_or([0.0; 3])
    }

    pub(super) fn body_index(&self, name: &str) -> Option<usize> {
        self.task.bodies.iter().position(|b| b.name == name)
    }

    pub(super) fn assemble_observation(&self, previous: Option<&[f32]>) -> Vec<f32> {
        let mut obs = Vec::with_capacity(self.task.observation.size);
        for feature in &self.task.observation.features {
            match feature {
                Feature::Position(name) => {
                    let i = self.body_index(name).unwrap_or(0);
                    obs.extend_from_slice(&self.body_position(i));
                }
                Feature::Quaternion(name) => {
                    let i = self.body_index(name).unwrap_or(0);
                    let q = self.world.bodies[self.bodies[i]].rotation();
                    obs.extend_from_slice(&[q.x, q.y, q.z, q.w]);
                }
                Feature::GripperOpening => obs.push(self.gripper_opening()),
                Feature::Goal => obs.extend_from_slice(&self.goal),
                Feature::Zeros(n) => obs.extend(std::iter::repeat_n(0.0, *n)),
                Feature::Previous(n) => match previous {
                    Some(p) => obs.extend_from_slice(&p[..*n]),
                    None => obs.extend_from_within(..*n),
                },
                Feature::JointPosition(name) => {
                    obs.push(self.joint_state(self.joint_index(name)).0)
                }
                Feature::JointVelocity(name) => {
                    obs.push(self.joint_state(self.joint_index(name)).1)
                }
                Feature::JointCos(name) => {
                    obs.push(libm::cosf(self.joint_state(self.joint_index(name)).0))
                }
                Feature::JointSin(name) => {
                    obs.push(libm::sinf(self.joint_state(self.joint_index(name)).0))
                }
                Feature::OneHot { index, size } => {
                    obs.extend((0..*size).map(|k| if k == *index { 1.0 } else { 0.0 }))
                }
            }
        }
        obs
    }

    pub(super) fn distance(&self, a: &Point, b: &Point) -> f32 {
        let (p, q) = (self.point(a), self.point(b));
        let d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
    }

    /// Whether `predicate` holds now; `truncated` says the episode just hit its step limit.
    pub(super) fn holds(&self, predicate: &Predicate, truncated: bool) -> bool {
        match predicate {
            Predicate::Near { a, b, distance } => self.distance(a, b) < *distance,
            Predicate::JointOutside {
                joint,
                min,
                max,
                velocity,
            } => {
                let (q, qd) = self.joint_state(self.joint_index(joint));
                let v = if *velocity { qd } else { q };
                v < *min || v > *max
            }
            Predicate::Survived => truncated,
            Predicate::Grasped(body) => self.grasped(body),
            Predicate::Above { body, z } => self.body_centre(body)[2] > *z,
            Predicate::Any(list) => list.iter().any(|p| self.holds(p, truncated)),
            Predicate::All(list) => list.iter().all(|p| self.holds(p, truncated)),
            Predicate::Not(p) => !self.holds(p, truncated),
        }
    }

    /// Whether a predicate of the task's vocabulary holds now (never `survived`: that needs
    /// the end of an episode).
    pub fn predicate_holds(&self, predicate: &Predicate) -> bool {
        self.holds(predicate, false)
    }

    /// Whether both fingers of the hand touch the named body.
    pub(super) fn grasped(&self, body: &str) -> bool {
        let (Some(fingers), Some(object)) = (self.fingers, self.body_index(body)) else {
            return false;
        };
        fingers.iter().all(|&f| {
            self.colliders[f].iter().any(|&a| {
                self.colliders[object].iter().any(|&b| {
                    self.world
                        .contact_pair(a, b)
                        .is_some_and(|p| p.has_any_active_contact())
                })
            })
        })
    }

    pub(super) fn reward(&self, action: &[f32], success: bool) -> f32 {
        self.task
            .reward
            .iter()
            .map(|term| match term {
                RewardTerm::Near {
                    a,
                    b,
                    within,
                    margin,
                    weight,
                } => weight * long_tail_tolerance(self.distance(a, b), *within, *margin),
                RewardTerm::ActionSquared { weight } => {
                    weight * action.iter().map(|x| x * x).sum::<f32>()
                }
                RewardTerm::SuccessBonus { weight } => {
                    if success {
                        *weight
                    } else {
                        0.0
                    }
                }
                RewardTerm::Alive { weight } => *weight,
                RewardTerm::Grasp { object, weight } => {
                    if self.grasped(object) {
                        *weight
                    } else {
                        0.0
                    }
                }
                RewardTerm::Lift {
                    object,
                    height,
                    weight,
                } => {
                    let i = self.body_index(object).unwrap_or(0);
                    let lift = self.body_position(i)[2] - self.reset_positions[i][2];
                    weight * (lift / height).clamp(0.0, 1.0)
                }
                RewardTerm::Upright { body, weight } => {
                    let i = self.body_index(body).unwrap_or(0);
                    weight * (*self.world.bodies[self.bodies[i]].rotation() * Vector::Z).z
                }
                RewardTerm::JointSquared {
                    joint,
                    target,
                    weight,
                    velocity_weight,
                } => {
                    let (q, qd) = self.joint_state(self.joint_index(joint));
                    weight * (q - target) * (q - target) + velocity_weight * qd * qd
                }
            })
            .sum()
    }
}

/// Meta-World's "long tail" tolerance: 1 for `d ≤ within`, then `1 / (1 + (3x)²)` where
/// `x = (d − within) / margin`, which is 0.1 at one margin beyond.
pub fn long_tail_tolerance(d: f32, within: f32, margin: f32) -> f32 {
    if d <= within {
        1.0
    } else {
        let x = (d - within) / margin * 3.0;
        1.0 / (1.0 + x * x)
    }
}
