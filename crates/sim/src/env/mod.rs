//! The environment: a rapier3d world built from a [`Task`], with Gymnasium-style
//! `reset(seed)` / `step(action)`, observations assembled from the task's feature list,
//! the task's reward terms and success predicate.
//!
//! The files: this one holds the environment's state and its episode loop (`new`, `reset`,
//! `step`, what is drawn); [`world`] builds and moves the rapier world (bodies, colliders,
//! joints and their actuators, the hand swept against fixed bodies, the fingers); [`semantics`]
//! is what a task author extends: named points, observation features, reward terms and
//! predicates.
//!
//! Determinism: everything that feeds the simulation uses only `+ − × ÷` and `sqrt`
//! (correctly rounded everywhere), rapier runs with `enhanced-determinism`, and per-episode
//! randomness comes from a seeded ChaCha8 stream, so a seed gives the same bits natively
//! and in wasm.

use polyskill_task::{JointKind, Motion, Shape, Task};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapier3d::prelude::*;
use std::fmt;

mod semantics;
mod world;

pub use semantics::long_tail_tolerance;
use world::{collider_for, uniform3};

/// Number of action components of a hand: xyz move and gripper effort.
pub const HAND_ACTION_SIZE: usize = 4;

/// A joint as the environment tracks it: rapier handle, bodies, and its zero pose.
struct JointState {
    handle: ImpulseJointHandle,
    kind: JointKind,
    parent: Option<usize>,
    child: usize,
    /// Joint axis in the parent's frame.
    axis_local: Vector,
    /// Anchor in the parent's frame (world frame for the world).
    anchor_parent: Vector,
    /// Anchor in the child's frame.
    anchor_child: Vector,
    /// Child rotation relative to the parent at joint position zero.
    zero_rel: Rotation,
}

/// Gap the hand keeps from fixed geometry it is stopped by (metres).
const HAND_SKIN: f32 = 1.0e-3;

/// Below this length (metres) rapier's character controller does not sweep a move.
const CONTROLLER_MIN_MOVE: f32 = 1.0e-5;

/// Damping factor of the motor that models joint friction: large, so that below the friction
/// force the joint stops (stiction), while the force limit lets it slide above it.
const FRICTION_MOTOR_DAMPING: f32 = 1.0e4;

/// A speed (m/s) above which a body is taken to have exploded.
const DIVERGED_SPEED: f32 = 100.0;

/// An error from the simulator: bad action input or a world that cannot be built.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// The action has the wrong number of components.
    ActionSize {
        /// Components expected.
        expected: usize,
        /// Components given.
        got: usize,
    },
    /// An action component is NaN or infinite.
    ActionNotFinite {
        /// Index of the offending component.
        index: usize,
    },
    /// A discrete task's action is not the index of one of its choices.
    ActionChoice {
        /// The value given.
        got: f32,
        /// How many choices the task has.
        choices: usize,
    },
    /// `step` was called before `reset`.
    NotReset,
    /// The task was built in code and does not validate (e.g. a joint names a body the task
    /// does not have): the environment refuses to step it rather than guess.
    InvalidTask(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::ActionSize { expected, got } => {
                write!(f, "action has {got} components; this task takes {expected}")
            }
            SimError::ActionNotFinite { index } => {
                write!(f, "action[{index}] is not a finite number")
            }
            SimError::ActionChoice { got, choices } => {
                write!(
                    f,
                    "action {got} is not a choice of this discrete task: give an index 0..{choices}"
                )
            }
            SimError::NotReset => write!(f, "step called before reset"),
            SimError::InvalidTask(problems) => write!(f, "the task does not validate: {problems}"),
        }
    }
}

impl std::error::Error for SimError {}

/// What one environment step returns (Gymnasium's tuple, plus success).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    /// The observation after the step.
    pub observation: Vec<f32>,
    /// The step's reward.
    pub reward: f32,
    /// The episode ended by a terminal state (here: the simulation diverged).
    pub terminated: bool,
    /// The episode ended by the step limit.
    pub truncated: bool,
    /// The success predicate holds now.
    pub success: bool,
    /// The simulation produced non-finite or runaway values and was stopped.
    pub diverged: bool,
}

/// What a drawn shape is to the task, for how the renderer shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A body of the scene.
    #[default]
    Body,
    /// The goal marker (`goal.marker`): drawn translucent, casting no shadow.
    Goal,
    /// The hand (`hand.body`): the renderer's visual-only arm follows it.
    Hand,
}

/// One body as the renderer needs it: shape, pose, colour and role.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Visual {
    /// Geometry.
    pub shape: Shape,
    /// Centre position.
    pub position: [f32; 3],
    /// Orientation quaternion `[x, y, z, w]`.
    pub rotation: [f32; 4],
    /// RGB colour.
    pub color: [f32; 3],
    /// Goal marker, hand, or any other body.
    pub role: Role,
}

