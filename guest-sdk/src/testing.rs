//! Running a policy natively, as the host would, for unit tests.
//!
//! The same parse → check → evaluate path runs inside the component, so a
//! decision seen in `cargo test` is the decision the host will see.

use crate::{Decision, Policy, Snapshot, Stage, parse_config};

/// Parses a snapshot file's JSON.
pub fn snapshot_from_json(json: &str) -> Result<Snapshot, String> {
    serde_json::from_str(json).map_err(|e| format!("invalid snapshot: {e}"))
}

/// Parses and checks `config_json`, then evaluates: what the component does
/// for one `evaluate` call. A configuration error is returned as its text.
///
/// One check more than the component: when the policy's [`crate::Info`]
/// declares rules, a finding whose rule is not declared is an error, so that
/// the declared list (which `shipgate test` reports coverage against) stays
/// true.
pub fn evaluate<P: Policy>(
    stage: Stage,
    snapshot: &Snapshot,
    config_json: &str,
) -> Result<Decision, String> {
    let config = parse_config::<P>(config_json).map_err(|e| format!("invalid config: {e}"))?;
    let decision = P::evaluate(stage, snapshot, &config)?;
    let info = P::info();
    if let Some(f) = decision.findings.iter().find(|f| !info.declares(&f.rule)) {
        return Err(format!(
            "policy `{}` reported rule `{}`, which its info() does not declare (add it with `.rule(\"{}\", \"...\")`)",
            info.name, f.rule, f.rule
        ));
    }
    Ok(decision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigError, Finding, Info, Verdict};
    use serde::Deserialize;

    /// Emits one `hold` finding per rule id its config lists.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Emit {
        rules: Vec<String>,
    }

    fn emit(config: &Emit) -> Decision {
        Decision::from_findings(
            config
                .rules
                .iter()
                .map(|r| Finding::hold(r.as_str(), "emitted"))
                .collect(),
        )
    }

    /// Declares `demo.a` and `demo.b`.
    struct Declaring;

    impl Policy for Declaring {
        type Config = Emit;
        fn info() -> Info {
            Info::new("declaring", "declares two rules")
                .rules(&[("demo.a", "a fires"), ("demo.b", "b fires")])
        }
        fn evaluate(_: Stage, _: &Snapshot, config: &Emit) -> Result<Decision, String> {
            Ok(emit(config))
        }
    }

    /// Declares no rule.
    struct Silent;

    impl Policy for Silent {
        type Config = Emit;
        fn info() -> Info {
            Info::new("silent", "declares nothing")
        }
        fn check_config(config: &Emit) -> Result<(), ConfigError> {
            match config.rules.iter().position(|r| r.is_empty()) {
                Some(i) => Err(ConfigError::new(format!("rules[{i}]"), "must not be empty")),
                None => Ok(()),
            }
        }
        fn evaluate(_: Stage, _: &Snapshot, config: &Emit) -> Result<Decision, String> {
            if config.rules.iter().any(|r| r == "fail") {
                return Err("cannot decide".into());
            }
            Ok(emit(config))
        }
    }

    fn snapshot() -> Snapshot {
        snapshot_from_json(
            r#"{"deployment": {"service": "s", "environment": "e", "version": "v",
                "commit": "c", "requested_at": "2026-11-20T10:00:00Z"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn declared_rules_pass_through_unchanged() {
        let d = evaluate::<Declaring>(
            Stage::Gate,
            &snapshot(),
            r#"{"rules": ["demo.b", "demo.a"]}"#,
        )
        .unwrap();
        assert_eq!(d.verdict, Verdict::Hold);
        let rules: Vec<&str> = d.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["demo.b", "demo.a"]);
    }

    #[test]
    fn an_undeclared_rule_is_an_error_naming_it() {
        let e = evaluate::<Declaring>(
            Stage::Gate,
            &snapshot(),
            r#"{"rules": ["demo.a", "demo.typo", "demo.other"]}"#,
        )
        .unwrap_err();
        assert!(e.contains("policy `declaring`"), "{e}");
        assert!(e.contains("rule `demo.typo`"), "{e}");
        assert!(e.contains(r#".rule("demo.typo", "...")"#), "{e}");
        // A prefix of a declared id is not declared.
        let e =
            evaluate::<Declaring>(Stage::Gate, &snapshot(), r#"{"rules": ["demo"]}"#).unwrap_err();
        assert!(e.contains("rule `demo`"), "{e}");
    }

    #[test]
    fn a_policy_without_declared_rules_is_not_checked() {
        let d = evaluate::<Silent>(
            Stage::Canary,
            &snapshot(),
            r#"{"rules": ["x.y", "anything"]}"#,
        )
        .unwrap();
        let rules: Vec<&str> = d.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["x.y", "anything"]);
    }

    #[test]
    fn config_and_policy_errors_come_before_the_rule_check() {
        let e = evaluate::<Silent>(Stage::Gate, &snapshot(), r#"{"rules": [""]}"#).unwrap_err();
        assert!(e.starts_with("invalid config: "), "{e}");
        assert!(e.contains("rules[0]"), "{e}");
        let e = evaluate::<Declaring>(Stage::Gate, &snapshot(), r#"{"rulez": []}"#).unwrap_err();
        assert!(e.starts_with("invalid config: "), "{e}");
        let e = evaluate::<Silent>(Stage::Gate, &snapshot(), r#"{"rules": ["fail"]}"#).unwrap_err();
        assert_eq!(e, "cannot decide");
    }
}
