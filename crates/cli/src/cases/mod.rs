//! Test cases for policies: `shipgate test`.
//!
//! A *case file* (`cases/NAME.toml`) names one or more snapshots, the
//! policies to ask (a `shipgate.toml`, or the policy crate under test with
//! an inline `[policy]` config table), and optionally the stage. Every
//! snapshot × config pair is one case. The reviewed decisions live next to
//! it in `NAME.expected.toml` (see [`expected`]).

pub mod discover;
pub mod expected;
pub mod file;
pub mod render;
pub mod run;
