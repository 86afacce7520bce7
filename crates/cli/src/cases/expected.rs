//! The expected-decision file of a case file: `NAME.expected.toml` next to
//! `NAME.toml`, one table per case, written by `shipgate test --accept`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shipgate_engine::outcome::Outcome;

/// The expected file of a case file: `x.toml` → `x.expected.toml`.
pub fn path_for(case_file: &Path) -> PathBuf {
    let stem = case_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    case_file.with_file_name(format!("{stem}.expected.toml"))
}

/// The case file of an expected file: `x.expected.toml` → `x.toml`.
pub fn case_file_for(expected_file: &Path) -> PathBuf {
    let name = expected_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".expected.toml").unwrap_or(&name);
    expected_file.with_file_name(format!("{stem}.toml"))
}

/// Whether a file is an expected file (and so not a case file).
pub fn is_expected_file(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".expected.toml")
}

/// The text of an expected file: a header saying what it is, then one
/// table per case, sorted by case name.
pub fn render(case_file_name: &str, outcomes: &BTreeMap<String, Outcome>) -> String {
    let mut text = format!(
        "# The reviewed decisions of the cases in `{case_file_name}`, one table per case.\n\
         # `shipgate test` compares every new decision with these; after reviewing a\n\
         # diff, `shipgate test --accept` rewrites this file.\n"
    );
    for (name, outcome) in outcomes {
        let mut one = BTreeMap::new();
        one.insert(name.as_str(), outcome);
        text.push('\n');
        text.push_str(&toml::to_string(&one).unwrap_or_default());
    }
    text
}

/// Why an expected file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ExpectedError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, with line and column when known.
    pub message: String,
}

/// Reads an expected file; a missing file is an empty map (every case new).
pub fn read(path: &Path) -> Result<BTreeMap<String, Outcome>, ExpectedError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(ExpectedError {
                path: path.to_owned(),
                message: e.to_string(),
            });
        }
    };
    toml::from_str(&text).map_err(|e| ExpectedError {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}
