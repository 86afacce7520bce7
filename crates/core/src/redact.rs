//! One redaction layer for every value Shipgate knows to be secret.
//!
//! Secrets enter the process in a few places: a token read from the variable
//! a source's `token_env` names, credentials written into a URL
//! (`https://user:pass@host`), and the values of the process's variables
//! that are secret (see [`register_environment`]). Each is [`register`]ed
//! once, when it is read. Everything that leaves the process (the report in
//! every format, the step summary, the decision log, a snapshot written to
//! disk, `watch`'s events and hook output, tracing, standard output and
//! error) passes through [`scrub`] on its way out, so a secret that reached a
//! string by any route (another system's error text echoing a request
//! header, say) is replaced by `***`.
//!
//! # Which variables are secret
//!
//! As CI systems mask what they know to be secret, and log scrubbers (Sentry,
//! the Datadog agent) mask values by the name of their key, at start-up the
//! binary registers the value of every process variable
//!
//! - named in `SHIPGATE_SECRET_VARS` (names separated by commas or
//!   whitespace; a name ending in `*` is a prefix: `STRIPE_*`), whatever the
//!   value; or
//! - whose name looks secret: one of its words (split at `_`, `-` and `.`,
//!   any case) is one of [`SECRET_WORDS`] (`GITHUB_TOKEN`, `DB_PASSWORD`,
//!   `AWS_SECRET_ACCESS_KEY`, `NPM_AUTH`), when the value is at least
//!   [`MIN_GUESSED_LEN`] characters, not all digits and not a path (starts
//!   with `/`): a guess must not mask a port number or a socket path
//!   everywhere;
//!
//! and the credentials of every variable whose value is a URL with them
//! (`DATABASE_URL=postgres://app:pw@db/x`).
//!
//! The registry is process-wide: a secret read by one source is redacted from
//! what every other part of the program writes. Values shorter than
//! [`MIN_SECRET_LEN`] are not registered (redacting `1` or `true` everywhere
//! would make every output unreadable and protects nothing).
//!
//! ```
//! shipgate_core::redact::register("s3cr3t-t0ken");
//! assert_eq!(
//!     shipgate_core::redact::scrub("Authorization: Bearer s3cr3t-t0ken"),
//!     "Authorization: Bearer ***"
//! );
//! assert_eq!(
//!     shipgate_core::redact::scrub("GET https://bob:hunter22@prom.example/api"),
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

/// The shortest value of a variable that is secret only because of its name.
pub const MIN_GUESSED_LEN: usize = 8;

/// Words that make a variable's name look secret.
pub const SECRET_WORDS: [&str; 14] = [
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
    "KEY",
    "AUTH",
    "COOKIE",
    "SALT",
];

/// Variables whose names hold a secret word but never a secret.
const NOT_SECRET: [&str; 2] = ["PWD", "OLDPWD"];

/// The variable that names more secret variables.
pub const SECRET_VARS: &str = "SHIPGATE_SECRET_VARS";

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

/// Registers the credentials of `url` (its user-info part), if it has any:
/// as written, the password alone, both percent-decoded, and
/// `base64(user:password)` as an HTTP client sends them (`Authorization:
/// Basic …`), which a server may echo.
pub fn register_url(url: &str) {
    let Some(userinfo) = userinfo(url) else {
        return;
    };
    register(userinfo);
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    register(password);
    let (user, password) = (percent_decode(user), percent_decode(password));
    register(&password);
    register(&format!("{user}:{password}"));
    register(&base64(format!("{user}:{password}").as_bytes()));
}

/// Registers the secret values of the process's variables (see the
/// module's documentation).
pub fn register_environment() {
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    register_vars(vars.iter().map(|(n, v)| (n.as_str(), v.as_str())));
}

