//! Argo Rollouts' analysis counting, as data, through the real `canary`
//! component.
//!
//! Each case is a history of measurement phases per metric and the phase
//! Argo Rollouts' analysis reaches on it: taken from the assertions of its
//! `analysis/analysis_test.go` (named in `source`) or worked out from
//! `analysis/analysis.go` (`runMeasurements` counts, then
//! `assessMetricFailureInconclusiveOrError`, `assessMetricStatus` and
//! `assessRunStatus` decide). The canary counts per metric with the same
//! limits (`failure_limit`, `inconclusive_limit`, `consecutive_error_limit`,
//! `count`); every interval is evaluated in turn by the real component, its
//! history recorded as `shipgate watch` records it
//! ([`Report::interval_result`]), and the last interval's answer
//! must be Argo's phase mapped to a verdict and the rule that says it
//! ([`Argo::expected`]): `Running` → `hold` without
//! `canary.inconclusive-limit`, `Successful` → `go` with `canary.count`,
//! `Failed` → `rollback` by `canary.failure-limit`, `Error` → `rollback` by
//! `canary.no-data-limit`, `Inconclusive` → `hold` by
//! `canary.inconclusive-limit` (Argo pauses the rollout for a person). No
//! earlier interval may roll back unless Argo's run had already ended there
//! (`ended`): `shipgate watch` stops at a rollback.
//!
//! A metric with Argo's `dryRun: true` is a second `builtin:canary`,
//! `canary-shadow`, in `advisory` mode with a stricter latency limit
//! ([`Case::dry_run`]): Argo leaves a dry-run metric's results out of the
//! run's phase (they go to its `dryRunSummary`), and the enforced canary
//! must not count the shadow's breaches either.
//!
//! Where Shipgate answers otherwise on purpose, the case is listed in
//! [`DELIBERATE`] with the reason; the test fails on any other difference
//! and on a listed case that no longer differs.

use shipgate_engine::report::Report;
use shipgate_model::{IntervalResult, Snapshot, Stage, Timestamp, Verdict};

use crate::support::setup;

/// The phase an Argo Rollouts analysis run reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Argo {
    Running,
    Successful,
    Failed,
    Error,
    Inconclusive,
}

/// The canary's rule for Argo's `Inconclusive` (`hold` for a person).
const INCONCLUSIVE_LIMIT: &str = "canary.inconclusive-limit";

impl Argo {
    /// The verdict that stands for it and the rule that must give that
    /// verdict: `Running` is a `hold` with no inconclusive-limit finding, so
    /// that it cannot pass for `Inconclusive`, nor the reverse.
    fn expected(self) -> (Verdict, Option<&'static str>) {
        match self {
            Argo::Running => (Verdict::Hold, None),
            Argo::Inconclusive => (Verdict::Hold, Some(INCONCLUSIVE_LIMIT)),
            Argo::Successful => (Verdict::Go, Some("canary.count")),
            Argo::Failed => (Verdict::Rollback, Some("canary.failure-limit")),
            Argo::Error => (Verdict::Rollback, Some("canary.no-data-limit")),
        }
    }

    /// Whether the canary's `report` answers as this phase.
    fn answered_by(self, report: &Report) -> bool {
        let (verdict, rule) = self.expected();
        let says = |rule: &str| {
            report
                .findings
                .iter()
                .any(|f| !f.advisory && f.finding.rule == rule && f.finding.verdict == verdict)
        };
        report.verdict == verdict
            && match (self, rule) {
                (Argo::Running, _) => !says(INCONCLUSIVE_LIMIT),
                (_, Some(rule)) => says(rule),
                (_, None) => true,
            }
    }
}

/// The canary's answer in one line: `hold (canary.count, ...)`.
fn answer(report: &Report) -> String {
    let rules: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| !f.advisory && f.finding.verdict == report.verdict)
        .map(|f| f.finding.rule.as_str())
        .collect();
    format!("{} ({})", report.verdict, rules.join(", "))
}

/// One case: the limits (Argo's keys, unset = Argo's default), the
/// measurements of `error_rate` and `latency_p95` (`S`uccessful, `F`ailed,
/// `I`nconclusive, `E`rror; one letter per interval, both the same length;
/// for latency also `D`, a value only a dry-run metric's stricter limit
/// fails) and the phase Argo reaches. `ended` is the interval (from 1) where Argo's
/// run ended when that is before the last: Argo measures no more after it,
/// the canary keeps watching.
struct Case {
    name: &'static str,
    source: &'static str,
    failure_limit: Option<u32>,
    inconclusive_limit: Option<u32>,
    consecutive_error_limit: Option<u32>,
    count: Option<u32>,
    error_rate: &'static str,
    latency: &'static str,
    argo: Argo,
    ended: Option<usize>,
    dry_run: bool,
}

