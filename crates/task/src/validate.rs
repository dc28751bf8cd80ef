//! Semantic validation of a parsed task: references, sizes, ranges and numbers.
//! Collects every issue (with its JSON path) instead of stopping at the first.

use crate::{Body, ExpertStep, FORMAT_VERSION, Feature, Issue, Motion, Point, Predicate, Range3, RewardTerm, Shape, Task};
use std::collections::HashSet;

struct Checker<'t> {
    task: &'t Task,
    issues: Vec<Issue>,
}

impl Checker<'_> {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue { path: path.into(), message: message.into() });
    }

    fn positive(&mut self, path: &str, value: f32) {
        if !value.is_finite() || value <= 0.0 {
            self.push(path, format!("must be a positive finite number, got {value}"));
        }
    }

    fn finite(&mut self, path: &str, value: f32) {
        if !value.is_finite() {
            self.push(path, format!("must be a finite number, got {value}"));
        }
    }

    fn range(&mut self, path: &str, r: &Range3) {
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
            self.push(path, format!("unknown body \"{name}\" (bodies: {})", known.join(", ")));
        }
        found
    }

    fn point(&mut self, path: &str, p: &Point) {
        if let Point::Body(name) = p {
            self.body_ref(&format!("{path}.body"), name);
        }
    }
}

/// Returns every issue found in `task`; empty when it is valid.
pub fn validate(task: &Task) -> Vec<Issue> {
    let mut c = Checker { task, issues: Vec::new() };
    if task.format != FORMAT_VERSION {
        c.push("format", format!("unsupported format {}; this build reads format {FORMAT_VERSION}", task.format));
    }
    if task.id.is_empty() || !task.id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
        c.push("id", format!("\"{}\" must be non-empty letters, digits, '-' or '_'", task.id));
    }
    c.positive("timestep", task.timestep);
    if task.timestep > 0.1 {
        c.push("timestep", format!("{} s is too coarse for stable contact (at most 0.1)", task.timestep));
    }
    if task.frame_skip == 0 || task.frame_skip > 100 {
        c.push("frame_skip", format!("must be 1..=100, got {}", task.frame_skip));
    }
    if task.max_steps == 0 || task.max_steps > 100_000 {
        c.push("max_steps", format!("must be 1..=100000, got {}", task.max_steps));
    }

    let mut names = HashSet::new();
    for (i, body) in task.bodies.iter().enumerate() {
        let path = format!("bodies[{i}]");
        if body.name.is_empty() {
            c.push(format!("{path}.name"), "must not be empty");
        } else if !names.insert(body.name.as_str()) {
            c.push(format!("{path}.name"), format!("duplicate body name \"{}\"", body.name));
        }
        match body.shape {
            Shape::Box { half_extents } => {
                for (k, v) in half_extents.0.iter().enumerate() {
                    c.positive(&format!("{path}.shape.box.half_extents[{k}]"), *v);
                }
            }
            Shape::Sphere { radius } => c.positive(&format!("{path}.shape.sphere.radius"), radius),
            Shape::Cylinder { half_height, radius } => {
                c.positive(&format!("{path}.shape.cylinder.half_height"), half_height);
                c.positive(&format!("{path}.shape.cylinder.radius"), radius);
            }
        }
        c.positive(&format!("{path}.density"), body.density);
        if !body.friction.is_finite() || body.friction < 0.0 {
            c.push(format!("{path}.friction"), format!("must be ≥ 0, got {}", body.friction));
        }
        for (k, v) in body.color.0.iter().enumerate() {
            if !(0.0..=1.0).contains(v) {
                c.push(format!("{path}.color[{k}]"), format!("must be in [0, 1], got {v}"));
            }
        }
        if let Some(r) = &body.random_position {
            c.range(&format!("{path}.random_position"), r);
        }
    }
    if task.bodies.is_empty() {
        c.push("bodies", "a task needs at least one body");
    }

    if let Some(hand) = c.body_ref("hand.body", &task.hand.body) {
        if hand.motion != Motion::Kinematic {
            let name = hand.name.clone();
            c.push("hand.body", format!("body \"{name}\" must have \"motion\": \"kinematic\" to be the hand"));
        }
    }
    c.positive("hand.max_step", task.hand.max_step);
    c.finite("hand.gripper_rate", task.hand.gripper_rate);
    c.range("hand.bounds", &task.hand.bounds);
    c.range("goal.range", &task.goal.range);
    if let Some(marker) = &task.goal.marker {
        c.body_ref("goal.marker", marker);
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
            Feature::Previous(n) if *n > total => {
                c.push(format!("{path}.previous"), format!("refers to {n} earlier values but only {total} come before it"));
            }
            Feature::Zeros(n) | Feature::Previous(n) if *n > 4096 => {
                c.push(path.clone(), format!("{n} values is too many (at most 4096)"));
            }
            _ => {}
        }
        total += f.size().min(4096);
    }
    if total != task.observation.size {
        c.push(
            "observation.size",
            format!("declared {} but the features add up to {total}", task.observation.size),
        );
    }

    for (i, term) in task.reward.iter().enumerate() {
        let path = format!("reward[{i}]");
        match term {
            RewardTerm::Near { a, b, within, margin, weight } => {
                c.point(&format!("{path}.near.a"), a);
                c.point(&format!("{path}.near.b"), b);
                if !within.is_finite() || *within < 0.0 {
                    c.push(format!("{path}.near.within"), format!("must be ≥ 0, got {within}"));
                }
                c.positive(&format!("{path}.near.margin"), *margin);
                c.finite(&format!("{path}.near.weight"), *weight);
            }
            RewardTerm::ActionSquared { weight } => c.finite(&format!("{path}.action_squared.weight"), *weight),
            RewardTerm::SuccessBonus { weight } => c.finite(&format!("{path}.success_bonus.weight"), *weight),
        }
    }

    match &task.success {
        Predicate::Near { a, b, distance } => {
            c.point("success.near.a", a);
            c.point("success.near.b", b);
            c.positive("success.near.distance", *distance);
        }
    }

    if let Some(expert) = &task.expert {
        c.positive("expert.gain", expert.gain);
        if expert.program.is_empty() {
            c.push("expert.program", "an expert needs at least one step");
        }
        for (i, step) in expert.program.iter().enumerate() {
            let path = format!("expert.program[{i}]");
            match step {
                ExpertStep::MoveTo { to, offset: _, tolerance, grip } => {
                    c.point(&format!("{path}.move_to.to"), to);
                    c.positive(&format!("{path}.move_to.tolerance"), *tolerance);
                    if !(-1.0..=1.0).contains(grip) {
                        c.push(format!("{path}.move_to.grip"), format!("must be in [-1, 1], got {grip}"));
                    }
                }
                ExpertStep::Grip { effort, steps: _ } => {
                    if !(-1.0..=1.0).contains(effort) {
                        c.push(format!("{path}.grip.effort"), format!("must be in [-1, 1], got {effort}"));
                    }
                }
            }
        }
    }
    c.issues
}
