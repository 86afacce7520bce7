//! The shape of an artifact, as pushed and as pulled: an OCI image manifest
//! with its own `artifactType`, a config blob, and one layer per file, each
//! with an `org.opencontainers.image.title`.
//!
//! A pulled artifact keeps its blobs **by digest** ([`Pulled::blob`]): the
//! manifest's descriptors say which bytes are which, never the order in
//! which blobs arrived.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::RegistryError;
use crate::limits::Limits;

/// The media type of an OCI image manifest, the only manifest kind accepted.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// The annotation naming a layer's file.
pub const TITLE: &str = "org.opencontainers.image.title";

/// A blob with its media type (an artifact's config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// `application/vnd.shipgate.bundle.config.v1+json`, say.
    pub media_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// One file of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The file's media type.
    pub media_type: String,
    /// Its name, written as the `org.opencontainers.image.title`
    /// annotation: a relative path (`policies/env.wasm`), no `..`, no
    /// leading `/`, no `\`, unique within the artifact.
    pub title: String,
    /// More annotations of the layer (the title is added).
    pub annotations: BTreeMap<String, String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// An artifact to push or write: its type, config, files and annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The manifest's `artifactType` (`application/vnd.shipgate.bundle.v1`).
    pub artifact_type: String,
    /// The config blob.
    pub config: Blob,
    /// The files, in the order the manifest lists them.
    pub layers: Vec<Layer>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// A content descriptor: what a manifest says about one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The blob's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its length in bytes.
    pub size: u64,
    /// Its annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Other places to fetch it from: refused when pulling (a registry must
    /// not send the client elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
}

impl Descriptor {
    /// The `org.opencontainers.image.title` annotation.
    pub fn title(&self) -> Option<&str> {
        self.annotations.get(TITLE).map(String::as_str)
    }
}

/// An OCI image manifest, as far as artifacts use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The files.
    pub layers: Vec<Descriptor>,
    /// The manifest's annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses and checks manifest bytes from `reference` (for messages):
    /// refused past `limits.manifest` before parsing; then schema version
    /// 2, the OCI manifest media type, sha256 digests only, no foreign
    /// `urls`, every layer titled with a safe relative path, titles unique,
    /// every blob within `limits.blob` and all within `limits.total`.
    pub fn parse(
        bytes: &[u8],
        reference: &str,
        limits: &Limits,
    ) -> Result<Manifest, RegistryError> {
        let too_large = bytes.len() as u64 > limits.manifest;
        if too_large {
            return Err(RegistryError::TooLarge {
                reference: reference.to_owned(),
                what: "the manifest".into(),
                found: Some(bytes.len() as u64),
                limit: limits.manifest,
            });
        }
        let invalid = |reason: String| RegistryError::InvalidManifest {
            reference: reference.to_owned(),
            reason: shipgate_core::redact::scrub(&reason).into_owned(),
        };
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if manifest.schema_version != 2 {
            return Err(invalid(format!(
                "schemaVersion is {}, not 2",
                manifest.schema_version
            )));
        }
        if let Some(media_type) = &manifest.media_type
            && media_type != MANIFEST_MEDIA_TYPE
        {
            return Err(invalid(format!(
                "mediaType is `{media_type}`, not `{MANIFEST_MEDIA_TYPE}`"
            )));
        }
        let mut titles = BTreeSet::new();
        for (i, layer) in manifest.layers.iter().enumerate() {
            let title = layer
                .title()
                .ok_or_else(|| invalid(format!("layers[{i}] has no `{TITLE}` annotation")))?;
            check_title(title).map_err(|why| invalid(format!("layers[{i}]: {why}")))?;
            if !titles.insert(title) {
                return Err(invalid(format!(
                    "layers[{i}]: the title `{title}` appears twice"
                )));
            }
        }
        let mut total: u64 = 0;
        for (what, d) in std::iter::once(("config".to_owned(), &manifest.config)).chain(
            manifest
                .layers
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("layers[{i}]"), d)),
        ) {
            if d.urls.as_ref().is_some_and(|u| !u.is_empty()) {
                return Err(invalid(format!(
                    "{what} names other URLs to fetch it from (`urls`), which are not followed"
                )));
            }
            if d.size > limits.blob {
                return Err(RegistryError::TooLarge {
                    reference: reference.to_owned(),
                    what: format!("{what} ({})", d.digest),
                    found: Some(d.size),
                    limit: limits.blob,
                });
            }
            total = total.saturating_add(d.size);
        }
        if total > limits.total {
            return Err(RegistryError::TooLarge {
                reference: reference.to_owned(),
                what: "the artifact's blobs together".into(),
                found: Some(total),
                limit: limits.total,
            });
        }
        Ok(manifest)
    }

    /// Refuses a manifest whose `artifactType` is not `expected`.
    pub fn expect_type(&self, expected: &str, reference: &str) -> Result<(), RegistryError> {
        if self.artifact_type.as_deref() == Some(expected) {
            Ok(())
        } else {
            Err(RegistryError::WrongArtifactType {
                reference: reference.to_owned(),
                expected: expected.to_owned(),
                found: self.artifact_type.clone(),
            })
        }
    }

    /// The distinct blobs the manifest names (config first), each once.
    pub fn blobs(&self) -> Vec<&Descriptor> {
        let mut seen = BTreeSet::new();
        std::iter::once(&self.config)
            .chain(&self.layers)
            .filter(|d| seen.insert(&d.digest))
            .collect()
    }
}

