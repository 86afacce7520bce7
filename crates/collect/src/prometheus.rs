//! The `prometheus` source: baseline and canary metrics and firing alerts
//! over Prometheus's HTTP API.
//!
//! ```toml
//! [sources.prometheus]
//! url = "http://prometheus:9090"
//! service = "checkout"
//! baseline = 'service="$service", track="baseline"'   # the default
//! canary = 'service="$service", track="canary"'       # the default
//! window = "5m"
//! series = ["error_rate", "latency_p95"]   # read as samples over the window
//!
//! [sources.prometheus.queries]      # override a standard metric's query
//! error_rate = 'sum(rate(grpc_server_handled_total{$selector, grpc_code!="OK"}[$window])) / sum(rate(grpc_server_handled_total{$selector}[$window]))'
//!
//! [[sources.prometheus.custom]]     # more metrics
//! name = "queue_depth"
//! query = 'max(queue_depth{$selector})'
//! ```
//!
//! **Metrics.** Each metric is a PromQL template, asked once per track:
//! `$selector` becomes the track's label matchers (`baseline` or `canary`),
//! `$window` the range of `rate()` (`window`), `$service` the `service`
//! setting, `$track` `baseline` or `canary`; `${name}` is the same, `$$` a
//! literal `$`. The standard set follows Prometheus's and Kubernetes's
//! conventions (see [`STANDARD_METRICS`]); its names are those the built-in
//! `canary` policy reads. The resource queries read cAdvisor's series and
//! assume they carry the same track labels as the application's (relabelled
//! from the pod's labels, say); override them under `queries` otherwise.
//!
//! Each query is an instant query at the snapshot's own time
//! ([`Context::now`]), so that a collection can be repeated: one series with
//! a finite value is `Value`; no series, NaN or ±Inf (a rate of 0/0, a
//! histogram without observations, a container without a limit) is
//! `NoData`; more than one series is an `Error` (aggregate the query); an
//! HTTP error, an API error, a timeout or an answer that is not the API's
//! JSON is an `Error` and a line in the source's gap.
//!
//! **Series.** A custom metric with `range = true`, and a standard metric
//! named in `series` (which must also be in `metrics`), is a range query
//! over `[now - window, now]` every `range_step` (both ends included, so a
//! 5m window at 15s is 21 points), read as `Samples`: one series gives its
//! finite points, oldest first (NaN and ±Inf dropped); no series, or no
//! finite point, is `NoData`; more than one series, or any failure, is an
//! `Error`. The query is the same template as the instant one (`[queries]`
//! overrides included), asked at each step: a `rate(…[$window])` sample
//! then covers the window before its own step. This is what lets a policy
//! compare the tracks' distributions (the canary policy's Mann–Whitney U
//! test) rather than one number each.
//!
//! **Staleness.** Prometheus answers an instant query at the evaluation
//! time, not the sample's, so each instant metric is asked twice at once:
//! `<query>` and `timestamp(<query>)`. A value whose newest sample is older
//! than `stale_after` is `Stale`. The limit, honestly: `timestamp()` reports
//! the sample's own time only for a bare selector (`queue_depth{$selector}`);
//! for anything computed (`sum(…)`, `rate(…)`, arithmetic) it reports the
//! evaluation time, so such a metric never looks stale. For scraped series
//! that is mostly harmless: a target that stops being scraped gets
//! staleness markers and its series vanish, which reads as `NoData`. The
//! case `Stale` catches is a series with its own old timestamps (pushed,
//! federated, exported late) read through a bare selector. A failed
//! `timestamp()` query makes the measurement an `Error` (freshness unknown
//! is not fresh); `stale_after = "0s"` turns the check, and its second
//! request per metric, off. `Stale` does not apply to series (custom
//! `range = true` or `series`), and they get no `timestamp()` query: each
//! sample is evaluated at its own step, so data that stopped arriving shows
//! as fewer points, or none (`NoData`), not as an old value. (The same
//! limit as above holds: a bare selector repeats its last sample at each
//! step for Prometheus's lookback, 5m by default.)
//!
//! **Alerts.** The firing alerts are read from Prometheus's own `ALERTS`
//! series at the snapshot's time, `ALERTS{alertstate="firing",
//! <alert_matchers>}`, and their active-since time from `ALERTS_FOR_STATE`
//! (the time the alert became active; for a rule with `for:` that is when it
//! started pending). `ALERTS` rather than `/api/v1/alerts`, because it is
//! evaluated at a given time, filtered by PromQL matchers, and answered by
//! anything that speaks the query API (Thanos, Mimir). `alert_matchers` must
//! not name `alertstate`. A failed `ALERTS` query is a line in the gap (no
//! alerts must not read as "none firing"); a failed `ALERTS_FOR_STATE` only
//! leaves `since` empty.
//!
//! **Limits.** At most [`IN_FLIGHT`] requests run at once. Each may take
//! `query_timeout`; all must end a margin before the source's `timeout` (a
//! tenth of it, at least 250ms; whatever is left then is an `Error` too),
//! so that a slow server costs per-metric errors, not the whole source.
//! Failures with the same reason share one line of the gap (`all 15 queries
//! failed: cannot reach http://…/: connection refused`). The bearer token
//! (`token_env`) is sent on every request, and never logged or put in an
//! error: it is registered with [`shipgate_core::redact`] when it is read (as are
//! credentials written into `url`), and a server's error text is scrubbed
//! before it is cut short or quoted. `service` has no default: the deployment's service is not known
//! to the sources, so set it when a template or matcher uses `$service`
//! (the defaults do).
//!
//! **Layout.** [`collect`] here runs a collection; `planning` says which
//! queries to ask, `queries` asks them and reads the answers, `alerts` reads
//! the firing alerts, `api` speaks Prometheus's HTTP API, and `problems`
//! turns failures into the gap's lines.

