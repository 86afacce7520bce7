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
/// true. [`check_rules`] checks the list itself.
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
            "policy `{}` reported rule `{}`, which its info() does not declare (add `{} = \"{}\" => \"...\"` to its `shipgate_sdk::rules!`)",
            info.name,
            f.rule,
            const_name(&info.name, &f.rule),
            f.rule
        ));
    }
    Ok(decision)
}

/// A constant's name for a rule id: `RULE_DATA_MISSING` for
/// `policy.data-missing`.
fn const_name(policy: &str, rule: &str) -> String {
    let short = rule
        .strip_prefix(policy)
        .and_then(|r| r.strip_prefix('.'))
        .unwrap_or(rule);
    let name: String = short
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("RULE_{name}")
}

/// Checks the rules a policy declares, for a unit test of every policy
/// crate: `check_rules::<MyPolicy>().unwrap()`.
///
/// [`rules!`](crate::rules!) already makes every id unique and every
/// description non-empty, and `info()` takes its whole list at once; this
/// checks what only the policy's [`crate::Info`] can tell:
///
/// - `info()` declares rules at all (it passes `RULES` to
///   [`Info::rules`](crate::Info::rules));
/// - every id is the policy's name, a dot and a name of its own
///   (`canary.error-rate`), so that a report says whose finding it is;
/// - no id contains white space or brackets (the host writes a finding
///   about a metric as `rule[metric]`);
/// - no description has white space around it.
///
/// Every problem is listed in the error, one a line.
pub fn check_rules<P: Policy>() -> Result<(), String> {
    let info = P::info();
    if info.rules.is_empty() {
        return Err(format!(
            "policy `{}` declares no rules: declare them with `shipgate_sdk::rules!` and pass \
             `RULES` to `Info::rules` in info()",
            info.name
        ));
    }
    let prefix = format!("{}.", info.name);
    let mut problems = Vec::new();
    for rule in &info.rules {
        let id = rule.id;
        if !id.starts_with(&prefix) || id.len() == prefix.len() {
            problems.push(format!(
                "rule `{id}` does not start with the policy's name: `{prefix}<rule>`"
            ));
        }
        if let Some(c) = id
            .chars()
            .find(|c| c.is_whitespace() || matches!(c, '[' | ']'))
        {
            problems.push(format!("rule `{id}` contains `{c}`"));
        }
        if rule.description.trim() != rule.description {
            problems.push(format!(
                "rule `{id}`: its description has white space around it"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "policy `{}` declares rules wrongly:\n{}",
            info.name,
            problems.join("\n")
        ))
    }
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

    crate::rules! {
        RULE_A = "demo.a" => "a fires",
        RULE_B = "demo.b" => "b fires",
    }

    /// Declares `demo.a` and `demo.b`.
    struct Declaring;

    impl Policy for Declaring {
        type Config = Emit;
        fn info() -> Info {
            Info::new("demo", "declares two rules").rules(RULES)
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
        assert!(e.contains("policy `demo`"), "{e}");
        assert!(e.contains("rule `demo.typo`"), "{e}");
        assert!(
            e.contains(r#"add `RULE_TYPO = "demo.typo" => "..."` to its `shipgate_sdk::rules!`"#),
            "{e}"
        );
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

    mod wrong {
        crate::rules! {
            pub SHORT = "demo" => "no rule name",
            pub DOT = "demo." => "an empty rule name",
            pub OTHER = "other.a" => "another policy's",
            pub SPACE = "demo.a b" => "white space",
            pub METRIC = "demo.a[latency]" => "a metric",
            pub PADDED = "demo.padded" => " padded ",
            pub FINE = "demo.fine" => "fine",
        }
    }

    /// Declares every mistake there is.
    struct Wrong;

    impl Policy for Wrong {
        type Config = Emit;
        fn info() -> Info {
            Info::new("demo", "declares rules wrongly").rules(wrong::RULES)
        }
        fn evaluate(_: Stage, _: &Snapshot, config: &Emit) -> Result<Decision, String> {
            Ok(emit(config))
        }
    }

    #[test]
    fn rules_named_for_the_policy_pass_the_check() {
        check_rules::<Declaring>().unwrap();
    }

    #[test]
    fn the_check_lists_every_wrongly_declared_rule() {
        let e = check_rules::<Wrong>().unwrap_err();
        assert_eq!(
            e,
            "policy `demo` declares rules wrongly:\n\
             rule `demo` does not start with the policy's name: `demo.<rule>`\n\
             rule `demo.` does not start with the policy's name: `demo.<rule>`\n\
             rule `other.a` does not start with the policy's name: `demo.<rule>`\n\
             rule `demo.a b` contains ` `\n\
             rule `demo.a[latency]` contains `[`\n\
             rule `demo.padded`: its description has white space around it"
        );
    }

    #[test]
    fn a_policy_without_rules_fails_the_check() {
        let e = check_rules::<Silent>().unwrap_err();
        assert!(e.starts_with("policy `silent` declares no rules"), "{e}");
    }
}
