//! A policy with its configuration: what a policy set evaluates. Either
//! every evaluation's fresh instance is configured first, or (after
//! [`Runtime::preinitialise`]) every evaluation starts from a snapshot of an
//! instance taken right after `configure`.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use shipgate_model::{Decision, Snapshot, Stage};

use crate::bindings::Conv;

use super::preinit::{self, PreinitError};
use super::{LoadedPolicy, PolicyConfigError, PolicyInfo, Question, Runtime, Sandbox};
use crate::report::{Failure, FailureKind, Usage};

/// A loaded policy and the configuration it evaluates with, accepted by
/// its `configure`.
#[derive(Clone)]
pub struct ConfiguredPolicy {
    policy: LoadedPolicy,
    config_json: Arc<str>,
    start: Start,
}

/// What every evaluation's instance starts from.
#[derive(Clone)]
enum Start {
    /// The component as built: `configure` runs first in every instance.
    Component,
    /// The snapshot of an instance taken right after `configure`.
    Preinitialised(Sandbox),
}

impl std::fmt::Debug for ConfiguredPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredPolicy")
            .field("sha256", &self.policy.sha256)
            .field("preinitialised", &self.is_preinitialised())
            .finish_non_exhaustive()
    }
}

/// The key a pre-initialised snapshot is cached under: the component and
/// the configuration (the engine is part of every cache entry's key).
fn snapshot_key(component_sha256: &str, config_json: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"shipgate-preinit-v1\n");
    h.update(component_sha256.as_bytes());
    h.update(b"\n");
    h.update(config_json.as_bytes());
    hex::encode(h.finalize())
}

impl Runtime {
    /// Gives a loaded policy its configuration (JSON): the policy's
    /// `configure` checks it in a fresh instance (`Ok(Err(_))` when it
    /// refuses it, with the key). A snapshot pre-initialised with the same
    /// component and configuration by an earlier run, found in the cache,
    /// is used instead.
    pub fn configure(
        &self,
        policy: &LoadedPolicy,
        config_json: &str,
    ) -> Result<Result<ConfiguredPolicy, PolicyConfigError>, Failure> {
        let configured = |start| ConfiguredPolicy {
            policy: policy.clone(),
            config_json: Arc::from(config_json),
            start,
        };
        let key = snapshot_key(&policy.sha256, config_json);
        if let Some(component) = self.cached(&key)
            && let Ok(sandbox) = Sandbox::new(&self.engine, &self.linker, &component, self.budget)
        {
            return Ok(Ok(configured(Start::Preinitialised(sandbox))));
        }
        let (result, _) = policy
            .sandbox
            .call(|p, s| p.shipgate_policy_api().call_configure(s, config_json));
        match result {
            Ok(Ok(())) => Ok(Ok(configured(Start::Component))),
            Ok(Err(e)) => Ok(Err(PolicyConfigError {
                key: e.key,
                message: e.message,
            })),
            Err(failure) => Err(Failure {
                kind: failure.kind,
                message: format!("`configure` failed: {}", failure.message),
            }),
        }
    }

    /// Pre-initialises a configured policy: runs its `configure` once in an
    /// instrumented instance, snapshots the instance's memory and globals
    /// into a new component (wasmtime-wizer), compiles that (through the
    /// cache, keyed by component and configuration) and starts every later
    /// evaluation from it. Worth it for a process that evaluates many times
    /// (it costs a compilation; a cached snapshot is reused by
    /// [`Runtime::configure`] in later runs). A component wizer cannot
    /// snapshot keeps being configured per evaluation; the error says why.
    pub fn preinitialise(&self, policy: &mut ConfiguredPolicy) -> Result<(), PreinitError> {
        if policy.is_preinitialised() {
            return Ok(());
        }
        let key = snapshot_key(&policy.policy.sha256, &policy.config_json);
        let snapshot = preinit::snapshot(self, &policy.policy.bytes, &policy.config_json)?;
        let component = self
            .compile(
                &key,
                &snapshot,
                Some(&format!("{} (pre-initialised)", policy.policy.info.name)),
            )
            .map_err(|e| PreinitError::Compile(e.to_string()))?;
        let sandbox = Sandbox::new(&self.engine, &self.linker, &component, self.budget)
            .map_err(|e| PreinitError::Compile(e.to_string()))?;
        self.counters
            .preinitialised
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        policy.start = Start::Preinitialised(sandbox);
        Ok(())
    }
}

