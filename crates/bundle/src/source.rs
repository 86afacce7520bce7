//! A bundle's source: the directory a platform team writes, and
//! [`build`], which makes a [`Bundle`] of it.
//!
//! ```text
//! security-rules/
//!   bundle.toml              name, version, sequence, expiry, policies
//!   policies/team-rule.wasm  components named by `source` (optional)
//!   cases/                   golden decision cases, as `shipgate test` reads them
//!     friday.toml            snapshot = "snapshots/friday.json", config = "../shipgate.toml"
//!     friday.expected.toml
//!     snapshots/friday.json
//! ```
//!
//! `bundle.toml`:
//!
//! ```toml
//! name = "acme/security"          # lowercase, `/`-separated, like an OCI repository
//! version = "1.4.0"               # semantic version
//! sequence = 7                    # higher with every release of this name (anti-rollback)
//! expires = 2027-06-30T00:00:00Z  # optional, RFC 3339 with an offset
//! min_shipgate = "0.1.0"          # optional
//! contract = "shipgate:policy@0.2.0"  # optional
//! description = "org-wide deploy rules"  # optional
//!
//! [[policies]]                    # exactly as in shipgate.toml, without `sha256`
//! name = "prod-freeze"
//! source = "builtin:rules"        # or a `.wasm` path inside the directory
//! stages = ["gate"]
//! [policies.config]
//! # …
//! ```
//!
//! Cases name the bundle's policies as `config = "../shipgate.toml"` (from
//! `cases/`): `shipgate bundle test` writes that file from the bundle.
//! Every file of `cases/` goes into the bundle (`.toml` cases and their
//! reviewed decisions, `.json` snapshots; nothing else).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shipgate_core::config::layering::{self, Direction, Floors};
use shipgate_core::config::{PolicyConfig, PolicySource, TomlFile};

use crate::bundle::Bundle;
use crate::config_blob::{BundleConfig, BundlePolicy, FORMAT};
use crate::error::{Error, Result};
use crate::{caps, compat, media, names};

/// The source's manifest file.
pub const BUNDLE_TOML: &str = "bundle.toml";

/// `bundle.toml`'s own keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    #[serde(default, deserialize_with = "name")]
    name: Option<String>,
    #[serde(default, deserialize_with = "version")]
    version: Option<String>,
    #[serde(default)]
    sequence: Option<u64>,
    #[serde(default, deserialize_with = "expires")]
    expires: Option<String>,
    #[serde(default, deserialize_with = "version")]
    min_shipgate: Option<String>,
    #[serde(default, deserialize_with = "contract")]
    contract: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    layer: Option<String>,
    #[serde(default)]
    defaults: Vec<String>,
    #[serde(default)]
    stricter: BTreeMap<String, BTreeMap<String, Direction>>,
    #[serde(default)]
    floors: Option<Floors>,
    #[serde(default)]
    #[allow(dead_code)]
    policies: serde::de::IgnoredAny,
}

fn name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(d)?;
    if names::is_valid_name(&name) {
        Ok(Some(name))
    } else {
        Err(serde::de::Error::custom(format!(
            "`{name}` is not a bundle name\n  help: use lowercase letters, digits, `.`, `_` and `-` in `/`-separated parts, such as `acme/security`"
        )))
    }
}

fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    semver::Version::parse(&text)
        .map(|v| Some(v.to_string()))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a semantic version: {e}\n  help: write it as MAJOR.MINOR.PATCH, such as `1.4.0`"
            ))
        })
}

fn expires<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    crate::verify::parse_time(&text)
        .map(|_| Some(text.clone()))
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "`{text}` is not an RFC 3339 time\n  help: write a date, time and offset, such as `2027-06-30T00:00:00Z`"
            ))
        })
}

fn contract<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    compat::parse_contract(&text)
        .map(|_| Some(text.clone()))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "{e}\n  help: this Shipgate speaks `{}`",
                compat::contract()
            ))
        })
}

