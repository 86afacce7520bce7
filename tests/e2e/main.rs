//! End-to-end tests of Shipgate: real components built from this workspace,
//! the real `shipgate` binary. One test binary, one module per area.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authoring;
mod check;
mod cli;
mod decisions;
mod differential;
mod hostile;
mod migrations;
mod prometheus;
mod replay;
mod rules_errors;
mod runtime;
mod scaffold;
mod scenarios;
mod support;
mod watch;
