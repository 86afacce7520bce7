//! The `[watch]` table: the rollout plan, the interval, the hooks, the
//! bound on failing policies and the verify step after the last phase. `shipgate watch` gives them their behaviour;
//! here they are the file's schema.

mod hook;
pub mod plan;

use std::fmt;

use serde::{Deserialize, Deserializer, de};

use crate::config::Duration;

pub use hook::{HookCommand, PLACEHOLDERS};
pub use plan::{Phase, Plan, PlanSource};

/// The `[watch]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// The rollout plan, `10:10m,50:10m,100:30m`; default the risk policy's
    /// recommendation, else the playbook's plan.
    pub plan: Option<Plan>,
    /// Time between analysis intervals; default 60s.
    pub interval: Duration,
    /// Moves traffic to a phase's share.
    pub traffic_hook: Option<HookCommand>,
    /// Rolls the deploy back.
    pub rollback_hook: Option<HookCommand>,
    /// A hook still running after this long is killed, with everything it
    /// started; default 5m.
    pub hook_timeout: Duration,
    /// Variables of Shipgate's environment passed to the hooks besides
    /// the base variables (`PATH`, `HOME`, …): names (`KUBECONFIG`) or prefixes
    /// (`AWS_*`); default none.
    pub hook_env: Vec<EnvName>,
    /// Consecutive intervals in which an enforced policy failed that roll
    /// the canary back; default 3, 1 to 100.
    pub max_failed_evaluations: FailureLimit,
    /// How long the verify stage is watched after the last phase, when an
    /// enforced policy answers it: it passes at its first `go` once this
    /// long has passed; default 0s (the first `go`).
    pub verify_window: Duration,
    /// How long past its window a verify that still holds is asked again
    /// before the watch ends unverified (exit 4, traffic left where it is);
    /// default 15m, the playbook's "first 15 minutes".
    pub verify_timeout: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            plan: None,
            interval: Duration::from_secs(60),
            traffic_hook: None,
            rollback_hook: None,
            hook_timeout: Duration::from_secs(300),
            hook_env: Vec::new(),
            max_failed_evaluations: FailureLimit::default(),
            verify_window: Duration::from_secs(0),
            verify_timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// An entry of `[watch] hook_env`: a variable's name (`KUBECONFIG`), or a
/// prefix ending in `*` (`AWS_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName {
    name: String,
    prefix: bool,
}

impl EnvName {
    /// Parses a name or a prefix pattern.
    pub fn parse(text: &str) -> Result<EnvName, String> {
        let (name, prefix) = match text.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (text, false),
        };
        if name.is_empty() {
            return Err(format!(
                "`{text}` would pass every variable; list the names the hooks need, or a \
                 prefix such as `AWS_*`"
            ));
        }
        let mut chars = name.chars();
        let valid_start = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !valid_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{text}` is not a variable name: write a name such as `KUBECONFIG`, or a \
                 prefix such as `AWS_*`"
            ));
        }
        Ok(EnvName {
            name: name.to_owned(),
            prefix,
        })
    }

    /// Whether the variable `name` is passed by this entry.
    pub fn matches(&self, name: &str) -> bool {
        if self.prefix {
            name.starts_with(&self.name)
        } else {
            name == self.name
        }
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if self.prefix {
            f.write_str("*")?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for EnvName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EnvName::parse(&text).map_err(de::Error::custom)
    }
}

/// The default of `[watch] max_failed_evaluations`.
pub const DEFAULT_LIMIT: u32 = 3;
/// The largest `[watch] max_failed_evaluations`.
pub const MAX_LIMIT: u32 = 100;

/// `[watch] max_failed_evaluations`: how many consecutive intervals with a
/// failed enforced policy roll the canary back; 1 to [`MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit(u32);

impl FailureLimit {
    /// The limit, checked.
    pub fn new(limit: i64) -> Result<FailureLimit, String> {
        u32::try_from(limit)
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .map(FailureLimit)
            .ok_or_else(|| format!("must be 1 to {MAX_LIMIT} intervals, got {limit}"))
    }

    /// The number of intervals.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for FailureLimit {
    fn default() -> Self {
        FailureLimit(DEFAULT_LIMIT)
    }
}

impl<'de> Deserialize<'de> for FailureLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(deserializer)?;
        FailureLimit::new(n).map_err(serde::de::Error::custom)
    }
}
