//! Shipgate: deployment gating with sandboxed WebAssembly policies.
//!
//! The host assembles a typed [`Snapshot`](shipgate_model::Snapshot) of a
//! deployment (git, CI, metrics, environment variable names, the clock) and
//! asks policy components three questions: go / no-go before a deploy,
//! promote / hold / roll back during a canary, and what the risk is. Policies
//! are pure functions that import nothing; the host does all I/O, so every
//! decision can be replayed from the saved snapshot.
//!
//! ```no_run
//! use shipgate::config::Config;
//! use shipgate::policy_set::PolicySet;
//! use shipgate::runtime::CacheMode;
//! use shipgate_model::{Snapshot, Stage};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("shipgate.toml".as_ref())?;
//! let policies = PolicySet::load(&config, &CacheMode::Default)?;
//! let snapshot: Snapshot = serde_json::from_str(&std::fs::read_to_string("snapshot.json")?)?;
//! let report = policies.evaluate(Stage::Canary, &snapshot);
//! println!("{}", shipgate::render::json(&report));
//! std::process::exit(report.exit_code());
//! # }
//! ```
#![deny(missing_docs)]

mod bindings;
pub mod bounded;
pub mod builtin;
pub mod cases;
pub mod cli;
pub mod collect;
pub mod config;
pub mod decision_log;
#[doc(hidden)]
pub mod fuzzing;
pub mod outcome;
pub mod policy_crate;
pub mod policy_set;
pub mod preflight;
pub mod redact;
pub mod render;
pub mod replay;
pub mod report;
pub mod runtime;
pub mod scaffold;
pub mod watch;

pub use shipgate_model as model;
