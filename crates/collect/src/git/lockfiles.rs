//! Dependency changes read from lockfiles, found by file name anywhere in
//! the change:
//!
//! | file | ecosystem | what counts |
//! | --- | --- | --- |
//! | `Cargo.lock` | `cargo` | `[[package]]` entries with a `source` (registry or git); workspace members and path crates are the project itself, not dependencies |
//! | `package-lock.json` | `npm` | v2/v3: every `node_modules/...` entry of `packages` (name = the part after the last `node_modules/`; links skipped); v1: `dependencies`, nested ones too |
//! | `go.sum` | `go` | `module version h1:...` lines; the `/go.mod` lines are skipped |
//! | `poetry.lock` | `pypi` | `[[package]]` entries |
//! | `requirements*.txt` | `pypi` | exact pins `name==version` (or `===`); comments, options (`-r`, `--hash`...), URLs, paths and ranges are skipped |
//!
//! Python names are normalised as PEP 503 says (lower case, runs of `-_.`
//! become `-`).
//!
//! A package can be locked at several versions at once (two majors of a
//! crate, `go.sum` keeping older versions). Each lockfile gives a set of
//! versions per name, and one entry per name: `added` (none before),
//! `removed` (none after) or `updated` (the sets differ), with the versions
//! of each side sorted (numbers compared as numbers) and joined with `, `.
//! So `windows-sys 0.48.0, 0.52.0` → `0.52.0, 0.59.0` is one update.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use shipgate_model::{DependencyChange, DependencyChangeKind};

/// The versions locked per package name.
pub(super) type Locked = BTreeMap<String, BTreeSet<String>>;

/// The lockfile formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lockfile {
    /// `Cargo.lock`.
    Cargo,
    /// `package-lock.json`.
    Npm,
    /// `go.sum`.
    Go,
    /// `poetry.lock`.
    Poetry,
    /// `requirements*.txt`.
    Requirements,
}

impl Lockfile {
    /// The format of the file at `path`, by its name.
    pub(super) fn of(path: &str) -> Option<Lockfile> {
        let name = path.rsplit('/').next().unwrap_or(path);
        match name {
            "Cargo.lock" => Some(Lockfile::Cargo),
            "package-lock.json" => Some(Lockfile::Npm),
            "go.sum" => Some(Lockfile::Go),
            "poetry.lock" => Some(Lockfile::Poetry),
            _ if name.starts_with("requirements") && name.ends_with(".txt") => {
                Some(Lockfile::Requirements)
            }
            _ => None,
        }
    }

    /// The snapshot's name for the ecosystem.
    pub(super) fn ecosystem(self) -> &'static str {
        match self {
            Lockfile::Cargo => "cargo",
            Lockfile::Npm => "npm",
            Lockfile::Go => "go",
            Lockfile::Poetry | Lockfile::Requirements => "pypi",
        }
    }

    /// The versions locked by `text`; an empty text locks nothing. The
    /// error is one line.
    pub(super) fn parse(self, text: &str) -> Result<Locked, String> {
        if text.trim().is_empty() {
            return Ok(Locked::new());
        }
        match self {
            Lockfile::Cargo => parse_cargo(text),
            Lockfile::Npm => parse_npm(text),
            Lockfile::Go => parse_go_sum(text),
            Lockfile::Poetry => parse_poetry(text),
            Lockfile::Requirements => parse_requirements(text),
        }
    }
}

fn insert(locked: &mut Locked, name: impl Into<String>, version: impl Into<String>) {
    locked
        .entry(name.into())
        .or_default()
        .insert(version.into());
}

/// A TOML error in one line: the message and where.
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', " ");
    match error.span() {
        Some(span) => {
            let line = text
                .get(..span.start)
                .map_or(0, |before| before.matches('\n').count())
                + 1;
            format!("{message} (line {line})")
        }
        None => message,
    }
}

#[derive(Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlPackage>,
}

#[derive(Deserialize)]
struct TomlPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<toml::Value>,
}

fn parse_cargo(text: &str) -> Result<Locked, String> {
    let lock: TomlLock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let mut locked = Locked::new();
    for package in lock.package.into_iter().filter(|p| p.source.is_some()) {
        insert(&mut locked, package.name, package.version);
    }
    Ok(locked)
}

fn parse_poetry(text: &str) -> Result<Locked, String> {
    let lock: TomlLock = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let mut locked = Locked::new();
    for package in lock.package {
        insert(&mut locked, pep503(&package.name), package.version);
    }
    Ok(locked)
}

