//! Ed25519 signing keys: generating a pair, the key files, and key ids.
//!
//! `NAME.key` (private, mode 0600) and `NAME.pub` are small JSON files:
//!
//! ```json
//! {"kind":"shipgate-ed25519-private-key","keyid":"sha256:0f3c…","seed":"<base64>"}
//! {"kind":"shipgate-ed25519-public-key","keyid":"sha256:0f3c…","public":"<base64>"}
//! ```
//!
//! A key id is `sha256:` and the first 16 hex characters of the sha256 of
//! the 32 public-key bytes. A private key read from a file is registered
//! with the redaction layer ([`shipgate_core::redact`]), so that its text
//! never appears in any output; it is never printed, and its `Debug` shows
//! only the key id.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::dsse::{b64, unb64};
use crate::error::{Error, Result};

const PRIVATE_KIND: &str = "shipgate-ed25519-private-key";
const PUBLIC_KIND: &str = "shipgate-ed25519-public-key";

/// The key id of a public key: `sha256:` and 16 hex characters.
pub fn key_id(public: &VerifyingKey) -> String {
    let hash = hex::encode(Sha256::digest(public.as_bytes()));
    format!("sha256:{}", hash.get(..16).unwrap_or_default())
}

/// A public key from its 32 bytes in base64, or why not.
pub fn public_from_base64(text: &str) -> Result<VerifyingKey, String> {
    let bytes = unb64(text).ok_or("not base64")?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("an Ed25519 public key is 32 bytes, this is {}", b.len()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_owned())
}

/// Whether `signature` (64 bytes) is `public`'s over `message`.
pub fn verifies(public: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    public
        .verify(message, &ed25519_dalek::Signature::from_bytes(&bytes))
        .is_ok()
}

/// A private key.
pub struct PrivateKey {
    key: SigningKey,
    id: String,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateFile {
    kind: String,
    keyid: String,
    seed: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicFile {
    kind: String,
    keyid: String,
    public: String,
}

impl PrivateKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<PrivateKey, String> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| format!("no random source: {e}"))?;
        let key = SigningKey::from_bytes(&seed);
        seed.fill(0);
        Ok(PrivateKey::of(key))
    }

    fn of(key: SigningKey) -> PrivateKey {
        let id = key_id(&key.verifying_key());
        PrivateKey { key, id }
    }

    /// Its key id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its public key.
    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Its public key in base64 (what `trust.toml` holds).
    pub fn public_base64(&self) -> String {
        b64(self.key.verifying_key().as_bytes())
    }

    /// Its signature over `message`, 64 bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).to_bytes().to_vec()
    }

    /// Writes `NAME.key` (mode 0600) and `NAME.pub` for `base` = `dir/NAME`;
    /// refuses to overwrite either. Returns both paths.
    pub fn write_pair(&self, base: &Path) -> Result<(PathBuf, PathBuf)> {
        let private = with_extension(base, "key");
        let public = with_extension(base, "pub");
        for path in [&private, &public] {
            if path.exists() {
                return Err(Error::Key {
                    path: path.clone(),
                    message: "already exists; refusing to overwrite a key (remove it first, or choose another name)".into(),
                });
            }
        }
        let mut private_json = serde_json::to_vec(&PrivateFile {
            kind: PRIVATE_KIND.into(),
            keyid: self.id.clone(),
            seed: b64(self.key.as_bytes()),
        })
        .map_err(|e| Error::Key {
            path: private.clone(),
            message: e.to_string(),
        })?;
        private_json.push(b'\n');
        let written = write_new(&private, &private_json, 0o600);
        private_json.fill(0);
        written?;
        let mut public_json = serde_json::to_vec(&PublicFile {
            kind: PUBLIC_KIND.into(),
            keyid: self.id.clone(),
            public: self.public_base64(),
        })
        .map_err(|e| Error::Key {
            path: public.clone(),
            message: e.to_string(),
        })?;
        public_json.push(b'\n');
        write_new(&public, &public_json, 0o644)?;
        Ok((private, public))
    }

    /// Reads a private key file. It must not be readable by group or others
    /// (as ssh requires); its secret is registered with the redaction layer.
    pub fn read(path: &Path) -> Result<PrivateKey> {
        let error = |message: String| Error::Key {
            path: path.to_owned(),
            message,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let meta = std::fs::metadata(path).map_err(|e| Error::Read {
                path: path.to_owned(),
                error: e.into(),
            })?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(error(format!(
                    "permissions {mode:04o} are too open for a private key\n  help: `chmod 600 {}`",
                    path.display()
                )));
            }
        }
        let bytes =
            shipgate_core::bounded::read_file(path, crate::caps::KEY).map_err(|e| Error::Read {
                path: path.to_owned(),
                error: e,
            })?;
        let file: PrivateFile = serde_json::from_slice(&bytes).map_err(|_| {
            error("not a Shipgate private key (`shipgate keygen NAME` writes one)".into())
        })?;
        shipgate_core::redact::register(&file.seed);
        if file.kind != PRIVATE_KIND {
            return Err(error(format!(
                "not a Shipgate private key: its kind is `{}`",
                file.kind
            )));
        }
        let seed: [u8; 32] = unb64(&file.seed)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| error("its seed is not 32 bytes of base64".into()))?;
        let key = PrivateKey::of(SigningKey::from_bytes(&seed));
        if key.id != file.keyid {
            return Err(error(format!(
                "its keyid `{}` is not the id of its key ({})",
                file.keyid, key.id
            )));
        }
        Ok(key)
    }
}

