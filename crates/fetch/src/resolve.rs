//! A configuration's `[[bundles]]` turned into policies: each source
//! pinned (its own digest, or `shipgate.lock`'s for a tag), fetched and
//! verified ([`Fetcher::fetch`]), its files written once under the store
//! (`policies/<digest>/`, checked against their digests on every use), and
//! its policies appended to the configuration's, each naming its bundle.
//!
//! Every failure is a [`ConfigError`] at the `[[bundles]]` entry, naming
//! the bundle and the reason: a bundle that cannot be fetched or verified
//! is never skipped.

use std::path::{Path, PathBuf};

use shipgate_bundle::Bundle;
use shipgate_core::config::{BundleOrigin, Config, ConfigError};
use shipgate_registry::{Digest, Reference};
use time::OffsetDateTime;

use crate::error::Error;
use crate::fetcher::{Fetched, Fetcher};
use crate::lock::Lock;
use crate::settings::Settings;

/// The bundles a configuration resolved to, in `[[bundles]]` order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Each bundle's origin (what the report and the log name).
    pub bundles: Vec<BundleOrigin>,
}

/// Fetches and verifies `config`'s bundles and appends their policies to
/// `config.policies`. `offline`: only the local store. `now`: the clock
/// expiry is checked against. A configuration without `[[bundles]]` is left
/// as it is, and nothing is read or written.
pub fn resolve(
    config: &mut Config,
    offline: bool,
    now: OffsetDateTime,
) -> Result<Resolved, ConfigError> {
    if config.bundles.is_empty() {
        return Ok(Resolved::default());
    }
    let settings = Settings::of(config, offline);
    let mut fetcher = Fetcher::open(settings).map_err(|e| setup_error(config, &e))?;
    let lock = Lock::load(&config.base_dir())?;
    let mut resolved = Resolved::default();
    let mut added = Vec::new();
    for index in 0..config.bundles.len() {
        let source = config.bundles[index].source.clone();
        let at = |message: String| config.key_error(&format!("bundles[{index}].source"), &message);
        let reference = pinned(&source, &lock).map_err(at)?;
        let fetched = fetcher
            .fetch(&reference, now)
            .map_err(|e| at(format!("bundle `{source}`: {e}")))?;
        if !fetcher.has_trust() {
            tracing::warn!(
                "bundle `{source}` is used on its pinned digest alone: no `[trust] file` is configured, so its signatures were not checked"
            );
        }
        let origin = origin_of(&fetched);
        let dir = materialize(fetcher.store_dir(), &fetched.bundle)
            .map_err(|e| at(format!("bundle `{source}`: {e}")))?;
        let text = fetched
            .bundle
            .shipgate_toml()
            .map_err(|e| at(format!("bundle `{source}`: {e}")))?;
        let own = Config::parse(&text, &dir.join("shipgate.toml"))
            .map_err(|e| at(format!("bundle `{source}`: its policies: {e}")))?;
        for mut policy in own.policies {
            if let Some(clash) = config
                .policies
                .iter()
                .chain(added.iter())
                .find(|p| p.name == policy.name)
            {
                let other = match &clash.bundle {
                    Some(b) => format!("bundle `{}`", b.name),
                    None => format!("`[[policies]]` on line {}", clash.location.line),
                };
                return Err(at(format!(
                    "bundle `{source}` defines policy `{}`, and so does {other}: policy names must be unique",
                    policy.name
                )));
            }
            policy.location = config.bundles[index].location;
            policy.bundle = Some(origin.clone());
            added.push(policy);
        }
        resolved.bundles.push(origin);
    }
    config.policies.extend(added);
    Ok(resolved)
}

/// The reference `source` runs: pinned by its own digest, else by the lock.
fn pinned(source: &str, lock: &Lock) -> Result<Reference, String> {
    let reference = Reference::parse(source).map_err(|e| e.to_string())?;
    if reference.digest().is_some() {
        return Ok(reference);
    }
    let Some(locked) = lock.get(source) else {
        return Err(format!(
            "bundle `{source}` names a tag, which can move, and `{}` does not pin it: run `shipgate bundle lock` (and commit the lock), or pin a digest (`…@sha256:…`)",
            lock.path().display()
        ));
    };
    let digest = Digest::parse(&locked.digest)
        .map_err(|e| format!("`{}`: `{}`: {e}", lock.path().display(), locked.digest))?;
    Ok(reference.with_digest(digest))
}

/// What the report names: the bundle, its version, digest and signers.
pub fn origin_of(fetched: &Fetched) -> BundleOrigin {
    BundleOrigin {
        name: fetched.verified.name.clone(),
        version: fetched.verified.version.clone(),
        digest: fetched.verified.digest.clone(),
        signers: fetched.verified.signers.clone(),
        source: fetched.reference.to_string(),
    }
}

/// The bundle's files under `store/policies/<digest hex>/`: written once
/// (to a temporary directory, renamed into place), checked against their
/// digests on every use and written again if changed.
fn materialize(store: &Path, bundle: &Bundle) -> Result<PathBuf, Error> {
    let digest = bundle.digest();
    let hex = digest.trim_start_matches("sha256:");
    let parent = store.join("policies");
    let dir = parent.join(hex);
    if intact(&dir, bundle) {
        return Ok(dir);
    }
    let write = |path: &Path, e: std::io::Error| {
        Error::Bundle(shipgate_bundle::Error::Write {
            path: path.to_owned(),
            error: e,
        })
    };
    std::fs::create_dir_all(&parent).map_err(|e| write(&parent, e))?;
    let scratch = tempfile::tempdir_in(&parent).map_err(|e| write(&parent, e))?;
    bundle.materialize(scratch.path())?;
    if dir.exists() {
        // Changed on disk: replace it whole.
        std::fs::remove_dir_all(&dir).map_err(|e| write(&dir, e))?;
    }
    let scratch = scratch.keep();
    if let Err(e) = std::fs::rename(&scratch, &dir) {
        let _ = std::fs::remove_dir_all(&scratch);
        // Another process may have put the same files there first.
        if !intact(&dir, bundle) {
            return Err(write(&dir, e));
        }
    }
    Ok(dir)
}

/// Whether `dir` holds every file of `bundle` with its digest.
fn intact(dir: &Path, bundle: &Bundle) -> bool {
    bundle.files().all(|file| {
        std::fs::read(dir.join(file.path))
            .is_ok_and(|bytes| Digest::of(&bytes).as_str() == file.digest)
    })
}

/// A store or trust file that cannot be used: at `[trust] file` when it is
/// the trust file, else at `[registry] store`.
fn setup_error(config: &Config, e: &Error) -> ConfigError {
    match e {
        Error::Bundle(shipgate_bundle::Error::Toml(located)) => located.clone(),
        Error::Bundle(_) if config.trust.file.is_some() => {
            config.key_error("trust.file", &e.to_string())
        }
        _ => config.key_error("registry.store", &e.to_string()),
    }
}
