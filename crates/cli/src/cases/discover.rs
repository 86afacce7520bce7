//! Finding case files: `shipgate test [PATH…]`.
//!
//! A PATH is a policy crate (a directory with `Cargo.toml`; its cases are in
//! `cases/`), a directory of case files (searched recursively), or one case
//! file. Case files are `*.toml`; `*.expected.toml` files are their reviewed
//! decisions, and TOML files with `[[policies]]` are configurations that
//! cases refer to, not cases.

use std::path::{Path, PathBuf};

/// What one PATH holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The PATH as given.
    pub path: PathBuf,
    /// The policy crate the cases belong to, if any.
    pub crate_dir: Option<PathBuf>,
    /// The case files, sorted.
    pub files: Vec<PathBuf>,
    /// Expected files whose case file is gone, sorted.
    pub orphans: Vec<PathBuf>,
}

/// Why a PATH holds no cases.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct DiscoverError {
    /// The PATH.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// Finds the case files of `path`.
pub fn discover(path: &Path) -> Result<Target, DiscoverError> {
    let error = |message: String| DiscoverError {
        path: path.to_owned(),
        message,
    };
    if path.is_file() {
        if super::expected::is_expected_file(path) {
            return Err(error(
                "this is an expected-decisions file; give its case file (without `.expected`)"
                    .into(),
            ));
        }
        return Ok(Target {
            path: path.to_owned(),
            crate_dir: enclosing_crate(path),
            files: vec![super::file::normalize(path)],
            orphans: Vec::new(),
        });
    }
    if !path.is_dir() {
        return Err(error("no such file or directory".into()));
    }
    let (crate_dir, dir) = if path.join("Cargo.toml").is_file() {
        let cases = path.join("cases");
        if !cases.is_dir() {
            return Err(error(
                "this crate has no `cases/` folder (`shipgate new policy` makes one; see docs/authoring.md)"
                    .into(),
            ));
        }
        (Some(path.to_owned()), cases)
    } else {
        (enclosing_crate(path), path.to_owned())
    };
    let mut files = Vec::new();
    let mut expected = Vec::new();
    walk(&dir, &mut files, &mut expected).map_err(|e| error(e.to_string()))?;
    files.sort();
    if files.is_empty() {
        return Err(error(
            "no case files (`*.toml` with a `snapshot`) here".into(),
        ));
    }
    let mut orphans: Vec<PathBuf> = expected
        .into_iter()
        .filter(|e| !files.contains(&super::expected::case_file_for(e)))
        .collect();
    orphans.sort();
    Ok(Target {
        path: path.to_owned(),
        crate_dir,
        files,
        orphans,
    })
}

/// The policy crate whose `cases/` folder holds `path`, if any.
fn enclosing_crate(path: &Path) -> Option<PathBuf> {
    let path = path.canonicalize().ok()?;
    path.ancestors()
        .find(|dir| {
            dir.file_name().is_some_and(|n| n == "cases")
                && dir.parent().is_some_and(|p| p.join("Cargo.toml").is_file())
        })
        .and_then(|cases| cases.parent().map(Path::to_owned))
}

fn walk(dir: &Path, cases: &mut Vec<PathBuf>, expected: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, cases, expected)?;
        } else if super::expected::is_expected_file(&path) {
            expected.push(super::file::normalize(&path));
        } else if path.extension().is_some_and(|e| e == "toml") && !is_configuration(&path) {
            cases.push(super::file::normalize(&path));
        }
    }
    Ok(())
}

/// Whether a TOML file is a `shipgate.toml` (it has `[[policies]]`).
fn is_configuration(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("policies"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_has_its_cases_in_cases_and_configurations_are_not_cases() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("team-gate");
        std::fs::create_dir_all(root.join("cases/more")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(root.join("cases/a.toml"), "snapshot = \"a.json\"\n").unwrap();
        std::fs::write(root.join("cases/a.expected.toml"), "").unwrap();
        std::fs::write(root.join("cases/gone.expected.toml"), "").unwrap();
        std::fs::write(root.join("cases/more/b.toml"), "snapshot = \"b.json\"\n").unwrap();
        std::fs::write(
            root.join("cases/shipgate.toml"),
            "[[policies]]\nname = \"x\"\nsource = \"builtin:env\"\n",
        )
        .unwrap();
        let t = discover(&root).unwrap();
        assert_eq!(t.crate_dir.as_deref(), Some(root.as_path()));
        assert_eq!(t.orphans, [root.join("cases/gone.expected.toml")]);
        assert_eq!(
            t.files,
            [root.join("cases/a.toml"), root.join("cases/more/b.toml")]
        );
        // A case file or the cases folder alone still belongs to the crate.
        let one = discover(&root.join("cases/more/b.toml")).unwrap();
        assert_eq!(one.crate_dir, Some(root.canonicalize().unwrap()));
        assert!(discover(&root.join("cases/a.expected.toml")).is_err());
    }

    #[test]
    fn a_plain_folder_is_not_a_crate_and_empty_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no case files"), "{err}");
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no `cases/` folder"), "{err}");
        assert!(discover(&dir.path().join("nope")).is_err());
    }
}
