//! `polyskill bench`: simulator steps/s, policy inference and training throughput (one thread),
//! printed or as JSON.

use crate::log::progress;
use crate::tasks::{TaskArgs, load_task};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// `bench` with no name: one task's steps/s and policy inference.
pub(crate) fn bench(args: &TaskArgs, steps: u32, json: bool) -> Result<(), String> {
    let task = load_task(args)?;
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_secs_f64() * 1000.0;
    let report = polyskill_learn::bench::report(&task, steps, 20_000, 100, &now_ms)?;
    let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    value["target"] = json!(format!("{} native", std::env::consts::ARCH));
    if json {
        println!("{value}");
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    }
    Ok(())
}

/// `bench learn`: training samples/s (BC, every architecture and combiner) and PPO's time to
/// solve cart-pole.
pub(crate) fn bench_learn(tasks_dir: &Path, json: bool) -> Result<(), String> {
    let cart_pole = load_task(&TaskArgs {
        task: "cart-pole".into(),
        tasks_dir: tasks_dir.to_path_buf(),
    })?;
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_secs_f64() * 1000.0;
    let report = polyskill_learn::bench::learning(&cart_pole, 2000, &now_ms)?;
    let multitask = polyskill_learn::bench::multitask_throughput(10, 300, &now_ms)?;
    let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    value["target"] = json!(format!("{} native", std::env::consts::ARCH));
    value["multitask_bc_10_tasks"] = serde_json::to_value(&multitask).map_err(|e| e.to_string())?;
    if json {
        println!("{value}");
    } else {
        println!(
            "BC training (39→256→256→4, batch 256, Adam): {:.0} samples/s",
            report.bc.samples_per_s
        );
        let equal = multitask
            .iter()
            .find(|m| m.combiner.as_deref() == Some("mean"))
            .map_or(f64::NAN, |m| m.ms_per_step);
        println!("Multi-task BC, 10 tasks (39+10→256→256→4, batch 256):");
        for m in &multitask {
            println!(
                "  {:<13} {:<12} {:>6} {:>9.0} samples/s {:>7.2} ms/step{}",
                m.architecture,
                m.combiner.as_deref().unwrap_or("pooled"),
                m.engine,
                m.samples_per_s,
                m.ms_per_step,
                if m.combiner.is_some() {
                    format!("  ({:.2}× mean's step)", m.ms_per_step / equal)
                } else {
                    String::new()
                }
            );
        }
        for p in &report.ppo_cart_pole {
            println!(
                "PPO cart-pole seed {}: {} env steps, {:.2} s{}",
                p.seed,
                p.env_steps,
                p.seconds,
                if p.solved { "" } else { " (not solved)" }
            );
        }
    }
    Ok(())
}

/// `bench sim`: steps/s of every listed task and of the multi-task VecEnv.
pub(crate) fn bench_sim(tasks_dir: &Path, steps: u32, json: bool) -> Result<(), String> {
    let index_path = tasks_dir
        .parent()
        .unwrap_or(Path::new("."))
        .join("tasks.json");
    let index: serde_json::Value = std::fs::read_to_string(&index_path)
        .map_err(|e| format!("{}: {e}", index_path.display()))
        .and_then(|t| {
            serde_json::from_str(&t).map_err(|e| format!("{}: {e}", index_path.display()))
        })?;
    let names = index["tasks"]
        .as_array()
        .ok_or_else(|| format!("{}: no \"tasks\" list", index_path.display()))?;
    let tasks = names
        .iter()
        .map(|n| {
            load_task(&TaskArgs {
                task: n.as_str().unwrap_or_default().to_string(),
                tasks_dir: tasks_dir.to_path_buf(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bar = progress(1, "bench sim");
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_secs_f64() * 1000.0;
    let report = polyskill_learn::bench::suite(&tasks, steps, &now_ms)?;
    bar.finish_and_clear();
    let mut value = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    value["target"] = json!(format!("{} native", std::env::consts::ARCH));
    if json {
        println!("{value}");
    } else {
        for f in &report.tasks {
            println!("{:>22}  {:>9.0} steps/s", f.task, f.env_steps_per_s);
        }
        println!(
            "{:>22}  {:>9.0} steps/s",
            "manipulation mean", report.manipulation_mean_steps_per_s
        );
        println!(
            "{:>22}  {:>9.0} steps/s",
            "VecEnv (multi-task)", report.vec_env_steps_per_s
        );
    }
    Ok(())
}
