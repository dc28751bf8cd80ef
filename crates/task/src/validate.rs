//! Semantic validation of a parsed task: references, sizes, ranges and numbers.
//! Collects every issue (with its JSON path) instead of stopping at the first.

use crate::{
    Body, Expert, ExpertStep, FORMAT_VERSION, Feature, Issue, Joint, JointKind, Motion, Point,
    Predicate, Range3, RewardTerm, Shape, Task,
};
use std::collections::HashSet;

/// Largest size (half extent, radius) a shape may have, metres: beyond it collision
/// detection loses precision (and can fail).
pub const MAX_SIZE: f32 = 100.0;
/// Largest distance from the origin a position may have, metres.
pub const MAX_DISTANCE: f32 = 1000.0;
/// Largest density, gear or stiffness accepted.
pub const MAX_MAGNITUDE: f32 = 1e6;

struct Checker<'t> {
    task: &'t Task,
    issues: Vec<Issue>,
}

impl Checker<'_> {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue::new(path, message));
    }

    fn positive(&mut self, path: &str, value: f32) {
        if !value.is_finite() || value <= 0.0 {
            self.push(
                path,
                format!("must be a positive finite number, got {value}"),
            );
        } else if value > MAX_MAGNITUDE {
            self.push(
                path,
                format!("{value} is too large (at most {MAX_MAGNITUDE})"),
            );
        }
    }

    fn size(&mut self, path: &str, value: f32) {
        if !value.is_finite() || value <= 0.0 || value > MAX_SIZE {
            self.push(
                path,
                format!("must be a size in (0, {MAX_SIZE}] m, got {value}"),
            );
        }
    }

    fn shape(&mut self, path: &str, shape: &Shape) {
        match *shape {
            Shape::Box { half_extents } => {
                for (k, v) in half_extents.0.iter().enumerate() {
                    self.size(&format!("{path}.box.half_extents[{k}]"), *v);
                }
            }
            Shape::Sphere { radius } => self.size(&format!("{path}.sphere.radius"), radius),
            Shape::Cylinder {
                half_height,
                radius,
            } => {
                self.size(&format!("{path}.cylinder.half_height"), half_height);
                self.size(&format!("{path}.cylinder.radius"), radius);
            }
            Shape::Capsule {
                half_height,
                radius,
            } => {
                self.size(&format!("{path}.capsule.half_height"), half_height);
                self.size(&format!("{path}.capsule.radius"), radius);
            }
        }
    }

    fn place(&mut self, path: &str, v: &crate::V3) {
        if v.0.iter().any(|x| x.abs() > MAX_DISTANCE) {
            self.push(
                path,
                format!("{:?} is more than {MAX_DISTANCE} m from the origin", v.0),
            );
        }
    }

    fn finite(&mut self, path: &str, value: f32) {
        if !value.is_finite() {
            self.push(path, format!("must be a finite number, got {value}"));
        }
    }

    fn range(&mut self, path: &str, r: &Range3) {
        self.place(&format!("{path}.min"), &r.min);
        self.place(&format!("{path}.max"), &r.max);
        for axis in 0..3 {
            if r.min.0[axis] > r.max.0[axis] {
                self.push(
                    format!("{path}.min[{axis}]"),
                    format!("min {} is above max {}", r.min.0[axis], r.max.0[axis]),
                );
            }
        }
    }

    fn body_ref(&mut self, path: &str, name: &str) -> Option<&Body> {
        let found = self.task.body(name);
        if found.is_none() {
            let known: Vec<&str> = self.task.bodies.iter().map(|b| b.name.as_str()).collect();
            self.push(
                path,
                format!("unknown body \"{name}\" (bodies: {})", known.join(", ")),
            );
        }
        found
    }

    fn point(&mut self, path: &str, p: &Point) {
        match p {
            Point::Body(name) => {
                self.body_ref(&format!("{path}.body"), name);
            }
            Point::Goal if self.task.goal.is_none() => {
                self.push(path, "refers to the goal, but the task has no \"goal\"")
            }
            Point::Goal => {}
            Point::Behind {
                body,
                toward,
                distance,
            } => {
                self.body_ref(&format!("{path}.behind.body"), body);
                self.point(&format!("{path}.behind.toward"), toward);
                if !distance.is_finite() || *distance < 0.0 || *distance > MAX_MAGNITUDE {
                    self.push(
                        format!("{path}.behind.distance"),
                        format!("must be between 0 and {MAX_MAGNITUDE}, got {distance}"),
                    );
                }
            }
        }
    }

    fn joint_ref(&mut self, path: &str, name: &str) -> Option<&Joint> {
        let found = self.task.joints.iter().find(|j| j.name == name);
        if found.is_none() {
            let known: Vec<&str> = self.task.joints.iter().map(|j| j.name.as_str()).collect();
            self.push(
                path,
                format!("unknown joint \"{name}\" (joints: {})", known.join(", ")),
            );
        }
        found
    }

    fn interval(&mut self, path: &str, r: &[f32; 2]) {
        if !r[0].is_finite() || !r[1].is_finite() {
            self.push(path, "bounds must be finite numbers");
        } else if r[0] > r[1] {
            self.push(path, format!("min {} is above max {}", r[0], r[1]));
        }
    }

    /// Grasp terms and predicates look at the hand's fingers: the task must have them.
    fn needs_fingers(&mut self, path: &str) {
        if self
            .task
            .hand
            .as_ref()
            .and_then(|h| h.fingers.as_ref())
            .is_none()
        {
            self.push(
                path,
                "needs a hand with \"fingers\" (a grasp is both fingers touching the object)",
            );
        }
    }

    fn unit_effort(&mut self, path: &str, value: f32) {
        if !(-1.0..=1.0).contains(&value) {
            self.push(path, format!("must be in [-1, 1], got {value}"));
        }
    }

    fn predicate(&mut self, path: &str, p: &Predicate, depth: usize) {
        if depth > 8 {
            self.push(path, "predicates nest too deeply (at most 8 levels)");
            return;
        }
        match p {
            Predicate::Near { a, b, distance } => {
                self.point(&format!("{path}.near.a"), a);
                self.point(&format!("{path}.near.b"), b);
                self.positive(&format!("{path}.near.distance"), *distance);
            }
            Predicate::JointOutside {
                joint,
                min,
                max,
                velocity: _,
            } => {
                self.joint_ref(&format!("{path}.joint_outside.joint"), joint);
                self.interval(&format!("{path}.joint_outside"), &[*min, *max]);
            }
            Predicate::Survived => {}
            Predicate::Grasped(body) => {
                self.body_ref(&format!("{path}.grasped"), body);
                self.needs_fingers(&format!("{path}.grasped"));
            }
            Predicate::Above { body, z } => {
                self.body_ref(&format!("{path}.above.body"), body);
                self.finite(&format!("{path}.above.z"), *z);
            }
            Predicate::Not(inner) => self.predicate(&format!("{path}.not"), inner, depth + 1),
            Predicate::Any(list) | Predicate::All(list) => {
                let key = if matches!(p, Predicate::Any(_)) {
                    "any"
                } else {
                    "all"
                };
                if list.is_empty() {
                    self.push(format!("{path}.{key}"), "needs at least one predicate");
                }
                for (i, q) in list.iter().enumerate() {
                    self.predicate(&format!("{path}.{key}[{i}]"), q, depth + 1);
                }
            }
        }
    }
}

