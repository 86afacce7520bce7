//! Rendering a [`Report`] for people and for machines: aligned (optionally
//! coloured) text for a terminal, pretty JSON for scripts, and Markdown for a
//! pull-request comment or `$GITHUB_STEP_SUMMARY`.
//!
//! The JSON output has its own schema, spelled out by the private view
//! structs below, so that changes to the internal [`Report`] type do not
//! silently change what scripts read.

mod checklist;
mod escape;

pub use escape::{escape_line, escape_lines};

use crate::config::Format;
use std::fmt::{self, Write as _};
use std::io::IsTerminal as _;

use serde::Serialize;
use shipgate_model::{Requirement, RiskLevel, Stage, Verdict};

use crate::config::{Mode, OnError};
use crate::report::{PolicyOutcome, PolicyReport, Report, ReportedFinding};

/// Options for rendering.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Whether to colour the output with ANSI escape codes.
    pub color: bool,
}

/// Whether to colour terminal output: false if `NO_COLOR` is set (non-empty)
/// or stdout is not a terminal.
pub fn color_for_stdout() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// Renders a report for a terminal.
///
/// A headline with the verdict and the subject, the risk, one line per
/// policy, the findings grouped by policy, the requirements and any data
/// that was missing. Colours are used only when `opts.color` is set. Every
/// string from outside is shown with its control characters escaped (see
/// [`escape_line`]), and every secret masked (see [`crate::redact`]).
pub fn text(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_text(&mut out, report, Paint { on: opts.color });
    redact(out)
}

/// Renders a report as one pretty-printed JSON object, with a trailing
/// newline; every secret masked.
pub fn json(report: &Report) -> String {
    let view = JsonReport::new(report);
    match serde_json::to_string_pretty(&view) {
        Ok(mut s) => {
            s.push('\n');
            redact(s)
        }
        // Unreachable in practice: every key is a string and every value
        // serializes. Still emit valid JSON rather than panic.
        Err(e) => {
            let mut s = serde_json::json!({ "error": e.to_string() }).to_string();
            s.push('\n');
            redact(s)
        }
    }
}

/// The report as a pull-request comment or step summary: [`markdown`] with
/// the deployment checklist drawn from `snapshot`; every secret masked.
pub fn markdown_summary(report: &Report, snapshot: &shipgate_model::Snapshot) -> String {
    redact(checklist::markdown_summary(report, snapshot))
}

/// `text` with every secret masked.
fn redact(text: String) -> String {
    match crate::redact::scrub(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(scrubbed) => scrubbed,
    }
}

/// The report as a JSON value, with the content of [`json`] (the decision
/// log stores it).
pub fn json_value(report: &Report) -> serde_json::Value {
    serde_json::to_value(JsonReport::new(report))
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
}

/// The report in `format`, as `eval` and `check` print it: text with colour
/// when standard output is a terminal (and `NO_COLOR` is unset), JSON, or
/// Markdown with the deployment checklist drawn from `snapshot`.
pub fn report(report: &Report, snapshot: &shipgate_model::Snapshot, format: Format) -> String {
    match format {
        Format::Text => text(
            report,
            &RenderOptions {
                color: color_for_stdout(),
            },
        ),
        Format::Json => json(report),
        Format::Markdown => markdown_summary(report, snapshot),
    }
}

/// Renders a report as GitHub-flavoured Markdown, fit for a pull-request
/// comment or `$GITHUB_STEP_SUMMARY`.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_markdown(&mut out, report);
    redact(out)
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// `NO-GO`, `ROLLBACK`, ...
fn shout(verdict: Verdict) -> String {
    verdict.as_str().to_uppercase()
}

/// What to do next, in a few words.
fn next_step(stage: Stage, verdict: Verdict) -> &'static str {
    match (verdict, stage) {
        (Verdict::Go, Stage::Canary) => "promote the rollout to its next step",
        (Verdict::Go, Stage::Risk) => "no blocking risk found",
        (Verdict::Go, Stage::Gate) => "clear to deploy",
        (Verdict::Hold, Stage::Canary) => "keep the rollout at its current step and check again",
        (Verdict::Hold, _) => "wait for more evidence, then run the gate again",
        (Verdict::NoGo, _) => "do not deploy until the blocking results below are resolved",
        (Verdict::Rollback, _) => "roll back now: revert to the previous version",
    }
}

