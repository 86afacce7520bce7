//! The size caps of a bundle: every piece read from outside has one (see
//! [`shipgate_core::bounded`]).
//!
//! | input | cap |
//! | --- | --- |
//! | `bundle.toml` | [`shipgate_core::bounded::CONFIG`], 1 MiB |
//! | `trust.toml` | [`TRUST`], 1 MiB |
//! | one file of a bundle (component, config, case) | [`FILE`], 64 MiB |
//! | the image manifest | [`MANIFEST`], 4 MiB (what registries accept) |
//! | the config blob | [`CONFIG_BLOB`], 4 MiB |
//! | `index.json`, `oci-layout` | [`INDEX`], 1 MiB |
//! | one signature (DSSE envelope) | [`SIGNATURE`], 64 KiB |
//! | a whole bundle (the `.bundle` file, or every blob of a layout) | [`BUNDLE`], 512 MiB |
//! | a key file | [`KEY`], 16 KiB |
//! | the accepted-sequence store | [`STORE`], 16 MiB |
//!
//! and a bundle has at most [`MAX_FILES`] files and [`MAX_SIGNATURES`]
//! signatures.

use shipgate_core::bounded::Cap;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// One file of a bundle.
pub const FILE: Cap = Cap {
    what: "a file of a bundle",
    bytes: 64 * MIB,
};
/// The image manifest.
pub const MANIFEST: Cap = Cap {
    what: "a bundle's image manifest",
    bytes: 4 * MIB,
};
/// The config blob.
pub const CONFIG_BLOB: Cap = Cap {
    what: "a bundle's config blob",
    bytes: 4 * MIB,
};
/// `index.json` or `oci-layout` of an image layout.
pub const INDEX: Cap = Cap {
    what: "an image layout's index",
    bytes: MIB,
};
/// One signature layer.
pub const SIGNATURE: Cap = Cap {
    what: "a bundle signature",
    bytes: 64 * KIB,
};
/// A whole bundle.
pub const BUNDLE: Cap = Cap {
    what: "a bundle",
    bytes: 512 * MIB,
};
/// `trust.toml`.
pub const TRUST: Cap = Cap {
    what: "a trust file",
    bytes: MIB,
};
/// A key file (`.key`, `.pub`).
pub const KEY: Cap = Cap {
    what: "a key file",
    bytes: 16 * KIB,
};
/// The accepted-sequence store.
pub const STORE: Cap = Cap {
    what: "the accepted-sequence store",
    bytes: 16 * MIB,
};
/// The most files one bundle holds.
pub const MAX_FILES: usize = 1000;
/// The most signatures one bundle holds.
pub const MAX_SIGNATURES: usize = 32;
