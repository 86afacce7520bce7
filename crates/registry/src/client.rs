//! Push, pull and resolve through an OCI registry, with oci-client doing the
//! HTTP (the distribution API, auth challenges, chunked uploads).
//!
//! Every operation runs under one overall timeout ([`Options::timeout`]) and
//! a connect timeout; plain HTTP is spoken only to loopback hosts and hosts
//! listed in [`Options::plain_http_hosts`], HTTPS (rustls, `ring`) to every
//! other. Errors are classified ([`RegistryError`]) and every text in them
//! from the registry or the HTTP stack is redacted.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _, stream};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;

use crate::artifact::{
    Artifact, Descriptor, Encoded, MANIFEST_MEDIA_TYPE, Manifest, Pulled, check_blob,
};
use crate::credentials::{Credentials, Resolved};
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::limits::Limits;
use crate::reference::Reference;

/// How a [`Client`] talks to registries.
#[derive(Debug, Clone)]
pub struct Options {
    /// Who the client is.
    pub credentials: Credentials,
    /// The longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// The longest a whole push, pull or resolve may take.
    pub timeout: Duration,
    /// The caps on manifests and blobs.
    pub limits: Limits,
    /// Hosts (`host` or `host:port`, as in the reference) spoken to in
    /// plain HTTP although they are not loopback: an explicit choice.
    pub plain_http_hosts: Vec<String>,
    /// Whether loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`) are
    /// spoken to in plain HTTP (the default, as docker does).
    pub plain_http_loopback: bool,
    /// Blobs transferred at once.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            credentials: Credentials::Anonymous,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            limits: Limits::default(),
            plain_http_hosts: Vec::new(),
            plain_http_loopback: true,
            concurrency: 4,
        }
    }
}

/// A registry client: [`Client::push`], [`Client::pull`],
/// [`Client::resolve`].
#[derive(Debug, Clone)]
pub struct Client {
    options: Options,
    auth: Resolved,
}

/// The scheme used for `reference`'s host under `options`.
pub fn scheme(options: &Options, reference: &Reference) -> &'static str {
    let listed = options
        .plain_http_hosts
        .iter()
        .any(|h| h == reference.host());
    if listed || (options.plain_http_loopback && reference.is_loopback()) {
        "http"
    } else {
        "https"
    }
}

impl Client {
    /// A client whose credentials are read from the process's environment
    /// (and registered as secrets) now.
    pub fn new(options: Options) -> Result<Client, RegistryError> {
        Client::with_lookup(options, &|name| std::env::var(name).ok())
    }

