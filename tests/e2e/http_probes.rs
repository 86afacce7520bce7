//! The `verify` stage's evidence, collected for real: `[sources.http]`
//! probes against a local HTTP service that is healthy, answers 500s, is
//! slow, is down, answers the wrong body, redirects, fails once, or wants a
//! token (which never appears in the snapshot, the log or stderr), through
//! the real binary (`shipgate snapshot`); the JUnit source's smoke reports;
//! and the Prometheus verify metrics (`http_5xx_rate`, `restarts`, `up`)
//! from a real Prometheus.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shipgate_collect::{self as collect, Context, DeploymentConfig, MapVars, SourcesConfig};
use shipgate_model::{Measurement, Probe, Snapshot, Timestamp};
use shipgate_tests::prometheus::{
    Behaviour, Exporter, HttpStub, Latency, PrometheusServer, Reply, free_port,
};

use super::support::{run, shipgate};

/// The token the `/auth` endpoint wants in `X-Health-Token`.
const TOKEN: &str = "health-T0KEN-e2e-must-not-leak";

/// The service: one endpoint per behaviour.
fn service() -> HttpStub {
    let flaky = Arc::new(AtomicUsize::new(0));
    HttpStub::start(move |request| match request.path.as_str() {
        "/healthz" => Reply::json(200, r#"{"status": "UP"}"#),
        "/errors" => Reply::text(500, "internal error\n"),
        "/slow" => Reply {
            delay: Duration::from_secs(3),
            ..Reply::json(200, r#"{"status": "UP"}"#)
        },
        "/wrong-body" => Reply::json(200, r#"{"status": "DOWN"}"#),
        "/login" => Reply::html(302, "<a href=\"/sso\">sign in</a>"),
        // The first request fails, every later one succeeds.
        "/flaky" => {
            if flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::text(503, "warming up\n")
            } else {
                Reply::text(200, "ok\n")
            }
        }
        "/auth" => match request.headers.get("x-health-token") {
            Some(token) if token == TOKEN => Reply::text(200, "welcome\n"),
            // Echoes what it got: an error text that would leak it.
            Some(other) => Reply::text(401, &format!("bad token {other}\n")),
            None => Reply::text(401, "no token\n"),
        },
        _ => Reply::text(404, "not found\n"),
    })
}

/// A folder with `shipgate.toml` probing `base` (and a closed port).
fn setup(base: &str, down: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let probe = |name: &str, url: &str, extra: &str| {
        format!("[[sources.http.probes]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n")
    };
    let text = [
        "[deployment]\nservice = \"checkout\"\nversion = \"2.14.1\"\n\n[sources.http]\ntimeout = \"500ms\"\nretries = 1\ncount = 2\ninterval = \"50ms\"\n\n".to_owned(),
        probe(
            "healthy",
            &format!("{base}/healthz?verbose=1#top"),
            "body_regex = '\"status\"\\s*:\\s*\"UP\"'",
        ),
        probe("errors", &format!("{base}/errors"), ""),
        probe("slow", &format!("{base}/slow"), ""),
        probe("down", &format!("http://{down}/healthz"), ""),
        probe(
            "wrong-body",
            &format!("{base}/wrong-body"),
            "body_contains = '\"UP\"'",
        ),
        probe("login-redirect", &format!("{base}/login"), ""),
        probe("flaky", &format!("{base}/flaky"), ""),
        probe(
            "auth",
            &format!("{base}/auth"),
            "body_contains = \"welcome\"\nheader_env = { X-Health-Token = \"HEALTH_TOKEN\" }",
        ),
    ]
    .concat();
    std::fs::write(dir.path().join("shipgate.toml"), text).unwrap();
    dir
}

/// `shipgate snapshot --stage verify --out snapshot.json` in `dir` with
/// tracing at `trace`: the snapshot, stdout and stderr.
fn snapshot(dir: &Path, vars: &[(&str, &str)]) -> (Snapshot, String, String, String) {
    let out = dir.join("snapshot.json");
    let mut cmd = shipgate();
    cmd.current_dir(dir)
        .args(["snapshot", "--stage", "verify", "--out"])
        .arg(&out)
        .env("SHIPGATE_LOG", "trace")
        .env_remove("HEALTH_TOKEN");
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    (serde_json::from_str(&text).unwrap(), text, stdout, stderr)
}

fn probe<'a>(snapshot: &'a Snapshot, name: &str) -> &'a Probe {
    let health = snapshot.health.as_ref().expect("a health section");
    health
        .probes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe {name} in {health:#?}"))
}

#[test]
fn every_way_a_service_can_be_unhealthy_is_a_result_in_the_snapshot() {
    let service = service();
    let down = free_port();
    let dir = setup(&service.url(), &down.to_string());
    let (snapshot, text, stdout, stderr) = snapshot(dir.path(), &[("HEALTH_TOKEN", TOKEN)]);

    // Nothing is a gap: a service that does not answer is a result.
    assert!(snapshot.gaps.is_empty(), "{:#?}", snapshot.gaps);
    let names: Vec<&str> = snapshot
        .health
        .as_ref()
        .unwrap()
        .probes
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "healthy",
            "errors",
            "slow",
            "down",
            "wrong-body",
            "login-redirect",
            "flaky",
            "auth"
        ]
    );

    let healthy = probe(&snapshot, "healthy");
    // No query, no fragment in the snapshot.
    assert_eq!(healthy.url, format!("{}/healthz", service.url()));
    assert_eq!(healthy.expected_status, 200);
    assert_eq!(healthy.results.len(), 2);
    for result in &healthy.results {
        assert_eq!(
            (
                result.status,
                result.body_matched,
                &result.error,
                result.tries
            ),
            (Some(200), Some(true), &None, 1)
        );
        assert!(result.healthy(200));
    }

    // Each unhealthy round is tried again once (retries = 1).
    for result in &probe(&snapshot, "errors").results {
        assert_eq!(
            (
                result.status,
                result.body_matched,
                &result.error,
                result.tries
            ),
            (Some(500), None, &None, 2)
        );
    }
    for result in &probe(&snapshot, "slow").results {
        assert_eq!(result.status, None);
        assert_eq!(result.error.as_deref(), Some("no answer within 500ms"));
        assert_eq!(result.tries, 2);
        assert!(result.latency_ms >= 500, "{result:?}");
    }
    for result in &probe(&snapshot, "down").results {
        assert_eq!(result.status, None);
        assert_eq!(
            result.error.as_deref(),
            Some("cannot connect: connection refused")
        );
        assert_eq!(result.tries, 2);
    }
    for result in &probe(&snapshot, "wrong-body").results {
        assert_eq!(
            (result.status, result.body_matched, result.tries),
            (Some(200), Some(false), 2)
        );
        assert!(!result.healthy(200));
    }
    // Not followed: the redirect is the answer.
    for result in &probe(&snapshot, "login-redirect").results {
        assert_eq!((result.status, result.tries), (Some(302), 2));
    }
    // The first try of the first round failed; the retry found it healthy.
    let flaky = &probe(&snapshot, "flaky").results;
    assert_eq!((flaky[0].status, flaky[0].tries), (Some(200), 2));
    assert_eq!((flaky[1].status, flaky[1].tries), (Some(200), 1));
    // The token was sent (the endpoint let it in) and is nowhere.
    for result in &probe(&snapshot, "auth").results {
        assert_eq!(
            (result.status, result.body_matched, result.tries),
            (Some(200), Some(true), 1)
        );
    }
    for (what, output) in [
        ("snapshot", &text),
        ("stdout", &stdout),
        ("stderr", &stderr),
    ] {
        assert!(!output.contains(TOKEN), "{what} leaks the token:\n{output}");
    }
    // The run was traced (so stderr had the chance to leak).
    assert!(!stderr.is_empty());
}

