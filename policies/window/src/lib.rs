//! Shipgate built-in policy `window`: deploy timing.
//!
//! It reads only the deployment section: `requested_at` shifted into the
//! organisation's time zone (`utc_offset_minutes`), the deploy `kind` and,
//! for a hotfix, its `severity`. The playbooks it encodes:
//!
//! - no deploys on blocked days, Friday by default, "unless emergency"
//!   (playbook `002`);
//! - change freezes, from their start (inclusive) to their end (exclusive);
//! - optional business hours, and high-traffic periods ("consider scheduling
//!   for low-traffic time", playbook `000`);
//! - hotfix timing by severity (playbooks `001` and `002`): P0 immediately,
//!   P1 within the hour, P2 in a scheduled window, P3 with the next regular
//!   release;
//! - emergencies (P0 and P1 hotfixes by default) and rollbacks are never held
//!   by timing.
//!
//! Hour ranges are local, start inclusive and end exclusive: `10`–`16` is
//! 10:00 to 15:59.

use serde::Deserialize;
use shipgate_sdk::prelude::*;
use shipgate_sdk::{DeployKind, Deployment, Severity, Timestamp};

shipgate_sdk::rules! {
    pub RULE_BLOCKED_DAY = "window.blocked-day" => "the local weekday is in blocked_days (no-go)",
    pub RULE_FREEZE = "window.freeze"
        => "the deploy is requested inside a change freeze (no-go, one per active freeze)",
    pub RULE_OUTSIDE_HOURS = "window.outside-hours"
        => "the local time is outside business_hours (hold)",
    pub RULE_HIGH_TRAFFIC = "window.high-traffic"
        => "the local time is inside a high_traffic period (hold)",
    pub RULE_EMERGENCY_BYPASS = "window.emergency-bypass"
        => "a hotfix with a severity in emergency_severities bypasses every timing rule (go)",
    pub RULE_ROLLBACK_BYPASS = "window.rollback-bypass"
        => "a rollback bypasses every timing rule, with rollbacks_bypass = true (go)",
    pub RULE_P2_OUTSIDE_SCHEDULED_WINDOW = "window.p2-outside-scheduled-window"
        => "a P2 hotfix's local time is outside every scheduled window (hold)",
    pub RULE_P3_NEXT_RELEASE = "window.p3-next-release"
        => "a P3 hotfix waits for the next regular release (hold)",
    pub RULE_SEVERITY_MISSING = "window.severity-missing" => "a hotfix has no severity (hold)",
    pub RULE_TIME_UNKNOWN = "window.time-unknown"
        => "utc_offset_minutes is outside ±1559, so the local time is unknown (hold)",
    pub RULE_OK = "window.ok" => "every timing rule passed (go summary)",
}

/// The `config` table of the `window` policy in `shipgate.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Local weekdays without deploys, lower case (`friday`, `saturday`, …).
    pub blocked_days: Vec<String>,
    /// Local hours that deploys must fall in, every day; unset for none.
    pub business_hours: Option<Hours>,
    /// Change freezes: no deploys from `start` (inclusive) to `end`
    /// (exclusive).
    pub freezes: Vec<Freeze>,
    /// Hotfix severities that bypass blocked days, business hours, freezes,
    /// high traffic and the P2 / P3 timing.
    pub emergency_severities: Vec<Severity>,
    /// Whether rollbacks are never held by timing.
    pub rollbacks_bypass: bool,
    /// The windows a P2 hotfix must fall in.
    pub scheduled_windows: Vec<DayWindow>,
    /// High-traffic periods: deploys hold until they end.
    pub high_traffic: Vec<DayWindow>,
}

/// A local hour range, start inclusive and end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// First hour inside, 0–23.
    pub start_hour: u8,
    /// First hour outside, 1–24.
    pub end_hour: u8,
}

/// A change freeze.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// When it starts (RFC 3339, inclusive).
    pub start: Timestamp,
    /// When it ends (RFC 3339, exclusive).
    pub end: Timestamp,
    /// Why, as the finding names it.
    #[serde(default)]
    pub reason: String,
}

