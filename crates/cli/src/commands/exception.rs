//! `shipgate exception sign | verify | inspect`: signed exceptions, the only
//! way to loosen an org policy, for a while, for some deployments (the
//! format, signing and checks are `shipgate_bundle::exception`'s; this
//! module reads flags and prints).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use shipgate_bundle::exception::{
    self, Exception, SignedException, VerifiedException, describe_length, format_time,
};
use shipgate_bundle::keys::PrivateKey;
use shipgate_bundle::{SignOutcome, Trust};
use shipgate_core::config::Format;
use shipgate_engine::exit::ExitCode;
use time::OffsetDateTime;

use super::CliError;
use super::bundle::FormatArg;

/// Subcommands of `shipgate exception`.
#[derive(Debug, Subcommand)]
pub enum ExceptionCommand {
    /// Sign an exception: from an `exception.toml`, write
    /// `<ticket>.exception`; given a `.exception` file, add a signature to
    /// it in place.
    Sign(SignArgs),
    /// Verify an exception against a trust file (its `[exceptions]` keys,
    /// threshold and `max_days`) and the clock; with `--service` and
    /// `--environment`, also whether it applies to that deployment.
    Verify(VerifyArgs),
    /// Show an exception's fields, digest and signatures.
    Inspect(InspectArgs),
}

/// Runs `shipgate exception …`.
pub fn run(command: &ExceptionCommand, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    match command {
        ExceptionCommand::Sign(args) => sign(args, out),
        ExceptionCommand::Verify(args) => verify(args, out),
        ExceptionCommand::Inspect(args) => inspect(args, out),
    }
}

/// Arguments of `shipgate exception sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// An `exception.toml` (a new signed exception is written), or a
    /// `.exception` file (a signature is added to it).
    pub file: PathBuf,
    /// The private key (`shipgate keygen` writes one; the trust file must
    /// allow it for exceptions).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Where to write the signed exception. Default: `<ticket>.exception`
    /// for a source (signed in place when it holds the same exception),
    /// the input itself for a `.exception` file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
}

/// Arguments of `shipgate exception verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The `.exception` file.
    pub file: PathBuf,
    /// The trust file: its `[exceptions]` table says which keys may sign
    /// exceptions, how many must, and for how long one may run.
    #[arg(long, value_name = "FILE")]
    pub trust: PathBuf,
    /// The time to check validity against (RFC 3339); default: now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// The deployment's service: also check that the exception applies to
    /// it (with `--environment`).
    #[arg(long, value_name = "NAME", requires = "environment")]
    pub service: Option<String>,
    /// The deployment's environment (with `--service`).
    #[arg(long, value_name = "NAME", requires = "service")]
    pub environment: Option<String>,
    #[command(flatten)]
    format: FormatArg,
}

