//! Entry points for the fuzz targets in `fuzz/` and for the test that
//! replays their corpora on the stable toolchain (`tests/e2e/fuzz_corpus.rs`).
//! Not a stable API.
//!
//! Each [`Target`] takes bytes the way Shipgate receives them from outside
//! and runs the parser production runs on them, through the same entry
//! point where there is a public one: files are written to a scratch
//! directory and read by the real reader (`eval --snapshot`, `Config::load`,
//! the decision-log reader, the `junit`, `coverage` and `environment`
//! sources); the git source's lockfiles and the Prometheus and GitHub
//! answers, which arrive over a pipe or HTTP, go through thin crate-internal
//! entry points beside their parsers.
//!
//! Some targets read a leading byte that chooses the variant (the rest is the
//! body):
//!
//! | target | first byte (taken modulo the count) | rest |
//! | --- | --- | --- |
//! | `lockfile` | `Cargo.lock`, `package-lock.json`, `go.sum`, `poetry.lock`, `requirements.txt` | the text before, a `0xFF` byte, the text after (no `0xFF`: nothing before) |
//! | `prometheus` | HTTP status 200, 400, 422, 503, 500, 404 | the body |
//! | `github` | `check-runs`, `status`, `pull`, `compare`, `reviews`, `event`, `link` | the body (or the `Link` header) |
//! | `dotenv` | `declared`, `present_dotenv`, `present_names` | the file |
//!
//! The bundle targets (`bundle_toml`, `bundle_file`, `trust_toml`,
//! `exception_toml`, `exception_envelope`, `lock_file`) read what a
//! platform team, a registry or a repository hands Shipgate: a bundle's
//! source, a `.bundle` file, a trust file, an exception's source and its
//! signed envelope, and `shipgate.lock`. Those that write something back
//! also check, for an accepted input, that what they write reads back the
//! same (see [`ROUND_TRIP_BROKEN`]).
//!
//! [`check`] holds the invariants every input must keep besides not
//! panicking; [`CanaryCheck`] the one for snapshots at the canary stage.

use std::path::PathBuf;
use std::sync::Arc;

use shipgate_model::{Gap, Measurement, Snapshot, Stage, StaleValue, Timestamp, Verdict};

use shipgate_bundle::exception::{Exception, SignedException};
use shipgate_bundle::{Bundle, Layout, Trust, layout, source};
use shipgate_collect::{Context, MapVars, coverage, environment, git, github, junit, prometheus};
use shipgate_core::config::Config;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::runtime::CacheMode;
use shipgate_fetch::lock::{self, Lock};

