//! Running cases: evaluate each, compare with the reviewed outcome, count
//! which declared rules fired, and accept new outcomes on request.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use shipgate_model::{Snapshot, Stage, Verdict};

use super::expected;
use super::file::{Case, LoadedFile, Policies};
use shipgate_core::config::{Config, ConfigError};
use shipgate_engine::outcome::{Difference, Outcome};
use shipgate_engine::policy_set::{PolicySet, SetupError};
use shipgate_engine::report::{PolicyOutcome, Report};
use shipgate_engine::runtime::CacheMode;

/// The policy crate whose cases are run: its built component.
#[derive(Debug, Clone)]
pub struct CrateUnderTest {
    /// The policy's name (from its `info`), used as its config name.
    pub name: String,
    /// The component file.
    pub component: PathBuf,
}

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    /// The decision is the reviewed one.
    Passed,
    /// The decision differs from the reviewed one.
    Failed {
        /// What changed, reviewed → now.
        changes: Vec<Difference>,
    },
    /// There is no reviewed decision yet.
    New,
    /// The case could not run (unreadable snapshot, bad config, ...).
    Error {
        /// Why.
        message: String,
    },
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// The snapshot file.
    pub snapshot: PathBuf,
    /// The policies asked (a config path or `[policy]`).
    pub policies: String,
    /// The stage asked.
    pub stage: Option<Stage>,
    /// What happened.
    #[serde(flatten)]
    pub status: Status,
    /// The decision's outcome, when it ran.
    pub outcome: Option<Outcome>,
    /// The reviewed outcome, when there is one.
    pub expected: Option<Outcome>,
    /// How long it took.
    #[serde(serialize_with = "micros")]
    pub took: Duration,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// One case file's results.
#[derive(Debug, Clone, Serialize)]
pub struct FileResult {
    /// The case file.
    pub file: PathBuf,
    /// Its expected file.
    pub expected_file: PathBuf,
    /// Its description.
    pub description: Option<String>,
    /// Each case, in order.
    pub cases: Vec<CaseResult>,
    /// Reviewed outcomes of cases that no longer exist.
    pub obsolete: Vec<String>,
    /// Whether `--accept` rewrote the expected file.
    pub accepted: bool,
}

/// The declared rules of one policy, and which of them fired.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleCoverage {
    /// Rule ids the policy declares.
    pub declared: BTreeSet<String>,
    /// Declared rule ids some case made fire (a finding with the id, at any
    /// verdict).
    pub fired: BTreeSet<String>,
    /// Declared rule ids some case made fire stricter than `go` (hold,
    /// no-go or rollback).
    pub tripped: BTreeSet<String>,
    /// Rule ids that fired but are not declared.
    pub undeclared: BTreeSet<String>,
}

impl RuleCoverage {
    /// Declared rules no case made fire.
    pub fn never_fired(&self) -> Vec<&String> {
        self.declared.difference(&self.fired).collect()
    }

    /// Declared rules that fired, but only ever at `go` (a passed check, a
    /// risk factor, a note): no case saw them hold, block or roll back.
    pub fn only_go(&self) -> Vec<&String> {
        self.fired.difference(&self.tripped).collect()
    }
}

/// The results of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunResult {
    /// Per case file.
    pub files: Vec<FileResult>,
    /// Per policy name: its rules and which fired.
    pub coverage: BTreeMap<String, RuleCoverage>,
    /// Wall time.
    #[serde(serialize_with = "micros")]
    pub took: Duration,
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Cases whose decision is the reviewed one.
    pub passed: usize,
    /// Cases whose decision changed.
    pub failed: usize,
    /// Cases with no reviewed decision.
    pub new: usize,
    /// Cases that could not run.
    pub errors: usize,
    /// Reviewed decisions of cases that are gone.
    pub obsolete: usize,
}

