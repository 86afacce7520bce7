//! How a watch shows itself: JSON Lines (`--format json`), plain lines
//! (not a terminal), or a live view with a progress bar (a terminal); and
//! the final report with the playbooks' comparison table.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shipgate_model::Verdict;

use shipgate_core::escape::escape_line;

use super::Observer;
use super::event::PolicyFailure;
use super::event::{Concern, Event, Interval, MetricValue, PhaseStart, Summary, WatchEnd};
use super::hook::{HookRun, HookStatus};

/// `--format json`: one JSON object per line, flushed as it happens.
pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    /// Streams to `out`.
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }
}

impl<W: Write> Observer for JsonLines<W> {
    fn event(&mut self, event: &Event) {
        if let Ok(line) = serde_json::to_string(event) {
            let _ = writeln!(self.out, "{}", shipgate_core::redact::scrub(&line));
            let _ = self.out.flush();
        }
    }
}

impl<W: Write> std::fmt::Debug for JsonLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonLines")
    }
}

/// Plain lines, for logs and pipes.
pub struct Lines<W: Write> {
    out: W,
}

impl<W: Write> Lines<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Lines { out }
    }
}

impl<W: Write> Observer for Lines<W> {
    fn event(&mut self, event: &Event) {
        let text = match event {
            Event::End(summary) => format!("\n{}", final_report(summary)),
            other => line(other),
        };
        let _ = write!(self.out, "{}", shipgate_core::redact::scrub(&text));
        let _ = self.out.flush();
    }
}

impl<W: Write> std::fmt::Debug for Lines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lines")
    }
}

/// The live view on a terminal: lines for what happened, and below them a
/// progress bar for the phase's hold with the latest metrics and decision.
#[derive(Debug)]
pub struct Live {
    bar: ProgressBar,
    hold: Duration,
    head: String,
    status: String,
}

impl Live {
    /// A live view drawn on stdout.
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template("{prefix} [{bar:30.cyan/blue}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ ");
        bar.set_style(style);
        Live {
            bar,
            hold: Duration::from_secs(1),
            head: "starting".into(),
            status: String::new(),
        }
    }

    fn redraw(&self, in_phase: Duration) {
        let fraction = (in_phase.as_secs_f64() / self.hold.as_secs_f64().max(1e-9)).min(1.0);
        self.bar.set_position((fraction * 1000.0) as u64);
        let mut msg = format!(
            "{} / {}",
            clock(in_phase),
            humantime::format_duration(self.hold)
        );
        if in_phase > self.hold {
            msg.push_str(" (extended: waiting for the criteria)");
        }
        if !self.status.is_empty() {
            msg.push('\n');
            msg.push_str(&self.status);
        }
        self.bar.set_prefix(self.head.clone());
        self.bar.set_message(msg);
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Observer for Live {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Phase(p) => {
                self.hold = Duration::from_secs(p.hold_seconds.max(1));
                self.head = if p.phase > p.phases {
                    format!("verify   {:>3}%", p.percent)
                } else {
                    format!("phase {}/{} {:>3}%", p.phase, p.phases, p.percent)
                };
                self.status.clear();
                self.bar
                    .println(shipgate_core::redact::scrub(line(event).trim_end()));
                self.redraw(Duration::ZERO);
            }
            Event::Interval(i) => {
                self.status = shipgate_core::redact::scrub(&live_status(i)).into_owned();
                self.bar
                    .println(shipgate_core::redact::scrub(&first_line(i)));
                self.redraw(Duration::from_secs(i.seconds_in_phase));
            }
            Event::End(summary) => {
                self.bar.finish_and_clear();
                let mut out = std::io::stdout().lock();
                let _ = write!(
                    out,
                    "\n{}",
                    shipgate_core::redact::scrub(&final_report(summary))
                );
                let _ = out.flush();
            }
            other => self
                .bar
                .println(shipgate_core::redact::scrub(line(other).trim_end())),
        }
    }

    fn tick(&mut self, in_phase: Duration) {
        self.redraw(in_phase);
    }
}

/// The block under the live view's bar: the metrics, then the last
/// decision's concerns.
fn live_status(i: &Interval) -> String {
    let mut s = String::new();
    let width = i.metrics.iter().map(|m| m.name.len()).max().unwrap_or(0);
    for m in &i.metrics {
        let _ = writeln!(
            s,
            "  {:width$}  canary {:>10}  baseline {:>10}  {}",
            m.name,
            value(m.canary, m.unit.as_deref()),
            value(m.baseline, m.unit.as_deref()),
            mark(m.verdict),
        );
    }
    let _ = write!(s, "  last decision: {}", verdict_word(i.verdict));
    for c in i.concerns.iter().take(4) {
        let _ = write!(s, "\n    {}", concern(c));
    }
    for f in &i.failed {
        let _ = write!(s, "\n    {}", failure(f));
    }
    s
}

