//! `shipgate watch` end to end: the real binary drives phased rollouts
//! against a real Prometheus scraping a test exporter whose canary the test
//! changes mid-rollout, with real hook scripts, intervals of a second and
//! holds of seconds. Every logged interval is replayed with `shipgate eval`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use shipgate_engine::decision_log;
use shipgate_tests::prometheus::{Behaviour, Exporter, Latency, PrometheusServer};

use crate::support::{run, shipgate};

/// A canary and a baseline that meet every success criterion.
pub(crate) fn healthy() -> Behaviour {
    Behaviour {
        request_rate: 50.0,
        error_ratio: 0.004,
        latency: Latency::new(&[(0.05, 0.7), (0.1, 0.25), (0.25, 0.05)]),
        cpu: 0.3,
        memory: 0.4,
    }
}

/// The window of `rate()`: a few scrapes, so that a change shows within
/// seconds.
pub(crate) const WINDOW: &str = "window = \"4s\"";

/// The traffic hook: appends the share it was asked for to `traffic.log`;
/// the rollback hook appends its reason to `rollback.log`. Both are real
/// scripts run by the real binary.
const TRAFFIC_HOOK: &str = "#!/bin/sh\n\
    # set-weight.sh PERCENT: move PERCENT% of traffic to the canary.\n\
    echo \"$1\" >> traffic.log\n\
    echo \"weight set to $1% for $SHIPGATE_SERVICE $SHIPGATE_VERSION\"\n";
const ROLLBACK_HOOK: &str = "#!/bin/sh\n\
    echo \"$SHIPGATE_PERCENT|$SHIPGATE_REASON\" >> rollback.log\n\
    echo rolled back\n";

/// A service directory: hooks, and a `shipgate.toml` that reads
/// Prometheus at `url` and runs the canary built-in with `canary_config`.
pub(crate) struct Rollout {
    pub(crate) dir: tempfile::TempDir,
}

impl Rollout {
    pub(crate) fn new(url: &str, canary_config: &str, prometheus_extra: &str) -> Rollout {
        Rollout::with(url, canary_config, prometheus_extra, "")
    }

    /// As [`Rollout::new`], with `watch_extra` at the end of `[watch]`.
    pub(crate) fn with(
        url: &str,
        canary_config: &str,
        prometheus_extra: &str,
        watch_extra: &str,
    ) -> Rollout {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("hooks")).unwrap();
        std::fs::write(root.join("hooks/set-weight.sh"), TRAFFIC_HOOK).unwrap();
        std::fs::write(root.join("hooks/rollback.sh"), ROLLBACK_HOOK).unwrap();
        std::fs::write(
            root.join("shipgate.toml"),
            format!(
                r#"[deployment]
service = "orders"
environment = "production"
version = "v2.4.1"

[[policies]]
name = "canary"
source = "builtin:canary"
stages = ["canary"]

[policies.config]
{canary_config}

[sources.prometheus]
url = "{url}"
service = "orders"
baseline = 'service="orders", track="baseline"'
canary = 'service="orders", track="canary"'
timeout = "3s"
query_timeout = "2s"
{prometheus_extra}

[watch]
interval = "1s"
traffic_hook = ["sh", "hooks/set-weight.sh", "{{percent}}"]
rollback_hook = "sh hooks/rollback.sh"
hook_timeout = "10s"
{watch_extra}

[log]
path = "decisions.jsonl"
"#
            ),
        )
        .unwrap();
        Rollout { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(name))
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = shipgate();
        cmd.current_dir(self.dir.path()).arg("watch").args(args);
        cmd
    }

    /// Starts `shipgate watch --format json ARGS`, streaming its events.
    pub(crate) fn start(&self, args: &[&str]) -> Watching {
        self.spawn(self.command(args))
    }

    /// Starts `cmd` (from [`Rollout::command`]) with `--format json`.
    pub(crate) fn spawn(&self, mut cmd: Command) -> Watching {
        let mut child = cmd
            .args(["--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Watching {
            child,
            stdout,
            events: Vec::new(),
        }
    }
}

