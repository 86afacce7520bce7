//! The guest SDK this binary was built with, as `shipgate new policy` writes
//! it into a new crate: `vendor/shipgate-sdk` (the `shipgate-sdk` crate),
//! `vendor/shipgate-model` (the model it re-exports) and `vendor/wit` (the
//! WIT package the SDK's bindings are generated from), so that the crate builds with no Shipgate checkout, on
//! any machine, offline.
//!
//! `build.rs` embeds the files byte for byte. The SDK's manifests inherit
//! from the Shipgate workspace (`version.workspace = true`,
//! `serde.workspace = true`), which the new crate does not have: they are
//! written standalone, with the workspace's values filled in (what
//! `cargo package` does) and path dependencies pointing into `vendor/`.

use std::path::PathBuf;

use toml::{Table, Value};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/sdk.rs"));
}

/// The folder of the new crate the SDK is written to.
pub const VENDOR_DIR: &str = "vendor";

/// The SDK crate's folder in the new crate: its path dependency.
pub const SDK_DIR: &str = "vendor/shipgate-sdk";

/// The version of the embedded SDK (the binary's own).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The lockfile of the workspace the SDK was built and tested in.
pub const LOCKFILE: &str = generated::WORKSPACE_LOCKFILE;

/// The tables of a manifest whose entries are dependencies.
const DEPENDENCY_TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// Every file of the vendored SDK: (path relative to the new crate, bytes),
/// manifests made standalone.
pub fn files() -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let workspace: Table = toml::from_str(generated::WORKSPACE_MANIFEST)
        .map_err(|e| format!("the workspace's Cargo.toml: {}", e.message()))?;
    generated::SDK_FILES
        .iter()
        .map(|(vendored, checkout, bytes)| {
            let path = PathBuf::from(VENDOR_DIR).join(vendored);
            let Some(dir) = checkout.strip_suffix("/Cargo.toml") else {
                return Ok((path, bytes.to_vec()));
            };
            let text = std::str::from_utf8(bytes).map_err(|e| format!("`{checkout}`: {e}"))?;
            let manifest = standalone(text, dir, &workspace)
                .map_err(|e| format!("`{checkout}` cannot be made standalone: {e}"))?;
            Ok((path, manifest.into_bytes()))
        })
        .collect()
}

/// The manifest `text` of the member in `dir` (relative to the workspace
/// root), with everything it inherits from `workspace` filled in and its
/// path dependencies pointing to their vendored folders.
pub fn standalone(text: &str, dir: &str, workspace: &Table) -> Result<String, String> {
    let mut manifest: Table = toml::from_str(text).map_err(|e| e.message().to_owned())?;
    let shared = |key: &str| workspace.get("workspace").and_then(|w| w.get(key));
    if let Some(Value::Table(package)) = manifest.get_mut("package") {
        for (key, value) in package.iter_mut() {
            if inherits(value) {
                *value = shared("package")
                    .and_then(|p| p.get(key))
                    .cloned()
                    .ok_or_else(|| format!("`package.{key}` is not in [workspace.package]"))?;
            }
        }
    }
    let vendored_dir = vendored(dir).ok_or_else(|| format!("`{dir}` is not embedded"))?;
    let workspace_dependencies = shared("dependencies").and_then(Value::as_table);
    let mut tables: Vec<&mut Table> = Vec::new();
    let (targets, rest): (Vec<_>, Vec<_>) = manifest
        .iter_mut()
        .partition(|(key, _)| key.as_str() == "target");
    for (key, value) in rest {
        if DEPENDENCY_TABLES.contains(&key.as_str())
            && let Value::Table(table) = value
        {
            tables.push(table);
        }
    }
    for (_, value) in targets {
        if let Value::Table(targets) = value {
            for (_, platform) in targets.iter_mut() {
                if let Value::Table(platform) = platform {
                    for (key, value) in platform.iter_mut() {
                        if DEPENDENCY_TABLES.contains(&key.as_str())
                            && let Value::Table(table) = value
                        {
                            tables.push(table);
                        }
                    }
                }
            }
        }
    }
    for table in tables {
        for (name, dependency) in table.iter_mut() {
            let (spec, base) = if inherits(dependency) {
                let spec = workspace_dependencies
                    .and_then(|d| d.get(name))
                    .ok_or_else(|| {
                        format!("dependency `{name}` is not in [workspace.dependencies]")
                    })?;
                (inherit(spec, dependency), "")
            } else {
                (dependency.clone(), dir)
            };
            *dependency = relocate(spec, base, &vendored_dir)
                .map_err(|e| format!("dependency `{name}`: {e}"))?;
        }
    }
    if let Some(lints) = manifest.get_mut("lints")
        && inherits(lints)
    {
        *lints = shared("lints")
            .cloned()
            .ok_or("`lints` is not in [workspace.lints]")?;
    }
    // `[package]` first, as people write it.
    let package = manifest
        .remove("package")
        .map(|package| Table::from_iter([("package".to_owned(), package)]));
    let mut body = match package {
        Some(package) => toml::to_string(&package).map_err(|e| e.to_string())? + "\n",
        None => String::new(),
    };
    body.push_str(&toml::to_string(&manifest).map_err(|e| e.to_string())?);
    Ok(format!(
        "# Written by `shipgate new policy`: the guest SDK of shipgate {VERSION}, which this\n\
         # crate was created with.\n\n{body}"
    ))
}

