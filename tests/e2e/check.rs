//! `shipgate snapshot` and `shipgate check` end to end: a real git
//! repository made by the test, real files, the real binary; the decision
//! log and its replay; secrets; faults that must never read as `go`.

use std::path::{Path, PathBuf};
use std::process::Command;

use shipgate_engine::decision_log;
use shipgate_model::{Snapshot, Verdict};

use super::support::{git, run, shipgate};

/// A secret value that must never leave the host.
const SECRET: &str = "s3cr3t-VALUE-e2e-must-not-leak";

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A service repository: `main` with one commit, a feature branch that adds
/// a migration and a variable, and a `shipgate.toml` (not committed) with
/// `config_extra` appended.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(config_extra: &str) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        write(root, "src/main.rs", "fn main() {}\n");
        write(root, ".env.example", "# The database.\nDATABASE_URL=\n");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "chore: initial"]);
        git(root, &["checkout", "-q", "-b", "feature"]);
        write(
            root,
            "db/migrate/20261101_add_orders.rb",
            "class AddOrders < ActiveRecord::Migration[7.1]\nend\n",
        );
        write(
            root,
            ".env.example",
            "# The database.\nDATABASE_URL=\n# Payments API key.\nPAYMENTS_KEY=\n",
        );
        git(root, &["add", "-A"]);
        git(
            root,
            &["commit", "-q", "-m", "feat: orders table and payments key"],
        );
        // The target environment's variables: names and (secret) values.
        write(
            root,
            "target.env",
            &format!("DATABASE_URL=postgres://u:{SECRET}@db/x\nPAYMENTS_KEY={SECRET}\n"),
        );
        write(
            root,
            "shipgate.toml",
            &format!(
                r#"[deployment]
service = "orders"
environment = "production"

[sources.git]

[sources.environment]
present_dotenv = "target.env"

[log]
path = "decisions.jsonl"

[[policies]]
name = "env"
source = "builtin:env"

[[policies]]
name = "risk"
source = "builtin:risk"

[[policies]]
name = "canary"
source = "builtin:canary"
{config_extra}"#
            ),
        );
        Repo { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> PathBuf {
        self.root().join("shipgate.toml")
    }

    /// `shipgate ARGS -c shipgate.toml` in the repository, with no CI
    /// variables from the test's own environment.
    fn shipgate(&self, args: &[&str]) -> Command {
        let mut cmd = shipgate();
        cmd.current_dir(self.root())
            .args(&args[..1])
            .arg("-c")
            .arg(self.config())
            .args(&args[1..]);
        for var in [
            "GITHUB_ACTIONS",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_SHA",
            "GITHUB_BASE_REF",
            "GITHUB_REF",
            "GITHUB_EVENT_PATH",
            "GITHUB_REPOSITORY",
            "GITHUB_TOKEN",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    fn log(&self) -> PathBuf {
        self.root().join("decisions.jsonl")
    }
}

const NOW: &str = "2026-11-18T10:00:00Z";

#[test]
fn snapshot_collects_the_repository_and_is_byte_identical_across_runs() {
    let repo = Repo::new("");
    let (code, first, stderr) = run(&mut repo.shipgate(&["snapshot", "--now", NOW]));
    assert_eq!(code, 0, "{stderr}");
    let (_, second, _) = run(&mut repo.shipgate(&["snapshot", "--now", NOW]));
    assert_eq!(first, second, "two collections of the same inputs differ");

    let snapshot: Snapshot = serde_json::from_str(&first).unwrap();
    assert!(snapshot.gaps.is_empty(), "{:?}", snapshot.gaps);
    assert_eq!(snapshot.deployment.service, "orders");
    assert_eq!(snapshot.deployment.requested_at.to_string(), NOW);
    let change = snapshot.change.as_ref().unwrap();
    let paths: Vec<&str> = change.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".env.example", "db/migrate/20261101_add_orders.rb"]);
    assert_eq!(change.migrations.len(), 1);
    let env = snapshot.environment.as_ref().unwrap();
    assert_eq!(env.present, ["DATABASE_URL", "PAYMENTS_KEY"]);
    let added: Vec<&str> = env
        .declared
        .iter()
        .filter(|v| v.added)
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(added, ["PAYMENTS_KEY"]);

    // Without --now, only the time differs.
    let (_, a, _) = run(&mut repo.shipgate(&["snapshot"]));
    let (_, b, _) = run(&mut repo.shipgate(&["snapshot"]));
    let strip = |text: &str| {
        let mut s: Snapshot = serde_json::from_str(text).unwrap();
        s.deployment.requested_at = shipgate_model::Timestamp(0);
        serde_json::to_string(&s).unwrap()
    };
    assert_eq!(strip(&a), strip(&b));

    // --out writes the same bytes to a file.
    let out = repo.root().join("snap.json");
    let (code, stdout, _) = run(repo
        .shipgate(&["snapshot", "--now", NOW, "--out"])
        .arg(&out));
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
}

