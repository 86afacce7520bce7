//! Builds the test guests to components with a nested `cargo build` into
//! `target/guests` (wasmtime's test-programs recipe), and writes `guests.rs`:
//! one `pub const NAME: &str = "/abs/path.wasm"` per guest.

use std::fmt::Write as _;
use std::path::PathBuf;

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
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let workspace = manifest_dir.parent().ok_or("no workspace")?.to_owned();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let packages: Vec<&str> = GUESTS.iter().map(|(_, p)| *p).collect();
    let built = shipgate_build::GuestBuild::in_workspace(&workspace, &packages)
        .run()
        .map_err(|e| e.to_string())?;
    let mut code = String::new();
    for ((name, package), guest) in GUESTS.iter().zip(&built) {
        let path = out_dir.join(format!("{package}.component.wasm"));
        std::fs::write(&path, &guest.component).map_err(|e| format!("{}: {e}", path.display()))?;
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
        for source in &guest.sources {
            println!("cargo::rerun-if-changed={}", source.display());
        }
    }
    std::fs::write(out_dir.join("guests.rs"), code).map_err(|e| e.to_string())?;
    println!(
        "cargo::rerun-if-changed={}",
        workspace.join("wit").display()
    );
    Ok(())
}