    /// A client whose credentials' variables are looked up through `lookup`
    /// (tests, or a caller with its own environment).
    pub fn with_lookup(
        options: Options,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Client, RegistryError> {
        let auth = options.credentials.resolve(lookup)?;
        Ok(Client { options, auth })
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Pushes `artifact` to `reference` (a tag; or a digest, which must be
    /// the artifact's own) and returns the manifest's digest. Blobs the
    /// registry already has are not sent again.
    pub async fn push(
        &self,
        reference: &Reference,
        artifact: &Artifact,
    ) -> Result<Digest, RegistryError> {
        let encoded = artifact.encode(&self.options.limits)?;
        self.push_encoded(reference, encoded).await
    }

    /// Pushes an artifact whose manifest bytes are already fixed (a signed
    /// bundle: its digest is what teams pin, so the manifest goes as it is,
    /// byte for byte) and returns its digest.
    pub async fn push_pulled(
        &self,
        reference: &Reference,
        artifact: &Pulled,
    ) -> Result<Digest, RegistryError> {
        artifact.verify(&reference.to_string())?;
        let encoded = Encoded {
            manifest: artifact.manifest_bytes.clone(),
            digest: artifact.digest.clone(),
            blobs: artifact
                .blobs
                .iter()
                .map(|(digest, bytes)| (digest.clone(), bytes.as_slice()))
                .collect(),
        };
        self.push_encoded(reference, encoded).await
    }

    /// Sends the blobs the registry lacks, then the manifest.
    async fn push_encoded(
        &self,
        reference: &Reference,
        encoded: Encoded<'_>,
    ) -> Result<Digest, RegistryError> {
        if let Some(pinned) = reference.digest()
            && *pinned != encoded.digest
        {
            return Err(RegistryError::InvalidArtifact(format!(
                "`{reference}` pins {pinned}, but the artifact's manifest is {}",
                encoded.digest
            )));
        }
        let target = match reference.tag() {
            Some(tag) => reference.with_tag(tag)?,
            None => reference.clone(),
        };
        let context = Context::new(reference, "pushing", &self.options);
        let oci_ref = target.to_client();
        let client = self.oci_client(reference)?;
        let work = async {
            client
                .store_auth_if_needed(oci_ref.resolve_registry(), &self.auth.0)
                .await;
            stream::iter(encoded.blobs.iter())
                .map(|(digest, bytes)| {
                    let (client, oci_ref, context) = (&client, &oci_ref, &context);
                    async move {
                        let exists = client
                            .blob_exists(oci_ref, digest.as_str())
                            .await
                            .map_err(|e| context.classify(e))?;
                        if !exists {
                            client
                                .push_blob(oci_ref, bytes.to_vec(), digest.as_str())
                                .await
                                .map_err(|e| context.classify(e))?;
                        }
                        Ok::<(), RegistryError>(())
                    }
                })
                .buffer_unordered(self.options.concurrency.max(1))
                .try_collect::<Vec<()>>()
                .await?;
            client
                .push_manifest_raw(
                    &oci_ref,
                    encoded.manifest.clone(),
                    http_header(MANIFEST_MEDIA_TYPE),
                )
                .await
                .map_err(|e| context.classify(e))?;
            Ok(encoded.digest.clone())
        };
        context.within(self.options.timeout, work).await
    }

    /// Pulls `reference`: its manifest (refused past the cap before it is
    /// parsed, checked against the reference's digest when pinned, and
    /// refused unless its `artifactType` is `artifact_type`), then every
    /// blob it names, each checked against its descriptor's size and digest
    /// and kept by digest.
    pub async fn pull(
        &self,
        reference: &Reference,
        artifact_type: &str,
    ) -> Result<Pulled, RegistryError> {
        let context = Context::new(reference, "pulling", &self.options);
        let name = reference.to_string();
        let oci_ref = reference.to_client();
        let client = self.oci_client(reference)?;
        let limits = self.options.limits;
        let work = async {
            let (bytes, _) = client
                .pull_manifest_raw(&oci_ref, &self.auth.0, &[MANIFEST_MEDIA_TYPE])
                .await
                .map_err(|e| context.classify(e))?;
            let digest = Digest::of(&bytes);
            if let Some(pinned) = reference.digest()
                && *pinned != digest
            {
                return Err(RegistryError::mismatch(
                    &name,
                    "the manifest",
                    pinned,
                    &digest,
                ));
            }
            let manifest = Manifest::parse(&bytes, &name, &limits)?;
            manifest.expect_type(artifact_type, &name)?;
            let blobs: BTreeMap<Digest, Vec<u8>> = stream::iter(manifest.blobs())
                .map(|d| {
                    let (client, oci_ref, context, name) = (&client, &oci_ref, &context, &name);
                    async move {
                        let bytes = fetch_blob(client, oci_ref, d, context, name).await?;
                        Ok::<_, RegistryError>((d.digest.clone(), bytes))
                    }
                })
                .buffer_unordered(self.options.concurrency.max(1))
                .try_collect()
                .await?;
            let pulled = Pulled {
                digest,
                manifest_bytes: bytes.to_vec(),
                manifest,
                blobs,
            };
            pulled.verify(&name)?;
            Ok(pulled)
        };
        context.within(self.options.timeout, work).await
    }

    /// The digest `reference` names now: a pinned reference's own digest
    /// (without asking the registry: a pin does not move), else what the
    /// registry's tag points at.
    pub async fn resolve(&self, reference: &Reference) -> Result<Digest, RegistryError> {
        if let Some(pinned) = reference.digest() {
            return Ok(pinned.clone());
        }
        let context = Context::new(reference, "resolving", &self.options);
        let oci_ref = reference.to_client();
        let client = self.oci_client(reference)?;
        let work = async {
            let text = client
                .fetch_manifest_digest(&oci_ref, &self.auth.0)
                .await
                .map_err(|e| context.classify(e))?;
            Digest::parse(&text).map_err(|e| RegistryError::Registry {
                host: reference.host().to_owned(),
                detail: shipgate_core::redact::scrub(&format!("the tag's digest: {e}"))
                    .into_owned(),
            })
        };
        context.within(self.options.timeout, work).await
    }

    /// An oci-client for one operation on `reference`'s host.
    fn oci_client(&self, reference: &Reference) -> Result<oci_client::Client, RegistryError> {
        // Installing twice is harmless: the first provider stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let protocol = match scheme(&self.options, reference) {
            "http" => ClientProtocol::Http,
            _ => ClientProtocol::Https,
        };
        let config = ClientConfig {
            protocol,
            connect_timeout: Some(self.options.connect_timeout),
            read_timeout: Some(self.options.timeout),
            use_monolithic_push: true,
            platform_resolver: None,
            max_concurrent_download: self.options.concurrency.max(1),
            max_concurrent_upload: self.options.concurrency.max(1),
            user_agent: concat!("shipgate/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        oci_client::Client::try_from(config).map_err(|e| RegistryError::Registry {
            host: reference.host().to_owned(),
            detail: shipgate_core::redact::scrub(&format!("cannot set up HTTP: {e}")).into_owned(),
        })
    }
}

/// Fetches the blob `d` and checks it, reading no more than its size.
async fn fetch_blob(
    client: &oci_client::Client,
    oci_ref: &oci_client::Reference,
    d: &Descriptor,
    context: &Context,
    name: &str,
) -> Result<Vec<u8>, RegistryError> {
    // `urls` stay out: the client would fetch them, unauthenticated, from
    // anywhere (the manifest check refuses them too).
    let descriptor = OciDescriptor {
        media_type: d.media_type.clone(),
        digest: d.digest.to_string(),
        size: i64::try_from(d.size).unwrap_or(i64::MAX),
        urls: None,
        annotations: None,
        ..OciDescriptor::default()
    };
    let mut blob = client
        .pull_blob_stream(oci_ref, &descriptor)
        .await
        .map_err(|e| context.classify(e))?;
    let what = format!("blob {}", d.digest);
    let too_long = |actual: String| RegistryError::SizeMismatch {
        reference: name.to_owned(),
        what: what.clone(),
        expected: d.size,
        actual,
    };
    if let Some(announced) = blob.content_length
        && announced > d.size
    {
        return Err(too_long(format!("the registry announces {announced}")));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(d.size.min(1 << 20)).unwrap_or(0));
    while let Some(chunk) = blob.next().await {
        let chunk = chunk.map_err(|e| context.classify_io(e, d))?;
        if (bytes.len() + chunk.len()) as u64 > d.size {
            return Err(too_long("the registry sent more".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    check_blob(name, d, &bytes)?;
    Ok(bytes)
}

fn http_header(value: &'static str) -> reqwest::header::HeaderValue {
    reqwest::header::HeaderValue::from_static(value)
}

/// What an operation is about, for its errors.
#[derive(Debug)]
struct Context {
    host: String,
    reference: String,
    during: &'static str,
    connect_timeout: Duration,
    timeout: Duration,
}

impl Context {
    fn new(reference: &Reference, during: &'static str, options: &Options) -> Context {
        Context {
            host: reference.host().to_owned(),
            reference: reference.to_string(),
            during,
            connect_timeout: options.connect_timeout,
            timeout: options.timeout,
        }
    }

    /// The HTTP client's own timeout: connecting, or a read (whose limit
    /// is the overall one).
    fn timed_out(&self, connecting: bool) -> RegistryError {
        let (after, during) = if connecting {
            (self.connect_timeout, format!("connecting, {}", self.during))
        } else {
            (self.timeout, self.during.to_owned())
        };
        RegistryError::TimedOut {
            host: self.host.clone(),
            after,
            during,
        }
    }

    /// Runs `work` under the overall timeout.
    async fn within<T>(
        &self,
        timeout: Duration,
        work: impl Future<Output = Result<T, RegistryError>>,
    ) -> Result<T, RegistryError> {
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(RegistryError::TimedOut {
                host: self.host.clone(),
                after: timeout,
                during: self.during.into(),
            }),
        }
    }

    /// oci-client's error, classified and redacted.
    fn classify(&self, err: OciDistributionError) -> RegistryError {
        let detail = redacted_chain(&err);
        let host = self.host.clone();
        match err {
            OciDistributionError::RequestError(e) => {
                if e.is_timeout() {
                    self.timed_out(e.is_connect())
                } else if e.is_connect() {
                    RegistryError::Unreachable { host, detail }
                } else if let Some(status) = e.status() {
                    match status.as_u16() {
                        401 | 403 => RegistryError::Unauthorized { host, detail },
                        404 => RegistryError::NotFound {
                            reference: self.reference.clone(),
                            detail,
                        },
                        _ => RegistryError::Registry { host, detail },
                    }
                } else {
                    RegistryError::Registry { host, detail }
                }
            }
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => {
                RegistryError::Unauthorized { host, detail }
            }
            OciDistributionError::ServerError { code, .. } => match code {
                401 | 403 => RegistryError::Unauthorized { host, detail },
                404 => RegistryError::NotFound {
                    reference: self.reference.clone(),
                    detail,
                },
                _ => RegistryError::Registry { host, detail },
            },
            OciDistributionError::RegistryError { ref envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
                {
                    RegistryError::Unauthorized { host, detail }
                } else if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    RegistryError::NotFound {
                        reference: self.reference.clone(),
                        detail,
                    }
                } else {
                    RegistryError::Registry { host, detail }
                }
            }
            OciDistributionError::DigestError(DigestError::VerificationError {
                expected,
                actual,
            }) => RegistryError::DigestMismatch {
                reference: self.reference.clone(),
                what: "the manifest".into(),
                expected,
                actual,
            },
            OciDistributionError::ManifestParsingError(_)
            | OciDistributionError::VersionedParsingError(_)
            | OciDistributionError::JsonError(_)
            | OciDistributionError::UnsupportedSchemaVersionError(_)
            | OciDistributionError::UnsupportedMediaTypeError(_)
            | OciDistributionError::ManifestEncodingError(_) => RegistryError::InvalidManifest {
                reference: self.reference.clone(),
                reason: detail,
            },
            _ => RegistryError::Registry { host, detail },
        }
    }

    /// An error while reading the blob `d`'s bytes.
    fn classify_io(&self, err: std::io::Error, d: &Descriptor) -> RegistryError {
        if let Some(DigestError::VerificationError { actual, .. }) =
            err.get_ref().and_then(|e| e.downcast_ref::<DigestError>())
        {
            return RegistryError::DigestMismatch {
                reference: self.reference.clone(),
                what: format!("blob {}", d.digest),
                expected: d.digest.to_string(),
                actual: actual.clone(),
            };
        }
        let detail = redacted_chain(&err);
        let timed_out =
            std::iter::successors(Some(&err as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| {
                e.downcast_ref::<reqwest::Error>()
                    .is_some_and(|r| r.is_timeout())
            });
        if timed_out {
            self.timed_out(false)
        } else {
            RegistryError::Registry {
                host: self.host.clone(),
                detail,
            }
        }
    }
}

/// `err` and its sources, `: `-joined, redacted, cut to 600 characters.
fn redacted_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    let text = shipgate_core::redact::scrub(&text).into_owned();
    if text.chars().count() > 600 {
        let cut: String = text.chars().take(600).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_or_listed_hosts() {
        let options = Options::default();
        let r = |s: &str| Reference::parse(s).unwrap();
        assert_eq!(scheme(&options, &r("oci://127.0.0.1:5000/a:1")), "http");
        assert_eq!(scheme(&options, &r("oci://localhost/a:1")), "http");
        assert_eq!(scheme(&options, &r("oci://[::1]:5000/a:1")), "http");
        assert_eq!(scheme(&options, &r("oci://registry.example/a:1")), "https");
        assert_eq!(scheme(&options, &r("oci://10.0.0.1:5000/a:1")), "https");
        let listed = Options {
            plain_http_hosts: vec!["10.0.0.1:5000".into()],
            plain_http_loopback: false,
            ..Options::default()
        };
        assert_eq!(scheme(&listed, &r("oci://10.0.0.1:5000/a:1")), "http");
        assert_eq!(scheme(&listed, &r("oci://10.0.0.1:5001/a:1")), "https");
        assert_eq!(scheme(&listed, &r("oci://127.0.0.1:5000/a:1")), "https");
    }
}
