//! What the host's HTTP health probes found after a deploy: the `verify`
//! stage's evidence that the service answers, collected by the host
//! (`[sources.http]`) and judged by a policy.
//!
//! An endpoint that does not answer is a *result* (no status, with why),
//! not missing data: a policy sees it as the failure it is. Only a source
//! the host could not run at all is a gap.

use serde::{Deserialize, Serialize};

/// The probes run against the deployed service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// One entry per configured probe, in configuration order.
    #[serde(default)]
    pub probes: Vec<Probe>,
}

/// One configured health probe and what each of its rounds found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Its name in the configuration (`api-health`).
    pub name: String,
    /// The URL probed, without credentials, query or fragment.
    pub url: String,
    /// The status a healthy endpoint answers.
    pub expected_status: u16,
    /// Each round's result, in order (the configured probe count).
    #[serde(default)]
    pub results: Vec<ProbeResult>,
}

/// The result of one probe round, after its retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProbeResult {
    /// The status of the last answer; `None` when none came (refused,
    /// timed out, TLS failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the last request took (up to its timeout).
    pub latency_ms: u32,
    /// Whether the body matched the configured pattern; `None` without a
    /// pattern or without an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_matched: Option<bool>,
    /// Why no answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Requests made in this round (1 + the retries used).
    pub tries: u32,
}

impl ProbeResult {
    /// Whether this round found the endpoint healthy: the expected status,
    /// and the body matched when a pattern was configured.
    pub fn healthy(&self, expected_status: u16) -> bool {
        self.status == Some(expected_status) && self.body_matched != Some(false)
    }
}