/// Arguments of `shipgate exception inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The `.exception` file.
    pub file: PathBuf,
    /// Check each signature against this trust file (valid, invalid,
    /// unknown key, not allowed).
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate exception sign`. Signing again with a key that signed
/// already changes nothing and succeeds.
fn sign(args: &SignArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let key = PrivateKey::read(&args.key)?;
    let bytes = super::read(&args.file, INPUT_CAP)?;
    let (mut signed, output) = if is_envelope(&bytes) {
        let signed = SignedException::from_bytes(&bytes, &args.file.display().to_string())?;
        (
            signed,
            args.output.clone().unwrap_or_else(|| args.file.clone()),
        )
    } else {
        let text = String::from_utf8(bytes).map_err(|_| {
            CliError::Other(format!(
                "{}: not an exception source (not UTF-8 text) nor a signed exception",
                args.file.display()
            ))
        })?;
        let source = Exception::parse(&text, &args.file.display().to_string())?;
        let output = args
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(default_file_name(&source.ticket)));
        (existing_or_new(source, &output)?, output)
    };
    let outcome = signed.sign(&key)?;
    let bytes = signed.to_bytes();
    if std::fs::read(&output).ok().as_deref() != Some(bytes.as_slice()) {
        signed.write(&output)?;
    }
    let label = signed.exception().label();
    let signers = signed.signers();
    let text = match args.format.format {
        Format::Json => super::json_text(&serde_json::json!({
            "exception": label,
            "ticket": signed.exception().ticket,
            "keyid": key.id(),
            "added": outcome == SignOutcome::Added,
            "signers": signers,
            "digest": signed.digest(),
            "output": output,
        }))?,
        Format::Text | Format::Markdown => {
            let what = match outcome {
                SignOutcome::Added => "signed",
                SignOutcome::AlreadySigned => "already signed (unchanged)",
            };
            format!(
                "{what}: {label} with {}\nsigners: {}\ndigest: {}\nfile: {}\n",
                key.id(),
                signers.join(", "),
                signed.digest(),
                output.display(),
            )
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}

/// What `sign` reads: a source or a signed exception, either capped.
const INPUT_CAP: shipgate_core::bounded::Cap = shipgate_core::bounded::Cap {
    what: "an exception file",
    bytes: if exception::SOURCE_CAP.bytes > exception::SIGNED_CAP.bytes {
        exception::SOURCE_CAP.bytes
    } else {
        exception::SIGNED_CAP.bytes
    },
};

/// Whether `bytes` are a JSON envelope rather than TOML (a TOML document
/// never starts with `{`).
fn is_envelope(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// `<ticket>.exception`, with every character a file name should not have
/// replaced by `-`.
fn default_file_name(ticket: &str) -> String {
    let safe: String = ticket
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    let stem = if safe.is_empty() { "exception" } else { safe };
    format!("{stem}.{}", exception::EXTENSION)
}

/// The signed exception already at `output` when it holds `source` (a
/// second signer), a new one when there is no file; any other file there
/// is refused, never overwritten.
fn existing_or_new(source: Exception, output: &Path) -> Result<SignedException, CliError> {
    let fresh = SignedException::new(source);
    if !output.exists() {
        return Ok(fresh);
    }
    let existing = SignedException::read(output)?;
    if existing.digest() != fresh.digest() {
        return Err(CliError::Other(format!(
            "`{}` already exists and holds another exception ({}, digest {}); this source's digest is {}\n  help: remove it, or write elsewhere with `-o FILE`",
            output.display(),
            existing.exception().label(),
            existing.digest(),
            fresh.digest()
        )));
    }
    Ok(existing)
}

/// `--now`, or the clock.
fn now(flag: Option<&str>) -> Result<OffsetDateTime, CliError> {
    match flag {
        None => Ok(OffsetDateTime::now_utc()),
        Some(text) => shipgate_bundle::verify::parse_time(text).map_err(|_| {
            CliError::Other(format!(
                "`--now {text}` is not an RFC 3339 time (such as `2027-01-01T00:00:00Z`)"
            ))
        }),
    }
}

/// Runs `shipgate exception verify`: 0 when verified (and in scope, when
/// asked), 1 when refused. With `--format json` a refusal is printed as
/// `{"verified": false, "reason": …, "error": …}`, and an exception out of
/// scope as `{"verified": true, "applies": false, "reason":
/// "exception-out-of-scope", …}`.
fn verify(args: &VerifyArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let json = args.format.format == Format::Json;
    let at = now(args.now.as_deref())?;
    let checked = Trust::load(&args.trust).and_then(|trust| {
        let signed = SignedException::read(&args.file)?;
        let verified = signed.verify(&trust, at)?;
        Ok((trust, verified))
    });
    let (trust, verified) = match checked {
        Ok(ok) => ok,
        Err(e) if json => {
            out.write_all(
                super::json_text(&serde_json::json!({
                    "verified": false,
                    "file": args.file,
                    "reason": e.reason(),
                    "error": e.to_string(),
                }))?
                .as_bytes(),
            )?;
            return Ok(ExitCode::Error);
        }
        Err(e) => return Err(e.into()),
    };
    let scope = match (&args.service, &args.environment) {
        (Some(service), Some(environment)) => Some(
            verified
                .check_scope(service, environment)
                .map(|()| (service, environment)),
        ),
        _ => None,
    };
    let (threshold, allowed) = trust
        .exceptions()
        .map_or((1, 0), |r| (r.threshold, r.keys.len()));
    if json {
        let mut value = serde_json::json!({
            "verified": true,
            "file": args.file,
            "exception": verified,
            "threshold": threshold,
            "now": format_time(at),
        });
        let code = match &scope {
            None => ExitCode::Success,
            Some(Ok(_)) => {
                value["applies"] = serde_json::Value::Bool(true);
                ExitCode::Success
            }
            Some(Err(e)) => {
                value["applies"] = serde_json::Value::Bool(false);
                value["reason"] = e.reason().into();
                value["error"] = e.to_string().into();
                ExitCode::Error
            }
        };
        out.write_all(super::json_text(&value)?.as_bytes())?;
        return Ok(code);
    }
    let applies = match scope {
        Some(Err(e)) => return Err(e.into()),
        Some(Ok((service, environment))) => Some(format!(
            "applies to service `{service}` in `{environment}`\n"
        )),
        None => None,
    };
    let mut text = format!(
        "verified {}\ndigest: {}\nscope: {}\nsigned by: {} ({threshold} of {allowed} required by the trust file's `[exceptions]`)\nvalid: {} to {} ({} left)\nreason: {}\n",
        verified.label(),
        verified.digest,
        scope_text(&verified),
        verified.signers.join(", "),
        format_time(verified.issued),
        format_time(verified.expires),
        describe_length(verified.expires - at.max(verified.issued)),
        verified.reason,
    );
    text.push_str(applies.as_deref().unwrap_or_default());
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}

/// `service `checkout`, environment `production``, `every service, …`.
fn scope_text(verified: &VerifiedException) -> String {
    let service = verified
        .service
        .as_ref()
        .map_or("every service".to_owned(), |s| format!("service `{s}`"));
    let environment = verified
        .environment
        .as_ref()
        .map_or("every environment".to_owned(), |e| {
            format!("environment `{e}`")
        });
    format!("{service}, {environment}")
}

/// Runs `shipgate exception inspect`: what the file says, not verified.
fn inspect(args: &InspectArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let signed = SignedException::read(&args.file)?;
    let trust = match &args.trust {
        Some(path) => Trust::load(path)?,
        None => Trust::unconfigured(),
    };
    let signatures = signed.check_signatures(&trust);
    let e = signed.exception();
    let text = match args.format.format {
        Format::Json => super::json_text(&serde_json::json!({
            "policy": e.policy,
            "rule": e.rule,
            "service": e.service,
            "environment": e.environment,
            "reason": e.reason,
            "ticket": e.ticket,
            "issued": format_time(e.issued),
            "expires": format_time(e.expires),
            "length": describe_length(e.length()),
            "digest": signed.digest(),
            "signers": signed.signers(),
            "signatures": signatures,
        }))?,
        Format::Text | Format::Markdown => {
            let mut t = format!(
                "{}\ndigest: {}\npolicy: {}\nrule: {}\nservice: {}\nenvironment: {}\nreason: {}\nticket: {}\nissued: {}\nexpires: {} (runs for {})\n\nsignatures:\n",
                e.label(),
                signed.digest(),
                e.policy,
                e.rule.as_deref().unwrap_or("(all its rules)"),
                e.service.as_deref().unwrap_or("(every service)"),
                e.environment.as_deref().unwrap_or("(every environment)"),
                e.reason,
                e.ticket,
                format_time(e.issued),
                format_time(e.expires),
                describe_length(e.length()),
            );
            if signatures.is_empty() {
                t.push_str("  (unsigned)\n");
            }
            for s in &signatures {
                t.push_str(&format!("  {}  {}\n", s.keyid, s.status));
            }
            t
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}
