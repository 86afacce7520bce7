//! The file's shape as Rust types: every table of `shipgate.toml`, read by
//! serde (with `deny_unknown_fields`) through [`Document::deserialize`],
//! then the checks across entries (duplicate policy names, missing keys,
//! duration ranges) at the keys they are about.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shipgate_model::Stage;

use super::bundles::{BundleEntry, BundleSource, RegistryConfig, TrustConfig};
use super::checked;
use super::document::Document;
use super::waivers::{ExceptionEntry, ExceptionSource};
use super::{
    Config, ConfigError, DeploymentConfig, Limits, Mode, OnError, Output, PolicyConfig,
    PolicySource, SourcesConfig, WatchConfig,
};

/// The `[log]` table: where `shipgate check` appends its decision records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Whether to write the log; default true.
    pub enabled: bool,
    /// The JSON Lines file, relative to the configuration's directory;
    /// default `.shipgate/decisions.jsonl`.
    pub path: PathBuf,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            enabled: true,
            path: PathBuf::from(".shipgate/decisions.jsonl"),
        }
    }
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct File {
    #[serde(deserialize_with = "checked::table")]
    limits: Limits,
    #[serde(deserialize_with = "checked::table")]
    output: Output,
    #[serde(deserialize_with = "policies")]
    policies: Vec<Policy>,
    #[serde(deserialize_with = "checked::table")]
    deployment: DeploymentConfig,
    #[serde(deserialize_with = "checked::table")]
    sources: SourcesConfig,
    #[serde(deserialize_with = "checked::table")]
    log: LogConfig,
    #[serde(deserialize_with = "checked::table")]
    watch: WatchConfig,
    #[serde(deserialize_with = "bundles")]
    bundles: Vec<BundleEntry>,
    #[serde(deserialize_with = "checked::table")]
    trust: TrustConfig,
    #[serde(deserialize_with = "checked::table")]
    registry: RegistryConfig,
    #[serde(deserialize_with = "exceptions")]
    exceptions: Vec<ExceptionEntry>,
}

/// One `[[policies]]` entry as the file has it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Policy {
    #[serde(default, deserialize_with = "checked::policy_name")]
    name: Option<String>,
    #[serde(default, deserialize_with = "checked::source")]
    source: Option<PolicySource>,
    #[serde(default, deserialize_with = "checked::stages")]
    stages: Option<Vec<Stage>>,
    #[serde(default, deserialize_with = "checked::choice")]
    mode: Mode,
    #[serde(default, deserialize_with = "checked::choice")]
    on_error: OnError,
    #[serde(default, deserialize_with = "checked::sha256")]
    sha256: Option<String>,
    #[serde(default = "empty_object", deserialize_with = "checked::policy_config")]
    config: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// `bundles`: an array of tables.
fn bundles<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<BundleEntry>, D::Error> {
    checked::array_of_tables(deserializer, "write each bundle as a `[[bundles]]` table")
}

/// `exceptions`: an array of tables.
fn exceptions<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ExceptionEntry>, D::Error> {
    checked::array_of_tables(
        deserializer,
        "write each exception as an `[[exceptions]]` table",
    )
}

/// `policies`: an array of tables.
fn policies<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Policy>, D::Error> {
    checked::array_of_tables(deserializer, "write each policy as a `[[policies]]` table")
}