/// A running watch and the events it has printed so far.
pub(crate) struct Watching {
    child: Child,
    stdout: BufReader<ChildStdout>,
    events: Vec<Value>,
}

impl Watching {
    /// The next event; `None` at the end of the stream.
    pub(crate) fn next(&mut self) -> Option<Value> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line).unwrap() == 0 {
            return None;
        }
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        self.events.push(event.clone());
        Some(event)
    }

    /// Reads events until one satisfies `until` (returned), failing at the end.
    pub(crate) fn until(&mut self, what: &str, until: impl Fn(&Value) -> bool) -> Value {
        while let Some(event) = self.next() {
            if until(&event) {
                return event;
            }
        }
        panic!("the watch ended before {what}: {:#?}", self.events);
    }

    /// Reads the rest and waits: (exit code, every event, stderr).
    pub(crate) fn finish(mut self) -> (i32, Vec<Value>, String) {
        while self.next().is_some() {}
        let out = self.child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            self.events,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// As [`Watching::finish`], but a watch still going after `max`
    /// intervals is killed and the test fails: a watch that would hold
    /// forever fails the test instead of hanging it.
    pub(crate) fn finish_within(mut self, max: usize) -> (i32, Vec<Value>, String) {
        while self.next().is_some() {
            if of_kind(&self.events, "interval").len() > max {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the watch was still going after {max} intervals: {:#?}",
                    self.events
                );
            }
        }
        self.finish()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

pub(crate) fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

pub(crate) fn verdicts(events: &[Value]) -> Vec<String> {
    of_kind(events, "interval")
        .iter()
        .map(|e| e["verdict"].as_str().unwrap().to_owned())
        .collect()
}

/// The interval event's entry for `metric`.
pub(crate) fn metric<'a>(interval: &'a Value, name: &str) -> &'a Value {
    interval["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no metric `{name}` in {interval}"))
}

pub(crate) fn rules(interval: &Value) -> Vec<&str> {
    interval["concerns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rule"].as_str().unwrap())
        .collect()
}

/// Every interval is in the log in order, at its stage, a canary one with
/// the rollout history the policies saw (a verify one with no rollout), and
/// `shipgate eval --from-log LOG --entry N` gives each one's verdict and
/// findings again.
pub(crate) fn assert_every_interval_replays(rollout: &Rollout, events: &[Value]) {
    let intervals = of_kind(events, "interval");
    let records = decision_log::read(&rollout.path("decisions.jsonl")).unwrap();
    assert_eq!(records.len(), intervals.len(), "one record per interval");
    let mut canary = 0;
    for (n, (record, event)) in records.iter().zip(&intervals).enumerate() {
        assert_eq!(record.command, "watch");
        assert_eq!(event["log_entry"], n + 1);
        assert_eq!(event["stage"], record.stage.as_str(), "record {}", n + 1);
        if record.stage == shipgate_model::Stage::Verify {
            assert!(record.snapshot.rollout.is_none(), "record {}", n + 1);
        } else {
            let history = &record.snapshot.rollout.as_ref().unwrap().history;
            assert_eq!(
                history.len(),
                canary,
                "record {}: the history before it",
                n + 1
            );
            canary += 1;
        }
        let entry = (n + 1).to_string();
        let (code, stdout, stderr) = run(shipgate().current_dir(rollout.dir.path()).args([
            "eval",
            "--from-log",
            "decisions.jsonl",
            "--entry",
            &entry,
            "--format",
            "json",
        ]));
        let replay: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("record {entry}: {e}\n{stdout}\n{stderr}"));
        assert_eq!(
            replay["verdict"], event["verdict"],
            "record {entry}: {stderr}"
        );
        let mut replayed: Vec<&str> = replay["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["verdict"] != "go")
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        let mut live = rules(event);
        replayed.sort_unstable();
        live.sort_unstable();
        assert_eq!(replayed, live, "record {entry}");
        let expected = match event["verdict"].as_str().unwrap() {
            "go" => 0,
            "hold" => 4,
            "rollback" => 3,
            other => panic!("{other}"),
        };
        assert_eq!(code, expected, "record {entry}");
    }
}

