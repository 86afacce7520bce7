//! The tables about policy bundles: `[[bundles]]` (which bundles a
//! configuration runs), `[trust]` (the trust file they are verified
//! against) and `[registry]` (how they are fetched and where they are
//! kept), and [`BundleOrigin`], how a policy names the bundle it came from.
//!
//! ```toml
//! [trust]
//! file = "trust.toml"
//!
//! [registry]
//! store = ".shipgate/bundles"
//! token_env = "REGISTRY_TOKEN"
//!
//! [[bundles]]
//! source = "oci://registry.example/acme/security@sha256:4f1c…"
//!
//! [[bundles]]
//! source = "oci://registry.example/acme/canary:1.2.0"   # a tag: pinned by shipgate.lock
//! ```
//!
//! Only the syntax is checked here; fetching, verifying and turning a
//! bundle into policies is `shipgate-fetch`'s job.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use super::checked;
use super::{Duration, Location};

/// One `[[bundles]]` entry: a bundle whose policies the configuration runs,
/// before its own `[[policies]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSource {
    /// Where it comes from: `oci://HOST/REPOSITORY@sha256:…` (pinned), or
    /// `oci://HOST/REPOSITORY:TAG` (pinned by `shipgate.lock`).
    pub source: String,
    /// Where this entry's table starts in the file.
    pub location: Location,
}

/// One `[[bundles]]` entry as the file has it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BundleEntry {
    #[serde(default, deserialize_with = "oci_source")]
    pub(super) source: Option<String>,
}

/// `source`: an `oci://` reference.
fn oci_source<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if !text.starts_with("oci://") || text.len() <= "oci://".len() {
        return Err(checked::error(
            format!("`{text}` is not a bundle reference"),
            Some(
                "write `oci://HOST/REPOSITORY@sha256:DIGEST`, or `oci://HOST/REPOSITORY:TAG` with a `shipgate.lock` (`shipgate bundle lock`)",
            ),
        ));
    }
    Ok(Some(text))
}

/// The `[trust]` table: what bundles are verified against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// The trust file (keys, and which may sign which bundles), relative to
    /// the configuration's directory. Without it a bundle is checked
    /// against its pinned digest only, and the report says it is unsigned
    /// or that its signatures were not checked.
    pub file: Option<PathBuf>,
}

/// The `[registry]` table: how bundles are fetched and where they are kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// The local store of pulled bundles (and the highest sequence accepted
    /// per bundle), relative to the configuration's directory; default
    /// `.shipgate/bundles`.
    pub store: PathBuf,
    /// How long one pull may take; default 2m.
    pub timeout: Option<Duration>,
    /// Hosts (`host` or `host:port`) spoken to in plain HTTP; loopback
    /// hosts always are. Default none.
    pub plain_http: Vec<String>,
    /// The variable holding the user name for HTTP basic authentication
    /// (with `password_env`).
    pub username_env: Option<String>,
    /// The variable holding the password for HTTP basic authentication.
    pub password_env: Option<String>,
    /// The variable holding a bearer token.
    pub token_env: Option<String>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            store: PathBuf::from(".shipgate/bundles"),
            timeout: None,
            plain_http: Vec::new(),
            username_env: None,
            password_env: None,
            token_env: None,
        }
    }
}

impl RegistryConfig {
    /// What is wrong with the credential keys together, as (key, message):
    /// basic authentication needs both names, and a token excludes them.
    pub(super) fn credentials_problem(&self) -> Option<(&'static str, &'static str)> {
        match (&self.username_env, &self.password_env, &self.token_env) {
            (Some(_), None, _) => Some((
                "registry.username_env",
                "`username_env` needs `password_env` (HTTP basic authentication takes both)",
            )),
            (None, Some(_), _) => Some((
                "registry.password_env",
                "`password_env` needs `username_env` (HTTP basic authentication takes both)",
            )),
            (Some(_), Some(_), Some(_)) => Some((
                "registry.token_env",
                "give a token (`token_env`) or a user name and password, not both",
            )),
            _ => None,
        }
    }
}

/// The bundle a policy came from: what a report, its JSON and the decision
/// log name so that a replay can fetch exactly what decided.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BundleOrigin {
    /// The bundle's name (`acme/security`).
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its manifest digest (`sha256:…`).
    pub digest: String,
    /// The ids of the keys whose signatures were verified; empty when no
    /// trust file is configured.
    pub signers: Vec<String>,
    /// Where it was fetched from, pinned (`oci://HOST/REPOSITORY@sha256:…`).
    pub source: String,
    /// Its layer (`org`, `org/GROUP`); `None` for a bundle without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}
