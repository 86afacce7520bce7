//! `shipgate watch` asks the verify stage: after the last phase of a canary
//! (without moving traffic), or in every interval of a deploy without a
//! canary (`--plan 100:…`). The real binary, a real Prometheus scraping a
//! test exporter (5xx rate, restarts, `up`) and a real local HTTP service
//! whose health endpoint the test turns to 500s or slows down mid-watch.
//! Every logged interval, verify ones included, is replayed with
//! `shipgate eval --from-log` and `shipgate replay`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde_json::Value;
use shipgate_engine::decision_log;
use shipgate_model::Stage;
use shipgate_tests::prometheus::{Exporter, HttpStub, PrometheusServer, Reply};

use crate::support::{run, shipgate};
use crate::watch::{
    Rollout, WINDOW, assert_every_interval_replays, healthy, of_kind, rules, verdicts,
};

/// What the health endpoint does.
const HEALTHY: u8 = 0;
const ERRORS: u8 = 1;
const SLOW: u8 = 2;

/// The service's health endpoint, switched by the test.
struct Service {
    stub: HttpStub,
    mode: Arc<AtomicU8>,
}

impl Service {
    fn start() -> Service {
        let mode = Arc::new(AtomicU8::new(HEALTHY));
        let state = Arc::clone(&mode);
        let stub = HttpStub::start(move |request| {
            if request.path != "/healthz" {
                return Reply::text(404, "not found\n");
            }
            match state.load(Ordering::SeqCst) {
                ERRORS => Reply::text(500, "internal error\n"),
                SLOW => Reply {
                    delay: Duration::from_millis(1500),
                    ..Reply::json(200, r#"{"status": "UP"}"#)
                },
                _ => Reply::json(200, r#"{"status": "UP"}"#),
            }
        });
        Service { stub, mode }
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

/// The exporter (both tracks healthy) and a Prometheus whose target
/// carries the deployed version's labels, so that `up` is the canary's.
fn start_prometheus() -> (Exporter, PrometheusServer) {
    let exporter = Exporter::start("orders", &[("baseline", healthy()), ("canary", healthy())]);
    let prometheus =
        PrometheusServer::start_labelled(&exporter, &[("service", "orders"), ("track", "canary")]);
    prometheus.wait_for_data("sum(rate(http_requests_total[4s]))");
    prometheus.wait_for_data(r#"up{track="canary"}"#);
    (exporter, prometheus)
}

/// The `verify` built-in with its defaults (5xx ≤ 2%, no restart, every
/// target up, probes answering within 1s), after the canary policy's
/// config table.
const VERIFY_POLICY: &str = "\n[[policies]]\nname = \"verify\"\nsource = \"builtin:verify\"\n";

/// The Prometheus metrics (the canary's and the verify stage's) and the
/// health probe of `service`.
fn sources(service: &Service) -> String {
    format!(
        "{WINDOW}\nmetrics = [\"error_rate\", \"latency_p95\", \"latency_p99\", \
         \"request_rate\", \"http_5xx_rate\", \"restarts\", \"up\"]\n\n\
         [sources.http]\ntimeout = \"3s\"\nretries = 0\ncount = 1\n\n\
         [[sources.http.probes]]\nname = \"orders-health\"\nurl = \"{}/healthz\"\n\
         body_contains = '\"UP\"'\n",
        service.stub.url()
    )
}

fn verify_rollout(prometheus: &PrometheusServer, service: &Service, watch_extra: &str) -> Rollout {
    Rollout::with(
        &prometheus.url(),
        VERIFY_POLICY,
        &sources(service),
        watch_extra,
    )
}

fn stages(events: &[Value], kind: &str) -> Vec<String> {
    of_kind(events, kind)
        .iter()
        .map(|e| e["stage"].as_str().unwrap().to_owned())
        .collect()
}

/// `shipgate replay` over the log under the same configuration: every
/// record replays, none changes, and the verify records are there as such.
fn assert_the_log_replays_unchanged(rollout: &Rollout, verify_records: usize) {
    let (code, out, err) = run(shipgate().current_dir(rollout.dir.path()).args([
        "replay",
        "--log",
        "decisions.jsonl",
        "--all",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    let replayed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(replayed["changed"].as_u64(), Some(0), "{out}");
    let entries = replayed["entries"].as_array().unwrap();
    let verify = entries.iter().filter(|e| e["stage"] == "verify").count();
    assert_eq!(verify, verify_records, "{out}");
}

#[test]
fn a_canary_is_verified_after_its_last_phase_without_moving_traffic() {
    let (_exporter, prometheus) = start_prometheus();
    let service = Service::start();
    let rollout = verify_rollout(
        &prometheus,
        &service,
        "verify_window = \"2s\"\nverify_timeout = \"30s\"",
    );
    let (code, events, stderr) = rollout.start(&["--plan", "10:2s,100:2s"]).finish_within(15);
    assert_eq!(code, 0, "{events:#?}\n{stderr}");

    let start = &of_kind(&events, "start")[0];
    assert_eq!(start["verify"], "after-last-phase");
    assert_eq!(stages(&events, "phase"), ["canary", "canary", "verify"]);
    let verify_step = of_kind(&events, "phase")[2];
    assert_eq!(verify_step["phase"], 3);
    assert_eq!(verify_step["phases"], 2);
    assert_eq!(verify_step["percent"], 100);
    assert_eq!(verify_step["timeout_seconds"], 30);
    // The verify step moves no traffic: two traffic hooks, both phases'.
    assert_eq!(rollout.lines("traffic.log"), ["10", "100"]);
    assert!(rollout.lines("rollback.log").is_empty());

    let intervals = of_kind(&events, "interval");
    let verify: Vec<&&Value> = intervals
        .iter()
        .filter(|i| i["stage"] == "verify")
        .collect();
    assert!(
        verify.len() >= 2,
        "a 2s window at 1s intervals: {events:#?}"
    );
    assert!(
        verify
            .iter()
            .all(|i| i["phase"] == 3 && i["verdict"] == "go")
    );

    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "completed");
    let reason = end["reason"].as_str().unwrap();
    assert!(reason.contains("the verify stage passed"), "{reason}");

    // The log: verify records have no rollout, and record the probe and the
    // verify metrics the policy judged.
    let records = decision_log::read(&rollout.path("decisions.jsonl")).unwrap();
    let logged: Vec<&decision_log::Record> = records
        .iter()
        .filter(|r| r.stage == Stage::Verify)
        .collect();
    assert_eq!(logged.len(), verify.len());
    for record in &logged {
        assert!(record.snapshot.rollout.is_none());
        let health = record.snapshot.health.as_ref().expect("the probe ran");
        assert_eq!(health.probes[0].name, "orders-health");
        assert!(health.probes[0].results.iter().all(|r| r.healthy(200)));
        for name in ["http_5xx_rate", "restarts", "up"] {
            assert!(record.snapshot.metric(name).is_some(), "{name}");
        }
    }
    assert_every_interval_replays(&rollout, &events);
    assert_the_log_replays_unchanged(&rollout, verify.len());
}

#[test]
fn a_health_endpoint_answering_500s_after_the_canary_rolls_back_in_the_verify_step() {
    let (_exporter, prometheus) = start_prometheus();
    let service = Service::start();
    let rollout = verify_rollout(
        &prometheus,
        &service,
        "verify_window = \"30s\"\nverify_timeout = \"30s\"",
    );
    let mut watching = rollout.start(&["--plan", "10:2s,100:2s"]);
    watching.until("the verify step", |e| {
        e["event"] == "phase" && e["stage"] == "verify"
    });
    service.set(ERRORS);
    let (code, events, stderr) = watching.finish_within(15);
    assert_eq!(code, 3, "{events:#?}\n{stderr}");

    let last = *of_kind(&events, "interval").last().unwrap();
    assert_eq!(last["stage"], "verify");
    assert_eq!(last["verdict"], "rollback");
    assert!(rules(last).contains(&"verify.probe-failed"), "{last}");
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "rolled-back");
    assert_eq!(end["phase"], 3);
    // The rollback hook ran with the verify finding as its reason, from
    // 100% of traffic.
    let rolled = rollout.lines("rollback.log");
    assert_eq!(rolled.len(), 1, "{rolled:?}");
    assert!(
        rolled[0].starts_with("100|verify.probe-failed"),
        "{rolled:?}"
    );
    assert_every_interval_replays(&rollout, &events);
}

#[test]
fn a_deploy_without_a_canary_is_verified_over_its_window_and_rolled_back_on_restarts() {
    let (exporter, prometheus) = start_prometheus();
    let service = Service::start();

    // Healthy: every interval asks verify, and the watch completes.
    let rollout = verify_rollout(&prometheus, &service, "");
    let (code, events, stderr) = rollout.start(&["--plan", "100:2s"]).finish_within(10);
    assert_eq!(code, 0, "{events:#?}\n{stderr}");
    assert_eq!(of_kind(&events, "start")[0]["verify"], "every-interval");
    assert_eq!(stages(&events, "phase"), ["verify"]);
    assert!(stages(&events, "interval").iter().all(|s| s == "verify"));
    assert_eq!(rollout.lines("traffic.log"), ["100"]);
    assert_every_interval_replays(&rollout, &events);

    // The deployed version restarts: `verify.restarts` rolls it back.
    let rollout = verify_rollout(&prometheus, &service, "");
    let mut watching = rollout.start(&["--plan", "100:30s"]);
    watching.until("the first interval", |e| e["event"] == "interval");
    exporter.restart("canary");
    let (code, events, stderr) = watching.finish_within(20);
    assert_eq!(code, 3, "{events:#?}\n{stderr}");
    let last = *of_kind(&events, "interval").last().unwrap();
    assert!(rules(last).contains(&"verify.restarts"), "{last}");
    assert!(rollout.lines("rollback.log")[0].contains("verify.restarts"));
    assert_every_interval_replays(&rollout, &events);
}

#[test]
fn a_verify_that_keeps_holding_ends_the_watch_unverified_without_a_rollback() {
    let (_exporter, prometheus) = start_prometheus();
    let service = Service::start();
    service.set(SLOW);
    let rollout = verify_rollout(&prometheus, &service, "verify_timeout = \"3s\"");
    let (code, events, stderr) = rollout.start(&["--plan", "100:1s"]).finish_within(10);
    assert_eq!(code, 4, "{events:#?}\n{stderr}");
    assert!(verdicts(&events).iter().all(|v| v == "hold"), "{events:#?}");
    let last = *of_kind(&events, "interval").last().unwrap();
    assert!(rules(last).contains(&"verify.probe-slow"), "{last}");
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "unverified");
    let reason = end["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the verify stage did not pass within 4s: verify.probe-slow"),
        "{reason}"
    );
    assert!(
        end["advice"]
            .as_str()
            .unwrap()
            .contains("sh hooks/rollback.sh"),
        "{end}"
    );
    // Nobody decided to roll back: traffic stays, no rollback hook ran.
    assert!(rollout.lines("rollback.log").is_empty());
}

#[test]
fn a_deploy_without_a_canary_and_without_health_probes_does_not_start() {
    let (_exporter, prometheus) = start_prometheus();
    let rollout = Rollout::with(
        &prometheus.url(),
        VERIFY_POLICY,
        &format!(
            "{WINDOW}\nmetrics = [\"error_rate\", \"latency_p95\", \"latency_p99\", \
             \"http_5xx_rate\", \"restarts\", \"up\"]\n"
        ),
        "",
    );
    let (code, stdout, stderr) = run(&mut rollout.command(&["--plan", "100:10s"]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "not starting the rollout: the verify-stage policies cannot judge it yet, so no \
             traffic was moved"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("verify.data-missing"), "{stderr}");
    assert!(rollout.lines("traffic.log").is_empty());
    assert!(!rollout.path("decisions.jsonl").exists());
}

/// The README's example: the merge-is-deploy configuration loads, and the
/// bundled snapshot (one round of 500 among three) rolls back on that probe
/// alone, asked `verify` by default.
#[test]
fn the_example_verify_config_rolls_back_the_example_snapshot() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (code, out, err) = run(shipgate().current_dir(&root).args([
        "eval",
        "-s",
        "examples/snapshots/verify-probe-500.json",
        "-c",
        "examples/verify/shipgate.toml",
        "--format",
        "json",
    ]));
    assert_eq!(code, 3, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["stage"], "verify");
    let not_go: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["verdict"] != "go")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(not_go, ["verify.probe-failed"], "{out}");
}