impl RunResult {
    /// How many cases did what.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.files {
            c.obsolete += f.obsolete.len();
            for case in &f.cases {
                match case.status {
                    Status::Passed => c.passed += 1,
                    Status::Failed { .. } => c.failed += 1,
                    Status::New => c.new += 1,
                    Status::Error { .. } => c.errors += 1,
                }
            }
        }
        c
    }

    /// Whether every case passed and nothing is pending review. With
    /// `accepted`, new, changed and obsolete outcomes were written and only
    /// errors count.
    pub fn ok(&self, accepted: bool) -> bool {
        let c = self.counts();
        if accepted {
            c.errors == 0
        } else {
            c.failed + c.new + c.errors + c.obsolete == 0
        }
    }
}

/// Runs case files.
#[derive(Debug)]
pub struct Runner {
    cache: CacheMode,
    sets: HashMap<String, Result<PolicySet, String>>,
    snapshots: HashMap<PathBuf, Result<Snapshot, String>>,
    coverage: BTreeMap<String, RuleCoverage>,
}

impl Runner {
    /// A runner compiling policies with `cache`.
    pub fn new(cache: CacheMode) -> Runner {
        Runner {
            cache,
            sets: HashMap::new(),
            snapshots: HashMap::new(),
            coverage: BTreeMap::new(),
        }
    }

    /// Runs every case of `file`; with `accept`, writes the new outcomes to
    /// its expected file when anything is new, changed or obsolete.
    pub fn run_file(
        &mut self,
        file: &LoadedFile,
        crate_under_test: Option<&CrateUnderTest>,
        accept: bool,
    ) -> Result<FileResult, expected::ExpectedError> {
        let expected_file = expected::path_for(&file.path);
        let reviewed = expected::read(&expected_file)?;
        let mut cases = Vec::with_capacity(file.cases.len());
        for case in &file.cases {
            let start = Instant::now();
            let mut stage = case.stage;
            let (status, outcome) = match self.decide(file, case, crate_under_test) {
                Err(message) => (Status::Error { message }, None),
                Ok((asked, outcome)) => {
                    stage = Some(asked);
                    let status = match reviewed.get(&case.name) {
                        None => Status::New,
                        Some(old) if *old == outcome => Status::Passed,
                        Some(old) => Status::Failed {
                            changes: old.diff(&outcome),
                        },
                    };
                    (status, Some(outcome))
                }
            };
            cases.push(CaseResult {
                name: case.name.clone(),
                snapshot: case.snapshot.clone(),
                policies: case.policies.label(),
                stage,
                status,
                outcome,
                expected: reviewed.get(&case.name).cloned(),
                took: start.elapsed(),
            });
        }
        let names: BTreeSet<&str> = file.cases.iter().map(|c| c.name.as_str()).collect();
        let obsolete: Vec<String> = reviewed
            .keys()
            .filter(|k| !names.contains(k.as_str()))
            .cloned()
            .collect();
        let pending = !obsolete.is_empty()
            || cases
                .iter()
                .any(|c| matches!(c.status, Status::New | Status::Failed { .. }));
        let mut accepted = false;
        if accept && pending {
            let mut updated: BTreeMap<String, Outcome> = reviewed
                .into_iter()
                .filter(|(k, _)| names.contains(k.as_str()))
                .collect();
            for c in &cases {
                if let Some(o) = &c.outcome {
                    updated.insert(c.name.clone(), o.clone());
                }
            }
            let name = file
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            std::fs::write(&expected_file, expected::render(&name, &updated)).map_err(|e| {
                expected::ExpectedError {
                    path: expected_file.clone(),
                    message: format!("cannot write: {e}"),
                }
            })?;
            accepted = true;
        }
        Ok(FileResult {
            file: file.path.clone(),
            expected_file,
            description: file.description.clone(),
            cases,
            obsolete,
            accepted,
        })
    }

    /// The rule coverage gathered so far.
    pub fn coverage(&self) -> &BTreeMap<String, RuleCoverage> {
        &self.coverage
    }

