//! The rollout plan: which share of traffic, held for how long, phase after
//! phase. Written `10:10m,50:10m,100:30m` on the command line and in
//! `[watch] plan`; a risk policy recommends one with a `rollout-plan`
//! requirement.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use shipgate_model::RolloutStep;

/// The playbooks' canary (seed 001): 10% for 10 minutes, 50% for 10
/// minutes, 100% for 30 minutes. Used when neither the flag, the
/// configuration nor a risk policy gives a plan.
pub const PLAYBOOK_PLAN: &str = "10:10m,50:10m,100:30m";

/// One phase: a share of traffic and how long to hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// Share of traffic on the new version, 1–100.
    pub percent: u8,
    /// How long to watch at this share before promoting.
    pub hold: std::time::Duration,
}

/// A rollout plan: phases of strictly increasing traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    phases: Vec<Phase>,
}

/// Where a plan came from, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSource {
    /// `--plan`.
    Flag,
    /// `[watch] plan` in the configuration.
    Config,
    /// A `rollout-plan` requirement of the named policy at the risk stage.
    RiskPolicy(String),
    /// [`PLAYBOOK_PLAN`].
    Playbook,
}

impl fmt::Display for PlanSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanSource::Flag => f.write_str("--plan"),
            PlanSource::Config => f.write_str("[watch] plan"),
            PlanSource::RiskPolicy(name) => write!(f, "recommended by the `{name}` policy"),
            PlanSource::Playbook => f.write_str("the playbook's default"),
        }
    }
}

/// Why a plan is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid plan `{text}`: {reason}")]
pub struct PlanError {
    text: String,
    reason: String,
}

impl Plan {
    /// A plan of `phases`, checked: at least one phase, every share in
    /// 1–100 and above the one before, every hold at least one second.
    pub fn new(phases: Vec<Phase>) -> Result<Plan, String> {
        if phases.is_empty() {
            return Err("a plan needs at least one phase".into());
        }
        let mut before = 0u8;
        for (i, p) in phases.iter().enumerate() {
            let n = i + 1;
            if !(1..=100).contains(&p.percent) {
                return Err(format!(
                    "phase {n}: traffic must be 1 to 100 percent, got {}",
                    p.percent
                ));
            }
            if p.percent <= before {
                return Err(format!(
                    "phase {n}: traffic must grow from phase to phase ({before}% then {}%)",
                    p.percent
                ));
            }
            if p.hold < std::time::Duration::from_secs(1) {
                return Err(format!("phase {n}: the hold must be at least 1s"));
            }
            before = p.percent;
        }
        Ok(Plan { phases })
    }

    /// [`PLAYBOOK_PLAN`].
    pub fn playbook() -> Plan {
        let minutes = |m: u64| std::time::Duration::from_secs(60 * m);
        Plan {
            phases: vec![
                Phase {
                    percent: 10,
                    hold: minutes(10),
                },
                Phase {
                    percent: 50,
                    hold: minutes(10),
                },
                Phase {
                    percent: 100,
                    hold: minutes(30),
                },
            ],
        }
    }

    /// The plan a risk policy recommends, if its steps make a valid plan.
    pub fn from_steps(steps: &[RolloutStep]) -> Result<Plan, String> {
        Plan::new(
            steps
                .iter()
                .map(|s| Phase {
                    percent: s.traffic_percent,
                    hold: std::time::Duration::from_secs(u64::from(s.hold_seconds)),
                })
                .collect(),
        )
    }

    /// The phases, in order.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// The phases as the snapshot's rollout steps.
    pub fn steps(&self) -> Vec<RolloutStep> {
        self.phases
            .iter()
            .map(|p| RolloutStep {
                traffic_percent: p.percent,
                hold_seconds: u32::try_from(p.hold.as_secs()).unwrap_or(u32::MAX),
            })
            .collect()
    }

    /// The sum of the holds: the shortest the rollout can take.
    pub fn total_hold(&self) -> std::time::Duration {
        self.phases.iter().map(|p| p.hold).sum()
    }
}

