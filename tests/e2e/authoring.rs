//! Authoring and testing policies with the real binary: `shipgate test` on
//! the built-in scenario corpus and on hand-made cases, and `shipgate build`'s
//! refusals.

use std::path::{Path, PathBuf};

use crate::support::{run, shipgate};

fn workspace() -> PathBuf {
    shipgate_tests::workspace()
}

#[test]
fn the_built_in_scenario_corpus_passes_under_shipgate_test() {
    let ws = workspace();
    let scenarios = crate::scenarios::scenarios().len();
    let profiles = crate::scenarios::profiles().len();
    let cases = scenarios * profiles;
    assert!(cases >= 400, "{scenarios} scenarios × {profiles} profiles");

    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let (code, out, err) = run(shipgate()
        .current_dir(&ws)
        .args(["test", "tests/cases", "--junit"])
        .arg(&junit));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("test result: ok. {cases} passed; 0 failed; 0 new")),
        "{out}"
    );
    // The coverage summary names what the corpus never exercises.
    assert!(out.contains("declared rules fired in some case"), "{out}");

    let suites = junit_parser::from_reader(std::io::BufReader::new(
        std::fs::File::open(&junit).unwrap(),
    ))
    .unwrap();
    assert_eq!(suites.suites.len(), 1);
    let suite = &suites.suites[0];
    assert_eq!(suite.cases.len(), cases);
    assert_eq!(suite.failures + suite.errors, 0);
    assert!(
        suite
            .cases
            .iter()
            .any(|c| c.name == "20-canary-error-spike@deployment-agent"
                || c.name.ends_with("@deployment-agent")),
        "cases are named SCENARIO@PROFILE"
    );
}

/// A case folder with two cases on corpus snapshots under one profile.
fn case_folder() -> tempfile::TempDir {
    let ws = workspace();
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let snapshot = |name: &str| ws.join(format!("tests/scenarios/{name}.json"));
    let profile = ws.join("examples/profiles/deployment-agent.toml");
    for (case, scenario) in [
        ("healthy", "64-canary-healthy"),
        ("spike", "72-error-rate-above-10pct"),
    ] {
        std::fs::write(
            cases.join(format!("{case}.toml")),
            format!(
                "description = \"{case}\"\nsnapshot = {:?}\nconfig = {:?}\n",
                snapshot(scenario),
                profile
            ),
        )
        .unwrap();
    }
    dir
}

