//! The built-in policies' machine code, compiled when the binary was built
//! (see the engine's `build.rs`): loaded without Cranelift and without the
//! disk cache, when this engine is configured as the build's was.
//!
//! It is not a cache entry: nobody but whoever can replace the binary can
//! change it, so it is not part of what the cache must distrust. What can
//! differ is the machine: another CPU (its features are part of the engine's
//! fingerprint) gets code it cannot use, which is detected before anything is
//! mapped, and the built-in is compiled (and cached) like any component.

use wasmtime::Engine;
use wasmtime::component::Component;

use super::engine_config;
use crate::builtin::Precompiled;

/// Why a built-in's precompiled code is not used.
#[derive(Debug)]
pub(super) enum Unusable {
    /// It was compiled for another engine fingerprint (another CPU, another
    /// wasmtime, other code settings).
    OtherEngine,
    /// wasmtime refused it.
    Refused(String),
}

impl Unusable {
    /// Says why (the component is compiled next, which the progress line
    /// says): a refused artifact is a fault of the build, worth a warning;
    /// another machine is expected.
    pub(super) fn log(&self, name: &str) {
        match self {
            Unusable::OtherEngine => tracing::debug!(
                "the built-in `{name}` was precompiled for another CPU or engine configuration; \
                 compiling it"
            ),
            Unusable::Refused(e) => tracing::warn!(
                "the precompiled code of the built-in `{name}` cannot be used: {e}; compiling it"
            ),
        }
    }
}

/// The built-in's component from its precompiled code, if this engine can
/// use it.
pub(super) fn deserialize(engine: &Engine, builtin: Precompiled) -> Result<Component, Unusable> {
    if builtin.engine != engine_config::fingerprint(engine) {
        return Err(Unusable::OtherEngine);
    }
    // SAFETY: `Component::deserialize` maps the machine code it is given and
    // runs it. These bytes are our own: the engine's build script wrote them
    // with `Engine::precompile_component` from the built-in component whose
    // sha256 the caller matched, and `include_bytes!` embedded them in this
    // binary's read-only data, which only whoever can replace the binary can
    // change. The fingerprint above says they were compiled with this
    // engine's wasmtime version, code settings and CPU features; wasmtime
    // checks its own header, version and settings again.
    unsafe { Component::deserialize(engine, builtin.artifact) }
        .map_err(|e| Unusable::Refused(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use shipgate_core::config::Limits;
    use shipgate_model::{Snapshot, Stage, Verdict};

    use crate::builtin;
    use crate::runtime::{CacheMode, CacheStats, Runtime};

    fn spike() -> Snapshot {
        let path = shipgate_tests::example_snapshot("canary-error-spike");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The canary's precompiled code, altered by `alter` (once per test
    /// binary: the runtime's seam is a plain function).
    fn canary_with(alter: fn(&mut Vec<u8>)) -> Vec<u8> {
        let sha = crate::runtime::PolicyBytes::new(builtin::get("canary").unwrap())
            .unwrap()
            .sha256()
            .to_owned();
        let mut artifact = builtin::precompiled(&sha).unwrap().artifact.to_vec();
        alter(&mut artifact);
        artifact
    }

    /// A runtime without a cache whose built-ins are looked up by `lookup`.
    fn runtime(lookup: fn(&str) -> Option<builtin::Precompiled>) -> Runtime {
        let mut rt = Runtime::new(&Limits::default(), &CacheMode::Disabled).unwrap();
        rt.precompiled = lookup;
        rt
    }

    /// The canary, loaded and asked about the error spike: it must roll back.
    fn canary_rolls_back(rt: &Runtime) {
        let canary = rt.load(builtin::get("canary").unwrap()).unwrap();
        let canary = rt.configure(&canary, "{}").unwrap().unwrap();
        let (decision, _) = canary.evaluate(Stage::Canary, &spike());
        assert_eq!(decision.unwrap().verdict, Verdict::Rollback);
    }

    /// The canary's precompiled code was not used: it was compiled once
    /// (not taken from a cache, not run as it was) and still rolls back.
    fn compiled_again_and_rolls_back(rt: &Runtime) {
        canary_rolls_back(rt);
        assert_eq!(
            rt.cache_stats(),
            CacheStats {
                compiled: 1,
                ..CacheStats::default()
            }
        );
    }

    #[test]
    fn every_builtin_loads_without_compiling() {
        let rt = Runtime::new(&Limits::default(), &CacheMode::Disabled).unwrap();
        let names: Vec<&str> = builtin::names().collect();
        for name in &names {
            rt.load(builtin::get(name).unwrap()).unwrap();
        }
        assert_eq!(
            rt.cache_stats(),
            CacheStats {
                compiled: 0,
                cache_hits: 0,
                precompiled: names.len() as u64,
                preinitialised: 0,
            }
        );
        canary_rolls_back(&rt);
    }

    #[test]
    fn limits_do_not_change_the_code() {
        // Every limit other than the default: they size the instance pool
        // and the per-evaluation budget, never the code.
        let limits = Limits {
            fuel: 100_000_000,
            deadline_ms: 250,
            memory_mib: 1024,
            max_output_bytes: 4096,
            max_findings: 10,
        };
        let rt = Runtime::new(&limits, &CacheMode::Disabled).unwrap();
        rt.load(builtin::get("env").unwrap()).unwrap();
        assert_eq!(rt.cache_stats().precompiled, 1);
        assert_eq!(rt.cache_stats().compiled, 0);
    }

    #[test]
    fn code_for_another_engine_is_compiled_again() {
        let rt = runtime(|sha| {
            builtin::precompiled(sha).map(|p| builtin::Precompiled {
                engine: "another cpu",
                ..p
            })
        });
        compiled_again_and_rolls_back(&rt);
    }

    #[test]
    fn a_damaged_artifact_is_compiled_again_not_run() {
        static DAMAGED: OnceLock<Vec<u8>> = OnceLock::new();
        DAMAGED.get_or_init(|| {
            canary_with(|a| {
                // The ELF header and the start of what follows.
                a[..256].fill(0);
            })
        });
        let rt = runtime(|sha| {
            builtin::precompiled(sha).map(|p| builtin::Precompiled {
                artifact: DAMAGED.get().map_or(&[], Vec::as_slice),
                ..p
            })
        });
        compiled_again_and_rolls_back(&rt);
    }
}