/// `HOLD canary.latency: ...`, on one line; an advisory policy's ends
/// `(advisory `name`: not counted)`.
fn concern(c: &Concern) -> String {
    let advisory = if c.advisory {
        format!(" (advisory `{}`: not counted)", escape_line(&c.policy))
    } else {
        String::new()
    };
    format!(
        "{} {}: {}{advisory}",
        verdict_word(c.verdict),
        escape_line(&c.rule),
        escape_line(&c.message)
    )
}

/// `HOLD policy `canary` failed (trap): ...`, on one line.
fn failure(f: &PolicyFailure) -> String {
    let message = f.message.lines().next().unwrap_or_default();
    format!(
        "{} policy `{}` failed ({}): {}",
        verdict_word(Verdict::Hold),
        escape_line(&f.policy),
        f.kind,
        escape_line(message)
    )
}

/// One event as plain text, ending in a newline.
pub fn line(event: &Event) -> String {
    match event {
        Event::Start(s) => format!(
            "watching {} {} in {}: {} ({}), an interval every {}{}\n",
            s.service,
            s.version,
            s.environment,
            s.plan,
            s.plan_source,
            humantime::format_duration(Duration::from_millis((s.interval_seconds * 1000.0) as u64)),
            if s.dry_run {
                "; dry run: no hook runs"
            } else {
                ""
            },
        ),
        Event::Phase(p) => phase_line(p),
        Event::Hook(h) => hook_line(h),
        Event::Interval(i) => {
            let mut s = first_line(i);
            s.push('\n');
            if !i.metrics.is_empty() {
                s.push_str("    ");
                s.push_str(
                    &i.metrics
                        .iter()
                        .map(metric_pair)
                        .collect::<Vec<_>>()
                        .join(" · "),
                );
                s.push('\n');
            }
            for c in &i.concerns {
                let _ = writeln!(s, "    {}", concern(c));
            }
            for f in &i.failed {
                let _ = writeln!(s, "    {}", failure(f));
            }
            s
        }
        Event::End(summary) => final_report(summary),
    }
}

/// `phase 2/3: 50% of traffic, hold 10m`; a phase or step that asks the
/// verify stage says so, with its timeout.
fn phase_line(p: &PhaseStart) -> String {
    let hold = humantime::format_duration(Duration::from_secs(p.hold_seconds));
    let timeout = p.timeout_seconds.map_or_else(String::new, |t| {
        format!(
            ", then up to {} more while it holds",
            humantime::format_duration(Duration::from_secs(t))
        )
    });
    if p.phase > p.phases {
        format!(
            "verify after phase {}: {}% of traffic stays, window {hold}{timeout}\n",
            p.phases, p.percent
        )
    } else if p.stage == shipgate_model::Stage::Verify {
        format!(
            "phase {}/{}: {}% of traffic, verify over {hold}{timeout}\n",
            p.phase, p.phases, p.percent
        )
    } else {
        format!(
            "phase {}/{}: {}% of traffic, hold {hold}\n",
            p.phase, p.phases, p.percent
        )
    }
}

/// `  interval 3 · 50% · 1m00s of 10m · GO · log #12`; a verify interval
/// says `verify` after its share.
fn first_line(i: &Interval) -> String {
    let mut s = format!(
        "  interval {} · {}%{} · {} of {} · {}",
        i.number,
        i.percent,
        if i.stage == shipgate_model::Stage::Verify {
            " · verify"
        } else {
            ""
        },
        clock(Duration::from_secs(i.seconds_in_phase)),
        humantime::format_duration(Duration::from_secs(i.hold_seconds)),
        verdict_word(i.verdict)
    );
    if i.data_missing {
        s.push_str(" · data missing");
    }
    if let Some(n) = i.log_entry {
        let _ = write!(s, " · log #{n}");
    }
    s
}

fn metric_pair(m: &MetricValue) -> String {
    let unit = m.unit.as_deref();
    format!(
        "{} {} vs {}{}",
        m.name,
        value(m.canary, unit),
        value(m.baseline, unit),
        marked(m.verdict)
    )
}

fn hook_line(h: &HookRun) -> String {
    let what = format!("{} hook", h.hook.as_str());
    match &h.status {
        HookStatus::NotConfigured => format!("  {what}: none configured\n"),
        HookStatus::DryRun => format!("  {what}: would run `{}` (dry run)\n", h.command),
        status => {
            let mut s = format!(
                "  {what}: `{}` → {status} in {}\n",
                h.command,
                clock_ms(h.millis)
            );
            if !status.succeeded() {
                for line in h.stderr.lines().chain(h.stdout.lines()).take(5) {
                    let _ = writeln!(s, "    | {}", escape_line(line));
                }
            }
            s
        }
    }
}

