//! Installs what the build and tests need when it is missing, saying what it does: the
//! wasm32 target, wasm-bindgen-cli at the version in Cargo.lock, Debian's Chromium and
//! chromedriver, Mesa's software Vulkan (lavapipe), the e2e suite's npm packages, and the
//! Python suite's virtual environment.

use crate::{root, run, say};
use std::path::PathBuf;
use std::process::Command;

/// Where Debian's chromedriver lives.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's Chromium lives.
pub const CHROMIUM: &str = "/usr/bin/chromium";

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

/// `CARGO_TARGET_DIR` if set, else a cache directory outside the clone.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root().join(dir)
            }
        }
        _ => home().join(".cache/polyskill/target"),
    }
}

fn cargo_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cargo"));
    dir.join("bin").join(name)
}

/// Path of the wasm-bindgen CLI.
pub fn wasm_bindgen() -> PathBuf {
    cargo_bin("wasm-bindgen")
}

/// Path of wasm-bindgen's test runner.
pub fn wasm_bindgen_test_runner() -> PathBuf {
    cargo_bin("wasm-bindgen-test-runner")
}

/// The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn output_of(cmd: &mut Command) -> Option<String> {
    cmd.output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The wasm32 target and a wasm-bindgen CLI of the locked version.
pub fn wasm_tools() -> Result<(), String> {
    let installed = output_of(Command::new("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if !installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        say("installing the Rust target wasm32-unknown-unknown (rustup)");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let version = locked_wasm_bindgen()?;
    let have = output_of(Command::new(wasm_bindgen()).arg("--version")).unwrap_or_default();
    let runner_ok = wasm_bindgen_test_runner().exists();
    if !have.contains(&version) || !runner_ok {
        say(format!(
            "installing wasm-bindgen-cli {version} to match Cargo.lock (a few minutes, once)"
        ));
        run(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
            "--force",
        ]))?;
    }
    Ok(())
}

static APT_UPDATED: std::sync::Once = std::sync::Once::new();

fn apt_install(packages: &[&str], why: &str) -> Result<(), String> {
    say(format!(
        "installing {} from Debian ({why})",
        packages.join(" ")
    ));
    let mut result = Ok(());
    APT_UPDATED.call_once(|| result = run(Command::new("apt-get").args(["update", "-qq"])));
    result?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Debian's Chromium and chromedriver (never a downloaded browser).
pub fn browser() -> Result<(), String> {
    if std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"], "headless browser tests")
}

/// Mesa's software Vulkan driver, for native offscreen rendering tests without a GPU.
pub fn vulkan() -> Result<(), String> {
    let icd = std::path::Path::new("/usr/share/vulkan/icd.d");
    let has_lavapipe = std::fs::read_dir(icd)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().contains("lvp"))
        })
        .unwrap_or(false);
    if has_lavapipe {
        return Ok(());
    }
    apt_install(
        &["mesa-vulkan-drivers"],
        "software Vulkan (lavapipe) for native rendering tests",
    )
}

/// The end-to-end suite's npm packages, exactly as locked (`npm ci`), when not yet installed.
pub fn npm_packages() -> Result<(), String> {
    let dir = root().join("tests/e2e");
    let installed = ["playwright-core", "onnxruntime-web"].iter().all(|name| {
        dir.join("node_modules")
            .join(name)
            .join("package.json")
            .exists()
    });
    if installed {
        return Ok(());
    }
    if output_of(Command::new("npm").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"], "the end-to-end test runner")?;
    }
    say("installing the e2e suite's npm packages (npm ci, from the committed lockfile)");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir))
}

/// A Python suite's virtual environment (`~/.cache/polyskill/NAME`, outside the clone) with
/// `python/REQUIREMENTS` installed; reinstalled when that file changes. Returns the
/// environment's directory. The test suite uses `venv` + `requirements-test.txt`; the
/// extended suite `venv-extended` + `requirements-extended.txt` (torch, SB3, Ray).
pub fn python_venv(name: &str, requirements: &str) -> Result<PathBuf, String> {
    let venv = home().join(".cache/polyskill").join(name);
    let requirements = root().join("python").join(requirements);
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = venv.join("polyskill-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(venv);
    }
    if !venv.join("bin/python").exists() {
        say(format!(
            "creating a virtual environment in {}",
            venv.display()
        ));
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    say(format!("installing {}", requirements.display()));
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(venv)
}
