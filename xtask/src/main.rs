//! `cargo xtask`: Polyskill's task runner (the wgpu convention).
//!
//! - `cargo xtask serve [--port N]` — installs what is missing, builds the wasm package into
//!   `pkg/` and serves the playground on `http://127.0.0.1:N` (default 8080).
//! - `cargo xtask test` — installs what is missing, then runs every suite: native
//!   `cargo test --workspace`, the Python package against Gymnasium (pytest in a virtual
//!   environment it creates), the wasm API in headless Chromium (wasm-bindgen-test-runner),
//!   and the Playwright end-to-end tests against the served page.
//! - `cargo xtask test --extended` — the extended Python suite, not run by CI: the package under
//!   torch, Stable-Baselines3 and Ray RLlib (python/extended, in its own virtual environment
//!   from `python/requirements-extended.txt`), recording steps and seconds in
//!   `docs/benchmarks/extended.json`.
//! - `cargo xtask pretrain [NAME…]` — regenerates the shipped weights in `web/weights/` (all,
//!   or the named ones) with the training arguments recorded in `web/policies.json`.
//! - `cargo xtask bench-web` — runs the in-browser benchmark page in headless Chromium.
//! - `cargo xtask docs [--check]` — regenerates the tables of figures in `docs/` from the
//!   shipped weights' metadata and the saved benchmark JSON (`--check`: fail if stale).
//! - `cargo xtask thumbnails` — renders `web/thumbs/NAME.png` for every task (the page's task list).
//!
//! Nested cargo builds use `CARGO_TARGET_DIR`, defaulting to `~/.cache/polyskill/target`
//! (outside the clone) so fresh clones and CI builds stay incremental.

mod docs;
mod serve;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The repository root: the nearest directory at or above the working directory that holds
/// `xtask/Cargo.toml` (found at run time: one binary may serve several clones that share a
/// target directory), else the directory xtask was built from.
fn root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join("xtask/Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or(cwd)
        })
}

/// Prints what xtask is doing, so a long run explains itself.
pub(crate) fn say(message: impl AsRef<str>) {
    eprintln!("\x1b[1mxtask:\x1b[0m {}", message.as_ref());
}

/// Runs a command (from the repository root unless it names its own directory); an error
/// names the command and its exit status.
pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.env("CARGO_TARGET_DIR", setup::target_dir());
    c
}

/// Builds the wasm package into `pkg/` (release, SIMD, no wasm-opt: Debian's breaks it).
/// The wasm modules the page loads: the main one (sim, rendering, CPU policies, training) at
/// start, and burn's WebGPU inference only when asked for.
const WASM_MODULES: [(&str, &str, &str); 2] = [
    ("polyskill-web", "polyskill_web", "pkg"),
    ("polyskill-web-gpu", "polyskill_web_gpu", "pkg/gpu"),
];

fn build_pkg() -> Result<(), String> {
    setup::wasm_tools()?;
    for (package, file, out_dir) in WASM_MODULES {
        say(format!("building {package} (release, wasm32 + simd128)"));
        // One package per cargo run: building both at once would unify features and put burn's
        // WebGPU backend into the main module too.
        run(cargo().args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            package,
        ]))?;
        let wasm = setup::target_dir().join(format!("wasm32-unknown-unknown/release/{file}.wasm"));
        say(format!("running wasm-bindgen into {out_dir}/"));
        // Without the "name" section (function names for backtraces: 6.4 MB raw, ~1 MB gzipped);
        // panic messages still reach the console.
        run(Command::new(setup::wasm_bindgen())
            .args(["--target", "web", "--remove-name-section", "--out-dir"])
            .arg(root().join(out_dir))
            .arg(&wasm))?;
        let wasm_file = root().join(format!("{out_dir}/{file}_bg.wasm"));
        let size = std::fs::metadata(&wasm_file).map(|m| m.len()).unwrap_or(0);
        // The download size a server sends with gzip (`gzip -9`, as static hosts compress).
        let gzipped = Command::new("gzip")
            .arg("-9")
            .arg("-c")
            .arg(&wasm_file)
            .output()
            .map(|o| o.stdout.len())
            .unwrap_or(0);
        let when = if out_dir == "pkg" {
            "every page loads it"
        } else {
            "loaded only for WebGPU inference"
        };
        say(format!(
            "{out_dir}/{file}_bg.wasm is {:.2} MB, {:.2} MB gzipped ({when})",
            size as f64 / 1e6,
            gzipped as f64 / 1e6
        ));
    }
    Ok(())
}

