//! The race's inputs: 20 metrics (baseline and canary), the environment
//! variable names the code requires and the names the target has. One
//! [`Input`] per case, each with the verdict the rule must give; every
//! engine gets the same data in its own native form.

use shipgate_engine::model::{Snapshot, Verdict};

/// One input to the rule.
#[derive(Debug, Clone)]
pub struct Input {
    /// What the case shows.
    pub name: &'static str,
    /// `(name, baseline, canary)`, 20 of them.
    pub metrics: Vec<(String, f64, f64)>,
    /// Environment variables the code requires.
    pub required: Vec<String>,
    /// Environment variable names present in the target.
    pub present: Vec<String>,
    /// The verdict the rule gives.
    pub expected: Verdict,
}

/// A healthy canary: the metrics, with `error_rate` and `latency_p95`
/// within their limits. Rates are fractions, latencies seconds, the rest
/// their own units.
const HEALTHY: [(&str, f64, f64); 20] = [
    ("error_rate", 0.003, 0.0041),
    ("latency_p50", 0.081, 0.084),
    ("latency_p95", 0.25, 0.31),
    ("latency_p99", 0.61, 0.74),
    ("cpu", 0.42, 0.47),
    ("memory", 0.55, 0.58),
    ("request_rate", 1180.0, 131.0),
    ("saturation", 0.31, 0.33),
    ("gc_pause_p99", 0.012, 0.013),
    ("queue_depth", 14.0, 15.0),
    ("db_latency_p95", 0.019, 0.021),
    ("cache_hit_ratio", 0.93, 0.92),
    ("http_5xx_rate", 0.0011, 0.0012),
    ("http_4xx_rate", 0.021, 0.022),
    ("timeout_rate", 0.0004, 0.0005),
    ("retry_rate", 0.006, 0.007),
    ("open_connections", 310.0, 42.0),
    ("thread_count", 188.0, 190.0),
    ("disk_io_wait", 0.02, 0.02),
    ("network_out_mbps", 41.0, 4.6),
];

/// The variables the code requires.
const REQUIRED: [&str; 8] = [
    "DATABASE_URL",
    "REDIS_URL",
    "PAYMENT_API_KEY",
    "SESSION_SECRET",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "FEATURE_FLAGS_URL",
    "SMTP_HOST",
    "LOG_LEVEL",
];

/// The names in the target besides the required ones.
const EXTRA_PRESENT: [&str; 4] = ["PATH", "HOME", "TZ", "SENTRY_DSN"];

impl Input {
    /// The healthy canary, named `name`, expecting `expected`.
    fn healthy(name: &'static str, expected: Verdict) -> Input {
        Input {
            name,
            metrics: HEALTHY
                .iter()
                .map(|(n, b, c)| ((*n).to_owned(), *b, *c))
                .collect(),
            required: REQUIRED.iter().map(|s| (*s).to_owned()).collect(),
            present: REQUIRED
                .iter()
                .chain(EXTRA_PRESENT.iter())
                .map(|s| (*s).to_owned())
                .collect(),
            expected,
        }
    }

    /// Sets metric `name`'s baseline and canary.
    fn metric(mut self, name: &str, baseline: f64, canary: f64) -> Input {
        if let Some(m) = self.metrics.iter_mut().find(|m| m.0 == name) {
            m.1 = baseline;
            m.2 = canary;
        }
        self
    }

    /// Removes `name` from the target's environment.
    fn without_env(mut self, name: &str) -> Input {
        self.present.retain(|p| p != name);
        self
    }

    /// The snapshot Shipgate's policies read: the metrics as values, each
    /// required name declared `required`, and a rollout in progress.
    pub fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let metrics: Vec<_> = self
            .metrics
            .iter()
            .map(|(name, b, c)| {
                serde_json::json!({"name": name, "baseline": {"value": b}, "canary": {"value": c}})
            })
            .collect();
        let declared: Vec<_> = self
            .required
            .iter()
            .map(|name| serde_json::json!({"name": name, "required": true, "documented": true}))
            .collect();
        let json = serde_json::json!({
            "deployment": {"service": "checkout", "environment": "production", "version": "2.14.1",
                           "commit": "9c1e4f2a7b", "requested_at": "2026-11-20T10:00:00Z"},
            "environment": {"declared": declared, "present": self.present},
            "rollout": {"strategy": "canary", "phase": 1, "traffic_percent": 10,
                        "seconds_in_phase": 600},
            "metrics": metrics,
        });
        Ok(serde_json::from_value(json)?)
    }

    /// The JSON document the CEL and Rego engines read:
    /// `{"metrics": {NAME: {"baseline": B, "canary": C}}, "required": [..],
    /// "present": [..]}`, numbers as floats.
    pub fn document(&self) -> serde_json::Value {
        self.document_with(|x| serde_json::json!(x))
    }

    /// The same document with every metric value as `number(value)`.
    pub fn document_with(&self, number: impl Fn(f64) -> serde_json::Value) -> serde_json::Value {
        let metrics: serde_json::Map<String, serde_json::Value> = self
            .metrics
            .iter()
            .map(|(name, b, c)| {
                (
                    name.clone(),
                    serde_json::json!({"baseline": number(*b), "canary": number(*c)}),
                )
            })
            .collect();
        serde_json::json!({
            "metrics": metrics,
            "required": self.required,
            "present": self.present,
        })
    }
}

/// The input every engine is timed on: the healthy canary, on which each
/// engine evaluates every condition (nothing short-circuits on a breach).
pub fn timed() -> Input {
    Input::healthy("healthy", Verdict::Go)
}

/// The cases every engine must agree on before anything is timed, with the
/// verdict the rule gives on each.
pub fn cases() -> Vec<Input> {
    use Verdict::*;
    vec![
        timed(),
        // Exactly at every limit passes: 2.00% and 2x the baseline's error
        // rate, 2x the baseline's p95.
        Input::healthy("at-the-limits", Go)
            .metric("error_rate", 0.01, 0.02)
            .metric("latency_p95", 0.25, 0.5),
        Input::healthy("p95-above-2x", Hold).metric("latency_p95", 0.25, 0.75),
        Input::healthy("required-env-missing", NoGo).without_env("SESSION_SECRET"),
        Input::healthy("error-rate-above-2pct", Rollback).metric("error_rate", 0.015, 0.0241),
        Input::healthy("error-rate-above-2x-baseline", Rollback).metric(
            "error_rate",
            0.004,
            0.0121,
        ),
        Input::healthy("p95-and-env: the stricter wins", NoGo)
            .metric("latency_p95", 0.25, 0.9)
            .without_env("LOG_LEVEL"),
        Input::healthy("everything breached", Rollback)
            .metric("error_rate", 0.003, 0.05)
            .metric("latency_p95", 0.25, 0.9)
            .without_env("DATABASE_URL"),
    ]
}
