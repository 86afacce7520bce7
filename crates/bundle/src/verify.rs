//! Verifying a bundle against trust: its signatures, the statement they
//! sign, the threshold, its expiry, this Shipgate's version and contract,
//! and the accepted sequence. Every refusal has its own [`Error`] variant.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::sequence::SequenceStore;
use crate::statement::Statement;
use crate::trust::{Trust, Usage};
use crate::verified::Verified;
use crate::{compat, dsse, keys, media};

/// An RFC 3339 time.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339)
}

/// An RFC 3339 rendering of `t` (for messages).
pub fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// One signature, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// The key id it names.
    pub keyid: String,
    /// What became of it: `valid`, `invalid`, `unknown-key` (not in the
    /// trust file), `not-allowed` (not allowed for this bundle),
    /// `not-checked` (no trust file).
    pub status: &'static str,
}

impl Bundle {
    /// Verifies the bundle: see the module documentation. `now` is the
    /// clock (injectable: `--now` in tests); `store` holds the accepted
    /// sequences. On success the caller records it with
    /// [`SequenceStore::accept`].
    pub fn verify(
        &self,
        trust: &Trust,
        now: OffsetDateTime,
        store: &SequenceStore,
    ) -> Result<Verified> {
        let name = self.name().to_owned();
        let config = self.config();
        let mut verified = Verified {
            name: name.clone(),
            version: config.version.clone(),
            sequence: config.sequence,
            expires: config.expires.clone(),
            digest: self.digest(),
            config_digest: self.config_digest().to_owned(),
            signers: Vec::new(),
            trusted: trust.is_configured(),
            scope: None,
            threshold: None,
        };
        if trust.is_configured() {
            let rule = trust.rule_for(&name).ok_or_else(|| Error::NoTrustRule {
                bundle: name.clone(),
            })?;
            let allowed = rule.keys.join(", ");
            let signatures = self.signatures_by_key();
            if signatures.is_empty() {
                return Err(Error::Unsigned {
                    bundle: name,
                    threshold: rule.threshold,
                    allowed,
                });
            }
            let mut valid = BTreeSet::new();
            for (keyid, (payload_type, payload, sig)) in &signatures {
                let Some(key) = trust
                    .key(keyid)
                    .filter(|k| rule.keys.contains(keyid) && k.usage.contains(&Usage::Bundles))
                else {
                    continue;
                };
                let signed = dsse::pae(payload_type, payload);
                if payload_type != media::STATEMENT || !keys::verifies(&key.public, &signed, sig) {
                    return Err(Error::BadSignature {
                        bundle: name,
                        keyid: keyid.clone(),
                    });
                }
                self.check_statement(keyid, payload)?;
                valid.insert(keyid.clone());
            }
            if valid.is_empty() {
                return Err(Error::KeyNotAllowed {
                    bundle: name,
                    signers: signatures.keys().cloned().collect::<Vec<_>>().join(", "),
                    allowed,
                });
            }
            if valid.len() < rule.threshold as usize {
                return Err(Error::ThresholdNotMet {
                    bundle: name,
                    valid: valid.len(),
                    threshold: rule.threshold,
                    signers: valid.iter().cloned().collect::<Vec<_>>().join(", "),
                    allowed,
                });
            }
            verified.signers = valid.into_iter().collect();
            verified.scope = Some(rule.scope.clone());
            verified.threshold = Some(rule.threshold);
        }
        if let Some(expires) = &config.expires {
            let at = parse_time(expires).map_err(|_| {
                Error::Format(format!(
                    "bundle `{name}`: its expiry `{expires}` is not an RFC 3339 time"
                ))
            })?;
            if now >= at {
                return Err(Error::Expired {
                    bundle: name,
                    version: config.version.clone(),
                    expires: expires.clone(),
                    now: format_time(now),
                });
            }
        }
        if let Some(min) = &config.min_shipgate
            && !compat::shipgate_fits(min)
        {
            return Err(Error::ShipgateTooOld {
                bundle: name,
                min_shipgate: min.clone(),
                ours: compat::SHIPGATE_VERSION.to_owned(),
            });
        }
        if let Some(contract) = &config.contract
            && !compat::contract_fits(contract)
        {
            return Err(Error::Contract {
                bundle: name,
                contract: contract.clone(),
                ours: compat::contract(),
            });
        }
        if let Some(accepted) = store.get(&name) {
            if config.sequence < accepted.sequence {
                return Err(Error::RolledBack {
                    bundle: name,
                    version: config.version.clone(),
                    sequence: config.sequence,
                    accepted: accepted.sequence,
                    accepted_version: accepted.version.clone(),
                });
            }
            if config.sequence == accepted.sequence && accepted.config != self.config_digest() {
                return Err(Error::SequenceReused {
                    bundle: name,
                    version: config.version.clone(),
                    sequence: config.sequence,
                    accepted_config: accepted.config.clone(),
                });
            }
        }
        Ok(verified)
    }

