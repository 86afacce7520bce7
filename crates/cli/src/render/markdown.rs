//! The report as GitHub-flavoured Markdown, for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`.

use std::fmt::{self, Write as _};

use shipgate_core::escape::escape_line;
use shipgate_model::Verdict;

use super::{duration, next_step, policy_counts, redact, shout, thousands};
use shipgate_engine::report::{PolicyOutcome, Report, ReportedFinding};

/// A verdict with its emoji: `⛔ no-go`.
pub(super) fn md_verdict(verdict: Verdict) -> String {
    let emoji = match verdict {
        Verdict::Go => "✅",
        Verdict::Hold => "⏸️",
        Verdict::NoGo => "⛔",
        Verdict::Rollback => "↩️",
    };
    format!("{emoji} {verdict}")
}

/// Escapes text so Markdown shows it literally, including inside a table
/// cell: punctuation that could start emphasis, code, links or HTML is
/// backslash-escaped, `|` becomes `\|`, line breaks become `<br>`, and other
/// control characters are shown escaped as in text output ([`escape_line`]),
/// since Markdown is also printed to terminals.
pub(super) fn md_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        for c in escape_line(l).chars() {
            if matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&'
            ) {
                out.push('\\');
            }
            out.push(c);
        }
        if lines.peek().is_some() {
            out.push_str("<br>");
        }
    }
    out
}

/// `text` as an inline code span that survives a table cell: the fence is
/// longer than any run of backticks inside, `|` is escaped, line breaks
/// become spaces and other control characters are shown escaped ([`escape_line`]).
/// Empty text gives an empty string.
pub(super) fn md_code(text: &str) -> String {
    let text = escape_line(&text.lines().collect::<Vec<_>>().join(" ")).into_owned();
    if text.trim().is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", text.replace('|', "\\|"))
}

pub(super) fn write_markdown(out: &mut String, report: &Report) -> fmt::Result {
    let s = &report.subject;
    writeln!(
        out,
        "## Shipgate: {} — {} {} → {}",
        shout(report.verdict),
        md_text(&s.service),
        md_text(&s.version),
        md_text(&s.environment),
    )?;
    writeln!(out)?;

    // The status block.
    writeln!(
        out,
        "- **Verdict:** {} — {}",
        md_verdict(report.verdict),
        next_step(report.stage, report.verdict)
    )?;
    let risk = report
        .risk
        .map_or_else(|| "not assessed".to_owned(), |r| r.to_string());
    writeln!(out, "- **Risk:** {risk}")?;
    writeln!(out, "- **Stage:** {}", report.stage)?;
    if !s.commit.is_empty() {
        writeln!(out, "- **Commit:** {}", md_code(&s.commit))?;
    }
    writeln!(out, "- **Policies:** {}", policy_counts(report))?;
    writeln!(out, "- **Exit code:** {}", report.exit_code())?;

    if report.verdict == Verdict::Rollback {
        write_md_rollback_notice(out, report)?;
    }

    if !report.gaps.is_empty() {
        writeln!(out)?;
        writeln!(out, "> [!WARNING]")?;
        writeln!(
            out,
            "> **Data missing.** These sources could not be read; policies that rely on them decided without them."
        )?;
        writeln!(out, ">")?;
        for g in &report.gaps {
            writeln!(
                out,
                "> - **{}** — {}",
                md_text(&g.source),
                md_text(&g.reason)
            )?;
        }
    }

    write_md_policies(out, report)?;
    if !report.bundles.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Bundles")?;
        writeln!(out)?;
        writeln!(out, "| Bundle | Version | Digest | Signers |")?;
        writeln!(out, "|---|---|---|---|")?;
        for b in &report.bundles {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                md_text(&b.name),
                md_text(&b.version),
                md_code(&b.digest),
                md_text(&super::signed_by(b))
            )?;
        }
    }
    if !report.exceptions.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Exceptions")?;
        writeln!(out)?;
        writeln!(
            out,
            "| Ticket | Loosens | Status | Until | Reason | Digest |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for e in &report.exceptions {
            let status = match &e.not_applied {
                None => "**applied**".to_owned(),
                Some(why) => format!("not applied: {}", md_text(why)),
            };
            writeln!(
                out,
                "| {} | {} | {status} | {} | {} | {} |",
                md_text(&e.waiver.ticket),
                md_text(&super::waived(&e.waiver)),
                e.waiver.expires,
                md_text(&e.waiver.reason),
                md_code(&e.waiver.digest)
            )?;
        }
    }
    write_md_findings(out, report)?;

    if !report.requirements.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Requirements")?;
        writeln!(out)?;
        for r in &report.requirements {
            writeln!(out, "- [ ] {}", md_text(&r.to_string()))?;
        }
    }

    write_md_runs(out, report)
}

