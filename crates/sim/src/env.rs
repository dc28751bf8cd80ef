//! The environment: a rapier3d world built from a [`Task`], with Gymnasium-style
//! `reset(seed)` / `step(action)`, observations assembled from the task's feature list,
//! the task's reward terms and success predicate.
//!
//! Determinism: everything that feeds the simulation uses only `+ − × ÷` and `sqrt`
//! (correctly rounded everywhere), rapier runs with `enhanced-determinism`, and per-episode
//! randomness comes from a seeded ChaCha8 stream, so a seed gives the same bits natively
//! and in wasm.

use polyskill_task::{
    ActuatorMode, Feature, JointKind, Motion, Point, Predicate, RewardTerm, Shape, Task,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapier3d::control::{CharacterLength, KinematicCharacterController};
use rapier3d::prelude::*;
use std::fmt;

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

    fn body_index(&self, name: &str) -> Option<usize> {
        self.task.bodies.iter().position(|b| b.name == name)
    }

    fn body_position(&self, index: usize) -> [f32; 3] {
        self.world.bodies[self.bodies[index]]
            .translation()
            .to_array()
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

    fn body_pose(&self, index: Option<usize>) -> (Vector, Rotation) {
        match index {
            Some(i) => {
                let rb = &self.world.bodies[self.bodies[i]];
                (rb.translation(), *rb.rotation())
            }
            None => (Vector::ZERO, Rotation::IDENTITY),
        }
    }

    /// Where the hand can get on its way to `wanted` this substep: its first shape is swept
    /// against fixed, colliding bodies (walls, shelves, the table) by rapier's kinematic
    /// character controller, which stops it at the first contact and slides the rest of the
    /// motion along the surface. Dynamic bodies are not obstacles: the hand pushes them.
    /// Meta-World's hand is welded to a mocap target and stopped by walls the same way.
    fn hand_move(&self, hand: usize, wanted: Vector) -> Vector {
        let body = &self.world.bodies[self.bodies[hand]];
        let here = body.translation();
        let Some(collider) = self.colliders[hand]
            .first()
            .and_then(|&c| self.world.colliders.get(c))
        else {
            return wanted; // a hand that does not collide passes through everything
        };
        let controller = KinematicCharacterController {
            up: Vector::Z,
            offset: CharacterLength::Absolute(HAND_SKIN),
            slide: true,
            autostep: None,
            // A floating hand, not a walker: no slope is too steep, none slides it down.
            max_slope_climb_angle: std::f32::consts::FRAC_PI_2,
            min_slope_slide_angle: std::f32::consts::FRAC_PI_2,
            snap_to_ground: None,
            ..KinematicCharacterController::default()
        };
        let queries = self.world.broad_phase.as_query_pipeline(
            self.world.narrow_phase.query_dispatcher(),
            &self.world.bodies,
            &self.world.colliders,
            QueryFilter::only_fixed().exclude_sensors(),
        );
        let desired = wanted - here;
        if desired.length() <= CONTROLLER_MIN_MOVE {
            // The controller ignores moves this small; take them unless they end inside a
            // fixed body (so creeping in tiny steps cannot enter a wall either).
            let at = Pose::from_parts(wanted, collider.position().rotation);
            let blocked = queries
                .intersect_shape(at, collider.shape())
                .next()
                .is_some();
            return if blocked { here } else { wanted };
        }
        let moved = controller.move_shape(
            self.world.integration_parameters.dt,
            &queries,
            collider.shape(),
            collider.position(),
            desired,
            |_| {},
        );
        if moved.translation == desired {
            wanted // unobstructed: exactly where the action says, bit for bit
        } else {
            here + moved.translation
        }
    }

    /// Creates the task's joints in the fresh world; bodies are at their zero pose, `positions`
    /// (their reset centres) say how far each moved from the file, which moves its anchor too.
    fn build_joints(&mut self, positions: &[[f32; 3]]) {
        self.joints.clear();
        if self.task.joints.is_empty() {
            return;
        }
        let ground = self.world.insert_body(RigidBodyBuilder::fixed());
        for joint in &self.task.joints {
            let index = |name: &str| self.task.bodies.iter().position(|b| b.name == name);
            let parent = joint.parent.as_deref().and_then(index);
            let Some(child) = index(&joint.child) else {
                continue;
            };
            let (pp, pr) = self.body_pose(parent);
            let (cp, cr) = self.body_pose(Some(child));
            let moved = Vector::from_array(positions[child])
                - Vector::from_array(self.task.bodies[child].position.0);
            let anchor = Vector::from_array(joint.anchor.0) + moved;
            let axis_world = Vector::from_array(joint.axis.0);
            let anchor_parent = pr.inverse() * (anchor - pp);
            let anchor_child = cr.inverse() * (anchor - cp);
            let axis_local = pr.inverse() * axis_world;
            let (generic, motor_axis): (GenericJoint, JointAxis) = match joint.kind {
                JointKind::Fixed => (
                    FixedJointBuilder::new()
                        .local_anchor1(anchor_parent)
                        .local_anchor2(anchor_child)
                        .build()
                        .into(),
                    JointAxis::LinX,
                ),
                JointKind::Revolute => (
                    RevoluteJointBuilder::new(axis_local)
                        .local_anchor1(anchor_parent)
                        .local_anchor2(anchor_child)
                        .build()
                        .into(),
                    JointAxis::AngX,
                ),
                JointKind::Prismatic => (
                    PrismaticJointBuilder::new(axis_local)
                        .local_anchor1(anchor_parent)
                        .local_anchor2(anchor_child)
                        .build()
                        .into(),
                    JointAxis::LinX,
                ),
            };
            let mut generic = generic;
            // Both joint frames from one world basis (x along the axis), each expressed in its
            // own body: the pose the bodies have now is the joint's zero, so a child rotated
            // relative to its parent keeps that rotation. (The builders put the same local
            // rotation in both bodies, which snapped the child to its parent's orientation.)
            let basis = Rotation::from_rotation_arc(Vector::X, axis_world.normalize());
            generic.set_local_frame1(Pose::from_parts(anchor_parent, pr.inverse() * basis));
            generic.set_local_frame2(Pose::from_parts(anchor_child, cr.inverse() * basis));
            generic.set_contacts_enabled(false);
            if joint.kind != JointKind::Fixed {
                if let Some(l) = joint.limits {
                    generic.set_limits(motor_axis, l);
                }
                if let Some(spring) = joint.spring {
                    generic.set_motor_model(motor_axis, MotorModel::ForceBased);
                    generic.set_motor_position(
                        motor_axis,
                        spring.rest,
                        spring.stiffness,
                        joint.damping,
                    );
                } else if joint.damping > 0.0 {
                    generic.set_motor_model(motor_axis, MotorModel::ForceBased);
                    generic.set_motor_velocity(motor_axis, 0.0, joint.damping);
                } else if joint.friction > 0.0 {
                    // Dry friction: hold zero velocity, but never push harder than `friction`.
                    generic.set_motor_model(motor_axis, MotorModel::ForceBased);
                    generic.set_motor_velocity(motor_axis, 0.0, FRICTION_MOTOR_DAMPING);
                    generic.set_motor_max_force(motor_axis, joint.friction);
                }
            }
            let parent_handle = parent.map(|p| self.bodies[p]).unwrap_or(ground);
            let handle =
                self.world
                    .impulse_joints
                    .insert(parent_handle, self.bodies[child], generic, true);
            self.joints.push(JointState {
                handle,
                kind: joint.kind,
                parent,
                child,
                axis_local,
                anchor_parent,
                anchor_child,
                zero_rel: pr.inverse() * cr,
            });
        }
    }

    /// Bodies moved by joint `j`: its child and everything jointed below it.
    fn subtree(&self, j: usize) -> Vec<usize> {
        let mut set = vec![self.joints[j].child];
        let mut i = 0;
        while i < set.len() {
            for js in &self.joints {
                if js.parent == Some(set[i]) && !set.contains(&js.child) {
                    set.push(js.child);
                }
            }
            i += 1;
        }
        set
    }

    /// Draws and applies joint start positions and velocities by moving whole subtrees.
    fn apply_joint_starts(&mut self, rng: &mut ChaCha8Rng) {
        for j in 0..self.joints.len() {
            let spec = &self.task.joints[j];
            let q = spec.start_position.map(|r| uniform(rng, r[0], r[1]));
            let v = spec.start_velocity.map(|r| uniform(rng, r[0], r[1]));
            let js = &self.joints[j];
            let (pp, pr) = self.body_pose(js.parent);
            let axis = pr * js.axis_local;
            let anchor = pp + pr * js.anchor_parent;
            let kind = js.kind;
            for b in self.subtree(j) {
                let rb = &mut self.world.bodies[self.bodies[b]];
                let (mut pos, mut rot) = (rb.translation(), *rb.rotation());
                let (mut lin, mut ang) = (rb.linvel(), rb.angvel());
                if let Some(q) = q {
                    match kind {
                        JointKind::Prismatic => pos += axis * q,
                        JointKind::Revolute => {
                            let half = q * 0.5;
                            let r = Rotation::from_xyzw(
                                axis.x * libm::sinf(half),
                                axis.y * libm::sinf(half),
                                axis.z * libm::sinf(half),
                                libm::cosf(half),
                            );
                            pos = anchor + r * (pos - anchor);
                            rot = r * rot;
                        }
                        JointKind::Fixed => {}
                    }
                }
                if let Some(v) = v {
                    match kind {
                        JointKind::Prismatic => lin += axis * v,
                        JointKind::Revolute => {
                            ang += axis * v;
                            lin += (axis * v).cross(pos - anchor);
                        }
                        JointKind::Fixed => {}
                    }
                }
                rb.set_position(Pose::from_parts(pos, rot), true);
                rb.set_linvel(lin, true);
                rb.set_angvel(ang, true);
            }
        }
    }

    /// A joint's position (angle in [−π, π] or slide) and velocity.
    fn joint_state(&self, j: usize) -> (f32, f32) {
        let js = &self.joints[j];
        let (pp, pr) = self.body_pose(js.parent);
        let (cp, cr) = self.body_pose(Some(js.child));
        let axis = pr * js.axis_local;
        let (pv, pw) = match js.parent {
            Some(p) => {
                let rb = &self.world.bodies[self.bodies[p]];
                (rb.linvel(), rb.angvel())
            }
            None => (Vector::ZERO, Vector::ZERO),
        };
        let rb = &self.world.bodies[self.bodies[js.child]];
        match js.kind {
            JointKind::Prismatic => {
                let d = (cp + cr * js.anchor_child) - (pp + pr * js.anchor_parent);
                (d.dot(axis), (rb.linvel() - pv).dot(axis))
            }
            JointKind::Revolute => {
                let r = pr.inverse() * cr * js.zero_rel.inverse();
                let s = Vector::new(r.x, r.y, r.z).dot(js.axis_local);
                let mut angle = 2.0 * libm::atan2f(s, r.w);
                if angle > core::f32::consts::PI {
                    angle -= 2.0 * core::f32::consts::PI;
                } else if angle < -core::f32::consts::PI {
                    angle += 2.0 * core::f32::consts::PI;
                }
                (angle, (rb.angvel() - pw).dot(axis))
            }
            JointKind::Fixed => (0.0, 0.0),
        }
    }

    fn joint_index(&self, name: &str) -> usize {
        self.task
            .joints
            .iter()
            .position(|j| j.name == name)
            .unwrap_or(0)
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

    /// Points the finger joints' springs at the gripper opening.
    fn drive_fingers(&mut self) {
        let Some(fingers) = self.task.hand.as_ref().and_then(|h| h.fingers.clone()) else {
            return;
        };
        for name in &fingers.joints {
            let j = self.joint_index(name);
            let Some(handle) = self.joints.get(j).map(|js| js.handle) else {
                continue;
            };
            if let Some(joint) = self.world.impulse_joints.get_mut(handle, true) {
                joint
                    .data
                    .set_motor_model(JointAxis::LinX, MotorModel::ForceBased);
                joint.data.set_motor_position(
                    JointAxis::LinX,
                    self.gripper * fingers.travel,
                    fingers.stiffness,
                    fingers.damping,
                );
                joint
                    .data
                    .set_motor_max_force(JointAxis::LinX, fingers.max_force);
            }
        }
    }

    /// The gripper opening in [0, 1]: measured from the fingers when the hand has them.
    fn gripper_opening(&self) -> f32 {
        match self.task.hand.as_ref().and_then(|h| h.fingers.as_ref()) {
            Some(f) => {
                let q: f32 = f
                    .joints
                    .iter()
                    .map(|n| self.joint_state(self.joint_index(n)).0)
                    .sum();
                (q / (2.0 * f.travel)).clamp(0.0, 1.0)
            }
            None => self.gripper,
        }
    }

    /// Sets joint forces, torques or motor targets from the actuators' action components.
    fn apply_actuators(&mut self, actions: &[f32]) {
        for (actuator, &a) in self.task.actuators.iter().zip(actions) {
            let j = self.joint_index(&actuator.joint);
            let Some(js) = self.joints.get(j) else {
                continue;
            };
            let value = a * actuator.gear;
            let (kind, parent, child, handle) = (js.kind, js.parent, js.child, js.handle);
            let axis = self.body_pose(parent).1 * js.axis_local;
            let motor_axis = if kind == JointKind::Revolute {
                JointAxis::AngX
            } else {
                JointAxis::LinX
            };
            match actuator.mode {
                ActuatorMode::Force => {
                    for (body, sign) in [(Some(child), 1.0f32), (parent, -1.0)] {
                        let Some(b) = body else { continue };
                        let rb = &mut self.world.bodies[self.bodies[b]];
                        rb.reset_forces(true);
                        rb.reset_torques(true);
                        if kind == JointKind::Revolute {
                            rb.add_torque(axis * (value * sign), true);
                        } else {
                            rb.add_force(axis * (value * sign), true);
                        }
                    }
                }
                ActuatorMode::Velocity => {
                    if let Some(joint) = self.world.impulse_joints.get_mut(handle, true) {
                        // Acceleration-based (mass-independent): reaches the target in ~20 ms.
                        joint.data.set_motor_velocity(motor_axis, value, 50.0);
                    }
                }
                ActuatorMode::Position => {
                    if let Some(joint) = self.world.impulse_joints.get_mut(handle, true) {
                        joint
                            .data
                            .set_motor_position(motor_axis, value, 1000.0, 50.0);
                    }
                }
            }
        }
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

    fn distance(&self, a: &Point, b: &Point) -> f32 {
        let (p, q) = (self.point(a), self.point(b));
        let d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
    }

    /// Whether `predicate` holds now; `truncated` says the episode just hit its step limit.
    fn holds(&self, predicate: &Predicate, truncated: bool) -> bool {
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
    fn grasped(&self, body: &str) -> bool {
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

    fn reward(&self, action: &[f32], success: bool) -> f32 {
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

    /// Every body's shape, pose and colour, for drawing.
    pub fn visuals(&self) -> Vec<Visual> {
        self.task
            .bodies
            .iter()
            .zip(&self.bodies)
            .flat_map(|(body, handle)| {
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
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The rapier collider of a shape centred at `offset` in its body. rapier's cylinders and
/// capsules stand along y, ours along z: a quarter turn about x, written as an exact
/// quaternion (no sin/cos, for cross-platform bits).
fn collider_for(shape: Shape, offset: Vector) -> ColliderBuilder {
    let upright = Pose::from_parts(
        offset,
        Rotation::from_xyzw(
            core::f32::consts::FRAC_1_SQRT_2,
            0.0,
            0.0,
            core::f32::consts::FRAC_1_SQRT_2,
        ),
    );
    match shape {
        Shape::Box { half_extents: h } => {
            ColliderBuilder::cuboid(h.0[0], h.0[1], h.0[2]).translation(offset)
        }
        Shape::Sphere { radius } => ColliderBuilder::ball(radius).translation(offset),
        Shape::Cylinder {
            half_height,
            radius,
        } => ColliderBuilder::cylinder(half_height, radius).position(upright),
        Shape::Capsule {
            half_height,
            radius,
        } => ColliderBuilder::capsule_y(half_height, radius).position(upright),
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

/// A uniform draw in `[min, max]` from 24 random bits: exact in f32, identical everywhere.
pub(crate) fn uniform(rng: &mut ChaCha8Rng, min: f32, max: f32) -> f32 {
    let u = (rng.random::<u32>() >> 8) as f32 / (1u32 << 24) as f32;
    min + (max - min) * u
}

fn uniform3(rng: &mut ChaCha8Rng, min: [f32; 3], max: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|i| uniform(rng, min[i], max[i]))
}
