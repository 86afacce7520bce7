//! `trust.toml`: the keys a site trusts, and which may sign which bundles.
//!
//! ```toml
//! [[keys]]
//! id = "sha256:0f3c9a1b2c3d4e5f"        # `shipgate keygen` prints it
//! public = "base64 of the 32-byte Ed25519 public key"
//! name = "org-release"                   # optional, for people
//! usage = ["bundles"]                    # default; "exceptions" is for signed exceptions
//!
//! [[bundles]]
//! scope = "acme/*"                       # a bundle name, or a glob: `*` within a part, `**` across
//! keys = ["sha256:0f3c9a1b2c3d4e5f", "sha256:77aa01bc23de45f6"]
//! threshold = 2                          # M of the N keys above; default 1
//! ```
//!
//! The rule for a bundle is the one whose scope is its exact name, else the
//! longest glob that matches it. A trust file is *configured* for every
//! name: a bundle with no matching rule is refused, and so is one without
//! enough valid signatures by its rule's keys (an unsigned bundle never
//! loads once trust is configured).
//!
//! Signed exceptions (the `exception` module) are accepted only when the
//! file has an `[exceptions]` table, and only when signed by the keys it
//! names:
//!
//! ```toml
//! [[keys]]
//! id = "sha256:5e1f0a2b3c4d5e6f"
//! public = "…"
//! name = "platform-oncall"
//! usage = ["exceptions"]                 # a key signs exceptions only if its usage says so
//!
//! [exceptions]
//! keys = ["sha256:5e1f0a2b3c4d5e6f"]     # each with `"exceptions"` in its usage
//! threshold = 1                          # M of the N keys above; default 1
//! max_days = 30                          # the longest `expires - issued`; default 30, 1..=365
//! ```
//!
//! Without `[exceptions]` no exception is accepted. A key's `usage`
//! separates the two: bundles accept only keys whose usage has `"bundles"`
//! (the default), exceptions only keys whose usage has `"exceptions"`.
//!
//! Room for later, refused today as an unknown key: keyless signing will be
//! a `[[keyless]]` table of Sigstore identities (`issuer`, `subject`, a
//! Rekor/Fulcio trust root) that rules name beside key ids (`keyless =
//! ["release-workflow"]`), counted towards the same threshold.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use shipgate_core::config::TomlFile;

use crate::error::{Error, Result};
use crate::keys;

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Usage {
    /// Policy bundles.
    Bundles,
    /// Signed exceptions (the `[exceptions]` table; not bundles).
    Exceptions,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: Vec<KeyTable>,
    #[serde(default)]
    bundles: Vec<RuleTable>,
    #[serde(default)]
    exceptions: Option<ExceptionsTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsTable {
    keys: Vec<String>,
    #[serde(default)]
    threshold: Option<u32>,
    #[serde(default)]
    max_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyTable {
    id: String,
    public: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    usage: Option<Vec<Usage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleTable {
    scope: String,
    keys: Vec<String>,
    #[serde(default)]
    threshold: Option<u32>,
}

/// A trusted key.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// Its id.
    pub id: String,
    /// Its public key.
    pub public: VerifyingKey,
    /// Its name, for people.
    pub name: Option<String>,
    /// What it may sign.
    pub usage: BTreeSet<Usage>,
}

/// Which keys may sign the bundles of a scope, and how many must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// A bundle name or a glob.
    pub scope: String,
    /// The allowed key ids.
    pub keys: Vec<String>,
    /// How many of them must sign.
    pub threshold: u32,
}

impl Rule {
    /// Whether the rule's scope covers `name`.
    pub fn covers(&self, name: &str) -> bool {
        if !self.scope.contains('*') {
            return self.scope == name;
        }
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        glob::Pattern::new(&self.scope).is_ok_and(|p| p.matches_with(name, options))
    }
}

/// The default of `[exceptions] max_days`.
pub const DEFAULT_MAX_DAYS: u32 = 30;
/// The highest `[exceptions] max_days` allowed.
pub const MAX_MAX_DAYS: u32 = 365;

/// Which keys may sign exceptions, how many must, and for how long an
/// exception may run: the `[exceptions]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRule {
    /// The allowed key ids (each with `"exceptions"` in its usage), sorted.
    pub keys: Vec<String>,
    /// How many of them must sign.
    pub threshold: u32,
    /// The longest `expires - issued`, in days.
    pub max_days: u32,
}

