//! `shipgate bundle test X.bundle`: the bundle's golden cases against its
//! own policies, through the `shipgate test` runner.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;
use shipgate_engine::runtime::CacheMode;

use super::FormatArg;
use crate::cases::discover::discover;
use crate::cases::file::{self, Policies};
use crate::cases::render;
use crate::cases::run::{RunResult, Runner};
use crate::commands::CliError;

/// Arguments of `shipgate bundle test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The `.bundle` file, an image-layout directory, or `oci://…`.
    pub bundle: PathBuf,
    /// List every case, not only the ones that need attention.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Compile policies without the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle test`: 0 when every case has its reviewed
/// decision, 1 otherwise (a bundle without cases fails: nothing was tested).
pub fn run(args: &TestArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let start = Instant::now();
    let bundle = super::open(&args.bundle)?;
    let scratch = tempfile::tempdir()
        .map_err(|e| CliError::Other(format!("cannot make a scratch directory: {e}")))?;
    // Canonical, so that the paths the case runner builds compare equal.
    let root = scratch
        .path()
        .canonicalize()
        .map_err(|e| CliError::Other(format!("cannot use the scratch directory: {e}")))?;
    let config = bundle.materialize(&root)?;
    let cases = root.join("cases");
    if !cases.is_dir() {
        return Err(CliError::Other(format!(
            "bundle `{}` has no golden cases (`cases/` in its source): nothing to test",
            bundle.name()
        )));
    }
    let target = discover(&cases).map_err(|e| CliError::Other(relative(&e.to_string(), &root)))?;
    let mut files = Vec::new();
    for path in &target.files {
        let loaded = file::load(path, false)
            .map_err(|e| CliError::Other(relative(&e.to_string(), &root)))?;
        for case in &loaded.cases {
            check_inside(&root, &config, &case.snapshot, &case.policies)
                .map_err(|e| CliError::Other(format!("{}: {e}", relative_path(path, &root))))?;
        }
        files.push(loaded);
    }
    let cache = if args.no_cache {
        CacheMode::Disabled
    } else {
        CacheMode::Default
    };
    let mut runner = Runner::new(cache);
    let mut result = RunResult::default();
    for loaded in &files {
        let r = runner
            .run_file(loaded, None, false)
            .map_err(|e| CliError::Other(relative(&e.to_string(), &root)))?;
        result.files.push(r);
    }
    result.coverage = runner.coverage().clone();
    result.took = start.elapsed();
    let ok = result.ok(false);
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "ok": ok,
            "bundle": bundle.name(),
            "version": bundle.config().version,
            "digest": bundle.digest(),
            "counts": result.counts(),
            "files": result.files,
            "coverage": result.coverage,
            "seconds": result.took.as_secs_f64(),
        }))?,
        Format::Text | Format::Markdown => format!(
            "bundle {} {} ({})\n{}",
            bundle.name(),
            bundle.config().version,
            bundle.digest(),
            render::text(&result, args.verbose, false)
        ),
    };
    out.write_all(relative(&text, &root).as_bytes())?;
    Ok(if ok {
        ExitCode::Success
    } else {
        ExitCode::Error
    })
}

/// A case in a bundle reads the bundle's policies (`config =
/// "../shipgate.toml"`) and a snapshot inside the bundle: nothing from the
/// machine it runs on.
fn check_inside(
    root: &Path,
    config: &Path,
    snapshot: &Path,
    policies: &Policies,
) -> Result<(), String> {
    match policies {
        Policies::Config(path) if path == config => {}
        Policies::Config(path) => {
            return Err(format!(
                "a case in a bundle names the bundle's own policies, `config = \"../shipgate.toml\"` (from `cases/`), not `{}`",
                relative_path(path, root)
            ));
        }
        Policies::Crate(_) => {
            return Err("`[policy]` is for policy crates; a bundle's cases name `config = \"../shipgate.toml\"`".into());
        }
    }
    if !snapshot.starts_with(root) {
        return Err(format!(
            "its snapshot `{}` is outside the bundle",
            snapshot.display()
        ));
    }
    Ok(())
}

/// `text` with the scratch directory's paths made relative to the bundle.
fn relative(text: &str, root: &Path) -> String {
    let prefix = format!("{}/", root.display());
    text.replace(&prefix, "")
}

fn relative_path(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
