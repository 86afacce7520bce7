//! The `prometheus` source against a real Prometheus (Debian's, started by
//! each test on a free port) scraping the test exporter, and against
//! servers that misbehave. Each test runs the whole collector
//! (`collect::collect`) with only `[sources.prometheus]` configured, so the
//! gaps are the ones a snapshot gets.
//!
//! Each test that needs Prometheus starts its own (about a second), so the
//! tests run in parallel; the waits are bounded polls, never blind sleeps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipgate_collect::{self as collect, Context, DeploymentConfig, MapVars, SourcesConfig};
use shipgate_model::{
    Alert, Gap, Measurement, Metric, Snapshot, Stage, StaleValue, Timestamp, Verdict,
};
use shipgate_tests::prometheus::{
    Behaviour, Exporter, HttpStub, Latency, PrometheusServer, Reply, Request, now_ms,
};

/// The stable version: 40 requests/s, 0.5% errors, fast.
fn baseline() -> Behaviour {
    Behaviour {
        request_rate: 40.0,
        error_ratio: 0.005,
        latency: Latency::new(&[(0.05, 0.60), (0.1, 0.30), (0.25, 0.08), (0.5, 0.02)]),
        cpu: 0.35,
        memory: 0.41,
    }
}

/// The new version: 10 requests/s, 4% errors, slower, hungrier.
fn canary() -> Behaviour {
    Behaviour {
        request_rate: 10.0,
        error_ratio: 0.04,
        latency: Latency::new(&[
            (0.1, 0.40),
            (0.25, 0.35),
            (0.5, 0.15),
            (1.0, 0.07),
            (2.5, 0.03),
        ]),
        cpu: 0.62,
        memory: 0.73,
    }
}

/// Runs the collector with `[sources.prometheus]` = `body` (its
/// `[[custom]]` tables included), at `now` (ms),
/// with these environment variables. The snapshot, and how long it took.
fn collect_at(body: &str, now: i64, vars: &[(&str, &str)]) -> (Snapshot, Duration) {
    let text = format!("[prometheus]\n{body}").replace("[[custom]]", "[[prometheus.custom]]");
    let sources: SourcesConfig =
        toml::from_str(&text).unwrap_or_else(|e| panic!("bad test config: {e}\n{body}"));
    let ctx = Context {
        base_dir: ".".into(),
        now: Timestamp(now),
        vars: Arc::new(MapVars::new(vars.iter().copied())),
        commit: Some("0123456789abcdef".into()),
    };
    let start = Instant::now();
    let collection = collect::collect(&sources, &DeploymentConfig::default(), ctx).unwrap();
    (collection.snapshot, start.elapsed())
}

/// The built-in canary policy (as its component) on `snapshot`: never a
/// promotion; `hold` when `expect_hold` (nothing usable was collected).
fn assert_canary_never_promotes(snapshot: &Snapshot, expect_hold: bool) {
    let setup =
        super::support::setup("[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n");
    let report = setup.policies().evaluate(Stage::Canary, snapshot);
    assert_ne!(
        report.verdict,
        Verdict::Go,
        "promoted on {:#?}",
        snapshot.gaps
    );
    if expect_hold {
        assert_eq!(report.verdict, Verdict::Hold, "{:#?}", report.findings);
    }
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.finding.rule == "canary.data-missing"),
        "no data-missing finding: {:#?}",
        report.findings
    );
}

/// The metric `name` of `snapshot`.
fn metric<'a>(snapshot: &'a Snapshot, name: &str) -> &'a Metric {
    snapshot
        .metric(name)
        .unwrap_or_else(|| panic!("no metric {name} in {:#?}", snapshot.metrics))
}

