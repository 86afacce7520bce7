//! A decision nobody made is never `go`: configurations that cannot decide
//! the stage they are asked, run through the real binary (exit codes: 0 go,
//! 1 error, 2 no-go, 3 rollback, 4 hold).

use std::process::Command;

use serde_json::Value;
use shipgate_tests::example_snapshot;

use crate::support::{run, setup, shipgate};

/// `shipgate eval --stage STAGE --format json` of `snapshot` under `toml`:
/// (exit code, the JSON report or `Null`, stderr).
fn eval(toml: &str, stage: &str, snapshot: &str) -> (i32, Value, String) {
    let s = setup(toml);
    let (code, out, err) = run(shipgate()
        .args(["eval", "--format", "json", "--stage", stage, "--snapshot"])
        .arg(example_snapshot(snapshot))
        .arg("--config")
        .arg(&s.config_path));
    let report = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, report, err)
}

/// The report's `shipgate.undecided` finding.
fn undecided(report: &Value) -> &Value {
    report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "shipgate.undecided"))
        .unwrap_or_else(|| panic!("no `shipgate.undecided` finding: {report:#}"))
}

const CANARY_ONLY_AT_GATE: &str =
    "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\nstages = [\"gate\"]\n";

const ALL_ADVISORY: &str = "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n\
     mode = \"advisory\"\n\n[[policies]]\nname = \"env\"\nsource = \"builtin:env\"\nmode = \"advisory\"\n";

#[test]
fn a_stage_no_enforced_policy_answers_holds_in_a_canary() {
    let (code, report, err) = eval(CANARY_ONLY_AT_GATE, "canary", "canary-error-spike");
    assert_eq!(code, 4, "{report:#}\n{err}");
    assert_eq!(report["verdict"], "hold");
    let f = undecided(&report);
    assert_eq!(f["verdict"], "hold");
    assert_eq!(f["policy"], "shipgate");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("`canary` stage"), "{message}");
    assert!(message.contains("`canary`"), "names the policy: {message}");
    assert!(
        err.contains("no enforced policy answers the `canary` stage"),
        "a warning on stderr: {err}"
    );
}

/// `verify` after a deploy: with no enforced policy answering it (the
/// built-in default's policies answer gate, canary and risk), both `eval
/// --stage verify` and the `shipgate verify` command hold, never `go`.
#[test]
fn a_verify_nobody_answers_holds() {
    let (code, report, err) = eval(CANARY_ONLY_AT_GATE, "verify", "canary-healthy");
    assert_eq!(code, 4, "{report:#}\n{err}");
    assert_eq!(undecided(&report)["verdict"], "hold");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shipgate.toml"), CANARY_ONLY_AT_GATE).unwrap();
    let (code, out, err) = run(shipgate()
        .current_dir(dir.path())
        .args(["verify", "--no-log", "--format", "json"]));
    assert_eq!(code, 4, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["stage"], "verify", "{report:#}");
    assert_eq!(report["verdict"], "hold", "{report:#}");
    assert!(
        undecided(&report)["message"]
            .as_str()
            .unwrap()
            .contains("`verify` stage")
    );
}

