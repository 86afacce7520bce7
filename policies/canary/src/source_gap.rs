//! What the metrics source's gap says, counted per metric: whether the
//! whole source was unreachable, and whether the alerts were read.
//!
//! The host reads each metric and the alerts with queries of their own and
//! names every failed one in the gap's reason, one line per distinct
//! reason joined with `; `: `error_rate (canary), alerts: timed out after
//! 5s`, `all 11 queries failed: connection refused`, or, past four
//! subjects, `a (canary), b (canary), c (canary), d (canary) and 2 more: …`
//! (`host/src/collect/prometheus/problems.rs`). A failed metric query also
//! leaves that metric's measurement an `Error`, so each metric speaks for
//! itself; the alerts have no measurement of their own, so the reason is
//! all there is, and it is read so that unknown alerts are never "none
//! firing".

use shipgate_sdk::model::Gap;
use shipgate_sdk::prelude::*;

use crate::METRICS_SOURCE;

/// The subject the host names the alerts query by.
const ALERTS_QUERY: &str = "alerts";

/// The metrics source's gap when it means the whole source was
/// unreachable: no metric of the snapshot has a usable value on either side.
pub fn unreachable(snapshot: &Snapshot) -> Option<&Gap> {
    let gap = snapshot.gap(METRICS_SOURCE)?;
    let any_data = snapshot
        .metrics
        .iter()
        .any(|m| m.canary.value().is_some() || m.baseline.value().is_some());
    (!any_data).then_some(gap)
}

/// The metrics source's gap when the alerts may not have been read: unless
/// every line of its reason names its failed queries and each is a metric
/// of the snapshot, the alerts count as unknown (a line naming `alerts`,
/// `all N queries failed`, a line that counts more than it names, a
/// reason in another form, a source that gave no data).
pub fn alerts_unread(snapshot: &Snapshot) -> Option<&Gap> {
    let gap = snapshot.gap(METRICS_SOURCE)?;
    if unreachable(snapshot).is_some() {
        return Some(gap);
    }
    let is_metric = |subject: &str| {
        // `error_rate (baseline, canary)` or `alerts`.
        let name = subject.split_once(" (").map_or(subject, |(name, _)| name);
        !subject.ends_with(" more") && name != ALERTS_QUERY && snapshot.metric(name).is_some()
    };
    let all_metrics = gap.reason.split("; ").all(|line| {
        line.split_once(": ")
            .is_some_and(|(subjects, _)| split_subjects(subjects).all(is_metric))
    });
    (!all_metrics).then_some(gap)
}

/// `a (baseline, canary), b, alerts` → `a (baseline, canary)`, `b`,
/// `alerts`: split at the commas outside the parentheses.
fn split_subjects(subjects: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    let mut start = 0;
    let mut out = Vec::new();
    for (i, c) in subjects.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(subjects[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(subjects[start..].trim());
    out.into_iter()
}
