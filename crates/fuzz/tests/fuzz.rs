//! The fuzzers in the test suite: a short run of every target must find no panic (the long
//! runs are `cargo xtask fuzz`), and every input a fuzzer ever kept as a failure is replayed
//! and must now end in a value or an error.

use polyskill_fuzz::{Harness, Target, fixture_dir};
use std::path::PathBuf;

/// The repository root, read at run time: a test binary built from another clone sharing the
/// target directory must not read that clone.
fn root() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test"))
        .join("../..")
}

/// Runs `iterations` cases of `target`, asserting no panic and that both outcomes occurred
/// (a fuzzer that never gets past the parser, or never fails it, tests nothing).
fn short_run(target: Target, iterations: u64) {
    let root = root();
    let report = Harness::new(target, &root)
        .unwrap()
        .run(iterations, 7, &root);
    println!("{}", report.json());
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert_eq!(report.executions, iterations);
    assert!(
        report.accepted > 0,
        "no mutant was accepted: the use half never ran"
    );
    assert!(
        report.accepted < iterations,
        "every mutant was accepted: the mutations do nothing"
    );
}

#[test]
fn mutated_task_files_never_panic_or_hang() {
    short_run(Target::Task, 2_000);
}

#[test]
fn mutated_weights_files_never_panic() {
    short_run(Target::Weights, 10_000);
}

#[test]
fn mutated_training_settings_never_panic() {
    short_run(Target::Settings, 2_000);
}

#[test]
fn every_kept_failure_is_now_an_error_or_a_value() {
    let root = root();
    let mut replayed = 0;
    for target in Target::ALL {
        let harness = Harness::new(target, &root).unwrap();
        let Ok(entries) = std::fs::read_dir(fixture_dir(&root, target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            if let Err(message) = harness.execute(&input) {
                panic!("{} still panics: {message}", path.display());
            }
            replayed += 1;
        }
    }
    println!("{replayed} kept failures replayed");
}