impl FromStr for Plan {
    type Err = PlanError;

    fn from_str(text: &str) -> Result<Plan, PlanError> {
        let error = |reason: String| PlanError {
            text: text.to_owned(),
            reason,
        };
        let phases = text
            .split(',')
            .enumerate()
            .map(|(i, part)| {
                let n = i + 1;
                let (percent, hold) = part.trim().split_once(':').ok_or_else(|| {
                    format!(
                        "phase {n} (`{}`): write PERCENT:HOLD, e.g. 10:10m",
                        part.trim()
                    )
                })?;
                let percent = percent
                    .trim()
                    .trim_end_matches('%')
                    .parse::<u8>()
                    .map_err(|_| format!("phase {n}: `{percent}` is not a percentage"))?;
                let hold = humantime::parse_duration(hold.trim())
                    .map_err(|_| format!("phase {n}: `{hold}` is not a duration (10s, 5m, 1h)"))?;
                Ok(Phase { percent, hold })
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(error)?;
        Plan::new(phases).map_err(error)
    }
}

impl fmt::Display for Plan {
    /// `10% 10m → 50% 10m → 100% 30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.phases.iter().enumerate() {
            if i > 0 {
                f.write_str(" → ")?;
            }
            write!(f, "{}% {}", p.percent, humantime::format_duration(p.hold))?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_playbook_plan_parses_and_prints() {
        let plan: Plan = PLAYBOOK_PLAN.parse().unwrap();
        assert_eq!(plan, Plan::playbook());
        assert_eq!(plan.phases().len(), 3);
        assert_eq!(plan.phases()[1].percent, 50);
        assert_eq!(plan.phases()[2].hold.as_secs(), 1800);
        assert_eq!(plan.to_string(), "10% 10m → 50% 10m → 100% 30m");
        assert_eq!(plan.total_hold().as_secs(), 3000);
        assert_eq!(
            plan.steps()[0],
            RolloutStep {
                traffic_percent: 10,
                hold_seconds: 600
            }
        );
        let spaced: Plan = " 5% : 30s , 100:1h".parse().unwrap();
        assert_eq!(spaced.phases()[0].percent, 5);
        assert_eq!(spaced.phases()[1].hold.as_secs(), 3600);
    }

    #[test]
    fn bad_plans_say_which_phase_is_wrong() {
        for (text, reason) in [
            ("", "phase 1 (``): write PERCENT:HOLD"),
            ("10", "phase 1 (`10`): write PERCENT:HOLD"),
            ("10:10m,x:1m", "phase 2: `x` is not a percentage"),
            ("10:soon", "phase 1: `soon` is not a duration"),
            (
                "50:1m,10:1m",
                "phase 2: traffic must grow from phase to phase (50% then 10%)",
            ),
            ("0:1m", "phase 1: traffic must be 1 to 100 percent, got 0"),
            (
                "101:1m",
                "phase 1: traffic must be 1 to 100 percent, got 101",
            ),
            ("10:500ms", "phase 1: the hold must be at least 1s"),
        ] {
            let err = text.parse::<Plan>().unwrap_err().to_string();
            assert!(err.contains(reason), "{text}: {err}");
            assert!(err.starts_with(&format!("invalid plan `{text}`")), "{err}");
        }
    }

    #[test]
    fn a_risk_policy_plan_is_checked_like_any_other() {
        let steps = [
            RolloutStep {
                traffic_percent: 25,
                hold_seconds: 60,
            },
            RolloutStep {
                traffic_percent: 100,
                hold_seconds: 120,
            },
        ];
        let plan = Plan::from_steps(&steps).unwrap();
        assert_eq!(plan.to_string(), "25% 1m → 100% 2m");
        assert_eq!(plan.steps(), steps);
        let mut bad = steps;
        bad[1].traffic_percent = 20;
        assert!(Plan::from_steps(&bad).is_err());
    }
}
