//! Parsing and validation tests: the shipped task loads; broken files give path-qualified errors.

use super::*;

const REACH: &str = include_str!("../../../web/tasks/reach.json");

fn reach_value() -> serde_json::Value {
    serde_json::from_str(REACH).unwrap()
}

fn errors_of(value: &serde_json::Value) -> Vec<String> {
    match Task::from_json(&value.to_string()) {
        Ok(_) => vec![],
        Err(e) => e.issues.iter().map(|i| i.to_string()).collect(),
    }
}

#[test]
fn shipped_reach_parses_and_validates() {
    let task = Task::from_json(REACH).expect("reach.json is valid");
    assert_eq!(task.id, "reach");
    assert_eq!(task.observation_size(), 39);
    assert_eq!(task.max_steps, 500);
    assert!(task.expert.is_some());
}

#[test]
fn wrong_vector_length_names_the_path() {
    let mut v = reach_value();
    v["bodies"][2]["position"] = serde_json::json!([0.0, 0.1]);
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("bodies[2].position: expected 3 numbers, got 2"),
        "{errors:?}"
    );
}

#[test]
fn unknown_field_is_an_error() {
    let mut v = reach_value();
    v["bodies"][1]["colour"] = serde_json::json!([1, 0, 0]);
    let errors = errors_of(&v);
    assert!(
        errors[0].starts_with("bodies[1].colour: unknown field `colour`, expected one of"),
        "{errors:?}"
    );
}

#[test]
fn every_semantic_error_is_reported_with_its_path() {
    let mut v = reach_value();
    v["format"] = serde_json::json!(2);
    v["bodies"][2]["density"] = serde_json::json!(-1.0);
    v["observation"]["size"] = serde_json::json!(40);
    v["observation"]["features"][2] = serde_json::json!({"position": "pluck"});
    v["goal"]["range"]["min"][1] = serde_json::json!(2.0);
    v["success"]["near"]["distance"] = serde_json::json!(0.0);
    let errors = errors_of(&v);
    let expect = [
        "format: unsupported format 2",
        "bodies[2].density: must be a positive finite number",
        "goal.range.min[1]: min 2 is above max 0.9",
        "observation.features[2].position: unknown body \"pluck\"",
        "observation.size: declared 40 but the features add up to 39",
        "success.near.distance: must be a positive finite number",
    ];
    for e in expect {
        assert!(
            errors.iter().any(|x| x.starts_with(e)),
            "missing {e:?} in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
}

/// A `behind` point names its body, its `toward` point and a stand-off ≥ 0 with their paths.
#[test]
fn behind_points_are_checked_with_their_paths() {
    let mut v = reach_value();
    v["reward"][0]["near"]["b"] = serde_json::json!({"behind": {"body": "pluck", "toward": {"body": "hand"}, "distance": 0.04}});
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("reward[0].near.b.behind.body: unknown body \"pluck\""),
        "{errors:#?}"
    );
    v["reward"][0]["near"]["b"] = serde_json::json!({"behind": {"body": "hand", "toward": {"body": "nope"}, "distance": -1.0}});
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    // Issues come in document order; `Value` prints keys sorted (distance before toward).
    assert!(
        errors[0].starts_with("reward[0].near.b.behind.distance: must be between 0 and"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("reward[0].near.b.behind.toward.body: unknown body \"nope\""),
        "{errors:#?}"
    );
    v["reward"][0]["near"]["b"] =
        serde_json::json!({"behind": {"body": "hand", "toward": "goal", "distance": 0.04}});
    assert!(errors_of(&v).is_empty());
}

#[test]
fn hand_must_be_kinematic() {
    let mut v = reach_value();
    v["bodies"][1]["motion"] = serde_json::json!("dynamic");
    let errors = errors_of(&v);
    assert_eq!(
        errors,
        vec!["hand.body: body \"hand\" must have \"motion\": \"kinematic\" to be the hand"]
    );
}

#[test]
fn overflowing_numbers_and_garbage_are_errors_not_panics() {
    let mut v = reach_value();
    v["bodies"][0]["position"] = serde_json::json!([1e300, 0, 0]);
    assert!(errors_of(&v)[0].starts_with("bodies[0].position: expected finite numbers"));
    for text in [
        "",
        "{",
        "[]",
        "null",
        "{\"format\": 1}",
        &"[".repeat(10_000),
        "\u{0}",
    ] {
        let err = Task::from_json(text).expect_err(text);
        assert!(!err.issues.is_empty());
    }
    let err = Task::from_json("{\"format\": 1}").unwrap_err();
    assert!(err.to_string().contains("missing field `id`"), "{err}");
}

#[test]
fn previous_cannot_look_past_the_start() {
    let mut v = reach_value();
    v["observation"]["features"] = serde_json::json!([{"previous": 3}, "goal"]);
    v["observation"]["size"] = serde_json::json!(6);
    let errors = errors_of(&v);
    assert_eq!(
        errors,
        vec![
            "observation.features[0].previous: refers to 3 earlier values but only 0 come before it"
        ]
    );
}

#[test]
fn task_index_lists_every_shipped_task_file() {
    let dir = &format!("{}/web/tasks", repo_root());
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from))
        .collect();
    files.sort();
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/../tasks.json")).unwrap())
            .unwrap();
    let mut listed: Vec<String> = index["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(
        listed, files,
        "web/tasks.json must list every task file in web/tasks/"
    );
    for name in files {
        // The page's task list shows a thumbnail of each (`cargo xtask thumbnails`).
        let thumb = std::fs::read(format!("{dir}/../thumbs/{name}.png"))
            .unwrap_or_else(|_| panic!("web/thumbs/{name}.png is missing"));
        assert_eq!(&thumb[1..4], b"PNG", "{name}.png");
        let text = std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap();
        let task = Task::from_json(&text).unwrap_or_else(|e| panic!("{name}.json: {e}"));
        assert_eq!(task.id, name, "a task's id is its file name");
    }
}

