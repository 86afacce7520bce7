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
mod configured;
mod engine_config;
mod precompiled;
mod preinit;
mod sandbox;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use shipgate_model::{Section, Snapshot, Stage};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config as EngineConfig, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

pub use cache::CacheMode;
pub use configured::ConfiguredPolicy;
pub use preinit::PreinitError;

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
    /// It does not export `shipgate:policy/api@0.2.0` with the right types.
    #[error("the component does not implement the `shipgate:policy/api@0.2.0` contract: {0}")]
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
    /// Policies pre-initialised (a snapshot taken after `configure`).
    pub preinitialised: u64,
}

#[derive(Debug, Default)]
struct Counters {
    compiled: AtomicU64,
    cache_hits: AtomicU64,
    precompiled: AtomicU64,
    preinitialised: AtomicU64,
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

/// A configuration a policy's `configure` refused.
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
            .max_memory_size(max_memory);
        // Where the kernel can say which pages an evaluation dirtied
        // (PAGEMAP_SCAN, Linux 6.7+), keep slots resident and reset only
        // those; elsewhere keep wasmtime's default (`madvise`): resetting a
        // resident slot with `memset` costs more than the faults it saves.
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.linear_memory_keep_resident(max_memory)
                .table_keep_resident(1 << 20)
                .pagemap_scan(wasmtime::Enabled::Yes);
        }
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
            preinitialised: self.counters.preinitialised.load(Ordering::Relaxed),
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
        let sandbox = Sandbox::new(&self.engine, &self.linker, &component, self.budget)?;
        let mut policy = LoadedPolicy {
            sandbox,
            bytes: Arc::from(bytes),
            sha256,
            info: Arc::default(),
            reads: 0,
        };
        let info = policy.call_info()?;
        policy.reads = reads_mask(&info.reads);
        policy.info = Arc::new(info);
        Ok(policy)
    }

    /// The component cached under `sha256`, if a valid entry is there.
    fn cached(&self, sha256: &str) -> Option<Component> {
        let cache = self.cache.as_ref()?;
        let artifact = cache.get(sha256)?;
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
                Some(c)
            }
            Err(e) => {
                tracing::warn!("discarding cached component {sha256}: {e:#}");
                cache.remove(sha256);
                None
            }
        }
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
        if let Some(component) = self.cached(sha256) {
            return Ok(component);
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

/// One question (a stage and a snapshot), asked of one or more policies.
/// Each policy is given only the sections it declares it reads
/// ([`Snapshot::only`]): converted to the component model's form once per
/// set of sections, and shared by the policies that read the same.
pub struct Question<'a> {
    stage: Stage,
    snapshot: &'a Snapshot,
    /// Every policy is given every section, whatever it declares (a
    /// contract test's second look: [`Question::with_every_section`]).
    every_section: bool,
    /// The inputs made so far, by the sections they carry (one bit each).
    inputs: Mutex<Vec<(u16, Arc<crate::bindings::api::Evaluation>)>>,
}

impl<'a> Question<'a> {
    /// The question `stage` about `snapshot` (nothing is converted yet).
    pub fn new(stage: Stage, snapshot: &'a Snapshot) -> Question<'a> {
        Question {
            stage,
            snapshot,
            every_section: false,
            inputs: Mutex::default(),
        }
    }

    /// The question `stage` about `snapshot`, giving every policy every
    /// section whatever it declares: a policy that decides otherwise here
    /// reads a section it did not declare (`shipgate test` checks this).
    pub fn with_every_section(stage: Stage, snapshot: &'a Snapshot) -> Question<'a> {
        Question {
            every_section: true,
            ..Question::new(stage, snapshot)
        }
    }

    /// The same question (stage, sections given) about another snapshot.
    pub fn about<'b>(&self, snapshot: &'b Snapshot) -> Question<'b> {
        Question {
            every_section: self.every_section,
            ..Question::new(self.stage, snapshot)
        }
    }

    /// The stage asked.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The snapshot asked about.
    pub fn snapshot(&self) -> &'a Snapshot {
        self.snapshot
    }

    /// The input of a policy that reads the sections of `reads` (a
    /// [`reads_mask`]).
    fn input(&self, reads: u16) -> Arc<crate::bindings::api::Evaluation> {
        let reads = if self.every_section {
            reads_mask(&[])
        } else {
            reads
        };
        let mut inputs = self.inputs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, input)) = inputs.iter().find(|(m, _)| *m == reads) {
            return Arc::clone(input);
        }
        let sections: Vec<Section> = Section::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| reads & (1 << i) != 0)
            .map(|(_, s)| *s)
            .collect();
        let input = Arc::new(evaluation(self.stage, self.snapshot.only(&sections)));
        inputs.push((reads, Arc::clone(&input)));
        input
    }
}

/// The sections a policy reads, one bit per [`Section::ALL`] entry; a
/// policy that declares nothing reads everything.
fn reads_mask(sections: &[Section]) -> u16 {
    let all = (1u16 << Section::ALL.len()) - 1;
    let mask = Section::ALL
        .iter()
        .enumerate()
        .filter(|(_, s)| sections.contains(s))
        .fold(0u16, |m, (i, _)| m | 1 << i);
    if mask == 0 { all } else { mask }
}

impl std::fmt::Debug for Question<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Question")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

/// A compiled policy component and the budget every call into it runs
/// with: each call gets a fresh store and a fresh instance.
#[derive(Clone)]
pub(crate) struct Sandbox {
    engine: Engine,
    pre: PolicyPre<State>,
    budget: Budget,
}

impl Sandbox {
    fn new(
        engine: &Engine,
        linker: &Linker<State>,
        component: &Component,
        budget: Budget,
    ) -> Result<Sandbox, LoadError> {
        let instance_pre = linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::Contract(format!("{e:#}")))?;
        let pre =
            PolicyPre::new(instance_pre).map_err(|e| LoadError::Contract(format!("{e:#}")))?;
        Ok(Sandbox {
            engine: engine.clone(),
            pre,
            budget,
        })
    }

    /// Runs `f` against a fresh instance in a fresh store with the budget.
    /// The store, the instance and all their memory are dropped afterwards:
    /// nothing carries over to the next call.
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
}

/// A loaded policy component: compiled, its contract checked, its `info`
/// read. [`Runtime::configure`] gives it a configuration to evaluate with.
#[derive(Clone)]
pub struct LoadedPolicy {
    sandbox: Sandbox,
    /// The component, for pre-initialisation.
    bytes: Arc<[u8]>,
    sha256: String,
    info: Arc<PolicyInfo>,
    /// `info.reads` as a [`reads_mask`].
    reads: u16,
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

    fn call_info(&self) -> Result<PolicyInfo, LoadError> {
        let (result, _) = self
            .sandbox
            .call(|p, s| p.shipgate_policy_api().call_info(s));
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
}