/// A parser of outside bytes that has a fuzz target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A snapshot file, as `shipgate eval --snapshot` reads it.
    Snapshot,
    /// A `shipgate.toml`, as [`Config::load`] reads it.
    Config,
    /// A decision log, as `shipgate replay --log` reads it.
    DecisionLog,
    /// A JUnit XML report of the `junit` source.
    Junit,
    /// A Cobertura XML report of the `coverage` source.
    Cobertura,
    /// An LCOV tracefile of the `coverage` source.
    Lcov,
    /// Two texts of a lockfile the git source diffs.
    Lockfile,
    /// An answer of Prometheus's query API.
    Prometheus,
    /// An answer of GitHub's REST API, an event payload or a `Link` header.
    Github,
    /// A dotenv or names file of the `environment` source.
    Dotenv,
    /// A bundle source's `bundle.toml`, as `shipgate bundle build` reads it.
    BundleToml,
    /// A `.bundle` file (tar, OCI image layout, manifest, config).
    BundleFile,
    /// A `trust.toml`.
    TrustToml,
    /// An exception's source, `exception.toml`.
    ExceptionToml,
    /// A signed exception, `NAME.exception` (a DSSE envelope).
    ExceptionEnvelope,
    /// A `shipgate.lock`.
    LockFile,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 16] = [
        Target::Snapshot,
        Target::Config,
        Target::DecisionLog,
        Target::Junit,
        Target::Cobertura,
        Target::Lcov,
        Target::Lockfile,
        Target::Prometheus,
        Target::Github,
        Target::Dotenv,
        Target::BundleToml,
        Target::BundleFile,
        Target::TrustToml,
        Target::ExceptionToml,
        Target::ExceptionEnvelope,
        Target::LockFile,
    ];

    /// The fuzz target's name, also its corpus folder's.
    pub fn name(self) -> &'static str {
        match self {
            Target::Snapshot => "snapshot",
            Target::Config => "config",
            Target::DecisionLog => "decision_log",
            Target::Junit => "junit",
            Target::Cobertura => "cobertura",
            Target::Lcov => "lcov",
            Target::Lockfile => "lockfile",
            Target::Prometheus => "prometheus",
            Target::Github => "github",
            Target::Dotenv => "dotenv",
            Target::BundleToml => "bundle_toml",
            Target::BundleFile => "bundle_file",
            Target::TrustToml => "trust_toml",
            Target::ExceptionToml => "exception_toml",
            Target::ExceptionEnvelope => "exception_envelope",
            Target::LockFile => "lock_file",
        }
    }

    /// Whether an error of this target becomes a source's gap, whose reason
    /// is one line.
    fn is_source(self) -> bool {
        matches!(
            self,
            Target::Junit
                | Target::Cobertura
                | Target::Lcov
                | Target::Lockfile
                | Target::Prometheus
                | Target::Github
                | Target::Dotenv
        )
    }

    /// How an error of this target must begin: it names the file it is
    /// about (located, `FILE:LINE:COLUMN:`, when it is about a place), or
    /// for a `.bundle` file says it is not a valid bundle or names the
    /// bundle. `None`: no such rule.
    fn error_prefixes(self) -> Option<&'static [&'static str]> {
        match self {
            // A component `source` names is named in a read error; the
            // source directory in an error about all its files.
            Target::BundleToml => Some(&["bundle.toml:", "cannot read `", "bundle-src: "]),
            Target::BundleFile => Some(&["not a valid bundle: ", "bundle `"]),
            Target::TrustToml => Some(&["trust.toml:"]),
            Target::ExceptionToml => Some(&["exception.toml:"]),
            Target::ExceptionEnvelope => Some(&["x.exception: "]),
            Target::LockFile => Some(&["shipgate.lock:"]),
            _ => None,
        }
    }
}

/// The lockfile names the `lockfile` target chooses from.
pub const LOCKFILES: [&str; 5] = [
    "Cargo.lock",
    "package-lock.json",
    "go.sum",
    "poetry.lock",
    "requirements.txt",
];
/// The HTTP statuses the `prometheus` target chooses from.
pub const PROMETHEUS_STATUSES: [u16; 6] = [200, 400, 422, 503, 500, 404];
/// The answer kinds the `github` target chooses from.
pub const GITHUB_KINDS: [&str; 7] = [
    "check-runs",
    "status",
    "pull",
    "compare",
    "reviews",
    "event",
    "link",
];
/// The files the `dotenv` target chooses from.
pub const DOTENV_ROLES: [&str; 3] = ["declared", "present_dotenv", "present_names"];

/// What one input gave: the parsed value as debug text, or the error.
pub type Parsed = Result<String, String>;

/// The most output (debug text of the parsed value, or the error) an input
/// may give per byte of input, plus [`OUTPUT_SLACK`]: a parser's result
/// grows at most linearly with its input.
pub const OUTPUT_PER_INPUT_BYTE: usize = 64;
/// See [`OUTPUT_PER_INPUT_BYTE`].
pub const OUTPUT_SLACK: usize = 16 * 1024;

/// The scratch directory's subdirectory the `bundle_toml` target builds,
/// as its errors call it.
const BUNDLE_SOURCE: &str = "bundle-src";
/// The scratch directory's subdirectory the `lock_file` target writes
/// `shipgate.lock` to.
const LOCK_DIR: &str = "lock";

/// The most an error of a bundle target (`bundle_toml` … `lock_file`) may
/// be per byte of input, plus [`ERROR_SLACK`]: it may quote what it is
/// about, escaped, but never the input over and over.
pub const ERROR_PER_INPUT_BYTE: usize = 8;
/// See [`ERROR_PER_INPUT_BYTE`].
pub const ERROR_SLACK: usize = 2 * 1024;

