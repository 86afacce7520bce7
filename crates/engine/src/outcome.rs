//! The reviewable shape of a decision: its verdict, its risk, the rules that
//! fired and how strictly, and the policies that failed. `shipgate test`
//! compares these against the reviewed ones; `shipgate replay` compares a
//! logged decision's with a new one's.
//!
//! A rule *fired* when the decision has a finding with its id, at any
//! verdict: a risk factor or a note at `go` is part of the outcome as much
//! as a trigger at `rollback`. Message wording is not, so a reworded message
//! does not fail a test, but a rule that starts or stops firing, or fires at
//! another verdict, does. (The contract's `interval-result.rules`, which
//! policies count intervals from, keeps only findings stricter than `go`.)

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use shipgate_model::{RiskLevel, Verdict};

use crate::report::{PolicyOutcome, Report};

/// The typed summary of one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// The overall verdict.
    pub verdict: Verdict,
    /// The highest risk any enforced policy gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    /// Rule id → the strictest verdict among its findings, over the enforced
    /// policies' findings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, Verdict>,
    /// The same for advisory policies, whose findings did not count.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub advisory: BTreeMap<String, Verdict>,
    /// Policy name → the kind of failure, for policies that gave no decision
    /// (`trap`, `fuel`, `load`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed: BTreeMap<String, String>,
}

impl Outcome {
    /// The outcome of a report.
    pub fn of(report: &Report) -> Outcome {
        let mut outcome = Outcome::new(report.verdict, report.risk);
        for f in &report.findings {
            outcome.fire(f.advisory, &f.finding.rule, f.finding.verdict);
        }
        for p in &report.policies {
            if let PolicyOutcome::Failed(failure) = &p.outcome {
                outcome
                    .failed
                    .insert(p.name.clone(), failure.kind.as_str().to_owned());
            }
        }
        outcome
    }

    /// The outcome of a report in its `--format json` form, as a decision log
    /// stores it.
    pub fn of_json(report: &serde_json::Value) -> Result<Outcome, String> {
        let logged: LoggedReport =
            serde_json::from_value(report.clone()).map_err(|e| format!("not a report: {e}"))?;
        let mut outcome = Outcome::new(logged.verdict, logged.risk);
        for f in logged.findings {
            outcome.fire(f.advisory, &f.rule, f.verdict);
        }
        for p in logged.policies {
            if p.status == "failed" {
                let kind = p.failure.map_or_else(|| "failed".to_owned(), |f| f.kind);
                outcome.failed.insert(p.name, kind);
            }
        }
        Ok(outcome)
    }

    fn new(verdict: Verdict, risk: Option<RiskLevel>) -> Outcome {
        Outcome {
            verdict,
            risk,
            rules: BTreeMap::new(),
            advisory: BTreeMap::new(),
            failed: BTreeMap::new(),
        }
    }

    fn fire(&mut self, advisory: bool, rule: &str, verdict: Verdict) {
        let map = if advisory {
            &mut self.advisory
        } else {
            &mut self.rules
        };
        let entry = map.entry(rule.to_owned()).or_insert(verdict);
        *entry = (*entry).max(verdict);
    }

    /// What changed from `self` (the old, reviewed or logged outcome) to
    /// `new`; empty when they are equal.
    pub fn diff(&self, new: &Outcome) -> Vec<Difference> {
        let mut differences = Vec::new();
        if self.verdict != new.verdict {
            differences.push(Difference::Verdict {
                old: self.verdict,
                new: new.verdict,
            });
        }
        if self.risk != new.risk {
            differences.push(Difference::Risk {
                old: self.risk,
                new: new.risk,
            });
        }
        map_diff(&self.rules, &new.rules, &mut differences, |id, old, new| {
            Difference::Rule {
                id,
                advisory: false,
                old,
                new,
            }
        });
        map_diff(
            &self.advisory,
            &new.advisory,
            &mut differences,
            |id, old, new| Difference::Rule {
                id,
                advisory: true,
                old,
                new,
            },
        );
        map_diff(
            &self.failed,
            &new.failed,
            &mut differences,
            |policy, old, new| Difference::Failed { policy, old, new },
        );
        differences
    }

    /// The rules that fired, as `id=verdict`, enforced ones first.
    pub fn fired(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|(id, v)| format!("{id}={v}"))
            .chain(
                self.advisory
                    .iter()
                    .map(|(id, v)| format!("{id}={v} (advisory)")),
            )
            .collect()
    }
}

fn map_diff<V: Clone + PartialEq>(
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
    out: &mut Vec<Difference>,
    difference: impl Fn(String, Option<V>, Option<V>) -> Difference,
) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a != b {
            out.push(difference(key.clone(), a.cloned(), b.cloned()));
        }
    }
}

/// One difference between two outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "kebab-case")]
pub enum Difference {
    /// The overall verdict changed.
    Verdict {
        /// Before.
        old: Verdict,
        /// After.
        new: Verdict,
    },
    /// The risk level changed.
    Risk {
        /// Before.
        old: Option<RiskLevel>,
        /// After.
        new: Option<RiskLevel>,
    },
    /// A rule started or stopped firing, or fires at another verdict.
    Rule {
        /// The rule id.
        id: String,
        /// Whether it is an advisory policy's rule.
        advisory: bool,
        /// Its verdict before (`None`: it did not fire).
        old: Option<Verdict>,
        /// Its verdict after (`None`: it does not fire).
        new: Option<Verdict>,
    },
    /// A policy started or stopped failing, or fails another way.
    Failed {
        /// The policy's name.
        policy: String,
        /// The failure kind before (`None`: it decided).
        old: Option<String>,
        /// The failure kind after (`None`: it decides).
        new: Option<String>,
    },
}

