//! `[sources.prometheus]`: the server, the tracks' matchers, and the metrics
//! with their PromQL templates ([`template`]).

pub mod template;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::config::Duration;

/// A metric of the standard set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandardMetric {
    /// Its name, as policies read it.
    pub name: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Its default PromQL template.
    pub query: &'static str,
}

/// The standard metrics, in their order.
pub const STANDARD_METRICS: [StandardMetric; 7] = [
    StandardMetric {
        name: "error_rate",
        unit: "ratio",
        query: r#"sum(rate(http_requests_total{$selector, code=~"5.."}[$window])) / sum(rate(http_requests_total{$selector}[$window]))"#,
    },
    StandardMetric {
        name: "latency_p50",
        unit: "seconds",
        query: "histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))",
    },
    StandardMetric {
        name: "latency_p95",
        unit: "seconds",
        query: "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))",
    },
    StandardMetric {
        name: "latency_p99",
        unit: "seconds",
        query: "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))",
    },
    StandardMetric {
        name: "request_rate",
        unit: "requests/s",
        query: "sum(rate(http_requests_total{$selector}[$window]))",
    },
    StandardMetric {
        name: "cpu_usage",
        unit: "ratio",
        query: r#"sum(rate(container_cpu_usage_seconds_total{$selector, container!="", container!="POD"}[$window])) / sum(container_spec_cpu_quota{$selector, container!="", container!="POD"} / container_spec_cpu_period{$selector, container!="", container!="POD"})"#,
    },
    StandardMetric {
        name: "memory_usage",
        unit: "ratio",
        query: r#"sum(container_memory_working_set_bytes{$selector, container!="", container!="POD"}) / sum(container_spec_memory_limit_bytes{$selector, container!="", container!="POD"})"#,
    },
];

/// The metrics of the `verify` stage: standard names a configuration may
/// list in `metrics` (and override under `queries`), but not collected by
/// default: a canary's configuration does not ask for them. In a verify
/// snapshot the deployed version's value is each metric's `canary`
/// measurement (set `canary` to the deployed service's matchers).
///
/// - `http_5xx_rate`: the fraction of requests answered 5xx (0 to 1), from
///   the same `http_requests_total{code}` series as `error_rate` (which a
///   configuration may point elsewhere, gRPC codes say; this one is always
///   HTTP 5xx).
/// - `restarts`: container restarts during the window, a count, from
///   kube-state-metrics's `kube_pod_container_status_restarts_total`
///   (assumed to carry the track's labels, as for the resource metrics;
///   override it otherwise).
/// - `up`: the fraction of the service's scrape targets that are up (0 to
///   1), Prometheus's own `up` series (the targets' labels must match the
///   track's matchers: relabel them, or override the query).
pub const VERIFY_METRICS: [StandardMetric; 3] = [
    StandardMetric {
        name: "http_5xx_rate",
        unit: "ratio",
        query: r#"sum(rate(http_requests_total{$selector, code=~"5.."}[$window])) / sum(rate(http_requests_total{$selector}[$window]))"#,
    },
    StandardMetric {
        name: "restarts",
        unit: "count",
        query: "sum(increase(kube_pod_container_status_restarts_total{$selector}[$window]))",
    },
    StandardMetric {
        name: "up",
        unit: "ratio",
        query: "avg(up{$selector})",
    },
];

/// A standard metric (of [`STANDARD_METRICS`] or [`VERIFY_METRICS`]) by
/// name.
pub fn standard_metric(name: &str) -> Option<&'static StandardMetric> {
    STANDARD_METRICS
        .iter()
        .chain(VERIFY_METRICS.iter())
        .find(|m| m.name == name)
}

/// The placeholders of a metric's query.
pub const QUERY_PLACEHOLDERS: &[&str] = &["service", "selector", "window", "track"];
/// The placeholders of a track's matchers.
pub const TRACK_PLACEHOLDERS: &[&str] = &["service", "track"];
/// The placeholders of `alert_matchers`.
pub const ALERT_PLACEHOLDERS: &[&str] = &["service"];

/// The two tracks, in their order.
pub const TRACKS: [&str; 2] = ["baseline", "canary"];

