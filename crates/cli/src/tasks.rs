//! Finding tasks: a name in the tasks directory, a path to a task file, a comma-separated
//! list, or a set named in `tasks.json`; and a run's name from them.

use polyskill_sim::task::Task;
use std::path::{Path, PathBuf};

/// Which task (or tasks) a command works on.
#[derive(clap::Args)]
pub(crate) struct TaskArgs {
    /// Task name (looked up as TASKS_DIR/NAME.json) or a path to a task file.
    #[arg(long)]
    pub task: String,
    /// Directory of task files.
    #[arg(long, default_value = "web/tasks")]
    pub tasks_dir: PathBuf,
}

/// Reads and checks the task `args.task` names (one task).
pub(crate) fn load_task(args: &TaskArgs) -> Result<Task, String> {
    let direct = Path::new(&args.task);
    let path = if direct.is_file() {
        direct.to_path_buf()
    } else {
        args.tasks_dir.join(format!("{}.json", args.task))
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let known: Vec<String> = std::fs::read_dir(&args.tasks_dir)
            .map(|d| {
                d.filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        format!(
            "cannot read task {} ({e}); known tasks in {}: {}",
            path.display(),
            args.tasks_dir.display(),
            known.join(", ")
        )
    })?;
    Task::from_json(&text).map_err(|e| format!("{}:\n{e}", path.display()))
}

/// The tasks `args.task` names: one task, a comma-separated list, or a set from
/// TASKS_DIR/../tasks.json's `sets` (e.g. `mt10`).
pub(crate) fn load_tasks(args: &TaskArgs) -> Result<Vec<Task>, String> {
    let index_path = args
        .tasks_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("tasks.json");
    let sets = std::fs::read_to_string(&index_path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|index| index["sets"].clone())
        .unwrap_or_default();
    let mut tasks = Vec::new();
    for name in args
        .task
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let members: Vec<String> = match sets[name].as_array() {
            Some(list) => list
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            None => vec![name.to_string()],
        };
        for member in members {
            tasks.push(load_task(&TaskArgs {
                task: member,
                tasks_dir: args.tasks_dir.clone(),
            })?);
        }
    }
    if tasks.is_empty() {
        return Err(format!("--task {:?} names no task", args.task));
    }
    Ok(tasks)
}

/// A run's name from `--task`: the tasks joined by `+`, each a task name or, for a path to a
/// task file, its file stem (so a run never names a directory outside the runs directory).
pub(crate) fn run_name(task_arg: &str) -> String {
    task_arg
        .split(',')
        .map(|t| {
            std::path::Path::new(t)
                .file_stem()
                .map_or_else(|| t.to_string(), |s| s.to_string_lossy().into_owned())
        })
        .collect::<Vec<_>>()
        .join("+")
}
