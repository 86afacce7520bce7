//! A bundle as an OCI image layout (`oci-layout`, `index.json`,
//! `blobs/sha256/<hex>`): as a directory (`shipgate bundle save/load`, for
//! air-gapped sites and any OCI tool), or as one deterministic tar, the
//! `.bundle` file: entries sorted by path, mtime 0, uid and gid 0, no user
//! names, fixed modes. The same bundle is the same bytes.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::oci::{self, Descriptor, ImageIndex, ImageManifest};
use crate::{caps, digest, media};

/// An image layout in memory.
#[derive(Debug, Clone)]
pub struct Layout {
    index: Vec<u8>,
    blobs: BTreeMap<String, Vec<u8>>,
}

fn format(message: impl Into<String>) -> Error {
    Error::Format(message.into())
}

impl Layout {
    /// The layout of `bundle`: its manifest, config and layers as blobs, and
    /// an index naming the manifest (tagged with the bundle's version).
    pub fn of(bundle: &Bundle) -> Layout {
        let mut blobs = BTreeMap::new();
        blobs.insert(bundle.digest(), bundle.manifest_bytes().to_vec());
        for (descriptor, bytes) in bundle.blobs() {
            blobs.insert(descriptor.digest.clone(), bytes.to_vec());
        }
        let mut manifest = Descriptor::of(media::OCI_MANIFEST, bundle.manifest_bytes());
        manifest.artifact_type = Some(media::ARTIFACT_TYPE.to_owned());
        manifest
            .annotations
            .insert(media::REF_NAME.to_owned(), bundle.config().version.clone());
        let index = ImageIndex {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_owned()),
            manifests: vec![manifest],
        };
        Layout {
            index: oci::to_bytes(&index),
            blobs,
        }
    }

    /// The bundle the layout holds: its index names exactly one image
    /// manifest, whose bytes must hash to the index's digest.
    pub fn bundle(mut self) -> Result<Bundle> {
        let index: ImageIndex = serde_json::from_slice(&self.index)
            .map_err(|e| format(format!("its index.json is not valid: {e}")))?;
        let [manifest] = index.manifests.as_slice() else {
            return Err(format(format!(
                "its index.json names {} manifests; a bundle has exactly one",
                index.manifests.len()
            )));
        };
        if manifest.media_type != media::OCI_MANIFEST {
            return Err(format(format!(
                "its index.json names a `{}`, not an image manifest",
                manifest.media_type
            )));
        }
        let manifest_bytes = self
            .blobs
            .remove(&manifest.digest)
            .ok_or_else(|| format(format!("the manifest blob {} is missing", manifest.digest)))?;
        let actual = digest::of(&manifest_bytes);
        if actual != manifest.digest {
            return Err(format(format!(
                "the image manifest was tampered with: its bytes hash to {actual}, index.json says {}",
                manifest.digest
            )));
        }
        let parsed: ImageManifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| format(format!("its image manifest is not valid: {e}")))?;
        let config = self
            .blobs
            .get(&parsed.config.digest)
            .cloned()
            .ok_or_else(|| {
                format(format!(
                    "the config blob {} is missing",
                    parsed.config.digest
                ))
            })?;
        Bundle::from_parts(manifest_bytes, config, self.blobs)
    }

    /// The layout as a deterministic tar.
    pub fn to_tar(&self) -> Vec<u8> {
        let mut entries: Vec<(String, Option<&[u8]>)> = vec![
            ("blobs/".into(), None),
            ("blobs/sha256/".into(), None),
            ("index.json".into(), Some(&self.index)),
            ("oci-layout".into(), Some(oci::OCI_LAYOUT.as_bytes())),
        ];
        for (digest, bytes) in &self.blobs {
            let hex = digest.trim_start_matches("sha256:");
            entries.push((format!("blobs/sha256/{hex}"), Some(bytes)));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut builder = tar::Builder::new(Vec::new());
        for (path, bytes) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            let _ = header.set_username("");
            let _ = header.set_groupname("");
            match bytes {
                None => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    // Paths are ASCII and short: this cannot fail.
                    let _ = builder.append_data(&mut header, &path, std::io::empty());
                }
                Some(bytes) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(0o644);
                    header.set_size(bytes.len() as u64);
                    let _ = builder.append_data(&mut header, &path, bytes);
                }
            }
        }
        builder.into_inner().unwrap_or_default()
    }

    /// A layout from a `.bundle` tar (at most [`caps::BUNDLE`]). Only the
    /// layout's own entries are accepted: `oci-layout`, `index.json`,
    /// `blobs/`, `blobs/sha256/` and `blobs/sha256/<64 hex>` as regular
    /// files and directories; anything else (links, other paths, a
    /// duplicate) is refused.
    pub fn from_tar(bytes: &[u8]) -> Result<Layout> {
        if bytes.len() as u64 > caps::BUNDLE.bytes {
            return Err(format(format!(
                "larger than {}, the limit for a bundle",
                shipgate_core::bounded::size(caps::BUNDLE.bytes)
            )));
        }
        let mut archive = tar::Archive::new(bytes);
        let mut index = None;
        let mut layout = None;
        let mut blobs = BTreeMap::new();
        let entries = archive
            .entries()
            .map_err(|e| format(format!("not a tar file: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| format(format!("a broken tar entry: {e}")))?;
            let path = entry
                .path()
                .map_err(|e| format(format!("a tar entry's path: {e}")))?
                .to_string_lossy()
                .into_owned();
            let path = path.trim_start_matches("./").to_owned();
            let kind = entry.header().entry_type();
            if kind.is_dir()
                && matches!(
                    path.as_str(),
                    "blobs/" | "blobs/sha256/" | "blobs" | "blobs/sha256"
                )
            {
                continue;
            }
            if !kind.is_file() {
                return Err(format(format!(
                    "tar entry `{path}` is not a regular file (links are refused)"
                )));
            }
            let (cap, slot) = match path.as_str() {
                "index.json" => (caps::INDEX, Slot::Index),
                "oci-layout" => (caps::INDEX, Slot::Layout),
                other => match other
                    .strip_prefix("blobs/sha256/")
                    .map(|hex| format!("sha256:{hex}"))
                    .filter(|d| digest::hex_part(d).is_some())
                {
                    Some(digest) => (caps::FILE, Slot::Blob(digest)),
                    None => {
                        return Err(format(format!(
                            "tar entry `{path}` is not part of an OCI image layout"
                        )));
                    }
                },
            };
            let data = shipgate_core::bounded::read(&mut entry, cap)
                .map_err(|e| format(format!("tar entry `{path}`: {e}")))?;
            let duplicate = match slot {
                Slot::Index => index.replace(data).is_some(),
                Slot::Layout => layout.replace(data).is_some(),
                Slot::Blob(digest) => blobs.insert(digest, data).is_some(),
            };
            if duplicate {
                return Err(format(format!("tar entry `{path}` appears twice")));
            }
        }
        check_oci_layout(layout.as_deref())?;
        let index = index.ok_or_else(|| format("it has no index.json"))?;
        Ok(Layout { index, blobs })
    }

    /// Writes the layout into `dir`, which must not exist or be empty.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|error| Error::Write {
                path: path.to_owned(),
                error,
            })
        };
        if dir.exists()
            && std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(Error::Write {
                path: dir.to_owned(),
                error: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the directory exists and is not empty",
                ),
            });
        }
        let blobs = dir.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs).map_err(|error| Error::Write {
            path: blobs.clone(),
            error,
        })?;
        write(&dir.join("oci-layout"), oci::OCI_LAYOUT.as_bytes())?;
        write(&dir.join("index.json"), &self.index)?;
        for (digest, bytes) in &self.blobs {
            write(&blobs.join(digest.trim_start_matches("sha256:")), bytes)?;
        }
        Ok(())
    }

    /// Reads the layout in `dir`: `oci-layout`, `index.json`, and the blobs
    /// the index's manifest names (a directory shared with other images
    /// keeps its other blobs to itself).
    pub fn read_dir(dir: &Path) -> Result<Layout> {
        let read = |path: &Path, cap| {
            shipgate_core::bounded::read_file(path, cap).map_err(|error| Error::Read {
                path: path.to_owned(),
                error,
            })
        };
        check_oci_layout(Some(&read(&dir.join("oci-layout"), caps::INDEX)?))?;
        let index_bytes = read(&dir.join("index.json"), caps::INDEX)?;
        let index: ImageIndex = serde_json::from_slice(&index_bytes)
            .map_err(|e| format(format!("its index.json is not valid: {e}")))?;
        let mut blobs = BTreeMap::new();
        let mut total = 0u64;
        let mut read_blob = |digest: &str, cap| -> Result<Vec<u8>> {
            let hex = digest::hex_part(digest)
                .ok_or_else(|| format(format!("`{digest}` is not a sha256 digest")))?;
            let bytes = read(&dir.join("blobs").join("sha256").join(hex), cap)?;
            total += bytes.len() as u64;
            if total > caps::BUNDLE.bytes {
                return Err(format("its blobs are larger than the limit for a bundle"));
            }
            Ok(bytes)
        };
        for manifest in &index.manifests {
            let bytes = read_blob(&manifest.digest, caps::MANIFEST)?;
            if let Ok(parsed) = serde_json::from_slice::<ImageManifest>(&bytes) {
                let config = read_blob(&parsed.config.digest, caps::CONFIG_BLOB)?;
                blobs.insert(parsed.config.digest.clone(), config);
                if parsed.layers.len() > caps::MAX_FILES + caps::MAX_SIGNATURES {
                    return Err(format("its manifest has too many layers"));
                }
                for layer in &parsed.layers {
                    if !blobs.contains_key(&layer.digest) {
                        let bytes = read_blob(&layer.digest, caps::FILE)?;
                        blobs.insert(layer.digest.clone(), bytes);
                    }
                }
            }
            blobs.insert(manifest.digest.clone(), bytes);
        }
        Ok(Layout {
            index: index_bytes,
            blobs,
        })
    }
}

