//! `shipgate.lock`: the digest each tagged `[[bundles]]` source resolved
//! to, beside `shipgate.toml`, as `Cargo.lock` is beside `Cargo.toml`. A
//! tag moves; the lock does not, so what runs is what was locked until
//! `shipgate bundle lock --update` moves it (and the change shows in review).
//!
//! ```toml
//! # shipgate.lock: the digest each tagged bundle of shipgate.toml runs.
//! # Written by `shipgate bundle lock`; commit it, do not edit it.
//! version = 1
//!
//! [[bundles]]
//! source = "oci://registry.example/acme/security:1.4.0"
//! digest = "sha256:4f1c…"
//! name = "acme/security"
//! version = "1.4.0"
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shipgate_core::bounded::Cap;
use shipgate_core::config::{ConfigError, TomlFile};

/// The lock file's name, beside the configuration.
pub const FILE: &str = "shipgate.lock";

/// The format this version writes and reads.
pub const VERSION: u32 = 1;

/// The largest lock file read.
pub const CAP: Cap = Cap {
    what: "a lock file",
    bytes: 1024 * 1024,
};

const HEADER: &str = "# shipgate.lock: the digest each tagged bundle of shipgate.toml runs.\n\
                      # Written by `shipgate bundle lock`; commit it, do not edit it.\n";

/// One locked source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locked {
    /// The source as `shipgate.toml` writes it (with its tag).
    pub source: String,
    /// The manifest digest it resolved to (`sha256:…`).
    pub digest: String,
    /// The bundle's name, for people reading the lock.
    pub name: String,
    /// The bundle's version, for people reading the lock.
    pub version: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    #[serde(default)]
    bundles: Vec<Locked>,
}

/// A lock file, read (or empty when there is none yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    path: PathBuf,
    entries: Vec<Locked>,
}

impl Lock {
    /// The lock of the configuration in `dir` (`dir/shipgate.lock`); empty
    /// when the file does not exist. A file that cannot be read or parsed,
    /// or of another version, is an error naming it (with line and key).
    pub fn load(dir: &Path) -> Result<Lock, ConfigError> {
        let path = if dir == Path::new(".") {
            PathBuf::from(FILE)
        } else {
            dir.join(FILE)
        };
        let name = path.display().to_string();
        let fail = |message: String| ConfigError {
            file: name.clone(),
            line: 0,
            column: 0,
            key: None,
            message,
            help: None,
        };
        let text = match shipgate_core::bounded::read_file_to_string(&path, CAP) {
            Ok(text) => text,
            Err(e) if e.is_not_found() => {
                return Ok(Lock {
                    path,
                    entries: Vec::new(),
                });
            }
            Err(e) => return Err(fail(format!("cannot read the lock: {e}"))),
        };
        let file = TomlFile::new(&name, &text);
        let parsed: LockFile = file.parse()?;
        if parsed.version != VERSION {
            return Err(file.key_error(
                "version",
                &format!(
                    "lock format {} is not the one this Shipgate reads ({VERSION})",
                    parsed.version
                ),
            ));
        }
        for (index, entry) in parsed.bundles.iter().enumerate() {
            if !entry.digest.starts_with("sha256:") {
                return Err(file.key_error(
                    &format!("bundles[{index}].digest"),
                    &format!("`{}` is not a sha256 digest", entry.digest),
                ));
            }
        }
        Ok(Lock {
            path,
            entries: parsed.bundles,
        })
    }

    /// The file it is read from and written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The locked entries, in the order written.
    pub fn entries(&self) -> &[Locked] {
        &self.entries
    }

    /// The entry of `source`, if locked.
    pub fn get(&self, source: &str) -> Option<&Locked> {
        self.entries.iter().find(|e| e.source == source)
    }

    /// Locks `entry`'s source to its digest (replacing an older entry).
    pub fn set(&mut self, entry: Locked) {
        match self.entries.iter_mut().find(|e| e.source == entry.source) {
            Some(old) => *old = entry,
            None => self.entries.push(entry),
        }
    }

    /// Drops the entries of sources no longer configured.
    pub fn retain(&mut self, sources: &[&str]) {
        self.entries
            .retain(|e| sources.contains(&e.source.as_str()));
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let file = LockFile {
            version: VERSION,
            bundles: self.entries.clone(),
        };
        let body = toml::to_string(&file).unwrap_or_default();
        format!("{HEADER}{body}")
    }

    /// Writes the file whole (atomically).
    pub fn save(&self) -> std::io::Result<()> {
        shipgate_core::atomic::write(&self.path, self.to_text().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, digest: &str) -> Locked {
        Locked {
            source: source.into(),
            digest: digest.into(),
            name: "acme/security".into(),
            version: "1.0.0".into(),
        }
    }

    #[test]
    fn a_lock_round_trips_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = Lock::load(dir.path()).unwrap();
        assert!(lock.entries().is_empty());
        lock.set(entry("oci://h/a:1", "sha256:aa"));
        lock.set(entry("oci://h/b:1", "sha256:bb"));
        lock.set(entry("oci://h/a:1", "sha256:cc"));
        lock.save().unwrap();
        let again = Lock::load(dir.path()).unwrap();
        assert_eq!(again, lock);
        assert_eq!(again.get("oci://h/a:1").unwrap().digest, "sha256:cc");
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(text.starts_with("# shipgate.lock"), "{text}");
        let mut fewer = again.clone();
        fewer.retain(&["oci://h/b:1"]);
        assert_eq!(fewer.entries().len(), 1);
    }

    #[test]
    fn a_broken_lock_is_a_located_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE),
            "version = 1\n[[bundles]]\nsource = \"oci://h/a:1\"\ndigest = \"md5:x\"\nname = \"a\"\nversion = \"1\"\n",
        )
        .unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("shipgate.lock:4:"), "{err}");
        assert!(err.contains("key `bundles[0].digest`"), "{err}");
        std::fs::write(dir.path().join(FILE), "version = 2\n").unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("lock format 2"), "{err}");
    }
}
