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

mod api;
mod problems;
#[cfg(test)]
mod series_tests;

pub use shipgate_core::config::sources::prometheus::{
    CustomMetric, PrometheusConfig, STANDARD_METRICS, StandardMetric,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use shipgate_model::{Alert, Measurement, Metric, StaleValue, Timestamp};
use tokio::task::JoinSet;

use self::api::{Answer, Api, Limits};
use self::problems::Failure;
use shipgate_core::config::Duration;
use shipgate_core::config::sources::prometheus::{
    ALERT_PLACEHOLDERS, QUERY_PLACEHOLDERS, TRACK_PLACEHOLDERS, TRACKS, base_url, template,
};

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

/// One metric to ask for.
#[derive(Debug, Clone)]
struct Planned {
    name: String,
    unit: Option<String>,
    query: String,
    range: bool,
}

/// The metrics of `config`, in order: the standard ones (those in `series`
/// as range queries), then the custom. A name in `series` that `metrics`
/// leaves out (only a config built in code can have one) is not asked for.
fn plan(config: &PrometheusConfig) -> Vec<Planned> {
    let standard = config.metrics.iter().filter_map(|name| {
        let metric = STANDARD_METRICS.iter().find(|m| m.name == name)?;
        Some(Planned {
            name: metric.name.to_owned(),
            unit: Some(metric.unit.to_owned()),
            query: config
                .queries
                .get(metric.name)
                .cloned()
                .unwrap_or_else(|| metric.query.to_owned()),
            range: config.series.iter().any(|s| s == metric.name),
        })
    });
    let custom = config.custom.iter().map(|m| Planned {
        name: m.name.clone(),
        unit: m.unit.clone(),
        query: m.query.clone(),
        range: m.range,
    });
    standard.chain(custom).collect()
}

/// The value of `$service`.
fn service(config: &PrometheusConfig) -> Result<String, String> {
    config
        .service
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            "`$service` is used, but `service` is not set in [sources.prometheus]".into()
        })
}

/// The settings every query of one collection shares.
#[derive(Debug, Clone, Copy)]
struct Asking {
    now: Timestamp,
    window: std::time::Duration,
    step: std::time::Duration,
    stale_after: Option<std::time::Duration>,
}

/// Each planned metric's PromQL for each track (baseline, canary), or why
/// it cannot be written.
fn expand_queries(
    config: &PrometheusConfig,
    planned: &[Planned],
) -> Vec<[Result<String, String>; 2]> {
    let window = template::promql_duration(config.window.0);
    let selectors = TRACKS.map(|track| {
        let matchers = if track == "baseline" {
            &config.baseline
        } else {
            &config.canary
        };
        template::expand(matchers, TRACK_PLACEHOLDERS, |name| match name {
            "track" => Ok(track.to_owned()),
            _ => service(config),
        })
    });
    planned
        .iter()
        .map(|metric| {
            [0, 1].map(|t| {
                let selector = selectors[t].clone()?;
                template::expand(&metric.query, QUERY_PLACEHOLDERS, |name| match name {
                    "selector" => Ok(selector.clone()),
                    "window" => Ok(window.clone()),
                    "track" => Ok(TRACKS[t].to_owned()),
                    _ => service(config),
                })
            })
        })
        .collect()
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

/// One metric of one track.
async fn measure(api: &Api, query: &str, range: bool, asking: Asking) -> Measurement {
    if range {
        let start = Timestamp(asking.now.0.saturating_sub(millis(asking.window)));
        let answer = api.range(query, start, asking.now, asking.step).await;
        return answer.and_then(samples).unwrap_or_else(Measurement::Error);
    }
    let (value, stamp) = match asking.stale_after {
        None => (api.instant(query, asking.now).await, None),
        Some(_) => {
            // On lines of their own: a template may end in a `#` comment.
            let stamp_query = format!("timestamp(\n{query}\n)");
            let (value, stamp) = tokio::join!(
                api.instant(query, asking.now),
                api.instant(&stamp_query, asking.now)
            );
            (value, Some(stamp))
        }
    };
    let value = match value.and_then(instant_value) {
        Ok(Reading::Nothing) => return Measurement::NoData,
        Ok(Reading::Scalar(v)) => return Measurement::Value(v),
        Ok(Reading::Number(v)) => v,
        Err(reason) => return Measurement::Error(reason),
    };
    let (Some(bound), Some(stamp)) = (asking.stale_after, stamp) else {
        return Measurement::Value(value);
    };
    match stamp.and_then(newest_time) {
        Err(reason) => Measurement::Error(reason),
        Ok(Some(sampled)) => {
            let age = asking.now.0 as f64 / 1000.0 - sampled;
            if age > bound.as_secs_f64() {
                Measurement::Stale(StaleValue {
                    value,
                    age_seconds: age.round().clamp(0.0, f64::from(u32::MAX)) as u32,
                })
            } else {
                Measurement::Value(value)
            }
        }
        // The series went out of reach between the two queries.
        Ok(None) => Measurement::Value(value),
    }
}

/// Milliseconds of `d`, saturating.
fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An instant query's reading.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    /// One series, a finite value.
    Number(f64),
    /// A finite scalar (it has no sample time).
    Scalar(f64),
    /// Nothing usable: no series, or NaN / ±Inf.
    Nothing,
}

