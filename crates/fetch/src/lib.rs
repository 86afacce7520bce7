//! Shipgate's bundles in use: what turns a configuration's `[[bundles]]`
//! into policies the engine runs, and what `shipgate bundle push`, `pull`
//! and `lock` do with a registry.
//!
//! - [`resolve()`]: each source pinned (its digest, or `shipgate.lock`'s
//!   for a tag: [`lock`]), fetched from the local store or the registry
//!   ([`Fetcher`]; `--offline`: the store only), checked against the pin,
//!   verified against the trust file and the accepted sequences
//!   (`shipgate-bundle`), and its policies appended to the configuration,
//!   each with its [`BundleOrigin`](shipgate_core::config::BundleOrigin).
//!   Any failure is a located configuration error naming the bundle: a
//!   bundle is never skipped.
//! - [`settings`]: the store, trust file and registry options from
//!   `[trust]` and `[registry]`.
//!
//! It sits on `shipgate-bundle` (what a bundle is) and `shipgate-registry`
//! (how bytes move), below the CLI and the decision service.

#![deny(missing_docs)]

mod error;
pub mod fetcher;
pub mod lock;
pub mod resolve;
pub mod settings;

pub use error::Error;
pub use fetcher::{Fetched, Fetcher};
pub use lock::{Lock, Locked};
pub use resolve::{Options, Resolved, resolve};
pub use settings::Settings;
