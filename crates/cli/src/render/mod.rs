//! Rendering a [`Report`] for people: aligned (optionally coloured) text for
//! a terminal ([`text`]) and Markdown for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY` ([`markdown`], with the deployment checklist of
//! [`checklist`]). The JSON form is the engine's
//! ([`shipgate_engine::report::json`]): it is also the decision log's stored
//! format.

mod checklist;
mod markdown;
mod text;

pub use markdown::markdown;
pub use text::text;

pub use shipgate_core::escape::{escape_line, escape_lines};
pub use shipgate_engine::report::json::render as json;

use std::io::IsTerminal as _;

use shipgate_core::config::Format;
use shipgate_model::{Stage, Verdict};

use shipgate_engine::report::{Report, ReportedFinding};

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

/// The report as a pull-request comment or step summary: [`markdown`] with
/// the deployment checklist drawn from `snapshot`; every secret masked.
pub fn markdown_summary(report: &Report, snapshot: &shipgate_model::Snapshot) -> String {
    redact(checklist::markdown_summary(report, snapshot))
}

/// `text` with every secret masked.
pub(super) fn redact(text: String) -> String {
    match shipgate_core::redact::scrub(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(scrubbed) => scrubbed,
    }
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

/// `NO-GO`, `ROLLBACK`, ...
pub(super) fn shout(verdict: Verdict) -> String {
    verdict.as_str().to_uppercase()
}

/// How a report marks an advisory policy's finding.
pub(super) const ADVISORY: &str = "(advisory: not counted)";

/// What to do next, in a few words.
pub(super) fn next_step(stage: Stage, verdict: Verdict) -> &'static str {
    match (verdict, stage) {
        (Verdict::Go, Stage::Canary) => "promote the rollout to its next step",
        (Verdict::Go, Stage::Risk) => "no blocking risk found",
        (Verdict::Go, Stage::Gate) => "clear to deploy",
        (Verdict::Go, Stage::Verify) => "the deployment is healthy: keep it",
        (Verdict::Hold, Stage::Canary) => "keep the rollout at its current step and check again",
        (Verdict::Hold, Stage::Verify) => "not verified yet: keep watching, then verify again",
        (Verdict::Hold, _) => "wait for more evidence, then run the gate again",
        (Verdict::NoGo, _) => "do not deploy until the blocking results below are resolved",
        (Verdict::Rollback, _) => "roll back now: revert to the previous version",
    }
}

/// The number of characters `s` takes on a terminal (close enough: every
/// character counts as one column).
pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}

/// Policies' names and their findings, grouped in the order the findings
/// come (enforced policies first).
pub(super) fn findings_by_policy(report: &Report) -> Vec<(&str, Vec<&ReportedFinding>)> {
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
pub(super) fn policy_counts(report: &Report) -> String {
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

/// What an exception loosens, in words: `policy canary, rule canary.error-rate`,
/// for service `checkout` in `production`.
pub(super) fn waived(w: &shipgate_core::config::waivers::Waiver) -> String {
    let mut text = format!("policy {}", w.policy);
    if let Some(rule) = &w.rule {
        text.push_str(&format!(", rule {rule}"));
    }
    if let Some(service) = &w.service {
        text.push_str(&format!(", service {service}"));
    }
    if let Some(environment) = &w.environment {
        text.push_str(&format!(", in {environment}"));
    }
    text
}

/// Who signed a bundle, for a report: the verified key ids, or that its
/// signatures were not checked (no trust file).
pub(super) fn signed_by(bundle: &shipgate_core::config::BundleOrigin) -> String {
    if bundle.signers.is_empty() {
        "signatures not checked: no [trust] file".to_owned()
    } else {
        format!("signed by {}", bundle.signers.join(", "))
    }
}

/// `850 µs`, `12.4 ms`, `1.20 s`.
pub(super) fn duration(micros: u64) -> String {
    if micros < 1_000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.1} ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2} s", micros as f64 / 1_000_000.0)
    }
}

/// `1,204,331`.
pub(super) fn thousands(n: u64) -> String {
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

#[cfg(test)]
mod tests {
    use shipgate_core::config::{Mode, OnError};
    use shipgate_engine::report::{
        Failure, FailureKind, PolicyOutcome, PolicyReport, Subject, Usage,
    };
    use shipgate_model::{Decision, Finding, Gap, Requirement, RiskLevel, RolloutStep};

    use super::markdown::{md_code, md_text};
    use super::*;

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
            bundle: None,
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
            bundles: Vec::new(),
            exceptions: Vec::new(),
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
            bundle: None,
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
            bundle: None,
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
            assert_eq!(v["exit_code"], r.exit_code().code());
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
