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
//! Every table is a Rust type read by serde (`tables.rs`, with the checked
//! values of `checked.rs`); the file is parsed into toml's spanned document
//! ([`toml::de::DeTable`]) first, so that every error points at the exact
//! key or value it is about (`document.rs`).

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shipgate_model::{Stage, wire_enum};

pub mod bundles;
mod checked;
mod document;
mod duration;
pub mod layering;
mod names;
mod ranges;
mod reader;
pub mod sources;
mod tables;
mod toml_file;
pub mod waivers;
pub mod watch;

use document::Document;

pub use bundles::{BundleOrigin, BundleSource, RegistryConfig, TrustConfig};
pub use duration::Duration;
pub use sources::{DeploymentConfig, SourcesConfig};
pub use watch::WatchConfig;

pub use ranges::{MAX_DEADLINE_MS, MAX_FINDINGS, MAX_FUEL, MAX_OUTPUT_BYTES};
pub use tables::LogConfig;
pub use toml_file::TomlFile;

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
    /// The bundles whose policies run before `policies` (`[[bundles]]`).
    /// Once they are fetched (`shipgate-fetch`), their policies are in
    /// `policies`, each naming its bundle.
    pub bundles: Vec<BundleSource>,
    /// What bundles are verified against (`[trust]`).
    pub trust: TrustConfig,
    /// How bundles are fetched and kept (`[registry]`).
    pub registry: RegistryConfig,
    /// The floors the bundles' layers set (filled when they are fetched).
    pub floors: layering::Floors,
    /// The signed exceptions it names (`[[exceptions]]`).
    pub exceptions: Vec<waivers::ExceptionSource>,
    /// The exceptions, verified (filled when they are checked).
    pub waivers: Vec<waivers::Waiver>,
    /// The name errors report the file as.
    file: String,
    /// The source text, to locate keys in later errors.
    text: String,
}

/// The `[limits]` table: resources one policy evaluation may use. Each is
/// checked at load against its range (`MAX_*` in this module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Fuel (roughly, WebAssembly instructions) per evaluation; default 500 000 000.
    #[serde(deserialize_with = "checked::fuel")]
    pub fuel: u64,
    /// Wall-clock backstop per evaluation, in milliseconds; default 1000.
    #[serde(deserialize_with = "checked::deadline_ms")]
    pub deadline_ms: u64,
    /// Linear memory cap per policy instance, in MiB (at most 4096); default 64.
    #[serde(deserialize_with = "checked::memory_mib")]
    pub memory_mib: u32,
    /// The largest decision a policy may return, in bytes; default 1 048 576.
    #[serde(deserialize_with = "checked::max_output_bytes")]
    pub max_output_bytes: u64,
    /// The most findings one decision may hold; default 1000.
    #[serde(deserialize_with = "checked::max_findings")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Output {
    /// The report format; default `text`.
    #[serde(deserialize_with = "checked::choice")]
    pub format: Format,
}

wire_enum! {
    /// A report format.
    #[derive(Default)]
    pub Format("format") {
        /// Plain text for a terminal.
        #[default]
        Text = "text",
        /// JSON, for machines.
        Json = "json",
        /// Markdown, e.g. for a pull-request comment.
        Markdown = "markdown",
    }
}

wire_enum! {
    /// Whether a policy's verdict counts.
    #[derive(Default)]
    pub Mode("mode") {
        /// Its verdict counts towards the overall decision.
        #[default]
        Enforce = "enforce",
        /// Its findings are reported, but its verdict does not count.
        Advisory = "advisory",
    }
}