/// Asserts `m` is a value within `rel` (relative) of `expected`.
fn assert_value(m: &Measurement, expected: f64, rel: f64, what: &str) {
    match m {
        Measurement::Value(v) => assert!(
            (v - expected).abs() <= rel * expected.abs().max(1e-12),
            "{what}: {v} is not {expected} (relative error {:e})",
            (v - expected).abs() / expected.abs().max(1e-12)
        ),
        other => panic!("{what}: expected a value near {expected}, got {other:?}"),
    }
}

/// Asserts `m` is an error whose reason satisfies `check`.
fn assert_error(m: &Measurement, what: &str, check: impl Fn(&str) -> bool) {
    match m {
        Measurement::Error(reason) => {
            assert!(check(reason), "{what}: unexpected reason {reason:?}")
        }
        other => panic!("{what}: expected an error, got {other:?}"),
    }
}

/// The reason of the `prometheus` gap, if any.
fn gap(snapshot: &Snapshot) -> Option<&str> {
    snapshot.gap("prometheus").map(|g| g.reason.as_str())
}

/// Exact, up to floating point: the counters are exact integrals and the
/// query time is a scrape time.
const EXACT: f64 = 1e-9;

#[test]
fn a_real_prometheus_measures_both_tracks_exactly() {
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", baseline()), ("canary", canary())],
    );
    let prometheus = PrometheusServer::start(&exporter, None);
    let config = format!(
        r#"url = "{}"
service = "checkout"
window = "3s"
range_step = "1s"

[[custom]]
name = "success_ratio"
unit = "ratio"
query = 'sum(rate(http_requests_total{{$selector, code!~"5.."}}[$window])) / sum(rate(http_requests_total{{$selector}}[$window]))'

[[custom]]
name = "requests_by_track"
query = 'sum(rate(http_requests_total{{service="${{service}}", track="$track"}}[$window]))'

[[custom]]
name = "request_rate_series"
unit = "requests/s"
range = true
query = 'sum(rate(http_requests_total{{$selector}}[$window]))'
"#,
        prometheus.url()
    );
    // The range metric reads rate() over 3s at points back to now - 3s.
    let now = prometheus.settled(&exporter, Duration::from_secs(6));
    let (snapshot, _) = collect_at(&config, now, &[]);
    assert_eq!(gap(&snapshot), None, "{:#?}", snapshot.gaps);
    let names: Vec<&str> = snapshot.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "error_rate",
            "latency_p50",
            "latency_p95",
            "latency_p99",
            "request_rate",
            "cpu_usage",
            "memory_usage",
            "success_ratio",
            "requests_by_track",
            "request_rate_series"
        ]
    );
    assert!(snapshot.alerts.is_empty(), "no rules, no alerts");

    for (track, behaviour) in [("baseline", baseline()), ("canary", canary())] {
        let m = |name: &str| {
            let metric = metric(&snapshot, name);
            if track == "baseline" {
                metric.baseline.clone()
            } else {
                metric.canary.clone()
            }
        };
        let what = |name: &str| format!("{name} ({track})");
        assert_value(
            &m("error_rate"),
            behaviour.error_ratio,
            EXACT,
            &what("error_rate"),
        );
        for (name, q) in [
            ("latency_p50", 0.5),
            ("latency_p95", 0.95),
            ("latency_p99", 0.99),
        ] {
            assert_value(&m(name), behaviour.latency.quantile(q), EXACT, &what(name));
        }
        assert_value(
            &m("request_rate"),
            behaviour.request_rate,
            EXACT,
            &what("request_rate"),
        );
        assert_value(&m("cpu_usage"), behaviour.cpu, EXACT, &what("cpu_usage"));
        assert_value(
            &m("memory_usage"),
            behaviour.memory,
            EXACT,
            &what("memory_usage"),
        );
        assert_value(
            &m("success_ratio"),
            1.0 - behaviour.error_ratio,
            EXACT,
            &what("success_ratio"),
        );
        assert_value(
            &m("requests_by_track"),
            behaviour.request_rate,
            EXACT,
            &what("requests_by_track"),
        );
        match m("request_rate_series") {
            // [now - 3s, now] every second.
            Measurement::Samples(samples) => {
                assert_eq!(samples.len(), 4, "{samples:?}");
                for sample in samples {
                    assert!(
                        (sample - behaviour.request_rate).abs() <= 1e-6 * behaviour.request_rate,
                        "{}: {sample} is not {}",
                        what("request_rate_series"),
                        behaviour.request_rate
                    );
                }
            }
            other => panic!("{}: {other:?}", what("request_rate_series")),
        }
    }
    let units: Vec<Option<&str>> = snapshot.metrics.iter().map(|m| m.unit.as_deref()).collect();
    assert_eq!(
        units,
        [
            Some("ratio"),
            Some("seconds"),
            Some("seconds"),
            Some("seconds"),
            Some("requests/s"),
            Some("ratio"),
            Some("ratio"),
            Some("ratio"),
            None,
            Some("requests/s")
        ]
    );

    // The same time again: the same answers (the collection is reproducible).
    let (again, _) = collect_at(&config, now, &[]);
    assert_eq!(again.metrics, snapshot.metrics);
}

