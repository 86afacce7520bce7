//! Reading outside bytes with a cap.
//!
//! Every input Shipgate reads from outside (a snapshot, the configuration, a
//! decision log, a JUnit or coverage report, a lockfile, a dotenv file, an
//! HTTP answer) has a documented cap, [`Cap`], and is read through one of
//! the functions here. Past the cap the read stops with
//! [`ReadError::TooLarge`] naming the cap: an input that never ends
//! (`/dev/zero`, a server streaming forever) is a clear error, never an
//! allocation that grows until the process aborts.
//!
//! | input | cap |
//! | --- | --- |
//! | snapshot file (`--snapshot`) | [`SNAPSHOT`], 64 MiB |
//! | configuration file | [`CONFIG`], 1 MiB |
//! | one decision-log record (a line) | [`LOG_RECORD`], 80 MiB |
//! | a whole decision log | [`LOG_FILE`], 1 GiB |
//! | a JUnit report | [`JUNIT`], 64 MiB |
//! | a Cobertura or LCOV report | [`COVERAGE`], 128 MiB |
//! | a lockfile (one side of a diff) | [`LOCKFILE`], 32 MiB |
//! | a dotenv or declaration file | [`DOTENV`], 1 MiB |
//! | the GitHub event payload (`GITHUB_EVENT_PATH`) | [`GITHUB_EVENT`], 16 MiB |
//! | one GitHub API answer | [`GITHUB_BODY`], 16 MiB |
//! | one Prometheus API answer | [`PROMETHEUS_BODY`], 16 MiB |
//! | one answer to an HTTP health probe | [`PROBE_BODY`], 1 MiB |
//! | a component given to `shipgate policy inspect` | [`COMPONENT`], 256 MiB |
//!
//! ```
//! use shipgate_core::bounded::{self, Cap};
//!
//! const TINY: Cap = Cap { what: "a greeting", bytes: 4 };
//! assert_eq!(bounded::read(&b"hi"[..], TINY).unwrap(), b"hi");
//! let err = bounded::read(std::io::repeat(0), TINY).unwrap_err();
//! assert_eq!(err.to_string(), "larger than 4 bytes, the limit for a greeting");
//! ```

use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

/// A limit on the size of one input, and what the input is (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// The input, as the error names it (`a snapshot`).
    pub what: &'static str,
    /// The most bytes read.
    pub bytes: u64,
}

const MIB: u64 = 1024 * 1024;

/// A snapshot file.
pub const SNAPSHOT: Cap = Cap {
    what: "a snapshot",
    bytes: 64 * MIB,
};
/// A configuration file.
pub const CONFIG: Cap = Cap {
    what: "a configuration file",
    bytes: MIB,
};
/// One record (line) of a decision log: a snapshot and its report.
pub const LOG_RECORD: Cap = Cap {
    what: "a decision-log record",
    bytes: 80 * MIB,
};
/// A whole decision log; rotate a log that grows past it.
pub const LOG_FILE: Cap = Cap {
    what: "a decision log",
    bytes: 1024 * MIB,
};
/// A JUnit XML report.
pub const JUNIT: Cap = Cap {
    what: "a JUnit report",
    bytes: 64 * MIB,
};
/// A Cobertura XML or LCOV report.
pub const COVERAGE: Cap = Cap {
    what: "a coverage report",
    bytes: 128 * MIB,
};
/// A lockfile at one commit.
pub const LOCKFILE: Cap = Cap {
    what: "a lockfile",
    bytes: 32 * MIB,
};
/// A dotenv file or another file that declares environment variables.
pub const DOTENV: Cap = Cap {
    what: "a dotenv file",
    bytes: MIB,
};
/// The GitHub Actions event payload.
pub const GITHUB_EVENT: Cap = Cap {
    what: "the GitHub event payload",
    bytes: 16 * MIB,
};
/// One answer of GitHub's REST API (one page).
pub const GITHUB_BODY: Cap = Cap {
    what: "a GitHub API answer",
    bytes: 16 * MIB,
};
/// A policy component read by `shipgate policy inspect`.
pub const COMPONENT: Cap = Cap {
    what: "a policy component",
    bytes: 256 * MIB,
};
/// One answer of Prometheus's HTTP API.
pub const PROMETHEUS_BODY: Cap = Cap {
    what: "a Prometheus answer",
    bytes: 16 * MIB,
};
/// The body of one answer to an HTTP health probe (`[sources.http]`).
pub const PROBE_BODY: Cap = Cap {
    what: "a health probe's answer",
    bytes: MIB,
};

