//! Every structural problem of a task file at once: the parsed JSON checked against the task
//! format's JSON Schema (generated from the serde types by schemars, so it cannot drift).
//!
//! serde stops at the first problem; this walk does not. It understands the part of JSON
//! Schema that schemars emits for these types — `$ref`, `type`, `properties`, `required`,
//! `additionalProperties: false`, `items`, `minItems`/`maxItems`, `const`, integer `format`s
//! and `minimum`, and `oneOf`/`anyOf` for enums and `Option`s — and words each problem as serde
//! would (`unknown field`, `missing field`, `invalid type`, `unknown variant`), choosing an
//! enum's variant by its tag so a problem inside a variant is reported there, not as "matches
//! none of the alternatives". (A general validator such as the `jsonschema` crate reports that
//! last form for every problem inside an enum and adds about a hundred crates to the build.)

use crate::Issue;
use serde_json::{Map, Value};

/// All structural problems of `value` against `schema` (a root schema with `$defs`).
pub(crate) fn check(schema: &Value, value: &Value) -> Vec<Issue> {
    let mut walker = Walker {
        root: schema,
        issues: Vec::new(),
    };
    walker.walk(schema, value, "");
    walker.issues
}

struct Walker<'s> {
    root: &'s Value,
    issues: Vec<Issue>,
}

/// How deep `$ref`s may nest for one value (the schema is finite; this only guards a cycle).
const MAX_REF_HOPS: usize = 16;

impl<'s> Walker<'s> {
    fn push(&mut self, path: &str, message: String) {
        self.issues.push(Issue::new(path, message));
    }

