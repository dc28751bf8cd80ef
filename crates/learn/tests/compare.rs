//! `compare` on a tiny budget: the report's intervals contain its estimates, an interrupted
//! comparison resumes by running only what is missing, a changed spec is refused, and a spec
//! with a typo names the path of the mistake.

use polyskill_learn::compare::{CompareSpec, run_matrix, run_path};
use polyskill_sim::task::Task;
use std::sync::atomic::{AtomicUsize, Ordering};

fn tasks() -> Vec<Task> {
    vec![
        Task::from_json(include_str!("../../../web/tasks/cart-pole.json")).unwrap(),
        Task::from_json(include_str!(
            "../../../docs/experiments/tasks/cart-pole-swapped.json"
        ))
        .unwrap(),
    ]
}

const SPEC: &str = r#"{
  "name": "tiny",
  "algorithm": "ppo",
  "tasks": ["cart-pole", "cart-pole-swapped"],
  "seeds": [1, 2, 3],
  "methods": [
    {"name": "mt-ppo"},
    {"name": "pcgrad", "combiner": "pcgrad"},
    {"name": "single", "single_task": true}
  ],
  "settings": {"total_steps": 4096, "hidden": [16, 16]},
  "evaluation": {"episodes": 4, "checkpoint_every": 2048, "validation_episodes": 2}
}"#;

#[test]
fn a_tiny_comparison_reports_intervals_and_resumes_what_is_missing() {
    let out = std::env::temp_dir().join(format!("polyskill-compare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let spec = CompareSpec::from_json(SPEC).unwrap();
    let ran = AtomicUsize::new(0);
    let report = run_matrix(&spec, &tasks(), &out, 2, |_, _, _| {
        ran.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 9);
    assert_eq!(report.runs.len(), 9);
    for m in &report.methods {
        assert_eq!(m.runs, 3, "{}", m.method);
        for e in [m.mean, m.iqm].iter().chain(m.best_iqm.iter()) {
            assert!(e.low <= e.value && e.value <= e.high, "{}: {e:?}", m.method);
        }
        assert_eq!(m.per_task.len(), 2);
    }
    let pcgrad = &report.methods[1];
    assert!(pcgrad.mean_cosine.is_some() && report.methods[0].mean_cosine.is_none());
    assert!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .contains("| pcgrad | 3 |")
    );

    // Interrupted: one run's file is gone; only that run trains again, to the same result.
    let lost = run_path(&out, "pcgrad", 2);
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lost).unwrap()).unwrap();
    std::fs::remove_file(&lost).unwrap();
    let ran = AtomicUsize::new(0);
    let resumed = run_matrix(&spec, &tasks(), &out, 2, |_, _, _| {
        ran.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lost).unwrap()).unwrap();
    assert_eq!(
        before["success"], after["success"],
        "a rerun from its seed gives the same figures"
    );
    assert_eq!(resumed.methods[1].mean, report.methods[1].mean);

    // A different spec does not mix with these runs.
    let mut changed = spec.clone();
    changed.seeds.push(4);
    let error = run_matrix(&changed, &tasks(), &out, 2, |_, _, _| {}).unwrap_err();
    assert!(error.contains("different spec"), "{error}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn spec_mistakes_name_their_path() {
    let typo = SPEC.replace("\"combiner\": \"pcgrad\"", "\"combinr\": \"pcgrad\"");
    let error = CompareSpec::from_json(&typo).unwrap_err();
    assert!(
        error.contains("methods[1]") && error.contains("combinr"),
        "{error}"
    );
    let unknown = SPEC.replace("\"combiner\": \"pcgrad\"", "\"combiner\": \"pc-grad\"");
    let error = CompareSpec::from_json(&unknown).unwrap_err();
    assert!(
        error.contains("methods[1].combiner") && error.contains("pcgrad"),
        "{error}"
    );
    let setting = SPEC.replace("\"total_steps\"", "\"total_stepz\"");
    let spec = CompareSpec::from_json(&setting).unwrap();
    let out = std::env::temp_dir().join(format!("polyskill-compare-typo-{}", std::process::id()));
    let error = run_matrix(&spec, &tasks(), &out, 1, |_, _, _| {}).unwrap_err();
    assert!(
        error.contains("settings.total_stepz") && error.contains("total_steps"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The compare page's list of shipped reports is the reports that are there.
#[test]
fn the_shipped_report_index_is_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/comparisons");
    let committed = std::fs::read_to_string(dir.join("index.json")).unwrap_or_default();
    let current = polyskill_learn::compare::report_index(&dir).unwrap() + "\n";
    assert_eq!(
        committed, current,
        "docs/comparisons/index.json is stale: run polyskill compare (it rewrites it) or write report_index's output there"
    );
}
