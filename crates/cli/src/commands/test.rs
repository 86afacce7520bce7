//! `shipgate test`: run policy test cases against their reviewed decisions.

use shipgate_engine::exit::ExitCode;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::CliError;
use crate::cases::discover::discover;
use crate::cases::file::{self, Policies};
use crate::cases::render;
use crate::cases::run::{CrateUnderTest, RunResult, Runner};
use crate::policy_crate::{self, BuildOptions};
use shipgate_core::config::Format;
use shipgate_engine::runtime::CacheMode;

/// Arguments of `shipgate test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy crates (their `cases/` are run, after building the crate),
    /// folders of case files, or case files. Default: `.`.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Write the new and changed decisions as the reviewed ones (after
    /// reviewing the diffs), like `cargo insta accept`.
    #[arg(long)]
    pub accept: bool,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Do not build policy crates; use their last `shipgate build`.
    #[arg(long)]
    pub no_build: bool,
    /// List every case, not only the ones that need attention.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Do not show cargo's progress while building a crate.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format (`text` or `json`).
    #[arg(long, short = 'f', value_parser = super::format_parser(), default_value_t = Format::Text)]
    pub format: Format,
    /// Compile policies without the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// Runs `shipgate test`: 0 when every case has its reviewed decision (or,
/// with `--accept`, when every case ran), 1 otherwise.
pub fn run(args: &TestArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let start = Instant::now();
    let cache = if args.no_cache {
        CacheMode::Disabled
    } else {
        CacheMode::Default
    };
    let mut runner = Runner::new(cache);
    let mut result = RunResult::default();
    for path in &args.paths {
        let target = discover(path).map_err(|e| CliError::Other(e.to_string()))?;
        let in_crate = target.crate_dir.is_some();
        let files = target
            .files
            .iter()
            .map(|f| file::load(f, in_crate).map_err(|e| CliError::Other(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        // The crate is built when it was given itself, or when a case asks
        // for it with `[policy]`.
        let needs_crate = target.crate_dir.as_deref() == Some(path.as_path())
            || files
                .iter()
                .flat_map(|f| &f.cases)
                .any(|c| matches!(c.policies, Policies::Crate(_)));
        let crate_under_test = match &target.crate_dir {
            Some(dir) if needs_crate => Some(crate_under_test(dir, args)?),
            _ => None,
        };
        for orphan in &target.orphans {
            let r = runner
                .orphan(orphan, args.accept)
                .map_err(|e| CliError::Other(e.to_string()))?;
            result.files.push(r);
        }
        for loaded in &files {
            let r = runner
                .run_file(loaded, crate_under_test.as_ref(), args.accept)
                .map_err(|e| CliError::Other(e.to_string()))?;
            result.files.push(r);
        }
    }
    result.coverage = runner.coverage().clone();
    result.took = start.elapsed();

    if let Some(path) = &args.junit {
        let xml = render::junit(&result).map_err(CliError::Other)?;
        std::fs::write(path, xml)
            .map_err(|e| CliError::Other(format!("cannot write `{}`: {e}", path.display())))?;
    }
    let text = match args.format {
        Format::Json => super::json_text(&serde_json::json!({
            "ok": result.ok(args.accept),
            "counts": result.counts(),
            "files": result.files,
            "coverage": result.coverage,
            "seconds": result.took.as_secs_f64(),
        }))?,
        Format::Text | Format::Markdown => render::text(&result, args.verbose, args.accept),
    };
    out.write_all(text.as_bytes())?;
    Ok(if result.ok(args.accept) {
        ExitCode::Success
    } else {
        ExitCode::Error
    })
}

/// Builds the crate at `dir` (unless `--no-build`, which takes the
/// component of the last build) and names its component.
fn crate_under_test(dir: &std::path::Path, args: &TestArgs) -> Result<CrateUnderTest, CliError> {
    let options = BuildOptions {
        out: None,
        locked: false,
        show_cargo: !args.quiet && args.format != Format::Json,
    };
    if args.no_build {
        let component = policy_crate::default_output(dir)
            .map_err(|e| CliError::Other(format!("{}: {e}", dir.display())))?;
        let name = policy_crate::policy_name(&component)
            .map_err(|e| CliError::Other(format!("{}: {e}", component.display())))?;
        return Ok(CrateUnderTest { name, component });
    }
    let built = policy_crate::build(dir, &options)
        .map_err(|e| CliError::Other(format!("{}: {e}", dir.display())))?;
    if args.format != Format::Json && !args.quiet {
        eprintln!(
            "built {} {} in {:.1} s → {}",
            built.info.name,
            built.info.version,
            built.took.as_secs_f64(),
            built.component.display()
        );
    }
    Ok(CrateUnderTest {
        name: built.info.name,
        component: built.component,
    })
}
