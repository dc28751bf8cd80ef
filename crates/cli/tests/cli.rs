//! The `polyskill` binary end to end: help for every command, validate's exit codes and
//! one-line-per-error output, and the JSON of expert, eval and bench.

use std::process::Command;

/// The repository root, read at run time (`cargo test` sets `CARGO_MANIFEST_DIR`): a test
/// binary built from another clone sharing the target directory must not use that clone.
fn root() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("run through cargo test") + "/../.."
}

fn polyskill(args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_polyskill"));
    command.args(args);
    // Training runs log into a scratch directory, never into the repository's runs/.
    if args.first() == Some(&"train") {
        command.arg("--runs-dir").arg(scratch_runs());
    }
    run(&mut command)
}

/// The runs directory the tests' training commands write to (a temporary one).
fn scratch_runs() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("polyskill-cli-runs-{}", std::process::id()))
}

fn run(command: &mut Command) -> (bool, String, String) {
    let out = command.current_dir(root()).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn every_command_has_help() {
    for cmd in [
        "validate",
        "expert",
        "train",
        "eval",
        "reevaluate",
        "import",
        "bench",
        "schema",
        "render",
        "compare",
    ] {
        let (ok, stdout, _) = polyskill(&[cmd, "--help"]);
        assert!(
            ok && stdout.contains("Usage: polyskill"),
            "{cmd} --help: {stdout}"
        );
    }
}

#[test]
fn validate_reports_each_error_with_its_path_and_fails() {
    let (ok, stdout, _) = polyskill(&["validate", "web/tasks/reach.json"]);
    assert!(ok, "{stdout}");
    assert_eq!(stdout.trim(), "web/tasks/reach.json: ok");

    let dir = std::env::temp_dir().join(format!("polyskill-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    let text = std::fs::read_to_string(format!("{}/web/tasks/reach.json", root())).unwrap();
    let text = text
        .replacen("\"max_steps\": 500", "\"max_steps\": 0", 1)
        .replacen("\"margin\": 0.3", "\"margin\": -1", 1);
    std::fs::write(&bad, text).unwrap();
    let bad = bad.to_str().unwrap();
    let (ok, stdout, _) = polyskill(&["validate", bad]);
    assert!(!ok);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].ends_with("max_steps: must be 1..=100000, got 0"),
        "{stdout}"
    );
    assert!(
        lines[1].ends_with("reward[0].near.margin: must be a positive finite number, got -1"),
        "{stdout}"
    );

    let (ok, stdout, _) = polyskill(&["validate", "--json", bad]);
    assert!(!ok);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report[0]["errors"][0]["path"], "max_steps");
}