/// A layer title is a relative path without `..`, `.`, empty components,
/// `\`, NUL, or a leading `/`.
pub(crate) fn check_title(title: &str) -> Result<(), String> {
    if title.is_empty() {
        return Err("an empty title".into());
    }
    if title.len() > 1024 {
        return Err("a title longer than 1024 bytes".into());
    }
    if title.starts_with('/') || title.contains('\\') || title.contains('\0') {
        return Err(format!(
            "the title `{}` is not a relative path",
            title.escape_debug()
        ));
    }
    if title
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!(
            "the title `{}` has an empty, `.` or `..` component",
            title.escape_debug()
        ));
    }
    Ok(())
}

/// A media type's shape: `type/subtype`, no spaces.
fn check_media_type(what: &str, media_type: &str) -> Result<(), RegistryError> {
    let ok = media_type.split_once('/').is_some_and(|(t, s)| {
        !t.is_empty()
            && !s.is_empty()
            && media_type.len() <= 255
            && media_type
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"\"\\,;".contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(RegistryError::InvalidArtifact(format!(
            "{what}: `{media_type}` is not a media type (`type/subtype`)"
        )))
    }
}

/// An artifact turned into the bytes that go to a registry or a layout.
#[derive(Debug, Clone)]
pub struct Encoded<'a> {
    /// The manifest's JSON.
    pub manifest: Vec<u8>,
    /// Its digest.
    pub digest: Digest,
    /// The blobs (config first), each distinct digest once.
    pub blobs: Vec<(Digest, &'a [u8])>,
}

impl Artifact {
    /// Checks the artifact against `limits` and encodes its manifest.
    pub fn encode(&self, limits: &Limits) -> Result<Encoded<'_>, RegistryError> {
        check_media_type("artifactType", &self.artifact_type)?;
        check_media_type("the config", &self.config.media_type)?;
        let mut titles = BTreeSet::new();
        let mut total = self.config.bytes.len() as u64;
        let blob_cap = |what: String, n: usize| {
            if n as u64 > limits.blob {
                Err(RegistryError::TooLarge {
                    reference: "the artifact".into(),
                    what,
                    found: Some(n as u64),
                    limit: limits.blob,
                })
            } else {
                Ok(())
            }
        };
        blob_cap("the config".into(), self.config.bytes.len())?;
        for layer in &self.layers {
            check_title(&layer.title)
                .map_err(|why| RegistryError::InvalidArtifact(format!("a layer: {why}")))?;
            if !titles.insert(layer.title.as_str()) {
                return Err(RegistryError::InvalidArtifact(format!(
                    "two layers are titled `{}`",
                    layer.title
                )));
            }
            check_media_type(&format!("layer `{}`", layer.title), &layer.media_type)?;
            blob_cap(format!("layer `{}`", layer.title), layer.bytes.len())?;
            total += layer.bytes.len() as u64;
        }
        if total > limits.total {
            return Err(RegistryError::TooLarge {
                reference: "the artifact".into(),
                what: "its blobs together".into(),
                found: Some(total),
                limit: limits.total,
            });
        }
        let describe =
            |media_type: &str, bytes: &[u8], annotations: BTreeMap<String, String>| Descriptor {
                media_type: media_type.to_owned(),
                digest: Digest::of(bytes),
                size: bytes.len() as u64,
                annotations,
                urls: None,
            };
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            artifact_type: Some(self.artifact_type.clone()),
            config: describe(&self.config.media_type, &self.config.bytes, BTreeMap::new()),
            layers: self
                .layers
                .iter()
                .map(|l| {
                    let mut annotations = l.annotations.clone();
                    annotations.insert(TITLE.into(), l.title.clone());
                    describe(&l.media_type, &l.bytes, annotations)
                })
                .collect(),
            annotations: self.annotations.clone(),
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| {
            RegistryError::InvalidArtifact(format!("cannot encode the manifest: {e}"))
        })?;
        if bytes.len() as u64 > limits.manifest {
            return Err(RegistryError::TooLarge {
                reference: "the artifact".into(),
                what: "its manifest".into(),
                found: Some(bytes.len() as u64),
                limit: limits.manifest,
            });
        }
        let mut seen = BTreeSet::new();
        let blobs = std::iter::once(self.config.bytes.as_slice())
            .chain(self.layers.iter().map(|l| l.bytes.as_slice()))
            .map(|b| (Digest::of(b), b))
            .filter(|(d, _)| seen.insert(d.clone()))
            .collect();
        Ok(Encoded {
            digest: Digest::of(&bytes),
            manifest: bytes,
            blobs,
        })
    }
}