fn parse_npm(text: &str) -> Result<Locked, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let root = value
        .as_object()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    let mut locked = Locked::new();
    if let Some(packages) = root.get("packages") {
        let packages = packages
            .as_object()
            .ok_or_else(|| "`packages` is not an object".to_owned())?;
        for (key, entry) in packages {
            let Some(at) = key.rfind("node_modules/") else {
                // The root package or a workspace folder: the project itself.
                continue;
            };
            let name = &key[at + "node_modules/".len()..];
            if name.is_empty() || entry.get("link").and_then(|l| l.as_bool()) == Some(true) {
                continue;
            }
            if let Some(version) = entry.get("version").and_then(|v| v.as_str()) {
                insert(&mut locked, name, version);
            }
        }
    } else if let Some(dependencies) = root.get("dependencies") {
        npm_v1(dependencies, &mut locked)?;
    }
    Ok(locked)
}

/// The nested `dependencies` of a v1 `package-lock.json`.
fn npm_v1(dependencies: &serde_json::Value, locked: &mut Locked) -> Result<(), String> {
    let dependencies = dependencies
        .as_object()
        .ok_or_else(|| "`dependencies` is not an object".to_owned())?;
    for (name, entry) in dependencies {
        if let Some(version) = entry.get("version").and_then(|v| v.as_str()) {
            insert(locked, name.as_str(), version);
        }
        if let Some(nested) = entry.get("dependencies") {
            npm_v1(nested, locked)?;
        }
    }
    Ok(())
}

fn parse_go_sum(text: &str) -> Result<Locked, String> {
    let mut locked = Locked::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => {}
            [module, version, _hash] => {
                if !version.ends_with("/go.mod") {
                    insert(&mut locked, *module, *version);
                }
            }
            _ => return Err(format!("line {} is not `module version hash`", i + 1)),
        }
    }
    Ok(locked)
}

fn parse_requirements(text: &str) -> Result<Locked, String> {
    let mut locked = Locked::new();
    // Join continued lines first, remembering where each one started.
    let mut logical: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let (start, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => {
                joined.push_str(head);
                joined.push(' ');
                pending = Some((start, joined));
            }
            None => {
                joined.push_str(line);
                logical.push((start, joined));
            }
        }
    }
    logical.extend(pending);
    for (line_no, line) in logical {
        // A comment starts at `#` at the start or after whitespace.
        let line = match line.find('#') {
            Some(0) => "",
            Some(at) if line[..at].ends_with(char::is_whitespace) => &line[..at],
            _ => line.as_str(),
        };
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('-')
            || line.starts_with('.')
            || line.starts_with('/')
            || line.contains("://")
        {
            continue;
        }
        let end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(line.len());
        let (name, rest) = line.split_at(end);
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!("line {line_no} is not a requirement"));
        }
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('[') {
            Some(extras) => match extras.find(']') {
                Some(close) => extras[close + 1..].trim_start(),
                None => return Err(format!("line {line_no} is not a requirement")),
            },
            None => rest,
        };
        let Some(pinned) = rest.strip_prefix("===").or_else(|| rest.strip_prefix("==")) else {
            continue; // not a pin: a range, a marker-only line, `name @ url`
        };
        let version = pinned
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
            .next()
            .unwrap_or("");
        if version.is_empty() {
            return Err(format!("line {line_no} pins no version"));
        }
        if version.contains('*') {
            continue; // `==1.2.*` is a range
        }
        insert(&mut locked, pep503(name), version);
    }
    Ok(locked)
}

/// A Python project name normalised as PEP 503 says.
pub(super) fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_run = false;
        }
    }
    out
}

/// Compares versions with runs of digits taken as numbers.
pub(super) fn compare_versions(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let digits_a = a.starts_with(|c: char| c.is_ascii_digit());
        let digits_b = b.starts_with(|c: char| c.is_ascii_digit());
        let split = |s: &str, digits: bool| {
            let end = s
                .find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(s.len());
            (s[..end].to_owned(), s[end..].to_owned())
        };
        let ((chunk_a, rest_a), (chunk_b, rest_b)) = (split(a, digits_a), split(b, digits_b));
        let order = if digits_a && digits_b {
            let (ta, tb) = (
                chunk_a.trim_start_matches('0'),
                chunk_b.trim_start_matches('0'),
            );
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            chunk_a.cmp(&chunk_b)
        };
        if order != Ordering::Equal {
            return order;
        }
        let (len_a, len_b) = (a.len() - rest_a.len(), b.len() - rest_b.len());
        a = &a[len_a..];
        b = &b[len_b..];
    }
}