/// Local hours on some weekdays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayWindow {
    /// Weekdays, lower case.
    pub days: Vec<String>,
    /// First hour inside, 0–23.
    pub start_hour: u8,
    /// First hour outside, 1–24.
    pub end_hour: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            blocked_days: vec!["friday".into()],
            business_hours: None,
            freezes: Vec::new(),
            emergency_severities: vec![Severity::P0, Severity::P1],
            rollbacks_bypass: true,
            scheduled_windows: vec![DayWindow {
                days: vec!["tuesday".into(), "wednesday".into(), "thursday".into()],
                start_hour: 10,
                end_hour: 16,
            }],
            high_traffic: Vec::new(),
        }
    }
}

/// The policy.
#[derive(Debug)]
pub struct Window;

impl Policy for Window {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "window",
            "deploy timing: blocked days, freezes, business hours, high traffic and hotfix severity",
        )
        .stages(&[Stage::Gate])
        .reads(&[Section::Deployment])
        .rules(RULES)
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        for (i, day) in config.blocked_days.iter().enumerate() {
            check_day(&format!("blocked_days[{i}]"), day)?;
        }
        if let Some(h) = config.business_hours {
            check_hours("business_hours", h.start_hour, h.end_hour)?;
        }
        for (i, f) in config.freezes.iter().enumerate() {
            if f.end <= f.start {
                return Err(ConfigError::new(
                    format!("freezes[{i}].end"),
                    format!("must be after start {}, got {}", f.start, f.end),
                ));
            }
        }
        for (key, windows) in [
            ("scheduled_windows", &config.scheduled_windows),
            ("high_traffic", &config.high_traffic),
        ] {
            for (i, w) in windows.iter().enumerate() {
                let key = format!("{key}[{i}]");
                if w.days.is_empty() {
                    return Err(ConfigError::new(
                        format!("{key}.days"),
                        "must name at least one weekday",
                    ));
                }
                for (j, day) in w.days.iter().enumerate() {
                    check_day(&format!("{key}.days[{j}]"), day)?;
                }
                check_hours(&key, w.start_hour, w.end_hour)?;
            }
        }
        Ok(())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(stage, snapshot, config))
    }
}

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

/// A lower-case weekday name.
pub fn parse_weekday(name: &str) -> Option<Weekday> {
    DAY_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, day)| *day)
}

fn day_name(day: Weekday) -> &'static str {
    DAY_NAMES
        .iter()
        .find(|(_, d)| *d == day)
        .map_or("?", |(n, _)| n)
}

fn check_day(key: &str, name: &str) -> Result<(), ConfigError> {
    match parse_weekday(name) {
        Some(_) => Ok(()),
        None => Err(ConfigError::new(
            key,
            format!(
                "unknown weekday `{name}`, expected one of: {}",
                DAY_NAMES.map(|(n, _)| n).join(", ")
            ),
        )),
    }
}

fn check_hours(key: &str, start: u8, end: u8) -> Result<(), ConfigError> {
    if start > 23 {
        return Err(ConfigError::new(
            format!("{key}.start_hour"),
            format!("must be an hour in 0..=23, got {start}"),
        ));
    }
    if end > 24 {
        return Err(ConfigError::new(
            format!("{key}.end_hour"),
            format!("must be an hour in 1..=24, got {end}"),
        ));
    }
    if end <= start {
        return Err(ConfigError::new(
            format!("{key}.end_hour"),
            format!(
                "must be after start_hour {start}, got {end} (split a range over midnight in two)"
            ),
        ));
    }
    Ok(())
}

/// Minutes since local midnight.
fn minute_of_day(t: LocalTime) -> u32 {
    u32::from(t.hour) * 60 + u32::from(t.minute)
}

fn in_hours(t: LocalTime, start_hour: u8, end_hour: u8) -> bool {
    (u32::from(start_hour) * 60..u32::from(end_hour) * 60).contains(&minute_of_day(t))
}

fn in_window(t: LocalTime, w: &DayWindow) -> bool {
    w.days.iter().any(|d| parse_weekday(d) == Some(t.weekday))
        && in_hours(t, w.start_hour, w.end_hour)
}

fn hours_text(start: u8, end: u8) -> String {
    format!("{start:02}:00–{end:02}:00")
}

fn window_text(w: &DayWindow) -> String {
    format!(
        "{} {}",
        w.days.join(", "),
        hours_text(w.start_hour, w.end_hour)
    )
}

/// `UTC+01:00`, `UTC-05:30`.
fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// `Friday 15:30 (UTC+01:00)`.
pub fn local_text(t: LocalTime, utc_offset_minutes: i32) -> String {
    format!(
        "{} {:02}:{:02} ({})",
        t.weekday,
        t.hour,
        t.minute,
        offset_text(utc_offset_minutes)
    )
}