pub(crate) fn start_prometheus(canary: Behaviour) -> (Exporter, PrometheusServer) {
    let exporter = Exporter::start("orders", &[("baseline", healthy()), ("canary", canary)]);
    let prometheus = PrometheusServer::start(&exporter, None);
    prometheus.wait_for_data("sum(rate(http_requests_total[4s]))");
    (exporter, prometheus)
}

#[test]
fn a_healthy_canary_is_promoted_through_every_phase() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "", WINDOW);
    let started = Instant::now();
    let (code, events, stderr) = rollout.start(&["--plan", "10:2s,50:2s,100:2s"]).finish();
    assert_eq!(code, 0, "{events:#?}\n{stderr}");
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "completed");
    assert_eq!(end["phase"], 3);
    assert_eq!(end["percent"], 100);
    // Each phase is held for its time: at least 2 intervals of 1 s each.
    assert!(started.elapsed() >= Duration::from_secs(6));
    let phases: Vec<u64> = of_kind(&events, "phase")
        .iter()
        .map(|p| p["percent"].as_u64().unwrap())
        .collect();
    assert_eq!(phases, [10, 50, 100]);
    // The traffic hook ran once per phase, in order; the rollback hook never.
    assert_eq!(rollout.lines("traffic.log"), ["10", "50", "100"]);
    assert!(!rollout.path("rollback.log").exists());
    let hooks = of_kind(&events, "hook");
    assert_eq!(hooks.len(), 3);
    assert_eq!(hooks[1]["status"], "exited");
    assert_eq!(hooks[1]["code"], 0);
    assert_eq!(hooks[1]["stdout"], "weight set to 50% for orders v2.4.1");
    // Every interval promoted, and a phase ended only once held.
    assert!(verdicts(&events).iter().all(|v| v == "go"), "{events:#?}");
    for interval in of_kind(&events, "interval") {
        assert_eq!(interval["data_missing"], false, "{interval}");
    }
    let last_of_phase: Vec<&Value> = of_kind(&events, "interval")
        .windows(2)
        .filter(|w| w[0]["phase"] != w[1]["phase"])
        .map(|w| w[0])
        .collect();
    for i in last_of_phase {
        assert!(i["seconds_in_phase"].as_u64().unwrap() >= 2, "{i}");
    }
    // The comparison table has a column per phase and every metric passed.
    let table = end["table"].as_array().unwrap();
    let error_rate = table.iter().find(|r| r["metric"] == "error_rate").unwrap();
    assert_eq!(error_rate["phases"].as_array().unwrap().len(), 3);
    for cell in error_rate["phases"].as_array().unwrap() {
        assert_eq!(cell["verdict"], "go", "{cell}");
        assert!(
            (cell["canary"].as_f64().unwrap() - 0.004).abs() < 1e-6,
            "{cell}"
        );
    }
    // The first phase's traffic hook is recorded with the first interval.
    let records = decision_log::read(&rollout.path("decisions.jsonl")).unwrap();
    assert_eq!(records[0].hooks.len(), 1);
    assert_eq!(records[0].hooks[0].percent, 10);
    assert_every_interval_replays(&rollout, &events);
}