mod alerts;
mod api;
mod planning;
mod problems;
mod queries;
#[cfg(test)]
mod series_tests;

pub use self::queries::read_answer;
pub use shipgate_core::config::sources::prometheus::{
    CustomMetric, PrometheusConfig, STANDARD_METRICS, StandardMetric,
};
use std::collections::HashMap;
use std::sync::Arc;

use shipgate_model::{Alert, Measurement, Metric};
use tokio::task::JoinSet;

use self::alerts::firing_alerts;
use self::api::{Api, Limits};
use self::planning::{Asking, expand_queries, plan, service};
use self::problems::Failure;
use self::queries::measure;
use shipgate_core::config::Duration;
use shipgate_core::config::sources::prometheus::{ALERT_PLACEHOLDERS, TRACKS, base_url, template};

use super::support::{Context, SourceError};

/// Requests in flight at most.
pub const IN_FLIGHT: usize = 8;

/// The source's timeout when `timeout` is not set (the collector's default
/// for network sources).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// How long before the source's timeout every request must have ended, so
/// that the source returns its per-metric errors before the collector gives
/// up on it: a tenth of the timeout, at least 250ms, at most half of it.
fn margin(timeout: std::time::Duration) -> std::time::Duration {
    (timeout / 10)
        .max(std::time::Duration::from_millis(250))
        .min(timeout / 2)
}

/// What one task found.
enum Found {
    Metric(usize, usize, Measurement),
    Alerts(Result<Vec<Alert>, String>),
}

