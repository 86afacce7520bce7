use super::*;

/// The workspace root of this checkout.
fn workspace_root() -> PathBuf {
    shipgate_build::workspace_root_of(Path::new(env!("CARGO_MANIFEST_DIR"))).to_owned()
}

/// The checkout's SDK, canonical.
fn sdk() -> PathBuf {
    fs::canonicalize(workspace_root().join("guest-sdk")).unwrap()
}

/// A new crate for `team-gate` in a fresh temporary directory, on the SDK
/// the binary carries.
fn team_gate() -> (tempfile::TempDir, PathBuf, Created) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team-gate");
    let created = create("team-gate", &dir, None).unwrap();
    (tmp, dir, created)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

#[test]
fn valid_names_pass() {
    for name in [
        "team-gate",
        "a",
        "x1",
        "team_gate",
        "gate-2-b_c",
        &"a".repeat(64),
    ] {
        validate_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn invalid_names_say_what_is_wrong() {
    for (name, reason) in [
        ("", "it is empty"),
        ("Team-gate", "it starts with `T`"),
        ("1gate", "it starts with `1`"),
        ("-gate", "it starts with `-`"),
        ("_gate", "it starts with `_`"),
        ("teamGate", "it contains `G`"),
        ("team gate", "it contains ` `"),
        ("team.gate", "it contains `.`"),
        ("team/gate", "it contains `/`"),
        ("tëam", "it contains `ë`"),
        ("fn", "Rust keyword"),
        ("self", "Rust keyword"),
        ("test", "standard library"),
        ("proc-macro", "standard library"),
        ("std", "standard library"),
    ] {
        let e = validate_name(name).unwrap_err().to_string();
        let start = format!("`{name}` is not a valid policy name: ");
        assert!(e.starts_with(&start), "{name}: {e}");
        assert!(e.contains(reason), "{name}: {e}");
    }
    let e = validate_name(&"a".repeat(65)).unwrap_err().to_string();
    assert!(e.contains("65 characters long, more than 64"), "{e}");
    // The rule itself is in the message of a bad character.
    let e = validate_name("Gate").unwrap_err().to_string();
    assert!(e.contains("lowercase letters, digits, `-` and `_`"), "{e}");
}

#[test]
fn type_names_are_camel_case_and_end_in_policy() {
    for (name, ty) in [
        ("team-gate", "TeamGatePolicy"),
        ("a", "APolicy"),
        ("gate_2-b", "Gate2BPolicy"),
        ("error-ratio-policy", "ErrorRatioPolicy"),
        ("policy", "PolicyPolicy"),
        ("config", "ConfigPolicy"),
        ("a--b", "ABPolicy"),
    ] {
        assert_eq!(type_name(name), ty, "{name}");
    }
}

#[test]
fn render_replaces_known_placeholders_in_one_pass() {
    let vars = [("name", "x-{{sdk}}"), ("sdk", "/s")];
    assert_eq!(
        render("a {{name}} b {{sdk}}{{name}} {{other}} {{ {{", &vars),
        "a x-{{sdk}} b /sx-{{sdk}} {{other}} {{ {{"
    );
    assert_eq!(render("no placeholders", &vars), "no placeholders");
    assert_eq!(render("{{sdk", &vars), "{{sdk");
}

#[test]
fn no_placeholder_is_left_in_any_rendered_file() {
    let files = files("team-gate", "/opt/shipgate/guest-sdk");
    let paths: Vec<String> = files
        .iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "Cargo.toml",
            ".gitignore",
            "README.md",
            "src/lib.rs",
            "cases/error-spike.toml",
            "cases/snapshots/error-spike.json",
            "cases/error-spike.expected.toml",
        ]
    );
    for (path, text) in &files {
        assert!(
            !text.contains("{{"),
            "{} keeps a placeholder",
            path.display()
        );
    }
    let lib = &files[3].1;
    assert!(lib.contains("pub struct TeamGatePolicy;"), "{lib}");
    assert!(lib.contains("export_policy!(TeamGatePolicy);"), "{lib}");
    assert!(lib.contains(r#"pub RULE_ERROR_RATE = "team-gate.error-rate""#));
    assert!(lib.contains(r#"pub RULE_NO_DATA = "team-gate.no-data""#));
    let readme = &files[2].1;
    assert!(readme.starts_with("# team-gate\n"), "{readme}");
    assert!(readme.contains(r#"source = "target/shipgate/team-gate.wasm""#));
}

#[test]
fn cargo_toml_is_a_standalone_policy_crate_on_the_sdk() {
    let (_tmp, dir, created) = team_gate();
    let manifest: toml::Table = toml::from_str(&read(&dir.join("Cargo.toml"))).unwrap();
    let get = |path: &str| {
        path.split('.')
            .try_fold(&manifest, |t, key| t.get(key)?.as_table())
            .unwrap_or_else(|| panic!("no table {path}"))
    };
    assert_eq!(get("package")["name"].as_str(), Some("team-gate"));
    assert_eq!(get("package")["edition"].as_str(), Some("2024"));
    let crate_types: Vec<&str> = get("lib")["crate-type"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(crate_types, ["cdylib", "rlib"]);
    // The SDK the binary carries, in the crate: a relative path.
    let sdk_path = get("dependencies.shipgate-sdk")["path"].as_str().unwrap();
    assert_eq!(sdk_path, "vendor/shipgate-sdk");
    assert_eq!(
        created.sdk,
        Sdk::Vendored {
            dir: PathBuf::from("vendor/shipgate-sdk"),
            version: env!("CARGO_PKG_VERSION"),
        }
    );
    assert_eq!(get("dependencies.serde")["version"].as_str(), Some("1"));
    assert_eq!(
        get("dependencies.serde")["features"].as_array().unwrap()[0].as_str(),
        Some("derive")
    );
    assert!(get("dev-dependencies").contains_key("serde_json"));
    let exclude: Vec<&str> = get("workspace")["exclude"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(exclude, ["vendor"]);
    let release = get("profile.release");
    assert_eq!(release["opt-level"].as_str(), Some("s"));
    assert_eq!(release["lto"].as_bool(), Some(true));
    assert_eq!(release["codegen-units"].as_integer(), Some(1));
    assert_eq!(release["panic"].as_str(), Some("abort"));
    assert_eq!(release["strip"].as_bool(), Some(true));
}

#[test]
fn the_sdk_path_is_escaped_for_toml() {
    let odd = r#"C:\Users\dana "d"\guest-sdk"#;
    let (_, cargo_toml) = files("team-gate", odd).remove(0);
    let manifest: toml::Table = toml::from_str(&cargo_toml).unwrap();
    assert_eq!(
        manifest["dependencies"]["shipgate-sdk"]["path"].as_str(),
        Some(odd)
    );
}

#[test]
fn the_expected_file_is_what_shipgate_test_accept_writes() {
    let (_tmp, dir, _) = team_gate();
    // The outcome spelled out here, not through `expected_outcomes`.
    let outcome = Outcome {
        verdict: Verdict::Rollback,
        risk: None,
        rules: BTreeMap::from([("team-gate.error-rate".to_owned(), Verdict::Rollback)]),
        advisory: BTreeMap::new(),
        failed: BTreeMap::new(),
    };
    let outcomes = BTreeMap::from([("error-spike".to_owned(), outcome)]);
    let path = dir.join(EXPECTED_FILE);
    let golden = read(&path);
    assert_eq!(golden, expected::render("error-spike.toml", &outcomes));
    assert_eq!(expected::read(&path).unwrap(), outcomes);
    assert_eq!(expected::path_for(&dir.join(CASE_FILE)), path);
    assert!(
        golden.contains("\n[error-spike]\nverdict = \"rollback\"\n"),
        "{golden}"
    );
    assert!(
        golden.contains("\"team-gate.error-rate\" = \"rollback\""),
        "{golden}"
    );
}

#[test]
fn the_case_file_names_a_realistic_canary_snapshot() {
    let (_tmp, dir, _) = team_gate();
    let case_path = dir.join(CASE_FILE);
    let case: toml::Table = toml::from_str(&read(&case_path)).unwrap();
    let mut keys: Vec<&str> = case.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["description", "policy", "snapshot", "stage"]);
    assert_eq!(case["stage"].as_str(), Some("canary"));
    assert_eq!(case["policy"]["max_error_rate"].as_float(), Some(0.02));
    let snapshot_path = case_path
        .parent()
        .unwrap()
        .join(case["snapshot"].as_str().unwrap());
    // A snapshot the host accepts (the model denies unknown fields).
    let snapshot: shipgate_model::Snapshot = serde_json::from_str(&read(&snapshot_path)).unwrap();
    let rollout = snapshot.rollout.as_ref().unwrap();
    assert_eq!((rollout.phase, rollout.traffic_percent), (0, 10));
    let error_rate = snapshot.metric("error_rate").unwrap();
    assert_eq!(error_rate.baseline.value(), Some(0.004));
    assert_eq!(error_rate.canary.value(), Some(0.061));
    assert!(snapshot.metric("latency_p95").is_some());
    assert_eq!(snapshot.deployment.environment, "production");
}

/// The `[[package]]` (name, version) pairs of a lockfile.
fn packages(text: &str) -> Vec<(String, String)> {
    let doc: toml::Table = text.parse().unwrap();
    doc["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The copied lockfile was pruned by cargo to what the crate uses, without
/// changing a version: every package it keeps is in the workspace's
/// lockfile as it was.
fn assert_pruned_from_the_workspace_lockfile(dir: &Path) {
    let ours = packages(&read(&dir.join("Cargo.lock")));
    let theirs = packages(&read(&workspace_root().join("Cargo.lock")));
    assert!(
        ours.len() < theirs.len(),
        "{} of {}",
        ours.len(),
        theirs.len()
    );
    for name in ["shipgate-sdk", "shipgate-model", "serde", "wit-bindgen"] {
        assert!(ours.iter().any(|(n, _)| n == name), "{name} kept");
    }
    for p in ours.iter().filter(|(n, _)| n != "team-gate") {
        assert!(theirs.contains(p), "{p:?} is the workspace's version");
    }
}

#[test]
fn create_writes_every_file_the_vendored_sdk_and_the_lockfile() {
    let (_tmp, dir, created) = team_gate();
    let listed: Vec<String> = created
        .files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let vendored: Vec<String> = vendor::files()
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect();
    let mut expected: Vec<String> = [
        "Cargo.toml",
        "Cargo.lock",
        ".gitignore",
        "README.md",
        "src/lib.rs",
        "cases/error-spike.toml",
        "cases/snapshots/error-spike.json",
        "cases/error-spike.expected.toml",
    ]
    .map(str::to_owned)
    .to_vec();
    expected.extend(vendored);
    assert_eq!(listed, expected);
    for file in &created.files {
        assert!(dir.join(file).is_file(), "{}", file.display());
    }
    assert_eq!(read(&dir.join(".gitignore")), "/target\n");
    assert_eq!(created.lockfile, Some(Lockfile::Embedded));
    assert_pruned_from_the_workspace_lockfile(&dir);
    assert_eq!(created.dir, dir);
    assert_eq!(created.name, "team-gate");

    // Nothing names this checkout: the crate stands on its own.
    let checkout = fs::canonicalize(workspace_root()).unwrap();
    for file in &created.files {
        let text = String::from_utf8_lossy(&fs::read(dir.join(file)).unwrap()).into_owned();
        assert!(
            !text.contains(&*checkout.to_string_lossy()),
            "{} names the checkout",
            file.display()
        );
    }
    // The vendored SDK's manifests point at each other inside vendor/.
    let sdk: toml::Table =
        toml::from_str(&read(&dir.join("vendor/shipgate-sdk/Cargo.toml"))).unwrap();
    assert_eq!(
        sdk["dependencies"]["shipgate-model"]["path"].as_str(),
        Some("../shipgate-model")
    );
    assert_eq!(
        sdk["package"]["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert!(dir.join("vendor/wit/policy.wit").is_file());
}

#[test]
fn with_sdk_the_crate_names_that_sdk_and_copies_its_workspace_lockfile() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team-gate");
    let created = create("team-gate", &dir, Some(&workspace_root().join("guest-sdk"))).unwrap();
    let manifest: toml::Table = toml::from_str(&read(&dir.join("Cargo.toml"))).unwrap();
    let sdk_path = manifest["dependencies"]["shipgate-sdk"]["path"]
        .as_str()
        .unwrap();
    assert_eq!(Path::new(sdk_path), sdk());
    assert!(Path::new(sdk_path).is_absolute());
    assert!(!sdk_path.contains(".."), "{sdk_path}");
    assert_eq!(created.sdk, Sdk::Path(sdk()));
    assert_eq!(
        created.lockfile,
        Some(Lockfile::Copied(sdk().parent().unwrap().join("Cargo.lock")))
    );
    assert!(!dir.join("vendor").exists());
    assert!(!created.files.iter().any(|f| f.starts_with("vendor")));
    assert_pruned_from_the_workspace_lockfile(&dir);
}

/// A directory holding a `Cargo.toml` of package `name`.
fn fake_package(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n"),
    )
    .unwrap();
    dir
}

#[test]
fn without_a_lockfile_in_the_sdk_workspace_none_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let sdk = fake_package(tmp.path(), SDK_PACKAGE);
    let dir = tmp.path().join("gate");
    let created = create("gate", &dir, Some(&sdk)).unwrap();
    assert_eq!(created.lockfile, None);
    assert!(!created.files.iter().any(|f| f == Path::new("Cargo.lock")));
    assert!(!dir.join("Cargo.lock").exists());
    // A lockfile next to the SDK's own Cargo.toml is found first.
    fs::write(sdk.join("Cargo.lock"), "# own\n").unwrap();
    fs::write(tmp.path().join("Cargo.lock"), "# parent\n").unwrap();
    assert_eq!(sdk_lockfile(&sdk), Some(sdk.join("Cargo.lock")));
    fs::remove_file(sdk.join("Cargo.lock")).unwrap();
    assert_eq!(sdk_lockfile(&sdk), Some(tmp.path().join("Cargo.lock")));
}

#[test]
fn a_non_empty_directory_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("team-gate");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let e = create("team-gate", &dir, None).unwrap_err();
    assert!(matches!(e, ScaffoldError::DirNotEmpty(_)), "{e:?}");
    assert!(e.to_string().contains("exists and is not empty"), "{e}");
    let entries: Vec<_> = fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(read(&dir.join("notes.txt")), "mine");
    // A hidden file counts too.
    fs::remove_file(dir.join("notes.txt")).unwrap();
    fs::write(dir.join(".git"), "").unwrap();
    assert!(matches!(
        create("team-gate", &dir, None),
        Err(ScaffoldError::DirNotEmpty(_))
    ));
}

#[test]
fn an_empty_directory_is_used_and_a_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let created = create("gate", tmp.path(), None).unwrap();
    assert!(tmp.path().join("src/lib.rs").is_file());
    assert_eq!(created.dir, tmp.path());
    let file = tmp.path().join("README.md");
    let e = create("gate", &file, None).unwrap_err();
    assert!(matches!(e, ScaffoldError::NotADirectory(_)), "{e:?}");
}

#[test]
fn missing_parent_directories_are_created() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/gate");
    create("gate", &dir, None).unwrap();
    assert!(dir.join("Cargo.toml").is_file());
}

#[test]
fn an_invalid_name_or_sdk_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("x");
    assert!(matches!(
        create("Bad", &dir, None),
        Err(ScaffoldError::InvalidName { .. })
    ));
    assert!(matches!(
        create("gate", &dir, Some(tmp.path())),
        Err(ScaffoldError::NotTheSdk { .. })
    ));
    assert!(!dir.exists());
}

#[test]
fn the_sdk_is_checked_with_a_useful_error() {
    assert_eq!(
        check_sdk(&workspace_root().join("guest-sdk")).unwrap(),
        sdk()
    );

    // The checkout's root instead of its guest-sdk: a workspace.
    let e = check_sdk(&workspace_root()).unwrap_err().to_string();
    assert!(e.contains("has no [package] (a workspace?)"), "{e}");
    assert!(e.contains("the SDK of this checkout is `"), "{e}");
    assert!(e.contains("guest-sdk`"), "{e}");

    let tmp = tempfile::tempdir().unwrap();
    let e = check_sdk(&tmp.path().join("nope")).unwrap_err().to_string();
    assert!(e.contains("there is no Cargo.toml in it"), "{e}");
    assert!(e.contains("pass the `guest-sdk` directory"), "{e}");

    let other = fake_package(tmp.path(), "serde");
    let e = check_sdk(&other).unwrap_err().to_string();
    assert!(
        e.contains("its Cargo.toml is package `serde`, not `shipgate-sdk`"),
        "{e}"
    );

    let broken = tmp.path().join("broken");
    fs::create_dir(&broken).unwrap();
    fs::write(broken.join("Cargo.toml"), "[package\n").unwrap();
    let e = check_sdk(&broken).unwrap_err().to_string();
    assert!(e.contains("its Cargo.toml is not valid TOML"), "{e}");

    // A file is not a directory.
    let e = check_sdk(&other.join("Cargo.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("there is no Cargo.toml in it"), "{e}");
}

#[test]
fn a_failed_write_removes_what_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("crate");
    let mut writer = Writer::default();
    writer.dir(&root).unwrap();
    writer.file(&root, Path::new("a/b/one.txt"), b"1").unwrap();
    // The same file again: never overwritten.
    let e = writer
        .file(&root, Path::new("a/b/one.txt"), b"2")
        .unwrap_err();
    assert!(matches!(e, ScaffoldError::Write { .. }), "{e:?}");
    assert_eq!(read(&root.join("a/b/one.txt")), "1");
    writer.undo(&root);
    assert!(!root.exists(), "the crate directory it made is gone");
    assert!(tmp.path().is_dir(), "directories it did not make stay");
}
