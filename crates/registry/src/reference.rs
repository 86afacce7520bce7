//! `oci://host[:port]/repo/path(:tag|@sha256:…)`: where an artifact lives.
//!
//! ```
//! use shipgate_registry::Reference;
//!
//! let r: Reference = "oci://registry.example:5000/acme/security:1.4.0".parse().unwrap();
//! assert_eq!(r.host(), "registry.example:5000");
//! assert_eq!(r.repository(), "acme/security");
//! assert_eq!(r.tag(), Some("1.4.0"));
//! assert!(r.digest().is_none());
//!
//! let err = "oci://registry.example/Acme:1".parse::<Reference>().unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "`oci://registry.example/Acme:1`: the repository component `Acme` is not lower-case \
//!      letters and digits separated by `.`, `_`, `__` or `-`"
//! );
//! ```

use std::fmt;
use std::net::IpAddr;

use crate::digest::Digest;

/// The scheme every reference starts with.
pub const SCHEME: &str = "oci://";

/// The longest reference accepted, in bytes.
pub const MAX_LEN: usize = 1024;

/// A parsed `oci://` reference: a registry host (with its port), a
/// repository, and a tag, a digest or both (the digest pins; the tag is
/// then only a name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    host: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not an `oci://` reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}`: {reason}")]
pub struct ReferenceError {
    /// What was given (cut to 200 characters).
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Reference {
    /// Parses `oci://host[:port]/repo/path(:tag|@sha256:…|:tag@sha256:…)`.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let fail = |reason: String| ReferenceError {
            input: input.chars().take(200).collect(),
            reason,
        };
        if input.len() > MAX_LEN {
            return Err(fail(format!("longer than {MAX_LEN} bytes")));
        }
        let rest = input.strip_prefix(SCHEME).ok_or_else(|| {
            fail("not an OCI reference: expected `oci://host/repository:tag` or `oci://host/repository@sha256:…`".into())
        })?;
        let (host, path) = rest.split_once('/').ok_or_else(|| {
            fail("no repository after the host: expected `oci://host/repository:tag`".into())
        })?;
        check_host(host).map_err(fail)?;
        let (path, digest) = match path.split_once('@') {
            Some((path, digest)) => {
                let digest = Digest::parse(digest).map_err(|e| fail(e.to_string()))?;
                (path, Some(digest))
            }
            None => (path, None),
        };
        // A tag follows the last `:` after the last `/`.
        let last = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last..].find(':') {
            Some(i) => (&path[..last + i], Some(&path[last + i + 1..])),
            None => (path, None),
        };
        check_repository(repository).map_err(fail)?;
        if let Some(tag) = tag {
            check_tag(tag).map_err(fail)?;
        }
        if tag.is_none() && digest.is_none() {
            return Err(fail(
                "names neither a tag nor a digest: add `:TAG` or `@sha256:…`".into(),
            ));
        }
        Ok(Reference {
            host: host.to_owned(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The registry: `host` or `host:port` (`[::1]:5000` for IPv6).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The repository path, `acme/security`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one is named.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference is pinned.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same repository pinned to `digest` (the tag is kept as a name).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same repository with `tag` and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        check_tag(tag).map_err(|reason| ReferenceError {
            input: tag.chars().take(200).collect(),
            reason,
        })?;
        Ok(Reference {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        })
    }

    /// `oci://host/repository:tag`, without the digest: the key a tag is
    /// remembered under; `None` for a reference without a tag.
    pub fn tag_key(&self) -> Option<String> {
        let tag = self.tag.as_deref()?;
        Some(format!("{SCHEME}{}/{}:{tag}", self.host, self.repository))
    }

    /// Whether the host is a loopback address (`localhost`, `127.0.0.0/8`,
    /// `[::1]`), with or without a port.
    pub fn is_loopback(&self) -> bool {
        let host = host_name(&self.host);
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The reference in oci-client's terms.
    pub(crate) fn to_client(&self) -> oci_client::Reference {
        let registry = self.host.clone();
        let repository = self.repository.clone();
        match (&self.tag, &self.digest) {
            (_, Some(digest)) => {
                oci_client::Reference::with_digest(registry, repository, digest.to_string())
            }
            (Some(tag), None) => oci_client::Reference::with_tag(registry, repository, tag.clone()),
            // `parse` refuses a reference with neither.
            (None, None) => oci_client::Reference::with_tag(registry, repository, "latest".into()),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.host, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(input: &str) -> Result<Reference, ReferenceError> {
        Reference::parse(input)
    }
}

/// The host without its port.
fn host_name(host: &str) -> &str {
    if let Some(inside) = host.strip_prefix('[') {
        return inside.split(']').next().unwrap_or(inside);
    }
    host.split(':').next().unwrap_or(host)
}

fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("no registry host after `oci://`".into());
    }
    let (name, port) = if let Some(inside) = host.strip_prefix('[') {
        let (ip, after) = inside
            .split_once(']')
            .ok_or_else(|| format!("the host `{host}` opens `[` without closing it"))?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{ip}` is not an IPv6 address"));
        }
        match after {
            "" => (ip, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (ip, Some(port)),
                None => return Err(format!("`{after}` after the IPv6 address `[{ip}]`")),
            },
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let is_ipv6 = host.starts_with('[');
    if !is_ipv6 {
        let labels_ok = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !labels_ok {
            return Err(format!(
                "the host `{name}` is not a host name or an IP address"
            ));
        }
    }
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !ok {
            return Err(format!("the port `{port}` is not a number from 1 to 65535"));
        }
    }
    Ok(())
}

fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("no repository after the host".into());
    }
    if repository.len() > 255 {
        return Err("the repository is longer than 255 characters".into());
    }
    for component in repository.split('/') {
        if !component_ok(component) {
            return Err(format!(
                "the repository component `{component}` is not lower-case letters and digits \
                 separated by `.`, `_`, `__` or `-`"
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, the distribution spec's path
/// component.
fn component_ok(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let mut need_alnum = true;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            need_alnum = false;
            i += 1;
            continue;
        }
        if need_alnum {
            return false;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
        need_alnum = true;
    }
    !bytes.is_empty() && !need_alnum
}

fn check_tag(tag: &str) -> Result<(), String> {
    let bytes = tag.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the tag `{tag}` is not 1 to 128 letters, digits, `_`, `.` or `-` (not starting with `.` or `-`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Reference {
        Reference::parse(text).unwrap()
    }

    fn reason(text: &str) -> String {
        Reference::parse(text).unwrap_err().reason
    }

    #[test]
    fn tags_digests_ports_and_nested_repositories_parse() {
        let r = parse("oci://localhost:5000/acme/rules/security:v1.4.0");
        assert_eq!(r.host(), "localhost:5000");
        assert_eq!(r.repository(), "acme/rules/security");
        assert_eq!(r.tag(), Some("v1.4.0"));
        assert!(r.is_loopback());
        let d = Digest::of(b"x");
        let r = parse(&format!("oci://registry.example/acme/security@{d}"));
        assert_eq!(r.digest(), Some(&d));
        assert_eq!(r.tag(), None);
        assert!(!r.is_loopback());
        let r = parse(&format!("oci://[::1]:5000/a:1@{d}"));
        assert_eq!((r.tag(), r.digest()), (Some("1"), Some(&d)));
        assert!(r.is_loopback());
        assert!(parse("oci://127.0.0.2/a:b").is_loopback());
        assert_eq!(
            r.to_string(),
            format!("oci://[::1]:5000/a:1@{d}"),
            "Display gives back the input"
        );
        assert_eq!(r.tag_key().unwrap(), "oci://[::1]:5000/a:1");
    }

    #[test]
    fn what_is_wrong_is_named() {
        assert!(reason("https://h/a:1").contains("not an OCI reference"));
        assert!(reason("oci://h").contains("no repository"));
        assert!(reason("oci:///a:1").contains("no registry host"));
        assert!(reason("oci://h/a").contains("neither a tag nor a digest"));
        assert!(reason("oci://h:0/a:1").contains("the port `0`"));
        assert!(reason("oci://h:99999/a:1").contains("the port `99999`"));
        assert!(reason("oci://bad_host/a:1").contains("the host `bad_host`"));
        assert!(reason("oci://h/a//b:1").contains("component ``"));
        assert!(reason("oci://h/a/../b:1").contains("component `..`"));
        assert!(reason("oci://h/a:-x").contains("the tag `-x`"));
        assert!(reason("oci://h/a@sha256:abc").contains("is not a digest"));
        assert!(reason("oci://[::1/a:1").contains("without closing"));
        assert!(reason(&format!("oci://h/{}:1", "a".repeat(1100))).contains("longer than"));
    }

    #[test]
    fn repository_components_follow_the_distribution_grammar() {
        for good in ["a", "a.b", "a_b", "a__b", "a---b", "a1-2.c"] {
            assert!(component_ok(good), "{good}");
        }
        for bad in ["", "-a", "a-", "a..b", "a___b", "A", "a.-b", ".."] {
            assert!(!component_ok(bad), "{bad}");
        }
    }
}