/// A pulled (or read) artifact: the manifest as bytes and parsed, and every
/// blob it names **keyed by digest**, each checked against its digest and
/// size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The manifest's digest (what a lock pins).
    pub digest: Digest,
    /// The manifest exactly as the registry sent it.
    pub manifest_bytes: Vec<u8>,
    /// The manifest, parsed and checked.
    pub manifest: Manifest,
    /// Every blob the manifest names (the config's too), by digest.
    pub blobs: BTreeMap<Digest, Vec<u8>>,
}

impl Pulled {
    /// An artifact from its manifest's bytes and its blobs by digest (as a
    /// bundle or an image layout holds them): the manifest parsed under
    /// `limits`, and everything checked as a pull checks it ([`Pulled::verify`]).
    /// `name` names the source in errors.
    pub fn from_parts(
        manifest_bytes: Vec<u8>,
        blobs: BTreeMap<Digest, Vec<u8>>,
        name: &str,
        limits: &Limits,
    ) -> Result<Pulled, RegistryError> {
        if manifest_bytes.len() as u64 > limits.manifest {
            return Err(RegistryError::TooLarge {
                reference: name.to_owned(),
                what: "its manifest".into(),
                found: Some(manifest_bytes.len() as u64),
                limit: limits.manifest,
            });
        }
        let manifest = Manifest::parse(&manifest_bytes, name, limits)?;
        let pulled = Pulled {
            digest: Digest::of(&manifest_bytes),
            manifest_bytes,
            manifest,
            blobs,
        };
        pulled.verify(name)?;
        Ok(pulled)
    }

    /// The bytes of the blob `digest`.
    pub fn blob(&self, digest: &Digest) -> Option<&[u8]> {
        self.blobs.get(digest).map(Vec::as_slice)
    }

    /// The config blob's bytes.
    pub fn config(&self) -> &[u8] {
        self.blob(&self.manifest.config.digest).unwrap_or_default()
    }

    /// The layer titled `title`: its descriptor and bytes.
    pub fn layer(&self, title: &str) -> Option<(&Descriptor, &[u8])> {
        let d = self
            .manifest
            .layers
            .iter()
            .find(|d| d.title() == Some(title))?;
        Some((d, self.blob(&d.digest)?))
    }

    /// Checks that `blobs` holds exactly the manifest's blobs, each matching
    /// its descriptor's digest and size. `reference` names the source.
    pub fn verify(&self, reference: &str) -> Result<(), RegistryError> {
        let actual = Digest::of(&self.manifest_bytes);
        if actual != self.digest {
            return Err(RegistryError::mismatch(
                reference,
                "the manifest",
                &self.digest,
                &actual,
            ));
        }
        for d in self.manifest.blobs() {
            let bytes = self
                .blob(&d.digest)
                .ok_or_else(|| RegistryError::NotFound {
                    reference: reference.to_owned(),
                    detail: format!("blob {} is missing", d.digest),
                })?;
            check_blob(reference, d, bytes)?;
        }
        let named: BTreeSet<&Digest> = self.manifest.blobs().iter().map(|d| &d.digest).collect();
        if let Some(extra) = self.blobs.keys().find(|d| !named.contains(d)) {
            return Err(RegistryError::InvalidArtifact(format!(
                "{reference}: blob {extra} is not in the manifest"
            )));
        }
        Ok(())
    }

