//! What a watch reports as it goes: one event per phase change, hook run
//! and interval, then the summary. `--format json` prints them as JSON
//! Lines; the text views draw them.

use serde::Serialize;
use shipgate_engine::exit::ExitCode;
use shipgate_model::{Snapshot, Stage, Verdict};

use super::hook::HookRun;
use shipgate_engine::report::{PolicyOutcome, Report};

/// One event of a watch, as streamed by `--format json` (tagged `event`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The watch starts with this plan.
    Start(Start),
    /// A phase starts: traffic is about to move to its share.
    Phase(PhaseStart),
    /// A hook ran (or, with `--dry-run`, would have).
    Hook(HookRun),
    /// An interval was collected, decided and logged.
    Interval(Interval),
    /// The watch is over.
    End(Summary),
}

/// The `start` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Start {
    /// The service.
    pub service: String,
    /// The target environment.
    pub environment: String,
    /// The version being rolled out.
    pub version: String,
    /// The plan, e.g. `10% 10m → 50% 10m → 100% 30m`.
    pub plan: String,
    /// Where the plan came from.
    pub plan_source: String,
    /// The phases' shares of traffic.
    pub percents: Vec<u8>,
    /// The phases' holds, in seconds.
    pub hold_seconds: Vec<u64>,
    /// Seconds between analysis intervals.
    pub interval_seconds: f64,
    /// Whether hooks are only shown, not run.
    pub dry_run: bool,
    /// When the verify stage is asked.
    pub verify: VerifyPlan,
}

/// When a watch asks the verify stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyPlan {
    /// Never: no enforced policy answers it.
    None,
    /// In a step after the last phase, with no traffic move.
    AfterLastPhase,
    /// In every interval: the plan is a single phase at 100% of traffic (a
    /// deploy without a canary), which has no baseline to compare against.
    EveryInterval,
}

/// The `phase` event: a phase of the plan, or the verify step after the
/// last one (numbered one past the plan's phases).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseStart {
    /// The phase, from 1.
    pub phase: usize,
    /// The question its intervals ask: `canary`, or `verify`.
    pub stage: Stage,
    /// How many phases the plan has.
    pub phases: usize,
    /// Its share of traffic.
    pub percent: u8,
    /// Its hold, in seconds.
    pub hold_seconds: u64,
    /// A verify step: how long past its hold it is asked again while it
    /// holds, before the watch ends unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// Where an interval stands in the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The phase (or verify step), from 1.
    pub phase: usize,
    /// The share of traffic.
    pub percent: u8,
    /// The question asked.
    pub stage: Stage,
    /// Seconds since the phase started.
    pub seconds_in_phase: u64,
    /// The phase's hold, in seconds.
    pub hold_seconds: u64,
}

/// One metric in an interval: both sides and the strictest verdict of the
/// findings that judged it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricValue {
    /// The metric's name.
    pub name: String,
    /// Its unit, if known.
    pub unit: Option<String>,
    /// The baseline's value (the mean of samples); none when missing.
    pub baseline: Option<f64>,
    /// The canary's value; none when missing.
    pub canary: Option<f64>,
    /// The strictest verdict of the findings that named this metric; none
    /// when no finding did.
    pub verdict: Option<Verdict>,
}

/// A finding that asked for more than `go`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concern {
    /// The policy.
    pub policy: String,
    /// The rule id.
    pub rule: String,
    /// What the rule asked for.
    pub verdict: Verdict,
    /// Its message.
    pub message: String,
    /// Whether its policy is advisory: shown, never counted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub advisory: bool,
}

/// The `interval` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    /// Intervals so far in the whole watch, this one included.
    pub number: usize,
    /// The phase, from 1 (one past the plan's phases for the verify step).
    pub phase: usize,
    /// The phase's share of traffic.
    pub percent: u8,
    /// The question asked: `canary`, or `verify`.
    pub stage: Stage,
    /// Seconds since the phase's traffic moved.
    pub seconds_in_phase: u64,
    /// The phase's hold, in seconds.
    pub hold_seconds: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// Whether data was missing, as the deciding policies said
    /// ([`data_missing`]).
    pub data_missing: bool,
    /// The snapshot's metrics.
    pub metrics: Vec<MetricValue>,
    /// The findings that asked for more than `go`.
    pub concerns: Vec<Concern>,
    /// The enforced policies that failed and so held the interval (the
    /// watch counts them against `[watch] max_failed_evaluations`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<PolicyFailure>,
    /// The sources that could not be read, `source: reason`.
    pub gaps: Vec<String>,
    /// The record's number in the decision log (for `eval --from-log LOG
    /// --entry N`); none without a log.
    pub log_entry: Option<usize>,
}

