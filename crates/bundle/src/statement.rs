//! The statement a signature covers: the bundle's name, version, sequence
//! and expiry, its config blob's digest, and every file's path and digest.
//! Signing it signs the whole bundle: a file added, removed or changed, a
//! renamed bundle or an altered expiry no longer matches.

use serde::{Deserialize, Serialize};

/// The statement's `_type`.
pub const TYPE: &str = "https://shipgate.dev/bundle-statement/v1";

/// What a signature says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// [`TYPE`].
    #[serde(rename = "_type")]
    pub kind: String,
    /// The bundle's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its sequence.
    pub sequence: u64,
    /// Its expiry, RFC 3339.
    #[serde(default)]
    pub expires: Option<String>,
    /// The config blob's digest.
    pub config: String,
    /// Every file, sorted by path.
    pub files: Vec<StatementFile>,
}

/// One file of a statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementFile {
    /// Its path (the layer's title).
    pub path: String,
    /// `sha256:…`.
    pub digest: String,
}
