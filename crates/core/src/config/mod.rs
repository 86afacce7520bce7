//! The `shipgate.toml` configuration: resource limits, the output format and
//! the policies to run.
//!
//! ```toml
//! [limits]
//! fuel = 200_000_000
//! deadline_ms = 500
//! memory_mib = 64
//!
//! [output]
//! format = "text"
//!
//! [[policies]]
//! name = "error-ratio"
//! source = "builtin:error-ratio"
//! stages = ["canary"]
//! mode = "enforce"
//! on_error = "fail-closed"
//! [policies.config]
//! max_ratio = 2.0
//! min_baseline = 0.001
//!
//! [[policies]]
//! name = "team-rule"
//! source = "policies/team_rule.wasm"
//! mode = "advisory"
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! ```
//!
//! Every table is optional; unknown keys are errors. Errors name the file,
//! line, column and key they are about, e.g.
//!
//! ```text
//! shipgate.toml:12:8: key `policies[1].mode`: unknown variant `enforced`, expected `enforce` or `advisory`
//!   help: did you mean `enforce`?
//! ```
//!
//! The file is parsed with toml's spanned document types
//! ([`toml::de::DeTable`]) and checked by hand, so that every error can point
//! at the exact key or value it is about.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use shipgate_model::{ParseEnumError, Stage};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

mod duration;
mod ranges;
pub mod sources;
mod tables;
pub mod watch;

pub use duration::Duration;
pub use sources::{DeploymentConfig, SourcesConfig};
pub use watch::WatchConfig;

pub use ranges::{MAX_DEADLINE_MS, MAX_FINDINGS, MAX_FUEL, MAX_OUTPUT_BYTES};
pub use tables::LogConfig;

/// The help shown for a `source` that is neither a built-in nor a path.
const SOURCE_HELP: &str = "use `builtin:NAME` or a path to a .wasm component";

/// The largest linear memory a 32-bit WebAssembly instance can have, in MiB.
const MAX_MEMORY_MIB: u64 = 4096;

/// A loaded `shipgate.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from; `None` for a built-in default.
    pub path: Option<PathBuf>,
    /// Resource limits for every policy evaluation.
    pub limits: Limits,
    /// How reports are rendered.
    pub output: Output,
    /// The policies to run, in configuration order.
    pub policies: Vec<PolicyConfig>,
    /// What is being deployed (`[deployment]`), before command-line flags.
    pub deployment: DeploymentConfig,
    /// The sources `shipgate snapshot` and `shipgate check` read.
    pub sources: SourcesConfig,
    /// The decision log of `shipgate check` and `shipgate watch`.
    pub log: LogConfig,
    /// How `shipgate watch` drives a rollout (`[watch]`).
    pub watch: WatchConfig,
    /// The name errors report the file as.
    file: String,
    /// The source text, to locate keys in later errors.
    text: String,
}

/// The `[limits]` table: resources one policy evaluation may use. Each is
/// checked at load against its range (`MAX_*` in this module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Fuel (roughly, WebAssembly instructions) per evaluation; default 500 000 000.
    pub fuel: u64,
    /// Wall-clock backstop per evaluation, in milliseconds; default 1000.
    pub deadline_ms: u64,
    /// Linear memory cap per policy instance, in MiB (at most 4096); default 64.
    pub memory_mib: u32,
    /// The largest decision a policy may return, in bytes; default 1 048 576.
    pub max_output_bytes: u64,
    /// The most findings one decision may hold; default 1000.
    pub max_findings: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 500_000_000,
            deadline_ms: 1000,
            memory_mib: 64,
            max_output_bytes: 1_048_576,
            max_findings: 1000,
        }
    }
}

/// The `[output]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Output {
    /// The report format; default `text`.
    pub format: Format,
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plain text for a terminal.
    #[default]
    Text,
    /// JSON, for machines.
    Json,
    /// Markdown, e.g. for a pull-request comment.
    Markdown,
}

impl Format {
    /// Every format, in order.
    pub const ALL: &'static [Format] = &[Format::Text, Format::Json, Format::Markdown];
    const NAMES: &'static [&'static str] = &["text", "json", "markdown"];

    /// The format's name in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "markdown" => Ok(Format::Markdown),
            _ => Err(ParseEnumError {
                what: "format",
                got: s.to_owned(),
                expected: Self::NAMES,
            }),
        }
    }
}

/// Whether a policy's verdict counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Its verdict counts towards the overall decision.
    #[default]
    Enforce,
    /// Its findings are reported, but its verdict does not count.
    Advisory,
}

impl Mode {
    const NAMES: &'static [&'static str] = &["enforce", "advisory"];

    /// The mode's name in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Advisory => "advisory",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "enforce" => Ok(Mode::Enforce),
            "advisory" => Ok(Mode::Advisory),
            _ => Err(ParseEnumError {
                what: "mode",
                got: s.to_owned(),
                expected: Self::NAMES,
            }),
        }
    }
}

/// What a policy that produces no decision (trap, fuel, deadline, ...) counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// A failure blocks: it counts as `no-go`.
    #[default]
    FailClosed,
    /// A failure does not block: it counts as `go`.
    FailOpen,
}

impl OnError {
    const NAMES: &'static [&'static str] = &["fail-closed", "fail-open"];

    /// The value's name in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::FailClosed => "fail-closed",
            OnError::FailOpen => "fail-open",
        }
    }
}

impl fmt::Display for OnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OnError {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fail-closed" => Ok(OnError::FailClosed),
            "fail-open" => Ok(OnError::FailOpen),
            _ => Err(ParseEnumError {
                what: "on_error",
                got: s.to_owned(),
                expected: Self::NAMES,
            }),
        }
    }
}

/// One `[[policies]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyConfig {
    /// The policy's name: unique, non-empty, lowercase letters, digits, `-`, `_`.
    pub name: String,
    /// Where its component comes from.
    pub source: PolicySource,
    /// The stages to ask it about; `None` means the stages the policy declares.
    /// Never an empty list.
    pub stages: Option<Vec<Stage>>,
    /// Whether its verdict counts.
    pub mode: Mode,
    /// What a failure counts as.
    pub on_error: OnError,
    /// The pinned sha256 of the component: 64 lowercase hex characters.
    pub sha256: Option<String>,
    /// The policy's own `config` table as a JSON object (`{}` when absent);
    /// TOML datetimes become strings.
    pub config: serde_json::Value,
    /// Where this policy's table starts in the file.
    pub location: Location,
}

