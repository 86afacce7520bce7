//! What a policy says about itself.

use crate::{Section, Stage};

/// Who a policy is and which questions it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// A short name (`canary`, `error-ratio`).
    pub name: String,
    /// The policy's version; defaults to the crate's via [`Info::version`].
    pub version: String,
    /// One sentence.
    pub description: String,
    /// The stages it answers.
    pub stages: Vec<Stage>,
    /// The snapshot sections it reads.
    pub reads: Vec<Section>,
    /// The rules it can report, in the order a reader would look for them.
    /// `shipgate test` lists the ones no case made fire, and
    /// [`crate::testing::evaluate`] refuses a finding whose rule is not
    /// declared here (unless the list is empty).
    pub rules: Vec<Rule>,
}

/// A rule a policy can report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The id its findings carry (`canary.error-rate`).
    pub id: String,
    /// What makes it fire, in one sentence.
    pub description: String,
}

impl Info {
    /// A policy that answers the gate stage and reads nothing yet.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Info {
            name: name.into(),
            version: "0.0.0".into(),
            description: description.into(),
            stages: vec![Stage::Gate],
            reads: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// Sets the version (pass `env!("CARGO_PKG_VERSION")`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the stages the policy answers.
    pub fn stages(mut self, stages: &[Stage]) -> Self {
        self.stages = stages.to_vec();
        self
    }

    /// Sets the sections the policy reads.
    pub fn reads(mut self, reads: &[Section]) -> Self {
        self.reads = reads.to_vec();
        self
    }

    /// Declares one rule the policy can report.
    pub fn rule(mut self, id: impl Into<String>, description: impl Into<String>) -> Self {
        self.rules.push(Rule {
            id: id.into(),
            description: description.into(),
        });
        self
    }

    /// Declares the rules the policy can report, as `(id, description)`.
    pub fn rules(mut self, rules: &[(&str, &str)]) -> Self {
        for (id, description) in rules {
            self = self.rule(*id, *description);
        }
        self
    }

    /// Whether `id` is declared; always true when no rule is declared.
    pub fn declares(&self, id: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_info_declares_no_rule_and_so_declares_every_id() {
        let info = Info::new("demo", "a demo");
        assert!(info.rules.is_empty());
        assert!(info.declares("demo.anything"));
        assert!(info.declares(""));
    }

    #[test]
    fn rule_and_rules_append_in_order() {
        let info = Info::new("demo", "a demo")
            .rule("demo.first", "fires first")
            .rules(&[
                ("demo.second", "fires second"),
                ("demo.third", "fires third"),
            ])
            .rule("demo.fourth", "fires fourth");
        let ids: Vec<&str> = info.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["demo.first", "demo.second", "demo.third", "demo.fourth"]
        );
        assert_eq!(
            info.rules[1],
            Rule {
                id: "demo.second".into(),
                description: "fires second".into(),
            }
        );
    }

    #[test]
    fn declares_matches_whole_ids_exactly() {
        let info = Info::new("demo", "a demo").rules(&[("demo.a", "a"), ("demo.b-c", "b-c")]);
        assert!(info.declares("demo.a"));
        assert!(info.declares("demo.b-c"));
        for undeclared in [
            "demo", "demo.", "demo.b", "demo.a.b", "demo.a ", "DEMO.A", "",
        ] {
            assert!(!info.declares(undeclared), "`{undeclared}` is not declared");
        }
    }

    #[test]
    fn an_empty_rules_call_declares_nothing() {
        let info = Info::new("demo", "a demo").rules(&[]);
        assert!(info.rules.is_empty());
        assert!(info.declares("demo.anything"));
    }
}