    /// Follows `$ref`s (`#/$defs/Name`) to the schema that says something.
    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..MAX_REF_HOPS {
            match schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| self.root.get("$defs")?.get(name))
            {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    fn walk(&mut self, schema: &'s Value, value: &Value, path: &str) {
        let schema = self.resolve(schema);
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            return self.one_of(branches, value, path);
        }
        if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
            return self.any_of(branches, value, path);
        }
        if let Some(expected) = schema.get("const") {
            if value != expected {
                self.push(
                    path,
                    format!("invalid value: {}, expected {expected}", describe(value)),
                );
            }
            return;
        }
        if let Some(types) = schema.get("type")
            && !types_match(types, schema, value)
        {
            let expected = expectation(types, schema);
            return self.push(
                path,
                format!("invalid type: {}, expected {expected}", describe(value)),
            );
        }
        match value {
            Value::Object(object) => self.object(schema, object, path),
            Value::Array(items) => self.array(schema, items, path),
            Value::Number(n) => self.integer_range(schema, n, path),
            _ => {}
        }
    }

    fn object(&mut self, schema: &'s Value, object: &Map<String, Value>, path: &str) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        for (key, child) in object {
            let child_path = join(path, key);
            match properties.and_then(|p| p.get(key)) {
                Some(child_schema) => self.walk(child_schema, child, &child_path),
                None if closed => {
                    let names: Vec<String> = properties
                        .into_iter()
                        .flat_map(|p| p.keys())
                        .map(|k| format!("`{k}`"))
                        .collect();
                    self.push(
                        &child_path,
                        format!(
                            "unknown field `{key}`, expected one of {}",
                            names.join(", ")
                        ),
                    );
                }
                None => {}
            }
        }
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                self.push(path, format!("missing field `{name}`"));
            }
        }
    }

    fn array(&mut self, schema: &'s Value, items: &[Value], path: &str) {
        let min = schema.get("minItems").and_then(Value::as_u64);
        let max = schema.get("maxItems").and_then(Value::as_u64);
        let len = items.len() as u64;
        if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
            let numbers = schema
                .get("items")
                .map(|s| self.resolve(s).get("type") == Some(&Value::from("number")))
                .unwrap_or(false);
            let what = if numbers { "numbers" } else { "elements" };
            let message = match (min, max) {
                (Some(a), Some(b)) if a == b => format!("expected {a} {what}, got {len}"),
                (Some(a), Some(b)) => format!("expected {a} to {b} {what}, got {len}"),
                (Some(a), None) => format!("expected at least {a} {what}, got {len}"),
                (_, Some(b)) => format!("expected at most {b} {what}, got {len}"),
                (None, None) => unreachable!("a length bound was exceeded"),
            };
            self.push(path, message);
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.walk(item_schema, item, &format!("{path}[{i}]"));
            }
        }
    }

    fn integer_range(&mut self, schema: &Value, n: &serde_json::Number, path: &str) {
        let max = match schema.get("format").and_then(Value::as_str) {
            Some("uint32") => Some(u32::MAX as f64),
            Some("int32") => Some(i32::MAX as f64),
            _ => None,
        };
        let min = schema.get("minimum").and_then(Value::as_f64);
        let v = n.as_f64().unwrap_or(f64::NAN);
        if max.is_some_and(|m| v > m) || min.is_some_and(|m| v < m) {
            let format = schema
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or("number");
            self.push(
                path,
                format!("invalid value: {n} is out of range for {format}"),
            );
        }
    }

    /// An enum: unit variants are `{"const": name}`, the others `{"required": [name], …}`.
    fn one_of(&mut self, branches: &'s [Value], value: &Value, path: &str) {
        let mut unit = Vec::new();
        let mut tagged = Vec::new();
        for branch in branches {
            let branch = self.resolve(branch);
            if let Some(name) = branch.get("const").and_then(Value::as_str) {
                unit.push(name);
            } else if let Some(name) = single_required(branch) {
                tagged.push((name, branch));
            } else {
                // Not an enum this walker knows: accept what one alternative accepts.
                return self.any_of(branches, value, path);
            }
        }
        let names = || {
            let all: Vec<String> = unit
                .iter()
                .chain(tagged.iter().map(|(n, _)| n))
                .map(|n| format!("`{n}`"))
                .collect();
            all.join(", ")
        };
        match value {
            Value::String(s) if unit.contains(&s.as_str()) => {}
            Value::String(s) if tagged.iter().any(|(n, _)| n == s) => self.push(
                path,
                format!("variant `{s}` needs its settings: write {{\"{s}\": {{…}}}}"),
            ),
            Value::String(s) => {
                self.push(path, format!("unknown variant `{s}`, expected one of {}", names()))
            }
            Value::Object(object) if object.len() == 1 => {
                let (key, inner) = object.iter().next().expect("one entry");
                if let Some((_, branch)) = tagged.iter().find(|(n, _)| n == key) {
                    let inner_schema = branch.get("properties").and_then(|p| p.get(key.as_str()));
                    if let Some(inner_schema) = inner_schema {
                        self.walk(inner_schema, inner, &join(path, key));
                    }
                } else if unit.contains(&key.as_str()) {
                    self.push(
                        path,
                        format!("variant `{key}` takes no settings: write it as the string \"{key}\""),
                    );
                } else {
                    self.push(
                        &join(path, key),
                        format!("unknown variant `{key}`, expected one of {}", names()),
                    );
                }
            }
            other => self.push(
                path,
                format!(
                    "invalid type: {}, expected one of {} (a string, or an object with one of them as its only key)",
                    describe(other),
                    names()
                ),
            ),
        }
    }

    /// Alternatives (an `Option`'s `null`, or an untagged choice): fine if one accepts the
    /// value; otherwise the problems of the alternative that came closest.
    fn any_of(&mut self, branches: &'s [Value], value: &Value, path: &str) {
        let mut best: Option<Vec<Issue>> = None;
        for branch in branches {
            let resolved = self.resolve(branch);
            if !value.is_null() && resolved.get("type") == Some(&Value::from("null")) {
                continue;
            }
            let mut trial = Walker {
                root: self.root,
                issues: Vec::new(),
            };
            trial.walk(branch, value, path);
            if trial.issues.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| trial.issues.len() < b.len()) {
                best = Some(trial.issues);
            }
        }
        match best {
            Some(issues) => self.issues.extend(issues),
            None => self.push(path, format!("invalid type: {}", describe(value))),
        }
    }
}

