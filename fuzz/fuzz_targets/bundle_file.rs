#![no_main]

use libfuzzer_sys::fuzz_target;
use shipgate::fuzzing::Target;

fuzz_target!(|data: &[u8]| shipgate_fuzz::run(Target::BundleFile, data));