/// Where a policy's component comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// A policy compiled into the binary, by name (`builtin:NAME`).
    Builtin(String),
    /// A component file; a relative path in the file is resolved against the
    /// configuration file's directory.
    Path(PathBuf),
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Builtin(name) => write!(f, "builtin:{name}"),
            PolicySource::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A position in the configuration file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

/// A configuration error, located in the file.
///
/// Displays as one line, `FILE:LINE:COLUMN: key `KEY`: MESSAGE`, followed by
/// `  help: ...` on a second line when there is help. Without a location
/// (line 0, e.g. an unreadable file) it is `FILE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    /// The file, as given (or the name of a built-in default).
    pub file: String,
    /// The line, from 1; 0 when the error is not about a place in the file.
    pub line: usize,
    /// The column in characters, from 1; 0 when `line` is 0.
    pub column: usize,
    /// The key, as a path such as `policies[1].mode`, when the error is about one.
    pub key: Option<String>,
    /// What is wrong, lower case.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
}

impl ConfigError {
    fn render(&self) -> String {
        let mut out = self.file.clone();
        if self.line > 0 {
            let _ = write!(out, ":{}:{}", self.line, self.column);
        }
        out.push_str(": ");
        if let Some(key) = &self.key {
            let _ = write!(out, "key `{key}`: ");
        }
        out.push_str(&self.message);
        if let Some(help) = &self.help {
            let _ = write!(out, "\n  help: {help}");
        }
        out
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

impl Config {
    /// Reads and checks a configuration file of at most
    /// [`crate::bounded::CONFIG`] bytes (a UTF-8 byte-order mark is skipped).
    /// Relative policy paths are resolved against the file's directory.
    ///
    /// A file that cannot be read, or is larger, is an error with line and
    /// column 0.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            crate::bounded::read_file_to_string(path, crate::bounded::CONFIG).map_err(|err| {
                ConfigError {
                    file: path.display().to_string(),
                    line: 0,
                    column: 0,
                    key: None,
                    message: format!(
                        "cannot read the configuration: {}",
                        lower_first(&err.to_string())
                    ),
                    help: None,
                }
            })?;
        Config::parse(&text, path)
    }

    /// Checks configuration text read from `file`. Relative policy paths are
    /// resolved against `file`'s directory.
    ///
    /// ```
    /// use shipgate_core::config::{Config, Mode, PolicySource};
    /// use std::path::{Path, PathBuf};
    ///
    /// let text = r#"
    /// [[policies]]
    /// name = "team-rule"
    /// source = "policies/team_rule.wasm"
    /// mode = "advisory"
    /// "#;
    /// let config = Config::parse(text, Path::new("deploy/shipgate.toml"))?;
    /// assert_eq!(config.policies[0].mode, Mode::Advisory);
    /// assert_eq!(
    ///     config.policies[0].source,
    ///     PolicySource::Path(PathBuf::from("deploy/policies/team_rule.wasm")),
    /// );
    /// # Ok::<(), shipgate_core::config::ConfigError>(())
    /// ```
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let base = file.parent().unwrap_or(Path::new(""));
        let checker = Checker {
            file: file.display().to_string(),
            text,
            base,
        };
        let mut config = checker.check()?;
        config.path = Some(file.to_path_buf());
        Ok(config)
    }

    /// Checks a built-in default configuration embedded in the binary;
    /// `name` is what errors call it. Relative policy paths stay relative
    /// (to the working directory).
    pub fn from_default_toml(text: &str, name: &str) -> Result<Config, ConfigError> {
        let checker = Checker {
            file: name.to_owned(),
            text,
            base: Path::new(""),
        };
        checker.check()
    }

    /// The sha256 of the configuration text, hex: which configuration a
    /// decision was made under.
    pub fn sha256(&self) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(self.text.as_bytes()))
    }

    /// The name errors report the file as (its path, or the built-in
    /// default's name).
    pub fn file_name(&self) -> &str {
        &self.file
    }

    /// The directory relative policy paths are resolved against: the
    /// configuration file's directory, or `.`.
    pub fn base_dir(&self) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// An error about a key inside policy `policy_index`'s `config` table,
    /// as reported by the policy's own validation. `key_path` is a dotted
    /// path inside that table (`thresholds.error_rate`, `rules[2].name`), or
    /// `""` for the whole table.
    ///
    /// The location is best effort: that key if the file has it, else the
    /// deepest table on its path that it has, else the policy's table.
    pub fn policy_key_error(
        &self,
        policy_index: usize,
        key_path: &str,
        message: &str,
    ) -> ConfigError {
        let relative = if key_path.is_empty() {
            "config".to_owned()
        } else {
            format!("config.{key_path}")
        };
        let message = match self.policies.get(policy_index) {
            Some(policy) => format!(
                "policy `{}` rejected its configuration: {message}",
                policy.name
            ),
            None => message.to_owned(),
        };
        self.policy_error(policy_index, &relative, &message)
    }

    /// An error about policy `policy_index`, found after loading (e.g. a
    /// `sha256` that does not match the component). `key_path` is relative
    /// to the policy's table (`sha256`, `config.limits.max`), or `""` for the
    /// table itself; `message` is used as given.
    ///
    /// The location is best effort, as for [`Config::policy_key_error`].
    pub fn policy_error(&self, policy_index: usize, key_path: &str, message: &str) -> ConfigError {
        let mut key = format!("policies[{policy_index}]");
        if !key_path.is_empty() {
            if !key_path.starts_with('[') {
                key.push('.');
            }
            key.push_str(key_path);
        }
        let location = self.locate(policy_index, key_path).or_else(|| {
            self.policies
                .get(policy_index)
                .map(|policy| policy.location)
        });
        let (line, column) = location.map_or((0, 0), |l| (l.line, l.column));
        ConfigError {
            file: self.file.clone(),
            line,
            column,
            key: Some(key),
            message: message.to_owned(),
            help: None,
        }
    }

    /// An error about a key outside `[[policies]]` (`sources.prometheus.metrics`),
    /// found after loading, e.g. by a check across tables. The location is
    /// best effort: the deepest value on `key_path` that the file has, else
    /// no line.
    pub fn key_error(&self, key_path: &str, message: &str) -> ConfigError {
        let location = DeTable::parse(&self.text).ok().and_then(|root| {
            let mut segments = path_segments(key_path).into_iter();
            let Some(Segment::Key(first)) = segments.next() else {
                return None;
            };
            let (_, mut current) = find_key(root.get_ref(), first)?;
            for segment in segments {
                let next = match (segment, current.get_ref()) {
                    (Segment::Key(key), DeValue::Table(table)) => {
                        find_key(table, key).map(|(_, v)| v)
                    }
                    (Segment::Index(index), DeValue::Array(array)) => array.get(index),
                    _ => None,
                };
                match next {
                    Some(next) => current = next,
                    None => break,
                }
            }
            Some(location_of(&self.text, current.span().start))
        });
        let (line, column) = location.map_or((0, 0), |l| (l.line, l.column));
        ConfigError {
            file: self.file.clone(),
            line,
            column,
            key: Some(key_path.to_owned()),
            message: message.to_owned(),
            help: None,
        }
    }

    /// The start of the deepest value on `key_path` inside policy
    /// `policy_index`'s table that the file has.
    fn locate(&self, policy_index: usize, key_path: &str) -> Option<Location> {
        let root = DeTable::parse(&self.text).ok()?;
        let (_, policies) = find_key(root.get_ref(), "policies")?;
        let policy = match policies.get_ref() {
            DeValue::Array(array) => array.get(policy_index)?,
            _ => return None,
        };
        let mut current = policy;
        for segment in path_segments(key_path) {
            let next = match (segment, current.get_ref()) {
                (Segment::Key(key), DeValue::Table(table)) => find_key(table, key).map(|(_, v)| v),
                (Segment::Index(index), DeValue::Array(array)) => array.get(index),
                _ => None,
            };
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        Some(location_of(&self.text, current.span().start))
    }
}

