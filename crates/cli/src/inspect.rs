//! Commands that look at tasks and policies without training: `validate`, `expert`, `eval`,
//! `reevaluate`, `import` and `export`.

use crate::log::progress;
use crate::tasks::{TaskArgs, load_task};
use polyskill_learn::eval::evaluate;
use polyskill_learn::{Device, weights};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy, run_episode};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `validate`: every problem of every file, `file:line:col: path: message`, or a JSON report.
pub(crate) fn validate(files: &[PathBuf], json: bool) -> ExitCode {
    let mut report = Vec::new();
    let mut failed = false;
    for file in files {
        let issues = match std::fs::read_to_string(file) {
            Err(e) => vec![polyskill_sim::task::Issue::new(
                "",
                format!("cannot read: {e}"),
            )],
            Ok(text) => match Task::from_json(&text) {
                Ok(_) => vec![],
                Err(e) => e.issues,
            },
        };
        failed |= !issues.is_empty();
        if !json {
            if issues.is_empty() {
                println!("{}: ok", file.display());
            }
            for issue in &issues {
                // `file:line:column: path: message`, the form editors and terminals link.
                match (issue.line, issue.column) {
                    (Some(line), Some(column)) => {
                        println!("{}:{line}:{column}: {issue}", file.display())
                    }
                    _ => println!("{}: {issue}", file.display()),
                }
            }
        }
        report.push(json!({"file": file, "ok": issues.is_empty(), "errors": issues}));
    }
    if json {
        println!("{}", serde_json::Value::Array(report));
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `expert`: the task's scripted expert's success over seeded episodes.
pub(crate) fn expert(
    args: &TaskArgs,
    episodes: u32,
    first_seed: u64,
    json: bool,
) -> Result<(), String> {
    let task = load_task(args)?;
    let mut env = Env::new(task.clone());
    let mut expert =
        ExpertPolicy::for_env(&env).ok_or_else(|| format!("task {} has no expert", task.id))?;
    let bar = progress(episodes as u64, "expert");
    let (mut successes, mut total_return) = (0u32, 0.0f32);
    let started = Instant::now();
    for seed in first_seed..first_seed + episodes as u64 {
        expert.reset();
        let r = run_episode(&mut env, seed, |env| expert.act(env)).map_err(|e| e.to_string())?;
        successes += r.success as u32;
        total_return += r.episode_return;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let rate = successes as f32 / episodes.max(1) as f32;
    let mean_return = total_return / episodes.max(1) as f32;
    if json {
        println!(
            "{}",
            json!({"task": task.id, "episodes": episodes, "first_seed": first_seed,
            "success_rate": rate, "mean_return": mean_return, "seconds": started.elapsed().as_secs_f64()})
        );
    } else {
        println!(
            "{}: expert success {:.1}% over {episodes} episodes, mean return {mean_return:.1}",
            task.id,
            rate * 100.0
        );
    }
    Ok(())
}

/// `eval`: a saved policy's success and return on seeded episodes of one task.
pub(crate) fn eval(
    args: &TaskArgs,
    policy: &Path,
    episodes: u32,
    first_seed: u64,
    json: bool,
) -> Result<(), String> {
    let task = load_task(args)?;
    let policy = read_policy(policy)?;
    let e = evaluate(&policy, &task, first_seed, episodes)?;
    if json {
        println!("{}", json!({"task": task.id, "evaluation": e}));
    } else {
        println!(
            "{}: success {:.1}% over {episodes} episodes (seeds {first_seed}..), mean return {:.1}",
            task.id,
            e.success_rate * 100.0,
            e.mean_return
        );
    }
    Ok(())
}

/// Reads and loads a policy file; errors name the file.
pub(crate) fn read_policy(path: &Path) -> Result<polyskill_learn::Policy, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    weights::load(&bytes, &Device::flex()).map_err(|e| format!("{}: {e}", path.display()))
}

/// `export`: a policy file as an ONNX model.
pub(crate) fn export(policy_file: &Path, out: &Path) -> Result<(), String> {
    let policy = read_policy(policy_file)?;
    let model = polyskill_learn::onnx::export(&policy)
        .map_err(|e| format!("{}: {e}", policy_file.display()))?;
    std::fs::write(out, &model).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!(
        "wrote {} ({} bytes; inputs: observation[batch, {}]{}; output: action)",
        out.display(),
        model.len(),
        policy.observation_size(),
        if policy.info.conditioning == polyskill_learn::Conditioning::None {
            String::new()
        } else {
            format!(", task[batch] (index in {})", policy.info.tasks.join(","))
        }
    );
    Ok(())
}

/// `import`: a PyTorch `Sequential` MLP's safetensors as a Polyskill policy file.
pub(crate) fn import(
    weights_file: &Path,
    architecture: &Path,
    task: Option<&TaskArgs>,
    out: &Path,
) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let arch_text = read(architecture)?;
    let arch: polyskill_learn::Architecture = serde_json::from_slice(&arch_text)
        .map_err(|e| format!("{}: {e}", architecture.display()))?;
    let mut policy = weights::import_sequential(&read(weights_file)?, &arch, &Device::flex())
        .map_err(|e| format!("{}: {e}", weights_file.display()))?;
    if let Some(args) = task {
        let task = load_task(args)?;
        let (inputs, outputs) = (policy.observation_size(), policy.action_size());
        if (inputs, outputs) != (task.observation.size, task.action_size()) {
            return Err(format!(
                "task {} observes {} values and takes {} actions; the network maps {inputs} to {outputs}",
                task.id,
                task.observation.size,
                task.action_size()
            ));
        }
        policy.info.tasks = vec![task.id.clone()];
    }
    policy.info.training["source"] = json!(weights_file.display().to_string());
    let bytes = weights::save(&policy).map_err(|e| e.to_string())?;
    std::fs::write(out, &bytes).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!(
        "wrote {} ({} layers, sizes {:?})",
        out.display(),
        arch.sizes.len() - 1,
        arch.sizes
    );
    Ok(())
}

/// `reevaluate`: each policy on every task it names, over the seeds its metadata records
/// (`0..eval_episodes`), with the figures written back (`eval_success`,
/// `training.eval_success_per_task`); the previous figures are kept under
/// `training.reevaluations`, so a changed figure leaves a trace. The weights are unchanged.
pub(crate) fn reevaluate(policies: &[PathBuf], tasks_dir: &Path) -> Result<(), String> {
    for path in policies {
        let mut policy = read_policy(path)?;
        let episodes = policy.info.eval_episodes.ok_or_else(|| {
            format!(
                "{}: records no evaluation (eval_episodes) to redo",
                path.display()
            )
        })?;
        let mut per_task = serde_json::Map::new();
        for task_id in &policy.info.tasks {
            let task = load_task(&TaskArgs {
                task: task_id.clone(),
                tasks_dir: tasks_dir.to_path_buf(),
            })?;
            let e = evaluate(&policy, &task, 0, episodes)?;
            per_task.insert(task_id.clone(), json!(e.success_rate));
        }
        let mean = per_task.values().filter_map(|v| v.as_f64()).sum::<f64>()
            / per_task.len().max(1) as f64;
        let training = &mut policy.info.training;
        let previous = json!({
            "eval_success": policy.info.eval_success,
            "eval_success_per_task": training["eval_success_per_task"].clone(),
        });
        // Compared as the f32 figures they are: the JSON of the same f32 may differ in its
        // last decimal (…295 or …296) depending on how it was written.
        let as_f32 = |v: &serde_json::Value| v.as_f64().map(|x| x as f32);
        let changed = per_task
            .iter()
            .any(|(task, v)| as_f32(&training["eval_success_per_task"][task]) != as_f32(v));
        if changed {
            if !training["reevaluations"].is_array() {
                training["reevaluations"] = json!([]);
            }
            if let Some(list) = training["reevaluations"].as_array_mut() {
                list.push(previous);
            }
            training["eval_success_per_task"] = json!(per_task);
            policy.info.eval_success = Some(mean as f32);
            let out = weights::save(&policy).map_err(|e| e.to_string())?;
            std::fs::write(path, out).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        println!(
            "{}: mean success {:.1}% over {episodes} seeds per task{}",
            path.display(),
            mean * 100.0,
            if changed {
                " (changed; rewritten)"
            } else {
                " (unchanged)"
            }
        );
    }
    Ok(())
}
