//! What every source shares: the error that becomes a gap, the context it
//! runs in, durations written as `"10s"` in the configuration, and access to
//! environment variables that tests can replace.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shipgate_model::Timestamp;

/// Why a source could not be read. Its text becomes the `reason` of the
/// source's entry in the snapshot's `gaps`: one line, worded for a person,
/// never containing a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

impl SourceError {
    /// An error with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        SourceError(reason.into())
    }
}

/// Read access to environment variables. The process's own is
/// [`ProcessVars`]; tests use [`MapVars`] so that they never change the
/// process environment other tests share.
pub trait Vars: Send + Sync + fmt::Debug {
    /// The value of `name`, if set and valid UTF-8. Only for settings the
    /// host itself needs (a token, `GITHUB_*`); never copied into a snapshot.
    fn get(&self, name: &str) -> Option<String>;
    /// The names that are set, sorted. Values are not read.
    fn names(&self) -> Vec<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessVars;

impl Vars for ProcessVars {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn names(&self) -> Vec<String> {
        // `vars_os` yields values too; they are dropped here, unread.
        let mut names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// A fixed set of variables, for tests.
#[derive(Debug, Clone, Default)]
pub struct MapVars(pub BTreeMap<String, String>);

impl MapVars {
    /// Variables from `(name, value)` pairs.
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        MapVars(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Vars for MapVars {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// What every source is given.
#[derive(Debug, Clone)]
pub struct Context {
    /// The directory relative paths in the configuration are resolved
    /// against (the configuration file's directory).
    pub base_dir: PathBuf,
    /// The time of this collection (UTC), the same for every source.
    pub now: Timestamp,
    /// Environment variables (for tokens and CI defaults).
    pub vars: Arc<dyn Vars>,
    /// The commit being deployed, when known before the sources run (from
    /// the command line, `GITHUB_SHA`, or `git rev-parse HEAD`).
    pub commit: Option<String>,
}

impl Context {
    /// `path` resolved against [`Context::base_dir`] if it is relative.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base_dir.join(path)
        }
    }
}

/// The body of an HTTP answer, at most `cap.bytes` of it, read chunk by
/// chunk: a server streaming without end is cut off at the cap.
pub async fn read_body(
    mut response: reqwest::Response,
    cap: shipgate_core::bounded::Cap,
) -> Result<Vec<u8>, BodyError> {
    if let Some(length) = response.content_length()
        && length > cap.bytes
    {
        return Err(BodyError::Read(
            shipgate_core::bounded::ReadError::TooLarge { cap },
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > cap.bytes {
            return Err(BodyError::Read(
                shipgate_core::bounded::ReadError::TooLarge { cap },
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Why an HTTP body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// It is larger than its cap.
    #[error(transparent)]
    Read(shipgate_core::bounded::ReadError),
    /// The connection failed while it was read.
    #[error("the answer was cut off: {0}")]
    Transport(reqwest::Error),
}

/// The I/O error at the root of `err`, if any.
pub(crate) fn io_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a std::io::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        current = e.source();
    }
    None
}

/// An I/O error in a few words.
pub(crate) fn io_words(err: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset => "connection reset".into(),
        K::ConnectionAborted => "connection aborted".into(),
        K::TimedOut => "connecting timed out".into(),
        K::AddrNotAvailable => "address not available".into(),
        _ => err.to_string(),
    }
}

/// The message of the innermost error of `err`'s chain (reqwest's own
/// message names the whole URL, query included).
pub(crate) fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = last.source() {
        last = next;
    }
    if let Some(io) = last.downcast_ref::<std::io::Error>() {
        return io_words(io);
    }
    last.to_string()
}
