//! What a verification established about a bundle.

use serde::Serialize;

/// What verification established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The bundle's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its sequence.
    pub sequence: u64,
    /// Its expiry.
    pub expires: Option<String>,
    /// Its manifest digest.
    pub digest: String,
    /// Its config blob's digest (what the signatures cover).
    pub config_digest: String,
    /// The key ids whose valid signatures, by keys trust allows for it,
    /// counted; sorted.
    pub signers: Vec<String>,
    /// Whether trust was configured (else nothing about signers was
    /// required).
    pub trusted: bool,
    /// The rule that applied, its scope.
    pub scope: Option<String>,
    /// Its threshold.
    pub threshold: Option<u32>,
}
