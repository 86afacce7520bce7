//! The `environment` source: variables the code declares (from
//! `.env.example`-style files) and the *names* present in the target
//! environment. Values are never read into the snapshot, a log or an error.
//!
//! # Declaration files
//!
//! A declaration file is a dotenv file. Each line is one of:
//!
//! - blank;
//! - a comment, starting with `#`;
//! - an assignment `NAME=value` or `export NAME=value` (spaces around `=`
//!   are allowed). `NAME` is `[A-Za-z_][A-Za-z0-9_]*`. The value may be
//!   bare (it ends at a `#` that follows a space: the rest is a *trailing
//!   comment*), or quoted with `"`, `'` or `` ` ``; a quoted value may span
//!   lines, and a trailing comment may follow the closing quote.
//!
//! Anything else is an error that names the line by number only ("line 7 is
//! not `NAME=value`"): the line itself is never repeated, since it may hold
//! a secret. A line without `=` is such an error too, rather than a bare
//! name, so that a stray fragment of a value never becomes a "name".
//!
//! What a declaration says about its variable:
//!
//! | field | meaning |
//! | --- | --- |
//! | `has_default` | the value is not empty (`NAME=`, `NAME=""` have none) |
//! | `required` | it has no default, unless a marker says otherwise: an `optional` marker makes it not required, a `required` marker makes it required even with a default |
//! | `documented` | a comment line directly above it (no blank line between) or a trailing comment, with some text besides a marker |
//! | `added` | left `false` here; the orchestrator sets it from the `git` source |
//!
//! A *marker* is a comment directly above or trailing whose first word is
//! `optional` or `required` (any case: `# optional`, `# Required: the
//! API key`), or that contains `(optional)`, `[optional]`, `(required)` or
//! `[required]` anywhere. When both appear, `required` wins. A comment that
//! is itself a commented-out assignment (`# OLD_NAME=x`) neither documents
//! nor marks the variable below it.
//!
//! A name declared twice (in one file or in several) is merged: it has a
//! default or is documented if any declaration says so; a `required` marker
//! anywhere beats an `optional` one.
//!
//! # Present names
//!
//! Exactly one of these says where the target environment's names come
//! from; none given means `present = "process"`:
//!
//! | key | names |
//! | --- | --- |
//! | `present = "process"` | the variables of this process (the deploy job's environment) |
//! | `present_dotenv = "path"` | the assignments of a dotenv file of the target; each value is skipped as it is parsed, never kept |
//! | `present_names = "path"` | a file of names, one per line; blank lines and `#` comments are ignored |

pub use shipgate_core::config::sources::environment::{EnvironmentConfig, PresentFrom};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use shipgate_model::{EnvVar, Environment};

use super::support::{Context, SourceError};

/// The declaration files read when `declared` is not given, in
/// [`Context::base_dir`], when they exist.
pub const DEFAULT_DECLARATION_FILES: [&str; 3] = [".env.example", ".env.sample", ".env.template"];

/// Reads declared and present variable names. Blocking: reads files.
pub fn collect(config: &EnvironmentConfig, ctx: &Context) -> Result<Environment, SourceError> {
    let present = present_names(config, ctx)?;
    let declared = declared_vars(config, ctx)?;
    Ok(Environment { declared, present })
}

/// The declared variables, merged over the declaration files, by name.
fn declared_vars(config: &EnvironmentConfig, ctx: &Context) -> Result<Vec<EnvVar>, SourceError> {
    let mut declarations = Vec::new();
    match &config.declared {
        Some(paths) => {
            for path in paths {
                let text = read_text(&ctx.resolve(path), path)?;
                declarations.extend(parse_file(&text, path)?);
            }
        }
        None => {
            for name in DEFAULT_DECLARATION_FILES {
                let path = Path::new(name);
                let full = ctx.resolve(path);
                if !full.is_file() {
                    continue;
                }
                let text = read_text(&full, path)?;
                declarations.extend(parse_file(&text, path)?);
            }
        }
    }
    Ok(merge(declarations))
}