/// How [`Scratch::run`] reports that an accepted input broke its round
/// trip (what Shipgate writes of it does not read back the same); [`check`]
/// fails on it. No parser's error begins so: theirs name a file or a bundle.
pub const ROUND_TRIP_BROKEN: &str = "round trip broken: ";

/// A scratch directory the file-reading targets write their input to,
/// removed when dropped.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
    ctx: Context,
}

impl Scratch {
    /// A new scratch directory under the system's temporary directory.
    pub fn new() -> std::io::Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix("shipgate-fuzz-")
            .tempdir()?;
        let ctx = Context {
            base_dir: dir.path().to_owned(),
            now: Timestamp(1_767_225_600_000),
            vars: Arc::new(MapVars::default()),
            commit: None,
        };
        Ok(Scratch { dir, ctx })
    }

    /// Writes `data` to `name` in the directory; its full path.
    fn write(&self, name: &str, data: &[u8]) -> Result<PathBuf, String> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, data).map_err(|e| format!("scratch file: {e}"))?;
        Ok(path)
    }

    /// Runs `target` on `data`.
    pub fn run(&self, target: Target, data: &[u8]) -> Parsed {
        match target {
            Target::Snapshot => self.snapshot(data).map(|s| format!("{s:?}")),
            Target::Config => {
                let path = self.write("shipgate.toml", data)?;
                Config::load(&path)
                    .map(|c| format!("{c:?}"))
                    .map_err(|e| e.to_string())
            }
            Target::DecisionLog => {
                let path = self.write("decisions.jsonl", data)?;
                shipgate_engine::replay::Log::read(&path)
                    .map(|log| format!("{log:?}"))
                    .map_err(|e| e.to_string())
            }
            Target::Junit => {
                self.write("report.xml", data)?;
                let config = junit::JunitConfig {
                    paths: vec!["report.xml".to_owned()],
                    ..junit::JunitConfig::default()
                };
                junit::collect(&config, &self.ctx)
                    .map(|s| format!("{s:?}"))
                    .map_err(|e| e.0)
            }
            Target::Cobertura => self.coverage(data, coverage::CoverageFormat::Cobertura),
            Target::Lcov => self.coverage(data, coverage::CoverageFormat::Lcov),
            Target::Lockfile => {
                let (choice, rest) = split_choice(data);
                let name = LOCKFILES[choice % LOCKFILES.len()];
                let (before, after) = match rest.iter().position(|b| *b == 0xFF) {
                    Some(at) => (&rest[..at], &rest[at + 1..]),
                    None => (&[][..], rest),
                };
                // As the git source reads a file at a commit.
                let before = String::from_utf8_lossy(before);
                let after = String::from_utf8_lossy(after);
                match git::lockfile_changes(name, &before, &after) {
                    Some(changes) => changes.map(|c| format!("{c:?}")),
                    None => Err(format!("`{name}` is not a lockfile")),
                }
            }
            Target::Prometheus => {
                let (choice, body) = split_choice(data);
                let status = PROMETHEUS_STATUSES[choice % PROMETHEUS_STATUSES.len()];
                prometheus::read_answer(status, body)
            }
            Target::Github => {
                let (choice, body) = split_choice(data);
                let kind = GITHUB_KINDS[choice % GITHUB_KINDS.len()];
                github::read_answer(kind, body, &["build".to_owned()])
            }
            Target::Dotenv => {
                let (choice, body) = split_choice(data);
                let role = DOTENV_ROLES[choice % DOTENV_ROLES.len()];
                self.write("env-file", body)?;
                let file = Some(PathBuf::from("env-file"));
                let config = match role {
                    "declared" => environment::EnvironmentConfig {
                        declared: file.map(|f| vec![f]),
                        present_names: Some(PathBuf::from("/dev/null")),
                        ..Default::default()
                    },
                    "present_dotenv" => environment::EnvironmentConfig {
                        declared: Some(Vec::new()),
                        present_dotenv: file,
                        ..Default::default()
                    },
                    _ => environment::EnvironmentConfig {
                        declared: Some(Vec::new()),
                        present_names: file,
                        ..Default::default()
                    },
                };
                environment::collect(&config, &self.ctx)
                    .map(|e| format!("{e:?}"))
                    .map_err(|e| e.0)
            }
            Target::BundleToml => self.bundle_toml(data),
            Target::BundleFile => {
                let bundle = read_bundle(data)?;
                bundle_round_trip(&bundle)?;
                Ok(describe(&bundle))
            }
            Target::TrustToml => Trust::parse(&String::from_utf8_lossy(data), "trust.toml")
                .map(|t| format!("{t:?}"))
                .map_err(|e| e.to_string()),
            Target::ExceptionToml => {
                let exception = Exception::parse(&String::from_utf8_lossy(data), "exception.toml")
                    .map_err(|e| e.to_string())?;
                let payload = exception.to_payload();
                match Exception::from_payload(&payload) {
                    Ok(again) if again == exception => Ok(format!("{exception:?}")),
                    Ok(again) => Err(format!(
                        "{ROUND_TRIP_BROKEN}{exception:?} reads back from its payload as {again:?}"
                    )),
                    Err(e) => Err(format!(
                        "{ROUND_TRIP_BROKEN}{exception:?}: its payload is refused: {e}"
                    )),
                }
            }
            Target::ExceptionEnvelope => {
                let signed =
                    SignedException::from_bytes(data, "x.exception").map_err(|e| e.to_string())?;
                let digest = signed.digest();
                match SignedException::from_bytes(&signed.to_bytes(), "x.exception") {
                    Ok(again) if again.digest() == digest && again == signed => {
                        Ok(format!("{signed:?}"))
                    }
                    Ok(again) => Err(format!(
                        "{ROUND_TRIP_BROKEN}{digest} written and read back is {} ({again:?})",
                        again.digest()
                    )),
                    Err(e) => Err(format!(
                        "{ROUND_TRIP_BROKEN}{digest} written is refused: {e}"
                    )),
                }
            }
            Target::LockFile => {
                let dir = self.subdir(LOCK_DIR)?;
                std::fs::write(dir.join(lock::FILE), data)
                    .map_err(|e| format!("scratch file: {e}"))?;
                let load =
                    || Lock::load(&dir).map_err(|e| relative(&e.to_string(), &dir, LOCK_DIR));
                let locked = load()?;
                std::fs::write(dir.join(lock::FILE), locked.to_text())
                    .map_err(|e| format!("scratch file: {e}"))?;
                match load() {
                    Ok(again) if again == locked => {
                        Ok(relative(&format!("{locked:?}"), &dir, LOCK_DIR))
                    }
                    Ok(again) => Err(format!(
                        "{ROUND_TRIP_BROKEN}{locked:?} written and read back is {again:?}"
                    )),
                    Err(e) => Err(format!(
                        "{ROUND_TRIP_BROKEN}the lock written is refused: {e}"
                    )),
                }
            }
        }
    }

    /// `name` in the scratch directory, made if missing.
    fn subdir(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("scratch directory: {e}"))?;
        Ok(dir)
    }

    /// `data` as a bundle source's `bundle.toml` (in a directory of its own,
    /// with no components and no `cases/`), built as `shipgate bundle build`
    /// builds it; a bundle built reads back from its `.bundle` bytes.
    fn bundle_toml(&self, data: &[u8]) -> Parsed {
        let dir = self.subdir(BUNDLE_SOURCE)?;
        std::fs::write(dir.join(source::BUNDLE_TOML), data)
            .map_err(|e| format!("scratch file: {e}"))?;
        let bundle =
            source::build(&dir).map_err(|e| relative(&e.to_string(), &dir, BUNDLE_SOURCE))?;
        bundle_round_trip(&bundle)?;
        Ok(describe(&bundle))
    }

    /// `data` read as `shipgate eval --snapshot FILE` reads it.
    pub fn snapshot(&self, data: &[u8]) -> Result<Snapshot, String> {
        let path = self.write("snapshot.json", data)?;
        crate::commands::eval::read_snapshot(&path).map_err(|e| e.to_string())
    }

    fn coverage(&self, data: &[u8], format: coverage::CoverageFormat) -> Parsed {
        self.write("coverage-report", data)?;
        let config = coverage::CoverageConfig {
            path: Some(PathBuf::from("coverage-report")),
            format: Some(format),
            timeout: None,
        };
        coverage::collect(&config, &self.ctx)
            .map(|p| format!("{p:?}"))
            .map_err(|e| e.0)
    }
}

