//! `shipgate bundle inspect X.bundle [--trust trust.toml]`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use shipgate_bundle::Trust;
use shipgate_bundle::verify::SignatureCheck;
use shipgate_core::config::{Config, Format};
use shipgate_engine::exit::ExitCode;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::runtime::CacheMode;

use super::{FormatArg, size};
use crate::commands::CliError;

/// Arguments of `shipgate bundle inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The `.bundle` file, an image-layout directory, or `oci://…`.
    pub bundle: PathBuf,
    /// Check each signature against this trust file (valid, invalid,
    /// unknown key, not allowed).
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// Do not load the policies to list their rules.
    #[arg(long)]
    pub no_rules: bool,
    #[command(flatten)]
    format: FormatArg,
}

#[derive(Debug, Serialize)]
struct PolicyView {
    name: String,
    source: String,
    stages: Option<Vec<String>>,
    mode: String,
    on_error: String,
    rules: Option<Vec<String>>,
}

/// Runs `shipgate bundle inspect`.
pub fn run(args: &InspectArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let bundle = super::open(&args.bundle)?;
    let trust = match &args.trust {
        Some(path) => Trust::load(path)?,
        None => Trust::unconfigured(),
    };
    let signatures: Vec<SignatureCheck> = bundle.check_signatures(&trust);
    let (rules, rules_error) = if args.no_rules {
        (None, None)
    } else {
        match rules_of(&bundle) {
            Ok(rules) => (Some(rules), None),
            Err(e) => (None, Some(e)),
        }
    };
    let config = bundle.config();
    let policies: Vec<PolicyView> = config
        .policies
        .iter()
        .map(|p| PolicyView {
            name: p.name.clone(),
            source: p.source.clone(),
            stages: p
                .stages
                .as_ref()
                .map(|s| s.iter().map(ToString::to_string).collect()),
            mode: p.mode.to_string(),
            on_error: p.on_error.to_string(),
            rules: rules.as_ref().and_then(|r: &Vec<(String, Vec<String>)>| {
                r.iter()
                    .find(|(n, _)| *n == p.name)
                    .map(|(_, ids)| ids.clone())
            }),
        })
        .collect();
    let text = match args.format.format {
        Format::Json => crate::commands::json_text(&serde_json::json!({
            "name": config.name,
            "version": config.version,
            "sequence": config.sequence,
            "expires": config.expires,
            "min_shipgate": config.min_shipgate,
            "contract": config.contract,
            "description": config.description,
            "digest": bundle.digest(),
            "config_digest": bundle.config_digest(),
            "policies": policies,
            "rules_error": rules_error,
            "files": config.files,
            "signatures": signatures,
        }))?,
        Format::Text | Format::Markdown => {
            let mut t = format!(
                "bundle {} {} (sequence {})\ndigest: {}\nconfig: {}\n",
                config.name,
                config.version,
                config.sequence,
                bundle.digest(),
                bundle.config_digest()
            );
            if let Some(d) = &config.description {
                t.push_str(&format!("description: {d}\n"));
            }
            t.push_str(&format!(
                "expires: {}\nneeds: shipgate {}, contract {}\n\npolicies:\n",
                config.expires.as_deref().unwrap_or("never"),
                config.min_shipgate.as_deref().unwrap_or("any"),
                config.contract.as_deref().unwrap_or("any"),
            ));
            for p in &policies {
                t.push_str(&format!(
                    "  {}  {}  {}  {}  stages: {}\n",
                    p.name,
                    p.source,
                    p.mode,
                    p.on_error,
                    p.stages
                        .as_ref()
                        .map_or("its own".to_owned(), |s| s.join(", "))
                ));
                if let Some(rules) = &p.rules {
                    t.push_str(&format!("    rules: {}\n", rules.join(", ")));
                }
            }
            if let Some(e) = &rules_error {
                t.push_str(&format!("  (rules not listed: {e})\n"));
            }
            t.push_str("\nfiles:\n");
            for f in &config.files {
                t.push_str(&format!("  {}  {}  {}\n", f.digest, size(f.size), f.path));
            }
            t.push_str("\nsignatures:\n");
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

/// Each policy's declared rule ids, from its component's `info` (the
/// bundle's policies loaded as `bundle test` loads them).
fn rules_of(bundle: &shipgate_bundle::Bundle) -> Result<Vec<(String, Vec<String>)>, String> {
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = bundle
        .materialize(scratch.path())
        .map_err(|e| e.to_string())?;
    let config = Config::load(&path).map_err(|e| e.to_string())?;
    let set = PolicySet::load(&config, &CacheMode::Default).map_err(|e| e.to_string())?;
    Ok(set
        .policies()
        .map(|(name, policy)| {
            let mut ids: Vec<String> = policy.info().rules.iter().map(|r| r.id.clone()).collect();
            if ids.is_empty() {
                ids = configured_rule_ids(bundle, name);
            }
            (name.to_owned(), ids)
        })
        .collect())
}

/// The rule ids a policy's configuration declares (`rules = [{ id = … }]`,
/// as the built-in `rules` policy's CEL rules), for a policy whose
/// component declares none of its own.
fn configured_rule_ids(bundle: &shipgate_bundle::Bundle, policy: &str) -> Vec<String> {
    let Some(entry) = bundle.config().policies.iter().find(|p| p.name == policy) else {
        return Vec::new();
    };
    bundle
        .file(&entry.config)
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        .and_then(|config| {
            config.get("rules").and_then(|r| r.as_array()).map(|rules| {
                rules
                    .iter()
                    .filter_map(|r| r.get("id").and_then(|id| id.as_str()).map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}
