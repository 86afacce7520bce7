//! `shipgate bundle push`, `pull` and `lock`: bundles through an OCI
//! registry (`shipgate-fetch` over `shipgate-registry`), with the
//! `[registry]` and `[trust]` settings of the configuration (`--config`,
//! else the nearest `shipgate.toml`, else the defaults).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use shipgate_bundle::layout;
use shipgate_core::config::{Config, Format};
use shipgate_engine::exit::ExitCode;
use shipgate_fetch::{Fetcher, Lock, Locked, Settings};
use shipgate_registry::Reference;

use super::FormatArg;
use crate::commands::{CliError, Discovery, discover_config};

/// Where the registry settings come from, and `--offline`.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The configuration whose `[registry]` and `[trust]` to use; default
    /// the nearest `shipgate.toml` from here up to the repository root,
    /// else the defaults (store `.shipgate/bundles`, no trust file).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use only the local store; never ask a registry.
    #[arg(long)]
    pub offline: bool,
}

impl RegistryArgs {
    /// The configuration (not its bundles: they are not fetched here).
    pub(super) fn config(&self) -> Result<Config, CliError> {
        if let Some(path) = &self.config {
            return Ok(Config::load(path)?);
        }
        let cwd = std::env::current_dir().map_err(|e| CliError::Other(e.to_string()))?;
        match discover_config(&cwd) {
            Discovery::Found(path) if path.parent() == Some(cwd.as_path()) => {
                Ok(Config::load(Path::new(crate::commands::CONFIG_FILE))?)
            }
            Discovery::Found(path) => Ok(Config::load(&path)?),
            Discovery::None { .. } => Ok(Config::from_default_toml("", "<defaults>")?),
        }
    }

    /// A fetcher with the configuration's settings; `trust` replaces its
    /// `[trust] file`.
    pub(super) fn fetcher(&self, trust: Option<&Path>) -> Result<Fetcher, CliError> {
        let config = self.config()?;
        let mut settings = Settings::of(&config, self.offline);
        if let Some(trust) = trust {
            settings.trust_file = Some(trust.to_owned());
        }
        fetcher_error(Fetcher::open(settings))
    }
}

/// A fetch error as the CLI reports it.
fn fetcher_error<T>(result: Result<T, shipgate_fetch::Error>) -> Result<T, CliError> {
    result.map_err(|e| match e {
        shipgate_fetch::Error::Bundle(e) => CliError::Bundle(e),
        other => CliError::Other(other.to_string()),
    })
}

/// `oci://…` parsed, or an error saying how to write one.
pub(super) fn reference(text: &str) -> Result<Reference, CliError> {
    Reference::parse(text).map_err(|e| CliError::Other(e.to_string()))
}

/// Arguments of `shipgate bundle push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The `.bundle` file (or an image-layout directory).
    pub bundle: PathBuf,
    /// Where to: `oci://HOST/REPOSITORY:TAG`.
    pub reference: String,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle push`: the bundle's manifest and blobs byte for
/// byte, so its digest is the one built and signed.
pub fn push(args: &PushArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let bundle = super::open(&args.bundle)?;
    let target = reference(&args.reference)?;
    let mut fetcher = args.registry.fetcher(None)?;
    let digest = fetcher_error(fetcher.push(&bundle, &target))?;
    let signers = bundle.signers();
    if signers.is_empty() {
        tracing::warn!(
            "bundle `{}` is unsigned: a team whose `[trust]` file names keys for it will refuse it (`shipgate bundle sign`)",
            bundle.name()
        );
    }
    let pinned = target.with_digest(digest.clone());
    let pin = format!("oci://{}/{}@{}", pinned.host(), pinned.repository(), digest);
    let config = bundle.config();
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "pushed": target.to_string(),
            "name": config.name,
            "version": config.version,
            "sequence": config.sequence,
            "digest": digest.to_string(),
            "signers": signers,
            "pin": pin,
        }))?,
        Format::Text | Format::Markdown => format!(
            "pushed {} {} → {}\ndigest: {}\nsigned by: {}\npin it in shipgate.toml:\n  [[bundles]]\n  source = \"{pin}\"\n",
            config.name,
            config.version,
            target,
            digest,
            if signers.is_empty() {
                "nobody (unsigned)".to_owned()
            } else {
                signers.join(", ")
            },
        ),
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}

/// Arguments of `shipgate bundle pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// What to pull: `oci://HOST/REPOSITORY@sha256:…` or `…:TAG`.
    pub reference: String,
    /// Verify against this trust file instead of the configuration's
    /// `[trust] file`.
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// Also write the bundle to this `.bundle` file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The time to check expiry against (RFC 3339); default: now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle pull`: fetched (a tag resolved to its digest
/// first), verified against the trust file and the accepted sequences,
/// kept in the local store for `--offline`, and its sequence recorded.
pub fn pull(args: &PullArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let now = super::now(args.now.as_deref())?;
    let asked = reference(&args.reference)?;
    let mut fetcher = args.registry.fetcher(args.trust.as_deref())?;
    let digest = fetcher_error(fetcher.resolve(&asked))?;
    let fetched = fetcher_error(fetcher.fetch(&asked.with_digest(digest), now))?;
    if let Some(output) = &args.output {
        layout::write_bundle_file(&fetched.bundle, output)?;
    }
    let v = &fetched.verified;
    let store = fetcher.store_dir().display().to_string();
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "pulled": fetched.reference.to_string(),
            "name": v.name,
            "version": v.version,
            "sequence": v.sequence,
            "expires": v.expires,
            "digest": v.digest,
            "signers": v.signers,
            "trusted": v.trusted,
            "scope": v.scope,
            "threshold": v.threshold,
            "from_store": fetched.from_store,
            "store": store,
            "output": args.output,
        }))?,
        Format::Text | Format::Markdown => {
            let mut text = format!(
                "pulled {} {} (sequence {}) from {}\ndigest: {}\n",
                v.name,
                v.version,
                v.sequence,
                if fetched.from_store {
                    "the local store"
                } else {
                    "the registry"
                },
                v.digest,
            );
            if v.trusted {
                text.push_str(&format!(
                    "verified: signed by {} ({} of {} required by the trust rule `{}`)\n",
                    v.signers.join(", "),
                    v.signers.len(),
                    v.threshold.unwrap_or_default(),
                    v.scope.as_deref().unwrap_or_default()
                ));
            } else {
                text.push_str("not verified: no trust file (`[trust] file` or `--trust`); checked against its digest only\n");
            }
            text.push_str(&format!("kept in {store}\n"));
            if let Some(output) = &args.output {
                text.push_str(&format!("written to {}\n", output.display()));
            }
            text
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}

