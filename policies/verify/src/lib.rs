//! Shipgate built-in policy `verify`: after a deploy, is the deployed version
//! healthy (keep it) or not (roll it back)?
//!
//! It answers the `verify` question with the rollback criteria of the
//! playbooks in `shared/seeds/`:
//!
//! - 000 (deployment coordination), "Phase 4: Post-Deploy Verification" and
//!   its decision tree (000:172-177, 000:333-349): critical errors in the
//!   logs, services failing to start, the API returning 500 errors and a
//!   database migration failure roll back immediately; a severely degraded
//!   performance is assessed ("Assess → Rollback if critical"), so a slow
//!   health endpoint holds for a person by default.
//! - 003 (deployment agent), "Phase 3: Post-Deployment Validation"
//!   (003:139-156): the health endpoint answers, smoke tests pass, error
//!   rates are normal.
//! - 002 (release coordinator), "Post-Deployment Verification"
//!   (002:100-104): examples (smoke tests) run successfully, no critical
//!   issues, monitoring shows normal metrics.
//!
//! # Why a built-in of its own, not `canary`
//!
//! `canary` compares a canary with its baseline and counts analysis
//! intervals across a rollout's phases; `verify` judges one deployed
//! version on absolute evidence (does the health endpoint answer, did the
//! smoke tests pass, is the 5xx rate under a ceiling), after a deploy that
//! may have had no canary at all (000's merge-is-deploy pipeline). It reads
//! other sections (`health`, the smoke suites of `ci`), needs no baseline
//! and no interval history, and its thresholds are other numbers, so it is
//! a separate policy: a profile configures each on its own and a report
//! names which one asked for a rollback.
//!
//! # What it judges
//!
//! - **Health probes** (`snapshot.health`): a round without an answer, with
//!   another status than the expected one, or with a body that did not match
//!   is a failed round; more than `max_failed_probe_rounds` failed rounds of
//!   one probe is `failed_probe_verdict` (`rollback`). An endpoint that does
//!   not answer is a failure, never missing data. A round that answered
//!   slower than `max_probe_latency_ms` is slow; more than
//!   `max_slow_probe_rounds` slow rounds of one probe is
//!   `slow_probe_verdict` (`hold`: assess).
//! - **Smoke tests** (`ci.test_suites` with `smoke = true`): a failed or
//!   errored test rolls back.
//! - **Metrics** (the deployed version's value is each metric's `canary`
//!   measurement): `http_5xx_rate` above `max_http_5xx_rate`, `restarts`
//!   above `max_restarts` (services failing to start), `up` below `min_up`
//!   and, when `max_error_rate` is set, `error_rate` above it roll back.
//! - **New error signatures**: new critical ones roll back ("critical errors
//!   in logs"); new ones that are not critical are `new_error_verdict` (a
//!   `go` note, or `hold`).
//! - **Migration failures**: the snapshot has no record of a migration run,
//!   so a migration failure is seen only through a check the configuration
//!   names in `migration_checks`: a health probe (e.g. an endpoint that
//!   reports the schema version) or a smoke suite (e.g. one that queries the
//!   migrated tables). When such a check fails, `verify.migration-failed`
//!   rolls back; when it is not in the snapshot, data is missing. Without
//!   `migration_checks`, migration failures are not covered.
//!
//! # Missing data is never `go`
//!
//! No health section while `require_probes` is on, a health section without
//! probes or a probe without rounds, no smoke suite while
//! `require_smoke_tests` is on, a metric with a threshold that has no
//! usable value, a gap in the source of any of them, or a migration check
//! not in the snapshot: each is a `verify.data-missing` hold saying what is
//! missing. A failure that can be seen still rolls back when other data is
//! missing.

use serde::Deserialize;
use shipgate_sdk::model::{Probe, ProbeResult, TestSuite};
use shipgate_sdk::prelude::*;

