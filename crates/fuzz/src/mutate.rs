//! Structure-aware mutations: of a JSON document (a field deleted, a value replaced by another
//! type, an extreme or a tiny number, an emptied or nested value, a list resized, an unknown
//! key) and of raw bytes (truncation, flipped bytes, spliced runs), the two shapes of input the
//! loaders take.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// Paths (as key/index lists) of every value in a document, the root first.
fn paths(v: &Value, prefix: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(json!(k));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(json!(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The value at `path` (which [`paths`] produced for this document).
fn get_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, key| match key {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap_or(0) as usize],
        _ => v,
    })
}

/// Numbers at the edges of what loaders must handle: huge, tiny, negative, zero, the limits
/// of the integer types, fractions where integers are expected.
const EDGE_NUMBERS: [f64; 12] = [
    1e38,
    -1e38,
    1e-30,
    0.0,
    -1.0,
    0.5,
    4294967295.0,
    4294967296.0,
    1.8e19,
    -0.0,
    65537.0,
    1e300,
];

/// Applies one random structural mutation to `doc`.
pub fn mutate_json(doc: &mut Value, rng: &mut ChaCha8Rng) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let path = all[rng.random_range(0..all.len())].clone();
    let replacement = match rng.random_range(0..12) {
        0 => {
            if let Some((last, parent)) = path.split_last() {
                match (get_mut(doc, parent), last) {
                    (Value::Object(m), Value::String(k)) => {
                        m.remove(k);
                    }
                    (Value::Array(a), Value::Number(i)) => {
                        a.remove(i.as_u64().unwrap_or(0) as usize);
                    }
                    _ => {}
                }
            }
            return;
        }
        1 => json!("<b>a string</b>"),
        2 => json!(EDGE_NUMBERS[rng.random_range(0..EDGE_NUMBERS.len())]),
        3 => json!(rng.random_range(-3..70_000)),
        4 => json!(null),
        5 => json!([]),
        6 => json!({"unexpected": true}),
        7 => {
            // Grow or shrink a list: a copy of an element appended, or the list cut short.
            let target = get_mut(doc, &path);
            if let Value::Array(a) = target {
                if rng.random_bool(0.5) && !a.is_empty() {
                    let copy = a[rng.random_range(0..a.len())].clone();
                    let times = rng.random_range(1..40);
                    a.extend(std::iter::repeat_n(copy, times));
                } else {
                    a.truncate(rng.random_range(0..=a.len()));
                }
                return;
            }
            json!(true)
        }
        8 => {
            // An unknown key beside the known ones.
            if let Value::Object(m) = get_mut(doc, &path) {
                m.insert("misspelt_field".into(), json!(1));
                return;
            }
            json!(false)
        }
        9 => {
            // Another part of the same document in this place (shapes that are plausible).
            let other = all[rng.random_range(0..all.len())].clone();
            get_mut(doc, &other).clone()
        }
        10 => {
            // A string that holds JSON (weights metadata does): mutate what it holds.
            let target = get_mut(doc, &path);
            if let Value::String(text) = target
                && let Ok(mut inner) = serde_json::from_str::<Value>(text)
            {
                mutate_json(&mut inner, rng);
                *text = inner.to_string();
                return;
            }
            json!("")
        }
        _ => {
            let mut deep = get_mut(doc, &path).clone();
            for _ in 0..rng.random_range(1..300) {
                deep = json!([deep]);
            }
            deep
        }
    };
    *get_mut(doc, &path) = replacement;
}

/// Applies one random byte-level mutation to `bytes`.
pub fn mutate_bytes(bytes: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    if bytes.is_empty() {
        bytes.push(rng.random());
        return;
    }
    match rng.random_range(0..4) {
        0 => bytes.truncate(rng.random_range(0..bytes.len())),
        1 => {
            for _ in 0..rng.random_range(1..8) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] = rng.random();
            }
        }
        2 => {
            // Four bytes of an edge value (NaN, infinity, huge lengths) somewhere.
            let edges: [u32; 4] = [0x7fc0_0000, 0x7f80_0000, u32::MAX, 0x8000_0000];
            let i = rng.random_range(0..bytes.len());
            let value = edges[rng.random_range(0..edges.len())].to_le_bytes();
            for (k, b) in value.iter().enumerate() {
                if let Some(slot) = bytes.get_mut(i + k) {
                    *slot = *b;
                }
            }
        }
        _ => {
            let start = rng.random_range(0..bytes.len());
            let end = rng.random_range(start..bytes.len().min(start + 64) + 1);
            let run = bytes[start..end].to_vec();
            let at = rng.random_range(0..bytes.len());
            bytes.splice(at..at, run);
        }
    }
}
