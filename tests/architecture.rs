//! The architecture as a test: the host's crates form layers whose arrows
//! all point down, the engine pulls in no command line, async runtime or
//! HTTP client, and inside each crate neither the top-level modules nor the
//! modules of one folder import each other in a cycle.
//!
//! ```text
//!            shipgate (crates/cli)            [a server crate, later]
//!             /            \
//!   shipgate-engine  shipgate-collect  shipgate-registry  shipgate-bundle
//!             \            |               |               /
//!            shipgate-core (crates/core)
//!                   |
//!            shipgate-model (crates/model)  <-  guest-sdk, policies
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use shipgate_tests::workspace;

/// Each host crate's folder, package name and layer (a crate may depend
/// only on crates of a lower layer).
const LAYERS: &[(&str, &str, u8)] = &[
    ("crates/model", "shipgate-model", 0),
    ("crates/core", "shipgate-core", 1),
    ("crates/engine", "shipgate-engine", 2),
    ("crates/collect", "shipgate-collect", 2),
    ("crates/registry", "shipgate-registry", 2),
    ("crates/bundle", "shipgate-bundle", 2),
    ("crates/fetch", "shipgate-fetch", 3),
    ("crates/cli", "shipgate", 4),
];

/// Tooling any layer above the model may use (building guests).
const TOOLING: &[&str] = &["shipgate-build"];

/// What the embeddable crates must never pull in, directly or not.
const NOT_IN_THE_ENGINE: &[&str] = &["clap", "tokio", "reqwest", "indicatif"];

fn manifest(dir: &str) -> toml::Table {
    let path = workspace().join(dir).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The workspace crates `dir` depends on (normal and build dependencies).
fn internal_dependencies(dir: &str) -> BTreeSet<String> {
    let manifest = manifest(dir);
    ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|table| manifest.get(*table).and_then(toml::Value::as_table))
        .flat_map(|deps| deps.keys().cloned())
        .filter(|name| name.starts_with("shipgate") || name.ends_with("-policy"))
        .collect()
}

#[test]
fn every_crate_depends_only_on_lower_layers() {
    let layer_of: BTreeMap<&str, u8> = LAYERS.iter().map(|(_, n, l)| (*n, *l)).collect();
    let mut wrong = Vec::new();
    for (dir, name, layer) in LAYERS {
        for dep in internal_dependencies(dir) {
            match layer_of.get(dep.as_str()) {
                Some(dep_layer) if dep_layer < layer => {}
                None if TOOLING.contains(&dep.as_str()) && *layer > 0 => {}
                other => wrong.push(format!("{name} (layer {layer}) -> {dep} ({other:?})")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows that do not point down:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn guests_depend_on_no_host_crate() {
    let mut dirs = vec!["guest-sdk".to_owned(), "examples/custom-policy".to_owned()];
    for entry in std::fs::read_dir(workspace().join("policies")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().join("Cargo.toml").is_file() {
            dirs.push(format!("policies/{}", entry.file_name().to_string_lossy()));
        }
    }
    for dir in dirs {
        let host: Vec<String> = internal_dependencies(&dir)
            .into_iter()
            .filter(|d| LAYERS.iter().any(|(_, n, l)| n == d && *l > 0))
            .collect();
        assert!(host.is_empty(), "{dir} depends on host crates {host:?}");
    }
}

/// The packages `package`'s normal dependencies pull in on this platform,
/// transitively, by name (`cargo tree -e normal`).
fn normal_closure(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "tree", "--locked", "-e", "normal", "--prefix", "none", "-p", package,
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_engine_and_the_core_pull_in_no_cli_async_runtime_or_http_client() {
    for package in ["shipgate-engine", "shipgate-core", "shipgate-bundle"] {
        let closure = normal_closure(package);
        assert!(closure.contains("serde"), "{package}: {closure:?}");
        let found: Vec<&&str> = NOT_IN_THE_ENGINE
            .iter()
            .filter(|name| closure.contains(**name))
            .collect();
        assert!(found.is_empty(), "{package} depends on {found:?}");
    }
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `text` without its `#[cfg(test)]` module (at the end of a file, by
/// this workspace's convention): tests may reach anywhere.
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// The top-level modules of `src` each top-level module names with
/// `crate::`, as edges `from -> to`.
fn module_imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = without_tests(&text);
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            // `crate::{a, b}`, and items of the crate root, are not modules.
            let is_module = src.join(format!("{name}.rs")).is_file() || src.join(&name).is_dir();
            if !name.is_empty() && name != top && is_module {
                edges.entry(top.clone()).or_default().insert(name);
            }
        }
        for group in code.split("use crate::{").skip(1) {
            let inside = group.split('}').next().unwrap_or("");
            for part in inside.split(',') {
                let name = part
                    .trim()
                    .split("::")
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                let is_module =
                    src.join(format!("{name}.rs")).is_file() || src.join(&name).is_dir();
                if !name.is_empty() && name != top && is_module {
                    edges.entry(top.clone()).or_default().insert(name);
                }
            }
        }
    }
    edges
}

/// A cycle in `edges`, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_module_imports_from_a_module_that_imports_it() {
    for (dir, name, _) in LAYERS {
        let src = workspace().join(dir).join("src");
        let edges = module_imports(&src);
        if let Some(cycle) = find_cycle(&edges) {
            panic!("{name}: modules import each other: {}", cycle.join(" -> "));
        }
    }
}

/// The names `code` takes from its parent module: `super::NAME` and
/// `use super::{NAME, ...}`.
fn names_from_super(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let name_at = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(at) = rest.find("super::") {
        rest = &rest[at + "super::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inside = group.split('}').next().unwrap_or("");
            for part in inside.split(',') {
                names.insert(name_at(part.trim()));
            }
        } else {
            names.insert(name_at(rest));
        }
    }
    names.remove("");
    names
}

/// Within every folder of `src`, the sibling modules (`a.rs`, `b/`) each
/// sibling names through `super::`, as edges.
fn sibling_imports(dir: &Path, cycles: &mut Vec<String>) {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let stem = |p: &Path| -> String {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned()
    };
    let siblings: BTreeSet<String> = entries
        .iter()
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| stem(p))
        .filter(|n| !matches!(n.as_str(), "mod" | "lib" | "main" | "tests" | "snapshots"))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for sibling in &siblings {
        // The files whose `super::` is this folder: `a.rs` and `a/mod.rs`.
        for file in [
            dir.join(format!("{sibling}.rs")),
            dir.join(sibling).join("mod.rs"),
        ] {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for name in names_from_super(without_tests(&text)) {
                if &name != sibling && siblings.contains(&name) {
                    edges.entry(sibling.clone()).or_default().insert(name);
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(&edges) {
        cycles.push(format!("{}: {}", dir.display(), cycle.join(" -> ")));
    }
    for entry in entries.iter().filter(|p| p.is_dir()) {
        sibling_imports(entry, cycles);
    }
}

#[test]
fn no_sibling_modules_import_each_other_in_a_cycle() {
    let mut cycles = Vec::new();
    for (dir, _, _) in LAYERS {
        sibling_imports(&workspace().join(dir).join("src"), &mut cycles);
    }
    assert!(
        cycles.is_empty(),
        "sibling modules in a cycle:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges
        .entry("config".into())
        .or_default()
        .insert("watch".into());
    edges
        .entry("watch".into())
        .or_default()
        .insert("report".into());
    assert_eq!(find_cycle(&edges), None);
    edges
        .entry("report".into())
        .or_default()
        .insert("config".into());
    assert_eq!(
        find_cycle(&edges).unwrap(),
        ["config", "watch", "report", "config"]
    );
}
