//! `shipgate build`: build a policy crate into a component.

use shipgate_engine::exit::ExitCode;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::CliError;
use crate::policy_crate::{self, BuildOptions, BuiltPolicy};
use shipgate_core::config::Format;

/// Arguments of `shipgate build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The policy crate: its directory or its Cargo.toml.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Where to write the component; default
    /// `<target dir>/shipgate/<package>.wasm`.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Build with the versions in Cargo.lock only (`cargo build --locked`).
    #[arg(long)]
    pub locked: bool,
    /// Do not show cargo's progress.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format (`text` or `json`).
    #[arg(long, short = 'f', value_parser = super::format_parser(), default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `shipgate build`: 0 when the component was written, 1 otherwise.
pub fn run(args: &BuildArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let options = BuildOptions {
        out: args.out.clone(),
        locked: args.locked,
        show_cargo: !args.quiet && args.format != Format::Json,
    };
    let built = policy_crate::build(&args.path, &options)
        .map_err(|e| CliError::Other(format!("{}: {e}", args.path.display())))?;
    let text = match args.format {
        Format::Json => super::json_text(&built)?,
        Format::Text | Format::Markdown => text(&built),
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}

/// What a person reads: the component, its digest, and the config entry
/// that uses it, pinned.
pub fn text(b: &BuiltPolicy) -> String {
    let rules = match b.info.rules.len() {
        0 => "no rules declared".to_owned(),
        1 => "1 rule".to_owned(),
        n => format!("{n} rules"),
    };
    let stages: Vec<String> = b.info.stages.iter().map(ToString::to_string).collect();
    format!(
        "built      {} {} ({}; stages {}) in {:.1} s\n\
         component  {} ({} bytes)\n\
         sha256     {}\n\
         imports    (none)\n\
         exports    {}\n\
         \n\
         Use it in shipgate.toml:\n\
         \n\
         [[policies]]\n\
         name = \"{}\"\n\
         source = \"{}\"\n\
         sha256 = \"{}\"\n",
        b.info.name,
        b.info.version,
        rules,
        stages.join(", "),
        b.took.as_secs_f64(),
        b.component.display(),
        b.bytes,
        b.sha256,
        b.exports.join(", "),
        b.info.name,
        relative(&b.component).display(),
        b.sha256,
    )
}

/// `path` relative to the current directory when it lies below it (a
/// config's `source` is relative to the config's folder; this is the
/// likelier start than cargo's absolute target path).
fn relative(path: &std::path::Path) -> std::path::PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(std::path::Path::to_owned))
        .unwrap_or_else(|| path.to_owned())
}
