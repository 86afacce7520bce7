//! Terminal escapes: outside data (a commit subject in a real repository, a
//! real policy component's output) cannot drive the terminal through the
//! text report. The real binary; control characters come out escaped.

use super::support::{git, hostile, run, setup, shipgate};

/// A commit subject that erases its line and prints a green `GO`.
const SUBJECT: &str = "feat: orders\x1b[2K\r\x1b[1;32mGO\x1b[0m  clear to deploy";

/// Asserts that `text` holds no raw control character but line breaks,
/// and no bidirectional override.
fn assert_no_raw_controls(text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' || *c == '\u{202e}')
        .collect();
    assert!(raw.is_empty(), "raw control characters {raw:?} in:\n{text}");
}

#[test]
fn a_commit_subject_with_ansi_escapes_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    std::fs::write(root.join("a.txt"), "a\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "chore: initial"]);
    git(root, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(root.join("b.txt"), "b\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", SUBJECT]);
    std::fs::write(
        root.join("shipgate.toml"),
        "[deployment]\nservice = \"orders\"\n\n[sources.git]\nbase = \"main\"\n\n\
         [[policies]]\nname = \"risk\"\nsource = \"builtin:risk\"\n",
    )
    .unwrap();
    let (_, stdout, stderr) = run(shipgate()
        .current_dir(root)
        .args(["check", "--stage", "risk", "--no-log"]));
    assert!(stdout.contains("new feature"), "{stdout}\n{stderr}");
    assert_no_raw_controls(&stdout);
    assert!(
        stdout.contains(r#"feat: orders\u{1b}[2K\r\u{1b}[1;32mGO\u{1b}[0m  clear to deploy"#),
        "{stdout}"
    );
    // Markdown, printed to the same terminal, shows them escaped too.
    let (_, markdown, _) = run(shipgate().current_dir(root).args([
        "check", "--stage", "risk", "--no-log", "--format", "markdown",
    ]));
    assert!(markdown.contains("new feature"), "{markdown}");
    assert_no_raw_controls(&markdown);
}

#[test]
fn a_policy_cannot_forge_a_findings_row_or_a_verdict() {
    let s = setup(&hostile("forger", "forge", ""));
    let snapshot = shipgate_tests::example_snapshot("canary-healthy");
    let (code, stdout, stderr) = run(shipgate()
        .arg("eval")
        .arg("-c")
        .arg(&s.config_path)
        .arg("--snapshot")
        .arg(&snapshot)
        .args(["--stage", "gate"]));
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert_no_raw_controls(&stdout);
    // The rule id's newline is shown, so the forged row is part of the real
    // one and no line of the report starts like a `go` finding.
    assert!(
        !stdout.lines().any(|l| l.trim_start().starts_with("go ")),
        "a forged go row:\n{stdout}"
    );
    assert!(
        stdout.contains(r"no-go  hostile.forge\n    go     hostile.forged"),
        "{stdout}"
    );
    assert!(stdout.contains(r"\u{1b}[2K\r\u{1b}[1;32mGO"), "{stdout}");
    assert!(stdout.contains(r"observed \u{1b}[8mhidden"), "{stdout}");
    assert!(stdout.contains(r"expected \u{202e}reversed"), "{stdout}");
    // JSON carries the strings exactly, every control character escaped by
    // JSON itself (a bidirectional override, not a control, stays as it is:
    // JSON is read by programs).
    let (_, json, _) = run(shipgate()
        .arg("eval")
        .arg("-c")
        .arg(&s.config_path)
        .arg("--snapshot")
        .arg(&snapshot)
        .args(["--stage", "gate", "--format", "json"]));
    assert!(!json.chars().any(|c| c.is_control() && c != '\n'), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rule = report["findings"][0]["rule"].as_str().unwrap();
    assert!(rule.starts_with("hostile.forge\n    go "), "{rule}");
}
