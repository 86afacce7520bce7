//! A configured set of loaded policies, and the aggregation of their answers
//! into one [`Report`].
//!
//! Aggregation: the strictest enforced verdict wins; the risk is the highest
//! enforced one; advisory policies are evaluated and reported but change
//! nothing; a policy that fails counts, when `fail-closed` (the default), as
//! `no-go` before a deploy and `hold` during a canary, and as `go` when
//! `fail-open`, and is reported either way.
//!
//! A decision nobody made is never `go` (as OPA's undefined is a deny): when
//! no enforced policy answers the stage asked (none is configured for it,
//! or every policy is advisory), the report is `no-go` at the gate and the
//! risk stage (the risk is unknown) and `hold` in a canary, with a
//! [`UNDECIDED_RULE`] finding naming the stage. A configuration with no
//! policy at all cannot decide anything and is refused at load.

pub mod floors;
pub mod preflight;
pub mod rules_stages;
pub mod waivers;

use std::sync::atomic::{AtomicU8, Ordering};

use sha2::{Digest, Sha256};
use shipgate_model::{Finding, Snapshot, Stage, Verdict};

use crate::builtin;
use crate::config::{BundleOrigin, Config, ConfigError, Mode, OnError, PolicyConfig, PolicySource};
use crate::report::{
    Failure, PolicyOutcome, PolicyReport, Report, ReportedFinding, Subject, Usage,
};
use crate::runtime::{
    CacheMode, ConfiguredPolicy, PolicyBytes, PreinitError, Question, Runtime, RuntimeError,
};

/// Why a policy set could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The configuration is wrong (including a policy's own
    /// `configure` refusing its table).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The runtime could not start.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// One configured policy.
#[derive(Debug)]
struct Entry {
    config: PolicyConfig,
    /// The loaded and configured policy, or why it could not be loaded (a
    /// fail-closed failure at evaluation, not a refusal to start).
    loaded: Result<ConfiguredPolicy, Failure>,
    stages: Vec<Stage>,
}

/// The rule id of the finding the host adds when no enforced policy answers
/// the stage asked.
pub const UNDECIDED_RULE: &str = "shipgate.undecided";

/// The name findings made by the host itself (not by a policy) carry.
pub const HOST_FINDINGS: &str = "shipgate";

/// The policies of a configuration, loaded and checked.
#[derive(Debug)]
pub struct PolicySet {
    runtime: Runtime,
    entries: Vec<Entry>,
    /// The floors of the configuration's layers.
    floors: crate::config::layering::Floors,
    /// The configuration's verified exceptions.
    waivers: Vec<crate::config::waivers::Waiver>,
    /// The stages already warned about as undecided (one bit per stage), so
    /// that a watch warns once, not every interval.
    warned: AtomicU8,
}