/// `text` with the scratch subdirectory `dir` left out of the paths it
/// names (`…/shipgate-fuzz-XXXX/bundle-src/bundle.toml` is `bundle.toml`),
/// and `dir` itself called by its `name` (`bundle-src`).
fn relative(text: &str, dir: &std::path::Path, name: &str) -> String {
    let dir = dir.display().to_string();
    text.replace(&format!("{dir}/"), "").replace(&dir, name)
}

/// `data` read as a `.bundle` file.
fn read_bundle(data: &[u8]) -> Result<Bundle, String> {
    layout::read_bundle(data).map_err(|e| e.to_string())
}

/// What a bundle read or built is: its digest and config.
fn describe(bundle: &Bundle) -> String {
    format!("{} {:?}", bundle.digest(), bundle.config())
}

/// `bundle` written as a `.bundle` file reads back with the same digest.
fn bundle_round_trip(bundle: &Bundle) -> Result<(), String> {
    let digest = bundle.digest();
    match read_bundle(&Layout::of(bundle).to_tar()) {
        Ok(again) if again.digest() == digest => Ok(()),
        Ok(again) => Err(format!(
            "{ROUND_TRIP_BROKEN}bundle {digest} written as a `.bundle` file reads back as {}",
            again.digest()
        )),
        Err(e) => Err(format!(
            "{ROUND_TRIP_BROKEN}bundle {digest} written as a `.bundle` file is refused: {e}"
        )),
    }
}

