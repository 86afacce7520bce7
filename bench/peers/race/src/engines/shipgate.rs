//! Shipgate, through the engine's public API: a component, pre-initialised after its `configure`, in a fresh sandbox
//! per evaluation (`Runtime::load` once, `ConfiguredPolicy::answer` per
//! evaluation, the snapshot converted to the component model's form once
//! per input as a `Question`); the same policy natively, without the
//! sandbox; and the built-in `rules` policy with the rule in CEL.

use std::sync::Arc;

use peers_canary_policy::RaceCanary;
use shipgate_engine::config::Limits;
use shipgate_engine::model::Stage;
use shipgate_engine::runtime::{CacheMode, ConfiguredPolicy, Question, Runtime};
use shipgate_sdk::Policy as _;

use super::{Decide, Engine};
use crate::input::Input;

/// The race's policy (`bench/peers/policy`), built to a component by the
/// build script.
const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/CANARY_RULE.component.wasm"));

/// The race's policy's configuration: its defaults are the rule's numbers.
const CONFIG: &str = "{}";

/// The rule as `rules` configuration: CEL over the snapshot, with
/// Shipgate's helpers (`metric`, `value`; docs/rules.md).
pub const RULES_CONFIG: &str = r#"{"rules": [
  {"id": "race.error-rate", "stages": ["canary"], "verdict": "rollback",
   "when": "value(metric('error_rate').canary) > 0.02 || value(metric('error_rate').canary) > 2.0 * value(metric('error_rate').baseline)"},
  {"id": "race.latency", "stages": ["canary"], "verdict": "hold",
   "when": "value(metric('latency_p95').canary) > 2.0 * value(metric('latency_p95').baseline)"},
  {"id": "race.env-missing", "stages": ["canary"], "verdict": "no-go",
   "when": "environment.declared.exists(v, v.required && !(v.name in environment.present))"}
]}"#;

/// The engine's runtime: pooled sandboxes, no component cache (the
/// components are compiled once at start).
pub struct Shipgate {
    runtime: Arc<Runtime>,
}

impl Shipgate {
    /// Starts the runtime.
    pub fn new() -> anyhow::Result<Shipgate> {
        let runtime = Runtime::new(&Limits::default(), &CacheMode::Disabled)?;
        Ok(Shipgate {
            runtime: Arc::new(runtime),
        })
    }

    /// The race's policy as a component.
    pub fn component(&self) -> anyhow::Result<Component> {
        Component::load(
            &self.runtime,
            "Shipgate component (Rust SDK, pre-initialised, fresh sandbox)",
            COMPONENT,
            CONFIG,
        )
    }

    /// The built-in `rules` policy with the rule in CEL.
    pub fn rules(&self) -> anyhow::Result<Component> {
        let bytes = shipgate_engine::builtin::get("rules")
            .ok_or_else(|| anyhow::anyhow!("the engine has no built-in `rules`"))?;
        Component::load(
            &self.runtime,
            "Shipgate `rules` (CEL, pre-initialised, fresh sandbox)",
            bytes,
            RULES_CONFIG,
        )
    }

    /// The race's policy natively (no sandbox).
    pub fn native(&self) -> Native {
        Native
    }
}

/// A component loaded once and its configuration.
pub struct Component {
    // Keeps the deadline timer running while the policy is used.
    _runtime: Arc<Runtime>,
    name: &'static str,
    policy: ConfiguredPolicy,
}

impl Component {
    fn load(
        runtime: &Arc<Runtime>,
        name: &'static str,
        bytes: &[u8],
        config: &'static str,
    ) -> anyhow::Result<Component> {
        let loaded = runtime.load(bytes)?;
        let mut policy = runtime
            .configure(&loaded, config)
            .map_err(|f| anyhow::anyhow!("{name}: {}", f.message))?
            .map_err(|e| anyhow::anyhow!("{name}: config `{}`: {}", e.key, e.message))?;
        runtime
            .preinitialise(&mut policy)
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        Ok(Component {
            _runtime: runtime.clone(),
            name,
            policy,
        })
    }
}

impl Engine for Component {
    fn name(&self) -> &'static str {
        self.name
    }

    fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>> {
        // Converted once before timing, like the other engines' inputs; the
        // question borrows its snapshot for the rest of the race.
        let snapshot: &'static _ = Box::leak(Box::new(input.snapshot()?));
        let question = Question::new(Stage::Canary, snapshot);
        Ok(Box::new(move || {
            let (decision, _usage) = self.policy.answer(&question);
            decision
                .map(|d| d.verdict)
                .map_err(|f| anyhow::anyhow!("{}: {} ({})", self.name, f.message, f.kind))
        }))
    }
}

/// The race's policy called natively, its configuration parsed once.
pub struct Native;

impl Engine for Native {
    fn name(&self) -> &'static str {
        "Shipgate policy natively (no sandbox)"
    }

    fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>> {
        let snapshot = input.snapshot()?;
        let config = shipgate_sdk::parse_config::<RaceCanary>(CONFIG)
            .map_err(|e| anyhow::anyhow!("config: {e}"))?;
        Ok(Box::new(move || {
            RaceCanary::evaluate(Stage::Canary, std::hint::black_box(&snapshot), &config)
                .map(|d| d.verdict)
                .map_err(|e| anyhow::anyhow!("{e}"))
        }))
    }
}
