//! Policies that fail, interval after interval: the host's bound.
//!
//! An enforced canary-stage policy that fails (a trap, its deadline or
//! fuel, an `Err`) counts as `hold` by `on_error = "fail-closed"`, and
//! nothing in the policies counts it: a failed policy writes no finding,
//! and when the failing policy is the canary itself nothing is left to
//! count at all. Left alone, the watch would hold forever. So the watch
//! counts the *consecutive* intervals in which an enforced policy failed
//! (from the intervals it logged, one record each) and at
//! `[watch] max_failed_evaluations` (default 3) rolls back, naming the
//! policy and its failure. Argo Rollouts counts an analysis error towards
//! `consecutiveErrorLimit` the same way: `max_failed_evaluations = N` is
//! `consecutiveErrorLimit: N - 1`.
//!
//! In a verify step (or a deploy without a canary) the same streak ends
//! the watch *unverified* instead (exit 4): traffic stays where it is, as
//! when the verify stage keeps holding, and a person decides.
//!
//! A policy with `on_error = "fail-open"` asked for its failures to count
//! as `go`: they neither hold the watch nor count here. The rollout history
//! the policies see (`rollout.history`) is left as the policies decided:
//! each logged record keeps the failed policy in its report, so
//! `shipgate eval --from-log` replays every interval as it was decided, and
//! the streak reads from the log.

use shipgate_core::config::watch::FailureLimit;
pub use shipgate_core::config::watch::{DEFAULT_LIMIT, MAX_LIMIT};
use shipgate_model::Stage;

use super::event::Interval;

/// Why the watch rolls back after `intervals` (the last one just decided),
/// if the trailing intervals with a failed enforced policy reach `limit`.
pub fn limit_reached(intervals: &[Interval], limit: FailureLimit) -> Option<String> {
    let streak = intervals
        .iter()
        .rev()
        .take_while(|i| !i.failed.is_empty())
        .count();
    let limit = limit.get() as usize;
    if streak < limit {
        return None;
    }
    let now = intervals.last()?;
    let which: Vec<String> = now
        .failed
        .iter()
        .map(|f| format!("policy `{}` failed ({})", f.policy, f.kind))
        .collect();
    let (what, outcome) = match now.stage {
        Stage::Verify => ("the deployment", "a person decides"),
        _ => ("the canary", "roll back"),
    };
    Some(format!(
        "{} in {streak} consecutive {}, reaching [watch] max_failed_evaluations = {limit}: \
         {what} cannot be judged, {outcome}",
        which.join(" and "),
        if streak == 1 { "interval" } else { "intervals" },
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::watch::event::PolicyFailure;
    use shipgate_core::config::Config;
    use shipgate_model::Verdict;

    fn interval(failed: &[(&str, &str)]) -> Interval {
        Interval {
            number: 0,
            phase: 1,
            percent: 10,
            stage: shipgate_model::Stage::Canary,
            seconds_in_phase: 0,
            hold_seconds: 60,
            verdict: if failed.is_empty() {
                Verdict::Go
            } else {
                Verdict::Hold
            },
            data_missing: false,
            metrics: Vec::new(),
            concerns: Vec::new(),
            failed: failed
                .iter()
                .map(|(policy, kind)| PolicyFailure {
                    policy: (*policy).into(),
                    kind: (*kind).into(),
                    message: "x".into(),
                })
                .collect(),
            gaps: Vec::new(),
            log_entry: None,
        }
    }

    #[test]
    fn only_a_streak_of_failed_intervals_reaches_the_limit() {
        let limit = FailureLimit::default();
        let ok = interval(&[]);
        let canary = interval(&[("canary", "trap")]);
        let two = interval(&[("canary", "trap"), ("custom", "deadline")]);
        assert_eq!(limit_reached(&[], limit), None);
        assert_eq!(
            limit_reached(&[canary.clone(), canary.clone(), ok, canary.clone()], limit),
            None
        );
        assert_eq!(
            limit_reached(&[canary.clone(), canary.clone()], limit),
            None
        );
        assert_eq!(
            limit_reached(&[canary.clone(), canary, two], limit).as_deref(),
            Some(
                "policy `canary` failed (trap) and policy `custom` failed (deadline) in 3 \
                 consecutive intervals, reaching [watch] max_failed_evaluations = 3: the \
                 canary cannot be judged, roll back"
            )
        );
        let one = FailureLimit::new(1).unwrap();
        assert!(
            limit_reached(&[interval(&[("c", "fuel")])], one)
                .unwrap()
                .contains("failed (fuel) in 1 consecutive interval, reaching")
        );
        // In a verify step the watch does not roll back a deploy that
        // passed its canary: a person decides.
        let mut verify = interval(&[("verify", "trap")]);
        verify.stage = Stage::Verify;
        assert!(
            limit_reached(&[verify], one)
                .unwrap()
                .ends_with("the deployment cannot be judged, a person decides")
        );
    }

    /// The text view says which policy failed, its message on one line with
    /// its control characters escaped.
    #[test]
    fn the_text_view_names_the_failure() {
        let mut i = interval(&[("stuck", "trap")]);
        i.failed[0].message = "wasm trap: unreachable\x1b[2K\rGO\nbacktrace...".into();
        let text = super::super::view::line(&super::super::event::Event::Interval(i));
        assert!(
            text.ends_with(
                "\n    HOLD policy `stuck` failed (trap): wasm trap: unreachable\\u{1b}[2K\\rGO\n"
            ),
            "{text}"
        );
    }

    /// A policy's rule id and message cannot forge a row or drive the
    /// terminal in the watch's text view either.
    #[test]
    fn the_text_view_escapes_a_policys_rule_and_message() {
        let mut i = interval(&[]);
        i.concerns.push(crate::watch::event::Concern {
            policy: "forge".into(),
            rule: "x\n    GO canary.success".into(),
            verdict: Verdict::Hold,
            message: "\x1b[2K\rall clear".into(),
            advisory: false,
        });
        let text = super::super::view::line(&super::super::event::Event::Interval(i));
        assert!(!text.contains('\x1b') && !text.contains('\r'), "{text}");
        assert!(
            text.ends_with("\n    HOLD x\\n    GO canary.success: \\u{1b}[2K\\rall clear\n"),
            "{text}"
        );
    }

    #[test]
    fn the_limit_is_range_checked_at_load_naming_file_line_and_key() {
        let parse = |text: &str| Config::parse(text, Path::new("shipgate.toml"));
        assert_eq!(
            parse("").unwrap().watch.max_failed_evaluations.get(),
            DEFAULT_LIMIT
        );
        let config = parse("[watch]\nmax_failed_evaluations = 5\n").unwrap();
        assert_eq!(config.watch.max_failed_evaluations.get(), 5);
        for (value, got) in [("0", "0"), ("-2", "-2"), ("101", "101")] {
            let err = parse(&format!("[watch]\nmax_failed_evaluations = {value}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("shipgate.toml:2:26: key `watch.max_failed_evaluations`: ")
                    && err.contains(&format!("must be 1 to 100 intervals, got {got}")),
                "{err}"
            );
        }
        let err = parse("[watch]\nmax_failed_evaluations = \"3\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("key `watch.max_failed_evaluations`"), "{err}");
    }
}