const fn case(name: &'static str, source: &'static str, error_rate: &'static str) -> Case {
    Case {
        name,
        source,
        failure_limit: None,
        inconclusive_limit: None,
        consecutive_error_limit: None,
        count: None,
        error_rate,
        latency: "",
        argo: Argo::Running,
        ended: None,
        dry_run: false,
    }
}

impl Case {
    const fn fl(mut self, n: u32) -> Self {
        self.failure_limit = Some(n);
        self
    }
    const fn il(mut self, n: u32) -> Self {
        self.inconclusive_limit = Some(n);
        self
    }
    const fn cel(mut self, n: u32) -> Self {
        self.consecutive_error_limit = Some(n);
        self
    }
    const fn count(mut self, n: u32) -> Self {
        self.count = Some(n);
        self
    }
    const fn latency(mut self, l: &'static str) -> Self {
        self.latency = l;
        self
    }
    const fn argo(mut self, phase: Argo) -> Self {
        self.argo = phase;
        self
    }
    const fn ended(mut self, interval: usize) -> Self {
        self.ended = Some(interval);
        self
    }
    /// Latency is also measured by a dry-run metric: an advisory
    /// `canary-shadow` with `max_latency_ratio = 1.02`.
    const fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }
}

const TEST: &str = "analysis_test.go";
const GO: &str = "analysis.go";

/// Argo's counting cases.
const CASES: &[Case] = &[
    // TestAssessMetricStatusFailureLimit: Failed 3 > failureLimit 2; not > 3.
    case("failures-above-limit", TEST, "FFF")
        .fl(2)
        .argo(Argo::Failed),
    case("failures-at-limit", TEST, "FFF")
        .fl(3)
        .argo(Argo::Running),
    // TestAssessMetricStatusInconclusiveLimit: Inconclusive 3 > 2; not > 3.
    case("inconclusive-above-limit", TEST, "III")
        .il(2)
        .argo(Argo::Inconclusive),
    case("inconclusive-at-limit", TEST, "III")
        .il(3)
        .argo(Argo::Running),
    // TestAssessMetricStatusConsecutiveErrors: 5 > the default 4; 4 is not.
    case("errors-above-default-limit", TEST, "EEEEE").argo(Argo::Error),
    case("errors-at-default-limit", TEST, "EEEE").argo(Argo::Running),
    // TestAssessMetricStatusCountReached: count 10 successful; 5
    // inconclusive > the default inconclusiveLimit 0.
    case("count-reached", TEST, "SSSSSSSSSS")
        .count(10)
        .argo(Argo::Successful),
    // The sixth measurement is the first inconclusive one: Argo's run ends.
    case("count-reached-inconclusive", TEST, "SSSSSIIIII")
        .count(10)
        .argo(Argo::Inconclusive)
        .ended(6),
    // TestAssessMetricFailureInconclusiveOrError: the defaults.
    case("default-failure-limit", TEST, "F").argo(Argo::Failed),
    case("default-inconclusive-limit", TEST, "I").argo(Argo::Inconclusive),
    case("default-consecutive-error-limit", TEST, "SEEEEE").argo(Argo::Error),
    // TestRunMeasurementsResetConsecutiveErrorCounter: a fifth error makes 5
    // (its loop over the other phases is commented out, so it asserts the
    // Error branch only).
    case("fifth-error", TEST, "EEEEE").cel(4).argo(Argo::Error),
    // runMeasurements: a Successful, Failed or Inconclusive measurement sets
    // `ConsecutiveError = 0`, an Error adds 1.
    case("streak-reset", GO, "EEEESEEEE").argo(Argo::Running),
    case("errors-do-not-count", GO, "SEES")
        .count(3)
        .argo(Argo::Running),
    case("errors-do-not-count-then-reached", GO, "SEESS")
        .count(3)
        .argo(Argo::Successful),
    // TestAssessRunStatus: one metric still running keeps the run running;
    // the worst completed metric decides.
    case("one-metric-running", TEST, "SE")
        .latency("SS")
        .count(2)
        .argo(Argo::Running),
    case("worst-metric-decides", TEST, "F")
        .latency("S")
        .count(1)
        .argo(Argo::Failed),
    // assessRunStatus: Error is worse than Inconclusive, Failed than both.
    case("error-worse-than-inconclusive", GO, "SSSSI")
        .latency("EEEEE")
        .argo(Argo::Error),
    case("failed-worse-than-inconclusive", GO, "F")
        .latency("I")
        .argo(Argo::Failed),
    // Per metric: two metrics each failing once under failureLimit 1 keep
    // running (counted per interval this is two failed intervals).
    case("one-failure-each", GO, "SF")
        .latency("FS")
        .fl(1)
        .argo(Argo::Running),
    case("second-failure-of-one", GO, "FF")
        .latency("SS")
        .fl(1)
        .argo(Argo::Failed),
    // A failed error-rate measurement does not end latency's no-data streak.
    case("failure-does-not-end-other-streak", GO, "SFS")
        .latency("EEE")
        .fl(1)
        .cel(2)
        .argo(Argo::Error),
    case("own-data-ends-streak", GO, "SSSS")
        .latency("EESE")
        .cel(2)
        .argo(Argo::Running),
    // count: a tolerated failure on the last counted measurement succeeds.
    case("tolerated-failure-at-count", GO, "SSF")
        .fl(1)
        .count(3)
        .argo(Argo::Successful),
    case("tolerated-inconclusive-at-count", GO, "SSI")
        .il(1)
        .count(3)
        .argo(Argo::Successful),
    case("count-not-reached", GO, "SS")
        .count(3)
        .argo(Argo::Running),
    case("failure-before-count", GO, "SFF")
        .fl(1)
        .count(3)
        .argo(Argo::Failed),
    // After count: Argo's run ended Successful at the third measurement and
    // measures no more. The canary keeps watching: a later breach is held
    // and counted, and over the limit it rolls back (DELIBERATE).
    case("failures-after-count", GO, "SSSFF")
        .fl(1)
        .count(3)
        .argo(Argo::Successful)
        .ended(3),
    case("inconclusive-after-count", GO, "SSII")
        .il(1)
        .count(2)
        .argo(Argo::Successful)
        .ended(2),
    // Strict `>`: failureLimit 1 tolerates one failure.
    case("one-tolerated-failure", GO, "F")
        .fl(1)
        .argo(Argo::Running),
    case("one-error-running", GO, "E").argo(Argo::Running),
    // Without count the analysis runs for the whole rollout (Running).
    case("no-count-all-successful", GO, "SS").argo(Argo::Running),
    // A dry-run metric's results never count (`dryRun: true`: analysis.go
    // keeps them in `dryRunSummary`, out of `assessRunStatus`): the shadow's
    // latency breaches leave the enforced count as it is.
    case("dry-run-breaches-not-counted", GO, "SS")
        .latency("DD")
        .count(2)
        .dry_run()
        .argo(Argo::Successful),
    case("dry-run-breaches-then-one-tolerated-failure", GO, "SSF")
        .latency("DDS")
        .fl(1)
        .dry_run()
        .argo(Argo::Running),
];

