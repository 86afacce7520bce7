//! Layers: what a bundle's layer (`org`, or a group such as `org/payments`)
//! says about each of its policies, and how a lower layer's table of the
//! same name applies to it. Precedence: org > group > team > built-in
//! defaults.
//!
//! - A **default** policy may be overridden by a lower layer: that layer's
//!   table replaces it, and the report says so.
//! - A **required** policy may only be tightened. A lower layer's table of
//!   the same name must keep its source, stages, `mode = "enforce"` and
//!   `on_error = "fail-closed"`, and may change a `config` key only where
//!   the bundle declares which way is stricter for it (`[stricter.POLICY]`
//!   in `bundle.toml`) and only that way; every other key stands as the
//!   layer set it. Anything else is refused at load, naming the bundle and
//!   the policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shipgate_model::{Verdict, wire_enum};

use super::{Mode, OnError, PolicyConfig};

wire_enum! {
    /// Which way a number is stricter.
    pub Direction("direction") {
        /// A lower number is stricter (a maximum error rate).
        Lower = "lower",
        /// A higher number is stricter (a minimum of approvals).
        Higher = "higher",
    }
}

/// What a bundle's layer says about one of its policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRule {
    /// The layer: `org`, or `org/GROUP`.
    pub layer: String,
    /// Whether a lower layer may only tighten it (else it may override it).
    pub required: bool,
    /// The `config` keys (dotted paths) a lower layer may tighten, and
    /// which way is stricter for each.
    pub stricter: BTreeMap<String, Direction>,
}

/// Minimums an org (or group) layer sets for the whole decision, whatever
/// the policies say (`[floors]` in its `bundle.toml`). Several layers'
/// floors add up to the strictest of each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Floors {
    /// At the gate, a decision made with data missing (the snapshot has a
    /// gap) is at least this verdict: `hold` or `no-go`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_data: Option<Verdict>,
    /// Every policy's failure counts as fail-closed, whatever its
    /// `on_error` says.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fail_closed: bool,
    /// Environments whose gate needs at least one approving human review
    /// (`no-go` without one; `hold` when reviews were not collected).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approval: Vec<String>,
    /// The bundles that set them (not read from a file).
    #[serde(skip)]
    pub set_by: Vec<String>,
}

impl Floors {
    /// Whether no floor is set.
    pub fn is_empty(&self) -> bool {
        self.missing_data.is_none() && !self.fail_closed && self.approval.is_empty()
    }

    /// Adds `other`'s floors (set by `by`): the strictest of each.
    pub fn raise(&mut self, other: &Floors, by: &str) {
        if other.is_empty() {
            return;
        }
        self.missing_data = self.missing_data.max(other.missing_data);
        self.fail_closed |= other.fail_closed;
        for env in &other.approval {
            if !self.approval.contains(env) {
                self.approval.push(env.clone());
            }
        }
        self.set_by.push(by.to_owned());
    }
}

/// How far down a layer is: `org` 0, a group 1, anything else (a team) 2.
pub fn rank(layer: Option<&str>) -> u8 {
    match layer {
        Some("org") => 0,
        Some(l) if l.starts_with("org/") => 1,
        _ => 2,
    }
}

/// Whether `text` names a layer: `org`, or `org/` and a group name
/// (lowercase letters, digits, `-`, `_`).
pub fn is_valid_layer(text: &str) -> bool {
    match text.strip_prefix("org/") {
        None => text == "org",
        Some(group) => {
            !group.is_empty()
                && group
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        }
    }
}

/// Why a lower layer's table may not apply to a required policy: the key
/// (relative to the policy's table) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weakening {
    /// The key, relative to the lower layer's policy table (`mode`,
    /// `config.thresholds.error_rate`).
    pub key: String,
    /// What it does, in words.
    pub message: String,
}