impl PolicySet {
    /// Loads every policy of `config` and checks its configuration with its
    /// own `configure`.
    ///
    /// Refuses to start (returns `Err`) on a configuration error: an unknown
    /// built-in, an unreadable file, a pinned digest that does not match, a
    /// config table the policy rejects, no policy at all (such a
    /// configuration could never decide anything), or a metric an enforced
    /// policy needs that `[sources.prometheus]` does not collect
    /// ([`preflight`]). A component that cannot be loaded (it imports
    /// something, traps in `info`, ...) does not stop the others: it is
    /// reported as a failed policy at every evaluation.
    ///
    /// Every policy advisory is allowed (a trial run), with a warning: each
    /// stage is then undecided (`no-go` / `hold`).
    pub fn load(config: &Config, cache: &CacheMode) -> Result<PolicySet, SetupError> {
        if config.policies.is_empty() {
            return Err(SetupError::Config(ConfigError {
                file: config.file_name().to_owned(),
                line: 0,
                column: 0,
                key: None,
                message: "no policy is configured: nothing can decide a deployment, and \
                          a decision nobody made is never `go`"
                    .into(),
                help: Some(
                    "add `[[policies]]`, e.g. the built-ins (`source = \"builtin:canary\"`, \
                     `builtin:readiness`, `builtin:risk`, `builtin:env`, `builtin:window`, \
                     `builtin:verify`), or start from a profile in examples/profiles/"
                        .into(),
                ),
            }));
        }
        let runtime = Runtime::new(&config.limits, cache)?;
        let mut entries = Vec::with_capacity(config.policies.len());
        for (index, policy) in config.policies.iter().enumerate() {
            entries.push(load_entry(&runtime, config, index, policy)?);
        }
        if entries.iter().all(|e| e.config.mode == Mode::Advisory) {
            tracing::warn!(
                "{}: every configured policy is advisory: no stage can be decided, so every \
                 evaluation is `no-go` (`hold` in a canary); make at least one policy \
                 `mode = \"enforce\"`",
                config.file_name()
            );
        }
        let set = PolicySet {
            runtime,
            entries,
            floors: config.floors.clone(),
            waivers: config.waivers.clone(),
            warned: AtomicU8::new(0),
        };
        preflight::check(config, &set)?;
        Ok(set)
    }

    /// Whether an enforced policy answers `stage`; when none does, every
    /// evaluation of the stage is undecided (`no-go`, or `hold` in a
    /// canary).
    pub fn decides(&self, stage: Stage) -> bool {
        self.entries
            .iter()
            .any(|e| e.config.mode == Mode::Enforce && e.stages.contains(&stage))
    }

    /// The runtime the policies run in.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The loaded policies by configured name (failed loads are left out).
    pub fn policies(&self) -> impl Iterator<Item = (&str, &ConfiguredPolicy)> {
        self.entries
            .iter()
            .filter_map(|e| e.loaded.as_ref().ok().map(|p| (e.config.name.as_str(), p)))
    }

    /// Pre-initialises every loaded policy (see
    /// [`Runtime::preinitialise`]): each evaluation then starts from a
    /// snapshot taken after the policy's `configure`, instead of configuring
    /// a fresh instance first. For a process that evaluates many times (a
    /// watch, a service, a benchmark); it compiles each snapshot once
    /// (cached). Returns the policies that could not be pre-initialised,
    /// with why: they keep being evaluated as before.
    pub fn preinitialise(&mut self) -> Vec<(String, PreinitError)> {
        let mut failed = Vec::new();
        for entry in &mut self.entries {
            if let Ok(policy) = &mut entry.loaded
                && let Err(e) = self.runtime.preinitialise(policy)
            {
                tracing::debug!("policy `{}` is not pre-initialised: {e}", entry.config.name);
                failed.push((entry.config.name.clone(), e));
            }
        }
        failed
    }

    /// Asks every policy that answers `stage` about `snapshot`, each in a
    /// fresh sandbox given only the sections it declares, and aggregates the
    /// answers.
    pub fn evaluate(&self, stage: Stage, snapshot: &Snapshot) -> Report {
        self.ask(&Question::new(stage, snapshot))
    }

    /// As [`PolicySet::evaluate`], but every policy is given every section
    /// whatever it declares: a policy whose answer differs from
    /// [`PolicySet::evaluate`]'s reads a section it did not declare (and so
    /// decides, in production, on a section it is never given).
    pub fn evaluate_with_every_section(&self, stage: Stage, snapshot: &Snapshot) -> Report {
        self.ask(&Question::with_every_section(stage, snapshot))
    }