#[test]
fn committed_json_schema_is_current() {
    let path = &format!("{}/web/schema/task.schema.json", repo_root());
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        committed == Task::json_schema(),
        "web/schema/task.schema.json is stale: run `cargo run -p polyskill-cli -- schema > web/schema/task.schema.json`"
    );
    // The schema knows the format's vocabulary and rejects unknown fields like the parser.
    let text = committed.to_string();
    for word in [
        "\"joints\"",
        "\"linear_feedback\"",
        "\"joint_outside\"",
        "\"additionalProperties\":false",
    ] {
        assert!(text.contains(word), "schema lacks {word}");
    }
}

#[test]
fn sizes_and_positions_beyond_what_physics_handles_are_errors() {
    let mut v = reach_value();
    v["bodies"][1]["shape"]["box"]["half_extents"][2] = serde_json::json!(1e38);
    v["bodies"][2]["position"][0] = serde_json::json!(-5000.0);
    let errors = errors_of(&v);
    assert_eq!(
        errors,
        vec![
            "bodies[1].shape.box.half_extents[2]: must be a size in (0, 100] m, got 100000000000000000000000000000000000000",
            "bodies[2].position: [-5000.0, 0.65, 0.02] is more than 1000 m from the origin",
        ]
    );
}

#[test]
fn new_format_fields_are_checked_with_their_paths() {
    let mut v = reach_value();
    v["bodies"][2]["rotation"] = serde_json::json!([0.0, 0.0, 0.5, 0.5]);
    v["observation"]["features"][0] = serde_json::json!({"one_hot": {"index": 3, "size": 3}});
    v["reward"] = serde_json::json!([
        {"grasp": {"object": "puck", "weight": 1.0}},
        {"lift": {"object": "hand", "height": 0.0, "weight": 1.0}}
    ]);
    v["success"] = serde_json::json!({"grasped": "nothing"});
    v["choices"] = serde_json::json!([{"name": "", "action": [0, 0, 0, 2]}, {"name": "up", "action": [0, 0, 1]}]);
    let errors = errors_of(&v);
    let expect = [
        "bodies[2].rotation: must be a unit quaternion [x, y, z, w] (length² is 0.5)",
        "choices[0].name: must not be empty",
        "choices[0].action[3]: 2 is outside the action bounds [-1, 1]",
        "choices[1].action: has 3 values; the task's continuous action has 4",
        "observation.features[0].one_hot: needs 0 ≤ index < size ≤ 4096, got index 3, size 3",
        "reward[0].grasp: needs a hand with \"fingers\"",
        "reward[1].lift.height: must be a positive finite number",
        "success.grasped: unknown body \"nothing\"",
        "success.grasped: needs a hand with \"fingers\"",
    ];
    for e in expect {
        assert!(
            errors.iter().any(|x| x.starts_with(e)),
            "missing {e:?} in {errors:#?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
}

#[test]
fn actuator_ranges_and_joint_friction_are_checked() {
    let text = include_str!("../../../web/tasks/pendulum.json");
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    let task = Task::from_json(text).unwrap();
    assert_eq!(
        task.action_space(),
        ActionSpace::Continuous {
            low: vec![-2.0],
            high: vec![2.0]
        }
    );
    v["actuators"][0]["range"] = serde_json::json!([1.0, -1.0]);
    v["joints"][0]["friction"] = serde_json::json!(0.1);
    v["joints"][0]["damping"] = serde_json::json!(0.1);
    let errors = errors_of(&v);
    assert_eq!(
        errors,
        // In document order: `Value` prints `actuators` before `joints`.
        vec![
            "actuators[0].range: must be finite bounds [low, high] with low < high, got [1.0, -1.0]",
            "joints[0].friction: friction cannot be combined with damping or a spring (they share the joint's one motor)",
        ]
    );
}

#[test]
fn a_discrete_task_takes_one_index_and_its_expert_gains_span_the_continuous_action() {
    let task = Task::from_json(include_str!("../../../web/tasks/cart-pole.json")).unwrap();
    assert_eq!(task.action_size(), 1);
    assert_eq!(task.continuous_action_size(), 1);
    assert_eq!(
        task.action_space(),
        ActionSpace::Discrete {
            choices: vec!["push left".into(), "push right".into()]
        }
    );
}

/// The repository root, read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): a test
/// binary built from another clone sharing the target directory must not read that clone.
fn repo_root() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test") + "/../.."
}

/// What cannot work is refused with its path: a dynamic task object as the goal marker (it
/// would be teleported to the goal, making success trivial), a joint hanging from the marker,
/// and a start position outside the joint's limits (it would be snapped back silently).
#[test]
fn markers_that_move_objects_and_starts_outside_limits_are_errors() {
    let drawer: serde_json::Value =
        serde_json::from_str(include_str!("../../../web/tasks/drawer-open.json")).unwrap();
    // A marker that moves an object, and one that a joint hangs from.
    for (marker, error) in [
        ("drawer", "goal.marker: body \"drawer\" is dynamic"),
        (
            "cabinet",
            "joints[0].parent: body \"cabinet\" is the goal marker",
        ),
    ] {
        let mut doc = drawer.clone();
        doc["goal"]["marker"] = serde_json::json!(marker);
        let errors = errors_of(&doc);
        assert!(
            errors.iter().any(|e| e.starts_with(error)),
            "{error}: {errors:?}"
        );
    }
    let mut outside = drawer.clone();
    outside["joints"][0]["start_position"] = serde_json::json!([-0.1, 0.1]);
    let errors = errors_of(&outside);
    assert_eq!(
        errors,
        [
            "joints[0].start_position: [-0.1, 0.1] reaches outside the joint's limits [0, 0.16] (the joint would snap the start back inside)"
        ]
    );
    let mut inside = drawer;
    inside["joints"][0]["start_position"] = serde_json::json!([0.0, 0.1]);
    assert_eq!(errors_of(&inside), Vec::<String>::new());
}

/// Line and column (1-based) of the first occurrence of `needle` in `text` after `after`.
fn line_column_of(text: &str, after: &str, needle: &str) -> (u32, u32) {
    let from = text
        .find(after)
        .unwrap_or_else(|| panic!("{after} not in text"));
    let at = from
        + text[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count() as u32 + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() as u32 + 1;
    (line, column)
}

#[test]
fn every_structural_problem_is_reported_at_once_with_its_line_and_column() {
    let mut v = reach_value();
    v["bodies"][1]["colour"] = serde_json::json!([1, 0, 0]);
    v["bodies"][2]["shape"] = serde_json::json!({"box": {"half_extents": [0.1, 0.1]}});
    v["max_steps"] = serde_json::json!("five hundred");
    v.as_object_mut().unwrap().remove("id");
    let text = serde_json::to_string_pretty(&v).unwrap();
    let err = Task::from_json(&text).unwrap_err();
    let found: Vec<(String, Option<(u32, u32)>)> = err
        .issues
        .iter()
        .map(|i| (i.to_string(), i.line.zip(i.column)))
        .collect();
    let expect = [
        (
            "bodies[1].colour: unknown field `colour`",
            Some(line_column_of(&text, "", "\"colour\"")),
        ),
        (
            "bodies[2].shape.box.half_extents: expected 3 numbers, got 2",
            // Keys print sorted, so the third body's name precedes its shape.
            Some(line_column_of(
                &text,
                &format!("\"name\": {}", v["bodies"][2]["name"]),
                "\"half_extents\"",
            )),
        ),
        (
            "max_steps: invalid type: string \"five hundred\"",
            Some(line_column_of(&text, "", "\"max_steps\"")),
        ),
        // A missing field is placed at the object that lacks it: the document.
        ("missing field `id`", Some((1, 1))),
    ];
    assert_eq!(found.len(), expect.len(), "{found:#?}");
    for (message, at) in expect {
        assert!(
            found
                .iter()
                .any(|(m, a)| m.starts_with(message) && *a == at),
            "missing {message:?} at {at:?} in {found:#?}"
        );
    }
    // No message repeats serde_json's own "at line … column …" (positions are fields).
    assert!(
        found.iter().all(|(m, _)| !m.contains(" at line ")),
        "{found:#?}"
    );
}

#[test]
fn syntax_errors_carry_the_parsers_position() {
    let err = Task::from_json("{\n  \"id\": \"x\",\n  oops\n}").unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert_eq!(
        (err.issues[0].line, err.issues[0].column),
        (Some(3), Some(3)),
        "{err}"
    );
    assert!(err.to_string().ends_with("(line 3, column 3)"), "{err}");
}
