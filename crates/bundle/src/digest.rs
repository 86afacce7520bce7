//! Content digests: `sha256:` and 64 lowercase hex characters.

use sha2::{Digest as _, Sha256};

/// The digest of `bytes`, `sha256:…`.
pub fn of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a well-formed digest, or `None`.
pub fn hex_part(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let d = of(b"");
        assert_eq!(
            d,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(hex_part(&d).is_some());
        assert!(hex_part("sha256:E3B0").is_none());
        assert!(
            hex_part("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .is_none()
        );
        assert!(
            hex_part("sha256:../../etc/passwd000000000000000000000000000000000000000000000000")
                .is_none()
        );
    }
}