#[test]
fn a_wrong_token_is_a_failed_probe_and_stays_secret() {
    let service = service();
    let dir = setup(&service.url(), &free_port().to_string());
    let wrong = "wrong-T0KEN-e2e-must-not-leak";
    let (snapshot, text, stdout, stderr) = snapshot(dir.path(), &[("HEALTH_TOKEN", wrong)]);
    for result in &probe(&snapshot, "auth").results {
        assert_eq!(
            (result.status, result.body_matched),
            (Some(401), Some(false))
        );
    }
    for (what, output) in [
        ("snapshot", &text),
        ("stdout", &stdout),
        ("stderr", &stderr),
    ] {
        assert!(!output.contains(wrong), "{what} leaks the token:\n{output}");
    }
}

#[test]
fn an_unset_token_variable_is_a_gap_and_no_probe_runs() {
    let service = service();
    let dir = setup(&service.url(), &free_port().to_string());
    let (snapshot, _, _, _) = snapshot(dir.path(), &[]);
    assert_eq!(snapshot.health, None);
    assert_eq!(snapshot.gaps.len(), 1, "{:#?}", snapshot.gaps);
    assert_eq!(snapshot.gaps[0].source, "http");
    assert_eq!(
        snapshot.gaps[0].reason,
        "probe `auth`: `header_env` names `HEALTH_TOKEN` for the header `X-Health-Token`, which is not set"
    );
    assert_eq!(service.requests(), 0);
}

