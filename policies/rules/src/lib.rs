//! Shipgate built-in policy `rules`: gates written as CEL expressions in the
//! configuration, evaluated inside the sandbox like any other policy.
//!
//! ```toml
//! [[policies]]
//! name = "team-rules"
//! source = "builtin:rules"
//! [policies.config]
//! params = { max_error_rate = 0.02 }
//! [[policies.config.rules]]
//! id = "canary.error-rate"
//! stages = ["canary"]
//! when = "value(metric('error_rate').canary) > params.max_error_rate"
//! verdict = "rollback"
//! message = "canary error rate {{ percent(value(metric('error_rate').canary)) }} is above {{ percent(params.max_error_rate) }}"
//! ```
//!
//! Expressions see the snapshot's top-level fields as variables named as in
//! its JSON form (`deployment`, `ci`, `change`, `environment`, `rollout`,
//! `metrics`, `alerts`, `error_signatures`, `history`, `labels`, `gaps`;
//! `null` when a section was not collected), plus `stage` and `params`.
//! Names, fields, functions and enum values are checked when the
//! configuration is loaded.
//!
//! Missing data is never an accidental `false`: a helper that needs a
//! number and finds none (`value`, `ratio`, `metric`, `samples`), a field the
//! snapshot leaves out, or a section that is `null` makes the rule *data
//! missing*, and it reports its `on_missing` verdict (default `hold`). CEL's
//! `&&` and `||` absorb such an error when the other side decides:
//! `has_data(m) && value(m) > 0.02` is `false` without data. See
//! `docs/rules.md` for the whole language.

mod check;
mod eval;
pub mod functions;
mod rules;
pub mod schema;
mod template;

use std::cell::RefCell;
use std::rc::Rc;

use shipgate_sdk::prelude::*;

pub use eval::RuleResult;
pub use rules::{Config, RuleConfig, Rules};

/// The policy.
#[derive(Debug)]
pub struct RulesPolicy;

impl Policy for RulesPolicy {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "rules",
            "declarative rules: CEL expressions over the snapshot, each with a verdict",
        )
        .stages(&[Stage::Gate, Stage::Canary, Stage::Risk, Stage::Verify])
        .reads(&[
            Section::Deployment,
            Section::Ci,
            Section::Change,
            Section::Environment,
            Section::Rollout,
            Section::Health,
            Section::Metrics,
            Section::Alerts,
            Section::ErrorSignatures,
            Section::History,
            Section::Labels,
        ])
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        compiled(config).map(|_| ())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        let rules = compiled(config).map_err(|e| format!("invalid config: {e}"))?;
        eval::evaluate(&rules, stage, snapshot)
    }
}

thread_local! {
    /// The rules compiled from the last configuration, so that `configure`
    /// compiles them once (and a pre-initialised snapshot holds them
    /// compiled) instead of every evaluation.
    static COMPILED: RefCell<Option<(Config, Rc<Rules>)>> = const { RefCell::new(None) };
}

/// The rules of `config`, compiled once per configuration.
fn compiled(config: &Config) -> Result<Rc<Rules>, ConfigError> {
    COMPILED.with(|cell| {
        if let Some((cached, rules)) = &*cell.borrow()
            && cached == config
        {
            return Ok(Rc::clone(rules));
        }
        let rules = Rc::new(Rules::compile(config)?);
        *cell.borrow_mut() = Some((config.clone(), Rc::clone(&rules)));
        Ok(rules)
    })
}

shipgate_sdk::export_policy!(RulesPolicy);

#[cfg(test)]
mod tests;

#[cfg(test)]
mod schema_tests;