enum Slot {
    Index,
    Layout,
    Blob(String),
}

/// `oci-layout` must say version 1.0.0.
fn check_oci_layout(bytes: Option<&[u8]>) -> Result<()> {
    let bytes = bytes.ok_or_else(|| format("it has no oci-layout file"))?;
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format(format!("its oci-layout is not JSON: {e}")))?;
    if value.get("imageLayoutVersion").and_then(|v| v.as_str()) != Some("1.0.0") {
        return Err(format("its oci-layout is not imageLayoutVersion 1.0.0"));
    }
    Ok(())
}

/// Reads a `.bundle` file (at most [`caps::BUNDLE`]).
pub fn read_bundle_file(path: &Path) -> Result<Bundle> {
    let bytes =
        shipgate_core::bounded::read_file(path, caps::BUNDLE).map_err(|error| Error::Read {
            path: path.to_owned(),
            error,
        })?;
    Layout::from_tar(&bytes)?.bundle()
}

/// Writes `bundle` to a `.bundle` file, atomically (a temporary file in the
/// same directory, renamed).
pub fn write_bundle_file(bundle: &Bundle, path: &Path) -> Result<()> {
    crate::sequence::write_atomically(path, &Layout::of(bundle).to_tar())
}

/// Reads `reader` (at most [`caps::BUNDLE`]) as a `.bundle` tar.
pub fn read_bundle(reader: impl Read) -> Result<Bundle> {
    let bytes =
        shipgate_core::bounded::read(reader, caps::BUNDLE).map_err(|e| format(e.to_string()))?;
    Layout::from_tar(&bytes)?.bundle()
}