/// The canary's error rate jumps to 10% once phase 2 starts; with
/// `max_failed_intervals = 2` the first failed interval holds and the second
/// rolls back.
#[test]
fn an_error_spike_in_phase_two_is_rolled_back_within_the_failure_limit() {
    let (exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "max_failed_intervals = 2", WINDOW);
    let mut watching = rollout.start(&["--plan", "10:2s,50:30s,100:2s"]);
    watching.until("phase 2", |e| e["event"] == "phase" && e["phase"] == 2);
    exporter.set(
        "canary",
        Behaviour {
            error_ratio: 0.10,
            ..healthy()
        },
    );
    let started = Instant::now();
    let (code, events, stderr) = watching.finish();
    assert_eq!(code, 3, "{events:#?}\n{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "not rolled back in time"
    );
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "rolled-back");
    assert_eq!(
        (end["phase"].as_u64(), end["percent"].as_u64()),
        (Some(2), Some(50))
    );
    assert!(
        end["reason"]
            .as_str()
            .unwrap()
            .contains("canary.error-rate"),
        "{end}"
    );
    // Phase 1 was healthy; in phase 2 the failed intervals were counted.
    let intervals = of_kind(&events, "interval");
    let phase2: Vec<&&Value> = intervals.iter().filter(|i| i["phase"] == 2).collect();
    let failed: Vec<&&&Value> = phase2
        .iter()
        .filter(|i| rules(i).contains(&"canary.error-rate"))
        .collect();
    assert_eq!(failed.len(), 2, "{phase2:#?}");
    assert_eq!(failed[0]["verdict"], "hold", "{:#?}", failed[0]);
    assert_eq!(failed[1]["verdict"], "rollback", "{:#?}", failed[1]);
    assert!(rules(failed[1]).contains(&"canary.failure-limit"));
    assert_eq!(
        phase2.last().unwrap()["number"],
        failed[1]["number"],
        "the rollback ends the watch"
    );
    assert!(phase2.len() <= 5, "too slow to see the spike: {phase2:#?}");
    // The traffic never reached 100%; the rollback hook ran exactly once,
    // with the trigger as its reason.
    assert_eq!(rollout.lines("traffic.log"), ["10", "50"]);
    let rollbacks = rollout.lines("rollback.log");
    assert_eq!(rollbacks.len(), 1, "{rollbacks:?}");
    assert!(
        rollbacks[0].starts_with("50|canary.error-rate"),
        "{rollbacks:?}"
    );
    let hook = &end["rollback_hook"];
    assert_eq!(
        (hook["status"].as_str(), hook["code"].as_i64()),
        (Some("exited"), Some(0))
    );
    // The comparison table shows the breach in phase 2 only.
    let row = end["table"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "error_rate")
        .unwrap();
    assert_eq!(row["phases"][0]["verdict"], "go");
    assert_eq!(row["phases"][1]["verdict"], "rollback");
    assert_every_interval_replays(&rollout, &events);
}