/// `-` for something that went away, `+` for something new, `~` for a
/// change, as in a diff.
impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn opt<T: fmt::Display>(v: &Option<T>) -> String {
            v.as_ref().map_or_else(|| "none".to_owned(), T::to_string)
        }
        match self {
            Difference::Verdict { old, new } => write!(f, "~ verdict: {old} → {new}"),
            Difference::Risk { old, new } => write!(f, "~ risk: {} → {}", opt(old), opt(new)),
            Difference::Rule {
                id,
                advisory,
                old,
                new,
            } => {
                let tag = if *advisory { " (advisory)" } else { "" };
                match (old, new) {
                    (None, Some(n)) => write!(f, "+ rule {id} = {n}{tag}"),
                    (Some(o), None) => write!(f, "- rule {id} = {o}{tag}"),
                    _ => write!(f, "~ rule {id}: {} → {}{tag}", opt(old), opt(new)),
                }
            }
            Difference::Failed { policy, old, new } => match (old, new) {
                (None, Some(n)) => write!(f, "+ policy {policy} failed ({n})"),
                (Some(o), None) => write!(f, "- policy {policy} failed ({o})"),
                _ => write!(f, "~ policy {policy} failed: {} → {}", opt(old), opt(new)),
            },
        }
    }
}

/// The parts of a `--format json` report an outcome reads.
#[derive(Deserialize)]
struct LoggedReport {
    verdict: Verdict,
    #[serde(default)]
    risk: Option<RiskLevel>,
    #[serde(default)]
    findings: Vec<LoggedFinding>,
    #[serde(default)]
    policies: Vec<LoggedPolicy>,
}

#[derive(Deserialize)]
struct LoggedFinding {
    rule: String,
    verdict: Verdict,
    #[serde(default)]
    advisory: bool,
}

#[derive(Deserialize)]
struct LoggedPolicy {
    name: String,
    status: String,
    #[serde(default)]
    failure: Option<LoggedFailure>,
}

#[derive(Deserialize)]
struct LoggedFailure {
    kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(verdict: Verdict, rules: &[(&str, Verdict)]) -> Outcome {
        let mut o = Outcome::new(verdict, None);
        for (id, v) in rules {
            o.fire(false, id, *v);
        }
        o
    }

    #[test]
    fn a_rule_keeps_its_strictest_verdict_and_go_notes_fire_too() {
        let mut o = Outcome::new(Verdict::Rollback, None);
        o.fire(false, "canary.latency", Verdict::Hold);
        o.fire(false, "canary.latency", Verdict::Rollback);
        o.fire(false, "canary.latency", Verdict::Hold);
        o.fire(false, "risk.migration", Verdict::Go);
        o.fire(true, "team.note", Verdict::NoGo);
        assert_eq!(o.rules.len(), 2);
        assert_eq!(o.rules["canary.latency"], Verdict::Rollback);
        assert_eq!(o.rules["risk.migration"], Verdict::Go);
        assert_eq!(o.advisory["team.note"], Verdict::NoGo);
        assert_eq!(
            o.fired(),
            [
                "canary.latency=rollback",
                "risk.migration=go",
                "team.note=no-go (advisory)"
            ]
        );
    }

    #[test]
    fn the_diff_names_every_change_and_nothing_else() {
        let old = outcome(
            Verdict::Hold,
            &[
                ("a", Verdict::Hold),
                ("b", Verdict::Hold),
                ("c", Verdict::Hold),
            ],
        );
        let mut new = outcome(
            Verdict::Rollback,
            &[
                ("a", Verdict::Hold),
                ("c", Verdict::Rollback),
                ("d", Verdict::Hold),
            ],
        );
        new.risk = Some(RiskLevel::High);
        new.failed.insert("p".into(), "fuel".into());
        let lines: Vec<String> = old.diff(&new).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "~ verdict: hold → rollback",
                "~ risk: none → high",
                "- rule b = hold",
                "~ rule c: hold → rollback",
                "+ rule d = hold",
                "+ policy p failed (fuel)",
            ]
        );
        assert!(old.diff(&old).is_empty());
    }

    #[test]
    fn reads_a_logged_json_report() {
        let json = serde_json::json!({
            "stage": "canary", "verdict": "rollback", "risk": "high",
            "findings": [
                {"policy": "canary", "advisory": false, "rule": "canary.error-rate", "verdict": "rollback", "message": "m"},
                {"policy": "team", "advisory": true, "rule": "team.x", "verdict": "hold", "message": "m"},
                {"policy": "canary", "advisory": false, "rule": "canary.note", "verdict": "go", "message": "m"}
            ],
            "policies": [
                {"name": "canary", "status": "decided", "failure": null},
                {"name": "bad", "status": "failed", "failure": {"kind": "trap", "message": "x"}}
            ]
        });
        let o = Outcome::of_json(&json).unwrap();
        assert_eq!(o.verdict, Verdict::Rollback);
        assert_eq!(o.risk, Some(RiskLevel::High));
        assert_eq!(
            o.fired(),
            [
                "canary.error-rate=rollback",
                "canary.note=go",
                "team.x=hold (advisory)"
            ]
        );
        assert_eq!(o.failed["bad"], "trap");
        assert!(Outcome::of_json(&serde_json::json!({"nope": 1})).is_err());
    }

    #[test]
    fn round_trips_through_toml() {
        let mut o = outcome(Verdict::NoGo, &[("env.missing-required", Verdict::NoGo)]);
        o.risk = Some(RiskLevel::Medium);
        let text = toml::to_string(&o).unwrap();
        assert_eq!(toml::from_str::<Outcome>(&text).unwrap(), o);
        assert!(toml::from_str::<Outcome>("verdict = \"go\"\nrisks = \"low\"").is_err());
    }
}