    fn decide(
        &mut self,
        file: &LoadedFile,
        case: &Case,
        crate_under_test: Option<&CrateUnderTest>,
    ) -> Result<(Stage, Outcome), String> {
        let snapshot = self.snapshot(&case.snapshot)?;
        let key = set_key(&case.policies, crate_under_test);
        if !self.sets.contains_key(&key) {
            let set = load_set(&file.path, &case.policies, crate_under_test, &self.cache);
            if let Ok(set) = &set {
                for (name, policy) in set.policies() {
                    let entry = self.coverage.entry(name.to_owned()).or_default();
                    entry
                        .declared
                        .extend(policy.info().rules.iter().map(|r| r.id.clone()));
                }
            }
            self.sets.insert(key.clone(), set);
        }
        let set = match self.sets.get(&key) {
            Some(Ok(set)) => set,
            Some(Err(e)) => return Err(e.clone()),
            None => return Err("internal: policy set not loaded".into()),
        };
        let stage = case.stage.unwrap_or_else(|| snapshot.default_stage());
        let report = set.evaluate(stage, &snapshot);
        // A case of the crate under test that the policy does not answer
        // would pass as `go` while testing nothing.
        if let (Policies::Crate(_), Some(p)) = (&case.policies, report.policies.first())
            && matches!(p.outcome, PolicyOutcome::Skipped)
        {
            let answers: Vec<String> = set
                .policies()
                .flat_map(|(_, policy)| policy.info().stages.iter().map(ToString::to_string))
                .collect();
            return Err(format!(
                "policy `{}` does not answer the `{stage}` stage (it answers: {}), so this case tests nothing; set `stage` in the case file",
                p.name,
                answers.join(", ")
            ));
        }
        if let Some(problem) = undeclared_reads(set, stage, &snapshot, &report) {
            return Err(problem);
        }
        for f in &report.findings {
            let entry = self.coverage.entry(f.policy.clone()).or_default();
            if entry.declared.contains(&f.finding.rule) {
                entry.fired.insert(f.finding.rule.clone());
                if f.finding.verdict > Verdict::Go {
                    entry.tripped.insert(f.finding.rule.clone());
                }
            } else if !entry.declared.is_empty() {
                entry.undeclared.insert(f.finding.rule.clone());
            }
        }
        Ok((stage, Outcome::of(&report)))
    }

    /// The results of an expected file whose case file is gone: every entry
    /// is obsolete; with `accept`, the file is removed.
    pub fn orphan(
        &self,
        expected_file: &Path,
        accept: bool,
    ) -> Result<FileResult, expected::ExpectedError> {
        let reviewed = expected::read(expected_file)?;
        let mut accepted = false;
        if accept {
            std::fs::remove_file(expected_file).map_err(|e| expected::ExpectedError {
                path: expected_file.to_owned(),
                message: format!("cannot remove: {e}"),
            })?;
            accepted = true;
        }
        Ok(FileResult {
            file: expected::case_file_for(expected_file),
            expected_file: expected_file.to_owned(),
            description: Some("its case file is gone".to_owned()),
            cases: Vec::new(),
            obsolete: reviewed.into_keys().collect(),
            accepted,
        })
    }

    fn snapshot(&mut self, path: &Path) -> Result<Snapshot, String> {
        self.snapshots
            .entry(path.to_owned())
            .or_insert_with(|| {
                let bytes = std::fs::read(path)
                    .map_err(|e| format!("cannot read the snapshot `{}`: {e}", path.display()))?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{}: invalid snapshot: {e}", path.display()))
            })
            .clone()
    }
}

fn set_key(policies: &Policies, crate_under_test: Option<&CrateUnderTest>) -> String {
    match (policies, crate_under_test) {
        (Policies::Config(path), _) => format!("config:{}", path.display()),
        (Policies::Crate(table), c) => format!(
            "crate:{}:{}",
            c.map(|c| c.component.display().to_string())
                .unwrap_or_default(),
            table
        ),
    }
}