/// `over` (a lower layer's table) applied to `base` (a layer's policy):
/// the policy that runs, with the config keys `over` changed; or every way
/// `over` weakens a required `base`.
pub fn apply(
    base: &PolicyConfig,
    rule: &LayerRule,
    over: &PolicyConfig,
) -> Result<(PolicyConfig, Vec<String>), Vec<Weakening>> {
    if !rule.required {
        let changed = changed_keys(&base.config, &over.config, "");
        return Ok((over.clone(), changed));
    }
    let mut problems = Vec::new();
    let mut refuse = |key: &str, message: String| {
        problems.push(Weakening {
            key: key.to_owned(),
            message,
        });
    };
    if over.source != base.source {
        refuse(
            "source",
            format!(
                "it replaces the component (`{}` instead of `{}`)",
                over.source, base.source
            ),
        );
    }
    if over.mode == Mode::Advisory && base.mode == Mode::Enforce {
        refuse(
            "mode",
            "it sets `mode = \"advisory\"`: the policy's verdict would no longer count".into(),
        );
    }
    if over.on_error == OnError::FailOpen && base.on_error == OnError::FailClosed {
        refuse(
            "on_error",
            "it sets `on_error = \"fail-open\"`: a failure would count as go".into(),
        );
    }
    if let Some(stages) = &over.stages
        && Some(stages) != base.stages.as_ref()
    {
        refuse(
            "stages",
            format!(
                "it changes the stages it is asked about (to {})",
                stages
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if over.sha256.is_some() && over.sha256 != base.sha256 {
        refuse(
            "sha256",
            "it pins another component than the layer's".into(),
        );
    }
    let mut merged = base.config.clone();
    let mut changed = Vec::new();
    let mut leaves = Vec::new();
    collect_leaves(&over.config, "", &mut leaves);
    for (path, value) in leaves {
        let old = lookup(&base.config, &path);
        if old == Some(value) {
            continue;
        }
        let key = format!("config.{path}");
        match (
            rule.stricter.get(&path),
            old.and_then(number),
            number(value),
        ) {
            (Some(direction), Some(old_n), Some(new_n)) => {
                let stricter = match direction {
                    Direction::Lower => new_n <= old_n,
                    Direction::Higher => new_n >= old_n,
                };
                if stricter {
                    set(&mut merged, &path, value.clone());
                    changed.push(path);
                } else {
                    refuse(
                        &key,
                        format!(
                            "it loosens `{path}`: {new_n} is not {direction} than the layer's {old_n} ({direction} is stricter)",
                            direction = match direction {
                                Direction::Lower => "lower",
                                Direction::Higher => "higher",
                            }
                        ),
                    );
                }
            }
            (Some(_), None, _) => refuse(
                &key,
                format!(
                    "the layer does not set `{path}`, so a tighter value cannot be checked against it; ask the layer's owners to set it"
                ),
            ),
            (Some(_), Some(_), None) => {
                refuse(&key, format!("`{path}` takes a number"));
            }
            (None, _, _) => refuse(
                &key,
                format!(
                    "it changes `{path}`, which the layer does not let a lower layer tighten (only {})",
                    if rule.stricter.is_empty() {
                        "nothing".to_owned()
                    } else {
                        rule.stricter
                            .keys()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut policy = base.clone();
    policy.config = merged;
    Ok((policy, changed))
}

/// A JSON number as f64.
fn number(value: &serde_json::Value) -> Option<f64> {
    value.as_f64()
}

/// Every leaf (a value that is not an object) of a policy's `config`,
/// with its dotted path (`thresholds.error_rate`), in key order.
pub fn leaves(value: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
    let mut out = Vec::new();
    collect_leaves(value, "", &mut out);
    out
}

/// Every leaf (a value that is not an object) of `value`, with its dotted
/// path.
fn collect_leaves<'a>(
    value: &'a serde_json::Value,
    prefix: &str,
    out: &mut Vec<(String, &'a serde_json::Value)>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                collect_leaves(v, &path, out);
            }
        }
        leaf => out.push((prefix.to_owned(), leaf)),
    }
}

/// The value at a dotted path (`thresholds.error_rate`) of a policy's
/// `config`.
pub fn lookup<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(value, |v, k| v.get(k))
}

/// Sets the value at a dotted path, making objects on the way.
fn set(value: &mut serde_json::Value, path: &str, new: serde_json::Value) {
    let mut at = value;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !at.is_object() {
            *at = serde_json::Value::Object(serde_json::Map::new());
        }
        let Some(map) = at.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            map.insert((*part).to_owned(), new);
            return;
        }
        at = map
            .entry((*part).to_owned())
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    }
}

/// The leaf paths whose values differ between `a` and `b` (either side).
fn changed_keys(a: &serde_json::Value, b: &serde_json::Value, prefix: &str) -> Vec<String> {
    let mut left = Vec::new();
    let mut right = Vec::new();
    collect_leaves(a, prefix, &mut left);
    collect_leaves(b, prefix, &mut right);
    let mut changed: Vec<String> = right
        .iter()
        .filter(|(p, v)| lookup(a, p) != Some(*v))
        .map(|(p, _)| p.clone())
        .chain(
            left.iter()
                .filter(|(p, _)| lookup(b, p).is_none())
                .map(|(p, _)| p.clone()),
        )
        .filter(|p| !p.is_empty())
        .collect();
    changed.sort();
    changed.dedup();
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(text: &str) -> PolicyConfig {
        let config =
            super::super::Config::parse(text, std::path::Path::new("shipgate.toml")).unwrap();
        config.policies[0].clone()
    }

    fn base() -> PolicyConfig {
        policy(
            "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\nstages = [\"canary\"]\n[policies.config.thresholds]\nerror_rate = 2.0\nmin_requests = 100\n",
        )
    }

    fn rule(required: bool) -> LayerRule {
        LayerRule {
            layer: "org".into(),
            required,
            stricter: BTreeMap::from([("thresholds.error_rate".into(), Direction::Lower)]),
        }
    }

    fn over(extra: &str) -> PolicyConfig {
        policy(&format!(
            "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n{extra}"
        ))
    }

    #[test]
    fn a_required_policy_is_tightened_where_declared() {
        let (policy, changed) = apply(
            &base(),
            &rule(true),
            &over("[policies.config.thresholds]\nerror_rate = 1.0\n"),
        )
        .unwrap();
        assert_eq!(
            policy.config,
            json!({"thresholds": {"error_rate": 1.0, "min_requests": 100}})
        );
        assert_eq!(changed, ["thresholds.error_rate"]);
        assert_eq!(policy.stages, base().stages);
    }

    #[test]
    fn every_weakening_of_a_required_policy_is_refused() {
        let problems = apply(
            &base(),
            &rule(true),
            &over(
                "mode = \"advisory\"\non_error = \"fail-open\"\nstages = [\"gate\"]\n[policies.config.thresholds]\nerror_rate = 5.0\nmin_requests = 10\n",
            ),
        )
        .unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "mode",
                "on_error",
                "stages",
                "config.thresholds.error_rate",
                "config.thresholds.min_requests"
            ]
        );
        assert!(
            problems[3]
                .message
                .contains("5 is not lower than the layer's 2")
        );
        let replaced = apply(
            &base(),
            &rule(true),
            &policy("[[policies]]\nname = \"canary\"\nsource = \"policies/mine.wasm\"\n"),
        )
        .unwrap_err();
        assert_eq!(replaced[0].key, "source");
    }

    #[test]
    fn a_default_policy_is_replaced() {
        let (policy, changed) = apply(
            &base(),
            &rule(false),
            &over("mode = \"advisory\"\n[policies.config.thresholds]\nerror_rate = 5.0\n"),
        )
        .unwrap();
        assert_eq!(policy.mode, Mode::Advisory);
        assert_eq!(policy.config, json!({"thresholds": {"error_rate": 5.0}}));
        assert_eq!(
            changed,
            ["thresholds.error_rate", "thresholds.min_requests"]
        );
    }

    #[test]
    fn floors_add_up_to_the_strictest() {
        let mut floors = Floors::default();
        assert!(floors.is_empty());
        floors.raise(
            &Floors {
                missing_data: Some(Verdict::Hold),
                approval: vec!["production".into()],
                ..Floors::default()
            },
            "acme/org 1.0.0",
        );
        floors.raise(
            &Floors {
                missing_data: Some(Verdict::NoGo),
                fail_closed: true,
                approval: vec!["production".into(), "staging".into()],
                ..Floors::default()
            },
            "acme/payments 1.0.0",
        );
        floors.raise(&Floors::default(), "acme/empty 1.0.0");
        assert_eq!(floors.missing_data, Some(Verdict::NoGo));
        assert!(floors.fail_closed);
        assert_eq!(floors.approval, ["production", "staging"]);
        assert_eq!(floors.set_by, ["acme/org 1.0.0", "acme/payments 1.0.0"]);
    }

    #[test]
    fn layers_rank_and_parse() {
        assert_eq!(rank(Some("org")), 0);
        assert_eq!(rank(Some("org/payments")), 1);
        assert_eq!(rank(None), 2);
        assert!(is_valid_layer("org") && is_valid_layer("org/payments"));
        assert!(!is_valid_layer("team") && !is_valid_layer("org/") && !is_valid_layer("org/Pay"));
    }
}