/// The names in the target environment, sorted and without repeats.
fn present_names(config: &EnvironmentConfig, ctx: &Context) -> Result<Vec<String>, SourceError> {
    let given = [
        config.present.is_some(),
        config.present_dotenv.is_some(),
        config.present_names.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(SourceError::new(
            "set only one of `present`, `present_dotenv` and `present_names` in [sources.environment]",
        ));
    }
    let mut names = if let Some(path) = &config.present_dotenv {
        let text = read_text(&ctx.resolve(path), path)?;
        let names: Vec<String> = parse_file(&text, path)?
            .into_iter()
            .map(|d| d.name)
            .collect();
        // The text, values included, is dropped here.
        drop(text);
        names
    } else if let Some(path) = &config.present_names {
        let text = read_text(&ctx.resolve(path), path)?;
        parse_names(&text).map_err(|e| file_error(path, &e))?
    } else {
        ctx.vars.names()
    };
    names.sort();
    names.dedup();
    Ok(names)
}

/// A file's text. Invalid UTF-8 is replaced rather than refused: names are
/// ASCII, and values are skipped anyway. Errors name the file as
/// configured, never its contents.
fn read_text(full: &Path, shown: &Path) -> Result<String, SourceError> {
    match shipgate_core::bounded::read_file(full, shipgate_core::bounded::DOTENV) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.is_not_found() => Err(SourceError::new(format!(
            "`{}`: no such file",
            shown.display()
        ))),
        Err(shipgate_core::bounded::ReadError::Io(e)) => Err(SourceError::new(format!(
            "`{}`: cannot read it: {}",
            shown.display(),
            e.kind()
        ))),
        Err(e) => Err(SourceError::new(format!(
            "`{}`: cannot read it: {e}",
            shown.display()
        ))),
    }
}

fn parse_file(text: &str, shown: &Path) -> Result<Vec<Declaration>, SourceError> {
    parse_dotenv(text).map_err(|e| file_error(shown, &e))
}

fn file_error(shown: &Path, error: &DotenvError) -> SourceError {
    SourceError::new(format!("`{}`: {error}", shown.display()))
}

/// What a marker comment says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Marker {
    /// `# optional`: not required, even without a default.
    Optional,
    /// `# required`: required, even with a default.
    Required,
}

/// One assignment in a dotenv-style file: its name and what the file says
/// about it. Never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The variable's name.
    pub name: String,
    /// The line (from 1) the assignment starts on.
    pub line: usize,
    /// Whether the value is not empty.
    pub has_default: bool,
    /// Whether a comment above it or after it documents it.
    pub documented: bool,
    /// A `required` / `optional` marker, if a comment has one.
    pub marker: Option<Marker>,
}

impl Declaration {
    /// Whether the variable must be set: it has no default, unless marked
    /// optional; or it is marked required.
    pub fn required(&self) -> bool {
        match self.marker {
            Some(Marker::Required) => true,
            Some(Marker::Optional) => false,
            None => !self.has_default,
        }
    }
}

/// Why a dotenv-style file does not parse. Names the line by number and
/// never contains its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DotenvError {
    /// The line is neither blank, a comment nor an assignment.
    NotAssignment {
        /// The line, from 1.
        line: usize,
    },
    /// A quoted value opened on this line is never closed.
    UnclosedQuote {
        /// The line, from 1.
        line: usize,
    },
    /// In a file of names: the line is not a variable name.
    NotName {
        /// The line, from 1.
        line: usize,
    },
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DotenvError::NotAssignment { line } => write!(f, "line {line} is not `NAME=value`"),
            DotenvError::UnclosedQuote { line } => {
                write!(f, "line {line} opens a quoted value that is never closed")
            }
            DotenvError::NotName { line } => write!(f, "line {line} is not a variable name"),
        }
    }
}

impl std::error::Error for DotenvError {}

