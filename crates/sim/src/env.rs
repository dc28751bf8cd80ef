//! The environment: a rapier3d world built from a [`Task`], with Gymnasium-style
//! `reset(seed)` / `step(action)`, observations assembled from the task's feature list,
//! the task's reward terms and success predicate.
//!
//! Determinism: everything that feeds the simulation uses only `+ − × ÷` and `sqrt`
//! (correctly rounded everywhere), rapier runs with `enhanced-determinism`, and per-episode
//! randomness comes from a seeded ChaCha8 stream, so a seed gives the same bits natively
//! and in wasm.

use polyskill_task::{Feature, Motion, Point, Predicate, RewardTerm, Shape, Task};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapier3d::prelude::*;
use std::fmt;

/// Number of action components of a hand task: xyz move and gripper effort.
pub const HAND_ACTION_SIZE: usize = 4;

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
    /// `step` was called before `reset`.
    NotReset,
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
            SimError::NotReset => write!(f, "step called before reset"),
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

/// One body as the renderer needs it: shape, pose and colour.
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
}

/// A simulated episode of one task.
pub struct Env {
    task: Task,
    world: PhysicsWorld,
    bodies: Vec<RigidBodyHandle>,
    hand: usize,
    hand_target: Vector,
    goal: [f32; 3],
    gripper: f32,
    steps: u32,
    observation: Vec<f32>,
    episode_success: bool,
    reset_done: bool,
}