fn load_set(
    case_file: &Path,
    policies: &Policies,
    crate_under_test: Option<&CrateUnderTest>,
    cache: &CacheMode,
) -> Result<PolicySet, String> {
    match policies {
        Policies::Config(path) => {
            let mut config = Config::load(path).map_err(|e| e.to_string())?;
            // A team's configuration runs its bundles' policies too.
            shipgate_fetch::resolve(
                &mut config,
                shipgate_fetch::Options {
                    org: None,
                    offline: false,
                    now: time::OffsetDateTime::now_utc(),
                },
            )
            .map_err(|e| e.to_string())?;
            PolicySet::load(&config, cache).map_err(|e| e.to_string())
        }
        Policies::Crate(table) => {
            let Some(c) = crate_under_test else {
                return Err("`[policy]` needs the policy crate under test".into());
            };
            let config = crate_config(c, table).map_err(|e| policy_table_error(case_file, &e))?;
            PolicySet::load(&config, cache).map_err(|e| match e {
                SetupError::Config(e) => policy_table_error(case_file, &e),
                other => other.to_string(),
            })
        }
    }
}

/// The configuration of a `[policy]` case: the crate's component alone,
/// enforced, with the case's table as its config.
fn crate_config(c: &CrateUnderTest, table: &toml::Table) -> Result<Config, ConfigError> {
    let mut entry = toml::Table::new();
    entry.insert("name".into(), c.name.clone().into());
    entry.insert("source".into(), c.component.display().to_string().into());
    entry.insert("config".into(), toml::Value::Table(table.clone()));
    let mut doc = toml::Table::new();
    doc.insert(
        "policies".into(),
        toml::Value::Array(vec![toml::Value::Table(entry)]),
    );
    let text = toml::to_string(&doc).map_err(|e| ConfigError {
        file: "[policy]".into(),
        line: 0,
        column: 0,
        key: None,
        message: e.to_string(),
        help: None,
    })?;
    Config::parse(&text, Path::new("[policy]"))
}

/// A configuration error in a case's `[policy]` table, named by the case
/// file and the key inside the table (the generated configuration's line
/// numbers mean nothing to the author).
fn policy_table_error(case_file: &Path, e: &ConfigError) -> String {
    let key = e
        .key
        .as_deref()
        .map(|k| {
            k.replace("policies[0].config.", "")
                .replace("policies[0].config", "")
        })
        .filter(|k| !k.is_empty())
        .map(|k| format!(" key `{k}`:"))
        .unwrap_or_default();
    let help = e
        .help
        .as_deref()
        .map(|h| format!("\n  help: {h}"))
        .unwrap_or_default();
    format!(
        "{}: [policy]:{key} {}{help}",
        case_file.display(),
        e.message
    )
}

/// The contract test of a policy's `info().reads`: asked again with every
/// section of the snapshot, each policy must answer the same (verdict, rules
/// and their verdicts). One that does not reads a section it does not
/// declare, and in production decides without it (it is given only what it
/// declares): the case fails, naming the policy.
fn undeclared_reads(
    set: &PolicySet,
    stage: Stage,
    snapshot: &Snapshot,
    report: &Report,
) -> Option<String> {
    let every = set.evaluate_with_every_section(stage, snapshot);
    let answer = |r: &Report, name: &str| {
        let verdict = r
            .policies
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.verdict);
        let rules: Vec<(String, Verdict)> = r
            .findings
            .iter()
            .filter(|f| f.policy == name)
            .map(|f| (f.finding.rule.clone(), f.finding.verdict))
            .collect();
        (verdict, rules)
    };
    let said = |v: Option<Verdict>| v.map_or("nothing".to_owned(), |v| format!("`{v}`"));
    let problems: Vec<String> = set
        .policies()
        .filter_map(|(name, policy)| {
            let (only, rules_only) = answer(report, name);
            let (all, rules_all) = answer(&every, name);
            if (only, &rules_only) == (all, &rules_all) {
                return None;
            }
            let declared: Vec<&str> = policy.info().reads.iter().map(|s| s.as_str()).collect();
            Some(format!(
                "policy `{name}` reads a section of the snapshot it does not declare: given the \
                 sections its `info().reads` declares ({}) it says {}, given every section {}; \
                 it is only ever given what it declares, so declare every section it reads",
                declared.join(", "),
                said(only),
                said(all),
            ))
        })
        .collect();
    (!problems.is_empty()).then(|| problems.join("; "))
}
