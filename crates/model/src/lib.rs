//! The typed deployment snapshot and decision of Shipgate.
//!
//! These are the serde types of the snapshot file format and of decisions.
//! They mirror the WIT contract in `wit/policy.wit` one to one: the host
//! converts them to the component-model types when it calls a policy, and the
//! guest SDK converts them back, so a policy author (and anyone reading a
//! snapshot file) only ever sees these.
//!
//! The JSON form uses `snake_case` field names (so that expression languages
//! can address them) and `kebab-case` enum values.
//!
//! ```
//! use shipgate_model::{Snapshot, Verdict};
//!
//! let json = r#"{
//!   "deployment": {
//!     "service": "checkout", "environment": "production", "version": "1.4.2",
//!     "commit": "8f2c1d0", "requested_at": "2026-11-20T14:05:00Z"
//!   },
//!   "metrics": [
//!     { "name": "error_rate", "baseline": { "value": 0.004 }, "canary": "no-data" }
//!   ]
//! }"#;
//! let snapshot: Snapshot = serde_json::from_str(json).unwrap();
//! assert!(snapshot.metric("error_rate").unwrap().canary.value().is_none());
//! assert!(Verdict::Go < Verdict::Rollback);
//! ```
#![deny(missing_docs)]

pub mod contract;
mod decision;
mod health;
mod history;
mod kinds;
mod snapshot;
mod timestamp;
mod validate;
mod verdict;

pub use decision::{Decision, Evidence, Finding, Requirement};
pub use health::*;
pub use history::*;
pub use kinds::*;
pub use snapshot::*;
pub use timestamp::{Timestamp, TimestampError};
pub use validate::{InvalidField, STANDARD_METRICS, coverage_problem};
pub use verdict::{ParseEnumError, RiskLevel, Section, Stage, Verdict, WireEnum};

/// The version of the WIT contract these types mirror.
pub const CONTRACT_VERSION: &str = "0.2.0";
