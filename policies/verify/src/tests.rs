//! The policy's unit tests, run natively: each rule passing, failing and
//! without data.

use super::*;
use shipgate_sdk::model::{Ci, ErrorSignature, Gap, Health, Measurement, Metric};
use shipgate_sdk::testing::{check_rules, evaluate, snapshot_from_json};

fn round(status: Option<u16>, latency_ms: u32) -> ProbeResult {
    ProbeResult {
        status,
        latency_ms,
        body_matched: status.map(|_| true),
        error: status.is_none().then(|| "connection refused".to_owned()),
        tries: 1,
    }
}

fn probe(name: &str, results: Vec<ProbeResult>) -> Probe {
    Probe {
        name: name.into(),
        url: format!("https://api.example.com/{name}"),
        expected_status: 200,
        results,
    }
}

fn suite(name: &str, tests: u32, failures: u32) -> TestSuite {
    TestSuite {
        name: name.into(),
        tests,
        failures,
        errors: 0,
        skipped: 0,
        duration_ms: None,
        smoke: true,
    }
}

fn metric(name: &str, canary: Measurement) -> Metric {
    Metric {
        name: name.into(),
        unit: None,
        baseline: Measurement::NoData,
        canary,
    }
}

fn v(x: f64) -> Measurement {
    Measurement::Value(x)
}

/// A healthy deploy: three healthy rounds, a passing smoke suite, no 5xx,
/// no restarts, every target up, no new errors.
fn healthy() -> Snapshot {
    let mut s = snapshot_from_json(
        r#"{
          "deployment": { "service": "checkout", "environment": "production", "version": "2.0.0",
                          "commit": "abc123", "requested_at": "2026-11-20T10:00:00Z" }
        }"#,
    )
    .unwrap();
    s.health = Some(Health {
        probes: vec![probe(
            "api-health",
            vec![
                round(Some(200), 40),
                round(Some(200), 35),
                round(Some(200), 50),
            ],
        )],
    });
    s.ci = Some(Ci {
        test_suites: vec![suite("smoke", 12, 0)],
        ..Ci::default()
    });
    s.metrics = vec![
        metric("http_5xx_rate", v(0.001)),
        metric("restarts", v(0.0)),
        metric("up", v(1.0)),
        metric("error_rate", v(0.004)),
    ];
    s
}

fn run(s: &Snapshot, config: &str) -> Decision {
    evaluate::<Verify>(Stage::Verify, s, config).unwrap()
}

/// The rules that asked for `verdict`.
fn rules(d: &Decision, verdict: Verdict) -> Vec<&str> {
    d.findings
        .iter()
        .filter(|f| f.verdict == verdict)
        .map(|f| f.rule.as_str())
        .collect()
}

fn message<'d>(d: &'d Decision, rule: &str, verdict: Verdict) -> &'d str {
    d.findings
        .iter()
        .find(|f| f.rule == rule && f.verdict == verdict)
        .map(|f| f.message.as_str())
        .unwrap_or_else(|| panic!("no {verdict} finding {rule} in {d:#?}"))
}

fn probes_mut(s: &mut Snapshot) -> &mut Vec<Probe> {
    &mut s.health.as_mut().unwrap().probes
}

fn set_metric(s: &mut Snapshot, name: &str, canary: Measurement) {
    s.metrics.retain(|m| m.name != name);
    s.metrics.push(metric(name, canary));
}

#[test]
fn rules_are_declared_once_and_named_for_the_policy() {
    check_rules::<Verify>().unwrap();
    let info = Verify::info();
    assert_eq!(info.stages, [Stage::Verify]);
    assert_eq!(
        info.reads,
        [
            Section::Health,
            Section::Ci,
            Section::Metrics,
            Section::ErrorSignatures
        ]
    );
}