#[test]
fn a_changed_decision_fails_with_a_diff_until_it_is_accepted() {
    let dir = case_folder();
    let cases = dir.path().join("cases");
    let test = |extra: &[&str]| run(shipgate().arg("test").arg(&cases).args(extra));

    // Nothing reviewed yet: both cases are new, and that fails.
    let (code, out, err) = test(&[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("0 passed; 0 failed; 2 new"), "{out}");
    assert!(out.contains("NEW      spike"), "{out}");
    assert!(out.contains("shipgate test --accept"), "{out}");

    let (code, out, _) = test(&["--accept"]);
    assert_eq!(code, 0, "{out}");
    let spike = cases.join("spike.expected.toml");
    let reviewed = std::fs::read_to_string(&spike).unwrap();
    assert!(reviewed.contains("verdict = \"rollback\""), "{reviewed}");
    assert!(
        reviewed.contains("\"canary.error-rate\" = \"rollback\""),
        "{reviewed}"
    );
    let (code, out, _) = test(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 passed; 0 failed; 0 new"), "{out}");

    // Someone's reviewed decision says the spike only holds: the real one
    // differs, and the diff says how.
    let edited = reviewed
        .replace("verdict = \"rollback\"", "verdict = \"hold\"")
        .replace(
            "\"canary.error-rate\" = \"rollback\"",
            "\"canary.error-rate\" = \"hold\"\n\"canary.made-up\" = \"hold\"",
        );
    assert_ne!(edited, reviewed);
    std::fs::write(&spike, &edited).unwrap();
    // And a reviewed decision for a case that no longer exists.
    let healthy = cases.join("healthy.expected.toml");
    let mut h = std::fs::read_to_string(&healthy).unwrap();
    h.push_str("\n[gone]\nverdict = \"go\"\n");
    std::fs::write(&healthy, h).unwrap();

    let junit = dir.path().join("junit.xml");
    let (code, out, _) = test(&["--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CHANGED  spike"), "{out}");
    assert!(out.contains("~ verdict: hold → rollback"), "{out}");
    assert!(
        out.contains("~ rule canary.error-rate: hold → rollback"),
        "{out}"
    );
    assert!(out.contains("- rule canary.made-up = hold"), "{out}");
    assert!(out.contains("OBSOLETE gone"), "{out}");
    assert!(
        out.contains("1 passed; 1 failed; 0 new; 0 errors; 1 obsolete"),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("~ verdict: hold → rollback"), "{xml}");
    let suites = junit_parser::from_reader(xml.as_bytes()).unwrap();
    assert_eq!(suites.suites.len(), 2);
    let failures: u64 = suites.suites.iter().map(|s| s.failures).sum();
    assert_eq!(failures, 2, "the changed case and the obsolete one");

    // Accepting restores exactly what --accept wrote before.
    let (code, out, _) = test(&["--accept"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("accepted →"), "{out}");
    assert!(
        out.contains("1 passed; 2 accepted (0 new, 1 changed, 1 obsolete removed); 0 errors"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&spike).unwrap(), reviewed);
    assert!(!std::fs::read_to_string(&healthy).unwrap().contains("gone"));
    let (code, out, _) = test(&["--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["counts"]["passed"], 2);

    // A case file deleted while its reviewed decisions stay: they are
    // obsolete, and accepting removes the file.
    std::fs::remove_file(cases.join("healthy.toml")).unwrap();
    let (code, out, _) = test(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("OBSOLETE healthy"), "{out}");
    assert!(
        out.contains("1 passed; 0 failed; 0 new; 0 errors; 1 obsolete"),
        "{out}"
    );
    let (code, out, _) = test(&["--accept"]);
    assert_eq!(code, 0, "{out}");
    assert!(!healthy.exists());
    let (code, out, _) = test(&[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_broken_case_is_an_error_that_names_the_file_and_the_others_still_run() {
    let dir = case_folder();
    let cases = dir.path().join("cases");
    std::fs::write(
        cases.join("missing.toml"),
        "snapshot = \"nowhere.json\"\nconfig = \"nowhere.toml\"\n",
    )
    .unwrap();
    let (code, out, err) = run(shipgate().arg("test").arg(&cases));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("ERROR    missing"), "{out}");
    assert!(out.contains("nowhere.json"), "{out}");
    assert!(out.contains("2 new; 1 errors"), "{out}");

    std::fs::write(
        cases.join("typo.toml"),
        "snapshot = \"a.json\"\nconfg = \"x\"\n",
    )
    .unwrap();
    let (code, _, err) = run(shipgate().arg("test").arg(&cases));
    assert_eq!(code, 1);
    assert!(err.contains("typo.toml"), "{err}");
    assert!(err.contains("unknown field `confg`"), "{err}");
}

/// A crate in a temporary folder with this Cargo.toml and an empty lib.
fn crate_dir(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    dir
}

#[test]
fn build_refuses_what_is_not_a_policy_crate_and_says_why() {
    let plain = crate_dir(
        "[package]\nname = \"plain\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[workspace]\n",
    );
    let (code, out, err) = run(shipgate().arg("build").arg(plain.path()));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("`plain` is not a policy crate: it does not depend on `shipgate-sdk`"),
        "{err}"
    );

    let sdk = workspace().join("guest-sdk");
    let no_cdylib = crate_dir(&format!(
        "[package]\nname = \"almost\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[workspace]\n[dependencies]\nshipgate-sdk = {{ path = {:?} }}\n",
        sdk
    ));
    let (code, _, err) = run(shipgate().arg("build").arg(no_cdylib.path()));
    assert_eq!(code, 1);
    assert!(err.contains("its library is not a `cdylib`"), "{err}");
    assert!(err.contains("crate-type = [\"cdylib\", \"rlib\"]"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(shipgate().arg("build").arg(empty.path()));
    assert_eq!(code, 1);
    assert!(err.contains("no Cargo.toml"), "{err}");
}

#[test]
fn build_names_the_missing_wasm_target_and_the_command_that_adds_it() {
    let sdk = workspace().join("guest-sdk");
    let policy = crate_dir(&format!(
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[workspace]\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n[dependencies]\nshipgate-sdk = {{ path = {:?} }}\n",
        sdk
    ));
    // A toolchain whose sysroot has no wasm32 standard library: a `rustc`
    // that reports an empty sysroot and is the real one otherwise.
    let bin = tempfile::tempdir().unwrap();
    let sysroot = tempfile::tempdir().unwrap();
    let fake = bin.path().join("rustc");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --print ] && [ \"$2\" = sysroot ]; then echo {:?}; exit 0; fi\nexec rustc \"$@\"\n",
            sysroot.path()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out, err) = run(shipgate()
        .arg("build")
        .arg(policy.path())
        .env("RUSTC", &fake));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("the `wasm32-unknown-unknown` target is not installed"),
        "{err}"
    );
    assert!(
        err.contains("rustup target add wasm32-unknown-unknown"),
        "{err}"
    );
}

/// `shipgate` with the environment of a person building a policy crate:
/// a target directory shared by the test runs (so a rerun builds
/// incrementally), offline (the scaffold's Cargo.lock is the workspace's, so
/// every crate is already downloaded).
fn author() -> std::process::Command {
    let mut cmd = shipgate();
    // The same target directory as the scaffold tests: the dependencies are
    // built once for both.
    cmd.env(
        "CARGO_TARGET_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-tests"),
    )
    .env("CARGO_NET_OFFLINE", "true")
    .env_remove("RUSTFLAGS")
    .env_remove("CARGO_ENCODED_RUSTFLAGS");
    cmd
}

#[test]
fn a_new_policy_goes_from_scaffold_to_tested_and_a_rule_change_is_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("flow-gate");

    // new: the crate, its sample rule, one case and its reviewed decision.
    let (code, out, err) = run(author()
        .args(["new", "policy", "flow-gate", "--dir"])
        .arg(&krate));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cases/error-spike.expected.toml"), "{out}");

    // build: a component that imports nothing, and its sha256. `--locked`
    // works straight away: `new` pruned the copied lockfile.
    let (code, out, err) = run(author()
        .current_dir(&krate)
        .args(["build", "-q", "--locked"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imports    (none)"), "{out}");
    assert!(
        out.contains("exports    shipgate:policy/api@0.2.0"),
        "{out}"
    );
    let component = out
        .lines()
        .find_map(|l| l.strip_prefix("component  "))
        .and_then(|l| l.split(" (").next())
        .map(PathBuf::from)
        .unwrap();
    let bytes = std::fs::read(&component).unwrap();
    let sha = std::fs::read_to_string(format!("{}.sha256", component.display())).unwrap();
    {
        use sha2::Digest as _;
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        assert_eq!(sha, format!("{digest}  flow-gate.wasm\n"));
        assert!(out.contains(&format!("sha256 = \"{digest}\"")), "{out}");
    }

    // test: the scaffold's case passes straight away.
    let test = |extra: &[&str]| {
        run(author()
            .current_dir(&krate)
            .args(["test", "-q"])
            .args(extra))
    };
    let (code, out, err) = test(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 passed; 0 failed"), "{out}");
    assert!(
        out.contains("flow-gate: flow-gate.no-data"),
        "never fired: {out}"
    );

    // A case asking a stage the policy does not answer tests nothing: an
    // error, not a silent `go`.
    let gate_case = krate.join("cases/at-the-gate.toml");
    std::fs::write(
        &gate_case,
        "snapshot = \"snapshots/error-spike.json\"\nstage = \"gate\"\n",
    )
    .unwrap();
    let (code, out, _) = test(&["--no-build"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("does not answer the `gate` stage (it answers: canary)"),
        "{out}"
    );
    std::fs::remove_file(&gate_case).unwrap();

    // A one-line change to the rule: above the ceiling it now holds.
    let lib = krate.join("src/lib.rs");
    let code_text = std::fs::read_to_string(&lib).unwrap();
    assert_eq!(code_text.matches("Finding::rollback(").count(), 1);
    std::fs::write(
        &lib,
        code_text.replace("Finding::rollback(", "Finding::hold("),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (code, out, err) = test(&[]);
    let loop_time = started.elapsed();
    eprintln!("edit → rebuild → test: {:.2} s", loop_time.as_secs_f64());
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("CHANGED  error-spike"), "{out}");
    assert!(out.contains("~ verdict: rollback → hold"), "{out}");
    assert!(
        out.contains("~ rule flow-gate.error-rate: rollback → hold"),
        "{out}"
    );

    // Reviewed: accept, and it passes again with the new decision.
    let (code, out, err) = test(&["--accept"]);
    assert_eq!(code, 0, "{out}{err}");
    let reviewed = std::fs::read_to_string(krate.join("cases/error-spike.expected.toml")).unwrap();
    assert!(reviewed.contains("verdict = \"hold\""), "{reviewed}");
    let (code, out, err) = test(&["--no-build"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 passed; 0 failed; 0 new"), "{out}");
}

/// The contract of `info().reads`: a policy that reads a section it does not
/// declare (the hostile guest's `snoop` reads the CI results, declaring only
/// the rollout) decides without it in production; `shipgate test` asks every
/// case a second time with every section and fails the case that answers
/// otherwise, naming the policy. A policy that keeps to what it declares
/// passes.
#[test]
fn a_policy_that_reads_a_section_it_does_not_declare_fails_its_cases() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let snapshot = shipgate_tests::example_snapshot("release-full");
    for mode in ["snoop", "behave"] {
        let config = dir.path().join(format!("{mode}.toml"));
        std::fs::write(&config, crate::support::hostile(mode, mode, "")).unwrap();
        std::fs::write(
            cases.join(format!("{mode}.toml")),
            format!("snapshot = {snapshot:?}\nconfig = {config:?}\nstage = \"gate\"\n"),
        )
        .unwrap();
    }
    let (code, out, err) = run(shipgate().arg("test").arg(&cases).arg("--accept"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("ERROR    snoop"), "{out}");
    assert!(
        out.contains(
            "policy `snoop` reads a section of the snapshot it does not declare: given the \
             sections its `info().reads` declares (rollout) it says `go`, given every section \
             `no-go`"
        ),
        "{out}"
    );
    assert!(!out.contains("ERROR    behave"), "{out}");
    assert!(cases.join("behave.expected.toml").exists(), "{out}");
    assert!(!cases.join("snoop.expected.toml").exists(), "{out}");
}
