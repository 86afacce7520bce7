//! The rules-only twins: each playbook profile in `examples/profiles/` has a
//! twin, `NAME.rules.toml`, written only as `builtin:rules` policies (CEL
//! expressions). On the whole scenario corpus the twin must give the same
//! verdict as its profile, through the real components.
//!
//! Differences that are deliberate are listed in [`DELIBERATE`] with the
//! reason; the test fails on any difference not listed, and on a listed one
//! that no longer differs, so the list stays true.
//!
//! For work on one policy's rules, the ignored test
//! `differential::fragments` compares fragments: with
//! `SHIPGATE_TWIN_FRAGMENTS=DIR` and `SHIPGATE_TWIN_POLICY=NAME`, the profile
//! reduced to its policy `NAME` against `DIR/PROFILE.toml`, for every
//! profile, printing each differing scenario with both rule sets.

use std::collections::BTreeMap;
use std::path::Path;

use shipgate_core::config::Config;
use shipgate_engine::outcome::Outcome;
use shipgate_engine::policy_set::PolicySet;
use shipgate_model::{Snapshot, Verdict};

use crate::scenarios::{profiles, scenarios};
use crate::support::shared_cache;

/// `(profile, scenario, reason)`: where a twin's verdict differs from its
/// profile's on purpose.
const DELIBERATE: &[(&str, &str, &str)] = &[];

/// One scenario where two configurations disagree.
struct Difference {
    scenario: String,
    builtin: Outcome,
    rules: Outcome,
}

impl Difference {
    fn describe(&self) -> String {
        let fired = |outcome: &Outcome| {
            outcome
                .rules
                .iter()
                .filter(|(_, verdict)| **verdict != Verdict::Go)
                .map(|(rule, verdict)| format!("{rule}={verdict}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "{}: built-in {} [{}] vs rules {} [{}]{}",
            self.scenario,
            self.builtin.verdict,
            fired(&self.builtin),
            self.rules.verdict,
            fired(&self.rules),
            if self.rules.failed.is_empty() {
                String::new()
            } else {
                format!(" FAILED {:?}", self.rules.failed)
            }
        )
    }
}

/// Every scenario on which `builtin` and `rules` give different verdicts.
fn differences(
    builtin: &Config,
    rules: &Config,
    corpus: &[(String, Snapshot)],
) -> (Vec<Difference>, usize) {
    let builtin = PolicySet::load(builtin, &shared_cache()).unwrap();
    let rules = PolicySet::load(rules, &shared_cache()).unwrap();
    let mut out = Vec::new();
    let mut compared = 0;
    for (name, snapshot) in corpus {
        let stage = snapshot.default_stage();
        let a = Outcome::of(&builtin.evaluate(stage, snapshot));
        let b = Outcome::of(&rules.evaluate(stage, snapshot));
        compared += 1;
        if a.verdict != b.verdict || !b.failed.is_empty() {
            out.push(Difference {
                scenario: name.clone(),
                builtin: a,
                rules: b,
            });
        }
    }
    (out, compared)
}

/// The twins, by profile name.
fn twins() -> BTreeMap<String, Config> {
    let dir = shipgate_tests::workspace().join("examples/profiles");
    profiles()
        .into_iter()
        .map(|(name, _)| {
            let path = dir.join(format!("{name}.rules.toml"));
            let config = Config::load(&path)
                .unwrap_or_else(|e| panic!("the twin of `{name}` does not load: {e}"));
            (name, config)
        })
        .collect()
}

#[test]
fn every_twin_is_written_only_as_rules() {
    let twins = twins();
    assert_eq!(twins.len(), 4, "one twin per playbook profile");
    for (name, twin) in twins {
        for policy in &twin.policies {
            assert_eq!(
                policy.source,
                shipgate_core::config::PolicySource::Builtin("rules".into()),
                "{name}: policy `{}` is not a rules policy",
                policy.name
            );
        }
    }
}

#[test]
fn every_twin_gives_its_profiles_verdicts_on_the_whole_corpus() {
    let corpus = scenarios();
    let twins = twins();
    let mut unexpected = Vec::new();
    let mut listed_but_equal: Vec<(&str, &str)> = DELIBERATE
        .iter()
        .map(|(profile, scenario, _)| (*profile, *scenario))
        .collect();
    let mut total = 0;
    for (profile, config) in profiles() {
        let (diffs, compared) = differences(&config, &twins[&profile], &corpus);
        total += compared;
        for diff in diffs {
            let listed = DELIBERATE
                .iter()
                .any(|(p, s, _)| *p == profile && *s == diff.scenario);
            listed_but_equal.retain(|(p, s)| !(*p == profile && *s == diff.scenario));
            if !listed {
                unexpected.push(format!("{profile}: {}", diff.describe()));
            }
        }
    }
    assert_eq!(total, corpus.len() * 4);
    assert!(
        unexpected.is_empty(),
        "{} of {total} verdicts differ from the built-in twin:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        listed_but_equal.is_empty(),
        "listed as deliberate differences but equal now: {listed_but_equal:?}"
    );
}

/// Work aid, see the module doc: compares one policy's rules fragments
/// with that policy alone.
#[test]
#[ignore = "a work aid: set SHIPGATE_TWIN_FRAGMENTS and SHIPGATE_TWIN_POLICY"]
fn fragments() {
    let (Ok(dir), Ok(policy)) = (
        std::env::var("SHIPGATE_TWIN_FRAGMENTS"),
        std::env::var("SHIPGATE_TWIN_POLICY"),
    ) else {
        panic!("set SHIPGATE_TWIN_FRAGMENTS=DIR and SHIPGATE_TWIN_POLICY=NAME");
    };
    let corpus = scenarios();
    let mut report = Vec::new();
    let mut total = 0;
    for (profile, mut config) in profiles() {
        config.policies.retain(|p| p.name == policy);
        let fragment = Path::new(&dir).join(format!("{profile}.toml"));
        let rules =
            Config::load(&fragment).unwrap_or_else(|e| panic!("{}: {e}", fragment.display()));
        let (diffs, _) = differences(&config, &rules, &corpus);
        total += diffs.len();
        for diff in diffs {
            report.push(format!("{profile}: {}", diff.describe()));
        }
    }
    println!("{}", report.join("\n"));
    assert_eq!(total, 0, "{total} verdicts differ");
}
