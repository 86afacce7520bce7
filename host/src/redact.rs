//! One redaction layer for every value Shipgate knows to be secret.
//!
//! Secrets enter the process in a few places: a token read from the variable
//! a source's `token_env` names, credentials written into a URL
//! (`https://user:pass@host`), and the values of variables the configuration
//! declares secret. Each is [`register`]ed once, when it is read. Everything
//! that leaves the process (the report in every format, the step summary,
//! the decision log, a snapshot written to disk, `watch`'s events and hook
//! output, tracing) passes through [`scrub`] on its way out, so a secret that
//! reached a string by any route (another system's error text echoing a
//! request header, say) is replaced by `***`.
//!
//! The registry is process-wide: a secret read by one source is redacted from
//! what every other part of the program writes. Values shorter than
//! [`MIN_SECRET_LEN`] are not registered (redacting `1` or `true` everywhere
//! would make every output unreadable and protects nothing).
//!
//! ```
//! shipgate::redact::register("s3cr3t-t0ken");
//! assert_eq!(
//!     shipgate::redact::scrub("Authorization: Bearer s3cr3t-t0ken"),
//!     "Authorization: Bearer ***"
//! );
//! assert_eq!(
//!     shipgate::redact::scrub("GET https://bob:hunter22@prom.example/api"),
//!     "GET https://***@prom.example/api"
//! );
//! ```

use std::borrow::Cow;
use std::io;
use std::sync::{PoisonError, RwLock};

/// What a redacted value is replaced by.
pub const MASK: &str = "***";

/// Values shorter than this are not treated as secrets.
pub const MIN_SECRET_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers `value` as a secret: from now on [`scrub`] replaces it (and its
/// surrounding whitespace-trimmed form) wherever it appears.
pub fn register(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_owned());
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Registers the credentials of `url` (its user-info part), if it has any.
pub fn register_url(url: &str) {
    if let Some(userinfo) = userinfo(url) {
        register(userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            register(password);
        }
    }
}

/// `text` with every registered secret and every URL's credentials
/// replaced by [`MASK`]. Borrows when there is nothing to replace.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    let secrets = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    drop(secrets);
    if out.contains("://") && out.contains('@') {
        out = Cow::Owned(scrub_url_credentials(&out));
    }
    out
}

/// The user-info part of a URL (`user:pass` in `https://user:pass@host/`).
fn userinfo(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    Some(&authority[..at]).filter(|u| !u.is_empty())
}

/// Replaces the user-info of every URL in `text`.
fn scrub_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`')
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) if at > 0 => {
                out.push_str(MASK);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A writer that scrubs what passes through it, line by line. Used for
/// tracing's output; bytes are buffered until a newline (or drop), so a
/// secret split across two `write` calls is still found.
#[derive(Debug)]
pub struct ScrubWriter<W: io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: io::Write> ScrubWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        ScrubWriter {
            inner,
            pending: Vec::new(),
        }
    }

    fn flush_lines(&mut self, all: bool) -> io::Result<()> {
        let cut = if all {
            self.pending.len()
        } else {
            match self.pending.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => return Ok(()),
            }
        };
        let chunk: Vec<u8> = self.pending.drain(..cut).collect();
        let text = String::from_utf8_lossy(&chunk);
        self.inner.write_all(scrub(&text).as_bytes())
    }
}

impl<W: io::Write> io::Write for ScrubWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.flush_lines(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_lines(true)?;
        self.inner.flush()
    }
}

impl<W: io::Write> Drop for ScrubWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush_lines(true);
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn registered_values_and_url_credentials_are_masked() {
        register("tok-0123456789");
        assert_eq!(scrub("a tok-0123456789 b"), "a *** b");
        assert_eq!(
            scrub("see http://u:p4ss@h:9090/x and https://h/y"),
            "see http://***@h:9090/x and https://h/y"
        );
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_not_secrets() {
        register("ab");
        assert_eq!(scrub("ab cd"), "ab cd");
    }

    #[test]
    fn url_registration_covers_the_password_alone() {
        register_url("https://alice:pw-9876543@example.com/api");
        assert_eq!(scrub("echo pw-9876543"), "echo ***");
    }

    #[test]
    fn the_writer_finds_a_secret_split_across_writes() {
        register("split-secret-xyz");
        let mut out = Vec::new();
        {
            let mut w = ScrubWriter::new(&mut out);
            w.write_all(b"before split-se").unwrap();
            w.write_all(b"cret-xyz after\n").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "before *** after\n");
    }
}
