//! `shipgate bundle build DIR -o X.bundle`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use shipgate_bundle::layout;
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;

use super::{FormatArg, size};
use crate::commands::CliError;

/// Arguments of `shipgate bundle build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The bundle's source: a directory with `bundle.toml`.
    pub dir: PathBuf,
    /// The `.bundle` file to write (default: NAME-VERSION.bundle, from the
    /// last part of the bundle's name).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle build`.
pub fn run(args: &BuildArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let bundle = shipgate_bundle::source::build(&args.dir)?;
    let config = bundle.config();
    let output = args.output.clone().unwrap_or_else(|| {
        let last = config.name.rsplit('/').next().unwrap_or(&config.name);
        PathBuf::from(format!("{last}-{}.bundle", config.version))
    });
    layout::write_bundle_file(&bundle, &output)?;
    let bytes: u64 = config.files.iter().map(|f| f.size).sum();
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "output": output,
            "name": config.name,
            "version": config.version,
            "sequence": config.sequence,
            "digest": bundle.digest(),
            "config_digest": bundle.config_digest(),
            "policies": config.policies,
            "files": config.files,
        }))?,
        Format::Text | Format::Markdown => {
            let policies: Vec<String> = config
                .policies
                .iter()
                .map(|p| format!("{} ({})", p.name, p.source))
                .collect();
            format!(
                "built {} {} (sequence {}) → {}\ndigest: {}\npolicies: {}\nfiles: {}, {}\n",
                config.name,
                config.version,
                config.sequence,
                output.display(),
                bundle.digest(),
                policies.join(", "),
                config.files.len(),
                size(bytes),
            )
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}
