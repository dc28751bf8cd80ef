//! Where a JSON path is in the text: the line and column of the value a validator path such
//! as `bodies[3].shape.sphere.radius` names, so every [`Issue`] can point into the file.
//!
//! The text is parsed once into a positioned syntax tree by `jsonc-parser` (dprint's parser,
//! chosen because it keeps byte ranges for every node and has no dependencies); only text that
//! serde_json has already accepted is parsed here, so the tree is well-formed and shallow.

use crate::Issue;
use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};

/// A parsed text that can place issues.
pub(crate) struct Positions<'a> {
    text: &'a str,
    root: Option<Value<'a>>,
}

/// One step of a validator path.
#[derive(Debug, PartialEq)]
enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

impl<'a> Positions<'a> {
    /// Parses `text` (strict JSON: no comments, no trailing commas).
    pub(crate) fn parse(text: &'a str) -> Self {
        let options = ParseOptions {
            allow_comments: false,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            ..ParseOptions::default()
        };
        let root = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options)
            .ok()
            .and_then(|r| r.value);
        Positions { text, root }
    }

    /// `issue` with its line and column set from its path: the start of the named value's key
    /// (object members) or of the value (array elements); for a path that does not exist in
    /// the text (a missing field), the deepest enclosing value that does.
    pub(crate) fn place(&self, mut issue: Issue) -> Issue {
        if let Some(offset) = self.offset(&issue.path) {
            let (line, column) = line_column(self.text, offset);
            issue.line = Some(line);
            issue.column = Some(column);
        }
        issue
    }

    /// Every issue placed, in document order (stable: issues at one place keep their order).
    pub(crate) fn place_all(&self, issues: Vec<Issue>) -> Vec<Issue> {
        let mut placed: Vec<Issue> = issues.into_iter().map(|i| self.place(i)).collect();
        placed.sort_by_key(|i| (i.line.unwrap_or(0), i.column.unwrap_or(0)));
        placed
    }

    /// Byte offset where `path` (or its deepest existing prefix) starts.
    fn offset(&self, path: &str) -> Option<usize> {
        let mut node = self.root.as_ref()?;
        let mut at = node.range().start;
        for step in steps(path) {
            let next = match (step, node) {
                (Step::Key(key), Value::Object(o)) => o
                    .properties
                    .iter()
                    .find(|p| prop_name(&p.name) == key)
                    .map(|p| (p.range.start, &p.value)),
                (Step::Index(i), Value::Array(a)) => {
                    a.elements.get(i).map(|v| (v.range().start, v))
                }
                _ => None,
            };
            match next {
                Some((start, value)) => {
                    at = start;
                    node = value;
                }
                None => break,
            }
        }
        Some(at)
    }
}

fn prop_name<'n>(name: &'n ObjectPropName<'_>) -> &'n str {
    match name {
        ObjectPropName::String(s) => &s.value,
        ObjectPropName::Word(w) => w.value,
    }
}

/// Splits `a.b[2].c` into steps; the empty path has none.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                out.push(Step::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

/// Whether `path` is `ancestor` or lies inside it (`a.b[2]` is within `a.b` and `a`, not
/// within `a.bc`); everything is within the document, `""`.
pub(crate) fn within(path: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// 1-based line and character column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// serde_json's message without its trailing " at line L column C" (positions are fields).
pub(crate) fn without_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i + 9..].split(" column ").count() == 2 => message[..i].to_string(),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            steps("bodies[3].shape.sphere.radius"),
            [
                Step::Key("bodies"),
                Step::Index(3),
                Step::Key("shape"),
                Step::Key("sphere"),
                Step::Key("radius")
            ]
        );
        assert_eq!(
            steps("a[0][1]"),
            [Step::Key("a"), Step::Index(0), Step::Index(1)]
        );
        assert!(steps("").is_empty());
    }

    #[test]
    fn places_keys_elements_and_missing_fields() {
        let text = "{\n  \"a\": [1,\n    {\"b\": 2}],\n  \"é\": {\"c\": 3}\n}";
        let p = Positions::parse(text);
        let at = |path: &str| {
            let i = p.place(Issue::new(path, "m"));
            (i.line.unwrap(), i.column.unwrap())
        };
        assert_eq!(at(""), (1, 1));
        assert_eq!(at("a"), (2, 3));
        assert_eq!(at("a[1]"), (3, 5));
        assert_eq!(at("a[1].b"), (3, 6));
        // A missing field is placed at the object that should hold it.
        assert_eq!(at("a[1].missing"), (3, 5));
        assert_eq!(at("é.c"), (4, 9));
    }

    #[test]
    fn within_respects_segments() {
        assert!(within("a.b[2]", "a.b"));
        assert!(within("a.b", "a.b"));
        assert!(within("a.b", ""));
        assert!(!within("a.bc", "a.b"));
        assert!(!within("a", "a.b"));
    }

    #[test]
    fn strips_serde_locations_only() {
        assert_eq!(
            without_location("invalid type: string \"2\", expected u32 at line 5 column 24"),
            "invalid type: string \"2\", expected u32"
        );
        assert_eq!(without_location("missing field `id`"), "missing field `id`");
    }
}