/// Returns every issue found in `task`; empty when it is valid.
pub fn validate(task: &Task) -> Vec<Issue> {
    let mut c = Checker {
        task,
        issues: Vec::new(),
    };
    if task.format != FORMAT_VERSION {
        c.push(
            "format",
            format!(
                "unsupported format {}; this build reads format {FORMAT_VERSION}",
                task.format
            ),
        );
    }
    if task.id.is_empty()
        || !task
            .id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        c.push(
            "id",
            format!(
                "\"{}\" must be non-empty letters, digits, '-' or '_'",
                task.id
            ),
        );
    }
    c.positive("timestep", task.timestep);
    if task.timestep > 0.1 {
        c.push(
            "timestep",
            format!(
                "{} s is too coarse for stable contact (at most 0.1)",
                task.timestep
            ),
        );
    }
    if task.frame_skip == 0 || task.frame_skip > 100 {
        c.push(
            "frame_skip",
            format!("must be 1..=100, got {}", task.frame_skip),
        );
    }
    if task.solver_iterations == 0 || task.solver_iterations > 16 {
        c.push(
            "solver_iterations",
            format!("must be 1..=16, got {}", task.solver_iterations),
        );
    }
    if task.max_steps == 0 || task.max_steps > 100_000 {
        c.push(
            "max_steps",
            format!("must be 1..=100000, got {}", task.max_steps),
        );
    }

    let mut names = HashSet::new();
    for (i, body) in task.bodies.iter().enumerate() {
        let path = format!("bodies[{i}]");
        if body.name.is_empty() {
            c.push(format!("{path}.name"), "must not be empty");
        } else if !names.insert(body.name.as_str()) {
            c.push(
                format!("{path}.name"),
                format!("duplicate body name \"{}\"", body.name),
            );
        }
        c.shape(&format!("{path}.shape"), &body.shape);
        for (k, part) in body.parts.iter().enumerate() {
            c.shape(&format!("{path}.parts[{k}].shape"), &part.shape);
            c.place(&format!("{path}.parts[{k}].offset"), &part.offset);
            if let Some(color) = &part.color {
                for (j, v) in color.0.iter().enumerate() {
                    if !(0.0..=1.0).contains(v) {
                        c.push(
                            format!("{path}.parts[{k}].color[{j}]"),
                            format!("must be in [0, 1], got {v}"),
                        );
                    }
                }
            }
        }
        c.place(&format!("{path}.position"), &body.position);
        if let Some(q) = &body.rotation {
            let len2: f32 = q.0.iter().map(|v| v * v).sum();
            if (len2 - 1.0).abs() > 1e-3 {
                c.push(
                    format!("{path}.rotation"),
                    format!("must be a unit quaternion [x, y, z, w] (length² is {len2})"),
                );
            }
        }
        if let Some(r) = &body.random_position {
            c.place(&format!("{path}.random_position.min"), &r.min);
            c.place(&format!("{path}.random_position.max"), &r.max);
        }
        c.positive(&format!("{path}.density"), body.density);
        if let Some(m) = body.mass {
            c.positive(&format!("{path}.mass"), m);
        }
        if let Some(inertia) = &body.inertia {
            if body.mass.is_none() {
                c.push(format!("{path}.inertia"), "an inertia needs a \"mass\" too");
            }
            for (k, v) in inertia.0.iter().enumerate() {
                c.positive(&format!("{path}.inertia[{k}]"), *v);
            }
        }
        if !body.friction.is_finite() || body.friction < 0.0 {
            c.push(
                format!("{path}.friction"),
                format!("must be ≥ 0, got {}", body.friction),
            );
        }
        for (k, v) in body.color.0.iter().enumerate() {
            if !(0.0..=1.0).contains(v) {
                c.push(
                    format!("{path}.color[{k}]"),
                    format!("must be in [0, 1], got {v}"),
                );
            }
        }
        if let Some(r) = &body.random_position {
            c.range(&format!("{path}.random_position"), r);
        }
        if let Some(leader) = &body.follows {
            let earlier = task.bodies[..i].iter().any(|b| &b.name == leader);
            if !earlier {
                c.push(
                    format!("{path}.follows"),
                    format!("\"{leader}\" must be a body listed before this one"),
                );
            }
            if body.random_position.is_some() {
                c.push(
                    format!("{path}.follows"),
                    "a body either has its own random_position or follows another, not both",
                );
            }
        }
    }
    if task.bodies.is_empty() {
        c.push("bodies", "a task needs at least one body");
    }

    if let Some(hand) = &task.hand {
        if let Some(body) = c.body_ref("hand.body", &hand.body)
            && body.motion != Motion::Kinematic
        {
            let name = body.name.clone();
            c.push(
                "hand.body",
                format!("body \"{name}\" must have \"motion\": \"kinematic\" to be the hand"),
            );
        }
        c.positive("hand.max_step", hand.max_step);
        c.finite("hand.gripper_rate", hand.gripper_rate);
        c.range("hand.bounds", &hand.bounds);
        if let Some(f) = &hand.fingers {
            for (k, name) in f.joints.iter().enumerate() {
                if let Some(j) = c.joint_ref(&format!("hand.fingers.joints[{k}]"), name)
                    && (j.kind != JointKind::Prismatic
                        || j.parent.as_deref() != Some(hand.body.as_str()))
                {
                    c.push(
                        format!("hand.fingers.joints[{k}]"),
                        format!("joint \"{name}\" must be prismatic with the hand as parent"),
                    );
                }
            }
            c.size("hand.fingers.travel", f.travel);
            c.positive("hand.fingers.stiffness", f.stiffness);
            c.positive("hand.fingers.damping", f.damping);
            c.positive("hand.fingers.max_force", f.max_force);
        }
    }
    if let Some(goal) = &task.goal {
        match (&goal.range, &goal.at) {
            (Some(range), None) => c.range("goal.range", range),
            (None, Some(at)) => {
                c.body_ref("goal.at.body", &at.body);
            }
            _ => c.push(
                "goal",
                "give exactly one of \"range\" (a random goal) or \"at\" (a goal on a body)",
            ),
        }
        if let Some(marker) = &goal.marker
            && let Some(body) = c.body_ref("goal.marker", marker)
            && body.motion == Motion::Dynamic
        {
            let name = body.name.clone();
            c.push(
                "goal.marker",
                format!(
                    "body \"{name}\" is dynamic: the marker is moved to the goal at every reset, so a task object used as one would start at its goal; mark the goal with a fixed body that does not collide"
                ),
            );
        }
    }
    let marker = task.goal.as_ref().and_then(|g| g.marker.as_deref());

    let mut joint_names = HashSet::new();
    for (i, joint) in task.joints.iter().enumerate() {
        let path = format!("joints[{i}]");
        if joint.name.is_empty() || !joint_names.insert(joint.name.as_str()) {
            c.push(
                format!("{path}.name"),
                format!(
                    "joint names must be unique and non-empty (\"{}\")",
                    joint.name
                ),
            );
        }
        if let Some(parent) = &joint.parent {
            c.body_ref(&format!("{path}.parent"), parent);
            if parent == &joint.child {
                c.push(
                    format!("{path}.child"),
                    "a joint cannot connect a body to itself",
                );
            }
            if Some(parent.as_str()) == marker {
                c.push(
                    format!("{path}.parent"),
                    format!(
                        "body \"{parent}\" is the goal marker, which is moved to the goal at every reset: nothing can hang from it by a joint"
                    ),
                );
            }
        }
        if let Some(child) = c.body_ref(&format!("{path}.child"), &joint.child)
            && child.motion != Motion::Dynamic
        {
            let name = child.name.clone();
            c.push(
                format!("{path}.child"),
                format!("body \"{name}\" must be \"dynamic\" to move on a joint"),
            );
        }
        let a = joint.axis.0;
        let len2 = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
        if (len2 - 1.0).abs() > 1e-3 {
            c.push(
                format!("{path}.axis"),
                format!("must be a unit vector (length² is {len2})"),
            );
        }
        if let Some(l) = &joint.limits {
            c.interval(&format!("{path}.limits"), l);
        }
        if !joint.damping.is_finite() || joint.damping < 0.0 {
            c.push(
                format!("{path}.damping"),
                format!("must be ≥ 0, got {}", joint.damping),
            );
        }
        if !joint.friction.is_finite() || joint.friction < 0.0 {
            c.push(
                format!("{path}.friction"),
                format!("must be ≥ 0, got {}", joint.friction),
            );
        } else if joint.friction > 0.0 && (joint.damping > 0.0 || joint.spring.is_some()) {
            c.push(
                format!("{path}.friction"),
                "friction cannot be combined with damping or a spring (they share the joint's one motor)",
            );
        }
        if let Some(spring) = &joint.spring {
            if !spring.stiffness.is_finite() || spring.stiffness < 0.0 {
                c.push(
                    format!("{path}.spring.stiffness"),
                    format!("must be ≥ 0, got {}", spring.stiffness),
                );
            }
            c.finite(&format!("{path}.spring.rest"), spring.rest);
        }
        for (key, r) in [
            ("start_position", &joint.start_position),
            ("start_velocity", &joint.start_velocity),
        ] {
            if let Some(r) = r {
                c.interval(&format!("{path}.{key}"), r);
                if key == "start_position"
                    && let Some(l) = joint.limits
                    && (r[0] < l[0] || r[1] > l[1])
                {
                    c.push(
                        format!("{path}.start_position"),
                        format!(
                            "[{}, {}] reaches outside the joint's limits [{}, {}] (the joint would snap the start back inside)",
                            r[0], r[1], l[0], l[1]
                        ),
                    );
                }
                if joint.kind == JointKind::Fixed {
                    c.push(
                        format!("{path}.{key}"),
                        "a fixed joint has no position or velocity to randomise",
                    );
                }
            }
        }
    }
    for (i, actuator) in task.actuators.iter().enumerate() {
        let path = format!("actuators[{i}]");
        if let Some(joint) = c.joint_ref(&format!("{path}.joint"), &actuator.joint)
            && joint.kind == JointKind::Fixed
        {
            c.push(format!("{path}.joint"), "a fixed joint cannot be actuated");
        }
        c.positive(&format!("{path}.gear"), actuator.gear);
        let r = actuator.range;
        if !r[0].is_finite() || !r[1].is_finite() || r[0] >= r[1] {
            c.push(
                format!("{path}.range"),
                format!("must be finite bounds [low, high] with low < high, got {r:?}"),
            );
        }
    }
    {
        let (low, high) = task.continuous_bounds();
        let size = task.continuous_action_size();
        for (i, choice) in task.choices.iter().enumerate() {
            let path = format!("choices[{i}]");
            if choice.name.is_empty() {
                c.push(format!("{path}.name"), "must not be empty");
            }
            if choice.action.len() != size {
                c.push(
                    format!("{path}.action"),
                    format!(
                        "has {} values; the task's continuous action has {size}",
                        choice.action.len()
                    ),
                );
                continue;
            }
            for (k, v) in choice.action.iter().enumerate() {
                if !v.is_finite() || *v < low[k] || *v > high[k] {
                    c.push(
                        format!("{path}.action[{k}]"),
                        format!("{v} is outside the action bounds [{}, {}]", low[k], high[k]),
                    );
                }
            }
        }
    }
    if task.hand.is_none() && task.actuators.is_empty() {
        c.push(
            "actuators",
            "a task needs a \"hand\" or at least one actuator (its action would be empty)",
        );
    }

    let mut total = 0;
    for (i, f) in task.observation.features.iter().enumerate() {
        let path = format!("observation.features[{i}]");
        match f {
            Feature::Position(name) => {
                c.body_ref(&format!("{path}.position"), name);
            }
            Feature::Quaternion(name) => {
                c.body_ref(&format!("{path}.quaternion"), name);
            }
            Feature::JointPosition(name) => {
                c.joint_ref(&format!("{path}.joint_position"), name);
            }
            Feature::JointVelocity(name) => {
                c.joint_ref(&format!("{path}.joint_velocity"), name);
            }
            Feature::JointCos(name) | Feature::JointSin(name) => {
                let key = if matches!(f, Feature::JointCos(_)) {
                    "joint_cos"
                } else {
                    "joint_sin"
                };
                if let Some(j) = c.joint_ref(&format!("{path}.{key}"), name)
                    && j.kind != JointKind::Revolute
                {
                    c.push(
                        format!("{path}.{key}"),
                        format!("joint \"{name}\" is not revolute"),
                    );
                }
            }
            Feature::GripperOpening if task.hand.is_none() => {
                c.push(path.clone(), "gripper_opening needs a \"hand\"");
            }
            Feature::Goal if task.goal.is_none() => {
                c.push(path.clone(), "goal needs a \"goal\"");
            }
            Feature::Previous(n) if *n > total => {
                c.push(
                    format!("{path}.previous"),
                    format!("refers to {n} earlier values but only {total} come before it"),
                );
            }
            Feature::OneHot { index, size } if *size == 0 || *size > 4096 || index >= size => {
                c.push(
                    format!("{path}.one_hot"),
                    format!("needs 0 ≤ index < size ≤ 4096, got index {index}, size {size}"),
                );
            }
            Feature::Zeros(n) | Feature::Previous(n) if *n > 4096 => {
                c.push(
                    path.clone(),
                    format!("{n} values is too many (at most 4096)"),
                );
            }
            _ => {}
        }
        total += f.size().min(4096);
    }
    if total != task.observation.size {
        c.push(
            "observation.size",
            format!(
                "declared {} but the features add up to {total}",
                task.observation.size
            ),
        );
    }

    for (i, term) in task.reward.iter().enumerate() {
        let path = format!("reward[{i}]");
        match term {
            RewardTerm::Near {
                a,
                b,
                within,
                margin,
                weight,
            } => {
                c.point(&format!("{path}.near.a"), a);
                c.point(&format!("{path}.near.b"), b);
                if !within.is_finite() || *within < 0.0 {
                    c.push(
                        format!("{path}.near.within"),
                        format!("must be ≥ 0, got {within}"),
                    );
                }
                c.positive(&format!("{path}.near.margin"), *margin);
                c.finite(&format!("{path}.near.weight"), *weight);
            }
            RewardTerm::ActionSquared { weight } => {
                c.finite(&format!("{path}.action_squared.weight"), *weight)
            }
            RewardTerm::SuccessBonus { weight } => {
                c.finite(&format!("{path}.success_bonus.weight"), *weight)
            }
            RewardTerm::Alive { weight } => c.finite(&format!("{path}.alive.weight"), *weight),
            RewardTerm::Grasp { object, weight } => {
                c.body_ref(&format!("{path}.grasp.object"), object);
                c.needs_fingers(&format!("{path}.grasp"));
                c.finite(&format!("{path}.grasp.weight"), *weight);
            }
            RewardTerm::Lift {
                object,
                height,
                weight,
            } => {
                c.body_ref(&format!("{path}.lift.object"), object);
                c.positive(&format!("{path}.lift.height"), *height);
                c.finite(&format!("{path}.lift.weight"), *weight);
            }
            RewardTerm::Upright { body, weight } => {
                c.body_ref(&format!("{path}.upright.body"), body);
                c.finite(&format!("{path}.upright.weight"), *weight);
            }
            RewardTerm::JointSquared {
                joint,
                target,
                weight,
                velocity_weight,
            } => {
                c.joint_ref(&format!("{path}.joint_squared.joint"), joint);
                c.finite(&format!("{path}.joint_squared.target"), *target);
                c.finite(&format!("{path}.joint_squared.weight"), *weight);
                c.finite(
                    &format!("{path}.joint_squared.velocity_weight"),
                    *velocity_weight,
                );
            }
        }
    }

    c.predicate("success", &task.success, 0);
    if let Some(t) = &task.terminate {
        c.predicate("terminate", t, 0);
    }

    match &task.expert {
        None => {}
        Some(Expert::Waypoints(expert)) => {
            if task.hand.is_none() {
                c.push(
                    "expert.waypoints",
                    "a waypoint expert moves the hand, but the task has no \"hand\"",
                );
            }
            c.positive("expert.waypoints.gain", expert.gain);
            if expert.program.is_empty() {
                c.push(
                    "expert.waypoints.program",
                    "an expert needs at least one step",
                );
            }
            for (i, step) in expert.program.iter().enumerate() {
                let path = format!("expert.waypoints.program[{i}]");
                match step {
                    ExpertStep::MoveTo {
                        to,
                        offset: _,
                        tolerance,
                        grip,
                    } => {
                        c.point(&format!("{path}.move_to.to"), to);
                        c.positive(&format!("{path}.move_to.tolerance"), *tolerance);
                        if !(-1.0..=1.0).contains(grip) {
                            c.push(
                                format!("{path}.move_to.grip"),
                                format!("must be in [-1, 1], got {grip}"),
                            );
                        }
                    }
                    ExpertStep::Carry {
                        object,
                        to,
                        offset: _,
                        tolerance,
                        grip,
                        gain,
                    } => {
                        if let Some(g) = gain {
                            c.positive(&format!("{path}.carry.gain"), *g);
                        }
                        c.body_ref(&format!("{path}.carry.object"), object);
                        c.point(&format!("{path}.carry.to"), to);
                        c.positive(&format!("{path}.carry.tolerance"), *tolerance);
                        if !(-1.0..=1.0).contains(grip) {
                            c.push(
                                format!("{path}.carry.grip"),
                                format!("must be in [-1, 1], got {grip}"),
                            );
                        }
                    }
                    ExpertStep::Push {
                        object,
                        to,
                        standoff,
                        height,
                        tolerance,
                    } => {
                        c.body_ref(&format!("{path}.push.object"), object);
                        c.point(&format!("{path}.push.to"), to);
                        c.positive(&format!("{path}.push.standoff"), *standoff);
                        c.finite(&format!("{path}.push.height"), *height);
                        c.positive(&format!("{path}.push.tolerance"), *tolerance);
                    }
                    ExpertStep::WaitUntil(w) => {
                        c.predicate(&format!("{path}.wait_until.until"), &w.until, 0);
                        c.unit_effort(&format!("{path}.wait_until.grip"), w.grip);
                        if w.max_steps == 0 {
                            c.push(format!("{path}.wait_until.max_steps"), "must be at least 1");
                        }
                    }
                    ExpertStep::Grip { effort, steps: _ } => {
                        if !(-1.0..=1.0).contains(effort) {
                            c.push(
                                format!("{path}.grip.effort"),
                                format!("must be in [-1, 1], got {effort}"),
                            );
                        }
                    }
                }
            }
        }
        Some(Expert::LinearFeedback(lf)) => {
            let actions = task.continuous_action_size();
            if lf.gains.len() != actions {
                c.push(
                    "expert.linear_feedback.gains",
                    format!(
                        "has {} rows; the task has {actions} continuous action components",
                        lf.gains.len()
                    ),
                );
            }
            for (i, row) in lf.gains.iter().enumerate() {
                if row.len() != task.observation.size {
                    c.push(
                        format!("expert.linear_feedback.gains[{i}]"),
                        format!(
                            "has {} columns; the observation has {} values",
                            row.len(),
                            task.observation.size
                        ),
                    );
                }
                if row.iter().any(|g| !g.is_finite()) {
                    c.push(
                        format!("expert.linear_feedback.gains[{i}]"),
                        "gains must be finite numbers",
                    );
                }
            }
            if !lf.bias.is_empty() && lf.bias.len() != actions {
                c.push(
                    "expert.linear_feedback.bias",
                    format!("has {} values; expected 0 or {actions}", lf.bias.len()),
                );
            }
        }
    }
    c.issues
}
