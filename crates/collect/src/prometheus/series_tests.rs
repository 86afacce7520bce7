//! `series`: standard metrics read as samples, against a real Prometheus
//! (Debian's, scraping the test exporter of `shipgate-tests`) and against a
//! stub that records every request. Each test runs the whole collector on a
//! configuration read by [`Config::parse`], so the config layer's checks
//! and the snapshot's gaps are the ones `shipgate check` would see.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use shipgate_model::{Measurement, Snapshot, Timestamp};
use shipgate_tests::prometheus::{
    Behaviour, Exporter, HttpStub, Latency, PrometheusServer, Reply, Request,
};

use crate::{Context, MapVars};
use shipgate_core::config::Config;

/// Reads `[sources.prometheus]` = `body` through the config layer.
fn parse(body: &str) -> Result<Config, String> {
    Config::parse(
        &format!("[sources.prometheus]\n{body}"),
        std::path::Path::new("shipgate.toml"),
    )
    .map_err(|e| e.to_string())
}

/// Collects with the configuration `body` at `now` (ms).
fn collect_at(body: &str, now: i64) -> Snapshot {
    let config = parse(body).unwrap_or_else(|e| panic!("bad test config: {e}\n{body}"));
    let ctx = Context {
        base_dir: ".".into(),
        now: Timestamp(now),
        vars: Arc::new(MapVars::default()),
        commit: None,
    };
    crate::collect(&config.sources, &config.deployment, ctx)
        .unwrap()
        .snapshot
}

/// The measurements of metric `name`, baseline then canary.
fn tracks<'a>(snapshot: &'a Snapshot, name: &str) -> [&'a Measurement; 2] {
    let metric = snapshot
        .metric(name)
        .unwrap_or_else(|| panic!("no metric {name} in {:#?}", snapshot.metrics));
    [&metric.baseline, &metric.canary]
}

/// The relative difference of `got` from `expected`.
fn off(got: f64, expected: f64) -> f64 {
    (got - expected).abs() / expected.abs().max(1e-12)
}

/// Every sample is `expected`, and there are `count` of them.
fn assert_samples(m: &Measurement, count: usize, expected: f64, what: &str) {
    let Measurement::Samples(samples) = m else {
        panic!("{what}: expected samples near {expected}, got {m:?}");
    };
    assert_eq!(samples.len(), count, "{what}: {samples:?}");
    for &sample in samples {
        assert!(
            off(sample, expected) <= RANGE_EXACT,
            "{what}: sample {sample} is not {expected} ({samples:?})"
        );
    }
}

/// `m` is one value, `expected`.
fn assert_value(m: &Measurement, expected: f64, what: &str) {
    match m {
        Measurement::Value(v) => {
            assert!(off(*v, expected) <= 1e-9, "{what}: {v} is not {expected}")
        }
        other => panic!("{what}: expected a value near {expected}, got {other:?}"),
    }
}

/// The tolerance of a range query's samples on the exporter's data, as the
/// e2e suite's custom range metric uses: the counters are exact integrals
/// on a whole-second grid, so each step's `rate()` is the behaviour's,
/// up to floating point.
const RANGE_EXACT: f64 = 1e-6;

