//! `cargo xtask docs`: the tables of figures in the docs, generated from data so a re-trained
//! policy or a new measurement cannot leave a stale number behind. Each table lives between
//! `<!-- BEGIN generated:NAME -->` and `<!-- END generated:NAME -->` in a Markdown file; the
//! rest of the file is prose and stays as written. Sources:
//! - `shipped-policies` (docs/results.md): `web/policies.json` and each weights file's
//!   safetensors metadata (its recorded evaluation and algorithm);
//! - `side-by-side` (docs/performance.md): the saved benchmark JSON in `docs/benchmarks/`
//!   (`polyskill bench learn --json`, `polyskill bench --json`, and the peer scripts' output),
//!   described by `docs/benchmarks/side-by-side.json` (when, on what CPU, which files);
//! - `browser-same-network` (docs/performance.md): `docs/benchmarks/web.json` (`cargo xtask
//!   bench-web`), our wasm inference beside onnxruntime-web in one page;
//! - `python-peers` and `extended` (docs/python.md): `docs/benchmarks/python-peers.json` and
//!   `extended.json`, written by `cargo xtask test --extended`.
//!
//! `cargo xtask docs --check` (and the test below, part of `cargo test --workspace`) fails when
//! a committed table differs from what the data gives.

use serde_json::Value;
use std::path::Path;

/// A generated region: the file it lives in, its name, and how to make its text.
struct Region {
    file: &'static str,
    name: &'static str,
    make: fn(&Path) -> Result<String, String>,
}

const REGIONS: [Region; 5] = [
    Region {
        file: "docs/results.md",
        name: "shipped-policies",
        make: shipped_policies,
    },
    Region {
        file: "docs/performance.md",
        name: "side-by-side",
        make: side_by_side,
    },
    Region {
        file: "docs/performance.md",
        name: "browser-same-network",
        make: browser_same_network,
    },
    Region {
        file: "docs/python.md",
        name: "python-peers",
        make: python_peers,
    },
    Region {
        file: "docs/python.md",
        name: "extended",
        make: extended,
    },
];

/// Every file with generated regions, as the data says it should read: `(path, current, new)`.
pub fn generate(root: &Path) -> Result<Vec<(String, String, String)>, String> {
    let mut files: Vec<(String, String, String)> = Vec::new();
    for region in &REGIONS {
        let index = match files.iter().position(|(f, _, _)| f == region.file) {
            Some(i) => i,
            None => {
                let text = read(&root.join(region.file))?;
                files.push((region.file.to_string(), text.clone(), text));
                files.len() - 1
            }
        };
        let body = (region.make)(root)?;
        let text = &files[index].2;
        files[index].2 = replace_region(text, region.name, &body)
            .map_err(|e| format!("{}: {e}", region.file))?;
    }
    Ok(files)
}

/// `cargo xtask docs [--check]`: writes the regions, or with `check` only says which differ.
pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let mut stale = Vec::new();
    for (file, current, new) in generate(root)? {
        if current == new {
            continue;
        }
        if check {
            stale.push(file);
        } else {
            std::fs::write(root.join(&file), new).map_err(|e| format!("writing {file}: {e}"))?;
            println!("xtask: regenerated the tables in {file}");
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "generated tables are out of date in {}: run `cargo xtask docs`",
            stale.join(", ")
        ))
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Result<Value, String> {
    serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// `text` with the region `name`'s body replaced by `body`.
fn replace_region(text: &str, name: &str, body: &str) -> Result<String, String> {
    let begin = format!("<!-- BEGIN generated:{name} (cargo xtask docs; do not edit) -->");
    let end = format!("<!-- END generated:{name} -->");
    let start = text
        .find(&begin)
        .ok_or_else(|| format!("no line {begin}"))?;
    let stop = text[start..]
        .find(&end)
        .map(|i| start + i)
        .ok_or_else(|| format!("no line {end} after {begin}"))?;
    Ok(format!(
        "{}{begin}\n{body}{}",
        &text[..start],
        &text[stop..]
    ))
}

/// The `__metadata__` of a safetensors file, with its JSON-valued entries parsed.
fn metadata(path: &Path) -> Result<serde_json::Map<String, Value>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let length = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
        .ok_or_else(|| format!("{}: not a safetensors file", path.display()))?;
    let header: Value = bytes
        .get(8..8 + length)
        .and_then(|h| serde_json::from_slice(h).ok())
        .ok_or_else(|| format!("{}: unreadable safetensors header", path.display()))?;
    let raw = header["__metadata__"]
        .as_object()
        .ok_or_else(|| format!("{}: no __metadata__", path.display()))?;
    Ok(raw
        .iter()
        .map(|(k, v)| {
            let text = v.as_str().unwrap_or_default();
            (
                k.clone(),
                serde_json::from_str(text).unwrap_or(Value::String(text.into())),
            )
        })
        .collect())
}

