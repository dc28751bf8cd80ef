//! The Polyskill task format: serde types for a task file (`"format": 1`), parsing with
//! JSON-path errors, and semantic validation that reports every problem it finds.
//!
//! A task is data: bodies, the hand (end-effector) actuator, the observation layout,
//! reward terms, the success predicate, per-episode randomisation and a waypoint expert.
//! [`Task::from_json`] is the one entry point: it never panics on any input.

mod position;
mod structure;
mod types;
mod validate;

pub use types::*;

use std::fmt;

/// The task-file format version this crate reads.
pub const FORMAT_VERSION: u32 = 1;

/// One problem in a task file: where (a JSON path such as `bodies[2].size`, and the line and
/// column where that value starts in the text) and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// JSON path of the offending value; empty for the document itself.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
    /// 1-based line of the value (of its key, for an object member; of the enclosing object
    /// for a missing field); `None` when the problem is not at a place in the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column (in characters) on `line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Issue {
    /// An issue at `path` that has not been placed in a text yet.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Issue {
            path: path.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for Issue {
    /// `path: message` (the position is separate: see [`TaskError`]'s display).
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
            issues: vec![Issue::new(path, message)],
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
            if let (Some(line), Some(column)) = (issue.line, issue.column) {
                write!(f, " (line {line}, column {column})")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for TaskError {}

/// Reads a [`Task`] from parsed JSON; on failure, every structural problem (unknown field,
/// wrong type, wrong length, missing field, unknown variant), each with its path, found by
/// checking the value against the task format's JSON Schema ([`structure`]). serde's own error
/// is kept whenever the schema check does not explain it (e.g. a number that overflows f32).
fn read_task(value: &serde_json::Value) -> Result<Task, Vec<Issue>> {
    let first = match serde_path_to_error::deserialize::<_, Task>(value) {
        Ok(task) => return Ok(task),
        Err(e) => e,
    };
    let serde_path = first.path().to_string();
    let serde_path = if serde_path == "." {
        String::new()
    } else {
        serde_path
    };
    let mut issues = structure::check(schema(), value);
    let explained = issues
        .iter()
        .any(|i| position::within(&i.path, &serde_path));
    if !explained {
        issues.push(Issue::new(serde_path, first.inner().to_string()));
    }
    Err(issues)
}

/// The task format's JSON Schema, generated once.
fn schema() -> &'static serde_json::Value {
    static SCHEMA: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(Task::json_schema)
}

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
    /// Validates a task built in code (one read by [`Task::from_json`] already is): every
    /// problem, each naming its JSON path, e.g. a joint whose `child` names no body.
    pub fn check(&self) -> Result<(), TaskError> {
        let issues = validate::validate(self);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(TaskError { issues })
        }
    }

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
        // Syntax first (serde_json also bounds the nesting depth), so that the positional
        // parse below only ever sees well-formed, shallow JSON.
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let mut issue = Issue::new("", position::without_location(&e.to_string()));
            issue.line = u32::try_from(e.line()).ok().filter(|&l| l > 0);
            issue.column = u32::try_from(e.column())
                .ok()
                .filter(|_| issue.line.is_some());
            TaskError {
                issues: vec![issue],
            }
        })?;
        let positions = position::Positions::parse(text);
        let task = read_task(&value).map_err(|issues| TaskError {
            issues: positions.place_all(issues),
        })?;
        let issues = validate::validate(&task);
        if issues.is_empty() {
            Ok(task)
        } else {
            Err(TaskError {
                issues: positions.place_all(issues),
            })
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