wire_enum! {
    /// What a policy that produces no decision (trap, fuel, deadline, ...) counts as.
    #[derive(Default)]
    pub OnError("on_error") {
        /// A failure blocks: it counts as `no-go`.
        #[default]
        FailClosed = "fail-closed",
        /// A failure does not block: it counts as `go`.
        FailOpen = "fail-open",
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
    /// Where this policy's table starts in the file (for a bundle's
    /// policy, where its `[[bundles]]` entry starts).
    pub location: Location,
    /// The bundle it came from; `None` for the file's own `[[policies]]`.
    pub bundle: Option<BundleOrigin>,
    /// What its bundle's layer says about it (required or default, what a
    /// lower layer may tighten); `None` outside a layer.
    pub layer: Option<layering::LayerRule>,
    /// The file's own table that tightened (a required policy) or replaced
    /// (a default one) it, and the `config` keys it changed.
    pub overridden: Option<Overridden>,
}

/// A lower layer's table applied to a layer's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    /// Where the table starts in the file.
    pub location: Location,
    /// The `config` keys (dotted) it changed.
    pub changed: Vec<String>,
    /// Whether it replaced the policy (a default one) rather than tightened
    /// it (a required one).
    pub replaced: bool,
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
        let mut config = Document::parse(&file.display().to_string(), text)?.config(base)?;
        config.path = Some(file.to_path_buf());
        Ok(config)
    }

    /// Checks a built-in default configuration embedded in the binary;
    /// `name` is what errors call it. Relative policy paths stay relative
    /// (to the working directory).
    pub fn from_default_toml(text: &str, name: &str) -> Result<Config, ConfigError> {
        Document::parse(name, text)?.config(Path::new(""))
    }

    /// The sha256 of the configuration text, hex: which configuration a
    /// decision was made under.
    pub fn sha256(&self) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(self.text.as_bytes()))
    }

    /// The bundles its policies came from, each once, in policy order.
    pub fn bundle_origins(&self) -> Vec<&BundleOrigin> {
        let mut origins: Vec<&BundleOrigin> = Vec::new();
        for origin in self.policies.iter().filter_map(|p| p.bundle.as_ref()) {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
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
        if let Some(policy) = self.policies.get(policy_index)
            && let Some(origin) = &policy.bundle
            && !policy.overridden.as_ref().is_some_and(|o| o.replaced)
        {
            return self.bundle_policy_error(policy, origin, key_path, message);
        }
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

    /// An error about a bundle's policy: at its `[[bundles]]` entry (the
    /// file has no table for it), naming the bundle, the policy and the key.
    fn bundle_policy_error(
        &self,
        policy: &PolicyConfig,
        origin: &BundleOrigin,
        key_path: &str,
        message: &str,
    ) -> ConfigError {
        let key = self
            .bundles
            .iter()
            .position(|b| b.location == policy.location)
            .map_or_else(|| "bundles".to_owned(), |i| format!("bundles[{i}]"));
        let what = if key_path.is_empty() {
            String::new()
        } else {
            format!(", key `{key_path}`")
        };
        self.key_error(
            &key,
            &format!(
                "bundle `{}` {} ({}), policy `{}`{what}: {message}",
                origin.name, origin.version, origin.digest, policy.name
            ),
        )
    }

    /// An error about a key outside `[[policies]]` (`sources.prometheus.metrics`),
    /// found after loading, e.g. by a check across tables. The location is
    /// best effort: the deepest value on `key_path` that the file has, else
    /// no line.
    pub fn key_error(&self, key_path: &str, message: &str) -> ConfigError {
        toml_file::TomlFile::new(&self.file, &self.text).key_error(key_path, message)
    }

    /// The start of the deepest value on `key_path` inside policy
    /// `policy_index`'s table that the file has.
    fn locate(&self, policy_index: usize, key_path: &str) -> Option<Location> {
        let document = Document::parse(&self.file, &self.text).ok()?;
        let policy = document.get(&format!("policies[{policy_index}]"))?;
        let value = Document::walk(policy, key_path);
        Some(document.location_of(value.span().start))
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
                    bundle: None,
                    layer: None,
                    overridden: None,
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
                    bundle: None,
                    layer: None,
                    overridden: None,
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
}