/// The trust a site places in keys.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    configured: bool,
    keys: BTreeMap<String, TrustedKey>,
    rules: Vec<Rule>,
    exceptions: Option<ExceptionRule>,
}

impl Trust {
    /// No trust configured: bundles are checked for integrity, expiry,
    /// rollback and compatibility, and signatures are reported but not
    /// required. Only for inspecting; loading org-wide policies should
    /// always have a trust file.
    pub fn unconfigured() -> Trust {
        Trust::default()
    }

    /// Whether a trust file was given.
    pub fn is_configured(&self) -> bool {
        self.configured
    }

    /// Reads `trust.toml` (at most [`crate::caps::TRUST`]).
    pub fn load(path: &Path) -> Result<Trust> {
        let text = shipgate_core::bounded::read_file_to_string(path, crate::caps::TRUST).map_err(
            |error| Error::Read {
                path: path.to_owned(),
                error,
            },
        )?;
        Trust::parse(&text, &path.display().to_string())
    }

    /// Checks trust-file text; `file` is what errors call it.
    pub fn parse(text: &str, file: &str) -> Result<Trust> {
        let toml = TomlFile::new(file, text);
        let parsed: File = toml.parse()?;
        let mut keys = BTreeMap::new();
        for (index, key) in parsed.keys.into_iter().enumerate() {
            let public = keys::public_from_base64(&key.public)
                .map_err(|e| toml.key_error(&format!("keys[{index}].public"), &e))?;
            let id = keys::key_id(&public);
            if id != key.id {
                let mut error = toml.key_error(
                    &format!("keys[{index}].id"),
                    &format!("`{}` is not the id of this public key", key.id),
                );
                error.help = Some(format!("its id is `{id}`"));
                return Err(error.into());
            }
            let usage: BTreeSet<Usage> = key
                .usage
                .unwrap_or_else(|| vec![Usage::Bundles])
                .into_iter()
                .collect();
            if usage.is_empty() {
                return Err(toml
                    .key_error(
                        &format!("keys[{index}].usage"),
                        "an empty usage lets the key sign nothing; remove the key instead",
                    )
                    .into());
            }
            if keys.contains_key(&id) {
                return Err(toml
                    .key_error(
                        &format!("keys[{index}].id"),
                        &format!("key `{id}` is listed twice"),
                    )
                    .into());
            }
            keys.insert(
                id.clone(),
                TrustedKey {
                    id,
                    public,
                    name: key.name,
                    usage,
                },
            );
        }
        let mut rules: Vec<Rule> = Vec::new();
        for (index, rule) in parsed.bundles.into_iter().enumerate() {
            let at = |key: &str| format!("bundles[{index}].{key}");
            let pattern_ok = rule.scope.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || matches!(b, b'.' | b'_' | b'-' | b'*')
                    })
            });
            if !pattern_ok || rule.scope.len() > crate::names::MAX_NAME {
                let mut error = toml.key_error(
                    &at("scope"),
                    &format!("`{}` is not a bundle name or glob", rule.scope),
                );
                error.help = Some("such as `acme/security` or `acme/*`".into());
                return Err(error.into());
            }
            if rules.iter().any(|r| r.scope == rule.scope) {
                return Err(toml
                    .key_error(&at("scope"), &format!("a second rule for `{}`", rule.scope))
                    .into());
            }
            if rule.keys.is_empty() {
                return Err(toml
                    .key_error(&at("keys"), "a rule allows at least one key")
                    .into());
            }
            for (k, id) in rule.keys.iter().enumerate() {
                match keys.get(id) {
                    None => {
                        let mut error = toml.key_error(
                            &format!("bundles[{index}].keys[{k}]"),
                            &format!("key `{id}` is not in `[[keys]]`"),
                        );
                        error.help =
                            Some("add it as a `[[keys]]` table with its public key".into());
                        return Err(error.into());
                    }
                    Some(key) if !key.usage.contains(&Usage::Bundles) => {
                        return Err(toml
                            .key_error(
                                &format!("bundles[{index}].keys[{k}]"),
                                &format!(
                                    "key `{id}` may not sign bundles (its usage has no `bundles`)"
                                ),
                            )
                            .into());
                    }
                    Some(_) => {}
                }
            }
            let distinct: BTreeSet<&String> = rule.keys.iter().collect();
            let threshold = rule.threshold.unwrap_or(1);
            if threshold == 0 || threshold as usize > distinct.len() {
                let mut error = toml.key_error(
                    &at("threshold"),
                    &format!(
                        "threshold {threshold} is not between 1 and the {} key(s) of the rule",
                        distinct.len()
                    ),
                );
                error.help = Some("an M-of-N rule needs 1 <= M <= N distinct keys".into());
                return Err(error.into());
            }
            rules.push(Rule {
                scope: rule.scope,
                keys: distinct.into_iter().cloned().collect(),
                threshold,
            });
        }
        let exceptions = parsed
            .exceptions
            .map(|table| exception_rule(&toml, &keys, table))
            .transpose()?;
        Ok(Trust {
            configured: true,
            keys,
            rules,
            exceptions,
        })
    }

    /// The `[exceptions]` rule, or `None` when the file has none (then no
    /// exception is accepted).
    pub fn exceptions(&self) -> Option<&ExceptionRule> {
        self.exceptions.as_ref()
    }

    /// The rule for bundle `name`: an exact scope, else the longest glob
    /// that covers it.
    pub fn rule_for(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.scope == name).or_else(|| {
            self.rules
                .iter()
                .filter(|r| r.scope.contains('*') && r.covers(name))
                .max_by_key(|r| r.scope.len())
        })
    }

    /// A trusted key, by id.
    pub fn key(&self, id: &str) -> Option<&TrustedKey> {
        self.keys.get(id)
    }
}

