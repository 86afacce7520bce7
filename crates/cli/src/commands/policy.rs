//! `shipgate policy inspect`: what a component is, imports and exports, and
//! the rules the policy declares it can report.

use shipgate_engine::exit::ExitCode;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{CliError, read};
use shipgate_core::config::{Format, Limits};
use shipgate_engine::runtime::{CacheMode, PolicyInfo, Runtime};

/// Subcommands of `shipgate policy`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print a component's info (with the rules it declares), sha256, imports
    /// and exports.
    Inspect(InspectArgs),
    /// Print the effective policy set of a configuration: every policy, its
    /// layer, whether it is required, and where each setting comes from.
    Explain(super::explain::ExplainArgs),
}

/// Arguments of `shipgate policy inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A component or core module (`.wasm`), or `builtin:NAME`.
    pub file: String,
    /// Output format (`text` or `json`).
    #[arg(long, short = 'f', value_parser = super::format_parser(), default_value_t = Format::Text)]
    pub format: Format,
}

/// What `inspect` found.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// The file or built-in inspected.
    pub source: String,
    /// `component` or `core module`.
    pub kind: &'static str,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// sha256 of the component (after componentizing a core module), hex.
    pub sha256: String,
    /// Top-level imports (a policy has none).
    pub imports: Vec<String>,
    /// Top-level exports.
    pub exports: Vec<String>,
    /// The policy's own `info`, if it loads.
    pub info: Option<PolicyInfo>,
    /// Why it does not load, if it does not.
    pub load_error: Option<String>,
}