/// Prometheus dies as phase 2 starts: intervals without data hold, and the
/// third in a row rolls back.
#[test]
fn prometheus_killed_mid_rollout_holds_then_rolls_back_at_the_no_data_limit() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "max_intervals_without_data = 3", WINDOW);
    let mut watching = rollout.start(&["--plan", "10:2s,50:30s,100:2s"]);
    watching.until("phase 2", |e| e["event"] == "phase" && e["phase"] == 2);
    prometheus.stop();
    let (code, events, stderr) = watching.finish();
    assert_eq!(code, 3, "{events:#?}\n{stderr}");
    let phase2: Vec<&Value> = of_kind(&events, "interval")
        .into_iter()
        .filter(|i| i["phase"] == 2)
        .collect();
    assert_eq!(
        phase2
            .iter()
            .map(|i| i["verdict"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["hold", "hold", "rollback"],
        "{phase2:#?}"
    );
    for i in &phase2 {
        assert_eq!(i["data_missing"], true, "{i}");
        assert!(rules(i).contains(&"canary.data-missing"), "{i}");
        let gaps = i["gaps"].as_array().unwrap();
        assert!(
            gaps.iter()
                .any(|g| g.as_str().unwrap().starts_with("prometheus: ")),
            "{i}"
        );
    }
    assert!(rules(phase2[2]).contains(&"canary.no-data-limit"));
    // Missing data never promoted: no phase 3.
    assert_eq!(rollout.lines("traffic.log"), ["10", "50"]);
    assert_eq!(rollout.lines("rollback.log").len(), 1);
    assert_eq!(of_kind(&events, "end")[0]["outcome"], "rolled-back");
    assert_every_interval_replays(&rollout, &events);
}

/// The canary's p95 is 1.75x the baseline's: above the success criterion
/// (1.10x), below the rollback trigger (2x). p95 is read as a series and
/// judged with the Mann–Whitney U test. The phase is held, never promoted,
/// until the inconclusive limit rolls it back.
/// A canary whose p95 is between the canary's success criterion (1.10x
/// the baseline's) and its rollback trigger (2x).
pub(crate) fn slower() -> Behaviour {
    let latency = Latency::new(&[(0.05, 0.5), (0.1, 0.4), (0.25, 0.1)]);
    let ratio = latency.quantile(0.95) / healthy().latency.quantile(0.95);
    assert!(ratio > 1.10 && ratio < 2.0, "{ratio}");
    Behaviour {
        latency,
        ..healthy()
    }
}

#[test]
fn a_latency_regression_between_the_thresholds_holds_and_is_not_promoted() {
    let (exporter, prometheus) = start_prometheus(slower());
    // Enough history for the first interval's series to have its samples.
    prometheus.settled(&exporter, Duration::from_secs(6));
    let rollout = Rollout::new(
        &prometheus.url(),
        "max_inconclusive_intervals = 4\nseries_min_samples = 3",
        "window = \"10s\"\nseries = [\"latency_p95\"]\nrange_step = \"1s\"",
    );
    let (code, events, stderr) = rollout.start(&["--plan", "10:2s,100:2s"]).finish();
    assert_eq!(code, 3, "{events:#?}\n{stderr}");
    let intervals = of_kind(&events, "interval");
    assert_eq!(
        verdicts(&events),
        ["hold", "hold", "hold", "rollback"],
        "{intervals:#?}"
    );
    for i in &intervals[..3] {
        assert_eq!(rules(i), ["canary.inconclusive"], "{i}");
        let message = i["concerns"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "canary latency_p95 is significantly slower than the baseline (Mann–Whitney p"
            ),
            "{message}"
        );
        let p95 = metric(i, "latency_p95");
        assert_eq!(p95["verdict"], "hold", "{p95}");
    }
    // The phase's 2 s hold passed without a promotion.
    assert!(intervals[2]["seconds_in_phase"].as_u64().unwrap() >= 2);
    assert!(rules(intervals[3]).contains(&"canary.inconclusive-limit"));
    assert_eq!(of_kind(&events, "phase").len(), 1, "promoted: {events:#?}");
    assert_eq!(rollout.lines("traffic.log"), ["10"]);
    assert_eq!(rollout.lines("rollback.log").len(), 1);
    assert_every_interval_replays(&rollout, &events);
}

