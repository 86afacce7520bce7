//! What a policy says about itself.

use crate::{Rules, Section, Stage};

/// Who a policy is and which questions it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// A short name (`canary`, `error-ratio`).
    pub name: String,
    /// The policy's version. `None` (the default) reports the policy
    /// crate's version, which [`export_policy!`](crate::export_policy)
    /// fills in; [`Info::version`] overrides it.
    pub version: Option<String>,
    /// One sentence.
    pub description: String,
    /// The stages it answers.
    pub stages: Vec<Stage>,
    /// The snapshot sections it reads.
    pub reads: Vec<Section>,
    /// The rules it can report, as [`rules!`](crate::rules!) declares them.
    /// `shipgate test` lists the ones no case made fire, and
    /// [`crate::testing::evaluate`] refuses a finding whose rule is not
    /// declared here (unless the list is empty).
    pub rules: Rules,
}

impl Info {
    /// A policy that answers the gate stage and reads nothing yet.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Info {
            name: name.into(),
            version: None,
            description: description.into(),
            stages: vec![Stage::Gate],
            reads: Vec::new(),
            rules: Rules::NONE,
        }
    }

    /// Overrides the version, which is otherwise the policy crate's.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
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

    /// Declares the rules the policy can report: the `RULES` that
    /// [`rules!`](crate::rules!) defines.
    pub fn rules(mut self, rules: Rules) -> Self {
        self.rules = rules;
        self
    }

    /// Whether `id` is declared; always true when no rule is declared.
    pub fn declares(&self, id: &str) -> bool {
        self.rules.is_empty() || self.rules.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rule;

    crate::rules! {
        pub A = "demo.a" => "a",
        pub B_C = "demo.b-c" => "b-c",
    }

    #[test]
    fn a_new_info_declares_no_rule_and_so_declares_every_id() {
        let info = Info::new("demo", "a demo");
        assert!(info.rules.is_empty());
        assert!(info.declares("demo.anything"));
        assert!(info.declares(""));
    }

    #[test]
    fn rules_declares_the_list_in_order() {
        let info = Info::new("demo", "a demo").rules(RULES);
        assert_eq!(info.rules.ids().collect::<Vec<_>>(), [A, B_C]);
        assert_eq!(
            info.rules.as_slice()[1],
            Rule {
                id: "demo.b-c",
                description: "b-c",
            }
        );
        // A second call replaces the list; it never appends.
        let info = info.rules(Rules::NONE);
        assert!(info.rules.is_empty());
    }

    #[test]
    fn declares_matches_whole_ids_exactly() {
        let info = Info::new("demo", "a demo").rules(RULES);
        assert!(info.declares("demo.a"));
        assert!(info.declares("demo.b-c"));
        for undeclared in [
            "demo", "demo.", "demo.b", "demo.a.b", "demo.a ", "DEMO.A", "",
        ] {
            assert!(!info.declares(undeclared), "`{undeclared}` is not declared");
        }
    }

    #[test]
    fn the_version_is_unset_until_overridden() {
        let info = Info::new("demo", "a demo");
        assert_eq!(info.version, None);
        assert_eq!(info.version("1.2.3").version.as_deref(), Some("1.2.3"));
    }
}
