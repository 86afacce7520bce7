//! The local content-addressed store: what was pulled, kept so that
//! `--offline` can use it again without a registry.
//!
//! ```text
//! ROOT/blobs/sha256/<hex>   every blob and manifest, named by its digest
//! ROOT/index.json           {"references": {"oci://host/repo:tag": "sha256:…"}}
//! ```
//!
//! Every file is written to a temporary file in its own directory and
//! renamed into place, so a reader sees a whole file or none. Every read
//! checks the bytes against the digest they are named by (a file changed on
//! disk is a [`RegistryError::DigestMismatch`]), and is capped like a pull.
//! The index maps a tag's reference to the digest it pointed at when it was
//! last pulled; a pinned reference needs no index.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shipgate_core::bounded::{self, Cap};

use crate::artifact::{Manifest, Pulled};
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::limits::{INDEX, Limits};
use crate::reference::Reference;

/// A store in one directory (conventionally `.shipgate/bundles`).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    limits: Limits,
}

/// The store's `index.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    references: BTreeMap<String, Digest>,
}

impl Store {
    /// Opens (creating its directories if need be) the store at `root`.
    pub fn open(root: impl Into<PathBuf>, limits: Limits) -> Result<Store, RegistryError> {
        let root = root.into();
        let blobs = root.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs).map_err(|e| RegistryError::local(&blobs, e))?;
        Ok(Store { root, limits })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of the blob `digest`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs").join("sha256").join(digest.hex())
    }

    /// Writes `bytes` as a blob (if it is not there already) and returns its
    /// digest.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<Digest, RegistryError> {
        let digest = Digest::of(bytes);
        let path = self.blob_path(&digest);
        let intact = self.blob(&digest, u64::MAX).is_ok_and(|b| b.is_some());
        if !intact {
            write_atomically(&path, bytes)?;
        }
        Ok(digest)
    }

    /// The blob `digest`, checked against it; `None` if the store does not
    /// have it. At most `cap` bytes are read.
    pub fn blob(&self, digest: &Digest, cap: u64) -> Result<Option<Vec<u8>>, RegistryError> {
        let path = self.blob_path(digest);
        let cap = Cap {
            what: "a stored blob",
            bytes: cap,
        };
        let bytes = match bounded::read_file(&path, cap) {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(RegistryError::local(&path, e)),
        };
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(RegistryError::mismatch(
                &self.root.display().to_string(),
                format!("the stored blob {}", path.display()),
                digest,
                &actual,
            ));
        }
        Ok(Some(bytes))
    }

    /// Keeps a pulled artifact: its manifest and blobs, and (if `reference`
    /// has a tag) the tag's digest in the index. The artifact is checked
    /// first.
    pub fn put(&self, reference: &Reference, pulled: &Pulled) -> Result<(), RegistryError> {
        pulled.verify(&reference.to_string())?;
        for bytes in pulled.blobs.values() {
            self.put_blob(bytes)?;
        }
        self.put_blob(&pulled.manifest_bytes)?;
        if let Some(key) = reference.tag_key() {
            let mut index = self.index()?;
            index.references.insert(key, pulled.digest.clone());
            let text = serde_json::to_vec_pretty(&index)
                .map_err(|e| RegistryError::local(&self.index_path(), e))?;
            write_atomically(&self.index_path(), &text)?;
        }
        Ok(())
    }

    /// The digest `reference` names in the store: its own if pinned, else
    /// the one its tag had when it was last put; `None` if unknown.
    pub fn resolve(&self, reference: &Reference) -> Result<Option<Digest>, RegistryError> {
        if let Some(pinned) = reference.digest() {
            return Ok(Some(pinned.clone()));
        }
        let Some(key) = reference.tag_key() else {
            return Ok(None);
        };
        Ok(self.index()?.references.remove(&key))
    }

    /// The artifact `reference` names, from the store alone (offline):
    /// `None` if the store does not have it; an error if it has it damaged
    /// (a blob missing or changed) or of another `artifact_type`.
    pub fn get(
        &self,
        reference: &Reference,
        artifact_type: &str,
    ) -> Result<Option<Pulled>, RegistryError> {
        let Some(digest) = self.resolve(reference)? else {
            return Ok(None);
        };
        let name = reference.to_string();
        let Some(manifest_bytes) = self.blob(&digest, self.limits.manifest.saturating_add(1))?
        else {
            return Ok(None);
        };
        let manifest = Manifest::parse(&manifest_bytes, &name, &self.limits)?;
        manifest.expect_type(artifact_type, &name)?;
        let mut blobs = BTreeMap::new();
        for d in manifest.blobs() {
            let bytes = self
                .blob(&d.digest, d.size.saturating_add(1))?
                .ok_or_else(|| RegistryError::NotFound {
                    reference: name.clone(),
                    detail: format!("the store has lost blob {}", d.digest),
                })?;
            blobs.insert(d.digest.clone(), bytes);
        }
        let pulled = Pulled {
            digest,
            manifest_bytes,
            manifest,
            blobs,
        };
        pulled.verify(&name)?;
        Ok(Some(pulled))
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    fn index(&self) -> Result<Index, RegistryError> {
        let path = self.index_path();
        match bounded::read_file(&path, INDEX) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RegistryError::local(&path, e)),
            Err(e) if e.is_not_found() => Ok(Index::default()),
            Err(e) => Err(RegistryError::local(&path, e)),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// synced, then renamed over it.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| RegistryError::local(dir, e))?;
    shipgate_core::atomic::write(path, bytes).map_err(|e| RegistryError::local(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Artifact, Blob, Layer};

    fn pulled() -> Pulled {
        let artifact = Artifact {
            artifact_type: "application/vnd.shipgate.test.v1".into(),
            config: Blob {
                media_type: "application/json".into(),
                bytes: b"{}".to_vec(),
            },
            layers: vec![Layer {
                media_type: "text/plain".into(),
                title: "a.txt".into(),
                annotations: BTreeMap::new(),
                bytes: b"hello".to_vec(),
            }],
            annotations: BTreeMap::new(),
        };
        let e = artifact.encode(&Limits::default()).unwrap();
        Pulled {
            digest: e.digest.clone(),
            manifest: Manifest::parse(&e.manifest, "t", &Limits::default()).unwrap(),
            manifest_bytes: e.manifest.clone(),
            blobs: e
                .blobs
                .iter()
                .map(|(d, b)| (d.clone(), b.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn what_was_put_comes_back_offline_by_tag_and_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("bundles"), Limits::default()).unwrap();
        let p = pulled();
        let tag: Reference = "oci://registry.example/acme/x:1.0".parse().unwrap();
        assert!(
            store
                .get(&tag, "application/vnd.shipgate.test.v1")
                .unwrap()
                .is_none()
        );
        store.put(&tag, &p).unwrap();
        assert_eq!(
            store
                .get(&tag, "application/vnd.shipgate.test.v1")
                .unwrap()
                .unwrap(),
            p
        );
        let pinned = tag.with_digest(p.digest.clone());
        assert_eq!(
            store
                .get(&pinned, "application/vnd.shipgate.test.v1")
                .unwrap()
                .unwrap(),
            p
        );
        let other: Reference = "oci://registry.example/acme/x:2.0".parse().unwrap();
        assert!(
            store
                .get(&other, "application/vnd.shipgate.test.v1")
                .unwrap()
                .is_none()
        );
        let err = store.get(&tag, "application/other").unwrap_err();
        assert!(
            matches!(err, RegistryError::WrongArtifactType { .. }),
            "{err}"
        );
        // No temporary files are left beside the blobs.
        let names: Vec<_> = std::fs::read_dir(store.root().join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| n.len() == 64), "{names:?}");
    }

    #[test]
    fn a_blob_changed_on_disk_is_a_digest_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Limits::default()).unwrap();
        let p = pulled();
        let tag: Reference = "oci://registry.example/acme/x:1.0".parse().unwrap();
        store.put(&tag, &p).unwrap();
        let layer = p.manifest.layers[0].digest.clone();
        std::fs::write(store.blob_path(&layer), b"HELLO").unwrap();
        let err = store
            .get(&tag, "application/vnd.shipgate.test.v1")
            .unwrap_err();
        assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
        // Putting it again repairs it.
        store.put(&tag, &p).unwrap();
        assert!(
            store
                .get(&tag, "application/vnd.shipgate.test.v1")
                .unwrap()
                .is_some()
        );
        std::fs::remove_file(store.blob_path(&layer)).unwrap();
        let err = store
            .get(&tag, "application/vnd.shipgate.test.v1")
            .unwrap_err();
        assert!(err.to_string().contains("lost blob"), "{err}");
    }
}
