//! What the compiled-code cache trusts, tested by attacking it: each test
//! is an attack on a real cache directory used by the real binary, on the
//! error-spike snapshot the error-ratio policy must roll back. The built-in
//! policies are precompiled into the binary and never touch the cache, so
//! the attacks use components loaded from files, as a user's are.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use shipgate_tests::{example_snapshot, guests};

use crate::support::{run, setup};

/// The error-ratio policy (it rolls the spike back), and the hostile guest
/// in its polite mode, whose entry the attacks use.
fn config() -> String {
    format!(
        "{}\n{}",
        crate::support::error_ratio(""),
        crate::support::hostile("other", "behave", "")
    )
}

/// `shipgate eval` of the error spike at the canary stage with `cache` as
/// `$SHIPGATE_CACHE_DIR`: (exit code, JSON report, stderr).
fn eval_spike(config: &Path, cache: &Path) -> (i32, Value, String) {
    let (code, out, err) = run(std::process::Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .env("SHIPGATE_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env_remove("SHIPGATE_LOG")
        .args([
            "eval",
            "--format",
            "json",
            "--stage",
            "canary",
            "--snapshot",
        ])
        .arg(example_snapshot("canary-error-spike"))
        .arg("--config")
        .arg(config));
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// The files in a directory (none if it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The cache entry of the component with this sha256.
fn entry(dir: &Path, sha256: &str) -> PathBuf {
    files(dir)
        .into_iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{sha256}-"))
        })
        .unwrap_or_else(|| panic!("no entry for {sha256} in {:?}", files(dir)))
}

/// A cache holding the error-ratio policy's and the other guest's entries,
/// made once by the real binary; and the two components' sha256.
struct Populated {
    dir: PathBuf,
    guarded: String,
    other: String,
}

fn populated() -> &'static Populated {
    static CACHE: OnceLock<Populated> = OnceLock::new();
    CACHE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-attacks-template");
        let _ = std::fs::remove_dir_all(&dir);
        let s = setup(&config());
        let (code, report, err) = eval_spike(&s.config_path, &dir);
        assert_eq!(code, 3, "{report:#}\n{err}");
        let sha = |i: usize| report["policies"][i]["sha256"].as_str().unwrap().to_owned();
        Populated {
            guarded: sha(0),
            other: sha(1),
            dir,
        }
    })
}

/// A private copy of the populated cache for one attack.
fn fresh_copy() -> (tempfile::TempDir, &'static Populated) {
    let p = populated();
    let copy = tempfile::tempdir().unwrap();
    for file in files(&p.dir) {
        std::fs::copy(&file, copy.path().join(file.file_name().unwrap())).unwrap();
    }
    (copy, p)
}

