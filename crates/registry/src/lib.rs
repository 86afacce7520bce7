//! Shipgate's OCI registry transport: artifacts (an OCI image manifest with
//! its own `artifactType`, a config blob, one titled layer per file) pushed
//! to and pulled from a real registry, by tag or digest, through
//! [`oci-client`](oci_client); kept in a local content-addressed [`Store`]
//! for `--offline`; and read from or written to OCI image-layout
//! directories ([`layout`]) for air-gapped sites.
//!
//! What it guarantees:
//!
//! - every blob pulled is checked against its descriptor's digest and size
//!   and kept **by digest**, never by position;
//! - a manifest is refused past its cap before it is parsed, every blob
//!   past its own and the artifact's cap before it is fetched (see
//!   [`limits`]);
//! - a pinned reference's manifest must hash to its digest;
//! - a manifest of another `artifactType` is refused;
//! - credentials come from environment variables named by the caller and
//!   never appear in an error's `Display` or `Debug` form;
//! - plain HTTP only to loopback hosts or hosts explicitly listed.
//!
//! ```no_run
//! use shipgate_registry::{Artifact, Blob, Client, Layer, Options, Reference};
//!
//! # async fn demo() -> Result<(), shipgate_registry::RegistryError> {
//! let client = Client::new(Options::default())?;
//! let reference: Reference = "oci://localhost:5000/acme/security:1.4.0".parse()?;
//! let artifact = Artifact {
//!     artifact_type: "application/vnd.shipgate.bundle.v1".into(),
//!     config: Blob {
//!         media_type: "application/vnd.shipgate.bundle.config.v1+json".into(),
//!         bytes: br#"{"name":"security"}"#.to_vec(),
//!     },
//!     layers: vec![Layer {
//!         media_type: "application/wasm".into(),
//!         title: "policies/env.wasm".into(),
//!         annotations: Default::default(),
//!         bytes: b"\0asm...".to_vec(),
//!     }],
//!     annotations: Default::default(),
//! };
//! let digest = client.push(&reference, &artifact).await?;
//! let pulled = client
//!     .pull(&reference.with_digest(digest), "application/vnd.shipgate.bundle.v1")
//!     .await?;
//! assert_eq!(pulled.layer("policies/env.wasm").unwrap().1, b"\0asm...");
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod artifact;
pub mod client;
pub mod credentials;
pub mod digest;
pub mod error;
pub mod layout;
pub mod limits;
pub mod reference;
pub mod store;

pub use artifact::{Artifact, Blob, Descriptor, Layer, Manifest, Pulled};
pub use client::{Client, Options};
pub use credentials::Credentials;
pub use digest::Digest;
pub use error::RegistryError;
pub use limits::Limits;
pub use reference::{Reference, ReferenceError};
pub use store::Store;
