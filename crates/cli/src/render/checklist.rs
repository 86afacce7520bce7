//! The Markdown summary of `shipgate check`, shaped like the playbooks'
//! "Deployment coordination complete" summary: environment validation,
//! pre-deploy checks, the canary's state and what data was collected, each
//! line from the findings of the built-in policies' rules, followed by the
//! full report.
//!
//! A line says only what the policies found: `PASSED` when its rules ran
//! and none fired, `FAILED` on a `no-go` (or stricter) finding, `HELD` on a
//! `hold` about a known state (a branch behind its base), `UNKNOWN` on a
//! `hold` about data that is not known (an unknown merge state, a check
//! without a result, coverage not reported), `NOT COLLECTED` when the
//! source could not be read, "not reported" when there is nothing to pass
//! (no artifact reported) and "not checked" when no enforced policy checks
//! it (coverage without a minimum).

use std::fmt::{self, Write as _};

use shipgate_model::{MergeState, Snapshot, Stage, Verdict};

use super::markdown::{md_code, md_text, md_verdict, write_markdown};
use shipgate_engine::report::{Report, ReportedFinding};

/// The Markdown report with a deployment checklist built from `snapshot`.
pub fn markdown_summary(report: &Report, snapshot: &Snapshot) -> String {
    let mut head = String::new();
    let _ = write_markdown(&mut head, report);
    // Put the checklist after the status block (the first blank line after
    // the bullet list), before the policies and findings.
    let mut checklist = String::new();
    let _ = write_checklist(&mut checklist, report, snapshot);
    match head.find("\n### ") {
        Some(at) => {
            let (status, rest) = head.split_at(at + 1);
            format!("{status}{checklist}\n{rest}")
        }
        None => format!("{head}\n{checklist}"),
    }
}

/// One line's state.
enum State {
    /// Checked, and it holds.
    Passed(String),
    /// Checked, and it does not hold (a `no-go` or stricter finding).
    Failed(String),
    /// Known, and held for now (a `hold` finding that is not about missing
    /// data: a branch behind its base, a deploy outside its hours).
    Held(String),
    /// The policy could not tell: the data it needs for this line is not
    /// known (an unknown merge state, a check without a result, coverage
    /// not reported).
    Unknown(String),
    /// The source of this line could not be read.
    NotCollected(String),
    /// Nothing was reported for this line (no artifacts), so there is
    /// nothing to pass.
    NotReported(String),
    /// No enforced policy checks this line.
    NotChecked(String),
}

impl State {
    fn cell(&self) -> String {
        match self {
            State::Passed(detail) => with_detail("✅ PASSED", detail),
            State::Failed(detail) => with_detail("❌ FAILED", detail),
            State::Held(detail) => with_detail("⏸️ HELD", detail),
            State::Unknown(detail) => with_detail("❔ UNKNOWN", detail),
            State::NotCollected(detail) => with_detail("⚠️ NOT COLLECTED", detail),
            State::NotReported(detail) => with_detail("— not reported", detail),
            State::NotChecked(detail) => with_detail("— not checked", detail),
        }
    }
}

fn with_detail(head: &str, detail: &str) -> String {
    if detail.is_empty() {
        head.to_owned()
    } else {
        format!("{head} — {}", md_text(detail))
    }
}

/// The rules a checklist line covers.
struct Line<'a> {
    /// The policy's rule-id prefix (`readiness.`): did it run at all.
    policy_prefix: &'a str,
    /// Rules whose non-`go` finding means the line failed (or, at `hold`,
    /// is held).
    rules: &'a [&'a str],
    /// Rules whose `hold` means the line's data is not known.
    unknown: &'a [&'a str],
    /// The policy's rule for a source it could not read.
    not_collected: &'a str,
}

/// The enforced findings of `report`.
fn enforced(report: &Report) -> impl Iterator<Item = &ReportedFinding> {
    report.findings.iter().filter(|f| !f.advisory)
}

/// Whether an enforced finding of `rule` was reported, at any verdict.
fn reported(report: &Report, rule: &str) -> bool {
    enforced(report).any(|f| f.finding.rule == rule)
}