#[test]
fn standard_metrics_named_in_series_are_samples_from_a_real_prometheus() {
    let baseline = Behaviour {
        request_rate: 40.0,
        error_ratio: 0.005,
        latency: Latency::new(&[(0.05, 0.60), (0.1, 0.30), (0.25, 0.08), (0.5, 0.02)]),
        cpu: 0.35,
        memory: 0.41,
    };
    let canary = Behaviour {
        request_rate: 10.0,
        error_ratio: 0.04,
        latency: Latency::new(&[(0.1, 0.40), (0.25, 0.35), (0.5, 0.15), (1.0, 0.10)]),
        cpu: 0.62,
        memory: 0.73,
    };
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", baseline.clone()), ("canary", canary.clone())],
    );
    let prometheus = PrometheusServer::start(&exporter, None);
    // 3s windows at points back to now - 3s: 6s of the behaviour, as the
    // e2e suite's range metric.
    let now = prometheus.settled(&exporter, Duration::from_secs(6));
    let body = format!(
        "url = \"{}\"\nservice = \"checkout\"\nwindow = \"3s\"\nrange_step = \"1s\"\n\
         series = [\"error_rate\", \"latency_p95\"]\n",
        prometheus.url()
    );
    let snapshot = collect_at(&body, now);
    assert_eq!(snapshot.gap("prometheus"), None, "{:#?}", snapshot.gaps);
    let names: Vec<&str> = snapshot.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        shipgate_model::STANDARD_METRICS,
        "`series` changes how a metric is read, not which or in what order"
    );
    for (t, (track, behaviour)) in [("baseline", &baseline), ("canary", &canary)]
        .into_iter()
        .enumerate()
    {
        let what = |name: &str| format!("{name} ({track})");
        // [now - 3s, now] every second: 4 samples.
        assert_samples(
            tracks(&snapshot, "error_rate")[t],
            4,
            behaviour.error_ratio,
            &what("error_rate"),
        );
        assert_samples(
            tracks(&snapshot, "latency_p95")[t],
            4,
            behaviour.latency.quantile(0.95),
            &what("latency_p95"),
        );
        // The others stay single values.
        assert_value(
            tracks(&snapshot, "latency_p50")[t],
            behaviour.latency.quantile(0.5),
            &what("latency_p50"),
        );
        assert_value(
            tracks(&snapshot, "latency_p99")[t],
            behaviour.latency.quantile(0.99),
            &what("latency_p99"),
        );
        assert_value(
            tracks(&snapshot, "request_rate")[t],
            behaviour.request_rate,
            &what("request_rate"),
        );
        assert_value(
            tracks(&snapshot, "cpu_usage")[t],
            behaviour.cpu,
            &what("cpu_usage"),
        );
        assert_value(
            tracks(&snapshot, "memory_usage")[t],
            behaviour.memory,
            &what("memory_usage"),
        );
    }

    // The same server: a series reads a `[queries]` override, not the
    // standard template (here, the 5xx responses per second), and only the
    // metrics in `metrics` are collected.
    let body = format!(
        "url = \"{}\"\nservice = \"checkout\"\nwindow = \"3s\"\nrange_step = \"1s\"\n\
         alerts = false\nmetrics = [\"request_rate\", \"error_rate\"]\nseries = [\"request_rate\"]\n\
         [sources.prometheus.queries]\n\
         request_rate = 'sum(rate(http_requests_total{{$selector, code=~\"5..\"}}[$window]))'\n",
        prometheus.url()
    );
    let snapshot = collect_at(&body, now);
    assert_eq!(snapshot.gap("prometheus"), None, "{:#?}", snapshot.gaps);
    let names: Vec<&str> = snapshot.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["request_rate", "error_rate"]);
    for (t, (track, behaviour)) in [("baseline", &baseline), ("canary", &canary)]
        .into_iter()
        .enumerate()
    {
        assert_samples(
            tracks(&snapshot, "request_rate")[t],
            4,
            behaviour.request_rate * behaviour.error_ratio,
            &format!("overridden request_rate ({track})"),
        );
        assert_value(
            tracks(&snapshot, "error_rate")[t],
            behaviour.error_ratio,
            &format!("error_rate ({track})"),
        );
    }
}

/// A matrix answer: one series per entry of `series`, each with these
/// values at `t`, `t + 1`, ….
fn matrix(series: &[&[&str]]) -> Reply {
    let series: Vec<String> = series
        .iter()
        .map(|values| {
            let points: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("[{},\"{v}\"]", 1_700_000_000 + i))
                .collect();
            format!("{{\"metric\":{{}},\"values\":[{}]}}", points.join(","))
        })
        .collect();
    Reply::json(
        200,
        &format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
            series.join(",")
        ),
    )
}