/// Queries the server.
pub async fn collect(
    config: &PrometheusConfig,
    ctx: &Context,
    http: &reqwest::Client,
) -> Result<PrometheusFacts, SourceError> {
    let started = tokio::time::Instant::now();
    shipgate_core::redact::register_url(config.url.trim());
    let base = base_url(&config.url).map_err(SourceError::new)?;
    let token = match &config.token_env {
        Some(name) => Some(
            ctx.vars
                .get(name)
                .filter(|t| !t.is_empty())
                .inspect(|t| shipgate_core::redact::register(t))
                .ok_or_else(|| {
                    SourceError::new(format!("`token_env` names `{name}`, which is not set"))
                })?,
        ),
        None => None,
    };
    let source_timeout = config.timeout.unwrap_or(DEFAULT_TIMEOUT).0;
    let api = Api::new(
        http.clone(),
        base,
        token,
        Limits {
            query_timeout: config.query_timeout.0,
            source_timeout,
            deadline: started + source_timeout.saturating_sub(margin(source_timeout)),
            in_flight: IN_FLIGHT,
        },
    );
    let asking = Asking {
        now: ctx.now,
        window: config.window.0,
        step: config.range_step.0,
        stale_after: (!config.stale_after.0.is_zero()).then_some(config.stale_after.0),
    };
    let planned = plan(config);

    let mut measurements: Vec<[Option<Measurement>; 2]> = vec![[None, None]; planned.len()];
    let mut tasks: JoinSet<Found> = JoinSet::new();
    let mut spawned: HashMap<tokio::task::Id, (usize, usize)> = HashMap::new();
    // Metric by metric, both tracks together: if time runs out, what was
    // asked first is whole.
    for (m, queries) in expand_queries(config, &planned).into_iter().enumerate() {
        for (t, query) in queries.into_iter().enumerate() {
            match query {
                Err(reason) => measurements[m][t] = Some(Measurement::Error(reason)),
                Ok(query) => {
                    let api = Arc::clone(&api);
                    let range = planned[m].range;
                    let handle = tasks.spawn(async move {
                        Found::Metric(m, t, measure(&api, &query, range, asking).await)
                    });
                    spawned.insert(handle.id(), (m, t));
                }
            }
        }
    }
    let mut alerts: Option<Result<Vec<Alert>, String>> = None;
    if config.alerts {
        let matchers = template::expand(&config.alert_matchers, ALERT_PLACEHOLDERS, |_| {
            service(config)
        });
        match matchers {
            Err(reason) => alerts = Some(Err(reason)),
            Ok(matchers) => {
                let api = Arc::clone(&api);
                tasks.spawn(async move {
                    Found::Alerts(firing_alerts(&api, &matchers, asking.now).await)
                });
            }
        }
    }

    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, Found::Metric(m, t, measurement))) => measurements[m][t] = Some(measurement),
            Ok((_, Found::Alerts(found))) => alerts = Some(found),
            Err(err) => {
                let reason = format!("the query crashed: {err}");
                match spawned.get(&err.id()) {
                    Some(&(m, t)) => measurements[m][t] = Some(Measurement::Error(reason)),
                    None => alerts = Some(Err(reason)),
                }
            }
        }
    }

    let mut failures = Vec::new();
    let metrics = planned
        .iter()
        .zip(measurements)
        .map(|(metric, [baseline, canary])| {
            let mut track = |t: usize, measurement: Option<Measurement>| {
                let measurement = measurement
                    .unwrap_or_else(|| Measurement::Error("the query was not run".into()));
                if let Measurement::Error(reason) = &measurement {
                    failures.push(Failure {
                        subject: metric.name.clone(),
                        track: Some(TRACKS[t]),
                        reason: reason.clone(),
                    });
                }
                measurement
            };
            let mut read = Metric {
                name: metric.name.clone(),
                unit: metric.unit.clone(),
                baseline: Measurement::NoData,
                canary: Measurement::NoData,
            };
            // A value the metric cannot have (a negative error rate) is not
            // data: the track is an error, and a gap.
            let [baseline, canary] = [(0, baseline), (1, canary)].map(|(t, measurement)| {
                let measurement = measurement.map(|m| match read.measurement_problem(&m) {
                    Some(problem) => Measurement::Error(format!("invalid value: {problem}")),
                    None => m,
                });
                track(t, measurement)
            });
            read.baseline = baseline;
            read.canary = canary;
            read
        })
        .collect();
    let alerts = match alerts {
        None => Vec::new(),
        Some(Ok(alerts)) => alerts,
        Some(Err(reason)) => {
            failures.push(Failure {
                subject: "alerts".into(),
                track: None,
                reason,
            });
            Vec::new()
        }
    };
    let total = planned.len() * TRACKS.len() + usize::from(config.alerts);
    Ok(PrometheusFacts {
        metrics,
        alerts,
        problems: problems::summarise(&failures, total),
    })
}

#[cfg(test)]
mod tests {
    use shipgate_model::Timestamp;

    use super::*;

    #[test]
    fn the_url_and_token_are_checked_before_asking() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let ctx = Context {
            base_dir: ".".into(),
            now: Timestamp(0),
            vars: Arc::new(super::super::MapVars::default()),
            commit: None,
        };
        let run = |config: PrometheusConfig| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(collect(&config, &ctx, &http))
        };
        assert_eq!(
            run(PrometheusConfig::default()).unwrap_err().0,
            "`url` is empty"
        );
        assert_eq!(
            run(PrometheusConfig {
                url: "http://127.0.0.1:9".into(),
                token_env: Some("PROM_TOKEN".into()),
                ..PrometheusConfig::default()
            })
            .unwrap_err()
            .0,
            "`token_env` names `PROM_TOKEN`, which is not set"
        );
        // No service: every query fails the same way, before any request.
        let facts = run(PrometheusConfig {
            url: "http://127.0.0.1:9".into(),
            ..PrometheusConfig::default()
        })
        .unwrap();
        assert_eq!(
            facts.problems,
            [
                "all 15 queries failed: `$service` is used, but `service` is not set in [sources.prometheus]"
            ]
        );
        assert_eq!(facts.metrics.len(), 7);
    }
}
