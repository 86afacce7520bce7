//! Running a policy natively, as the host would, for unit tests.
//!
//! The same parse → check → evaluate path runs inside the component, so a
//! decision seen in `cargo test` is the decision the host will see.

use crate::{Decision, Policy, Snapshot, Stage, parse_config};

/// Parses a snapshot file's JSON.
pub fn snapshot_from_json(json: &str) -> Result<Snapshot, String> {
    serde_json::from_str(json).map_err(|e| format!("invalid snapshot: {e}"))
}

/// Parses and checks `config_json`, then evaluates: what the component does
/// for one `evaluate` call. A configuration error is returned as its text.
pub fn evaluate<P: Policy>(
    stage: Stage,
    snapshot: &Snapshot,
    config_json: &str,
) -> Result<Decision, String> {
    let config = parse_config::<P>(config_json).map_err(|e| format!("invalid config: {e}"))?;
    P::evaluate(stage, snapshot, &config)
}