#[test]
fn check_logs_a_record_that_replays_to_the_same_decision() {
    let repo = Repo::new("");
    let (code, text, stderr) = run(&mut repo.shipgate(&["check", "--now", NOW]));
    // A migration: high risk, which the default risk policy lets through
    // with requirements; the environment has every variable.
    assert!([0, 2, 4].contains(&code), "exit {code}\n{text}\n{stderr}");
    let records = decision_log::read(&repo.log()).unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.command, "check");
    assert_eq!(i32::from(record.exit_code.code()), code);
    assert_eq!(
        record.snapshot_sha256,
        decision_log::snapshot_sha256(&record.snapshot)
    );
    let policies: Vec<&str> = record.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(policies, ["env", "risk", "canary"]);
    assert!(record.policies.iter().all(|p| p.sha256.len() == 64));
    let config_text = std::fs::read(repo.config()).unwrap();
    assert_eq!(record.config.sha256, sha256_hex(&config_text));

    // Replay with eval: the same verdict and the same findings.
    let (replay_code, replay, stderr) =
        run(&mut repo.shipgate(&["eval", "--from-log", "decisions.jsonl", "--format", "json"]));
    assert_eq!(replay_code, code, "{stderr}");
    let replay: serde_json::Value = serde_json::from_str(&replay).unwrap();
    assert_eq!(replay["verdict"], record.report["verdict"]);
    assert_eq!(replay["findings"], record.report["findings"]);
    assert_eq!(replay["stage"], "gate");

    // A second check appends; `--entry 1` still replays the first.
    let (code2, _, _) = run(&mut repo.shipgate(&["check", "--stage", "canary", "--now", NOW]));
    let records = decision_log::read(&repo.log()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].stage, shipgate_model::Stage::Canary);
    assert_eq!(i32::from(records[1].exit_code.code()), code2);
    let (first_again, _, _) =
        run(&mut repo.shipgate(&["eval", "--from-log", "decisions.jsonl", "--entry", "1"]));
    assert_eq!(first_again, code);
    let (missing, _, stderr) =
        run(&mut repo.shipgate(&["eval", "--from-log", "decisions.jsonl", "--entry", "9"]));
    assert_eq!(missing, 1);
    assert!(
        stderr.contains("has 2 records; there is no record 9"),
        "{stderr}"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn secret_values_never_reach_the_snapshot_report_log_or_summary() {
    let repo = Repo::new("");
    let summary = repo.root().join("summary.md");
    for format in ["text", "json", "markdown"] {
        let (_, stdout, stderr) = run(repo
            .shipgate(&["check", "--format", format])
            .env("SHIPGATE_LOG", "trace")
            .env("SHIPGATE_TEST_SECRET", SECRET)
            .env("GITHUB_STEP_SUMMARY", &summary));
        assert!(!stdout.contains(SECRET), "{format} report leaks the secret");
        assert!(!stderr.contains(SECRET), "logs leak the secret: {stderr}");
    }
    // The process environment as the target: the name is there, the value
    // is not.
    let config = std::fs::read_to_string(repo.config()).unwrap();
    std::fs::write(
        repo.config(),
        config.replace("present_dotenv = \"target.env\"", "present = \"process\""),
    )
    .unwrap();
    let (_, stdout, stderr) = run(repo
        .shipgate(&["snapshot"])
        .env("SHIPGATE_TEST_SECRET", SECRET)
        .env("SHIPGATE_LOG", "trace"));
    let snapshot: Snapshot = serde_json::from_str(&stdout).unwrap();
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    let env = snapshot.environment.unwrap();
    assert!(env.is_present("SHIPGATE_TEST_SECRET"), "{:?}", env.present);
    for file in [repo.log(), summary] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.is_empty());
        assert!(
            !text.contains(SECRET),
            "{} leaks the secret",
            file.display()
        );
    }
}