/// Reads a public key file (`NAME.pub`): its id and key.
pub fn read_public(path: &Path) -> Result<(String, VerifyingKey)> {
    let error = |message: String| Error::Key {
        path: path.to_owned(),
        message,
    };
    let bytes =
        shipgate_core::bounded::read_file(path, crate::caps::KEY).map_err(|e| Error::Read {
            path: path.to_owned(),
            error: e,
        })?;
    let file: PublicFile = serde_json::from_slice(&bytes).map_err(|_| {
        error("not a Shipgate public key (`shipgate keygen NAME` writes one)".into())
    })?;
    if file.kind != PUBLIC_KIND {
        return Err(error(format!(
            "not a Shipgate public key: its kind is `{}`",
            file.kind
        )));
    }
    let key = public_from_base64(&file.public).map_err(error)?;
    if key_id(&key) != file.keyid {
        return Err(error(format!(
            "its keyid `{}` is not the id of its key ({})",
            file.keyid,
            key_id(&key)
        )));
    }
    Ok((file.keyid, key))
}

fn with_extension(base: &Path, extension: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// Creates `path` (never over an existing file) with `mode`, and writes it.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let write = |e| Error::Write {
        path: path.to_owned(),
        error: e,
    };
    let mut file = options.open(path).map_err(write)?;
    file.write_all(bytes).map_err(write)?;
    file.sync_all().map_err(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_round_trips_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate().unwrap();
        let (private, public) = key.write_pair(&dir.path().join("org")).unwrap();
        assert!(key.id().starts_with("sha256:") && key.id().len() == 23);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = PrivateKey::read(&private).unwrap();
        assert_eq!(again.id(), key.id());
        let (id, pk) = read_public(&public).unwrap();
        assert_eq!(id, key.id());
        let sig = again.sign(b"m");
        assert!(verifies(&pk, b"m", &sig));
        assert!(!verifies(&pk, b"n", &sig));
        let err = PrivateKey::generate()
            .unwrap()
            .write_pair(&dir.path().join("org"))
            .unwrap_err();
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(PrivateKey::read(&private).unwrap().id(), key.id());
        // The seed is nowhere in the Debug form.
        let text = std::fs::read_to_string(&private).unwrap();
        let file: PrivateFile = serde_json::from_str(&text).unwrap();
        assert!(!format!("{again:?}").contains(&file.seed));
    }

    #[cfg(unix)]
    #[test]
    fn a_private_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (private, _) = PrivateKey::generate()
            .unwrap()
            .write_pair(&dir.path().join("k"))
            .unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = PrivateKey::read(&private).unwrap_err().to_string();
        assert!(err.contains("too open"), "{err}");
    }
}