/// Whether `text` is a variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What the comments attached to a declaration say.
#[derive(Debug, Clone, Copy, Default)]
struct Notes {
    documents: bool,
    marker: Option<Marker>,
}

impl Notes {
    fn add(&mut self, other: Notes) {
        self.documents |= other.documents;
        self.marker = self.marker.max(other.marker);
    }
}

/// Reads one comment's text (after `#`).
fn comment_notes(text: &str) -> Notes {
    let text = text.trim();
    if assignment_name(text).is_some() {
        // A commented-out assignment: not about the variable below.
        return Notes::default();
    }
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |word: &str| {
        words.first() == Some(&word)
            || lower.contains(&format!("({word})"))
            || lower.contains(&format!("[{word}]"))
    };
    let marker = if has("required") {
        Some(Marker::Required)
    } else if has("optional") {
        Some(Marker::Optional)
    } else {
        None
    };
    Notes {
        documents: words.iter().any(|w| *w != "required" && *w != "optional"),
        marker,
    }
}

/// If `text` starts an assignment (`[export ]NAME=` or `NAME =`), its name
/// and the text after `=`.
fn assignment_name(text: &str) -> Option<(&str, &str)> {
    let text = match text.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => text,
    };
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let (name, rest) = text.split_at(end);
    if !is_name(name) {
        return None;
    }
    let value = rest.trim_start_matches([' ', '\t']).strip_prefix('=')?;
    Some((name, value))
}

/// Parses a dotenv-style file into its declarations, in file order (a name
/// may repeat). Values are looked at only to know whether they are empty
/// and where they end; none is kept.
pub fn parse_dotenv(text: &str) -> Result<Vec<Declaration>, DotenvError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut out = Vec::new();
    let mut above = Notes::default();
    let mut index = 0;
    while index < lines.len() {
        let line_no = index + 1;
        let line = lines[index].trim();
        index += 1;
        if line.is_empty() {
            above = Notes::default();
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            above.add(comment_notes(comment));
            continue;
        }
        let Some((name, value)) = assignment_name(line) else {
            return Err(DotenvError::NotAssignment { line: line_no });
        };
        let trimmed = value.trim_start_matches([' ', '\t']);
        let spaced = trimmed.len() != value.len();
        let (has_value, trailing) = if let Some(quote) = trimmed
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))
        {
            // A quoted value: find its end, on this line or a later one.
            let mut rest = &trimmed[1..];
            let mut empty = true;
            let tail = loop {
                if let Some(end) = closing_quote(rest, quote) {
                    empty &= end == 0;
                    break &rest[end + 1..];
                }
                empty = false;
                match lines.get(index) {
                    Some(next) => {
                        rest = next.strip_suffix('\r').unwrap_or(next);
                        index += 1;
                    }
                    None => return Err(DotenvError::UnclosedQuote { line: line_no }),
                }
            };
            let tail = tail.trim_start();
            (!empty, tail.strip_prefix('#'))
        } else if spaced && trimmed.starts_with('#') {
            (false, Some(&trimmed[1..]))
        } else {
            let comment = trimmed
                .char_indices()
                .find(|&(i, c)| c == '#' && i > 0 && trimmed[..i].ends_with([' ', '\t']))
                .map(|(i, _)| i);
            match comment {
                Some(i) => (!trimmed[..i].trim().is_empty(), Some(&trimmed[i + 1..])),
                None => (!trimmed.trim().is_empty(), None),
            }
        };
        let mut notes = above;
        if let Some(comment) = trailing {
            notes.add(comment_notes(comment));
        }
        out.push(Declaration {
            name: name.to_owned(),
            line: line_no,
            has_default: has_value,
            documented: notes.documents,
            marker: notes.marker,
        });
        above = Notes::default();
    }
    Ok(out)
}

/// The index of the quote that closes a value quoted with `quote`, in
/// `text` (after the opening quote). In `"` values a backslash escapes the
/// next character.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