/// SIGTERM while the traffic hook runs: the hook is let finish and is
/// reported; then the watch stops, saying where the rollout stood. Ctrl-C
/// (SIGINT) between intervals: every decided interval is in the log.
#[test]
fn signals_stop_cleanly_without_leaving_a_hook_half_run() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "", WINDOW);
    let slow = "#!/bin/sh\nsleep 2\necho \"$1\" >> traffic.log\necho done\n";
    std::fs::write(rollout.path("hooks/set-weight.sh"), slow).unwrap();

    let mut watching = rollout.start(&["--plan", "10:30s,100:30s"]);
    watching.until("phase 1", |e| e["event"] == "phase");
    std::thread::sleep(Duration::from_millis(500));
    watching.signal("TERM");
    let (code, events, stderr) = watching.finish();
    assert_eq!(code, 143, "{events:#?}\n{stderr}");
    let hook = of_kind(&events, "hook")[0];
    assert_eq!(
        (hook["status"].as_str(), hook["code"].as_i64()),
        (Some("exited"), Some(0))
    );
    assert!(hook["millis"].as_u64().unwrap() >= 1900, "{hook}");
    assert_eq!(hook["stdout"], "done");
    assert_eq!(
        rollout.lines("traffic.log"),
        ["10"],
        "the hook finished its work"
    );
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "interrupted");
    assert_eq!(
        (end["phase"].as_u64(), end["percent"].as_u64()),
        (Some(1), Some(10))
    );
    assert!(end["reason"].as_str().unwrap().contains("SIGTERM"), "{end}");
    assert!(
        end["reason"]
            .as_str()
            .unwrap()
            .contains("traffic stays at 10%"),
        "{end}"
    );
    assert!(
        end["advice"]
            .as_str()
            .unwrap()
            .contains("sh hooks/rollback.sh"),
        "{end}"
    );
    assert!(of_kind(&events, "interval").is_empty());
    assert!(!rollout.path("rollback.log").exists());

    std::fs::write(rollout.path("hooks/set-weight.sh"), TRAFFIC_HOOK).unwrap();
    std::fs::remove_file(rollout.path("traffic.log")).unwrap();
    let mut watching = rollout.start(&["--plan", "10:30s,100:30s"]);
    watching.until("2 intervals", |e| {
        e["event"] == "interval" && e["number"] == 2
    });
    watching.signal("INT");
    let (code, events, stderr) = watching.finish();
    assert_eq!(code, 130, "{events:#?}\n{stderr}");
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "interrupted");
    assert!(end["reason"].as_str().unwrap().contains("SIGINT"), "{end}");
    let intervals = of_kind(&events, "interval").len();
    assert!(intervals >= 2);
    assert_eq!(end["intervals"], intervals);
    assert_eq!(
        decision_log::read(&rollout.path("decisions.jsonl"))
            .unwrap()
            .len(),
        intervals,
        "every decided interval is logged"
    );
    assert!(!rollout.path("rollback.log").exists());
}

