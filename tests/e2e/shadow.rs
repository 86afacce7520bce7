//! A shadow canary: an advisory second `builtin:canary` trying a stricter
//! latency limit on a live rollout (Argo Rollouts' `dryRun`, Kubewarden's
//! monitor mode). Its breaches are recorded and shown, never counted by the
//! enforced canary: the rollout completes, through `shipgate watch` against
//! a real Prometheus and through `shipgate eval` of every logged interval.

use std::time::Duration;

use shipgate_engine::decision_log;
use shipgate_model::{MetricOutcome, Stage, Verdict};

use crate::support::{example, run, setup, shipgate};
use crate::watch::{
    Rollout, WINDOW, assert_every_interval_replays, metric, of_kind, slower, start_prometheus,
    verdicts,
};

/// The enforced canary counts per metric as Argo does, tolerating one
/// failed measurement of each (`failure_limit = 1`), and calls a p95 within
/// 2x of the baseline's a success; then the shadow: the same built-in,
/// advisory, rolling back above 1.10x. (It ends the enforced canary's
/// `[policies.config]`, which `Rollout` writes.)
const CANARY_AND_SHADOW: &str = r#"failure_limit = 1
success_max_latency_ratio = 2.0

[[policies]]
name = "canary-shadow"
source = "builtin:canary"
stages = ["canary"]
mode = "advisory"

[policies.config]
failure_limit = 1
max_latency_ratio = 1.10
"#;

const LATENCY: &str = "canary.latency[latency_p95]";

#[test]
fn a_shadow_canarys_breaches_are_logged_and_shown_never_counted() {
    // Slower by a ratio only the shadow's limit breaches: every interval.
    let (exporter, prometheus) = start_prometheus(slower());
    prometheus.settled(&exporter, Duration::from_secs(5));
    let rollout = Rollout::new(&prometheus.url(), CANARY_AND_SHADOW, WINDOW);
    let (code, events, stderr) = rollout.start(&["--plan", "10:3s,100:2s"]).finish_within(12);

    // The rollout completes: every interval is `go`, the traffic reached
    // 100% and nothing was rolled back.
    assert_eq!(code, 0, "{events:#?}\n{stderr}");
    let intervals = of_kind(&events, "interval");
    assert!(intervals.len() >= 3, "{intervals:#?}");
    assert!(verdicts(&events).iter().all(|v| v == "go"), "{events:#?}");
    assert_eq!(of_kind(&events, "end")[0]["outcome"], "completed");
    assert_eq!(rollout.lines("traffic.log"), ["10", "100"]);
    assert!(rollout.lines("rollback.log").is_empty());

    // The shadow's breaches are in every interval event, marked advisory,
    // and its analysis went over its own limit (its own count: a rollback it
    // asked for, not counted).
    for i in &intervals {
        let shadow: Vec<&serde_json::Value> = i["concerns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["policy"] == "canary-shadow")
            .collect();
        assert!(
            shadow
                .iter()
                .any(|c| c["rule"] == "canary.latency" && c["advisory"] == true),
            "{i}"
        );
        assert!(
            i["concerns"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["policy"] == "canary-shadow"),
            "the enforced canary found nothing: {i}"
        );
        let p95 = metric(i, "latency_p95");
        assert_ne!(p95["verdict"], "rollback", "{p95}");
    }
    assert!(
        intervals.iter().skip(1).any(|i| i["concerns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["rule"] == "canary.failure-limit" && c["verdict"] == "rollback")),
        "the shadow's own count never reached its limit: {intervals:#?}"
    );

    // The log: each interval's history holds what each policy found, the
    // shadow's latency failures under its own name only.
    let records = decision_log::read(&rollout.path("decisions.jsonl")).unwrap();
    let last = records.last().unwrap();
    let history = &last.snapshot.rollout.as_ref().unwrap().history;
    assert_eq!(history.len(), records.len() - 1);
    for entry in history {
        assert!(entry.rules.is_empty(), "{entry:?}");
        assert_eq!(entry.verdict, Verdict::Go);
        let canary = entry
            .policies
            .iter()
            .find(|p| p.policy == "canary")
            .unwrap();
        let shadow = entry
            .policies
            .iter()
            .find(|p| p.policy == "canary-shadow")
            .unwrap();
        assert!(!canary.advisory && canary.rules.is_empty(), "{canary:?}");
        assert!(shadow.advisory, "{shadow:?}");
        assert!(shadow.rules.iter().any(|r| r == LATENCY), "{shadow:?}");
        let p95 = shadow
            .metrics
            .iter()
            .find(|m| m.metric == "latency_p95")
            .unwrap();
        assert_eq!(p95.outcome, MetricOutcome::Failed, "{shadow:?}");
    }

    // `shipgate eval` of every logged interval decides it again the same
    // way, and its report marks the shadow's findings as not counted.
    assert_every_interval_replays(&rollout, &events);
    let entry = records.len().to_string();
    let (code, text, stderr) = run(shipgate().current_dir(rollout.dir.path()).args([
        "eval",
        "--from-log",
        "decisions.jsonl",
        "--entry",
        &entry,
    ]));
    assert_eq!(code, 0, "{text}\n{stderr}");
    let line = text
        .lines()
        .find(|l| l.contains("rollback") && l.contains("canary.latency"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("(advisory: not counted)"), "{text}");
}

/// The README's shadow example: the enforced canary counts one failed
/// interval, its own, and holds; the shadow counts its latency breach before
/// and the error rate now, and would roll back (not counted). The same
/// history as a log from before per-policy results wrote it (every policy's
/// rule ids in one list) is counted as it was then: the shadow's breach too,
/// and the enforced canary rolls back.
#[test]
fn the_shadow_example_holds_and_an_older_history_is_counted_as_it_was() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let toml = std::fs::read_to_string(root.join("examples/shadow/shipgate.toml")).unwrap();
    let set = setup(&toml);
    let policies = set.policies();
    let snapshot = example("canary-shadow-breach");
    let report = policies.evaluate(Stage::Canary, &snapshot);
    assert_eq!(report.verdict, Verdict::Hold, "{report:#?}");
    let shadow = report
        .policies
        .iter()
        .find(|p| p.name == "canary-shadow")
        .unwrap();
    assert_eq!(
        (shadow.verdict, shadow.counted),
        (Some(Verdict::Rollback), false)
    );

    let mut older = snapshot.clone();
    for entry in &mut older.rollout.as_mut().unwrap().history {
        let mut rules: Vec<String> = entry.policies.drain(..).flat_map(|p| p.rules).collect();
        rules.sort();
        rules.dedup();
        entry.rules = rules;
    }
    let report = policies.evaluate(Stage::Canary, &older);
    assert_eq!(report.verdict, Verdict::Rollback, "{report:#?}");
}
