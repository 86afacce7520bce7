//! The on-disk cache of precompiled components.
//!
//! A compiled component is stored under a key made of the component's
//! sha256 and a hash of the engine's configuration (wasmtime's
//! `precompile_compatibility_hash`, which covers the wasmtime version, the
//! target and every setting that changes code generation). The directory is
//! opened once as a `cap_std::fs::Dir`, so the cache can touch no file
//! outside it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use sha2::{Digest, Sha256};

/// Where precompiled components are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheMode {
    /// Compile every time.
    Disabled,
    /// `$SHIPGATE_CACHE_DIR`, else the user's cache directory
    /// (`~/.cache/shipgate` on Linux).
    Default,
    /// This directory.
    Dir(PathBuf),
}

impl CacheMode {
    /// The directory this mode points at, if any.
    pub fn resolve(&self) -> Option<PathBuf> {
        match self {
            CacheMode::Disabled => None,
            CacheMode::Dir(p) => Some(p.clone()),
            CacheMode::Default => match std::env::var_os("SHIPGATE_CACHE_DIR") {
                Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
                _ => directories::ProjectDirs::from("", "", "shipgate")
                    .map(|d| d.cache_dir().join("components")),
            },
        }
    }
}

/// An open cache directory.
#[derive(Debug)]
pub(crate) struct Cache {
    dir: Dir,
    path: PathBuf,
    engine_hash: String,
}

/// Feeds `Hash` output into sha256, so the engine hash is the same in every
/// process (unlike `DefaultHasher`'s).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl Cache {
    /// Opens (creating it if needed) the cache directory for this engine.
    pub(crate) fn open(path: &Path, engine: &wasmtime::Engine) -> std::io::Result<Cache> {
        std::fs::create_dir_all(path)?;
        let dir = Dir::open_ambient_dir(path, ambient_authority())?;
        let mut hasher = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = hex::encode(&hasher.0.finalize()[..8]);
        Ok(Cache {
            dir,
            path: path.to_owned(),
            engine_hash,
        })
    }

    /// The directory on disk.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn file_name(&self, component_sha256: &str) -> String {
        format!("{component_sha256}-{}.cwasm", self.engine_hash)
    }

    /// The precompiled artifact of a component, if cached.
    pub(crate) fn get(&self, component_sha256: &str) -> Option<Vec<u8>> {
        self.dir.read(self.file_name(component_sha256)).ok()
    }

    /// Stores an artifact: written to a temporary name, then renamed, so a
    /// reader never sees half a file.
    pub(crate) fn put(&self, component_sha256: &str, artifact: &[u8]) -> std::io::Result<()> {
        let name = self.file_name(component_sha256);
        let tmp = format!(".{name}.{}.tmp", std::process::id());
        self.dir.write(&tmp, artifact)?;
        self.dir.rename(&tmp, &self.dir, &name)
    }

    /// Removes a cached artifact (after it failed to deserialize).
    pub(crate) fn remove(&self, component_sha256: &str) {
        let _ = self.dir.remove_file(self.file_name(component_sha256));
    }
}
