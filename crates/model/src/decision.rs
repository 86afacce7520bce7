//! A policy's decision: a verdict, a risk level, findings and requirements.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{RiskLevel, RolloutStep, Verdict};

/// What a rule observed against what it expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// What was seen (`3.1%`).
    pub observed: String,
    /// What the rule wanted (`<= 2%`).
    pub expected: String,
}

/// One rule's opinion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// A stable rule id such as `canary.error-rate`.
    pub rule: String,
    /// The verdict the rule asks for.
    pub verdict: Verdict,
    /// What a person should read.
    pub message: String,
    /// Observed vs expected, when the rule compared numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// The metric the rule judged, when it judged one (`latency_p95`), so
    /// that a report can mark that metric as passed or breached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
}

impl Finding {
    /// A finding asking for `verdict`.
    pub fn new(rule: impl Into<String>, verdict: Verdict, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.into(),
            verdict,
            message: message.into(),
            evidence: None,
            metric: None,
        }
    }

    /// A finding that passes (`go`).
    pub fn pass(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(rule, Verdict::Go, message)
    }

    /// A finding asking to `hold`.
    pub fn hold(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(rule, Verdict::Hold, message)
    }

    /// A finding asking for `no-go`.
    pub fn no_go(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(rule, Verdict::NoGo, message)
    }

    /// A finding asking to `rollback`.
    pub fn rollback(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding::new(rule, Verdict::Rollback, message)
    }

    /// Adds what was observed against what was expected.
    pub fn evidence(mut self, observed: impl fmt::Display, expected: impl fmt::Display) -> Self {
        self.evidence = Some(Evidence {
            observed: observed.to_string(),
            expected: expected.to_string(),
        });
        self
    }

    /// Names the metric the rule judged.
    pub fn metric(mut self, name: impl Into<String>) -> Self {
        self.metric = Some(name.into());
        self
    }
}

/// Something that must happen for the deploy to proceed safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// A person must approve; the text says who or why.
    ManualApproval(String),
    /// Deploy inside a maintenance window.
    MaintenanceWindow,
    /// Keep watching for this many hours after the deploy.
    ExtendedMonitoringHours(u32),
    /// Watch more metrics more closely.
    EnhancedMonitoring,
    /// Roll out in stages.
    StagedRollout,
    /// Roll out as a canary.
    CanaryDeployment,
    /// Put the change behind a feature flag.
    FeatureFlag,
    /// Have a documented rollback plan ready.
    RollbackPlan,
    /// Take a full backup first.
    FullBackup,
    /// Follow this rollout plan.
    RolloutPlan(Vec<RolloutStep>),
    /// Anything else.
    Other(String),
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::ManualApproval(why) if why.is_empty() => f.write_str("manual approval"),
            Requirement::ManualApproval(why) => write!(f, "manual approval ({why})"),
            Requirement::MaintenanceWindow => f.write_str("maintenance window"),
            Requirement::ExtendedMonitoringHours(h) => write!(f, "extended monitoring ({h} h)"),
            Requirement::EnhancedMonitoring => f.write_str("enhanced monitoring"),
            Requirement::StagedRollout => f.write_str("staged rollout"),
            Requirement::CanaryDeployment => f.write_str("canary deployment"),
            Requirement::FeatureFlag => f.write_str("feature flag"),
            Requirement::RollbackPlan => f.write_str("rollback plan"),
            Requirement::FullBackup => f.write_str("full backup"),
            Requirement::RolloutPlan(steps) => {
                f.write_str("rollout plan ")?;
                for (i, s) in steps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" → ")?;
                    }
                    write!(f, "{}% for {}m", s.traffic_percent, s.hold_seconds / 60)?;
                }
                Ok(())
            }
            Requirement::Other(text) => f.write_str(text),
        }
    }
}

/// A policy's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// The risk level, if the policy assesses risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    /// The rules' opinions.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// What must happen for the deploy to proceed safely.
    #[serde(default)]
    pub requirements: Vec<Requirement>,
}

impl Default for Decision {
    fn default() -> Self {
        Decision::go()
    }
}

impl Decision {
    /// A `go` with no findings.
    pub fn go() -> Self {
        Decision {
            verdict: Verdict::Go,
            risk: None,
            findings: Vec::new(),
            requirements: Vec::new(),
        }
    }

    /// A decision whose verdict is the strictest of its findings' (`go` when
    /// there are none).
    pub fn from_findings(findings: Vec<Finding>) -> Self {
        let verdict = findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Go);
        Decision {
            verdict,
            findings,
            ..Decision::go()
        }
    }

    /// Adds a finding and raises the verdict to it if it is stricter.
    pub fn with_finding(mut self, finding: Finding) -> Self {
        self.push(finding);
        self
    }

    /// Adds a finding and raises the verdict to it if it is stricter.
    pub fn push(&mut self, finding: Finding) {
        self.verdict = self.verdict.max(finding.verdict);
        self.findings.push(finding);
    }

    /// Sets the risk level.
    pub fn with_risk(mut self, risk: RiskLevel) -> Self {
        self.risk = Some(risk);
        self
    }

    /// Adds a requirement (once).
    pub fn require(mut self, requirement: Requirement) -> Self {
        if !self.requirements.contains(&requirement) {
            self.requirements.push(requirement);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_is_the_strictest_finding() {
        let d = Decision::from_findings(vec![Finding::pass("a", "ok"), Finding::hold("b", "wait")]);
        assert_eq!(d.verdict, Verdict::Hold);
        let d = d.with_finding(Finding::rollback("c", "bad").evidence("3%", "<= 2%"));
        assert_eq!(d.verdict, Verdict::Rollback);
        assert_eq!(Decision::from_findings(vec![]).verdict, Verdict::Go);
    }

    #[test]
    fn json_form_is_stable() {
        let d = Decision::go()
            .with_risk(RiskLevel::High)
            .require(Requirement::ExtendedMonitoringHours(48))
            .require(Requirement::MaintenanceWindow);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"verdict":"go","risk":"high","findings":[],"requirements":[{"extended-monitoring-hours":48},"maintenance-window"]}"#
        );
        let back: Decision = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }
}
