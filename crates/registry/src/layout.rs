//! OCI image-layout directories (`oci-layout`, `index.json`,
//! `blobs/sha256/…`): how an artifact travels to an air-gapped site
//! (`save` writes one, `load` reads it), and what `oras copy --to-oci-layout`
//! and `skopeo` read and write.
//!
//! Reading gives the same [`Pulled`] shape as a registry pull, with the same
//! checks: the manifest capped and parsed, its `artifactType` required,
//! every blob checked against its digest and size. Blob paths are built
//! only from checked digests, never from names in the directory.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use shipgate_core::bounded::{self, Cap};

use crate::artifact::{Artifact, MANIFEST_MEDIA_TYPE, Manifest, Pulled, check_blob};
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::limits::{INDEX, Limits};
use crate::store::write_atomically;

/// The annotation naming a manifest in a layout's index (a tag).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The media type of an image index.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// The content of the `oci-layout` file.
const OCI_LAYOUT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutMarker {
    image_layout_version: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    manifests: Vec<IndexEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    media_type: String,
    digest: Digest,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// Writes `artifact` into the image layout at `dir` (created if need be;
/// an existing layout gains it), named `ref_name` in the index when given
/// (a manifest already named so loses the name). Returns the manifest's
/// digest.
pub fn write(
    dir: &Path,
    artifact: &Artifact,
    ref_name: Option<&str>,
    limits: &Limits,
) -> Result<Digest, RegistryError> {
    let encoded = artifact.encode(limits)?;
    std::fs::create_dir_all(dir).map_err(|e| RegistryError::local(dir, e))?;
    let marker = dir.join("oci-layout");
    if !marker.exists() {
        write_atomically(&marker, OCI_LAYOUT.as_bytes())?;
    } else {
        read_marker(dir)?;
    }
    for (digest, bytes) in &encoded.blobs {
        write_atomically(&blob_path(dir, digest), bytes)?;
    }
    write_atomically(&blob_path(dir, &encoded.digest), &encoded.manifest)?;
    let mut index = match read_index(dir) {
        Ok(index) => index,
        Err(_) if !dir.join("index.json").exists() => Index {
            schema_version: 2,
            media_type: Some(INDEX_MEDIA_TYPE.into()),
            manifests: Vec::new(),
        },
        Err(e) => return Err(e),
    };
    if let Some(name) = ref_name {
        for entry in &mut index.manifests {
            if entry.annotations.get(REF_NAME).map(String::as_str) == Some(name) {
                entry.annotations.remove(REF_NAME);
            }
        }
    }
    index
        .manifests
        .retain(|e| e.digest != encoded.digest || !e.annotations.is_empty());
    let mut annotations = BTreeMap::new();
    if let Some(name) = ref_name {
        annotations.insert(REF_NAME.to_owned(), name.to_owned());
    }
    index.manifests.push(IndexEntry {
        media_type: MANIFEST_MEDIA_TYPE.into(),
        digest: encoded.digest.clone(),
        size: encoded.manifest.len() as u64,
        artifact_type: Some(artifact.artifact_type.clone()),
        annotations,
    });
    let text = serde_json::to_vec_pretty(&index)
        .map_err(|e| RegistryError::local(&dir.join("index.json"), e))?;
    write_atomically(&dir.join("index.json"), &text)?;
    Ok(encoded.digest)
}

/// Which manifest of a layout to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select<'a> {
    /// The one named so (`org.opencontainers.image.ref.name`).
    Name(&'a str),
    /// The one with this digest.
    Digest(&'a Digest),
    /// The only manifest of the artifact type asked for.
    Only,
}

/// Reads the artifact `select` names from the image layout at `dir`,
/// refusing another `artifact_type`, every blob checked.
pub fn read(
    dir: &Path,
    select: Select<'_>,
    artifact_type: &str,
    limits: &Limits,
) -> Result<Pulled, RegistryError> {
    read_marker(dir)?;
    let index = read_index(dir)?;
    let name = dir.display().to_string();
    let entry = match select {
        Select::Name(wanted) => index
            .manifests
            .iter()
            .find(|e| e.annotations.get(REF_NAME).map(String::as_str) == Some(wanted)),
        Select::Digest(wanted) => index.manifests.iter().find(|e| e.digest == *wanted),
        Select::Only => {
            let of_type: Vec<&IndexEntry> = index
                .manifests
                .iter()
                .filter(|e| {
                    e.artifact_type
                        .as_deref()
                        .is_none_or(|t| t == artifact_type)
                })
                .collect();
            if of_type.len() > 1 {
                return Err(RegistryError::local(
                    dir,
                    format!(
                        "the layout holds {} artifacts: name one (by its ref name or digest)",
                        of_type.len()
                    ),
                ));
            }
            of_type.first().copied()
        }
    }
    .ok_or_else(|| RegistryError::NotFound {
        reference: name.clone(),
        detail: format!("the layout's index.json has no manifest {select:?}"),
    })?;
    if entry.size > limits.manifest {
        return Err(RegistryError::TooLarge {
            reference: name,
            what: "the manifest".into(),
            found: Some(entry.size),
            limit: limits.manifest,
        });
    }
    let manifest_bytes = read_blob(dir, &entry.digest, entry.size)?;
    let actual = Digest::of(&manifest_bytes);
    if actual != entry.digest {
        return Err(RegistryError::mismatch(
            &name,
            "the manifest",
            &entry.digest,
            &actual,
        ));
    }
    let manifest = Manifest::parse(&manifest_bytes, &name, limits)?;
    manifest.expect_type(artifact_type, &name)?;
    let mut blobs = BTreeMap::new();
    for d in manifest.blobs() {
        let bytes = read_blob(dir, &d.digest, d.size)?;
        check_blob(&name, d, &bytes)?;
        blobs.insert(d.digest.clone(), bytes);
    }
    let pulled = Pulled {
        digest: entry.digest.clone(),
        manifest_bytes,
        manifest,
        blobs,
    };
    pulled.verify(&name)?;
    Ok(pulled)
}

fn blob_path(dir: &Path, digest: &Digest) -> std::path::PathBuf {
    dir.join("blobs").join("sha256").join(digest.hex())
}

/// Reads a blob of `size` bytes (one more is read, so a longer file shows).
fn read_blob(dir: &Path, digest: &Digest, size: u64) -> Result<Vec<u8>, RegistryError> {
    let path = blob_path(dir, digest);
    let cap = Cap {
        what: "a blob of the layout",
        bytes: size.saturating_add(1),
    };
    bounded::read_file(&path, cap).map_err(|e| RegistryError::local(&path, e))
}

fn read_marker(dir: &Path) -> Result<(), RegistryError> {
    let path = dir.join("oci-layout");
    let cap = Cap {
        what: "an oci-layout file",
        bytes: 4096,
    };
    let bytes = bounded::read_file(&path, cap)
        .map_err(|e| RegistryError::local(&path, format!("not an OCI image layout: {e}")))?;
    let marker: LayoutMarker = serde_json::from_slice(&bytes)
        .map_err(|e| RegistryError::local(&path, format!("not an OCI image layout: {e}")))?;
    if !marker.image_layout_version.starts_with("1.") {
        return Err(RegistryError::local(
            &path,
            format!(
                "image layout version `{}`, not 1.x",
                marker.image_layout_version
            ),
        ));
    }
    Ok(())
}

fn read_index(dir: &Path) -> Result<Index, RegistryError> {
    let path = dir.join("index.json");
    let bytes = bounded::read_file(&path, INDEX).map_err(|e| RegistryError::local(&path, e))?;
    let index: Index =
        serde_json::from_slice(&bytes).map_err(|e| RegistryError::local(&path, e))?;
    if index.schema_version != 2 {
        return Err(RegistryError::local(
            &path,
            format!("schemaVersion is {}, not 2", index.schema_version),
        ));
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Blob, Layer};

    fn artifact(text: &str) -> Artifact {
        Artifact {
            artifact_type: "application/vnd.shipgate.test.v1".into(),
            config: Blob {
                media_type: "application/json".into(),
                bytes: b"{}".to_vec(),
            },
            layers: vec![Layer {
                media_type: "text/plain".into(),
                title: "a.txt".into(),
                annotations: BTreeMap::new(),
                bytes: text.as_bytes().to_vec(),
            }],
            annotations: BTreeMap::new(),
        }
    }

    const T: &str = "application/vnd.shipgate.test.v1";

    #[test]
    fn a_written_layout_reads_back_by_name_digest_or_alone() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits::default();
        let one = write(dir.path(), &artifact("one"), Some("1.0"), &limits).unwrap();
        let pulled = read(dir.path(), Select::Only, T, &limits).unwrap();
        assert_eq!(pulled.digest, one);
        assert_eq!(pulled.artifact().unwrap(), artifact("one"));
        let two = write(dir.path(), &artifact("two"), Some("2.0"), &limits).unwrap();
        assert_eq!(
            read(dir.path(), Select::Name("1.0"), T, &limits)
                .unwrap()
                .digest,
            one
        );
        assert_eq!(
            read(dir.path(), Select::Digest(&two), T, &limits)
                .unwrap()
                .digest,
            two
        );
        assert!(
            read(dir.path(), Select::Only, T, &limits)
                .unwrap_err()
                .to_string()
                .contains("holds 2 artifacts")
        );
        // The name moves to the newer artifact.
        let three = write(dir.path(), &artifact("three"), Some("1.0"), &limits).unwrap();
        assert_eq!(
            read(dir.path(), Select::Name("1.0"), T, &limits)
                .unwrap()
                .digest,
            three
        );
        let err = read(
            dir.path(),
            Select::Name("1.0"),
            "application/other",
            &limits,
        )
        .unwrap_err();
        assert!(
            matches!(err, RegistryError::WrongArtifactType { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_changed_blob_or_a_missing_marker_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits::default();
        write(dir.path(), &artifact("one"), None, &limits).unwrap();
        let layer = Digest::of(b"one");
        std::fs::write(blob_path(dir.path(), &layer), b"ONE").unwrap();
        let err = read(dir.path(), Select::Only, T, &limits).unwrap_err();
        assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
        std::fs::write(blob_path(dir.path(), &layer), b"one!").unwrap();
        let err = read(dir.path(), Select::Only, T, &limits).unwrap_err();
        assert!(matches!(err, RegistryError::SizeMismatch { .. }), "{err}");
        std::fs::remove_file(dir.path().join("oci-layout")).unwrap();
        let err = read(dir.path(), Select::Only, T, &limits).unwrap_err();
        assert!(err.to_string().contains("not an OCI image layout"), "{err}");
    }
}
