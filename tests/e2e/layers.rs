//! Org layers through a real OCI registry and the real binary: an org
//! bundle (`tests/fixtures/bundles/org`, layer `org`: `canary` and `env`
//! required, `canary`'s `max_error_rate` tightenable downwards, `window` a
//! default) and a group bundle (`tests/fixtures/bundles/payments`, layer
//! `org/payments`), both signed and pushed, named by an org file (`--org`,
//! `SHIPGATE_ORG`) with the trust file. A team's `shipgate.toml` may add
//! its own policies, tighten a declared threshold and override a default;
//! every way of weakening a required policy is refused at load with its own
//! message, and leaving the org's bundles out is not possible.

use std::path::{Path, PathBuf};

use shipgate_tests::registry::{Auth, RegistryServer};

use super::bundles::Kit;

fn fixture(name: &str) -> PathBuf {
    shipgate_tests::workspace()
        .join("tests/fixtures/bundles")
        .join(name)
}

fn spike() -> PathBuf {
    shipgate_tests::workspace().join("examples/snapshots/canary-error-spike.json")
}

/// A registry with the org and group bundles, signed by the kit's two
/// trusted keys, and an org file naming them: (registry, kit, org file).
fn org_setup() -> (RegistryServer, Kit, PathBuf) {
    let registry = RegistryServer::start(Auth::None);
    let mut kit = Kit::new();
    let mut pins = Vec::new();
    for (name, tag) in [
        ("org", "acme/org:2.0.0"),
        ("payments", "acme/payments:1.1.0"),
    ] {
        let file = format!("{name}.bundle");
        kit.build(&fixture(name), &file);
        kit.sign(&file, &["org", "team"]);
        let out = kit.ok(&[
            "bundle",
            "push",
            &file,
            &registry.reference(tag),
            "--format",
            "json",
        ]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        pins.push(json["pin"].as_str().unwrap().to_owned());
    }
    let dir = kit.path("platform");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(kit.path("trust.toml"), dir.join("trust.toml")).unwrap();
    let org = dir.join("org.toml");
    std::fs::write(
        &org,
        format!(
            "[trust]\nfile = \"trust.toml\"\n\n[[bundles]]\nsource = \"{}\"\n\n[[bundles]]\nsource = \"{}\"\n",
            pins[0], pins[1]
        ),
    )
    .unwrap();
    (registry, kit, org)
}

/// A team directory `name` with `shipgate.toml` = `toml`.
fn team(kit: &Kit, name: &str, toml: &str) -> PathBuf {
    let dir = kit.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shipgate.toml"), toml).unwrap();
    dir
}

/// `eval` of the canary error spike (2.41% errors) in `dir` with the org
/// file: (code, stdout, stderr).
fn eval(kit: &mut Kit, dir: &Path, org: &Path, extra: &[&str]) -> (i32, String, String) {
    eval_on(kit, dir, org, &spike(), extra)
}

/// `eval` of `snapshot` in `dir` with the org file: (code, stdout, stderr).
fn eval_on(
    kit: &mut Kit,
    dir: &Path,
    org: &Path,
    snapshot: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let config = dir.join("shipgate.toml");
    let mut args = vec![
        "eval",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--org",
        org.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    kit.run(&args)
}

/// The team's tightened canary, its own stricter policy and its override
/// of the org's default `window`.
const TEAM: &str = r#"[[policies]]
name = "canary"
source = "builtin:canary"
[policies.config]
max_error_rate = 0.02

[[policies]]
name = "window"
source = "builtin:window"
mode = "advisory"

[[policies]]
name = "team-canary-guard"
source = "builtin:rules"
[[policies.config.rules]]
id = "team.p99"
stages = ["canary"]
when = "true"
verdict = "hold"
message = "the team holds every canary for a human look"
"#;

fn finding<'a>(report: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no finding {rule} in {report}"))
}

#[test]
fn a_team_adds_and_tightens_and_the_org_rules_always_run() {
    let (_registry, mut kit, org) = org_setup();

    // Only the org's rules: 2.41% is under the org's 5% ceiling.
    let bare = team(&kit, "bare", "");
    let (_, out, err) = eval(&mut kit, &bare, &org, &["--format", "json"]);
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    assert_eq!(
        finding(&report, "canary.error-rate")["verdict"],
        "go",
        "{out}"
    );
    let names: Vec<(&str, &str)> = report["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["bundle"].as_str().unwrap()))
        .collect();
    // A team configuration without a word about bundles still runs them:
    // the org file, not the team, names them.
    assert_eq!(
        names,
        [
            ("canary", "acme/org"),
            ("env", "acme/org"),
            ("window", "acme/org"),
            ("payments-hotfix", "acme/payments")
        ]
    );
    let layers: Vec<&str> = report["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ["org", "org/payments"]);

    // The team tightens the ceiling to 2%, adds a policy of its own and
    // makes the org's default `window` advisory: accepted, and it bites.
    let dir = team(&kit, "team", TEAM);
    let (code, out, err) = eval(&mut kit, &dir, &org, &["--format", "json"]);
    assert_eq!(code, 3, "rollback expected\n{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rate = finding(&report, "canary.error-rate");
    assert_eq!(rate["verdict"], "rollback");
    assert!(
        rate["message"].as_str().unwrap().contains("2.00% ceiling"),
        "{rate}"
    );
    assert_eq!(finding(&report, "team.p99")["verdict"], "hold");
    // The same through the variable a CI template sets.
    let config = dir.join("shipgate.toml");
    let snapshot = spike();
    let (code, _, err) = crate::support::run(
        crate::support::shipgate()
            .env("SHIPGATE_ORG", &org)
            .args(["eval", "--snapshot", snapshot.to_str().unwrap()])
            .args(["--config", config.to_str().unwrap()]),
    );
    assert_eq!(code, 3, "{err}");
}

#[test]
fn every_way_of_weakening_a_required_policy_is_refused() {
    let (_registry, mut kit, org) = org_setup();
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "advisory",
            "source = \"builtin:canary\"\nmode = \"advisory\"",
            "key `policies[0].mode`",
            "it sets `mode = \"advisory\"`: the policy's verdict would no longer count",
        ),
        (
            "fail-open",
            "source = \"builtin:canary\"\non_error = \"fail-open\"",
            "key `policies[0].on_error`",
            "it sets `on_error = \"fail-open\"`: a failure would count as go",
        ),
        (
            "stages",
            "source = \"builtin:canary\"\nstages = [\"gate\"]",
            "key `policies[0].stages`",
            "it changes the stages it is asked about (to `gate`)",
        ),
        (
            "source",
            "source = \"builtin:verify\"",
            "key `policies[0].source`",
            "it replaces the component (`builtin:verify` instead of `builtin:canary`)",
        ),
    ];
    for (name, replacement, key, message) in cases {
        let toml = TEAM.replacen("source = \"builtin:canary\"", replacement, 1);
        let dir = team(&kit, name, &toml);
        let (code, out, err) = eval(&mut kit, &dir, &org, &[]);
        assert_eq!(code, 1, "{name}: expected a refusal\n{out}\n{err}");
        assert!(err.contains(key), "{name}: {err}");
        assert!(err.contains(message), "{name}: {err}");
        assert!(
            err.contains(
                "policy `canary` is required by layer `org` (bundle `acme/org` 2.0.0, sha256:"
            ),
            "{name}: {err}"
        );
        assert!(
            err.contains("a required policy may only be tightened"),
            "{name}: {err}"
        );
    }
    let looser = team(&kit, "looser", &TEAM.replace("0.02", "0.10"));
    let (code, _, err) = eval(&mut kit, &looser, &org, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("shipgate.toml:5:18: key `policies[0].config.max_error_rate`"),
        "{err}"
    );
    assert!(
        err.contains("it loosens `max_error_rate`: 0.1 is not lower than the layer's 0.05 (lower is stricter)"),
        "{err}"
    );
    let undeclared = team(
        &kit,
        "undeclared",
        &TEAM.replace(
            "max_error_rate = 0.02",
            "max_error_rate = 0.02\nmax_cpu = 0.5",
        ),
    );
    let (code, _, err) = eval(&mut kit, &undeclared, &org, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("it changes `max_cpu`, which the layer does not let a lower layer tighten (only `max_error_rate`)"),
        "{err}"
    );
    // The group's required rule too, in its own layer's words.
    let group = team(
        &kit,
        "group",
        "[[policies]]\nname = \"payments-hotfix\"\nsource = \"builtin:rules\"\nmode = \"advisory\"\n",
    );
    let (code, _, err) = eval(&mut kit, &group, &org, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("policy `payments-hotfix` is required by layer `org/payments` (bundle `acme/payments` 1.1.0"),
        "{err}"
    );
    // Naming the org bundle again at another digest is a clash, not a way
    // around it.
    let lines: Vec<String> = std::fs::read_to_string(&org)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let group_pin = lines
        .iter()
        .filter(|l| l.starts_with("source = "))
        .nth(1)
        .unwrap()
        .clone();
    let again = team(&kit, "again", &format!("[[bundles]]\n{group_pin}\n"));
    let (code, _, err) = eval(&mut kit, &again, &org, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "defines policy `payments-hotfix`, and so does bundle `acme/payments` of the same layer"
        ),
        "{err}"
    );
}

#[test]
fn explain_shows_each_policy_its_layer_and_where_each_setting_comes_from() {
    let (_registry, mut kit, org) = org_setup();
    let dir = team(&kit, "team", TEAM);
    let config = dir.join("shipgate.toml");
    let out = kit.ok(&[
        "policy",
        "explain",
        "--config",
        config.to_str().unwrap(),
        "--org",
        org.to_str().unwrap(),
    ]);
    let home = kit.path("").display().to_string();
    insta::assert_snapshot!(
        "explain_org_group_team",
        digests_masked(&out.replace(&home, "[kit]/"))
    );
    let json = kit.ok(&[
        "policy",
        "explain",
        "--config",
        config.to_str().unwrap(),
        "--org",
        org.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let canary = &json["policies"][0];
    assert_eq!(canary["layer"], "org");
    assert_eq!(canary["required"], true);
    assert!(
        canary["overridden"]
            .as_str()
            .unwrap()
            .starts_with("tightened by")
    );
}

/// `text` with every `sha256:HEX` replaced by `sha256:[N hex]` (keys and
/// bundle digests change with every run's keys).
fn digests_masked(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        out.push_str(&rest[..at + "sha256:".len()]);
        rest = &rest[at + "sha256:".len()..];
        let hex = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        out.push_str(&format!("[{hex} hex]"));
        rest = &rest[hex..];
    }
    out.push_str(rest);
    out
}

/// An RFC 3339 time `days` from now (negative: ago), whole seconds.
fn days_from_now(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let t = t.replace_nanosecond(0).unwrap();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The fixture's unreviewed hotfix, deployed now to `service` in staging
/// (no approval floor there): the group's `payments-hotfix` says no-go.
fn hotfix_now(kit: &Kit, service: &str) -> PathBuf {
    let path = shipgate_tests::workspace()
        .join("tests/fixtures/bundles/security/cases/snapshots/unreviewed-hotfix.json");
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    snapshot["deployment"]["environment"] = "staging".into();
    snapshot["deployment"]["service"] = service.into();
    snapshot["deployment"]["requested_at"] = days_from_now(0).into();
    let out = kit.path(&format!("hotfix-{service}.json"));
    std::fs::write(&out, serde_json::to_string_pretty(&snapshot).unwrap()).unwrap();
    out
}

/// Signs an exception of the group's hotfix rule for `checkout` in staging,
/// valid from `issued` to `expires` days from now, with `key`: the file.
fn exception(kit: &mut Kit, ticket: &str, issued: i64, expires: i64, key: &str) -> PathBuf {
    let source = kit.path(&format!("{ticket}.toml"));
    std::fs::write(
        &source,
        format!(
            "policy = \"payments-hotfix\"\nrule = \"payments.hotfix-unreviewed\"\nservice = \"checkout\"\nenvironment = \"staging\"\nreason = \"the reviewer is on leave; reviewed after the deploy\"\nticket = \"{ticket}\"\nissued = {}\nexpires = {}\n",
            days_from_now(issued),
            days_from_now(expires)
        ),
    )
    .unwrap();
    let out = kit.path(&format!("{ticket}.exception"));
    kit.ok(&[
        "exception",
        "sign",
        source.to_str().unwrap(),
        "--key",
        &format!("{key}.key"),
        "-o",
        out.to_str().unwrap(),
    ]);
    out
}

#[test]
fn an_exception_applies_is_shown_and_logged_and_is_refused_expired_or_out_of_scope() {
    let (_registry, mut kit, org) = org_setup();
    // The org's trust file lets an on-call key sign exceptions, 30 days at
    // most.
    kit.ok(&["keygen", "oncall"]);
    let public: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(kit.path("oncall.pub")).unwrap()).unwrap();
    let trust = org.with_file_name("trust.toml");
    let mut text = std::fs::read_to_string(&trust).unwrap();
    text.push_str(&format!(
        "\n[[keys]]\nid = \"{id}\"\npublic = \"{}\"\nname = \"oncall\"\nusage = [\"exceptions\"]\n\n[exceptions]\nkeys = [\"{id}\"]\nmax_days = 30\n",
        public["public"].as_str().unwrap(),
        id = public["keyid"].as_str().unwrap(),
    ));
    std::fs::write(&trust, text).unwrap();

    let base =
        "[[policies]]\nname = \"window\"\nsource = \"builtin:window\"\nmode = \"advisory\"\n";
    let with = |file: &Path| format!("{base}\n[[exceptions]]\nfile = \"{}\"\n", file.display());
    let checkout = hotfix_now(&kit, "checkout");
    let run = |kit: &mut Kit, dir: &Path, snapshot: &Path, log: &Path| {
        let config = dir.join("shipgate.toml");
        kit.run(&[
            "eval",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--org",
            org.to_str().unwrap(),
            "--format",
            "json",
            "--log",
            log.to_str().unwrap(),
        ])
    };

    // Without an exception, the group's rule blocks.
    let plain = team(&kit, "plain", base);
    let (code, out, err) = run(&mut kit, &plain, &checkout, &plain.join("log.jsonl"));
    assert_eq!(code, 2, "{out}\n{err}");

    // With it: the rule counts as advisory, the report shows the
    // exception, and the log keeps its digest.
    let valid = exception(&mut kit, "OPS-77", -1, 10, "oncall");
    let dir = team(&kit, "team", &with(&valid));
    let log = dir.join("log.jsonl");
    let (code, out, err) = run(&mut kit, &dir, &checkout, &log);
    assert_eq!(code, 0, "go expected\n{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let applied = &report["exceptions"][0];
    assert_eq!(applied["ticket"], "OPS-77");
    assert_eq!(applied["applied"], true);
    let digest = applied["digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:"), "{applied}");
    let waived = finding(&report, "payments.hotfix-unreviewed");
    assert_eq!(waived["verdict"], "no-go");
    assert_eq!(waived["advisory"], true);
    let record: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(record["report"]["exceptions"][0]["digest"], digest.as_str());
    let config = dir.join("shipgate.toml");
    let snapshot = checkout.to_str().unwrap();
    let (_, text, _) = kit.run(&[
        "eval",
        "--snapshot",
        snapshot,
        "--config",
        config.to_str().unwrap(),
        "--org",
        org.to_str().unwrap(),
    ]);
    assert!(text.contains("Exceptions\n  OPS-77  policy payments-hotfix, rule payments.hotfix-unreviewed, service checkout, in staging  applied"), "{text}");

    // Another service: shown, not applied, and the rule blocks again.
    let payments = hotfix_now(&kit, "payments");
    let (code, out, _) = run(&mut kit, &dir, &payments, &log);
    assert_eq!(code, 2, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["exceptions"][0]["applied"], false);
    assert_eq!(
        report["exceptions"][0]["not_applied"],
        "its service is `checkout`, this deployment's is `payments`"
    );

    // Expired, over-long, or signed by a key not allowed for exceptions:
    // refused at load, each with its own message.
    let refusals = [
        (
            exception(&mut kit, "OPS-78", -20, -1, "oncall"),
            "expired at",
        ),
        (
            exception(&mut kit, "OPS-79", -1, 44, "oncall"),
            "longer than the 30 day(s) the trust file allows for an exception",
        ),
        (
            exception(&mut kit, "OPS-80", -1, 10, "org"),
            "(trusted for bundles only), and the trust file allows only",
        ),
    ];
    for (file, message) in refusals {
        let dir = team(&kit, "refused", &with(&file));
        let (code, out, err) = run(&mut kit, &dir, &checkout, &dir.join("log.jsonl"));
        assert_eq!(code, 1, "{out}\n{err}");
        assert!(err.contains("key `exceptions[0].file`"), "{err}");
        assert!(err.contains(message), "{message}: {err}");
    }
}

#[test]
fn a_floor_holds_the_whole_decision() {
    let (_registry, mut kit, org) = org_setup();
    // A team's own policy says fail-open; the org's floor makes it
    // fail-closed, and production needs an approval whatever the
    // policies say.
    let dir = team(
        &kit,
        "team",
        "[[policies]]\nname = \"window\"\nsource = \"builtin:window\"\nmode = \"advisory\"\n\n[[policies]]\nname = \"mine\"\nsource = \"builtin:rules\"\non_error = \"fail-open\"\n[[policies.config.rules]]\nid = \"mine.ok\"\nstages = [\"gate\"]\nwhen = \"false\"\nverdict = \"hold\"\nmessage = \"never\"\n",
    );
    let config = dir.join("shipgate.toml");
    let explained = kit.ok(&[
        "policy",
        "explain",
        "--config",
        config.to_str().unwrap(),
        "--org",
        org.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let explained: serde_json::Value = serde_json::from_str(&explained).unwrap();
    let mine = explained["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "mine")
        .unwrap();
    let on_error = mine["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "on_error")
        .unwrap();
    assert_eq!(on_error["value"], "fail-closed", "{mine}");
    assert_eq!(explained["floors"]["approval"][0], "production");

    // A clean regular deploy to production without a human approval.
    let path = shipgate_tests::workspace()
        .join("tests/fixtures/bundles/security/cases/snapshots/all-clear.json");
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    snapshot["ci"]["approvals"] = serde_json::json!([]);
    let no_review = kit.path("no-review.json");
    std::fs::write(&no_review, snapshot.to_string()).unwrap();
    let (code, out, err) = eval_on(&mut kit, &dir, &org, &no_review, &["--format", "json"]);
    assert_eq!(code, 2, "{out}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let floor = finding(&report, "shipgate.floor.approval");
    assert_eq!(floor["verdict"], "no-go");
    assert!(
        floor["message"]
            .as_str()
            .unwrap()
            .contains("the floor of acme/org 2.0.0 needs one in `production`"),
        "{floor}"
    );
    // Data missing at the gate: at least a hold, though every policy says go.
    snapshot["ci"]["approvals"] = serde_json::json!([{"reviewer": "alice", "state": "approved"}]);
    snapshot["gaps"] = serde_json::json!([{"source": "github", "reason": "timed out"}]);
    let gap = kit.path("gap.json");
    std::fs::write(&gap, snapshot.to_string()).unwrap();
    let (code, out, err) = eval_on(&mut kit, &dir, &org, &gap, &["--format", "json"]);
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"));
    assert_eq!(report["verdict"], "hold", "{out}");
    assert_eq!(code, 4);
    assert_eq!(
        finding(&report, "shipgate.floor.missing-data")["verdict"],
        "hold"
    );
}
