//! What can go wrong talking to a registry, a store or an image layout.
//!
//! Every text an error carries that came from outside (a registry's answer,
//! the HTTP client's message) has been through
//! [`shipgate_core::redact::scrub`] when the error was made, so neither its
//! `Display` nor its `Debug` form can hold a registered secret (the
//! password or token the client was given registers itself).

use std::path::PathBuf;
use std::time::Duration;

use shipgate_core::bounded::size;

use crate::digest::Digest;
use crate::reference::ReferenceError;

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The reference does not parse.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// No connection to the registry could be made (refused, no route,
    /// name not resolved, TLS failed).
    #[error("the registry `{host}` is unreachable: {detail}")]
    Unreachable {
        /// `host[:port]`.
        host: String,
        /// The cause, redacted.
        detail: String,
    },
    /// The registry did not finish answering in time.
    #[error("the registry `{host}` did not answer within {} ({during})", humanize(*after))]
    TimedOut {
        /// `host[:port]`.
        host: String,
        /// The limit that passed.
        after: Duration,
        /// What was under way (`pulling`, `connecting`).
        during: String,
    },
    /// The registry has no such manifest, blob or repository.
    #[error("`{reference}` was not found: {detail}")]
    NotFound {
        /// What was asked for.
        reference: String,
        /// The registry's answer, redacted.
        detail: String,
    },
    /// The registry refused the credentials (or asked for some).
    #[error("the registry `{host}` refused access: {detail}")]
    Unauthorized {
        /// `host[:port]`.
        host: String,
        /// The registry's answer, redacted.
        detail: String,
    },
    /// Bytes whose digest is not the one they were asked for.
    #[error("{what} of `{reference}`: expected digest `{expected}`, the bytes have `{actual}`")]
    DigestMismatch {
        /// Where they came from.
        reference: String,
        /// `the manifest`, `blob sha256:…`.
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest of what came.
        actual: String,
    },
    /// Bytes whose length is not the one their descriptor gives.
    #[error("{what} of `{reference}`: the descriptor says {expected} bytes, {actual}")]
    SizeMismatch {
        /// Where they came from.
        reference: String,
        /// `blob sha256:…`.
        what: String,
        /// The size in the descriptor.
        expected: u64,
        /// What came: `got 12 bytes`, `got more`.
        actual: String,
    },
    /// A manifest or blob larger than its cap.
    #[error("{what} of `{reference}` is larger than {}, the limit{}", size(*limit), found.map(|n| format!(" ({n} bytes)")).unwrap_or_default())]
    TooLarge {
        /// Where it came from.
        reference: String,
        /// `the manifest`, `blob sha256:…`, `the artifact's blobs together`.
        what: String,
        /// The size, when known before reading.
        found: Option<u64>,
        /// The cap, in bytes.
        limit: u64,
    },
    /// A manifest that is not an OCI image manifest this crate accepts.
    #[error("the manifest of `{reference}` is not a valid OCI artifact manifest: {reason}")]
    InvalidManifest {
        /// Where it came from.
        reference: String,
        /// What is wrong, located where serde can say (`line 1 column 7`).
        reason: String,
    },
    /// A manifest of another kind of artifact.
    #[error("`{reference}` is {}, not `{expected}`", found.as_deref().map(|f| format!("a `{f}` artifact")).unwrap_or_else(|| "an artifact without an artifactType".into()))]
    WrongArtifactType {
        /// Where it came from.
        reference: String,
        /// The artifactType asked for.
        expected: String,
        /// The one the manifest has.
        found: Option<String>,
    },
    /// An artifact that cannot be pushed or written as given.
    #[error("invalid artifact: {0}")]
    InvalidArtifact(String),
    /// The credentials the configuration names are not there.
    #[error("credentials for the registry: {0}")]
    Credentials(String),
    /// Any other failure the registry reported.
    #[error("the registry `{host}` failed: {detail}")]
    Registry {
        /// `host[:port]`.
        host: String,
        /// The failure, redacted.
        detail: String,
    },
    /// A local store or image layout could not be read or written.
    #[error("`{}`: {reason}", path.display())]
    Local {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl RegistryError {
    /// A digest mismatch of `what`.
    pub(crate) fn mismatch(
        reference: &str,
        what: impl Into<String>,
        expected: &Digest,
        actual: &Digest,
    ) -> RegistryError {
        RegistryError::DigestMismatch {
            reference: reference.to_owned(),
            what: what.into(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }

    /// A local I/O failure at `path`.
    pub(crate) fn local(path: &std::path::Path, reason: impl std::fmt::Display) -> RegistryError {
        RegistryError::Local {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// `30s`, `1.5s`, `250ms`.
fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
