//! Shipgate built-in policy `risk`: the risk level of a change and the
//! mitigations it requires.
//!
//! It encodes the release coordinator's risk table (playbook `002`):
//!
//! | level | what makes it | mitigations (cumulative) |
//! |---|---|---|
//! | `critical` | core system, authentication or data-model changes | maintenance window, full backup, manual approval |
//! | `high` | breaking API changes, database migrations, security patches | canary deployment, feature flag, rollback plan |
//! | `medium` | new features, dependency updates, configuration changes, new environment variables | staged rollout, enhanced monitoring |
//! | `low` | everything else: documentation, non-breaking additions, performance work | standard flow |
//!
//! Each level also requires the mitigations of the levels below it. A
//! breaking change adds extended monitoring (48 hours, playbook `000`), and
//! medium risk and above get the recommended rollout plan (10% → 50% → 100%,
//! playbook `001`).
//!
//! The verdict is `go` with one finding per reason and a `risk.level`
//! summary, unless `hold_at` is set and the level reaches it. A change that
//! was not collected holds and has no risk level.
//!
//! Paths are matched with globs whose `**` spans folders and whose `*` stays
//! inside one (`**/*.md` matches `README.md` and `docs/a/b.md`). A file that
//! matches `docs_paths` counts as documentation only: it is never a critical
//! path or a configuration file.

use glob::{MatchOptions, Pattern};
use serde::Deserialize;
use shipgate_sdk::prelude::*;
use shipgate_sdk::{Change, RolloutStep};

shipgate_sdk::rules! {
    pub RULE_CRITICAL_AREA = "risk.critical-area"
        => "the change touches a critical area, or a file matching critical_paths (level \
            critical)",
    pub RULE_BREAKING_CHANGE = "risk.breaking-change"
        => "the change announces a breaking change (level high; requires extended \
            monitoring)",
    pub RULE_MIGRATION = "risk.migration" => "the change carries database migrations (level high)",
    pub RULE_SECURITY_PATCH = "risk.security-patch"
        => "a commit subject marks a security patch, or the change has the security label \
            (level high)",
    pub RULE_NEW_FEATURE = "risk.new-feature"
        => "a commit has the conventional-commit type feat (level medium)",
    pub RULE_DEPENDENCY_CHANGE = "risk.dependency-change"
        => "the change updates dependencies (level medium)",
    pub RULE_CONFIG_CHANGE = "risk.config-change"
        => "files matching config_paths but not lockfile_paths changed (level medium)",
    pub RULE_NEW_VARIABLE = "risk.new-variable"
        => "the change declares new environment variables (level medium)",
    pub RULE_DOCS_ONLY = "risk.docs-only" => "every changed file matches docs_paths (level low)",
    pub RULE_LEVEL = "risk.level"
        => "the risk level, the strictest of the reasons, and the mitigations it requires \
            (go summary)",
    pub RULE_NEEDS_APPROVAL = "risk.needs-approval"
        => "the risk level is at or above hold_at (hold)",
    pub RULE_NOT_COLLECTED = "risk.not-collected"
        => "the change was not collected, or the git source has a gap (hold, no level)",
    /// `configure` rejects such a configuration first, so only a direct
    /// call of [`decide`] can see it.
    pub RULE_INVALID_CONFIG = "risk.invalid-config"
        => "a configured glob does not compile; configure rejects it first (hold)",
}

/// The reason of the manual approval a critical change requires.
pub const CRITICAL_APPROVAL: &str = "critical-risk change";

/// The `config` table of the `risk` policy in `shipgate.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Named areas (as the host computes them into `change.areas`) that make
    /// a change critical, compared case-insensitively.
    pub critical_areas: Vec<String>,
    /// Path globs that make a change critical: authentication and the data
    /// model.
    pub critical_paths: Vec<String>,
    /// Commit subject prefixes that mark a security patch, compared
    /// case-insensitively (`fix(security): …`, `security: …`).
    pub security_prefixes: Vec<String>,
    /// Text anywhere in a commit subject that marks a security patch,
    /// compared case-insensitively (`CVE-2026-1234`).
    pub security_markers: Vec<String>,
    /// A label that marks a security patch when its value is `true`; empty
    /// to ignore labels.
    pub security_label: String,
    /// Path globs of configuration files.
    pub config_paths: Vec<String>,
    /// Path globs of lockfiles, which are never configuration changes (their
    /// content shows up as `dependency_changes`).
    pub lockfile_paths: Vec<String>,
    /// Path globs of documentation.
    pub docs_paths: Vec<String>,
    /// Hours of extended monitoring a breaking change requires.
    pub breaking_monitoring_hours: u32,
    /// The rollout plan recommended at medium risk and above, in minutes per
    /// step; empty to recommend none.
    pub rollout_plan: Vec<PlanStep>,
    /// Hold for approval at or above this level; unset never holds.
    pub hold_at: Option<RiskLevel>,
}