#[test]
fn a_behaviour_change_shows_in_the_next_window() {
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", baseline()), ("canary", canary())],
    );
    let prometheus = PrometheusServer::start(&exporter, None);
    let config = format!(
        "url = \"{}\"\nservice = \"checkout\"\nwindow = \"3s\"\nmetrics = [\"error_rate\", \"latency_p95\"]\n",
        prometheus.url()
    );
    let now = prometheus.settled(&exporter, Duration::from_secs(4));
    let (before, _) = collect_at(&config, now, &[]);
    assert_value(
        &metric(&before, "error_rate").canary,
        0.04,
        EXACT,
        "error_rate before",
    );

    // The canary gets worse while Prometheus scrapes: once the window holds
    // only the new behaviour, that is what the source reads.
    let worse = Behaviour {
        error_ratio: 0.08,
        latency: Latency::all_under(2.5),
        ..canary()
    };
    exporter.set("canary", worse.clone());
    assert_eq!(exporter.behaviour("canary"), worse);
    let now = prometheus.settled(&exporter, Duration::from_secs(4));
    let (after, _) = collect_at(&config, now, &[]);
    assert_eq!(gap(&after), None);
    let error_rate = metric(&after, "error_rate");
    assert_value(&error_rate.canary, 0.08, EXACT, "error_rate after");
    assert_value(
        &error_rate.baseline,
        0.005,
        EXACT,
        "baseline error_rate after",
    );
    assert_value(
        &metric(&after, "latency_p95").canary,
        worse.latency.quantile(0.95),
        EXACT,
        "latency_p95 after",
    );
}

/// Rules: one alert firing for the service, one pending for it, one firing
/// for another service.
const RULES: &str = r#"
groups:
  - name: shipgate-test
    rules:
      - alert: CheckoutErrorBudgetBurn
        expr: vector(1)
        labels:
          service: checkout
          severity: critical
          team: payments
      - alert: CheckoutDiskFilling
        expr: vector(1)
        for: 1h
        labels:
          service: checkout
          severity: warning
      - alert: PaymentsLatencyHigh
        expr: vector(1)
        labels:
          service: payments
          severity: critical
"#;