impl Env {
    /// Creates an environment for a validated task. Call [`Env::reset`] before stepping.
    pub fn new(task: Task) -> Env {
        let hand = task.bodies.iter().position(|b| b.name == task.hand.body).unwrap_or(0);
        let mut env = Env {
            task,
            world: PhysicsWorld::new(),
            bodies: Vec::new(),
            hand,
            hand_target: Vector::ZERO,
            goal: [0.0; 3],
            gripper: 1.0,
            steps: 0,
            observation: Vec::new(),
            episode_success: false,
            reset_done: false,
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
        HAND_ACTION_SIZE
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

    /// The hand's current position.
    pub fn hand_position(&self) -> [f32; 3] {
        self.body_position(self.hand)
    }

    /// Position of a point the task refers to (a body centre or the goal).
    pub fn point(&self, point: &Point) -> [f32; 3] {
        match point {
            Point::Goal => self.goal,
            Point::Body(name) => match self.body_index(name) {
                Some(i) => self.body_position(i),
                None => [0.0; 3],
            },
        }
    }

    fn body_index(&self, name: &str) -> Option<usize> {
        self.task.bodies.iter().position(|b| b.name == name)
    }

    fn body_position(&self, index: usize) -> [f32; 3] {
        self.world.bodies[self.bodies[index]].translation().to_array()
    }

    /// Starts a new episode: rebuilds the world, draws the goal and object positions from
    /// `seed`, and returns the first observation.
    pub fn reset(&mut self, seed: u64) -> &[f32] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let range = self.task.goal.range;
        self.goal = uniform3(&mut rng, range.min.0, range.max.0);

        let mut world = PhysicsWorld::new();
        world.gravity = Vector::from_array(self.task.gravity.0);
        world.integration_parameters.dt = self.task.timestep;
        let mut handles = Vec::with_capacity(self.task.bodies.len());
        for body in &self.task.bodies {
            let mut position = match &body.random_position {
                Some(r) => uniform3(&mut rng, r.min.0, r.max.0),
                None => body.position.0,
            };
            if self.task.goal.marker.as_deref() == Some(body.name.as_str()) {
                position = self.goal;
            }
            let builder = match body.motion {
                Motion::Fixed => RigidBodyBuilder::fixed(),
                Motion::Dynamic => RigidBodyBuilder::dynamic(),
                Motion::Kinematic => RigidBodyBuilder::kinematic_position_based(),
            };
            let handle = world.insert_body(builder.translation(Vector::from_array(position)));
            if body.collides {
                let collider = match body.shape {
                    Shape::Box { half_extents: h } => ColliderBuilder::cuboid(h.0[0], h.0[1], h.0[2]),
                    Shape::Sphere { radius } => ColliderBuilder::ball(radius),
                    // rapier's cylinders stand along y; ours along z: a quarter turn about x,
                    // written as an exact quaternion (no sin/cos, for cross-platform bits).
                    Shape::Cylinder { half_height, radius } => ColliderBuilder::cylinder(half_height, radius)
                        .position(Pose::from_rotation(Rotation::from_xyzw(
                            core::f32::consts::FRAC_1_SQRT_2,
                            0.0,
                            0.0,
                            core::f32::consts::FRAC_1_SQRT_2,
                        ))),
                };
                world.insert_collider(collider.density(body.density).friction(body.friction), Some(handle));
            }
            handles.push(handle);
        }
        self.world = world;
        self.bodies = handles;
        self.hand_target = self.world.bodies[self.bodies[self.hand]].translation();
        self.gripper = 1.0;
        self.steps = 0;
        self.episode_success = false;
        self.reset_done = true;
        self.observation = self.assemble_observation(None);
        self.episode_success = self.success_holds();
        &self.observation
    }

    /// Advances one environment step (`frame_skip` physics steps) with `action`, whose
    /// components are clipped to [−1, 1]. NaN or infinite components are an error.
    pub fn step(&mut self, action: &[f32]) -> Result<Step, SimError> {
        if !self.reset_done {
            return Err(SimError::NotReset);
        }
        if action.len() != self.action_size() {
            return Err(SimError::ActionSize { expected: self.action_size(), got: action.len() });
        }
        if let Some(index) = action.iter().position(|a| !a.is_finite()) {
            return Err(SimError::ActionNotFinite { index });
        }
        let a: Vec<f32> = action.iter().map(|v| v.clamp(-1.0, 1.0)).collect();

        let hand = &self.task.hand;
        let start = self.hand_target;
        let delta = Vector::new(a[0], a[1], a[2]) * hand.max_step;
        let target = (start + delta).clamp(Vector::from_array(hand.bounds.min.0), Vector::from_array(hand.bounds.max.0));
        self.hand_target = target;
        self.gripper = (self.gripper - a[3] * hand.gripper_rate).clamp(0.0, 1.0);

        let substeps = self.task.frame_skip;
        let hand_handle = self.bodies[self.hand];
        let mut diverged = false;
        for i in 1..=substeps {
            let t = i as f32 / substeps as f32;
            self.world.bodies[hand_handle].set_next_kinematic_translation(start + (target - start) * t);
            self.world.step();
            if self.world_diverged() {
                diverged = true;
                break;
            }
        }
        self.steps += 1;

        let previous = std::mem::take(&mut self.observation);
        self.observation = self.assemble_observation(Some(&previous));
        let success = !diverged && self.success_holds();
        self.episode_success |= success;
        let reward = if diverged { 0.0 } else { self.reward(&a, success) };
        Ok(Step {
            observation: self.observation.clone(),
            reward,
            terminated: diverged,
            truncated: !diverged && self.steps >= self.task.max_steps,
            success,
            diverged,
        })
    }

    fn world_diverged(&self) -> bool {
        self.world.bodies.iter().any(|(_, b)| {
            let v = b.linvel();
            let p = b.translation();
            !p.is_finite() || !v.is_finite() || v.length() > DIVERGED_SPEED
        })
    }

    fn assemble_observation(&self, previous: Option<&[f32]>) -> Vec<f32> {
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
                Feature::GripperOpening => obs.push(self.gripper),
                Feature::Goal => obs.extend_from_slice(&self.goal),
                Feature::Zeros(n) => obs.extend(std::iter::repeat_n(0.0, *n)),
                Feature::Previous(n) => match previous {
                    Some(p) => obs.extend_from_slice(&p[..*n]),
                    None => obs.extend_from_within(..*n),
                },
            }
        }
        obs
    }

    fn distance(&self, a: &Point, b: &Point) -> f32 {
        let (p, q) = (self.point(a), self.point(b));
        let d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
    }

    fn success_holds(&self) -> bool {
        match &self.task.success {
            Predicate::Near { a, b, distance } => self.distance(a, b) < *distance,
        }
    }

    fn reward(&self, action: &[f32], success: bool) -> f32 {
        self.task
            .reward
            .iter()
            .map(|term| match term {
                RewardTerm::Near { a, b, within, margin, weight } => {
                    weight * long_tail_tolerance(self.distance(a, b), *within, *margin)
                }
                RewardTerm::ActionSquared { weight } => weight * action.iter().map(|x| x * x).sum::<f32>(),
                RewardTerm::SuccessBonus { weight } => {
                    if success {
                        *weight
                    } else {
                        0.0
                    }
                }
            })
            .sum()
    }

    /// Every body's shape, pose and colour, for drawing.
    pub fn visuals(&self) -> Vec<Visual> {
        self.task
            .bodies
            .iter()
            .zip(&self.bodies)
            .map(|(body, handle)| {
                let rb = &self.world.bodies[*handle];
                let q = rb.rotation();
                Visual {
                    shape: body.shape,
                    position: rb.translation().to_array(),
                    rotation: [q.x, q.y, q.z, q.w],
                    color: body.color.0,
                }
            })
            .collect()
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

fn uniform3(rng: &mut ChaCha8Rng, min: [f32; 3], max: [f32; 3]) -> [f32; 3] {
    // 24 random bits per coordinate: exact in f32, identical on every platform.
    std::array::from_fn(|i| {
        let u = (rng.random::<u32>() >> 8) as f32 / (1u32 << 24) as f32;
        min[i] + (max[i] - min[i]) * u
    })
}