    /// The artifact again (for pushing it elsewhere or writing a layout):
    /// its layers in the manifest's order, each found by digest. Fails on a
    /// manifest without an `artifactType`.
    pub fn artifact(&self) -> Result<Artifact, RegistryError> {
        let reference = self.digest.to_string();
        let missing = |d: &Digest| RegistryError::NotFound {
            reference: reference.clone(),
            detail: format!("blob {d} is missing"),
        };
        let artifact_type = self.manifest.artifact_type.clone().ok_or_else(|| {
            RegistryError::InvalidArtifact(format!("{reference}: no artifactType"))
        })?;
        let config = Blob {
            media_type: self.manifest.config.media_type.clone(),
            bytes: self
                .blob(&self.manifest.config.digest)
                .ok_or_else(|| missing(&self.manifest.config.digest))?
                .to_vec(),
        };
        let layers = self
            .manifest
            .layers
            .iter()
            .map(|d| {
                let mut annotations = d.annotations.clone();
                let title = annotations.remove(TITLE).unwrap_or_default();
                Ok(Layer {
                    media_type: d.media_type.clone(),
                    title,
                    annotations,
                    bytes: self
                        .blob(&d.digest)
                        .ok_or_else(|| missing(&d.digest))?
                        .to_vec(),
                })
            })
            .collect::<Result<Vec<_>, RegistryError>>()?;
        Ok(Artifact {
            artifact_type,
            config,
            layers,
            annotations: self.manifest.annotations.clone(),
        })
    }
}