#[test]
fn series_are_range_queries_without_a_freshness_query() {
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let stub = HttpStub::start({
        let seen = Arc::clone(&seen);
        move |request: &Request| {
            seen.lock().unwrap().push(request.clone());
            let query = request.query.get("query").cloned().unwrap_or_default();
            if request.path.ends_with("/query_range") {
                return if query.contains("track=\"canary\"") {
                    // Two series: an error, not a guess.
                    matrix(&[&["0.5"], &["0.7"]])
                } else {
                    matrix(&[&["0.01", "NaN", "0.02", "+Inf"]])
                };
            }
            // Instant queries: a value, and `timestamp()` = the query time.
            let time = request.query.get("time").cloned().unwrap_or_default();
            let value = if query.starts_with("timestamp(") {
                time.clone()
            } else {
                "12.5".into()
            };
            Reply::json(
                200,
                &format!(
                    r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{time},"{value}"]}}]}}}}"#
                ),
            )
        }
    });
    let now = 1_700_000_600_000;
    let body = format!(
        "url = \"{}\"\nservice = \"checkout\"\nalerts = false\nstale_after = \"2m\"\n\
         metrics = [\"error_rate\", \"request_rate\"]\nseries = [\"error_rate\"]\n",
        stub.url()
    );
    let snapshot = collect_at(&body, now);

    let [baseline, canary] = tracks(&snapshot, "error_rate");
    assert_eq!(*baseline, Measurement::Samples(vec![0.01, 0.02]));
    assert_eq!(
        *canary,
        Measurement::Error(
            "returned 2 series (aggregate the query to one, e.g. with sum())".into()
        )
    );
    assert_eq!(
        snapshot.gap("prometheus").map(|g| g.reason.as_str()),
        Some(
            "error_rate (canary): returned 2 series (aggregate the query to one, e.g. with sum())"
        )
    );
    for m in tracks(&snapshot, "request_rate") {
        assert_eq!(*m, Measurement::Value(12.5));
    }

    let seen = seen.lock().unwrap();
    let ranges: Vec<&Request> = seen
        .iter()
        .filter(|r| r.path.ends_with("/query_range"))
        .collect();
    assert_eq!(ranges.len(), 2, "one range query per track: {seen:#?}");
    for range in &ranges {
        let param = |name: &str| range.query.get(name).map(String::as_str);
        assert_eq!(param("start"), Some("1700000300.000"), "now - window (5m)");
        assert_eq!(param("end"), Some("1700000600.000"));
        assert_eq!(param("step"), Some("15"), "range_step (15s)");
        assert!(
            param("query").is_some_and(|q| q.contains("code=~\"5..\"")),
            "the error_rate template: {range:?}"
        );
    }
    // Freshness is asked for the instant metric only: request_rate's two
    // tracks, each a value query and a `timestamp()` query.
    let instant: Vec<&str> = seen
        .iter()
        .filter(|r| r.path.ends_with("/query"))
        .filter_map(|r| r.query.get("query").map(String::as_str))
        .collect();
    assert_eq!(instant.len(), 4, "{instant:#?}");
    assert_eq!(
        instant
            .iter()
            .filter(|q| q.starts_with("timestamp("))
            .count(),
        2
    );
    assert!(
        instant.iter().all(|q| !q.contains("code=~\"5..\"")),
        "no instant query for the series metric: {instant:#?}"
    );
    assert_eq!(seen.len(), 6);
}

#[test]
fn series_mistakes_are_config_errors_naming_the_key() {
    let err = |body: &str| parse(&format!("url = \"http://p\"\n{body}")).unwrap_err();
    assert_eq!(
        err("series = [\"error_rate\", \"latency_95\"]\n"),
        "shipgate.toml:3:10: key `sources.prometheus.series`: `latency_95` is not a standard \
         metric; they are error_rate, latency_p50, latency_p95, latency_p99, request_rate, \
         cpu_usage, memory_usage, http_5xx_rate, restarts, up (a custom metric is read as a series with `range = true`)"
    );
    assert_eq!(
        err("metrics = [\"error_rate\"]\nseries = [\"latency_p95\"]\n"),
        "shipgate.toml:1:1: key `sources.prometheus`: `series` names `latency_p95`, which \
         `metrics` leaves out; add it to `metrics` or take it out of `series`"
    );
    // A custom metric is read as a series its own way.
    let custom = err(
        "series = [\"queue_depth\"]\n[[sources.prometheus.custom]]\n\
                      name = \"queue_depth\"\nquery = 'max(queue_depth{$selector})'\n",
    );
    assert!(
        custom.contains("`queue_depth` is not a standard metric"),
        "{custom}"
    );
    assert!(custom.contains("range = true"), "{custom}");
    // Every name in `series` also in `metrics`: fine, in any order.
    let config = parse(
        "url = \"http://p\"\nmetrics = [\"latency_p95\", \"error_rate\"]\n\
         series = [\"error_rate\", \"latency_p95\"]\n",
    )
    .unwrap();
    let prometheus = config.sources.prometheus.unwrap();
    assert_eq!(prometheus.series, ["error_rate", "latency_p95"]);
    let ranges: Vec<(String, bool)> = super::plan(&prometheus)
        .into_iter()
        .map(|p| (p.name, p.range))
        .collect();
    assert_eq!(
        ranges,
        [("latency_p95".into(), true), ("error_rate".into(), true)]
    );
}
