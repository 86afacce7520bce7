//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use shipgate_core::config::Config;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::runtime::CacheMode;
use shipgate_model::Snapshot;

/// A temporary directory holding a `shipgate.toml`.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

/// Writes `toml` as `shipgate.toml` in a fresh temporary directory.
pub fn setup(toml: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("shipgate.toml");
    std::fs::write(&config_path, toml).unwrap();
    Setup { dir, config_path }
}

impl Setup {
    pub fn config(&self) -> Config {
        Config::load(&self.config_path).unwrap()
    }

    /// Loads the policies with the suite's shared component cache.
    pub fn policies(&self) -> PolicySet {
        PolicySet::load(&self.config(), &shared_cache()).unwrap()
    }
}

/// One component cache directory for the whole suite (tests of the cache
/// itself use their own): compiling the same components again in every test
/// only costs time. Concurrent writers are safe (write to a temporary name,
/// rename).
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-component-cache")
}

/// [`shared_cache_dir`] as a cache mode.
pub fn shared_cache() -> CacheMode {
    CacheMode::Dir(shared_cache_dir())
}

/// A `[[policies]]` entry for the hostile guest in `mode`.
pub fn hostile(name: &str, mode: &str, extra: &str) -> String {
    format!(
        "[[policies]]\nname = \"{name}\"\nsource = {:?}\n{extra}\n[policies.config]\nmode = \"{mode}\"\n",
        shipgate_tests::guests::HOSTILE
    )
}

/// The error-ratio example policy entry.
pub fn error_ratio(extra: &str) -> String {
    format!(
        "[[policies]]\nname = \"error-ratio\"\nsource = {:?}\n{extra}\n",
        shipgate_tests::guests::ERROR_RATIO
    )
}

/// A snapshot from `examples/snapshots`.
pub fn example(name: &str) -> Snapshot {
    let text = std::fs::read_to_string(shipgate_tests::example_snapshot(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The real `shipgate` binary, with the suite's shared cache.
pub fn shipgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    cmd.env("SHIPGATE_CACHE_DIR", shared_cache_dir())
        .env("NO_COLOR", "1")
        .env_remove("SHIPGATE_LOG");
    cmd
}

/// Runs a command; returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs git in `dir` with a fixed identity and dates, and without the
/// user's or the system's configuration, so that commits (and their ids)
/// are the same on every machine; panics with git's stderr on failure.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", "2026-11-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-01T10:00:00Z")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