/// Registers the secret values among `vars` (name, value): those named in
/// [`SECRET_VARS`] (itself one of `vars`), those whose names look secret,
/// and the credentials of URLs.
pub fn register_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) {
    let listed: Vec<String> = vars
        .clone()
        .into_iter()
        .find(|(name, _)| *name == SECRET_VARS)
        .map(|(_, list)| {
            list.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for (name, value) in vars {
        if name == SECRET_VARS {
            continue;
        }
        let listed = listed.iter().any(|pattern| name_matches(pattern, name));
        if listed || (looks_secret(name) && plausible_secret(value)) {
            register(value);
        }
        if value.contains("://") {
            register_url(value.trim());
        }
    }
}

/// Whether `name` matches `pattern` (exactly, or as a prefix when the
/// pattern ends in `*`).
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Whether a variable's name looks secret: one of its words is one of
/// [`SECRET_WORDS`].
pub fn looks_secret(name: &str) -> bool {
    if NOT_SECRET.contains(&name) {
        return false;
    }
    name.split(['_', '-', '.'])
        .any(|word| SECRET_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)))
}

/// Whether the value of a variable with a secret-looking name is worth
/// masking: long enough, not a number, not a path.
fn plausible_secret(value: &str) -> bool {
    let value = value.trim();
    value.chars().count() >= MIN_GUESSED_LEN
        && !value.chars().all(|c| c.is_ascii_digit())
        && !value.starts_with('/')
}

/// `%XX` escapes decoded (invalid ones and invalid UTF-8 left as they are).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map_or_else(|_| text.to_owned(), |decoded| decoded.into_owned())
}

/// Standard padded base64, as HTTP Basic authentication writes credentials.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
    fn url_registration_covers_decoded_and_basic_auth_forms() {
        register_url("http://bob:p%40ss-w0rd-42@127.0.0.1:9/x");
        assert_eq!(scrub("pw p@ss-w0rd-42"), "pw ***");
        // base64("bob:p@ss-w0rd-42"), as `Authorization: Basic` carries it.
        assert_eq!(
            scrub("Authorization: Basic Ym9iOnBAc3MtdzByZC00Mg=="),
            "Authorization: Basic ***"
        );
    }

    #[test]
    fn base64_matches_the_standard_encoding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn secret_looking_names_are_words_not_substrings() {
        for name in [
            "GITHUB_TOKEN",
            "db_password",
            "AWS_SECRET_ACCESS_KEY",
            "NPM_AUTH",
            "stripe-api-key",
            "MYSQL_PWD",
            "app.credentials",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "PWD",
            "OLDPWD",
            "BYPASS_CACHE",
            "KEYBOARD",
            "TOKENIZER_MODEL",
            "PATH",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn the_environment_registers_secret_named_listed_and_url_values() {
        register_vars([
            ("SHIPGATE_SECRET_VARS", "ORDERS_DSN, STRIPE_*"),
            ("ORDERS_DSN", "dsn-value-aa11"),
            ("STRIPE_LIVE", "sk_live_bb22"),
            ("DEPLOY_TOKEN", "tok-value-cc33"),
            ("DEPLOY_TOKEN_TTL", "86400000"),
            ("CREDENTIALS_FILE", "/home/u/.creds-dd44"),
            ("AUTH_SHORT", "ee55"),
            ("CACHE_URL", "redis://:redis-pw-ff66@cache:6379"),
            ("LOG_LEVEL", "debug-gg77-verbose"),
        ]);
        assert_eq!(
            scrub("dsn-value-aa11 sk_live_bb22 tok-value-cc33 redis-pw-ff66"),
            "*** *** *** ***"
        );
        // Guessed from a name only: not a number, a path or a short value.
        assert_eq!(scrub("86400000"), "86400000");
        assert_eq!(scrub("/home/u/.creds-dd44"), "/home/u/.creds-dd44");
        assert_eq!(scrub("ee55"), "ee55");
        // A name that does not look secret and is not listed.
        assert_eq!(scrub("debug-gg77-verbose"), "debug-gg77-verbose");
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
