//! The sandboxed WebAssembly runtime: one engine, the built-ins' machine
//! code precompiled into the binary, other components compiled once and
//! cached on disk, and a fresh store per evaluation.
//!
//! A policy gets nothing from the host: the linker is empty, and a component
//! with any import is refused at load, naming the import. Every call runs
//! with a fuel budget (deterministic), an epoch deadline (a wall-clock
//! backstop), a memory cap and a cap on what it may return. Whatever goes
//! wrong becomes a [`Failure`] of that policy, never a host panic.

mod cache;
mod engine_config;
mod precompiled;
mod sandbox;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use shipgate_model::{Decision, Section, Snapshot, Stage};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config as EngineConfig, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

pub use cache::CacheMode;

use crate::bindings::{Conv, Policy, PolicyPre, evaluation};
use crate::builtin;
use crate::config::Limits;
use crate::report::{Failure, FailureKind, Usage};
use cache::Cache;
use sandbox::{Budget, EpochTicker, State, classify, fuel_used, new_store};

/// The most policy instances alive at once (one per concurrent evaluation).
const POOL_INSTANCES: u32 = 64;

/// The stack a policy may use.
const MAX_WASM_STACK: usize = 512 * 1024;

/// The `tracing` target of progress lines (a policy compiled at load): the
/// command line shows them by default.
pub const PROGRESS_TARGET: &str = "shipgate::progress";

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime refused the engine configuration.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// The epoch thread could not be started.
    #[error("cannot start the deadline timer: {0}")]
    Ticker(std::io::Error),
}

/// Why a component could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Neither a core module nor a component.
    #[error("not a WebAssembly component or module")]
    NotWasm,
    /// A core module that could not be made into a component.
    #[error("{0}")]
    Componentize(String),
    /// The component imports something; a policy must import nothing.
    #[error("the component imports {}; a policy must import nothing", list(.0))]
    Imports(Vec<String>),
    /// wasmtime could not compile it.
    #[error("cannot compile the component: {0}")]
    Compile(String),
    /// It does not export `shipgate:policy/api@0.1.0` with the right types.
    #[error("the component does not implement the `shipgate:policy/api@0.1.0` contract: {0}")]
    Contract(String),
    /// `info` failed.
    #[error("`info` failed: {0}")]
    Info(String),
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl LoadError {
    /// The load error as a policy failure (kind `load`).
    pub fn to_failure(&self) -> Failure {
        Failure {
            kind: FailureKind::Load,
            message: self.to_string(),
        }
    }
}

/// How components got their machine code: compiled, taken from the cache,
/// or precompiled into the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Components compiled by Cranelift.
    pub compiled: u64,
    /// Components deserialized from the on-disk cache.
    pub cache_hits: u64,
    /// Built-in policies whose machine code was compiled when the binary
    /// was built (neither compiled nor read from the cache).
    pub precompiled: u64,
}

#[derive(Debug, Default)]
struct Counters {
    compiled: AtomicU64,
    cache_hits: AtomicU64,
    precompiled: AtomicU64,
}

/// What a policy says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct PolicyInfo {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// One sentence.
    pub description: String,
    /// The stages it answers.
    pub stages: Vec<Stage>,
    /// The snapshot sections it reads.
    pub reads: Vec<Section>,
    /// The rules it declares it can report (empty when it does not say).
    pub rules: Vec<RuleInfo>,
}

/// A rule a policy declares.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct RuleInfo {
    /// The id its findings carry.
    pub id: String,
    /// What makes it fire.
    pub description: String,
}

/// A configuration a policy's `validate-config` refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfigError {
    /// The dotted key path inside the policy's config; empty for all of it.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The runtime: a wasmtime engine set up for policies.