/// One step of a key path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[2].c` into keys and indexes, best effort.
fn path_segments(path: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|part| !part.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(at) => part.split_at(at),
            None => (part, ""),
        };
        if !key.is_empty() {
            segments.push(Segment::Key(key.trim_matches('"')));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(close) = inner.find(']') else { break };
            let (number, after) = inner.split_at(close);
            match number.trim().parse() {
                Ok(index) => segments.push(Segment::Index(index)),
                Err(_) => break,
            }
            rest = after.get(1..).unwrap_or_default();
        }
    }
    segments
}

/// The entry for `key` in a spanned table.
fn find_key<'a, 'i>(
    table: &'a DeTable<'i>,
    key: &str,
) -> Option<(&'a Spanned<Cow<'i, str>>, &'a Spanned<DeValue<'i>>)> {
    table.iter().find(|(k, _)| k.get_ref().as_ref() == key)
}

/// A table's entries in the order they appear in the file.
fn entries<'a, 'i>(
    table: &'a DeTable<'i>,
) -> Vec<(&'a Spanned<Cow<'i, str>>, &'a Spanned<DeValue<'i>>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// The 1-based line and column (in characters) of a byte offset.
fn location_of(text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before.get(line_start..).unwrap_or_default().chars().count() + 1,
    }
}

/// `key` as it appears in a key path: bare when it can be, else quoted.
fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// `parent.key`, with `key` quoted if it needs to be.
fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key_segment(key)
    } else {
        format!("{parent}.{}", key_segment(key))
    }
}

/// The message with its first letter in lower case and no final period.
fn lower_first(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether `name` is a valid policy or built-in name: `[a-z0-9_-]+`.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The edit distance between two strings (adjacent transpositions count one).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The known name closest to `got`, if it is close enough to be a typo.
fn suggest<'a>(got: &str, known: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| s.to_lowercase().replace('_', "-");
    let got_normal = normal(got);
    let limit = if got.chars().count() <= 3 { 1 } else { 2 };
    known
        .iter()
        .map(|name| (edit_distance(&got_normal, &normal(name)), *name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// `` `a` or `b` `` / `` one of `a`, `b`, `c` ``.
fn expected_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

/// A value, described for an error message, with user input in backticks.
fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("string `{s}`"),
        DeValue::Integer(i) => format!("integer `{i}`"),
        DeValue::Float(f) => format!("float `{f}`"),
        DeValue::Boolean(b) => format!("boolean `{b}`"),
        DeValue::Datetime(d) => format!("datetime `{d}`"),
        DeValue::Array(_) => "an array".to_owned(),
        DeValue::Table(_) => "a table".to_owned(),
    }
}

/// Checks one document; holds what errors need.
struct Checker<'a> {
    file: String,
    text: &'a str,
    /// The directory relative paths are resolved against; empty to keep
    /// them as written.
    base: &'a Path,
}

/// A spanned key of a table.
type Key<'a, 'i> = &'a Spanned<Cow<'i, str>>;
/// A spanned value.
type Value<'a, 'i> = &'a Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "limits",
    "output",
    "policies",
    "deployment",
    "sources",
    "log",
    "watch",
];
const LIMITS_KEYS: &[&str] = &[
    "fuel",
    "deadline_ms",
    "memory_mib",
    "max_output_bytes",
    "max_findings",
];
const OUTPUT_KEYS: &[&str] = &["format"];
const POLICY_KEYS: &[&str] = &[
    "name", "source", "stages", "mode", "on_error", "sha256", "config",
];

