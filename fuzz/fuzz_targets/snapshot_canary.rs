#![no_main]

use libfuzzer_sys::fuzz_target;

// Shares the `snapshot` corpus: `cargo fuzz run snapshot_canary corpus/snapshot`.
fuzz_target!(|data: &[u8]| shipgate_fuzz::run_canary(data));
