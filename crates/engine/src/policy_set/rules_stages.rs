//! The stages a `builtin:rules` policy answers when its `[[policies]]`
//! entry gives no `stages`: those its rules answer, not every stage the
//! component can answer. A rules policy whose rules all say
//! `stages = ["canary"]` would otherwise be asked `verify` (or `gate`),
//! find no rule for it, and answer `go` with no finding: a decision
//! nobody made.

use shipgate_model::Stage;

use crate::config::{PolicyConfig, PolicySource};

/// The stages `policy` answers, narrowed from `declared` (its component's
/// `info().stages`) to those its rules answer when it is `builtin:rules`;
/// `declared` for any other policy. A rule without `stages` answers every
/// stage; a configuration this cannot read (the component refuses it at
/// load anyway) keeps `declared`.
pub fn narrowed(policy: &PolicyConfig, declared: &[Stage]) -> Vec<Stage> {
    if !matches!(&policy.source, PolicySource::Builtin(name) if name == "rules") {
        return declared.to_vec();
    }
    let Some(rules) = policy.config.get("rules").and_then(|r| r.as_array()) else {
        return declared.to_vec();
    };
    let mut answered: Vec<Stage> = Vec::new();
    for rule in rules {
        let stages: Vec<Stage> = match rule.get("stages") {
            None => declared.to_vec(),
            Some(list) => match serde_json::from_value::<Vec<Stage>>(list.clone()) {
                Ok(stages) => stages,
                Err(_) => return declared.to_vec(),
            },
        };
        for stage in stages {
            if !answered.contains(&stage) {
                answered.push(stage);
            }
        }
    }
    declared
        .iter()
        .copied()
        .filter(|s| answered.contains(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(source: &str, config: serde_json::Value) -> PolicyConfig {
        let text = format!("[[policies]]\nname = \"p\"\nsource = \"{source}\"\n");
        let mut config_file =
            crate::config::Config::parse(&text, std::path::Path::new("shipgate.toml")).unwrap();
        let mut p = config_file.policies.remove(0);
        p.config = config;
        p
    }

    #[test]
    fn a_rules_policy_answers_the_stages_of_its_rules() {
        let all = Stage::ALL;
        let canary_only = serde_json::json!({"rules": [
            {"id": "a", "stages": ["canary"], "when": "true", "verdict": "hold"},
            {"id": "b", "stages": ["canary", "risk"], "when": "true", "verdict": "hold"},
        ]});
        assert_eq!(
            narrowed(&policy("builtin:rules", canary_only), all),
            [Stage::Canary, Stage::Risk]
        );
        // A rule without stages answers every stage.
        let any = serde_json::json!({"rules": [
            {"id": "a", "stages": ["canary"], "when": "true", "verdict": "hold"},
            {"id": "b", "when": "true", "verdict": "hold"},
        ]});
        assert_eq!(narrowed(&policy("builtin:rules", any), all), all);
        // No rules: nothing answered, so nothing decided.
        let none = serde_json::json!({"rules": []});
        assert!(narrowed(&policy("builtin:rules", none), all).is_empty());
        // Another policy keeps what its component declares.
        let canary = serde_json::json!({"rules": [{"stages": ["gate"]}]});
        assert_eq!(
            narrowed(&policy("builtin:canary", canary), &[Stage::Canary]),
            [Stage::Canary]
        );
    }
}
