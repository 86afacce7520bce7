//! The `problems` of a collection: one readable line per distinct reason,
//! so that a server that is down reads as one line, not fifteen.

/// One query that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    /// The metric's name, or `alerts`.
    pub subject: String,
    /// The track, for a metric.
    pub track: Option<&'static str>,
    /// Why.
    pub reason: String,
}

/// How many subjects a line names before it counts the rest.
const NAMED: usize = 4;

/// One line per distinct reason, in the order the reasons first occur:
/// `error_rate (canary): connection refused`, `a (baseline, canary), b
/// (canary): …`, or `all 15 queries failed: …` when every one of `total`
/// queries failed for the same reason.
pub(super) fn summarise(failures: &[Failure], total: usize) -> Vec<String> {
    let mut reasons: Vec<&str> = Vec::new();
    for failure in failures {
        if !reasons.contains(&failure.reason.as_str()) {
            reasons.push(&failure.reason);
        }
    }
    reasons
        .into_iter()
        .map(|reason| {
            let group: Vec<&Failure> = failures.iter().filter(|f| f.reason == reason).collect();
            if total > 1 && group.len() == total {
                return format!("all {total} queries failed: {reason}");
            }
            // Subjects in order, each with its tracks.
            let mut subjects: Vec<(&str, Vec<&str>)> = Vec::new();
            for failure in &group {
                let at = match subjects.iter().position(|(s, _)| *s == failure.subject) {
                    Some(at) => at,
                    None => {
                        subjects.push((&failure.subject, Vec::new()));
                        subjects.len() - 1
                    }
                };
                if let Some(track) = failure.track {
                    subjects[at].1.push(track);
                }
            }
            let mut names: Vec<String> = subjects
                .iter()
                .take(NAMED)
                .map(|(subject, tracks)| {
                    if tracks.is_empty() {
                        (*subject).to_owned()
                    } else {
                        format!("{subject} ({})", tracks.join(", "))
                    }
                })
                .collect();
            if subjects.len() > NAMED {
                let last = names.pop().unwrap_or_default();
                names.push(format!("{last} and {} more", subjects.len() - NAMED));
            }
            format!("{}: {reason}", names.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(subject: &str, track: Option<&'static str>, reason: &str) -> Failure {
        Failure {
            subject: subject.into(),
            track,
            reason: reason.into(),
        }
    }

    #[test]
    fn one_line_per_reason() {
        let failures = [
            failure("error_rate", Some("canary"), "timed out after 5s"),
            failure("bad", Some("baseline"), "bad_data: parse error"),
            failure("bad", Some("canary"), "bad_data: parse error"),
            failure("latency_p95", Some("canary"), "timed out after 5s"),
            failure("alerts", None, "timed out after 5s"),
        ];
        assert_eq!(
            summarise(&failures, 15),
            [
                "error_rate (canary), latency_p95 (canary), alerts: timed out after 5s",
                "bad (baseline, canary): bad_data: parse error",
            ]
        );
    }

    #[test]
    fn all_failed_is_one_line() {
        let reason = "cannot reach http://127.0.0.1:9/: connection refused";
        let failures: Vec<Failure> = ["a", "b", "c"]
            .iter()
            .flat_map(|m| {
                [
                    failure(m, Some("baseline"), reason),
                    failure(m, Some("canary"), reason),
                ]
            })
            .chain([failure("alerts", None, reason)])
            .collect();
        assert_eq!(
            summarise(&failures, 7),
            [format!("all 7 queries failed: {reason}")]
        );
        // Not all of them: named, and counted after four.
        assert_eq!(
            summarise(&failures, 8),
            [format!(
                "a (baseline, canary), b (baseline, canary), c (baseline, canary), alerts: {reason}"
            )]
        );
        let many: Vec<Failure> = (0..7)
            .map(|i| failure(&format!("m{i}"), Some("canary"), "x"))
            .collect();
        assert_eq!(
            summarise(&many, 20),
            ["m0 (canary), m1 (canary), m2 (canary), m3 (canary) and 3 more: x"]
        );
        assert!(summarise(&[], 3).is_empty());
    }
}
