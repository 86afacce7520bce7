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
use shipgate_bundle::exception::SignedException;
use shipgate_core::config::layering::{self, LayerRule};
use shipgate_core::config::waivers::Waiver;
use shipgate_core::config::{BundleOrigin, Config, ConfigError, OnError, Overridden, PolicyConfig};
use shipgate_model::Timestamp;
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

/// What [`resolve`] runs with.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The org file (`--org`, `$SHIPGATE_ORG`): bundles every configuration
    /// runs, and the trust file they and the configuration's own bundles
    /// are verified against. A team cannot leave it out or weaken it.
    pub org: Option<&'a Config>,
    /// Only the local store; never a registry.
    pub offline: bool,
    /// The clock expiry is checked against.
    pub now: OffsetDateTime,
}

/// Fetches and verifies the org file's and `config`'s bundles, merges
/// their policies by layer, applies `config`'s own tables to them (a
/// required policy only tightened), and appends the rest to
/// `config.policies`. A configuration without bundles and without an org
/// file is left as it is, and nothing is read or written.
pub fn resolve(config: &mut Config, options: Options<'_>) -> Result<Resolved, ConfigError> {
    let org_bundles = options.org.map_or(0, |org| org.bundles.len());
    if config.bundles.is_empty() && org_bundles == 0 && config.exceptions.is_empty() {
        return Ok(Resolved::default());
    }
    let mut settings = Settings::of(config, options.offline);
    if let Some(org) = options.org {
        let Some(file) = &org.trust.file else {
            return Err(org.key_error(
                "trust",
                "an org file needs `[trust] file`: its bundles, and every team's, are verified against it",
            ));
        };
        if config.trust.file.is_some() {
            tracing::warn!(
                "`[trust]` of `{}` is not used: the org file `{}` names the trust file",
                config.file_name(),
                org.file_name()
            );
        }
        settings.trust_file = Some(org.base_dir().join(file));
    }
    let mut fetcher =
        Fetcher::open(settings).map_err(|e| setup_error(options.org.unwrap_or(config), &e))?;
    let lock = Lock::load(&config.base_dir())?;
    let mut resolved = Resolved::default();
    // Every bundle's policies, fetched first, then merged highest layer
    // first (org, groups, then bundles without a layer; the org file's
    // before the configuration's, each in file order).
    let mut fetched_sets: Vec<(usize, u8, Vec<PolicyConfig>)> = Vec::new();
    let mut config_floors = layering::Floors::default();
    let entries: Vec<(&Config, usize)> = options
        .org
        .into_iter()
        .flat_map(|org| (0..org.bundles.len()).map(move |i| (org, i)))
        .chain((0..config.bundles.len()).map(|i| (&*config, i)))
        .collect();
    for (order, &(file, index)) in entries.iter().enumerate() {
        let from_org = order < org_bundles;
        let source = file.bundles[index].source.clone();
        let at = |message: String| file.key_error(&format!("bundles[{index}].source"), &message);
        let reference = pinned(&source, &lock).map_err(at)?;
        let fetched = fetcher
            .fetch(&reference, options.now)
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
        let blob = fetched.bundle.config();
        let mut policies = Vec::new();
        if from_org && blob.layer.is_none() {
            return Err(at(format!(
                "bundle `{source}` declares no layer; the org file runs layers (`layer = \"org\"` or a group such as `org/payments` in its bundle.toml)"
            )));
        }
        for mut policy in own.policies {
            policy.location = file.bundles[index].location;
            policy.bundle = Some(origin.clone());
            policy.layer = blob.layer.as_ref().map(|layer| {
                let declared = blob.policies.iter().find(|p| p.name == policy.name);
                LayerRule {
                    layer: layer.clone(),
                    required: declared.is_some_and(|p| p.required),
                    stricter: declared.map(|p| p.stricter.clone()).unwrap_or_default(),
                }
            });
            policies.push(policy);
        }
        if let Some(floors) = &blob.floors {
            config_floors.raise(floors, &format!("{} {}", blob.name, blob.version));
        }
        fetched_sets.push((order, layering::rank(blob.layer.as_deref()), policies));
        resolved.bundles.push(origin);
    }
    fetched_sets.sort_by_key(|(index, rank, _)| (*rank, *index));
    let mut layered: Vec<PolicyConfig> = Vec::new();
    for (order, _, policies) in fetched_sets {
        let (file, index) = entries[order];
        for policy in policies {
            let Some(k) = layered.iter().position(|p| p.name == policy.name) else {
                layered.push(policy);
                continue;
            };
            let base = &layered[k];
            let at =
                |message: String| file.key_error(&format!("bundles[{index}].source"), &message);
            let same_rank = layering::rank(base.layer.as_ref().map(|l| l.layer.as_str()))
                == layering::rank(policy.layer.as_ref().map(|l| l.layer.as_str()));
            if same_rank {
                return Err(at(format!(
                    "bundle `{}` defines policy `{}`, and so does bundle `{}` of the same layer: policy names must be unique",
                    name_of(&policy),
                    policy.name,
                    name_of(base)
                )));
            }
            let merged = apply_layer(base, &policy, policy.location).map_err(|problems| {
                at(format!(
                    "bundle `{}`: {}",
                    name_of(&policy),
                    weakening_message(base, &problems)
                ))
            })?;
            layered[k] = merged;
        }
    }
    for index in 0..config.policies.len() {
        let name = config.policies[index].name.clone();
        let Some(k) = layered.iter().position(|p| p.name == name) else {
            continue;
        };
        let base = layered.remove(k);
        let own = &config.policies[index];
        match apply_layer(&base, own, own.location) {
            Ok(merged) => config.policies[index] = merged,
            Err(problems) => {
                let first = &problems[0];
                let mut error = config.policy_error(
                    index,
                    &first.key,
                    &weakening_message(&base, &problems[..1]),
                );
                if problems.len() > 1 {
                    error.help = Some(format!(
                        "it also: {}",
                        problems[1..]
                            .iter()
                            .map(|p| format!("`{}`: {}", p.key, p.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                return Err(error);
            }
        }
    }
    config.policies.extend(layered);
    if config_floors.fail_closed {
        for policy in &mut config.policies {
            if policy.on_error == OnError::FailOpen {
                tracing::warn!(
                    "policy `{}`: `on_error = \"fail-open\"` counts as fail-closed: the floor of {} says a failed policy is always fail-closed",
                    policy.name,
                    config_floors.set_by.join(", ")
                );
                policy.on_error = OnError::FailClosed;
            }
        }
    }
    config.floors = config_floors;
    config.waivers = waivers(config, fetcher.trust(), options.now)?;
    Ok(resolved)
}

/// The configuration's `[[exceptions]]`, each read and verified against
/// the trust file's `[exceptions]` keys at `now`, and naming a policy the
/// configuration runs; any refusal is an error at its entry.
fn waivers(
    config: &Config,
    trust: &shipgate_bundle::Trust,
    now: OffsetDateTime,
) -> Result<Vec<Waiver>, ConfigError> {
    let mut out = Vec::new();
    for (index, source) in config.exceptions.iter().enumerate() {
        let at = |message: String| config.key_error(&format!("exceptions[{index}].file"), &message);
        let signed = SignedException::read(&source.file).map_err(|e| at(e.to_string()))?;
        let v = signed.verify(trust, now).map_err(|e| at(e.to_string()))?;
        if !config.policies.iter().any(|p| p.name == v.policy) {
            return Err(at(format!(
                "{} names policy `{}`, which this configuration does not run",
                v.label(),
                v.policy
            )));
        }
        let ms = |t: OffsetDateTime| Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64);
        out.push(Waiver {
            policy: v.policy,
            rule: v.rule,
            service: v.service,
            environment: v.environment,
            reason: v.reason,
            ticket: v.ticket,
            issued: ms(v.issued),
            expires: ms(v.expires),
            digest: v.digest,
            signers: v.signers,
        });
    }
    Ok(out)
}

/// `over` applied to `base` by the layering rules: tightened (a required
/// `base`) or replaced (a default one, or one outside any layer).
fn apply_layer(
    base: &PolicyConfig,
    over: &PolicyConfig,
    at: shipgate_core::config::Location,
) -> Result<PolicyConfig, Vec<layering::Weakening>> {
    let rule = base.layer.clone().unwrap_or(LayerRule {
        layer: String::new(),
        required: false,
        stricter: Default::default(),
    });
    let (mut merged, changed) = layering::apply(base, &rule, over)?;
    if !rule.required {
        // The lower table runs as it is, still shown as the layer's.
        merged.bundle = base.bundle.clone();
        merged.layer = base.layer.clone();
    }
    merged.overridden = Some(Overridden {
        location: at,
        changed,
        replaced: !rule.required,
    });
    Ok(merged)
}

/// The bundle a policy came from, by name.
fn name_of(policy: &PolicyConfig) -> &str {
    policy.bundle.as_ref().map_or("", |b| b.name.as_str())
}

/// "policy `x` is required by layer `org` (bundle …): it …; a required
/// policy may only be tightened".
fn weakening_message(base: &PolicyConfig, problems: &[layering::Weakening]) -> String {
    let by = match (&base.layer, &base.bundle) {
        (Some(rule), Some(b)) => format!(
            "layer `{}` (bundle `{}` {}, {})",
            rule.layer, b.name, b.version, b.digest
        ),
        _ => "its layer".to_owned(),
    };
    format!(
        "policy `{}` is required by {by}: {}; a required policy may only be tightened",
        base.name,
        problems
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    )
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
        layer: fetched.bundle.config().layer.clone(),
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