/// Parses a file of names: one per line, blank lines and `#` comments
/// (whole-line, or after a space) ignored. In file order.
pub fn parse_names(text: &str) -> Result<Vec<String>, DotenvError> {
    let mut names = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(at) => &line[..at],
            None => line,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !is_name(line) {
            return Err(DotenvError::NotName { line: i + 1 });
        }
        names.push(line.to_owned());
    }
    Ok(names)
}

/// Merges declarations by name into the snapshot's variables, sorted by
/// name: a default or documentation anywhere counts, a `required` marker
/// beats an `optional` one. `added` is left `false`.
pub fn merge(declarations: impl IntoIterator<Item = Declaration>) -> Vec<EnvVar> {
    let mut by_name: BTreeMap<String, Declaration> = BTreeMap::new();
    for d in declarations {
        match by_name.get_mut(&d.name) {
            Some(seen) => {
                seen.has_default |= d.has_default;
                seen.documented |= d.documented;
                seen.marker = seen.marker.max(d.marker);
            }
            None => {
                by_name.insert(d.name.clone(), d);
            }
        }
    }
    by_name
        .into_values()
        .map(|d| EnvVar {
            required: d.required(),
            has_default: d.has_default,
            documented: d.documented,
            added: false,
            name: d.name,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use shipgate_model::Timestamp;
    use tempfile::TempDir;

    use super::*;
    use crate::MapVars;

    const SECRET: &str = "s3cr3t-VALUE-must-not-leak";

    fn ctx(dir: &Path, vars: MapVars) -> Context {
        Context {
            base_dir: dir.to_owned(),
            now: Timestamp(0),
            vars: Arc::new(vars),
            commit: None,
        }
    }

    fn var(name: &str, required: bool, has_default: bool, documented: bool) -> EnvVar {
        EnvVar {
            name: name.to_owned(),
            required,
            has_default,
            documented,
            added: false,
        }
    }

    fn config(toml_text: &str) -> EnvironmentConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn declaration_semantics() {
        let text = "\
# The database to use
DATABASE_URL=
PORT=8080
export LOG_LEVEL=info # how much to log

# optional
SENTRY_DSN=
# Required: signs sessions, rotate yearly
SESSION_KEY=dev-only-key
FEATURE_X=1 # (optional) turns X on
API_TOKEN=\"\"   # required
# OLD_NAME=legacy
QUOTED='a # not a comment' # the quoted one
EMPTY_COMMENTED= # optional
HASH=abc#def
SPACED = value
";
        let decls = parse_dotenv(text).unwrap();
        assert_eq!(
            decls.iter().map(|d| d.line).collect::<Vec<_>>(),
            [2, 3, 4, 7, 9, 10, 11, 13, 14, 15, 16]
        );
        let vars = merge(decls);
        assert_eq!(
            vars,
            vec![
                var("API_TOKEN", true, false, false),
                var("DATABASE_URL", true, false, true),
                var("EMPTY_COMMENTED", false, false, false),
                var("FEATURE_X", false, true, true),
                var("HASH", false, true, false),
                var("LOG_LEVEL", false, true, true),
                var("PORT", false, true, false),
                var("QUOTED", false, true, true),
                var("SENTRY_DSN", false, false, false),
                var("SESSION_KEY", true, true, true),
                var("SPACED", false, true, false),
            ]
        );
    }

    #[test]
    fn quoted_values_span_lines_and_are_skipped() {
        let text = "KEY=\"-----BEGIN KEY-----\nNOT_A_NAME=inside the value\n-----END KEY-----\" # the key\nNEXT='x'\nESCAPED=\"a \\\" b\"\nEMPTY=\"\"\n";
        let decls = parse_dotenv(text).unwrap();
        let names: Vec<(&str, usize, bool)> = decls
            .iter()
            .map(|d| (d.name.as_str(), d.line, d.has_default))
            .collect();
        assert_eq!(
            names,
            [
                ("KEY", 1, true),
                ("NEXT", 4, true),
                ("ESCAPED", 5, true),
                ("EMPTY", 6, false)
            ]
        );
        assert!(decls[0].documented);
        assert_eq!(
            parse_dotenv("A=1\nB=\"never closed\nC=2\n"),
            Err(DotenvError::UnclosedQuote { line: 2 })
        );
    }

    #[test]
    fn malformed_lines_are_named_by_number() {
        for (text, line) in [
            ("A=1\nnot an assignment\n", 2),
            ("1ABC=x\n", 1),
            ("=x\n", 1),
            ("A=1\n\nBARE_NAME\n", 3),
            ("export\n", 1),
        ] {
            assert_eq!(
                parse_dotenv(text),
                Err(DotenvError::NotAssignment { line }),
                "{text:?}"
            );
        }
        assert_eq!(
            DotenvError::NotAssignment { line: 7 }.to_string(),
            "line 7 is not `NAME=value`"
        );
        assert_eq!(
            parse_names("A\n# c\n\nB # trailing\nnot a name\n"),
            Err(DotenvError::NotName { line: 5 })
        );
        assert_eq!(parse_names("A\n# c\n\nB # trailing\n").unwrap(), ["A", "B"]);
    }

    #[test]
    fn declared_defaults_to_existing_example_files() {
        let dir = TempDir::new().unwrap();
        let none = collect(
            &EnvironmentConfig::default(),
            &ctx(dir.path(), MapVars::default()),
        )
        .unwrap();
        assert_eq!(none.declared, vec![]);

        std::fs::write(dir.path().join(".env.example"), "# db\nDB=\nPORT=1\n").unwrap();
        std::fs::write(
            dir.path().join(".env.template"),
            "PORT=\n# optional\nEXTRA=\n",
        )
        .unwrap();
        let env = collect(
            &EnvironmentConfig::default(),
            &ctx(dir.path(), MapVars::default()),
        )
        .unwrap();
        assert_eq!(
            env.declared,
            vec![
                var("DB", true, false, true),
                var("EXTRA", false, false, false),
                var("PORT", false, true, false),
            ]
        );

        // Listed explicitly: only those; a missing one is an error.
        let only = config("declared = [\".env.template\"]");
        let env = collect(&only, &ctx(dir.path(), MapVars::default())).unwrap();
        assert_eq!(
            env.declared,
            vec![
                var("EXTRA", false, false, false),
                var("PORT", true, false, false),
            ]
        );
        let missing = config("declared = [\".env.example\", \"config/.env.missing\"]");
        let err = collect(&missing, &ctx(dir.path(), MapVars::default())).unwrap_err();
        assert_eq!(err.0, "`config/.env.missing`: no such file");
    }

    #[test]
    fn present_from_process_dotenv_or_names() {
        let dir = TempDir::new().unwrap();
        let vars = MapVars::new([("HOME", "/root"), ("DB", "x"), ("AAA", "")]);
        let from_process = collect(
            &config("present = \"process\"\ndeclared = []"),
            &ctx(dir.path(), vars.clone()),
        )
        .unwrap();
        assert_eq!(from_process.present, ["AAA", "DB", "HOME"]);
        let by_default = collect(&config("declared = []"), &ctx(dir.path(), vars.clone())).unwrap();
        assert_eq!(by_default.present, ["AAA", "DB", "HOME"]);

        std::fs::write(
            dir.path().join("prod.env"),
            "# production\nDB=postgres://x\nexport TOKEN=abc\nDB=again\nEMPTY=\n",
        )
        .unwrap();
        let dotenv = collect(
            &config("present_dotenv = \"prod.env\"\ndeclared = []"),
            &ctx(dir.path(), vars.clone()),
        )
        .unwrap();
        assert_eq!(dotenv.present, ["DB", "EMPTY", "TOKEN"]);

        std::fs::write(
            dir.path().join("prod.names"),
            "# names\nZED\nDB\n\nAPI_KEY # the key\n",
        )
        .unwrap();
        let names = collect(
            &config("present_names = \"prod.names\"\ndeclared = []"),
            &ctx(dir.path(), vars.clone()),
        )
        .unwrap();
        assert_eq!(names.present, ["API_KEY", "DB", "ZED"]);

        let both = collect(
            &config("present = \"process\"\npresent_names = \"prod.names\""),
            &ctx(dir.path(), vars.clone()),
        )
        .unwrap_err();
        assert_eq!(
            both.0,
            "set only one of `present`, `present_dotenv` and `present_names` in [sources.environment]"
        );
        let missing = collect(
            &config("present_dotenv = \"nope.env\""),
            &ctx(dir.path(), vars),
        )
        .unwrap_err();
        assert_eq!(missing.0, "`nope.env`: no such file");
    }

    #[test]
    fn config_keys_are_checked() {
        assert!(toml::from_str::<EnvironmentConfig>("present = \"shell\"").is_err());
        assert!(toml::from_str::<EnvironmentConfig>("presnt_names = \"x\"").is_err());
        let c = config("timeout = \"2s\"\ndeclared = [\"a\", \"b\"]");
        assert_eq!(
            c.declared,
            Some(vec![PathBuf::from("a"), PathBuf::from("b")])
        );
        assert_eq!(c.timeout, Some(super::super::Duration::from_secs(2)));
    }

    #[test]
    fn values_never_leak() {
        let dir = TempDir::new().unwrap();
        let vars = MapVars::new([("DATABASE_PASSWORD", SECRET), ("API_KEY", SECRET)]);
        std::fs::write(
            dir.path().join(".env.example"),
            format!("# the password\nDATABASE_PASSWORD={SECRET}\nAPI_KEY=\"{SECRET}\"\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("target.env"),
            format!(
                "DATABASE_PASSWORD={SECRET}\nexport API_KEY='{SECRET}' # {SECRET}\nMULTI=\"{SECRET}\n{SECRET}=\"\n"
            ),
        )
        .unwrap();

        let mut outputs = Vec::new();
        for toml_text in ["present = \"process\"", "present_dotenv = \"target.env\""] {
            let env = collect(&config(toml_text), &ctx(dir.path(), vars.clone())).unwrap();
            assert_eq!(env.declared.len(), 2);
            outputs.push(serde_json::to_string(&env).unwrap());
            outputs.push(format!("{env:?}"));
        }
        let dotenv = collect(
            &config("present_dotenv = \"target.env\""),
            &ctx(dir.path(), vars.clone()),
        )
        .unwrap();
        assert_eq!(dotenv.present, ["API_KEY", "DATABASE_PASSWORD", "MULTI"]);

        // Malformed lines that hold the secret: the error names the line only.
        let malformed = [
            format!("OK=1\nDATABASE_PASSWORD {SECRET}\n"),
            format!("{SECRET}\n"),
            format!("A=\"{SECRET}\n"),
            format!("{SECRET}={SECRET}\n"),
            format!("OK=1\n  -{SECRET}=x\n"),
        ];
        for (i, text) in malformed.iter().enumerate() {
            let name = format!("bad{i}.env");
            std::fs::write(dir.path().join(&name), text).unwrap();
            for key in ["present_dotenv", "present_names", "declared"] {
                let value = if key == "declared" {
                    format!("[\"{name}\"]")
                } else {
                    format!("\"{name}\"")
                };
                let err = collect(
                    &config(&format!("{key} = {value}")),
                    &ctx(dir.path(), vars.clone()),
                )
                .unwrap_err();
                assert!(err.0.starts_with(&format!("`{name}`: line ")), "{err}");
                outputs.push(err.0);
            }
        }
        assert!(outputs.len() > 10);
        for output in &outputs {
            assert!(!output.contains(SECRET), "leaked: {output}");
            assert!(!output.contains("s3cr3t"), "leaked: {output}");
        }
    }
}