/// The number of characters `s` takes on a terminal (close enough: every
/// character counts as one column).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Policies' names and their findings, grouped in the order the findings
/// come (enforced policies first).
fn findings_by_policy(report: &Report) -> Vec<(&str, Vec<&ReportedFinding>)> {
    let mut groups: Vec<(&str, Vec<&ReportedFinding>)> = Vec::new();
    for f in &report.findings {
        match groups.iter_mut().find(|(name, _)| *name == f.policy) {
            Some((_, list)) => list.push(f),
            None => groups.push((&f.policy, vec![f])),
        }
    }
    groups
}

/// `2 decided, 1 failed, 1 skipped` (zero counts left out).
fn policy_counts(report: &Report) -> String {
    let count = |status: &str| {
        report
            .policies
            .iter()
            .filter(|p| p.status() == status)
            .count()
    };
    let parts: Vec<String> = ["decided", "failed", "skipped"]
        .into_iter()
        .map(|s| (s, count(s)))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    if parts.is_empty() {
        "none configured".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `850 µs`, `12.4 ms`, `1.20 s`.
fn duration(micros: u64) -> String {
    if micros < 1_000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.1} ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2} s", micros as f64 / 1_000_000.0)
    }
}

/// `1,204,331`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/// ANSI colouring that can be switched off.
#[derive(Clone, Copy)]
struct Paint {
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
fn indent_lines(text: &str, indent: usize) -> String {
    let sep = format!("\n{}", " ".repeat(indent));
    text.lines().collect::<Vec<_>>().join(&sep)
}

/// Writes `line` without trailing spaces, then a newline.
fn line(out: &mut String, line: &str) -> fmt::Result {
    writeln!(out, "{}", line.trim_end())
}

fn write_text(out: &mut String, report: &Report, p: Paint) -> fmt::Result {
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
                format!(" {}", p.paint(DIM, "(advisory)"))
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

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

#[derive(Serialize)]
struct JsonReport<'a> {
    verdict: Verdict,
    risk: Option<RiskLevel>,
    stage: Stage,
    exit_code: i32,
    subject: JsonSubject<'a>,
    findings: Vec<JsonFinding<'a>>,
    requirements: Vec<JsonRequirement>,
    policies: Vec<JsonPolicy<'a>>,
    gaps: Vec<JsonGap<'a>>,
}

#[derive(Serialize)]
struct JsonSubject<'a> {
    service: &'a str,
    environment: &'a str,
    version: &'a str,
    commit: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    policy: &'a str,
    rule: &'a str,
    verdict: Verdict,
    message: &'a str,
    advisory: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRequirement {
    /// A stable kebab-case name (`maintenance-window`).
    kind: &'static str,
    /// The requirement as a person reads it.
    text: String,
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    name: &'a str,
    status: &'static str,
    verdict: Option<Verdict>,
    mode: &'a Mode,
    on_error: &'a OnError,
    counted: bool,
    sha256: &'a str,
    failure: Option<JsonFailure<'a>>,
    risk: Option<RiskLevel>,
    fuel: u64,
    micros: u64,
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    kind: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonGap<'a> {
    source: &'a str,
    reason: &'a str,
}

impl<'a> JsonReport<'a> {
    fn new(r: &'a Report) -> Self {
        JsonReport {
            verdict: r.verdict,
            risk: r.risk,
            stage: r.stage,
            exit_code: r.exit_code(),
            subject: JsonSubject {
                service: &r.subject.service,
                environment: &r.subject.environment,
                version: &r.subject.version,
                commit: &r.subject.commit,
            },
            findings: r
                .findings
                .iter()
                .map(|f| JsonFinding {
                    policy: &f.policy,
                    rule: &f.finding.rule,
                    verdict: f.finding.verdict,
                    message: &f.finding.message,
                    advisory: f.advisory,
                    observed: f.finding.evidence.as_ref().map(|e| e.observed.as_str()),
                    expected: f.finding.evidence.as_ref().map(|e| e.expected.as_str()),
                })
                .collect(),
            requirements: r
                .requirements
                .iter()
                .map(|q| JsonRequirement {
                    kind: requirement_kind(q),
                    text: q.to_string(),
                })
                .collect(),
            policies: r.policies.iter().map(JsonPolicy::new).collect(),
            gaps: r
                .gaps
                .iter()
                .map(|g| JsonGap {
                    source: &g.source,
                    reason: &g.reason,
                })
                .collect(),
        }
    }
}

impl<'a> JsonPolicy<'a> {
    fn new(p: &'a PolicyReport) -> Self {
        let (failure, risk) = match &p.outcome {
            PolicyOutcome::Decided(d) => (None, d.risk),
            PolicyOutcome::Failed(f) => (
                Some(JsonFailure {
                    kind: f.kind.as_str(),
                    message: &f.message,
                }),
                None,
            ),
            PolicyOutcome::Skipped => (None, None),
        };
        JsonPolicy {
            name: &p.name,
            status: p.status(),
            verdict: p.verdict,
            mode: &p.mode,
            on_error: &p.on_error,
            counted: p.counted,
            sha256: &p.sha256,
            failure,
            risk,
            fuel: p.usage.fuel,
            micros: p.usage.micros,
        }
    }
}

/// A requirement's stable machine name: its variant in kebab-case, as in the
/// decision's own JSON form.
fn requirement_kind(r: &Requirement) -> &'static str {
    match r {
        Requirement::ManualApproval(_) => "manual-approval",
        Requirement::MaintenanceWindow => "maintenance-window",
        Requirement::ExtendedMonitoringHours(_) => "extended-monitoring-hours",
        Requirement::EnhancedMonitoring => "enhanced-monitoring",
        Requirement::StagedRollout => "staged-rollout",
        Requirement::CanaryDeployment => "canary-deployment",
        Requirement::FeatureFlag => "feature-flag",
        Requirement::RollbackPlan => "rollback-plan",
        Requirement::FullBackup => "full-backup",
        Requirement::RolloutPlan(_) => "rollout-plan",
        Requirement::Other(_) => "other",
    }
}

