//! What every fuzz target does: run one of `shipgate::fuzzing`'s entry
//! points on the input and panic (a finding) when an invariant breaks.

use std::sync::OnceLock;

use shipgate::fuzzing::{CanaryCheck, Scratch, Target, check};
use shipgate_engine::runtime::CacheMode;

fn scratch() -> &'static Scratch {
    static SCRATCH: OnceLock<Scratch> = OnceLock::new();
    #[allow(clippy::expect_used)]
    SCRATCH.get_or_init(|| Scratch::new().expect("a scratch directory"))
}

/// Runs `target` on `data`; panics when an invariant of
/// [`shipgate::fuzzing::check`] breaks.
pub fn run(target: Target, data: &[u8]) {
    let outcome = scratch().run(target, data);
    if let Err(broken) = check(target, data, &outcome) {
        panic!("{broken}");
    }
}

/// Reads `data` as a snapshot file; when it is one, asks the built-in
/// default policies the canary question and panics when a snapshot that
/// lacks canary data is promoted.
pub fn run_canary(data: &[u8]) {
    static CANARY: OnceLock<CanaryCheck> = OnceLock::new();
    let Ok(snapshot) = scratch().snapshot(data) else {
        return;
    };
    let canary = CANARY.get_or_init(|| {
        let cache = CacheMode::Dir(std::env::temp_dir().join("shipgate-fuzz-component-cache"));
        match CanaryCheck::load(&cache) {
            Ok(check) => check,
            Err(e) => panic!("cannot load the built-in policies: {e}"),
        }
    });
    if let Err(broken) = canary.check(&snapshot) {
        panic!("{broken}");
    }
}