#[test]
fn expert_eval_and_bench_print_json() {
    let (ok, stdout, stderr) =
        polyskill(&["expert", "--task", "reach", "--episodes", "5", "--json"]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["success_rate"], 1.0);

    let (ok, stdout, stderr) = polyskill(&[
        "eval",
        "--task",
        "reach",
        "--policy",
        "web/weights/reach-bc.safetensors",
        "--episodes",
        "5",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["evaluation"]["episodes"], 5);
    assert!(v["evaluation"]["success_rate"].as_f64().unwrap() >= 0.8);

    let (ok, stdout, stderr) = polyskill(&["bench", "--task", "reach", "--steps", "200", "--json"]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["env_steps_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(v["inference"][1]["batch"], 1024);

    let (ok, _, stderr) = polyskill(&["expert", "--task", "nope"]);
    assert!(
        !ok && stderr.contains("cannot read task web/tasks/nope.json")
            && stderr.contains("known tasks in web/tasks: "),
        "{stderr}"
    );
}

#[test]
fn render_writes_a_png_thumbnail() {
    let out = std::env::temp_dir().join(format!("polyskill-render-{}.png", std::process::id()));
    // As on a headless server: no display and no runtime directory.
    let (ok, _, stderr) = run(Command::new(env!("CARGO_BIN_EXE_polyskill"))
        .args([
            "render",
            "--task",
            "cart-pole",
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--width", "64", "--height", "48"])
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DISPLAY")
        .env_remove("NODEVICE_SELECT"));
    assert!(ok, "{stderr}");
    // Mesa's device-select layer would print "error: XDG_RUNTIME_DIR is invalid…" twice.
    assert!(
        !stderr.contains("error"),
        "a successful render printed: {stderr}"
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        64,
        "PNG width"
    );
}

#[test]
fn import_converts_a_pytorch_file_and_checks_it_against_a_task() {
    let dir = std::env::temp_dir().join(format!("polyskill-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("imported.safetensors");
    let out = out.to_str().unwrap();
    let base = [
        "import",
        "--weights",
        "tests/fixtures/torch/mlp.safetensors",
        "--architecture",
        "tests/fixtures/torch/architecture.json",
        "--out",
        out,
    ];
    let (ok, stdout, stderr) = polyskill(&base);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("sizes [5, 8, 8, 3]"), "{stdout}");
    let info = polyskill_learn::weights::read_info(&std::fs::read(out).unwrap()).unwrap();
    assert_eq!(info.architecture.sizes, [5, 8, 8, 3]);
    let (ok, _, stderr) = polyskill(&[&base[..], &["--task", "reach"]].concat());
    assert!(!ok);
    assert!(
        stderr
            .contains("task reach observes 39 values and takes 4 actions; the network maps 5 to 3"),
        "{stderr}"
    );
}

#[test]
fn ppo_training_writes_metrics_lines_and_weights() {
    let started = std::time::SystemTime::now();
    let dir = std::env::temp_dir().join(format!("polyskill-ppo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("cart-pole-ppo.safetensors");
    let args = [
        "train",
        "ppo",
        "--task",
        "cart-pole",
        "--env-steps",
        "2048",
        "--seed",
        "77",
        "--eval-episodes",
        "2",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ];
    let (ok, stdout, stderr) = polyskill(&args);
    assert!(ok, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        5,
        "four iterations of 4 × 128 steps, then the summary: {stdout}"
    );
    assert_eq!(lines[3]["env_steps"], 2048);
    assert!(
        lines[0]["entropy"].as_f64().unwrap() > 0.6,
        "a fresh policy is near uniform: {}",
        lines[0]
    );
    assert_eq!(lines[4]["evaluation"][0]["episodes"], 2);
    let metrics =
        std::fs::read_to_string(scratch_runs().join("cart-pole-ppo-s77/metrics.jsonl")).unwrap();
    let in_repository = std::fs::metadata(format!("{}/runs/cart-pole-ppo-s77", root()));
    assert!(
        in_repository
            .and_then(|m| m.modified())
            .map_or(true, |written| written < started),
        "the test's run must not be written into the repository's runs/"
    );
    assert_eq!(metrics.lines().count(), 4);
    assert!(
        polyskill_learn::weights::read_info(&std::fs::read(&out).unwrap())
            .unwrap()
            .architecture
            .output
            == "categorical"
    );
    // An unknown algorithm lists the known ones; the old `--algo` flag says what replaced it;
    // a flag of another algorithm names the algorithms that take it.
    let (ok, _, stderr) = polyskill(&["train", "dqn", "--task", "cart-pole"]);
    assert!(
        !ok && stderr.contains("unrecognized subcommand 'dqn'")
            && stderr.contains("available: bc, ppo, sac, grpo, rloo"),
        "{stderr}"
    );
    let (ok, _, stderr) = polyskill(&["train", "bc", "--task", "cart-pole", "--algo", "ppo"]);
    assert!(
        !ok && stderr.contains("the algorithm is a subcommand now"),
        "{stderr}"
    );
    let (ok, _, stderr) = polyskill(&["train", "ppo", "--task", "cart-pole", "--demos", "5"]);
    assert!(
        !ok && stderr.contains("unexpected argument '--demos'")
            && stderr.contains("--demos is a setting of: polyskill train bc"),
        "{stderr}"
    );

    // --keep-best validates every 1024 steps and saves the best checkpoint, saying which.
    let best = dir.join("cart-pole-best.safetensors");
    let args = [
        "train",
        "ppo",
        "--task",
        "cart-pole",
        "--env-steps",
        "4096",
        "--seed",
        "77",
        "--eval-episodes",
        "2",
        "--keep-best",
        "1024",
        "--json",
        "--out",
        best.to_str().unwrap(),
    ];
    let (ok, stdout, stderr) = polyskill(&args);
    assert!(ok, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let training = &summary["training"];
    let validations = training["validations"].as_array().unwrap();
    assert_eq!(
        validations
            .iter()
            .map(|v| v["env_steps"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1024, 2048, 3072, 4096]
    );
    let kept_return = training["kept"]["mean_return"].as_f64().unwrap();
    assert!(
        validations
            .iter()
            .all(|v| v["mean_return"].as_f64().unwrap() <= kept_return
                || v["success_rate"].as_f64() < training["kept"]["success_rate"].as_f64()),
        "{training}"
    );
    let info = polyskill_learn::weights::read_info(&std::fs::read(&best).unwrap()).unwrap();
    assert_eq!(info.training["kept"], training["kept"]);
    let (ok, _, stderr) = polyskill(&["train", "bc", "--task", "reach", "--keep-best", "100"]);
    assert!(
        !ok && stderr.contains(
            "--keep-best is a setting of: polyskill train ppo, polyskill train sac, polyskill train grpo, polyskill train rloo"
        ),
        "{stderr}"
    );
}

/// A run whose loss stops being finite fails with the reason, and its last good weights are
/// still written (here: rewards of 1e38 a step make the returns overflow at once).
#[test]
fn a_diverging_run_says_why_and_keeps_its_last_good_weights() {
    let dir = std::env::temp_dir().join(format!("polyskill-diverge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(format!("{}/web/tasks/cart-pole.json", root())).unwrap();
    let task = dir.join("cart-pole.json");
    std::fs::write(
        &task,
        text.replacen(
            "\"alive\": { \"weight\": 1.0 }",
            "\"alive\": { \"weight\": 1e38 }",
            1,
        ),
    )
    .unwrap();
    let out = dir.join("diverged.safetensors");
    let args = [
        "train",
        "ppo",
        "--task",
        task.to_str().unwrap(),
        "--env-steps",
        "2048",
        "--eval-episodes",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    let (ok, _, stderr) = polyskill(&args);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("PPO diverged at iteration 1: loss is not finite"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the last good weights (before the failing update) are saved in")
            && stderr.contains("diverged.safetensors"),
        "{stderr}"
    );
    let info = polyskill_learn::weights::read_info(&std::fs::read(&out).unwrap()).unwrap();
    assert!(
        info.training["failed"]
            .as_str()
            .unwrap()
            .contains("diverged"),
        "{}",
        info.training
    );
}

#[test]
fn bc_trains_one_network_on_a_task_list_and_reports_each_task() {
    let dir = std::env::temp_dir().join(format!("polyskill-mt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("two.safetensors");
    let args = [
        "train",
        "bc",
        "--task",
        "reach,drawer-close",
        "--conditioning",
        "multi-head",
        "--demos",
        "1",
        "--steps",
        "5",
        "--eval-episodes",
        "1",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ];
    let (ok, stdout, stderr) = polyskill(&args);
    assert!(ok, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["tasks"],
        serde_json::json!(["reach", "drawer-close"])
    );
    assert_eq!(summary["evaluation"].as_array().unwrap().len(), 2);
    let info = polyskill_learn::weights::read_info(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        info.architecture.sizes.last(),
        Some(&8),
        "one 4-action head per task"
    );
    assert!(info.training["eval_success_per_task"]["drawer-close"].is_number());
    // Progress records as JSON lines, on stdout and in the runs directory.
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        records.iter().any(|r| r["phase"] == "recording")
            && records.iter().any(|r| r["phase"] == "fitting"),
        "{stdout}"
    );
    let metrics =
        std::fs::read_to_string(scratch_runs().join("reach+drawer-close-bc-s0/metrics.jsonl"))
            .unwrap();
    assert_eq!(
        metrics.lines().count(),
        records.len() - 1,
        "every record but the summary"
    );
    let (ok, _, stderr) = polyskill(&[
        "train",
        "bc",
        "--task",
        "reach",
        "--conditioning",
        "sideways",
    ]);
    assert!(
        !ok && stderr.contains("invalid value 'sideways' for '--conditioning <CONDITIONING>'")
            && stderr.contains("[possible values: one-hot, multi-head, none]"),
        "{stderr}"
    );
    let (ok, _, stderr) = polyskill(&["train", "bc", "--task", "reach,nope"]);
    assert!(
        !ok && stderr.contains("cannot read task") && stderr.contains("nope"),
        "{stderr}"
    );
}

/// A multi-task BC run with an architecture and a combiner: the records carry each task's loss
/// and the gradient conflict, the weights say the architecture; unknown names list the valid
/// ones.
#[test]
fn train_takes_an_architecture_and_a_combiner_and_names_the_valid_ones() {
    let dir = std::env::temp_dir().join(format!("polyskill-arch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("care.safetensors");
    let (ok, stdout, stderr) = polyskill(&[
        "train",
        "bc",
        "--task",
        "reach,push",
        "--architecture",
        "care",
        "--combiner",
        "pcgrad",
        "--demos",
        "1",
        "--steps",
        "20",
        "--hidden",
        "16,16",
        "--eval-episodes",
        "1",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let fitting: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["phase"] == "fitting")
        .collect();
    let last = fitting.last().expect("fitting records");
    assert_eq!(last["tasks"].as_array().unwrap().len(), 2, "{last}");
    assert!(last["conflict"]["cosine"][0][1].is_number(), "{last}");
    let info = polyskill_learn::weights::read_info(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(info.architecture.kind, "care");
    for (flag, names) in [
        ("--combiner", "mean, sum, uncertainty, dwa, pcgrad"),
        ("--architecture", "mlp, film, moe, soft-modular"),
    ] {
        let (ok, _, stderr) = polyskill(&["train", "bc", "--task", "reach,push", flag, "bogus"]);
        assert!(
            !ok && stderr.contains("invalid value 'bogus'") && stderr.contains(names),
            "{flag}: {stderr}"
        );
    }
    let (ok, _, stderr) = polyskill(&[
        "train",
        "grpo",
        "--task",
        "cart-pole",
        "--combiner",
        "pcgrad",
    ]);
    assert!(
        !ok && stderr.contains(
            "--combiner is a setting of: polyskill train bc, polyskill train ppo, polyskill train sac"
        ),
        "{stderr}"
    );
}

/// `render --episode` records a shipped policy's episode as an animated GIF: several frames,
/// the episode's success reported; a PNG name or `--policy` without `--episode` is refused.
#[test]
fn render_episode_writes_an_animated_gif() {
    let out = std::env::temp_dir().join(format!("polyskill-episode-{}.gif", std::process::id()));
    let (ok, _, stderr) = polyskill(&[
        "render",
        "--task",
        "reach",
        "--episode",
        "--policy",
        "reach-bc",
        "--seed",
        "3",
        "--width",
        "64",
        "--height",
        "48",
        "--every",
        "8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("succeeded"), "{stderr}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..6], b"GIF89a");
    // Each frame starts with an image descriptor (0x2C) after a graphic control block.
    let frames = bytes.windows(2).filter(|w| w == &[0x21, 0xF9]).count();
    assert!(frames >= 3, "{frames} frames");
    let (ok, _, stderr) = polyskill(&["render", "--task", "reach", "--episode", "--out", "ep.png"]);
    assert!(!ok && stderr.contains("should end in .gif"), "{stderr}");
    let (ok, _, stderr) = polyskill(&[
        "render", "--task", "reach", "--policy", "reach-bc", "--out", "x.png",
    ]);
    assert!(!ok && stderr.contains("add --episode"), "{stderr}");
    let (ok, _, stderr) = polyskill(&["render", "--task", "reach", "--trail", "--out", "x.png"]);
    assert!(!ok && stderr.contains("add --episode"), "{stderr}");
    // The debug view's overlays draw into the episode's frames: the GIF differs.
    let with = out.with_extension("overlays.gif");
    let (plain_path, overlay_path) = (out.to_str().unwrap(), with.to_str().unwrap());
    let push = [
        "render",
        "--task",
        "push",
        "--episode",
        "--seed",
        "2",
        "--width",
        "96",
        "--height",
        "72",
        "--every",
        "20",
        "--out",
    ];
    let (ok, _, stderr) = polyskill(&[&push[..], &[plain_path]].concat());
    assert!(ok, "{stderr}");
    let (ok, _, stderr) =
        polyskill(&[&push[..], &[overlay_path, "--trail", "--contacts"]].concat());
    assert!(ok, "{stderr}");
    assert_ne!(std::fs::read(&out).unwrap(), std::fs::read(&with).unwrap());
}