/// Reads an instant query's answer as one number.
fn instant_value(answer: Answer) -> Result<Reading, String> {
    match answer {
        Answer::Vector(samples) => match samples.as_slice() {
            [] => Ok(Reading::Nothing),
            [one] if one.value.is_finite() => Ok(Reading::Number(one.value)),
            [_] => Ok(Reading::Nothing),
            many => Err(series_error(many.len())),
        },
        Answer::Scalar(v) if v.is_finite() => Ok(Reading::Scalar(v)),
        Answer::Scalar(_) => Ok(Reading::Nothing),
        Answer::Matrix(_) => Err(
            "returned a range vector; a metric needs an instant vector (or set range = true)"
                .into(),
        ),
        Answer::String => Err("returned a string, not a number".into()),
    }
}

/// The error for a query that answered `n` series.
fn series_error(n: usize) -> String {
    // No `;` in a reason: the gap joins the problems with "; ".
    format!("returned {n} series (aggregate the query to one, e.g. with sum())")
}

/// The newest sample time (seconds) in the answer of `timestamp(...)`.
fn newest_time(answer: Answer) -> Result<Option<f64>, String> {
    match answer {
        Answer::Vector(samples) => Ok(samples
            .iter()
            .map(|s| s.value)
            .filter(|v| v.is_finite())
            .reduce(f64::max)),
        _ => Ok(None),
    }
}

/// Reads a range query's answer as samples.
fn samples(answer: Answer) -> Result<Measurement, String> {
    match answer {
        Answer::Matrix(series) => match series.as_slice() {
            [] => Ok(Measurement::NoData),
            [one] => {
                let values: Vec<f64> = one
                    .values
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                Ok(if values.is_empty() {
                    Measurement::NoData
                } else {
                    Measurement::Samples(values)
                })
            }
            many => Err(series_error(many.len())),
        },
        _ => Err("a range query did not answer a range vector".into()),
    }
}