/// `(case, reason)`: where the canary's verdict differs from Argo's phase on
/// purpose.
const DELIBERATE: &[(&str, &str)] = &[
    (
        "no-count-all-successful",
        "without `count` Argo's analysis runs for the whole rollout (`Running`) while the \
         rollout's own steps move on; the canary answers each interval, and an interval whose \
         measurements all succeeded is `go` (otherwise the rollout could never be promoted)",
    ),
    (
        "failures-after-count",
        "Argo's run ends at `count` and measures no more; the canary keeps watching the \
         rollout, so a failure after it is held and counted, and the second one is above \
         failure_limit 1: rollback, never a `go` on a breach",
    ),
    (
        "inconclusive-after-count",
        "as failures-after-count: the second inconclusive measurement after the count is \
         above inconclusive_limit 1, so the canary holds for a person",
    ),
];

/// A metric's values for one measurement phase: `(baseline, canary)`, or
/// `None` for the canary when it has no data.
fn values(metric: &str, phase: char) -> (f64, Option<f64>) {
    match (metric, phase) {
        ("error_rate", 'S') => (0.010, Some(0.009)),
        // Above the 2% ceiling.
        ("error_rate", 'F') => (0.010, Some(0.05)),
        // Above the baseline, below the ceiling: not yet a success.
        ("error_rate", 'I') => (0.010, Some(0.015)),
        ("latency_p95", 'S') => (0.25, Some(0.245)),
        // 3x the baseline, above 2x.
        ("latency_p95", 'F') => (0.25, Some(0.75)),
        // 1.4x: above 1.10x, below 2x.
        ("latency_p95", 'I') => (0.25, Some(0.35)),
        // 1.05x: within the 1.10x success criterion, above a dry run's 1.02x.
        ("latency_p95", 'D') => (0.25, Some(0.2625)),
        (_, 'E') => (0.25, None),
        other => panic!("no values for {other:?}"),
    }
}

fn measurement(v: Option<f64>) -> serde_json::Value {
    match v {
        Some(x) => serde_json::json!({ "value": x }),
        None => serde_json::json!("no-data"),
    }
}

