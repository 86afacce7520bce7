//! The on-disk cache of precompiled components, and what it trusts.
//!
//! Loading a precompiled artifact (`Component::deserialize`) maps its
//! machine code into the process and runs it: whoever can write the cache
//! can run native code in the host. So the cache trusts only the user who
//! runs Shipgate, and checks everything else:
//!
//! - **The directory** must be owned by the current user and writable by
//!   nobody else (no group or world write bit), as OpenSSH's `StrictModes`
//!   asks of `~/.ssh`. It is created `0700`. It is opened once, and checked
//!   on the open handle (no race with a rename); every later access is
//!   relative to that handle (`cap_std::fs::Dir`, `*at` calls), so the
//!   directory's parents need not be trusted: replacing the directory
//!   would need one owned by the user. A directory that fails the check is
//!   refused with one warning, and components are compiled in memory.
//! - **An entry** is opened without following symbolic links (`O_NOFOLLOW`)
//!   and must be a regular file owned by the user and writable by nobody
//!   else. A symbolic link is discarded and replaced by a real entry.
//! - **What an entry claims** is bound to it: a header records the key it
//!   was written for (the component's sha256 and the engine's compatibility
//!   fingerprint, wasmtime's `precompile_compatibility_hash`, which covers
//!   the wasmtime version, the target and every code-generation setting)
//!   and the sha256 of the artifact that follows. Both are checked before
//!   the artifact is deserialized: another component's entry copied over
//!   this one, or flipped bytes in its machine code, are detected, the
//!   entry is discarded with a warning, and the component is compiled again.
//! - **Writes** are atomic: a new file (`O_EXCL`, mode `0600`) with a
//!   temporary name, then renamed over the entry.
//!
//! What remains trusted: the current user (who can run any code anyway),
//! and wasmtime's own checks of an artifact it wrote.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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

/// Why a cache directory is not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    /// It could not be created or opened.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// It is not a directory.
    #[error("it is not a directory")]
    NotADirectory,
    /// Another user owns it.
    #[error(
        "it is owned by uid {owner}, not by the current user (uid {user}), who alone may \
         write code this process runs"
    )]
    NotOwned {
        /// Its owner.
        owner: u32,
        /// The current (effective) user.
        user: u32,
    },
    /// Others may write it.
    #[error(
        "it is writable by {who} (mode {mode:04o}), who could then run native code in this \
         process; make it private: `chmod 700 {path}`"
    )]
    NotPrivate {
        /// `group`, `others` or `group and others`.
        who: &'static str,
        /// Its permission bits.
        mode: u32,
        /// The directory.
        path: String,
    },
    /// This platform cannot check ownership and permissions.
    #[cfg(not(unix))]
    #[error("the cache needs a unix system to check its owner and permissions")]
    Unsupported,
}

/// An open, checked cache directory.
#[derive(Debug)]
pub(crate) struct Cache {
    dir: Dir,
    path: PathBuf,
    /// The engine's compatibility fingerprint, hex
    /// ([`super::engine_config::fingerprint`]).
    engine: String,
}

/// The first line of every entry (the format's name and version).
const MAGIC: &str = "shipgate-cache-entry 1";

/// The largest entry read (a policy's artifact is a few MiB).
const MAX_ENTRY_BYTES: u64 = 256 * 1024 * 1024;

/// The header's lines end before this many bytes.
const MAX_HEADER_BYTES: usize = 512;

/// Temporary names of one process are told apart by this counter.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Why an entry is not used (it is discarded).
#[derive(Debug)]
pub(crate) struct Rejected(String);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn rejected(reason: impl Into<String>) -> Rejected {
    Rejected(reason.into())
}

impl Cache {
    /// Opens (creating it `0700` if needed) the cache directory for this
    /// engine, and checks that only the current user can write it.
    pub(crate) fn open(path: &Path, engine: &wasmtime::Engine) -> Result<Cache, OpenError> {
        let dir = open_private_dir(path)?;
        Ok(Cache {
            dir,
            path: path.to_owned(),
            engine: super::engine_config::fingerprint(engine),
        })
    }

