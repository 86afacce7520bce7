//! The embeddable Shipgate engine: it loads sandboxed WebAssembly policy
//! components and asks them, from a typed deployment
//! [`Snapshot`](shipgate_model::Snapshot), three questions: go / no-go before
//! a deploy, promote / hold / roll back during a canary, and what the risk
//! is. Policies are pure functions that import nothing; the engine does no
//! I/O for them, so every decision can be replayed from the saved snapshot.
//!
//! - [`runtime`]: one wasmtime engine, components compiled once and cached
//!   on disk, a fresh sandbox per evaluation with fuel, a deadline and a
//!   memory cap;
//! - [`policy_set`]: the configured policies, asked together, their answers
//!   aggregated (a stage no enforced policy decides is never `go`);
//! - [`report`]: the aggregated decision, and its JSON form ([`report::json`]),
//!   which is also the decision log's;
//! - [`decision_log`]: one JSON line per decision, appended whole;
//! - [`replay`] and [`outcome`]: a policy change asked again about logged
//!   decisions, and the reviewable shape of a decision.
//!
//! No command line, no async runtime, no HTTP client: the collector
//! (`shipgate-collect`) gathers snapshots, the `shipgate` binary drives both.
//!
//! ```
//! use shipgate_engine::config::Config;
//! use shipgate_engine::exit::ExitCode;
//! use shipgate_engine::model::{Snapshot, Stage, Verdict};
//! use shipgate_engine::policy_set::PolicySet;
//! use shipgate_engine::runtime::CacheMode;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::parse(
//!     "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n",
//!     "shipgate.toml".as_ref(),
//! )?;
//! let policies = PolicySet::load(&config, &CacheMode::Disabled)?;
//! // A canary whose error rate jumped from 0.3% to 2.41%.
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/snapshots/canary-error-spike.json");
//! let snapshot: Snapshot = serde_json::from_str(&std::fs::read_to_string(path)?)?;
//! let report = policies.evaluate(Stage::Canary, &snapshot);
//! assert_eq!(report.verdict, Verdict::Rollback);
//! assert_eq!(report.exit_code(), ExitCode::Rollback);
//! let json = shipgate_engine::report::json::render(&report);
//! assert!(json.contains("\"verdict\": \"rollback\""));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod bindings;
pub mod builtin;
pub mod decision_log;
pub mod exit;
pub mod outcome;
pub mod policy_set;
pub mod replay;
pub mod report;
pub mod runtime;

pub use shipgate_core::config;
pub use shipgate_model as model;
