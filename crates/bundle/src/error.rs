//! Why a bundle could not be built, read, signed or verified. Every refusal
//! has its own variant and message, and names the bundle.

use std::path::PathBuf;

use shipgate_core::bounded::ReadError;
use shipgate_core::config::ConfigError;

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `bundle.toml`, `trust.toml` or `exception.toml` is wrong (located: file, line, column, key).
    #[error(transparent)]
    Toml(#[from] ConfigError),
    /// A file could not be read, or is larger than its cap.
    #[error("cannot read `{}`: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error, or the cap it exceeds.
        error: ReadError,
    },
    /// A file could not be written.
    #[error("cannot write `{}`: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// A file of a bundle's source directory cannot go into a bundle.
    #[error("{}: {message}", path.display())]
    SourceFile {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The bytes are not a well-formed bundle (tar, layout, manifest, config).
    #[error("not a valid bundle: {0}")]
    Format(String),
    /// A file's bytes do not hash to the digest the manifest gives.
    #[error(
        "bundle `{bundle}`: file `{path}` was tampered with: its bytes hash to {actual}, {listed_by} says {expected}"
    )]
    Tampered {
        /// The bundle's name.
        bundle: String,
        /// The file's path (title).
        path: String,
        /// The manifest's digest.
        expected: String,
        /// The digest of the bytes.
        actual: String,
        /// `the manifest` or `the config`.
        listed_by: &'static str,
    },
    /// A layer's blob was not given (a transport that lost it).
    #[error("bundle `{bundle}`: the blob of file `{path}` ({digest}) is missing")]
    MissingBlob {
        /// The bundle's name.
        bundle: String,
        /// The file.
        path: String,
        /// Its digest.
        digest: String,
    },
    /// A file the config or the signed statement lists has no layer.
    #[error(
        "bundle `{bundle}`: file `{path}` ({digest}) is missing: {listed_by} lists it, the manifest has no layer for it"
    )]
    MissingFile {
        /// The bundle's name.
        bundle: String,
        /// The file.
        path: String,
        /// Its listed digest.
        digest: String,
        /// `the config` or `the signed statement`.
        listed_by: &'static str,
    },
    /// A layer that neither the config nor the signed statement lists.
    #[error(
        "bundle `{bundle}`: extra file `{path}` ({digest}): the manifest has a layer that {listed_by} does not list"
    )]
    ExtraFile {
        /// The bundle's name.
        bundle: String,
        /// The file.
        path: String,
        /// Its digest.
        digest: String,
        /// `the config` or `the signed statement`.
        listed_by: &'static str,
    },
    /// A signed statement says something else than the bundle holds.
    #[error(
        "bundle `{bundle}`: the statement signed by {keyid} does not match the bundle: {detail}"
    )]
    StatementMismatch {
        /// The bundle's name.
        bundle: String,
        /// The signer.
        keyid: String,
        /// What differs.
        detail: String,
    },
    /// Trust is configured, but has no rule for this bundle's name.
    #[error(
        "bundle `{bundle}` is refused: the trust file has no `[[bundles]]` rule for this name\n  help: add a rule with `scope = \"{bundle}\"` (or a glob such as `acme/*`) and the keys allowed to sign it"
    )]
    NoTrustRule {
        /// The bundle's name.
        bundle: String,
    },
    /// Trust is configured for the bundle, and it has no signature.
    #[error(
        "bundle `{bundle}` is unsigned, and the trust file requires {threshold} signature(s) by {allowed} for it\n  help: sign it with `shipgate bundle sign BUNDLE --key KEY`"
    )]
    Unsigned {
        /// The bundle's name.
        bundle: String,
        /// Signatures required.
        threshold: u32,
        /// The allowed key ids, listed.
        allowed: String,
    },
    /// A signature by an allowed key does not verify.
    #[error(
        "bundle `{bundle}`: the signature by {keyid} is invalid (it does not verify against that key's public key)"
    )]
    BadSignature {
        /// The bundle's name.
        bundle: String,
        /// The signer.
        keyid: String,
    },
    /// Signed, but by no key the trust file allows for this name.
    #[error(
        "bundle `{bundle}` is signed by {signers}, and the trust file allows only {allowed} for it"
    )]
    KeyNotAllowed {
        /// The bundle's name.
        bundle: String,
        /// The key ids that signed it.
        signers: String,
        /// The allowed key ids.
        allowed: String,
    },
    /// Fewer valid signatures by allowed keys than the threshold.
    #[error(
        "bundle `{bundle}` has {valid} valid signature(s) by allowed keys ({signers}); the trust file requires {threshold} of {allowed}"
    )]
    ThresholdNotMet {
        /// The bundle's name.
        bundle: String,
        /// Valid signatures by allowed keys.
        valid: usize,
        /// The threshold.
        threshold: u32,
        /// Who signed validly.
        signers: String,
        /// The allowed key ids.
        allowed: String,
    },
    /// Its `expires` is past.
    #[error("bundle `{bundle}` {version} expired at {expires} (now is {now})")]
    Expired {
        /// The bundle's name.
        bundle: String,
        /// Its version.
        version: String,
        /// When it expired.
        expires: String,
        /// The clock's time.
        now: String,
    },
    /// Its sequence is lower than one already accepted for its name.
    #[error(
        "bundle `{bundle}` {version} is a rollback: its sequence {sequence} is lower than {accepted}, already accepted for this name (version {accepted_version})"
    )]
    RolledBack {
        /// The bundle's name.
        bundle: String,
        /// Its version.
        version: String,
        /// Its sequence.
        sequence: u64,
        /// The highest sequence accepted.
        accepted: u64,
        /// The version accepted with it.
        accepted_version: String,
    },
    /// The same sequence was accepted before for other content.
    #[error(
        "bundle `{bundle}` {version} reuses sequence {sequence}, already accepted for other content (config {accepted_config}); a new release needs a higher sequence"
    )]
    SequenceReused {
        /// The bundle's name.
        bundle: String,
        /// Its version.
        version: String,
        /// Its sequence.
        sequence: u64,
        /// The config digest accepted with that sequence.
        accepted_config: String,
    },
    /// It needs a newer Shipgate.
    #[error("bundle `{bundle}` needs Shipgate {min_shipgate} or newer; this is {ours}")]
    ShipgateTooOld {
        /// The bundle's name.
        bundle: String,
        /// What it needs.
        min_shipgate: String,
        /// This binary's version.
        ours: String,
    },
    /// Its components are built for another contract.
    #[error(
        "bundle `{bundle}` is built for the contract `{contract}`; this Shipgate speaks `{ours}`"
    )]
    Contract {
        /// The bundle's name.
        bundle: String,
        /// What it declares.
        contract: String,
        /// This binary's contract.
        ours: String,
    },
    /// A key file is wrong.
    #[error("{}: {message}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The accepted-sequence store is unreadable.
    #[error("{}: {message}", path.display())]
    Store {
        /// The store file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A signed exception is not well formed (its envelope, payload type,
    /// payload or fields).
    #[error("{file}: not a valid signed exception: {message}")]
    ExceptionFormat {
        /// The file (or what stood for it).
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The trust file has no `[exceptions]` table (or there is no trust
    /// file): no exception is accepted.
    #[error(
        "{exception} is refused: the trust file allows no exception signers (it has no `[exceptions]` table)\n  help: add `[exceptions]` with `keys = [...]`, keys whose `usage` includes \"exceptions\""
    )]
    ExceptionsNotTrusted {
        /// The exception, for people (ticket, policy, rule).
        exception: String,
    },
    /// An exception without any signature.
    #[error(
        "{exception} is unsigned, and the trust file requires {threshold} signature(s) by {allowed} for an exception\n  help: sign it with `shipgate exception sign FILE --key KEY`"
    )]
    ExceptionUnsigned {
        /// The exception.
        exception: String,
        /// Signatures required.
        threshold: u32,
        /// The allowed key ids, listed.
        allowed: String,
    },
    /// A signature by a key allowed for exceptions does not verify.
    #[error(
        "{exception}: the signature by {keyid} is invalid (it does not verify against that key's public key: the exception was changed after signing, or the signature is forged)"
    )]
    ExceptionBadSignature {
        /// The exception.
        exception: String,
        /// The signer.
        keyid: String,
    },
    /// Signed, but by no key the trust file allows to sign exceptions.
    #[error(
        "{exception} is signed by {signers}, and the trust file allows only {allowed} to sign exceptions"
    )]
    ExceptionKeyNotAllowed {
        /// The exception.
        exception: String,
        /// The key ids that signed it, each with why it does not count.
        signers: String,
        /// The allowed key ids.
        allowed: String,
    },
    /// Fewer valid signatures by allowed keys than `[exceptions] threshold`.
    #[error(
        "{exception} has {valid} valid signature(s) by allowed keys ({signers}); the trust file requires {threshold} of {allowed} for an exception"
    )]
    ExceptionThresholdNotMet {
        /// The exception.
        exception: String,
        /// Valid signatures by allowed keys.
        valid: usize,
        /// The threshold.
        threshold: u32,
        /// Who signed validly.
        signers: String,
        /// The allowed key ids.
        allowed: String,
    },
    /// Its `issued` is in the future (beyond the allowed clock skew).
    #[error("{exception} is not valid yet: it is issued at {issued} (now is {now})")]
    ExceptionNotYetValid {
        /// The exception.
        exception: String,
        /// When it starts.
        issued: String,
        /// The clock's time.
        now: String,
    },
    /// Its `expires` is past.
    #[error(
        "{exception} expired at {expires} (now is {now})\n  help: an exception is never extended: issue a new one, with a new `issued` and `expires`, and sign it"
    )]
    ExceptionExpired {
        /// The exception.
        exception: String,
        /// When it expired.
        expires: String,
        /// The clock's time.
        now: String,
    },
    /// `expires - issued` is longer than `[exceptions] max_days`.
    #[error(
        "{exception} runs for {length} ({issued} to {expires}), longer than the {max_days} day(s) the trust file allows for an exception"
    )]
    ExceptionTooLong {
        /// The exception.
        exception: String,
        /// How long it runs, for people.
        length: String,
        /// When it starts.
        issued: String,
        /// When it ends.
        expires: String,
        /// `[exceptions] max_days`.
        max_days: u32,
    },
    /// A verified exception whose scope is not this deployment's.
    #[error("{exception} does not apply to this deployment: {why}")]
    ExceptionOutOfScope {
        /// The exception.
        exception: String,
        /// Why not, in words (`OutOfScope`'s message).
        why: String,
    },
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A short, stable name of the refusal, for scripts (`--format json`'s
    /// `reason`): `tampered`, `unsigned`, `key-not-allowed`, ….
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Toml(_) => "invalid-toml",
            Error::Read { .. } => "read",
            Error::Write { .. } => "write",
            Error::SourceFile { .. } => "source-file",
            Error::Format(_) => "format",
            Error::Tampered { .. } => "tampered",
            Error::MissingBlob { .. } => "missing-blob",
            Error::MissingFile { .. } => "missing-file",
            Error::ExtraFile { .. } => "extra-file",
            Error::StatementMismatch { .. } => "statement-mismatch",
            Error::NoTrustRule { .. } => "no-trust-rule",
            Error::Unsigned { .. } => "unsigned",
            Error::BadSignature { .. } => "bad-signature",
            Error::KeyNotAllowed { .. } => "key-not-allowed",
            Error::ThresholdNotMet { .. } => "threshold-not-met",
            Error::Expired { .. } => "expired",
            Error::RolledBack { .. } => "rolled-back",
            Error::SequenceReused { .. } => "sequence-reused",
            Error::ShipgateTooOld { .. } => "shipgate-too-old",
            Error::Contract { .. } => "contract",
            Error::Key { .. } => "key",
            Error::Store { .. } => "store",
            Error::ExceptionFormat { .. } => "exception-format",
            Error::ExceptionsNotTrusted { .. } => "exceptions-not-trusted",
            Error::ExceptionUnsigned { .. } => "exception-unsigned",
            Error::ExceptionBadSignature { .. } => "exception-bad-signature",
            Error::ExceptionKeyNotAllowed { .. } => "exception-key-not-allowed",
            Error::ExceptionThresholdNotMet { .. } => "exception-threshold-not-met",
            Error::ExceptionNotYetValid { .. } => "exception-not-yet-valid",
            Error::ExceptionExpired { .. } => "exception-expired",
            Error::ExceptionTooLong { .. } => "exception-too-long",
            Error::ExceptionOutOfScope { .. } => "exception-out-of-scope",
        }
    }
}
