//! The serde types of a task file. Unknown fields are errors (a typo must not be ignored).
//! Coordinates are metres, z up, the table top at z = 0; rotations are quaternions `[x, y, z, w]`.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;

/// Three finite numbers (a position, a size, an offset). Reads as a JSON array of 3 numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
#[serde(transparent)]
pub struct V3(pub [f32; 3]);

impl JsonSchema for V3 {
    fn schema_name() -> Cow<'static, str> {
        "V3".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Three finite numbers: [x, y, z].",
            "type": "array",
            "items": { "type": "number" },
            "minItems": 3,
            "maxItems": 3
        })
    }
}

impl<'de> Deserialize<'de> for V3 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        finite_array(d).map(V3)
    }
}

/// A rotation quaternion `[x, y, z, w]` of unit length. Reads as a JSON array of 4 numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Quat(pub [f32; 4]);

impl Default for Quat {
    fn default() -> Self {
        Quat([0.0, 0.0, 0.0, 1.0])
    }
}

impl JsonSchema for Quat {
    fn schema_name() -> Cow<'static, str> {
        "Quat".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A unit quaternion [x, y, z, w]; [0, 0, 0, 1] is no rotation.",
            "type": "array",
            "items": { "type": "number" },
            "minItems": 4,
            "maxItems": 4
        })
    }
}

impl<'de> Deserialize<'de> for Quat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        finite_array(d).map(Quat)
    }
}

/// Reads exactly `N` finite f32 numbers.
fn finite_array<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[f32; N], D::Error> {
    let values = Vec::<f32>::deserialize(d)?;
    if values.iter().any(|v| !v.is_finite()) {
        return Err(serde::de::Error::custom(
            "expected finite numbers (this one overflows f32)",
        ));
    }
    <[f32; N]>::try_from(values.as_slice()).map_err(|_| {
        serde::de::Error::custom(format!("expected {N} numbers, got {}", values.len()))
    })
}

/// A whole task file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Constraint-solver iterations per physics step (rapier's default is 4; fewer is faster
    /// and less stiff: joints and contacts are resolved less exactly).
    #[serde(default = "default_solver_iterations")]
    pub solver_iterations: u32,
    /// Gravity vector, m/s².
    #[serde(default = "default_gravity")]
    pub gravity: V3,
    /// Rigid bodies, referenced by name.
    pub bodies: Vec<Body>,
    /// Joints between bodies (or between a body and the world).
    #[serde(default)]
    pub joints: Vec<Joint>,
    /// The end-effector actuator (action components 0..4: xyz move, gripper), if the task has a hand.
    #[serde(default)]
    pub hand: Option<Hand>,
    /// Joint actuators, one action component each, after the hand's four.
    #[serde(default)]
    pub actuators: Vec<JointActuator>,
    /// A discrete action space instead of a continuous one: the agent picks one of these by
    /// index (Gymnasium's `Discrete(n)`), and the chosen entry's continuous action is applied.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// The goal point drawn per episode, if the task has one.
    #[serde(default)]
    pub goal: Option<Goal>,
    /// The observation vector, as a list of features.
    pub observation: Observation,
    /// Reward terms, summed.
    pub reward: Vec<RewardTerm>,
    /// When the episode counts as a success (at any step).
    pub success: Predicate,
    /// When the episode ends early (terminated), e.g. a pole that fell.
    #[serde(default)]
    pub terminate: Option<Predicate>,
    /// A scripted expert that solves the task, if one can be written as data.
    #[serde(default)]
    pub expert: Option<Expert>,
    /// Where the camera looks from, if not the default view of a Meta-World table.
    #[serde(default)]
    pub view: Option<View>,
}

/// One entry of a discrete action space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// What the choice does, e.g. "push left".
    pub name: String,
    /// The continuous action it applies (hand components, then one per actuator).
    pub action: Vec<f32>,
}

/// A camera placement for drawing the task.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// Eye position.
    pub eye: V3,
    /// Point looked at.
    pub target: V3,
}

fn default_solver_iterations() -> u32 {
    4
}

fn default_gravity() -> V3 {
    V3([0.0, 0.0, -9.81])
}