fn severities_text(severities: &[Severity]) -> String {
    severities
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("/")
}

/// What the timing rules say about a deploy at this instant: the findings
/// that do not pass (blocked day, freezes, business hours, high traffic, an
/// unknown local time), and what passed, for the `window.ok` message.
struct Timing {
    findings: Vec<Finding>,
    passed: Vec<String>,
}

fn timing(d: &Deployment, local: Option<LocalTime>, config: &Config) -> Timing {
    let mut findings = Vec::new();
    let mut passed = Vec::new();

    let active: Vec<&Freeze> = config
        .freezes
        .iter()
        .filter(|f| f.start <= d.requested_at && d.requested_at < f.end)
        .collect();
    for f in &active {
        let reason = if f.reason.trim().is_empty() {
            "change freeze".to_owned()
        } else {
            format!("change freeze: {}", f.reason.trim())
        };
        findings.push(
            Finding::no_go(RULE_FREEZE, format!("{reason} (until {})", f.end)).evidence(
                d.requested_at,
                format!("before {} or from {}", f.start, f.end),
            ),
        );
    }
    if active.is_empty() && !config.freezes.is_empty() {
        passed.push("no freeze".to_owned());
    }

    let Some(t) = local else {
        findings.push(
            Finding::hold(
                RULE_TIME_UNKNOWN,
                format!(
                    "the local time is unknown: utc offset of {} minutes is out of range",
                    d.utc_offset_minutes
                ),
            )
            .evidence(
                format!("{} minutes", d.utc_offset_minutes),
                "between -1559 and 1559 minutes",
            ),
        );
        return Timing { findings, passed };
    };
    let when = local_text(t, d.utc_offset_minutes);

    let blocked: Vec<&str> = config.blocked_days.iter().map(String::as_str).collect();
    if blocked.iter().any(|b| parse_weekday(b) == Some(t.weekday)) {
        let unless = if config.emergency_severities.is_empty() {
            String::new()
        } else {
            format!(
                " (unless a {} hotfix)",
                severities_text(&config.emergency_severities)
            )
        };
        findings.push(
            Finding::no_go(
                RULE_BLOCKED_DAY,
                format!("no deploys on {}{unless}", day_name(t.weekday)),
            )
            .evidence(&when, format!("not {}", blocked.join(", "))),
        );
    } else if !blocked.is_empty() {
        passed.push("not a blocked day".to_owned());
    }

    if let Some(h) = config.business_hours {
        let expected = hours_text(h.start_hour, h.end_hour);
        if in_hours(t, h.start_hour, h.end_hour) {
            passed.push(format!("inside business hours {expected}"));
        } else {
            findings.push(
                Finding::hold(
                    RULE_OUTSIDE_HOURS,
                    format!("outside business hours {expected}: wait for them"),
                )
                .evidence(&when, expected),
            );
        }
    }

    match config.high_traffic.iter().find(|w| in_window(t, w)) {
        Some(w) => findings.push(
            Finding::hold(
                RULE_HIGH_TRAFFIC,
                format!(
                    "high-traffic period {}: schedule for low-traffic time",
                    window_text(w)
                ),
            )
            .evidence(&when, format!("outside {}", window_text(w))),
        ),
        None if !config.high_traffic.is_empty() => {
            passed.push("not a high-traffic period".to_owned());
        }
        None => {}
    }
    Timing { findings, passed }
}

fn rule_names(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| f.rule.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `go` finding for a deploy that timing does not hold, naming what it
/// bypasses.
fn bypass(rule: &str, who: String, bypassed: &[Finding]) -> Finding {
    if bypassed.is_empty() {
        Finding::pass(rule, format!("{who}: timing rules do not apply"))
    } else {
        Finding::pass(rule, format!("{who}: bypasses {}", rule_names(bypassed)))
    }
}

/// How soon an emergency hotfix ships (playbooks `001` and `002`).
fn urgency(severity: Severity) -> &'static str {
    match severity {
        Severity::P0 => "immediately",
        Severity::P1 => "within the hour",
        _ => "now",
    }
}

