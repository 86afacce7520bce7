//! Shipgate built-in policy `env`: environment variables.
//!
//! The playbooks' first check ("missing environment variables are the #1
//! cause of deployment failures"): every variable the code requires and has
//! no default for must be present in the target environment, and every
//! variable the change adds must be documented.
//!
//! Rules:
//!
//! | rule | verdict |
//! |---|---|
//! | [`RULE_MISSING_REQUIRED`] | `no-go`, one finding per required variable without a default that is absent |
//! | [`RULE_UNDOCUMENTED`] | `hold` per added, undocumented variable (`advisory`: one `go` note; `off`: nothing) |
//! | [`RULE_MISSING_OPTIONAL`] | `go` note listing absent optional variables without a default (`missing_optional = true`) |
//! | [`RULE_NOT_COLLECTED`] | `hold`: the environment section was not collected, or the `environment` source has a gap |
//! | [`RULE_NOT_APPLICABLE`] | `go`: `environments` is set and does not list the deployment's environment |
//! | [`RULE_OK`] | `go` summary: every required variable is present |
//!
//! When the `environment` source has a gap, the names present in the target
//! may be incomplete: absence proves nothing, so the policy holds and does not
//! report missing variables (documentation findings are still reported, they
//! only read the declarations).

use std::collections::BTreeSet;

use serde::Deserialize;
use shipgate_sdk::prelude::*;
use shipgate_sdk::{EnvVar, Environment};

shipgate_sdk::rules! {
    pub RULE_MISSING_REQUIRED = "env.missing-required"
        => "a variable the code requires and has no default for is absent from the target \
            environment (no-go, one per variable)",
    pub RULE_UNDOCUMENTED = "env.undocumented"
        => "a variable the change adds is not documented (hold per variable; one go note \
            with undocumented = \"advisory\")",
    pub RULE_MISSING_OPTIONAL = "env.missing-optional"
        => "optional variables without a default are absent from the target (go note, with \
            missing_optional = true)",
    pub RULE_NOT_COLLECTED = "env.not-collected"
        => "the environment variables were not collected, or the environment source has a \
            gap (hold)",
    pub RULE_NOT_APPLICABLE = "env.not-applicable"
        => "the deployment's environment is not in the configured environments (go)",
    pub RULE_OK = "env.ok" => "every required variable is present (go summary)",
}

/// The snapshot source whose gap means the variables could not be read.
pub const SOURCE: &str = "environment";

/// What to do about a variable the change adds without documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Undocumented {
    /// A `hold` finding per variable.
    #[default]
    Hold,
    /// One `go` finding noting them.
    Advisory,
    /// Not checked.
    Off,
}

/// The `config` table of the `env` policy in `shipgate.toml`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Added variables without documentation: `hold` (default), `advisory`
    /// or `off`.
    pub undocumented: Undocumented,
    /// Also note optional variables without a default that are absent
    /// (default `false`).
    pub missing_optional: bool,
    /// The environments the policy applies to (exact names); empty (the
    /// default) means every environment.
    pub environments: Vec<String>,
}

/// The policy.
#[derive(Debug)]
pub struct EnvPolicy;

impl Policy for EnvPolicy {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "env",
            "environment variables: required ones present in the target, new ones documented",
        )
        .stages(&[Stage::Gate])
        .reads(&[Section::Environment, Section::Deployment])
        .rules(RULES)
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        for (i, name) in config.environments.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(ConfigError::new(
                    format!("environments[{i}]"),
                    "must be an environment name, got an empty string",
                ));
            }
        }
        Ok(())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(stage, snapshot, config))
    }
}