/// A rigid body of the scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Unique name, used by references elsewhere in the file.
    pub name: String,
    /// Geometry.
    pub shape: Shape,
    /// More shapes rigidly attached to the same body (a compound: a drawer = a box with walls).
    #[serde(default)]
    pub parts: Vec<Part>,
    /// How the body moves.
    #[serde(default)]
    pub motion: Motion,
    /// Position of the body's centre at reset.
    pub position: V3,
    /// Orientation at reset (the shapes' axes are turned by it); none when absent.
    #[serde(default)]
    pub rotation: Option<Quat>,
    /// Per-episode randomisation: the position is drawn uniformly in this box instead.
    #[serde(default)]
    pub random_position: Option<Range3>,
    /// Move with an earlier body's random displacement (parts of one object: a cabinet and its drawer).
    #[serde(default)]
    pub follows: Option<String>,
    /// Density in kg/m³ (dynamic bodies).
    #[serde(default = "default_density")]
    pub density: f32,
    /// Mass in kg; when given it replaces `density` (the shape's inertia is scaled to match).
    #[serde(default)]
    pub mass: Option<f32>,
    /// Principal moments of inertia about the centre (kg·m², body x, y, z); needs `mass`.
    /// For bodies whose inertia is not the shape's (Gymnasium's acrobot links).
    #[serde(default)]
    pub inertia: Option<V3>,
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// A capsule along z: a cylinder of `half_height` with hemispherical ends.
    Capsule {
        /// Half height of the straight part along z.
        half_height: f32,
        /// Radius.
        radius: f32,
    },
}

/// One extra shape of a compound body, placed relative to the body's centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Geometry.
    pub shape: Shape,
    /// Offset of the part's centre from the body's centre, in the body's axes.
    pub offset: V3,
    /// RGB colour; the body's when absent.
    #[serde(default)]
    pub color: Option<V3>,
}

/// A joint between a parent (a body, or the world when absent) and a child body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Joint {
    /// Unique name, used by actuators, observations and rewards.
    pub name: String,
    /// What motion the joint allows.
    pub kind: JointKind,
    /// The parent body; the world when absent.
    #[serde(default)]
    pub parent: Option<String>,
    /// The child body.
    pub child: String,
    /// The joint's anchor point, in world coordinates at reset.
    pub anchor: V3,
    /// The joint axis in world coordinates at reset (hinge axis or slide direction); unit length.
    #[serde(default = "x_axis")]
    pub axis: V3,
    /// Position limits `[min, max]` (radians or metres).
    #[serde(default)]
    pub limits: Option<[f32; 2]>,
    /// Viscous damping (N·s/m or N·m·s/rad).
    #[serde(default)]
    pub damping: f32,
    /// Dry (Coulomb) friction: the largest force (N) or torque (N·m) with which the joint
    /// resists motion. Modelled as a force-limited motor holding zero velocity, so it cannot
    /// be combined with `damping` or a `spring` (a joint axis has one motor).
    #[serde(default)]
    pub friction: f32,
    /// A spring pulling the joint back to `rest` (a button that springs back).
    #[serde(default)]
    pub spring: Option<Spring>,
    /// Per-episode start position drawn uniformly in `[min, max]`.
    #[serde(default)]
    pub start_position: Option<[f32; 2]>,
    /// Per-episode start velocity drawn uniformly in `[min, max]`.
    #[serde(default)]
    pub start_velocity: Option<[f32; 2]>,
}

fn x_axis() -> V3 {
    V3([1.0, 0.0, 0.0])
}

/// The motion a joint allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JointKind {
    /// No relative motion.
    Fixed,
    /// Rotation about the axis (a hinge).
    Revolute,
    /// Translation along the axis (a slider).
    Prismatic,
}

/// A joint spring.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spring {
    /// Stiffness (N/m or N·m/rad).
    pub stiffness: f32,
    /// Rest position.
    #[serde(default)]
    pub rest: f32,
}

/// A joint actuator: one action component in `range` (default [−1, 1]), scaled by `gear`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JointActuator {
    /// The driven joint.
    pub joint: String,
    /// What the action sets.
    pub mode: ActuatorMode,
    /// Scale from action to force (N), torque (N·m), velocity or position target.
    pub gear: f32,
    /// Bounds `[low, high]` of this action component; actions are clipped into them.
    #[serde(default = "unit_range")]
    pub range: [f32; 2],
}

fn unit_range() -> [f32; 2] {
    [-1.0, 1.0]
}

/// What a joint actuator's action sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActuatorMode {
    /// A force (prismatic) or torque (revolute) of `gear · action`.
    Force,
    /// A velocity target of `gear · action` for the joint motor.
    Velocity,
    /// A position target of `gear · action` for the joint motor.
    Position,
}