#[test]
fn no_data_query_mistakes_staleness_and_alerts() {
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", baseline()), ("idle", Behaviour::idle())],
    );
    exporter.add_lagging_gauge(
        "deploy_config_version",
        &[("service", "checkout"), ("track", "baseline")],
        8.0,
        Duration::ZERO,
    );
    exporter.add_lagging_gauge(
        "deploy_config_version",
        &[("service", "checkout"), ("track", "idle")],
        7.0,
        Duration::from_secs(90),
    );
    let started = now_ms();
    let prometheus = PrometheusServer::start(&exporter, Some(RULES));
    let config = format!(
        r#"url = "{}"
service = "checkout"
window = "3s"
stale_after = "30s"
# The canary track gets no traffic.
canary = 'service="$service", track="idle"'

[[custom]]
name = "nothing"
query = 'sum(rate(no_such_series_total{{$selector}}[$window]))'

[[custom]]
name = "two_series"
query = 'sum by (code) (rate(http_requests_total{{$selector}}[$window]))'

[[custom]]
name = "unbalanced"
query = 'sum(rate(http_requests_total{{$selector}}[$window])'

[[custom]]
name = "config_version"
query = 'deploy_config_version{{$selector}}'
"#,
        prometheus.url()
    );
    prometheus.wait_for_data(r#"ALERTS{alertstate="firing", service="checkout"}"#);
    let now = prometheus.settled(&exporter, Duration::from_secs(4));
    let (snapshot, _) = collect_at(&config, now, &[]);

    // No traffic: 0/0 is NaN, which is no data; a rate of 0 is a value.
    let error_rate = metric(&snapshot, "error_rate");
    assert_value(&error_rate.baseline, 0.005, EXACT, "error_rate (baseline)");
    assert_eq!(error_rate.canary, Measurement::NoData);
    for name in ["latency_p50", "latency_p95", "latency_p99"] {
        assert_eq!(
            metric(&snapshot, name).canary,
            Measurement::NoData,
            "{name}"
        );
    }
    assert_eq!(
        metric(&snapshot, "request_rate").canary,
        Measurement::Value(0.0)
    );
    assert_eq!(
        metric(&snapshot, "cpu_usage").canary,
        Measurement::Value(0.0)
    );
    assert_value(
        &metric(&snapshot, "memory_usage").canary,
        Behaviour::idle().memory,
        EXACT,
        "memory_usage (idle)",
    );

    // A selector that matches nothing: no data, not an error.
    let nothing = metric(&snapshot, "nothing");
    assert_eq!(
        (&nothing.baseline, &nothing.canary),
        (&Measurement::NoData, &Measurement::NoData)
    );

    // Two series: an error that says how to fix the query.
    let two = metric(&snapshot, "two_series");
    for m in [&two.baseline, &two.canary] {
        assert_eq!(
            m,
            &Measurement::Error(
                "returned 2 series (aggregate the query to one, e.g. with sum())".into()
            )
        );
    }

    // Bad PromQL: Prometheus's own parse message.
    let unbalanced = metric(&snapshot, "unbalanced");
    for m in [&unbalanced.baseline, &unbalanced.canary] {
        assert_error(m, "unbalanced", |r| {
            r.starts_with("bad_data: invalid parameter \"query\": ")
                && r.ends_with("parse error: unclosed left parenthesis")
        });
    }

    // A bare selector over samples 90 s old (the same scrape as `now`).
    let version = metric(&snapshot, "config_version");
    assert_eq!(version.baseline, Measurement::Value(8.0));
    // The exporter stamps the gauge 90 s before it serves the scrape, and the
    // age is measured from the scrape's own timestamp, which Prometheus takes
    // as the scrape starts: on a loaded machine the two are a second apart.
    match &version.canary {
        Measurement::Stale(StaleValue { value, age_seconds }) => {
            assert_eq!(*value, 7.0);
            assert!((89..=91).contains(age_seconds), "{age_seconds}");
        }
        other => panic!("config_version (canary) is not stale: {other:?}"),
    }

    // The gap names what failed and nothing else.
    let reason = gap(&snapshot).expect("a gap");
    let lines: Vec<&str> = reason.split("; ").collect();
    assert_eq!(lines.len(), 3, "{reason}");
    assert_eq!(
        lines[0],
        "two_series (baseline, canary): returned 2 series (aggregate the query to one, e.g. with sum())"
    );
    assert!(
        lines[1].starts_with("unbalanced (baseline): bad_data: "),
        "{reason}"
    );
    assert!(
        lines[2].starts_with("unbalanced (canary): bad_data: "),
        "{reason}"
    );

    // The firing alert of this service, not the pending one, not another
    // service's.
    assert_eq!(snapshot.alerts.len(), 1, "{:#?}", snapshot.alerts);
    let alert = &snapshot.alerts[0];
    let since = alert.since.expect("an active-since time");
    assert!(
        since.0 >= started - 1000 && since.0 <= now,
        "since {} is not between {started} and {now}",
        since.0
    );
    assert_eq!(
        alert,
        &Alert {
            name: "CheckoutErrorBudgetBurn".into(),
            severity: Some("critical".into()),
            since: Some(since),
            labels: [
                ("service", "checkout"),
                ("severity", "critical"),
                ("team", "payments")
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        }
    );

    // Every firing alert (sorted by name), when the matchers are empty.
    let all = format!(
        "url = \"{}\"\nmetrics = []\nalert_matchers = ''\n",
        prometheus.url()
    );
    let (everything, _) = collect_at(&all, now, &[]);
    assert_eq!(gap(&everything), None);
    let names: Vec<&str> = everything.alerts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["CheckoutErrorBudgetBurn", "PaymentsLatencyHigh"]);
}

