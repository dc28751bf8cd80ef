//! The serde types of a task file. Unknown fields are errors (a typo must not be ignored).
//! Coordinates are metres, z up, the table top at z = 0; rotations are quaternions `[x, y, z, w]`.

use serde::{Deserialize, Deserializer, Serialize};

/// Three finite numbers (a position, a size, an offset). Reads as a JSON array of 3 numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
#[serde(transparent)]
pub struct V3(pub [f32; 3]);

impl<'de> Deserialize<'de> for V3 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let values = Vec::<f32>::deserialize(d)?;
        if values.len() != 3 {
            return Err(serde::de::Error::custom(format!(
                "expected 3 numbers, got {}",
                values.len()
            )));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(serde::de::Error::custom("expected finite numbers (this one overflows f32)"));
        }
        Ok(V3([values[0], values[1], values[2]]))
    }
}

/// A whole task file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Format version; must be [`crate::FORMAT_VERSION`].
    pub format: u32,
    /// Short identifier, e.g. `reach` (also the file name).
    pub id: String,
    /// What the agent must do, in words ("reach the red goal").
    pub instruction: String,
    /// Physics step in seconds (Meta-World: 0.0025).
    pub timestep: f32,
    /// Physics steps per environment step (Meta-World: 5, so 12.5 ms per step).
    pub frame_skip: u32,
    /// Episode length in environment steps; the episode is truncated after it.
    pub max_steps: u32,
    /// Gravity vector, m/s².
    #[serde(default = "default_gravity")]
    pub gravity: V3,
    /// Rigid bodies, referenced by name.
    pub bodies: Vec<Body>,
    /// The end-effector actuator driven by the first three action components.
    pub hand: Hand,
    /// The goal point: a position drawn per episode.
    pub goal: Goal,
    /// The observation vector, as a list of features.
    pub observation: Observation,
    /// Reward terms, summed.
    pub reward: Vec<RewardTerm>,
    /// When the episode counts as a success (at any step).
    pub success: Predicate,
    /// A scripted expert that solves the task, if one can be written as data.
    #[serde(default)]
    pub expert: Option<Expert>,
}

fn default_gravity() -> V3 {
    V3([0.0, 0.0, -9.81])
}

/// A rigid body of the scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Unique name, used by references elsewhere in the file.
    pub name: String,
    /// Geometry.
    pub shape: Shape,
    /// How the body moves.
    #[serde(default)]
    pub motion: Motion,
    /// Position of the body's centre at reset.
    pub position: V3,
    /// Per-episode randomisation: the position is drawn uniformly in this box instead.
    #[serde(default)]
    pub random_position: Option<Range3>,
    /// Density in kg/m³ (dynamic bodies).
    #[serde(default = "default_density")]
    pub density: f32,
    /// Coulomb friction coefficient.
    #[serde(default = "default_friction")]
    pub friction: f32,
    /// Whether the body collides; `false` makes a visual-only marker.
    #[serde(default = "yes")]
    pub collides: bool,
    /// RGB colour in [0, 1].
    #[serde(default = "default_color")]
    pub color: V3,
}

fn default_density() -> f32 {
    500.0
}
fn default_friction() -> f32 {
    0.8
}
fn yes() -> bool {
    true
}
fn default_color() -> V3 {
    V3([0.7, 0.7, 0.7])
}

/// Geometry of a body, centred on its position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// A box given by its half extents.
    Box {
        /// Half size along x, y, z.
        half_extents: V3,
    },
    /// A sphere.
    Sphere {
        /// Radius.
        radius: f32,
    },
    /// A cylinder along z.
    Cylinder {
        /// Half height along z.
        half_height: f32,
        /// Radius.
        radius: f32,
    },
}

/// How a body moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    /// Never moves (the table, walls).
    #[default]
    Fixed,
    /// Moved by forces and contacts.
    Dynamic,
    /// Moved by the task (the hand).
    Kinematic,
}

/// An axis-aligned box of points, `min` ≤ `max` on every axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range3 {
    /// Lower corner.
    pub min: V3,
    /// Upper corner.
    pub max: V3,
}

