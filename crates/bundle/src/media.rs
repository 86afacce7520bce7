//! The media types and annotations of a bundle as an OCI artifact.

/// The image manifest's `artifactType`.
pub const ARTIFACT_TYPE: &str = "application/vnd.shipgate.bundle.v1";
/// The config blob.
pub const CONFIG: &str = "application/vnd.shipgate.bundle.config.v1+json";
/// A policy component.
pub const COMPONENT: &str = "application/vnd.shipgate.policy.component.v1+wasm";
/// A policy's configuration (its `config` table, as JSON).
pub const POLICY_CONFIG: &str = "application/vnd.shipgate.policy.config.v1+json";
/// A golden decision case, or its reviewed decisions (`cases/*.toml`).
pub const CASE: &str = "application/vnd.shipgate.case.v1+toml";
/// A snapshot a case reads (`cases/**/*.json`).
pub const SNAPSHOT: &str = "application/vnd.shipgate.snapshot.v1+json";
/// A signature: a DSSE envelope.
pub const SIGNATURE: &str = "application/vnd.shipgate.bundle.signature.v1+json";
/// The DSSE `payloadType` of the signed statement.
pub const STATEMENT: &str = "application/vnd.shipgate.statement.v1+json";
/// The DSSE `payloadType` of a signed exception (`NAME.exception`).
pub const EXCEPTION: &str = "application/vnd.shipgate.exception.v1+json";
/// An OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The annotation naming a layer's file.
pub const TITLE: &str = "org.opencontainers.image.title";
/// The annotation of the manifest naming the bundle (for messages only:
/// the signed config is what counts).
pub const BUNDLE_NAME: &str = "dev.shipgate.bundle.name";
/// The manifest annotation with the bundle's version.
pub const VERSION: &str = "org.opencontainers.image.version";
/// The index annotation naming a manifest (its tag in a layout).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
