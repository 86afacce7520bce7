//! The policy's unit tests, run natively.

use super::*;
use shipgate_sdk::model::{IntervalResult, StaleValue};
use shipgate_sdk::testing::{evaluate, snapshot_from_json};

const P95: &str = "latency_p95";
const P99: &str = "latency_p99";

fn v(x: f64) -> Measurement {
    Measurement::Value(x)
}

fn metric(name: &str, baseline: Measurement, canary: Measurement) -> Metric {
    Metric {
        name: name.into(),
        unit: None,
        baseline,
        canary,
    }
}

/// A healthy canary: error rate below baseline, latency within 10%.
fn healthy() -> Snapshot {
    let mut s = snapshot_from_json(
        r#"{
          "deployment": { "service": "checkout", "environment": "production", "version": "2.0.0",
                          "commit": "abc123", "requested_at": "2026-11-20T10:00:00Z" },
          "rollout": { "strategy": "canary", "phase": 0, "traffic_percent": 10,
                       "seconds_in_phase": 600,
                       "steps": [{ "traffic_percent": 10, "hold_seconds": 600 },
                                 { "traffic_percent": 100, "hold_seconds": 1800 }] }
        }"#,
    )
    .unwrap();
    s.metrics = vec![
        metric("error_rate", v(0.003), v(0.002)),
        metric(P95, v(0.25), v(0.245)),
        metric(P99, v(0.5), v(0.5)),
        metric("cpu_usage", v(0.4), v(0.45)),
        metric("memory_usage", v(0.5), v(0.55)),
    ];
    s
}

fn set(s: &mut Snapshot, name: &str, baseline: Measurement, canary: Measurement) {
    s.metrics.retain(|m| m.name != name);
    s.metrics.push(metric(name, baseline, canary));
}

fn with(name: &str, baseline: Measurement, canary: Measurement) -> Snapshot {
    let mut s = healthy();
    set(&mut s, name, baseline, canary);
    s
}

fn run(s: &Snapshot, config: &str) -> Decision {
    evaluate::<Canary>(Stage::Canary, s, config).unwrap()
}

/// The rules that asked for `verdict`.
fn rules(d: &Decision, verdict: Verdict) -> Vec<&str> {
    d.findings
        .iter()
        .filter(|f| f.verdict == verdict)
        .map(|f| f.rule.as_str())
        .collect()
}

fn finding<'d>(d: &'d Decision, rule: &str, verdict: Verdict) -> &'d Finding {
    d.findings
        .iter()
        .find(|f| f.rule == rule && f.verdict == verdict)
        .unwrap_or_else(|| panic!("no {verdict} finding {rule} in {d:#?}"))
}

fn assert_rollback(d: &Decision, rule: &str) {
    assert_eq!(d.verdict, Verdict::Rollback, "{d:#?}");
    finding(d, rule, Verdict::Rollback);
}

fn assert_hold(d: &Decision, rule: &str) {
    assert_eq!(d.verdict, Verdict::Hold, "{d:#?}");
    finding(d, rule, Verdict::Hold);
}

fn history(missing: &[bool]) -> Vec<IntervalResult> {
    missing
        .iter()
        .enumerate()
        .map(|(i, &m)| IntervalResult {
            phase: 0,
            at: shipgate_sdk::model::Timestamp(1_000 * i as i64),
            verdict: if m { Verdict::Hold } else { Verdict::Go },
            data_missing: m,
            rules: vec![],
            policies: vec![],
        })
        .collect()
}

#[test]
fn healthy_canary_is_promoted_and_shows_what_was_checked() {
    let d = run(&healthy(), "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    let go = rules(&d, Verdict::Go);
    for rule in [
        RULE_ERROR_RATE,
        RULE_LATENCY,
        RULE_ALERTS,
        RULE_NEW_CRITICAL_ERRORS,
        RULE_SUCCESS,
    ] {
        assert!(go.contains(&rule), "{rule} missing from {go:?}");
    }
    // One passing latency finding per latency metric, naming it.
    let latency: Vec<Option<&str>> = d
        .findings
        .iter()
        .filter(|f| f.rule == RULE_LATENCY)
        .map(|f| f.metric.as_deref())
        .collect();
    assert_eq!(latency, [Some("latency_p95"), Some("latency_p99")]);
    let e = finding(&d, RULE_ERROR_RATE, Verdict::Go)
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        (e.observed.as_str(), e.expected.as_str()),
        ("0.20%", "<= 2.00%")
    );
    // Unset thresholds are not checked.
    assert!(!go.contains(&RULE_CPU) && !go.contains(&RULE_ERROR_RATE_INCREASE));
}

