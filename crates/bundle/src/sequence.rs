//! The accepted-sequence store: for each bundle name, the highest sequence
//! accepted so far, so that an older signed bundle cannot be brought back
//! (a rollback). A JSON file, `accepted.json` in the local bundle store
//! (`.shipgate/bundles/` by default), replaced atomically on every update.
//!
//! ```json
//! {"acme/security":{"sequence":7,"version":"1.4.0","config":"sha256:…","digest":"sha256:…"}}
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::verified::Verified;

/// The store's file name in its directory.
pub const FILE: &str = "accepted.json";

/// The lock file beside it, held while the store is read and written.
pub const LOCK: &str = "accepted.lock";

/// What was accepted for one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// The highest sequence accepted.
    pub sequence: u64,
    /// Its version.
    pub version: String,
    /// Its config blob's digest (what the signatures cover).
    pub config: String,
    /// Its manifest digest.
    pub digest: String,
}

/// The accepted sequences, by bundle name.
#[derive(Debug, Clone, Default)]
pub struct SequenceStore {
    path: Option<PathBuf>,
    entries: BTreeMap<String, Accepted>,
}

impl SequenceStore {
    /// A store that lives only in memory (tests, `--no-record`).
    pub fn in_memory() -> SequenceStore {
        SequenceStore::default()
    }

    /// The store in `dir` (`dir/accepted.json`); empty when the file does
    /// not exist yet.
    pub fn open(dir: &Path) -> Result<SequenceStore> {
        let path = dir.join(FILE);
        let entries = match shipgate_core::bounded::read_file(&path, crate::caps::STORE) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Store {
                path: path.clone(),
                message: format!("not a valid accepted-sequence store: {e}"),
            })?,
            Err(e) if e.is_not_found() => BTreeMap::new(),
            Err(error) => return Err(Error::Read { path, error }),
        };
        Ok(SequenceStore {
            path: Some(path),
            entries,
        })
    }

    /// What was accepted for `name`.
    pub fn get(&self, name: &str) -> Option<&Accepted> {
        self.entries.get(name)
    }

    /// Records `verified` as accepted (when its sequence is at least the
    /// accepted one), and writes the store to its file atomically.
    ///
    /// The file is read again and written under an exclusive lock
    /// (`accepted.lock` beside it), so that two processes accepting at once
    /// lose neither update; and if another process accepted a higher
    /// sequence for the name (or this sequence for other content) since
    /// `verified` was checked, this is refused as a rollback
    /// ([`Error::RolledBack`], [`Error::SequenceReused`]) rather than
    /// lowering the record.
    pub fn accept(&mut self, verified: &Verified) -> Result<()> {
        let Some(path) = self.path.clone() else {
            self.record(verified);
            return Ok(());
        };
        let write = |dir: &Path, error: std::io::Error| Error::Write {
            path: dir.to_owned(),
            error,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| write(dir, e))?;
        let lock_path = dir.join(LOCK);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| write(&lock_path, e))?;
        lock.lock().map_err(|e| write(&lock_path, e))?;
        let on_disk = SequenceStore::open(dir)?;
        for (name, accepted) in on_disk.entries {
            match self.entries.get(&name) {
                Some(ours) if ours.sequence >= accepted.sequence => {}
                _ => {
                    self.entries.insert(name, accepted);
                }
            }
        }
        if let Some(accepted) = self.entries.get(&verified.name) {
            if verified.sequence < accepted.sequence {
                return Err(Error::RolledBack {
                    bundle: verified.name.clone(),
                    version: verified.version.clone(),
                    sequence: verified.sequence,
                    accepted: accepted.sequence,
                    accepted_version: accepted.version.clone(),
                });
            }
            if verified.sequence == accepted.sequence && accepted.config != verified.config_digest {
                return Err(Error::SequenceReused {
                    bundle: verified.name.clone(),
                    version: verified.version.clone(),
                    sequence: verified.sequence,
                    accepted_config: accepted.config.clone(),
                });
            }
        }
        self.record(verified);
        let mut bytes = serde_json::to_vec_pretty(&self.entries).map_err(|e| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        let written = write_atomically(&path, &bytes);
        // Unlocked when `lock` is dropped (and by the OS if the process dies).
        drop(lock);
        written
    }

    /// Sets `verified` as the accepted entry of its name when its sequence
    /// is at least the one held.
    fn record(&mut self, verified: &Verified) {
        let newer = self
            .entries
            .get(&verified.name)
            .is_none_or(|a| verified.sequence >= a.sequence);
        if newer {
            self.entries.insert(
                verified.name.clone(),
                Accepted {
                    sequence: verified.sequence,
                    version: verified.version.clone(),
                    config: verified.config_digest.clone(),
                    digest: verified.digest.clone(),
                },
            );
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// synced, then renamed over it: a reader sees the old file or the new one,
/// never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    shipgate_core::atomic::write(path, bytes).map_err(|error| Error::Write {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(name: &str, sequence: u64, config: &str) -> Verified {
        Verified {
            name: name.into(),
            version: format!("1.{sequence}.0"),
            sequence,
            expires: None,
            digest: format!("sha256:{sequence}"),
            config_digest: config.into(),
            signers: Vec::new(),
            trusted: true,
            scope: None,
            threshold: None,
        }
    }

    #[test]
    fn two_stores_on_one_directory_lose_no_update_and_never_go_back() {
        let dir = tempfile::tempdir().unwrap();
        // Two processes open the store before either accepts.
        let mut a = SequenceStore::open(dir.path()).unwrap();
        let mut b = SequenceStore::open(dir.path()).unwrap();
        b.accept(&verified("acme/security", 8, "sha256:c8"))
            .unwrap();
        // `a` checked sequence 7 against what it read (nothing): under the
        // lock it sees 8 and refuses, and the file keeps 8.
        let err = a
            .accept(&verified("acme/security", 7, "sha256:c7"))
            .unwrap_err();
        assert!(
            matches!(err, Error::RolledBack { accepted: 8, .. }),
            "{err}"
        );
        let err = a
            .accept(&verified("acme/security", 8, "sha256:other"))
            .unwrap_err();
        assert!(matches!(err, Error::SequenceReused { .. }), "{err}");
        // Other names from both are kept.
        a.accept(&verified("acme/canary", 2, "sha256:a2")).unwrap();
        b.accept(&verified("acme/verify", 5, "sha256:b5")).unwrap();
        let on_disk = SequenceStore::open(dir.path()).unwrap();
        assert_eq!(on_disk.get("acme/security").unwrap().sequence, 8);
        assert_eq!(on_disk.get("acme/canary").unwrap().sequence, 2);
        assert_eq!(on_disk.get("acme/verify").unwrap().sequence, 5);
    }
}