pub struct Runtime {
    engine: Engine,
    linker: Arc<Linker<State>>,
    cache: Option<Cache>,
    counters: Arc<Counters>,
    /// Where built-ins' machine code is looked up (a seam for tests).
    precompiled: fn(&str) -> Option<builtin::Precompiled>,
    budget: Budget,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache", &self.cache)
            .field("budget", &self.budget)
            .field("stats", &self.cache_stats())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime with these limits, caching compiled components as `cache`
    /// says. A cache directory that cannot be opened, or that another user
    /// owns or may write, is not used (one warning; components are compiled
    /// in memory): the cache only saves time.
    pub fn new(limits: &Limits, cache: &CacheMode) -> Result<Runtime, RuntimeError> {
        let max_memory =
            usize::try_from(u64::from(limits.memory_mib) * 1024 * 1024).unwrap_or(usize::MAX);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 8)
            .total_memories(POOL_INSTANCES)
            .total_tables(POOL_INSTANCES * 2)
            .max_memory_size(max_memory)
            .linear_memory_keep_resident(max_memory)
            .table_keep_resident(1 << 20)
            .pagemap_scan(wasmtime::Enabled::Auto);
        let mut cfg = EngineConfig::new();
        // What changes compiled code is set in `engine_config` only (the
        // built-ins are precompiled with it); here only what does not.
        engine_config::code_settings(&mut cfg)
            .max_wasm_stack(MAX_WASM_STACK)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let cache = cache
            .resolve()
            .and_then(|dir| match Cache::open(&dir, &engine) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(
                        "component cache `{}` not used: {e}; compiling in memory",
                        dir.display()
                    );
                    None
                }
            });
        let ticker = EpochTicker::start(&engine).map_err(RuntimeError::Ticker)?;
        Ok(Runtime {
            linker: Arc::new(Linker::new(&engine)),
            engine,
            cache,
            counters: Arc::default(),
            precompiled: builtin::precompiled,
            budget: Budget {
                fuel: limits.fuel,
                deadline: Duration::from_millis(limits.deadline_ms),
                max_memory,
                max_output_bytes: limits.max_output_bytes,
                max_findings: limits.max_findings,
            },
            _ticker: ticker,
        })
    }

    /// How components got their machine code so far.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            compiled: self.counters.compiled.load(Ordering::Relaxed),
            cache_hits: self.counters.cache_hits.load(Ordering::Relaxed),
            precompiled: self.counters.precompiled.load(Ordering::Relaxed),
        }
    }

    /// The cache directory in use, if any.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache.as_ref().map(Cache::path)
    }

    /// Loads a policy from a component, or from a core module built with the
    /// SDK (turned into a component here), and asks it for its `info`.
    pub fn load(&self, bytes: &[u8]) -> Result<LoadedPolicy, LoadError> {
        self.load_component(PolicyBytes::new(bytes)?)
    }

    /// Loads a component [`PolicyBytes::new`] prepared (whose digest the
    /// caller may have checked against a pin first): refuses imports,
    /// compiles it (or takes it from the cache) and asks it for its `info`.
    pub fn load_component(&self, component: PolicyBytes) -> Result<LoadedPolicy, LoadError> {
        let PolicyBytes {
            bytes,
            sha256,
            name,
        } = component;
        let imports = shipgate_build::component_imports(&bytes)
            .map_err(|e| LoadError::Compile(e.to_string()))?;
        if !imports.is_empty() {
            return Err(LoadError::Imports(imports));
        }
        let component = self.compile(&sha256, &bytes, name.as_deref())?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Contract(format!("{e:#}")))?;
        let pre =
            PolicyPre::new(instance_pre).map_err(|e| LoadError::Contract(format!("{e:#}")))?;
        let mut policy = LoadedPolicy {
            engine: self.engine.clone(),
            pre,
            budget: self.budget,
            sha256,
            info: PolicyInfo::default(),
        };
        policy.info = policy.call_info()?;
        Ok(policy)
    }

    /// The machine code of a component: a built-in's precompiled code if
    /// this engine can use it, else the cached artifact, else Cranelift's
    /// (said on stderr first, and cached). `name` names it in that line.
    fn compile(
        &self,
        sha256: &str,
        bytes: &[u8],
        name: Option<&str>,
    ) -> Result<Component, LoadError> {
        let builtin = (self.precompiled)(sha256);
        if let Some(builtin) = builtin {
            match precompiled::deserialize(&self.engine, builtin) {
                Ok(c) => {
                    self.counters.precompiled.fetch_add(1, Ordering::Relaxed);
                    return Ok(c);
                }
                Err(e) => e.log(builtin.name),
            }
        }
        if let Some(cache) = &self.cache
            && let Some(artifact) = cache.get(sha256)
        {
            // SAFETY: `Cache::get` returns only an artifact that was
            // written by `Component::serialize` for this very component and
            // engine configuration: it is read without following links from
            // a directory and a file owned by the current user and writable
            // by nobody else, and its header's key (component sha256, engine
            // fingerprint) and artifact sha256 were checked (see
            // `cache.rs`). wasmtime checks its own header and version too.
            match unsafe { Component::deserialize(&self.engine, &artifact) } {
                Ok(c) => {
                    self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(c);
                }
                Err(e) => {
                    tracing::warn!("discarding cached component {sha256}: {e:#}");
                    cache.remove(sha256);
                }
            }
        }
        let what = match (builtin, name) {
            (Some(b), _) => format!("the built-in policy `{}`", b.name),
            (None, Some(name)) => format!("policy `{name}`"),
            (None, None) => format!("component `{}`", sha256.get(..12).unwrap_or(sha256)),
        };
        let next_time = match &self.cache {
            Some(_) => "once: it is cached for next time",
            None => "again on every start: the component cache is off",
        };
        tracing::info!(
            target: PROGRESS_TARGET,
            "compiling {what} ({} KiB) to machine code, {next_time}",
            bytes.len().div_ceil(1024)
        );
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        self.counters.compiled.fetch_add(1, Ordering::Relaxed);
        if let Some(cache) = &self.cache {
            match component.serialize() {
                Ok(artifact) => {
                    if let Err(e) = cache.put(sha256, &artifact) {
                        tracing::warn!("cannot write {}: {e}", cache.path().display());
                    }
                }
                Err(e) => tracing::warn!("cannot serialize component {sha256}: {e:#}"),
            }
        }
        Ok(component)
    }
}