/// Inspects a component or core module.
pub fn inspect(source: &str) -> Result<Inspection, CliError> {
    let bytes = match source.strip_prefix("builtin:") {
        Some(name) => shipgate_engine::builtin::get(name)
            .ok_or_else(|| CliError::Other(format!("unknown built-in policy `{name}`")))?
            .to_vec(),
        None => read(&PathBuf::from(source), shipgate_core::bounded::COMPONENT)?,
    };
    let (kind, component) = match shipgate_build::wasm_kind(&bytes) {
        Ok(shipgate_build::WasmKind::Component) => ("component", bytes.clone()),
        Ok(shipgate_build::WasmKind::Module) => (
            "core module",
            shipgate_build::componentize(&bytes)
                .map_err(|e| CliError::Other(format!("{source}: {e}")))?,
        ),
        Err(e) => return Err(CliError::Other(format!("{source}: {e}"))),
    };
    let imports = shipgate_build::component_imports(&component)
        .map_err(|e| CliError::Other(format!("{source}: {e}")))?;
    let exports = shipgate_build::component_exports(&component)
        .map_err(|e| CliError::Other(format!("{source}: {e}")))?;
    let runtime = Runtime::new(&Limits::default(), &CacheMode::Default)
        .map_err(|e| CliError::Other(e.to_string()))?;
    let (info, load_error) = match runtime.load(&component) {
        Ok(p) => (Some(p.info().clone()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(Inspection {
        source: source.to_owned(),
        kind,
        bytes: bytes.len(),
        sha256: hex::encode(Sha256::digest(&component)),
        imports,
        exports,
        info,
        load_error,
    })
}

fn text(i: &Inspection) -> String {
    let mut s = String::new();
    let none = || "(none)".to_owned();
    let list = |v: &[String]| if v.is_empty() { none() } else { v.join(", ") };
    s.push_str(&format!("source:      {}\n", i.source));
    s.push_str(&format!("kind:        {} ({} bytes)\n", i.kind, i.bytes));
    s.push_str(&format!("sha256:      {}\n", i.sha256));
    s.push_str(&format!("imports:     {}\n", list(&i.imports)));
    s.push_str(&format!("exports:     {}\n", list(&i.exports)));
    match (&i.info, &i.load_error) {
        (Some(info), _) => {
            let join = |v: Vec<String>| v.join(", ");
            s.push_str(&format!("name:        {} {}\n", info.name, info.version));
            s.push_str(&format!("description: {}\n", info.description));
            s.push_str(&format!(
                "stages:      {}\n",
                join(info.stages.iter().map(|x| x.to_string()).collect())
            ));
            s.push_str(&format!(
                "reads:       {}\n",
                join(info.reads.iter().map(|x| x.to_string()).collect())
            ));
            if info.rules.is_empty() {
                s.push_str("rules:       (not declared)\n");
            } else {
                s.push_str("rules:\n");
                let width = info
                    .rules
                    .iter()
                    .map(|r| r.id.chars().count())
                    .max()
                    .unwrap_or(0);
                for r in &info.rules {
                    s.push_str(&format!("  {:<width$} — {}\n", r.id, r.description));
                }
            }
        }
        (None, Some(e)) => s.push_str(&format!("load error:  {e}\n")),
        (None, None) => {}
    }
    // A component's own strings cannot drive the terminal.
    shipgate_core::escape::escape_lines(&s).into_owned()
}

/// Runs a `shipgate policy` subcommand. `inspect` exits 0 when the component
/// loads as a policy, 1 when it does not.
pub fn run(command: &PolicyCommand, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    match command {
        PolicyCommand::Explain(args) => super::explain::run(args, out),
        PolicyCommand::Inspect(args) => {
            let i = inspect(&args.file)?;
            let body = match args.format {
                Format::Json => super::json_text(&i)?,
                Format::Text | Format::Markdown => text(&i),
            };
            out.write_all(body.as_bytes())?;
            Ok(if i.load_error.is_some() {
                ExitCode::Error
            } else {
                ExitCode::Success
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use shipgate_engine::runtime::RuleInfo;

    #[test]
    fn every_builtin_declares_its_rules_through_the_component() {
        let names: Vec<&str> = shipgate_engine::builtin::names().collect();
        assert!(names.contains(&"canary"), "{names:?}");
        for name in names {
            let i = inspect(&format!("builtin:{name}")).unwrap();
            let info = i
                .info
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: {:?}", i.load_error));
            if name == "rules" {
                // Its rules are the configuration's, not the component's.
                assert!(info.rules.is_empty(), "{:?}", info.rules);
                continue;
            }
            assert!(!info.rules.is_empty(), "{name} declares no rules");
            let ids: BTreeSet<&str> = info.rules.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(ids.len(), info.rules.len(), "{name}: duplicate rule ids");
            for r in &info.rules {
                assert!(r.id.starts_with(&format!("{name}.")), "{name}: {}", r.id);
                assert!(!r.description.trim().is_empty(), "{name}: {}", r.id);
            }
            let text = text(&i);
            let first = &info.rules[0];
            assert!(text.contains(&first.id), "{text}");
            assert!(text.contains(&first.description), "{text}");
        }
    }

    fn inspection(rules: Vec<RuleInfo>) -> Inspection {
        Inspection {
            source: "demo.wasm".into(),
            kind: "component",
            bytes: 1,
            sha256: "00".into(),
            imports: Vec::new(),
            exports: Vec::new(),
            info: Some(PolicyInfo {
                name: "demo".into(),
                version: "1.0.0".into(),
                rules,
                ..PolicyInfo::default()
            }),
            load_error: None,
        }
    }

    #[test]
    fn text_lists_the_declared_rules_aligned_in_order() {
        let rule = |id: &str, description: &str| RuleInfo {
            id: id.into(),
            description: description.into(),
        };
        let t = text(&inspection(vec![
            rule("demo.long-rule", "the long one fires"),
            rule("demo.ok", "all is well"),
        ]));
        assert!(
            t.ends_with(
                "rules:\n  demo.long-rule — the long one fires\n  demo.ok        — all is well\n"
            ),
            "{t}"
        );
    }

    #[test]
    fn text_says_when_no_rule_is_declared() {
        let t = text(&inspection(Vec::new()));
        assert!(t.ends_with("rules:       (not declared)\n"), "{t}");
    }
}
