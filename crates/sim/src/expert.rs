//! The expert interpreter: runs a task's data-defined expert as a policy over an [`Env`] —
//! a waypoint program (move the hand to a point, hold a grip) or a linear state-feedback
//! controller over the observation.

use crate::Env;
use polyskill_task::{Expert, ExpertStep, LinearFeedback, Waypoints};

/// A running expert (with its program counter, for waypoint programs).
pub struct ExpertPolicy {
    expert: Expert,
    index: usize,
    held: u32,
}

impl ExpertPolicy {
    /// Creates the expert of a task, or `None` if the task has none.
    pub fn for_env(env: &Env) -> Option<ExpertPolicy> {
        env.task().expert.clone().map(|expert| ExpertPolicy {
            expert,
            index: 0,
            held: 0,
        })
    }

    /// The action for the env's current state (a waypoint program advances when a step is done).
    pub fn act(&mut self, env: &Env) -> Vec<f32> {
        match &self.expert {
            Expert::LinearFeedback(lf) => {
                let (low, high) = env.continuous_bounds();
                let action = linear_feedback(lf, env.observation(), low, high);
                match nearest_choice(env, &action) {
                    Some(index) => vec![index as f32],
                    None => action,
                }
            }
            Expert::Waypoints(w) => {
                let w = w.clone();
                self.waypoints(&w, env).to_vec()
            }
        }
    }

    /// Restarts the program (call after each `reset`).
    pub fn reset(&mut self) {
        self.index = 0;
        self.held = 0;
    }

    /// Index of the program step now running.
    pub fn program_step(&self) -> usize {
        self.index
    }

    fn waypoints(&mut self, expert: &Waypoints, env: &Env) -> [f32; 4] {
        let hand = env.hand_position();
        let last = expert.program.len().saturating_sub(1);
        loop {
            let Some(step) = expert.program.get(self.index) else {
                return [0.0; 4];
            };
            match step {
                ExpertStep::MoveTo {
                    to,
                    offset,
                    tolerance,
                    grip,
                } => {
                    let d = error(add(env.point(to), offset.0), hand);
                    if norm(d) < *tolerance && self.index < last {
                        self.index += 1;
                        continue;
                    }
                    return move_action(d, expert.gain, *grip);
                }
                ExpertStep::Carry {
                    object,
                    to,
                    offset,
                    tolerance,
                    grip,
                    gain,
                } => {
                    let d = error(add(env.point(to), offset.0), env.body_centre(object));
                    if norm(d) < *tolerance && self.index < last {
                        self.index += 1;
                        continue;
                    }
                    return move_action(d, gain.unwrap_or(expert.gain), *grip);
                }
                ExpertStep::Push {
                    object,
                    to,
                    standoff,
                    height,
                    tolerance,
                } => {
                    let o = env.body_centre(object);
                    let goal = env.point(to);
                    let (dx, dy) = (goal[0] - o[0], goal[1] - o[1]);
                    let remaining = (dx * dx + dy * dy).sqrt();
                    if remaining < *tolerance && self.index < last {
                        self.index += 1;
                        continue;
                    }
                    let (ux, uy) = if remaining > 1e-6 {
                        (dx / remaining, dy / remaining)
                    } else {
                        (0.0, 0.0)
                    };
                    let z = o[2] + height;
                    let behind = [o[0] - ux * standoff, o[1] - uy * standoff, z];
                    // Lined up: close to the line behind the object, not beside or beyond it.
                    let (hx, hy) = (hand[0] - o[0], hand[1] - o[1]);
                    let along = hx * ux + hy * uy;
                    let across = (hx * uy - hy * ux).abs();
                    let target = if along < -standoff * 0.5
                        && across < 0.02
                        && (hand[2] - z).abs() < 0.015
                    {
                        [o[0] + ux * 0.05, o[1] + uy * 0.05, z]
                    } else if ((hand[0] - behind[0]).powi(2) + (hand[1] - behind[1]).powi(2)).sqrt()
                        > 0.01
                    {
                        [behind[0], behind[1], z + 0.08]
                    } else {
                        behind
                    };
                    return move_action(error(target, hand), expert.gain, -1.0);
                }
                ExpertStep::WaitUntil(w) => {
                    if (self.held >= w.max_steps || env.predicate_holds(&w.until))
                        && self.index < last
                    {
                        self.index += 1;
                        self.held = 0;
                        continue;
                    }
                    self.held += 1;
                    return [0.0, 0.0, 0.0, w.grip];
                }
                ExpertStep::Grip { effort, steps } => {
                    if self.held >= *steps && self.index < last {
                        self.index += 1;
                        self.held = 0;
                        continue;
                    }
                    self.held += 1;
                    return [0.0, 0.0, 0.0, *effort];
                }
            }
        }
    }
}

/// For a discrete task: the index of the choice whose action is closest to `action`.
fn nearest_choice(env: &Env, action: &[f32]) -> Option<usize> {
    let distance = |c: &[f32]| {
        c.iter()
            .zip(action)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
    };
    let choices = &env.task().choices;
    (0..choices.len())
        .min_by(|&i, &j| distance(&choices[i].action).total_cmp(&distance(&choices[j].action)))
}

/// `gains · observation + bias`, clipped into the action bounds.
fn linear_feedback(
    lf: &LinearFeedback,
    observation: &[f32],
    low: &[f32],
    high: &[f32],
) -> Vec<f32> {
    lf.gains
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let dot: f32 = row.iter().zip(observation).map(|(g, o)| g * o).sum();
            (dot + lf.bias.get(i).copied().unwrap_or(0.0)).clamp(low[i], high[i])
        })
        .collect()
}

fn add(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `target − current`.
fn error(target: [f32; 3], current: [f32; 3]) -> [f32; 3] {
    [
        target[0] - current[0],
        target[1] - current[1],
        target[2] - current[2],
    ]
}

fn norm(d: [f32; 3]) -> f32 {
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// The hand action that closes an error `d` proportionally: `clip(gain · d)`, plus a grip.
fn move_action(d: [f32; 3], gain: f32, grip: f32) -> [f32; 4] {
    [
        (d[0] * gain).clamp(-1.0, 1.0),
        (d[1] * gain).clamp(-1.0, 1.0),
        (d[2] * gain).clamp(-1.0, 1.0),
        grip,
    ]
}