// In the order of the playbook's checks: health, smoke tests, metrics, logs,
// migrations, then missing data.
shipgate_sdk::rules! {
    pub RULE_PROBE_FAILED = "verify.probe-failed"
        => "a health probe has more than max_failed_probe_rounds rounds without an answer, \
            with a status other than the expected one, or with a body that did not match \
            (failed_probe_verdict, rollback by default; one finding per probe, go within it)",
    pub RULE_PROBE_SLOW = "verify.probe-slow"
        => "a health probe answered more than max_slow_probe_rounds rounds slower than \
            max_probe_latency_ms (slow_probe_verdict, hold by default: assess; one finding \
            per probe, go within it)",
    pub RULE_SMOKE_FAILED = "verify.smoke-failed"
        => "a smoke test suite has failed or errored tests (rollback; one finding per suite, \
            go when every smoke suite passed)",
    pub RULE_HTTP_5XX = "verify.http-5xx"
        => "the deployed version's 5xx rate (http_5xx_metric) is above max_http_5xx_rate \
            (rollback; go within it)",
    pub RULE_RESTARTS = "verify.restarts"
        => "the service restarted more than max_restarts times (restarts_metric): services \
            failing to start (rollback; go within it)",
    pub RULE_UP = "verify.up"
        => "the fraction of the service's scrape targets up (up_metric) is below min_up \
            (rollback; go at or above it)",
    pub RULE_ERROR_RATE = "verify.error-rate"
        => "with max_error_rate set, the deployed version's error rate (error_rate_metric) is \
            above it (rollback; go within it)",
    pub RULE_NEW_CRITICAL_ERRORS = "verify.new-critical-errors"
        => "the logs have new critical error signatures (rollback; go when none)",
    pub RULE_NEW_ERRORS = "verify.new-errors"
        => "the logs have new error signatures that do not roll back (new_error_verdict: a go \
            note by default, or hold)",
    pub RULE_MIGRATION_FAILED = "verify.migration-failed"
        => "a check named in migration_checks (a health probe or a smoke suite) failed: a \
            database migration failure (rollback; go when every one passed)",
    pub RULE_DATA_MISSING = "verify.data-missing"
        => "health probes, smoke tests, a metric with a threshold or a migration check have no \
            usable data, or their source has a gap (hold)",
}

/// The gap source of the health probes (`[sources.http]`).
pub const HEALTH_SOURCE: &str = "http";

/// The gap source of the metrics (`[sources.prometheus]`).
pub const METRICS_SOURCE: &str = "prometheus";

/// The gap source of the test results, smoke suites included
/// (`[sources.junit]`).
pub const TESTS_SOURCE: &str = "junit";

/// Comparisons allow this much floating-point noise, so that a value exactly
/// at a threshold counts as at it.
const EPSILON: f64 = 1e-9;

/// How many items a finding lists before it says "and N more".
const MAX_LISTED: usize = 5;

