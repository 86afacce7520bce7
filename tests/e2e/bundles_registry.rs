//! Policy bundles through a real OCI registry (Debian's `docker-registry`
//! on a loopback port, `shipgate_tests::registry`) and the real binary: a
//! platform team builds, tests, signs and pushes; a team's `shipgate.toml`
//! pins the digest (or a tag, with `shipgate.lock`); `check` and `eval`
//! decide with the bundle's policies and name the bundle in the report, the
//! JSON and the decision log; and a tampered blob, an unsigned bundle, a
//! key not allowed, an expired and a rolled-back bundle are each refused at
//! load with their own message, naming the `[[bundles]]` entry.

use std::path::{Path, PathBuf};

use shipgate_tests::registry::{Auth, RegistryServer};

use super::bundles::{Kit, copy_dir, fixture};

/// The fixture's unreviewed-hotfix snapshot: the bundle's `rules` policy
/// says no-go.
fn hotfix_snapshot() -> PathBuf {
    fixture().join("cases/snapshots/unreviewed-hotfix.json")
}

/// Pushes `bundle` (a file in the kit) to `reference`; returns the pinned
/// source `push` prints.
fn push(kit: &mut Kit, bundle: &str, reference: &str) -> String {
    let out = kit.ok(&["bundle", "push", bundle, reference, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    json["pin"].as_str().unwrap().to_owned()
}

/// A team directory `name` in the kit: the kit's trust file, and a
/// `shipgate.toml` running `sources` (one `[[bundles]]` each) and a policy
/// of its own.
fn team(kit: &Kit, name: &str, sources: &[&str]) -> PathBuf {
    let dir = kit.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(kit.path("trust.toml"), dir.join("trust.toml")).unwrap();
    let mut toml = String::from("[trust]\nfile = \"trust.toml\"\n\n");
    for source in sources {
        toml.push_str(&format!("[[bundles]]\nsource = \"{source}\"\n\n"));
    }
    toml.push_str("[[policies]]\nname = \"window\"\nsource = \"builtin:window\"\n");
    std::fs::write(dir.join("shipgate.toml"), toml).unwrap();
    dir
}

/// `eval` of the hotfix snapshot under `dir`'s configuration: (code,
/// stdout, stderr).
fn eval(kit: &mut Kit, dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let config = dir.join("shipgate.toml");
    let snapshot = hotfix_snapshot();
    let mut args = vec![
        "eval",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    kit.run(&args)
}

/// `eval` refused at load (exit 1): its stderr.
fn eval_refused(kit: &mut Kit, dir: &Path) -> String {
    let (code, out, err) = eval(kit, dir, &[]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    err
}

/// A copy of the fixture's source with `bundle.toml` edited.
fn variant(kit: &Kit, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = kit.path(name);
    copy_dir(&fixture(), &dir);
    let toml = std::fs::read_to_string(dir.join("bundle.toml")).unwrap();
    std::fs::write(dir.join("bundle.toml"), edit(toml)).unwrap();
    dir
}

#[test]
fn build_test_sign_push_pin_and_decide_with_the_bundles_policies() {
    let registry = RegistryServer::start(Auth::None);
    let mut kit = Kit::new();
    kit.build(&fixture(), "security.bundle");
    let tested = kit.ok(&["bundle", "test", "security.bundle"]);
    assert!(tested.contains("2 passed"), "{tested}");
    kit.sign("security.bundle", &["org", "team"]);
    let pin = push(
        &mut kit,
        "security.bundle",
        &registry.reference("acme/security:1.4.0"),
    );
    let digest = pin.rsplit('@').next().unwrap().to_owned();
    assert!(digest.starts_with("sha256:"), "{pin}");

    // Pull by tag and by digest: the same bundle, verified.
    let by_tag = kit.ok(&[
        "bundle",
        "pull",
        &registry.reference("acme/security:1.4.0"),
        "--trust",
        "trust.toml",
        "--format",
        "json",
    ]);
    let by_tag: serde_json::Value = serde_json::from_str(&by_tag).unwrap();
    assert_eq!(by_tag["digest"], digest.as_str());
    assert_eq!(by_tag["trusted"], true);
    assert_eq!(by_tag["signers"].as_array().unwrap().len(), 2);
    let by_digest = kit.ok(&["bundle", "pull", &pin, "--trust", "trust.toml"]);
    assert!(
        by_digest.contains(&format!("digest: {digest}")),
        "{by_digest}"
    );
    let inspected = kit.ok(&["bundle", "inspect", &pin]);
    assert!(inspected.contains("hotfix.unreviewed"), "{inspected}");

    // The team pins the digest; `eval` decides with the bundle's policies.
    let dir = team(&kit, "team", &[&pin]);
    let log = dir.join("decisions.jsonl");
    let (code, out, err) = eval(
        &mut kit,
        &dir,
        &["--format", "json", "--log", log.to_str().unwrap()],
    );
    assert_eq!(code, 2, "no-go expected\nstdout:\n{out}\nstderr:\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"], "no-go");
    let policies = report["policies"].as_array().unwrap();
    let names: Vec<(&str, Option<&str>)> = policies
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["bundle"].as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("window", None),
            ("env", Some("acme/security")),
            ("hotfix-review", Some("acme/security")),
        ]
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "hotfix.unreviewed" && f["verdict"] == "no-go"),
        "{out}"
    );
    let bundle = &report["bundles"][0];
    assert_eq!(bundle["name"], "acme/security");
    assert_eq!(bundle["version"], "1.4.0");
    assert_eq!(bundle["digest"], digest.as_str());
    assert_eq!(bundle["signers"].as_array().unwrap().len(), 2);
    // The decision log names the bundle too (a replay fetches exactly it).
    let record: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(record["config"]["bundles"][0]["digest"], digest.as_str());
    assert_eq!(record["config"]["bundles"][0]["source"], pin.as_str());
    assert_eq!(record["report"]["bundles"][0]["digest"], digest.as_str());
    // And the text report.
    let (_, text, _) = eval(&mut kit, &dir, &[]);
    assert!(text.contains("Bundles"), "{text}");
    assert!(
        text.contains(&format!("acme/security 1.4.0  {digest}  signed by")),
        "{text}"
    );

    // With the registry gone, the pinned bundle comes from the local store,
    // `--offline` or not; a store without it is a clear error offline.
    drop(registry);
    let (code, _, err) = eval(&mut kit, &dir, &["--offline"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = eval(&mut kit, &dir, &[]);
    assert_eq!(code, 2, "{err}");
    let empty = team(&kit, "team-empty", &[&pin]);
    let (code, _, err) = eval(&mut kit, &empty, &["--offline"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not in the local store"), "{err}");
    assert!(err.contains("`--offline` forbids the registry"), "{err}");
    // Online, a registry that is down is the same: a located error naming
    // the bundle, never a decision without its policies.
    let (code, _, err) = eval(&mut kit, &empty, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("key `bundles[0].source`"), "{err}");
    assert!(err.contains(&format!("bundle `{pin}`")), "{err}");
    kit.no_private_key_printed();
}

#[test]
fn a_tag_runs_only_through_the_lock() {
    let registry = RegistryServer::start(Auth::None);
    let mut kit = Kit::new();
    kit.signed("security.bundle", &["org", "team"]);
    let tag = registry.reference("acme/security:stable");
    let pin = push(&mut kit, "security.bundle", &tag);
    let dir = team(&kit, "team", &[&tag]);
    let err = eval_refused(&mut kit, &dir);
    assert!(
        err.contains("shipgate.toml:5:10: key `bundles[0].source`"),
        "{err}"
    );
    assert!(err.contains("names a tag, which can move"), "{err}");
    assert!(err.contains("run `shipgate bundle lock`"), "{err}");

    let config = dir.join("shipgate.toml");
    let locked = kit.ok(&["bundle", "lock", "--config", config.to_str().unwrap()]);
    assert!(locked.contains("written"), "{locked}");
    let lock = std::fs::read_to_string(dir.join("shipgate.lock")).unwrap();
    let digest = pin.rsplit('@').next().unwrap();
    assert!(lock.contains(&format!("digest = \"{digest}\"")), "{lock}");
    let log = dir.join("decisions.jsonl");
    let (code, out, err) = eval(
        &mut kit,
        &dir,
        &["--format", "json", "--log", log.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains(digest), "{out}");

    // The tag moves to a newer release: the lock holds the old digest until
    // `bundle lock --update`.
    let newer = variant(&kit, "newer", |t| {
        t.replace("sequence = 7", "sequence = 8")
            .replace("\"1.4.0\"", "\"1.5.0\"")
    });
    kit.build(&newer, "newer.bundle");
    kit.sign("newer.bundle", &["org", "team"]);
    let newer_pin = push(&mut kit, "newer.bundle", &tag);
    let newer_digest = newer_pin.rsplit('@').next().unwrap();
    assert_ne!(newer_digest, digest);
    let again = kit.ok(&["bundle", "lock", "--config", config.to_str().unwrap()]);
    assert!(again.contains("unchanged"), "{again}");
    let (_, out, _) = eval(&mut kit, &dir, &["--format", "json"]);
    assert!(out.contains(digest) && !out.contains(newer_digest), "{out}");
    kit.ok(&[
        "bundle",
        "lock",
        "--update",
        "--config",
        config.to_str().unwrap(),
    ]);
    let (_, out, _) = eval(&mut kit, &dir, &["--format", "json"]);
    assert!(out.contains(newer_digest), "{out}");
    assert!(out.contains("\"version\": \"1.5.0\""), "{out}");
    // The logged decision was made with 1.4.0: evaluating it again says so,
    // and what to pin to decide exactly as it did.
    let (code, _, err) = kit.run(&[
        "eval",
        "--from-log",
        log.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "the record was decided with bundles this configuration does not run: acme/security 1.4.0 ({digest})"
        )),
        "{err}"
    );
}

#[test]
fn a_tampered_blob_in_the_registry_is_refused() {
    let registry = RegistryServer::start(Auth::None);
    let mut kit = Kit::new();
    kit.signed("security.bundle", &["org", "team"]);
    let pin = push(
        &mut kit,
        "security.bundle",
        &registry.reference("acme/security:1.4.0"),
    );
    // Rewrite one layer's bytes in the registry's storage: the rules
    // policy's configuration, with its rule switched off.
    let manifest = kit.ok(&["bundle", "inspect", "security.bundle", "--format", "json"]);
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let file = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("hotfix-review.json"))
        .unwrap_or_else(|| panic!("no rules config among {manifest}"));
    let blob = registry.blob_file(file["digest"].as_str().unwrap());
    let bytes = std::fs::read_to_string(&blob).unwrap();
    // The same length, other bytes: only the digest can tell.
    std::fs::write(&blob, bytes.replace("== 0", "!= 0")).unwrap();

    let dir = team(&kit, "team", &[&pin]);
    let err = eval_refused(&mut kit, &dir);
    assert!(err.contains("key `bundles[0].source`"), "{err}");
    assert!(err.contains(&format!("bundle `{pin}`")), "{err}");
    assert!(
        err.contains(&format!(
            "expected digest `{}`, the bytes have",
            file["digest"].as_str().unwrap()
        )),
        "{err}"
    );
}

#[test]
fn an_unsigned_a_wrongly_signed_an_expired_and_a_rolled_back_bundle_are_refused() {
    let registry = RegistryServer::start(Auth::None);
    let mut kit = Kit::new();

    // Unsigned.
    kit.build(&fixture(), "unsigned.bundle");
    let unsigned = push(
        &mut kit,
        "unsigned.bundle",
        &registry.reference("acme/security:unsigned"),
    );
    let dir = team(&kit, "t-unsigned", &[&unsigned]);
    let err = eval_refused(&mut kit, &dir);
    assert!(err.contains("key `bundles[0].source`"), "{err}");
    assert!(err.contains("bundle `acme/security` is unsigned"), "{err}");

    // Signed by a key the trust file does not allow.
    kit.signed("outsider.bundle", &["outsider"]);
    let outsider = push(
        &mut kit,
        "outsider.bundle",
        &registry.reference("acme/security:outsider"),
    );
    let dir = team(&kit, "t-outsider", &[&outsider]);
    let err = eval_refused(&mut kit, &dir);
    assert!(
        err.contains("is signed by") && err.contains("the trust file allows only"),
        "{err}"
    );

    // Expired (the checks run on the real clock).
    let expired_src = variant(&kit, "expired-src", |t| {
        t.replace(
            "expires = 2031-01-01T00:00:00Z",
            "expires = 2020-01-01T00:00:00Z",
        )
    });
    kit.build(&expired_src, "expired.bundle");
    kit.sign("expired.bundle", &["org", "team"]);
    let expired = push(
        &mut kit,
        "expired.bundle",
        &registry.reference("acme/security:expired"),
    );
    let dir = team(&kit, "t-expired", &[&expired]);
    let err = eval_refused(&mut kit, &dir);
    assert!(
        err.contains("bundle `acme/security` 1.4.0 expired at 2020-01-01T00:00:00Z"),
        "{err}"
    );

    // Rolled back: once 1.5.0 (sequence 8) was accepted here, 1.4.0
    // (sequence 7) is refused, though it is validly signed.
    let newer_src = variant(&kit, "newer-src", |t| {
        t.replace("sequence = 7", "sequence = 8")
            .replace("\"1.4.0\"", "\"1.5.0\"")
    });
    kit.build(&newer_src, "newer.bundle");
    kit.sign("newer.bundle", &["org", "team"]);
    kit.signed("older.bundle", &["org", "team"]);
    let newer = push(
        &mut kit,
        "newer.bundle",
        &registry.reference("acme/security:1.5.0"),
    );
    let older = push(
        &mut kit,
        "older.bundle",
        &registry.reference("acme/security:1.4.0"),
    );
    let dir = team(&kit, "t-rollback", &[&newer]);
    let (code, out, err) = eval(&mut kit, &dir, &[]);
    assert_eq!(code, 2, "{out}\n{err}");
    let config = std::fs::read_to_string(dir.join("shipgate.toml"))
        .unwrap()
        .replace(&newer, &older);
    std::fs::write(dir.join("shipgate.toml"), config).unwrap();
    let err = eval_refused(&mut kit, &dir);
    assert!(
        err.contains("bundle `acme/security` 1.4.0 is a rollback: its sequence 7 is lower than 8"),
        "{err}"
    );
    kit.no_private_key_printed();
}

#[test]
fn registry_credentials_come_from_the_environment_and_never_show() {
    const PASSWORD: &str = "bundl3-pa55-e2e-Zq7";
    let registry = RegistryServer::start(Auth::Basic {
        user: "ci-bot".into(),
        password: PASSWORD.into(),
    });
    let mut kit = Kit::new();
    kit.signed("security.bundle", &["org", "team"]);
    let reference = registry.reference("acme/security:1.4.0");
    let home = kit.path("");
    let with = |user: &str, password: &str, args: &[&str]| {
        crate::support::run(
            crate::support::shipgate()
                .current_dir(&home)
                .env("SHIPGATE_REGISTRY_USERNAME", user)
                .env("SHIPGATE_REGISTRY_PASSWORD", password)
                .args(args),
        )
    };

    // No credentials: the registry's refusal, said plainly.
    let (code, _, err) = kit.run(&["bundle", "push", "security.bundle", &reference]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unauthorized") || err.contains("401"), "{err}");
    // A wrong password: refused, and not printed.
    let wrong = "wrong-pa55-e2e-Xy9";
    let (code, out, err) = with(
        "ci-bot",
        wrong,
        &["bundle", "push", "security.bundle", &reference],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(!out.contains(wrong) && !err.contains(wrong), "{err}");
    // The right one, from the default variables.
    let (code, out, err) = with(
        "ci-bot",
        PASSWORD,
        &[
            "bundle",
            "push",
            "security.bundle",
            &reference,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let pin = serde_json::from_str::<serde_json::Value>(&out).unwrap()["pin"]
        .as_str()
        .unwrap()
        .to_owned();

    // A team names its own variables in `[registry]`.
    let dir = team(&kit, "team", &[&pin]);
    let toml = std::fs::read_to_string(dir.join("shipgate.toml")).unwrap();
    std::fs::write(
        dir.join("shipgate.toml"),
        format!("[registry]\nusername_env = \"TEAM_REG_USER\"\npassword_env = \"TEAM_REG_PASS\"\n\n{toml}"),
    )
    .unwrap();
    let log = dir.join("decisions.jsonl");
    let snapshot = hotfix_snapshot();
    let config = dir.join("shipgate.toml");
    let eval = |password: &str| {
        crate::support::run(
            crate::support::shipgate()
                .current_dir(&dir)
                .env("TEAM_REG_USER", "ci-bot")
                .env("TEAM_REG_PASS", password)
                .args(["eval", "--snapshot", snapshot.to_str().unwrap()])
                .args(["--config", config.to_str().unwrap()])
                .args(["--log", log.to_str().unwrap()]),
        )
    };
    let (code, out, err) = eval(wrong);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("key `bundles[0].source`"), "{err}");
    assert!(!err.contains(wrong), "{err}");
    let (code, out, err) = eval(PASSWORD);
    assert_eq!(code, 2, "{out}\n{err}");
    let logged = std::fs::read_to_string(&log).unwrap();
    for text in [&out, &err, &logged] {
        assert!(!text.contains(PASSWORD), "the password leaked:\n{text}");
    }
}
