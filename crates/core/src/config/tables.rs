//! The tables checked by serde rather than by hand: `[deployment]`,
//! `[sources.*]` and `[log]`. Their shape is a Rust type (with
//! `deny_unknown_fields`); errors are mapped back to the file, line, column
//! and key with `serde_path_to_error`.

use std::path::PathBuf;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::de::DeValue;

use super::{Checker, ConfigError, Value, find_key, join_key, suggest};

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

impl Checker<'_> {
    /// Deserializes the table at `value` (key path `key`) into `T`, naming
    /// the exact key of any error.
    pub(super) fn serde_table<T: DeserializeOwned>(
        &self,
        value: Value<'_, '_>,
        key: &str,
    ) -> Result<T, ConfigError> {
        self.table(value, key)?;
        let json = self.json(value, key)?;
        serde_path_to_error::deserialize(json).map_err(|err| {
            let inner = err.path().to_string();
            let message = err.inner().to_string();
            let at_key = message.starts_with("unknown field");
            let (offset, full_key) = self.deepest(value, key, &inner, at_key);
            let error = self.error(offset, Some(full_key), tidy(&message));
            match unknown_field_help(&message) {
                Some(help) => error.with_help(help),
                None => error,
            }
        })
    }

    /// The offset of the deepest value on `path` (serde's `a.b[2].c`, or
    /// `.` for the table itself) below `value`, and the key to report.
    /// With `at_key`, the offset is that of the last key rather than of its
    /// value (for unknown keys).
    fn deepest(
        &self,
        value: Value<'_, '_>,
        key: &str,
        path: &str,
        at_key: bool,
    ) -> (usize, String) {
        let mut current = value;
        let mut offset = value.span().start;
        let mut reported = key.to_owned();
        for segment in path.split('.').filter(|s| !s.is_empty() && *s != "?") {
            let (name, indexes) = match segment.find('[') {
                Some(at) => segment.split_at(at),
                None => (segment, ""),
            };
            if !name.is_empty() {
                reported = join_key(&reported, name);
                let DeValue::Table(table) = current.get_ref() else {
                    break;
                };
                let Some((k, v)) = find_key(table, name) else {
                    break;
                };
                offset = if at_key {
                    k.span().start
                } else {
                    v.span().start
                };
                current = v;
            }
            for index in indexes
                .split(['[', ']'])
                .filter_map(|n| n.parse::<usize>().ok())
            {
                reported.push_str(&format!("[{index}]"));
                let DeValue::Array(array) = current.get_ref() else {
                    break;
                };
                let Some(v) = array.get(index) else { break };
                offset = v.span().start;
                current = v;
            }
        }
        (offset, reported)
    }
}

/// serde's message, shortened: its list of expected fields goes into the
/// help line instead.
fn tidy(message: &str) -> String {
    match message.split_once(", expected ") {
        Some((head, _)) if head.starts_with("unknown field") => head.replacen("field", "key", 1),
        _ => message.to_owned(),
    }
}

/// "did you mean" for serde's "unknown field `x`, expected one of `a`, `b`".
fn unknown_field_help(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (got, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .strip_prefix(", expected one of ")
        .or_else(|| rest.strip_prefix(", expected "))?
        .split(", ")
        .map(|name| name.trim_matches('`'))
        .collect();
    Some(match suggest(got, &expected) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("expected one of {}", super::expected_list(&expected)),
    })
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
