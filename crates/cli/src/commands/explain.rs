//! `shipgate policy explain`: the effective policy set of a configuration —
//! every policy after the org file's and the configuration's bundles are
//! merged by layer and the configuration's own tables applied: its layer,
//! whether it is required, and where each setting comes from (a file and
//! line, or a bundle and its digest).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use shipgate_core::config::{Config, Format, PolicyConfig};
use shipgate_engine::exit::ExitCode;

use super::{BundleArgs, CliError};

/// Arguments of `shipgate policy explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The configuration; default the nearest `shipgate.toml` from here up to
    /// the repository root, else the built-in default.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where bundles come from.
    #[command(flatten)]
    pub bundles: BundleArgs,
    /// Output format (`text` or `json`).
    #[arg(long, short = 'f', value_parser = super::format_parser(), default_value_t = Format::Text)]
    pub format: Format,
}

/// One policy of the effective set.
#[derive(Debug, Serialize)]
struct Explained {
    name: String,
    /// `org`, `org/GROUP`, `team` (the configuration's own), `bundle` (a
    /// bundle without a layer) or `built-in default`.
    layer: String,
    /// Whether a lower layer may only tighten it.
    required: bool,
    /// The bundle it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<String>,
    /// `tightened` or `replaced` by the configuration's table, where.
    #[serde(skip_serializing_if = "Option::is_none")]
    overridden: Option<String>,
    /// Each setting and where it comes from.
    settings: Vec<Setting>,
    /// The `config` keys a lower layer may tighten, and which way.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    may_tighten: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Setting {
    key: String,
    value: String,
    from: String,
}

/// Runs `shipgate policy explain`.
pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let config = super::load_config_with_bundles(args.config.as_deref(), &args.bundles)?;
    let org = args.bundles.org.as_ref().map(|p| p.display().to_string());
    let policies: Vec<Explained> = config
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| explain(&config, i, p))
        .collect();
    let text = match args.format {
        Format::Json => super::json_text(&serde_json::json!({
            "config": config.file_name(),
            "org": org,
            "policies": policies,
            "floors": &config.floors,
            "floors_set_by": &config.floors.set_by,
            "exceptions": &config.waivers,
            "bundles": config.bundle_origins(),
        }))?,
        Format::Text | Format::Markdown => render(&config, org.as_deref(), &policies),
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}