/// The state of a checklist line from the findings of the rules it covers:
/// a failure first, then what is unknown, then what is held, then a source
/// not collected; otherwise it passed.
fn state(report: &Report, line: &Line<'_>, passed_detail: String) -> State {
    let ran = enforced(report).any(|f| f.finding.rule.starts_with(line.policy_prefix));
    if !ran {
        return State::NotChecked(String::new());
    }
    let hit = |rules: &[&str], at_least: Verdict| {
        enforced(report)
            .find(|f| rules.contains(&f.finding.rule.as_str()) && f.finding.verdict >= at_least)
            .map(|f| f.finding.message.clone())
    };
    let all: Vec<&str> = line.rules.iter().chain(line.unknown).copied().collect();
    if let Some(message) = hit(&all, Verdict::NoGo) {
        return State::Failed(message);
    }
    if let Some(message) = hit(line.unknown, Verdict::Hold) {
        return State::Unknown(message);
    }
    if let Some(message) = hit(line.rules, Verdict::Hold) {
        return State::Held(message);
    }
    if let Some(message) = hit(&[line.not_collected], Verdict::Hold) {
        return State::NotCollected(message);
    }
    State::Passed(passed_detail)
}

/// The rule-id prefix of the `readiness` policy.
const READINESS: &str = "readiness.";
/// The `readiness` policy's rule for a source it could not read.
const READINESS_NOT_COLLECTED: &str = "readiness.not-collected";

fn write_checklist(out: &mut String, report: &Report, snapshot: &Snapshot) -> fmt::Result {
    writeln!(out, "### Deployment checklist")?;
    writeln!(out)?;
    if let Some(pr) = &snapshot.deployment.pull_request {
        writeln!(out, "**PR:** #{} — {}", pr.number, md_text(&pr.title))?;
        writeln!(out)?;
    }
    writeln!(out, "| Check | Result |")?;
    writeln!(out, "|---|---|")?;

    // Environment validation.
    writeln!(out, "| **Environment validation** | |")?;
    let added: Vec<&str> = snapshot
        .environment
        .iter()
        .flat_map(|e| &e.declared)
        .filter(|v| v.added)
        .map(|v| v.name.as_str())
        .collect();
    let new_variables = if snapshot.environment.is_none() {
        "— not collected".to_owned()
    } else if added.is_empty() {
        "0".to_owned()
    } else {
        let names: Vec<String> = added.iter().map(|n| md_code(n)).collect();
        format!("{} ({})", added.len(), names.join(", "))
    };
    writeln!(out, "| New variables | {new_variables} |")?;
    let env = state(
        report,
        &Line {
            policy_prefix: "env.",
            rules: &["env.missing-required"],
            unknown: &[],
            not_collected: "env.not-collected",
        },
        snapshot.environment.as_ref().map_or_else(String::new, |e| {
            format!("{} declared, {} present", e.declared.len(), e.present.len())
        }),
    );
    writeln!(out, "| Variables synced | {} |", env.cell())?;

    // Pre-deploy checks.
    writeln!(out, "| **Pre-deploy checks** | |")?;
    let ci = snapshot.ci.as_ref();
    let tests_detail = ci.map_or_else(String::new, |ci| {
        // A skipped test did not run: it is not counted as passing.
        let tests: u32 = ci.test_suites.iter().map(|s| s.tests).sum();
        let skipped: u32 = ci.test_suites.iter().map(|s| s.skipped.min(s.tests)).sum();
        let skipped_note = if skipped > 0 {
            format!(" ({skipped} skipped)")
        } else {
            String::new()
        };
        format!(
            "{} tests run{skipped_note} in {} suites, {} checks",
            tests - skipped,
            ci.test_suites.len(),
            ci.checks.len()
        )
    });
    let tests = state(
        report,
        &Line {
            policy_prefix: READINESS,
            rules: &[
                "readiness.tests-failed",
                "readiness.check-failed",
                "readiness.check-missing",
            ],
            unknown: &["readiness.no-tests", "readiness.check-pending"],
            not_collected: READINESS_NOT_COLLECTED,
        },
        tests_detail,
    );
    writeln!(out, "| All tests passing | {} |", tests.cell())?;

    let coverage_value = ci
        .and_then(|c| c.coverage_percent)
        .map_or_else(String::new, |p| format!("{p:.1}%"));
    let coverage = if reported(report, "readiness.coverage") {
        state(
            report,
            &Line {
                policy_prefix: READINESS,
                rules: &[],
                unknown: &["readiness.coverage"],
                not_collected: READINESS_NOT_COLLECTED,
            },
            coverage_value,
        )
    } else {
        // No minimum is configured: the number, if any, is not a pass.
        State::NotChecked(coverage_value)
    };
    writeln!(out, "| Coverage | {} |", coverage.cell())?;

    let artifacts = match ci {
        Some(ci) if ci.artifacts.is_empty() => State::NotReported(String::new()),
        _ => state(
            report,
            &Line {
                policy_prefix: READINESS,
                rules: &["readiness.artifact-not-built"],
                unknown: &[],
                not_collected: READINESS_NOT_COLLECTED,
            },
            ci.map_or_else(String::new, |c| format!("{} built", c.artifacts.len())),
        ),
    };
    writeln!(out, "| Artifacts built | {} |", artifacts.cell())?;

    let merge = state(
        report,
        &Line {
            policy_prefix: READINESS,
            rules: &[
                "readiness.merge-conflict",
                "readiness.merge-blocked",
                "readiness.behind-base",
            ],
            unknown: &["readiness.merge-unknown"],
            not_collected: READINESS_NOT_COLLECTED,
        },
        ci.map_or_else(String::new, |c| format!("merge state {}", c.merge_state)),
    );
    // An unknown merge state that the policy is told to ignore is still not
    // a clean merge.
    let merge = match (merge, ci) {
        (State::Passed(_), Some(c)) if c.merge_state == MergeState::Unknown => {
            State::Unknown("merge state unknown (not checked)".to_owned())
        }
        (merge, _) => merge,
    };
    writeln!(out, "| No merge conflicts | {} |", merge.cell())?;

    let approvals = state(
        report,
        &Line {
            policy_prefix: READINESS,
            rules: &["readiness.approvals", "readiness.changes-requested"],
            unknown: &[],
            not_collected: READINESS_NOT_COLLECTED,
        },
        ci.map_or_else(String::new, |c| match c.approvals.len() {
            1 => "1 review".to_owned(),
            n => format!("{n} reviews"),
        }),
    );
    writeln!(out, "| Approvals | {} |", approvals.cell())?;
    let risk = match report.risk {
        Some(level) => level.to_string().to_uppercase(),
        None => "— not assessed".to_owned(),
    };
    writeln!(out, "| Risk assessment | {risk} |")?;
    let window = state(
        report,
        &Line {
            policy_prefix: "window.",
            rules: &[
                "window.blocked-day",
                "window.freeze",
                "window.outside-hours",
                "window.high-traffic",
                "window.p2-outside-scheduled-window",
                "window.p3-next-release",
            ],
            unknown: &["window.severity-missing", "window.time-unknown"],
            not_collected: "window.time-unknown",
        },
        String::new(),
    );
    writeln!(out, "| Deploy window | {} |", window.cell())?;

    if report.stage == Stage::Canary {
        writeln!(out, "| **Canary** | |")?;
        let rollback = if report.verdict == Verdict::Rollback {
            "YES — see the notice above".to_owned()
        } else {
            format!("NO — {}", md_verdict(report.verdict))
        };
        writeln!(out, "| Rollback | {rollback} |")?;
    }

    // What was collected.
    writeln!(out, "| **Data collected** | |")?;
    for (source, present) in collected_sources(snapshot) {
        let cell = match snapshot.gap(source) {
            Some(gap) => format!("⚠️ missing — {}", md_text(&gap.reason)),
            None => match present {
                Some(detail) => format!("✅ {}", md_text(&detail)),
                None => continue,
            },
        };
        writeln!(out, "| {source} | {cell} |")?;
    }
    Ok(())
}