/// One step of the recommended rollout plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanStep {
    /// Share of traffic on the new version, 1–100.
    pub traffic_percent: u8,
    /// Minutes to hold and watch at this share.
    pub hold_minutes: u32,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            critical_areas: strings(&["core", "auth", "authentication", "data-model"]),
            critical_paths: strings(&[
                "**/auth/**",
                "**/authentication/**",
                "**/models/**",
                "**/schema/**",
                "**/schema.prisma",
                "**/schema.rb",
                "**/schema.rs",
                "**/schema.sql",
            ]),
            security_prefixes: strings(&["fix(security)", "security:", "security("]),
            security_markers: strings(&["CVE-", "GHSA-"]),
            security_label: "security".into(),
            config_paths: strings(&[
                "**/*.toml",
                "**/*.yaml",
                "**/*.yml",
                "**/*.json",
                "**/.env*",
                "**/config/**",
            ]),
            lockfile_paths: strings(&[
                "**/Cargo.lock",
                "**/package-lock.json",
                "**/npm-shrinkwrap.json",
                "**/yarn.lock",
                "**/pnpm-lock.yaml",
                "**/poetry.lock",
                "**/Pipfile.lock",
                "**/Gemfile.lock",
                "**/composer.lock",
                "**/go.sum",
            ]),
            docs_paths: strings(&["**/*.md", "docs/**"]),
            breaking_monitoring_hours: 48,
            rollout_plan: vec![
                PlanStep {
                    traffic_percent: 10,
                    hold_minutes: 10,
                },
                PlanStep {
                    traffic_percent: 50,
                    hold_minutes: 10,
                },
                PlanStep {
                    traffic_percent: 100,
                    hold_minutes: 30,
                },
            ],
            hold_at: None,
        }
    }
}

/// The policy.
#[derive(Debug)]
pub struct Risk;

impl Policy for Risk {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "risk",
            "risk level of the change (low, medium, high, critical) and the mitigations it requires",
        )
        .stages(&[Stage::Gate, Stage::Risk])
        .reads(&[
            Section::Change,
            Section::Environment,
            Section::Deployment,
            Section::Labels,
        ])
        .rules(RULES)
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        Patterns::compile(config)?;
        for (key, items) in [
            ("critical_areas", &config.critical_areas),
            ("security_prefixes", &config.security_prefixes),
            ("security_markers", &config.security_markers),
        ] {
            if let Some(i) = items.iter().position(|s| s.trim().is_empty()) {
                return Err(ConfigError::new(
                    format!("{key}[{i}]"),
                    "must not be empty (it would match everything)",
                ));
            }
        }
        if config.breaking_monitoring_hours == 0 {
            return Err(ConfigError::new(
                "breaking_monitoring_hours",
                "must be at least 1",
            ));
        }
        let mut previous = 0;
        for (i, step) in config.rollout_plan.iter().enumerate() {
            if step.traffic_percent == 0 || step.traffic_percent > 100 {
                return Err(ConfigError::new(
                    format!("rollout_plan[{i}].traffic_percent"),
                    format!("must be in 1..=100, got {}", step.traffic_percent),
                ));
            }
            if step.traffic_percent <= previous {
                return Err(ConfigError::new(
                    format!("rollout_plan[{i}].traffic_percent"),
                    format!(
                        "must be greater than the previous step's {previous}, got {}",
                        step.traffic_percent
                    ),
                ));
            }
            previous = step.traffic_percent;
            if step.hold_minutes > u32::MAX / 60 {
                return Err(ConfigError::new(
                    format!("rollout_plan[{i}].hold_minutes"),
                    format!("is too long: {} minutes", step.hold_minutes),
                ));
            }
        }
        if let Some(last) = config.rollout_plan.last()
            && last.traffic_percent != 100
        {
            return Err(ConfigError::new(
                format!(
                    "rollout_plan[{}].traffic_percent",
                    config.rollout_plan.len() - 1
                ),
                format!("the last step must reach 100, got {}", last.traffic_percent),
            ));
        }
        Ok(())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(stage, snapshot, config))
    }
}

/// Globs match across folders only through `**`.
const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// The configuration's globs, compiled.
struct Patterns {
    critical: Vec<Pattern>,
    config: Vec<Pattern>,
    lockfiles: Vec<Pattern>,
    docs: Vec<Pattern>,
}

impl Patterns {
    fn compile(config: &Config) -> Result<Self, ConfigError> {
        Ok(Patterns {
            critical: compile("critical_paths", &config.critical_paths)?,
            config: compile("config_paths", &config.config_paths)?,
            lockfiles: compile("lockfile_paths", &config.lockfile_paths)?,
            docs: compile("docs_paths", &config.docs_paths)?,
        })
    }
}

fn compile(key: &str, globs: &[String]) -> Result<Vec<Pattern>, ConfigError> {
    globs
        .iter()
        .enumerate()
        .map(|(i, glob)| {
            if glob.trim().is_empty() {
                return Err(ConfigError::new(format!("{key}[{i}]"), "must not be empty"));
            }
            Pattern::new(glob).map_err(|e| {
                ConfigError::new(
                    format!("{key}[{i}]"),
                    format!(
                        "`{glob}` is not a valid glob: {} (at position {})",
                        e.msg, e.pos
                    ),
                )
            })
        })
        .collect()
}

fn matches(patterns: &[Pattern], path: &str) -> bool {
    let path = path.strip_prefix("./").unwrap_or(path);
    patterns.iter().any(|p| p.matches_with(path, MATCH))
}

/// One reason for the level: its level, its finding and its part of the
/// summary.
struct Reason {
    level: RiskLevel,
    finding: Finding,
    summary: String,
}

impl Reason {
    fn new(level: RiskLevel, rule: &str, message: String, summary: String) -> Self {
        Reason {
            level,
            finding: Finding::pass(rule, message),
            summary,
        }
    }

    /// A reason about `n` things: `2 new features: a, b` in the finding (in
    /// the `long` words, one and many), `2 new features` in the summary (in
    /// the `short` ones).
    fn counted(
        level: RiskLevel,
        rule: &str,
        n: usize,
        long: [&str; 2],
        listing: String,
        short: [&str; 2],
    ) -> Self {
        Reason::new(
            level,
            rule,
            format!("{}: {listing}", plural(n, long[0], long[1])),
            plural(n, short[0], short[1]),
        )
    }
}

