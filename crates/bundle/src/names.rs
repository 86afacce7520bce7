//! What a bundle name and a file path inside a bundle may be.

/// The longest bundle name.
pub const MAX_NAME: usize = 128;
/// The longest file path inside a bundle.
pub const MAX_PATH: usize = 256;

/// A bundle name: `/`-separated segments of lowercase letters, digits, `.`,
/// `_` and `-`, each starting with a letter or digit (`acme/security`), as
/// an OCI repository name.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.split('/').all(|segment| {
            segment
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && segment.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        })
}

/// A file path inside a bundle: relative, `/`-separated, each segment made
/// of ASCII letters, digits, `.`, `_` and `-`, never `.` or `..`, and not
/// starting with `.`: nothing that could leave the directory it is written
/// to.
pub fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= MAX_PATH
        && path.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("acme/security"));
        assert!(is_valid_name("a.b_c-d/0"));
        for bad in [
            "", "Acme/x", "acme//x", "/acme", "acme/", "-a", "a b", "a/../b",
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn paths() {
        assert!(is_valid_path("policies/team-rule.wasm"));
        assert!(is_valid_path("cases/snapshots/Prod_1.json"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            ".hidden",
            "a//b",
            "a\\b",
            "a b",
        ] {
            assert!(!is_valid_path(bad), "{bad}");
        }
    }
}