    /// The directory on disk.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The entry's file name: the key it is for.
    fn file_name(&self, component_sha256: &str) -> String {
        let engine = self.engine.get(..16).unwrap_or(&self.engine);
        format!("{component_sha256}-{engine}.entry")
    }

    /// The header an entry for `component_sha256` with this artifact has.
    fn header(&self, component_sha256: &str, artifact_sha256: &str) -> String {
        let mut h = String::with_capacity(MAX_HEADER_BYTES);
        let _ = write!(
            h,
            "{MAGIC}\ncomponent {component_sha256}\nengine {}\nartifact {artifact_sha256}\n\n",
            self.engine
        );
        h
    }

    /// The precompiled artifact of a component, if a valid entry is cached.
    /// An entry that is not what it claims is removed, with a warning.
    pub(crate) fn get(&self, component_sha256: &str) -> Option<Vec<u8>> {
        let name = self.file_name(component_sha256);
        match self.read_entry(&name, component_sha256) {
            Ok(artifact) => artifact,
            Err(why) => {
                tracing::warn!(
                    "discarding the cached component `{}`: {why}; compiling it again",
                    self.path.join(&name).display()
                );
                self.remove(component_sha256);
                None
            }
        }
    }

    /// Reads and checks an entry: `Ok(None)` when there is none.
    fn read_entry(&self, name: &str, component_sha256: &str) -> Result<Option<Vec<u8>>, Rejected> {
        let mut file = match open_entry(&self.dir, name) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(rejected(format!("cannot open it: {e}"))),
        };
        check_entry_file(&file)?;
        let mut data = Vec::new();
        file.by_ref()
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| rejected(format!("cannot read it: {e}")))?;
        if data.len() as u64 > MAX_ENTRY_BYTES {
            return Err(rejected(format!(
                "it is larger than {MAX_ENTRY_BYTES} bytes"
            )));
        }
        let (header, artifact) = split_header(&data)?;
        let actual = hex::encode(Sha256::digest(artifact));
        let expected = self.header(component_sha256, &actual);
        if header != expected.as_bytes() {
            return Err(rejected(describe_mismatch(
                header,
                component_sha256,
                &self.engine,
                &actual,
            )));
        }
        let start = header.len();
        data.drain(..start);
        Ok(Some(data))
    }

    /// Stores an artifact with its header: written to a new private file
    /// with a temporary name, then renamed over the entry, so a reader never
    /// sees half a file and a planted file or link is never written through.
    pub(crate) fn put(&self, component_sha256: &str, artifact: &[u8]) -> std::io::Result<()> {
        use std::io::Write as _;
        let name = self.file_name(component_sha256);
        let tmp = format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let header = self.header(component_sha256, &hex::encode(Sha256::digest(artifact)));
        let written = create_private_file(&self.dir, &tmp).and_then(|mut file| {
            file.write_all(header.as_bytes())?;
            file.write_all(artifact)?;
            file.sync_data()
        });
        let renamed = written.and_then(|()| self.dir.rename(&tmp, &self.dir, &name));
        if renamed.is_err() {
            let _ = self.dir.remove_file(&tmp);
        }
        renamed
    }

    /// Removes an entry (it does not follow a symbolic link: the link itself
    /// goes).
    pub(crate) fn remove(&self, component_sha256: &str) {
        let _ = self.dir.remove_file(self.file_name(component_sha256));
    }
}

/// The header (up to and including its blank line) and the artifact.
fn split_header(data: &[u8]) -> Result<(&[u8], &[u8]), Rejected> {
    let head = data.get(..MAX_HEADER_BYTES.min(data.len())).unwrap_or(data);
    if !head.starts_with(MAGIC.as_bytes()) {
        return Err(rejected(
            "it has no Shipgate cache header (an artifact copied in, or another format)",
        ));
    }
    let end = head
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| rejected("its header is cut short"))?;
    Ok(data.split_at(end + 2))
}

