//! Fetching one bundle: from the local store when it has the pinned
//! digest, else from the registry (never with `--offline`); then checked
//! against the pin, verified against the trust file and the accepted
//! sequences, kept in the store, and its sequence recorded.

use std::collections::BTreeMap;
use std::path::Path;

use shipgate_bundle::{Bundle, SequenceStore, Trust, Verified, media};
use shipgate_registry::{Client, Digest, Pulled, Reference, Store};
use time::OffsetDateTime;

use crate::error::Error;
use crate::settings::Settings;

/// A bundle fetched and verified.
#[derive(Debug)]
pub struct Fetched {
    /// The bundle.
    pub bundle: Bundle,
    /// What verification established (signers, sequence, …).
    pub verified: Verified,
    /// Where it came from, pinned to its digest.
    pub reference: Reference,
    /// Whether the local store already had it (no registry was asked).
    pub from_store: bool,
}

/// Fetches, verifies and keeps bundles: one store, one trust file, one
/// registry client (made when first needed).
pub struct Fetcher {
    settings: Settings,
    trust: Trust,
    store: Store,
    sequences: SequenceStore,
    client: Option<(Client, tokio::runtime::Runtime)>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("store", &self.settings.store)
            .field("offline", &self.settings.offline)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// Opens the store (creating it) and reads the trust file.
    pub fn open(settings: Settings) -> Result<Fetcher, Error> {
        let trust = match &settings.trust_file {
            Some(path) => Trust::load(path)?,
            None => Trust::unconfigured(),
        };
        let store = Store::open(&settings.store, settings.options.limits)?;
        let sequences = SequenceStore::open(&settings.store)?;
        Ok(Fetcher {
            settings,
            trust,
            store,
            sequences,
            client: None,
        })
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether a trust file is configured (else bundles are checked against
    /// their pinned digest only).
    pub fn has_trust(&self) -> bool {
        self.trust.is_configured()
    }

    /// The trust file in use (bundles and exceptions are verified against
    /// it).
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The store's directory.
    pub fn store_dir(&self) -> &Path {
        self.store.root()
    }

    /// Fetches the bundle `reference` pins (it must carry a digest), checks
    /// it is that digest, verifies it (`now` is the clock) and records its
    /// sequence. The store is used first; the registry only when the store
    /// lacks it and not offline.
    pub fn fetch(&mut self, reference: &Reference, now: OffsetDateTime) -> Result<Fetched, Error> {
        let Some(pinned) = reference.digest().cloned() else {
            return Err(Error::NotPinned {
                reference: reference.to_string(),
            });
        };
        let (bundle, from_store) = self.bundle(reference)?;
        if bundle.digest() != pinned.as_str() {
            return Err(Error::NotThePin {
                reference: reference.to_string(),
                actual: bundle.digest(),
            });
        }
        let verified = bundle.verify(&self.trust, now, &self.sequences)?;
        if !from_store {
            self.store.put(reference, &pulled_of(&bundle, reference)?)?;
        }
        self.sequences.accept(&verified)?;
        Ok(Fetched {
            bundle,
            verified,
            reference: reference.clone(),
            from_store,
        })
    }

    /// The bundle `reference` names, from the store or the registry, not
    /// verified (for `shipgate bundle inspect`), with whether the store had
    /// it. A tag asks the registry (unless offline: then the store's
    /// record of the tag).
    pub fn bundle(&mut self, reference: &Reference) -> Result<(Bundle, bool), Error> {
        if reference.digest().is_some() || self.settings.offline {
            if let Some(pulled) = self.store.get(reference, media::ARTIFACT_TYPE)? {
                return Ok((bundle_of(pulled)?, true));
            }
            if self.settings.offline {
                return Err(Error::Offline {
                    reference: reference.to_string(),
                    store: self.settings.store.clone(),
                });
            }
        }
        let pulled = self.block_on(|client| client.pull(reference, media::ARTIFACT_TYPE))??;
        Ok((bundle_of(pulled)?, false))
    }

    /// The digest a tag points at now, from the registry.
    pub fn resolve(&mut self, reference: &Reference) -> Result<Digest, Error> {
        if let Some(digest) = reference.digest() {
            return Ok(digest.clone());
        }
        if self.settings.offline {
            return self
                .store
                .resolve(reference)?
                .ok_or_else(|| Error::Offline {
                    reference: reference.to_string(),
                    store: self.settings.store.clone(),
                });
        }
        Ok(self.block_on(|client| client.resolve(reference))??)
    }

    /// Pushes `bundle` to `reference` byte for byte (its digest is the one
    /// built and signed) and returns the digest.
    pub fn push(&mut self, bundle: &Bundle, reference: &Reference) -> Result<Digest, Error> {
        if self.settings.offline {
            return Err(Error::Offline {
                reference: reference.to_string(),
                store: self.settings.store.clone(),
            });
        }
        let pulled = pulled_of(bundle, reference)?;
        Ok(self.block_on(|client| client.push_pulled(reference, &pulled))??)
    }

    /// Runs one registry operation on the client's runtime.
    fn block_on<'a, F, T>(&'a mut self, op: impl FnOnce(&'a Client) -> F) -> Result<T, Error>
    where
        F: std::future::Future<Output = T> + 'a,
    {
        if self.client.is_none() {
            let client = Client::new(self.settings.options.clone())?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Runtime(e.to_string()))?;
            self.client = Some((client, runtime));
        }
        let Some((client, runtime)) = self.client.as_ref() else {
            return Err(Error::Runtime("no registry client".into()));
        };
        Ok(runtime.block_on(op(client)))
    }
}

/// A bundle from an artifact the registry or the store handed over.
fn bundle_of(pulled: Pulled) -> Result<Bundle, Error> {
    let config = pulled.config().to_vec();
    let blobs: BTreeMap<String, Vec<u8>> = pulled
        .blobs
        .into_iter()
        .map(|(digest, bytes)| (digest.to_string(), bytes))
        .collect();
    Ok(Bundle::from_parts(pulled.manifest_bytes, config, blobs)?)
}

/// A bundle as the registry crate's artifact, its manifest byte for byte.
fn pulled_of(bundle: &Bundle, reference: &Reference) -> Result<Pulled, Error> {
    let mut blobs = BTreeMap::new();
    for (descriptor, bytes) in bundle.blobs() {
        let digest = Digest::parse(&descriptor.digest).map_err(|e| {
            Error::Bundle(shipgate_bundle::Error::Format(format!(
                "blob digest `{}`: {e}",
                descriptor.digest
            )))
        })?;
        blobs.insert(digest, bytes.to_vec());
    }
    Ok(Pulled::from_parts(
        bundle.manifest_bytes().to_vec(),
        blobs,
        &reference.to_string(),
        &shipgate_registry::Limits::default(),
    )?)
}
