//! Property test: mutated versions of every shipped task file (fields deleted, types swapped,
//! huge or tiny numbers, deep nesting, resized arrays) never panic or hang, whether they are
//! rejected with errors or accepted and simulated for a few steps.

use polyskill_sim::task::Task;
use polyskill_sim::{Env, RandomPolicy};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::sync::mpsc;
use std::time::Duration;

/// Paths (as key/index lists) of every value in a document.
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

fn get_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, key| match key {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

fn mutate(doc: &mut Value, rng: &mut ChaCha8Rng) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let path = all[rng.random_range(0..all.len())].clone();
    let replacement = match rng.random_range(0..9) {
        0 => {
            // Delete the field or element.
            if let Some((last, parent)) = path.split_last() {
                match (get_mut(doc, parent), last) {
                    (Value::Object(m), Value::String(k)) => {
                        m.remove(k);
                    }
                    (Value::Array(a), Value::Number(i)) => {
                        a.remove(i.as_u64().unwrap() as usize);
                    }
                    _ => {}
                }
            }
            return;
        }
        1 => json!("a string"),
        2 => json!(1e38),
        3 => json!(-1e38),
        4 => json!(rng.random_range(-3..4)),
        5 => json!(1e-30),
        6 => json!([]),
        7 => json!({"unexpected": true}),
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

/// Loads (and, if valid, simulates) a document on a worker thread with a deadline.
fn exercise(text: String) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(task) = Task::from_json(&text) {
                let mut env = Env::new(task);
                env.reset(1);
                let action = RandomPolicy::new(env.task(), 1).act();
                for _ in 0..20 {
                    match env.step(&action) {
                        Ok(s) if s.terminated || s.truncated => break,
                        Ok(_) => {}
                        Err(e) => panic!("valid task but step failed: {e}"),
                    }
                }
            }
        });
        let _ = tx.send(outcome.map_err(|payload| {
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        }));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(())) => worker.join().map_err(|_| "worker died".to_string()),
        Ok(Err(message)) => Err(format!("panicked: {message}")),
        Err(_) => Err("hung for more than 20 s".into()),
    }
}

#[test]
fn mutated_task_files_never_panic_or_hang() {
    std::panic::set_hook(Box::new(|_| {}));
    let dir = &format!("{}/web/tasks", repo_root());
    let mut failures = Vec::new();
    let mut accepted = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        for case in 0..150 {
            let mut doc = original.clone();
            for _ in 0..rng.random_range(1..4) {
                mutate(&mut doc, &mut rng);
            }
            let text = doc.to_string();
            accepted += Task::from_json(&text).is_ok() as u32;
            if let Err(e) = exercise(text.clone()) {
                failures.push(format!(
                    "{} case {case}: {e}\n{}",
                    path.display(),
                    &text[..text.len().min(400)]
                ));
            }
        }
    }
    let _ = std::panic::take_hook();
    assert!(
        failures.is_empty(),
        "{} failures, first: {}",
        failures.len(),
        failures[0]
    );
    assert!(
        accepted > 0,
        "no mutation was accepted: the simulation half of the test never ran"
    );
}

/// The repository root, read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): a test
/// binary built from another clone sharing the target directory must not read that clone.
fn repo_root() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test") + "/../.."
}