impl Document<'_> {
    /// Reads and checks the whole file; relative policy paths are resolved
    /// against `base` (unless it is empty).
    pub(super) fn config(&self, base: &Path) -> Result<Config, ConfigError> {
        let file: File = self.deserialize()?;
        if let Some(sources) = self.get("sources") {
            self.source_ranges(sources, &file.sources)?;
        }
        if let Some(watch) = self.get("watch") {
            self.watch_ranges(watch, &file.watch)?;
        }
        if let Some((key, message)) = file.registry.credentials_problem() {
            let at = self.get(key).map_or(0, |value| value.span().start);
            return Err(self.error(at, Some(key.to_owned()), message));
        }
        Ok(Config {
            path: None,
            limits: file.limits,
            output: file.output,
            bundles: self.bundles(file.bundles)?,
            trust: file.trust,
            registry: file.registry,
            floors: Default::default(),
            exceptions: self.exceptions(file.exceptions, base)?,
            waivers: Vec::new(),
            policies: self.policies(file.policies, base)?,
            deployment: file.deployment,
            sources: file.sources,
            log: file.log,
            watch: file.watch,
            file: self.file.clone(),
            text: self.text.to_owned(),
        })
    }

    /// The bundles, with their locations; each has a source, and no two
    /// the same.
    fn bundles(&self, bundles: Vec<BundleEntry>) -> Result<Vec<BundleSource>, ConfigError> {
        let mut checked: Vec<BundleSource> = Vec::with_capacity(bundles.len());
        for (index, entry) in bundles.into_iter().enumerate() {
            let path = format!("bundles[{index}]");
            let start = self.get(&path).map_or(0, |table| table.span().start);
            let Some(source) = entry.source else {
                let mut error = self.error(start, Some(path), "missing required key `source`");
                error.help = Some("add `source = \"oci://HOST/REPOSITORY@sha256:DIGEST\"`".into());
                return Err(error);
            };
            if let Some(first) = checked.iter().position(|b| b.source == source) {
                let key = format!("{path}.source");
                let at = self.get(&key).map_or(start, |value| value.span().start);
                return Err(self.error(
                    at,
                    Some(key),
                    format!("`{source}` is already `bundles[{first}]`"),
                ));
            }
            checked.push(BundleSource {
                source,
                location: self.location_of(start),
            });
        }
        Ok(checked)
    }

    /// The exception files, with their locations, resolved against `base`.
    fn exceptions(
        &self,
        entries: Vec<ExceptionEntry>,
        base: &Path,
    ) -> Result<Vec<ExceptionSource>, ConfigError> {
        let mut checked = Vec::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            let path = format!("exceptions[{index}]");
            let start = self.get(&path).map_or(0, |table| table.span().start);
            let Some(file) = entry.file else {
                let mut error = self.error(start, Some(path), "missing required key `file`");
                error.help = Some("add `file = \"exceptions/TICKET.exception\"` (`shipgate exception sign` writes it)".into());
                return Err(error);
            };
            let file = if file.is_absolute() || base.as_os_str().is_empty() {
                file
            } else {
                base.join(file)
            };
            checked.push(ExceptionSource {
                file,
                location: self.location_of(start),
            });
        }
        Ok(checked)
    }

    /// The policies, with their locations and resolved paths; each has a
    /// name and a source, and no two the same name.
    pub(super) fn policies(
        &self,
        policies: Vec<Policy>,
        base: &Path,
    ) -> Result<Vec<PolicyConfig>, ConfigError> {
        let mut checked: Vec<PolicyConfig> = Vec::with_capacity(policies.len());
        let mut names: HashMap<String, usize> = HashMap::new();
        for (index, policy) in policies.into_iter().enumerate() {
            let path = format!("policies[{index}]");
            let start = self.get(&path).map_or(0, |table| table.span().start);
            let missing = |key: &str, help: &str| {
                let mut error = self.error(
                    start,
                    Some(path.clone()),
                    format!("missing required key `{key}`"),
                );
                error.help = Some(help.to_owned());
                error
            };
            let name = policy.name.ok_or_else(|| {
                missing(
                    "name",
                    "add a unique `name`, made of lowercase letters, digits, `-` and `_`",
                )
            })?;
            let source = policy.source.ok_or_else(|| {
                missing(
                    "source",
                    "add `source = \"builtin:NAME\"` or a path to a .wasm component",
                )
            })?;
            if let Some(&first) = names.get(&name) {
                let key = format!("{path}.name");
                let at = self.get(&key).map_or(start, |value| value.span().start);
                let line = checked.get(first).map_or(0, |p| p.location.line);
                let mut error = self.error(
                    at,
                    Some(key),
                    format!(
                        "duplicate policy name `{name}`, already used by `policies[{first}]` on line {line}"
                    ),
                );
                error.help = Some("policy names must be unique".to_owned());
                return Err(error);
            }
            names.insert(name.clone(), index);
            let source = match source {
                PolicySource::Path(path) if !path.is_absolute() && !base.as_os_str().is_empty() => {
                    PolicySource::Path(base.join(path))
                }
                source => source,
            };
            checked.push(PolicyConfig {
                name,
                source,
                stages: policy.stages,
                mode: policy.mode,
                on_error: policy.on_error,
                sha256: policy.sha256,
                config: policy.config,
                location: self.location_of(start),
                bundle: None,
                layer: None,
                overridden: None,
            });
        }
        Ok(checked)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn error(text: &str) -> String {
        match Config::parse(text, Path::new("shipgate.toml")) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn sources_and_deployment_parse() {
        let config = Config::parse(
            r#"
[deployment]
service = "checkout"
kind = "hotfix"
severity = "P1"

[sources.clock]
utc_offset = "+01:00"

[sources.prometheus]
url = "http://127.0.0.1:9090"
timeout = "3s"

[log]
path = "decisions.jsonl"
"#,
            Path::new("deploy/shipgate.toml"),
        )
        .unwrap();
        assert_eq!(config.deployment.service.as_deref(), Some("checkout"));
        assert_eq!(
            config.deployment.kind,
            Some(shipgate_model::DeployKind::Hotfix)
        );
        assert_eq!(config.sources.clock.utc_offset.minutes, 60);
        let prometheus = config.sources.prometheus.unwrap();
        assert_eq!(prometheus.timeout.unwrap().0.as_secs(), 3);
        assert!(config.sources.git.is_none());
        assert_eq!(config.log.path, Path::new("decisions.jsonl"));
        assert!(config.log.enabled);
    }

    #[test]
    fn bundles_trust_and_registry_parse() {
        let config = Config::parse(
            "[trust]\nfile = \"trust.toml\"\n\n[registry]\ntoken_env = \"REG_TOKEN\"\nplain_http = [\"registry.internal:5000\"]\n\n[[bundles]]\nsource = \"oci://registry.internal:5000/acme/security:1.4.0\"\n",
            Path::new("deploy/shipgate.toml"),
        )
        .unwrap();
        assert_eq!(config.bundles.len(), 1);
        assert_eq!(
            config.bundles[0].source,
            "oci://registry.internal:5000/acme/security:1.4.0"
        );
        assert_eq!(config.bundles[0].location.line, 8);
        assert_eq!(config.trust.file.as_deref(), Some(Path::new("trust.toml")));
        assert_eq!(config.registry.token_env.as_deref(), Some("REG_TOKEN"));
        assert_eq!(config.registry.store, Path::new(".shipgate/bundles"));
        let none = Config::parse("", Path::new("shipgate.toml")).unwrap();
        assert!(none.bundles.is_empty() && none.trust.file.is_none());
    }

    #[test]
    fn bundle_errors_are_located() {
        let bad = error("[[bundles]]\nsource = \"registry.example/acme/security:1\"\n");
        assert!(bad.starts_with("shipgate.toml:2:10: key `bundles[0].source`: `registry.example/acme/security:1` is not a bundle reference"), "{bad}");
        assert!(
            bad.contains("help: write `oci://HOST/REPOSITORY@sha256:DIGEST`"),
            "{bad}"
        );
        let missing = error("[[bundles]]\nsourc = \"oci://h/a:1\"\n");
        assert!(
            missing.contains("key `bundles[0].sourc`: unknown key `sourc`"),
            "{missing}"
        );
        assert!(missing.contains("did you mean `source`?"), "{missing}");
        let twice =
            error("[[bundles]]\nsource = \"oci://h/a:1\"\n[[bundles]]\nsource = \"oci://h/a:1\"\n");
        assert!(
            twice.starts_with(
                "shipgate.toml:4:10: key `bundles[1].source`: `oci://h/a:1` is already `bundles[0]`"
            ),
            "{twice}"
        );
        let half = error("[registry]\nusername_env = \"U\"\n");
        assert!(half.starts_with("shipgate.toml:2:16: key `registry.username_env`: `username_env` needs `password_env`"), "{half}");
    }

    #[test]
    fn unknown_source_key_names_line_and_suggests() {
        insta::assert_snapshot!(error("[sources.clock]\nutc_ofset = \"+01:00\"\n"));
    }

    #[test]
    fn unknown_source_names_line_and_suggests() {
        insta::assert_snapshot!(error(
            "[sources.prometheus]\nurl = \"http://x\"\n\n[sources.promethus]\n"
        ));
    }

    #[test]
    fn bad_duration_names_the_key() {
        insta::assert_snapshot!(error(
            "[sources.prometheus]\nurl = \"http://x\"\ntimeout = \"soon\"\n"
        ));
    }

    #[test]
    fn bad_offset_and_enum_name_the_key() {
        insta::assert_snapshot!("offset", error("[sources.clock]\nutc_offset = \"1h\"\n"));
        insta::assert_snapshot!("kind", error("\n[deployment]\nkind = \"hotfx\"\n"));
    }

    #[test]
    fn a_server_url_that_is_not_one_is_a_config_error() {
        insta::assert_snapshot!(
            "prometheus_url",
            error("[sources.prometheus]\nurl = \"not a url\"\n")
        );
        insta::assert_snapshot!(
            "prometheus_scheme",
            error("[sources.prometheus]\nurl = \"ftp://prom:9090\"\n")
        );
        insta::assert_snapshot!(
            "github_api_url",
            error("[sources.github]\napi_url = \"api.github.com\"\n")
        );
    }

    #[test]
    fn every_duration_has_a_range() {
        insta::assert_snapshot!("timeout_zero", error("[sources.git]\ntimeout = \"0s\"\n"));
        insta::assert_snapshot!(
            "query_timeout_long",
            error("[sources.prometheus]\nurl = \"http://x\"\nquery_timeout = \"2h\"\n")
        );
        insta::assert_snapshot!(
            "stale_after_long",
            error("[sources.prometheus]\nurl = \"http://x\"\nstale_after = \"30d\"\n")
        );
        insta::assert_snapshot!("watch_interval", error("[watch]\ninterval = \"10ms\"\n"));
        insta::assert_snapshot!(
            "hook_timeout",
            error("[watch]\nhook_timeout = \"1000000000s\"\n")
        );
        // In range: accepted.
        Config::parse(
            "[sources.prometheus]\nurl = \"http://x\"\nstale_after = \"0s\"\n[watch]\ninterval = \"100ms\"\n",
            Path::new("shipgate.toml"),
        )
        .unwrap();
    }

    #[test]
    fn wrong_type_names_the_key() {
        insta::assert_snapshot!(error("[log]\nenabled = \"yes\"\n"));
    }
}