/// A policy's component bytes and their sha256, before anything is compiled
/// or run: what a `sha256` pin is checked against.
#[derive(Debug, Clone)]
pub struct PolicyBytes {
    bytes: Vec<u8>,
    sha256: String,
    name: Option<String>,
}

impl PolicyBytes {
    /// The component of `bytes`: a component as is, a core module built with
    /// the SDK turned into one (no compilation happens here).
    pub fn new(bytes: &[u8]) -> Result<PolicyBytes, LoadError> {
        let bytes = match shipgate_build::wasm_kind(bytes) {
            Ok(shipgate_build::WasmKind::Component) => bytes.to_vec(),
            Ok(shipgate_build::WasmKind::Module) => shipgate_build::componentize(bytes)
                .map_err(|e| LoadError::Componentize(e.to_string()))?,
            Err(_) => return Err(LoadError::NotWasm),
        };
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(PolicyBytes {
            bytes,
            sha256,
            name: None,
        })
    }

    /// Names the policy in what the runtime says about it (the line printed
    /// while it is compiled).
    pub fn named(mut self, name: &str) -> PolicyBytes {
        self.name = Some(name.to_owned());
        self
    }

    /// sha256 of the component, hex (what reports show and pins name).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// One question (a stage and a snapshot) in the component model's form,
/// converted once and asked of every policy of a set.
pub struct Question {
    input: crate::bindings::api::Evaluation,
}

impl Question {
    /// Converts the snapshot for asking `stage`.
    pub fn new(stage: Stage, snapshot: &Snapshot) -> Question {
        Question {
            input: evaluation(stage, snapshot, ""),
        }
    }
}

impl std::fmt::Debug for Question {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Question").finish_non_exhaustive()
    }
}