/// The report at the end: the outcome, where the rollout stood, the
/// rollback hook and the comparison table.
pub fn final_report(s: &Summary) -> String {
    let mut out = String::new();
    let head = match s.outcome {
        WatchEnd::Completed if s.verified => "ROLLOUT COMPLETE AND VERIFIED".to_owned(),
        WatchEnd::Completed => "ROLLOUT COMPLETE".to_owned(),
        WatchEnd::RolledBack => "ROLLED BACK".to_owned(),
        WatchEnd::RollbackFailed => "ROLLBACK DECIDED, BUT THE ROLLBACK HOOK FAILED".to_owned(),
        WatchEnd::Unverified => "NOT VERIFIED".to_owned(),
        WatchEnd::Interrupted => "STOPPED".to_owned(),
        WatchEnd::Failed => "FAILED".to_owned(),
    };
    let _ = writeln!(
        out,
        "{head} at {} ({}% of traffic) after {} {}, {}",
        super::event::whereabouts(s.phase, s.phases),
        s.percent,
        s.intervals,
        if s.intervals == 1 {
            "interval"
        } else {
            "intervals"
        },
        clock(Duration::from_secs(s.elapsed_seconds))
    );
    let _ = writeln!(out, "  {}", escape_line(&s.reason));
    if let Some(hook) = &s.rollback_hook {
        out.push_str(&hook_line(hook));
    }
    if let Some(advice) = &s.advice {
        let _ = writeln!(out, "  {advice}");
    }
    if !s.table.is_empty() {
        out.push('\n');
        out.push_str(&comparison_table(s));
    }
    let _ = writeln!(out, "\nexit {}", s.exit_code);
    out
}

/// The playbooks' comparison table, as Markdown: each metric's baseline,
/// then its canary value in each phase reached, marked ✅ passed, ⚠️ held
/// or ❌ breached by the findings on it.
pub fn comparison_table(s: &Summary) -> String {
    let mut out = String::from("| Metric | Baseline |");
    for (phase, percent) in &s.columns {
        if *phase > s.phases {
            let _ = write!(out, " Verify ({percent}%) |");
        } else {
            let _ = write!(out, " Phase {phase} ({percent}%) |");
        }
    }
    out.push_str("\n|---|--:|");
    for _ in &s.columns {
        out.push_str("--:|");
    }
    out.push('\n');
    for row in &s.table {
        let unit = row.unit.as_deref();
        let _ = write!(out, "| {} | {} |", row.metric, value(row.baseline, unit));
        for cell in &row.phases {
            let _ = write!(
                out,
                " {}{} |",
                value(cell.canary, unit),
                marked(cell.verdict)
            );
        }
        out.push('\n');
    }
    out
}

/// The mark after a value: a space and [`mark`], or nothing.
fn marked(verdict: Option<Verdict>) -> String {
    match verdict {
        Some(_) => format!(" {}", mark(verdict)),
        None => String::new(),
    }
}

/// ✅ go, ⚠️ hold, ❌ no-go or rollback; blank when no finding judged it.
fn mark(verdict: Option<Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::Go) => "✅",
        Some(Verdict::Hold) => "⚠️",
        Some(Verdict::NoGo | Verdict::Rollback) => "❌",
        None => "",
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Go => "GO",
        Verdict::Hold => "HOLD",
        Verdict::NoGo => "NO-GO",
        Verdict::Rollback => "ROLLBACK",
    }
}

/// A metric value in its unit: ratios as percentages, seconds as
/// milliseconds below a second; `—` when missing.
pub fn value(v: Option<f64>, unit: Option<&str>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    match unit {
        Some("ratio") => format!("{}%", trim(v * 100.0, 2)),
        Some("seconds") if v.abs() < 1.0 => format!("{} ms", trim(v * 1000.0, 1)),
        Some("seconds") => format!("{} s", trim(v, 2)),
        Some(u) => format!("{} {u}", trim(v, 3)),
        None => trim(v, 3),
    }
}

