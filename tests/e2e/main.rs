//! End-to-end tests of Shipgate: real components built from this workspace,
//! the real `shipgate` binary. One test binary, one module per area.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod argo;
mod authoring;
mod bundles;
mod bundles_registry;
mod cache;
mod check;
mod checklist;
mod cli;
mod decisions;
mod differential;
mod durability;
mod escapes;
mod exceptions;
mod failclosed;
mod fuzz_corpus;
mod hostile;
mod http_probes;
mod layers;
mod migrations;
mod preflight;
mod prometheus;
mod replay;
mod rules_errors;
mod runtime;
mod scaffold;
mod scenarios;
mod secrets;
mod shadow;
mod support;
mod watch;
mod watch_safety;
mod watch_verify;
