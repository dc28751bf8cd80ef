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

/// `bench render`: native frame times at 1280×720 (shadow pass, the scene and its resolve,
/// waited for on the device) over 200 steps of an expert episode, at both qualities.
pub(crate) fn bench_render(args: &TaskArgs, json: bool) -> Result<(), String> {
    use polyskill_render::{Camera, OFFSCREEN_FORMAT, Quality, Renderer, offscreen};
    let task = load_task(args)?;
    let (width, height) = (1280, 720);
    let mut rows = Vec::new();
    for (name, quality) in [
        ("full", Quality::FULL),
        ("software", Quality::SOFTWARE),
        ("basic", Quality::BASIC),
    ] {
        let mut env = polyskill_sim::Env::new(task.clone());
        env.reset(0);
        let mut expert = polyskill_sim::ExpertPolicy::for_env(&env);
        let (device, queue, adapter) = offscreen::device()?;
        let mut renderer = Renderer::with_quality(device, queue, OFFSCREEN_FORMAT, quality);
        let camera = Camera::for_task(env.task());
        let target = renderer.offscreen_target(width, height);
        let view = target.create_view(&Default::default());
        let mut times = Vec::new();
        for frame in 0..210 {
            let visuals = env.visuals();
            let start = Instant::now();
            renderer.render(&view, width, height, &visuals, &camera);
            renderer
                .device()
                .poll(polyskill_render::wgpu::PollType::wait_indefinitely())
                .map_err(|e| e.to_string())?;
            // The first frames compile pipelines and allocate targets: not timed.
            if frame >= 10 {
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            let action = match expert.as_mut() {
                Some(e) => e.act(&env),
                None => vec![0.0; env.task().action_size()],
            };
            let step = env.step(&action).map_err(|e| e.to_string())?;
            if step.terminated || step.truncated {
                env.reset(frame);
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        if !json {
            println!(
                "{} at {name} quality ({quality:?}): {width}×{height} on {adapter}: mean {mean:.1} ms, median {:.1}, p95 {:.1}, max {:.1} ms per frame",
                task.id,
                at(0.5),
                at(0.95),
                at(1.0)
            );
        }
        rows.push(json!({
            "quality": name, "samples": quality.samples, "shadow_map": quality.shadow_map,
            "adapter": adapter, "frames": times.len(), "mean_ms": mean, "median_ms": at(0.5),
            "p95_ms": at(0.95), "max_ms": at(1.0),
        }));
    }
    if json {
        println!(
            "{}",
            json!({"task": task.id, "width": width, "height": height, "render": rows})
        );
    }
    Ok(())
}
