//! Caps on what a registry (or a directory) hands over, in the style of
//! `shipgate_core::bounded`: every manifest and blob is refused past its cap,
//! before it is parsed or stored.
//!
//! | input | cap |
//! | --- | --- |
//! | an artifact's manifest | [`MANIFEST`], 4 MiB (the distribution spec's own limit for a manifest a registry must accept) |
//! | one blob (the config or a layer) | [`BLOB`], 64 MiB |
//! | all of an artifact's blobs together | [`ARTIFACT`], 256 MiB |
//! | a local index (`index.json` of a store or image layout) | [`INDEX`], 4 MiB |

use shipgate_core::bounded::Cap;

const MIB: u64 = 1024 * 1024;

/// An artifact's manifest.
pub const MANIFEST: Cap = Cap {
    what: "an OCI manifest",
    bytes: 4 * MIB,
};
/// One blob of an artifact: its config or one layer.
pub const BLOB: Cap = Cap {
    what: "one blob of an artifact",
    bytes: 64 * MIB,
};
/// All the blobs of one artifact, added up.
pub const ARTIFACT: Cap = Cap {
    what: "an artifact's blobs together",
    bytes: 256 * MIB,
};
/// The `index.json` of a local store or OCI image layout.
pub const INDEX: Cap = Cap {
    what: "an index of references",
    bytes: 4 * MIB,
};

/// The caps one client or store applies; [`Limits::default`] is the table
/// above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest manifest, in bytes.
    pub manifest: u64,
    /// The largest single blob, in bytes.
    pub blob: u64,
    /// The most bytes of all blobs of one artifact together.
    pub total: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            manifest: MANIFEST.bytes,
            blob: BLOB.bytes,
            total: ARTIFACT.bytes,
        }
    }
}