/// The argument after `flag` in `args`, if the flag is there.
fn flag_value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn port_arg(args: &[String], default: u16) -> Result<u16, String> {
    match args.iter().position(|a| a == "--port") {
        Some(i) => args
            .get(i + 1)
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| "--port needs a number".to_string()),
        None => Ok(default),
    }
}

fn serve_cmd(args: &[String]) -> Result<(), String> {
    let port = port_arg(args, 8080)?;
    build_pkg()?;
    let server = serve::Server::start(root(), port)?;
    say(format!(
        "serving the playground at http://127.0.0.1:{}/ (Ctrl-C stops)",
        server.port()
    ));
    server.wait();
    Ok(())
}

/// Builds the `polyskill` package into `venv` (maturin develop, sharing the workspace's target
/// directory and dev profile) and runs its tests against Gymnasium.
fn python_suite(venv: &Path) -> Result<(), String> {
    python_tests(venv, false, &["python/tests"])
}

/// Builds the package into `venv` (`release`: the optimised extension, for the extended
/// suite's timings) and runs pytest on `dirs` with the CLI at hand.
fn python_tests(venv: &Path, release: bool, dirs: &[&str]) -> Result<(), String> {
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut develop = Command::new(venv.join("bin/maturin"));
    develop.args(["develop", "--quiet"]);
    if release {
        develop.arg("--release");
    }
    run(develop
        .current_dir(root().join("python"))
        .env("VIRTUAL_ENV", venv)
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", setup::target_dir()))?;
    run(Command::new(venv.join("bin/python"))
        .args(["-m", "pytest", "-q", "-rs", "--durations=0"])
        .args(dirs)
        .env("POLYSKILL_CLI", setup::target_dir().join("debug/polyskill"))
        .current_dir(root()))
}

/// `cargo xtask test --extended`: the Python suite again under the extended environment's
/// older Gymnasium and with torch (the `nn.Module` tests), then `python/extended`.
fn extended_cmd() -> Result<(), String> {
    let venv = setup::python_venv("venv-extended", "requirements-extended.txt")?;
    run(cargo().args(["build", "-p", "polyskill-cli"]))?;
    say(
        "extended suite: pytest python/tests python/extended (torch, Stable-Baselines3, Ray RLlib)",
    );
    python_tests(&venv, true, &["python/tests", "python/extended"])?;
    say(
        "extended suite: Polyskill, Meta-World and EnvPool on the same actions (python/extended/bench_peers.py)",
    );
    let out = root().join("docs/benchmarks/python-peers.json");
    let file = std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    run(Command::new(venv.join("bin/python"))
        .arg("python/extended/bench_peers.py")
        .stdout(file)
        .current_dir(root()))?;
    say(
        "extended suite passed; figures in docs/benchmarks/extended.json and python-peers.json (then `cargo xtask docs`)",
    );
    Ok(())
}

fn test_cmd() -> Result<(), String> {
    setup::wasm_tools()?;
    setup::browser()?;
    setup::vulkan()?;
    setup::npm_packages()?;
    let venv = setup::python_venv("venv", "requirements-test.txt")?;
    let artifacts = root().join("tests/e2e/artifacts");
    std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;

    say("0/4 style: cargo fmt --check, cargo clippy -D warnings (native, then the wasm crates)");
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    let mut wasm_clippy = cargo();
    wasm_clippy.args(["clippy", "--release", "--target", "wasm32-unknown-unknown"]);
    for (package, _, _) in WASM_MODULES {
        wasm_clippy.args(["-p", package]);
    }
    run(wasm_clippy.args(["--all-targets", "--", "-D", "warnings"]))?;

    say("1/4 native suite: cargo test --workspace");
    run(cargo()
        .args(["test", "--workspace"])
        .env("POLYSKILL_ARTIFACTS", &artifacts))?;

    say(
        "2/4 Python suite: maturin develop (the PyO3 extension, dev profile), then pytest python/tests",
    );
    python_suite(&venv)?;

    // Release, like the page's package, so both share one build of the dependencies.
    build_pkg()?;
    say(
        "3/4 wasm API in headless Chromium (WebGPU via SwiftShader): cargo test --release --target wasm32-unknown-unknown -p polyskill-web, then -p polyskill-web-gpu",
    );
    for (package, _, _) in WASM_MODULES {
        run(cargo()
            .args([
                "test",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                package,
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                setup::wasm_bindgen_test_runner(),
            )
            .env("CHROMEDRIVER", setup::CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "600")
            .current_dir(root().join(format!(
                "crates/{}",
                package.trim_start_matches("polyskill-")
            ))))?;
    }

    say("4/4 end to end: Playwright drives the served page in headless Chromium");
    let server = serve::Server::start(root(), 0)?;
    let url = format!("http://127.0.0.1:{}/", server.port());
    run(Command::new("node")
        .args(["--test", "--test-reporter=spec", "tests/e2e/"])
        .env("POLYSKILL_URL", &url)
        .env("POLYSKILL_CLI", setup::target_dir().join("debug/polyskill"))
        .env("POLYSKILL_ARTIFACTS", &artifacts))?;
    say(format!(
        "all suites passed; screenshots in {}",
        artifacts.display()
    ));
    Ok(())
}

/// Regenerates the shipped weights: every policy in `web/policies.json` (or only those named
/// in `names`) is trained with its recorded `train` arguments (`polyskill train …`, which also
/// evaluates it and writes the result into the file's metadata).
fn pretrain_cmd(names: &[String]) -> Result<(), String> {
    let path = root().join("web/policies.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("web/policies.json: {e}"))?;
    let index: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("web/policies.json: {e}"))?;
    let policies = index["policies"]
        .as_array()
        .ok_or("web/policies.json: no \"policies\" list")?;
    let known: Vec<&str> = policies.iter().filter_map(|p| p["name"].as_str()).collect();
    if let Some(unknown) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(format!(
            "no policy \"{unknown}\" in web/policies.json; known: {}",
            known.join(", ")
        ));
    }
    say("building the CLI (dev profile: dependencies and the learner fully optimised)");
    run(cargo().args(["build", "-q", "-p", "polyskill-cli"]))?;
    let cli = setup::target_dir().join("debug/polyskill");
    for policy in policies {
        let name = policy["name"]
            .as_str()
            .ok_or("web/policies.json: a policy without a \"name\"")?;
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        let args: Vec<&str> = policy["train"]
            .as_array()
            .ok_or_else(|| format!("web/policies.json: policy {name} has no \"train\" arguments"))?
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        say(format!(
            "training web/weights/{name}.safetensors: polyskill train {}",
            args.join(" ")
        ));
        let out = format!("web/weights/{name}.safetensors");
        run(Command::new(&cli)
            .arg("train")
            .args(&args)
            .args(["--out", &out]))?;
    }
    Ok(())
}

/// Renders `web/thumbs/NAME.png` for every task in `web/tasks.json` with the native renderer.
fn thumbnails_cmd() -> Result<(), String> {
    setup::vulkan()?;
    let text = std::fs::read_to_string(root().join("web/tasks.json"))
        .map_err(|e| format!("web/tasks.json: {e}"))?;
    let index: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("web/tasks.json: {e}"))?;
    let names: Vec<String> = index["tasks"]
        .as_array()
        .ok_or("web/tasks.json: no \"tasks\" list")?
        .iter()
        .filter_map(|n| n.as_str().map(String::from))
        .collect();
    std::fs::create_dir_all(root().join("web/thumbs")).map_err(|e| e.to_string())?;
    for name in names {
        say(format!("rendering web/thumbs/{name}.png"));
        let out = format!("web/thumbs/{name}.png");
        run(cargo().args([
            "run",
            "-q",
            "-p",
            "polyskill-cli",
            "--",
            "render",
            "--task",
            &name,
            "--out",
            &out,
            "--width",
            "160",
            "--height",
            "120",
        ]))?;
    }
    Ok(())
}