/// How a body moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Range3 {
    /// Lower corner.
    pub min: V3,
    /// Upper corner.
    pub max: V3,
}

/// The end-effector actuator (Meta-World's mocap hand): action\[0..3\] moves it by at most
/// `max_step` metres per step along each axis, action\[3\] drives the gripper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Physical fingers driven by the gripper, if any (without them the opening is only observed).
    #[serde(default)]
    pub fingers: Option<Fingers>,
}

fn default_gripper_rate() -> f32 {
    0.1
}

/// Two fingers on prismatic joints (hand → finger, position 0 closed, `travel` open): the
/// gripper opening sets both joints' position targets through a stiff, force-limited spring,
/// so fingers stop on what they grasp and squeeze it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fingers {
    /// The two finger joints.
    pub joints: [String; 2],
    /// Joint position when fully open, metres.
    pub travel: f32,
    /// Spring stiffness towards the target, N/m.
    pub stiffness: f32,
    /// Spring damping, N·s/m.
    pub damping: f32,
    /// Largest squeezing force per finger, N.
    pub max_force: f32,
}

/// The goal: a point drawn uniformly in `range` at each reset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// Where the goal may be: drawn uniformly in this box at each reset.
    #[serde(default)]
    pub range: Option<Range3>,
    /// Or: the goal sits at a body's reset position plus an offset (e.g. a button's pressed position).
    #[serde(default)]
    pub at: Option<Attached>,
    /// A body that marks the goal in the scene (moved to the goal at reset), if any.
    #[serde(default)]
    pub marker: Option<String>,
}

/// A point fixed relative to a body's reset position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attached {
    /// The body.
    pub body: String,
    /// Offset from the body's centre.
    #[serde(default)]
    pub offset: V3,
}

/// The observation vector: features concatenated in order, `size` values in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// Declared total size; must equal the sum of the features' sizes.
    pub size: usize,
    /// The features, in order.
    pub features: Vec<Feature>,
}

/// One observation feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// A joint's position: angle (rad, in [−π, π]) or slide (m) (1).
    JointPosition(String),
    /// A joint's velocity (1).
    JointVelocity(String),
    /// Cosine of a revolute joint's angle (1).
    JointCos(String),
    /// Sine of a revolute joint's angle (1).
    JointSin(String),
    /// A constant one-hot task id for multi-task learning: `size` values, 1 at `index` (size).
    OneHot {
        /// Position of the 1.
        index: usize,
        /// Number of values (tasks).
        size: usize,
    },
}

impl Shape {
    /// Volume in m³.
    pub fn volume(&self) -> f32 {
        let pi = std::f32::consts::PI;
        match *self {
            Shape::Box { half_extents: h } => 8.0 * h.0[0] * h.0[1] * h.0[2],
            Shape::Sphere { radius: r } => 4.0 / 3.0 * pi * r * r * r,
            Shape::Cylinder {
                half_height: h,
                radius: r,
            } => 2.0 * pi * r * r * h,
            Shape::Capsule {
                half_height: h,
                radius: r,
            } => 2.0 * pi * r * r * h + 4.0 / 3.0 * pi * r * r * r,
        }
    }
}

impl Feature {
    /// Number of values this feature contributes.
    pub fn size(&self) -> usize {
        match self {
            Feature::Position(_) | Feature::Goal => 3,
            Feature::Quaternion(_) => 4,
            Feature::GripperOpening
            | Feature::JointPosition(_)
            | Feature::JointVelocity(_)
            | Feature::JointCos(_)
            | Feature::JointSin(_) => 1,
            Feature::Zeros(n) | Feature::Previous(n) => *n,
            Feature::OneHot { size, .. } => *size,
        }
    }
}

/// A point the task refers to: a body's position, the goal, or the spot behind a body from
/// which a pusher drives it away from another point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Point {
    /// The centre of the named body.
    Body(String),
    /// The goal point.
    Goal,
    /// `distance` metres past `body`'s centre on the side facing away from `toward`, measured
    /// in the horizontal plane at the body's height: where a hand must stand to push `body`
    /// toward `toward` (e.g. a puck toward the goal). The body's centre when the two coincide
    /// horizontally.
    Behind {
        /// The body to be pushed.
        body: String,
        /// The point it is to be pushed toward.
        toward: Box<Point>,
        /// Stand-off from the body's centre, metres.
        distance: f32,
    },
}