/// The rule itself, as a plain function (benchmarked natively against the
/// component). The same answer serves the `gate` and `risk` stages.
pub fn decide(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Decision {
    let patterns = match Patterns::compile(config) {
        Ok(p) => p,
        Err(e) => {
            return Decision::from_findings(vec![Finding::hold(
                RULE_INVALID_CONFIG,
                format!("invalid configuration: {e}"),
            )]);
        }
    };
    if let Some(gap) = snapshot.gap("git") {
        return Decision::from_findings(vec![Finding::hold(
            RULE_NOT_COLLECTED,
            format!(
                "the change could not be read (git: {}): its risk is unknown",
                gap.reason
            ),
        )]);
    }
    let Some(change) = &snapshot.change else {
        return Decision::from_findings(vec![Finding::hold(
            RULE_NOT_COLLECTED,
            "the change was not collected: its risk is unknown",
        )]);
    };

    let reasons = reasons(&Facts::new(snapshot, change, config, &patterns));
    let level = reasons
        .iter()
        .map(|r| r.level)
        .max()
        .unwrap_or(RiskLevel::Low);

    let mut summary = if reasons.is_empty() {
        match change.files.len() {
            0 => "the change is empty".to_owned(),
            n => format!("no risky changes in {}", plural(n, "file", "files")),
        }
    } else {
        reasons
            .iter()
            .map(|r| r.summary.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if snapshot.environment.is_none() {
        summary.push_str(" (environment not collected: new variables not assessed)");
    }

    let mut findings: Vec<Finding> = reasons.into_iter().map(|r| r.finding).collect();
    findings.push(Finding::pass(
        RULE_LEVEL,
        format!("risk {level}: {summary}"),
    ));
    if let Some(hold_at) = config.hold_at
        && level >= hold_at
    {
        findings.push(
            Finding::hold(
                RULE_NEEDS_APPROVAL,
                format!("risk {level} needs approval before deploying (hold_at = {hold_at})"),
            )
            .evidence(level, format!("below {hold_at}")),
        );
    }

    let mut decision = Decision::from_findings(findings).with_risk(level);
    if level >= RiskLevel::Medium {
        decision = decision
            .require(Requirement::StagedRollout)
            .require(Requirement::EnhancedMonitoring);
    }
    if level >= RiskLevel::High {
        decision = decision
            .require(Requirement::CanaryDeployment)
            .require(Requirement::FeatureFlag)
            .require(Requirement::RollbackPlan);
    }
    if level >= RiskLevel::Critical {
        decision = decision
            .require(Requirement::MaintenanceWindow)
            .require(Requirement::FullBackup)
            .require(Requirement::ManualApproval(CRITICAL_APPROVAL.into()));
    }
    if !change.breaking_changes.is_empty() {
        decision = decision.require(Requirement::ExtendedMonitoringHours(
            config.breaking_monitoring_hours,
        ));
    }
    if level >= RiskLevel::Medium && !config.rollout_plan.is_empty() {
        decision = decision.require(Requirement::RolloutPlan(rollout_steps(config)));
    }
    decision
}

/// The configured rollout plan as the snapshot's steps (minutes → seconds).
pub fn rollout_steps(config: &Config) -> Vec<RolloutStep> {
    config
        .rollout_plan
        .iter()
        .map(|s| RolloutStep {
            traffic_percent: s.traffic_percent,
            hold_seconds: s.hold_minutes.saturating_mul(60),
        })
        .collect()
}

/// What the rules of the risk table read: the snapshot, its change, the
/// configuration and its globs, and the changed files that are not
/// documentation.
struct Facts<'a> {
    snapshot: &'a Snapshot,
    change: &'a Change,
    config: &'a Config,
    patterns: &'a Patterns,
    code_files: Vec<&'a str>,
}

impl<'a> Facts<'a> {
    fn new(
        snapshot: &'a Snapshot,
        change: &'a Change,
        config: &'a Config,
        patterns: &'a Patterns,
    ) -> Self {
        let code_files = change
            .files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| !matches(&patterns.docs, p))
            .collect();
        Facts {
            snapshot,
            change,
            config,
            patterns,
            code_files,
        }
    }
}

/// One rule of the risk table: the reason it gives, if it fires.
type RiskRule = fn(&Facts) -> Option<Reason>;

/// The rules of the risk table, strictest first (the order of the findings
/// and of the summary): critical, then high, then medium.
const RISK_RULES: &[RiskRule] = &[
    critical_area,
    breaking_change,
    migration,
    security_patch,
    new_feature,
    dependency_change,
    config_change,
    new_variable,
];

/// Every reason the change gives, strictest first; documentation only
/// (low) when no rule of the table fires.
fn reasons(facts: &Facts) -> Vec<Reason> {
    let reasons: Vec<Reason> = RISK_RULES.iter().filter_map(|rule| rule(facts)).collect();
    if reasons.is_empty() {
        return docs_only(facts).into_iter().collect();
    }
    reasons
}

/// Critical: core, authentication, data model, by area or by path.
fn critical_area(facts: &Facts) -> Option<Reason> {
    let areas: Vec<&str> = facts
        .change
        .areas
        .iter()
        .filter(|a| {
            facts
                .config
                .critical_areas
                .iter()
                .any(|c| c.eq_ignore_ascii_case(a))
        })
        .map(String::as_str)
        .collect();
    let critical_files: Vec<&str> = facts
        .code_files
        .iter()
        .copied()
        .filter(|p| matches(&facts.patterns.critical, p))
        .collect();
    if areas.is_empty() && critical_files.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut summary = Vec::new();
    if !areas.is_empty() {
        parts.push(format!(
            "{} {}",
            plural_word(areas.len(), "area", "areas"),
            list(&areas)
        ));
        summary.push(format!(
            "critical {} {}",
            plural_word(areas.len(), "area", "areas"),
            areas.join(", ")
        ));
    }
    if !critical_files.is_empty() {
        parts.push(format!(
            "{} {}",
            plural_word(critical_files.len(), "path", "paths"),
            list(&critical_files)
        ));
        summary.push(plural(
            critical_files.len(),
            "critical path",
            "critical paths",
        ));
    }
    Some(Reason::new(
        RiskLevel::Critical,
        RULE_CRITICAL_AREA,
        format!(
            "touches core, authentication or data-model code: {}",
            parts.join("; ")
        ),
        summary.join(", "),
    ))
}

/// High: announced breaking changes.
fn breaking_change(facts: &Facts) -> Option<Reason> {
    let breaking = &facts.change.breaking_changes;
    if breaking.is_empty() {
        return None;
    }
    let items: Vec<String> = breaking
        .iter()
        .map(|b| format!("{} ({})", b.description, b.source))
        .collect();
    Some(Reason::new(
        RiskLevel::High,
        RULE_BREAKING_CHANGE,
        format!(
            "{}: {}; monitor for {} hours",
            plural(breaking.len(), "breaking change", "breaking changes"),
            list_with(&items, "; "),
            facts.config.breaking_monitoring_hours
        ),
        plural(breaking.len(), "breaking change", "breaking changes"),
    ))
}

/// High: database migrations.
fn migration(facts: &Facts) -> Option<Reason> {
    let paths: Vec<&str> = facts
        .change
        .migrations
        .iter()
        .map(|m| m.path.as_str())
        .collect();
    (!paths.is_empty()).then(|| {
        Reason::counted(
            RiskLevel::High,
            RULE_MIGRATION,
            paths.len(),
            ["database migration", "database migrations"],
            list(&paths),
            ["migration", "migrations"],
        )
    })
}

/// High: security patches, by commit subject or by label.
fn security_patch(facts: &Facts) -> Option<Reason> {
    let config = facts.config;
    let security: Vec<String> = facts
        .change
        .commits
        .iter()
        .filter(|c| is_security(&c.subject, config))
        .map(|c| commit(&c.sha, &c.subject))
        .collect();
    let labelled = !config.security_label.is_empty()
        && facts
            .snapshot
            .labels
            .get(&config.security_label)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if security.is_empty() && !labelled {
        return None;
    }
    let mut parts = Vec::new();
    if !security.is_empty() {
        parts.push(list_with(&security, ", "));
    }
    if labelled {
        parts.push(format!("label {}=true", config.security_label));
    }
    let summary = if security.is_empty() {
        "security patch".to_owned()
    } else {
        plural(security.len(), "security patch", "security patches")
    };
    Some(Reason::new(
        RiskLevel::High,
        RULE_SECURITY_PATCH,
        format!("security patch: {}", parts.join("; ")),
        summary,
    ))
}

/// Medium: commits of the conventional-commit type `feat`.
fn new_feature(facts: &Facts) -> Option<Reason> {
    let features: Vec<String> = facts
        .change
        .commits
        .iter()
        .filter(|c| commit_type(&c.subject).is_some_and(|t| t.eq_ignore_ascii_case("feat")))
        .map(|c| commit(&c.sha, &c.subject))
        .collect();
    (!features.is_empty()).then(|| {
        Reason::counted(
            RiskLevel::Medium,
            RULE_NEW_FEATURE,
            features.len(),
            ["new feature", "new features"],
            list_with(&features, ", "),
            ["new feature", "new features"],
        )
    })
}

/// Medium: dependency updates.
fn dependency_change(facts: &Facts) -> Option<Reason> {
    let items: Vec<String> = facts
        .change
        .dependency_changes
        .iter()
        .map(|d| {
            let versions = match (&d.from_version, &d.to_version) {
                (Some(from), Some(to)) => format!(" {from} → {to}"),
                (None, Some(v)) | (Some(v), None) => format!(" {v}"),
                (None, None) => String::new(),
            };
            format!("{} {}{versions} ({})", d.name, d.change, d.ecosystem)
        })
        .collect();
    (!items.is_empty()).then(|| {
        Reason::counted(
            RiskLevel::Medium,
            RULE_DEPENDENCY_CHANGE,
            items.len(),
            ["dependency change", "dependency changes"],
            list_with(&items, ", "),
            ["dependency change", "dependency changes"],
        )
    })
}

/// Medium: configuration files (lockfiles are dependency changes instead).
fn config_change(facts: &Facts) -> Option<Reason> {
    let patterns = facts.patterns;
    let config_files: Vec<&str> = facts
        .code_files
        .iter()
        .copied()
        .filter(|p| matches(&patterns.config, p) && !matches(&patterns.lockfiles, p))
        .collect();
    if config_files.is_empty() {
        return None;
    }
    Some(Reason::new(
        RiskLevel::Medium,
        RULE_CONFIG_CHANGE,
        format!(
            "{} changed: {}",
            plural(
                config_files.len(),
                "configuration file",
                "configuration files"
            ),
            list(&config_files)
        ),
        plural(config_files.len(), "config file", "config files"),
    ))
}

/// Medium: environment variables the change declares.
fn new_variable(facts: &Facts) -> Option<Reason> {
    let new_vars: Vec<&str> = facts
        .snapshot
        .environment
        .iter()
        .flat_map(|e| e.declared.iter())
        .filter(|v| v.added)
        .map(|v| v.name.as_str())
        .collect();
    (!new_vars.is_empty()).then(|| {
        Reason::counted(
            RiskLevel::Medium,
            RULE_NEW_VARIABLE,
            new_vars.len(),
            ["new environment variable", "new environment variables"],
            list(&new_vars),
            ["new variable", "new variables"],
        )
    })
}

/// Low: every changed file is documentation (asked only when no rule of
/// the table fires).
fn docs_only(facts: &Facts) -> Option<Reason> {
    let files = &facts.change.files;
    if files.is_empty() || !facts.code_files.is_empty() {
        return None;
    }
    Some(Reason::new(
        RiskLevel::Low,
        RULE_DOCS_ONLY,
        format!(
            "documentation only: {}",
            plural(files.len(), "file", "files")
        ),
        "documentation only".to_owned(),
    ))
}

/// Whether a commit subject marks a security patch.
fn is_security(subject: &str, config: &Config) -> bool {
    let subject = subject.trim().to_lowercase();
    config
        .security_prefixes
        .iter()
        .any(|p| subject.starts_with(&p.to_lowercase()))
        || config
            .security_markers
            .iter()
            .any(|m| subject.contains(&m.to_lowercase()))
}

/// The type of a conventional-commit subject: `feat` in `feat(api)!: …`.
pub fn commit_type(subject: &str) -> Option<&str> {
    let s = subject.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    let (kind, rest) = s.split_at(end);
    if kind.is_empty() {
        return None;
    }
    let rest = match rest.strip_prefix('(') {
        Some(scoped) => scoped.split_once(')')?.1,
        None => rest,
    };
    let rest = rest.strip_prefix('!').unwrap_or(rest);
    rest.starts_with(':').then_some(kind)
}

fn commit(sha: &str, subject: &str) -> String {
    let short: String = sha.chars().take(7).collect();
    format!("{short} \"{}\"", subject.trim())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", plural_word(n, one, many))
}

fn plural_word<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// At most this many items are named in a message.
const LIST_MAX: usize = 3;

fn list(items: &[&str]) -> String {
    list_with(items, ", ")
}

fn list_with<S: AsRef<str>>(items: &[S], separator: &str) -> String {
    let shown: Vec<&str> = items.iter().take(LIST_MAX).map(AsRef::as_ref).collect();
    let mut out = shown.join(separator);
    if items.len() > LIST_MAX {
        out.push_str(&format!(" (+{} more)", items.len() - LIST_MAX));
    }
    out
}

shipgate_sdk::export_policy!(Risk);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shipgate_sdk::parse_config;
    use shipgate_sdk::testing::{evaluate, snapshot_from_json};

    /// A snapshot with `change` (JSON) and optional extra top-level keys.
    fn snapshot(change: serde_json::Value, extra: serde_json::Value) -> Snapshot {
        let mut s = json!({
            "deployment": { "service": "api", "environment": "production", "version": "2",
                            "commit": "abc", "requested_at": "2026-11-17T10:00:00Z" },
            "change": change,
        });
        if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                s.insert(k.clone(), v.clone());
            }
        }
        snapshot_from_json(&s.to_string()).unwrap()
    }

    fn files(paths: &[&str]) -> serde_json::Value {
        json!({ "files": paths.iter().map(|p| json!({ "path": p })).collect::<Vec<_>>() })
    }

    fn commits(subjects: &[&str]) -> serde_json::Value {
        json!({ "commits": subjects.iter().enumerate()
            .map(|(i, s)| json!({ "sha": format!("{i}0000000000"), "subject": s }))
            .collect::<Vec<_>>() })
    }

    fn run(s: &Snapshot, config: &str) -> Decision {
        evaluate::<Risk>(Stage::Risk, s, config).unwrap()
    }

    fn rules(d: &Decision) -> Vec<&str> {
        d.findings.iter().map(|f| f.rule.as_str()).collect()
    }

    fn level(change: serde_json::Value) -> Option<RiskLevel> {
        run(&snapshot(change, json!({})), "{}").risk
    }

    fn finding<'a>(d: &'a Decision, rule: &str) -> &'a Finding {
        d.findings
            .iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} in {:?}", d.findings))
    }

    #[test]
    fn globs_span_folders_only_with_double_star() {
        let p = compile(
            "k",
            &strings(&["**/*.md", "docs/**", "**/auth/**", "*.toml"]),
        )
        .unwrap();
        assert!(matches(&p[..1], "README.md"));
        assert!(matches(&p[..1], "a/b/c.md"));
        assert!(matches(&p[1..2], "docs/a/b.txt"));
        assert!(!matches(&p[1..2], "src/docs/a.txt"));
        assert!(matches(&p[2..3], "auth/login.rs"));
        assert!(matches(&p[2..3], "src/auth/login.rs"));
        assert!(!matches(&p[2..3], "src/oauth/login.rs"));
        assert!(matches(&p[3..], "Cargo.toml"));
        assert!(matches(&p[3..], "./Cargo.toml"));
        assert!(!matches(&p[3..], "crates/a/Cargo.toml"));
    }

    #[test]
    fn docs_only_is_low_with_no_requirements() {
        let d = run(
            &snapshot(files(&["README.md", "docs/guide/setup.txt"]), json!({})),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(d.risk, Some(RiskLevel::Low));
        assert_eq!(rules(&d), [RULE_DOCS_ONLY, RULE_LEVEL]);
        assert!(d.requirements.is_empty());
        assert_eq!(
            finding(&d, RULE_LEVEL).message,
            "risk low: documentation only (environment not collected: new variables not assessed)"
        );
    }

    #[test]
    fn plain_code_is_low_but_not_docs_only() {
        let d = run(
            &snapshot(
                files(&["src/lib.rs", "README.md"]),
                json!({ "environment": {} }),
            ),
            "{}",
        );
        assert_eq!(d.risk, Some(RiskLevel::Low));
        assert_eq!(rules(&d), [RULE_LEVEL]);
        assert_eq!(
            finding(&d, RULE_LEVEL).message,
            "risk low: no risky changes in 2 files"
        );
        let d = run(&snapshot(json!({}), json!({ "environment": {} })), "{}");
        assert_eq!(
            finding(&d, RULE_LEVEL).message,
            "risk low: the change is empty"
        );
        // A docs file inside a critical folder is still documentation.
        assert_eq!(level(files(&["src/auth/README.md"])), Some(RiskLevel::Low));
    }

    #[test]
    fn critical_areas_and_paths() {
        let d = run(
            &snapshot(json!({ "areas": ["billing", "Auth"] }), json!({})),
            "{}",
        );
        assert_eq!(d.risk, Some(RiskLevel::Critical));
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(finding(&d, RULE_CRITICAL_AREA).verdict, Verdict::Go);
        assert_eq!(
            d.requirements,
            [
                Requirement::StagedRollout,
                Requirement::EnhancedMonitoring,
                Requirement::CanaryDeployment,
                Requirement::FeatureFlag,
                Requirement::RollbackPlan,
                Requirement::MaintenanceWindow,
                Requirement::FullBackup,
                Requirement::ManualApproval(CRITICAL_APPROVAL.into()),
                Requirement::RolloutPlan(vec![
                    RolloutStep {
                        traffic_percent: 10,
                        hold_seconds: 600
                    },
                    RolloutStep {
                        traffic_percent: 50,
                        hold_seconds: 600
                    },
                    RolloutStep {
                        traffic_percent: 100,
                        hold_seconds: 1800
                    },
                ]),
            ]
        );
        assert_eq!(level(json!({ "areas": ["billing"] })), Some(RiskLevel::Low));
        assert_eq!(
            level(files(&["src/auth/session.rs"])),
            Some(RiskLevel::Critical)
        );
        assert_eq!(
            level(files(&["app/models/user.rb"])),
            Some(RiskLevel::Critical)
        );
        assert_eq!(
            level(files(&["prisma/schema.prisma"])),
            Some(RiskLevel::Critical)
        );
        assert_eq!(level(files(&["src/oauth_client.rs"])), Some(RiskLevel::Low));
        let d = run(
            &snapshot(files(&["src/auth/a.rs", "src/auth/b.rs"]), json!({})),
            "{}",
        );
        assert!(
            finding(&d, RULE_LEVEL)
                .message
                .starts_with("risk critical: 2 critical paths")
        );
        // Configurable.
        let s = snapshot(files(&["src/payments/charge.rs"]), json!({}));
        assert_eq!(run(&s, "{}").risk, Some(RiskLevel::Low));
        let d = run(&s, r#"{"critical_paths": ["src/payments/**"]}"#);
        assert_eq!(d.risk, Some(RiskLevel::Critical));
    }

    #[test]
    fn breaking_changes_and_migrations_are_high() {
        let change = json!({
            "files": [{ "path": "src/api.rs" }],
            "migrations": [{ "path": "db/001.sql" }, { "path": "db/002.sql" }],
            "breaking_changes": [{ "source": "abc1234", "description": "removes /v1/orders" }],
        });
        let d = run(&snapshot(change, json!({ "environment": {} })), "{}");
        assert_eq!(d.risk, Some(RiskLevel::High));
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            rules(&d),
            [RULE_BREAKING_CHANGE, RULE_MIGRATION, RULE_LEVEL]
        );
        assert_eq!(
            finding(&d, RULE_LEVEL).message,
            "risk high: 1 breaking change, 2 migrations"
        );
        assert!(
            d.requirements
                .contains(&Requirement::ExtendedMonitoringHours(48))
        );
        assert!(d.requirements.contains(&Requirement::RollbackPlan));
        assert!(!d.requirements.contains(&Requirement::MaintenanceWindow));

        let only_migration = json!({ "migrations": [{ "path": "db/001.sql" }] });
        let d = run(&snapshot(only_migration, json!({})), "{}");
        assert_eq!(d.risk, Some(RiskLevel::High));
        assert!(
            !d.requirements
                .iter()
                .any(|r| matches!(r, Requirement::ExtendedMonitoringHours(_)))
        );

        let breaking = json!({ "breaking_changes": [{ "source": "x", "description": "y" }] });
        let d = run(
            &snapshot(breaking, json!({})),
            r#"{"breaking_monitoring_hours": 72}"#,
        );
        assert!(
            d.requirements
                .contains(&Requirement::ExtendedMonitoringHours(72))
        );
    }

    #[test]
    fn security_patches_are_high() {
        for subject in [
            "fix(security): escape html in emails",
            "Security: rotate session keys",
            "bump openssl for CVE-2026-1234",
        ] {
            assert_eq!(
                level(commits(&[subject])),
                Some(RiskLevel::High),
                "{subject}"
            );
        }
        for subject in [
            "fix: typo in securityPolicy",
            "docs: describe security model",
        ] {
            assert_eq!(
                level(commits(&[subject])),
                Some(RiskLevel::Low),
                "{subject}"
            );
        }
        let labelled = snapshot(json!({}), json!({ "labels": { "security": "true" } }));
        let d = run(&labelled, "{}");
        assert_eq!(d.risk, Some(RiskLevel::High));
        assert_eq!(
            finding(&d, RULE_SECURITY_PATCH).message,
            "security patch: label security=true"
        );
        let not = snapshot(json!({}), json!({ "labels": { "security": "false" } }));
        assert_eq!(run(&not, "{}").risk, Some(RiskLevel::Low));
        assert_eq!(
            run(&labelled, r#"{"security_label": ""}"#).risk,
            Some(RiskLevel::Low)
        );
        let custom = snapshot(commits(&["hardening: pin tls"]), json!({}));
        assert_eq!(
            run(&custom, r#"{"security_prefixes": ["hardening:"]}"#).risk,
            Some(RiskLevel::High)
        );
    }

    #[test]
    fn medium_reasons() {
        assert_eq!(
            level(commits(&["feat(api): add orders"])),
            Some(RiskLevel::Medium)
        );
        assert_eq!(
            level(commits(&["feat: add orders"])),
            Some(RiskLevel::Medium)
        );
        assert_eq!(level(commits(&["feat!: drop v1"])), Some(RiskLevel::Medium));
        assert_eq!(
            level(commits(&["feature flag cleanup"])),
            Some(RiskLevel::Low)
        );
        assert_eq!(
            level(commits(&["fix(api): handle nulls"])),
            Some(RiskLevel::Low)
        );
        assert_eq!(
            level(commits(&["perf: faster parser"])),
            Some(RiskLevel::Low)
        );

        let deps = json!({ "dependency_changes": [
            { "ecosystem": "cargo", "name": "serde", "change": "updated",
              "from_version": "1.0.1", "to_version": "1.0.2" }] });
        let d = run(&snapshot(deps, json!({})), "{}");
        assert_eq!(d.risk, Some(RiskLevel::Medium));
        assert_eq!(
            finding(&d, RULE_DEPENDENCY_CHANGE).message,
            "1 dependency change: serde updated 1.0.1 → 1.0.2 (cargo)"
        );
        assert_eq!(
            d.requirements,
            [
                Requirement::StagedRollout,
                Requirement::EnhancedMonitoring,
                Requirement::RolloutPlan(rollout_steps(&Config::default())),
            ]
        );

        for path in [
            "config/app.rb",
            "deploy/values.yaml",
            ".env.example",
            "Cargo.toml",
        ] {
            assert_eq!(level(files(&[path])), Some(RiskLevel::Medium), "{path}");
        }
        for path in [
            "Cargo.lock",
            "web/package-lock.json",
            "pnpm-lock.yaml",
            "docs/openapi.json",
        ] {
            assert_eq!(level(files(&[path])), Some(RiskLevel::Low), "{path}");
        }

        let env = json!({ "environment": { "declared": [
            { "name": "STRIPE_KEY", "added": true }, { "name": "OLD", "added": false }] } });
        let d = run(&snapshot(json!({}), env), "{}");
        assert_eq!(d.risk, Some(RiskLevel::Medium));
        assert_eq!(
            finding(&d, RULE_NEW_VARIABLE).message,
            "1 new environment variable: STRIPE_KEY"
        );
        assert_eq!(
            finding(&d, RULE_LEVEL).message,
            "risk medium: 1 new variable"
        );
    }

    #[test]
    fn the_strictest_reason_sets_the_level_and_all_are_listed() {
        let change = json!({
            "areas": ["data-model"],
            "files": [{ "path": "src/models/user.rs" }, { "path": "config/app.yaml" }],
            "commits": [{ "sha": "1234567890", "subject": "feat: profiles" }],
            "migrations": [{ "path": "db/003.sql" }],
        });
        let d = run(&snapshot(change, json!({ "environment": {} })), "{}");
        assert_eq!(d.risk, Some(RiskLevel::Critical));
        assert_eq!(
            rules(&d),
            [
                RULE_CRITICAL_AREA,
                RULE_MIGRATION,
                RULE_NEW_FEATURE,
                RULE_CONFIG_CHANGE,
                RULE_LEVEL
            ]
        );
        assert!(d.findings.iter().all(|f| f.verdict == Verdict::Go));
        assert_eq!(
            finding(&d, RULE_LEVEL).message,
            "risk critical: critical area data-model, 1 critical path, 1 migration, \
             1 new feature, 1 config file"
        );
        assert_eq!(
            finding(&d, RULE_NEW_FEATURE).message,
            "1 new feature: 1234567 \"feat: profiles\""
        );
    }

    #[test]
    fn hold_at_holds_at_and_above_the_level() {
        let high = snapshot(json!({ "migrations": [{ "path": "m.sql" }] }), json!({}));
        let medium = snapshot(commits(&["feat: x"]), json!({}));
        let d = run(&high, r#"{"hold_at": "high"}"#);
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(d.risk, Some(RiskLevel::High));
        let f = finding(&d, RULE_NEEDS_APPROVAL);
        assert_eq!(f.verdict, Verdict::Hold);
        assert_eq!(
            f.evidence
                .as_ref()
                .map(|e| (e.observed.as_str(), e.expected.as_str())),
            Some(("high", "below high"))
        );
        let d = run(&medium, r#"{"hold_at": "high"}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert!(!rules(&d).contains(&RULE_NEEDS_APPROVAL));
        assert_eq!(run(&high, "{}").verdict, Verdict::Go);
        assert_eq!(
            run(&high, r#"{"hold_at": "critical"}"#).verdict,
            Verdict::Go
        );
        assert_eq!(run(&high, r#"{"hold_at": "low"}"#).verdict, Verdict::Hold);
    }

    #[test]
    fn missing_change_holds_without_a_level() {
        let s = snapshot_from_json(
            r#"{"deployment": { "service": "s", "environment": "e", "version": "v", "commit": "c",
                "requested_at": "2026-11-20T10:00:00Z" }}"#,
        )
        .unwrap();
        for stage in [Stage::Gate, Stage::Risk] {
            let d = evaluate::<Risk>(stage, &s, "{}").unwrap();
            assert_eq!(d.verdict, Verdict::Hold);
            assert_eq!(d.risk, None);
            assert_eq!(rules(&d), [RULE_NOT_COLLECTED]);
            assert!(d.requirements.is_empty());
        }
        let gap = snapshot(
            files(&["README.md"]),
            json!({ "gaps": [{ "source": "git", "reason": "not a repository" }] }),
        );
        let d = run(&gap, "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(d.risk, None);
        assert_eq!(
            d.findings[0].message,
            "the change could not be read (git: not a repository): its risk is unknown"
        );
        // Another source's gap does not matter.
        let other = snapshot(
            files(&["README.md"]),
            json!({ "gaps": [{ "source": "prometheus", "reason": "down" }] }),
        );
        assert_eq!(run(&other, "{}").verdict, Verdict::Go);
    }

    #[test]
    fn decide_with_an_unchecked_bad_glob_holds() {
        let config = Config {
            docs_paths: strings(&["docs/***"]),
            ..Config::default()
        };
        let d = decide(Stage::Gate, &snapshot(json!({}), json!({})), &config);
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [RULE_INVALID_CONFIG]);
    }

    #[test]
    fn config_errors_name_the_key() {
        let key = |json: &str| parse_config::<Risk>(json).unwrap_err().key;
        assert_eq!(
            key(r#"{"critical_paths": ["src/**", "a/***"]}"#),
            "critical_paths[1]"
        );
        assert_eq!(key(r#"{"docs_paths": ["["]}"#), "docs_paths[0]");
        assert_eq!(key(r#"{"config_paths": [""]}"#), "config_paths[0]");
        assert_eq!(
            key(r#"{"security_markers": ["CVE-", " "]}"#),
            "security_markers[1]"
        );
        assert_eq!(
            key(r#"{"breaking_monitoring_hours": 0}"#),
            "breaking_monitoring_hours"
        );
        assert_eq!(key(r#"{"hold_at": "severe"}"#), "hold_at");
        assert_eq!(
            key(r#"{"rollout_plan": [{"traffic_percent": 0, "hold_minutes": 5}]}"#),
            "rollout_plan[0].traffic_percent"
        );
        assert_eq!(
            key(
                r#"{"rollout_plan": [{"traffic_percent": 50, "hold_minutes": 5},
                                     {"traffic_percent": 50, "hold_minutes": 5}]}"#
            ),
            "rollout_plan[1].traffic_percent"
        );
        assert_eq!(
            key(
                r#"{"rollout_plan": [{"traffic_percent": 10, "hold_minutes": 5},
                                     {"traffic_percent": 60, "hold_minutes": 5}]}"#
            ),
            "rollout_plan[1].traffic_percent"
        );
        assert_eq!(
            key(r#"{"rollout_plan": [{"traffic_percent": 100, "hold_minutes": 99999999}]}"#),
            "rollout_plan[0].hold_minutes"
        );
        let e = parse_config::<Risk>(r#"{"hold_att": "high"}"#).unwrap_err();
        assert!(e.message.contains("unknown field `hold_att`"), "{e}");

        let c = parse_config::<Risk>(
            r#"{"rollout_plan": [{"traffic_percent": 25, "hold_minutes": 15},
                                 {"traffic_percent": 100, "hold_minutes": 60}], "hold_at": "critical"}"#,
        )
        .unwrap();
        assert_eq!(
            rollout_steps(&c),
            [
                RolloutStep {
                    traffic_percent: 25,
                    hold_seconds: 900
                },
                RolloutStep {
                    traffic_percent: 100,
                    hold_seconds: 3600
                },
            ]
        );
        assert_eq!(c.hold_at, Some(RiskLevel::Critical));
        assert_eq!(parse_config::<Risk>("{}").unwrap(), Config::default());
        // An empty plan recommends none.
        let d = run(
            &snapshot(commits(&["feat: x"]), json!({})),
            r#"{"rollout_plan": []}"#,
        );
        assert!(
            !d.requirements
                .iter()
                .any(|r| matches!(r, Requirement::RolloutPlan(_)))
        );
    }

    #[test]
    fn commit_types() {
        assert_eq!(commit_type("feat: a"), Some("feat"));
        assert_eq!(commit_type("feat(api)!: a"), Some("feat"));
        assert_eq!(commit_type("  fix(x): a"), Some("fix"));
        assert_eq!(commit_type("feat(api: a"), None);
        assert_eq!(commit_type("feature flag cleanup"), None);
        assert_eq!(commit_type(": a"), None);
        assert_eq!(commit_type("feat"), None);
    }

    #[test]
    fn info_declares_both_stages() {
        let info = Risk::info();
        assert_eq!(info.name, "risk");
        assert_eq!(info.stages, [Stage::Gate, Stage::Risk]);
        assert_eq!(RULES.len(), 13);
    }

    #[test]
    fn info_declares_its_rules() {
        shipgate_sdk::testing::check_rules::<Risk>().unwrap();
    }
}