/// `[sources.prometheus]`.
// `remote = "Self"`: the derived code is an inherent `deserialize`, which
// the `Deserialize` impl below calls before it checks `series` against
// `metrics` (a check no single field can make).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct PrometheusConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:9090` (a path prefix
    /// such as `/prometheus` is kept). Required; an http:// or https:// URL,
    /// checked at load.
    #[serde(deserialize_with = "server_url")]
    pub url: String,
    /// How long the source may take; default 10s.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// How long one request may take; default 5s. Keep it below `timeout`.
    #[serde(default = "default_query_timeout", deserialize_with = "positive")]
    pub query_timeout: Duration,
    /// The environment variable that holds a bearer token; default none.
    /// Its value is sent, never logged.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The service's name, the value of `$service`; default none (a
    /// template that uses `$service` then fails).
    #[serde(default)]
    pub service: Option<String>,
    /// The baseline's label matchers, without braces; default
    /// `service="$service", track="baseline"`. May use `$service`, `$track`.
    #[serde(default = "default_baseline", deserialize_with = "track_matchers")]
    pub baseline: String,
    /// The canary's label matchers, without braces; default
    /// `service="$service", track="canary"`. May use `$service`, `$track`.
    #[serde(default = "default_canary", deserialize_with = "track_matchers")]
    pub canary: String,
    /// The range of `rate()` (`$window`), and of series (`series`, custom
    /// `range = true`); default 5m.
    #[serde(default = "default_window", deserialize_with = "positive")]
    pub window: Duration,
    /// A value whose newest sample is older than this is stale; default 2m;
    /// `"0s"` turns the check (and its extra queries) off.
    #[serde(default = "default_stale_after")]
    pub stale_after: Duration,
    /// Which standard metrics to collect, in this order; default all of
    /// [`STANDARD_METRICS`]. The [`VERIFY_METRICS`] are collected only when
    /// listed here.
    #[serde(default = "default_metrics", deserialize_with = "metric_names")]
    pub metrics: Vec<String>,
    /// Which of `metrics` to read as series of samples over the window (a
    /// range query, like a custom metric's `range = true`) rather than one
    /// value; default none. Each must be in `metrics`.
    #[serde(default, deserialize_with = "series_names")]
    pub series: Vec<String>,
    /// `[sources.prometheus.queries]`: a standard metric's template by
    /// name, instead of the default; default none.
    #[serde(default, deserialize_with = "query_overrides")]
    pub queries: BTreeMap<String, String>,
    /// `[[sources.prometheus.custom]]`: more metrics, after the standard
    /// ones; default none.
    #[serde(default, deserialize_with = "custom_metrics")]
    pub custom: Vec<CustomMetric>,
    /// The step between a series's samples; default 15s.
    #[serde(default = "default_range_step", deserialize_with = "positive")]
    pub range_step: Duration,
    /// Whether to read firing alerts; default true.
    #[serde(default = "default_true")]
    pub alerts: bool,
    /// The label matchers of the alerts to read, without braces; default
    /// `service="$service"`; empty means every firing alert.
    #[serde(
        default = "default_alert_matchers",
        deserialize_with = "alert_matchers"
    )]
    pub alert_matchers: String,
}

/// `[[sources.prometheus.custom]]`: one more metric.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomMetric {
    /// Its name, unique, not a standard metric's.
    pub name: String,
    /// Its PromQL template.
    pub query: String,
    /// Its unit; default none.
    #[serde(default)]
    pub unit: Option<String>,
    /// Read as a series of samples over the window (a range query);
    /// default false.
    #[serde(default)]
    pub range: bool,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            url: String::new(),
            timeout: None,
            query_timeout: default_query_timeout(),
            token_env: None,
            service: None,
            baseline: default_baseline(),
            canary: default_canary(),
            window: default_window(),
            stale_after: default_stale_after(),
            metrics: default_metrics(),
            series: Vec::new(),
            queries: BTreeMap::new(),
            custom: Vec::new(),
            range_step: default_range_step(),
            alerts: true,
            alert_matchers: default_alert_matchers(),
        }
    }
}

fn default_query_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_baseline() -> String {
    r#"service="$service", track="baseline""#.into()
}

fn default_canary() -> String {
    r#"service="$service", track="canary""#.into()
}

fn default_window() -> Duration {
    Duration::from_secs(300)
}

fn default_stale_after() -> Duration {
    Duration::from_secs(120)
}

fn default_metrics() -> Vec<String> {
    STANDARD_METRICS.iter().map(|m| m.name.to_owned()).collect()
}

fn default_range_step() -> Duration {
    Duration::from_secs(15)
}

fn default_true() -> bool {
    true
}

fn default_alert_matchers() -> String {
    r#"service="$service""#.into()
}

/// `url`: an http:// or https:// URL (checked at load, so that a typo is a
/// configuration error rather than a gap at every collection).
fn server_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let url = String::deserialize(deserializer)?;
    base_url(&url).map_err(|e| serde::de::Error::custom(crate::redact::scrub(&e)))?;
    Ok(url)
}

/// A duration above zero.
fn positive<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let duration = Duration::deserialize(deserializer)?;
    if duration.0.is_zero() {
        return Err(serde::de::Error::custom("must be longer than 0s"));
    }
    Ok(duration)
}

/// Label matchers of a track.
fn track_matchers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let matchers = String::deserialize(deserializer)?;
    if matchers.trim().is_empty() {
        return Err(serde::de::Error::custom(
            "the track's label matchers are empty; write e.g. 'service=\"checkout\", track=\"canary\"'",
        ));
    }
    template::check(&matchers, TRACK_PLACEHOLDERS).map_err(serde::de::Error::custom)?;
    Ok(matchers)
}

/// `alert_matchers`.
fn alert_matchers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let matchers = String::deserialize(deserializer)?;
    template::check(&matchers, ALERT_PLACEHOLDERS).map_err(serde::de::Error::custom)?;
    Ok(matchers)
}