#[test]
fn error_rate_ceiling_boundary() {
    // Baseline above both, so only the ceiling decides.
    let at = with("error_rate", v(0.03), v(0.02));
    assert_eq!(run(&at, "{}").verdict, Verdict::Go);
    let d = run(&with("error_rate", v(0.03), v(0.0201)), "{}");
    assert_rollback(&d, RULE_ERROR_RATE);
    let e = finding(&d, RULE_ERROR_RATE, Verdict::Rollback)
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        (e.observed.as_str(), e.expected.as_str()),
        ("2.01%", "<= 2.00%")
    );
    // Playbook 003: immediate rollback above 10%.
    let s = with("error_rate", v(0.2), v(0.09));
    assert_eq!(run(&s, r#"{"max_error_rate": 0.10}"#).verdict, Verdict::Go);
    let s = with("error_rate", v(0.2), v(0.11));
    assert_rollback(&run(&s, r#"{"max_error_rate": 0.10}"#), RULE_ERROR_RATE);
    // null turns the ceiling off.
    let d = run(&s, r#"{"max_error_rate": null}"#);
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
}

#[test]
fn error_rate_increase_in_points_with_boundary() {
    let cfg = r#"{"max_error_rate": null, "max_error_rate_increase": 0.05}"#;
    // +5 points exactly (0.07 - 0.02 is 0.05000000000000001 in floats).
    let d = run(&with("error_rate", v(0.02), v(0.07)), cfg);
    assert_eq!(rules(&d, Verdict::Rollback), Vec::<&str>::new(), "{d:#?}");
    assert!(rules(&d, Verdict::Go).contains(&RULE_ERROR_RATE_INCREASE));
    let d = run(&with("error_rate", v(0.02), v(0.0701)), cfg);
    assert_rollback(&d, RULE_ERROR_RATE_INCREASE);
    let e = finding(&d, RULE_ERROR_RATE_INCREASE, Verdict::Rollback)
        .evidence
        .clone()
        .unwrap();
    assert_eq!(e.observed, "+5.01 points (7.01% vs 2.00% baseline)");
    assert_eq!(e.expected, "<= +5.00 points");
    // Below the increase but above the baseline: not a success yet.
    let d = run(&with("error_rate", v(0.02), v(0.03)), cfg);
    assert_hold(&d, RULE_INCONCLUSIVE);
}

#[test]
fn error_rate_success_criterion() {
    // Equal to the baseline is a success.
    let d = run(&with("error_rate", v(0.003), v(0.003)), "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    // Above the baseline, below the ceiling: hold, with evidence.
    let d = run(&with("error_rate", v(0.003), v(0.004)), "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert!(f.message.contains("error_rate"), "{}", f.message);
    let e = f.evidence.clone().unwrap();
    assert_eq!(e.observed, "0.40% (1.33x baseline 0.30%)");
    assert_eq!(e.expected, "<= 0.30% (1.00x baseline)");
    // A looser success ratio accepts it.
    let d = run(
        &with("error_rate", v(0.003), v(0.004)),
        r#"{"success_max_error_ratio": 1.5}"#,
    );
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
}

#[test]
fn zero_error_baseline_holds_below_the_ceiling_and_rolls_back_above_it() {
    // The stable version has no errors, the canary has 1%: below the 2%
    // ceiling, so no rollback, but "error rate <= baseline" is not met.
    let d = run(&with("error_rate", v(0.0), v(0.01)), "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    let f = finding(&d, RULE_ERROR_RATE, Verdict::Go);
    assert!(f.message.contains("not meaningful"), "{}", f.message);
    assert_rollback(
        &run(&with("error_rate", v(0.0), v(0.03)), "{}"),
        RULE_ERROR_RATE,
    );
    // No ceiling: still not a success.
    let d = run(
        &with("error_rate", v(0.0), v(0.01)),
        r#"{"max_error_rate": null}"#,
    );
    assert_hold(&d, RULE_INCONCLUSIVE);
    // 0 against 0 is no change.
    assert_eq!(
        run(&with("error_rate", v(0.0), v(0.0)), "{}").verdict,
        Verdict::Go
    );
}

#[test]
fn latency_rollback_boundary_and_success_vs_inconclusive() {
    // Exactly 2.0x passes the rollback limit (but is no success).
    let d = run(&with(P95, v(0.25), v(0.5)), "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    assert!(rules(&d, Verdict::Go).contains(&RULE_LATENCY));
    // Just above 2.0x rolls back, naming the metric.
    let d = run(&with(P95, v(0.25), v(0.5001)), "{}");
    assert_rollback(&d, RULE_LATENCY);
    // 1.05x: success.
    let d = run(&with(P95, v(0.2), v(0.21)), "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    assert!(rules(&d, Verdict::Go).contains(&RULE_SUCCESS));
    // Exactly 1.10x is within 10%.
    assert_eq!(run(&with(P95, v(0.2), v(0.22)), "{}").verdict, Verdict::Go);
    // 1.5x: hold, saying which metric and by how much.
    let d = run(&with(P95, v(0.2), v(0.3)), "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert!(f.message.contains(P95), "{}", f.message);
    let e = f.evidence.clone().unwrap();
    assert_eq!(e.observed, "1.50x (300 ms vs 200 ms baseline)");
    assert_eq!(e.expected, "<= 1.10x baseline");
    // 2.5x: rollback, with evidence in human units.
    let d = run(&with(P95, v(0.25), v(0.625)), "{}");
    assert_rollback(&d, RULE_LATENCY);
    let f = finding(&d, RULE_LATENCY, Verdict::Rollback);
    assert!(f.message.contains(P95), "{}", f.message);
    let e = f.evidence.clone().unwrap();
    assert_eq!(e.observed, "2.50x (625 ms vs 250 ms baseline)");
    assert_eq!(e.expected, "<= 2.00x baseline");
    // No success/inconclusive noise next to a rollback.
    assert!(rules(&d, Verdict::Hold).is_empty(), "{d:#?}");
}

#[test]
fn latency_one_rollback_finding_per_metric() {
    let mut s = healthy();
    set(&mut s, P95, v(0.2), v(0.5));
    set(&mut s, P99, v(0.4), v(1.0));
    let d = run(&s, "{}");
    let rolled: Vec<&Finding> = d
        .findings
        .iter()
        .filter(|f| f.rule == RULE_LATENCY && f.verdict == Verdict::Rollback)
        .collect();
    assert_eq!(rolled.len(), 2);
    assert!(rolled[0].message.contains(P95) && rolled[1].message.contains(P99));
}

#[test]
fn performance_degradation_over_50_percent() {
    let cfg = r#"{"max_latency_ratio": 1.5}"#;
    assert_hold(&run(&with(P95, v(0.2), v(0.3)), cfg), RULE_INCONCLUSIVE);
    assert_rollback(&run(&with(P95, v(0.2), v(0.31)), cfg), RULE_LATENCY);
}

#[test]
fn latency_units() {
    let mut s = healthy();
    s.metrics.retain(|m| m.name != P95);
    s.metrics.push(Metric {
        name: P95.into(),
        unit: Some("ms".into()),
        baseline: v(250.0),
        canary: v(600.0),
    });
    let d = run(&s, "{}");
    let e = finding(&d, RULE_LATENCY, Verdict::Rollback)
        .evidence
        .clone()
        .unwrap();
    assert_eq!(e.observed, "2.40x (600 ms vs 250 ms baseline)");
}

#[test]
fn samples_count_as_their_mean() {
    let samples = |xs: &[f64]| Measurement::Samples(xs.to_vec());
    let d = run(
        &with(P95, samples(&[0.2, 0.2]), samples(&[0.2, 0.22])),
        "{}",
    );
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    let d = run(&with(P95, samples(&[0.2, 0.2]), samples(&[0.5, 0.7])), "{}");
    assert_rollback(&d, RULE_LATENCY);
    let d = run(&with("error_rate", v(0.01), samples(&[0.01, 0.04])), "{}");
    assert_rollback(&d, RULE_ERROR_RATE);
    // Empty samples are missing data.
    let d = run(&with(P95, v(0.2), samples(&[])), "{}");
    assert_hold(&d, RULE_DATA_MISSING);
}

#[test]
fn every_form_of_missing_data_holds_and_names_the_metric() {
    let forms = [
        Measurement::NoData,
        Measurement::Error("timeout".into()),
        Measurement::Stale(StaleValue {
            value: 0.001,
            age_seconds: 900,
        }),
        v(f64::NAN),
    ];
    for form in forms {
        for name in ["error_rate", P95, P99] {
            for canary_side in [true, false] {
                let good = if name == "error_rate" {
                    v(0.003)
                } else {
                    v(0.25)
                };
                let s = if canary_side {
                    with(name, good, form.clone())
                } else {
                    with(name, form.clone(), good)
                };
                let d = run(&s, "{}");
                assert_hold(&d, RULE_DATA_MISSING);
                let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
                assert!(f.message.contains(name), "{}", f.message);
                let reason = form.missing_reason().unwrap();
                assert!(f.message.contains(&reason), "{} / {reason}", f.message);
                assert!(!rules(&d, Verdict::Go).contains(&RULE_SUCCESS));
            }
        }
    }
}

#[test]
fn absent_metric_and_zero_latency_baseline_hold() {
    let mut s = healthy();
    s.metrics.retain(|m| m.name != P99);
    let d = run(&s, "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
    assert!(f.message.contains(P99) && f.message.contains("not in the snapshot"));

    let mut s = healthy();
    s.metrics.clear();
    let d = run(&s, "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    assert_eq!(rules(&d, Verdict::Hold).len(), 3, "{d:#?}");

    let d = run(&with(P95, v(0.0), v(0.2)), "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
    assert!(f.message.contains("not meaningful"), "{}", f.message);
}

#[test]
fn prometheus_gap_is_missing_data() {
    let mut s = healthy();
    s.gaps.push(shipgate_sdk::model::Gap {
        source: "prometheus".into(),
        reason: "connection refused".into(),
    });
    let d = run(&s, "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    assert!(!rules(&d, Verdict::Go).contains(&RULE_SUCCESS));
    let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
    assert!(f.message.contains("connection refused"), "{}", f.message);
    // With the source in a gap, nothing claims that no alert is firing.
    let alerts = finding(&d, RULE_ALERTS, Verdict::Go);
    assert!(
        alerts.message.contains("may be unknown") && !alerts.message.contains("is firing"),
        "{}",
        alerts.message
    );
    // A gap for another source is not about the metrics.
    let mut s = healthy();
    s.gaps.push(shipgate_sdk::model::Gap {
        source: "github".into(),
        reason: "rate limited".into(),
    });
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
}

#[test]
fn the_prometheus_down_example_holds() {
    let s = snapshot_from_json(
        r#"{
          "deployment": { "service": "checkout", "environment": "production", "version": "2.14.1",
                          "commit": "9c1e4f2a7b", "requested_at": "2026-11-18T14:05:00Z" },
          "metrics": [{ "name": "error_rate",
                        "baseline": { "error": "connection refused" },
                        "canary": { "error": "connection refused" } }],
          "gaps": [{ "source": "prometheus", "reason": "connection refused" }]
        }"#,
    )
    .unwrap();
    let d = run(&s, "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    // No rollout: only this interval counts, 1 < 3.
    let f = finding(&d, RULE_NO_DATA_LIMIT, Verdict::Go);
    let e = f.evidence.clone().unwrap();
    assert_eq!(e.observed, "1 consecutive interval without data");
    assert_eq!(e.expected, "< 3");
}

#[test]
fn breaches_we_can_see_roll_back_even_with_missing_data() {
    let mut s = with("error_rate", Measurement::NoData, v(0.05));
    set(&mut s, P99, v(0.5), Measurement::NoData);
    let d = run(&s, "{}");
    assert_rollback(&d, RULE_ERROR_RATE);
    assert!(rules(&d, Verdict::Hold).contains(&RULE_DATA_MISSING));

    let mut s = with(P95, v(0.2), v(0.9));
    s.gaps.push(shipgate_sdk::model::Gap {
        source: "prometheus".into(),
        reason: "partial".into(),
    });
    assert_rollback(&run(&s, "{}"), RULE_LATENCY);
}

#[test]
fn no_data_limit_counts_trailing_missing_intervals() {
    let missing_now = with(P95, v(0.25), Measurement::NoData);

    // 2 trailing missing + now = 3 → rollback.
    let mut s = missing_now.clone();
    s.rollout.as_mut().unwrap().history = history(&[false, true, true]);
    let d = run(&s, "{}");
    assert_rollback(&d, RULE_NO_DATA_LIMIT);
    let e = finding(&d, RULE_NO_DATA_LIMIT, Verdict::Rollback)
        .evidence
        .clone()
        .unwrap();
    assert_eq!(e.observed, "3 consecutive intervals without data");
    assert_eq!(e.expected, "< 3");

    // An interval with data in between ends the streak: 1 + now = 2 → hold.
    let mut s = missing_now.clone();
    s.rollout.as_mut().unwrap().history = history(&[true, false, true]);
    let d = run(&s, "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    let e = finding(&d, RULE_NO_DATA_LIMIT, Verdict::Go)
        .evidence
        .clone()
        .unwrap();
    assert_eq!(e.observed, "2 consecutive intervals without data");

    // Data present now: no streak, whatever the history says.
    let mut s = healthy();
    s.rollout.as_mut().unwrap().history = history(&[true, true, true]);
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");

    // No rollout: only the current interval counts.
    let mut s = missing_now.clone();
    s.rollout = None;
    assert_hold(&run(&s, "{}"), RULE_DATA_MISSING);
    assert_rollback(
        &run(&s, r#"{"max_intervals_without_data": 1}"#),
        RULE_NO_DATA_LIMIT,
    );
}

#[test]
fn no_rollout_still_judges_the_metrics() {
    let mut s = healthy();
    s.rollout = None;
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    set(&mut s, "error_rate", v(0.003), v(0.05));
    assert_rollback(&run(&s, "{}"), RULE_ERROR_RATE);
}

#[test]
fn cpu_and_memory_only_when_set() {
    let mut s = with("cpu_usage", v(0.5), v(0.95));
    set(&mut s, "memory_usage", v(0.5), v(0.95));
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);

    let cfg = r#"{"max_cpu": 0.80, "max_memory": 0.85}"#;
    let d = run(&with("cpu_usage", v(0.5), v(0.80)), cfg);
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    assert!(rules(&d, Verdict::Go).contains(&RULE_CPU));
    assert!(rules(&d, Verdict::Go).contains(&RULE_MEMORY));
    let d = run(&with("cpu_usage", v(0.5), v(0.81)), cfg);
    assert_rollback(&d, RULE_CPU);
    let e = finding(&d, RULE_CPU, Verdict::Rollback)
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        (e.observed.as_str(), e.expected.as_str()),
        ("81.00%", "<= 80.00%")
    );
    assert_eq!(
        run(&with("memory_usage", v(0.5), v(0.85)), cfg).verdict,
        Verdict::Go
    );
    assert_rollback(
        &run(&with("memory_usage", v(0.5), v(0.86)), cfg),
        RULE_MEMORY,
    );

    // Required once set; the baseline is not needed for a ceiling.
    assert_hold(
        &run(&with("cpu_usage", v(0.5), Measurement::NoData), cfg),
        RULE_DATA_MISSING,
    );
    assert_eq!(
        run(&with("cpu_usage", Measurement::NoData, v(0.5)), cfg).verdict,
        Verdict::Go
    );
    let mut s = healthy();
    s.metrics.retain(|m| m.name != "memory_usage");
    assert_hold(&run(&s, cfg), RULE_DATA_MISSING);
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
}

fn alert(name: &str, severity: Option<&str>) -> Alert {
    Alert {
        name: name.into(),
        severity: severity.map(Into::into),
        since: None,
        labels: Default::default(),
    }
}

#[test]
fn alerts_with_and_without_matching_severity() {
    let mut s = healthy();
    s.alerts = vec![alert("HighLatency", Some("warning")), alert("Flaky", None)];
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    let f = finding(&d, RULE_ALERTS, Verdict::Go);
    assert!(f.message.contains("HighLatency (warning)"), "{}", f.message);

    s.alerts.push(alert("Api5xx", Some("Critical")));
    let d = run(&s, "{}");
    assert_rollback(&d, RULE_ALERTS);
    let f = finding(&d, RULE_ALERTS, Verdict::Rollback);
    assert!(f.message.contains("Api5xx") && !f.message.contains("HighLatency"));

    // An empty list means any alert; the switch turns the rule off.
    let mut s = healthy();
    s.alerts = vec![alert("Flaky", None)];
    assert_rollback(&run(&s, r#"{"alert_severities": []}"#), RULE_ALERTS);
    s.alerts = vec![alert("HighLatency", Some("warning"))];
    assert_rollback(
        &run(&s, r#"{"alert_severities": ["critical", "warning"]}"#),
        RULE_ALERTS,
    );
    s.alerts = vec![alert("Api5xx", Some("critical"))];
    let d = run(&s, r#"{"rollback_on_alerts": false}"#);
    assert_eq!(d.verdict, Verdict::Go);
    assert!(!rules(&d, Verdict::Go).contains(&RULE_ALERTS));
}

#[test]
fn new_critical_error_signatures_roll_back() {
    let sig = |s: &str, new, critical| ErrorSignature {
        signature: s.into(),
        count: 14,
        new,
        critical,
    };
    let mut s = healthy();
    s.error_signatures = vec![
        sig("TimeoutError in cache", true, false),
        sig("OutOfMemory in worker", false, true),
    ];
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);

    s.error_signatures
        .push(sig("NullPointerException at Payment.charge", true, true));
    let d = run(&s, "{}");
    assert_rollback(&d, RULE_NEW_CRITICAL_ERRORS);
    let f = finding(&d, RULE_NEW_CRITICAL_ERRORS, Verdict::Rollback);
    assert!(
        f.message.contains("NullPointerException at Payment.charge")
            && !f.message.contains("TimeoutError"),
        "{}",
        f.message
    );
    let d = run(&s, r#"{"rollback_on_new_critical_errors": false}"#);
    assert_eq!(d.verdict, Verdict::Go);
}

#[test]
fn long_lists_are_shortened() {
    let mut s = healthy();
    s.alerts = (0..8)
        .map(|i| alert(&format!("A{i}"), Some("critical")))
        .collect();
    let f = run(&s, "{}")
        .findings
        .into_iter()
        .find(|f| f.rule == RULE_ALERTS)
        .unwrap();
    assert!(
        f.message.contains("A4 (critical) and 3 more"),
        "{}",
        f.message
    );
}

#[test]
fn decide_is_what_evaluate_returns() {
    let s = with(P95, v(0.2), v(0.3));
    assert_eq!(decide(Stage::Canary, &s, &Config::default()), run(&s, "{}"));
}

#[test]
fn config_errors_name_the_key() {
    let err = |json: &str| shipgate_sdk::parse_config::<Canary>(json).unwrap_err();
    assert!(shipgate_sdk::parse_config::<Canary>("{}").is_ok());
    assert_eq!(
        shipgate_sdk::parse_config::<Canary>("{}").unwrap(),
        Config::default()
    );
    for (json, key) in [
        (r#"{"max_error_rate": -0.1}"#, "max_error_rate"),
        (r#"{"max_error_rate": 1.5}"#, "max_error_rate"),
        (
            r#"{"max_error_rate_increase": 2}"#,
            "max_error_rate_increase",
        ),
        (r#"{"max_cpu": 80}"#, "max_cpu"),
        (r#"{"max_memory": -1}"#, "max_memory"),
        (r#"{"max_latency_ratio": 1.0}"#, "max_latency_ratio"),
        (r#"{"max_latency_ratio": 0.5}"#, "max_latency_ratio"),
        (
            r#"{"success_max_error_ratio": 0.9}"#,
            "success_max_error_ratio",
        ),
        (
            r#"{"success_max_latency_ratio": 0.99}"#,
            "success_max_latency_ratio",
        ),
        (
            r#"{"max_latency_ratio": 1.5, "success_max_latency_ratio": 1.6}"#,
            "success_max_latency_ratio",
        ),
        (
            r#"{"max_intervals_without_data": 0}"#,
            "max_intervals_without_data",
        ),
        (
            r#"{"max_intervals_without_data": -1}"#,
            "max_intervals_without_data",
        ),
        (r#"{"error_rate_metric": ""}"#, "error_rate_metric"),
        (
            r#"{"latency_metrics": ["latency_p95", " "]}"#,
            "latency_metrics[1]",
        ),
        (r#"{"max_cpu": "0.8"}"#, "max_cpu"),
    ] {
        assert_eq!(err(json).key, key, "{json}");
    }
    let e = err(r#"{"max_error_rat": 0.1}"#);
    assert!(e.message.contains("unknown field `max_error_rat`"), "{e}");
    // Boundaries that are accepted.
    for json in [
        r#"{"max_error_rate": 0, "max_cpu": 1, "max_memory": 1}"#,
        r#"{"success_max_error_ratio": 1, "success_max_latency_ratio": 1}"#,
        r#"{"max_latency_ratio": 1.1, "success_max_latency_ratio": 1.1}"#,
        r#"{"max_latency_ratio": null, "success_max_latency_ratio": 3}"#,
        r#"{"max_intervals_without_data": 1}"#,
    ] {
        assert!(shipgate_sdk::parse_config::<Canary>(json).is_ok(), "{json}");
    }
}

#[test]
fn info_names_the_policy() {
    let info = Canary::info();
    assert_eq!(info.name, "canary");
    assert_eq!(info.stages, vec![Stage::Canary]);
}

#[test]
fn info_declares_its_rules() {
    shipgate_sdk::testing::check_rules::<Canary>().unwrap();
}

// ---------------------------------------------------------------------------
// Interval limits: failed, inconclusive, without data.

/// An earlier interval in `phase` whose decision held `rules`.
fn interval(phase: u32, rules: &[&str], data_missing: bool) -> IntervalResult {
    IntervalResult {
        phase,
        at: shipgate_sdk::model::Timestamp(1_000 * i64::from(phase)),
        verdict: if rules.is_empty() {
            Verdict::Go
        } else {
            Verdict::Hold
        },
        data_missing,
        rules: rules.iter().map(|r| r.to_string()).collect(),
        policies: vec![],
    }
}

fn with_history(mut s: Snapshot, history: Vec<IntervalResult>) -> Snapshot {
    s.rollout.as_mut().unwrap().history = history;
    s
}

/// A canary whose error rate breaches the 2% ceiling, all else healthy.
fn error_breach() -> Snapshot {
    with("error_rate", v(0.003), v(0.05))
}

/// A canary 1.5x slower than the baseline: inconclusive, no breach.
fn inconclusive_now() -> Snapshot {
    with(P95, v(0.2), v(0.3))
}

fn evidence(d: &Decision, rule: &str, verdict: Verdict) -> (String, String) {
    let e = finding(d, rule, verdict).evidence.clone().unwrap();
    (e.observed, e.expected)
}

#[test]
fn failure_limit_default_rolls_back_on_the_first_breach() {
    let d = run(&error_breach(), "{}");
    assert_rollback(&d, RULE_ERROR_RATE);
    let f = finding(&d, RULE_FAILURE_LIMIT, Verdict::Rollback);
    assert_eq!(
        f.message,
        "1 failed interval (this one), reaching the limit of 1: roll back"
    );
    assert_eq!(
        evidence(&d, RULE_FAILURE_LIMIT, Verdict::Rollback),
        ("1 failed interval".into(), "< 1".into())
    );
    // No breach, no failure-limit finding, whatever the history says.
    let s = with_history(healthy(), vec![interval(0, &[RULE_ERROR_RATE], false); 3]);
    let d = run(&s, r#"{"max_failed_intervals": 2}"#);
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    assert!(d.findings.iter().all(|f| f.rule != RULE_FAILURE_LIMIT));
}

#[test]
fn failure_below_the_limit_holds_and_is_never_go() {
    let cfg = r#"{"max_failed_intervals": 2}"#;
    let d = run(&error_breach(), cfg);
    assert_hold(&d, RULE_ERROR_RATE);
    assert!(rules(&d, Verdict::Rollback).is_empty(), "{d:#?}");
    let f = finding(&d, RULE_ERROR_RATE, Verdict::Hold);
    assert!(
        f.message
            .ends_with("; failed interval 1 of the 1 allowed before a rollback: hold"),
        "{}",
        f.message
    );
    // The evidence of the breach is kept.
    assert_eq!(
        evidence(&d, RULE_ERROR_RATE, Verdict::Hold),
        ("5.00%".into(), "<= 2.00%".into())
    );
    let f = finding(&d, RULE_FAILURE_LIMIT, Verdict::Hold);
    assert!(
        f.message.starts_with(
            "failed interval 1 of the 1 allowed before a rollback (max_failed_intervals = 2)"
        ),
        "{}",
        f.message
    );
    assert_eq!(
        evidence(&d, RULE_FAILURE_LIMIT, Verdict::Hold),
        ("1 failed interval".into(), "< 2".into())
    );
    // A held breach is neither a success nor an inconclusive interval.
    assert!(
        d.findings
            .iter()
            .all(|f| f.rule != RULE_SUCCESS && f.rule != RULE_INCONCLUSIVE),
        "{d:#?}"
    );

    // Every trigger is held, each with its own finding; none is go.
    let mut s = with(P95, v(0.2), v(0.5));
    s.alerts = vec![alert("Api5xx", Some("critical"))];
    set(&mut s, "cpu_usage", v(0.4), v(0.95));
    let d = run(&s, r#"{"max_failed_intervals": 3, "max_cpu": 0.8}"#);
    assert_eq!(d.verdict, Verdict::Hold, "{d:#?}");
    let held = rules(&d, Verdict::Hold);
    for rule in [RULE_LATENCY, RULE_ALERTS, RULE_CPU, RULE_FAILURE_LIMIT] {
        assert!(held.contains(&rule), "{rule} not held in {held:?}");
    }
    assert!(!rules(&d, Verdict::Go).contains(&RULE_SUCCESS));
    // Second failed interval of 3: 2 of the 2 allowed.
    let s = with_history(error_breach(), vec![interval(0, &[RULE_LATENCY], false)]);
    let d = run(&s, r#"{"max_failed_intervals": 3}"#);
    assert_hold(&d, RULE_FAILURE_LIMIT);
    assert!(
        finding(&d, RULE_ERROR_RATE, Verdict::Hold)
            .message
            .contains("failed interval 2 of the 2 allowed"),
        "{d:#?}"
    );
}

#[test]
fn failure_limit_at_and_above_rolls_back() {
    let cfg = r#"{"max_failed_intervals": 2}"#;
    // At: the second failed interval.
    let held = interval(0, &[RULE_ERROR_RATE, RULE_FAILURE_LIMIT], false);
    let s = with_history(error_breach(), vec![interval(0, &[], false), held.clone()]);
    let d = run(&s, cfg);
    assert_rollback(&d, RULE_ERROR_RATE);
    let f = finding(&d, RULE_FAILURE_LIMIT, Verdict::Rollback);
    assert_eq!(
        f.message,
        "2 failed intervals (this one and 1 before it), reaching the limit of 2: roll back"
    );
    assert_eq!(
        evidence(&d, RULE_FAILURE_LIMIT, Verdict::Rollback),
        ("2 failed intervals".into(), "< 2".into())
    );
    // Above (say the limit was raised mid-rollout, or a rollback failed).
    let s = with_history(error_breach(), vec![held; 3]);
    let d = run(&s, cfg);
    assert_rollback(&d, RULE_FAILURE_LIMIT);
    assert_eq!(
        evidence(&d, RULE_FAILURE_LIMIT, Verdict::Rollback).0,
        "4 failed intervals"
    );
}

#[test]
fn failure_count_spans_phases_and_reads_only_trigger_rules() {
    let cfg = r#"{"max_failed_intervals": 2}"#;
    let mut now = error_breach();
    now.rollout.as_mut().unwrap().phase = 2;
    // A failure in phase 0 still counts in phase 2.
    let s = with_history(
        now.clone(),
        vec![
            interval(0, &[RULE_NEW_CRITICAL_ERRORS, RULE_FAILURE_LIMIT], false),
            interval(1, &[], false),
            interval(2, &[RULE_INCONCLUSIVE], false),
        ],
    );
    assert_rollback(&run(&s, cfg), RULE_FAILURE_LIMIT);
    // Every trigger rule marks a failed interval.
    for rule in TRIGGER_RULES {
        let s = with_history(now.clone(), vec![interval(0, &[rule], false)]);
        assert_rollback(&run(&s, cfg), RULE_FAILURE_LIMIT);
    }
    // Other rules do not, nor does a past verdict without rules.
    let mut rolled_back_without_rules = interval(0, &[], false);
    rolled_back_without_rules.verdict = Verdict::Rollback;
    let s = with_history(
        now,
        vec![
            interval(0, &[RULE_INCONCLUSIVE], false),
            interval(0, &[RULE_DATA_MISSING, RULE_NO_DATA_LIMIT], true),
            interval(1, &["readiness.tests-failed", "canary.unknown"], false),
            rolled_back_without_rules,
        ],
    );
    let d = run(&s, cfg);
    assert_hold(&d, RULE_FAILURE_LIMIT);
    assert_eq!(
        evidence(&d, RULE_FAILURE_LIMIT, Verdict::Hold).0,
        "1 failed interval"
    );
}

#[test]
fn a_held_breach_still_counts_missing_data() {
    // A breach held below the limit next to missing data: both say so, and
    // the no-data limit still rolls back on its own.
    let mut s = error_breach();
    set(&mut s, P99, v(0.5), Measurement::NoData);
    let cfg = r#"{"max_failed_intervals": 2}"#;
    let d = run(&s, cfg);
    assert_hold(&d, RULE_FAILURE_LIMIT);
    assert!(rules(&d, Verdict::Hold).contains(&RULE_DATA_MISSING));
    let s = with_history(s, history(&[true, true]));
    assert_rollback(&run(&s, cfg), RULE_NO_DATA_LIMIT);
}

#[test]
fn inconclusive_limit_at_below_and_above() {
    let past = |n: usize| vec![interval(0, &[RULE_INCONCLUSIVE], false); n];
    // At the default limit: 9 before + this one = 10.
    let d = run(&with_history(inconclusive_now(), past(9)), "{}");
    assert_rollback(&d, RULE_INCONCLUSIVE_LIMIT);
    assert_eq!(
        finding(&d, RULE_INCONCLUSIVE_LIMIT, Verdict::Rollback).message,
        "the canary has not met its success criteria in 10 intervals (this one and 9 before \
         it), reaching the limit of 10: roll back"
    );
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE_LIMIT, Verdict::Rollback),
        ("10 inconclusive intervals".into(), "< 10".into())
    );
    // The unmet criterion is still shown.
    assert!(rules(&d, Verdict::Hold).contains(&RULE_INCONCLUSIVE));
    // Below: 8 + 1 = 9, a go note with the count.
    let d = run(&with_history(inconclusive_now(), past(8)), "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE_LIMIT, Verdict::Go),
        ("9 inconclusive intervals".into(), "< 10".into())
    );
    // Above.
    let d = run(&with_history(inconclusive_now(), past(14)), "{}");
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE_LIMIT, Verdict::Rollback).0,
        "15 inconclusive intervals"
    );
    // A limit of 1: the first inconclusive interval rolls back.
    let d = run(&inconclusive_now(), r#"{"max_inconclusive_intervals": 1}"#);
    assert_eq!(
        finding(&d, RULE_INCONCLUSIVE_LIMIT, Verdict::Rollback).message,
        "the canary has not met its success criteria in 1 interval (this one), reaching the \
         limit of 1: roll back"
    );
    // null turns it off.
    let d = run(
        &with_history(inconclusive_now(), past(50)),
        r#"{"max_inconclusive_intervals": null}"#,
    );
    assert_hold(&d, RULE_INCONCLUSIVE);
    assert!(d.findings.iter().all(|f| f.rule != RULE_INCONCLUSIVE_LIMIT));
    // Not inconclusive now: a healthy interval is promoted, not counted.
    let d = run(&with_history(healthy(), past(50)), "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    assert!(d.findings.iter().all(|f| f.rule != RULE_INCONCLUSIVE_LIMIT));
}

#[test]
fn inconclusive_counting_ignores_data_less_and_failed_intervals() {
    let mut past = vec![interval(1, &[RULE_INCONCLUSIVE], false); 7];
    // Unmet criteria seen while data was missing, or next to a breach, are
    // not inconclusive intervals.
    past.push(interval(0, &[RULE_DATA_MISSING, RULE_INCONCLUSIVE], false));
    past.push(interval(0, &[RULE_INCONCLUSIVE], true));
    past.push(interval(0, &[RULE_INCONCLUSIVE, RULE_LATENCY], false));
    past.push(interval(1, &[], false));
    let d = run(&with_history(inconclusive_now(), past.clone()), "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE_LIMIT, Verdict::Go).0,
        "8 inconclusive intervals"
    );
    // Two more real ones reach 10.
    past.extend(vec![interval(1, &[RULE_INCONCLUSIVE], false); 2]);
    assert_rollback(
        &run(&with_history(inconclusive_now(), past.clone()), "{}"),
        RULE_INCONCLUSIVE_LIMIT,
    );
    // Data missing now: this interval is not inconclusive either, so the
    // limit is not reached through it (the no-data limit counts it).
    let mut s = with_history(inconclusive_now(), past);
    set(&mut s, P99, v(0.5), Measurement::NoData);
    let d = run(&s, "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    assert!(d.findings.iter().all(|f| f.rule != RULE_INCONCLUSIVE_LIMIT));
}

#[test]
fn no_data_streak_reads_rules_as_well_as_the_flag() {
    let missing_now = with(P95, v(0.25), Measurement::NoData);
    // Two earlier intervals whose only sign of missing data is the rule.
    let s = with_history(
        missing_now.clone(),
        vec![
            interval(0, &[RULE_DATA_MISSING], false),
            interval(0, &[RULE_DATA_MISSING, RULE_INCONCLUSIVE], false),
        ],
    );
    let d = run(&s, "{}");
    assert_rollback(&d, RULE_NO_DATA_LIMIT);
    assert_eq!(
        evidence(&d, RULE_NO_DATA_LIMIT, Verdict::Rollback).0,
        "3 consecutive intervals without data"
    );
    // An interval with data but other holds ends the streak.
    let s = with_history(
        missing_now.clone(),
        vec![
            interval(0, &[RULE_DATA_MISSING], true),
            interval(0, &[RULE_INCONCLUSIVE], false),
            interval(0, &[RULE_DATA_MISSING], false),
        ],
    );
    let d = run(&s, "{}");
    assert_hold(&d, RULE_DATA_MISSING);
    assert_eq!(
        evidence(&d, RULE_NO_DATA_LIMIT, Verdict::Go).0,
        "2 consecutive intervals without data"
    );
    // Below and above a limit of 4.
    let cfg = r#"{"max_intervals_without_data": 4}"#;
    let streak = |n| with_history(missing_now.clone(), history(&vec![true; n]));
    assert_hold(&run(&streak(2), cfg), RULE_DATA_MISSING);
    assert_rollback(&run(&streak(3), cfg), RULE_NO_DATA_LIMIT);
    let d = run(&streak(6), cfg);
    assert_eq!(
        evidence(&d, RULE_NO_DATA_LIMIT, Verdict::Rollback).0,
        "7 consecutive intervals without data"
    );
}

// ---------------------------------------------------------------------------
// Series: the Mann–Whitney test on the success criteria.

fn samples(xs: &[f64]) -> Measurement {
    Measurement::Samples(xs.to_vec())
}

/// Baseline p95 around 180 ms.
const BASE_P95: [f64; 10] = [
    0.180, 0.175, 0.185, 0.178, 0.182, 0.179, 0.181, 0.176, 0.184, 0.180,
];
/// Canary p95 around 231 ms: every sample above every baseline sample.
const SLOW_P95: [f64; 10] = [
    0.231, 0.228, 0.235, 0.229, 0.233, 0.230, 0.232, 0.227, 0.236, 0.231,
];

fn p_greater(canary: &[f64], baseline: &[f64]) -> f64 {
    shipgate_sdk::stats::mann_whitney(canary, baseline)
        .unwrap()
        .p_greater
}

#[test]
fn series_significantly_worse_and_large_is_not_met() {
    let d = run(&with(P95, samples(&BASE_P95), samples(&SLOW_P95)), "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert_eq!(
        f.message,
        "canary latency_p95 is significantly slower than the baseline (Mann–Whitney \
         p<0.001, alpha 0.05) and its median is 1.28x the baseline's, above 1.10x: not yet \
         a success"
    );
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE, Verdict::Hold),
        (
            "p<0.001, median 231 ms vs 180 ms baseline (1.28x)".into(),
            "p >= 0.05 or median <= 1.10x baseline".into()
        )
    );
    // It counts as an inconclusive interval.
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE_LIMIT, Verdict::Go).0,
        "1 inconclusive interval"
    );

    // The series sees what the means hide: two slow outliers in the
    // baseline pull its mean above the canary's (0.84x), yet the canary's
    // typical request is 1.28x slower, and not by chance.
    let baseline = [0.18, 0.18, 0.17, 0.19, 0.18, 0.18, 0.17, 0.19, 0.60, 0.70];
    let canary = [0.23, 0.22, 0.24, 0.23, 0.23, 0.22, 0.24, 0.23, 0.23, 0.23];
    let p = p_greater(&canary, &baseline);
    assert!(p < 0.05, "p = {p}");
    let s = with(P95, samples(&baseline), samples(&canary));
    let d = run(&s, "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    let (observed, _) = evidence(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert_eq!(
        observed,
        format!("p={p:.3}, median 230 ms vs 180 ms baseline (1.28x)")
    );
    assert_eq!(run(&s, r#"{"series_test": false}"#).verdict, Verdict::Go);

    // Error rate, against a looser ratio: 0.55% vs 0.30% is 1.83x > 1.5x.
    let base = [
        0.0030, 0.0028, 0.0031, 0.0029, 0.0030, 0.0032, 0.0030, 0.0027,
    ];
    let worse = [
        0.0055, 0.0052, 0.0058, 0.0054, 0.0056, 0.0055, 0.0053, 0.0057,
    ];
    let d = run(
        &with("error_rate", samples(&base), samples(&worse)),
        r#"{"success_max_error_ratio": 1.5}"#,
    );
    assert_hold(&d, RULE_INCONCLUSIVE);
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert!(
        f.message
            .starts_with("canary error_rate is significantly above the baseline"),
        "{}",
        f.message
    );
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE, Verdict::Hold).0,
        "p<0.001, median 0.55% vs 0.30% baseline (1.83x)"
    );
}

#[test]
fn series_significant_but_small_effect_is_met() {
    // Every canary sample is 6 ms above its baseline twin: significant, but
    // a median 1.03x the baseline's is within the 1.10x success ratio.
    let baseline: Vec<f64> = (0..12)
        .map(|i| 0.200 + 0.001 * f64::from((i * 7) % 5 - 2))
        .collect();
    let canary: Vec<f64> = baseline.iter().map(|b| b + 0.006).collect();
    let p = p_greater(&canary, &baseline);
    assert!(p < 0.001, "p = {p}");
    let d = run(&with(P95, samples(&baseline), samples(&canary)), "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    let f = finding(&d, RULE_SUCCESS, Verdict::Go);
    assert!(
        f.message.contains(
            "latency_p95 (Mann–Whitney) p<0.001, median 206 ms vs 200 ms baseline (1.03x): \
             significant, but the median is within 1.10x of the baseline's"
        ),
        "{}",
        f.message
    );
    // A stricter success ratio makes the same effect count.
    let d = run(
        &with(P95, samples(&baseline), samples(&canary)),
        r#"{"success_max_latency_ratio": 1.02}"#,
    );
    assert_hold(&d, RULE_INCONCLUSIVE);
}

#[test]
fn noisy_overlapping_series_are_met() {
    // Medians 1.21x apart, means 1.12x: the means alone would hold, but
    // with this much overlap the difference is not significant.
    let baseline = [0.20, 0.35, 0.15, 0.40, 0.18, 0.30, 0.22, 0.25];
    let canary = [0.30, 0.16, 0.45, 0.21, 0.38, 0.19, 0.33, 0.27];
    let p = p_greater(&canary, &baseline);
    assert!(p > 0.05, "p = {p}");
    let s = with(P95, samples(&baseline), samples(&canary));
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    let f = finding(&d, RULE_SUCCESS, Verdict::Go);
    assert!(
        f.message.contains(&format!(
            "latency_p95 (Mann–Whitney) p={p:.3}, median 285 ms vs 235 ms baseline (1.21x): \
             not significantly slower than the baseline (alpha 0.05)"
        )),
        "{}",
        f.message
    );
    assert_hold(&run(&s, r#"{"series_test": false}"#), RULE_INCONCLUSIVE);
    // A looser alpha calls it significant (p is about 0.2).
    assert!(p < 0.5, "p = {p}");
    assert_hold(&run(&s, r#"{"series_alpha": 0.5}"#), RULE_INCONCLUSIVE);
}

#[test]
fn rollback_triggers_stay_on_the_means_of_series() {
    // Not significant (one huge outlier), but the mean is 2.4x: a rollback.
    let baseline = [0.20, 0.21, 0.19, 0.20, 0.22, 0.20];
    let canary = [0.19, 0.20, 0.21, 0.18, 0.20, 1.90];
    assert!(p_greater(&canary, &baseline) > 0.05);
    let d = run(&with(P95, samples(&baseline), samples(&canary)), "{}");
    assert_rollback(&d, RULE_LATENCY);
    assert!(
        rules(&d, Verdict::Hold).is_empty() && !rules(&d, Verdict::Go).contains(&RULE_SUCCESS),
        "{d:#?}"
    );
}

#[test]
fn zero_baseline_median_counts_any_canary_median_above_it() {
    let baseline = [0.0; 8];
    let canary = [0.0, 0.01, 0.01, 0.02, 0.01, 0.01, 0.01, 0.0];
    let d = run(
        &with("error_rate", samples(&baseline), samples(&canary)),
        "{}",
    );
    assert_hold(&d, RULE_INCONCLUSIVE);
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert!(
        f.message
            .contains("its median 1.00% is above the baseline's 0.00%"),
        "{}",
        f.message
    );
    assert!(
        f.evidence
            .as_ref()
            .unwrap()
            .observed
            .ends_with("median 1.00% vs 0.00% baseline (baseline median is 0)"),
        "{f:#?}"
    );
    // Both at 0: nothing above.
    let d = run(
        &with("error_rate", samples(&baseline), samples(&[0.0; 8])),
        "{}",
    );
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
}

#[test]
fn too_few_samples_fall_back_to_the_means_and_say_so() {
    let baseline = [0.2, 0.2, 0.2, 0.2];
    let canary = [0.3, 0.3, 0.3, 0.3];
    let s = with(P95, samples(&baseline), samples(&canary));
    let d = run(&s, "{}");
    assert_hold(&d, RULE_INCONCLUSIVE);
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert_eq!(
        f.message,
        "canary latency_p95 is 1.50x the baseline (300 ms vs 200 ms baseline), not within \
         1.10x of it: not yet a success (judged on the means: 4 canary and 4 baseline \
         samples, fewer than the 5 the Mann–Whitney test needs, series_min_samples)"
    );
    assert_eq!(
        evidence(&d, RULE_INCONCLUSIVE, Verdict::Hold),
        (
            "1.50x (300 ms vs 200 ms baseline)".into(),
            "<= 1.10x baseline".into()
        )
    );
    // Enough samples once the minimum is 4: the test decides.
    let d = run(&s, r#"{"series_min_samples": 4}"#);
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert!(f.message.contains("Mann–Whitney p=0.007"), "{}", f.message);
    // One side short is enough to fall back; a met criterion says so too.
    let d = run(
        &with(P95, samples(&[0.2; 8]), samples(&[0.2, 0.21, 0.2])),
        "{}",
    );
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    let f = finding(&d, RULE_SUCCESS, Verdict::Go);
    assert!(
        f.message
            .contains("latency_p95 1.02x <= 1.10x baseline (judged on the means: 3 canary and 8"),
        "{}",
        f.message
    );
    // A value on one side is not a series: today's comparison, no note.
    let d = run(&with(P95, v(0.2), samples(&[0.3; 8])), "{}");
    let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
    assert!(!f.message.contains("judged on the means"), "{}", f.message);
}

#[test]
fn series_test_off_is_the_mean_comparison_exactly() {
    let off = r#"{"series_test": false}"#;
    let cases = [
        (P95, BASE_P95.to_vec(), SLOW_P95.to_vec()),
        (
            P95,
            vec![0.20, 0.35, 0.15, 0.40, 0.18, 0.30, 0.22, 0.25],
            vec![0.30, 0.16, 0.45, 0.21, 0.38, 0.19, 0.33, 0.27],
        ),
        (
            "error_rate",
            vec![0.003; 6],
            vec![0.002, 0.003, 0.002, 0.002, 0.003, 0.002],
        ),
        (
            "error_rate",
            vec![0.0; 6],
            vec![0.0, 0.01, 0.0, 0.01, 0.0, 0.01],
        ),
    ];
    for (name, baseline, canary) in cases {
        let series = with(name, samples(&baseline), samples(&canary));
        let means = with(
            name,
            v(samples(&baseline).value().unwrap()),
            v(samples(&canary).value().unwrap()),
        );
        assert_eq!(run(&series, off), run(&means, "{}"), "{name}");
    }
}

// ---------------------------------------------------------------------------
// Configuration of the new keys.

#[test]
fn limit_and_series_config_errors_name_the_key() {
    let err = |json: &str| shipgate_sdk::parse_config::<Canary>(json).unwrap_err();
    for (json, key, message) in [
        (
            r#"{"max_failed_intervals": 0}"#,
            "max_failed_intervals",
            "must be at least 1, got 0",
        ),
        (
            r#"{"max_inconclusive_intervals": 0}"#,
            "max_inconclusive_intervals",
            "must be at least 1, got 0",
        ),
        (
            r#"{"series_alpha": 0}"#,
            "series_alpha",
            "must be a significance level between 0 and 1 (exclusive), got 0",
        ),
        (
            r#"{"series_alpha": 1}"#,
            "series_alpha",
            "must be a significance level between 0 and 1 (exclusive), got 1",
        ),
        (
            r#"{"series_alpha": -0.05}"#,
            "series_alpha",
            "must be a significance level between 0 and 1 (exclusive), got -0.05",
        ),
        (
            r#"{"series_min_samples": 2}"#,
            "series_min_samples",
            "must be at least 3, got 2",
        ),
    ] {
        let e = err(json);
        assert_eq!(
            (e.key.as_str(), e.message.as_str()),
            (key, message),
            "{json}"
        );
    }
    for (json, key) in [
        (r#"{"max_failed_intervals": -1}"#, "max_failed_intervals"),
        (r#"{"max_failed_intervals": null}"#, "max_failed_intervals"),
        (
            r#"{"max_inconclusive_intervals": 1.5}"#,
            "max_inconclusive_intervals",
        ),
        (r#"{"series_test": "yes"}"#, "series_test"),
        (r#"{"series_alpha": null}"#, "series_alpha"),
        (r#"{"series_min_samples": -5}"#, "series_min_samples"),
    ] {
        assert_eq!(err(json).key, key, "{json}");
    }
    let c = Config::default();
    assert_eq!(
        (
            c.max_failed_intervals,
            c.max_inconclusive_intervals,
            c.series_test,
            c.series_alpha,
            c.series_min_samples
        ),
        (1, Some(10), true, 0.05, 5)
    );
    for json in [
        r#"{"max_failed_intervals": 1, "max_inconclusive_intervals": 1}"#,
        r#"{"max_inconclusive_intervals": null}"#,
        r#"{"series_alpha": 0.001, "series_min_samples": 3, "series_test": false}"#,
        r#"{"series_alpha": 0.999}"#,
    ] {
        assert!(shipgate_sdk::parse_config::<Canary>(json).is_ok(), "{json}");
    }
    let off = shipgate_sdk::parse_config::<Canary>(r#"{"max_inconclusive_intervals": null}"#);
    assert_eq!(off.unwrap().max_inconclusive_intervals, None);
}

#[test]
fn new_rules_are_listed() {
    for rule in [RULE_FAILURE_LIMIT, RULE_INCONCLUSIVE_LIMIT] {
        assert!(RULES.contains(rule), "{rule}");
    }
    assert!(TRIGGER_RULES.iter().all(|r| RULES.contains(r)));
    for not_a_trigger in [
        RULE_SUCCESS,
        RULE_INCONCLUSIVE,
        RULE_DATA_MISSING,
        RULE_NO_DATA_LIMIT,
        RULE_FAILURE_LIMIT,
        RULE_INCONCLUSIVE_LIMIT,
    ] {
        assert!(!TRIGGER_RULES.contains(&not_a_trigger));
    }
}

/// The scenarios of `tests/scenarios/` that name a canary config of their
/// own in the `canary_config` label (the e2e corpus runs them under the
/// playbook profiles only): under that config, natively, they give
/// `canary_config_expect`.
#[test]
fn scenarios_under_their_own_canary_config() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let s = snapshot_from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(config) = s.labels.get("canary_config") else {
            continue;
        };
        let expected: Verdict = s.labels["canary_config_expect"].parse().unwrap();
        let d = run(&s, config);
        assert_eq!(
            d.verdict,
            expected,
            "{} under {config}: {d:#?}",
            path.display()
        );
        checked.push(path);
    }
    assert!(checked.len() >= 4, "{checked:?}");
}

#[test]
fn findings_name_the_metric_they_judged() {
    let metric_of =
        |d: &Decision, rule: &str, verdict: Verdict| finding(d, rule, verdict).metric.clone();
    let cfg = r#"{"max_cpu": 0.8, "max_memory": 0.85, "max_error_rate_increase": 0.05}"#;
    let d = run(&healthy(), cfg);
    for (rule, name) in [
        (RULE_ERROR_RATE, "error_rate"),
        (RULE_ERROR_RATE_INCREASE, "error_rate"),
        (RULE_CPU, "cpu_usage"),
        (RULE_MEMORY, "memory_usage"),
    ] {
        assert_eq!(
            metric_of(&d, rule, Verdict::Go).as_deref(),
            Some(name),
            "{rule}"
        );
    }
    // The success and the rules that are not about one metric name none.
    for rule in [RULE_SUCCESS, RULE_ALERTS, RULE_NEW_CRITICAL_ERRORS] {
        assert_eq!(metric_of(&d, rule, Verdict::Go), None, "{rule}");
    }
    // Breach, held breach, unmet criterion (by means and by series), missing data.
    let d = run(&with(P95, v(0.2), v(0.5)), "{}");
    assert_eq!(
        metric_of(&d, RULE_LATENCY, Verdict::Rollback).as_deref(),
        Some(P95)
    );
    let d = run(&with(P95, v(0.2), v(0.5)), r#"{"max_failed_intervals": 2}"#);
    assert_eq!(
        metric_of(&d, RULE_LATENCY, Verdict::Hold).as_deref(),
        Some(P95)
    );
    assert_eq!(metric_of(&d, RULE_FAILURE_LIMIT, Verdict::Hold), None);
    let d = run(&with(P99, v(0.2), v(0.3)), "{}");
    assert_eq!(
        metric_of(&d, RULE_INCONCLUSIVE, Verdict::Hold).as_deref(),
        Some(P99)
    );
    let d = run(&with(P95, samples(&BASE_P95), samples(&SLOW_P95)), "{}");
    assert_eq!(
        metric_of(&d, RULE_INCONCLUSIVE, Verdict::Hold).as_deref(),
        Some(P95)
    );
    let d = run(&with("error_rate", v(0.003), v(0.004)), "{}");
    assert_eq!(
        metric_of(&d, RULE_INCONCLUSIVE, Verdict::Hold).as_deref(),
        Some("error_rate")
    );
    let d = run(&with(P99, v(0.2), Measurement::NoData), "{}");
    assert_eq!(
        metric_of(&d, RULE_DATA_MISSING, Verdict::Hold).as_deref(),
        Some(P99)
    );
    let mut s = healthy();
    s.gaps.push(shipgate_sdk::model::Gap {
        source: "prometheus".into(),
        reason: "down".into(),
    });
    assert_eq!(
        metric_of(&run(&s, "{}"), RULE_DATA_MISSING, Verdict::Hold),
        None
    );
}

// ---------------------------------------------------------------------------
// Per-metric counting (Argo Rollouts' keys) and the playbook criteria.

/// Evaluates `snapshots` in turn, each with the history the host records
/// from the decisions before it (`rule` and `rule[metric]`).
fn run_in_turn(snapshots: &[Snapshot], config: &str) -> Vec<Decision> {
    let mut history: Vec<IntervalResult> = Vec::new();
    let mut out = Vec::new();
    for (i, s) in snapshots.iter().enumerate() {
        let d = run(&with_history(s.clone(), history.clone()), config);
        let rules = shipgate_sdk::model::concern_entries(&d.findings);
        history.push(IntervalResult {
            phase: 0,
            at: shipgate_sdk::model::Timestamp(1_000 * i as i64),
            verdict: d.verdict,
            data_missing: rules.iter().any(|r| r == RULE_DATA_MISSING),
            rules,
            policies: vec![],
        });
        out.push(d);
    }
    out
}

fn latency_breach() -> Snapshot {
    with(P95, v(0.2), v(0.5))
}

#[test]
fn per_metric_two_metrics_failing_once_each_keep_running_where_per_interval_rolls_back() {
    let intervals = [error_breach(), latency_breach()];
    let per_metric = run_in_turn(&intervals, r#"{"failure_limit": 1}"#);
    assert_hold(&per_metric[0], RULE_ERROR_RATE);
    assert_hold(&per_metric[1], RULE_LATENCY);
    // Counted per interval, the same limit (max_failed_intervals = 2) rolls
    // back on the second failed interval.
    let per_interval = run_in_turn(&intervals, r#"{"max_failed_intervals": 2}"#);
    assert_hold(&per_interval[0], RULE_FAILURE_LIMIT);
    assert_rollback(&per_interval[1], RULE_FAILURE_LIMIT);
}

#[test]
fn per_metric_second_failure_of_one_metric_rolls_back_naming_it() {
    let d = run_in_turn(&[error_breach(), error_breach()], r#"{"failure_limit": 1}"#);
    assert_hold(&d[0], RULE_ERROR_RATE);
    assert_rollback(&d[1], RULE_FAILURE_LIMIT);
    let f = finding(&d[1], RULE_FAILURE_LIMIT, Verdict::Rollback);
    assert_eq!(f.metric.as_deref(), Some("error_rate"));
    assert!(f.message.contains("failed 2 times"), "{}", f.message);
}

#[test]
fn per_metric_a_failure_of_one_metric_does_not_end_another_metrics_no_data_streak() {
    let missing_p99 = || with(P99, v(0.5), Measurement::NoData);
    let mut breach_and_missing = missing_p99();
    set(&mut breach_and_missing, "error_rate", v(0.003), v(0.05));
    let intervals = [missing_p99(), breach_and_missing, missing_p99()];
    let d = run_in_turn(
        &intervals,
        r#"{"failure_limit": 1, "consecutive_error_limit": 2}"#,
    );
    assert_hold(&d[0], RULE_DATA_MISSING);
    assert_hold(&d[1], RULE_ERROR_RATE);
    assert_rollback(&d[2], RULE_NO_DATA_LIMIT);
    let f = finding(&d[2], RULE_NO_DATA_LIMIT, Verdict::Rollback);
    assert_eq!(f.metric.as_deref(), Some(P99));
}

#[test]
fn per_metric_count_promotes_with_a_tolerated_failure_on_the_last_measurement() {
    let config = r#"{"failure_limit": 1, "count": 3}"#;
    let d = run_in_turn(&[healthy(), healthy(), error_breach()], config);
    assert_hold(&d[0], RULE_COUNT);
    assert_hold(&d[1], RULE_COUNT);
    assert_eq!(d[2].verdict, Verdict::Go, "{:#?}", d[2]);
    finding(&d[2], RULE_COUNT, Verdict::Go);
    let tolerated = finding(&d[2], RULE_ERROR_RATE, Verdict::Go);
    assert!(
        tolerated.message.contains("tolerated"),
        "{}",
        tolerated.message
    );
    // Per interval the same breach on the last interval holds.
    let per_interval = run_in_turn(
        &[healthy(), healthy(), error_breach()],
        r#"{"max_failed_intervals": 2}"#,
    );
    assert_hold(&per_interval[2], RULE_FAILURE_LIMIT);
}

#[test]
fn per_metric_a_breach_after_the_count_is_recorded_and_counted() {
    // The analysis completes at the third interval; Argo's run would end
    // there, the canary keeps watching. A breach after it holds (so it is
    // recorded), and the second one is above failure_limit 1: rollback.
    let config = r#"{"failure_limit": 1, "count": 3}"#;
    let d = run_in_turn(
        &[
            healthy(),
            healthy(),
            healthy(),
            error_breach(),
            error_breach(),
        ],
        config,
    );
    assert_eq!(d[2].verdict, Verdict::Go, "{:#?}", d[2]);
    assert_hold(&d[3], RULE_ERROR_RATE);
    let held = finding(&d[3], RULE_ERROR_RATE, Verdict::Hold);
    assert!(
        held.message.contains("already reached its count"),
        "{}",
        held.message
    );
    assert_rollback(&d[4], RULE_FAILURE_LIMIT);
    // The same for a tolerated inconclusive measurement.
    let d = run_in_turn(
        &[healthy(), inconclusive_now(), inconclusive_now()],
        r#"{"inconclusive_limit": 1, "count": 1}"#,
    );
    assert_eq!(d[0].verdict, Verdict::Go, "{:#?}", d[0]);
    assert_hold(&d[1], RULE_INCONCLUSIVE);
    assert_hold(&d[2], RULE_INCONCLUSIVE_LIMIT);
}

#[test]
fn per_metric_count_is_never_go_on_missing_data() {
    let d = run_in_turn(
        &[healthy(), healthy(), with(P95, v(0.2), Measurement::NoData)],
        r#"{"count": 2}"#,
    );
    assert_eq!(d[1].verdict, Verdict::Go, "{:#?}", d[1]);
    assert_hold(&d[2], RULE_DATA_MISSING);
}

#[test]
fn per_metric_inconclusive_above_the_limit_holds_for_a_person() {
    let d = run_in_turn(
        &[inconclusive_now(), healthy()],
        r#"{"inconclusive_limit": 0}"#,
    );
    assert_hold(&d[0], RULE_INCONCLUSIVE_LIMIT);
    // It stays inconclusive: Argo's run has ended; nobody promotes it.
    assert_hold(&d[1], RULE_INCONCLUSIVE_LIMIT);
}

fn prometheus_gap(reason: &str) -> shipgate_sdk::model::Gap {
    shipgate_sdk::model::Gap {
        source: METRICS_SOURCE.into(),
        reason: reason.into(),
    }
}

#[test]
fn per_metric_a_gap_for_an_unread_metric_leaves_the_others_measured() {
    // The host names each failed query: here a metric the canary does not
    // read. Every measure has its own data, and the alerts were read.
    let mut s = healthy();
    s.metrics.push(metric(
        "queue_depth",
        Measurement::Error("timed out after 5s".into()),
        Measurement::Error("timed out after 5s".into()),
    ));
    s.gaps.push(prometheus_gap(
        "queue_depth (baseline, canary): timed out after 5s",
    ));
    let d = run_in_turn(&[s.clone(), s], r#"{"count": 2}"#);
    assert_hold(&d[0], RULE_COUNT);
    assert!(
        rules(&d[0], Verdict::Hold)
            .iter()
            .all(|r| *r != RULE_DATA_MISSING),
        "{:#?}",
        d[0]
    );
    assert_eq!(d[1].verdict, Verdict::Go, "{:#?}", d[1]);
}

#[test]
fn per_metric_a_failed_metric_query_is_that_metrics_error_only() {
    let mut s = with(P99, Measurement::Error("bad_data".into()), v(0.5));
    s.gaps
        .push(prometheus_gap("latency_p99 (baseline): bad_data"));
    let d = run(&s, r#"{"failure_limit": 0}"#);
    assert_hold(&d, RULE_DATA_MISSING);
    let named: Vec<Option<&str>> = d
        .findings
        .iter()
        .filter(|f| f.rule == RULE_DATA_MISSING)
        .map(|f| f.metric.as_deref())
        .collect();
    assert_eq!(named, vec![Some(P99)]);
}

#[test]
fn per_metric_unread_alerts_are_an_error_not_none_firing() {
    // The alerts query failed (the host names `alerts` in the gap): the
    // alerts measure has no data, whatever the metrics say.
    let mut s = healthy();
    s.gaps.push(prometheus_gap("alerts: connection reset"));
    let d = run_in_turn(
        &[s.clone(), s],
        r#"{"count": 1, "consecutive_error_limit": 1}"#,
    );
    assert_hold(&d[0], RULE_DATA_MISSING);
    let f = finding(&d[0], RULE_DATA_MISSING, Verdict::Hold);
    assert_eq!(f.metric.as_deref(), Some(per_metric::ALERTS));
    assert!(f.message.contains("connection reset"), "{}", f.message);
    assert!(
        d[0].findings.iter().all(|f| f.rule != RULE_ALERTS),
        "no alerts finding claims none firing: {:#?}",
        d[0]
    );
    assert_rollback(&d[1], RULE_NO_DATA_LIMIT);
    let f = finding(&d[1], RULE_NO_DATA_LIMIT, Verdict::Rollback);
    assert!(f.message.contains("the alerts"), "{}", f.message);
    // A line that counts more than it names may hide `alerts`, and a
    // reason in another form says nothing: unknown either way.
    for reason in [
        "a (canary), b (canary), c (canary), d (canary) and 1 more: timed out",
        "error_rate (canary), alerts: timed out after 5s",
        "all 11 queries failed: connection refused",
        "down",
    ] {
        let mut s = healthy();
        s.gaps.push(prometheus_gap(reason));
        let d = run(&s, r#"{"count": 1}"#);
        assert_eq!(
            finding(&d, RULE_DATA_MISSING, Verdict::Hold)
                .metric
                .as_deref(),
            Some(per_metric::ALERTS),
            "{reason}"
        );
    }
    // With success_no_alerts alone the alerts are measured too.
    let mut s = healthy();
    s.gaps.push(prometheus_gap("alerts: connection reset"));
    let d = run(
        &s,
        r#"{"count": 1, "rollback_on_alerts": false, "success_no_alerts": true}"#,
    );
    assert_hold(&d, RULE_DATA_MISSING);
}

#[test]
fn per_metric_an_unreachable_source_makes_every_metric_an_error() {
    // No metric has data: the whole source was unreachable.
    let mut s = healthy();
    for m in &mut s.metrics {
        m.baseline = Measurement::Error("connection refused".into());
        m.canary = Measurement::Error("connection refused".into());
    }
    s.gaps
        .push(prometheus_gap("all 11 queries failed: connection refused"));
    let d = run_in_turn(&[s.clone(), s], r#"{"consecutive_error_limit": 1}"#);
    assert_hold(&d[0], RULE_DATA_MISSING);
    assert_rollback(&d[1], RULE_NO_DATA_LIMIT);
    let named: Vec<Option<&str>> = d[1]
        .findings
        .iter()
        .filter(|f| f.rule == RULE_NO_DATA_LIMIT && f.verdict == Verdict::Rollback)
        .map(|f| f.metric.as_deref())
        .collect();
    assert_eq!(named, vec![Some("error_rate"), Some(P95), Some(P99), None]);
}

#[test]
fn a_metric_in_two_roles_is_a_config_error() {
    let err = |json: &str| shipgate_sdk::parse_config::<Canary>(json).unwrap_err();
    let e = err(r#"{"latency_metrics": ["latency_p95", "error_rate"]}"#);
    assert_eq!(e.key, "latency_metrics[1]");
    assert!(e.message.contains("`error_rate`"), "{}", e.message);
    assert!(e.message.contains("error_rate_metric"), "{}", e.message);
    assert_eq!(
        err(r#"{"latency_metrics": ["latency_p95", "latency_p95"]}"#).key,
        "latency_metrics[1]"
    );
    assert_eq!(
        err(r#"{"cpu_metric": "latency_p99", "max_cpu": 0.8}"#).key,
        "cpu_metric"
    );
    assert_eq!(
        err(r#"{"memory_metric": "cpu_usage", "max_cpu": 0.8, "max_memory": 0.85}"#).key,
        "memory_metric"
    );
    // Counted per metric, the alerts and error signatures have names too.
    assert_eq!(
        err(r#"{"latency_metrics": ["alerts"], "count": 3}"#).key,
        "latency_metrics[0]"
    );
    // A role that is off does not collide: the CPU metric without max_cpu.
    assert!(shipgate_sdk::parse_config::<Canary>(r#"{"cpu_metric": "error_rate"}"#).is_ok());
    assert!(shipgate_sdk::parse_config::<Canary>(r#"{"latency_metrics": ["alerts"]}"#).is_ok());
}

#[test]
fn per_metric_reads_an_unqualified_history_as_every_metric() {
    // A history written before rules were qualified by metric: a plain
    // canary.latency counts against each latency metric.
    let s = with_history(
        latency_breach(),
        vec![interval(0, &[RULE_LATENCY, RULE_FAILURE_LIMIT], false)],
    );
    let d = run(&s, r#"{"failure_limit": 1}"#);
    assert_rollback(&d, RULE_FAILURE_LIMIT);
}

#[test]
fn the_two_families_of_limits_do_not_mix() {
    let err = |json: &str| shipgate_sdk::parse_config::<Canary>(json).unwrap_err();
    assert_eq!(
        err(r#"{"failure_limit": 1, "max_failed_intervals": 3}"#).key,
        "max_failed_intervals"
    );
    assert_eq!(
        err(r#"{"count": 5, "max_intervals_without_data": 2}"#).key,
        "max_intervals_without_data"
    );
    assert_eq!(err(r#"{"count": 0}"#).key, "count");
    assert!(shipgate_sdk::parse_config::<Canary>(r#"{"failure_limit": 0, "count": 1}"#).is_ok());
}

#[test]
fn a_warning_alert_holds_with_success_no_alerts_and_is_noted_without() {
    let mut s = healthy();
    s.alerts.push(shipgate_sdk::model::Alert {
        name: "CheckoutLatencyWarm".into(),
        severity: Some("warning".into()),
        since: None,
        labels: Default::default(),
    });
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    let d = run(&s, r#"{"success_no_alerts": true}"#);
    assert_hold(&d, RULE_OTHER_ALERTS);
    assert!(rules(&d, Verdict::Rollback).is_empty(), "{d:#?}");
    // Counted as an inconclusive interval, so the limit ends it.
    let d = run(
        &with_history(s, vec![interval(0, &[RULE_OTHER_ALERTS], false)]),
        r#"{"success_no_alerts": true, "max_inconclusive_intervals": 2}"#,
    );
    assert_rollback(&d, RULE_INCONCLUSIVE_LIMIT);
}

#[test]
fn a_new_error_that_is_not_critical_holds_with_success_no_new_errors() {
    let mut s = healthy();
    s.error_signatures.push(ErrorSignature {
        signature: "TimeoutError in cache warmup".into(),
        count: 40,
        new: true,
        critical: false,
    });
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    let d = run(&s, r#"{"success_no_new_errors": true}"#);
    assert_hold(&d, RULE_NEW_ERRORS);
    assert!(
        finding(&d, RULE_NEW_ERRORS, Verdict::Hold)
            .message
            .contains("TimeoutError in cache warmup")
    );
    // A known signature is not new.
    s.error_signatures[0].new = false;
    assert_eq!(
        run(&s, r#"{"success_no_new_errors": true}"#).verdict,
        Verdict::Go
    );
}

#[test]
fn latency_metrics_are_what_the_profile_lists() {
    // A canary without p99 is complete for a profile that watches p95 only.
    let mut s = healthy();
    s.metrics.retain(|m| m.name != P99);
    assert_hold(&run(&s, "{}"), RULE_DATA_MISSING);
    assert_eq!(
        run(&s, r#"{"latency_metrics": ["latency_p95"]}"#).verdict,
        Verdict::Go
    );
}