// ---------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------

/// A verdict with its emoji: `⛔ no-go`.
fn md_verdict(verdict: Verdict) -> String {
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
fn md_text(text: &str) -> String {
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
fn md_code(text: &str) -> String {
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

fn write_markdown(out: &mut String, report: &Report) -> fmt::Result {
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
            format!("{} (advisory)", md_verdict(f.verdict))
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

#[cfg(test)]
mod tests {
    use shipgate_model::{Decision, Finding, Gap, RolloutStep};

    use super::*;
    use crate::report::{Failure, FailureKind, Subject, Usage};

    /// Snapshots land in `src/snapshots/render__<name>.snap`.
    fn snap(name: &str, value: String) {
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(format!("render__{name}"), value));
    }

    fn subject(service: &str, version: &str, commit: &str) -> Subject {
        Subject {
            service: service.into(),
            environment: "production".into(),
            version: version.into(),
            commit: commit.into(),
        }
    }

    /// A made-up but well-formed sha256 for a policy (FNV-1a of its name,
    /// stretched to 64 hex digits).
    fn sha(name: &str) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        (0..4)
            .map(|round| {
                for b in name.bytes().chain([round]) {
                    h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                }
                format!("{h:016x}")
            })
            .collect()
    }

    fn decided(name: &str, mode: Mode, d: Decision, fuel: u64, micros: u64) -> PolicyReport {
        PolicyReport {
            name: name.into(),
            counted: mode == Mode::Enforce,
            mode,
            on_error: OnError::FailClosed,
            sha256: sha(name),
            verdict: Some(d.verdict),
            outcome: PolicyOutcome::Decided(d),
            usage: Usage { fuel, micros },
        }
    }

    /// Fills in the report's findings and requirements from its policies the
    /// way the aggregator does: enforced findings first, requirements of
    /// enforced policies without repeats.
    fn report(
        stage: Stage,
        verdict: Verdict,
        risk: Option<RiskLevel>,
        subject: Subject,
        policies: Vec<PolicyReport>,
        gaps: Vec<Gap>,
    ) -> Report {
        let mut findings = Vec::new();
        let mut requirements: Vec<Requirement> = Vec::new();
        for advisory in [false, true] {
            for p in &policies {
                let PolicyOutcome::Decided(d) = &p.outcome else {
                    continue;
                };
                if (p.mode == Mode::Advisory) != advisory {
                    continue;
                }
                for f in &d.findings {
                    findings.push(ReportedFinding {
                        policy: p.name.clone(),
                        advisory,
                        finding: f.clone(),
                    });
                }
                if !advisory {
                    for r in &d.requirements {
                        if !requirements.contains(r) {
                            requirements.push(r.clone());
                        }
                    }
                }
            }
        }
        Report {
            stage,
            verdict,
            risk,
            subject,
            findings,
            requirements,
            policies,
            gaps,
        }
    }

    /// A go, with one advisory finding.
    fn go_report() -> Report {
        report(
            Stage::Gate,
            Verdict::Go,
            Some(RiskLevel::Low),
            subject("checkout", "1.4.2", "8f2c1d0"),
            vec![
                decided("ci-green", Mode::Enforce, Decision::go(), 182_344, 912),
                decided(
                    "env-guardian",
                    Mode::Enforce,
                    Decision::go().with_risk(RiskLevel::Low),
                    96_120,
                    640,
                ),
                decided(
                    "release-window",
                    Mode::Advisory,
                    Decision::from_findings(vec![Finding::hold(
                        "window.no-friday",
                        "Friday afternoon deploy: prefer Monday to Thursday, before 15:00",
                    )]),
                    41_877,
                    388,
                ),
            ],
            vec![],
        )
    }

    /// A no-go: a fail-closed policy ran past its deadline, and Prometheus
    /// could not be read.
    fn no_go_report() -> Report {
        let canary_history = PolicyReport {
            name: "canary-history".into(),
            mode: Mode::Enforce,
            on_error: OnError::FailClosed,
            sha256: sha("canary-history"),
            outcome: PolicyOutcome::Failed(Failure {
                kind: FailureKind::Deadline,
                message: "did not finish within its 250 ms deadline".into(),
            }),
            verdict: Some(Verdict::NoGo),
            counted: true,
            usage: Usage {
                fuel: 48_000_000,
                micros: 250_431,
            },
        };
        let canary_health = PolicyReport {
            name: "canary-health".into(),
            mode: Mode::Enforce,
            on_error: OnError::FailOpen,
            sha256: sha("canary-health"),
            outcome: PolicyOutcome::Skipped,
            verdict: None,
            counted: false,
            usage: Usage::default(),
        };
        report(
            Stage::Gate,
            Verdict::NoGo,
            Some(RiskLevel::High),
            subject("payments", "2.0.0", "c41e9a7"),
            vec![
                decided("ci-green", Mode::Enforce, Decision::go(), 175_002, 1_204),
                decided(
                    "change-risk",
                    Mode::Enforce,
                    Decision::from_findings(vec![Finding::hold(
                        "risk.migration",
                        "Database migration touches orders | payments tables",
                    )])
                    .with_risk(RiskLevel::High)
                    .require(Requirement::MaintenanceWindow)
                    .require(Requirement::FullBackup),
                    233_918,
                    2_310,
                ),
                canary_history,
                canary_health,
            ],
            vec![Gap {
                source: "prometheus".into(),
                reason: "connection refused".into(),
            }],
        )
    }

    /// A rollback during a canary, with evidence and requirements.
    fn rollback_report() -> Report {
        let health = Decision::from_findings(vec![
            Finding::rollback(
                "canary.error-rate",
                "Canary error rate is above the 2% rollback trigger",
            )
            .evidence("3.1%", "<= 2%"),
            Finding::pass("canary.latency-p95", "p95 latency is within 2× baseline")
                .evidence("312 ms", "<= 500 ms"),
            Finding::rollback(
                "canary.new-errors",
                "New error signature: NullPointerException in PaymentService.charge",
            )
            .evidence(1, 0),
        ])
        .with_risk(RiskLevel::High)
        .require(Requirement::ManualApproval("on-call engineer".into()))
        .require(Requirement::ExtendedMonitoringHours(24));
        let alerts = Decision::from_findings(vec![Finding::no_go(
            "alerts.critical",
            "Critical alert firing: CheckoutErrorBudgetBurn",
        )])
        .require(Requirement::RolloutPlan(vec![
            RolloutStep {
                traffic_percent: 10,
                hold_seconds: 600,
            },
            RolloutStep {
                traffic_percent: 50,
                hold_seconds: 600,
            },
            RolloutStep {
                traffic_percent: 100,
                hold_seconds: 3_600,
            },
        ]))
        .require(Requirement::ExtendedMonitoringHours(24));
        report(
            Stage::Canary,
            Verdict::Rollback,
            Some(RiskLevel::High),
            subject("checkout", "1.4.3", "2b7d4e1"),
            vec![
                decided("canary-health", Mode::Enforce, health, 3_912_554, 4_870),
                decided("alerts", Mode::Enforce, alerts, 120_400, 1_050),
                decided("deploy-audit", Mode::Advisory, Decision::go(), 20_113, 240),
            ],
            vec![],
        )
    }

    fn plain(r: &Report) -> String {
        text(r, &RenderOptions { color: false })
    }

    #[test]
    fn go_snapshots() {
        let r = go_report();
        snap("go.txt", plain(&r));
        snap("go.json", json(&r));
        snap("go.md", markdown(&r));
    }

    #[test]
    fn no_go_snapshots() {
        let r = no_go_report();
        snap("no_go.txt", plain(&r));
        snap("no_go.json", json(&r));
        snap("no_go.md", markdown(&r));
    }

    #[test]
    fn rollback_snapshots() {
        let r = rollback_report();
        snap("rollback.txt", plain(&r));
        snap("rollback.json", json(&r));
        snap("rollback.md", markdown(&r));
    }

    #[test]
    fn json_parses_back_with_the_required_keys() {
        for r in [go_report(), no_go_report(), rollback_report()] {
            let out = json(&r);
            assert!(out.ends_with("}\n"), "one object and a trailing newline");
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            for key in [
                "verdict",
                "risk",
                "stage",
                "exit_code",
                "subject",
                "findings",
                "requirements",
                "policies",
                "gaps",
            ] {
                assert!(v.get(key).is_some(), "missing top-level `{key}`");
            }
            assert_eq!(v["verdict"], r.verdict.as_str());
            assert_eq!(v["exit_code"], r.exit_code());
            for key in ["service", "environment", "version", "commit"] {
                assert!(v["subject"][key].is_string(), "missing subject.{key}");
            }
            for f in v["findings"].as_array().unwrap() {
                for key in ["policy", "rule", "verdict", "message", "advisory"] {
                    assert!(f.get(key).is_some(), "finding without `{key}`: {f}");
                }
                assert_eq!(f.get("observed").is_some(), f.get("expected").is_some());
            }
            for q in v["requirements"].as_array().unwrap() {
                assert!(q["kind"].is_string() && q["text"].is_string(), "{q}");
            }
            for p in v["policies"].as_array().unwrap() {
                for key in [
                    "name", "status", "verdict", "mode", "on_error", "counted", "sha256",
                    "failure", "risk", "fuel", "micros",
                ] {
                    assert!(p.get(key).is_some(), "policy without `{key}`: {p}");
                }
                let status = p["status"].as_str().unwrap();
                assert!(["decided", "failed", "skipped"].contains(&status));
                assert_eq!(status == "failed", p["failure"].is_object());
            }
            for g in v["gaps"].as_array().unwrap() {
                assert!(g["source"].is_string() && g["reason"].is_string());
            }
        }
        let v: serde_json::Value = serde_json::from_str(&json(&no_go_report())).unwrap();
        assert_eq!(v["policies"][2]["failure"]["kind"], "deadline");
        assert_eq!(v["policies"][2]["on_error"], "fail-closed");
        assert_eq!(v["policies"][3]["verdict"], serde_json::Value::Null);
        assert_eq!(v["requirements"][0]["kind"], "maintenance-window");
    }

    #[test]
    fn colour_only_when_asked() {
        for r in [go_report(), no_go_report(), rollback_report()] {
            let plain = plain(&r);
            assert!(!plain.contains('\x1b'), "escape bytes in:\n{plain}");
            let coloured = text(&r, &RenderOptions { color: true });
            assert!(coloured.contains('\x1b'));
            // Colour changes nothing but the escapes.
            assert_eq!(strip_ansi(&coloured), plain);
            assert!(!markdown(&r).contains('\x1b'));
        }
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn markdown_escapes_table_cells() {
        assert_eq!(md_text("a | b"), r"a \| b");
        assert_eq!(md_text("<b>x</b> *y*"), r"\<b\>x\</b\> \*y\*");
        assert_eq!(md_text("one\ntwo"), "one<br>two");
        assert_eq!(md_code("<= 2%"), "`<= 2%`");
        assert_eq!(md_code("a|b"), r"`a\|b`");
        assert_eq!(md_code("`x`"), "`` `x` ``");
        assert_eq!(md_code(""), "");
        let md = markdown(&no_go_report());
        assert!(md.contains(r"orders \| payments"), "{md}");
    }

    /// A no-go whose every outside string tries to drive the terminal: the
    /// subject and the gap carry ANSI escapes, a rule id carries a newline
    /// that would start a row of its own, a message erases its line and
    /// prints a green `GO`.
    fn hostile_report() -> Report {
        const FAKE_GO: &str = "\x1b[2K\r\x1b[1;32mGO\x1b[0m  all clear";
        report(
            Stage::Gate,
            Verdict::NoGo,
            None,
            subject(
                &format!("orders{FAKE_GO}"),
                "v2\x1b]0;pwned\x07",
                "abc\u{202e}def",
            ),
            vec![decided(
                "hostile\tname",
                Mode::Enforce,
                Decision::from_findings(vec![
                    Finding::no_go(
                        "rule.one\n    go    forged.row  everything passed",
                        format!("commit \"fix: thing{FAKE_GO}\"\nsecond line\rof it"),
                    )
                    .evidence(FAKE_GO, "\x1b[8mhidden"),
                ]),
                1,
                1,
            )],
            vec![Gap {
                source: "git\x1b[2K".into(),
                reason: format!("bad range{FAKE_GO}"),
            }],
        )
    }

    #[test]
    fn text_shows_outside_control_characters_escaped() {
        let r = hostile_report();
        for coloured in [false, true] {
            let out = text(&r, &RenderOptions { color: coloured });
            let out = if coloured { strip_ansi(&out) } else { out };
            // The only escapes left are the renderer's own colours.
            assert!(!out.contains('\x1b'), "raw escape in:\n{out}");
            assert!(!out.contains('\r'), "raw carriage return in:\n{out}");
            assert!(!out.contains('\u{202e}'), "raw bidi override in:\n{out}");
            assert!(!out.contains('\x07'), "raw bell in:\n{out}");
            // One finding row, not two: the rule id's newline is shown.
            let rows: Vec<&str> = out.lines().filter(|l| l.contains("forged.row")).collect();
            assert_eq!(rows.len(), 1, "{out}");
            assert!(
                rows[0].starts_with("    no-go  rule.one\\n    go    forged.row"),
                "{out}"
            );
            // The message keeps its own line break, indented under it.
            let second = out.lines().find(|l| l.contains("second line")).unwrap();
            assert!(second.starts_with("          "), "{out}");
            assert_eq!(second.trim_start(), "second line\\rof it");
        }
        let plain = plain(&r);
        assert!(
            plain.starts_with("NO-GO  orders\\u{1b}[2K\\r\\u{1b}[1;32mGO"),
            "{plain}"
        );
        assert!(plain.contains("commit abc\\u{202e}def"), "{plain}");
        assert!(
            plain.contains("data missing: git\\u{1b}[2K — bad range"),
            "{plain}"
        );
        // Markdown shows them escaped too (it is printed to terminals); JSON
        // escapes every control character itself.
        let md = markdown(&r);
        assert!(!md.contains('\x1b') && !md.contains('\r'), "{md}");
        let json = json(&r);
        assert!(!json.contains('\x1b') && !json.contains('\r'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back["findings"][0]["rule"],
            "rule.one\n    go    forged.row  everything passed"
        );
    }

    #[test]
    fn small_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(48_000_000), "48,000,000");
        assert_eq!(duration(640), "640 µs");
        assert_eq!(duration(2_310), "2.3 ms");
        assert_eq!(duration(1_500_000), "1.50 s");
    }
}
