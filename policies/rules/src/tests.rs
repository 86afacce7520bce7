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
    // A type error is an error of the policy, not a verdict.
    assert!(verdict_of("deployment.service > 3").is_err());
}