/// Whether `value` is `{ workspace = true, ... }`.
fn inherits(value: &Value) -> bool {
    value.get("workspace").and_then(Value::as_bool) == Some(true)
}

/// A member's `{ workspace = true, ... }` dependency on top of the
/// workspace's `spec`: features add up, the member's other keys
/// (`optional`, ...) are kept.
fn inherit(spec: &Value, member: &Value) -> Value {
    let mut merged = match spec {
        Value::String(version) => {
            Table::from_iter([("version".to_owned(), version.clone().into())])
        }
        Value::Table(table) => table.clone(),
        other => Table::from_iter([("version".to_owned(), other.clone())]),
    };
    if let Value::Table(member) = member {
        for (key, value) in member {
            match key.as_str() {
                "workspace" => {}
                "features" => {
                    let mut features: Vec<Value> = merged
                        .get("features")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    for feature in value.as_array().into_iter().flatten() {
                        if !features.contains(feature) {
                            features.push(feature.clone());
                        }
                    }
                    merged.insert(key.clone(), Value::Array(features));
                }
                _ => {
                    merged.insert(key.clone(), value.clone());
                }
            }
        }
    }
    Value::Table(merged)
}

/// `spec` with its `path` (relative to `base`, a folder relative to the
/// workspace root) made relative to the vendored folder `from`.
fn relocate(mut spec: Value, base: &str, from: &str) -> Result<Value, String> {
    let Some(path) = spec.get("path").and_then(Value::as_str) else {
        return Ok(spec);
    };
    let in_checkout = normalize(&format!("{base}/{path}"))?;
    let target = vendored(&in_checkout)
        .ok_or_else(|| format!("its path `{path}` leads out of the embedded SDK"))?;
    if let Value::Table(table) = &mut spec {
        table.insert("path".to_owned(), relative(from, &target).into());
    }
    Ok(spec)
}

/// Where the checkout's folder `dir` (relative to the workspace root) is
/// under `vendor/`, if it is embedded.
fn vendored(dir: &str) -> Option<String> {
    generated::SDK_DIRS.iter().find_map(|(checkout, vendored)| {
        if dir == *checkout {
            Some((*vendored).to_owned())
        } else {
            dir.strip_prefix(checkout)
                .and_then(|rest| rest.strip_prefix('/'))
                .map(|rest| format!("{vendored}/{rest}"))
        }
    })
}