/// Each source and what it gave, if it ran. Sources with a gap are listed
/// whether or not anything else of theirs is in the snapshot.
fn collected_sources(snapshot: &Snapshot) -> Vec<(&'static str, Option<String>)> {
    let change = snapshot.change.as_ref().map(|c| {
        let (added, removed) = c.line_counts();
        format!(
            "{} files (+{added} −{removed}), {} commits",
            c.files.len(),
            c.commits.len()
        )
    });
    let environment = snapshot.environment.as_ref().map(|e| {
        format!(
            "{} declared, {} present (names only)",
            e.declared.len(),
            e.present.len()
        )
    });
    let junit = snapshot
        .ci
        .as_ref()
        .filter(|c| !c.test_suites.is_empty())
        .map(|c| format!("{} suites", c.test_suites.len()));
    let coverage = snapshot
        .ci
        .as_ref()
        .and_then(|c| c.coverage_percent)
        .map(|p| format!("{p:.1}% lines"));
    let github = snapshot
        .ci
        .as_ref()
        .filter(|c| !c.checks.is_empty() || !c.approvals.is_empty())
        .map(|c| format!("{} checks, {} reviews", c.checks.len(), c.approvals.len()));
    let prometheus = (!snapshot.metrics.is_empty()).then(|| {
        let usable = snapshot
            .metrics
            .iter()
            .filter(|m| m.baseline.value().is_some() && m.canary.value().is_some())
            .count();
        format!(
            "{usable} of {} metrics with data, {} alerts firing",
            snapshot.metrics.len(),
            snapshot.alerts.len()
        )
    });
    vec![
        ("git", change),
        ("environment", environment),
        ("junit", junit),
        ("coverage", coverage),
        ("github", github),
        ("prometheus", prometheus),
    ]
}