fn bench_web_cmd() -> Result<(), String> {
    setup::browser()?;
    setup::npm_packages()?;
    build_pkg()?;
    let server = serve::Server::start(root(), 0)?;
    let url = format!("http://127.0.0.1:{}/web/bench.html", server.port());
    run(Command::new("node")
        .args(["tests/e2e/bench-web.mjs"])
        .env("POLYSKILL_URL", &url))
}

/// Plays and trains in headless Chromium for `--minutes M` (default 30) and reports the pages'
/// JS heap and wasm memory over time (`tests/e2e/soak.mjs`); `--out FILE` keeps the samples.
fn soak_cmd(args: &[String]) -> Result<(), String> {
    let value = |flag: &str| flag_value(args, flag);
    let minutes = value("--minutes").unwrap_or_else(|| "30".into());
    if !minutes.parse::<f64>().is_ok_and(|m| m > 0.0) {
        return Err(format!(
            "--minutes needs a positive number, got {minutes:?}"
        ));
    }
    setup::browser()?;
    setup::npm_packages()?;
    build_pkg()?;
    let server = serve::Server::start(root(), 0)?;
    let url = format!("http://127.0.0.1:{}/", server.port());
    let mut cmd = Command::new("node");
    cmd.args(["tests/e2e/soak.mjs", &minutes])
        .env("POLYSKILL_URL", &url)
        .current_dir(root());
    if let Some(out) = value("--out") {
        cmd.arg(out);
    }
    run(&mut cmd)
}