fn explain(config: &Config, index: usize, policy: &PolicyConfig) -> Explained {
    let own = |key: &str| -> String {
        let error = config.key_error(&format!("policies[{index}].{key}"), "");
        if error.line > 0 {
            format!("{}:{}", config.file_name(), error.line)
        } else {
            config.file_name().to_owned()
        }
    };
    let bundle_label = policy
        .bundle
        .as_ref()
        .map(|b| format!("{} {} ({})", b.name, b.version, short(&b.digest)));
    let replaced = policy.overridden.as_ref().is_some_and(|o| o.replaced);
    let from_file = policy.bundle.is_none() || replaced;
    let default_config = config.path.is_none();
    let whole = |key: &str| -> String {
        if default_config {
            "built-in default".to_owned()
        } else if from_file {
            own(key)
        } else {
            bundle_label.clone().unwrap_or_default()
        }
    };
    let mut settings = vec![
        Setting {
            key: "source".into(),
            value: policy.source.to_string(),
            from: whole("source"),
        },
        Setting {
            key: "stages".into(),
            value: policy.stages.as_ref().map_or_else(
                || "as the policy declares".to_owned(),
                |s| {
                    s.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ),
            from: whole("stages"),
        },
        Setting {
            key: "mode".into(),
            value: policy.mode.to_string(),
            from: whole("mode"),
        },
        Setting {
            key: "on_error".into(),
            value: policy.on_error.to_string(),
            from: whole("on_error"),
        },
    ];
    let changed: &[String] = policy
        .overridden
        .as_ref()
        .map_or(&[], |o| o.changed.as_slice());
    for (key, value) in shipgate_core::config::layering::leaves(&policy.config) {
        let value = value.to_string();
        let from = if !replaced && changed.contains(&key) {
            format!("{} (tightened)", own(&format!("config.{key}")))
        } else {
            whole(&format!("config.{key}"))
        };
        settings.push(Setting {
            key: format!("config.{key}"),
            value,
            from,
        });
    }
    let layer = match (&policy.layer, &policy.bundle) {
        (Some(rule), _) => rule.layer.clone(),
        (None, Some(_)) => "bundle".to_owned(),
        (None, None) if default_config => "built-in default".to_owned(),
        (None, None) => "team".to_owned(),
    };
    Explained {
        name: policy.name.clone(),
        layer,
        required: policy.layer.as_ref().is_some_and(|r| r.required),
        bundle: bundle_label.clone(),
        overridden: policy.overridden.as_ref().map(|o| {
            format!(
                "{} by {}:{}",
                if o.replaced { "replaced" } else { "tightened" },
                config.file_name(),
                o.location.line
            )
        }),
        settings,
        may_tighten: policy
            .layer
            .as_ref()
            .map(|r| {
                r.stricter
                    .iter()
                    .map(|(k, d)| format!("{k} ({d} is stricter)"))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A value for the text table: at most 48 characters (`--format json`
/// has it whole).
fn clipped(value: &str) -> String {
    const MAX: usize = 48;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let head: String = value.chars().take(MAX - 1).collect();
        format!("{head}…")
    }
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> String {
    digest.chars().take("sha256:".len() + 12).collect()
}

fn render(config: &Config, org: Option<&str>, policies: &[Explained]) -> String {
    let mut out = format!("effective policies of {}", config.file_name());
    if let Some(org) = org {
        out.push_str(&format!(" with the org file {org}"));
    }
    out.push('\n');
    for p in policies {
        out.push('\n');
        let mut head = format!("{}  layer {}", p.name, p.layer);
        if p.layer != "team" && p.layer != "built-in default" {
            head.push_str(if p.required {
                ", required"
            } else {
                ", default"
            });
        }
        if let Some(o) = &p.overridden {
            head.push_str(&format!(", {o}"));
        }
        out.push_str(&head);
        out.push('\n');
        let values: Vec<String> = p.settings.iter().map(|s| clipped(&s.value)).collect();
        let key_w = p.settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
        let value_w = values.iter().map(|v| v.chars().count()).max().unwrap_or(0);
        for (s, value) in p.settings.iter().zip(&values) {
            out.push_str(&format!(
                "  {:key_w$}  {value:value_w$}  {}\n",
                s.key, s.from
            ));
        }
        if !p.may_tighten.is_empty() {
            out.push_str(&format!("  may tighten: {}\n", p.may_tighten.join(", ")));
        }
    }
    let floors = &config.floors;
    if !floors.is_empty() {
        out.push_str(&format!("\nfloors (set by {})\n", floors.set_by.join(", ")));
        if let Some(v) = floors.missing_data {
            out.push_str(&format!("  data missing at the gate: at least {v}\n"));
        }
        if floors.fail_closed {
            out.push_str("  a failed policy: always fail-closed\n");
        }
        if !floors.approval.is_empty() {
            out.push_str(&format!(
                "  an approving human review at the gate in: {}\n",
                floors.approval.join(", ")
            ));
        }
    }
    if !config.waivers.is_empty() {
        out.push_str("\nexceptions\n");
        for w in &config.waivers {
            out.push_str(&format!(
                "  {}  policy {}{}  for {} in {}  until {}  {}\n",
                w.ticket,
                w.policy,
                w.rule
                    .as_ref()
                    .map(|r| format!(", rule {r}"))
                    .unwrap_or_default(),
                w.service.as_deref().unwrap_or("any service"),
                w.environment.as_deref().unwrap_or("any environment"),
                w.expires,
                w.digest
            ));
        }
    }
    let bundles = config.bundle_origins();
    if !bundles.is_empty() {
        out.push_str("\nbundles\n");
        for b in bundles {
            out.push_str(&format!(
                "  {} {}  layer {}  {}  {}\n",
                b.name,
                b.version,
                b.layer.as_deref().unwrap_or("none"),
                b.digest,
                if b.signers.is_empty() {
                    "signatures not checked".to_owned()
                } else {
                    format!("signed by {}", b.signers.join(", "))
                }
            ));
        }
    }
    shipgate_core::escape::escape_lines(&out).into_owned()
}
