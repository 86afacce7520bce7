//! The report as aligned, optionally coloured text for a terminal.

use std::fmt::{self, Write as _};

use shipgate_model::Verdict;

use shipgate_core::escape::{escape_line, escape_lines};

use super::{RenderOptions, findings_by_policy, next_step, redact, shout, width};
use shipgate_engine::report::{PolicyOutcome, Report};

/// ANSI colouring that can be switched off.
#[derive(Clone, Copy)]
pub(super) struct Paint {
    on: bool,
}

const BOLD: &str = "1";
const DIM: &str = "2";
const RED: &str = "31";
const YELLOW: &str = "33";

impl Paint {
    /// `text` wrapped in the SGR sequence `code`, when colour is on.
    fn paint(self, code: &str, text: &str) -> String {
        if self.on && !code.is_empty() && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// `text` painted, then padded with spaces to `cols` columns (padding
    /// outside the escape codes keeps columns aligned).
    fn cell(self, code: &str, text: &str, cols: usize) -> String {
        let pad = cols.saturating_sub(width(text));
        format!("{}{}", self.paint(code, text), " ".repeat(pad))
    }

    /// The colour of a verdict: green go, yellow hold, red no-go, bold
    /// magenta rollback.
    fn verdict_code(verdict: Verdict) -> &'static str {
        match verdict {
            Verdict::Go => "32",
            Verdict::Hold => YELLOW,
            Verdict::NoGo => RED,
            Verdict::Rollback => "1;35",
        }
    }

    /// The headline colour of a verdict: bold and coloured.
    fn headline_code(verdict: Verdict) -> &'static str {
        match verdict {
            Verdict::Go => "1;32",
            Verdict::Hold => "1;33",
            Verdict::NoGo => "1;31",
            Verdict::Rollback => "1;35",
        }
    }
}

/// Joins a possibly multi-line `text` so continuation lines start at
/// column `indent`.
pub(super) fn indent_lines(text: &str, indent: usize) -> String {
    let sep = format!("\n{}", " ".repeat(indent));
    text.lines().collect::<Vec<_>>().join(&sep)
}

/// Writes `line` without trailing spaces, then a newline.
pub(super) fn line(out: &mut String, line: &str) -> fmt::Result {
    writeln!(out, "{}", line.trim_end())
}

pub(super) fn write_text(out: &mut String, report: &Report, p: Paint) -> fmt::Result {
    let s = &report.subject;
    let verdict = shout(report.verdict);
    writeln!(
        out,
        "{}  {} {} → {} ({})",
        p.paint(Paint::headline_code(report.verdict), &verdict),
        p.paint(BOLD, &escape_line(&s.service)),
        escape_line(&s.version),
        escape_line(&s.environment),
        report.stage,
    )?;
    let risk = report
        .risk
        .map_or_else(|| "not assessed".to_owned(), |r| r.to_string());
    let mut facts = vec![format!("{} {risk}", p.paint(DIM, "risk"))];
    if !s.commit.is_empty() {
        facts.push(format!(
            "{} {}",
            p.paint(DIM, "commit"),
            escape_line(&s.commit)
        ));
    }
    facts.push(format!("{} {}", p.paint(DIM, "exit"), report.exit_code()));
    writeln!(out, "{}", facts.join(&p.paint(DIM, " · ")))?;
    writeln!(
        out,
        "{}",
        p.paint(
            DIM,
            &format!("→ {}", next_step(report.stage, report.verdict))
        )
    )?;

    write_text_policies(out, report, p)?;
    if !report.bundles.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.paint(BOLD, "Bundles"))?;
        for b in &report.bundles {
            writeln!(
                out,
                "  {} {}  {}  {}",
                escape_line(&b.name),
                escape_line(&b.version),
                escape_line(&b.digest),
                p.paint(DIM, &super::signed_by(b))
            )?;
        }
    }
    if !report.exceptions.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.paint(BOLD, "Exceptions"))?;
        for e in &report.exceptions {
            let status = match &e.not_applied {
                None => p.paint(YELLOW, "applied"),
                Some(why) => p.paint(DIM, &format!("not applied: {why}")),
            };
            writeln!(
                out,
                "  {}  {}  {status}",
                escape_line(&e.waiver.ticket),
                escape_line(&super::waived(&e.waiver)),
            )?;
            writeln!(
                out,
                "    {}",
                p.paint(
                    DIM,
                    &escape_line(&format!(
                        "{} · until {} · {} · signed by {}",
                        e.waiver.reason,
                        e.waiver.expires,
                        e.waiver.digest,
                        e.waiver.signers.join(", ")
                    ))
                )
            )?;
        }
    }
    write_text_findings(out, report, p)?;

    if !report.requirements.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.paint(BOLD, "Requirements"))?;
        for r in &report.requirements {
            writeln!(out, "  - {}", escape_line(&r.to_string()))?;
        }
    }

    if !report.gaps.is_empty() {
        writeln!(out)?;
        for g in &report.gaps {
            writeln!(
                out,
                "{} {} — {}",
                p.paint(YELLOW, "data missing:"),
                escape_line(&g.source),
                escape_line(&g.reason)
            )?;
        }
    }
    Ok(())
}

