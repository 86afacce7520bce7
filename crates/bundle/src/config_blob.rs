//! The config blob of a bundle (`application/vnd.shipgate.bundle.config.v1+json`):
//! what the bundle is (name, version, sequence, expiry, the Shipgate and
//! contract versions it needs), the policies it defines, and every file's
//! title and digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shipgate_core::config::layering::{Direction, Floors};
use shipgate_core::config::{Mode, OnError};
use shipgate_model::Stage;

/// The config blob's format version.
pub const FORMAT: u32 = 1;

/// The config blob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleConfig {
    /// [`FORMAT`].
    pub format: u32,
    /// `acme/security`.
    pub name: String,
    /// Semantic version, `1.4.0`.
    pub version: String,
    /// Increases with every release of this name; a lower one than already
    /// accepted is a rollback.
    pub sequence: u64,
    /// RFC 3339; past it the bundle is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The oldest Shipgate that may load it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_shipgate: Option<String>,
    /// The policy contract its components are built for,
    /// `shipgate:policy@0.2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// A line for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its layer: `org`, or a group `org/NAME`; `None`: no layer (a
    /// library a team adds itself; every policy may be overridden).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The floors its layer sets for the whole decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floors: Option<Floors>,
    /// The policies, in `bundle.toml`'s order.
    pub policies: Vec<BundlePolicy>,
    /// Every file, sorted by path.
    pub files: Vec<FileEntry>,
}

/// One policy the bundle defines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundlePolicy {
    /// Its name.
    pub name: String,
    /// `builtin:NAME`, or the path (title) of its component in the bundle.
    pub source: String,
    /// The stages to ask it about; `None`: the stages it declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<Stage>>,
    /// Whether its verdict counts.
    pub mode: Mode,
    /// What a failure counts as.
    pub on_error: OnError,
    /// The path (title) of its configuration file in the bundle.
    pub config: String,
    /// In a layer: whether a lower layer may only tighten it (else it may
    /// override it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The `config` keys a lower layer may tighten, and which way is
    /// stricter.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stricter: BTreeMap<String, Direction>,
}

impl BundlePolicy {
    /// The component's path in the bundle, unless it is a built-in.
    pub fn component(&self) -> Option<&str> {
        (!self.source.starts_with("builtin:")).then_some(self.source.as_str())
    }
}

/// One file: its path (the layer's title), digest, size and media type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// The path inside the bundle, `/`-separated.
    pub path: String,
    /// `sha256:…`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Its media type.
    pub media_type: String,
}