/// The one required key of an externally tagged variant's schema.
fn single_required(schema: &Value) -> Option<&str> {
    match schema.get("required")?.as_array()?.as_slice() {
        [name] => name.as_str(),
        _ => None,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn types_match(types: &Value, schema: &Value, value: &Value) -> bool {
    let one = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => {
            let unsigned = matches!(
                schema.get("format").and_then(Value::as_str),
                Some("uint" | "uint8" | "uint16" | "uint32" | "uint64")
            );
            value.is_u64() || (!unsigned && value.is_i64())
        }
        _ => true,
    };
    match types {
        Value::String(t) => one(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

/// What a schema's `type` asks for, in words.
fn expectation(types: &Value, schema: &Value) -> String {
    let one = |t: &str| match (t, schema.get("format").and_then(Value::as_str)) {
        ("integer", Some(f)) if f.starts_with("uint") => "a whole number ≥ 0".to_string(),
        ("integer", _) => "a whole number".to_string(),
        ("number", _) => "a number".to_string(),
        ("string", _) => "a string".to_string(),
        ("boolean", _) => "true or false".to_string(),
        ("object", _) => "an object".to_string(),
        ("array", _) => "a list".to_string(),
        ("null", _) => "null".to_string(),
        (other, _) => other.to_string(),
    };
    match types {
        Value::String(t) => one(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a value".to_string(),
    }
}

/// A JSON value in serde's words (`string "x"`, `integer 5`, `a list`), shortened.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("floating point `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            let more = if short.len() < s.len() { "…" } else { "" };
            format!("string {short:?}{more}")
        }
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issues(value: Value) -> Vec<String> {
        let schema = crate::Task::json_schema();
        check(&schema, &value)
            .iter()
            .map(|i| i.to_string())
            .collect()
    }

    #[test]
    fn enum_problems_are_reported_inside_the_chosen_variant() {
        let task: Value =
            serde_json::from_str(include_str!("../../../web/tasks/reach.json")).unwrap();
        assert!(
            issues(task.clone()).is_empty(),
            "{:?}",
            issues(task.clone())
        );
        let mut v = task.clone();
        v["bodies"][0]["shape"] = json!({"box": {"half_extents": [1, 2]}});
        v["bodies"][1]["shape"] = json!({"cubiod": {"half_extents": [1, 2, 3]}});
        v["bodies"][2]["motion"] = json!("floating");
        let found = issues(v);
        assert_eq!(
            found,
            [
                "bodies[0].shape.box.half_extents: expected 3 numbers, got 2",
                "bodies[1].shape.cubiod: unknown variant `cubiod`, expected one of `box`, `sphere`, `cylinder`, `capsule`",
                "bodies[2].motion: unknown variant `floating`, expected one of `fixed`, `dynamic`, `kinematic`",
            ],
            "{found:#?}"
        );
    }

    #[test]
    fn options_accept_null_and_check_their_value() {
        let mut v: Value =
            serde_json::from_str(include_str!("../../../web/tasks/reach.json")).unwrap();
        v["view"] = Value::Null;
        v["bodies"][1]["rotation"] = json!([0, 0, "a", 1]);
        v["max_steps"] = json!(-3);
        let found = issues(v);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with(
                "bodies[1].rotation[2]: invalid type: string \"a\", expected a number"
            ),
            "{found:#?}"
        );
        assert!(
            found[1]
                .starts_with("max_steps: invalid type: integer `-3`, expected a whole number ≥ 0"),
            "{found:#?}"
        );
    }

    #[test]
    fn every_shipped_task_passes_the_structure_check() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/tasks");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let value: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                assert_eq!(issues(value), Vec::<String>::new(), "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 14, "only {seen} task files in {}", dir.display());
    }
}