#[test]
fn a_healthy_deploy_is_go_with_a_note_per_check() {
    let d = run(&healthy(), "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    assert_eq!(
        rules(&d, Verdict::Go),
        [
            RULE_PROBE_FAILED,
            RULE_PROBE_SLOW,
            RULE_SMOKE_FAILED,
            RULE_HTTP_5XX,
            RULE_RESTARTS,
            RULE_UP,
            RULE_NEW_CRITICAL_ERRORS,
        ]
    );
    assert_eq!(
        message(&d, RULE_PROBE_FAILED, Verdict::Go),
        "health probes answered as expected: `api-health` 3/3"
    );
}

#[test]
fn the_snapshot_seen_is_only_the_sections_read() {
    // What the host gives the policy: a decision on `only(reads)` is the
    // decision on the whole snapshot.
    let s = healthy();
    let reads = Verify::info().reads;
    assert_eq!(run(&s.only(&reads), "{}"), run(&s, "{}"));
}

// Health probes.

#[test]
fn a_probe_answering_500_rolls_back() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results[1] = round(Some(500), 30);
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(
        message(&d, RULE_PROBE_FAILED, Verdict::Rollback),
        "health probe `api-health` (https://api.example.com/api-health) failed 1 of 3 rounds: \
         round 2: status 500, expected 200"
    );
}

#[test]
fn a_probe_without_an_answer_is_a_failure_not_missing_data() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results = vec![round(None, 2000), round(None, 2000)];
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert!(
        message(&d, RULE_PROBE_FAILED, Verdict::Rollback)
            .contains("round 1: no answer (connection refused)"),
        "{d:#?}"
    );
    assert!(rules(&d, Verdict::Hold).is_empty(), "{d:#?}");
    // A round without an answer is never counted as slow: its latency is
    // the timeout.
    assert!(!rules(&d, Verdict::Go).contains(&RULE_PROBE_SLOW), "{d:#?}");
}

#[test]
fn a_wrong_body_is_a_failure() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results[0].body_matched = Some(false);
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert!(
        message(&d, RULE_PROBE_FAILED, Verdict::Rollback)
            .contains("round 1: the body did not match")
    );
}

#[test]
fn failed_rounds_within_the_tolerance_pass_and_say_so() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results[2] = round(Some(503), 30);
    let d = run(&s, r#"{"max_failed_probe_rounds": 1}"#);
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    assert_eq!(
        message(&d, RULE_PROBE_FAILED, Verdict::Go),
        "health probes answered as expected: `api-health` 2/3 (within 1 failed)"
    );
    probes_mut(&mut s)[0].results[1] = round(None, 2000);
    let d = run(&s, r#"{"max_failed_probe_rounds": 1}"#);
    assert_eq!(d.verdict, Verdict::Rollback);
}

#[test]
fn the_failed_probe_verdict_is_configurable() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results[0] = round(Some(500), 30);
    let d = run(&s, r#"{"failed_probe_verdict": "hold"}"#);
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(rules(&d, Verdict::Hold), [RULE_PROBE_FAILED]);
}

#[test]
fn each_probe_is_judged_on_its_own() {
    let mut s = healthy();
    probes_mut(&mut s).push(probe("frontend", vec![round(Some(404), 10)]));
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert!(message(&d, RULE_PROBE_FAILED, Verdict::Rollback).contains("`frontend`"));
    assert_eq!(
        message(&d, RULE_PROBE_FAILED, Verdict::Go),
        "health probes answered as expected: `api-health` 3/3"
    );
}

#[test]
fn a_slow_probe_holds_to_assess_by_default() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results[1].latency_ms = 1800;
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Hold, "{d:#?}");
    assert_eq!(
        message(&d, RULE_PROBE_SLOW, Verdict::Hold),
        "health probe `api-health` (https://api.example.com/api-health) answered 1 of 3 rounds \
         slower than 1000 ms (slowest 1800 ms): performance degraded, assess"
    );
    // Exactly at the limit is not slow.
    probes_mut(&mut s)[0].results[1].latency_ms = 1000;
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
}