#[test]
fn url_credentials_are_a_config_error_that_does_not_show_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shipgate.toml"),
        "[sources.http]\n[[sources.http.probes]]\nname = \"api\"\nurl = \"https://deploy:pw-S3cret-e2e@checkout.internal/healthz\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(shipgate().current_dir(dir.path()).args(["snapshot"]));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("shipgate.toml:4:7: key `sources.http.probes[0].url`: `url` has credentials (`https://checkout.internal/healthz`)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pw-S3cret") && !stdout.contains("pw-S3cret"),
        "{stderr}"
    );
}

#[test]
fn smoke_reports_are_tagged_in_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("reports/smoke")).unwrap();
    std::fs::write(
        dir.path().join("reports/unit.xml"),
        r#"<testsuite name="unit" tests="1"><testcase name="a"/></testsuite>"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("reports/smoke/checkout.xml"),
        r#"<testsuite name="checkout-smoke"><testcase name="pay"/><testcase name="refund"><failure message="500"/></testcase></testsuite>"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("shipgate.toml"),
        "[sources.junit]\npaths = [\"reports/*.xml\"]\nsmoke = [\"reports/smoke/*.xml\"]\n",
    )
    .unwrap();
    let (snapshot, text, _, _) = snapshot(dir.path(), &[]);
    let suites = &snapshot.ci.as_ref().unwrap().test_suites;
    let tagged: Vec<(&str, bool, u32)> = suites
        .iter()
        .map(|s| (s.name.as_str(), s.smoke, s.failures))
        .collect();
    assert_eq!(tagged, [("checkout-smoke", true, 1), ("unit", false, 0)]);
    assert!(text.contains("\"smoke\": true"), "{text}");
}

/// The verify metrics' window: whole seconds, well inside what
/// [`PrometheusServer::settled`] waits for.
const WINDOW_S: u64 = 10;

fn collect_prometheus(prometheus: &PrometheusServer, now: i64) -> Snapshot {
    let text = format!(
        "[prometheus]\nurl = \"{}\"\nservice = \"checkout\"\nwindow = \"{WINDOW_S}s\"\nstale_after = \"0s\"\nalerts = false\nmetrics = [\"http_5xx_rate\", \"restarts\", \"up\"]\n",
        prometheus.url()
    );
    let sources: SourcesConfig = toml::from_str(&text).unwrap();
    let ctx = Context {
        base_dir: ".".into(),
        now: Timestamp(now),
        vars: Arc::new(MapVars::default()),
        commit: None,
    };
    collect::collect(&sources, &DeploymentConfig::default(), ctx)
        .unwrap()
        .snapshot
}