    /// Asks `question` of every policy (converted once, shared by all) and
    /// aggregates the answers.
    fn ask(&self, question: &Question) -> Report {
        let (stage, snapshot) = (question.stage(), question.snapshot());
        let policies: Vec<PolicyReport> = self
            .entries
            .iter()
            .map(|entry| {
                // A policy counts only its own results in the rollout's
                // history: it is given the intervals as it found them.
                let own = if entry.stages.contains(&stage) {
                    snapshot.seen_by(&entry.config.name)
                } else {
                    None
                };
                match own {
                    Some(own) => evaluate_entry(entry, stage, &question.about(&own)),
                    None => evaluate_entry(entry, stage, question),
                }
            })
            .collect();
        let exceptions = waivers::judge(&self.waivers, snapshot);
        let mut policies = policies;
        waivers::loosen(&mut policies, &exceptions);
        let mut report = aggregate(stage, snapshot, policies);
        waivers::mark(&mut report, &exceptions);
        report.exceptions = exceptions;
        floors::apply(&mut report, &self.floors, snapshot);
        self.warn_once_if_undecided(&report);
        report
    }

    /// Says on stderr, the first time a stage is asked, that nothing decides
    /// it.
    fn warn_once_if_undecided(&self, report: &Report) {
        let Some(finding) = report
            .findings
            .iter()
            .find(|f| f.policy == HOST_FINDINGS && f.finding.rule == UNDECIDED_RULE)
        else {
            return;
        };
        let index = Stage::ALL.iter().position(|s| *s == report.stage);
        let bit = 1u8 << index.unwrap_or(0);
        if self.warned.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
            tracing::warn!("{}", finding.finding.message);
        }
    }
}

fn load_entry(
    runtime: &Runtime,
    config: &Config,
    index: usize,
    policy: &PolicyConfig,
) -> Result<Entry, ConfigError> {
    let key_error = |key: &str, message: String, help: Option<String>| {
        let mut err = config.policy_error(index, key, &message);
        err.help = help;
        err
    };
    let bytes: Vec<u8> = match &policy.source {
        PolicySource::Builtin(name) => builtin::get(name)
            .ok_or_else(|| {
                key_error(
                    "source",
                    format!("unknown built-in policy `{name}`"),
                    Some(format!(
                        "the built-in policies are: {}",
                        builtin::names().collect::<Vec<_>>().join(", ")
                    )),
                )
            })?
            .to_vec(),
        PolicySource::Path(path) => std::fs::read(path).map_err(|e| {
            key_error(
                "source",
                format!("cannot read `{}`: {e}", path.display()),
                None,
            )
        })?,
    };
    // The pin first, on the bytes: a component that is not the pinned one
    // is never compiled, cached or run.
    let component = PolicyBytes::new(&bytes).map(|c| c.named(&policy.name));
    if let Some(pinned) = &policy.sha256 {
        let actual = match &component {
            Ok(c) => c.sha256().to_owned(),
            Err(_) => hex::encode(Sha256::digest(&bytes)),
        };
        if *pinned != actual {
            return Err(key_error(
                "sha256",
                format!("the component's sha256 is `{actual}`, not the pinned `{pinned}`"),
                Some("if the policy was updated on purpose, pin the new digest".into()),
            ));
        }
    }
    let config_json = policy.config.to_string();
    let loaded = match component.and_then(|c| runtime.load_component(c)) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("policy `{}` failed to load: {e}", policy.name);
            return Ok(Entry {
                stages: policy.stages.clone().unwrap_or_else(|| Stage::ALL.to_vec()),
                config: policy.clone(),
                loaded: Err(e.to_failure()),
            });
        }
    };
    let loaded = match runtime.configure(&loaded, &config_json) {
        Ok(Ok(configured)) => Ok(configured),
        Ok(Err(e)) => return Err(config.policy_key_error(index, &e.key, &e.message)),
        Err(failure) => Err(failure),
    };
    let stages = match (&policy.stages, &loaded) {
        (Some(stages), _) => stages.clone(),
        (None, Ok(p)) => rules_stages::narrowed(policy, &p.info().stages),
        (None, Err(_)) => Stage::ALL.to_vec(),
    };
    Ok(Entry {
        config: policy.clone(),
        loaded,
        stages,
    })
}

