//! Embeds the guest SDK the binary is built with (`guest-sdk/`,
//! `crates/model/`, the `wit/` files, the workspace's `Cargo.toml` and
//! `Cargo.lock`), which `shipgate new policy` writes into a new crate's
//! `vendor/` so that the crate builds without a Shipgate checkout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let out_dir = match std::env::var_os("OUT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            println!("cargo::error=OUT_DIR is not set");
            return;
        }
    };
    if let Err(e) = embed_sdk(&out_dir) {
        println!("cargo::error={e}");
    }
}

/// The folders of the checkout embedded for `shipgate new policy`: (folder,
/// its path under the new crate's `vendor/`).
const SDK_DIRS: &[(&str, &str)] = &[
    ("guest-sdk", "shipgate-sdk"),
    ("crates/model", "shipgate-model"),
    ("wit", "wit"),
];

/// Writes `sdk.rs`: `SDK_FILES` (vendor path, checkout path, bytes) for every
/// file under [`SDK_DIRS`], in path order, and the workspace's manifest and
/// lockfile.
fn embed_sdk(out_dir: &Path) -> Result<(), String> {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let root = Path::new(&manifest_dir)
        .ancestors()
        .nth(2)
        .ok_or("the CLI crate is not two folders below the workspace")?
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