impl Interval {
    /// The interval event of a decided snapshot.
    pub fn of(
        snapshot: &Snapshot,
        report: &Report,
        number: usize,
        place: Place,
        log_entry: Option<usize>,
    ) -> Interval {
        let metrics = snapshot
            .metrics
            .iter()
            .map(|m| MetricValue {
                name: m.name.clone(),
                unit: m.unit.clone(),
                baseline: m.baseline.value(),
                canary: m.canary.value(),
                verdict: report
                    .findings
                    .iter()
                    .filter(|f| !f.advisory && f.finding.metric.as_deref() == Some(m.name.as_str()))
                    .map(|f| f.finding.verdict)
                    .max(),
            })
            .collect();
        Interval {
            number,
            phase: place.phase,
            percent: place.percent,
            stage: place.stage,
            seconds_in_phase: place.seconds_in_phase,
            hold_seconds: place.hold_seconds,
            verdict: report.verdict,
            data_missing: report.data_missing(),
            metrics,
            concerns: report
                .findings
                .iter()
                .filter(|f| f.finding.verdict != Verdict::Go)
                .map(|f| Concern {
                    policy: f.policy.clone(),
                    rule: f.finding.rule.clone(),
                    verdict: f.finding.verdict,
                    message: f.finding.message.clone(),
                    advisory: f.advisory,
                })
                .collect(),
            failed: failed_policies(report),
            gaps: snapshot
                .gaps
                .iter()
                .map(|g| format!("{}: {}", g.source, g.reason))
                .collect(),
            log_entry,
        }
    }
}

/// How a watch ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WatchEnd {
    /// Every phase completed: the new version has all of its traffic.
    Completed,
    /// A rollback was decided and the rollback hook ran (or none is
    /// configured, or `--dry-run`).
    RolledBack,
    /// A rollback was decided, but the rollback hook failed: roll back by
    /// hand.
    RollbackFailed,
    /// Every phase completed, but the verify stage still held at the end of
    /// its timeout: traffic stays where it is, and a person decides.
    Unverified,
    /// Ctrl-C or SIGTERM stopped the watch; traffic stays where it is.
    Interrupted,
    /// The watch could not go on (the decision log could not be written).
    Failed,
}

/// One metric's row of the comparison table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The metric.
    pub metric: String,
    /// Its unit.
    pub unit: Option<String>,
    /// The baseline at the last interval.
    pub baseline: Option<f64>,
    /// Per phase reached: the canary at the phase's last interval with a
    /// value, and the strictest verdict on the metric in the phase.
    pub phases: Vec<Cell>,
}

/// One cell of the comparison table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cell {
    /// The canary's value.
    pub canary: Option<f64>,
    /// The strictest verdict of a finding on the metric in the phase.
    pub verdict: Option<Verdict>,
}

/// The `end` event: where the rollout stood, and the comparison table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// How it ended.
    pub outcome: WatchEnd,
    /// The process exit code.
    pub exit_code: ExitCode,
    /// Why, in a sentence.
    pub reason: String,
    /// The phase it ended in, from 1 (0 if none started; one past the
    /// plan's phases in the verify step).
    pub phase: usize,
    /// How many phases the plan has.
    pub phases: usize,
    /// The share of traffic the last traffic hook was asked for.
    pub percent: u8,
    /// Whether the verify stage passed (after the last phase, or in every
    /// interval of a deploy without a canary).
    pub verified: bool,
    /// Intervals decided.
    pub intervals: usize,
    /// Seconds since the watch started.
    pub elapsed_seconds: u64,
    /// The phases reached: (phase, share of traffic).
    pub columns: Vec<(usize, u8)>,
    /// The comparison table, one row per metric.
    pub table: Vec<Row>,
    /// The rollback hook's run, if one was decided.
    pub rollback_hook: Option<HookRun>,
    /// A hook still to run by hand (on interruption or a failed rollback).
    pub advice: Option<String>,
}

/// Where the watch stands, in words: `phase 2 of 3`, or `the verify step
/// after phase 3` (the step numbered one past the plan's phases).
pub fn whereabouts(phase: usize, phases: usize) -> String {
    if phase > phases {
        format!("the verify step after phase {phases}")
    } else {
        format!("phase {phase} of {phases}")
    }
}

/// Builds the comparison table from the intervals, in order.
pub fn table(intervals: &[Interval]) -> (Vec<(usize, u8)>, Vec<Row>) {
    let mut columns: Vec<(usize, u8)> = Vec::new();
    for i in intervals {
        if columns.last().is_none_or(|c| c.0 != i.phase) {
            columns.push((i.phase, i.percent));
        }
    }
    let mut names: Vec<(&str, Option<&String>)> = Vec::new();
    for m in intervals.iter().flat_map(|i| &i.metrics) {
        if !names.iter().any(|(n, _)| *n == m.name) {
            names.push((&m.name, m.unit.as_ref()));
        }
    }
    let rows = names
        .into_iter()
        .map(|(name, unit)| {
            let of = |i: &Interval| i.metrics.iter().find(|m| m.name == name).cloned();
            let baseline = intervals
                .iter()
                .rev()
                .filter_map(|i| of(i)?.baseline)
                .next();
            let phases = columns
                .iter()
                .map(|(phase, _)| {
                    let here: Vec<MetricValue> = intervals
                        .iter()
                        .filter(|i| i.phase == *phase)
                        .filter_map(of)
                        .collect();
                    Cell {
                        canary: here.iter().rev().find_map(|m| m.canary),
                        verdict: here.iter().filter_map(|m| m.verdict).max(),
                    }
                })
                .collect();
            Row {
                metric: name.to_owned(),
                unit: unit.cloned(),
                baseline,
                phases,
            }
        })
        .collect();
    (columns, rows)
}