/// Checks `bytes` against the descriptor `d`: its size, then its digest.
pub(crate) fn check_blob(
    reference: &str,
    d: &Descriptor,
    bytes: &[u8],
) -> Result<(), RegistryError> {
    if bytes.len() as u64 != d.size {
        return Err(RegistryError::SizeMismatch {
            reference: reference.to_owned(),
            what: format!("blob {}", d.digest),
            expected: d.size,
            actual: format!("got {} bytes", bytes.len()),
        });
    }
    let actual = Digest::of(bytes);
    if actual != d.digest {
        return Err(RegistryError::mismatch(
            reference,
            format!("blob {}", d.digest),
            &d.digest,
            &actual,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Artifact {
        Artifact {
            artifact_type: "application/vnd.shipgate.test.v1".into(),
            config: Blob {
                media_type: "application/vnd.shipgate.test.config.v1+json".into(),
                bytes: br#"{"name":"t"}"#.to_vec(),
            },
            layers: vec![
                Layer {
                    media_type: "application/wasm".into(),
                    title: "policies/a.wasm".into(),
                    annotations: BTreeMap::new(),
                    bytes: b"aaaa".to_vec(),
                },
                Layer {
                    media_type: "application/toml".into(),
                    title: "b.toml".into(),
                    annotations: BTreeMap::from([("x".into(), "y".into())]),
                    bytes: b"bbbb".to_vec(),
                },
            ],
            annotations: BTreeMap::from([(
                "org.opencontainers.image.version".into(),
                "1.0".into(),
            )]),
        }
    }

    #[test]
    fn an_encoded_artifact_parses_back_with_titles_and_types() {
        let a = sample();
        let e = a.encode(&Limits::default()).unwrap();
        assert_eq!(e.digest, Digest::of(&e.manifest));
        assert_eq!(e.blobs.len(), 3);
        let m = Manifest::parse(&e.manifest, "t", &Limits::default()).unwrap();
        m.expect_type("application/vnd.shipgate.test.v1", "t")
            .unwrap();
        assert_eq!(m.layers[0].title(), Some("policies/a.wasm"));
        assert_eq!(m.layers[1].annotations["x"], "y");
        let pulled = Pulled {
            digest: e.digest.clone(),
            manifest_bytes: e.manifest.clone(),
            manifest: m,
            blobs: e
                .blobs
                .iter()
                .map(|(d, b)| (d.clone(), b.to_vec()))
                .collect(),
        };
        pulled.verify("t").unwrap();
        assert_eq!(pulled.artifact().unwrap(), a);
        assert_eq!(pulled.layer("b.toml").unwrap().1, b"bbbb");
    }

    #[test]
    fn artifacts_with_unsafe_or_duplicate_titles_are_refused() {
        for title in ["", "/etc/x", "a/../b", "a//b", "./a", "a\\b"] {
            let mut a = sample();
            a.layers[0].title = title.into();
            let err = a.encode(&Limits::default()).unwrap_err();
            assert!(
                matches!(err, RegistryError::InvalidArtifact(_)),
                "{title}: {err}"
            );
        }
        let mut a = sample();
        a.layers[1].title = a.layers[0].title.clone();
        assert!(
            a.encode(&Limits::default())
                .unwrap_err()
                .to_string()
                .contains("two layers")
        );
    }

    #[test]
    fn limits_apply_to_each_blob_the_total_and_the_manifest() {
        let tight = Limits {
            blob: 3,
            ..Limits::default()
        };
        assert!(matches!(
            sample().encode(&tight),
            Err(RegistryError::TooLarge { .. })
        ));
        let tight = Limits {
            total: 10,
            ..Limits::default()
        };
        assert!(matches!(
            sample().encode(&tight),
            Err(RegistryError::TooLarge { .. })
        ));
        let a = sample();
        let e = a.encode(&Limits::default()).unwrap();
        let tight = Limits {
            manifest: 10,
            ..Limits::default()
        };
        let err = Manifest::parse(&e.manifest, "t", &tight).unwrap_err();
        assert!(err.to_string().contains("larger than 10 bytes"), "{err}");
    }

    #[test]
    fn bad_manifests_are_invalid_with_a_reason() {
        let limits = Limits::default();
        let d = Digest::of(b"x");
        for (json, reason) in [
            ("garbage", "expected value"),
            ("{}", "missing field"),
            (
                &format!(
                    r#"{{"schemaVersion":1,"config":{{"mediaType":"a/b","digest":"{d}","size":1}},"layers":[]}}"#
                ),
                "schemaVersion is 1",
            ),
            (
                &format!(
                    r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"a/b","digest":"{d}","size":1}},"layers":[]}}"#
                ),
                "mediaType is",
            ),
            (
                r#"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"md5:00","size":1},"layers":[]}"#,
                "is not a digest",
            ),
            (
                &format!(
                    r#"{{"schemaVersion":2,"config":{{"mediaType":"a/b","digest":"{d}","size":-1}},"layers":[]}}"#
                ),
                "invalid value",
            ),
            (
                &format!(
                    r#"{{"schemaVersion":2,"config":{{"mediaType":"a/b","digest":"{d}","size":1}},"layers":[{{"mediaType":"a/b","digest":"{d}","size":1}}]}}"#
                ),
                "no `org.opencontainers.image.title`",
            ),
            (
                &format!(
                    r#"{{"schemaVersion":2,"config":{{"mediaType":"a/b","digest":"{d}","size":1,"urls":["http://evil/"]}},"layers":[]}}"#
                ),
                "other URLs",
            ),
            (
                &format!(
                    r#"{{"schemaVersion":2,"config":{{"mediaType":"a/b","digest":"{d}","size":1}},"layers":[{{"mediaType":"a/b","digest":"{d}","size":1,"annotations":{{"org.opencontainers.image.title":"../x"}}}}]}}"#
                ),
                "`..` component",
            ),
        ] {
            let err = Manifest::parse(json.as_bytes(), "t", &limits).unwrap_err();
            assert!(
                matches!(err, RegistryError::InvalidManifest { .. })
                    && err.to_string().contains(reason),
                "{json}: {err}"
            );
        }
        let big = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"a/b","digest":"{d}","size":{}}},"layers":[]}}"#,
            limits.blob + 1
        );
        assert!(matches!(
            Manifest::parse(big.as_bytes(), "t", &limits),
            Err(RegistryError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_blob_is_checked_by_size_then_digest() {
        let d = Descriptor {
            media_type: "a/b".into(),
            digest: Digest::of(b"good"),
            size: 4,
            annotations: BTreeMap::new(),
            urls: None,
        };
        check_blob("t", &d, b"good").unwrap();
        assert!(matches!(
            check_blob("t", &d, b"evil"),
            Err(RegistryError::DigestMismatch { .. })
        ));
        assert!(matches!(
            check_blob("t", &d, b"good!"),
            Err(RegistryError::SizeMismatch { .. })
        ));
    }
}
