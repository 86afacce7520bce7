//! Write Shipgate deployment-gating policies in Rust.
//!
//! A policy is a pure function from a typed deployment snapshot to a
//! decision. It is compiled to a WebAssembly component that imports nothing:
//! no clock, no network, no files. The host gathers every fact first and
//! passes it in the [`Snapshot`].
//!
//! An author declares the policy's rules once with [`rules!`], writes a type
//! that implements [`Policy`] and one [`export_policy!`] line. The
//! configuration is a serde type (or [`NoConfig`]), parsed and checked in
//! `configure` for free. The same code compiles natively,
//! so the rule is unit-tested with plain `cargo test` through [`testing`].
//!
//! ```
//! use serde::Deserialize;
//! use shipgate_sdk::prelude::*;
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     #[serde(default = "two")]
//!     max_ratio: f64,
//! }
//! fn two() -> f64 { 2.0 }
//!
//! // Each rule once: its constant, its id, what makes it fire.
//! shipgate_sdk::rules! {
//!     pub RULE_RATIO = "error-ratio.ratio" => "canary errors are above max_ratio times the baseline's (rollback)",
//!     pub RULE_MISSING = "error-ratio.missing" => "error_rate has no usable value (hold)",
//! }
//!
//! struct ErrorRatio;
//!
//! impl Policy for ErrorRatio {
//!     type Config = Config;
//!
//!     fn info() -> Info {
//!         Info::new("error-ratio", "roll back when canary errors are too far above baseline")
//!             .stages(&[Stage::Canary])
//!             .reads(&[Section::Metrics])
//!             .rules(RULES)
//!     }
//!
//!     fn evaluate(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
//!         let Some(metric) = snapshot.metric("error_rate") else {
//!             return Ok(Decision::from_findings(vec![Finding::hold(RULE_MISSING, "no error_rate metric")]));
//!         };
//!         Ok(match ratio(&metric.canary, &metric.baseline) {
//!             Ratio::Value(r) if r > config.max_ratio => Decision::go().with_finding(
//!                 Finding::rollback(RULE_RATIO, "canary errors too high")
//!                     .evidence(format!("{r:.2}x"), format!("<= {}x", config.max_ratio)),
//!             ),
//!             Ratio::Value(_) => Decision::go(),
//!             other => Decision::go().with_finding(Finding::hold(RULE_MISSING, other.to_string())),
//!         })
//!     }
//! }
//!
//! // In the policy crate: `shipgate_sdk::export_policy!(ErrorRatio);` (it
//! // fills in the crate's version).
//! shipgate_sdk::testing::check_rules::<ErrorRatio>().unwrap();
//!
//! let snapshot = shipgate_sdk::testing::snapshot_from_json(r#"{
//!   "deployment": { "service": "api", "environment": "production", "version": "2",
//!                   "commit": "abc", "requested_at": "2026-11-20T10:00:00Z" },
//!   "metrics": [{ "name": "error_rate", "baseline": { "value": 0.01 }, "canary": { "value": 0.05 } }]
//! }"#).unwrap();
//! let decision = shipgate_sdk::testing::evaluate::<ErrorRatio>(Stage::Canary, &snapshot, "{}").unwrap();
//! assert_eq!(decision.verdict, Verdict::Rollback);
//! ```
#![deny(missing_docs)]

// Lets the generated bindings name this crate by its public path.
extern crate self as shipgate_sdk;

pub mod checks;
mod config;
mod info;
mod metrics;
mod rules;
pub mod stats;
pub mod testing;
mod time_of_day;

#[doc(hidden)]
pub mod __private;

pub use config::{ConfigError, NoConfig, or_off, parse_config};
pub use info::Info;
pub use metrics::{Ratio, ratio};
pub use rules::{Rule, Rules};
pub use shipgate_model as model;
pub use shipgate_model::*;
pub use time_of_day::{LocalTime, local_time};

/// The `time` crate's weekday, re-exported for [`LocalTime`].
pub use time::Weekday;

/// A deployment-gating policy.
///
/// Implement it on a unit struct and export the struct with
/// [`export_policy!`]. Everything here is a pure function: the same snapshot
/// and configuration give the same decision.
pub trait Policy {
    /// The policy's configuration: the `config` table of its entry in
    /// `shipgate.toml`, as JSON. Use `#[serde(default)]` for optional keys and
    /// `#[serde(deny_unknown_fields)]` so that a typo is an error at load time.
    /// A policy without settings uses [`NoConfig`].
    ///
    /// It is parsed and checked once, in the contract's `configure`, and
    /// kept for every evaluation: a policy that compiles something from its
    /// configuration (expressions, patterns) can keep the compiled form in
    /// it (e.g. in a `#[serde(skip)]` `OnceCell` filled by
    /// [`Policy::check_config`]), and a host that pre-initialises the policy
    /// keeps it in the snapshot every evaluation starts from.
    type Config: serde::de::DeserializeOwned + 'static;

    /// Who the policy is and which questions it answers.
    fn info() -> Info;

    /// Checks a parsed configuration beyond what its type says (ranges,
    /// consistency). Called once, by `configure`; the default accepts
    /// everything.
    fn check_config(_config: &Self::Config) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Answers one question about one snapshot.
    ///
    /// Return `Err` only when the policy cannot decide at all; the host then
    /// counts the policy as failed (fail-closed unless configured otherwise).
    /// Missing data is not an error: say what it means with a finding.
    fn evaluate(
        stage: Stage,
        snapshot: &Snapshot,
        config: &Self::Config,
    ) -> Result<Decision, String>;
}

/// The names most policies use.
pub mod prelude {
    pub use crate::{
        ConfigError, Decision, Finding, Info, LocalTime, NoConfig, Policy, Ratio, Requirement,
        RiskLevel, Section, Snapshot, Stage, Verdict, Weekday, local_time, ratio,
    };
}

/// Exports a [`Policy`] as the component's implementation of the contract.
///
/// On WebAssembly it generates the exported functions; on other targets it
/// expands to nothing, so the crate also builds (and is tested) natively, and
/// several policies can be linked into one native binary.
///
/// The policy's version is the calling crate's `CARGO_PKG_VERSION` (the macro
/// expands `env!` in the policy crate), unless [`Info::version`] sets one.
#[macro_export]
macro_rules! export_policy {
    ($policy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __ShipgateExport;
            impl $crate::__private::Guest for __ShipgateExport {
                fn info() -> $crate::__private::api::PolicyInfo {
                    $crate::__private::info::<$policy>(::core::env!("CARGO_PKG_VERSION"))
                }
                fn configure(
                    config: ::std::string::String,
                ) -> ::std::result::Result<(), $crate::__private::api::ConfigError> {
                    $crate::__private::configure::<$policy>(&config)
                }
                fn evaluate(
                    input: $crate::__private::api::Evaluation,
                ) -> ::std::result::Result<$crate::__private::api::Decision, ::std::string::String>
                {
                    $crate::__private::evaluate::<$policy>(input)
                }
            }
            $crate::__private::bindings::__export_policy_impl!(__ShipgateExport);
        };
    };
}
