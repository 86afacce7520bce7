//! `shipgate new policy NAME`: create a policy crate to start from (see
//! [`crate::scaffold`]).

use shipgate_engine::exit::ExitCode;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::CliError;
use crate::scaffold::{self, Created, Lockfile, Sdk};

/// Arguments of `shipgate new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// What to create.
    #[command(subcommand)]
    pub command: NewCommand,
}

/// Subcommands of `shipgate new`.
#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// Create a policy crate: a sample canary rule with unit tests, and a test
    /// case with its reviewed decision.
    Policy(NewPolicyArgs),
}

/// Arguments of `shipgate new policy`.
#[derive(Debug, Args)]
pub struct NewPolicyArgs {
    /// The policy's name, also its crate's: a lowercase ASCII letter, then
    /// lowercase letters, digits, `-` and `_` (e.g. `team-gate`).
    pub name: String,
    /// Where to create the crate: a new or empty directory. Default `./NAME`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Depend on the guest SDK at PATH (a Shipgate checkout's `guest-sdk`),
    /// for developing the SDK itself. Default: write the SDK this binary
    /// carries into the crate's `vendor/` (the crate then builds anywhere).
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

/// Runs `shipgate new`; returns 0 once the crate is written.
pub fn run(args: &NewArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    match &args.command {
        NewCommand::Policy(args) => policy(args, out),
    }
}

/// `shipgate new policy`: creates the crate and prints what it wrote and
/// what to run next.
fn policy(args: &NewPolicyArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let other = |e: scaffold::ScaffoldError| CliError::Other(e.to_string());
    // The name first: it is also the default directory.
    scaffold::validate_name(&args.name).map_err(other)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let created = scaffold::create(&args.name, &dir, args.sdk.as_deref()).map_err(other)?;
    out.write_all(summary(&created).as_bytes())?;
    Ok(ExitCode::Success)
}

/// What `shipgate new policy` prints: the files, the SDK, the next steps.
pub fn summary(created: &Created) -> String {
    let mut text = format!(
        "Created policy crate `{}` in {}:\n",
        created.name,
        created.dir.display()
    );
    let vendored = Path::new(scaffold::vendor::VENDOR_DIR);
    for file in created.files.iter().filter(|f| !f.starts_with(vendored)) {
        text.push_str(&format!("  {}\n", file.display()));
    }
    match &created.sdk {
        Sdk::Vendored { dir, version } => {
            let count = created
                .files
                .iter()
                .filter(|f| f.starts_with(vendored))
                .count();
            text.push_str(&format!(
                "  {}/ ({count} files)\n\nIt depends on the guest SDK {version} that this binary \
                 carries, written to {}: commit {}/ with the crate, and it builds on any \
                 machine, with no Shipgate checkout.\n",
                vendored.display(),
                dir.display(),
                vendored.display(),
            ));
        }
        Sdk::Path(path) => {
            text.push_str(&format!(
                "\nIt depends on the guest SDK at {}.\n",
                path.display()
            ));
        }
    }
    match &created.lockfile {
        Some(Lockfile::Embedded) => text.push_str(
            "Its Cargo.lock holds the versions the SDK is tested with, so the crate builds with \
             them, and offline (cargo drops the entries the crate does not need).\n",
        ),
        Some(Lockfile::Copied(lock)) => text.push_str(&format!(
            "Its Cargo.lock is a copy of {}: the versions the SDK is tested with, so the crate \
             builds with them, and offline (cargo drops the entries the crate does not need).\n",
            lock.display()
        )),
        None => {}
    }
    text.push_str(&format!(
        "\nNext steps:\n  cd {}\n  cargo test\n  shipgate build\n  shipgate test\n",
        shell_word(&created.dir.to_string_lossy()),
    ));
    text
}

/// `word` as one shell word: as it is when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+=,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The shape `main.rs` gives the command line: `shipgate new ...`.
    #[derive(Debug, Parser)]
    struct TestCli {
        #[command(subcommand)]
        command: TestCommand,
    }

    #[derive(Debug, Subcommand)]
    enum TestCommand {
        New(NewArgs),
    }

