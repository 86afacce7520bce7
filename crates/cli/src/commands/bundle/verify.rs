//! `shipgate bundle verify X.bundle --trust trust.toml`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use shipgate_bundle::{SequenceStore, Trust};
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;

use super::FormatArg;
use crate::commands::CliError;

/// Arguments of `shipgate bundle verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The `.bundle` file, an image-layout directory, or `oci://…`.
    pub bundle: PathBuf,
    /// The trust file: the keys allowed per bundle name and the threshold.
    #[arg(long, value_name = "FILE")]
    pub trust: PathBuf,
    /// The time to check expiry against (RFC 3339); default: now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// The local bundle store, whose `accepted.json` holds the highest
    /// sequence accepted per bundle name (anti-rollback).
    #[arg(long, value_name = "DIR", default_value = super::STORE_DIR)]
    pub store: PathBuf,
    /// Do not record this bundle's sequence as accepted.
    #[arg(long)]
    pub no_record: bool,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle verify`: 0 when verified, 1 when refused (with
/// `--format json`, the refusal is printed as `{"verified": false,
/// "reason": …, "error": …}`).
pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let json = args.format.format == Format::Json;
    let result = verify(args);
    match (result, json) {
        (Ok(text), _) => {
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::Success)
        }
        (Err(Refusal::Bundle(e)), true) => {
            let text = crate::commands::json_text(&serde_json::json!({
                "verified": false,
                "bundle": args.bundle,
                "reason": e.reason(),
                "error": e.to_string(),
            }))?;
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::Error)
        }
        (Err(Refusal::Bundle(e)), false) => Err(super::in_file(&args.bundle, e)),
        (Err(Refusal::Cli(e)), _) => Err(e),
    }
}

enum Refusal {
    Bundle(shipgate_bundle::Error),
    Cli(CliError),
}

impl From<shipgate_bundle::Error> for Refusal {
    fn from(e: shipgate_bundle::Error) -> Refusal {
        Refusal::Bundle(e)
    }
}

impl From<CliError> for Refusal {
    fn from(e: CliError) -> Refusal {
        Refusal::Cli(e)
    }
}

fn verify(args: &VerifyArgs) -> Result<String, Refusal> {
    let now = super::now(args.now.as_deref())?;
    let trust = Trust::load(&args.trust)?;
    let bundle = match super::oci(&args.bundle) {
        Some(_) => super::open(&args.bundle)?,
        None => super::read_any(&args.bundle)?,
    };
    let mut store = if args.no_record {
        SequenceStore::in_memory()
    } else {
        SequenceStore::open(&args.store)?
    };
    let verified = bundle.verify(&trust, now, &store)?;
    if !args.no_record {
        store.accept(&verified)?;
    }
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "verified": true,
            "bundle": args.bundle,
            "name": verified.name,
            "version": verified.version,
            "sequence": verified.sequence,
            "expires": verified.expires,
            "digest": verified.digest,
            "config_digest": verified.config_digest,
            "signers": verified.signers,
            "scope": verified.scope,
            "threshold": verified.threshold,
            "recorded": !args.no_record,
        }))?,
        Format::Text | Format::Markdown => {
            let mut text = format!(
                "verified {} {} (sequence {})\ndigest: {}\nsigned by: {} ({} of {} required by the trust rule `{}`)\n",
                verified.name,
                verified.version,
                verified.sequence,
                verified.digest,
                verified.signers.join(", "),
                verified.signers.len(),
                verified.threshold.unwrap_or_default(),
                verified.scope.as_deref().unwrap_or_default(),
            );
            if let Some(expires) = &verified.expires {
                text.push_str(&format!("expires: {expires}\n"));
            }
            if !args.no_record {
                text.push_str(&format!(
                    "accepted sequence {} recorded in {}\n",
                    verified.sequence,
                    args.store.join(shipgate_bundle::sequence::FILE).display()
                ));
            }
            text
        }
    };
    Ok(text)
}
