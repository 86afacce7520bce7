//! Shipgate's policy bundles, offline: a platform team's policies, their
//! configurations and golden decision cases as one versioned, signed,
//! verifiable artifact.
//!
//! - **Source** ([`source`]): a directory with `bundle.toml` (name, version,
//!   sequence, expiry, the Shipgate and contract versions, `[[policies]]`
//!   exactly as in `shipgate.toml`), components, and `cases/`.
//! - **Format** ([`bundle`], [`oci`], [`layout`]): an OCI artifact. One
//!   image manifest with `artifactType` [`media::ARTIFACT_TYPE`], a config
//!   blob ([`config_blob::BundleConfig`]: what the bundle is, its policies,
//!   every file's path and digest) and one layer per file, titled with
//!   `org.opencontainers.image.title`. Files are found by digest and title,
//!   never by position. On disk: an OCI image layout, as a directory or as
//!   a deterministic tar (the `.bundle` file: the same input is the same
//!   bytes).
//! - **Signing** ([`keys`], [`dsse`], [`statement`]): Ed25519 signatures in
//!   DSSE envelopes over a statement listing the name, version, sequence,
//!   expiry, the config blob's digest and every file's path and digest; one
//!   signature layer per key.
//! - **Trust** ([`trust`], [`verify`], [`sequence`]): `trust.toml` names
//!   keys and, per bundle name or glob, the keys allowed and how many must
//!   sign. [`Bundle::verify`] refuses, each with its own [`Error`]: an
//!   unsigned bundle when trust is configured, a file whose digest differs
//!   from the statement, a missing or extra file, a key not allowed, too
//!   few signatures, an expired bundle, a rollback (a sequence below the
//!   accepted one), a bundle for a newer Shipgate or another contract.
//! - **Exceptions** ([`exception`]): the only way to loosen an org policy.
//!   An `exception.toml` names a policy (or one rule), a scope (service,
//!   environment), a reason, a ticket and a short validity; signed as a
//!   DSSE envelope (`NAME.exception`) by keys the trust file's
//!   `[exceptions]` table allows, it is verified by
//!   [`exception::SignedException::verify`], which refuses, each with its
//!   own [`Error`], an unsigned, wrongly signed, not yet valid, expired or
//!   over-long exception.
//!
//! # For a transport (a registry client)
//!
//! A transport moves bytes; this crate decides what they are. To pull, hand
//! the image manifest's bytes, the config blob and the layers' blobs (by
//! digest, in any order) to [`Bundle::from_parts`], compare
//! [`Bundle::digest`] with the digest you pinned, then
//! [`Bundle::verify`]. To push, send [`Bundle::blobs`] (config and layers,
//! with their descriptors) and then [`Bundle::manifest_bytes`] as
//! `application/vnd.oci.image.manifest.v1+json`.
//!
//! ```
//! use std::collections::BTreeMap;
//! use shipgate_bundle::{Bundle, SequenceStore, Trust, keys::PrivateKey, source};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # std::fs::write(dir.path().join("bundle.toml"), "name = \"acme/security\"\nversion = \"1.0.0\"\nsequence = 1\n[[policies]]\nname = \"env\"\nsource = \"builtin:env\"\n")?;
//! let key = PrivateKey::generate()?;
//! let mut built = source::build(dir.path())?;
//! built.sign(&key)?;
//!
//! // What a registry client would push, and fetch back (here: copied).
//! let blobs: BTreeMap<String, Vec<u8>> = built
//!     .blobs()
//!     .map(|(descriptor, bytes)| (descriptor.digest.clone(), bytes.to_vec()))
//!     .collect();
//! let pinned = built.digest();
//! let pulled = Bundle::from_parts(
//!     built.manifest_bytes().to_vec(),
//!     built.config_bytes().to_vec(),
//!     blobs,
//! )?;
//! assert_eq!(pulled.digest(), pinned);
//!
//! let trust = Trust::parse(
//!     &format!(
//!         "[[keys]]\nid = \"{}\"\npublic = \"{}\"\n[[bundles]]\nscope = \"acme/*\"\nkeys = [\"{0}\"]\n",
//!         key.id(),
//!         key.public_base64()
//!     ),
//!     "trust.toml",
//! )?;
//! let mut store = SequenceStore::in_memory();
//! let verified = pulled.verify(&trust, time::OffsetDateTime::now_utc(), &store)?;
//! assert_eq!(verified.signers, [key.id()]);
//! store.accept(&verified)?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod bundle;
pub mod caps;
pub mod compat;
pub mod config_blob;
pub mod digest;
pub mod dsse;
mod error;
pub mod exception;
pub mod keys;
pub mod layout;
pub mod media;
pub mod names;
pub mod oci;
pub mod sequence;
pub mod source;
pub mod statement;
pub mod trust;
pub mod verified;
pub mod verify;

pub use bundle::{Bundle, SignOutcome};
pub use error::{Error, Result};
pub use layout::Layout;
pub use sequence::SequenceStore;
pub use trust::Trust;
pub use verified::Verified;

#[cfg(test)]
mod tests;
