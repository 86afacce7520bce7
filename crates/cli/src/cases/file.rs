//! Case files: what a case names, and how a file becomes cases.
//!
//! ```toml
//! description = "a canary whose error rate is 15x the baseline's rolls back"
//! snapshot = "snapshots/error-spike.json"   # or: snapshots = ["../scenarios/*.json"]
//! stage = "canary"                          # default: canary with a rollout, else gate
//! config = "../shipgate.toml"               # or: configs = ["a.toml", "b.toml"]
//!
//! # Or, in a policy crate instead of `config`: the crate's own policy with
//! # this config table.
//! [policy]
//! max_error_rate = 0.02
//! ```
//!
//! Paths are relative to the case file; `snapshots` and `configs` take
//! globs. Every snapshot × config is a case, named by the file's stem when
//! there is one of each, by the snapshot's stem when there is one config,
//! and `SNAPSHOT@CONFIG` otherwise.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use shipgate_model::Stage;

/// A case file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// What the cases check, for a person.
    #[serde(default)]
    pub description: Option<String>,
    /// One snapshot.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// Several snapshots (globs).
    #[serde(default)]
    pub snapshots: Option<Vec<String>>,
    /// The question; default from each snapshot.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// One `shipgate.toml`.
    #[serde(default)]
    pub config: Option<String>,
    /// Several configurations (globs).
    #[serde(default)]
    pub configs: Option<Vec<String>>,
    /// The config table of the policy crate under test.
    #[serde(default)]
    pub policy: Option<toml::Table>,
}

/// The policies a case asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Policies {
    /// A `shipgate.toml`.
    Config(PathBuf),
    /// The policy crate under test, with this config table.
    Crate(toml::Table),
}

impl Policies {
    /// A short name for reports.
    pub fn label(&self) -> String {
        match self {
            Policies::Config(path) => path.display().to_string(),
            Policies::Crate(_) => "[policy]".to_owned(),
        }
    }
}

/// One case: a snapshot, the policies, the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Its name, unique in its file.
    pub name: String,
    /// The snapshot file.
    pub snapshot: PathBuf,
    /// The policies to ask.
    pub policies: Policies,
    /// The stage, if the file gives one.
    pub stage: Option<Stage>,
}

/// A case file, read and expanded.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The case file.
    pub path: PathBuf,
    /// Its description.
    pub description: Option<String>,
    /// Its cases, in order.
    pub cases: Vec<Case>,
}

/// Why a case file is not usable.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct CaseFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (with line and column when toml knows them).
    pub message: String,
}

/// Reads a case file and expands it into cases. `in_crate` says whether a
/// policy crate is under test (which makes `[policy]` usable).
pub fn load(path: &Path, in_crate: bool) -> Result<LoadedFile, CaseFileError> {
    let error = |message: String| CaseFileError {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let file: CaseFile =
        toml::from_str(&text).map_err(|e| error(e.to_string().trim_end().to_owned()))?;
    let dir = path.parent().unwrap_or(Path::new("."));

    let snapshots = match (&file.snapshot, &file.snapshots) {
        (Some(one), None) => vec![normalize(&dir.join(one))],
        (None, Some(many)) => expand(dir, many).map_err(error)?,
        (Some(_), Some(_)) => return Err(error("give `snapshot` or `snapshots`, not both".into())),
        (None, None) => {
            return Err(error(
                "a case names its snapshot: `snapshot = \"FILE.json\"` (or `snapshots = [GLOB, ...]`)"
                    .into(),
            ));
        }
    };
    let policies = match (&file.config, &file.configs) {
        (Some(_), Some(_)) => return Err(error("give `config` or `configs`, not both".into())),
        (Some(_), None) | (None, Some(_)) if file.policy.is_some() => {
            return Err(error(
                "`[policy]` configures the crate under test; a case with `config` takes its policies from that file"
                    .into(),
            ));
        }
        (Some(one), None) => vec![Policies::Config(normalize(&dir.join(one)))],
        (None, Some(many)) => expand(dir, many)
            .map_err(error)?
            .into_iter()
            .map(Policies::Config)
            .collect(),
        (None, None) if in_crate => vec![Policies::Crate(file.policy.clone().unwrap_or_default())],
        (None, None) if file.policy.is_some() => {
            return Err(error(
                "`[policy]` is for cases inside a policy crate (`shipgate test CRATE_DIR`); here give `config = \"shipgate.toml\"`"
                    .into(),
            ));
        }
        (None, None) => {
            return Err(error(
                "a case names its policies: `config = \"shipgate.toml\"` (or, inside a policy crate, a `[policy]` table)"
                    .into(),
            ));
        }
    };

    let stem = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .map(|n| {
                n.strip_suffix(".json")
                    .or_else(|| n.strip_suffix(".toml"))
                    .map(str::to_owned)
                    .unwrap_or(n)
            })
            .unwrap_or_default()
    };
    let file_stem = stem(path);
    let mut cases = Vec::with_capacity(snapshots.len() * policies.len());
    for snapshot in &snapshots {
        for p in &policies {
            let name = match (snapshots.len(), policies.len(), p) {
                (1, 1, _) => file_stem.clone(),
                (_, 1, _) => stem(snapshot),
                (_, _, Policies::Config(config)) => format!("{}@{}", stem(snapshot), stem(config)),
                (_, _, Policies::Crate(_)) => stem(snapshot),
            };
            if cases.iter().any(|c: &Case| c.name == name) {
                return Err(error(format!(
                    "two cases are named `{name}`; give the snapshots or configs distinct file names"
                )));
            }
            cases.push(Case {
                name,
                snapshot: snapshot.clone(),
                policies: p.clone(),
                stage: file.stage,
            });
        }
    }
    Ok(LoadedFile {
        path: path.to_owned(),
        description: file.description,
        cases,
    })
}