/// The names of the standard metrics (the verify ones included), listed.
fn standard_names() -> String {
    STANDARD_METRICS
        .iter()
        .chain(VERIFY_METRICS.iter())
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `name` is a metric of the standard set or of the verify set.
pub fn is_standard(name: &str) -> bool {
    standard_metric(name).is_some()
}

/// `metrics`: standard names, each once.
fn metric_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    standard_list(
        deserializer,
        "add others under [[sources.prometheus.custom]]",
    )
}

/// `series`: standard names, each once (that they are in `metrics` is
/// checked with the whole table).
fn series_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    standard_list(
        deserializer,
        "a custom metric is read as a series with `range = true`",
    )
}

/// A list of standard names, each once; `hint` ends the message for a name
/// that is not one.
fn standard_list<'de, D: Deserializer<'de>>(
    deserializer: D,
    hint: &str,
) -> Result<Vec<String>, D::Error> {
    let names = Vec::<String>::deserialize(deserializer)?;
    for (i, name) in names.iter().enumerate() {
        if !is_standard(name) {
            return Err(serde::de::Error::custom(format!(
                "`{name}` is not a standard metric; they are {} ({hint})",
                standard_names()
            )));
        }
        if names[..i].contains(name) {
            return Err(serde::de::Error::custom(format!(
                "`{name}` is listed twice"
            )));
        }
    }
    Ok(names)
}

impl<'de> Deserialize<'de> for PrometheusConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The derived, field-by-field reading (`remote = "Self"`).
        let config = PrometheusConfig::deserialize(deserializer)?;
        if let Some(name) = config.series.iter().find(|n| !config.metrics.contains(n)) {
            return Err(serde::de::Error::custom(format!(
                "`series` names `{name}`, which `metrics` leaves out; add it to `metrics` or take it out of `series`"
            )));
        }
        Ok(config)
    }
}

/// `queries`: templates of standard metrics.
fn query_overrides<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let queries = BTreeMap::<String, String>::deserialize(deserializer)?;
    for (name, query) in &queries {
        if !is_standard(name) {
            return Err(serde::de::Error::custom(format!(
                "`{name}` is not a standard metric; they are {} (add others under [[sources.prometheus.custom]])",
                standard_names()
            )));
        }
        template::check(query, QUERY_PLACEHOLDERS)
            .map_err(|e| serde::de::Error::custom(format!("{name}: {e}")))?;
    }
    Ok(queries)
}

/// `custom`: unique names that are not standard, valid templates.
fn custom_metrics<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<CustomMetric>, D::Error> {
    let custom = Vec::<CustomMetric>::deserialize(deserializer)?;
    for (i, metric) in custom.iter().enumerate() {
        if metric.name.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "a custom metric has an empty name",
            ));
        }
        if is_standard(&metric.name) {
            return Err(serde::de::Error::custom(format!(
                "`{}` is a standard metric; change its query under [sources.prometheus.queries]",
                metric.name
            )));
        }
        if custom[..i].iter().any(|m| m.name == metric.name) {
            return Err(serde::de::Error::custom(format!(
                "the custom metric `{}` is defined twice",
                metric.name
            )));
        }
        template::check(&metric.query, QUERY_PLACEHOLDERS)
            .map_err(|e| serde::de::Error::custom(format!("{}: {e}", metric.name)))?;
    }
    Ok(custom)
}

/// `url` checked and made a base that `api/v1/...` joins onto.
pub fn base_url(url: &str) -> Result<url::Url, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("`url` is empty".into());
    }
    let mut base =
        url::Url::parse(url).map_err(|e| format!("`url` is not a URL ({e}): `{url}`"))?;
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err(format!(
            "`url` must be an http:// or https:// URL, got `{url}`"
        ));
    }
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_set_is_the_models_in_its_order() {
        let names: Vec<&str> = STANDARD_METRICS.iter().map(|m| m.name).collect();
        assert_eq!(names, shipgate_model::STANDARD_METRICS);
    }

    fn parse(text: &str) -> Result<PrometheusConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn verify_metrics_are_listed_only_when_asked_for_and_overridable() {
        let config = parse("url = \"http://x\"\n").unwrap();
        assert_eq!(config.metrics, default_metrics());
        assert!(!config.metrics.iter().any(|m| m == "up"));
        let config = parse(
            "url = \"http://x\"\nmetrics = [\"http_5xx_rate\", \"restarts\", \"up\"]\n\
             [queries]\nup = 'min(up{$selector})'\n",
        )
        .unwrap();
        assert_eq!(config.metrics, ["http_5xx_rate", "restarts", "up"]);
        assert_eq!(config.queries["up"], "min(up{$selector})");
        assert_eq!(standard_metric("restarts").map(|m| m.unit), Some("count"));
        let err = parse("url = \"http://x\"\nmetrics = [\"uptime\"]\n").unwrap_err();
        assert!(
            err.contains("`uptime` is not a standard metric; they are error_rate, latency_p50, latency_p95, latency_p99, request_rate, cpu_usage, memory_usage, http_5xx_rate, restarts, up"),
            "{err}"
        );
        let err =
            parse("url = \"http://x\"\n[[custom]]\nname = \"up\"\nquery = \"up\"\n").unwrap_err();
        assert!(err.contains("`up` is a standard metric"), "{err}");
    }
}