/// The `config` table of the `verify` policy in `shipgate.toml`.
///
/// Rates are fractions (`0.02` = 2%). A threshold set to `false` turns its
/// rule off; a threshold that is set makes its metric required (missing
/// data holds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Hold when no health probe ran (`true`): the service's health is then
    /// unknown.
    pub require_probes: bool,
    /// Failed rounds tolerated per probe (`0`: the first round without an
    /// answer, with a wrong status or a wrong body fails the probe).
    pub max_failed_probe_rounds: u32,
    /// The verdict of a failed probe (`rollback`: "API returning 500 errors?
    /// → ROLLBACK IMMEDIATELY", 000:341-342); `hold` or `rollback`.
    pub failed_probe_verdict: Verdict,
    /// A round that answered slower than this many milliseconds is slow
    /// (`1000`, Kubernetes' default probe timeout; `false` turns it off).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_probe_latency_ms: Option<u32>,
    /// Slow rounds tolerated per probe (`0`).
    pub max_slow_probe_rounds: u32,
    /// The verdict of a slow probe (`hold`: "Performance severely degraded?
    /// → Assess → Rollback if critical", 000:345-346); `hold` or `rollback`.
    pub slow_probe_verdict: Verdict,
    /// Hold when no smoke suite ran a test (`false`).
    pub require_smoke_tests: bool,
    /// The 5xx-rate metric (`http_5xx_rate`, a fraction of requests).
    pub http_5xx_metric: String,
    /// Roll back above this 5xx rate (`0.02`, the hot-fix playbook's error
    /// ceiling, 001:99; exactly at it passes).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_http_5xx_rate: Option<f64>,
    /// The restarts metric (`restarts`, a count during the window).
    pub restarts_metric: String,
    /// Roll back when the service restarted more than this many times (`0`:
    /// any restart is a service failing to start or crashing).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_restarts: Option<u32>,
    /// The up metric (`up`, the fraction of scrape targets up).
    pub up_metric: String,
    /// Roll back when fewer than this fraction of targets are up (`1.0`:
    /// "All containers running", 000:303).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub min_up: Option<f64>,
    /// The error-rate metric (`error_rate`, a fraction of requests).
    pub error_rate_metric: String,
    /// Roll back above this error rate (unset by default).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_error_rate: Option<f64>,
    /// Roll back when the logs have new critical error signatures (`true`).
    pub rollback_on_new_critical_errors: bool,
    /// The verdict of new error signatures that do not roll back (`go`, a
    /// note: "Minor issues? → Document → Monitor → Fix in follow-up",
    /// 000:347-348); `go`, `hold` or `rollback`.
    pub new_error_verdict: Verdict,
    /// The health probes or smoke suites (by name) whose failure is a
    /// database migration failure (none by default: not covered).
    pub migration_checks: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            require_probes: true,
            max_failed_probe_rounds: 0,
            failed_probe_verdict: Verdict::Rollback,
            max_probe_latency_ms: Some(1000),
            max_slow_probe_rounds: 0,
            slow_probe_verdict: Verdict::Hold,
            require_smoke_tests: false,
            http_5xx_metric: "http_5xx_rate".into(),
            max_http_5xx_rate: Some(0.02),
            restarts_metric: "restarts".into(),
            max_restarts: Some(0),
            up_metric: "up".into(),
            min_up: Some(1.0),
            error_rate_metric: "error_rate".into(),
            max_error_rate: None,
            rollback_on_new_critical_errors: true,
            new_error_verdict: Verdict::Go,
            migration_checks: Vec::new(),
        }
    }
}

/// The policy.
#[derive(Debug)]
pub struct Verify;

impl Policy for Verify {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "verify",
            "after a deploy: health probes, smoke tests, 5xx rate, restarts, targets up, new \
             critical errors, migration checks, missing data",
        )
        .stages(&[Stage::Verify])
        .reads(&[
            Section::Health,
            Section::Ci,
            Section::Metrics,
            Section::ErrorSignatures,
        ])
        .rules(RULES)
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        check_verdict(
            "failed_probe_verdict",
            config.failed_probe_verdict,
            &[Verdict::Hold, Verdict::Rollback],
        )?;
        check_verdict(
            "slow_probe_verdict",
            config.slow_probe_verdict,
            &[Verdict::Hold, Verdict::Rollback],
        )?;
        check_verdict(
            "new_error_verdict",
            config.new_error_verdict,
            &[Verdict::Go, Verdict::Hold, Verdict::Rollback],
        )?;
        if config.max_probe_latency_ms == Some(0) {
            return Err(ConfigError::new(
                "max_probe_latency_ms",
                "must be at least 1, got 0 (set it to false to turn the latency check off)",
            ));
        }
        shipgate_sdk::checks::rate("max_http_5xx_rate", config.max_http_5xx_rate)?;
        shipgate_sdk::checks::rate("min_up", config.min_up)?;
        shipgate_sdk::checks::rate("max_error_rate", config.max_error_rate)?;
        let metrics = [
            ("http_5xx_metric", &config.http_5xx_metric),
            ("restarts_metric", &config.restarts_metric),
            ("up_metric", &config.up_metric),
            ("error_rate_metric", &config.error_rate_metric),
        ];
        for (i, (key, name)) in metrics.iter().enumerate() {
            shipgate_sdk::checks::metric_name(key, name)?;
            if let Some((first, _)) = metrics[..i].iter().find(|(_, n)| n == name) {
                return Err(ConfigError::new(
                    *key,
                    format!("`{name}` is already {first}: a metric is judged in one role"),
                ));
            }
        }
        for (i, name) in config.migration_checks.iter().enumerate() {
            let key = format!("migration_checks[{i}]");
            if name.trim().is_empty() {
                return Err(ConfigError::new(
                    key,
                    "must be the name of a health probe or a smoke suite, got \"\"",
                ));
            }
            if config.migration_checks[..i].contains(name) {
                return Err(ConfigError::new(key, format!("`{name}` is listed twice")));
            }
        }
        Ok(())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(stage, snapshot, config))
    }
}

