//! Embeds the shipped tasks (`web/tasks.json` and every file it lists) in the extension, so a
//! wheel carries them and `gymnasium.make("polyskill/reach-v1")` needs no files beside it.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let web =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../web");
    let index_path = web.join("tasks.json");
    println!("cargo:rerun-if-changed={}", index_path.display());
    let index = std::fs::read_to_string(&index_path)
        .unwrap_or_else(|e| panic!("{}: {e}", index_path.display()));
    // The task names, read without a JSON parser: the "tasks" list of quoted names.
    let list = index
        .split("\"tasks\"")
        .nth(1)
        .and_then(|rest| rest.split('[').nth(1))
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_else(|| panic!("{}: no \"tasks\" list", index_path.display()));
    let names: Vec<&str> = list
        .split(',')
        .map(|n| n.trim().trim_matches('"'))
        .filter(|n| !n.is_empty())
        .collect();
    let mut out = String::from(
        "/// The shipped tasks: (name, task JSON).\npub const SHIPPED: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        let path = web.join("tasks").join(format!("{name}.json"));
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "/// web/tasks.json: the task list and the named sets.\npub const INDEX: &str = include_str!({:?});",
        index_path.display().to_string()
    );
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("shipped.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
