//! Builds the built-in policies to components and embeds them in the
//! engine (`source = "builtin:NAME"` in a config).
//!
//! This is a nested `cargo build --target wasm32-unknown-unknown` into
//! `target/guests`, a target directory of its own so it never waits on the
//! outer build's lock (the recipe of wasmtime's test-programs artifacts).

use std::fmt::Write as _;

/// (builtin name, package).
const BUILTINS: &[(&str, &str)] = &[
    ("env", "shipgate-policy-env"),
    ("readiness", "shipgate-policy-readiness"),
    ("risk", "shipgate-policy-risk"),
    ("window", "shipgate-policy-window"),
    ("canary", "shipgate-policy-canary"),
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
    let mut code = String::from(
        "/// The built-in policies: (name, component bytes).\npub static BUILTINS: &[(&str, &[u8])] = &[\n",
    );
    for (name, path, _) in &built {
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("builtins.rs"), code).map_err(|e| e.to_string())
}
