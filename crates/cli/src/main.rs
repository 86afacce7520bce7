//! The `shipgate` binary: parse the command line, dispatch, and turn the
//! result into an exit code ([`ExitCode`]: 0 go, 1 error, 2 no-go,
//! 3 rollback, 4 hold).

use clap::Parser as _;
use shipgate::commands::{self as cli, Cli, Command};
use shipgate_core::redact::{self, ScrubWriter};
use shipgate_engine::exit::ExitCode;

fn main() -> ExitCode {
    // Before anything is read or written: the secrets of the environment.
    redact::register_environment();
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` are not errors; a bad flag exits 1.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::Error
            } else {
                ExitCode::Success
            };
        }
    };
    // Whatever a command prints passes through the redaction layer.
    let mut out = ScrubWriter::new(std::io::stdout().lock());
    let result = match &cli.command {
        Command::Build(args) => cli::build::run(args, &mut out),
        Command::Bundle(cmd) => cli::bundle::run(cmd, &mut out),
        Command::Check(args) => cli::check::run(args, &mut out),
        Command::Eval(args) => cli::eval::run(args, &mut out),
        Command::Exception(cmd) => cli::exception::run(cmd, &mut out),
        Command::Keygen(args) => cli::bundle::keygen(args, &mut out),
        Command::New(args) => cli::new::run(args, &mut out),
        Command::Policy(cmd) => cli::policy::run(cmd, &mut out),
        Command::Replay(args) => cli::replay::run(args, &mut out),
        Command::Snapshot(args) => cli::snapshot::run(args, &mut out),
        Command::Test(args) => cli::test::run(args, &mut out),
        Command::Verify(args) => cli::check::run_verify(args, &mut out),
        Command::Watch(args) => cli::watch::run(args, &mut out),
    };
    drop(out);
    match result.map_err(anyhow::Error::from) {
        Ok(code) => code,
        Err(e) => {
            let message = format!("{e:#}");
            eprintln!(
                "error: {}",
                shipgate_core::escape::escape_lines(&redact::scrub(&message))
            );
            ExitCode::Error
        }
    }
}

/// Warnings, errors and progress (a policy compiled at load) to stderr; more
/// with `SHIPGATE_LOG=debug`. Every line passes through the redaction layer.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHIPGATE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "warn,{}=info",
            shipgate_engine::runtime::PROGRESS_TARGET
        ))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ScrubWriter::new(std::io::stderr()))
        // Colour only on a terminal, and never with NO_COLOR set: escape
        // codes in a CI log or a file are noise.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_target(false)
        .without_time()
        .init();
}
