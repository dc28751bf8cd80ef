//! The Polyskill task format: serde types for a task file (`"format": 1`), parsing with
//! JSON-path errors, and semantic validation that reports every problem it finds.
//!
//! A task is data: bodies, the hand (end-effector) actuator, the observation layout,
//! reward terms, the success predicate, per-episode randomisation and a waypoint expert.
//! [`Task::from_json`] is the one entry point: it never panics on any input.

mod types;
mod validate;

pub use types::*;

use std::fmt;

/// The task-file format version this crate reads.
pub const FORMAT_VERSION: u32 = 1;

/// One problem in a task file: where (a JSON path such as `bodies[2].size`) and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// JSON path of the offending value; empty for the document itself.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a task file was rejected: every issue found, each with its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    /// The issues, in document order where possible; never empty.
    pub issues: Vec<Issue>,
}

impl TaskError {
    fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        TaskError {
            issues: vec![Issue {
                path: path.into(),
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TaskError {}

/// What a task's `step` accepts (Gymnasium's `Box` or `Discrete`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpace {
    /// A vector of `low.len()` components, each clipped into `[low[i], high[i]]`.
    Continuous {
        /// Lower bounds.
        low: Vec<f32>,
        /// Upper bounds.
        high: Vec<f32>,
    },
    /// One component: the index of a choice (0, 1, …), given as a float.
    Discrete {
        /// The choices' names, by index.
        choices: Vec<String>,
    },
}

/// Largest task file accepted, in bytes (a guard against pasting something else entirely).
pub const MAX_TASK_BYTES: usize = 1 << 20;

impl Task {
    /// Parses and validates a task from JSON text. Errors name the JSON path of each problem.
    pub fn from_json(text: &str) -> Result<Task, TaskError> {
        if text.len() > MAX_TASK_BYTES {
            return Err(TaskError::single(
                "",
                format!(
                    "task file is {} bytes; the limit is {MAX_TASK_BYTES}",
                    text.len()
                ),
            ));
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let task: Task = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            TaskError::single(path, e.inner().to_string())
        })?;
        de.end().map_err(|e| TaskError::single("", e.to_string()))?;
        let issues = validate::validate(&task);
        if issues.is_empty() {
            Ok(task)
        } else {
            Err(TaskError { issues })
        }
    }

    /// The JSON Schema of the task format, generated from these types (for editors and
    /// LLM prompts); `web/schema/task.schema.json` is this, committed.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Task)).unwrap_or_default()
    }

    /// Looks up a body by name.
    pub fn body(&self, name: &str) -> Option<&Body> {
        self.bodies.iter().find(|b| b.name == name)
    }

    /// Number of action components `step` takes: 1 (the choice's index) for a discrete
    /// task, else [`Task::continuous_action_size`].
    pub fn action_size(&self) -> usize {
        if self.choices.is_empty() {
            self.continuous_action_size()
        } else {
            1
        }
    }

    /// Number of continuous action components: 4 for a hand (xyz move, gripper), plus one
    /// per actuator. A discrete task's choices are actions of this size.
    pub fn continuous_action_size(&self) -> usize {
        4 * usize::from(self.hand.is_some()) + self.actuators.len()
    }

    /// The action space: discrete choices, or per-component continuous bounds.
    pub fn action_space(&self) -> ActionSpace {
        if !self.choices.is_empty() {
            return ActionSpace::Discrete {
                choices: self.choices.iter().map(|c| c.name.clone()).collect(),
            };
        }
        let (low, high) = self.continuous_bounds();
        ActionSpace::Continuous { low, high }
    }

    /// Bounds `(low, high)` of the continuous action: [−1, 1] for the hand's four components
    /// (Meta-World's), then each actuator's `range`.
    pub fn continuous_bounds(&self) -> (Vec<f32>, Vec<f32>) {
        let hand = if self.hand.is_some() {
            vec![[-1.0, 1.0]; 4]
        } else {
            Vec::new()
        };
        hand.into_iter()
            .chain(self.actuators.iter().map(|a| a.range))
            .map(|[l, h]| (l, h))
            .unzip()
    }

    /// Looks up a joint by name.
    pub fn joint(&self, name: &str) -> Option<&Joint> {
        self.joints.iter().find(|j| j.name == name)
    }

    /// Total size of the declared observation features.
    pub fn observation_size(&self) -> usize {
        self.observation.features.iter().map(|f| f.size()).sum()
    }
}

#[cfg(test)]
mod tests;
