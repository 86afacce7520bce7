//! A bundle in memory: its image manifest, config blob and blobs, checked
//! for integrity when it is made ([`Bundle::from_parts`]); signing it adds
//! a signature layer ([`Bundle::sign`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config_blob::{BundleConfig, FORMAT, FileEntry};
use crate::dsse::{self, Envelope};
use crate::error::{Error, Result};
use crate::keys::PrivateKey;
use crate::oci::{self, Descriptor, ImageManifest};
use crate::statement::{self, Statement, StatementFile};
use crate::{caps, digest, media, names};

/// A bundle whose bytes are consistent: every layer's blob hashes to its
/// digest, the config lists exactly the files the manifest has, and every
/// policy's files are there. Not yet verified against trust: see
/// [`Bundle::verify`].
#[derive(Debug, Clone)]
pub struct Bundle {
    manifest_bytes: Vec<u8>,
    manifest: ImageManifest,
    config_bytes: Vec<u8>,
    config: BundleConfig,
    /// File layers' and signatures' blobs, by digest.
    blobs: BTreeMap<String, Vec<u8>>,
    signatures: Vec<SignatureLayer>,
}

/// A signature layer, parsed.
#[derive(Debug, Clone)]
pub(crate) struct SignatureLayer {
    pub(crate) envelope: Envelope,
}

/// What [`Bundle::sign`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOutcome {
    /// A signature layer was added.
    Added,
    /// The key had signed this bundle already; nothing changed (signing is
    /// idempotent).
    AlreadySigned,
}

/// A file of a bundle.
#[derive(Debug, Clone, Copy)]
pub struct File<'a> {
    /// Its path (title).
    pub path: &'a str,
    /// Its digest.
    pub digest: &'a str,
    /// Its media type.
    pub media_type: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
}

/// The name the manifest gives, for messages before the config is read.
fn label(manifest: &ImageManifest) -> String {
    manifest
        .annotations
        .get(media::BUNDLE_NAME)
        .filter(|n| names::is_valid_name(n))
        .cloned()
        .unwrap_or_else(|| "(unnamed)".to_owned())
}

fn format(message: impl Into<String>) -> Error {
    Error::Format(message.into())
}

fn capped(what: &[u8], cap: shipgate_core::bounded::Cap) -> Result<()> {
    if what.len() as u64 > cap.bytes {
        return Err(format(format!(
            "larger than {}, the limit for {}",
            shipgate_core::bounded::size(cap.bytes),
            cap.what
        )));
    }
    Ok(())
}