fn write_text_policies(out: &mut String, report: &Report, p: Paint) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "{}", p.paint(BOLD, "Policies"))?;
    if report.policies.is_empty() {
        return writeln!(out, "  {}", p.paint(DIM, "none configured"));
    }
    let name_w = report
        .policies
        .iter()
        .map(|x| width(&escape_line(&x.name)))
        .max()
        .unwrap_or(0);
    let mode_w = report
        .policies
        .iter()
        .map(|x| width(&x.mode.to_string()))
        .max()
        .unwrap_or(0);
    let status_w = report
        .policies
        .iter()
        .map(|x| x.status().len())
        .max()
        .unwrap_or(0);
    let verdict_w = report
        .policies
        .iter()
        .map(|x| x.verdict.map_or(1, |v| v.as_str().len()))
        .max()
        .unwrap_or(0);
    // Where the detail column starts, for continuation lines.
    let detail_col = 2 + name_w + 2 + mode_w + 2 + status_w + 2 + verdict_w + 2;

    for pol in &report.policies {
        let dim_if_skipped = |code: &'static str| match pol.outcome {
            PolicyOutcome::Skipped => DIM,
            _ => code,
        };
        let status_code = match pol.outcome {
            PolicyOutcome::Failed(_) => RED,
            PolicyOutcome::Skipped => DIM,
            PolicyOutcome::Decided(_) => "",
        };
        let verdict_cell = match pol.verdict {
            Some(v) => p.cell(Paint::verdict_code(v), v.as_str(), verdict_w),
            None => p.cell(DIM, "-", verdict_w),
        };
        let detail = match &pol.outcome {
            PolicyOutcome::Failed(f) => format!(
                "{}: {} {}",
                p.paint(RED, f.kind.as_str()),
                indent_lines(&escape_lines(&f.message), detail_col),
                p.paint(DIM, &format!("({})", pol.on_error))
            ),
            _ if pol.verdict.is_some() && !pol.counted => p.paint(DIM, "(not counted)"),
            _ => String::new(),
        };
        line(
            out,
            &format!(
                "  {}  {}  {}  {}  {}",
                p.cell(dim_if_skipped(""), &escape_line(&pol.name), name_w),
                p.cell(dim_if_skipped(""), &pol.mode.to_string(), mode_w),
                p.cell(status_code, pol.status(), status_w),
                verdict_cell,
                detail
            ),
        )?;
    }
    Ok(())
}

fn write_text_findings(out: &mut String, report: &Report, p: Paint) -> fmt::Result {
    if report.findings.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", p.paint(BOLD, "Findings"))?;
    let verdict_w = report
        .findings
        .iter()
        .map(|f| f.finding.verdict.as_str().len())
        .max()
        .unwrap_or(0);
    let rule_w = report
        .findings
        .iter()
        .map(|f| width(&escape_line(&f.finding.rule)))
        .max()
        .unwrap_or(0);
    let message_col = 4 + verdict_w + 2 + rule_w + 2;
    let indent = " ".repeat(message_col);

    for (policy, findings) in findings_by_policy(report) {
        writeln!(out, "  {}", escape_line(policy))?;
        for rf in findings {
            let f = &rf.finding;
            let advisory = if rf.advisory {
                format!(" {}", p.paint(DIM, super::ADVISORY))
            } else {
                String::new()
            };
            line(
                out,
                &format!(
                    "    {}  {}  {}{}",
                    p.cell(
                        Paint::verdict_code(f.verdict),
                        f.verdict.as_str(),
                        verdict_w
                    ),
                    p.cell("", &escape_line(&f.rule), rule_w),
                    indent_lines(&escape_lines(&f.message), message_col),
                    advisory
                ),
            )?;
            if let Some(e) = &f.evidence {
                writeln!(
                    out,
                    "{indent}{} {}, {} {}",
                    p.paint(DIM, "observed"),
                    escape_line(&e.observed),
                    p.paint(DIM, "expected"),
                    escape_line(&e.expected)
                )?;
            }
        }
    }
    Ok(())
}

/// Renders a report for a terminal.
///
/// A headline with the verdict and the subject, the risk, one line per
/// policy, the findings grouped by policy, the requirements and any data
/// that was missing. Colours are used only when `opts.color` is set. Every
/// string from outside is shown with its control characters escaped (see
/// [`escape_line`]), and every secret masked (see [`shipgate_core::redact`]).
pub fn text(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_text(&mut out, report, Paint { on: opts.color });
    redact(out)
}
