//! The `[sources]` and `[deployment]` tables: what the collector reads, and
//! what is being deployed. The collector (`shipgate-collect`) gives them
//! their behaviour; here they are the file's schema.

pub mod coverage;
pub mod environment;
pub mod git;
pub mod github;
pub mod http;
pub mod junit;
pub mod prometheus;

use serde::Deserialize;
use shipgate_model::{DeployKind, Severity, Stage};

/// The `[sources]` table: which sources to read, and how.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    /// `[sources.git]`.
    pub git: Option<git::GitConfig>,
    /// `[sources.environment]`.
    pub environment: Option<environment::EnvironmentConfig>,
    /// `[sources.junit]`.
    pub junit: Option<junit::JunitConfig>,
    /// `[sources.coverage]`.
    pub coverage: Option<coverage::CoverageConfig>,
    /// `[sources.github]`.
    pub github: Option<github::GithubConfig>,
    /// `[sources.prometheus]`.
    pub prometheus: Option<prometheus::PrometheusConfig>,
    /// `[sources.http]`: health probes of the deployed service.
    pub http: Option<http::HttpConfig>,
    /// `[sources.clock]`.
    pub clock: ClockConfig,
}

impl SourcesConfig {
    /// The sources to collect for a question: the HTTP health probes run
    /// only for `verify` (they probe the deployed version after a deploy;
    /// before it they would probe the old one, slow every canary interval,
    /// and a snapshot with their results is asked `verify` by default).
    /// With no stage (`shipgate snapshot` without `--stage`), every source
    /// but the probes.
    pub fn for_stage(&self, stage: Option<Stage>) -> SourcesConfig {
        let mut sources = self.clone();
        if stage != Some(Stage::Verify) {
            sources.http = None;
        }
        sources
    }
}

/// `[sources.clock]`: the organisation's offset from UTC, which deploy
/// windows are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockConfig {
    /// The offset, e.g. `"+01:00"`, `"-05:00"` or `"Z"`.
    pub utc_offset: UtcOffset,
}

/// An offset from UTC written as `"+HH:MM"`, `"-HH:MM"` or `"Z"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UtcOffset {
    /// Minutes east of UTC.
    pub minutes: i32,
}

impl<'de> Deserialize<'de> for UtcOffset {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_utc_offset(&text).map_err(serde::de::Error::custom)
    }
}

/// Parses `"+01:00"`, `"-05:30"`, `"Z"` into minutes east of UTC.
fn parse_utc_offset(text: &str) -> Result<UtcOffset, String> {
    let bad = || format!("invalid UTC offset `{text}`; write e.g. \"+01:00\", \"-05:00\" or \"Z\"");
    if text == "Z" || text == "z" {
        return Ok(UtcOffset { minutes: 0 });
    }
    let (sign, rest) = match text.split_at_checked(1) {
        Some(("+", rest)) => (1, rest),
        Some(("-", rest)) => (-1, rest),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) {
        return Err(bad());
    }
    let hours: i32 = hours.parse().map_err(|_| bad())?;
    let minutes: i32 = minutes.parse().map_err(|_| bad())?;
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    Ok(UtcOffset {
        minutes: sign * (hours * 60 + minutes),
    })
}

/// The `[deployment]` table: what is being deployed, where. Command-line
/// flags override it; what neither gives is filled from git and the CI
/// environment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeploymentConfig {
    /// The service's name; default the repository folder's name.
    pub service: Option<String>,
    /// The target environment; default `production`.
    pub environment: Option<String>,
    /// The version being deployed; default the head commit's short id.
    pub version: Option<String>,
    /// Regular, hotfix or rollback; default regular.
    pub kind: Option<DeployKind>,
    /// Incident severity, for a hotfix.
    pub severity: Option<Severity>,
    /// Who asks for the deploy; default `GITHUB_ACTOR` or `USER`.
    pub actor: Option<String>,
}

impl DeploymentConfig {
    /// `self`, with every field `other` sets replaced.
    pub fn overridden_by(&self, other: &DeploymentConfig) -> DeploymentConfig {
        DeploymentConfig {
            service: other.service.clone().or_else(|| self.service.clone()),
            environment: other
                .environment
                .clone()
                .or_else(|| self.environment.clone()),
            version: other.version.clone().or_else(|| self.version.clone()),
            kind: other.kind.or(self.kind),
            severity: other.severity.or(self.severity),
            actor: other.actor.clone().or_else(|| self.actor.clone()),
        }
    }
}