impl Bundle {
    /// Assembles a bundle from its config (whose `files` are filled in
    /// here) and its files, `(path, media type, bytes)`. Files are sorted by
    /// path: the same input is the same manifest, byte for byte.
    pub(crate) fn assemble(
        mut config: BundleConfig,
        mut files: Vec<(String, &'static str, Vec<u8>)>,
    ) -> Result<Bundle> {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        config.files = files
            .iter()
            .map(|(path, media_type, bytes)| FileEntry {
                path: path.clone(),
                digest: digest::of(bytes),
                size: bytes.len() as u64,
                media_type: (*media_type).to_owned(),
            })
            .collect();
        let config_bytes = oci::to_bytes(&config);
        let layers = files
            .iter()
            .map(|(path, media_type, bytes)| Descriptor::of(media_type, bytes).titled(path))
            .collect();
        let manifest = manifest_for(&config, &config_bytes, layers);
        let blobs = files
            .into_iter()
            .map(|(_, _, bytes)| (digest::of(&bytes), bytes))
            .collect();
        Bundle::from_parts(oci::to_bytes(&manifest), config_bytes, blobs)
    }

    /// A bundle from what a transport (a registry client, an image layout)
    /// fetched: the image manifest's bytes, the config blob's bytes, and
    /// blobs by digest (`sha256:…`; blobs the manifest does not name are
    /// ignored). Layers are matched by digest and title, never by position.
    ///
    /// Checks: sizes against [`crate::caps`], the manifest's artifact and
    /// media types, the config blob's digest, every layer's bytes against
    /// its digest ([`Error::Tampered`]), every layer present
    /// ([`Error::MissingBlob`]), the config listing exactly the manifest's
    /// files ([`Error::ExtraFile`], [`Error::MissingFile`]) and every
    /// policy's component and configuration. The manifest's own digest is
    /// [`Bundle::digest`]: a caller that pinned one compares them.
    pub fn from_parts(
        manifest_bytes: Vec<u8>,
        config_bytes: Vec<u8>,
        mut blobs: BTreeMap<String, Vec<u8>>,
    ) -> Result<Bundle> {
        capped(&manifest_bytes, caps::MANIFEST)?;
        capped(&config_bytes, caps::CONFIG_BLOB)?;
        let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| format(format!("its image manifest is not valid: {e}")))?;
        if manifest.schema_version != 2 {
            return Err(format(format!(
                "its image manifest has schemaVersion {}, not 2",
                manifest.schema_version
            )));
        }
        if manifest.artifact_type.as_deref() != Some(media::ARTIFACT_TYPE) {
            return Err(format(format!(
                "its artifactType is {:?}, not `{}`: this is not a Shipgate bundle",
                manifest.artifact_type,
                media::ARTIFACT_TYPE
            )));
        }
        if manifest.config.media_type != media::CONFIG {
            return Err(format(format!(
                "its config blob is `{}`, not `{}`",
                manifest.config.media_type,
                media::CONFIG
            )));
        }
        let label = label(&manifest);
        let actual = digest::of(&config_bytes);
        if actual != manifest.config.digest {
            return Err(Error::Tampered {
                bundle: label,
                path: "(config blob)".into(),
                expected: manifest.config.digest.clone(),
                actual,
                listed_by: "the manifest",
            });
        }
        let config: BundleConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| format(format!("its config blob is not valid: {e}")))?;
        if config.format != FORMAT {
            return Err(format(format!(
                "its config has format {}; this Shipgate reads format {FORMAT}",
                config.format
            )));
        }
        if !names::is_valid_name(&config.name) {
            return Err(format(format!(
                "its name `{}` is not a bundle name",
                config.name
            )));
        }
        let name = config.name.clone();
        if manifest.layers.len() > caps::MAX_FILES + caps::MAX_SIGNATURES {
            return Err(format(format!(
                "bundle `{name}` has {} layers, more than {}",
                manifest.layers.len(),
                caps::MAX_FILES + caps::MAX_SIGNATURES
            )));
        }

