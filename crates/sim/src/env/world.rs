//! Building and moving the rapier world: bodies and colliders, joints (frames, limits,
//! start states, actuators and their motors), the hand swept against fixed bodies, the
//! gripper's fingers, and the divergence guard.

use super::*;
use polyskill_task::{ActuatorMode, JointKind, Shape};
use rand_chacha::ChaCha8Rng;
use rapier3d::control::{CharacterLength, KinematicCharacterController};

impl Env {
    pub(super) fn body_position(&self, index: usize) -> [f32; 3] {
        self.world.bodies[self.bodies[index]]
            .translation()
            .to_array()
    }

    pub(super) fn body_pose(&self, index: Option<usize>) -> (Vector, Rotation) {
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
    pub(super) fn hand_move(&self, hand: usize, wanted: Vector) -> Vector {
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
    pub(super) fn build_joints(&mut self, positions: &[[f32; 3]]) {
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
    pub(super) fn subtree(&self, j: usize) -> Vec<usize> {
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
    pub(super) fn apply_joint_starts(&mut self, rng: &mut ChaCha8Rng) {
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
    pub(super) fn joint_state(&self, j: usize) -> (f32, f32) {
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

    pub(super) fn joint_index(&self, name: &str) -> usize {
        self.task
            .joints
            .iter()
            .position(|j| j.name == name)
            .unwrap_or(0)
    }

    /// Points the finger joints' springs at the gripper opening.
    pub(super) fn drive_fingers(&mut self) {
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
    pub(super) fn gripper_opening(&self) -> f32 {
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
    pub(super) fn apply_actuators(&mut self, actions: &[f32]) {
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

    pub(super) fn world_diverged(&self) -> bool {
        self.world.bodies.iter().any(|(_, b)| {
            let v = b.linvel();
            let p = b.translation();
            !p.is_finite() || !v.is_finite() || v.length() > DIVERGED_SPEED
        })
    }
}

/// The rapier collider of a shape centred at `offset` in its body. rapier's cylinders and
/// capsules stand along y, ours along z: a quarter turn about x, written as an exact
/// quaternion (no sin/cos, for cross-platform bits).
pub(super) fn collider_for(shape: Shape, offset: Vector) -> ColliderBuilder {
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

pub(super) fn uniform3(rng: &mut ChaCha8Rng, min: [f32; 3], max: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|i| uniform(rng, min[i], max[i]))
}