/// The attack of the issue: another policy's cached artifact copied over
/// the error-ratio policy's entry. It must still roll back; the swap is
/// detected, said, and the entry compiled again.
#[test]
fn another_policys_entry_copied_over_a_policys_is_detected() {
    let (cache, p) = fresh_copy();
    let s = setup(&config());
    let guarded = entry(cache.path(), &p.guarded);
    let other = entry(cache.path(), &p.other);
    std::fs::copy(&other, &guarded).unwrap();

    let (code, report, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(code, 3, "the swapped entry must not run: {report:#}\n{err}");
    assert_eq!(report["policies"][0]["sha256"], p.guarded.as_str());
    assert!(
        err.contains("discarding the cached component") && err.contains(&p.other),
        "the swap is detected and named: {err}"
    );
    assert_ne!(
        std::fs::read(&guarded).unwrap(),
        std::fs::read(&other).unwrap(),
        "the entry is compiled again"
    );
    // And the new entry is trusted next time, without a word.
    let (code, _, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(code, 3);
    assert!(!err.contains("discarding"), "{err}");
}

/// Flipped bytes in the machine code of an entry: no crash, no run of the
/// changed code; the entry is discarded and compiled again.
#[test]
fn changed_machine_code_is_detected_and_recompiled() {
    let (cache, p) = fresh_copy();
    let s = setup(&config());
    let guarded = entry(cache.path(), &p.guarded);
    let mut bytes = std::fs::read(&guarded).unwrap();
    // Zero the middle half: machine code and data (on x86-64, zeros decode
    // as memory writes through whatever a register holds).
    let (from, to) = (bytes.len() / 4, bytes.len() * 3 / 4);
    bytes[from..to].fill(0);
    std::fs::write(&guarded, &bytes).unwrap();

    let (code, report, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(code, 3, "{report:#}\n{err}");
    assert!(
        err.contains("discarding the cached component") && err.contains(&p.guarded),
        "{err}"
    );
    assert_ne!(std::fs::read(&guarded).unwrap(), bytes, "compiled again");
}

/// A symbolic link as an entry is not followed: it is discarded and
/// replaced by a real entry, and what it pointed to is left alone.
#[test]
fn a_symlinked_entry_is_not_followed() {
    let (cache, p) = fresh_copy();
    let s = setup(&config());
    let guarded = entry(cache.path(), &p.guarded);
    let other = entry(cache.path(), &p.other);
    let other_bytes = std::fs::read(&other).unwrap();
    std::fs::remove_file(&guarded).unwrap();
    std::os::unix::fs::symlink(other.file_name().unwrap(), &guarded).unwrap();

    let (code, report, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(code, 3, "{report:#}\n{err}");
    assert!(err.contains("symbolic link"), "{err}");
    let meta = std::fs::symlink_metadata(&guarded).unwrap();
    assert!(meta.file_type().is_file(), "the link is replaced: {meta:?}");
    assert_eq!(
        std::fs::read(&other).unwrap(),
        other_bytes,
        "its target untouched"
    );
}

/// A cache directory others may write is refused (one warning); policies
/// are compiled in memory and the decision is the same.
#[test]
fn a_world_writable_cache_dir_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let s = setup(&config());
    let (code, report, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(code, 3, "{report:#}\n{err}");
    assert!(
        err.contains("not used") && err.contains("writable by group and others (mode 0777)"),
        "{err}"
    );
    assert_eq!(err.matches("not used").count(), 1, "one warning: {err}");
    assert!(files(cache.path()).is_empty(), "nothing written to it");
}

/// A newly made cache directory is private.
#[test]
fn a_new_cache_dir_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let parent = tempfile::tempdir().unwrap();
    let cache = parent.path().join("shipgate/components");
    let s = setup(&format!(
        "[[policies]]\nname = \"error-ratio\"\nsource = {:?}\n",
        guests::ERROR_RATIO
    ));
    let (code, _, err) = eval_spike(&s.config_path, &cache);
    assert_eq!(code, 3, "{err}");
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    for file in files(&cache) {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{}: {mode:o}", file.display());
    }
}

/// A component whose `sha256` pin does not match is refused on its bytes:
/// it is never compiled, so no cache entry appears.
#[test]
fn a_pin_that_does_not_match_is_refused_before_compiling() {
    let cache = tempfile::tempdir().unwrap();
    let wrong = "0".repeat(64);
    let pinned = |sha: &str| {
        setup(&format!(
            "[[policies]]\nname = \"error-ratio\"\nsource = {:?}\nsha256 = \"{sha}\"\n",
            guests::ERROR_RATIO
        ))
    };
    let bad = pinned(&wrong);
    let (code, _, err) = eval_spike(&bad.config_path, cache.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("policies[0].sha256"), "{err}");
    assert!(
        files(cache.path()).is_empty(),
        "compiled: {:?}",
        files(cache.path())
    );

    // The digest it names is the right pin, and then the cache is used.
    let actual = err
        .split("sha256 is `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("{err}"));
    let good = pinned(actual);
    let (code, _, err) = eval_spike(&good.config_path, cache.path());
    assert_eq!(code, 3, "{err}");
    assert_eq!(files(cache.path()).len(), 1, "{:?}", files(cache.path()));
}

/// The built-in policies are precompiled into the binary: with an empty
/// cache they are neither compiled nor written to it, so nothing in the
/// cache can stand in for them.
#[test]
fn the_builtins_never_touch_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let s = setup(
        "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n\n\
         [[policies]]\nname = \"env\"\nsource = \"builtin:env\"\n",
    );
    let (code, report, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(
        code, 3,
        "the canary rolls the spike back: {report:#}\n{err}"
    );
    assert!(files(cache.path()).is_empty(), "{:?}", files(cache.path()));
    assert!(!err.contains("compiling"), "nothing is compiled: {err}");
}

/// A policy compiled at load says so on stderr, once: the next start takes
/// it from the cache without a word.
#[test]
fn a_policy_compiled_at_load_says_so_once() {
    let cache = tempfile::tempdir().unwrap();
    let s = setup(&crate::support::error_ratio(""));
    let (code, _, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(code, 3, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("compiling")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("compiling policy `error-ratio`")
            && lines[0].contains("it is cached for next time"),
        "{err}"
    );
    let (code, _, err) = eval_spike(&s.config_path, cache.path());
    assert_eq!(code, 3, "{err}");
    assert!(!err.contains("compiling"), "{err}");
}