/// The rules, as a plain function (unit tested and benchmarked natively).
pub fn decide(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Decision {
    let target = snapshot.deployment.environment.as_str();
    if !config.environments.is_empty() && !config.environments.iter().any(|e| e == target) {
        return Decision::from_findings(vec![Finding::pass(
            RULE_NOT_APPLICABLE,
            format!(
                "environment checks do not apply to {target} (configured for {})",
                config.environments.join(", ")
            ),
        )]);
    }

    let gap = snapshot.gap(SOURCE);
    let Some(environment) = &snapshot.environment else {
        let message = match gap {
            Some(gap) => format!(
                "environment variables for {target} could not be read: {}",
                gap.reason
            ),
            None => format!("environment variables for {target} were not collected"),
        };
        return Decision::from_findings(vec![Finding::hold(RULE_NOT_COLLECTED, message)]);
    };

    let mut findings = Vec::new();
    let declared = unique(&environment.declared);

    if let Some(gap) = gap {
        findings.push(Finding::hold(
            RULE_NOT_COLLECTED,
            format!(
                "environment variables for {target} may be incomplete, so absent ones cannot be \
                 told apart: {}",
                gap.reason
            ),
        ));
    } else {
        let missing = missing_required(&declared, environment, target, &mut findings);
        if config.missing_optional {
            missing_optional(&declared, environment, target, &mut findings);
        }
        if missing == 0 {
            let added = declared.iter().filter(|v| v.added).count();
            findings.push(Finding::pass(
                RULE_OK,
                format!(
                    "{} declared, {added} added, all required present in {target}",
                    declared.len()
                ),
            ));
        }
    }

    undocumented(&declared, config.undocumented, &mut findings);
    Decision::from_findings(findings)
}

/// The declared variables, the first declaration of each name.
fn unique(declared: &[EnvVar]) -> Vec<&EnvVar> {
    let mut seen = BTreeSet::new();
    declared
        .iter()
        .filter(|v| seen.insert(v.name.as_str()))
        .collect()
}

/// Adds a `no-go` per required variable without a default that is absent;
/// returns how many.
fn missing_required(
    declared: &[&EnvVar],
    environment: &Environment,
    target: &str,
    findings: &mut Vec<Finding>,
) -> usize {
    let mut count = 0;
    for var in declared
        .iter()
        .filter(|v| v.required && !v.has_default && !environment.is_present(&v.name))
    {
        count += 1;
        findings.push(
            Finding::no_go(
                RULE_MISSING_REQUIRED,
                format!("`{}` is required but absent from {target}", var.name),
            )
            .evidence(format!("absent from {target}"), "present"),
        );
    }
    count
}

/// Adds one `go` note listing the absent optional variables without a default.
fn missing_optional(
    declared: &[&EnvVar],
    environment: &Environment,
    target: &str,
    findings: &mut Vec<Finding>,
) {
    let names: Vec<String> = declared
        .iter()
        .filter(|v| !v.required && !v.has_default && !environment.is_present(&v.name))
        .map(|v| format!("`{}`", v.name))
        .collect();
    if names.is_empty() {
        return;
    }
    let (noun, verb) = if names.len() == 1 {
        ("variable", "is")
    } else {
        ("variables", "are")
    };
    findings.push(Finding::pass(
        RULE_MISSING_OPTIONAL,
        format!(
            "optional {noun} without a default {verb} absent from {target}: {}",
            names.join(", ")
        ),
    ));
}

/// Adds the findings about variables the change adds without documentation.
fn undocumented(declared: &[&EnvVar], mode: Undocumented, findings: &mut Vec<Finding>) {
    let vars = declared.iter().filter(|v| v.added && !v.documented);
    match mode {
        Undocumented::Off => {}
        Undocumented::Hold => {
            for var in vars {
                findings.push(Finding::hold(
                    RULE_UNDOCUMENTED,
                    format!(
                        "`{}` is added by this change but not documented: its declaration has no \
                         comment describing it (a `#` comment line directly above it, or a \
                         trailing comment)",
                        var.name
                    ),
                ));
            }
        }
        Undocumented::Advisory => {
            let names: Vec<String> = vars.map(|v| format!("`{}`", v.name)).collect();
            if !names.is_empty() {
                let (noun, pronoun) = if names.len() == 1 {
                    ("variable", "it")
                } else {
                    ("variables", "them")
                };
                findings.push(Finding::pass(
                    RULE_UNDOCUMENTED,
                    format!(
                        "added {noun} without a comment describing {pronoun} (advisory): {}",
                        names.join(", ")
                    ),
                ));
            }
        }
    }
}

shipgate_sdk::export_policy!(EnvPolicy);

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_sdk::testing::{evaluate, snapshot_from_json};

    const DEPLOYMENT: &str = r#""deployment": { "service": "checkout", "environment": "production",
        "version": "2.0.0", "commit": "abc123", "requested_at": "2026-11-20T10:00:00Z" }"#;

    fn snapshot(rest: &str) -> Snapshot {
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(", {rest}")
        };
        snapshot_from_json(&format!("{{ {DEPLOYMENT}{rest} }}")).unwrap()
    }

    fn env(declared: &str, present: &str) -> Snapshot {
        snapshot(&format!(
            r#""environment": {{ "declared": [{declared}], "present": [{present}] }}"#
        ))
    }

    fn run(snapshot: &Snapshot, config: &str) -> Decision {
        evaluate::<EnvPolicy>(Stage::Gate, snapshot, config).unwrap()
    }

    fn rules(d: &Decision) -> Vec<(&str, Verdict)> {
        d.findings
            .iter()
            .map(|f| (f.rule.as_str(), f.verdict))
            .collect()
    }

    const DB_REQUIRED: &str = r#"{ "name": "DATABASE_URL", "required": true, "documented": true }"#;

    #[test]
    fn a_required_variable_absent_from_the_target_is_no_go() {
        let d = run(&env(DB_REQUIRED, ""), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [(RULE_MISSING_REQUIRED, Verdict::NoGo)]);
        let f = &d.findings[0];
        assert_eq!(
            f.message,
            "`DATABASE_URL` is required but absent from production"
        );
        let e = f.evidence.as_ref().unwrap();
        assert_eq!(e.observed, "absent from production");
        assert_eq!(e.expected, "present");
    }

    #[test]
    fn one_finding_per_missing_variable() {
        let d = run(
            &env(
                &format!(
                    r#"{DB_REQUIRED}, {{ "name": "API_KEY", "required": true }},
                       {{ "name": "PORT", "required": true }}, {DB_REQUIRED}"#
                ),
                r#""PORT""#,
            ),
            r#"{"undocumented": "off"}"#,
        );
        assert_eq!(
            rules(&d),
            [
                (RULE_MISSING_REQUIRED, Verdict::NoGo),
                (RULE_MISSING_REQUIRED, Verdict::NoGo)
            ]
        );
        assert!(d.findings[1].message.contains("`API_KEY`"));
    }

    #[test]
    fn a_present_required_variable_passes_with_a_summary() {
        let d = run(
            &env(
                &format!(
                    r#"{DB_REQUIRED}, {{ "name": "NEW_FLAG", "added": true, "documented": true }}"#
                ),
                r#""DATABASE_URL", "UNRELATED""#,
            ),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(rules(&d), [(RULE_OK, Verdict::Go)]);
        assert_eq!(
            d.findings[0].message,
            "2 declared, 1 added, all required present in production"
        );
    }

    #[test]
    fn a_default_or_optional_variable_need_not_be_present() {
        let d = run(
            &env(
                r#"{ "name": "LOG_LEVEL", "required": true, "has_default": true },
                   { "name": "SENTRY_DSN" }"#,
                "",
            ),
            "{}",
        );
        assert_eq!(rules(&d), [(RULE_OK, Verdict::Go)]);
    }

    #[test]
    fn nothing_declared_passes() {
        let d = run(&env("", ""), "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "0 declared, 0 added, all required present in production"
        );
    }

    #[test]
    fn an_added_undocumented_variable_holds_by_default() {
        let added = r#"{ "name": "FEATURE_X", "added": true },
                       { "name": "OLD_UNDOCUMENTED" }"#;
        let d = run(&env(added, ""), "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(
            rules(&d),
            [(RULE_OK, Verdict::Go), (RULE_UNDOCUMENTED, Verdict::Hold)]
        );
        // The variable is declared (in .env.example or another declaration
        // file): what it lacks is a comment, and the message says so rather
        // than pointing at the file it is already in.
        assert_eq!(
            d.findings[1].message,
            "`FEATURE_X` is added by this change but not documented: its declaration has no \
             comment describing it (a `#` comment line directly above it, or a trailing comment)"
        );
        assert!(!d.findings[1].message.contains(".env.example"));

        let d = run(&env(added, ""), r#"{"undocumented": "hold"}"#);
        assert_eq!(d.verdict, Verdict::Hold);
    }

    #[test]
    fn undocumented_advisory_notes_and_off_ignores() {
        let added = r#"{ "name": "A", "added": true }, { "name": "B", "added": true }"#;
        let d = run(&env(added, ""), r#"{"undocumented": "advisory"}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            rules(&d),
            [(RULE_OK, Verdict::Go), (RULE_UNDOCUMENTED, Verdict::Go)]
        );
        assert_eq!(
            d.findings[1].message,
            "added variables without a comment describing them (advisory): `A`, `B`"
        );

        let d = run(&env(added, ""), r#"{"undocumented": "off"}"#);
        assert_eq!(rules(&d), [(RULE_OK, Verdict::Go)]);
    }

    #[test]
    fn missing_optional_is_noted_only_when_asked() {
        let vars = r#"{ "name": "SENTRY_DSN" }, { "name": "TRACE_URL" },
                      { "name": "WITH_DEFAULT", "has_default": true }, { "name": "HERE" }"#;
        let d = run(&env(vars, r#""HERE""#), "{}");
        assert_eq!(rules(&d), [(RULE_OK, Verdict::Go)]);

        let d = run(&env(vars, r#""HERE""#), r#"{"missing_optional": true}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            rules(&d),
            [(RULE_MISSING_OPTIONAL, Verdict::Go), (RULE_OK, Verdict::Go)]
        );
        assert_eq!(
            d.findings[0].message,
            "optional variables without a default are absent from production: `SENTRY_DSN`, `TRACE_URL`"
        );

        let d = run(
            &env(vars, r#""HERE", "SENTRY_DSN", "TRACE_URL""#),
            r#"{"missing_optional": true}"#,
        );
        assert_eq!(rules(&d), [(RULE_OK, Verdict::Go)]);
    }

    #[test]
    fn environments_limits_where_the_policy_applies() {
        let s = env(DB_REQUIRED, "");
        let d = run(&s, r#"{"environments": ["staging", "qa"]}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(rules(&d), [(RULE_NOT_APPLICABLE, Verdict::Go)]);
        assert_eq!(
            d.findings[0].message,
            "environment checks do not apply to production (configured for staging, qa)"
        );

        let d = run(&s, r#"{"environments": ["staging", "production"]}"#);
        assert_eq!(d.verdict, Verdict::NoGo);
        let d = run(&s, r#"{"environments": []}"#);
        assert_eq!(d.verdict, Verdict::NoGo);
        // Not applicable even when nothing was collected.
        let d = run(&snapshot(""), r#"{"environments": ["staging"]}"#);
        assert_eq!(rules(&d), [(RULE_NOT_APPLICABLE, Verdict::Go)]);
    }

    #[test]
    fn an_uncollected_environment_holds() {
        let d = run(&snapshot(""), "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [(RULE_NOT_COLLECTED, Verdict::Hold)]);
        assert_eq!(
            d.findings[0].message,
            "environment variables for production were not collected"
        );

        let d = run(
            &snapshot(r#""gaps": [{ "source": "environment", "reason": "vault timed out" }]"#),
            "{}",
        );
        assert_eq!(rules(&d), [(RULE_NOT_COLLECTED, Verdict::Hold)]);
        assert_eq!(
            d.findings[0].message,
            "environment variables for production could not be read: vault timed out"
        );
    }

    #[test]
    fn a_gap_holds_instead_of_reporting_absent_variables() {
        let s = snapshot(&format!(
            r#""environment": {{ "declared": [{DB_REQUIRED}, {{ "name": "NEW", "added": true }}],
                                "present": [] }},
               "gaps": [{{ "source": "environment", "reason": "vault timed out" }}]"#
        ));
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(
            rules(&d),
            [
                (RULE_NOT_COLLECTED, Verdict::Hold),
                (RULE_UNDOCUMENTED, Verdict::Hold)
            ]
        );
        assert!(d.findings[0].message.contains("vault timed out"));
        // Never go, even with nothing else to say.
        let d = run(&s, r#"{"undocumented": "off"}"#);
        assert_eq!(rules(&d), [(RULE_NOT_COLLECTED, Verdict::Hold)]);
        // A gap for another source does not matter.
        let s = snapshot(&format!(
            r#""environment": {{ "declared": [{DB_REQUIRED}], "present": ["DATABASE_URL"] }},
               "gaps": [{{ "source": "prometheus", "reason": "down" }}]"#
        ));
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    }

    #[test]
    fn missing_required_outranks_undocumented() {
        let d = run(
            &env(
                r#"{ "name": "NEW_SECRET", "required": true, "added": true }"#,
                "",
            ),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            rules(&d),
            [
                (RULE_MISSING_REQUIRED, Verdict::NoGo),
                (RULE_UNDOCUMENTED, Verdict::Hold)
            ]
        );
    }

    #[test]
    fn config_errors_name_the_key() {
        let parse = shipgate_sdk::parse_config::<EnvPolicy>;
        assert_eq!(parse("{}").unwrap(), Config::default());
        let e = parse(r#"{"undocumented": "warn"}"#).unwrap_err();
        assert_eq!(e.key, "undocumented");
        let e = parse(r#"{"missing_optonal": true}"#).unwrap_err();
        assert!(e.message.contains("unknown field `missing_optonal`"), "{e}");
        let e = parse(r#"{"environments": ["production", " "]}"#).unwrap_err();
        assert_eq!(e.key, "environments[1]");
        let e = parse(r#"{"environments": "production"}"#).unwrap_err();
        assert_eq!(e.key, "environments");
    }

    #[test]
    fn info_declares_the_gate_and_what_it_reads() {
        let info = EnvPolicy::info();
        assert_eq!(info.name, "env");
        assert_eq!(info.stages, [Stage::Gate]);
        assert_eq!(info.reads, [Section::Environment, Section::Deployment]);
    }

    #[test]
    fn info_declares_its_rules() {
        shipgate_sdk::testing::check_rules::<EnvPolicy>().unwrap();
    }
}