fn check_verdict(key: &str, verdict: Verdict, allowed: &[Verdict]) -> Result<(), ConfigError> {
    if allowed.contains(&verdict) {
        return Ok(());
    }
    let names: Vec<String> = allowed.iter().map(|v| format!("`{v}`")).collect();
    Err(ConfigError::new(
        key,
        format!("must be {}, got `{verdict}`", names.join(" or ")),
    ))
}

/// The rule itself, as a plain function (unit-tested natively).
pub fn decide(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Decision {
    let mut judge = Judge {
        snapshot,
        config,
        findings: Vec::new(),
    };
    judge.probes();
    judge.smoke_tests();
    judge.metrics();
    judge.error_signatures();
    judge.migrations();
    Decision::from_findings(judge.findings)
}

/// One evaluation in progress.
struct Judge<'a> {
    snapshot: &'a Snapshot,
    config: &'a Config,
    findings: Vec<Finding>,
}

/// Why a round failed, or `None` when it was healthy.
fn round_failure(probe: &Probe, round: &ProbeResult) -> Option<String> {
    if round.healthy(probe.expected_status) {
        return None;
    }
    Some(match (round.status, round.body_matched) {
        (None, _) => format!(
            "no answer ({})",
            round.error.as_deref().unwrap_or("no reason given")
        ),
        (Some(status), _) if status != probe.expected_status => {
            format!("status {status}, expected {}", probe.expected_status)
        }
        _ => "the body did not match".to_owned(),
    })
}

/// The rounds of `probe` that failed, 1-based, with why.
fn failed_rounds(probe: &Probe) -> Vec<(usize, String)> {
    probe
        .results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| round_failure(probe, r).map(|why| (i + 1, why)))
        .collect()
}

/// Whether `failed` of `rounds` rounds fail a probe that tolerates
/// `tolerated`: more than that, or every round (a tolerance at or above
/// the rounds run would otherwise pass an endpoint that is down).
fn too_many(failed: usize, rounds: usize, tolerated: u32) -> bool {
    failed > tolerated as usize || (failed > 0 && failed == rounds)
}

/// Whether a smoke suite ran a test it did not skip.
fn ran_tests(suite: &TestSuite) -> bool {
    suite.tests > suite.skipped
}

/// The smoke suites in the snapshot.
fn smoke_suites(snapshot: &Snapshot) -> Vec<&TestSuite> {
    snapshot
        .ci
        .iter()
        .flat_map(|ci| ci.test_suites.iter())
        .filter(|t| t.smoke)
        .collect()
}

