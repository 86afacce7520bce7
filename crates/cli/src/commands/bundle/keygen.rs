//! `shipgate keygen NAME`: an Ed25519 key pair for signing bundles.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use shipgate_bundle::keys::PrivateKey;
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;

use super::FormatArg;
use crate::commands::CliError;

/// Arguments of `shipgate keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Writes NAME.key (private, mode 0600) and NAME.pub; refuses to
    /// overwrite either.
    pub name: PathBuf,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate keygen`. The private key is never printed.
pub fn run(args: &KeygenArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let key = PrivateKey::generate().map_err(CliError::Other)?;
    let (private, public) = key.write_pair(&args.name)?;
    let label = args
        .name
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "keyid": key.id(),
            "public": key.public_base64(),
            "private_key_file": private,
            "public_key_file": public,
        }))?,
        Format::Text | Format::Markdown => format!(
            "wrote {} (private, mode 0600: keep it secret) and {}\nkey id: {}\n\n\
             To trust it for bundles, add to trust.toml:\n\n\
             [[keys]]\nid = \"{}\"\npublic = \"{}\"\nname = \"{label}\"\n",
            private.display(),
            public.display(),
            key.id(),
            key.id(),
            key.public_base64(),
        ),
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}
