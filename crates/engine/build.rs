//! Builds the built-in policies to components, compiles each to machine
//! code ahead of time, and embeds both in the engine (`source =
//! "builtin:NAME"` in a config).
//!
//! The components are a nested `cargo build --target wasm32-unknown-unknown`
//! into `target/guests`, a target directory of its own so it never waits on
//! the outer build's lock (the recipe of wasmtime's test-programs artifacts).
//!
//! The machine code is `Engine::precompile_component` with the runtime's own
//! code settings (`src/runtime/engine_config.rs`, compiled into this script
//! too), recorded with the engine's compatibility fingerprint: the runtime
//! uses it only when its engine has the same fingerprint, so a binary run on
//! another CPU compiles the built-ins as before. A cross-compiled build
//! embeds none (the build machine's Cranelift would target the wrong CPU).

#[path = "src/runtime/engine_config.rs"]
mod engine_config;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// (builtin name, package).
const BUILTINS: &[(&str, &str)] = &[
    ("env", "shipgate-policy-env"),
    ("readiness", "shipgate-policy-readiness"),
    ("risk", "shipgate-policy-risk"),
    ("window", "shipgate-policy-window"),
    ("canary", "shipgate-policy-canary"),
    ("verify", "shipgate-policy-verify"),
    ("rules", "shipgate-policy-rules"),
];

fn main() {
    if let Err(e) = run() {
        println!("cargo::error={e}");
    }
}

fn run() -> Result<(), String> {
    let (out_dir, built) =
        shipgate_build::build_for_build_script(BUILTINS).map_err(|e| e.to_string())?;
    let components: Vec<(&str, &Path, &[u8])> = built
        .iter()
        .map(|(name, path, guest)| (name.as_str(), path.as_path(), guest.component.as_slice()))
        .collect();
    let precompiled = if cross_compiling() {
        println!(
            "cargo::warning=cross-compiling: the built-in policies are not precompiled; they \
             are compiled at first use and cached"
        );
        None
    } else {
        Some(precompile(&out_dir, &components)?)
    };
    std::fs::write(
        out_dir.join("builtins.rs"),
        generated(&components, precompiled.as_ref()),
    )
    .map_err(|e| e.to_string())
}

fn cross_compiling() -> bool {
    std::env::var("HOST").ok() != std::env::var("TARGET").ok()
}

/// The built-ins' machine code: the engine fingerprint, and per built-in
/// the path of its artifact.
struct Precompiled {
    engine: String,
    artifacts: Vec<PathBuf>,
}

/// Compiles every component with the runtime's code settings, in parallel,
/// to `OUT_DIR/<name>.cwasm`.
fn precompile(out_dir: &Path, components: &[(&str, &Path, &[u8])]) -> Result<Precompiled, String> {
    let mut cfg = wasmtime::Config::new();
    engine_config::code_settings(&mut cfg);
    let engine = wasmtime::Engine::new(&cfg)
        .map_err(|e| format!("cannot create the WebAssembly engine: {e:#}"))?;
    let results: Vec<Result<PathBuf, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = components
            .iter()
            .map(|&(name, _, component)| {
                let engine = &engine;
                scope.spawn(move || {
                    let artifact = engine
                        .precompile_component(component)
                        .map_err(|e| format!("cannot precompile the built-in `{name}`: {e:#}"))?;
                    let path = out_dir.join(format!("{name}.cwasm"));
                    std::fs::write(&path, artifact)
                        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
                    Ok(path)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("precompiling a built-in panicked".to_owned()))
            })
            .collect()
    });
    Ok(Precompiled {
        engine: engine_config::fingerprint(&engine),
        artifacts: results.into_iter().collect::<Result<_, _>>()?,
    })
}

/// The `builtins.rs` that `src/builtin.rs` includes.
fn generated(components: &[(&str, &Path, &[u8])], precompiled: Option<&Precompiled>) -> String {
    let mut code = String::from(
        "/// The built-in policies: (name, component bytes).\n\
         pub static BUILTINS: &[(&str, &[u8])] = &[\n",
    );
    for (name, path, _) in components {
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n\n");
    let engine = precompiled.map_or("", |p| p.engine.as_str());
    let _ = writeln!(
        code,
        "/// The fingerprint of the engine the built-ins were precompiled with\n\
         /// (empty: they were not).\n\
         pub static PRECOMPILED_FOR: &str = {engine:?};\n"
    );
    code.push_str(
        "/// The built-ins' machine code: (name, component sha256, artifact).\n\
         pub static PRECOMPILED: &[(&str, &str, &[u8])] = &[\n",
    );
    if let Some(p) = precompiled {
        for ((name, _, component), artifact) in components.iter().zip(&p.artifacts) {
            let _ = writeln!(
                code,
                "    ({name:?}, {:?}, include_bytes!({:?})),",
                hex::encode(Sha256::digest(component)),
                artifact.display().to_string()
            );
        }
    }
    code.push_str("];\n");
    code
}
