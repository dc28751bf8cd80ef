//! `polyskill-fuzz [--target task|weights|settings|all] [--iterations N] [--seed S]
//! [--root DIR]`: fuzzes the loaders (seed inputs read from the repository at DIR, default
//! `.`) and prints one JSON report per target; `cargo xtask fuzz` runs it. Exits 1 if any
//! case panicked (its input is kept under `tests/fixtures/fuzz/`), 3 on a hang.

use polyskill_fuzz::{Harness, Target};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let run = || -> Result<bool, String> {
        let iterations = value("--iterations").map_or(Ok(100_000), |v| {
            v.parse()
                .map_err(|_| format!("--iterations {v:?}: not a count"))
        })?;
        let seed = value("--seed").map_or(Ok(0), |v| {
            v.parse().map_err(|_| format!("--seed {v:?}: not a number"))
        })?;
        let targets = match value("--target").as_deref() {
            None | Some("all") => Target::ALL.to_vec(),
            Some(name) => vec![Target::parse(name)?],
        };
        let root = PathBuf::from(value("--root").unwrap_or_else(|| ".".into()));
        let mut clean = true;
        for target in targets {
            let report = Harness::new(target, &root)?.run(iterations, seed, &root);
            clean &= report.failures.is_empty();
            println!("{}", report.json());
        }
        Ok(clean)
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