/// Checks the `[exceptions]` table against the keys.
fn exception_rule(
    toml: &TomlFile<'_>,
    keys: &BTreeMap<String, TrustedKey>,
    table: ExceptionsTable,
) -> Result<ExceptionRule> {
    if table.keys.is_empty() {
        let mut error = toml.key_error("exceptions.keys", "no key may sign exceptions");
        error.help = Some(
            "list the ids of the keys allowed to sign exceptions, or remove `[exceptions]` to accept none"
                .into(),
        );
        return Err(error.into());
    }
    for (k, id) in table.keys.iter().enumerate() {
        let at = format!("exceptions.keys[{k}]");
        match keys.get(id) {
            None => {
                let mut error = toml.key_error(&at, &format!("key `{id}` is not in `[[keys]]`"));
                error.help = Some("add it as a `[[keys]]` table with its public key".into());
                return Err(error.into());
            }
            Some(key) if !key.usage.contains(&Usage::Exceptions) => {
                let mut error = toml.key_error(
                    &at,
                    &format!("key `{id}` may not sign exceptions (its usage has no `exceptions`)"),
                );
                error.help = Some(
                    "add `\"exceptions\"` to the key's `usage`, such as `usage = [\"exceptions\"]`"
                        .into(),
                );
                return Err(error.into());
            }
            Some(_) => {}
        }
    }
    let distinct: BTreeSet<&String> = table.keys.iter().collect();
    let threshold = table.threshold.unwrap_or(1);
    if threshold == 0 || threshold as usize > distinct.len() {
        let mut error = toml.key_error(
            "exceptions.threshold",
            &format!(
                "threshold {threshold} is not between 1 and the {} key(s) of `[exceptions]`",
                distinct.len()
            ),
        );
        error.help = Some("an M-of-N rule needs 1 <= M <= N distinct keys".into());
        return Err(error.into());
    }
    let max_days = table.max_days.unwrap_or(DEFAULT_MAX_DAYS);
    if !(1..=MAX_MAX_DAYS).contains(&max_days) {
        let mut error = toml.key_error(
            "exceptions.max_days",
            &format!("{max_days} days is not between 1 and {MAX_MAX_DAYS}"),
        );
        error.help = Some("an exception is short-lived by design: fix the cause instead".into());
        return Err(error.into());
    }
    Ok(ExceptionRule {
        keys: distinct.into_iter().cloned().collect(),
        threshold,
        max_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    fn key_table(key: &PrivateKey, extra: &str) -> String {
        format!(
            "[[keys]]\nid = \"{}\"\npublic = \"{}\"\n{extra}\n",
            key.id(),
            key.public_base64()
        )
    }

    #[test]
    fn rules_pick_the_most_specific_scope() {
        let a = PrivateKey::generate().unwrap();
        let text = format!(
            "{}\n[[bundles]]\nscope = \"acme/*\"\nkeys = [\"{id}\"]\n\n[[bundles]]\nscope = \"acme/security\"\nkeys = [\"{id}\"]\n\n[[bundles]]\nscope = \"**\"\nkeys = [\"{id}\"]\n",
            key_table(&a, ""),
            id = a.id()
        );
        let trust = Trust::parse(&text, "trust.toml").unwrap();
        assert_eq!(
            trust.rule_for("acme/security").unwrap().scope,
            "acme/security"
        );
        assert_eq!(trust.rule_for("acme/other").unwrap().scope, "acme/*");
        assert_eq!(trust.rule_for("acme/x/y").unwrap().scope, "**");
        assert_eq!(trust.rule_for("other").unwrap().scope, "**");
        let only = Trust::parse(
            &format!(
                "{}[[bundles]]\nscope = \"acme/*\"\nkeys = [\"{}\"]\n",
                key_table(&a, ""),
                a.id()
            ),
            "trust.toml",
        )
        .unwrap();
        assert!(only.rule_for("acme/x/y").is_none());
        assert!(only.rule_for("acmex/y").is_none());
    }

    #[test]
    fn mistakes_are_located() {
        let a = PrivateKey::generate().unwrap();
        let err = |text: String| Trust::parse(&text, "trust.toml").unwrap_err().to_string();
        let wrong_id = key_table(&a, "").replace(a.id(), "sha256:0000000000000000");
        let e = err(wrong_id);
        assert!(
            e.starts_with(
                "trust.toml:2:6: key `keys[0].id`: `sha256:0000000000000000` is not the id"
            ),
            "{e}"
        );
        assert!(e.contains(a.id()), "{e}");
        let e = err(format!(
            "{}[[bundles]]\nscope = \"a\"\nkeys = [\"sha256:1111111111111111\"]\n",
            key_table(&a, "")
        ));
        assert!(
            e.contains(
                "key `bundles[0].keys[0]`: key `sha256:1111111111111111` is not in `[[keys]]`"
            ),
            "{e}"
        );
        let e = err(format!(
            "{}[[bundles]]\nscope = \"a\"\nkeys = [\"{}\"]\nthreshold = 2\n",
            key_table(&a, ""),
            a.id()
        ));
        assert!(
            e.contains("trust.toml:8:13: key `bundles[0].threshold`: threshold 2"),
            "{e}"
        );
        let e = err(format!(
            "{}[[bundles]]\nscope = \"a\"\nkeys = [\"{}\"]\n",
            key_table(&a, "usage = [\"exceptions\"]"),
            a.id()
        ));
        assert!(e.contains("may not sign bundles"), "{e}");
        let e = err(format!(
            "{}\n[[keyless]]\nissuer = \"x\"\n",
            key_table(&a, "")
        ));
        assert!(e.contains("unknown key `keyless`"), "{e}");
        let e = err(key_table(&a, "").replace(&a.public_base64(), "AAAA"));
        assert!(
            e.contains("key `keys[0].public`: an Ed25519 public key is 32 bytes"),
            "{e}"
        );
    }

    #[test]
    fn the_exceptions_table() {
        let a = PrivateKey::generate().unwrap();
        let b = PrivateKey::generate().unwrap();
        let keys = format!(
            "{}{}",
            key_table(&a, "usage = [\"exceptions\"]"),
            key_table(&b, "")
        );
        let parse = |table: &str| Trust::parse(&format!("{keys}{table}"), "trust.toml");
        let err = |table: &str| parse(table).unwrap_err().to_string();

        let none = parse("").unwrap();
        assert!(none.exceptions().is_none());
        assert!(Trust::unconfigured().exceptions().is_none());
        let rule = parse(&format!("[exceptions]\nkeys = [\"{}\"]\n", a.id())).unwrap();
        assert_eq!(
            rule.exceptions(),
            Some(&ExceptionRule {
                keys: vec![a.id().to_owned()],
                threshold: 1,
                max_days: DEFAULT_MAX_DAYS,
            })
        );
        let rule = parse(&format!(
            "[exceptions]\nkeys = [\"{}\"]\nmax_days = 365\n",
            a.id()
        ))
        .unwrap();
        assert_eq!(rule.exceptions().map(|r| r.max_days), Some(365));

        // Located: the key only for bundles, an unknown key, the threshold,
        // max_days, an empty list, an unknown field.
        let e = err(&format!("[exceptions]\nkeys = [\"{}\"]\n", b.id()));
        assert!(
            e.starts_with(&format!(
                "trust.toml:10:9: key `exceptions.keys[0]`: key `{}` may not sign exceptions (its usage has no `exceptions`)",
                b.id()
            )),
            "{e}"
        );
        assert!(
            e.contains("help: add `\"exceptions\"` to the key's `usage`"),
            "{e}"
        );
        let e = err("[exceptions]\nkeys = [\"sha256:1111111111111111\"]\n");
        assert!(
            e.starts_with("trust.toml:10:9: key `exceptions.keys[0]`: key `sha256:1111111111111111` is not in `[[keys]]`"),
            "{e}"
        );
        let e = err(&format!(
            "[exceptions]\nkeys = [\"{}\"]\nthreshold = 2\n",
            a.id()
        ));
        assert!(
            e.starts_with("trust.toml:11:13: key `exceptions.threshold`: threshold 2 is not between 1 and the 1 key(s)"),
            "{e}"
        );
        for days in ["0", "366"] {
            let e = err(&format!(
                "[exceptions]\nkeys = [\"{}\"]\nmax_days = {days}\n",
                a.id()
            ));
            assert!(
                e.starts_with(&format!(
                    "trust.toml:11:12: key `exceptions.max_days`: {days} days is not between 1 and 365"
                )),
                "{e}"
            );
        }
        let e = err("[exceptions]\nkeys = []\n");
        assert!(
            e.starts_with("trust.toml:10:8: key `exceptions.keys`: no key may sign exceptions"),
            "{e}"
        );
        let e = err(&format!(
            "[exceptions]\nkeys = [\"{}\"]\nmax_day = 3\n",
            a.id()
        ));
        assert!(
            e.contains("key `exceptions.max_day`: unknown key `max_day`"),
            "{e}"
        );
        // A key may serve both, and bundles still refuse an exceptions-only key.
        let both = Trust::parse(
            &format!(
                "{}[exceptions]\nkeys = [\"{id}\"]\n[[bundles]]\nscope = \"acme/*\"\nkeys = [\"{id}\"]\n",
                key_table(&a, "usage = [\"bundles\", \"exceptions\"]"),
                id = a.id()
            ),
            "trust.toml",
        )
        .unwrap();
        assert!(both.exceptions().is_some() && both.rule_for("acme/x").is_some());
    }
}