/// One weighted reward term; the step reward is the sum of all terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// `weight` at every step (Gymnasium's +1 per step of balancing).
    Alive {
        /// Weight.
        weight: f32,
    },
    /// `weight` while both of the hand's fingers touch `object` (it is grasped).
    Grasp {
        /// The body to hold.
        object: String,
        /// Weight.
        weight: f32,
    },
    /// `weight · clamp((z − z₀) / height, 0, 1)`: how far `object` is lifted above its reset
    /// height `z₀`, saturating at `height` metres.
    Lift {
        /// The body lifted.
        object: String,
        /// Lift at which the term reaches its full weight, metres.
        height: f32,
        /// Weight.
        weight: f32,
    },
    /// `weight · (body's z axis · world up)`: 1 when the body stands upright, −1 upside down.
    Upright {
        /// The body.
        body: String,
        /// Weight.
        weight: f32,
    },
    /// `weight · (q − target)² + velocity_weight · q̇²` of a joint (negative weights for costs).
    JointSquared {
        /// The joint.
        joint: String,
        /// Target position.
        #[serde(default)]
        target: f32,
        /// Weight of the squared position error.
        weight: f32,
        /// Weight of the squared velocity.
        #[serde(default)]
        velocity_weight: f32,
    },
}

/// A condition on the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// A joint's position (or, with `velocity: true`, its velocity) is outside `[min, max]`.
    JointOutside {
        /// The joint.
        joint: String,
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
        /// Test the velocity instead of the position.
        #[serde(default)]
        velocity: bool,
    },
    /// The episode reached its step limit without terminating.
    Survived,
    /// Both of the hand's fingers touch the body.
    Grasped(String),
    /// A body's centre is higher than `z`.
    Above {
        /// The body.
        body: String,
        /// Height, metres.
        z: f32,
    },
    /// Any of the predicates holds.
    Any(Vec<Predicate>),
    /// All of the predicates hold.
    All(Vec<Predicate>),
    /// The predicate does not hold.
    Not(Box<Predicate>),
}

/// A scripted expert the simulator can run as a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expert {
    /// A waypoint program for a hand.
    Waypoints(Waypoints),
    /// A linear state-feedback controller: `action = clip(gains · observation + bias)`.
    LinearFeedback(LinearFeedback),
}

/// A linear controller over the observation (e.g. LQR gains for cart-pole balancing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinearFeedback {
    /// One row per action component, one column per observation value.
    pub gains: Vec<Vec<f32>>,
    /// Added to each action component.
    #[serde(default)]
    pub bias: Vec<f32>,
}

/// A waypoint program run by the simulator's interpreter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waypoints {
    /// Proportional gain: action = gain · (target − hand), clipped to [−1, 1].
    pub gain: f32,
    /// The program; the last step is held until the episode ends.
    pub program: Vec<ExpertStep>,
}

/// One step of a waypoint program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Move a held `object` to a point plus an offset by moving the hand by the object's error
    /// (corrects for where in the grasp the object sits); done when within `tolerance`.
    Carry {
        /// The held body.
        object: String,
        /// Where it must go.
        to: Point,
        /// Offset added to the point.
        #[serde(default)]
        offset: V3,
        /// Distance at which the step is done.
        tolerance: f32,
        /// Gripper effort held meanwhile.
        #[serde(default = "plus_one")]
        grip: f32,
        /// Gain for this step (slower, gentler moves), instead of the program's.
        #[serde(default)]
        gain: Option<f32>,
    },
    /// Wait, holding still, until a predicate holds.
    WaitUntil(WaitUntil),
    /// Push `object` along the table towards `to`: get behind it (seen from `to`) at
    /// `standoff` metres, coming down from above, then push through it; done when the object
    /// is within `tolerance` of `to`.
    Push {
        /// The body pushed.
        object: String,
        /// Where it must go.
        to: Point,
        /// Distance behind the object's centre where the hand lines up.
        standoff: f32,
        /// Height above the object's centre at which the hand pushes.
        #[serde(default)]
        height: f32,
        /// Distance from `to` at which the step is done.
        tolerance: f32,
    },
}

/// Hold the hand still with a gripper effort until a predicate holds (or `max_steps` pass).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitUntil {
    /// The condition waited for.
    pub until: Predicate,
    /// Gripper effort in [−1, 1] meanwhile.
    #[serde(default)]
    pub grip: f32,
    /// Give up waiting after this many steps.
    pub max_steps: u32,
}

fn minus_one() -> f32 {
    -1.0
}

fn plus_one() -> f32 {
    1.0
}