/// The verdict a failed policy counts as.
pub fn failure_verdict(stage: Stage, on_error: OnError) -> Verdict {
    match (on_error, stage) {
        (OnError::FailOpen, _) => Verdict::Go,
        (OnError::FailClosed, Stage::Canary | Stage::Verify) => Verdict::Hold,
        (OnError::FailClosed, Stage::Gate | Stage::Risk) => Verdict::NoGo,
    }
}

fn evaluate_entry(entry: &Entry, stage: Stage, question: &Question) -> PolicyReport {
    let cfg = &entry.config;
    let sha256 = entry
        .loaded
        .as_ref()
        .map(|p| p.sha256().to_owned())
        .unwrap_or_default();
    let (outcome, usage) = if !entry.stages.contains(&stage) {
        (PolicyOutcome::Skipped, Usage::default())
    } else {
        match &entry.loaded {
            Err(failure) => (PolicyOutcome::Failed(failure.clone()), Usage::default()),
            Ok(policy) => {
                let (result, usage) = policy.answer(question);
                let outcome = match result {
                    Ok(decision) => PolicyOutcome::Decided(decision),
                    Err(failure) => {
                        tracing::warn!(
                            "policy `{}` failed ({}): {}",
                            cfg.name,
                            failure.kind,
                            failure.message
                        );
                        PolicyOutcome::Failed(failure)
                    }
                };
                (outcome, usage)
            }
        }
    };
    let verdict = match &outcome {
        PolicyOutcome::Decided(d) => Some(d.verdict),
        PolicyOutcome::Failed(_) => Some(failure_verdict(stage, cfg.on_error)),
        PolicyOutcome::Skipped => None,
    };
    PolicyReport {
        name: cfg.name.clone(),
        mode: cfg.mode,
        on_error: cfg.on_error,
        sha256,
        counted: cfg.mode == Mode::Enforce && verdict.is_some(),
        outcome,
        verdict,
        usage,
        bundle: cfg.bundle.clone(),
    }
}

/// The verdict of a stage no enforced policy answers: what a fail-closed
/// failure counts as (`no-go` at the gate and the risk stage, `hold` in a
/// canary).
pub fn undecided_verdict(stage: Stage) -> Verdict {
    failure_verdict(stage, OnError::FailClosed)
}