/// `--dry-run` decides and logs but runs no hook; without a terminal the
/// text view is plain lines, ending with the comparison table.
#[test]
fn a_dry_run_says_what_it_would_run_in_plain_lines() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "", WINDOW);
    let (code, stdout, stderr) =
        run(&mut rollout.command(&["--dry-run", "--plan", "10:1s,100:1s", "--no-log"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(
            "watching orders v2.4.1 in production: 10% 1s → 100% 1s (--plan), an interval \
             every 1s; dry run: no hook runs\nphase 1/2: 10% of traffic, hold 1s\n  traffic \
             hook: would run `sh hooks/set-weight.sh 10` (dry run)\n  interval 1 · 10% · 1s of 1s · GO\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("would run `sh hooks/set-weight.sh 100`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ROLLOUT COMPLETE at phase 2 of 2 (100% of traffic)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "| Metric | Baseline | Phase 1 (10%) | Phase 2 (100%) |\n|---|--:|--:|--:|\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("| error_rate | 0.4% | 0.4% ✅ | 0.4% ✅ |"),
        "{stdout}"
    );
    assert!(stdout.ends_with("exit 0\n"), "{stdout}");
    assert!(!rollout.path("traffic.log").exists());
    assert!(!rollout.path("decisions.jsonl").exists());
}

/// Without `--plan` or `[watch] plan`, the plan is the risk policy's
/// recommendation for the change (medium risk and up), else the playbook's.
#[test]
fn the_plan_comes_from_the_risk_policy_when_none_is_given() {
    use shipgate::watch::resolve_plan;
    use shipgate_core::config::watch::{Plan, PlanSource};
    let setup = crate::support::setup(
        "[[policies]]\nname = \"risk\"\nsource = \"builtin:risk\"\n\
         [policies.config]\nrollout_plan = [{ traffic_percent = 25, hold_minutes = 5 }, \
         { traffic_percent = 100, hold_minutes = 20 }]\n",
    );
    let policies = setup.policies();
    let risky = crate::support::example("release-full");
    let (plan, source) = resolve_plan(None, None, &policies, &risky);
    assert_eq!(source, PlanSource::RiskPolicy("risk".into()));
    assert_eq!(plan.to_string(), "25% 5m → 100% 20m");
    // No change data: risk is not assessed, no plan is recommended.
    let unassessed = crate::support::example("canary-healthy");
    let (plan, source) = resolve_plan(None, None, &policies, &unassessed);
    assert_eq!((plan, source), (Plan::playbook(), PlanSource::Playbook));
    let flag: Plan = "5:1m,100:1m".parse().unwrap();
    let (plan, source) = resolve_plan(
        Some(flag.clone()),
        Some(&Plan::playbook()),
        &policies,
        &risky,
    );
    assert_eq!((plan, source), (flag, PlanSource::Flag));
}

/// Hooks that fail: a failed traffic hook rolls back (the canary's share is
/// unknown); a failed rollback hook ends in an error that says to roll back
/// by hand. Prometheus answers the first collection, then is stopped, so
/// data goes missing and the no-data limit rolls back.
#[test]
fn failing_hooks_fail_closed() {
    let (_exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "", WINDOW);
    std::fs::write(
        rollout.path("hooks/set-weight.sh"),
        "#!/bin/sh\necho \"no such rollout\" >&2\nexit 1\n",
    )
    .unwrap();
    let (code, events, stderr) = rollout.start(&["--plan", "10:5s,100:5s"]).finish();
    assert_eq!(code, 3, "{events:#?}\n{stderr}");
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "rolled-back");
    assert_eq!(
        end["reason"],
        "the traffic hook for phase 1 (10%) failed: exit 1"
    );
    assert!(of_kind(&events, "interval").is_empty());
    assert_eq!(of_kind(&events, "hook")[0]["stderr"], "no such rollout");
    assert_eq!(rollout.lines("rollback.log").len(), 1);

    // Prometheus stops once traffic has moved.
    std::fs::write(rollout.path("hooks/set-weight.sh"), TRAFFIC_HOOK).unwrap();
    std::fs::write(rollout.path("hooks/rollback.sh"), "#!/bin/sh\nexit 2\n").unwrap();
    let mut watching = rollout.start(&["--plan", "10:30s,100:5s"]);
    watching.until("the traffic hook", |e| e["event"] == "hook");
    prometheus.stop();
    let (code, events, stderr) = watching.finish();
    assert_eq!(code, 1, "{events:#?}\n{stderr}");
    assert_eq!(verdicts(&events), ["hold", "hold", "rollback"]);
    let end = of_kind(&events, "end")[0];
    assert_eq!(end["outcome"], "rollback-failed");
    assert_eq!(end["rollback_hook"]["code"], 2);
    assert_eq!(
        end["advice"],
        "the rollback hook failed (exit 2): roll back by hand: sh hooks/rollback.sh"
    );
}

/// The example watch configuration loads (every policy accepts its config),
/// its hook scripts are valid shell, and run for real as configured (the
/// allowlisted environment, no backend named) they succeed, saying what they
/// would do and moving nothing.
#[test]
fn the_example_watch_config_and_hooks_are_valid_and_run_as_a_no_op() {
    use shipgate::watch::hook::{HookContext, HookKind, HookRunner, HookStatus};
    let dir = shipgate_tests::workspace().join("examples/watch");
    let config = shipgate_core::config::Config::load(&dir.join("shipgate.toml")).unwrap();
    assert_eq!(
        config.watch.plan,
        Some(shipgate_core::config::watch::Plan::playbook())
    );
    assert_eq!(config.watch.interval.0, Duration::from_secs(60));
    shipgate_engine::policy_set::PolicySet::load(&config, &crate::support::shared_cache()).unwrap();
    for hook in ["set-weight.sh", "rollback.sh"] {
        let status = Command::new("sh")
            .arg("-n")
            .arg(dir.join("hooks").join(hook))
            .status()
            .unwrap();
        assert!(status.success(), "{hook}");
    }
    let runner = HookRunner {
        timeout: config.watch.hook_timeout.0,
        dry_run: false,
        dir: config.base_dir(),
        env: config.watch.hook_env.clone(),
    };
    let context = |kind, reason: Option<&str>| HookContext {
        kind,
        phase: 1,
        percent: 10,
        previous_percent: 0,
        service: "orders".into(),
        environment: "production".into(),
        version: "v2.4.1".into(),
        reason: reason.map(str::to_owned),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let traffic = runtime.block_on(runner.run(
        config.watch.traffic_hook.as_ref(),
        &context(HookKind::Traffic, None),
    ));
    assert_eq!(
        traffic.status,
        HookStatus::Exited { code: 0 },
        "{traffic:#?}"
    );
    assert_eq!(
        traffic.stdout,
        "TRAFFIC_BACKEND=none: would move orders v2.4.1 in production from 0% to 10% of \
         traffic; nothing moved"
    );
    let rollback = runtime.block_on(runner.run(
        config.watch.rollback_hook.as_ref(),
        &context(HookKind::Rollback, Some("canary.error-rate: 5% > 2%")),
    ));
    assert_eq!(
        rollback.status,
        HookStatus::Exited { code: 0 },
        "{rollback:#?}"
    );
    assert_eq!(
        rollback.stdout,
        "TRAFFIC_BACKEND=none: would roll back orders v2.4.1 in production from 10% of \
         traffic (canary.error-rate: 5% > 2%); nothing moved"
    );
}

/// The README's recorded session, in plain lines (not a terminal): the
/// error rate rises as phase 2 begins, the rollback hook runs, and the
/// report ends with the comparison table. `cargo test -p shipgate --test
/// e2e watch::a_rollback_session -- --nocapture` prints it.
#[test]
fn a_rollback_session_in_plain_lines_ends_with_the_comparison_table() {
    let (exporter, prometheus) = start_prometheus(healthy());
    let rollout = Rollout::new(&prometheus.url(), "", WINDOW);
    std::fs::write(
        rollout.path("hooks/set-weight.sh"),
        "#!/bin/sh\necho \"weight set to $1%\"\n",
    )
    .unwrap();
    let mut child = rollout
        .command(&["--plan", "10:3s,50:10s,100:3s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.starts_with("phase 2/3") {
            exporter.set(
                "canary",
                Behaviour {
                    error_ratio: 0.08,
                    ..healthy()
                },
            );
        }
        text.push_str(&line);
    }
    let code = child.wait().unwrap().code();
    println!("RECORDED\n{text}\ncode {code:?}");
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("phase 2/3: 50% of traffic, hold 10s\n  traffic hook: `sh hooks/set-weight.sh 50` → exit 0"), "{text}");
    assert!(
        text.contains("    ROLLBACK canary.error-rate: canary error_rate "),
        "{text}"
    );
    assert!(
        text.contains("\nROLLED BACK at phase 2 of 3 (50% of traffic) after "),
        "{text}"
    );
    assert!(text.contains("| Metric | Baseline | Phase 1 (10%) | Phase 2 (50%) |\n|---|--:|--:|--:|\n| error_rate | 0.4% | 0.4% ✅ | "), "{text}");
    let error_row = text
        .lines()
        .find(|l| l.starts_with("| error_rate"))
        .unwrap();
    assert!(error_row.ends_with(" ❌ |"), "{error_row}");
    assert!(text.ends_with("\nexit 3\n"), "{text}");
    assert!(!text.contains("phase 3/3"), "{text}");
}
