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
}