impl Checker<'_> {
    fn error(&self, offset: usize, key: Option<String>, message: impl Into<String>) -> ConfigError {
        let location = location_of(self.text, offset);
        ConfigError {
            file: self.file.clone(),
            line: location.line,
            column: location.column,
            key,
            message: message.into(),
            help: None,
        }
    }

    /// An error about the value at `value`, for key path `key`.
    fn at(
        &self,
        value: &Spanned<impl Sized>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        self.error(value.span().start, Some(key.to_owned()), message)
    }

    fn syntax_error(&self, err: &toml::de::Error) -> ConfigError {
        let span: Range<usize> = err.span().unwrap_or(0..0);
        let mut message = lower_first(err.message());
        // toml does not say which key is duplicated; its span does.
        if message == "duplicate key"
            && let Some(key) = self.text.get(span.clone()).filter(|key| !key.is_empty())
        {
            message = format!("duplicate key `{key}`");
        }
        self.error(span.start, None, message)
    }

    fn unknown_key(&self, key: Key<'_, '_>, path: &str, known: &[&str]) -> ConfigError {
        let help = match suggest(key.get_ref(), known) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("expected {}", expected_list(known)),
        };
        self.error(
            key.span().start,
            Some(join_key(path, key.get_ref())),
            format!("unknown key `{}`", key.get_ref()),
        )
        .with_help(help)
    }

    fn wrong_type(&self, value: Value<'_, '_>, key: &str, expected: &str) -> ConfigError {
        let err = self.at(
            value,
            key,
            format!("expected {expected}, found {}", describe(value.get_ref())),
        );
        if expected.contains("integer") && matches!(value.get_ref(), DeValue::String(_)) {
            err.with_help("write the number without quotes")
        } else {
            err
        }
    }

    fn table<'a, 'i>(
        &self,
        value: Value<'a, 'i>,
        key: &str,
    ) -> Result<&'a DeTable<'i>, ConfigError> {
        match value.get_ref() {
            DeValue::Table(table) => Ok(table),
            _ => Err(self.wrong_type(value, key, "a table")),
        }
    }

    fn string<'a>(&self, value: Value<'a, '_>, key: &str) -> Result<&'a str, ConfigError> {
        match value.get_ref() {
            DeValue::String(s) => Ok(s),
            _ => Err(self.wrong_type(value, key, "a string")),
        }
    }

    /// An integer from `min` to `max`.
    fn integer(
        &self,
        value: Value<'_, '_>,
        key: &str,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let DeValue::Integer(integer) = value.get_ref() else {
            return Err(self.wrong_type(value, key, "an integer"));
        };
        let parsed = i128::from_str_radix(integer.as_str(), integer.radix()).ok();
        match parsed.and_then(|n| u64::try_from(n).ok()) {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.at(
                value,
                key,
                format!("integer `{integer}` is out of range, expected `{min}` to `{max}`"),
            )),
        }
    }

    /// One of an enum's names.
    fn variant<T: FromStr>(
        &self,
        value: Value<'_, '_>,
        key: &str,
        names: &[&str],
    ) -> Result<T, ConfigError> {
        let got = self.string(value, key)?;
        got.parse().map_err(|_| {
            self.at(
                value,
                key,
                format!("unknown variant `{got}`, expected {}", expected_list(names)),
            )
            .with_help_opt(suggest(got, names).map(|near| format!("did you mean `{near}`?")))
        })
    }

    fn check(&self) -> Result<Config, ConfigError> {
        let root = DeTable::parse(self.text).map_err(|err| self.syntax_error(&err))?;
        let mut limits = Limits::default();
        let mut output = Output::default();
        let mut policies = Vec::new();
        let mut deployment = DeploymentConfig::default();
        let mut sources = SourcesConfig::default();
        let mut log = LogConfig::default();
        let mut watch = WatchConfig::default();
        for (key, value) in entries(root.get_ref()) {
            match key.get_ref().as_ref() {
                "limits" => limits = self.limits(value)?,
                "output" => output = self.output(value)?,
                "policies" => policies = self.policies(value)?,
                "deployment" => deployment = self.serde_table(value, "deployment")?,
                "sources" => {
                    sources = self.serde_table(value, "sources")?;
                    self.source_ranges(value, &sources)?;
                }
                "log" => log = self.serde_table(value, "log")?,
                "watch" => {
                    watch = self.serde_table(value, "watch")?;
                    self.watch_ranges(value, &watch)?;
                }
                _ => return Err(self.unknown_key(key, "", TOP_KEYS)),
            }
        }
        Ok(Config {
            path: None,
            limits,
            output,
            policies,
            deployment,
            sources,
            log,
            watch,
            file: self.file.clone(),
            text: self.text.to_owned(),
        })
    }

    fn limits(&self, value: Value<'_, '_>) -> Result<Limits, ConfigError> {
        let mut limits = Limits::default();
        for (key, value) in entries(self.table(value, "limits")?) {
            let path = join_key("limits", key.get_ref());
            match key.get_ref().as_ref() {
                "fuel" => limits.fuel = self.integer(value, &path, 1, MAX_FUEL)?,
                "deadline_ms" => {
                    limits.deadline_ms = self.integer(value, &path, 1, MAX_DEADLINE_MS)?;
                }
                "memory_mib" => {
                    let mib = self
                        .integer(value, &path, 1, MAX_MEMORY_MIB)
                        .map_err(|err| {
                            err.with_help(format!(
                                "a 32-bit WebAssembly memory holds at most {MAX_MEMORY_MIB} MiB"
                            ))
                        })?;
                    limits.memory_mib = u32::try_from(mib).unwrap_or(u32::MAX);
                }
                "max_output_bytes" => {
                    limits.max_output_bytes = self.integer(value, &path, 1, MAX_OUTPUT_BYTES)?;
                }
                "max_findings" => {
                    let max = self.integer(value, &path, 1, MAX_FINDINGS)?;
                    limits.max_findings = u32::try_from(max).unwrap_or(u32::MAX);
                }
                _ => return Err(self.unknown_key(key, "limits", LIMITS_KEYS)),
            }
        }
        Ok(limits)
    }

    fn output(&self, value: Value<'_, '_>) -> Result<Output, ConfigError> {
        let mut output = Output::default();
        for (key, value) in entries(self.table(value, "output")?) {
            match key.get_ref().as_ref() {
                "format" => {
                    output.format = self.variant(value, "output.format", Format::NAMES)?;
                }
                _ => return Err(self.unknown_key(key, "output", OUTPUT_KEYS)),
            }
        }
        Ok(output)
    }

    fn policies(&self, value: Value<'_, '_>) -> Result<Vec<PolicyConfig>, ConfigError> {
        let DeValue::Array(array) = value.get_ref() else {
            return Err(self
                .wrong_type(value, "policies", "an array of tables")
                .with_help("write each policy as a `[[policies]]` table"));
        };
        let mut policies: Vec<PolicyConfig> = Vec::with_capacity(array.len());
        let mut names: HashMap<String, usize> = HashMap::new();
        for (index, value) in array.iter().enumerate() {
            let path = format!("policies[{index}]");
            let policy = self.policy(value, &path)?;
            if let Some(&first) = names.get(&policy.name) {
                let (key, name_value) = self.policy_name_entry(value);
                let offset = name_value.map_or(key, |v| v.span().start);
                let line = policies.get(first).map_or(0, |p| p.location.line);
                return Err(self
                    .error(
                        offset,
                        Some(format!("{path}.name")),
                        format!(
                            "duplicate policy name `{}`, already used by `policies[{first}]` on line {line}",
                            policy.name
                        ),
                    )
                    .with_help("policy names must be unique"));
            }
            names.insert(policy.name.clone(), index);
            policies.push(policy);
        }
        Ok(policies)
    }

    /// The table start and the `name` value of a policy table.
    fn policy_name_entry<'a, 'i>(&self, value: Value<'a, 'i>) -> (usize, Option<Value<'a, 'i>>) {
        let name = match value.get_ref() {
            DeValue::Table(table) => find_key(table, "name").map(|(_, v)| v),
            _ => None,
        };
        (value.span().start, name)
    }

    fn policy(&self, value: Value<'_, '_>, path: &str) -> Result<PolicyConfig, ConfigError> {
        let table = self.table(value, path)?;
        let mut name = None;
        let mut source = None;
        let mut stages = None;
        let mut mode = Mode::default();
        let mut on_error = OnError::default();
        let mut sha256 = None;
        let mut config = serde_json::Value::Object(serde_json::Map::new());
        for (key, value) in entries(table) {
            let key_path = join_key(path, key.get_ref());
            match key.get_ref().as_ref() {
                "name" => name = Some(self.policy_name(value, &key_path)?),
                "source" => source = Some(self.source(value, &key_path)?),
                "stages" => stages = Some(self.stages(value, &key_path)?),
                "mode" => mode = self.variant(value, &key_path, Mode::NAMES)?,
                "on_error" => on_error = self.variant(value, &key_path, OnError::NAMES)?,
                "sha256" => sha256 = Some(self.sha256(value, &key_path)?),
                "config" => {
                    self.table(value, &key_path)?;
                    config = self.json(value, &key_path)?;
                }
                _ => return Err(self.unknown_key(key, path, POLICY_KEYS)),
            }
        }
        let missing = |key: &str, help: &str| {
            self.error(
                value.span().start,
                Some(path.to_owned()),
                format!("missing required key `{key}`"),
            )
            .with_help(help)
        };
        let name = name.ok_or_else(|| {
            missing(
                "name",
                "add a unique `name`, made of lowercase letters, digits, `-` and `_`",
            )
        })?;
        let source = source.ok_or_else(|| {
            missing(
                "source",
                "add `source = \"builtin:NAME\"` or a path to a .wasm component",
            )
        })?;
        Ok(PolicyConfig {
            name,
            source,
            stages,
            mode,
            on_error,
            sha256,
            config,
            location: location_of(self.text, value.span().start),
        })
    }

    fn policy_name(&self, value: Value<'_, '_>, key: &str) -> Result<String, ConfigError> {
        let name = self.string(value, key)?;
        if name.is_empty() {
            return Err(self
                .at(value, key, "policy name is empty")
                .with_help("use lowercase letters, digits, `-` and `_`"));
        }
        if !is_valid_name(name) {
            return Err(self
                .at(value, key, format!("invalid policy name `{name}`"))
                .with_help("use only lowercase letters, digits, `-` and `_`"));
        }
        Ok(name.to_owned())
    }

    fn source(&self, value: Value<'_, '_>, key: &str) -> Result<PolicySource, ConfigError> {
        let raw = self.string(value, key)?;
        let invalid = |message: String| self.at(value, key, message).with_help(SOURCE_HELP);
        if let Some(name) = raw.strip_prefix("builtin:") {
            if name.is_empty() {
                return Err(invalid("built-in policy name is empty".to_owned()));
            }
            if !is_valid_name(name) {
                return Err(invalid(format!("invalid built-in policy name `{name}`")));
            }
            return Ok(PolicySource::Builtin(name.to_owned()));
        }
        if raw.trim().is_empty() {
            return Err(invalid("source is empty".to_owned()));
        }
        // `scheme:...` that is not a Windows drive letter.
        if let Some((scheme, _)) = raw.split_once(':') {
            let is_scheme = scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if is_scheme {
                let err = self.at(value, key, format!("unknown source scheme `{scheme}:`"));
                return Err(match suggest(scheme, &["builtin"]) {
                    Some(_) => {
                        let rest = raw.get(scheme.len() + 1..).unwrap_or_default();
                        err.with_help(format!("did you mean `builtin:{rest}`?"))
                    }
                    None => err.with_help(SOURCE_HELP),
                });
            }
        }
        let path = Path::new(raw);
        if path.is_absolute() || self.base.as_os_str().is_empty() {
            Ok(PolicySource::Path(path.to_path_buf()))
        } else {
            Ok(PolicySource::Path(self.base.join(path)))
        }
    }

    fn stages(&self, value: Value<'_, '_>, key: &str) -> Result<Vec<Stage>, ConfigError> {
        let names: Vec<&str> = Stage::ALL.iter().map(|stage| stage.as_str()).collect();
        let DeValue::Array(array) = value.get_ref() else {
            return Err(self.wrong_type(value, key, "an array of stages"));
        };
        if array.is_empty() {
            return Err(self.at(value, key, "stages list is empty").with_help(format!(
                "list at least one of {}, or remove `stages` to use the stages the policy declares",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        let mut stages: Vec<Stage> = Vec::with_capacity(array.len());
        for (index, element) in array.iter().enumerate() {
            let element_key = format!("{key}[{index}]");
            let stage: Stage = self.variant(element, &element_key, &names)?;
            if stages.contains(&stage) {
                return Err(self.at(
                    element,
                    &element_key,
                    format!("stage `{stage}` is listed twice"),
                ));
            }
            stages.push(stage);
        }
        Ok(stages)
    }

    fn sha256(&self, value: Value<'_, '_>, key: &str) -> Result<String, ConfigError> {
        let digest = self.string(value, key)?;
        let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if digest.len() == 64 && digest.chars().all(is_hex) {
            return Ok(digest.to_owned());
        }
        let help = if digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()) {
            "write the digest in lowercase".to_owned()
        } else if let Some(rest) = digest.strip_prefix("sha256:") {
            format!("remove the `sha256:` prefix: `{rest}`")
        } else {
            "use the component's sha256 in hex, e.g. the first field of `sha256sum FILE`".to_owned()
        };
        Err(self
            .at(
                value,
                key,
                format!("invalid sha256 `{digest}`, expected 64 lowercase hex characters"),
            )
            .with_help(help))
    }

    /// A policy's configuration value as JSON.
    fn json(&self, value: Value<'_, '_>, key: &str) -> Result<serde_json::Value, ConfigError> {
        use serde_json::Value as Json;
        Ok(match value.get_ref() {
            DeValue::String(s) => Json::String(s.to_string()),
            DeValue::Integer(integer) => {
                let n = i64::from_str_radix(integer.as_str(), integer.radix()).map_err(|_| {
                    self.at(
                        value,
                        key,
                        format!("integer `{integer}` does not fit in 64 bits"),
                    )
                })?;
                Json::Number(n.into())
            }
            DeValue::Float(float) => {
                let text = float.as_str();
                let non_finite = || {
                    self.at(
                        value,
                        key,
                        format!("float `{float}` is not a finite number"),
                    )
                    .with_help(
                        "a policy's configuration is passed as JSON, which has no `inf` or `nan`",
                    )
                };
                if text.contains("inf") || text.contains("nan") {
                    return Err(non_finite());
                }
                let number = text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .ok_or_else(non_finite)?;
                Json::Number(number)
            }
            DeValue::Boolean(b) => Json::Bool(*b),
            DeValue::Datetime(datetime) => Json::String(datetime.to_string()),
            DeValue::Array(array) => Json::Array(
                array
                    .iter()
                    .enumerate()
                    .map(|(index, element)| self.json(element, &format!("{key}[{index}]")))
                    .collect::<Result<_, _>>()?,
            ),
            DeValue::Table(table) => Json::Object(
                entries(table)
                    .into_iter()
                    .map(|(k, v)| {
                        Ok((
                            k.get_ref().to_string(),
                            self.json(v, &join_key(key, k.get_ref()))?,
                        ))
                    })
                    .collect::<Result<_, ConfigError>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SAMPLE: &str = r#"[limits]
fuel = 200_000_000
deadline_ms = 500
memory_mib = 64

[output]
format = "text"

[[policies]]
name = "error-ratio"
source = "builtin:error-ratio"
stages = ["canary"]
mode = "enforce"
on_error = "fail-closed"
[policies.config]
max_ratio = 2.0
min_baseline = 0.001

[[policies]]
name = "team-rule"
source = "policies/team_rule.wasm"
mode = "advisory"
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
"#;

    fn parse(text: &str) -> Config {
        Config::parse(text, Path::new("shipgate.toml")).unwrap()
    }

    fn error(text: &str) -> String {
        Config::parse(text, Path::new("shipgate.toml"))
            .unwrap_err()
            .to_string()
    }

    fn policy(name: &str, extra: &str) -> String {
        format!("[[policies]]\nname = \"{name}\"\nsource = \"builtin:{name}\"\n{extra}")
    }

    #[test]
    fn defaults() {
        let config = parse("");
        assert_eq!(config.path.as_deref(), Some(Path::new("shipgate.toml")));
        assert_eq!(
            config.limits,
            Limits {
                fuel: 500_000_000,
                deadline_ms: 1000,
                memory_mib: 64,
                max_output_bytes: 1_048_576,
                max_findings: 1000,
            }
        );
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.output.format, Format::Text);
        assert!(config.policies.is_empty());
        assert_eq!(config.base_dir(), PathBuf::from("."));

        let config = parse(&policy("p", ""));
        let p = &config.policies[0];
        assert_eq!(p.stages, None);
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.on_error, OnError::FailClosed);
        assert_eq!(p.sha256, None);
        assert_eq!(p.config, json!({}));
        assert_eq!(p.location, Location { line: 1, column: 1 });
    }

    #[test]
    fn full_config() {
        let config = Config::parse(SAMPLE, Path::new("deploy/shipgate.toml")).unwrap();
        assert_eq!(config.path, Some(PathBuf::from("deploy/shipgate.toml")));
        assert_eq!(
            config.limits,
            Limits {
                fuel: 200_000_000,
                deadline_ms: 500,
                memory_mib: 64,
                ..Limits::default()
            }
        );
        assert_eq!(
            config.output,
            Output {
                format: Format::Text
            }
        );
        assert_eq!(
            config.policies,
            vec![
                PolicyConfig {
                    name: "error-ratio".into(),
                    source: PolicySource::Builtin("error-ratio".into()),
                    stages: Some(vec![Stage::Canary]),
                    mode: Mode::Enforce,
                    on_error: OnError::FailClosed,
                    sha256: None,
                    config: json!({ "max_ratio": 2.0, "min_baseline": 0.001 }),
                    location: Location { line: 9, column: 1 },
                },
                PolicyConfig {
                    name: "team-rule".into(),
                    source: PolicySource::Path("deploy/policies/team_rule.wasm".into()),
                    stages: None,
                    mode: Mode::Advisory,
                    on_error: OnError::FailClosed,
                    sha256: Some(
                        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()
                    ),
                    config: json!({}),
                    location: Location {
                        line: 19,
                        column: 1
                    },
                },
            ]
        );
        assert_eq!(config.policies[0].source.to_string(), "builtin:error-ratio");
        assert_eq!(
            config.policies[1].source.to_string(),
            "deploy/policies/team_rule.wasm"
        );
    }

    #[test]
    fn every_key_and_value_form() {
        let config = parse(
            r#"
limits = { fuel = 0x10, deadline_ms = 1_000, memory_mib = 4096, max_output_bytes = 1, max_findings = 0o7 }
output.format = "markdown"
policies = [
  { name = "a_1", source = "builtin:a", stages = ["gate", "risk"], on_error = "fail-open",
    config = { when = 1979-05-27T07:32:00Z, day = 1979-05-27, list = [1, -2.5, "x", true], nested.deep = {} } },
]
"#,
        );
        assert_eq!(
            config.limits,
            Limits {
                fuel: 16,
                deadline_ms: 1000,
                memory_mib: 4096,
                max_output_bytes: 1,
                max_findings: 7,
            }
        );
        assert_eq!(config.output.format, Format::Markdown);
        let p = &config.policies[0];
        assert_eq!(p.stages, Some(vec![Stage::Gate, Stage::Risk]));
        assert_eq!(p.on_error, OnError::FailOpen);
        assert_eq!(
            p.config,
            json!({
                "when": "1979-05-27T07:32:00Z",
                "day": "1979-05-27",
                "list": [1, -2.5, "x", true],
                "nested": { "deep": {} },
            })
        );
        assert_eq!(p.location, Location { line: 5, column: 3 });
    }

    #[test]
    fn relative_paths() {
        let text = r#"
[[policies]]
name = "rel"
source = "policies/rule.wasm"
[[policies]]
name = "abs"
source = "/opt/shipgate/rule.wasm"
[[policies]]
name = "up"
source = "../shared/rule.wasm"
"#;
        let sources = |config: &Config| -> Vec<PathBuf> {
            config
                .policies
                .iter()
                .map(|p| match &p.source {
                    PolicySource::Path(path) => path.clone(),
                    PolicySource::Builtin(name) => panic!("builtin {name}"),
                })
                .collect()
        };

        let config = Config::parse(text, Path::new("deploy/ci/shipgate.toml")).unwrap();
        assert_eq!(config.base_dir(), PathBuf::from("deploy/ci"));
        assert_eq!(
            sources(&config),
            [
                "deploy/ci/policies/rule.wasm",
                "/opt/shipgate/rule.wasm",
                "deploy/ci/../shared/rule.wasm"
            ]
            .map(PathBuf::from)
        );

        // A file in the working directory: paths stay as written.
        let config = Config::parse(text, Path::new("shipgate.toml")).unwrap();
        assert_eq!(config.base_dir(), PathBuf::from("."));
        assert_eq!(
            sources(&config),
            [
                "policies/rule.wasm",
                "/opt/shipgate/rule.wasm",
                "../shared/rule.wasm"
            ]
            .map(PathBuf::from)
        );

        // A built-in default: relative to the working directory.
        let config = Config::from_default_toml(text, "<default>").unwrap();
        assert_eq!(config.path, None);
        assert_eq!(config.base_dir(), PathBuf::from("."));
        assert_eq!(sources(&config)[0], PathBuf::from("policies/rule.wasm"));

        // Loaded from disk.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("shipgate.toml");
        std::fs::write(&file, text).unwrap();
        let config = Config::load(&file).unwrap();
        assert_eq!(config.path.as_deref(), Some(file.as_path()));
        assert_eq!(config.base_dir(), dir.path());
        assert_eq!(sources(&config)[0], dir.path().join("policies/rule.wasm"));
    }

    #[test]
    fn enum_names() {
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>(), Ok(*format));
            assert_eq!(
                serde_json::to_value(format).unwrap(),
                json!(format.as_str())
            );
        }
        for mode in [Mode::Enforce, Mode::Advisory] {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
            assert_eq!(serde_json::to_value(mode).unwrap(), json!(mode.as_str()));
        }
        for on_error in [OnError::FailClosed, OnError::FailOpen] {
            assert_eq!(on_error.to_string().parse::<OnError>(), Ok(on_error));
            assert_eq!(
                serde_json::to_value(on_error).unwrap(),
                json!(on_error.as_str())
            );
        }
        assert_eq!(OnError::FailOpen.to_string(), "fail-open");
        assert_eq!(
            "yaml".parse::<Format>().unwrap_err().to_string(),
            "unknown format `yaml`, expected one of: text, json, markdown"
        );
    }

    #[test]
    fn error_fields() {
        let err =
            Config::parse("[limits]\nfuel = \"lots\"\n", Path::new("x/shipgate.toml")).unwrap_err();
        assert_eq!(err.file, "x/shipgate.toml");
        assert_eq!((err.line, err.column), (2, 8));
        assert_eq!(err.key.as_deref(), Some("limits.fuel"));
        assert_eq!(err.message, "expected an integer, found string `lots`");
        assert_eq!(err.help.as_deref(), Some("write the number without quotes"));
    }

    #[test]
    fn columns_count_characters() {
        let err = error(
            "[[policies]]\nname = \"é\" # ünïcode\nsource = \"builtin:x\"\nmode = \"strict\"\n",
        );
        assert!(err.contains(":2:8: key `policies[0].name`"), "{err}");
        let err = error("[output]\n  \"spaced key\" = 1 # ééé\n");
        assert!(err.contains(":2:3: key `output.\"spaced key\"`"), "{err}");
    }

    // --- the text of each configuration error ---

    #[test]
    fn error_unreadable_file() {
        let err = Config::load(Path::new("no-such-dir/shipgate.toml")).unwrap_err();
        assert_eq!((err.line, err.column), (0, 0));
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn error_syntax() {
        insta::assert_snapshot!(error("[limits]\nfuel = 1\n\n[output\nformat = \"text\"\n"));
    }

    #[test]
    fn error_syntax_duplicate_key() {
        insta::assert_snapshot!(error("[limits]\nfuel = 1\nfuel = 2\n"));
    }

    #[test]
    fn error_unknown_top_level_key() {
        insta::assert_snapshot!(error("[limit]\nfuel = 1\n"));
    }

    #[test]
    fn error_unknown_limits_key() {
        insta::assert_snapshot!(error("[limits]\nfuel = 1\nmemory = 64\n"));
    }

    #[test]
    fn error_unknown_policy_key() {
        insta::assert_snapshot!(error(&format!(
            "{}{}",
            policy("first", ""),
            policy("second", "mdoe = \"advisory\"\n")
        )));
    }

    #[test]
    fn error_unknown_policy_key_no_suggestion() {
        insta::assert_snapshot!(error(&policy("p", "weight = 3\n")));
    }

    #[test]
    fn error_wrong_type_integer() {
        insta::assert_snapshot!(error("[limits]\ndeadline_ms = \"500ms\"\n"));
    }

    #[test]
    fn error_wrong_type_table() {
        insta::assert_snapshot!(error("limits = 5\n"));
    }

    #[test]
    fn error_wrong_type_policies() {
        insta::assert_snapshot!(error("[policies]\nname = \"p\"\n"));
    }

    #[test]
    fn error_wrong_type_policy_config() {
        insta::assert_snapshot!(error(&policy("p", "config = \"max=2\"\n")));
    }

    #[test]
    fn every_limit_has_a_range() {
        insta::assert_snapshot!(
            "deadline_ms_u64_max",
            error("[limits]\ndeadline_ms = 18446744073709551615\n")
        );
        insta::assert_snapshot!(
            "deadline_ms_over",
            error("[limits]\ndeadline_ms = 600001\n")
        );
        insta::assert_snapshot!(
            "max_output_bytes_over",
            error("[limits]\nmax_output_bytes = 67108865\n")
        );
        insta::assert_snapshot!("max_findings_zero", error("[limits]\nmax_findings = 0\n"));
        let config = parse(&format!(
            "[limits]\nfuel = {MAX_FUEL}\ndeadline_ms = {MAX_DEADLINE_MS}\nmax_output_bytes = {MAX_OUTPUT_BYTES}\nmax_findings = {MAX_FINDINGS}\n"
        ));
        assert_eq!(config.limits.deadline_ms, MAX_DEADLINE_MS);
    }

    #[test]
    fn a_config_with_a_byte_order_mark_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shipgate.toml");
        std::fs::write(&path, "\u{feff}[limits]\nfuel = 1\n").unwrap();
        assert_eq!(Config::load(&path).unwrap().limits.fuel, 1);
    }

    #[test]
    fn an_endless_config_is_refused_at_its_cap() {
        let err = Config::load(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: cannot read the configuration: larger than 1 MiB, the limit for a configuration file"
        );
    }

    #[test]
    fn error_out_of_range_memory() {
        insta::assert_snapshot!(error("[limits]\nmemory_mib = 8192\n"));
    }

    #[test]
    fn error_out_of_range_fuel() {
        insta::assert_snapshot!(error("[limits]\nfuel = -1\n"));
    }

    #[test]
    fn error_bad_mode() {
        insta::assert_snapshot!(error(&format!(
            "{}{}",
            policy("first", ""),
            policy("second", "mode = \"enforced\"\n")
        )));
    }

    #[test]
    fn error_bad_on_error() {
        insta::assert_snapshot!(error(&policy("p", "on_error = \"fail_open\"\n")));
    }

    #[test]
    fn error_bad_format() {
        insta::assert_snapshot!(error("[output]\nformat = \"yaml\"\n"));
    }

    #[test]
    fn error_bad_stage() {
        insta::assert_snapshot!(error(&policy("p", "stages = [\"gate\", \"canry\"]\n")));
    }

    #[test]
    fn error_duplicate_stage() {
        insta::assert_snapshot!(error(&policy("p", "stages = [\"gate\", \"gate\"]\n")));
    }

    #[test]
    fn error_empty_stages() {
        insta::assert_snapshot!(error(&policy("p", "stages = []\n")));
    }

    #[test]
    fn error_missing_name() {
        insta::assert_snapshot!(error(&format!(
            "{}\n[[policies]]\nsource = \"builtin:x\"\n",
            policy("first", "")
        )));
    }

    #[test]
    fn error_missing_source() {
        insta::assert_snapshot!(error("[[policies]]\nname = \"p\"\nmode = \"advisory\"\n"));
    }

    #[test]
    fn error_duplicate_name() {
        insta::assert_snapshot!(error(&format!(
            "{}\n{}",
            policy("same", ""),
            policy("same", "mode = \"advisory\"\n")
        )));
    }

    #[test]
    fn error_invalid_name() {
        insta::assert_snapshot!(error(
            "[[policies]]\nname = \"Error Ratio\"\nsource = \"builtin:x\"\n"
        ));
    }

    #[test]
    fn error_empty_name() {
        insta::assert_snapshot!(error("[[policies]]\nname = \"\"\nsource = \"builtin:x\"\n"));
    }

    #[test]
    fn error_empty_source() {
        insta::assert_snapshot!(error("[[policies]]\nname = \"p\"\nsource = \"\"\n"));
    }

    #[test]
    fn error_bad_builtin_name() {
        insta::assert_snapshot!(error("[[policies]]\nname = \"p\"\nsource = \"builtin:\"\n"));
    }

    #[test]
    fn error_misspelled_builtin() {
        insta::assert_snapshot!(error(
            "[[policies]]\nname = \"p\"\nsource = \"bultin:error-ratio\"\n"
        ));
    }

    #[test]
    fn error_remote_source() {
        insta::assert_snapshot!(error(
            "[[policies]]\nname = \"p\"\nsource = \"https://example.com/p.wasm\"\n"
        ));
    }

    #[test]
    fn error_bad_sha256() {
        insta::assert_snapshot!(error(&policy("p", "sha256 = \"abc123\"\n")));
    }

    #[test]
    fn error_uppercase_sha256() {
        insta::assert_snapshot!(error(&policy(
            "p",
            "sha256 = \"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"\n"
        )));
    }

    #[test]
    fn error_prefixed_sha256() {
        insta::assert_snapshot!(error(&policy(
            "p",
            "sha256 = \"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"\n"
        )));
    }

    #[test]
    fn error_non_finite_float() {
        insta::assert_snapshot!(error(&policy(
            "p",
            "[policies.config]\nmax_ratio = 2.0\nthresholds.floor = -inf\n"
        )));
    }

    #[test]
    fn error_nan_in_config_array() {
        insta::assert_snapshot!(error(&policy("p", "config = { weights = [1.0, nan] }\n")));
    }

    // --- errors reported later by a policy's own validation ---

    #[test]
    fn policy_key_error_at_key() {
        let config = parse(&format!(
            "{}{}",
            policy("first", ""),
            policy(
                "second",
                "[policies.config]\nrules = [{ name = \"a\" }, { name = \"b\" }]\n[policies.config.thresholds]\nerror_rate = 1.5\n"
            )
        ));
        let err = config.policy_key_error(1, "thresholds.error_rate", "must be at most 1.0");
        assert_eq!((err.line, err.column), (10, 14));
        insta::assert_snapshot!(err.to_string());
        let err = config.policy_key_error(1, "rules[1].name", "duplicate rule name `b`");
        assert_eq!((err.line, err.column), (8, 35));
        assert_eq!(err.key.as_deref(), Some("policies[1].config.rules[1].name"));
    }

    #[test]
    fn policy_key_error_missing_key() {
        let config = parse(&policy("p", "[policies.config]\nmax_ratio = 2.0\n"));
        let err = config.policy_key_error(0, "min_baseline", "missing required key");
        // Falls back to the config table.
        assert_eq!((err.line, err.column), (4, 1));
        insta::assert_snapshot!(err.to_string());
        let err = config.policy_key_error(0, "", "expected `thresholds`");
        assert_eq!((err.line, err.column), (4, 1));
        assert_eq!(err.key.as_deref(), Some("policies[0].config"));
    }

    #[test]
    fn policy_key_error_without_config() {
        let config = parse(&format!("# comment\n{}", policy("p", "")));
        let err = config.policy_key_error(0, "max_ratio", "missing required key");
        // Falls back to the policy's table.
        assert_eq!((err.line, err.column), (2, 1));
        insta::assert_snapshot!(err.to_string());
    }

    #[test]
    fn policy_error_on_a_policy_key() {
        let config = parse(&policy(
            "p",
            "sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"\n",
        ));
        let err = config.policy_error(0, "sha256", "component digest mismatch");
        assert_eq!((err.line, err.column), (4, 10));
        assert_eq!(err.key.as_deref(), Some("policies[0].sha256"));
        let err = config.policy_error(7, "", "no such policy");
        assert_eq!((err.line, err.column), (0, 0));
        assert_eq!(
            err.to_string(),
            "shipgate.toml: key `policies[7]`: no such policy"
        );
    }

    #[test]
    fn key_paths() {
        assert_eq!(
            path_segments("a.b[2][0].c"),
            [
                Segment::Key("a"),
                Segment::Key("b"),
                Segment::Index(2),
                Segment::Index(0),
                Segment::Key("c")
            ]
        );
        assert_eq!(join_key("", "a b"), "\"a b\"");
        assert_eq!(join_key("x", "y_z-1"), "x.y_z-1");
        assert_eq!(suggest("mdoe", POLICY_KEYS), Some("mode"));
        assert_eq!(suggest("weight", POLICY_KEYS), None);
    }
}