/// A simulated episode of one task.
pub struct Env {
    task: Task,
    world: PhysicsWorld,
    bodies: Vec<RigidBodyHandle>,
    /// Each body's colliders (empty for a body that does not collide).
    colliders: Vec<Vec<ColliderHandle>>,
    /// Each body's centre at reset (for lift rewards).
    reset_positions: Vec<[f32; 3]>,
    /// Continuous action bounds, per component.
    action_low: Vec<f32>,
    action_high: Vec<f32>,
    /// Body indices of the hand's two fingers, if it has them.
    fingers: Option<[usize; 2]>,
    joints: Vec<JointState>,
    hand: Option<usize>,
    hand_target: Vector,
    goal: [f32; 3],
    gripper: f32,
    steps: u32,
    observation: Vec<f32>,
    episode_success: bool,
    reset_done: bool,
    /// Why the task does not validate, if it does not (see [`SimError::InvalidTask`]).
    invalid: Option<String>,
}

impl Env {
    /// Creates an environment for a task. Call [`Env::reset`] before stepping. A task that
    /// does not validate ([`Task::check`]; only one built in code can, [`Task::from_json`]
    /// validates) is never simulated: its observations are zeros and every step is a
    /// [`SimError::InvalidTask`] naming the problems, so no name is silently taken for another.
    pub fn new(task: Task) -> Env {
        let invalid = task
            .check()
            .err()
            .map(|e| e.to_string().replace('\n', "; "));
        let hand = task
            .hand
            .as_ref()
            .and_then(|h| task.bodies.iter().position(|b| b.name == h.body));
        let finger = |name: &str| {
            let joint = task.joint(name)?;
            task.bodies.iter().position(|b| b.name == joint.child)
        };
        let fingers = task
            .hand
            .as_ref()
            .and_then(|h| h.fingers.as_ref())
            .and_then(|f| Some([finger(&f.joints[0])?, finger(&f.joints[1])?]));
        let (action_low, action_high) = task.continuous_bounds();
        let mut env = Env {
            task,
            world: PhysicsWorld::new(),
            bodies: Vec::new(),
            colliders: Vec::new(),
            reset_positions: Vec::new(),
            action_low,
            action_high,
            fingers,
            joints: Vec::new(),
            hand,
            hand_target: Vector::ZERO,
            goal: [0.0; 3],
            gripper: 1.0,
            steps: 0,
            observation: Vec::new(),
            episode_success: false,
            reset_done: false,
            invalid,
        };
        env.reset(0);
        env.reset_done = false;
        env
    }

    /// The task this environment simulates.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Size of the action vector.
    pub fn action_size(&self) -> usize {
        self.task.action_size()
    }

    /// Bounds `(low, high)` of the continuous action, per component (see
    /// `Task::continuous_bounds`).
    pub fn continuous_bounds(&self) -> (&[f32], &[f32]) {
        (&self.action_low, &self.action_high)
    }

    /// Size of the observation vector.
    pub fn observation_size(&self) -> usize {
        self.task.observation.size
    }

    /// Steps taken in the current episode.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Whether the success predicate has held at any step of this episode.
    pub fn episode_success(&self) -> bool {
        self.episode_success
    }

    /// The current observation.
    pub fn observation(&self) -> &[f32] {
        &self.observation
    }

    /// The current goal position.
    pub fn goal(&self) -> [f32; 3] {
        self.goal
    }

    /// The hand's current position (the origin for a task without a hand).
    pub fn hand_position(&self) -> [f32; 3] {
        self.hand.map(|h| self.body_position(h)).unwrap_or([0.0; 3])
    }