/// The end-effector actuator (Meta-World's mocap hand): action\[0..3\] moves it by at most
/// `max_step` metres per step along each axis, action\[3\] drives the gripper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hand {
    /// Name of the kinematic body that is the hand.
    pub body: String,
    /// Largest move per step along each axis, metres (Meta-World: 0.01).
    pub max_step: f32,
    /// Where the hand may go; targets are clipped into this box.
    pub bounds: Range3,
    /// Gripper opening change per step at full effort, in opening units (0 closed, 1 open).
    #[serde(default = "default_gripper_rate")]
    pub gripper_rate: f32,
}

fn default_gripper_rate() -> f32 {
    0.1
}

/// The goal: a point drawn uniformly in `range` at each reset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// Where the goal may be.
    pub range: Range3,
    /// A body that marks the goal in the scene (moved to the goal at reset), if any.
    #[serde(default)]
    pub marker: Option<String>,
}

/// The observation vector: features concatenated in order, `size` values in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// Declared total size; must equal the sum of the features' sizes.
    pub size: usize,
    /// The features, in order.
    pub features: Vec<Feature>,
}

/// One observation feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Feature {
    /// A body's position (3).
    Position(String),
    /// A body's orientation quaternion `[x, y, z, w]` (4).
    Quaternion(String),
    /// The gripper opening in [0, 1] (1).
    GripperOpening,
    /// The goal position (3).
    Goal,
    /// Zeros, for absent objects in a fixed layout (n).
    Zeros(usize),
    /// The previous step's first n values of this observation (n); at reset, the current ones.
    Previous(usize),
}

impl Feature {
    /// Number of values this feature contributes.
    pub fn size(&self) -> usize {
        match self {
            Feature::Position(_) | Feature::Goal => 3,
            Feature::Quaternion(_) => 4,
            Feature::GripperOpening => 1,
            Feature::Zeros(n) | Feature::Previous(n) => *n,
        }
    }
}

/// A point the task refers to: a body's position or the goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Point {
    /// The centre of the named body.
    Body(String),
    /// The goal point.
    Goal,
}

/// One weighted reward term; the step reward is the sum of all terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RewardTerm {
    /// `weight · tolerance(|a − b|)`: 1 within `within` metres, falling off with a long tail
    /// (0.1 at `margin` beyond it), as in Meta-World's shaped rewards.
    Near {
        /// First point.
        a: Point,
        /// Second point.
        b: Point,
        /// Distance below which the term is 1.
        within: f32,
        /// Distance beyond `within` at which the term has fallen to 0.1.
        margin: f32,
        /// Weight.
        weight: f32,
    },
    /// `weight · |action|²` (use a negative weight for a cost).
    ActionSquared {
        /// Weight.
        weight: f32,
    },
    /// `weight` at every step where the success predicate holds.
    SuccessBonus {
        /// Weight.
        weight: f32,
    },
}

/// A condition on the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Predicate {
    /// Two points are closer than `distance` metres.
    Near {
        /// First point.
        a: Point,
        /// Second point.
        b: Point,
        /// Threshold, metres.
        distance: f32,
    },
}

/// A scripted expert: a waypoint program run by the simulator's interpreter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expert {
    /// Proportional gain: action = gain · (target − hand), clipped to [−1, 1].
    pub gain: f32,
    /// The program; the last step is held until the episode ends.
    pub program: Vec<ExpertStep>,
}

/// One step of a waypoint program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExpertStep {
    /// Move the hand to a point plus an offset; done when within `tolerance` metres.
    MoveTo {
        /// The point to move to.
        to: Point,
        /// Offset added to the point.
        #[serde(default)]
        offset: V3,
        /// Distance at which the step is done.
        tolerance: f32,
        /// Gripper effort held during the move, in [−1, 1] (−1 opens, 1 closes).
        #[serde(default = "minus_one")]
        grip: f32,
    },
    /// Hold the hand still with the given gripper effort for `steps` steps.
    Grip {
        /// Gripper effort in [−1, 1].
        effort: f32,
        /// How many steps.
        steps: u32,
    },
}

fn minus_one() -> f32 {
    -1.0
}