#[test]
fn the_markdown_summary_goes_to_the_github_step_summary() {
    let repo = Repo::new("");
    let summary = repo.root().join("step-summary.md");
    let (code, stdout, _) = run(repo
        .shipgate(&["check", "--now", NOW, "--no-log"])
        .env("GITHUB_STEP_SUMMARY", &summary));
    // The terminal still gets the text report.
    assert!(stdout.contains("(gate)"), "{stdout}");
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("## Shipgate: "), "{text}");
    assert!(text.contains("### Deployment checklist"));
    assert!(
        text.contains("| New variables | 1 (`PAYMENTS_KEY`) |"),
        "{text}"
    );
    assert!(text.contains("| git | ✅ 2 files"), "{text}");
    assert!(!repo.log().exists(), "--no-log wrote a log");
    // A second step appends rather than replacing.
    run(repo
        .shipgate(&["check", "--now", NOW, "--no-log"])
        .env("GITHUB_STEP_SUMMARY", &summary));
    let again = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(again.matches("### Deployment checklist").count(), 2);
    let _ = code;
}

/// Asserts that a report is `hold` or `no-go` (never `go`) and names the
/// gap of `source`.
fn assert_held_with_gap(code: i32, stdout: &str, source: &str) {
    let report: serde_json::Value = serde_json::from_str(stdout).unwrap();
    let verdict: Verdict = serde_json::from_value(report["verdict"].clone()).unwrap();
    assert!(
        matches!(verdict, Verdict::Hold | Verdict::NoGo),
        "verdict {verdict} with a {source} gap:\n{stdout}"
    );
    assert!([2, 4].contains(&code), "exit {code}");
    let gaps = report["gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["source"] == source),
        "no {source} gap: {gaps:?}"
    );
}

#[test]
fn an_invalid_git_range_is_a_gap_and_holds() {
    let repo = Repo::new("");
    let (code, stdout, _) = run(&mut repo.shipgate(&[
        "check",
        "--base",
        "no-such-rev",
        "--format",
        "json",
        "--no-log",
    ]));
    assert_held_with_gap(code, &stdout, "git");
    let (_, text, _) = run(&mut repo.shipgate(&["check", "--base", "no-such-rev", "--no-log"]));
    assert!(text.contains("data missing: git"), "{text}");
    assert!(text.contains("no-such-rev"), "{text}");
}

#[test]
fn a_malformed_junit_report_is_a_gap_and_never_go() {
    let repo = Repo::new("\n[[policies]]\nname = \"readiness\"\nsource = \"builtin:readiness\"\n");
    write(
        repo.root(),
        "reports/junit.xml",
        "<testsuite name=\"a\" tests=\"3\"><testcase",
    );
    let config = std::fs::read_to_string(repo.config()).unwrap();
    std::fs::write(
        repo.config(),
        config.replace(
            "[log]",
            "[sources.junit]\npaths = [\"reports/*.xml\"]\n\n[log]",
        ),
    )
    .unwrap();
    let (code, stdout, _) = run(&mut repo.shipgate(&["check", "--format", "json", "--no-log"]));
    assert_held_with_gap(code, &stdout, "junit");
    let (_, text, _) = run(&mut repo.shipgate(&["check", "--no-log"]));
    assert!(text.contains("data missing: junit"), "{text}");
    assert!(
        text.contains("junit.xml"),
        "the gap does not name the file:\n{text}"
    );
}

/// A fake HTTP server on loopback that answers every connection with
/// `respond` (after `delay`), for faults a real Prometheus does not make on
/// demand. Runs until the test process ends.
fn fake_server(delay: std::time::Duration, respond: &'static str) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                std::thread::sleep(delay);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{respond}",
                    respond.len()
                );
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    url
}

/// A loopback port with nothing listening.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A repository whose config also reads Prometheus at `url`.
fn repo_with_prometheus(url: &str) -> Repo {
    let repo = Repo::new("");
    let config = std::fs::read_to_string(repo.config()).unwrap();
    std::fs::write(
        repo.config(),
        config.replace(
            "[log]",
            &format!(
                "[sources.prometheus]\nurl = \"{url}\"\nservice = \"orders\"\n\
                 baseline = 'service=\"orders\", track=\"baseline\"'\n\
                 canary = 'service=\"orders\", track=\"canary\"'\n\
                 timeout = \"1s\"\nquery_timeout = \"500ms\"\n\n[log]"
            ),
        ),
    )
    .unwrap();
    repo
}

