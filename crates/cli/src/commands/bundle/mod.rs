//! `shipgate bundle …` and `shipgate keygen`: build, test, sign, verify,
//! inspect, save and load policy bundles, offline (the format, signing and
//! trust are `shipgate-bundle`'s; this module reads flags and prints).

mod build;
mod inspect;
mod keygen;
mod layout;
mod remote;
mod sign;
mod test;
mod verify;

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand};
use shipgate_bundle::Bundle;
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;
use time::OffsetDateTime;

use super::CliError;

pub use keygen::{KeygenArgs, run as keygen};

/// Subcommands of `shipgate bundle`.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Build a bundle from a directory with `bundle.toml` (policies,
    /// components, golden cases) into a `.bundle` file.
    Build(build::BuildArgs),
    /// Run a bundle's golden cases against its own policies.
    Test(test::TestArgs),
    /// Sign a bundle with an Ed25519 key (adds a signature layer, in place).
    Sign(sign::SignArgs),
    /// Verify a bundle against a trust file: signatures, threshold, files,
    /// expiry, rollback, compatibility.
    Verify(verify::VerifyArgs),
    /// Show a bundle's policies, rules, files and signers.
    Inspect(inspect::InspectArgs),
    /// Write a bundle as an OCI image-layout directory (for air-gapped
    /// sites and OCI tools).
    Save(layout::SaveArgs),
    /// Read an OCI image-layout directory back into a `.bundle` file.
    Load(layout::LoadArgs),
    /// Push a bundle to an OCI registry, byte for byte (its digest is the
    /// one signed), and print the pinned reference for `[[bundles]]`.
    Push(remote::PushArgs),
    /// Pull a bundle from an OCI registry, verify it against the trust
    /// file and keep it in the local store (for `--offline`).
    Pull(remote::PullArgs),
    /// Resolve the tags of the configuration's `[[bundles]]` to digests,
    /// verify them, and record them in `shipgate.lock`.
    Lock(remote::LockArgs),
}

/// Runs `shipgate bundle …`.
pub fn run(command: &BundleCommand, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    match command {
        BundleCommand::Build(args) => build::run(args, out),
        BundleCommand::Test(args) => test::run(args, out),
        BundleCommand::Sign(args) => sign::run(args, out),
        BundleCommand::Verify(args) => verify::run(args, out),
        BundleCommand::Inspect(args) => inspect::run(args, out),
        BundleCommand::Save(args) => layout::save(args, out),
        BundleCommand::Load(args) => layout::load(args, out),
        BundleCommand::Push(args) => remote::push(args, out),
        BundleCommand::Pull(args) => remote::pull(args, out),
        BundleCommand::Lock(args) => remote::lock(args, out),
    }
}

/// `--format`, shared.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// Output format (`text` or `json`).
    #[arg(long, short = 'f', value_parser = super::format_parser(), default_value_t = Format::Text)]
    pub format: Format,
}

/// Reads a `.bundle` file, an OCI image-layout directory (`bundle
/// save`'s), or `oci://…` from the local store or the registry (not
/// verified: the caller does), naming it in errors.
fn open(path: &Path) -> Result<Bundle, CliError> {
    if let Some(text) = oci(path) {
        let reference = remote::reference(text)?;
        let registry = remote::RegistryArgs {
            config: None,
            offline: false,
        };
        let (bundle, _) = registry
            .fetcher(None)?
            .bundle(&reference)
            .map_err(|e| CliError::Other(e.to_string()))?;
        return Ok(bundle);
    }
    read_any(path).map_err(|e| in_file(path, e))
}

/// The reference, when `path` is an `oci://` one.
fn oci(path: &Path) -> Option<&str> {
    path.to_str().filter(|text| text.starts_with("oci://"))
}

/// Reads a `.bundle` file or an image-layout directory.
fn read_any(path: &Path) -> shipgate_bundle::Result<Bundle> {
    if path.is_dir() {
        shipgate_bundle::Layout::read_dir(path).and_then(shipgate_bundle::Layout::bundle)
    } else {
        shipgate_bundle::layout::read_bundle_file(path)
    }
}

/// A bundle error, with the file it is about when the message does not
/// already name it.
fn in_file(path: &Path, e: shipgate_bundle::Error) -> CliError {
    match e {
        shipgate_bundle::Error::Format(_) => CliError::Other(format!("{}: {e}", path.display())),
        other => CliError::Bundle(other),
    }
}

/// `--now`, or the clock.
fn now(flag: Option<&str>) -> Result<OffsetDateTime, CliError> {
    match flag {
        None => Ok(OffsetDateTime::now_utc()),
        Some(text) => shipgate_bundle::verify::parse_time(text).map_err(|_| {
            CliError::Other(format!(
                "`--now {text}` is not an RFC 3339 time (such as `2027-01-01T00:00:00Z`)"
            ))
        }),
    }
}

/// A byte count for people.
fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// The default local bundle store.
pub const STORE_DIR: &str = ".shipgate/bundles";
