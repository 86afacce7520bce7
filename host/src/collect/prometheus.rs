//! The `prometheus` source: baseline and canary metrics and firing alerts
//! over Prometheus's HTTP API.
//!
//! (stub: being written)

use serde::Deserialize;
use shipgate_model::{Alert, Metric};

use super::support::{Context, SourceError};

/// `[sources.prometheus]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    /// How long the source may take.
    pub timeout: Option<super::support::Duration>,
}

/// What the `prometheus` source found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrometheusFacts {
    /// One entry per configured metric, in configuration order; a query that
    /// failed is a `Measurement::Error`, not a missing entry.
    pub metrics: Vec<Metric>,
    /// Firing alerts, sorted by name then labels.
    pub alerts: Vec<Alert>,
    /// Queries that failed, one line each; non-empty means a gap.
    pub problems: Vec<String>,
}

/// Queries the server.
pub async fn collect(
    config: &PrometheusConfig,
    ctx: &Context,
    http: &reqwest::Client,
) -> Result<PrometheusFacts, SourceError> {
    let _ = (config, ctx, http);
    Err(SourceError::new("the prometheus source is not written yet"))
}