/// The firing alerts that match `matchers`, with their active-since time.
async fn firing_alerts(api: &Api, matchers: &str, now: Timestamp) -> Result<Vec<Alert>, String> {
    let matchers = matchers.trim().trim_end_matches(',');
    let (firing, state) = if matchers.is_empty() {
        (
            r#"ALERTS{alertstate="firing"}"#.to_owned(),
            "ALERTS_FOR_STATE".to_owned(),
        )
    } else {
        (
            format!(r#"ALERTS{{alertstate="firing", {matchers}}}"#),
            format!("ALERTS_FOR_STATE{{{matchers}}}"),
        )
    };
    let (firing, state) = tokio::join!(api.instant(&firing, now), api.instant(&state, now));
    let Answer::Vector(firing) = firing? else {
        return Err("the ALERTS query did not answer an instant vector".into());
    };
    // Active-since times by the alert's labels (alertname included).
    let since: Vec<(BTreeMap<String, String>, f64)> = match state {
        Ok(Answer::Vector(samples)) => samples
            .into_iter()
            .map(|mut s| {
                s.labels.remove("__name__");
                (s.labels, s.value)
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut alerts: Vec<Alert> = firing
        .into_iter()
        .map(|sample| {
            let mut labels = sample.labels;
            labels.remove("__name__");
            labels.remove("alertstate");
            let since = since
                .iter()
                .find(|(l, _)| *l == labels)
                .map(|(_, at)| *at)
                .filter(|at| at.is_finite() && *at > 0.0)
                .map(|at| Timestamp((at * 1000.0).round() as i64));
            let name = labels.remove("alertname").unwrap_or_default();
            Alert {
                name,
                severity: labels.get("severity").cloned(),
                since,
                labels,
            }
        })
        .collect();
    alerts.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    Ok(alerts)
}

/// For the fuzz targets: a query answer with HTTP status `status` and
/// body `body`, parsed and read as an instant value, a freshness answer and
/// a range answer, as [`collect`] reads them; as debug text.
#[doc(hidden)]
#[doc(hidden)]
pub fn read_answer(status: u16, body: &[u8]) -> Result<String, String> {
    let status = reqwest::StatusCode::from_u16(status).map_err(|e| e.to_string())?;
    let answer = api::parse(status, body)?;
    Ok(format!(
        "{:?} {:?} {:?}",
        instant_value(answer.clone()),
        newest_time(answer.clone()),
        samples(answer)
    ))
}

#[cfg(test)]
mod tests {
    use shipgate_core::config::sources::prometheus::is_standard;

    use super::api::{Sample, Series};
    use super::*;

    fn config(toml_text: &str) -> Result<PrometheusConfig, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = config(r#"url = "http://prom:9090""#).unwrap();
        assert_eq!(
            c,
            PrometheusConfig {
                url: "http://prom:9090".into(),
                ..PrometheusConfig::default()
            }
        );
        assert_eq!(c.window, Duration::from_secs(300));
        assert_eq!(c.stale_after, Duration::from_secs(120));
        assert_eq!(c.query_timeout, Duration::from_secs(5));
        assert_eq!(c.range_step, Duration::from_secs(15));
        assert_eq!(c.metrics.len(), 7);
        assert!(c.series.is_empty());
        assert!(c.alerts);
        assert_eq!(c.alert_matchers, r#"service="$service""#);
        assert_eq!(c.canary, r#"service="$service", track="canary""#);
        let names: Vec<_> = plan(&c).into_iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "error_rate",
                "latency_p50",
                "latency_p95",
                "latency_p99",
                "request_rate",
                "cpu_usage",
                "memory_usage"
            ]
        );
    }

    #[test]
    fn the_standard_set_has_what_the_canary_policy_reads() {
        let policy = shipgate_policy_canary::Config::default();
        let mut names = vec![
            policy.error_rate_metric,
            policy.cpu_metric,
            policy.memory_metric,
        ];
        names.extend(policy.latency_metrics);
        for name in names {
            assert!(is_standard(&name), "the canary policy reads `{name}`");
        }
    }

    #[test]
    fn config_mistakes_are_caught_when_read() {
        let err = |text: &str| config(&format!("url = \"http://p\"\n{text}")).unwrap_err();
        assert!(
            err("metrics = [\"error_rates\"]").contains("`error_rates` is not a standard metric")
        );
        assert!(err("metrics = [\"error_rate\", \"error_rate\"]").contains("listed twice"));
        assert!(
            err("[queries]\nerror_rate = \"x[$windw]\"")
                .contains("error_rate: unknown placeholder `$windw`")
        );
        assert!(err("[queries]\np95 = \"x\"").contains("`p95` is not a standard metric"));
        assert!(
            err("[[custom]]\nname = \"q\"\nquery = \"x{$selectr}\"")
                .contains("q: unknown placeholder `$selectr`")
        );
        assert!(
            err("[[custom]]\nname = \"error_rate\"\nquery = \"x\"")
                .contains("is a standard metric")
        );
        assert!(
            err("[[custom]]\nname = \"a\"\nquery = \"x\"\n[[custom]]\nname = \"a\"\nquery = \"y\"")
                .contains("defined twice")
        );
        assert!(err("canary = 'track=\"$selector\"'").contains("unknown placeholder `$selector`"));
        assert!(err("canary = ' '").contains("empty"));
        assert!(err("alert_matchers = 'x=\"$track\"'").contains("unknown placeholder `$track`"));
        assert!(err("window = \"0s\"").contains("longer than 0s"));
        assert!(err("window = \"five minutes\"").contains("invalid duration"));
        assert!(err("bogus = 1").contains("unknown field"));
        assert!(err("series = [\"error_rates\"]").contains(
            "`error_rates` is not a standard metric; they are error_rate, latency_p50, \
                 latency_p95, latency_p99, request_rate, cpu_usage, memory_usage (a custom \
                 metric is read as a series with `range = true`)"
        ));
        assert!(err("series = [\"error_rate\", \"error_rate\"]").contains("listed twice"));
        assert!(
            err("metrics = [\"error_rate\"]\nseries = [\"error_rate\", \"latency_p95\"]").contains(
                "`series` names `latency_p95`, which `metrics` leaves out; add it to \
                     `metrics` or take it out of `series`"
            )
        );
        assert!(
            config("service = \"x\"")
                .unwrap_err()
                .contains("missing field `url`")
        );
    }

    #[test]
    fn the_standard_queries_for_each_track() {
        let c = config(
            "url = \"http://p\"\nservice = \"checkout\"\nwindow = \"4s\"\n\
             [[custom]]\nname = \"c\"\nquery = 'x{service=\"${service}\", t=\"$track\"}'",
        )
        .unwrap();
        let planned = plan(&c);
        let queries = expand_queries(&c, &planned);
        let [baseline, canary] = &queries[0];
        assert_eq!(
            baseline.as_deref(),
            Ok(
                r#"sum(rate(http_requests_total{service="checkout", track="baseline", code=~"5.."}[4s])) / sum(rate(http_requests_total{service="checkout", track="baseline"}[4s]))"#
            )
        );
        assert_eq!(
            canary.as_deref(),
            Ok(
                r#"sum(rate(http_requests_total{service="checkout", track="canary", code=~"5.."}[4s])) / sum(rate(http_requests_total{service="checkout", track="canary"}[4s]))"#
            )
        );
        assert_eq!(
            queries[2][1].as_deref(),
            Ok(
                r#"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout", track="canary"}[4s])))"#
            )
        );
        assert_eq!(
            queries[7][1].as_deref(),
            Ok(r#"x{service="checkout", t="canary"}"#)
        );
        // An override replaces the standard template.
        let c = config(
            "url = \"http://p\"\nservice = \"s\"\nmetrics = [\"request_rate\"]\n\
             canary = 'app=\"$service\", version=\"v2\"'\n\
             [queries]\nrequest_rate = 'sum(rate(grpc_total{$selector}[$window]))'",
        )
        .unwrap();
        let queries = expand_queries(&c, &plan(&c));
        assert_eq!(
            queries[0][1].as_deref(),
            Ok(r#"sum(rate(grpc_total{app="s", version="v2"}[5m]))"#)
        );
    }

    fn vector(values: &[f64]) -> Answer {
        Answer::Vector(
            values
                .iter()
                .map(|&value| Sample {
                    labels: BTreeMap::new(),
                    value,
                })
                .collect(),
        )
    }

    #[test]
    fn instant_answers() {
        assert_eq!(instant_value(vector(&[0.25])), Ok(Reading::Number(0.25)));
        assert_eq!(instant_value(vector(&[])), Ok(Reading::Nothing));
        assert_eq!(instant_value(vector(&[f64::NAN])), Ok(Reading::Nothing));
        assert_eq!(
            instant_value(vector(&[f64::INFINITY])),
            Ok(Reading::Nothing)
        );
        assert_eq!(
            instant_value(vector(&[1.0, 2.0, 3.0])),
            Err("returned 3 series (aggregate the query to one, e.g. with sum())".into())
        );
        assert_eq!(instant_value(Answer::Scalar(2.0)), Ok(Reading::Scalar(2.0)));
        assert!(instant_value(Answer::Matrix(vec![])).is_err());
        assert!(instant_value(Answer::String).is_err());
        assert_eq!(newest_time(vector(&[5.0, 7.0, f64::NAN])), Ok(Some(7.0)));
        assert_eq!(newest_time(vector(&[])), Ok(None));
    }

    #[test]
    fn range_answers() {
        let series = |values: &[f64]| Series {
            values: values.to_vec(),
        };
        assert_eq!(
            samples(Answer::Matrix(vec![series(&[1.0, f64::NAN, 2.0])])),
            Ok(Measurement::Samples(vec![1.0, 2.0]))
        );
        assert_eq!(
            samples(Answer::Matrix(vec![series(&[f64::NAN])])),
            Ok(Measurement::NoData)
        );
        assert_eq!(samples(Answer::Matrix(vec![])), Ok(Measurement::NoData));
        assert!(samples(Answer::Matrix(vec![series(&[1.0]), series(&[2.0])])).is_err());
        assert!(samples(vector(&[1.0])).is_err());
    }

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
