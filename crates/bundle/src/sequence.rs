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
    pub fn accept(&mut self, verified: &Verified) -> Result<()> {
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
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|error| Error::Write {
                path: dir.to_owned(),
                error,
            })?;
        }
        let mut bytes = serde_json::to_vec_pretty(&self.entries).map_err(|e| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        write_atomically(path, &bytes)
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