/// The first byte (as a choice) and the rest.
fn split_choice(data: &[u8]) -> (usize, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (usize::from(*first), rest),
        None => (0, data),
    }
}

/// The invariants what an input gave must keep besides not panicking: its
/// output grows at most linearly with the input ([`OUTPUT_PER_INPUT_BYTE`]),
/// and a source's error, which becomes a gap's reason, is one line. For
/// the bundle targets: an accepted input keeps its round trip (no
/// [`ROUND_TRIP_BROKEN`]), and an error names the file it is about (or the
/// bundle) and is at most [`ERROR_PER_INPUT_BYTE`] per byte of input.
pub fn check(target: Target, data: &[u8], parsed: &Parsed) -> Result<(), String> {
    let text = match parsed {
        Ok(text) | Err(text) => text,
    };
    let bound = data
        .len()
        .saturating_mul(OUTPUT_PER_INPUT_BYTE)
        .saturating_add(OUTPUT_SLACK);
    if text.len() > bound {
        return Err(format!(
            "{}: {} bytes of input gave {} bytes of output (bound {bound})",
            target.name(),
            data.len(),
            text.len()
        ));
    }
    if let (true, Err(error)) = (target.is_source(), parsed)
        && error.contains(['\n', '\r'])
    {
        return Err(format!(
            "{}: a source's error is not one line: {error:?}",
            target.name()
        ));
    }
    if let Err(error) = parsed
        && error.starts_with(ROUND_TRIP_BROKEN)
    {
        return Err(format!("{}: {error}", target.name()));
    }
    if let (Some(prefixes), Err(error)) = (target.error_prefixes(), parsed) {
        if !prefixes.iter().any(|p| error.starts_with(p)) {
            return Err(format!(
                "{}: the error names neither its file nor its bundle (it begins with none of {prefixes:?}): {error:?}",
                target.name()
            ));
        }
        let bound = data
            .len()
            .saturating_mul(ERROR_PER_INPUT_BYTE)
            .saturating_add(ERROR_SLACK);
        if error.len() > bound {
            return Err(format!(
                "{}: {} bytes of input gave an error of {} bytes (bound {bound})",
                target.name(),
                data.len(),
                error.len()
            ));
        }
    }
    Ok(())
}

/// The metric the built-in canary policy always requires.
pub const CANARY_REQUIRED_METRIC: &str = "error_rate";
/// The gap source whose presence means the metrics could not be read.
pub const METRICS_SOURCE: &str = "prometheus";

