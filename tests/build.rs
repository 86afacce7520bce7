//! Builds the test guests to components with a nested `cargo build` into
//! `target/guests` (wasmtime's test-programs recipe), and writes `guests.rs`:
//! `pub const NAME: &str = "/abs/path.wasm"` per guest, and `NAME_CORE` for
//! its core module.

use std::fmt::Write as _;

/// (const name, package).
const GUESTS: &[(&str, &str)] = &[
    ("ERROR_RATIO", "error-ratio-policy"),
    ("HOSTILE", "hostile-policy"),
    ("WASI_IMPORTER", "wasi-importer-policy"),
];

fn main() {
    if let Err(e) = run() {
        println!("cargo::error={e}");
    }
}

fn run() -> Result<(), String> {
    let (out_dir, built) =
        shipgate_build::build_for_build_script(GUESTS).map_err(|e| e.to_string())?;
    let mut code = String::new();
    for (name, path, guest) in &built {
        let package = &guest.package;
        let _ = writeln!(
            code,
            "/// The component of `{package}`.\npub const {name}: &str = {:?};",
            path.display().to_string()
        );
        let _ = writeln!(
            code,
            "/// The core module of `{package}`, as cargo built it.\npub const {name}_CORE: &str = {:?};",
            guest.core_path.display().to_string()
        );
    }
    std::fs::write(out_dir.join("guests.rs"), code).map_err(|e| e.to_string())
}
