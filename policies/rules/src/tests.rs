use shipgate_sdk::testing::{evaluate, snapshot_from_json};
use shipgate_sdk::{Stage, Verdict};

use super::*;

fn canary_snapshot(canary_error_rate: &str) -> shipgate_sdk::Snapshot {
    snapshot_from_json(&format!(
        r#"{{
  "deployment": {{ "service": "api", "environment": "production", "version": "2",
                  "commit": "abc", "requested_at": "2026-11-20T10:00:00Z" }},
  "metrics": [{{ "name": "error_rate", "baseline": {{ "value": 0.01 }}, "canary": {canary_error_rate} }}]
}}"#
    ))
    .unwrap()
}

fn config(rules: &str) -> String {
    rules.to_owned()
}

#[test]
fn a_rule_fires_with_its_verdict_and_interpolated_message() {
    let cfg = config(
        r#"{"params": {"max": 0.02}, "rules": [{"id": "canary.error-rate", "when": "value(metric('error_rate').canary) > params.max", "verdict": "rollback", "message": "rate {{ percent(value(metric('error_rate').canary)) }} > {{ percent(params.max) }}"}]}"#,
    );
    let d = evaluate::<RulesPolicy>(Stage::Canary, &canary_snapshot(r#"{"value": 0.05}"#), &cfg)
        .unwrap();
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(d.findings[0].message, "rate 5% > 2%");
    let d = evaluate::<RulesPolicy>(Stage::Canary, &canary_snapshot(r#"{"value": 0.01}"#), &cfg)
        .unwrap();
    assert_eq!(d.verdict, Verdict::Go);
    assert!(d.findings.is_empty());
}

#[test]
fn integer_params_are_ints() {
    let cfg = r#"{"params": {"n": 3, "ratio": 1.5}, "rules": [{"id": "r", "when": "params.n - 1 == 2 && params.ratio * 2.0 == 3.0", "verdict": "hold"}]}"#;
    let d = evaluate::<RulesPolicy>(Stage::Gate, &gate_snapshot(), cfg).unwrap();
    assert_eq!(d.verdict, Verdict::Hold);
}

#[test]
fn a_fired_rule_adds_its_risk_and_requirements() {
    let cfg = r#"{"rules": [
        {"id": "risk.migration", "when": "change.files.exists(f, f.path.startsWith('db/'))", "verdict": "go", "risk": "high",
         "requires": ["staged-rollout", {"extended-monitoring-hours": 48}]},
        {"id": "risk.hotfix", "when": "deployment.kind == 'hotfix'", "verdict": "go", "risk": "medium", "requires": ["staged-rollout"]},
        {"id": "risk.never", "when": "false", "verdict": "go", "risk": "critical", "requires": ["full-backup"]}
    ]}"#;
    let d = evaluate::<RulesPolicy>(Stage::Risk, &gate_snapshot(), cfg).unwrap();
    assert_eq!(d.verdict, Verdict::Go);
    assert_eq!(d.risk, Some(shipgate_sdk::RiskLevel::High));
    assert_eq!(
        d.requirements,
        vec![
            shipgate_sdk::Requirement::StagedRollout,
            shipgate_sdk::Requirement::ExtendedMonitoringHours(48)
        ]
    );
}

#[test]
fn missing_data_is_the_rules_on_missing_verdict_not_false() {
    let cfg = r#"{"rules": [{"id": "canary.error-rate", "when": "value(metric('error_rate').canary) > 0.02", "verdict": "rollback"}]}"#;
    let d = evaluate::<RulesPolicy>(Stage::Canary, &canary_snapshot(r#""no-data""#), cfg).unwrap();
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(
        d.findings[0].message,
        "cannot decide, data missing: no data"
    );
}

fn gate_snapshot() -> shipgate_sdk::Snapshot {
    snapshot_from_json(
        r#"{
  "deployment": { "service": "api", "environment": "production", "version": "2", "kind": "hotfix",
                  "severity": "P1", "commit": "abc", "requested_at": "2026-11-20T16:30:00Z",
                  "utc_offset_minutes": 540 },
  "change": { "files": [{ "path": "db/migrate/1.sql", "status": "added", "lines_added": 3, "lines_removed": 0 }] },
  "history": [{ "version": "1", "at": "2026-11-20T10:30:00Z", "outcome": "failed", "kind": "regular" }]
}"#,
    )
    .unwrap()
}

fn verdict_of(when: &str) -> Result<Verdict, String> {
    let cfg =
        serde_json::json!({"rules": [{"id": "r", "when": when, "verdict": "no-go"}]}).to_string();
    evaluate::<RulesPolicy>(Stage::Gate, &gate_snapshot(), &cfg).map(|d| d.verdict)
}

#[test]
fn sections_fields_and_helpers_evaluate_as_documented() {
    // A section that was not collected: reading it is missing data (hold).
    assert_eq!(
        verdict_of("ci.checks.exists(c, c.required)"),
        Ok(Verdict::Hold)
    );
    assert_eq!(verdict_of("ci == null"), Ok(Verdict::NoGo));
    let cfg = r#"{"rules": [{"id": "r", "when": "ci.checks.exists(c, c.required)", "verdict": "no-go"}]}"#;
    let d = evaluate::<RulesPolicy>(Stage::Gate, &gate_snapshot(), cfg).unwrap();
    assert_eq!(
        d.findings[0].message,
        "cannot decide, data missing: a field of a section the snapshot does not have (it is null)"
    );
    // An optional field the snapshot leaves out.
    assert_eq!(verdict_of("deployment.actor == 'me'"), Ok(Verdict::Hold));
    assert_eq!(verdict_of("has(deployment.actor)"), Ok(Verdict::Go));
    // && absorbs the error when the other side decides.
    assert_eq!(
        verdict_of("ci != null && ci.checks.size() > 0"),
        Ok(Verdict::Go)
    );
    assert_eq!(
        verdict_of("change.files.exists(f, f.path.startsWith('db/migrate/'))"),
        Ok(Verdict::NoGo)
    );
    assert_eq!(
        verdict_of("deployment.kind == 'hotfix' && deployment.severity in ['P0', 'P1']"),
        Ok(Verdict::NoGo)
    );
    // 16:30 UTC on a Friday is 01:30 on Saturday at UTC+9.
    assert_eq!(
        verdict_of(
            "local_time(deployment).weekday == 'saturday' && local_time(deployment).hour == 1"
        ),
        Ok(Verdict::NoGo)
    );
    assert_eq!(
        verdict_of(
            "history.exists(h, h.outcome == 'failed' && epoch_seconds(deployment.requested_at) - epoch_seconds(h.at) < 24 * 3600)"
        ),
        Ok(Verdict::NoGo)
    );
    assert_eq!(
        verdict_of("metrics.size() == 0 && stage == 'gate'"),
        Ok(Verdict::NoGo)
    );
    // An offset no time zone has: the local time is missing data.
    let mut snapshot = gate_snapshot();
    snapshot.deployment.utc_offset_minutes = 2000;
    let cfg = r#"{"rules": [{"id": "r", "when": "local_time(deployment).weekday == 'friday'", "verdict": "no-go"}]}"#;
    let d = evaluate::<RulesPolicy>(Stage::Gate, &snapshot, cfg).unwrap();
    assert_eq!(d.verdict, Verdict::Hold);
    assert!(
        d.findings[0].message.contains("local time is unknown"),
        "{}",
        d.findings[0].message
    );
    // Extension functions, and macros that expand to internal functions.
    assert_eq!(
        verdict_of("math.abs(-1) == 1 && lists.range(3).size() == 3"),
        Ok(Verdict::NoGo)
    );
    assert_eq!(
        verdict_of("history.sortBy(h, h.at)[0].outcome == 'failed'"),
        Ok(Verdict::NoGo)
    );
    assert_eq!(
        verdict_of(
            "epoch_millis(deployment.requested_at) - epoch_millis(history[0].at) == 6 * 3600 * 1000"
        ),
        Ok(Verdict::NoGo)
    );
    assert_eq!(
        verdict_of(
            "change.files.exists(f, glob(f.path, 'db/**/*.sql')) && !glob('./src/a/b.rs', 'src/*.rs')"
        ),
        Ok(Verdict::NoGo)
    );
    // An empty list the JSON form leaves out is an empty list.
    assert_eq!(
        verdict_of("change.migrations.size() == 0 && change.areas == []"),
        Ok(Verdict::NoGo)
    );
    // Integers are ints: arithmetic on counts and params works.
    assert_eq!(
        verdict_of("change.files[0].lines_added - 1 == 2"),
        Ok(Verdict::NoGo)
    );
    assert_eq!(
        verdict_of("size(rollout.?history.orValue([])) == 0"),
        Ok(Verdict::NoGo)
    );
    // cel.bind names a value once; the checker knows its type.
    assert_eq!(
        verdict_of("cel.bind(f, change.files[0], f.path.startsWith('db/') && f.lines_added == 3)"),
        Ok(Verdict::NoGo)
    );
    let cfg = serde_json::json!({"rules": [{"id": "r", "when": "cel.bind(f, change.files[0], f.pth == '')", "verdict": "hold"}]}).to_string();
    let err = shipgate_sdk::parse_config::<RulesPolicy>(&cfg).unwrap_err();
    assert!(
        err.message.contains("unknown field `pth` on a file change"),
        "{}",
        err.message
    );
    // A type error the checker cannot see is an error of the policy, not a
    // verdict.
    assert!(verdict_of("int(deployment.service) > 3").is_err());
}

/// The checker's message for a rule whose `when` is `when`.
fn load_error(when: &str) -> String {
    let cfg = serde_json::json!({
        "params": {"max_error_rate": 0.02, "team": "payments"},
        "variables": [{"name": "rate", "expression": "value(metric('error_rate').canary)"}],
        "rules": [{"id": "r", "when": when, "verdict": "no-go"}]
    })
    .to_string();
    match shipgate_sdk::parse_config::<RulesPolicy>(&cfg) {
        Ok(_) => format!("accepted: {when}"),
        Err(e) => e.message,
    }
}

#[test]
fn comparisons_of_values_of_different_kinds_are_load_time_errors() {
    let weekdays = "monday, tuesday, wednesday, thursday, friday, saturday, sunday";
    for (when, wanted) in [
        // Issue 14: never true, silently (the weekdays are names).
        (
            "local_time(deployment).weekday == 5",
            format!(
                "`when` at 1:35: `==` compares a weekday (a string) with a number, so it is \
                 never true; the values are {weekdays}"
            ),
        ),
        // Issue 14: failed only when evaluated.
        (
            "deployment.service > 3",
            "`when` at 1:22: `>` compares a string with a number, which fails when the rule is \
             evaluated"
                .to_owned(),
        ),
        (
            "deployment.kind != 1",
            "`!=` compares a deploy kind (a string) with a number, so it is always true".to_owned(),
        ),
        (
            "5 == local_time(deployment).weekday",
            "`when` at 1:1: `==` compares a number with a weekday".to_owned(),
        ),
        (
            "ci.coverage_percent >= '95'",
            "`>=` compares a number with a string".to_owned(),
        ),
        (
            "ci.checks.exists(c, c.required == 'yes')",
            "`==` compares a bool with a string, so it is never true".to_owned(),
        ),
        (
            "deployment.requested_at < 1700000000",
            "`<` compares a timestamp (an RFC 3339 string) with a number".to_owned(),
        ),
        (
            "params.max_error_rate == 'high'",
            "`==` compares a number with a string".to_owned(),
        ),
        (
            "params.team > 1",
            "`>` compares a string with a number".to_owned(),
        ),
        (
            "variables.rate > '2%'",
            "`>` compares a number with a string".to_owned(),
        ),
        (
            "value(metric('error_rate').canary) == true",
            "`==` compares a number with a bool".to_owned(),
        ),
        (
            "metric('error_rate').canary > 0.02",
            "`>` cannot order a measurement: it fails when the rule is evaluated (use value(m) \
             for a measurement's number, has_data(m) to test it has one)"
                .to_owned(),
        ),
        (
            "metric('error_rate').canary == 0.02",
            "`==` compares a measurement with a number, so it is never true (use value(m)"
                .to_owned(),
        ),
        (
            "change.files < 3",
            "`<` cannot order a list of file changes".to_owned(),
        ),
        (
            "deployment.pull_request > deployment.pull_request",
            "`>` cannot order a pull request".to_owned(),
        ),
        (
            "deployment.severity in [1, 2]",
            "`when` at 1:25: `in` looks for a severity (a string) in a list of numbers, so it \
             is never true"
                .to_owned(),
        ),
        (
            "5 in change.areas",
            "`in` looks for a number in a list of strings, so it is never true".to_owned(),
        ),
        (
            "1 in alerts[0].labels",
            "`in` looks for a number in the string keys of a map, so it is never true".to_owned(),
        ),
        (
            "'api' in deployment.service",
            "`in` looks in a list or a map, not in a string: it fails when the rule is \
             evaluated (for a substring, use contains())"
                .to_owned(),
        ),
        (
            "change.files.exists(f, f.lines_added > f.path)",
            "`>` compares a number with a string".to_owned(),
        ),
    ] {
        let got = load_error(when);
        assert!(
            got.contains(&wanted),
            "{when}:\n  got    {got}\n  wanted {wanted}"
        );
    }
}

#[test]
fn comparisons_cel_allows_are_accepted() {
    for when in [
        // An int and a double compare as numbers.
        "ci.coverage_percent >= 95",
        "ci.coverage_percent > 95.5",
        "change.files[0].lines_added == 3.0",
        "params.max_error_rate > 0 && variables.rate > params.max_error_rate",
        // Timestamps are RFC 3339 strings; enums are strings.
        "deployment.requested_at > '2026-01-01T00:00:00Z'",
        "deployment.kind == 'hotfix' && deployment.severity in ['P0', 'P1']",
        "local_time(deployment).weekday in ['saturday', 'sunday']",
        "deployment.service == params.team",
        // Missing sections and optional fields are null.
        "ci == null || deployment.pull_request != null",
        // A measurement with no data is the string `no-data`.
        "metric('error_rate').canary == 'no-data'",
        "'payments' in change.areas && 'team' in alerts[0].labels",
        "change.areas == [] && change.migrations.size() == 0",
        "true == (1 > 0)",
        // What the checker cannot know is left to evaluation.
        "dyn(deployment.service) == 3",
        "[1, 'a'][0] == 'a'",
    ] {
        assert_eq!(load_error(when), format!("accepted: {when}"));
    }
}

#[test]
fn variables_are_named_once_typed_and_explicit_about_missing_data() {
    let cfg = |rules: &str| {
        format!(
            r#"{{"variables": [
                {{"name": "errors", "expression": "metric('error_rate')"}},
                {{"name": "rate", "expression": "value(variables.errors.canary)"}},
                {{"name": "breached", "expression": "variables.rate > 0.02"}}
            ], "rules": [{rules}]}}"#
        )
    };
    let rule = r#"{"id": "canary.error-rate", "when": "variables.breached", "verdict": "rollback", "message": "rate {{ percent(variables.rate) }}"}"#;
    let d = evaluate::<RulesPolicy>(
        Stage::Canary,
        &canary_snapshot(r#"{"value": 0.05}"#),
        &cfg(rule),
    )
    .unwrap();
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(d.findings[0].message, "rate 5%");
    // No data: the variable is missing, and so is every rule that reads it.
    let d = evaluate::<RulesPolicy>(Stage::Canary, &canary_snapshot(r#""no-data""#), &cfg(rule))
        .unwrap();
    assert_eq!(d.verdict, Verdict::Hold);
    assert_eq!(
        d.findings[0].message,
        "cannot decide, data missing: variable `breached`: variable `rate`: no data"
    );
    // ... unless the other side of && decides.
    let guarded = r#"{"id": "canary.error-rate", "when": "has_data(variables.errors.canary) && variables.breached", "verdict": "rollback"}"#;
    let d = evaluate::<RulesPolicy>(
        Stage::Canary,
        &canary_snapshot(r#""no-data""#),
        &cfg(guarded),
    )
    .unwrap();
    assert_eq!(d.verdict, Verdict::Go);
    // Variables are checked: a misspelt one, a field of a typed one, one
    // read before it is defined.
    for (when, wanted) in [
        ("variables.breachd", "unknown variable `breachd`"),
        (
            "variables.errors.canry > 0",
            "unknown field `canry` on a metric",
        ),
    ] {
        let rule = format!(r#"{{"id": "r", "when": "{when}", "verdict": "hold"}}"#);
        let err = shipgate_sdk::parse_config::<RulesPolicy>(&cfg(&rule)).unwrap_err();
        assert!(err.message.contains(wanted), "{}", err.message);
        assert_eq!(err.key, "rules[0].when");
    }
    // Only the variables the stage's rules read are evaluated: a variable
    // that would fail is harmless where no rule needs it.
    let lazy = r#"{"variables": [{"name": "bad", "expression": "int(deployment.service) > 3"}, {"name": "uses_bad", "expression": "variables.bad"}],
        "rules": [{"id": "t.a", "stages": ["canary"], "when": "variables.uses_bad", "verdict": "hold"}, {"id": "t.b", "stages": ["gate"], "when": "true", "verdict": "go"}]}"#;
    assert!(evaluate::<RulesPolicy>(Stage::Gate, &gate_snapshot(), lazy).is_ok());
    let err = evaluate::<RulesPolicy>(Stage::Canary, &gate_snapshot(), lazy).unwrap_err();
    assert!(err.contains("variable `bad` failed"), "{err}");
    let early = r#"{"variables": [{"name": "a", "expression": "variables.b"}, {"name": "b", "expression": "1"}], "rules": [{"id": "r", "when": "true", "verdict": "go"}]}"#;
    let err = shipgate_sdk::parse_config::<RulesPolicy>(early).unwrap_err();
    assert_eq!(err.key, "variables[0].expression");
    assert!(
        err.message
            .starts_with("variable `a`: `expression` at 1:11: unknown variable `b`"),
        "{}",
        err.message
    );
}