/// Arguments of `shipgate bundle lock`.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Resolve every tag again (else a tag already locked keeps its digest).
    #[arg(long)]
    pub update: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `shipgate bundle lock`: each tagged `[[bundles]]` source resolved
/// to its digest, pulled and verified, and recorded in `shipgate.lock`
/// beside the configuration (entries of sources no longer configured are
/// dropped).
pub fn lock(args: &LockArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let config = args.registry.config()?;
    if config.path.is_none() {
        return Err(CliError::Other(
            "no `shipgate.toml` here: `bundle lock` locks the `[[bundles]]` of a configuration (give one with `--config FILE`)".into(),
        ));
    }
    let mut lock = Lock::load(&config.base_dir())?;
    let before = lock.clone();
    let mut fetcher = fetcher_error(Fetcher::open(Settings::of(&config, args.registry.offline)))?;
    let now = time::OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for (index, entry) in config.bundles.iter().enumerate() {
        let at = |message: String| {
            CliError::Config(config.key_error(&format!("bundles[{index}].source"), &message))
        };
        let asked = reference(&entry.source).map_err(|e| at(e.to_string()))?;
        if asked.digest().is_some() {
            rows.push((entry.source.clone(), "pinned in shipgate.toml".to_owned()));
            continue;
        }
        if !args.update
            && let Some(locked) = lock.get(&entry.source)
        {
            rows.push((entry.source.clone(), format!("{} (kept)", locked.digest)));
            continue;
        }
        let digest = fetcher
            .resolve(&asked)
            .map_err(|e| at(format!("bundle `{}`: {e}", entry.source)))?;
        let fetched = fetcher
            .fetch(&asked.with_digest(digest.clone()), now)
            .map_err(|e| at(format!("bundle `{}`: {e}", entry.source)))?;
        lock.set(Locked {
            source: entry.source.clone(),
            digest: digest.to_string(),
            name: fetched.verified.name.clone(),
            version: fetched.verified.version.clone(),
        });
        rows.push((
            entry.source.clone(),
            format!(
                "{digest} ({} {})",
                fetched.verified.name, fetched.verified.version
            ),
        ));
    }
    let sources: Vec<&str> = config.bundles.iter().map(|b| b.source.as_str()).collect();
    lock.retain(&sources);
    let changed = lock != before;
    if changed {
        lock.save().map_err(|e| {
            CliError::Other(format!("cannot write `{}`: {e}", lock.path().display()))
        })?;
    }
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "lock": lock.path(),
            "changed": changed,
            "bundles": lock.entries(),
        }))?,
        Format::Text | Format::Markdown => {
            let mut text = String::new();
            for (source, what) in &rows {
                text.push_str(&format!("{source} → {what}\n"));
            }
            text.push_str(&format!(
                "{} {}\n",
                lock.path().display(),
                if changed { "written" } else { "unchanged" }
            ));
            text
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}