/// The host's finding for a stage no enforced policy answered, saying why.
fn undecided_finding(stage: Stage, policies: &[PolicyReport]) -> Finding {
    let verdict = undecided_verdict(stage);
    let names = |advisory: bool| {
        policies
            .iter()
            .filter(|p| (p.mode == Mode::Advisory) == advisory)
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let why = if policies.is_empty() {
        "no policy is configured".to_owned()
    } else if policies.iter().all(|p| p.mode == Mode::Advisory) {
        format!(
            "every configured policy is advisory ({}), and advisory verdicts do not count",
            names(true)
        )
    } else {
        format!(
            "the enforced policies ({}) do not answer it (see their `stages`)",
            names(false)
        )
    };
    let consequence = match stage {
        Stage::Risk => "the risk is unknown",
        _ => "a decision nobody made is never `go`",
    };
    Finding::new(
        UNDECIDED_RULE,
        verdict,
        format!(
            "no enforced policy answers the `{stage}` stage: {why}; {consequence}, so the \
             verdict is `{verdict}` until an enforced policy decides this stage"
        ),
    )
}

/// Combines policy reports into one report.
///
/// The verdict is the strictest of the counted ones; when no policy counted
/// (none enforced answers the stage) it is [`undecided_verdict`], with a
/// [`UNDECIDED_RULE`] finding by [`HOST_FINDINGS`] first among the findings.
pub fn aggregate(stage: Stage, snapshot: &Snapshot, policies: Vec<PolicyReport>) -> Report {
    let counted = || policies.iter().filter(|p| p.counted);
    let undecided = counted().next().is_none();
    let verdict = counted()
        .filter_map(|p| p.verdict)
        .max()
        .unwrap_or_else(|| undecided_verdict(stage));
    let decisions = || {
        counted().filter_map(|p| match &p.outcome {
            PolicyOutcome::Decided(d) => Some(d),
            _ => None,
        })
    };
    let risk = decisions().filter_map(|d| d.risk).max();
    let mut requirements = Vec::new();
    for r in decisions().flat_map(|d| &d.requirements) {
        if !requirements.contains(r) {
            requirements.push(r.clone());
        }
    }
    let mut findings: Vec<ReportedFinding> = Vec::new();
    if undecided {
        findings.push(ReportedFinding {
            policy: HOST_FINDINGS.to_owned(),
            advisory: false,
            finding: undecided_finding(stage, &policies),
        });
    }
    for advisory in [false, true] {
        for p in policies
            .iter()
            .filter(|p| (p.mode == Mode::Advisory) == advisory)
        {
            if let PolicyOutcome::Decided(d) = &p.outcome {
                findings.extend(d.findings.iter().map(|f| ReportedFinding {
                    policy: p.name.clone(),
                    advisory,
                    finding: f.clone(),
                }));
            }
        }
    }
    let mut bundles: Vec<BundleOrigin> = Vec::new();
    for origin in policies.iter().filter_map(|p| p.bundle.as_ref()) {
        if !bundles.contains(origin) {
            bundles.push(origin.clone());
        }
    }
    Report {
        stage,
        verdict,
        risk,
        subject: Subject::of(snapshot),
        findings,
        requirements,
        policies,
        gaps: snapshot.gaps.clone(),
        bundles,
        exceptions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Usage;

    fn snapshot() -> Snapshot {
        serde_json::from_str(include_str!(
            "../../../../examples/snapshots/canary-healthy.json"
        ))
        .unwrap()
    }

    fn report(
        name: &str,
        mode: Mode,
        outcome: PolicyOutcome,
        verdict: Option<Verdict>,
    ) -> PolicyReport {
        PolicyReport {
            name: name.into(),
            mode,
            on_error: OnError::FailClosed,
            sha256: String::new(),
            counted: mode == Mode::Enforce && verdict.is_some(),
            outcome,
            verdict,
            usage: Usage::default(),
            bundle: None,
        }
    }

    fn undecided(r: &Report) -> Option<&ReportedFinding> {
        r.findings.iter().find(|f| f.finding.rule == UNDECIDED_RULE)
    }

    #[test]
    fn nothing_counted_is_never_go() {
        for (stage, verdict) in [
            (Stage::Gate, Verdict::NoGo),
            (Stage::Canary, Verdict::Hold),
            (Stage::Risk, Verdict::NoGo),
        ] {
            let skipped = report("canary", Mode::Enforce, PolicyOutcome::Skipped, None);
            let advisory = report(
                "window",
                Mode::Advisory,
                PolicyOutcome::Decided(shipgate_model::Decision::go()),
                Some(Verdict::Go),
            );
            for policies in [vec![], vec![skipped.clone()], vec![advisory.clone()]] {
                let r = aggregate(stage, &snapshot(), policies);
                assert_eq!(r.verdict, verdict, "{stage}");
                assert_eq!(r.risk, None);
                let f = undecided(&r).unwrap();
                assert_eq!(f.policy, HOST_FINDINGS);
                assert_eq!(f.finding.verdict, verdict);
                assert!(!f.advisory);
                assert!(f.finding.message.contains(&format!("`{stage}` stage")));
            }
        }
    }

    #[test]
    fn an_enforced_answer_leaves_no_undecided_finding() {
        let go = report(
            "canary",
            Mode::Enforce,
            PolicyOutcome::Decided(shipgate_model::Decision::go()),
            Some(Verdict::Go),
        );
        let r = aggregate(Stage::Canary, &snapshot(), vec![go]);
        assert_eq!(r.verdict, Verdict::Go);
        assert!(undecided(&r).is_none());
    }
}