/// The rule itself, as a plain function (benchmarked natively against the
/// component).
pub fn decide(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Decision {
    let d = &snapshot.deployment;
    let local = local_time(d);
    let Timing {
        mut findings,
        mut passed,
    } = timing(d, local, config);
    let when = local.map(|t| local_text(t, d.utc_offset_minutes));

    match (d.kind, d.severity) {
        (DeployKind::Rollback, _) if config.rollbacks_bypass => {
            return Decision::from_findings(vec![bypass(
                RULE_ROLLBACK_BYPASS,
                "rollback".to_owned(),
                &findings,
            )]);
        }
        (DeployKind::Hotfix, Some(s)) if config.emergency_severities.contains(&s) => {
            return Decision::from_findings(vec![bypass(
                RULE_EMERGENCY_BYPASS,
                format!("{s} hotfix is an emergency, deploy {}", urgency(s)),
                &findings,
            )]);
        }
        (DeployKind::Hotfix, None) => findings.push(Finding::hold(
            RULE_SEVERITY_MISSING,
            "hotfix without a severity: set P0–P3 to choose its timing",
        )),
        (DeployKind::Hotfix, Some(Severity::P0)) => passed.push("P0 hotfix: immediate".into()),
        (DeployKind::Hotfix, Some(Severity::P1)) => {
            passed.push("P1 hotfix: within the hour".into());
        }
        (DeployKind::Hotfix, Some(Severity::P2)) => {
            // An unknown local time is already a `window.time-unknown` hold.
            if let (Some(t), Some(when)) = (local, &when) {
                let windows: Vec<String> =
                    config.scheduled_windows.iter().map(window_text).collect();
                if config.scheduled_windows.iter().any(|w| in_window(t, w)) {
                    passed.push("P2 hotfix inside a scheduled window".into());
                } else {
                    let expected = if windows.is_empty() {
                        "a scheduled window (none configured)".to_owned()
                    } else {
                        windows.join("; ")
                    };
                    findings.push(
                        Finding::hold(
                            RULE_P2_OUTSIDE_SCHEDULED_WINDOW,
                            "P2 hotfix outside a scheduled window: deploy in the next one",
                        )
                        .evidence(when, expected),
                    );
                }
            }
        }
        (DeployKind::Hotfix, Some(Severity::P3)) => findings.push(Finding::hold(
            RULE_P3_NEXT_RELEASE,
            "P3 hotfix: ship with the next regular release",
        )),
        _ => {}
    }

    if findings.is_empty() {
        let when = when.unwrap_or_else(|| d.requested_at.to_string());
        let message = if passed.is_empty() {
            format!("{when}: no timing rule applies")
        } else {
            format!("{when}: {}", passed.join(", "))
        };
        findings.push(Finding::pass(RULE_OK, message));
    }
    Decision::from_findings(findings)
}

shipgate_sdk::export_policy!(Window);

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_sdk::parse_config;
    use shipgate_sdk::testing::evaluate;

    // 2026-11-20 is a Friday.
    const FRIDAY: &str = "2026-11-20";
    const THURSDAY: &str = "2026-11-19";
    const TUESDAY: &str = "2026-11-17";

    fn snapshot(at: &str, offset: i32, kind: DeployKind, severity: Option<Severity>) -> Snapshot {
        Snapshot::new(Deployment {
            service: "api".into(),
            environment: "production".into(),
            version: "2".into(),
            commit: "abc".into(),
            base_commit: None,
            pull_request: None,
            kind,
            severity,
            requested_at: at.parse().unwrap(),
            utc_offset_minutes: offset,
            actor: None,
        })
    }

    fn regular(at: &str, offset: i32) -> Snapshot {
        snapshot(at, offset, DeployKind::Regular, None)
    }

    fn hotfix(at: &str, severity: Option<Severity>) -> Snapshot {
        snapshot(at, 0, DeployKind::Hotfix, severity)
    }

    fn run(s: &Snapshot, config: &str) -> Decision {
        evaluate::<Window>(Stage::Gate, s, config).unwrap()
    }

    fn rules(d: &Decision) -> Vec<&str> {
        d.findings.iter().map(|f| f.rule.as_str()).collect()
    }

    fn evidence(f: &Finding) -> (&str, &str) {
        let e = f.evidence.as_ref().unwrap();
        (e.observed.as_str(), e.expected.as_str())
    }

    #[test]
    fn friday_is_blocked_and_thursday_is_not() {
        let d = run(&regular(&format!("{FRIDAY}T14:30:00Z"), 60), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [RULE_BLOCKED_DAY]);
        assert_eq!(
            d.findings[0].message,
            "no deploys on friday (unless a P0/P1 hotfix)"
        );
        assert_eq!(
            evidence(&d.findings[0]),
            ("Friday 15:30 (UTC+01:00)", "not friday")
        );

        let d = run(&regular(&format!("{THURSDAY}T14:30:00Z"), 60), "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(rules(&d), [RULE_OK]);
        assert_eq!(
            d.findings[0].message,
            "Thursday 15:30 (UTC+01:00): not a blocked day"
        );
    }

    #[test]
    fn blocked_day_boundaries_are_local_midnight() {
        // Thursday 23:59 local (UTC+01:00) goes; Friday 00:00 local does not.
        assert_eq!(
            run(&regular(&format!("{THURSDAY}T22:59:00Z"), 60), "{}").verdict,
            Verdict::Go
        );
        let d = run(&regular(&format!("{THURSDAY}T23:00:00Z"), 60), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(evidence(&d.findings[0]).0, "Friday 00:00 (UTC+01:00)");
        // Friday 23:30 UTC is Saturday 01:30 in UTC+02:00 ...
        let late = regular(&format!("{FRIDAY}T23:30:00Z"), 120);
        assert_eq!(run(&late, "{}").verdict, Verdict::Go);
        let d = run(&late, r#"{"blocked_days": ["saturday", "sunday"]}"#);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            evidence(&d.findings[0]),
            ("Saturday 01:30 (UTC+02:00)", "not saturday, sunday")
        );
        // ... and Thursday 23:30 in UTC-05:00 when it is Friday 04:30 UTC.
        let early = regular(&format!("{FRIDAY}T04:30:00Z"), -300);
        let d = run(&early, "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "Thursday 23:30 (UTC-05:00): not a blocked day"
        );
        // No blocked days at all.
        let d = run(
            &regular(&format!("{FRIDAY}T12:00:00Z"), 0),
            r#"{"blocked_days": []}"#,
        );
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "Friday 12:00 (UTC+00:00): no timing rule applies"
        );
    }

    #[test]
    fn hotfix_vs_regular_on_a_friday() {
        let at = format!("{FRIDAY}T15:00:00Z");
        assert_eq!(run(&regular(&at, 0), "{}").verdict, Verdict::NoGo);
        for s in [Severity::P0, Severity::P1] {
            let d = run(&hotfix(&at, Some(s)), "{}");
            assert_eq!(d.verdict, Verdict::Go);
            assert_eq!(rules(&d), [RULE_EMERGENCY_BYPASS]);
            assert_eq!(
                d.findings[0].message,
                format!(
                    "{s} hotfix is an emergency, deploy {}: bypasses window.blocked-day",
                    urgency(s)
                )
            );
        }
        // P2 on a Friday: blocked and outside the scheduled windows.
        let d = run(&hotfix(&at, Some(Severity::P2)), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            rules(&d),
            [RULE_BLOCKED_DAY, RULE_P2_OUTSIDE_SCHEDULED_WINDOW]
        );
        // Only P0 is an emergency: P1 is then held by the Friday rule.
        let d = run(
            &hotfix(&at, Some(Severity::P1)),
            r#"{"emergency_severities": ["P0"]}"#,
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [RULE_BLOCKED_DAY]);
        assert_eq!(
            d.findings[0].message,
            "no deploys on friday (unless a P0 hotfix)"
        );
        let d = run(
            &hotfix(&at, Some(Severity::P0)),
            r#"{"emergency_severities": []}"#,
        );
        assert_eq!(d.findings[0].message, "no deploys on friday");
        // A P0 that is not an emergency goes when timing allows.
        let d = run(
            &hotfix(&format!("{TUESDAY}T20:00:00Z"), Some(Severity::P0)),
            r#"{"emergency_severities": []}"#,
        );
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "Tuesday 20:00 (UTC+00:00): not a blocked day, P0 hotfix: immediate"
        );
    }

    #[test]
    fn emergency_without_anything_to_bypass() {
        let d = run(
            &hotfix(&format!("{TUESDAY}T12:00:00Z"), Some(Severity::P0)),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "P0 hotfix is an emergency, deploy immediately: timing rules do not apply"
        );
    }

    #[test]
    fn freezes_start_inclusive_end_exclusive() {
        let config = r#"{"freezes": [
            {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z", "reason": "black friday"},
            {"start": "2026-12-20T00:00:00+01:00", "end": "2027-01-04T00:00:00+01:00", "reason": "holidays"}
        ]}"#;
        let at = |t: &str| run(&regular(t, 60), config);
        assert_eq!(at("2026-12-19T22:59:59Z").verdict, Verdict::Go);
        let d = at("2026-12-19T23:00:00Z");
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [RULE_FREEZE]);
        assert_eq!(
            d.findings[0].message,
            "change freeze: holidays (until 2027-01-03T23:00:00Z)"
        );
        assert_eq!(
            evidence(&d.findings[0]),
            (
                "2026-12-19T23:00:00Z",
                "before 2026-12-19T23:00:00Z or from 2027-01-03T23:00:00Z"
            )
        );
        assert_eq!(at("2027-01-03T22:59:59Z").verdict, Verdict::NoGo);
        let d = at("2027-01-03T23:00:00Z");
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "Monday 00:00 (UTC+01:00): no freeze, not a blocked day"
        );
        // Tuesday 1 December, the first freeze.
        assert_eq!(
            at("2026-12-01T10:00:00Z").findings[0].message,
            "change freeze: black friday (until 2026-12-02T00:00:00Z)"
        );
        // An emergency bypasses it; a P2 hotfix does not.
        let frozen = "2026-12-22T10:00:00Z";
        let d = run(&hotfix(frozen, Some(Severity::P1)), config);
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "P1 hotfix is an emergency, deploy within the hour: bypasses window.freeze"
        );
        let d = run(&hotfix(frozen, Some(Severity::P2)), config);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [RULE_FREEZE]);
        // Without a reason.
        let d = run(
            &regular("2026-12-22T10:00:00Z", 0),
            r#"{"freezes": [{"start": "2026-12-20T00:00:00Z", "end": "2026-12-23T00:00:00Z"}]}"#,
        );
        assert_eq!(
            d.findings[0].message,
            "change freeze (until 2026-12-23T00:00:00Z)"
        );
    }

    #[test]
    fn business_hours_boundaries() {
        let config = r#"{"business_hours": {"start_hour": 9, "end_hour": 17}}"#;
        let at = |t: &str| run(&regular(&format!("{TUESDAY}T{t}Z"), 60), config);
        assert_eq!(at("07:59:00").verdict, Verdict::Hold);
        let d = at("08:00:00");
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "Tuesday 09:00 (UTC+01:00): not a blocked day, inside business hours 09:00–17:00"
        );
        assert_eq!(at("15:59:00").verdict, Verdict::Go);
        let d = at("16:00:00");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [RULE_OUTSIDE_HOURS]);
        assert_eq!(
            evidence(&d.findings[0]),
            ("Tuesday 17:00 (UTC+01:00)", "09:00–17:00")
        );
        // Unset by default.
        assert_eq!(
            run(&regular(&format!("{TUESDAY}T03:00:00Z"), 0), "{}").verdict,
            Verdict::Go
        );
        // End hour 24 covers the last minute of the day.
        let d = run(
            &regular(&format!("{TUESDAY}T23:59:00Z"), 0),
            r#"{"business_hours": {"start_hour": 0, "end_hour": 24}}"#,
        );
        assert_eq!(d.verdict, Verdict::Go);
        // An emergency bypasses them.
        let d = run(
            &hotfix(&format!("{TUESDAY}T03:00:00Z"), Some(Severity::P0)),
            config,
        );
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(rules(&d), [RULE_EMERGENCY_BYPASS]);
    }

    #[test]
    fn high_traffic_holds() {
        let config = r#"{"high_traffic": [{"days": ["monday", "tuesday"], "start_hour": 18, "end_hour": 22}]}"#;
        let at = |t: &str| run(&regular(&format!("{TUESDAY}T{t}Z"), 0), config);
        assert_eq!(at("17:59:00").verdict, Verdict::Go);
        assert!(
            at("17:59:00").findings[0]
                .message
                .ends_with("not a high-traffic period")
        );
        let d = at("18:00:00");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [RULE_HIGH_TRAFFIC]);
        assert_eq!(
            d.findings[0].message,
            "high-traffic period monday, tuesday 18:00–22:00: schedule for low-traffic time"
        );
        assert_eq!(
            evidence(&d.findings[0]),
            (
                "Tuesday 18:00 (UTC+00:00)",
                "outside monday, tuesday 18:00–22:00"
            )
        );
        assert_eq!(at("21:59:00").verdict, Verdict::Hold);
        assert_eq!(at("22:00:00").verdict, Verdict::Go);
        // Another day, same hour.
        let d = run(&regular("2026-11-18T19:00:00Z", 0), config);
        assert_eq!(d.verdict, Verdict::Go);
        let d = run(
            &hotfix(&format!("{TUESDAY}T19:00:00Z"), Some(Severity::P1)),
            config,
        );
        assert_eq!(rules(&d), [RULE_EMERGENCY_BYPASS]);
        assert_eq!(d.verdict, Verdict::Go);
    }

    #[test]
    fn p2_needs_a_scheduled_window() {
        let p2 = |t: &str| run(&hotfix(t, Some(Severity::P2)), "{}");
        let d = p2(&format!("{TUESDAY}T10:00:00Z"));
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            d.findings[0].message,
            "Tuesday 10:00 (UTC+00:00): not a blocked day, P2 hotfix inside a scheduled window"
        );
        assert_eq!(p2(&format!("{TUESDAY}T15:59:00Z")).verdict, Verdict::Go);
        let d = p2(&format!("{TUESDAY}T16:00:00Z"));
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [RULE_P2_OUTSIDE_SCHEDULED_WINDOW]);
        assert_eq!(
            evidence(&d.findings[0]),
            (
                "Tuesday 16:00 (UTC+00:00)",
                "tuesday, wednesday, thursday 10:00–16:00"
            )
        );
        assert_eq!(p2(&format!("{TUESDAY}T09:59:00Z")).verdict, Verdict::Hold);
        // Monday is not a scheduled day.
        assert_eq!(p2("2026-11-16T12:00:00Z").verdict, Verdict::Hold);
        // No windows configured.
        let d = run(
            &hotfix(&format!("{TUESDAY}T12:00:00Z"), Some(Severity::P2)),
            r#"{"scheduled_windows": []}"#,
        );
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(
            evidence(&d.findings[0]).1,
            "a scheduled window (none configured)"
        );
        // P2 as an emergency bypasses the window too.
        let d = run(
            &hotfix(&format!("{TUESDAY}T20:00:00Z"), Some(Severity::P2)),
            r#"{"emergency_severities": ["P0", "P1", "P2"]}"#,
        );
        assert_eq!(rules(&d), [RULE_EMERGENCY_BYPASS]);
    }

    #[test]
    fn p3_waits_for_the_next_release_and_severity_is_required() {
        let d = run(
            &hotfix(&format!("{TUESDAY}T12:00:00Z"), Some(Severity::P3)),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [RULE_P3_NEXT_RELEASE]);
        assert_eq!(
            d.findings[0].message,
            "P3 hotfix: ship with the next regular release"
        );

        let d = run(&hotfix(&format!("{TUESDAY}T12:00:00Z"), None), "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [RULE_SEVERITY_MISSING]);
        // Still blocked on a Friday.
        let d = run(&hotfix(&format!("{FRIDAY}T12:00:00Z"), None), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [RULE_BLOCKED_DAY, RULE_SEVERITY_MISSING]);
        // A regular deploy's severity is ignored.
        let s = snapshot(
            &format!("{TUESDAY}T12:00:00Z"),
            0,
            DeployKind::Regular,
            Some(Severity::P3),
        );
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    }

    #[test]
    fn rollbacks_bypass_unless_configured() {
        let s = snapshot(
            &format!("{FRIDAY}T12:00:00Z"),
            0,
            DeployKind::Rollback,
            None,
        );
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(rules(&d), [RULE_ROLLBACK_BYPASS]);
        assert_eq!(
            d.findings[0].message,
            "rollback: bypasses window.blocked-day"
        );
        let d = run(&s, r#"{"rollbacks_bypass": false}"#);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [RULE_BLOCKED_DAY]);
        let s = snapshot(
            &format!("{TUESDAY}T12:00:00Z"),
            0,
            DeployKind::Rollback,
            None,
        );
        assert_eq!(
            run(&s, "{}").findings[0].message,
            "rollback: timing rules do not apply"
        );
    }

    #[test]
    fn out_of_range_offset_holds() {
        let s = regular(&format!("{TUESDAY}T12:00:00Z"), 100_000);
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [RULE_TIME_UNKNOWN]);
        assert_eq!(
            evidence(&d.findings[0]),
            ("100000 minutes", "between -1559 and 1559 minutes")
        );
        // The limits themselves are fine.
        assert_eq!(
            run(&regular(&format!("{TUESDAY}T12:00:00Z"), 1559), "{}").verdict,
            Verdict::Go
        );
        assert_eq!(
            run(&regular(&format!("{TUESDAY}T12:00:00Z"), 1560), "{}").verdict,
            Verdict::Hold
        );
        assert_eq!(
            run(&regular(&format!("{TUESDAY}T12:00:00Z"), -1559), "{}").verdict,
            Verdict::Go
        );
        // A freeze still applies: it is in UTC.
        let d = run(
            &s,
            r#"{"freezes": [{"start": "2026-11-17T00:00:00Z", "end": "2026-11-18T00:00:00Z", "reason": "audit"}]}"#,
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(rules(&d), [RULE_FREEZE, RULE_TIME_UNKNOWN]);
        // Emergencies and rollbacks do not need the local time.
        let mut s = hotfix(&format!("{TUESDAY}T12:00:00Z"), Some(Severity::P0));
        s.deployment.utc_offset_minutes = 100_000;
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);
        s.deployment.severity = Some(Severity::P2);
        assert_eq!(rules(&run(&s, "{}")), [RULE_TIME_UNKNOWN]);
    }

    #[test]
    fn config_errors_name_the_key() {
        let key = |json: &str| parse_config::<Window>(json).unwrap_err().key;
        assert_eq!(
            key(r#"{"blocked_days": ["friday", "Fri"]}"#),
            "blocked_days[1]"
        );
        assert_eq!(
            key(r#"{"freezes": [
                {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"},
                {"start": "2026-12-24", "end": "2026-12-26T00:00:00Z"}]}"#),
            "freezes[1].start"
        );
        assert_eq!(
            key(
                r#"{"freezes": [{"start": "2026-12-02T00:00:00Z", "end": "2026-12-02T00:00:00Z"}]}"#
            ),
            "freezes[0].end"
        );
        assert_eq!(
            key(r#"{"business_hours": {"start_hour": 17, "end_hour": 9}}"#),
            "business_hours.end_hour"
        );
        assert_eq!(
            key(r#"{"business_hours": {"start_hour": 24, "end_hour": 24}}"#),
            "business_hours.start_hour"
        );
        assert_eq!(
            key(r#"{"business_hours": {"start_hour": 9, "end_hour": 25}}"#),
            "business_hours.end_hour"
        );
        assert_eq!(
            key(r#"{"scheduled_windows": [{"days": [], "start_hour": 9, "end_hour": 17}]}"#),
            "scheduled_windows[0].days"
        );
        assert_eq!(
            key(
                r#"{"high_traffic": [{"days": ["monday", "funday"], "start_hour": 9, "end_hour": 17}]}"#
            ),
            "high_traffic[0].days[1]"
        );
        assert_eq!(
            key(r#"{"high_traffic": [{"days": ["monday"], "start_hour": -1, "end_hour": 17}]}"#),
            "high_traffic[0].start_hour"
        );
        assert_eq!(
            key(r#"{"emergency_severities": ["P4"]}"#),
            "emergency_severities[0]"
        );
        let e = parse_config::<Window>(r#"{"blocked_day": ["friday"]}"#).unwrap_err();
        assert!(e.message.contains("unknown field `blocked_day`"), "{e}");
        let e = parse_config::<Window>(r#"{"blocked_days": ["Fri"]}"#).unwrap_err();
        assert_eq!(
            e.message,
            "unknown weekday `Fri`, expected one of: monday, tuesday, wednesday, thursday, \
             friday, saturday, sunday"
        );
        assert_eq!(parse_config::<Window>("{}").unwrap(), Config::default());
    }

    #[test]
    fn info_and_rules() {
        let info = Window::info();
        assert_eq!(info.name, "window");
        assert_eq!(info.stages, [Stage::Gate]);
        assert_eq!(info.reads, [Section::Deployment]);
        assert_eq!(offset_text(-330), "UTC-05:30");
        assert_eq!(offset_text(0), "UTC+00:00");
    }

    #[test]
    fn info_declares_its_rules() {
        shipgate_sdk::testing::check_rules::<Window>().unwrap();
    }
}