/// Why a capped read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The input is larger than its cap.
    #[error("larger than {}, the limit for {}", size(cap.bytes), cap.what)]
    TooLarge {
        /// The cap that was reached.
        cap: Cap,
    },
    /// The input could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// Whether the input could not be found (a missing file).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A size in words: `64 MiB`, `1 KiB`, `12 bytes`.
pub fn size(bytes: u64) -> impl fmt::Display {
    struct Size(u64);
    impl fmt::Display for Size {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let n = self.0;
            if n >= 1024 * MIB && n.is_multiple_of(1024 * MIB) {
                write!(f, "{} GiB", n / 1024 / MIB)
            } else if n >= MIB && n.is_multiple_of(MIB) {
                write!(f, "{} MiB", n / MIB)
            } else if n >= 1024 && n.is_multiple_of(1024) {
                write!(f, "{} KiB", n / 1024)
            } else {
                write!(f, "{n} bytes")
            }
        }
    }
    Size(bytes)
}

/// Everything `reader` gives, at most `cap.bytes` of it; more is
/// [`ReadError::TooLarge`] (one byte past the cap is read to know).
pub fn read(reader: impl Read, cap: Cap) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(cap.bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap.bytes {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(bytes)
}

/// The file at `path`, at most `cap.bytes` of it. A regular file known to
/// be larger is refused before anything is read.
pub fn read_file(path: &Path, cap: Cap) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    if let Ok(meta) = file.metadata()
        && meta.is_file()
        && meta.len() > cap.bytes
    {
        return Err(ReadError::TooLarge { cap });
    }
    read(file, cap)
}

/// The file at `path` as text, at most `cap.bytes` of it, without a UTF-8
/// byte-order mark; text that is not UTF-8 is an error.
pub fn read_file_to_string(path: &Path, cap: Cap) -> Result<String, ReadError> {
    let bytes = read_file(path, cap)?;
    // The words of `std::fs::read_to_string`.
    let text = String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// One line of `reader` into `line` (cleared first), its `\n` included when
/// it has one; at most `cap.bytes` of it. Returns the bytes read, 0 at the
/// end. A longer line is [`ReadError::TooLarge`]; the reader is then left
/// inside it.
pub fn read_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    cap: Cap,
) -> Result<usize, ReadError> {
    line.clear();
    let read = reader
        .by_ref()
        .take(cap.bytes.saturating_add(1))
        .read_until(b'\n', line)?;
    if line.len() as u64 > cap.bytes {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: Cap = Cap {
        what: "a test input",
        bytes: 10,
    };

    #[test]
    fn reads_up_to_the_cap_and_refuses_past_it() {
        assert_eq!(read(&b"0123456789"[..], TEN).unwrap().len(), 10);
        let err = read(&b"0123456789x"[..], TEN).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { cap } if cap == TEN));
        assert_eq!(
            err.to_string(),
            "larger than 10 bytes, the limit for a test input"
        );
    }

    #[test]
    fn an_endless_file_is_refused_at_the_cap() {
        let err = read_file(Path::new("/dev/zero"), TEN).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        let err = read_file(Path::new("/dev/zero"), SNAPSHOT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "larger than 64 MiB, the limit for a snapshot"
        );
    }

    #[test]
    fn a_large_regular_file_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(CONFIG.bytes + 1).unwrap();
        let err = read_file(&path, CONFIG).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn text_loses_its_byte_order_mark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "\u{feff}{}").unwrap();
        assert_eq!(read_file_to_string(&path, TEN).unwrap(), "{}");
        std::fs::write(&path, b"\xff\xfe").unwrap();
        let err = read_file_to_string(&path, TEN).unwrap_err();
        assert_eq!(err.to_string(), "stream did not contain valid UTF-8");
    }

    #[test]
    fn lines_are_capped_one_by_one() {
        let mut reader = std::io::BufReader::new(&b"short\n0123456789ab\nend"[..]);
        let mut line = Vec::new();
        assert_eq!(read_line(&mut reader, &mut line, TEN).unwrap(), 6);
        assert_eq!(line, b"short\n");
        assert!(matches!(
            read_line(&mut reader, &mut line, TEN),
            Err(ReadError::TooLarge { .. })
        ));
        let mut endless = std::io::BufReader::new(std::io::repeat(b'x'));
        assert!(read_line(&mut endless, &mut line, TEN).is_err());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(64 * MIB).to_string(), "64 MiB");
        assert_eq!(size(2048).to_string(), "2 KiB");
        assert_eq!(size(10).to_string(), "10 bytes");
    }
}