fn joined(versions: &BTreeSet<String>) -> String {
    let mut sorted: Vec<&String> = versions.iter().collect();
    sorted.sort_by(|x, y| compare_versions(x, y).then_with(|| x.cmp(y)));
    sorted
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What changed between two lockings of one file, sorted by name.
pub(super) fn diff(ecosystem: &str, before: &Locked, after: &Locked) -> Vec<DependencyChange> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut changes = Vec::new();
    for name in names {
        let (change, from, to) = match (before.get(name), after.get(name)) {
            (None, Some(to)) => (DependencyChangeKind::Added, None, Some(joined(to))),
            (Some(from), None) => (DependencyChangeKind::Removed, Some(joined(from)), None),
            (Some(from), Some(to)) if from != to => (
                DependencyChangeKind::Updated,
                Some(joined(from)),
                Some(joined(to)),
            ),
            _ => continue,
        };
        changes.push(DependencyChange {
            ecosystem: ecosystem.to_owned(),
            name: name.clone(),
            change,
            from_version: from,
            to_version: to,
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(pairs: &[(&str, &str)]) -> Locked {
        let mut l = Locked::new();
        for (n, v) in pairs {
            insert(&mut l, *n, *v);
        }
        l
    }

    #[test]
    fn file_names() {
        assert_eq!(Lockfile::of("Cargo.lock"), Some(Lockfile::Cargo));
        assert_eq!(Lockfile::of("a/b/package-lock.json"), Some(Lockfile::Npm));
        assert_eq!(Lockfile::of("svc/go.sum"), Some(Lockfile::Go));
        assert_eq!(Lockfile::of("poetry.lock"), Some(Lockfile::Poetry));
        assert_eq!(
            Lockfile::of("requirements-dev.txt"),
            Some(Lockfile::Requirements)
        );
        assert_eq!(
            Lockfile::of("py/requirements.txt"),
            Some(Lockfile::Requirements)
        );
        assert_eq!(Lockfile::of("Cargo.toml"), None);
        assert_eq!(Lockfile::of("docs/requirements.md"), None);
        assert_eq!(Lockfile::of("Cargo.lock/x"), None);
    }

    #[test]
    fn cargo_lock_skips_the_workspace() {
        let text = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "windows-sys"
version = "0.52.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "windows-sys"
version = "0.48.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        assert_eq!(
            Lockfile::Cargo.parse(text).unwrap(),
            locked(&[
                ("serde", "1.0.2"),
                ("windows-sys", "0.52.0"),
                ("windows-sys", "0.48.0")
            ])
        );
        let err = Lockfile::Cargo
            .parse("version = 4\n[[package]]\nname = \"x\"\n")
            .unwrap_err();
        assert!(err.contains("missing field `version`"), "{err}");
        assert!(!err.contains('\n'));
        let err = Lockfile::Cargo
            .parse("version = 4\n\n[[package\n")
            .unwrap_err();
        assert!(err.ends_with("(line 3)"), "{err}");
    }

    #[test]
    fn package_lock_v1_and_v3() {
        let v1 = r#"{
  "name": "web", "version": "1.0.0", "lockfileVersion": 1,
  "dependencies": {
    "left-pad": { "version": "1.3.0" },
    "@babel/core": { "version": "7.1.0",
      "dependencies": { "semver": { "version": "5.7.2" } } },
    "semver": { "version": "7.5.4" }
  }
}"#;
        assert_eq!(
            Lockfile::Npm.parse(v1).unwrap(),
            locked(&[
                ("left-pad", "1.3.0"),
                ("@babel/core", "7.1.0"),
                ("semver", "5.7.2"),
                ("semver", "7.5.4")
            ])
        );
        let v3 = r#"{
  "name": "web", "version": "1.0.0", "lockfileVersion": 3,
  "packages": {
    "": { "name": "web", "version": "1.0.0" },
    "packages/ui": { "name": "ui", "version": "0.0.1" },
    "node_modules/ui": { "resolved": "packages/ui", "link": true },
    "node_modules/left-pad": { "version": "1.3.0" },
    "node_modules/@babel/core": { "version": "7.24.0" },
    "node_modules/@babel/core/node_modules/semver": { "version": "6.3.1" },
    "node_modules/semver": { "version": "7.6.0" }
  },
  "dependencies": { "ignored": { "version": "9.9.9" } }
}"#;
        assert_eq!(
            Lockfile::Npm.parse(v3).unwrap(),
            locked(&[
                ("left-pad", "1.3.0"),
                ("@babel/core", "7.24.0"),
                ("semver", "6.3.1"),
                ("semver", "7.6.0")
            ])
        );
        let err = Lockfile::Npm.parse("{\"packages\": {").unwrap_err();
        assert!(err.contains("line 1 column"), "{err}");
        assert_eq!(Lockfile::Npm.parse("[1]").unwrap_err(), "not a JSON object");
    }

    #[test]
    fn go_sum_skips_go_mod_lines() {
        let text = "\
github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=
github.com/pkg/errors v0.9.1/go.mod h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=
golang.org/x/sys v0.1.0 h1:aaa=
golang.org/x/sys v0.1.0/go.mod h1:bbb=
golang.org/x/sys v0.5.0 h1:ccc=
golang.org/x/text v0.3.0/go.mod h1:ddd=

";
        assert_eq!(
            Lockfile::Go.parse(text).unwrap(),
            locked(&[
                ("github.com/pkg/errors", "v0.9.1"),
                ("golang.org/x/sys", "v0.1.0"),
                ("golang.org/x/sys", "v0.5.0")
            ])
        );
        assert_eq!(
            Lockfile::Go.parse("a v1 h1:x\nbroken line\n").unwrap_err(),
            "line 2 is not `module version hash`"
        );
    }

    #[test]
    fn poetry_lock_normalises_names() {
        let text = r#"
[[package]]
name = "Flask_SQLAlchemy"
version = "3.1.1"
description = "x"
optional = false
python-versions = ">=3.8"

[[package]]
name = "requests"
version = "2.31.0"

[metadata]
lock-version = "2.0"
"#;
        assert_eq!(
            Lockfile::Poetry.parse(text).unwrap(),
            locked(&[("flask-sqlalchemy", "3.1.1"), ("requests", "2.31.0")])
        );
        assert!(Lockfile::Poetry.parse("[[package]]\nname = 1\n").is_err());
    }

    #[test]
    fn requirements_pins_only() {
        let text = "\
# the app
-r base.txt
--index-url https://pypi.org/simple
Django==4.2.7  # LTS
requests[security]==2.31.0 ; python_version >= \"3.8\"
zope.interface===6.1
flask>=2.0
numpy==1.26.*
-e .
./local/pkg
git+https://github.com/x/y.git#egg=y
pkg @ https://example.com/pkg.whl
cryptography==41.0.7 \\
    --hash=sha256:abc \\
    --hash=sha256:def
Typing_Extensions == 4.8.0
";
        assert_eq!(
            Lockfile::Requirements.parse(text).unwrap(),
            locked(&[
                ("django", "4.2.7"),
                ("requests", "2.31.0"),
                ("zope-interface", "6.1"),
                ("cryptography", "41.0.7"),
                ("typing-extensions", "4.8.0")
            ])
        );
        assert_eq!(
            Lockfile::Requirements
                .parse("ok==1\n%%% nonsense\n")
                .unwrap_err(),
            "line 2 is not a requirement"
        );
        assert_eq!(
            Lockfile::Requirements.parse("ok==\n").unwrap_err(),
            "line 1 pins no version"
        );
    }

    #[test]
    fn diff_one_entry_per_name() {
        let before = locked(&[
            ("serde", "1.0.1"),
            ("gone", "0.1.0"),
            ("same", "2.0.0"),
            ("windows-sys", "0.48.0"),
            ("windows-sys", "0.52.0"),
        ]);
        let after = locked(&[
            ("serde", "1.0.10"),
            ("new", "3.0.0"),
            ("same", "2.0.0"),
            ("windows-sys", "0.52.0"),
            ("windows-sys", "0.59.0"),
            ("windows-sys", "0.9.0"),
        ]);
        let change = |name: &str, kind, from: Option<&str>, to: Option<&str>| DependencyChange {
            ecosystem: "cargo".to_owned(),
            name: name.to_owned(),
            change: kind,
            from_version: from.map(str::to_owned),
            to_version: to.map(str::to_owned),
        };
        assert_eq!(
            diff("cargo", &before, &after),
            vec![
                change("gone", DependencyChangeKind::Removed, Some("0.1.0"), None),
                change("new", DependencyChangeKind::Added, None, Some("3.0.0")),
                change(
                    "serde",
                    DependencyChangeKind::Updated,
                    Some("1.0.1"),
                    Some("1.0.10")
                ),
                change(
                    "windows-sys",
                    DependencyChangeKind::Updated,
                    Some("0.48.0, 0.52.0"),
                    Some("0.9.0, 0.52.0, 0.59.0")
                ),
            ]
        );
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare_versions("v0.9.1", "v0.10.0"), Ordering::Less);
        assert_eq!(compare_versions("1.0", "1.0.0"), Ordering::Less);
        assert_eq!(pep503("Foo.Bar__baz-"), "foo-bar-baz-");
    }
}