/// Whether `snapshot` lacks data every canary decision of the built-in
/// default needs: an entry of [`CANARY_REQUIRED_METRIC`] is missing or has
/// no usable value on either side, or the metrics source has a gap.
pub fn lacks_canary_data(snapshot: &Snapshot) -> bool {
    let mut required = snapshot
        .metrics
        .iter()
        .filter(|m| m.name == CANARY_REQUIRED_METRIC)
        .peekable();
    required.peek().is_none()
        || required.any(|m| m.baseline.value().is_none() || m.canary.value().is_none())
        || snapshot.gaps.iter().any(|g| g.source == METRICS_SOURCE)
}

/// `snapshot` with its canary data taken away in each way the canary policy
/// must notice, named: no metrics, no required metric, each side of the
/// required metric without a usable value, a gap of the metrics source.
pub fn without_canary_data(snapshot: &Snapshot) -> Vec<(String, Snapshot)> {
    let mut out = Vec::new();
    let mut none = snapshot.clone();
    none.metrics.clear();
    out.push(("no metrics".to_owned(), none));
    let mut dropped = snapshot.clone();
    dropped.metrics.retain(|m| m.name != CANARY_REQUIRED_METRIC);
    out.push((format!("no `{CANARY_REQUIRED_METRIC}`"), dropped));
    let unusable = [
        ("no data", Measurement::NoData),
        ("an error", Measurement::Error("fuzzing".to_owned())),
        (
            "a stale value",
            Measurement::Stale(StaleValue {
                value: 0.0,
                age_seconds: 3600,
            }),
        ),
        ("NaN", Measurement::Value(f64::NAN)),
        ("no samples", Measurement::Samples(Vec::new())),
    ];
    for (what, measurement) in unusable {
        for side in ["baseline", "canary"] {
            let mut changed = snapshot.clone();
            for metric in changed
                .metrics
                .iter_mut()
                .filter(|m| m.name == CANARY_REQUIRED_METRIC)
            {
                let slot = if side == "baseline" {
                    &mut metric.baseline
                } else {
                    &mut metric.canary
                };
                *slot = measurement.clone();
            }
            out.push((
                format!("{side} of `{CANARY_REQUIRED_METRIC}` is {what}"),
                changed,
            ));
        }
    }
    let mut gap = snapshot.clone();
    gap.gaps.push(Gap {
        source: METRICS_SOURCE.to_owned(),
        reason: "fuzzing: the metrics could not be read".to_owned(),
    });
    out.push((format!("a `{METRICS_SOURCE}` gap"), gap));
    out
}

/// The built-in default policy set, asked the canary question.
#[derive(Debug)]
pub struct CanaryCheck {
    policies: PolicySet,
}

impl CanaryCheck {
    /// Loads the built-in default configuration's policies.
    pub fn load(cache: &CacheMode) -> Result<CanaryCheck, String> {
        let config = Config::from_default_toml(
            shipgate_engine::builtin::DEFAULT_CONFIG,
            "<built-in default>",
        )
        .map_err(|e| e.to_string())?;
        let policies = PolicySet::load(&config, cache).map_err(|e| e.to_string())?;
        Ok(CanaryCheck { policies })
    }

    /// The verdict at the canary stage.
    pub fn verdict(&self, snapshot: &Snapshot) -> Verdict {
        self.policies.evaluate(Stage::Canary, snapshot).verdict
    }

    /// A snapshot that lacks canary data ([`lacks_canary_data`]) is never
    /// `go` at the canary stage.
    pub fn check(&self, snapshot: &Snapshot) -> Result<(), String> {
        if lacks_canary_data(snapshot) && self.verdict(snapshot) == Verdict::Go {
            return Err("a snapshot that lacks canary data was promoted (go)".to_owned());
        }
        Ok(())
    }

    /// [`CanaryCheck::check`] on `snapshot` and on each of its
    /// [`without_canary_data`] variants; the first failure names the variant.
    pub fn check_all(&self, snapshot: &Snapshot) -> Result<(), String> {
        self.check(snapshot)?;
        for (what, variant) in without_canary_data(snapshot) {
            self.check(&variant)
                .map_err(|e| format!("with {what}: {e}"))?;
        }
        Ok(())
    }
}