/// Fuzzes the loaders (task files, weights files, training settings) with the structure-aware
/// fuzzer in `crates/fuzz`: `--iterations N` cases per target (default 1 000 000), a release
/// build (it shares the CLI's), reports as JSON lines.
fn fuzz_cmd(args: &[String]) -> Result<(), String> {
    let value = |flag: &str| flag_value(args, flag);
    let iterations = value("--iterations").unwrap_or_else(|| "1000000".into());
    let mut cmd = cargo();
    cmd.args([
        "run",
        "-q",
        "--release",
        "-p",
        "polyskill-fuzz",
        "--",
        "--iterations",
        &iterations,
    ])
    .current_dir(root());
    for flag in ["--target", "--seed"] {
        if let Some(v) = value(flag) {
            cmd.args([flag, v.as_str()]);
        }
    }
    run(&mut cmd)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve_cmd(&args[1..]),
        Some("test") if args.get(1).map(String::as_str) == Some("--extended") => extended_cmd(),
        Some("test") => test_cmd(),
        Some("pretrain") => pretrain_cmd(&args[1..]),
        Some("bench-web") => bench_web_cmd(),
        Some("thumbnails") => thumbnails_cmd(),
        Some("fuzz") => fuzz_cmd(&args[1..]),
        Some("soak") => soak_cmd(&args[1..]),
        Some("docs") => docs::run(&root(), args.get(1).map(String::as_str) == Some("--check")),
        _ => {
            eprintln!(
                "usage: cargo xtask <serve [--port N] | test [--extended] | pretrain | bench-web | docs [--check] | thumbnails | fuzz [--iterations N] [--target T] [--seed S] | soak [--minutes M] [--out FILE]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(format!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}
