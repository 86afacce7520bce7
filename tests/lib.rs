//! Fixtures for Shipgate's end-to-end tests: the paths of real policy
//! components built from this workspace, and of the fixture folders.

/// Paths of the test guests' components and core modules.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// The workspace root.
pub fn workspace() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_owned()
}

/// `examples/snapshots/NAME.json`.
pub fn example_snapshot(name: &str) -> std::path::PathBuf {
    workspace()
        .join("examples")
        .join("snapshots")
        .join(format!("{name}.json"))
}

/// A real Prometheus server (Debian's `prometheus`) on a free loopback
/// port, and a test exporter with baseline and canary series.
pub mod prometheus;

/// A real OCI registry (Debian's `docker-registry`) on a free loopback
/// port, with basic or token auth, and a delaying proxy.
pub mod registry;
