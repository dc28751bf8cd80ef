//! `polyskill compare`: a comparison spec's matrix of runs, resumable, and its report.

use crate::tasks::{TaskArgs, load_tasks};
use std::path::{Path, PathBuf};

/// `polyskill compare`: loads the spec and its tasks (names, sets, or files relative to the
/// spec), runs what is not yet done, and prints the report's table.
pub(crate) fn compare(
    spec_path: &Path,
    out: Option<PathBuf>,
    resume: bool,
    report_only: bool,
    workers: usize,
    tasks_dir: &Path,
) -> Result<(), String> {
    use polyskill_learn::compare::{CompareSpec, report_so_far, run_matrix, write_report_index};
    let text =
        std::fs::read_to_string(spec_path).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let spec =
        CompareSpec::from_json(&text).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let base = spec_path.parent().unwrap_or(Path::new("."));
    let mut tasks = Vec::new();
    for name in &spec.tasks {
        let beside = base.join(name);
        let task = if beside.is_file() {
            beside.to_string_lossy().into_owned()
        } else {
            name.clone()
        };
        tasks.extend(load_tasks(&TaskArgs {
            task,
            tasks_dir: tasks_dir.to_path_buf(),
        })?);
    }
    let out = out.unwrap_or_else(|| spec_path.with_extension(""));
    let started = out
        .join("runs")
        .read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    // The compare page lists the reports beside this one.
    let index = |out: &Path| match out.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => write_report_index(parent),
        None => Ok(()),
    };
    if report_only {
        let report = report_so_far(&spec, &tasks, &out)?;
        println!("{}", polyskill_learn::compare::markdown(&report));
        return index(&out);
    }
    if started && !resume {
        return Err(format!(
            "{} already holds runs: pass --resume to continue them, or choose another --out",
            out.display()
        ));
    }
    let total = spec.methods.len() * spec.seeds.len();
    eprintln!(
        "compare {}: {} methods × {} seeds on {} task(s), {workers} at a time -> {}",
        spec.name,
        spec.methods.len(),
        spec.seeds.len(),
        tasks.len(),
        out.display()
    );
    let report = run_matrix(&spec, &tasks, &out, workers, |run, done, _| {
        let mean = run.success.iter().sum::<f32>() / run.success.len().max(1) as f32;
        eprintln!(
            "  [{done}/{total}] {} seed {}: success {:.1}% in {:.0} s{}",
            run.method,
            run.seed,
            100.0 * mean,
            run.seconds,
            run.error
                .as_ref()
                .map(|e| format!(" (stopped early: {e})"))
                .unwrap_or_default()
        );
    })?;
    println!("{}", polyskill_learn::compare::markdown(&report));
    index(&out)
}