#[test]
fn a_stage_no_enforced_policy_answers_is_no_go_at_the_gate_and_risk() {
    let only_canary = "[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n\
                       stages = [\"canary\"]\n";
    for stage in ["gate", "risk"] {
        let (code, report, err) = eval(only_canary, stage, "canary-healthy");
        assert_eq!(code, 2, "{stage}: {report:#}\n{err}");
        assert_eq!(report["verdict"], "no-go", "{stage}");
        let f = undecided(&report);
        assert_eq!(f["verdict"], "no-go");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{stage}` stage")),
            "{f}"
        );
        if stage == "risk" {
            assert!(report["risk"].is_null(), "an unanswered risk is unknown");
            assert!(f["message"].as_str().unwrap().contains("risk is unknown"));
        }
    }
}

#[test]
fn advisory_policies_alone_decide_nothing() {
    // The advisory canary asks for a rollback; it is reported, not counted,
    // and nothing else decides: hold, not go.
    let (code, report, err) = eval(ALL_ADVISORY, "canary", "canary-error-spike");
    assert_eq!(code, 4, "{report:#}\n{err}");
    assert!(
        undecided(&report)["message"]
            .as_str()
            .unwrap()
            .contains("every configured policy is advisory"),
        "{report:#}"
    );
    let (code, report, err) = eval(ALL_ADVISORY, "gate", "canary-healthy");
    assert_eq!(code, 2, "{report:#}\n{err}");
    assert_eq!(undecided(&report)["verdict"], "no-go");
    assert!(err.contains("every configured policy is advisory"), "{err}");
}

#[test]
fn a_config_without_policies_is_an_error() {
    // A `shipgate.toml` written from the README's Sources section alone, and
    // one whose `policies` list is empty.
    for toml in [
        "[sources.environment]\n",
        "policies = []\n\n[sources.environment]\n",
    ] {
        for stage in ["gate", "canary", "risk"] {
            let (code, report, err) = eval(toml, stage, "canary-healthy");
            assert_eq!(code, 1, "{toml} {stage}: {report:#}\n{err}");
            assert!(
                err.contains("shipgate.toml: no policy is configured"),
                "{err}"
            );
            assert!(err.contains("help:"), "says how to fix it: {err}");
        }
    }
}

/// `shipgate watch` with only a gate policy: nothing answers the canary
/// stage, so the watch refuses to start (its check before the first traffic
/// change finds no enforced canary-stage policy), and it never completes.
#[test]
fn a_watch_with_only_a_gate_policy_never_completes() {
    let s = setup(&format!(
        "[deployment]\nservice = \"orders\"\nenvironment = \"production\"\nversion = \"v1\"\n\n\
         {CANARY_ONLY_AT_GATE}\n[sources.environment]\n"
    ));
    let out = shipgate()
        .current_dir(s.dir.path())
        .args([
            "watch",
            "--dry-run",
            "--no-log",
            "--format",
            "json",
            "--plan",
            "100:1s",
            "--interval",
            "1s",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("not starting the rollout"), "{stderr}");
    assert!(!stdout.contains("\"completed\""), "{stdout}");
    assert!(!stdout.contains("\"interval\""), "{stdout}");
}

/// The policies' names in a JSON report.
fn policy_names(report: &Value) -> Vec<&str> {
    report["policies"]
        .as_array()
        .unwrap_or_else(|| panic!("not a report: {report:#}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// `shipgate eval` without `--config` from `dir`: (exit code, report, stderr).
fn eval_in(dir: &std::path::Path) -> (i32, Value, String) {
    let (code, out, err) = run(shipgate()
        .current_dir(dir)
        .args([
            "eval",
            "--format",
            "json",
            "--stage",
            "canary",
            "--snapshot",
        ])
        .arg(example_snapshot("canary-error-spike")));
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

const REPO_CONFIG: &str =
    "[[policies]]\nname = \"from-the-repo\"\nsource = \"builtin:canary\"\nstages = [\"canary\"]\n";

/// Run from a subfolder of a repository, the repository's `shipgate.toml`
/// is used (and stderr says so), not the built-in default.
#[test]
fn the_config_is_found_up_to_the_repository_root() {
    let repo = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["init", "-q"])
        .current_dir(repo.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(repo.path().join("shipgate.toml"), REPO_CONFIG).unwrap();
    let sub = repo.path().join("services/orders");
    std::fs::create_dir_all(&sub).unwrap();

    let (code, report, err) = eval_in(&sub);
    assert_eq!(code, 3, "{report:#}\n{err}");
    assert_eq!(policy_names(&report), ["from-the-repo"], "{err}");
    let used = repo.path().join("shipgate.toml");
    assert!(
        err.contains(&format!("using the configuration `{}`", used.display())),
        "says which config is used: {err}"
    );

    // In the folder of the config itself: nothing to say.
    let (code, report, err) = eval_in(repo.path());
    assert_eq!(code, 3);
    assert_eq!(policy_names(&report), ["from-the-repo"]);
    assert!(!err.contains("configuration"), "{err}");

    // The search stops at the repository root: a `shipgate.toml` above it
    // is not used. (A nested repository inside the first one.)
    let nested = sub.join("vendored");
    std::fs::create_dir_all(nested.join(".git")).unwrap();
    let (_, report, err) = eval_in(&nested);
    assert!(
        !policy_names(&report).contains(&"from-the-repo"),
        "{report:#}"
    );
    assert!(
        err.contains("using the built-in default configuration")
            && err.contains(&format!("repository root `{}`", nested.display())),
        "{err}"
    );
}

/// Outside a repository only the current directory is searched; the
/// built-in default is used, and stderr says so.
#[test]
fn outside_a_repository_the_builtin_default_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shipgate.toml"), REPO_CONFIG).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let (code, report, err) = eval_in(&sub);
    assert_eq!(code, 3, "{report:#}\n{err}");
    assert!(policy_names(&report).contains(&"canary"), "{report:#}");
    assert!(
        err.contains("using the built-in default configuration")
            && err.contains("not inside a git repository"),
        "{err}"
    );
}
