//! The Markdown summary of `shipgate check`, shaped like the playbooks'
//! "Deployment coordination complete" summary: environment validation,
//! pre-deploy checks, the canary's state and what data was collected, each
//! line PASSED / FAILED / NOT COLLECTED from the findings of the built-in
//! policies' rules, followed by the full report.

use std::fmt::{self, Write as _};

use shipgate_model::{Snapshot, Stage, Verdict};

use super::{md_code, md_text, md_verdict, write_markdown};
use crate::report::{Report, ReportedFinding};

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
    Passed(String),
    Failed(String),
    NotCollected(String),
    NotChecked,
}

impl State {
    fn cell(&self) -> String {
        match self {
            State::Passed(detail) => with_detail("✅ PASSED", detail),
            State::Failed(detail) => with_detail("❌ FAILED", detail),
            State::NotCollected(detail) => with_detail("⚠️ NOT COLLECTED", detail),
            State::NotChecked => "— not checked".to_owned(),
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

/// The state of a checklist line from the findings of the rules it covers.
/// `policy_prefix` (`readiness.`) tells whether the policy ran at all;
/// `not_collected` is its rule for missing data.
fn state(
    report: &Report,
    policy_prefix: &str,
    rules: &[&str],
    not_collected: &str,
    passed_detail: String,
) -> State {
    let enforced = |f: &&ReportedFinding| !f.advisory;
    let ran = report
        .findings
        .iter()
        .filter(enforced)
        .any(|f| f.finding.rule.starts_with(policy_prefix));
    if !ran {
        return State::NotChecked;
    }
    let hit = |rule: &str| {
        report
            .findings
            .iter()
            .filter(enforced)
            .find(|f| f.finding.rule == rule && f.finding.verdict > Verdict::Go)
    };
    if let Some(f) = rules.iter().find_map(|r| hit(r)) {
        return State::Failed(f.finding.message.clone());
    }
    if let Some(f) = hit(not_collected) {
        return State::NotCollected(f.finding.message.clone());
    }
    State::Passed(passed_detail)
}

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
        "env.",
        &["env.missing-required"],
        "env.not-collected",
        snapshot.environment.as_ref().map_or_else(String::new, |e| {
            format!("{} declared, {} present", e.declared.len(), e.present.len())
        }),
    );
    writeln!(out, "| Variables synced | {} |", env.cell())?;

    // Pre-deploy checks.
    writeln!(out, "| **Pre-deploy checks** | |")?;
    let ci = snapshot.ci.as_ref();
    let tests_detail = ci.map_or_else(String::new, |ci| {
        let tests: u32 = ci.test_suites.iter().map(|s| s.tests).sum();
        let checks = ci.checks.len();
        format!(
            "{tests} tests in {} suites, {checks} checks",
            ci.test_suites.len()
        )
    });
    let rows: [(&str, &[&str], String); 4] = [
        (
            "All tests passing",
            &[
                "readiness.tests-failed",
                "readiness.no-tests",
                "readiness.check-failed",
                "readiness.check-missing",
                "readiness.check-pending",
            ],
            tests_detail,
        ),
        (
            "Coverage",
            &["readiness.coverage"],
            ci.and_then(|c| c.coverage_percent)
                .map_or_else(String::new, |p| format!("{p:.1}%")),
        ),
        (
            "Artifacts built",
            &["readiness.artifact-not-built"],
            String::new(),
        ),
        (
            "No merge conflicts",
            &[
                "readiness.merge-conflict",
                "readiness.merge-blocked",
                "readiness.merge-unknown",
                "readiness.behind-base",
            ],
            ci.map_or_else(String::new, |c| format!("merge state {}", c.merge_state)),
        ),
    ];
    for (label, rules, detail) in rows {
        let line = state(
            report,
            "readiness.",
            rules,
            "readiness.not-collected",
            detail,
        );
        writeln!(out, "| {label} | {} |", line.cell())?;
    }
    let approvals = state(
        report,
        "readiness.",
        &["readiness.approvals", "readiness.changes-requested"],
        "readiness.not-collected",
        ci.map_or_else(String::new, |c| format!("{} reviews", c.approvals.len())),
    );
    writeln!(out, "| Approvals | {} |", approvals.cell())?;
    let risk = match report.risk {
        Some(level) => level.to_string().to_uppercase(),
        None => "— not assessed".to_owned(),
    };
    writeln!(out, "| Risk assessment | {risk} |")?;
    let window = state(
        report,
        "window.",
        &[
            "window.blocked-day",
            "window.freeze",
            "window.outside-hours",
            "window.high-traffic",
            "window.p2-outside-scheduled-window",
            "window.p3-next-release",
            "window.severity-missing",
        ],
        "window.time-unknown",
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
