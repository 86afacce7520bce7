//! The `shipgate` binary: exit codes, formats, errors, inspect, schema.

use crate::support::{error_ratio, run, setup, shipgate};
use shipgate_tests::{example_snapshot, guests};

#[test]
fn eval_exit_codes_follow_the_verdict() {
    let s = setup(&error_ratio(""));
    for (snapshot, code, headline) in [
        ("canary-healthy", 0, "GO"),
        ("canary-error-spike", 3, "ROLLBACK"),
        ("canary-prometheus-down", 4, "HOLD"),
    ] {
        let (got, out, err) = run(shipgate()
            .arg("eval")
            .arg("--snapshot")
            .arg(example_snapshot(snapshot))
            .arg("--config")
            .arg(&s.config_path));
        assert_eq!(got, code, "{snapshot}: {out}{err}");
        assert!(out.starts_with(headline), "{snapshot}: {out}");
        assert!(!out.contains('\u{1b}'), "NO_COLOR is honoured");
    }
}

#[test]
fn eval_without_config_uses_the_builtin_default() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(shipgate()
        .current_dir(dir.path())
        .args(["eval", "--snapshot"])
        .arg(example_snapshot("canary-error-spike")));
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("canary.error-rate"), "{out}");
}

#[test]
fn a_failed_gate_policy_exits_no_go() {
    let toml = format!(
        "[[policies]]\nname = \"bad\"\nsource = {:?}\nstages = [\"gate\"]\n[policies.config]\nmode = \"panic\"\n",
        guests::HOSTILE
    );
    let s = setup(&toml);
    let (code, out, _) = run(shipgate()
        .args(["eval", "--stage", "gate", "--snapshot"])
        .arg(example_snapshot("canary-healthy"))
        .arg("--config")
        .arg(&s.config_path));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("trap"), "{out}");
}

#[test]
fn json_output_has_the_documented_keys() {
    let s = setup(&error_ratio(""));
    let (code, out, _) = run(shipgate()
        .args(["eval", "--format", "json", "--snapshot"])
        .arg(example_snapshot("canary-error-spike"))
        .arg("--config")
        .arg(&s.config_path));
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "rollback");
    assert!(v["risk"].is_null());
    let f = &v["findings"][0];
    for key in ["policy", "rule", "verdict", "message"] {
        assert!(f.get(key).is_some(), "finding lacks `{key}`: {f}");
    }
    let p = &v["policies"][0];
    assert_eq!(p["name"], "error-ratio");
    assert_eq!(p["status"], "decided");
    assert_eq!(p["verdict"], "rollback");
}

#[test]
fn markdown_output_is_a_pr_comment() {
    let s = setup(&error_ratio(""));
    let (_, out, _) = run(shipgate()
        .args(["eval", "-f", "markdown", "--snapshot"])
        .arg(example_snapshot("canary-error-spike"))
        .arg("--config")
        .arg(&s.config_path));
    assert!(out.starts_with("## "), "{out}");
    assert!(out.contains("| error-ratio |"), "{out}");
}

#[test]
fn errors_exit_1_and_name_the_file() {
    let s = setup("[[policies]]\nname = \"x\"\nsource = \"builtin:env\"\nmdoe = \"advisory\"\n");
    let snap = example_snapshot("canary-healthy");
    // A bad config names file, line, column and key.
    let (code, out, err) = run(shipgate()
        .args(["eval", "--snapshot"])
        .arg(&snap)
        .arg("--config")
        .arg(&s.config_path));
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("shipgate.toml:4:1: key `policies[0].mdoe`"),
        "{err}"
    );
    // A bad flag.
    let (code, _, err) = run(shipgate()
        .args(["eval", "--stage", "launch"])
        .arg("--snapshot")
        .arg(&snap));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("launch"), "{err}");
    // A missing snapshot.
    let (code, _, err) = run(shipgate().args(["eval", "--snapshot", "/nonexistent.json"]));
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent.json"), "{err}");
    // An invalid snapshot names the line and column.
    let bad = s.dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"deployment\": {\"service\": 3}\n}").unwrap();
    let (code, _, err) = run(shipgate().arg("eval").arg("--snapshot").arg(&bad));
    assert_eq!(code, 1);
    assert!(
        err.contains("bad.json: invalid snapshot") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn a_bad_flag_exits_1() {
    let (code, _, err) = run(shipgate().args(["eval", "--nope"]));
    assert_eq!(code, 1, "{err}");
}

#[test]
fn inspect_shows_info_digest_imports_and_exports() {
    // The example team policy is not built in: it is inspected by its path.
    let example = shipgate_tests::guests::ERROR_RATIO;
    let (code, out, err) = run(shipgate().args(["policy", "inspect", example]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imports:     (none)"), "{out}");
    assert!(
        out.contains("exports:     shipgate:policy/api@0.2.0"),
        "{out}"
    );
    assert!(out.contains("stages:      canary"), "{out}");
    // The rules the example declares in `info()`, in its order, id then
    // description, aligned.
    let rules = out
        .split_once("\nrules:\n")
        .unwrap_or_else(|| panic!("no rules section: {out}"))
        .1;
    let lines: Vec<&str> = rules.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("  error-ratio.canary-vs-baseline — the canary's error rate"),
        "{out}"
    );
    assert!(
        lines[1]
            .starts_with("  error-ratio.data-missing       — the metric is not in the snapshot"),
        "{out}"
    );

    let (code, out, err) = run(shipgate().args(["policy", "inspect", "--format", "json", example]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rules = v["info"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["error-ratio.canary-vs-baseline", "error-ratio.data-missing"]
    );
    assert!(
        rules[1]["description"]
            .as_str()
            .unwrap()
            .contains("no usable value"),
        "{out}"
    );

    let (code, out, _) = run(shipgate()
        .args(["policy", "inspect", "--format", "json"])
        .arg(guests::WASI_IMPORTER));
    assert_eq!(code, 1, "a component that is not a valid policy");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["imports"][0], "wasi:cli/environment@0.2.0");
    assert!(
        v["load_error"]
            .as_str()
            .unwrap()
            .contains("must import nothing")
    );
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn a_policy_without_a_version_of_its_own_reports_its_crates() {
    // The hostile guest's `info()` sets no version: `export_policy!` fills in
    // the crate's (the workspace's, as this test's).
    let (code, out, err) = run(shipgate().args(["policy", "inspect"]).arg(guests::HOSTILE));
    assert_eq!(code, 0, "{err}");
    let name = format!("name:        hostile {}\n", env!("CARGO_PKG_VERSION"));
    assert!(out.contains(&name), "{out}");
}

#[test]
fn snapshot_schema_describes_the_file_format() {
    let (code, out, _) = run(shipgate().args(["snapshot", "schema"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["title"], "Snapshot");
    assert!(
        v["required"]
            .as_array()
            .unwrap()
            .contains(&"deployment".into())
    );
    // Every example snapshot parses (the schema's source types are the parser).
    for entry in std::fs::read_dir(shipgate_tests::workspace().join("examples/snapshots")).unwrap()
    {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str::<shipgate_model::Snapshot>(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