/// `a/./b/../c` → `a/c`; an error when it climbs above the root.
fn normalize(path: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts
                    .pop()
                    .ok_or_else(|| format!("`{path}` leads out of the workspace"))?;
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// The path from folder `from` to folder `to`, both relative to one root.
fn relative(from: &str, to: &str) -> String {
    let from: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    let to: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_and_made_relative() {
        assert_eq!(
            normalize("guest-sdk/./model/../model").unwrap(),
            "guest-sdk/model"
        );
        assert!(normalize("guest-sdk/../..").is_err());
        assert_eq!(relative("shipgate-sdk", "shipgate-sdk/model"), "model");
        assert_eq!(relative("shipgate-sdk/model", "shipgate-sdk"), "..");
        assert_eq!(relative("shipgate-sdk", "wit"), "../wit");
        assert_eq!(relative("a", "a"), ".");
        assert_eq!(
            vendored("guest-sdk/model").as_deref(),
            Some("shipgate-sdk/model")
        );
        assert_eq!(vendored("guest-sdkx"), None);
        assert_eq!(vendored("host"), None);
    }

    #[test]
    fn a_member_manifest_is_made_standalone() {
        let workspace: Table = toml::from_str(
            r#"
[workspace.package]
version = "1.2.3"
edition = "2024"
[workspace.dependencies]
shipgate-model = { path = "guest-sdk/model", default-features = false }
serde = { version = "1", features = ["derive"] }
time = "0.3"
host-only = { path = "host" }
[workspace.lints.clippy]
unwrap_used = "deny"
"#,
        )
        .unwrap();
        let member = r#"
[package]
name = "shipgate-sdk"
version.workspace = true
edition.workspace = true

[dependencies]
shipgate-model = { workspace = true, features = ["schema"] }
serde = { workspace = true, features = ["rc", "derive"] }
time.workspace = true
local = { path = "model" }

[target.'cfg(unix)'.dependencies]
serde.workspace = true

[lints]
workspace = true
"#;
        let text = standalone(member, "guest-sdk", &workspace).unwrap();
        assert!(!text.contains("workspace"), "{text}");
        assert!(
            text.contains(
                "created with.\n\n[package]\nedition = \"2024\"\nname = \"shipgate-sdk\"\n"
            ),
            "{text}"
        );
        let manifest: Table = toml::from_str(&text).unwrap();
        assert_eq!(manifest["package"]["version"].as_str(), Some("1.2.3"));
        assert_eq!(manifest["package"]["edition"].as_str(), Some("2024"));
        let deps = &manifest["dependencies"];
        assert_eq!(deps["shipgate-model"]["path"].as_str(), Some("model"));
        assert_eq!(
            deps["shipgate-model"]["default-features"].as_bool(),
            Some(false)
        );
        assert_eq!(
            deps["shipgate-model"]["features"].as_array().unwrap(),
            &vec![Value::from("schema")]
        );
        assert_eq!(
            deps["serde"]["features"].as_array().unwrap(),
            &vec![Value::from("derive"), Value::from("rc")]
        );
        assert_eq!(deps["time"]["version"].as_str(), Some("0.3"));
        assert_eq!(deps["local"]["path"].as_str(), Some("model"));
        assert_eq!(
            manifest["target"]["cfg(unix)"]["dependencies"]["serde"]["version"].as_str(),
            Some("1")
        );
        assert_eq!(
            manifest["lints"]["clippy"]["unwrap_used"].as_str(),
            Some("deny")
        );

        // A path out of what is embedded cannot be vendored.
        let out = "[package]\nname = \"x\"\n[dependencies]\nhost-only.workspace = true\n";
        let e = standalone(out, "guest-sdk", &workspace).unwrap_err();
        assert!(
            e.contains("dependency `host-only`: its path `host` leads out"),
            "{e}"
        );
        let e = standalone("[package]\nname = \"x\"\n", "host", &workspace).unwrap_err();
        assert!(e.contains("`host` is not embedded"), "{e}");
    }

    #[test]
    fn the_embedded_sdk_is_this_checkouts_and_standalone() {
        let root =
            shipgate_build::workspace_root_of(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
        let files = files().unwrap();
        let paths: Vec<String> = files
            .iter()
            .map(|(p, _)| p.to_string_lossy().into_owned())
            .collect();
        for wanted in [
            "vendor/shipgate-sdk/Cargo.toml",
            "vendor/shipgate-sdk/src/lib.rs",
            "vendor/shipgate-model/Cargo.toml",
            "vendor/shipgate-model/src/lib.rs",
            "vendor/wit/policy.wit",
        ] {
            assert!(paths.iter().any(|p| p == wanted), "{wanted} in {paths:?}");
        }
        for (path, bytes) in &files {
            let relative = path.strip_prefix(VENDOR_DIR).unwrap().to_string_lossy();
            let checkout = generated::SDK_DIRS
                .iter()
                .find_map(|(checkout, vendored)| {
                    let rest = relative.strip_prefix(vendored)?;
                    Some(format!("{checkout}{rest}"))
                })
                .unwrap();
            let original = std::fs::read(root.join(&checkout)).unwrap();
            if path.ends_with("Cargo.toml") {
                let text = String::from_utf8(bytes.clone()).unwrap();
                assert!(!text.contains("workspace"), "{text}");
                assert!(!text.contains(env!("CARGO_MANIFEST_DIR")), "{text}");
            } else {
                assert_eq!(bytes, &original, "{checkout} is embedded as it is");
            }
        }
        assert_eq!(
            LOCKFILE,
            std::fs::read_to_string(root.join("Cargo.lock")).unwrap()
        );
    }
}