    /// Starts a new episode: rebuilds the world, draws the goal, object positions and joint
    /// start states from `seed`, and returns the first observation.
    pub fn reset(&mut self, seed: u64) -> &[f32] {
        if self.invalid.is_some() {
            self.reset_done = true;
            self.observation = vec![0.0; self.task.observation.size];
            return &self.observation;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        if let Some(range) = self.task.goal.as_ref().and_then(|g| g.range) {
            self.goal = uniform3(&mut rng, range.min.0, range.max.0);
        }
        // Reset positions: drawn, following an earlier body's displacement, or as in the file.
        let mut positions: Vec<[f32; 3]> = Vec::with_capacity(self.task.bodies.len());
        for body in &self.task.bodies {
            let position = match (&body.random_position, &body.follows) {
                (Some(r), _) => uniform3(&mut rng, r.min.0, r.max.0),
                (None, Some(leader)) => {
                    let l = self
                        .task
                        .bodies
                        .iter()
                        .position(|b| &b.name == leader)
                        .unwrap_or(0);
                    let (drawn, file) = (
                        positions.get(l).copied().unwrap_or_default(),
                        self.task.bodies[l].position.0,
                    );
                    std::array::from_fn(|k| body.position.0[k] + (drawn[k] - file[k]))
                }
                (None, None) => body.position.0,
            };
            positions.push(position);
        }
        if let Some(at) = self.task.goal.as_ref().and_then(|g| g.at.as_ref())
            && let Some(i) = self.task.bodies.iter().position(|b| b.name == at.body)
        {
            self.goal = std::array::from_fn(|k| positions[i][k] + at.offset.0[k]);
        }
        let marker = self.task.goal.as_ref().and_then(|g| g.marker.clone());

        let mut world = PhysicsWorld::new();
        world.gravity = Vector::from_array(self.task.gravity.0);
        world.integration_parameters.dt = self.task.timestep;
        world.integration_parameters.num_solver_iterations = self.task.solver_iterations as usize;
        let mut handles = Vec::with_capacity(self.task.bodies.len());
        let mut colliders = Vec::with_capacity(self.task.bodies.len());
        for (body, &drawn) in self.task.bodies.iter().zip(&positions) {
            let mut position = drawn;
            if marker.as_deref() == Some(body.name.as_str()) {
                position = self.goal;
            }
            let builder = match body.motion {
                Motion::Fixed => RigidBodyBuilder::fixed(),
                // Never asleep: a balanced pole or a resting puck must keep responding.
                Motion::Dynamic => RigidBodyBuilder::dynamic().can_sleep(false),
                Motion::Kinematic => RigidBodyBuilder::kinematic_position_based(),
            };
            // Per-shape density: the body's, or its stated mass spread over all shapes.
            let volume: f32 =
                body.shape.volume() + body.parts.iter().map(|p| p.shape.volume()).sum::<f32>();
            let density = match (body.mass, body.inertia) {
                (Some(_), Some(_)) => 0.0, // stated mass properties sit on the body (below)
                (Some(mass), None) => mass / volume,
                _ => body.density,
            };
            let shapes: Vec<ColliderBuilder> = std::iter::once((body.shape, Vector::ZERO))
                .chain(
                    body.parts
                        .iter()
                        .map(|p| (p.shape, Vector::from_array(p.offset.0))),
                )
                .map(|(shape, offset)| {
                    collider_for(shape, offset)
                        .density(density)
                        .friction(body.friction)
                })
                .collect();
            let builder = match (body.mass, body.inertia) {
                (Some(mass), Some(inertia)) => builder.additional_mass_properties(
                    MassProperties::new(Vector::ZERO, mass, Vector::from_array(inertia.0)),
                ),
                // A dynamic body without colliders still has its shapes' mass and inertia.
                _ if !body.collides && body.motion == Motion::Dynamic => builder
                    .additional_mass_properties(
                        shapes.iter().map(|c| c.build().mass_properties()).sum(),
                    ),
                _ => builder,
            };
            let rotation = body
                .rotation
                .map(|q| Rotation::from_array(q.0).normalize())
                .unwrap_or(Rotation::IDENTITY);
            let handle = world.insert_body(
                builder.pose(Pose::from_parts(Vector::from_array(position), rotation)),
            );
            let mut body_colliders = Vec::new();
            if body.collides {
                for collider in shapes {
                    body_colliders.push(world.insert_collider(collider, Some(handle)));
                }
            }
            handles.push(handle);
            colliders.push(body_colliders);
        }
        self.world = world;
        self.bodies = handles;
        self.colliders = colliders;
        self.build_joints(&positions);
        self.apply_joint_starts(&mut rng);
        self.reset_positions = (0..self.bodies.len())
            .map(|i| self.body_position(i))
            .collect();
        self.hand_target = self
            .hand
            .map(|h| self.world.bodies[self.bodies[h]].translation())
            .unwrap_or(Vector::ZERO);
        self.gripper = 1.0;
        self.drive_fingers();
        self.steps = 0;
        self.episode_success = false;
        self.reset_done = true;
        self.observation = self.assemble_observation(None);
        self.episode_success = self.holds(&self.task.success, false);
        &self.observation
    }

    /// Advances one environment step (`frame_skip` physics steps) with `action`, whose
    /// components are clipped to [−1, 1]. NaN or infinite components are an error.
    pub fn step(&mut self, action: &[f32]) -> Result<Step, SimError> {
        if let Some(problems) = &self.invalid {
            return Err(SimError::InvalidTask(problems.clone()));
        }
        if !self.reset_done {
            return Err(SimError::NotReset);
        }
        if action.len() != self.action_size() {
            return Err(SimError::ActionSize {
                expected: self.action_size(),
                got: action.len(),
            });
        }
        if let Some(index) = action.iter().position(|a| !a.is_finite()) {
            return Err(SimError::ActionNotFinite { index });
        }
        let a: Vec<f32> = if self.task.choices.is_empty() {
            action
                .iter()
                .zip(self.action_low.iter().zip(&self.action_high))
                .map(|(v, (&l, &h))| v.clamp(l, h))
                .collect()
        } else {
            let n = self.task.choices.len();
            let index = action[0];
            if index < 0.0 || index.fract() != 0.0 || index as usize >= n {
                return Err(SimError::ActionChoice {
                    got: index,
                    choices: n,
                });
            }
            self.task.choices[index as usize].action.clone()
        };

        let (start, target) = match (&self.task.hand, self.hand) {
            (Some(hand), Some(_)) => {
                let start = self.hand_target;
                let delta = Vector::new(a[0], a[1], a[2]) * hand.max_step;
                let target = (start + delta).clamp(
                    Vector::from_array(hand.bounds.min.0),
                    Vector::from_array(hand.bounds.max.0),
                );
                self.hand_target = target;
                self.gripper = (self.gripper - a[3] * hand.gripper_rate).clamp(0.0, 1.0);
                (start, target)
            }
            _ => (Vector::ZERO, Vector::ZERO),
        };
        self.apply_actuators(&a[4 * usize::from(self.hand.is_some())..]);
        self.drive_fingers();

        let substeps = self.task.frame_skip;
        let mut diverged = false;
        for i in 1..=substeps {
            if let Some(h) = self.hand {
                let t = i as f32 / substeps as f32;
                let next = self.hand_move(h, start + (target - start) * t);
                self.world.bodies[self.bodies[h]].set_next_kinematic_translation(next);
                // The target follows the hand: pushing into a wall does not wind up a
                // displacement that would jump out when the push stops.
                self.hand_target = next;
            }
            self.world.step();
            if self.world_diverged() {
                diverged = true;
                break;
            }
        }
        self.steps += 1;

        let previous = std::mem::take(&mut self.observation);
        self.observation = self.assemble_observation(Some(&previous));
        let terminated = diverged
            || self
                .task
                .terminate
                .as_ref()
                .is_some_and(|t| self.holds(t, false));
        let truncated = !terminated && self.steps >= self.task.max_steps;
        let success = !diverged && self.holds(&self.task.success, truncated);
        self.episode_success |= success;
        let reward = if diverged {
            0.0
        } else {
            self.reward(&a, success)
        };
        Ok(Step {
            observation: self.observation.clone(),
            reward,
            terminated,
            truncated,
            success,
            diverged,
        })
    }

    /// Where bodies touch now: a world-space point (on the first collider's surface) for
    /// each point of rapier's contact manifolds at zero or negative distance, after the
    /// last step (the renderer's contact debug view).
    pub fn contact_points(&self) -> Vec<[f32; 3]> {
        let mut points = Vec::new();
        for pair in self.world.contact_pairs() {
            let Some(first) = self.world.colliders.get(pair.collider1) else {
                continue;
            };
            for manifold in pair.manifolds() {
                for point in manifold.points.iter().filter(|p| p.dist <= 0.0) {
                    points.push(first.position().transform_point(point.local_p1).to_array());
                }
            }
        }
        points
    }

    /// Every body's shapes, poses, colours and roles, for drawing.
    pub fn visuals(&self) -> Vec<Visual> {
        let marker = self.task.goal.as_ref().and_then(|g| g.marker.as_deref());
        let hand = self.task.hand.as_ref().map(|h| h.body.as_str());
        self.task
            .bodies
            .iter()
            .zip(&self.bodies)
            .flat_map(|(body, handle)| {
                let role = if Some(body.name.as_str()) == marker {
                    Role::Goal
                } else if Some(body.name.as_str()) == hand {
                    Role::Hand
                } else {
                    Role::Body
                };
                let rb = &self.world.bodies[*handle];
                let (p, q) = (rb.translation(), *rb.rotation());
                let main = (body.shape, Vector::ZERO, body.color.0);
                let parts = body.parts.iter().map(|part| {
                    (
                        part.shape,
                        Vector::from_array(part.offset.0),
                        part.color.unwrap_or(body.color).0,
                    )
                });
                std::iter::once(main)
                    .chain(parts)
                    .map(move |(shape, offset, color)| Visual {
                        shape,
                        position: (p + q * offset).to_array(),
                        rotation: [q.x, q.y, q.z, q.w],
                        color,
                        role,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// A uniform draw in `[min, max]` from 24 random bits: exact in f32, identical everywhere.
pub(crate) fn uniform(rng: &mut ChaCha8Rng, min: f32, max: f32) -> f32 {
    let u = (rng.random::<u32>() >> 8) as f32 / (1u32 << 24) as f32;
    min + (max - min) * u
}