/// Why a header does not match the expected one, for the warning.
fn describe_mismatch(header: &[u8], component: &str, engine: &str, artifact: &str) -> String {
    let text = String::from_utf8_lossy(header);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or("")
            .to_owned()
    };
    let recorded = field("component");
    if recorded != component {
        return format!(
            "it was written for component `{recorded}`, not `{component}` (another \
             component's entry copied over it)"
        );
    }
    if field("engine") != engine {
        return "it was written for another engine configuration".to_owned();
    }
    if field("artifact") != artifact {
        return format!(
            "its artifact's sha256 is `{artifact}`, not the recorded `{}` (the machine code \
             was changed)",
            field("artifact")
        );
    }
    "its header is malformed".to_owned()
}

#[cfg(unix)]
fn open_private_dir(path: &Path) -> Result<Dir, OpenError> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)?;
    let dir = Dir::open_ambient_dir(path, ambient_authority())?;
    let stat = rustix::fs::fstat(&dir).map_err(std::io::Error::from)?;
    let file_type = rustix::fs::FileType::from_raw_mode(stat.st_mode);
    if file_type != rustix::fs::FileType::Directory {
        return Err(OpenError::NotADirectory);
    }
    let user = rustix::process::geteuid().as_raw();
    if stat.st_uid != user {
        return Err(OpenError::NotOwned {
            owner: stat.st_uid,
            user,
        });
    }
    let mode = stat.st_mode & 0o7777;
    let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (false, false) => return Ok(dir),
        (true, false) => "group",
        (false, true) => "others",
        (true, true) => "group and others",
    };
    Err(OpenError::NotPrivate {
        who,
        mode,
        path: path.display().to_string(),
    })
}

#[cfg(not(unix))]
fn open_private_dir(_path: &Path) -> Result<Dir, OpenError> {
    Err(OpenError::Unsupported)
}

/// Opens an entry for reading without following a symbolic link (nor
/// blocking on a FIFO).
#[cfg(unix)]
fn open_entry(dir: &Dir, name: &str) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => Ok(std::fs::File::from(fd)),
        Err(rustix::io::Errno::LOOP) => Err(std::io::Error::other(
            "it is a symbolic link, which the cache never follows",
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(unix))]
fn open_entry(_dir: &Dir, _name: &str) -> std::io::Result<std::fs::File> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// An entry must be a regular file of the current user that nobody else
/// may write.
#[cfg(unix)]
fn check_entry_file(file: &std::fs::File) -> Result<(), Rejected> {
    let stat = rustix::fs::fstat(file).map_err(|e| rejected(format!("cannot stat it: {e}")))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(rejected("it is not a regular file"));
    }
    let user = rustix::process::geteuid().as_raw();
    if stat.st_uid != user {
        return Err(rejected(format!(
            "it is owned by uid {}, not by the current user",
            stat.st_uid
        )));
    }
    if stat.st_mode & 0o022 != 0 {
        return Err(rejected(format!(
            "it is writable by others (mode {:04o})",
            stat.st_mode & 0o7777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_entry_file(_file: &std::fs::File) -> Result<(), Rejected> {
    Err(rejected("unsupported platform"))
}

/// Creates a new file (never an existing one, never through a link) that
/// only the current user may read and write.
#[cfg(unix)]
fn create_private_file(dir: &Dir, name: &str) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600))?;
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
fn create_private_file(_dir: &Dir, _name: &str) -> std::io::Result<std::fs::File> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_split_at_its_blank_line() {
        let data = b"shipgate-cache-entry 1\ncomponent a\n\nARTIFACT\n\nmore";
        let (header, artifact) = split_header(data).unwrap();
        assert!(header.ends_with(b"component a\n\n"));
        assert_eq!(artifact, b"ARTIFACT\n\nmore");
        assert!(split_header(b"\x7fELF...").is_err());
        assert!(split_header(b"shipgate-cache-entry 1\ncomponent a\n").is_err());
    }

    #[test]
    fn a_mismatch_says_what_differs() {
        let header = b"shipgate-cache-entry 1\ncomponent bbb\nengine e\nartifact x\n\n";
        assert!(describe_mismatch(header, "aaa", "e", "x").contains("written for component `bbb`"));
        assert!(describe_mismatch(header, "bbb", "f", "x").contains("another engine"));
        assert!(describe_mismatch(header, "bbb", "e", "y").contains("machine code was changed"));
    }
}