    /// Each signature without verifying anything: its key id and, with
    /// trust, whether it is valid and allowed for this bundle.
    pub fn check_signatures(&self, trust: &Trust) -> Vec<SignatureCheck> {
        let rule = trust.rule_for(self.name());
        self.signatures_by_key()
            .into_iter()
            .map(|(keyid, (payload_type, payload, sig))| {
                let status = if !trust.is_configured() {
                    "not-checked"
                } else {
                    match trust.key(&keyid) {
                        None => "unknown-key",
                        Some(key) => {
                            let signed = dsse::pae(&payload_type, &payload);
                            let ok = payload_type == media::STATEMENT
                                && keys::verifies(&key.public, &signed, &sig)
                                && self.check_statement(&keyid, &payload).is_ok();
                            if !ok {
                                "invalid"
                            } else if rule.is_some_and(|r| r.keys.contains(&keyid))
                                && key.usage.contains(&Usage::Bundles)
                            {
                                "valid"
                            } else {
                                "not-allowed"
                            }
                        }
                    }
                };
                SignatureCheck { keyid, status }
            })
            .collect()
    }

    /// The signatures by key id: payload type, payload, signature bytes
    /// (undecodable ones have an empty signature, which never verifies).
    fn signatures_by_key(&self) -> BTreeMap<String, (String, Vec<u8>, Vec<u8>)> {
        let mut out = BTreeMap::new();
        for layer in self.signature_layers() {
            let payload = layer.envelope.payload_bytes().unwrap_or_default();
            for sig in &layer.envelope.signatures {
                out.entry(sig.keyid.clone()).or_insert_with(|| {
                    (
                        layer.envelope.payload_type.clone(),
                        payload.clone(),
                        dsse::unb64(&sig.sig).unwrap_or_default(),
                    )
                });
            }
        }
        out
    }

    /// The signed statement `payload` must be this bundle's.
    fn check_statement(&self, keyid: &str, payload: &[u8]) -> Result<()> {
        let mismatch = |detail: String| Error::StatementMismatch {
            bundle: self.name().to_owned(),
            keyid: keyid.to_owned(),
            detail,
        };
        let signed: Statement = serde_json::from_slice(payload)
            .map_err(|e| mismatch(format!("the statement is not valid: {e}")))?;
        let ours = self.statement();
        let fields = [
            ("kind", signed.kind.clone(), ours.kind.clone()),
            ("name", signed.name.clone(), ours.name.clone()),
            ("version", signed.version.clone(), ours.version.clone()),
            (
                "sequence",
                signed.sequence.to_string(),
                ours.sequence.to_string(),
            ),
            (
                "expires",
                format!("{:?}", signed.expires),
                format!("{:?}", ours.expires),
            ),
            ("config blob", signed.config.clone(), ours.config.clone()),
        ];
        for (what, theirs, mine) in fields {
            if theirs != mine {
                return Err(mismatch(format!(
                    "its {what} is {theirs} in the statement, {mine} in the bundle"
                )));
            }
        }
        let listed: BTreeMap<&str, &str> = signed
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.digest.as_str()))
            .collect();
        for file in &ours.files {
            match listed.get(file.path.as_str()) {
                None => {
                    return Err(Error::ExtraFile {
                        bundle: self.name().to_owned(),
                        path: file.path.clone(),
                        digest: file.digest.clone(),
                        listed_by: "the signed statement",
                    });
                }
                Some(digest) if *digest != file.digest => {
                    return Err(mismatch(format!(
                        "file `{}` is {} in the bundle, {digest} in the statement",
                        file.path, file.digest
                    )));
                }
                Some(_) => {}
            }
        }
        for file in &signed.files {
            if !ours.files.iter().any(|f| f.path == file.path) {
                return Err(Error::MissingFile {
                    bundle: self.name().to_owned(),
                    path: file.path.clone(),
                    digest: file.digest.clone(),
                    listed_by: "the signed statement",
                });
            }
        }
        Ok(())
    }
}