/// Expands globs relative to `dir`, each in sorted order; a glob that
/// matches nothing is an error (a renamed folder must not pass silently).
fn expand(dir: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    if patterns.is_empty() {
        return Err("the list is empty".into());
    }
    let mut out = Vec::new();
    for pattern in patterns {
        let full = dir.join(pattern);
        let full = full.to_string_lossy();
        let mut matched: Vec<PathBuf> = glob::glob(&full)
            .map_err(|e| format!("`{pattern}` is not a valid glob: {e}"))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(format!("`{pattern}` matches no file"));
        }
        matched.sort();
        for m in matched.iter().map(|m| normalize(m)) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// `a/b/../c` → `a/c`, without touching the file system, so that reports
/// show the paths a person would write.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn one_snapshot_and_one_config_is_one_case_named_by_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "spike.toml",
            "snapshot = \"s/a.json\"\nconfig = \"c.toml\"\nstage = \"risk\"\n",
        );
        let loaded = load(&f, false).unwrap();
        assert_eq!(loaded.cases.len(), 1);
        let case = &loaded.cases[0];
        assert_eq!(case.name, "spike");
        assert_eq!(case.snapshot, dir.path().join("s/a.json"));
        assert_eq!(case.policies, Policies::Config(dir.path().join("c.toml")));
        assert_eq!(case.stage, Some(Stage::Risk));
    }

    #[test]
    fn globs_make_a_matrix_named_snapshot_at_config() {
        let dir = tempfile::tempdir().unwrap();
        for s in ["b.json", "a.json"] {
            write(dir.path(), &format!("snaps/{s}"), "{}");
        }
        for c in ["strict.toml", "lax.toml"] {
            write(dir.path(), &format!("profiles/{c}"), "");
        }
        let f = write(
            dir.path(),
            "cases/corpus.toml",
            "snapshots = [\"../snaps/*.json\"]\nconfigs = [\"../profiles/*.toml\"]\n",
        );
        let names: Vec<String> = load(&f, false)
            .unwrap()
            .cases
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["a@lax", "a@strict", "b@lax", "b@strict"]);
    }

    #[test]
    fn paths_are_shown_without_dot_dot() {
        assert_eq!(
            normalize(Path::new("tests/cases/../scenarios/./a.json")),
            PathBuf::from("tests/scenarios/a.json")
        );
        assert_eq!(normalize(Path::new("../x/../y")), PathBuf::from("../y"));
    }

    #[test]
    fn mistakes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = |text: &str, in_crate: bool| {
            let f = write(dir.path(), "x.toml", text);
            load(&f, in_crate).unwrap_err().to_string()
        };
        assert!(err("config = \"c.toml\"\n", false).contains("names its snapshot"));
        assert!(err("snapshot = \"a.json\"\n", false).contains("names its policies"));
        assert!(
            err("snapshot = \"a.json\"\n[policy]\nx = 1\n", false)
                .contains("inside a policy crate")
        );
        assert!(
            err(
                "snapshot = \"a.json\"\nconfig = \"c.toml\"\n[policy]\n",
                true
            )
            .contains("takes its policies from that file")
        );
        let unknown = err("snapshot = \"a.json\"\nconfg = \"c.toml\"\n", false);
        assert!(unknown.contains("unknown field `confg`"), "{unknown}");
        assert!(unknown.contains("line 2"), "{unknown}");
        assert!(
            err("snapshots = [\"nothing/*.json\"]\nconfig = \"c\"\n", false)
                .contains("`nothing/*.json` matches no file")
        );
        assert!(err("snapshot = \"a.json\"\nstage = \"later\"\n", true).contains("later"));
    }

    #[test]
    fn in_a_crate_the_policy_table_is_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "c.toml",
            "snapshot = \"a.json\"\n[policy]\nmax_error_rate = 0.05\n",
        );
        let case = &load(&f, true).unwrap().cases[0];
        let Policies::Crate(table) = &case.policies else {
            panic!("{case:?}")
        };
        assert_eq!(table["max_error_rate"].as_float(), Some(0.05));
        let f = write(dir.path(), "d.toml", "snapshot = \"a.json\"\n");
        assert_eq!(
            load(&f, true).unwrap().cases[0].policies,
            Policies::Crate(toml::Table::new())
        );
    }
}