#[test]
fn prometheus_down_slow_or_garbled_is_a_gap_and_the_canary_holds() {
    let cases = [
        ("down", closed_port_url(), "connection refused"),
        (
            "slow",
            fake_server(std::time::Duration::from_secs(60), "{}"),
            "timed out",
        ),
        (
            "garbage",
            fake_server(std::time::Duration::ZERO, "<html>not json"),
            "HTML page",
        ),
        (
            "truncated",
            fake_server(std::time::Duration::ZERO, "{\"status\":\"succ"),
            "JSON",
        ),
    ];
    for (name, url, reason) in cases {
        let repo = repo_with_prometheus(&url);
        let started = std::time::Instant::now();
        let (code, stdout, stderr) = run(
            &mut repo.shipgate(&["check", "--stage", "canary", "--format", "json", "--no-log"])
        );
        // The source's limit is 1 s + 2 s of grace; the slow server answers
        // only after 60 s. A generous bound keeps this robust on a loaded
        // machine and still tells a kept timeout from waiting it out.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{name}: the 1 s source timeout was not kept ({:?})",
            started.elapsed()
        );
        assert_eq!(code, 4, "{name}: {stdout}\n{stderr}");
        assert_held_with_gap(code, &stdout, "prometheus");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let gap = report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["source"] == "prometheus")
            .unwrap();
        assert!(
            gap["reason"].as_str().unwrap().contains(reason),
            "{name}: {gap}"
        );
        let (_, text, _) = run(&mut repo.shipgate(&["check", "--stage", "canary", "--no-log"]));
        assert!(text.contains("data missing: prometheus"), "{name}: {text}");
    }
}

#[test]
fn check_against_a_real_prometheus_promotes_a_healthy_canary_and_holds_when_it_stops() {
    use shipgate_tests::prometheus::{Behaviour, Exporter, Latency, PrometheusServer};
    let healthy = Behaviour {
        request_rate: 50.0,
        error_ratio: 0.004,
        latency: Latency::new(&[(0.05, 0.7), (0.1, 0.25), (0.25, 0.05)]),
        cpu: 0.3,
        memory: 0.4,
    };
    let exporter = Exporter::start(
        "orders",
        &[("baseline", healthy.clone()), ("canary", healthy)],
    );
    let prometheus = PrometheusServer::start(&exporter, None);
    prometheus.wait_for_data("sum(rate(http_requests_total[4s]))");
    let repo = repo_with_prometheus(&prometheus.url());
    let config = std::fs::read_to_string(repo.config()).unwrap();
    std::fs::write(
        repo.config(),
        config.replace(
            "timeout = \"1s\"\nquery_timeout = \"500ms\"",
            "window = \"4s\"",
        ),
    )
    .unwrap();

    let (code, stdout, stderr) = run(&mut repo.shipgate(&["check", "--stage", "canary"]));
    assert_eq!(
        code, 0,
        "a healthy canary is not promoted:\n{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("data missing"), "{stdout}");

    prometheus.stop();
    let (code, stdout, _) = run(&mut repo.shipgate(&["check", "--stage", "canary"]));
    assert_eq!(code, 4, "{stdout}");
    assert!(stdout.contains("data missing: prometheus"), "{stdout}");
    assert!(stdout.contains("connection refused"), "{stdout}");

    // Both decisions are in the log, and replay to the same verdicts.
    let records = decision_log::read(&repo.log()).unwrap();
    assert_eq!(records.len(), 2);
    for (entry, expected) in [("1", 0), ("2", 4)] {
        let (replayed, _, _) =
            run(&mut repo.shipgate(&["eval", "--from-log", "decisions.jsonl", "--entry", entry]));
        assert_eq!(replayed, expected, "record {entry}");
    }
}

#[test]
fn the_example_config_collects_this_repository() {
    // As a new user runs it, from the workspace root. A shallow clone has no
    // parent commit to diff against: then git is a gap, never a crash.
    let root = shipgate_tests::workspace();
    let (code, stdout, stderr) =
        run(shipgate()
            .current_dir(&root)
            .args(["snapshot", "-c", "examples/shipgate.toml"]));
    assert_eq!(code, 0, "{stderr}");
    let snapshot: Snapshot = serde_json::from_str(&stdout).unwrap();
    assert_eq!(snapshot.deployment.service, "shipgate");
    assert_eq!(snapshot.deployment.environment, "staging");
    assert!(
        snapshot.change.is_some() || snapshot.gap("git").is_some(),
        "{stdout}"
    );
    assert_eq!(snapshot.deployment.commit.len(), 40, "{stdout}");
    assert!(snapshot.environment.is_some());

    let (code, text, stderr) = run(shipgate().current_dir(&root).args([
        "check",
        "-c",
        "examples/shipgate.toml",
        "--no-log",
    ]));
    assert!([0, 2, 4].contains(&code), "exit {code}\n{text}\n{stderr}");
    assert!(text.contains("shipgate"), "{text}");
}