/// Builds the bundle of the source directory `dir`.
pub fn build(dir: &Path) -> Result<Bundle> {
    let toml_path = dir.join(BUNDLE_TOML);
    let text =
        shipgate_core::bounded::read_file_to_string(&toml_path, shipgate_core::bounded::CONFIG)
            .map_err(|error| Error::Read {
                path: toml_path.clone(),
                error,
            })?;
    let file_name = toml_path.display().to_string();
    let file = TomlFile::new(&file_name, &text);
    let (head, policies) = file.parse_with_policies::<Head>()?;
    let missing = |key: &str, example: &str| {
        let mut error = file.key_error(key, &format!("missing required key `{key}`"));
        error.key = None;
        error.help = Some(format!("add `{key} = {example}`"));
        error
    };
    check_layer(&file, &head, &policies)?;
    let name = head
        .name
        .ok_or_else(|| missing("name", "\"acme/security\""))?;
    let version = head
        .version
        .ok_or_else(|| missing("version", "\"1.0.0\""))?;
    let sequence = head.sequence.ok_or_else(|| missing("sequence", "1"))?;
    if policies.is_empty() {
        let mut error = file.key_error("policies", "a bundle defines at least one policy");
        error.key = None;
        error.help = Some("add a `[[policies]]` table".into());
        return Err(error.into());
    }

    let mut files: Vec<(String, &'static str, Vec<u8>)> = Vec::new();
    let mut bundle_policies = Vec::new();
    for (index, policy) in policies.iter().enumerate() {
        let mut entry = policy_entry(dir, &file, index, policy, &mut files)?;
        entry.required = head.layer.is_some() && !head.defaults.contains(&policy.name);
        entry.stricter = head.stricter.get(&policy.name).cloned().unwrap_or_default();
        bundle_policies.push(entry);
    }
    let cases = dir.join("cases");
    if cases.is_dir() {
        case_files(dir, &cases, &mut files)?;
    }
    if files.len() > caps::MAX_FILES {
        return Err(Error::SourceFile {
            path: dir.to_owned(),
            message: format!(
                "{} files, more than the {} a bundle holds",
                files.len(),
                caps::MAX_FILES
            ),
        });
    }
    let config = BundleConfig {
        format: FORMAT,
        name,
        version,
        sequence,
        expires: head.expires,
        min_shipgate: head.min_shipgate,
        contract: head.contract,
        description: head.description,
        layer: head.layer,
        floors: head.floors.filter(|f| !f.is_empty()),
        policies: bundle_policies,
        files: Vec::new(),
    };
    Bundle::assemble(config, files)
}

/// `layer`, `defaults` and `[stricter.POLICY]`: a known layer; names of
/// the bundle's own policies; each key a number the policy's `config` sets
/// (a tighter value is checked against it).
fn check_layer(file: &TomlFile<'_>, head: &Head, policies: &[PolicyConfig]) -> Result<()> {
    let policy = |name: &str| policies.iter().find(|p| p.name == name);
    if let Some(layer) = &head.layer
        && !layering::is_valid_layer(layer)
    {
        let mut error = file.key_error("layer", &format!("`{layer}` is not a layer"));
        error.help = Some("write `org`, or a group such as `org/payments`".into());
        return Err(error.into());
    }
    let needs_layer = |key: &str| {
        let mut error = file.key_error(
            key,
            &format!("`{key}` is about a layer, and the bundle has none"),
        );
        error.help = Some("add `layer = \"org\"` (or a group such as `org/payments`)".into());
        error
    };
    if head.layer.is_none() && !head.defaults.is_empty() {
        return Err(needs_layer("defaults").into());
    }
    if head.layer.is_none() && !head.stricter.is_empty() {
        return Err(needs_layer("stricter").into());
    }
    if let Some(floors) = &head.floors {
        if head.layer.is_none() {
            return Err(needs_layer("floors").into());
        }
        if let Some(v) = floors.missing_data
            && !matches!(
                v,
                shipgate_model::Verdict::Hold | shipgate_model::Verdict::NoGo
            )
        {
            let mut error = file.key_error(
                "floors.missing_data",
                &format!("`{v}` is not a floor for missing data at the gate"),
            );
            error.help = Some("use `hold` or `no-go`".into());
            return Err(error.into());
        }
    }
    for (index, name) in head.defaults.iter().enumerate() {
        if policy(name).is_none() {
            return Err(file
                .key_error(
                    &format!("defaults[{index}]"),
                    &format!("the bundle defines no policy `{name}`"),
                )
                .into());
        }
    }
    for (name, keys) in &head.stricter {
        let Some(p) = policy(name) else {
            return Err(file
                .key_error(
                    &format!("stricter.{name}"),
                    &format!("the bundle defines no policy `{name}`"),
                )
                .into());
        };
        for key in keys.keys() {
            let value = layering::lookup(&p.config, key);
            if !value.is_some_and(serde_json::Value::is_number) {
                let mut error = file.key_error(
                    &format!("stricter.{name}"),
                    &format!(
                        "policy `{name}`'s config sets no number at `{key}`, so a tighter value could not be checked"
                    ),
                );
                error.help = Some(format!("set `{key}` in its `[policies.config]`"));
                return Err(error.into());
            }
        }
    }
    Ok(())
}

/// One policy: its component (read, checked) and its configuration file.
fn policy_entry(
    dir: &Path,
    file: &TomlFile<'_>,
    index: usize,
    policy: &PolicyConfig,
    files: &mut Vec<(String, &'static str, Vec<u8>)>,
) -> Result<BundlePolicy> {
    if policy.sha256.is_some() {
        let mut error = file.key_error(
            &format!("policies[{index}].sha256"),
            "a bundle pins every file by its digest itself",
        );
        error.help = Some("remove `sha256`".into());
        return Err(error.into());
    }
    let source = match &policy.source {
        PolicySource::Builtin(name) => format!("builtin:{name}"),
        PolicySource::Path(path) => {
            let key = format!("policies[{index}].source");
            let text = path.to_string_lossy().replace('\\', "/");
            if !names::is_valid_path(&text) || !text.ends_with(".wasm") {
                let mut error = file.key_error(
                    &key,
                    &format!("`{text}` is not a `.wasm` path inside the bundle's directory"),
                );
                error.help = Some(
                    "give a relative path such as `policies/team-rule.wasm` (no `..`, no absolute path), or `builtin:NAME`"
                        .into(),
                );
                return Err(error.into());
            }
            if !files.iter().any(|(p, _, _)| *p == text) {
                let bytes = read_regular(&dir.join(path), caps::FILE)?;
                if !bytes.starts_with(b"\0asm") {
                    return Err(file
                        .key_error(&key, &format!("`{text}` is not a WebAssembly component"))
                        .into());
                }
                files.push((text.clone(), media::COMPONENT, bytes));
            }
            text
        }
    };
    let config = format!("config/{}.json", policy.name);
    let mut bytes = serde_json::to_vec_pretty(&policy.config).map_err(|e| Error::SourceFile {
        path: dir.join(BUNDLE_TOML),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    files.push((config.clone(), media::POLICY_CONFIG, bytes));
    Ok(BundlePolicy {
        name: policy.name.clone(),
        source,
        stages: policy.stages.clone(),
        mode: policy.mode,
        on_error: policy.on_error,
        config,
        required: false,
        stricter: BTreeMap::new(),
    })
}

/// Every file under `cases/`, sorted; symbolic links and other kinds of
/// files are refused.
fn case_files(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(String, &'static str, Vec<u8>)>,
) -> Result<()> {
    let read_dir = |dir: &Path| -> Result<Vec<PathBuf>> {
        let mut entries = std::fs::read_dir(dir)
            .and_then(|entries| {
                entries
                    .map(|e| e.map(|e| e.path()))
                    .collect::<std::io::Result<Vec<_>>>()
            })
            .map_err(|error| Error::Read {
                path: dir.to_owned(),
                error: error.into(),
            })?;
        entries.sort();
        Ok(entries)
    };
    for path in read_dir(dir)? {
        let meta = std::fs::symlink_metadata(&path).map_err(|error| Error::Read {
            path: path.clone(),
            error: error.into(),
        })?;
        let refuse = |message: &str| Error::SourceFile {
            path: path.clone(),
            message: message.to_owned(),
        };
        if meta.file_type().is_symlink() {
            return Err(refuse(
                "a symbolic link; a bundle holds only regular files (copy the file in)",
            ));
        }
        if meta.is_dir() {
            case_files(root, &path, files)?;
            continue;
        }
        if !meta.is_file() {
            return Err(refuse("not a regular file"));
        }
        let relative = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if !names::is_valid_path(&relative) {
            return Err(refuse(
                "its name cannot go into a bundle: use ASCII letters, digits, `.`, `_` and `-`, not starting with `.`",
            ));
        }
        let media_type = if relative.ends_with(".toml") {
            media::CASE
        } else if relative.ends_with(".json") {
            media::SNAPSHOT
        } else {
            return Err(refuse(
                "`cases/` holds case files (`.toml`) and snapshots (`.json`) only",
            ));
        };
        files.push((relative, media_type, read_regular(&path, caps::FILE)?));
    }
    Ok(())
}

/// A regular file (not a symbolic link), at most `cap`.
fn read_regular(path: &Path, cap: shipgate_core::bounded::Cap) -> Result<Vec<u8>> {
    let meta = std::fs::symlink_metadata(path).map_err(|error| Error::Read {
        path: path.to_owned(),
        error: error.into(),
    })?;
    if !meta.is_file() {
        return Err(Error::SourceFile {
            path: path.to_owned(),
            message: "not a regular file (a bundle holds only regular files)".into(),
        });
    }
    shipgate_core::bounded::read_file(path, cap).map_err(|error| Error::Read {
        path: path.to_owned(),
        error,
    })
}
