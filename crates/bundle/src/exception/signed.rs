//! `NAME.exception`: an exception in a DSSE envelope with its signatures.

use std::collections::BTreeMap;
use std::path::Path;

use super::Exception;
use crate::SignOutcome;
use crate::dsse::{self, Envelope};
use crate::error::{Error, Result};
use crate::keys::{self, PrivateKey};
use crate::trust::{Trust, Usage};
use crate::verify::SignatureCheck;
use crate::{digest, media};

/// A signed exception: the exception, its canonical payload, and the
/// envelope holding the signatures over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedException {
    exception: Exception,
    payload: Vec<u8>,
    envelope: Envelope,
}

impl SignedException {
    /// `exception`, not signed yet.
    pub fn new(exception: Exception) -> SignedException {
        let payload = exception.to_payload();
        let envelope = Envelope::new(media::EXCEPTION, &payload);
        SignedException {
            exception,
            payload,
            envelope,
        }
    }

    /// Reads a `NAME.exception` file (at most [`super::SIGNED_CAP`]).
    pub fn read(path: &Path) -> Result<SignedException> {
        let bytes =
            shipgate_core::bounded::read_file(path, super::SIGNED_CAP).map_err(|error| {
                Error::Read {
                    path: path.to_owned(),
                    error,
                }
            })?;
        SignedException::from_bytes(&bytes, &path.display().to_string())
    }

    /// Checks a signed exception's bytes (a JSON DSSE envelope); `file` is
    /// what errors call it. Signatures are not verified here: see
    /// [`SignedException::verify`].
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<SignedException> {
        let format = |message: String| Error::ExceptionFormat {
            file: file.to_owned(),
            message,
        };
        if bytes.len() as u64 > super::SIGNED_CAP.bytes {
            return Err(format(format!(
                "{} bytes, more than the {} a signed exception may have",
                bytes.len(),
                super::SIGNED_CAP.bytes
            )));
        }
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
            format(format!(
                "not a DSSE envelope: {e}\n  help: `shipgate exception sign exception.toml --key KEY` writes one"
            ))
        })?;
        if envelope.payload_type != media::EXCEPTION {
            return Err(format(format!(
                "its payload type is `{}`, not `{}`",
                envelope.payload_type,
                media::EXCEPTION
            )));
        }
        if envelope.signatures.len() > super::MAX_SIGNATURES {
            return Err(format(format!(
                "{} signatures; the most is {}",
                envelope.signatures.len(),
                super::MAX_SIGNATURES
            )));
        }
        let payload = envelope
            .payload_bytes()
            .ok_or_else(|| format("its payload is not base64".into()))?;
        let exception = Exception::from_payload(&payload).map_err(format)?;
        Ok(SignedException {
            exception,
            payload,
            envelope,
        })
    }

    /// The file's bytes: the envelope as pretty JSON, with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Only strings: serializing cannot fail.
        let mut bytes = serde_json::to_vec_pretty(&self.envelope).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Writes the file whole ([`shipgate_core::atomic::write`]).
    pub fn write(&self, path: &Path) -> Result<()> {
        shipgate_core::atomic::write(path, &self.to_bytes()).map_err(|error| Error::Write {
            path: path.to_owned(),
            error,
        })
    }

    /// What it says (not verified).
    pub fn exception(&self) -> &Exception {
        &self.exception
    }

    /// The canonical payload the signatures cover.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// `sha256:` of the payload: what reports and logs name; the same
    /// however many keys sign.
    pub fn digest(&self) -> String {
        digest::of(&self.payload)
    }

    /// The key ids of its signatures, in the order they were added (not
    /// verified).
    pub fn signers(&self) -> Vec<String> {
        self.envelope
            .signatures
            .iter()
            .map(|s| s.keyid.clone())
            .collect()
    }

    /// Adds `key`'s signature. A key that signed already is
    /// [`SignOutcome::AlreadySigned`], and nothing changes.
    pub fn sign(&mut self, key: &PrivateKey) -> Result<SignOutcome> {
        if self.envelope.signatures.iter().any(|s| s.keyid == key.id()) {
            return Ok(SignOutcome::AlreadySigned);
        }
        if self.envelope.signatures.len() >= super::MAX_SIGNATURES {
            return Err(Error::ExceptionFormat {
                file: self.exception.label(),
                message: format!(
                    "it has {} signatures already, the most an exception holds",
                    super::MAX_SIGNATURES
                ),
            });
        }
        let signature = key.sign(&dsse::pae(media::EXCEPTION, &self.payload));
        self.envelope.signatures.push(dsse::Signature {
            keyid: key.id().to_owned(),
            sig: dsse::b64(&signature),
        });
        Ok(SignOutcome::Added)
    }

    /// Whether `keyid`'s signatures verify against `public`: every one by
    /// that key id must (a key id listed twice counts once).
    pub(super) fn verifies(&self, keyid: &str, public: &ed25519_dalek::VerifyingKey) -> bool {
        let signed = dsse::pae(&self.envelope.payload_type, &self.payload);
        self.envelope
            .signatures
            .iter()
            .filter(|s| s.keyid == keyid)
            .all(|s| keys::verifies(public, &signed, &dsse::unb64(&s.sig).unwrap_or_default()))
    }

    /// The distinct key ids that signed, sorted.
    pub(super) fn distinct_signers(&self) -> Vec<String> {
        let mut ids = self.signers();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Each signature (one per key id) without refusing anything: `valid`
    /// (verifies, and the key may sign exceptions), `invalid` (does not
    /// verify), `unknown-key` (not in the trust file), `not-allowed` (a
    /// trusted key that may not sign exceptions), or `not-checked` (no
    /// trust file).
    pub fn check_signatures(&self, trust: &Trust) -> Vec<SignatureCheck> {
        let mut checks = BTreeMap::new();
        for keyid in self.signers() {
            if checks.contains_key(&keyid) {
                continue;
            }
            let status = if !trust.is_configured() {
                "not-checked"
            } else {
                match trust.key(&keyid) {
                    None => "unknown-key",
                    Some(key) if !self.verifies(&keyid, &key.public) => "invalid",
                    Some(key) if allowed(trust, &keyid, key.usage.contains(&Usage::Exceptions)) => {
                        "valid"
                    }
                    Some(_) => "not-allowed",
                }
            };
            checks.insert(keyid.clone(), SignatureCheck { keyid, status });
        }
        let mut ordered = Vec::new();
        for keyid in self.signers() {
            if let Some(check) = checks.remove(&keyid) {
                ordered.push(check);
            }
        }
        ordered
    }
}

/// Whether the trust file's `[exceptions]` lets `keyid` sign exceptions.
pub(super) fn allowed(trust: &Trust, keyid: &str, usage_has_exceptions: bool) -> bool {
    usage_has_exceptions
        && trust
            .exceptions()
            .is_some_and(|rule| rule.keys.iter().any(|k| k == keyid))
}