/// In the spirit of the playbook's "ROLLBACK IN PROGRESS" notice: what to do
/// and why.
fn write_md_rollback_notice(out: &mut String, report: &Report) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "> [!CAUTION]")?;
    writeln!(
        out,
        "> **Roll back now.** Revert {} in {} to the version before {}.",
        md_text(&report.subject.service),
        md_text(&report.subject.environment),
        md_text(&report.subject.version),
    )?;
    let reasons: Vec<&ReportedFinding> = report
        .findings
        .iter()
        .filter(|f| !f.advisory && f.finding.verdict == Verdict::Rollback)
        .collect();
    if !reasons.is_empty() {
        writeln!(out, ">")?;
        writeln!(out, "> Reason:")?;
        for rf in reasons {
            let f = &rf.finding;
            let evidence = f.evidence.as_ref().map_or_else(String::new, |e| {
                format!(
                    " (observed {}, expected {})",
                    md_code(&e.observed),
                    md_code(&e.expected)
                )
            });
            writeln!(
                out,
                "> - {}: {}{}",
                md_code(&f.rule),
                md_text(&f.message),
                evidence
            )?;
        }
    }
    Ok(())
}

fn write_md_policies(out: &mut String, report: &Report) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "### Policies")?;
    writeln!(out)?;
    if report.policies.is_empty() {
        return writeln!(out, "_No policies are configured._");
    }
    writeln!(out, "| Policy | Mode | Result | Verdict |")?;
    writeln!(out, "|---|---|---|---|")?;
    for p in &report.policies {
        let result = match &p.outcome {
            PolicyOutcome::Decided(_) => "decided".to_owned(),
            PolicyOutcome::Failed(f) => format!(
                "**failed** — {}: {} ({})",
                f.kind,
                md_text(&f.message),
                p.on_error
            ),
            PolicyOutcome::Skipped => "skipped".to_owned(),
        };
        let verdict = match p.verdict {
            Some(v) if p.counted => md_verdict(v),
            Some(v) => format!("{} (not counted)", md_verdict(v)),
            None => "—".to_owned(),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            md_text(&p.name),
            p.mode,
            result,
            verdict
        )?;
    }
    Ok(())
}

fn write_md_findings(out: &mut String, report: &Report) -> fmt::Result {
    if report.findings.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "### Findings")?;
    writeln!(out)?;
    writeln!(
        out,
        "| Policy | Rule | Verdict | Message | Observed | Expected |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for rf in &report.findings {
        let f = &rf.finding;
        let verdict = if rf.advisory {
            format!("{} {}", md_verdict(f.verdict), super::ADVISORY)
        } else {
            md_verdict(f.verdict)
        };
        let (observed, expected) = f.evidence.as_ref().map_or_else(
            || (String::new(), String::new()),
            |e| (md_code(&e.observed), md_code(&e.expected)),
        );
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md_text(&rf.policy),
            md_code(&f.rule),
            verdict,
            md_text(&f.message),
            observed,
            expected
        )?;
    }
    Ok(())
}

/// A collapsed audit trail: what each policy component was and what it used.
fn write_md_runs(out: &mut String, report: &Report) -> fmt::Result {
    if report.policies.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "<details>")?;
    writeln!(out, "<summary>Policy runs</summary>")?;
    writeln!(out)?;
    writeln!(
        out,
        "| Policy | On error | Fuel | Time | Component sha256 |"
    )?;
    writeln!(out, "|---|---|--:|--:|---|")?;
    for p in &report.policies {
        let (fuel, time) = match p.outcome {
            PolicyOutcome::Skipped => ("—".to_owned(), "—".to_owned()),
            _ => (thousands(p.usage.fuel), duration(p.usage.micros)),
        };
        let sha: String = p.sha256.chars().take(12).collect();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md_text(&p.name),
            p.on_error,
            fuel,
            time,
            if sha.is_empty() {
                "—".to_owned()
            } else {
                md_code(&sha)
            }
        )?;
    }
    writeln!(out)?;
    writeln!(out, "</details>")
}

/// Renders a report as GitHub-flavoured Markdown, fit for a pull-request
/// comment or `$GITHUB_STEP_SUMMARY`.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_markdown(&mut out, report);
    redact(out)
}
