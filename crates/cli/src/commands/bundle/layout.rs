//! `shipgate bundle save X.bundle DIR` and `shipgate bundle load DIR -o
//! X.bundle`: the bundle as an OCI image-layout directory.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use shipgate_bundle::{Layout, layout};
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;

use super::FormatArg;
use crate::commands::CliError;

/// Arguments of `shipgate bundle save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// The `.bundle` file.
    pub bundle: PathBuf,
    /// The directory to write (must not exist, or be empty).
    pub dir: PathBuf,
    #[command(flatten)]
    format: FormatArg,
}

/// Arguments of `shipgate bundle load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// An OCI image-layout directory holding one bundle.
    pub dir: PathBuf,
    /// The `.bundle` file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle save`.
pub fn save(args: &SaveArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let bundle = super::open(&args.bundle)?;
    Layout::of(&bundle).write_dir(&args.dir)?;
    report(out, args.format.format, "saved", &bundle, &args.dir)
}

/// Runs `shipgate bundle load`.
pub fn load(args: &LoadArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let bundle = Layout::read_dir(&args.dir)
        .and_then(Layout::bundle)
        .map_err(|e| super::in_file(&args.dir, e))?;
    layout::write_bundle_file(&bundle, &args.output)?;
    report(out, args.format.format, "loaded", &bundle, &args.output)
}

fn report(
    out: &mut dyn Write,
    format: Format,
    what: &str,
    bundle: &shipgate_bundle::Bundle,
    to: &std::path::Path,
) -> Result<ExitCode, CliError> {
    let config = bundle.config();
    let text = match format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "name": config.name,
            "version": config.version,
            "digest": bundle.digest(),
            "path": to,
        }))?,
        Format::Text | Format::Markdown => format!(
            "{what} {} {} → {}\ndigest: {}\n",
            config.name,
            config.version,
            to.display(),
            bundle.digest()
        ),
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}