impl Judge<'_> {
    fn missing(&mut self, message: String) {
        self.findings
            .push(Finding::hold(RULE_DATA_MISSING, message));
    }

    fn probes(&mut self) {
        let config = self.config;
        if let Some(gap) = self.snapshot.gap(HEALTH_SOURCE) {
            self.missing(format!(
                "the health probes could not be run: the source `{}` has a gap ({}): the \
                 service's health is not known",
                gap.source, gap.reason
            ));
        }
        let Some(health) = &self.snapshot.health else {
            if config.require_probes && self.snapshot.gap(HEALTH_SOURCE).is_none() {
                self.missing(
                    "no health probe ran (the `health` section was not collected): the \
                     service's health is not known"
                        .to_owned(),
                );
            }
            return;
        };
        if health.probes.is_empty() && config.require_probes {
            self.missing(
                "the `health` section has no probe: the service's health is not known".to_owned(),
            );
        }
        let mut healthy = Vec::new();
        let mut fast = Vec::new();
        for probe in &health.probes {
            let rounds = probe.results.len();
            if rounds == 0 {
                self.missing(format!(
                    "health probe `{}` ({}) ran no round: its health is not known",
                    probe.name, probe.url
                ));
                continue;
            }
            let failed = failed_rounds(probe);
            let max = config.max_failed_probe_rounds;
            if too_many(failed.len(), rounds, max) {
                self.findings.push(
                    Finding::new(
                        RULE_PROBE_FAILED,
                        config.failed_probe_verdict,
                        format!(
                            "health probe `{}` ({}) failed {} of {rounds} {}: {}",
                            probe.name,
                            probe.url,
                            failed.len(),
                            plural(rounds, "round", "rounds"),
                            listed(failed.iter().map(|(i, why)| format!("round {i}: {why}")))
                        ),
                    )
                    .evidence(
                        format!("{} of {rounds} rounds failed", failed.len()),
                        format!("<= {max} failed, status {}", probe.expected_status),
                    ),
                );
            } else {
                healthy.push(if failed.is_empty() {
                    format!("`{}` {rounds}/{rounds}", probe.name)
                } else {
                    format!(
                        "`{}` {}/{rounds} (within {max} failed)",
                        probe.name,
                        rounds - failed.len()
                    )
                });
            }
            let Some(limit) = config.max_probe_latency_ms else {
                continue;
            };
            let answered: Vec<&ProbeResult> = probe
                .results
                .iter()
                .filter(|r| r.status.is_some())
                .collect();
            let slow: Vec<u32> = answered
                .iter()
                .map(|r| r.latency_ms)
                .filter(|ms| *ms > limit)
                .collect();
            let max = config.max_slow_probe_rounds;
            if too_many(slow.len(), answered.len(), max) {
                let slowest = slow.iter().copied().max().unwrap_or_default();
                self.findings.push(
                    Finding::new(
                        RULE_PROBE_SLOW,
                        config.slow_probe_verdict,
                        format!(
                            "health probe `{}` ({}) answered {} of {} {} slower than {limit} ms \
                             (slowest {slowest} ms): performance degraded, assess",
                            probe.name,
                            probe.url,
                            slow.len(),
                            answered.len(),
                            plural(answered.len(), "round", "rounds"),
                        ),
                    )
                    .evidence(
                        format!("{} slow, slowest {slowest} ms", slow.len()),
                        format!("<= {max} slower than {limit} ms"),
                    ),
                );
            } else if !answered.is_empty() {
                fast.push(format!("`{}`", probe.name));
            }
        }
        if !healthy.is_empty() {
            self.findings.push(Finding::pass(
                RULE_PROBE_FAILED,
                format!(
                    "health probes answered as expected: {}",
                    listed(healthy.into_iter())
                ),
            ));
        }
        if let (Some(limit), false) = (config.max_probe_latency_ms, fast.is_empty()) {
            self.findings.push(Finding::pass(
                RULE_PROBE_SLOW,
                format!(
                    "health probes answered within {limit} ms: {}",
                    listed(fast.into_iter())
                ),
            ));
        }
    }

    fn smoke_tests(&mut self) {
        let config = self.config;
        let suites = smoke_suites(self.snapshot);
        let mut failed = false;
        for suite in &suites {
            let bad = suite.failures.saturating_add(suite.errors);
            if bad > 0 {
                failed = true;
                self.findings.push(
                    Finding::rollback(
                        RULE_SMOKE_FAILED,
                        format!(
                            "smoke tests `{}` failed: {} failed, {} errored of {} tests",
                            suite.name, suite.failures, suite.errors, suite.tests
                        ),
                    )
                    .evidence(format!("{bad} failed"), "0 failed"),
                );
            }
        }
        if config.require_smoke_tests
            && let Some(gap) = self.snapshot.gap(TESTS_SOURCE)
        {
            self.missing(format!(
                "the smoke test results could not be read: the source `{}` has a gap ({}): \
                 smoke suites may be missing",
                gap.source, gap.reason
            ));
        }
        // A suite whose every test was skipped verified nothing.
        let ran: Vec<&&TestSuite> = suites.iter().filter(|t| ran_tests(t)).collect();
        if ran.is_empty() {
            if config.require_smoke_tests && !failed {
                let why = if self.snapshot.ci.is_none() {
                    "test results were not collected"
                } else if suites.is_empty() {
                    "no test suite is tagged smoke"
                } else {
                    "the smoke suites ran no test"
                };
                self.missing(format!(
                    "no smoke test ran ({why}): critical user flows are not verified"
                ));
            }
            return;
        }
        if !failed {
            let tests: u32 = ran
                .iter()
                .map(|t| t.tests - t.skipped)
                .fold(0, u32::saturating_add);
            self.findings.push(Finding::pass(
                RULE_SMOKE_FAILED,
                format!(
                    "smoke tests passed: {} ({tests} {})",
                    listed(ran.iter().map(|t| format!("`{}`", t.name))),
                    plural(tests as usize, "test", "tests")
                ),
            ));
        }
    }

    fn metrics(&mut self) {
        let config = self.config;
        let thresholds = [
            (
                RULE_HTTP_5XX,
                "5xx rate",
                &config.http_5xx_metric,
                config.max_http_5xx_rate.map(Limit::Ceiling),
            ),
            (
                RULE_RESTARTS,
                "restarts",
                &config.restarts_metric,
                config.max_restarts.map(Limit::Count),
            ),
            (
                RULE_UP,
                "targets up",
                &config.up_metric,
                config.min_up.map(Limit::Floor),
            ),
            (
                RULE_ERROR_RATE,
                "error rate",
                &config.error_rate_metric,
                config.max_error_rate.map(Limit::Ceiling),
            ),
        ];
        if thresholds.iter().any(|(.., limit)| limit.is_some())
            && let Some(gap) = self.snapshot.gap(METRICS_SOURCE)
        {
            self.missing(format!(
                "the metrics source `{}` could not be read ({}): no metric counts as complete",
                gap.source, gap.reason
            ));
        }
        for (rule, what, name, limit) in thresholds {
            let Some(limit) = limit else {
                continue;
            };
            let value = match self.snapshot.metric(name) {
                None => Err("not in the snapshot".to_owned()),
                Some(m) => m.canary.value().ok_or_else(|| {
                    m.canary
                        .missing_reason()
                        .unwrap_or_else(|| "no value".into())
                }),
            };
            let v = match value {
                Ok(v) => v,
                Err(why) => {
                    self.findings.push(
                        Finding::hold(
                            RULE_DATA_MISSING,
                            format!("metric `{name}` has no usable data: {why}"),
                        )
                        .metric(name.as_str()),
                    );
                    continue;
                }
            };
            let (observed, expected) = (limit.show(v), limit.expected());
            let finding = if limit.breached(v) {
                Finding::rollback(
                    rule,
                    format!("{what} ({name}) {observed} is {}", limit.beyond()),
                )
            } else {
                Finding::pass(
                    rule,
                    format!("{what} ({name}) {observed} is {}", limit.within()),
                )
            };
            self.findings
                .push(finding.evidence(observed, expected).metric(name.as_str()));
        }
    }

    fn error_signatures(&mut self) {
        let config = self.config;
        let signatures = &self.snapshot.error_signatures;
        let describe =
            |e: &&shipgate_sdk::model::ErrorSignature| format!("`{}` ({}x)", e.signature, e.count);
        if config.rollback_on_new_critical_errors {
            let critical: Vec<_> = signatures.iter().filter(|e| e.new && e.critical).collect();
            self.findings.push(if critical.is_empty() {
                Finding::pass(
                    RULE_NEW_CRITICAL_ERRORS,
                    "no new critical error signatures in the logs",
                )
            } else {
                Finding::rollback(
                    RULE_NEW_CRITICAL_ERRORS,
                    format!(
                        "critical errors in the logs: {} {}: {}",
                        critical.len(),
                        plural(
                            critical.len(),
                            "new critical error signature",
                            "new critical error signatures"
                        ),
                        listed(critical.iter().map(describe))
                    ),
                )
                .evidence(format!("{} new critical", critical.len()), "0 new critical")
            });
        }
        let other: Vec<_> = signatures
            .iter()
            .filter(|e| e.new && !(e.critical && config.rollback_on_new_critical_errors))
            .collect();
        if !other.is_empty() {
            self.findings.push(
                Finding::new(
                    RULE_NEW_ERRORS,
                    config.new_error_verdict,
                    format!(
                        "{} {} in the logs: {}",
                        other.len(),
                        plural(other.len(), "new error signature", "new error signatures"),
                        listed(other.iter().map(describe))
                    ),
                )
                .evidence(format!("{} new", other.len()), "0 new"),
            );
        }
    }

    fn migrations(&mut self) {
        let config = self.config;
        if config.migration_checks.is_empty() {
            return;
        }
        let probes: &[Probe] = self
            .snapshot
            .health
            .as_ref()
            .map(|h| h.probes.as_slice())
            .unwrap_or_default();
        let suites = smoke_suites(self.snapshot);
        let mut passed = Vec::new();
        for name in &config.migration_checks {
            let failure = if let Some(probe) = probes.iter().find(|p| &p.name == name) {
                if probe.results.is_empty() {
                    Err(format!("its health probe `{name}` ran no round"))
                } else {
                    let failed = failed_rounds(probe).len();
                    let rounds = probe.results.len();
                    Ok(
                        too_many(failed, rounds, config.max_failed_probe_rounds).then(|| {
                            format!(
                                "health probe `{name}` failed {failed} of {} rounds",
                                probe.results.len()
                            )
                        }),
                    )
                }
            } else if let Some(suite) = suites.iter().find(|s| &s.name == name) {
                if suite.failures.saturating_add(suite.errors) > 0 {
                    Ok(Some(format!(
                        "smoke suite `{name}` has {} failed and {} errored tests",
                        suite.failures, suite.errors
                    )))
                } else if !ran_tests(suite) {
                    Err(format!("its smoke suite `{name}` ran no test"))
                } else {
                    Ok(None)
                }
            } else {
                Err(format!(
                    "`{name}` is neither a health probe nor a smoke suite in the snapshot"
                ))
            };
            match failure {
                Ok(None) => passed.push(format!("`{name}`")),
                Ok(Some(why)) => self.findings.push(
                    Finding::rollback(
                        RULE_MIGRATION_FAILED,
                        format!("database migration failure: {why}"),
                    )
                    .evidence("failed", format!("`{name}` passes")),
                ),
                Err(why) => self.missing(format!(
                    "migration check `{name}` has no result ({why}): a migration failure would \
                     not be seen"
                )),
            }
        }
        if !passed.is_empty() {
            self.findings.push(Finding::pass(
                RULE_MIGRATION_FAILED,
                format!("migration checks passed: {}", listed(passed.into_iter())),
            ));
        }
    }
}