impl ConfiguredPolicy {
    /// What the policy says about itself.
    pub fn info(&self) -> &PolicyInfo {
        self.policy.info()
    }

    /// sha256 of the component, hex.
    pub fn sha256(&self) -> &str {
        self.policy.sha256()
    }

    /// The loaded component.
    pub fn loaded(&self) -> &LoadedPolicy {
        &self.policy
    }

    /// Whether evaluations start from a pre-initialised snapshot.
    pub fn is_preinitialised(&self) -> bool {
        matches!(self.start, Start::Preinitialised(_))
    }

    /// Asks the policy one question, in a fresh instance: the store, the
    /// instance and all their memory are dropped afterwards, nothing
    /// carries over to the next call.
    pub fn evaluate(
        &self,
        stage: Stage,
        snapshot: &Snapshot,
    ) -> (Result<Decision, Failure>, Usage) {
        self.answer(&Question::new(stage, snapshot))
    }

    /// Like [`ConfiguredPolicy::evaluate`], with the snapshot already
    /// converted to the component model's form: several policies asked the
    /// same question share one [`Question`].
    pub fn answer(&self, question: &Question) -> (Result<Decision, Failure>, Usage) {
        let input = &*question.input(self.policy.reads);
        let (result, usage) = match &self.start {
            Start::Preinitialised(sandbox) => {
                sandbox.call(|p, s| p.shipgate_policy_api().call_evaluate(s, input))
            }
            Start::Component => self.policy.sandbox.call(|p, s| {
                let api = p.shipgate_policy_api();
                match api.call_configure(&mut *s, &self.config_json)? {
                    Ok(()) => api.call_evaluate(s, input),
                    // It accepted this configuration at load.
                    Err(e) => Ok(Err(format!(
                        "`configure` refused the configuration it accepted at load: {}: {}",
                        e.key, e.message
                    ))),
                }
            }),
        };
        let result = match result {
            Ok(Ok(decision)) => self.check_output(decision.conv()),
            Ok(Err(message)) => Err(Failure {
                kind: FailureKind::PolicyError,
                message: truncate(&message, 1024),
            }),
            Err(failure) => Err(failure),
        };
        (result, usage)
    }

    /// Enforces the output caps and the decision's own consistency.
    fn check_output(&self, decision: Decision) -> Result<Decision, Failure> {
        let budget = self.policy.sandbox.budget;
        let too_large = |message| Failure {
            kind: FailureKind::OutputTooLarge,
            message,
        };
        if decision.findings.len() > budget.max_findings as usize {
            return Err(too_large(format!(
                "returned {} findings (cap {})",
                decision.findings.len(),
                budget.max_findings
            )));
        }
        let bytes = output_size(&decision);
        if bytes > budget.max_output_bytes {
            return Err(too_large(format!(
                "returned a {bytes}-byte decision (cap {})",
                budget.max_output_bytes
            )));
        }
        if let Some(f) = decision
            .findings
            .iter()
            .find(|f| f.verdict > decision.verdict)
        {
            return Err(Failure {
                kind: FailureKind::InvalidDecision,
                message: format!(
                    "verdict `{}` is more lenient than its finding `{}` (`{}`)",
                    decision.verdict, f.rule, f.verdict
                ),
            });
        }
        Ok(decision)
    }
}

/// The text a decision carries, in bytes (strings plus a small fixed cost
/// per item).
fn output_size(d: &Decision) -> u64 {
    let findings: usize = d
        .findings
        .iter()
        .map(|f| {
            16 + f.rule.len()
                + f.message.len()
                + f.evidence
                    .as_ref()
                    .map_or(0, |e| e.observed.len() + e.expected.len())
                + f.metric.as_ref().map_or(0, String::len)
        })
        .sum();
    let requirements: usize = d
        .requirements
        .iter()
        .map(|r| 16 + r.to_string().len())
        .sum();
    u64::try_from(findings + requirements).unwrap_or(u64::MAX)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}
