//! `shipgate bundle sign X.bundle --key K.key`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use shipgate_bundle::keys::PrivateKey;
use shipgate_bundle::{SignOutcome, layout};
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;

use super::FormatArg;
use crate::commands::CliError;

/// Arguments of `shipgate bundle sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The `.bundle` file; it is rewritten with the signature added.
    pub bundle: PathBuf,
    /// The private key (`shipgate keygen` writes one).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Write the signed bundle here instead of over the input.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle sign`. Signing again with a key that signed
/// already changes nothing and succeeds (idempotent).
pub fn run(args: &SignArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let key = PrivateKey::read(&args.key)?;
    let mut bundle = super::open(&args.bundle)?;
    let outcome = bundle.sign(&key)?;
    let output = args.output.as_ref().unwrap_or(&args.bundle);
    if outcome == SignOutcome::Added || output != &args.bundle {
        layout::write_bundle_file(&bundle, output)?;
    }
    let signers = bundle.signers();
    let config = bundle.config();
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "name": config.name,
            "version": config.version,
            "keyid": key.id(),
            "added": outcome == SignOutcome::Added,
            "signers": signers,
            "digest": bundle.digest(),
            "output": output,
        }))?,
        Format::Text | Format::Markdown => {
            let what = match outcome {
                SignOutcome::Added => "signed",
                SignOutcome::AlreadySigned => "already signed (unchanged)",
            };
            format!(
                "{what}: {} {} with {}\nsigners: {}\ndigest: {}\n",
                config.name,
                config.version,
                key.id(),
                signers.join(", "),
                bundle.digest(),
            )
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}