fn snapshot(case: &Case, i: usize, history: &[IntervalResult]) -> Snapshot {
    let latency = if case.latency.is_empty() {
        "S".repeat(case.error_rate.len())
    } else {
        case.latency.to_owned()
    };
    let metrics: Vec<serde_json::Value> =
        [("error_rate", case.error_rate), ("latency_p95", &latency)]
            .iter()
            .map(|(name, phases)| {
                let phase = phases.chars().nth(i).unwrap();
                let (baseline, canary) = values(name, phase);
                serde_json::json!({
                    "name": name,
                    "baseline": measurement(Some(baseline)),
                    "canary": measurement(canary),
                })
            })
            .collect();
    let json = serde_json::json!({
        "deployment": { "service": "checkout", "environment": "production", "version": "2.0.0",
                        "commit": "abc123", "requested_at": "2026-11-17T10:00:00Z" },
        "rollout": { "strategy": "canary", "phase": 0, "traffic_percent": 10,
                     "seconds_in_phase": 60 * (i + 1),
                     "steps": [{ "traffic_percent": 10, "hold_seconds": 3600 }],
                     "history": history },
        "metrics": metrics,
    });
    serde_json::from_value(json).unwrap()
}

fn config(case: &Case) -> String {
    let mut keys = String::new();
    for (key, value) in [
        ("failure_limit", case.failure_limit),
        ("inconclusive_limit", case.inconclusive_limit),
        ("consecutive_error_limit", case.consecutive_error_limit),
        ("count", case.count),
    ] {
        if let Some(v) = value {
            keys.push_str(&format!("{key} = {v}\n"));
        }
    }
    if keys.is_empty() {
        // Per-metric counting with Argo's defaults.
        keys.push_str("failure_limit = 0\n");
    }
    let canary = format!(
        "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n[policies.config]\n\
         latency_metrics = [\"latency_p95\"]\n{keys}"
    );
    if !case.dry_run {
        return canary;
    }
    format!(
        "{canary}\n[[policies]]\nname = \"canary-shadow\"\nsource = \"builtin:canary\"\n\
         mode = \"advisory\"\n[policies.config]\nlatency_metrics = [\"latency_p95\"]\n\
         max_latency_ratio = 1.02\nsuccess_max_latency_ratio = 1.02\n{keys}"
    )
}

/// Runs every interval of `case` through the component; every report.
fn reports(case: &Case) -> Vec<Report> {
    assert!(
        case.latency.is_empty() || case.latency.len() == case.error_rate.len(),
        "{}: histories of different lengths",
        case.name
    );
    let set = setup(&config(case));
    let policies = set.policies();
    let mut history = Vec::new();
    let mut out = Vec::new();
    for i in 0..case.error_rate.len() {
        let report = policies.evaluate(Stage::Canary, &snapshot(case, i, &history));
        history.push(report.interval_result(0, Timestamp(1_000 * i as i64)));
        out.push(report);
    }
    out
}

#[test]
fn per_metric_counting_reaches_argo_rollouts_phases() {
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for case in CASES {
        let reports = reports(case);
        let Some((last, earlier)) = reports.split_last() else {
            panic!("{}: no interval", case.name);
        };
        // `watch` stops at a rollback: one before Argo's run ended would
        // have ended the rollout where Argo was still measuring.
        for (i, report) in earlier.iter().enumerate() {
            let interval = i + 1;
            if report.verdict == Verdict::Rollback && case.ended.is_none_or(|e| interval < e) {
                unexpected.push(format!(
                    "{} ({}): the canary rolled back at interval {interval} of {}, where Argo \
                     was still running: {}",
                    case.name,
                    case.source,
                    reports.len(),
                    answer(report)
                ));
            }
        }
        let (want, rule) = case.argo.expected();
        let deliberate = DELIBERATE.iter().any(|(name, _)| *name == case.name);
        match (case.argo.answered_by(last), deliberate) {
            (false, false) => unexpected.push(format!(
                "{} ({}): Argo {:?} is {want}{}, the canary said {}",
                case.name,
                case.source,
                case.argo,
                rule.map_or(String::new(), |r| format!(" by {r}")),
                answer(last)
            )),
            (true, true) => stale.push(case.name),
            _ => {}
        }
    }
    assert!(
        unexpected.is_empty(),
        "differences from Argo Rollouts not in DELIBERATE:\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "DELIBERATE entries that no longer differ (remove them): {stale:?}"
    );
    for (name, _) in DELIBERATE {
        assert!(
            CASES.iter().any(|c| c.name == *name),
            "DELIBERATE names no case `{name}`"
        );
    }
}