/// A success rate as a whole percentage (`97%`), one decimal for a mean over tasks.
fn percent(rate: f64, decimals: usize) -> String {
    format!("{:.*}%", decimals, rate * 100.0)
}

/// The shipped policies: what trained each, how, and what it scores on its recorded seeds.
fn shipped_policies(root: &Path) -> Result<String, String> {
    let index = read_json(&root.join("web/policies.json"))?;
    let mut out = String::from(
        "| policy | algorithm | success on seeds 0–99 (per task) | trained with `polyskill train` |\n|---|---|---|---|\n",
    );
    for policy in index["policies"]
        .as_array()
        .ok_or("web/policies.json: no policies")?
    {
        let name = policy["name"].as_str().unwrap_or_default();
        let meta = metadata(&root.join(format!("web/weights/{name}.safetensors")))?;
        let episodes = meta["eval_episodes"].as_u64().unwrap_or(0);
        if episodes != 100 {
            return Err(format!(
                "{name}: evaluated on {episodes} seeds; the table says 0–99"
            ));
        }
        let training = &meta["training"];
        let per_task = training["eval_success_per_task"]
            .as_object()
            .ok_or_else(|| format!("{name}: no eval_success_per_task"))?;
        let tasks: Vec<&str> = meta["tasks"]
            .as_array()
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let rate = |task: &str| {
            per_task
                .get(task)
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN)
        };
        let success = match tasks.as_slice() {
            [one] => percent(rate(one), 0),
            many => format!(
                "**{}** mean ({})",
                percent(meta["eval_success"].as_f64().unwrap_or(f64::NAN), 1),
                many.iter()
                    .map(|t| format!("{t} {}", percent(rate(t), 0)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let args: Vec<&str> = policy["train"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "| {name} | {} | {success} | `{}` |\n",
            training["algorithm"].as_str().unwrap_or("?"),
            args.join(" ")
        ));
    }
    Ok(out)
}

/// `v` as a number, or an error naming `what`.
fn number(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("benchmark JSON: {what} is not a number"))
}

/// Our wasm inference and onnxruntime-web on the same exported network, in one page.
fn browser_same_network(root: &Path) -> Result<String, String> {
    let web = read_json(&root.join("docs/benchmarks/web.json"))?;
    let same = &web["same_network_as_onnxruntime_web"];
    let mut out = format!(
        "Measured by `cargo xtask bench-web` in {} (one page, one thread each): {} (reach-bc, exported by our ONNX exporter), from the raw observation, against onnxruntime-web {} (wasm backend). Source: `docs/benchmarks/web.json`.\n\n| batch | Polyskill wasm (µs) | onnxruntime-web (µs) | ratio (theirs / ours) |\n|---|---|---|---|\n",
        web["target"].as_str().unwrap_or("?"),
        same["network"].as_str().unwrap_or("?"),
        same["onnxruntime_web"].as_str().unwrap_or("?"),
    );
    for batch in [1, 1024] {
        let row = &same[format!("batch_{batch}")];
        let ours = number(&row["polyskill_us"], "polyskill_us")?;
        let theirs = number(&row["onnxruntime_web_us"], "onnxruntime_web_us")?;
        out.push_str(&format!(
            "| {batch} | {ours:.1} | {theirs:.1} | {:.2}× |\n",
            theirs / ours
        ));
    }
    Ok(out)
}

/// Polyskill, Meta-World and EnvPool stepped through Python on the same actions.
fn python_peers(root: &Path) -> Result<String, String> {
    let peers = read_json(&root.join("docs/benchmarks/python-peers.json"))?;
    let v = &peers["versions"];
    let mut out = format!(
        "Measured {} on {} ({} cores) by `python/extended/bench_peers.py`: one environment, one thread, {} steps of the same uniform random actions per task (median of three passes); Gymnasium {}, Meta-World {} (MuJoCo {}), EnvPool {}. Source: `docs/benchmarks/python-peers.json`.\n\n| task | Polyskill (steps/s) | Meta-World | EnvPool (C++) | Polyskill / EnvPool |\n|---|---|---|---|---|\n",
        peers["date"].as_str().unwrap_or("?"),
        peers["machine"]["cpu"].as_str().unwrap_or("?"),
        peers["machine"]["cores"],
        peers["steps_per_task"],
        v["gymnasium"].as_str().unwrap_or("?"),
        v["metaworld"].as_str().unwrap_or("?"),
        v["mujoco"].as_str().unwrap_or("?"),
        v["envpool"].as_str().unwrap_or("?"),
    );
    let rows = peers["steps_per_s"]
        .as_object()
        .ok_or("python-peers.json: no steps_per_s")?;
    let mut line = |name: &str, row: &Value| -> Result<(), String> {
        let ours = number(&row["polyskill"], "polyskill")?;
        let mw = number(&row["metaworld"], "metaworld")?;
        let ep = number(&row["envpool"], "envpool")?;
        out.push_str(&format!(
            "| {name} | {ours:.0} | {mw:.0} | {ep:.0} | {:.1}× |\n",
            ours / ep
        ));
        Ok(())
    };
    for (task, row) in rows {
        line(task, row)?;
    }
    line("**mean**", &peers["mean"])?;
    if let Some(vector) = peers["make_mt_10_envs_steps_per_s"].as_f64() {
        out.push_str(&format!(
            "\nThrough `polyskill.make_mt(\"mt10\")` (one environment per task, stepped in Rust, the same actions): {vector:.0} steps/s over the ten, **{:.1}× EnvPool's mean** per core.\n",
            vector / number(&peers["mean"]["envpool"], "mean.envpool")?
        ));
    }
    Ok(out)
}

/// What the extended suite's trainers did on Polyskill (steps, seconds, outcome).
fn extended(root: &Path) -> Result<String, String> {
    let report = read_json(&root.join("docs/benchmarks/extended.json"))?;
    let v = &report["versions"];
    let mut out = format!(
        "Measured {} on {} ({} cores) by `cargo xtask test --extended`; torch {}, Stable-Baselines3 {}, Ray {}, Gymnasium {}. Source: `docs/benchmarks/extended.json`.\n\n| test | env steps | seconds | outcome |\n|---|---|---|---|\n",
        report["date"].as_str().unwrap_or("?"),
        report["machine"]["cpu"].as_str().unwrap_or("?"),
        report["machine"]["cores"],
        v["torch"].as_str().unwrap_or("?"),
        v["stable_baselines3"].as_str().unwrap_or("?"),
        v["ray"].as_str().unwrap_or("?"),
        v["gymnasium"].as_str().unwrap_or("?"),
    );
    let results = report["results"]
        .as_object()
        .ok_or("extended.json: no results")?;
    for (test, r) in results {
        let mut outcome: Vec<String> = Vec::new();
        for (key, value) in r.as_object().into_iter().flatten() {
            if ["env_steps", "seconds"].contains(&key.as_str()) {
                continue;
            }
            outcome.push(match value.as_f64() {
                Some(x) if x.fract() != 0.0 => format!("{key} {x:.2}"),
                _ => format!("{key} {value}"),
            });
        }
        out.push_str(&format!(
            "| `{test}` | {:.0} | {} | {} |\n",
            number(&r["env_steps"], "env_steps")?,
            r["seconds"],
            outcome.join(", ")
        ));
    }
    Ok(out)
}

/// The measurements made side by side in one run: ours against the peer scripts'.
fn side_by_side(root: &Path) -> Result<String, String> {
    let dir = root.join("docs/benchmarks");
    let run = read_json(&dir.join("side-by-side.json"))?;
    let file = |key: &str| -> Result<Value, String> {
        let name = run["files"][key]
            .as_str()
            .ok_or_else(|| format!("side-by-side.json: files.{key} is missing"))?;
        read_json(&dir.join(name))
    };
    let (learn, inference) = (file("learn")?, file("inference")?);
    let (torch, torch_mt) = (file("torch_anchors")?, file("torch_multitask")?);
    let thousands = |x: f64| {
        let n = x.round() as u64;
        let (high, low) = (n / 1000, n % 1000);
        if high > 0 {
            format!("{high} {low:03}")
        } else {
            format!("{low}")
        }
    };
    let ratio = |ours: f64, peer: f64| format!("{:.2}×", ours / peer);
    let mut out = format!(
        "Measured {} on {}; one thread each, one after the other, nothing else running; {} \
(the peer scripts are in `shared/peers` and `tests/peers`). Source: `docs/benchmarks/` ({}).\n\n",
        run["date"].as_str().unwrap_or("?"),
        run["cpu"].as_str().unwrap_or("?"),
        torch["torch"]
            .as_str()
            .map(|v| format!("PyTorch {v}"))
            .unwrap_or_default(),
        run["files"]
            .as_object()
            .map(|f| f
                .values()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    );
    out.push_str("| measurement | Polyskill | PyTorch | ratio |\n|---|---|---|---|\n");
    let bc = number(&learn["bc"]["samples_per_s"], "bc.samples_per_s")?;
    let torch_bc = number(
        &torch["bc"]["samples_per_s_median"],
        "bc.samples_per_s_median",
    )?;
    out.push_str(&format!(
        "| BC training, 39→256→256→4, batch 256, Adam (samples/s) | {} | {} | {} |\n",
        thousands(bc),
        thousands(torch_bc),
        ratio(bc, torch_bc)
    ));
    for (batch, key) in [(1, "infer_b1"), (1024, "infer_b1024")] {
        let ours = inference["inference"]
            .as_array()
            .and_then(|l| l.iter().find(|i| i["batch"] == batch))
            .map(|i| &i["samples_per_s"])
            .ok_or_else(|| format!("inference.json: no batch {batch}"))?;
        let ours = number(ours, "inference samples_per_s")?;
        let peer = number(&torch[key]["samples_per_s_median"], key)?;
        out.push_str(&format!(
            "| inference, batch {batch} (samples/s) | {} | {} | {} |\n",
            thousands(ours),
            thousands(peer),
            ratio(ours, peer)
        ));
    }
    let ours_mt = learn["multitask_bc_10_tasks"]
        .as_array()
        .ok_or("learn.json: no multitask_bc_10_tasks")?;
    for row in torch_mt["results"]
        .as_array()
        .ok_or("torch-multitask.json: no results")?
    {
        let kind = row["kind"].as_str().unwrap_or_default();
        let (architecture, combiner) = match kind {
            "pooled" => ("mlp", None),
            "moe" => ("moe", None),
            other => ("mlp", Some(other)),
        };
        let ours = ours_mt
            .iter()
            .find(|m| m["architecture"] == architecture && m["combiner"].as_str() == combiner)
            .ok_or_else(|| format!("learn.json: no multi-task row for {kind}"))?;
        let (ours, peer) = (
            number(&ours["samples_per_s"], "samples_per_s")?,
            number(&row["samples_per_s"], "samples_per_s")?,
        );
        let what = match kind {
            "pooled" => "rows pooled into one loss".to_string(),
            "moe" => "mixture of experts, pooled".to_string(),
            other => format!("{other}: one backward pass per task"),
        };
        out.push_str(&format!(
            "| multi-task BC, 10 tasks, {what} (samples/s) | {} | {} | {} |\n",
            thousands(ours),
            thousands(peer),
            ratio(ours, peer)
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed tables are what the data gives (run `cargo xtask docs` after changing a
    /// policy or a measurement).
    #[test]
    fn generated_tables_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (file, current, new) in generate(&root).unwrap() {
            assert!(
                current == new,
                "{file} is out of date: run `cargo xtask docs`"
            );
        }
    }

    #[test]
    fn a_region_is_replaced_between_its_markers_only() {
        let text = "a\n<!-- BEGIN generated:t (cargo xtask docs; do not edit) -->\nold\n<!-- END generated:t -->\nb\n";
        let new = replace_region(text, "t", "new\n").unwrap();
        assert_eq!(
            new,
            "a\n<!-- BEGIN generated:t (cargo xtask docs; do not edit) -->\nnew\n<!-- END generated:t -->\nb\n"
        );
        assert!(replace_region("no markers", "t", "x").is_err());
    }
}
