//! `shipgate new policy`: the crate it writes passes its own tests, builds
//! into a component, and its case passes `shipgate test` against the
//! reviewed decision it ships with.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::support::{run, shipgate};

/// The target directory of the generated crates, shared by every run of
/// the suite so that a rerun only compiles the crate itself.
fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-tests")
}

/// Scrubs what the outer `cargo test` may have set for its own build
/// (flags, wrappers such as clippy-driver, a target) and points the nested
/// build at [`shared_target_dir`].
fn nested(cmd: &mut Command) -> &mut Command {
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_TARGET_DIR", shared_target_dir())
}

#[test]
fn a_new_policy_crate_passes_its_tests_builds_and_passes_its_case() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team-gate");
    let (code, out, err) = run(shipgate()
        .args(["new", "policy", "team-gate", "--dir"])
        .arg(&dir));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "Created policy crate `team-gate` in {}:\n",
            dir.display()
        )),
        "{out}"
    );
    assert!(
        out.ends_with("  cargo test\n  shipgate build\n  shipgate test\n"),
        "{out}"
    );
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "cases/error-spike.toml",
        "cases/error-spike.expected.toml",
        "cases/snapshots/error-spike.json",
        "vendor/shipgate-sdk/Cargo.toml",
        "vendor/shipgate-model/Cargo.toml",
        "vendor/wit/policy.wit",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    // Issue 14: the crate named this checkout's guest-sdk by its absolute
    // path and broke anywhere else. It carries the SDK the binary was built
    // with and names nothing outside itself.
    let checkout = shipgate_tests::workspace();
    let checkout = std::fs::canonicalize(&checkout).unwrap_or(checkout);
    let checkout = checkout.to_string_lossy().into_owned();
    assert!(
        !dir.starts_with(&checkout),
        "the crate must be made outside the checkout"
    );
    let mut files = Vec::new();
    walk(&dir, &mut files);
    assert!(files.len() > 20, "{files:?}");
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        assert!(
            !text.contains(&checkout),
            "{} names the checkout {checkout}",
            file.display()
        );
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("shipgate-sdk = { path = \"vendor/shipgate-sdk\" }"),
        "{manifest}"
    );
    // Moved elsewhere, it still builds: every path in it is relative.
    let moved = tmp.path().join("elsewhere").join("team-gate");
    std::fs::create_dir(moved.parent().unwrap()).unwrap();
    std::fs::rename(&dir, &moved).unwrap();
    let dir = moved;

    // 1. The native unit tests, offline: the copied Cargo.lock pins what
    //    the workspace already fetched.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let (code, out, err) = run(nested(&mut Command::new(&cargo))
        .args(["test", "--offline"])
        .current_dir(&dir));
    eprintln!("cargo test in the new crate: {:.1?}", started.elapsed());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("test result: ok. 5 passed; 0 failed"),
        "{out}{err}"
    );
    for test in [
        "an_error_spike_rolls_back",
        "a_healthy_canary_goes",
        "missing_data_holds_never_goes",
        "a_bad_config_is_rejected",
        "every_rule_is_declared_once_and_named_for_the_policy",
    ] {
        assert!(out.contains(&format!("test tests::{test} ... ok")), "{out}");
    }

    // 2. The component, into <target>/shipgate/team-gate.wasm.
    let started = Instant::now();
    let (code, out, err) = run(nested(&mut shipgate()).arg("build").current_dir(&dir));
    eprintln!("shipgate build of the new crate: {:.1?}", started.elapsed());
    assert_eq!(code, 0, "{out}{err}");
    let component = shared_target_dir().join("shipgate").join("team-gate.wasm");
    assert!(component.is_file(), "{out}{err}");

    // 3. Its case against the reviewed decision `shipgate new` wrote.
    let (code, out, err) = run(nested(&mut shipgate()).arg("test").current_dir(&dir));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 passed; 0 failed"), "{out}{err}");
}

/// Every file under `dir`.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[test]
fn new_policy_refuses_bad_input_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();

    let (code, _, err) = run(shipgate()
        .args(["new", "policy", "Team-Gate"])
        .current_dir(tmp.path()));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: `Team-Gate` is not a valid policy name: it starts with `T`"),
        "{err}"
    );

    let taken = tmp.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.md"), "mine").unwrap();
    let (code, _, err) = run(shipgate()
        .args(["new", "policy", "gate", "--dir"])
        .arg(&taken));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("exists and is not empty"), "{err}");
    assert_eq!(std::fs::read_dir(&taken).unwrap().count(), 1);

    let (code, _, err) = run(shipgate()
        .args(["new", "policy", "gate", "--sdk"])
        .arg(tmp.path())
        .current_dir(tmp.path()));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("there is no Cargo.toml in it"), "{err}");

    // Nothing but the directory made above.
    let entries: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["taken"]);
}

#[test]
fn without_dir_the_crate_is_created_under_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = run(shipgate()
        .args(["new", "policy", "gate_2"])
        .current_dir(tmp.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(tmp.path().join("gate_2/src/lib.rs").is_file());
    assert!(out.contains("\nNext steps:\n  cd gate_2\n"), "{out}");
}