/// A metric's threshold.
#[derive(Debug, Clone, Copy)]
enum Limit {
    /// A rate that must not be above this.
    Ceiling(f64),
    /// A count that must not be above this.
    Count(u32),
    /// A fraction that must not be below this.
    Floor(f64),
}

impl Limit {
    fn breached(self, v: f64) -> bool {
        match self {
            Limit::Ceiling(max) => v - max > EPSILON,
            Limit::Count(max) => v - f64::from(max) > EPSILON,
            Limit::Floor(min) => min - v > EPSILON,
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Limit::Ceiling(_) | Limit::Floor(_) => percent(v),
            Limit::Count(_) => format!("{v}"),
        }
    }

    fn expected(self) -> String {
        match self {
            Limit::Ceiling(max) => format!("<= {}", percent(max)),
            Limit::Count(max) => format!("<= {max}"),
            Limit::Floor(min) => format!(">= {}", percent(min)),
        }
    }

    fn beyond(self) -> String {
        match self {
            Limit::Ceiling(max) => format!("above the {} ceiling", percent(max)),
            Limit::Count(max) => format!("above {max}: services failing to start"),
            Limit::Floor(min) => format!("below the {} floor", percent(min)),
        }
    }

    fn within(self) -> String {
        match self {
            Limit::Ceiling(max) => format!("within the {} ceiling", percent(max)),
            Limit::Count(max) => format!("within the limit of {max}"),
            Limit::Floor(min) => format!("at or above the {} floor", percent(min)),
        }
    }
}

/// A rate as a percentage: `2.41%`.
fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

fn plural<'s>(n: usize, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// The first few items, then "and N more".
fn listed(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    let mut text = items
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_LISTED {
        text.push_str(&format!(" and {} more", items.len() - MAX_LISTED));
    }
    text
}

shipgate_sdk::export_policy!(Verify);

#[cfg(test)]
mod tests;