/// `v` with at most `places` decimals, trailing zeros dropped.
fn trim(v: f64, places: usize) -> String {
    let s = format!("{v:.places$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// `1m05s`, `42s`.
fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

fn clock_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::event::{Cell, Row};

    #[test]
    fn values_read_in_their_units() {
        assert_eq!(value(Some(0.0031), Some("ratio")), "0.31%");
        assert_eq!(value(Some(0.02), Some("ratio")), "2%");
        assert_eq!(value(Some(0.245), Some("seconds")), "245 ms");
        assert_eq!(value(Some(1.5), Some("seconds")), "1.5 s");
        assert_eq!(value(Some(12.0), Some("requests/s")), "12 requests/s");
        assert_eq!(value(None, Some("ratio")), "—");
    }

    #[test]
    fn the_comparison_table_marks_each_phase() {
        let cell = |canary, verdict| Cell { canary, verdict };
        let summary = Summary {
            outcome: WatchEnd::RolledBack,
            exit_code: shipgate_engine::exit::ExitCode::Rollback,
            reason: "canary.error-rate: the canary's error rate is 5% (> 2%)".into(),
            phase: 2,
            phases: 3,
            percent: 50,
            verified: false,
            intervals: 5,
            elapsed_seconds: 75,
            columns: vec![(1, 10), (2, 50)],
            table: vec![
                Row {
                    metric: "error_rate".into(),
                    unit: Some("ratio".into()),
                    baseline: Some(0.003),
                    phases: vec![
                        cell(Some(0.002), Some(Verdict::Go)),
                        cell(Some(0.05), Some(Verdict::Rollback)),
                    ],
                },
                Row {
                    metric: "latency_p95".into(),
                    unit: Some("seconds".into()),
                    baseline: Some(0.25),
                    phases: vec![
                        cell(Some(0.245), Some(Verdict::Go)),
                        cell(Some(0.3), Some(Verdict::Hold)),
                    ],
                },
                Row {
                    metric: "request_rate".into(),
                    unit: Some("requests/s".into()),
                    baseline: None,
                    phases: vec![cell(None, None), cell(Some(9.5), None)],
                },
            ],
            rollback_hook: None,
            advice: Some("no rollback hook is configured: roll back by hand".into()),
        };
        let text = final_report(&summary);
        assert!(
            text.starts_with(
                "ROLLED BACK at phase 2 of 3 (50% of traffic) after 5 intervals, 1m15s\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| Metric | Baseline | Phase 1 (10%) | Phase 2 (50%) |\n\
             |---|--:|--:|--:|\n\
             | error_rate | 0.3% | 0.2% ✅ | 5% ❌ |\n\
             | latency_p95 | 250 ms | 245 ms ✅ | 300 ms ⚠️ |\n\
             | request_rate | — | — | 9.5 requests/s |\n"
            ),
            "{text}"
        );
        assert!(text.contains("roll back by hand"), "{text}");
        assert!(text.ends_with("exit 3\n"), "{text}");
    }

    /// The verify step after the last phase reads as such: its phase line,
    /// its intervals, its column of the table and where the watch ended.
    #[test]
    fn the_verify_step_reads_as_verify() {
        use crate::watch::event::PhaseStart;
        use shipgate_model::Stage;
        let step = PhaseStart {
            phase: 3,
            stage: Stage::Verify,
            phases: 2,
            percent: 100,
            hold_seconds: 120,
            timeout_seconds: Some(900),
        };
        assert_eq!(
            line(&Event::Phase(step.clone())),
            "verify after phase 2: 100% of traffic stays, window 2m, then up to 15m more \
             while it holds\n"
        );
        let only = PhaseStart {
            phase: 1,
            phases: 1,
            hold_seconds: 900,
            ..step
        };
        assert_eq!(
            line(&Event::Phase(only)),
            "phase 1/1: 100% of traffic, verify over 15m, then up to 15m more while it holds\n"
        );
        let summary = Summary {
            outcome: WatchEnd::Unverified,
            exit_code: shipgate_engine::exit::ExitCode::Hold,
            reason: "the verify stage did not pass within 17m: verify.probe-slow: …".into(),
            phase: 3,
            phases: 2,
            percent: 100,
            verified: false,
            intervals: 20,
            elapsed_seconds: 1_200,
            columns: vec![(1, 10), (2, 100), (3, 100)],
            table: vec![Row {
                metric: "up".into(),
                unit: Some("ratio".into()),
                baseline: None,
                phases: vec![
                    Cell {
                        canary: Some(1.0),
                        verdict: None,
                    },
                    Cell {
                        canary: Some(1.0),
                        verdict: None,
                    },
                    Cell {
                        canary: Some(1.0),
                        verdict: Some(Verdict::Go),
                    },
                ],
            }],
            rollback_hook: None,
            advice: None,
        };
        let text = final_report(&summary);
        assert!(
            text.starts_with(
                "NOT VERIFIED at the verify step after phase 2 (100% of traffic) after 20 \
                 intervals, 20m00s\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| Metric | Baseline | Phase 1 (10%) | Phase 2 (100%) | Verify (100%) |\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("exit 4\n"), "{text}");
    }
}
