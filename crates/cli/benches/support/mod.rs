//! What the benchmarks share: reading criterion's median estimates of this
//! run back, for the summaries they print.

use std::path::{Path, PathBuf};

/// The target directory criterion writes under: `$CARGO_TARGET_DIR`, else
/// three folders up from the bench binary (`target/<profile>/deps/NAME`).
pub fn target_dir() -> Option<PathBuf> {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_owned())
        })
}

/// criterion's median estimate of benchmark `bench` in `group`, in
/// nanoseconds.
pub fn median_ns(target: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = target
        .join("criterion")
        .join(group)
        .join(bench.replace('/', "_"))
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}