/// A loaded policy, ready to be instantiated for each evaluation.
#[derive(Clone)]
pub struct LoadedPolicy {
    engine: Engine,
    pre: PolicyPre<State>,
    budget: Budget,
    sha256: String,
    info: PolicyInfo,
}

impl std::fmt::Debug for LoadedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPolicy")
            .field("sha256", &self.sha256)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LoadedPolicy {
    /// What the policy says about itself.
    pub fn info(&self) -> &PolicyInfo {
        &self.info
    }

    /// sha256 of the component, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Runs `f` against a fresh instance in a fresh store with the budget.
    fn call<T>(
        &self,
        f: impl FnOnce(&Policy, &mut wasmtime::Store<State>) -> wasmtime::Result<T>,
    ) -> (Result<T, Failure>, Usage) {
        let start = Instant::now();
        let mut store = match new_store(&self.engine, self.budget) {
            Ok(s) => s,
            Err(failure) => return (Err(failure), Usage::default()),
        };
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|policy| f(&policy, &mut store))
            .map_err(|e| classify(&e, &store, self.budget));
        let usage = Usage {
            fuel: fuel_used(&store, self.budget),
            micros: u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        };
        (result, usage)
    }

    fn call_info(&self) -> Result<PolicyInfo, LoadError> {
        let (result, _) = self.call(|p, s| p.shipgate_policy_api().call_info(s));
        let info = result.map_err(|f| LoadError::Info(format!("{} ({})", f.message, f.kind)))?;
        Ok(PolicyInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            stages: info.stages.conv(),
            reads: info.reads.conv(),
            rules: info
                .rules
                .into_iter()
                .map(|r| RuleInfo {
                    id: r.id,
                    description: r.description,
                })
                .collect(),
        })
    }

    /// Asks the policy whether it accepts this configuration (JSON).
    pub fn validate_config(
        &self,
        config_json: &str,
    ) -> Result<Result<(), PolicyConfigError>, Failure> {
        let (result, _) =
            self.call(|p, s| p.shipgate_policy_api().call_validate_config(s, config_json));
        result.map(|r| {
            r.map_err(|e| PolicyConfigError {
                key: e.key,
                message: e.message,
            })
        })
    }

    /// Asks the policy one question. The store, the instance and all their
    /// memory are dropped afterwards: nothing carries over to the next call.
    pub fn evaluate(
        &self,
        stage: Stage,
        snapshot: &Snapshot,
        config_json: &str,
    ) -> (Result<Decision, Failure>, Usage) {
        self.answer(&mut Question::new(stage, snapshot), config_json)
    }

    /// Like [`LoadedPolicy::evaluate`], with the snapshot already converted
    /// to the component model's form: several policies asked the same
    /// question share one [`Question`].
    pub fn answer(
        &self,
        question: &mut Question,
        config_json: &str,
    ) -> (Result<Decision, Failure>, Usage) {
        question.input.config.clear();
        question.input.config.push_str(config_json);
        let input = &question.input;
        let (result, usage) = self.call(|p, s| p.shipgate_policy_api().call_evaluate(s, input));
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
        let too_large = |message| Failure {
            kind: FailureKind::OutputTooLarge,
            message,
        };
        if decision.findings.len() > self.budget.max_findings as usize {
            return Err(too_large(format!(
                "returned {} findings (cap {})",
                decision.findings.len(),
                self.budget.max_findings
            )));
        }
        let bytes = output_size(&decision);
        if bytes > self.budget.max_output_bytes {
            return Err(too_large(format!(
                "returned a {bytes}-byte decision (cap {})",
                self.budget.max_output_bytes
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