#[test]
fn prometheus_stopped_before_collection_is_one_readable_gap() {
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", baseline()), ("canary", canary())],
    );
    let prometheus = PrometheusServer::start(&exporter, None);
    let url = prometheus.url();
    prometheus.stop();
    let config = format!("url = \"{url}\"\nservice = \"checkout\"\n");
    let (snapshot, took) = collect_at(&config, now_ms(), &[]);
    assert_eq!(snapshot.metrics.len(), 7);
    let reason = format!("cannot reach {url}/: connection refused");
    for m in &snapshot.metrics {
        assert_eq!(m.baseline, Measurement::Error(reason.clone()), "{}", m.name);
        assert_eq!(m.canary, Measurement::Error(reason.clone()), "{}", m.name);
    }
    assert!(snapshot.alerts.is_empty());
    assert_eq!(
        snapshot.gaps,
        [Gap {
            source: "prometheus".into(),
            reason: format!("all 15 queries failed: {reason}"),
        }]
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_canary_never_promotes(&snapshot, true);
}

#[test]
fn prometheus_killed_during_collection() {
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", baseline()), ("canary", canary())],
    );
    let prometheus = PrometheusServer::start(&exporter, None);
    // No need to wait for scrapes: `slow` reads no series.
    let now = now_ms();
    // `slow` makes Prometheus evaluate 3.6 million subquery steps: seconds
    // of work, still running when it is killed.
    let config = format!(
        r#"url = "{}"
service = "checkout"
window = "3s"
stale_after = "0s"
query_timeout = "20s"
timeout = "30s"

[[custom]]
name = "slow"
query = 'count_over_time(vector(1)[1h:1ms])'
"#,
        prometheus.url()
    );
    let (snapshot, took, killed_after) = std::thread::scope(|scope| {
        let collection = scope.spawn(|| collect_at(&config, now, &[]));
        std::thread::sleep(Duration::from_millis(700));
        let kill = Instant::now();
        prometheus.stop();
        let (snapshot, took) = collection.join().unwrap();
        (snapshot, took, kill.elapsed())
    });
    // It ended soon after the kill (not at a timeout), without a panic.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        killed_after < Duration::from_secs(3),
        "{killed_after:?} after the kill"
    );
    let slow = metric(&snapshot, "slow");
    for m in [&slow.baseline, &slow.canary] {
        assert_error(m, "slow", |r| {
            !r.contains("timed out")
                && (r.starts_with("the request failed: ")
                    || r.starts_with("the answer was cut off: ")
                    || r.starts_with("cannot reach "))
        });
    }
    // What was answered before the kill is an answer (a value, or no data
    // before the first scrape); the rest are errors. Which ones were
    // answered depends on timing, so that is all this can promise.
    for m in &snapshot.metrics {
        for (track, x) in [("baseline", &m.baseline), ("canary", &m.canary)] {
            assert!(
                matches!(
                    x,
                    Measurement::Value(_) | Measurement::NoData | Measurement::Error(_)
                ),
                "{} ({track}): {x:?}",
                m.name
            );
        }
    }
    let reason = gap(&snapshot).expect("a gap");
    assert!(reason.contains("slow (baseline, canary)"), "{reason}");
    // Some of the standard metrics may have been answered (a breach seen
    // in them may roll back), but never a promotion.
    assert_canary_never_promotes(&snapshot, false);
}

