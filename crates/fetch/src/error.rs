//! Why a bundle could not be fetched, verified or used.

use std::path::PathBuf;

/// An error of this crate; its message names the bundle and the reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The registry, the store or the transport failed.
    #[error(transparent)]
    Registry(#[from] shipgate_registry::RegistryError),
    /// The bundle is not well formed, or verification refused it.
    #[error(transparent)]
    Bundle(#[from] shipgate_bundle::Error),
    /// A reference without a digest where one is needed.
    #[error("`{reference}` is not pinned to a digest")]
    NotPinned {
        /// The reference.
        reference: String,
    },
    /// The bundle handed over is not the pinned one.
    #[error("`{reference}` is pinned, but the bundle handed over is {actual}")]
    NotThePin {
        /// The pinned reference.
        reference: String,
        /// The digest of what was handed over.
        actual: String,
    },
    /// Offline, and the store does not have it.
    #[error(
        "not in the local store `{}`, and `--offline` forbids the registry: pull it first (`shipgate bundle pull {reference}`)",
        store.display()
    )]
    Offline {
        /// The reference.
        reference: String,
        /// The store's directory.
        store: PathBuf,
    },
    /// The async runtime could not start.
    #[error("cannot start the registry client: {0}")]
    Runtime(String),
}
