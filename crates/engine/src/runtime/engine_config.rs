//! The part of the wasmtime engine configuration that decides the machine
//! code, and the fingerprint that names it.
//!
//! This one file is compiled twice: into the engine (`runtime::engine_config`)
//! and into the engine's build script (`#[path]`), which precompiles the
//! built-in policies with it. Precompiled code can only be used by an engine
//! configured the same way, so every setting that changes compiled code must
//! be made here, never in `Runtime::new` (which adds only what does not:
//! the instance pool, the wasm stack). The test
//! `every_builtin_loads_without_compiling` fails if they drift apart.
//!
//! The build script's wasmtime is a build-dependency, whose cargo features
//! are resolved apart from the engine's: wasmtime derives some defaults from
//! its cargo features (GC, threads, component-model async), so these are set
//! explicitly here to the same value in both.
//!
//! It may use only `std`, `wasmtime`, `sha2` and `hex` (the build script's
//! dependencies).

use std::hash::{Hash, Hasher};

use sha2::{Digest, Sha256};
use wasmtime::WasmFeatures;

/// Wasm features whose default depends on wasmtime's cargo features: none of
/// them is used by a policy, all are off.
const FEATURE_DEPENDENT: WasmFeatures = WasmFeatures::GC_TYPES
    .union(WasmFeatures::GC)
    .union(WasmFeatures::EXCEPTIONS)
    .union(WasmFeatures::THREADS)
    .union(WasmFeatures::SHARED_EVERYTHING_THREADS)
    .union(WasmFeatures::CM_ASYNC)
    .union(WasmFeatures::CM_MORE_ASYNC_BUILTINS)
    .union(WasmFeatures::CM_ASYNC_STACKFUL)
    .union(WasmFeatures::CM_THREADING)
    .union(WasmFeatures::CM_ERROR_CONTEXT);

/// Sets, on `cfg`, everything that affects the code compiled for a policy:
/// the component model, fuel metering and epoch checks compiled into every
/// loop and call, Cranelift at full speed, and the feature-dependent
/// defaults pinned.
pub fn code_settings(cfg: &mut wasmtime::Config) -> &mut wasmtime::Config {
    cfg.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed)
        .concurrency_support(false)
        .wasm_features(FEATURE_DEPENDENT, false)
}

/// The engine's compatibility fingerprint, hex: sha256 of wasmtime's
/// `precompile_compatibility_hash`, which covers the wasmtime version, the
/// target and its CPU features, and every code-generation setting. Unlike
/// `DefaultHasher`'s, it is the same in every process and build.
pub fn fingerprint(engine: &wasmtime::Engine) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(hasher.0.finalize())
}

/// Feeds `Hash` output into sha256.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
