//! Builds the race's policy (`bench/peers/policy`) to a component with the
//! repository's guest build (`shipgate-build`: a nested `cargo build` for
//! `wasm32-unknown-unknown` into `target/guests`), and records the peers'
//! versions from `Cargo.lock` for the report.

use std::path::{Path, PathBuf};

/// The peers whose versions the report prints.
const VERSIONED: &[&str] = &[
    "cedar-policy",
    "cel-interpreter",
    "cel",
    "regorus",
    "wasmtime",
];

fn main() {
    if let Err(e) = run() {
        println!("cargo::error={e}");
    }
}

fn run() -> Result<(), String> {
    let env = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .ok_or(format!("${name} is not set"))
    };
    let out_dir = env("OUT_DIR")?;
    let manifest_dir = env("CARGO_MANIFEST_DIR")?;
    let workspace = shipgate_build::workspace_root_of(&manifest_dir);
    let built = shipgate_build::GuestBuild::in_workspace(workspace, &["peers-canary-policy"])
        .run()
        .map_err(|e| e.to_string())?;
    for guest in &built {
        let path = out_dir.join("CANARY_RULE.component.wasm");
        std::fs::write(&path, &guest.component).map_err(|e| format!("{}: {e}", path.display()))?;
        for source in &guest.sources {
            println!("cargo::rerun-if-changed={}", source.display());
        }
    }
    let lock = workspace.join("Cargo.lock");
    println!("cargo::rerun-if-changed={}", lock.display());
    println!(
        "cargo::rerun-if-changed={}",
        workspace.join("../../wit").display()
    );
    println!("cargo::rustc-env=PEER_VERSIONS={}", versions(&lock)?);
    Ok(())
}

/// `name version, ...` of [`VERSIONED`] as `Cargo.lock` pins them.
fn versions(lock: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(lock).map_err(|e| format!("{}: {e}", lock.display()))?;
    let mut lines = text.lines();
    let mut found = Vec::new();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("name = \"")
            .and_then(|s| s.strip_suffix('"'))
        else {
            continue;
        };
        if !VERSIONED.contains(&name) {
            continue;
        }
        if let Some(version) = lines
            .next()
            .and_then(|l| l.strip_prefix("version = \""))
            .and_then(|s| s.strip_suffix('"'))
        {
            found.push((name, version.to_owned()));
        }
    }
    Ok(VERSIONED
        .iter()
        .flat_map(|name| found.iter().filter(move |(n, _)| n == name))
        .map(|(n, v)| format!("{n} {v}"))
        .collect::<Vec<_>>()
        .join(", "))
}