    fn parse(args: &[&str]) -> Result<NewPolicyArgs, clap::Error> {
        let cli = TestCli::try_parse_from(std::iter::once("shipgate").chain(args.iter().copied()))?;
        let TestCommand::New(NewArgs {
            command: NewCommand::Policy(args),
        }) = cli.command;
        Ok(args)
    }

    #[test]
    fn new_policy_parses_its_name_and_options() {
        let args = parse(&["new", "policy", "team-gate"]).unwrap();
        assert_eq!(args.name, "team-gate");
        assert_eq!((args.dir, args.sdk), (None, None));
        let args = parse(&[
            "new",
            "policy",
            "x",
            "--dir",
            "out/x",
            "--sdk",
            "/src/shipgate/guest-sdk",
        ])
        .unwrap();
        assert_eq!(args.dir, Some(PathBuf::from("out/x")));
        assert_eq!(args.sdk, Some(PathBuf::from("/src/shipgate/guest-sdk")));
        assert!(parse(&["new", "policy"]).is_err(), "NAME is required");
        assert!(parse(&["new", "crate", "x"]).is_err());
        assert!(parse(&["new", "policy", "x", "--force"]).is_err());
    }

    #[test]
    fn run_writes_the_crate_and_prints_the_files_and_next_steps() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("my gate");
        let args = NewArgs {
            command: NewCommand::Policy(NewPolicyArgs {
                name: "team-gate".into(),
                dir: Some(dir.clone()),
                sdk: None,
            }),
        };
        let mut out = Vec::new();
        assert_eq!(run(&args, &mut out).unwrap(), ExitCode::Success);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with(&format!(
                "Created policy crate `team-gate` in {}:\n",
                dir.display()
            )),
            "{out}"
        );
        for file in [
            "Cargo.toml",
            "Cargo.lock",
            ".gitignore",
            "README.md",
            "src/lib.rs",
            "cases/error-spike.toml",
            "cases/error-spike.expected.toml",
            "cases/snapshots/error-spike.json",
        ] {
            assert!(
                out.contains(&format!("\n  {file}")),
                "{file} not listed: {out}"
            );
            assert!(dir.join(file).is_file(), "{file} not written");
        }
        // The vendored SDK is one line, not a file list.
        assert!(
            out.contains(&format!(
                "\n  vendor/ ({} files)\n\nIt depends on the guest SDK {} that this binary \
                 carries, written to vendor/shipgate-sdk: commit vendor/ with the crate, and it \
                 builds on any machine, with no Shipgate checkout.\n\
                 Its Cargo.lock holds the versions the SDK is tested with",
                scaffold::vendor::files().unwrap().len(),
                env!("CARGO_PKG_VERSION")
            )),
            "{out}"
        );
        assert!(!out.contains("\n  vendor/shipgate-sdk/"), "{out}");
        assert!(dir.join("vendor/shipgate-sdk/src/lib.rs").is_file());
        let steps = format!(
            "Next steps:\n  cd '{}'\n  cargo test\n  shipgate build\n  shipgate test\n",
            dir.display()
        );
        assert!(out.ends_with(&steps), "{out}");
    }

    #[test]
    fn errors_are_worded_for_a_person_and_write_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("x");
        let new = |name: &str, sdk: Option<PathBuf>| NewArgs {
            command: NewCommand::Policy(NewPolicyArgs {
                name: name.into(),
                dir: Some(dir.clone()),
                sdk,
            }),
        };
        let mut out = Vec::new();
        let e = run(&new("Team_Gate", None), &mut out).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`Team_Gate` is not a valid policy name: it starts with `T`"),
            "{e}"
        );
        let e = run(&new("team-gate", Some(tmp.path().to_owned())), &mut out).unwrap_err();
        assert!(
            e.to_string().contains("there is no Cargo.toml in it"),
            "{e}"
        );
        assert!(out.is_empty());
        assert!(!dir.exists());
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("team-gate"), "team-gate");
        assert_eq!(shell_word("/tmp/a_b/c.d"), "/tmp/a_b/c.d");
        assert_eq!(shell_word("my gate"), "'my gate'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