        let mut kept = BTreeMap::new();
        let mut titles = BTreeSet::new();
        let mut signatures = Vec::new();
        let mut total = config_bytes.len() as u64 + manifest_bytes.len() as u64;
        for layer in &manifest.layers {
            let title = layer
                .title()
                .ok_or_else(|| {
                    format(format!(
                        "bundle `{name}`: layer {} has no `{}` annotation",
                        layer.digest,
                        media::TITLE
                    ))
                })?
                .to_owned();
            if !names::is_valid_path(&title) {
                return Err(format(format!(
                    "bundle `{name}`: layer title `{title}` is not a relative path inside the bundle"
                )));
            }
            if !titles.insert(title.clone()) {
                return Err(format(format!(
                    "bundle `{name}`: two layers are titled `{title}`"
                )));
            }
            let cap = if layer.media_type == media::SIGNATURE {
                caps::SIGNATURE
            } else {
                caps::FILE
            };
            if layer.size > cap.bytes {
                return Err(format(format!(
                    "bundle `{name}`: file `{title}` is larger than {}, the limit for {}",
                    shipgate_core::bounded::size(cap.bytes),
                    cap.what
                )));
            }
            let bytes = match blobs.remove(&layer.digest) {
                Some(bytes) => bytes,
                None => match kept.get(&layer.digest) {
                    Some(bytes) => Vec::clone(bytes),
                    None => {
                        return Err(Error::MissingBlob {
                            bundle: name,
                            path: title,
                            digest: layer.digest.clone(),
                        });
                    }
                },
            };
            let actual = digest::of(&bytes);
            if actual != layer.digest || bytes.len() as u64 != layer.size {
                return Err(Error::Tampered {
                    bundle: name,
                    path: title,
                    expected: layer.digest.clone(),
                    actual,
                    listed_by: "the manifest",
                });
            }
            total += layer.size;
            if total > caps::BUNDLE.bytes {
                return Err(format(format!(
                    "bundle `{name}` is larger than {}, the limit for a bundle",
                    shipgate_core::bounded::size(caps::BUNDLE.bytes)
                )));
            }
            if layer.media_type == media::SIGNATURE {
                let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|e| {
                    format(format!(
                        "bundle `{name}`: signature `{title}` is not a DSSE envelope: {e}"
                    ))
                })?;
                signatures.push(SignatureLayer { envelope });
            }
            kept.insert(layer.digest.clone(), bytes);
        }
        if signatures.len() > caps::MAX_SIGNATURES {
            return Err(format(format!(
                "bundle `{name}` has {} signatures, more than {}",
                signatures.len(),
                caps::MAX_SIGNATURES
            )));
        }

        // The config lists exactly the manifest's files, with their digests.
        let listed: BTreeMap<&str, &FileEntry> =
            config.files.iter().map(|f| (f.path.as_str(), f)).collect();
        if listed.len() != config.files.len() {
            return Err(format(format!(
                "bundle `{name}`: its config lists a file twice"
            )));
        }
        let file_layers: Vec<&Descriptor> = manifest
            .layers
            .iter()
            .filter(|l| l.media_type != media::SIGNATURE)
            .collect();
        for layer in &file_layers {
            let title = layer.title().unwrap_or_default();
            match listed.get(title) {
                None => {
                    return Err(Error::ExtraFile {
                        bundle: name,
                        path: title.to_owned(),
                        digest: layer.digest.clone(),
                        listed_by: "the config",
                    });
                }
                Some(entry) if entry.digest != layer.digest => {
                    return Err(Error::Tampered {
                        bundle: name,
                        path: title.to_owned(),
                        expected: entry.digest.clone(),
                        actual: layer.digest.clone(),
                        listed_by: "the config",
                    });
                }
                Some(entry) if entry.media_type != layer.media_type => {
                    return Err(format(format!(
                        "bundle `{name}`: file `{title}` is `{}` in the manifest, `{}` in the config",
                        layer.media_type, entry.media_type
                    )));
                }
                Some(_) => {}
            }
        }
        for entry in &config.files {
            if !file_layers
                .iter()
                .any(|l| l.title() == Some(entry.path.as_str()))
            {
                return Err(Error::MissingFile {
                    bundle: name,
                    path: entry.path.clone(),
                    digest: entry.digest.clone(),
                    listed_by: "the config",
                });
            }
        }
        // Every policy's files are there, of the right kind.
        let kind = |path: &str| listed.get(path).map(|f| f.media_type.as_str());
        let mut policy_names = BTreeSet::new();
        for policy in &config.policies {
            if !policy_names.insert(policy.name.as_str()) {
                return Err(format(format!(
                    "bundle `{name}` defines policy `{}` twice",
                    policy.name
                )));
            }
            if kind(&policy.config) != Some(media::POLICY_CONFIG) {
                return Err(format(format!(
                    "bundle `{name}`: policy `{}`'s configuration `{}` is not a file of the bundle",
                    policy.name, policy.config
                )));
            }
            if let Some(component) = policy.component()
                && kind(component) != Some(media::COMPONENT)
            {
                return Err(format(format!(
                    "bundle `{name}`: policy `{}`'s component `{component}` is not a file of the bundle",
                    policy.name
                )));
            }
        }
        Ok(Bundle {
            manifest_bytes,
            manifest,
            config_bytes,
            config,
            blobs: kept,
            signatures,
        })
    }

    /// The image manifest's digest: what a registry reference pins
    /// (`…@sha256:…`). Signing changes it (a signature is a layer).
    pub fn digest(&self) -> String {
        digest::of(&self.manifest_bytes)
    }

    /// The config blob's digest: what every signature covers, unchanged by
    /// signing.
    pub fn config_digest(&self) -> &str {
        &self.manifest.config.digest
    }

    /// The image manifest's bytes (`application/vnd.oci.image.manifest.v1+json`).
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// The image manifest.
    pub fn manifest(&self) -> &ImageManifest {
        &self.manifest
    }

    /// The config blob's bytes.
    pub fn config_bytes(&self) -> &[u8] {
        &self.config_bytes
    }

    /// The config: name, version, policies, files.
    pub fn config(&self) -> &BundleConfig {
        &self.config
    }

    /// The bundle's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Every blob a transport pushes: the config, then each layer (files
    /// and signatures), as `(descriptor, bytes)`.
    pub fn blobs(&self) -> impl Iterator<Item = (&Descriptor, &[u8])> {
        std::iter::once((&self.manifest.config, self.config_bytes.as_slice())).chain(
            self.manifest.layers.iter().filter_map(|layer| {
                self.blobs
                    .get(&layer.digest)
                    .map(|bytes| (layer, bytes.as_slice()))
            }),
        )
    }

    /// The bundle's files (not its signatures), sorted by path.
    pub fn files(&self) -> impl Iterator<Item = File<'_>> {
        self.config.files.iter().filter_map(|entry| {
            self.blobs.get(&entry.digest).map(|bytes| File {
                path: &entry.path,
                digest: &entry.digest,
                media_type: &entry.media_type,
                bytes,
            })
        })
    }

    /// One file's bytes, by path.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files().find(|f| f.path == path).map(|f| f.bytes)
    }

    /// The key ids of its signatures, in layer order.
    pub fn signers(&self) -> Vec<String> {
        self.signatures
            .iter()
            .flat_map(|s| s.envelope.signatures.iter().map(|s| s.keyid.clone()))
            .collect()
    }

    pub(crate) fn signature_layers(&self) -> &[SignatureLayer] {
        &self.signatures
    }

    /// The statement a signature of this bundle covers.
    pub fn statement(&self) -> Statement {
        let mut files: Vec<StatementFile> = self
            .config
            .files
            .iter()
            .map(|f| StatementFile {
                path: f.path.clone(),
                digest: f.digest.clone(),
            })
            .collect();
        files.sort();
        Statement {
            kind: statement::TYPE.to_owned(),
            name: self.config.name.clone(),
            version: self.config.version.clone(),
            sequence: self.config.sequence,
            expires: self.config.expires.clone(),
            config: self.manifest.config.digest.clone(),
            files,
        }
    }

    /// Signs the bundle with `key`: a DSSE envelope over its statement,
    /// added as a layer titled `signatures/<keyid hex>.dsse.json`. A key that
    /// signed already is [`SignOutcome::AlreadySigned`], and nothing
    /// changes.
    pub fn sign(&mut self, key: &PrivateKey) -> Result<SignOutcome> {
        if self.signers().iter().any(|id| id == key.id()) {
            return Ok(SignOutcome::AlreadySigned);
        }
        if self.signatures.len() >= caps::MAX_SIGNATURES {
            return Err(format(format!(
                "bundle `{}` has {} signatures already, the most a bundle holds",
                self.name(),
                caps::MAX_SIGNATURES
            )));
        }
        let payload = oci::to_bytes(&self.statement());
        let mut envelope = Envelope::new(media::STATEMENT, &payload);
        let signature = key.sign(&dsse::pae(media::STATEMENT, &payload));
        envelope.signatures.push(dsse::Signature {
            keyid: key.id().to_owned(),
            sig: dsse::b64(&signature),
        });
        let bytes = oci::to_bytes(&envelope);
        let hex = key.id().trim_start_matches("sha256:");
        let layer =
            Descriptor::of(media::SIGNATURE, &bytes).titled(&format!("signatures/{hex}.dsse.json"));
        let mut manifest = self.manifest.clone();
        manifest.layers.push(layer);
        let mut blobs = self.blobs.clone();
        blobs.insert(digest::of(&bytes), bytes);
        *self = Bundle::from_parts(oci::to_bytes(&manifest), self.config_bytes.clone(), blobs)?;
        Ok(SignOutcome::Added)
    }

    /// Writes the bundle's files under `dir` (each at its path) and a
    /// `shipgate.toml` that runs its policies (components by path, pinned by
    /// their sha256), for `shipgate bundle test` and for loading the
    /// policies into the engine. Returns the `shipgate.toml` path.
    pub fn materialize(&self, dir: &Path) -> Result<PathBuf> {
        for file in self.files() {
            // Paths were checked (`names::is_valid_path`): none leaves `dir`.
            let path = dir.join(file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|error| Error::Write {
                    path: parent.to_owned(),
                    error,
                })?;
            }
            std::fs::write(&path, file.bytes).map_err(|error| Error::Write {
                path: path.clone(),
                error,
            })?;
        }
        let config = dir.join("shipgate.toml");
        std::fs::write(&config, self.shipgate_toml()?).map_err(|error| Error::Write {
            path: config.clone(),
            error,
        })?;
        Ok(config)
    }

    /// The `[[policies]]` of a `shipgate.toml` that runs the bundle's
    /// policies from a directory [`Bundle::materialize`] wrote.
    pub fn shipgate_toml(&self) -> Result<String> {
        let mut policies = Vec::new();
        for policy in &self.config.policies {
            let mut table = toml::Table::new();
            table.insert("name".into(), policy.name.clone().into());
            table.insert("source".into(), policy.source.clone().into());
            if let Some(stages) = &policy.stages {
                table.insert(
                    "stages".into(),
                    toml::Value::Array(stages.iter().map(|s| s.to_string().into()).collect()),
                );
            }
            table.insert("mode".into(), policy.mode.to_string().into());
            table.insert("on_error".into(), policy.on_error.to_string().into());
            if let Some(component) = policy.component()
                && let Some(entry) = self.config.files.iter().find(|f| f.path == component)
            {
                table.insert(
                    "sha256".into(),
                    entry.digest.trim_start_matches("sha256:").into(),
                );
            }
            let json: serde_json::Value = self
                .file(&policy.config)
                .and_then(|bytes| serde_json::from_slice(bytes).ok())
                .ok_or_else(|| {
                    format(format!(
                        "bundle `{}`: policy `{}`'s configuration is not JSON",
                        self.name(),
                        policy.name
                    ))
                })?;
            let value = toml::Value::try_from(&json).map_err(|e| {
                format(format!(
                    "bundle `{}`: policy `{}`'s configuration: {e}",
                    self.name(),
                    policy.name
                ))
            })?;
            table.insert("config".into(), value);
            policies.push(toml::Value::Table(table));
        }
        let mut doc = toml::Table::new();
        doc.insert("policies".into(), toml::Value::Array(policies));
        let body = toml::to_string(&doc)
            .map_err(|e| format(format!("cannot write its shipgate.toml: {e}")))?;
        Ok(format!(
            "# The policies of bundle `{}` {} ({}), written by Shipgate.\n\n{body}",
            self.config.name,
            self.config.version,
            self.digest()
        ))
    }
}

/// The image manifest of a bundle with `layers`.
fn manifest_for(
    config: &BundleConfig,
    config_bytes: &[u8],
    layers: Vec<Descriptor>,
) -> ImageManifest {
    let mut annotations = BTreeMap::new();
    annotations.insert(media::BUNDLE_NAME.to_owned(), config.name.clone());
    annotations.insert(media::VERSION.to_owned(), config.version.clone());
    ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_owned()),
        artifact_type: Some(media::ARTIFACT_TYPE.to_owned()),
        config: Descriptor::of(media::CONFIG, config_bytes),
        layers,
        annotations,
    }
}