#[test]
fn slow_rounds_have_a_tolerance_a_verdict_and_an_off_switch() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results[0].latency_ms = 5000;
    assert_eq!(
        run(&s, r#"{"max_slow_probe_rounds": 1}"#).verdict,
        Verdict::Go
    );
    assert_eq!(
        run(&s, r#"{"slow_probe_verdict": "rollback"}"#).verdict,
        Verdict::Rollback
    );
    let d = run(&s, r#"{"max_probe_latency_ms": null}"#);
    assert_eq!(d.verdict, Verdict::Go);
    assert!(!rules(&d, Verdict::Go).contains(&RULE_PROBE_SLOW));
}

#[test]
fn no_health_section_holds_when_probes_are_required() {
    let mut s = healthy();
    s.health = None;
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(
        message(&d, RULE_DATA_MISSING, Verdict::Hold),
        "no health probe ran (the `health` section was not collected): the service's health \
         is not known"
    );
    assert_eq!(run(&s, r#"{"require_probes": false}"#).verdict, Verdict::Go);
}

#[test]
fn no_probe_or_a_probe_without_rounds_is_missing_data() {
    let mut s = healthy();
    probes_mut(&mut s).clear();
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(rules(&d, Verdict::Hold), [RULE_DATA_MISSING]);

    let mut s = healthy();
    probes_mut(&mut s)[0].results.clear();
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Hold);
    assert!(message(&d, RULE_DATA_MISSING, Verdict::Hold).contains("ran no round"));
}

#[test]
fn a_gap_in_the_health_source_holds_but_a_visible_failure_still_rolls_back() {
    let mut s = healthy();
    s.health = None;
    s.gaps.push(Gap {
        source: HEALTH_SOURCE.into(),
        reason: "invalid URL".into(),
    });
    let d = run(&s, r#"{"require_probes": false}"#);
    assert_eq!(d.verdict, Verdict::Hold);
    assert!(message(&d, RULE_DATA_MISSING, Verdict::Hold).contains("`http` has a gap"));

    let mut s = healthy();
    probes_mut(&mut s)[0].results[0] = round(Some(500), 30);
    s.gaps.push(Gap {
        source: HEALTH_SOURCE.into(),
        reason: "second probe timed out".into(),
    });
    assert_eq!(run(&s, "{}").verdict, Verdict::Rollback);
}

// Smoke tests.

#[test]
fn a_failed_smoke_test_rolls_back() {
    let mut s = healthy();
    s.ci.as_mut().unwrap().test_suites = vec![suite("smoke", 12, 2)];
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(
        message(&d, RULE_SMOKE_FAILED, Verdict::Rollback),
        "smoke tests `smoke` failed: 2 failed, 0 errored of 12 tests"
    );
    let mut errored = suite("smoke", 12, 0);
    errored.errors = 1;
    s.ci.as_mut().unwrap().test_suites = vec![errored];
    assert_eq!(run(&s, "{}").verdict, Verdict::Rollback);
}

#[test]
fn suites_not_tagged_smoke_are_not_smoke_tests() {
    let mut s = healthy();
    let mut unit = suite("unit", 300, 4);
    unit.smoke = false;
    s.ci.as_mut().unwrap().test_suites = vec![unit];
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    let d = run(&s, r#"{"require_smoke_tests": true}"#);
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(
        message(&d, RULE_DATA_MISSING, Verdict::Hold),
        "no smoke test ran (no test suite is tagged smoke): critical user flows are not verified"
    );
}

#[test]
fn required_smoke_tests_missing_hold() {
    let mut s = healthy();
    s.ci = None;
    let d = run(&s, r#"{"require_smoke_tests": true}"#);
    assert_eq!(d.verdict, Verdict::Hold);
    assert!(message(&d, RULE_DATA_MISSING, Verdict::Hold).contains("not collected"));
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);

    let mut s = healthy();
    s.ci.as_mut().unwrap().test_suites = vec![suite("smoke", 0, 0)];
    let d = run(&s, r#"{"require_smoke_tests": true}"#);
    assert!(message(&d, RULE_DATA_MISSING, Verdict::Hold).contains("ran no test"));

    let mut s = healthy();
    s.gaps.push(Gap {
        source: TESTS_SOURCE.into(),
        reason: "no file matched".into(),
    });
    assert_eq!(
        run(&s, r#"{"require_smoke_tests": true}"#).verdict,
        Verdict::Hold
    );
}

// Metrics.

#[test]
fn a_5xx_rate_above_the_ceiling_rolls_back_and_at_it_passes() {
    let mut s = healthy();
    set_metric(&mut s, "http_5xx_rate", v(0.05));
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(
        message(&d, RULE_HTTP_5XX, Verdict::Rollback),
        "5xx rate (http_5xx_rate) 5.00% is above the 2.00% ceiling"
    );
    set_metric(&mut s, "http_5xx_rate", v(0.02));
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    assert_eq!(
        run(&s, r#"{"max_http_5xx_rate": 0.01}"#).verdict,
        Verdict::Rollback
    );
}

#[test]
fn restarts_roll_back_services_failing_to_start() {
    let mut s = healthy();
    set_metric(&mut s, "restarts", v(3.0));
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(
        message(&d, RULE_RESTARTS, Verdict::Rollback),
        "restarts (restarts) 3 is above 0: services failing to start"
    );
    assert_eq!(run(&s, r#"{"max_restarts": 3}"#).verdict, Verdict::Go);
}

#[test]
fn targets_up_below_the_floor_roll_back() {
    let mut s = healthy();
    set_metric(&mut s, "up", v(0.5));
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(
        message(&d, RULE_UP, Verdict::Rollback),
        "targets up (up) 50.00% is below the 100.00% floor"
    );
    assert_eq!(run(&s, r#"{"min_up": 0.5}"#).verdict, Verdict::Go);
}

#[test]
fn the_error_rate_is_judged_only_when_configured() {
    let mut s = healthy();
    set_metric(&mut s, "error_rate", v(0.2));
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    let d = run(&s, r#"{"max_error_rate": 0.1}"#);
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(rules(&d, Verdict::Rollback), [RULE_ERROR_RATE]);
}

#[test]
fn a_required_metric_without_data_holds_and_never_passes() {
    for (name, config) in [
        ("http_5xx_rate", "{}"),
        ("restarts", "{}"),
        ("up", "{}"),
        ("error_rate", r#"{"max_error_rate": 0.1}"#),
    ] {
        for canary in [
            Measurement::NoData,
            Measurement::Error("query timed out".into()),
        ] {
            let mut s = healthy();
            set_metric(&mut s, name, canary);
            let d = run(&s, config);
            assert_eq!(d.verdict, Verdict::Hold, "{name}: {d:#?}");
            assert_eq!(rules(&d, Verdict::Hold), [RULE_DATA_MISSING], "{name}");
            assert!(d.findings.iter().any(|f| f.metric.as_deref() == Some(name)));
        }
        let mut s = healthy();
        s.metrics.retain(|m| m.name != name);
        let d = run(&s, config);
        assert_eq!(
            message(&d, RULE_DATA_MISSING, Verdict::Hold),
            format!("metric `{name}` has no usable data: not in the snapshot")
        );
    }
}

#[test]
fn a_metric_without_a_threshold_is_not_required() {
    let mut s = healthy();
    s.metrics.clear();
    let config = r#"{"max_http_5xx_rate": null, "max_restarts": null, "min_up": null}"#;
    assert_eq!(run(&s, config).verdict, Verdict::Go);
}

#[test]
fn a_gap_in_the_metrics_source_holds_but_a_visible_breach_rolls_back() {
    let mut s = healthy();
    s.gaps.push(Gap {
        source: METRICS_SOURCE.into(),
        reason: "connection refused".into(),
    });
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Hold);
    set_metric(&mut s, "up", v(0.0));
    assert_eq!(run(&s, "{}").verdict, Verdict::Rollback);
}

// Error signatures.

fn signature(new: bool, critical: bool) -> ErrorSignature {
    ErrorSignature {
        signature: "NullPointerException at PaymentService.charge".into(),
        count: 14,
        new,
        critical,
    }
}

#[test]
fn new_critical_errors_roll_back() {
    let mut s = healthy();
    s.error_signatures = vec![signature(true, true)];
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(
        message(&d, RULE_NEW_CRITICAL_ERRORS, Verdict::Rollback),
        "critical errors in the logs: 1 new critical error signature: \
         `NullPointerException at PaymentService.charge` (14x)"
    );
    // A known critical error is not new.
    s.error_signatures = vec![signature(false, true)];
    assert_eq!(run(&s, "{}").verdict, Verdict::Go);
}

#[test]
fn new_errors_that_are_not_critical_are_a_note_or_what_the_config_says() {
    let mut s = healthy();
    s.error_signatures = vec![signature(true, false)];
    let d = run(&s, "{}");
    assert_eq!(d.verdict, Verdict::Go);
    assert!(rules(&d, Verdict::Go).contains(&RULE_NEW_ERRORS));
    let d = run(&s, r#"{"new_error_verdict": "hold"}"#);
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(rules(&d, Verdict::Hold), [RULE_NEW_ERRORS]);
    // Without the critical trigger, a new critical error is one of them.
    s.error_signatures = vec![signature(true, true)];
    let d = run(
        &s,
        r#"{"rollback_on_new_critical_errors": false, "new_error_verdict": "hold"}"#,
    );
    assert_eq!(d.verdict, Verdict::Hold);
}

// Migration checks.

#[test]
fn a_failed_migration_check_rolls_back_as_a_migration_failure() {
    let mut s = healthy();
    s.ci.as_mut()
        .unwrap()
        .test_suites
        .push(suite("migrations", 3, 1));
    let d = run(&s, r#"{"migration_checks": ["migrations"]}"#);
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(
        message(&d, RULE_MIGRATION_FAILED, Verdict::Rollback),
        "database migration failure: smoke suite `migrations` has 1 failed and 0 errored tests"
    );
    // A probe works as well.
    let mut s = healthy();
    probes_mut(&mut s).push(probe("db-schema", vec![round(Some(500), 20)]));
    let d = run(&s, r#"{"migration_checks": ["db-schema"]}"#);
    assert!(rules(&d, Verdict::Rollback).contains(&RULE_MIGRATION_FAILED));
}

#[test]
fn a_passing_migration_check_is_a_note_and_a_missing_one_holds() {
    let mut s = healthy();
    s.ci.as_mut()
        .unwrap()
        .test_suites
        .push(suite("migrations", 3, 0));
    let d = run(&s, r#"{"migration_checks": ["migrations"]}"#);
    assert_eq!(d.verdict, Verdict::Go);
    assert_eq!(
        message(&d, RULE_MIGRATION_FAILED, Verdict::Go),
        "migration checks passed: `migrations`"
    );
    let d = run(&s, r#"{"migration_checks": ["migrations", "db-schema"]}"#);
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(
        message(&d, RULE_DATA_MISSING, Verdict::Hold),
        "migration check `db-schema` has no result (`db-schema` is neither a health probe nor a \
         smoke suite in the snapshot): a migration failure would not be seen"
    );
}

// Configuration.

fn config_error(config: &str) -> String {
    evaluate::<Verify>(Stage::Verify, &healthy(), config).unwrap_err()
}

#[test]
fn nonsense_configuration_is_rejected_naming_the_key() {
    for (config, expected) in [
        (
            r#"{"failed_probe_verdict": "go"}"#,
            "key `failed_probe_verdict`: must be `hold` or `rollback`, got `go`",
        ),
        (
            r#"{"slow_probe_verdict": "no-go"}"#,
            "key `slow_probe_verdict`: must be `hold` or `rollback`, got `no-go`",
        ),
        (
            r#"{"new_error_verdict": "no-go"}"#,
            "key `new_error_verdict`: must be `go` or `hold` or `rollback`, got `no-go`",
        ),
        (
            r#"{"max_probe_latency_ms": 0}"#,
            "key `max_probe_latency_ms`: must be at least 1, got 0",
        ),
        (
            r#"{"max_http_5xx_rate": 2}"#,
            "key `max_http_5xx_rate`: must be a rate in [0, 1], got 2",
        ),
        (
            r#"{"min_up": -0.1}"#,
            "key `min_up`: must be a rate in [0, 1], got -0.1",
        ),
        (
            r#"{"up_metric": "restarts"}"#,
            "key `up_metric`: `restarts` is already restarts_metric",
        ),
        (
            r#"{"http_5xx_metric": " "}"#,
            "key `http_5xx_metric`: must be a metric name",
        ),
        (
            r#"{"migration_checks": ["a", "a"]}"#,
            "key `migration_checks[1]`: `a` is listed twice",
        ),
        (
            r#"{"migration_checks": [""]}"#,
            "key `migration_checks[0]`: must be the name",
        ),
        (r#"{"max_restarts": -1}"#, "invalid config"),
        (
            r#"{"require_probe": true}"#,
            "unknown field `require_probe`",
        ),
    ] {
        let e = config_error(config);
        assert!(e.contains(expected), "{config}: {e}");
    }
}

#[test]
fn the_default_configuration_is_valid() {
    Verify::check_config(&Config::default()).unwrap();
    assert_eq!(
        shipgate_sdk::parse_config::<Verify>("{}").unwrap(),
        Config::default()
    );
}

/// A tolerance at or above the rounds run never passes an endpoint that is
/// down, or one whose every round was slow.
#[test]
fn a_probe_failing_every_round_fails_whatever_the_tolerance() {
    let mut s = healthy();
    probes_mut(&mut s)[0].results = vec![round(None, 2000)];
    let d = run(&s, r#"{"max_failed_probe_rounds": 2}"#);
    assert_eq!(d.verdict, Verdict::Rollback, "{d:#?}");
    assert!(
        message(&d, RULE_PROBE_FAILED, Verdict::Rollback).contains("failed 1 of 1 round"),
        "{d:#?}"
    );
    // The same for a migration check on that probe.
    let config = r#"{"max_failed_probe_rounds": 2, "migration_checks": ["api-health"]}"#;
    assert!(rules(&run(&s, config), Verdict::Rollback).contains(&RULE_MIGRATION_FAILED));
    let mut s = healthy();
    probes_mut(&mut s)[0].results = vec![round(Some(200), 5000)];
    let d = run(&s, r#"{"max_slow_probe_rounds": 3}"#);
    assert_eq!(d.verdict, Verdict::Hold, "{d:#?}");
    assert!(rules(&d, Verdict::Hold).contains(&RULE_PROBE_SLOW));
}

/// Failures and errors near `u32::MAX` (a JUnit count saturates there) do
/// not wrap round to "passed", and a smoke suite whose every test was
/// skipped verified nothing.
#[test]
fn huge_counts_still_fail_and_skipped_smoke_tests_are_not_run() {
    let mut s = healthy();
    let mut huge = suite("smoke", u32::MAX, u32::MAX);
    huge.errors = 1;
    s.ci.as_mut().unwrap().test_suites = vec![huge];
    assert_eq!(run(&s, "{}").verdict, Verdict::Rollback);

    let mut skipped = suite("smoke", 12, 0);
    skipped.skipped = 12;
    s.ci.as_mut().unwrap().test_suites = vec![skipped];
    let d = run(&s, r#"{"require_smoke_tests": true}"#);
    assert_eq!(d.verdict, Verdict::Hold, "{d:#?}");
    assert!(
        message(&d, RULE_DATA_MISSING, Verdict::Hold).contains("no smoke test ran"),
        "{d:#?}"
    );
    let mut partly = suite("smoke", 12, 0);
    partly.skipped = 2;
    s.ci.as_mut().unwrap().test_suites = vec![partly];
    let d = run(&s, r#"{"require_smoke_tests": true}"#);
    assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    assert_eq!(
        message(&d, RULE_SMOKE_FAILED, Verdict::Go),
        "smoke tests passed: `smoke` (10 tests)"
    );
}