fn value(measurement: &Measurement) -> f64 {
    match measurement {
        Measurement::Value(v) => *v,
        other => panic!("expected a value, got {other:?}"),
    }
}

#[test]
fn verify_metrics_from_a_real_prometheus() {
    let steady = |error_ratio| Behaviour {
        request_rate: 20.0,
        error_ratio,
        latency: Latency::all_under(0.1),
        cpu: 0.2,
        memory: 0.3,
    };
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", steady(0.01)), ("canary", steady(0.25))],
    );
    // The target is the deployed version's: its `up` carries the canary's
    // labels.
    let prometheus = PrometheusServer::start_labelled(
        &exporter,
        &[("service", "checkout"), ("track", "canary")],
    );
    let now = prometheus.settled(&exporter, Duration::from_secs(WINDOW_S + 3));
    let snapshot = collect_prometheus(&prometheus, now);
    // `up` has no baseline target: no data there, which is not a gap.
    assert!(snapshot.gaps.is_empty(), "{:#?}", snapshot.gaps);
    let metric = |name: &str| snapshot.metric(name).unwrap_or_else(|| panic!("no {name}"));
    let rate = metric("http_5xx_rate");
    assert_eq!(rate.unit.as_deref(), Some("ratio"));
    assert!((value(&rate.canary) - 0.25).abs() < 1e-6, "{rate:?}");
    assert!((value(&rate.baseline) - 0.01).abs() < 1e-6, "{rate:?}");
    let up = metric("up");
    assert_eq!(value(&up.canary), 1.0);
    assert_eq!(up.baseline, Measurement::NoData);
    let restarts = metric("restarts");
    assert_eq!(restarts.unit.as_deref(), Some("count"));
    assert_eq!(value(&restarts.canary), 0.0);

    // The deployed version restarts twice, then stops answering scrapes.
    exporter.restart("canary");
    exporter.restart("canary");
    let after = prometheus.wait_until("the restarts to be scraped", Duration::from_secs(30), |p| {
        let v = p.values(r#"kube_pod_container_status_restarts_total{track="canary"}"#);
        (v.first() == Some(&2.0)).then(shipgate_tests::prometheus::now_ms)
    });
    let snapshot = collect_prometheus(&prometheus, after);
    let restarts = snapshot.metric("restarts").unwrap();
    assert!(value(&restarts.canary) >= 2.0, "{restarts:?}");
    assert_eq!(value(&restarts.baseline), 0.0);

    drop(exporter);
    let down = prometheus.wait_until("the target to be down", Duration::from_secs(30), |p| {
        let v = p.values(r#"up{track="canary"}"#);
        (v.first() == Some(&0.0)).then(shipgate_tests::prometheus::now_ms)
    });
    let snapshot = collect_prometheus(&prometheus, down);
    assert_eq!(value(&snapshot.metric("up").unwrap().canary), 0.0);
}

/// The probes run only for the verify stage: a snapshot for any other
/// question (or none), a gate check, never touch the service, so a
/// pre-deploy snapshot is not mistaken for a verify one.
#[test]
fn the_probes_run_only_for_the_verify_stage() {
    let service = service();
    let down = free_port();
    let dir = setup(&service.url(), &down.to_string());
    let config = dir.path().join("shipgate.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[policies]]\nname = \"window\"\nsource = \"builtin:window\"\n");
    std::fs::write(&config, text).unwrap();
    for args in [
        vec!["snapshot"],
        vec!["snapshot", "--stage", "gate"],
        vec!["check", "--stage", "gate", "--no-log", "--format", "json"],
    ] {
        let (code, stdout, stderr) = run(shipgate()
            .current_dir(dir.path())
            .args(&args)
            .env("HEALTH_TOKEN", TOKEN));
        assert_ne!(code, 1, "{args:?}: {stderr}");
        assert!(!stdout.contains("\"health\""), "{args:?}: {stdout}");
    }
    assert_eq!(service.requests(), 0, "a probe ran");
}
