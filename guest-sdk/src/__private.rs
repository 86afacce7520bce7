//! The component-model side of the SDK: generated bindings and the
//! conversions between them and [`crate::model`]. Not part of the API; the
//! [`export_policy!`](crate::export_policy) macro expands to calls into it.

#![allow(missing_docs)]

use std::any::Any;
use std::cell::RefCell;

use crate::{ConfigError, Policy, model, parse_config};
pub use shipgate_model::contract::Conv;

/// The bindings generated from `wit/policy.wit`.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "policy",
        pub_export_macro: true,
        export_macro_name: "__export_policy_impl",
        default_bindings_module: "::shipgate_sdk::__private::bindings",
        runtime_path: "::shipgate_sdk::__private::wit_bindgen::rt",
    });
}

pub use bindings::exports::shipgate::policy::api;
pub use bindings::exports::shipgate::policy::api::Guest;
pub use wit_bindgen;

/// `info` of the contract; `crate_version` is the policy crate's, which
/// [`Info::version`](crate::Info::version) overrides.
pub fn info<P: Policy>(crate_version: &str) -> api::PolicyInfo {
    let info = P::info();
    api::PolicyInfo {
        name: info.name,
        version: info.version.unwrap_or_else(|| crate_version.to_owned()),
        description: info.description,
        stages: info.stages.conv(),
        reads: info.reads.conv(),
        rules: info
            .rules
            .iter()
            .map(|r| api::RuleInfo {
                id: r.id.to_owned(),
                description: r.description.to_owned(),
            })
            .collect(),
    }
}

thread_local! {
    /// The configuration `configure` parsed and checked, for `evaluate`.
    /// (A Wasm policy has one thread; natively each thread has its own.)
    static CONFIGURED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// `configure` of the contract: parses and checks the configuration once
/// and keeps it for every `evaluate` of this instance (and, when the host
/// pre-initialises, of every instance started from its snapshot).
pub fn configure<P: Policy>(config: &str) -> Result<(), api::ConfigError> {
    let parsed = parse_config::<P>(config)
        .map_err(|ConfigError { key, message }| api::ConfigError { key, message })?;
    CONFIGURED.with(|c| *c.borrow_mut() = Some(Box::new(parsed)));
    Ok(())
}

/// `evaluate` of the contract, with the configuration `configure` kept. A
/// host that did not call `configure` gets an error, never a decision made
/// without the configuration.
pub fn evaluate<P: Policy>(input: api::Evaluation) -> Result<api::Decision, String> {
    CONFIGURED.with(|c| {
        let configured = c.borrow();
        let config = configured
            .as_ref()
            .and_then(|c| c.downcast_ref::<P::Config>())
            .ok_or("the host did not call `configure` before `evaluate`")?;
        let stage: model::Stage = input.stage.conv();
        let snapshot: model::Snapshot = input.snapshot.conv();
        P::evaluate(stage, &snapshot, config).map(Conv::conv)
    })
}

// The conversions, from the model's one table of the contract's records and
// enums, which the host's bindings expand too.
shipgate_model::impl_conversions!(api);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decision, Info, NoConfig, Snapshot, Stage};

    struct Unversioned;
    struct Versioned;

    crate::rules! {
        A = "demo.a" => "fires",
    }

    impl Policy for Unversioned {
        type Config = NoConfig;
        fn info() -> Info {
            Info::new("demo", "no version").rules(RULES)
        }
        fn evaluate(_: Stage, _: &Snapshot, _: &NoConfig) -> Result<Decision, String> {
            Ok(Decision::go())
        }
    }

    impl Policy for Versioned {
        type Config = NoConfig;
        fn info() -> Info {
            Info::new("demo", "a version of its own").version("9.9.9")
        }
        fn evaluate(_: Stage, _: &Snapshot, _: &NoConfig) -> Result<Decision, String> {
            Ok(Decision::go())
        }
    }

    #[test]
    fn info_reports_the_crate_version_unless_the_policy_overrides_it() {
        let info = super::info::<Unversioned>("1.2.3");
        assert_eq!(info.version, "1.2.3");
        assert_eq!(info.rules.len(), 1);
        assert_eq!(info.rules[0].id, A);
        assert_eq!(info.rules[0].description, "fires");
        assert_eq!(super::info::<Versioned>("1.2.3").version, "9.9.9");
    }
}
