//! Builds the built-in policies to components and embeds them in the
//! `shipgate` binary (`source = "builtin:NAME"` in a config).
//!
//! This is a nested `cargo build --target wasm32-unknown-unknown` into
//! `target/guests`, a target directory of its own so it never waits on the
//! outer build's lock (the recipe of wasmtime's test-programs artifacts).
//!
//! It also embeds the guest SDK the binary is built with (`guest-sdk/`, its
//! `model/`, the `wit/` files, the workspace's `Cargo.toml` and
//! `Cargo.lock`), which `shipgate new policy` writes into a new crate's
//! `vendor/` so that the crate builds without a Shipgate checkout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (builtin name, package).
const BUILTINS: &[(&str, &str)] = &[
    ("env", "shipgate-policy-env"),
    ("readiness", "shipgate-policy-readiness"),
    ("risk", "shipgate-policy-risk"),
    ("window", "shipgate-policy-window"),
    ("canary", "shipgate-policy-canary"),
    ("rules", "shipgate-policy-rules"),
    // The example team policy of `examples/custom-policy`.
    ("error-ratio", "error-ratio-policy"),
];

fn main() {
    if let Err(e) = run() {
        println!("cargo::error={e}");
    }
}

fn run() -> Result<(), String> {
    let (out_dir, built) =
        shipgate_build::build_for_build_script(BUILTINS).map_err(|e| e.to_string())?;
    let mut code = String::from(
        "/// The built-in policies: (name, component bytes).\npub static BUILTINS: &[(&str, &[u8])] = &[\n",
    );
    for (name, path, _) in &built {
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("builtins.rs"), code).map_err(|e| e.to_string())?;
    embed_sdk(&out_dir)
}

/// The folders of the checkout embedded for `shipgate new policy`: (folder,
/// its path under the new crate's `vendor/`).
const SDK_DIRS: &[(&str, &str)] = &[("guest-sdk", "shipgate-sdk"), ("wit", "wit")];

/// Writes `sdk.rs`: `SDK_FILES` (vendor path, checkout path, bytes) for every
/// file under [`SDK_DIRS`], in path order, and the workspace's manifest and
/// lockfile.
fn embed_sdk(out_dir: &Path) -> Result<(), String> {
    let host = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let root = Path::new(&host)
        .parent()
        .ok_or("the host crate has no parent folder")?
        .to_owned();
    let mut code = String::from(
        "/// The guest SDK's files: (path under `vendor/`, path in the checkout, bytes).\n\
         pub static SDK_FILES: &[(&str, &str, &[u8])] = &[\n",
    );
    for (dir, vendored) in SDK_DIRS {
        let from = root.join(dir);
        println!("cargo::rerun-if-changed={}", from.display());
        let mut files = Vec::new();
        walk(&from, &mut files)?;
        files.sort();
        for file in files {
            let relative = file
                .strip_prefix(&from)
                .map_err(|e| e.to_string())?
                .to_str()
                .ok_or_else(|| format!("`{}` is not UTF-8", file.display()))?
                .replace('\\', "/");
            let _ = writeln!(
                code,
                "    ({:?}, {:?}, include_bytes!({:?})),",
                format!("{vendored}/{relative}"),
                format!("{dir}/{relative}"),
                file.display().to_string()
            );
        }
    }
    code.push_str(
        "];\n/// The embedded folders: (path in the checkout, path under `vendor/`).\n\
         pub static SDK_DIRS: &[(&str, &str)] = &[\n",
    );
    for (dir, vendored) in SDK_DIRS {
        let _ = writeln!(code, "    ({dir:?}, {vendored:?}),");
    }
    code.push_str("];\n");
    for (name, file, doc) in [
        (
            "WORKSPACE_MANIFEST",
            "Cargo.toml",
            "The workspace's `Cargo.toml`: what the SDK's manifests inherit.",
        ),
        (
            "WORKSPACE_LOCKFILE",
            "Cargo.lock",
            "The workspace's `Cargo.lock`: the versions the SDK is tested with.",
        ),
    ] {
        let path = root.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        let _ = writeln!(
            code,
            "/// {doc}\npub static {name}: &str = include_str!({:?});",
            path.display().to_string()
        );
    }
    std::fs::write(out_dir.join("sdk.rs"), code).map_err(|e| e.to_string())
}

/// Every file under `dir`, skipping hidden entries and `target` folders.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_file() {
            files.push(path);
        }
    }
    Ok(())
}