/// A Prometheus API stand-in: a vector answer for every query, after
/// `delay`.
fn slow_api(delay: Duration) -> HttpStub {
    HttpStub::start(move |request: &Request| Reply {
        delay,
        ..answer(request, 0.25)
    })
}

/// A valid one-sample vector answer to `request`; `timestamp(...)` queries
/// answer the query's time (a fresh sample).
fn answer(request: &Request, value: f64) -> Reply {
    let query = request.query.get("query").cloned().unwrap_or_default();
    let time = request.query.get("time").cloned().unwrap_or_default();
    let value = if query.starts_with("timestamp(") {
        time.clone()
    } else {
        value.to_string()
    };
    if query.starts_with("ALERTS") {
        return Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        );
    }
    Reply::json(
        200,
        &format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{time},"{value}"]}}]}}}}"#
        ),
    )
}

#[test]
fn a_server_slower_than_the_query_timeout_is_timed_out_per_metric() {
    let stub = slow_api(Duration::from_secs(3));
    let config = format!(
        "url = \"{}\"\nservice = \"checkout\"\nquery_timeout = \"300ms\"\ntimeout = \"5s\"\n",
        stub.url()
    );
    let (snapshot, took) = collect_at(&config, now_ms(), &[]);
    assert_eq!(snapshot.metrics.len(), 7);
    for m in &snapshot.metrics {
        for x in [&m.baseline, &m.canary] {
            assert_eq!(
                x,
                &Measurement::Error("timed out after 300ms".into()),
                "{}",
                m.name
            );
        }
    }
    assert_eq!(
        gap(&snapshot),
        Some("all 15 queries failed: timed out after 300ms")
    );
    // 30 requests, 8 at a time, 300 ms each.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_canary_never_promotes(&snapshot, true);

    // The source's own time limit cuts the rest short before the collector
    // gives up on it: the metrics are still there, as errors.
    let config = format!(
        "url = \"{}\"\nservice = \"checkout\"\nquery_timeout = \"5s\"\ntimeout = \"1s\"\n",
        stub.url()
    );
    let (snapshot, took) = collect_at(&config, now_ms(), &[]);
    assert_eq!(snapshot.metrics.len(), 7);
    let reason = "timed out: the source's time limit (1s) ran out";
    assert_eq!(
        snapshot.metrics[0].canary,
        Measurement::Error(reason.into())
    );
    assert_eq!(
        gap(&snapshot),
        Some(format!("all 15 queries failed: {reason}").as_str())
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn requests_in_flight_are_bounded() {
    let stub = slow_api(Duration::from_millis(200));
    let config = format!("url = \"{}\"\nservice = \"checkout\"\n", stub.url());
    let (snapshot, took) = collect_at(&config, now_ms(), &[]);
    assert_eq!(gap(&snapshot), None, "{:#?}", snapshot.gaps);
    for m in &snapshot.metrics {
        assert_eq!(m.canary, Measurement::Value(0.25), "{}", m.name);
    }
    // 7 metrics x 2 tracks x (value + timestamp) + 2 alert queries.
    assert_eq!(stub.requests(), 30);
    assert_eq!(stub.max_in_flight(), 8);
    // Four rounds of 200 ms, not thirty.
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn answers_that_are_not_prometheus_json_are_errors_naming_the_problem() {
    let stub = HttpStub::start(|request: &Request| {
        let query = request.query.get("query").cloned().unwrap_or_default();
        let authorised =
            request.headers.get("authorization").map(String::as_str) == Some("Bearer s3cret");
        if !authorised {
            return Reply::text(401, "missing or wrong token\n");
        }
        let has = |s: &str| query.contains(s);
        if has("html_page") {
            Reply::html(200, "<!DOCTYPE html>\n<html><body>Grafana</body></html>")
        } else if has("garbage") {
            Reply::text(200, "this is not JSON")
        } else if has("truncated") {
            Reply::json(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}"#,
            )
        } else if has("cut_off") {
            Reply {
                cut_after: Some(20),
                ..answer(request, 1.0)
            }
        } else if has("bad_gateway") {
            Reply::html(502, "<html><body>502 Bad Gateway</body></html>")
        } else if has("api_error") {
            Reply::json(
                422,
                r#"{"status":"error","errorType":"execution","error":"query timed out in expression evaluation"}"#,
            )
        } else {
            answer(request, 0.25)
        }
    });
    let customs = [
        "good",
        "html_page",
        "garbage",
        "truncated",
        "cut_off",
        "bad_gateway",
        "api_error",
    ]
    .iter()
    .map(|name| format!("[[custom]]\nname = \"{name}\"\nquery = '{name}{{$selector}}'\n"))
    .collect::<String>();
    let config = format!(
        "url = \"{}\"\nservice = \"checkout\"\nmetrics = []\ntoken_env = \"PROM_TOKEN\"\n{customs}",
        stub.url()
    );
    let (snapshot, _) = collect_at(&config, now_ms(), &[("PROM_TOKEN", "s3cret")]);
    let both = |name: &str, check: &dyn Fn(&str) -> bool| {
        let m = metric(&snapshot, name);
        assert_error(&m.baseline, name, check);
        assert_error(&m.canary, name, check);
    };
    assert_eq!(metric(&snapshot, "good").baseline, Measurement::Value(0.25));
    assert_eq!(metric(&snapshot, "good").canary, Measurement::Value(0.25));
    both("html_page", &|r| {
        r == "the answer is an HTML page, not Prometheus's JSON API (is `url` the Prometheus server?)"
    });
    both("garbage", &|r| {
        r.starts_with("the answer is not Prometheus's JSON (expected ")
    });
    both("truncated", &|r| {
        r.starts_with("the answer is truncated JSON (EOF while parsing")
    });
    both("cut_off", &|r| r.starts_with("the answer was cut off: "));
    both("bad_gateway", &|r| r == "HTTP 502 Bad Gateway");
    both("api_error", &|r| {
        r == "execution: query timed out in expression evaluation"
    });
    assert!(snapshot.alerts.is_empty());
    let reason = gap(&snapshot).expect("a gap");
    for name in [
        "html_page",
        "garbage",
        "truncated",
        "cut_off",
        "bad_gateway",
        "api_error",
    ] {
        assert!(
            reason.contains(&format!("{name} (baseline, canary): ")),
            "{name}: {reason}"
        );
    }
    assert!(!reason.contains("good"), "{reason}");
    assert!(!reason.contains("alerts"), "{reason}");
    assert!(!reason.contains("s3cret"), "{reason}");

    // Without the token, the server's refusal.
    let (refused, _) = collect_at(&config, now_ms(), &[("PROM_TOKEN", "not-the-right-t0ken")]);
    assert_eq!(
        gap(&refused),
        Some("all 15 queries failed: HTTP 401 Unauthorized: missing or wrong token")
    );
    // A token variable that is not set: nothing can be asked.
    let (unset, _) = collect_at(&config, now_ms(), &[]);
    assert!(unset.metrics.is_empty());
    assert_eq!(
        gap(&unset),
        Some("`token_env` names `PROM_TOKEN`, which is not set")
    );
}
