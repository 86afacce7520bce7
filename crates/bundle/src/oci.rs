//! The OCI documents a bundle is made of: the image manifest, its
//! descriptors, and an image layout's `index.json` and `oci-layout`, as
//! serde types written in a fixed field order (so that the same bundle is
//! the same bytes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::media;

/// A content descriptor: what a blob is, its digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// `sha256:…`.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// The artifact type of a manifest an index points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations (a layer's `org.opencontainers.image.title`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// A descriptor of `bytes` with `media_type`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: crate::digest::of(bytes),
            size: bytes.len() as u64,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The same, with a title annotation.
    pub fn titled(mut self, title: &str) -> Descriptor {
        self.annotations
            .insert(media::TITLE.to_owned(), title.to_owned());
        self
    }

    /// The `org.opencontainers.image.title` annotation.
    pub fn title(&self) -> Option<&str> {
        self.annotations.get(media::TITLE).map(String::as_str)
    }
}

/// An OCI image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`media::OCI_MANIFEST`].
    #[serde(default)]
    pub media_type: Option<String>,
    /// [`media::ARTIFACT_TYPE`] for a bundle.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// One layer per file, then the signatures.
    pub layers: Vec<Descriptor>,
    /// Annotations (the bundle's name and version, for people).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image layout's `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// [`media::OCI_INDEX`].
    #[serde(default)]
    pub media_type: Option<String>,
    /// The manifests; a bundle's layout has exactly one.
    pub manifests: Vec<Descriptor>,
}

/// The text of `oci-layout`.
pub const OCI_LAYOUT: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";

/// JSON bytes of a value (compact, the struct's field order).
pub(crate) fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail (no maps with non-string keys).
    serde_json::to_vec(value).unwrap_or_default()
}