/// An enforced policy that failed in an interval, holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFailure {
    /// The policy's name.
    pub policy: String,
    /// The kind of failure (`trap`, `deadline`, `fuel`, `policy-error`, ...).
    pub kind: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// The enforced policies of `report` that failed and whose failure counted
/// as more than `go` (`on_error = "fail-closed"`).
pub fn failed_policies(report: &Report) -> Vec<PolicyFailure> {
    report
        .policies
        .iter()
        .filter(|p| p.counted && p.verdict.is_some_and(|v| v != Verdict::Go))
        .filter_map(|p| match &p.outcome {
            PolicyOutcome::Failed(f) => Some(PolicyFailure {
                policy: p.name.clone(),
                kind: f.kind.as_str().to_owned(),
                message: f.message.clone(),
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use shipgate_model::{Stage, says_data_missing};
    use shipgate_sdk::testing::evaluate;

    use super::*;

    /// A canary snapshot whose CPU has no value on either side, and whose
    /// error rate is `error_rate` (JSON) on the canary.
    fn snapshot(error_rate: &str) -> Snapshot {
        shipgate_sdk::testing::snapshot_from_json(&format!(
            r#"{{
  "deployment": {{ "service": "api", "environment": "production", "version": "2",
                  "commit": "abc", "requested_at": "2026-11-20T10:00:00Z" }},
  "metrics": [
    {{ "name": "error_rate", "baseline": {{ "value": 0.01 }}, "canary": {error_rate} }},
    {{ "name": "latency_p95", "baseline": {{ "value": 0.2 }}, "canary": {{ "value": 0.2 }} }},
    {{ "name": "latency_p99", "baseline": {{ "value": 0.3 }}, "canary": {{ "value": 0.3 }} }},
    {{ "name": "cpu_usage", "baseline": "no-data", "canary": "no-data" }}
  ]
}}"#
        ))
        .unwrap()
    }

    fn said_missing(findings: &[shipgate_model::Finding]) -> bool {
        findings
            .iter()
            .any(|f| f.verdict != Verdict::Go && says_data_missing(f))
    }

    /// The canary built-in, which does not read CPU unless `max_cpu` is set:
    /// an unread CPU without data is no missing data; an error rate without
    /// data is.
    #[test]
    fn the_canary_builtin_says_when_data_is_missing() {
        let config = "{}";
        let d = evaluate::<shipgate_policy_canary::Canary>(
            Stage::Canary,
            &snapshot(r#"{ "value": 0.01 }"#),
            config,
        )
        .unwrap();
        assert!(!said_missing(&d.findings), "{:#?}", d.findings);
        let d = evaluate::<shipgate_policy_canary::Canary>(
            Stage::Canary,
            &snapshot(r#""no-data""#),
            config,
        )
        .unwrap();
        assert!(said_missing(&d.findings), "{:#?}", d.findings);
        // Reading CPU makes its missing value count.
        let d = evaluate::<shipgate_policy_canary::Canary>(
            Stage::Canary,
            &snapshot(r#"{ "value": 0.01 }"#),
            r#"{ "max_cpu": 0.8 }"#,
        )
        .unwrap();
        assert!(said_missing(&d.findings), "{:#?}", d.findings);
    }

    /// A `rules` policy's rule that could not be decided for missing data
    /// says so through its `on_missing` finding.
    #[test]
    fn a_rules_policy_says_when_data_is_missing() {
        let config = r#"{"rules": [{"id": "error-ceiling",
            "when": "value(metric('error_rate').canary) > 0.02", "verdict": "rollback"}]}"#;
        let d = evaluate::<shipgate_policy_rules::RulesPolicy>(
            Stage::Canary,
            &snapshot(r#""no-data""#),
            config,
        )
        .unwrap();
        assert!(said_missing(&d.findings), "{:#?}", d.findings);
        let d = evaluate::<shipgate_policy_rules::RulesPolicy>(
            Stage::Canary,
            &snapshot(r#"{ "value": 0.01 }"#),
            config,
        )
        .unwrap();
        assert!(!said_missing(&d.findings), "{:#?}", d.findings);
    }
}
