//! Durability and bounded resources, end to end: the decision log under
//! `kill -9` and concurrent writers (the real binary), every outside input
//! past its cap (`/dev/zero`, a server that streams without end), snapshot
//! validation.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use shipgate_collect::{self as collect, Context, DeploymentConfig, MapVars, SourcesConfig};
use shipgate_engine::decision_log;
use shipgate_model::{Measurement, Metric, Snapshot, Timestamp};

use crate::support::{example, run, shipgate};

/// A configuration with one cheap built-in policy.
fn config(dir: &Path) -> PathBuf {
    let path = dir.join("shipgate.toml");
    std::fs::write(
        &path,
        "[[policies]]\nname = \"window\"\nsource = \"builtin:window\"\n",
    )
    .unwrap();
    path
}

/// The healthy canary snapshot with a custom metric of `samples` samples:
/// a record of a few MiB, whose write takes long enough to be cut.
fn big_snapshot(dir: &Path, samples: usize) -> (PathBuf, Snapshot) {
    let mut snapshot = example("canary-healthy");
    snapshot.metrics.push(Metric {
        name: "queue_depth".into(),
        unit: None,
        baseline: Measurement::Value(1.0),
        canary: Measurement::Samples(vec![0.123_456_789_012_345; samples]),
    });
    let path = dir.join("big.json");
    std::fs::write(&path, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    (path, snapshot)
}

fn eval_log(snapshot: &Path, config: &Path, log: &Path) -> std::process::Command {
    let mut cmd = shipgate();
    cmd.arg("eval")
        .arg("--snapshot")
        .arg(snapshot)
        .arg("--config")
        .arg(config)
        .arg("--log")
        .arg(log)
        .args(["--format", "json"]);
    cmd
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// `kill -9` in a loop against `eval --log` writing large records, each
/// kill sent as soon as the log starts to grow (mid-write when it lands in
/// time): every whole record parses, each torn one is reported by line and
/// skipped, and the append after the last kill is intact. Before appends
/// started on a fresh line after a torn tail and readers skipped torn
/// lines, one torn line made `eval --from-log` and `replay` refuse the whole
/// log, and the next record was glued onto the fragment.
#[test]
fn killed_appends_never_cost_another_record() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (snapshot_path, snapshot) = big_snapshot(dir.path(), 400_000);
    let log = dir.path().join("decisions.jsonl");

    const RUNS: usize = 40;
    for _ in 0..RUNS {
        let before = len(&log);
        let mut child = eval_log(&snapshot_path, &config, &log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        while len(&log) == before && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_micros(100));
        }
        // SIGKILL on Unix.
        let _ = child.kill();
        child.wait().unwrap();
    }
    // One append that is not killed.
    let (code, _, err) = run(&mut eval_log(&snapshot_path, &config, &log));
    assert_ne!(code, 1, "{err}");

    let scan = decision_log::scan(&log).unwrap();
    let lines = decision_log::count(&log).unwrap();
    assert_eq!(scan.records.len() + scan.torn.len(), lines);
    let last = scan.records.last().expect("the last append is whole");
    assert_eq!(last.entry, lines, "the last line is the last record");
    assert_eq!(last.record.snapshot, snapshot);
    for torn in &scan.torn {
        assert!(
            torn.reason.starts_with("a torn record"),
            "line {}: {}",
            torn.line,
            torn.reason
        );
    }
    eprintln!(
        "{RUNS} killed appends: {} whole records, {} torn",
        scan.records.len(),
        scan.torn.len()
    );

    // The readers of the log go on past every torn line, and say where
    // each one is.
    let (code, _, err) = run(shipgate()
        .arg("eval")
        .arg("--from-log")
        .arg(&log)
        .arg("--config")
        .arg(&config));
    assert_ne!(code, 1, "{err}");
    for torn in &scan.torn {
        assert!(
            err.contains(&format!("line {}: a torn record", torn.line)),
            "{err}"
        );
    }
    let (code, out, err) = run(shipgate()
        .arg("replay")
        .arg("--log")
        .arg(&log)
        .arg("--config")
        .arg(&config)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let replayed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        replayed["records"].as_u64(),
        Some(scan.records.len() as u64),
        "{out}"
    );
}

/// Several processes appending at once: every line is a whole record.
#[test]
fn concurrent_writers_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (snapshot_path, _) = big_snapshot(dir.path(), 100_000);
    let log = dir.path().join("decisions.jsonl");
    const WRITERS: usize = 6;
    let children: Vec<_> = (0..WRITERS)
        .map(|_| {
            eval_log(&snapshot_path, &config, &log)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_ne!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let scan = decision_log::scan(&log).unwrap();
    assert_eq!(scan.torn, []);
    assert_eq!(scan.records.len(), WRITERS);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), WRITERS, "one line per record");
}

/// Every file input past its cap is an error naming the cap, not an
/// allocation that grows until the process aborts (exit 134).
#[test]
fn endless_files_are_refused_at_their_caps() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let snapshot = shipgate_tests::example_snapshot("canary-healthy");
    let cases: [(&str, Vec<&std::ffi::OsStr>, &str); 4] = [
        (
            "eval --snapshot /dev/zero",
            vec![
                "eval".as_ref(),
                "--snapshot".as_ref(),
                "/dev/zero".as_ref(),
                "--config".as_ref(),
                config.as_os_str(),
            ],
            "cannot read `/dev/zero`: larger than 64 MiB, the limit for a snapshot",
        ),
        (
            "eval -c /dev/zero",
            vec![
                "eval".as_ref(),
                "--snapshot".as_ref(),
                snapshot.as_os_str(),
                "-c".as_ref(),
                "/dev/zero".as_ref(),
            ],
            "/dev/zero: cannot read the configuration: larger than 1 MiB, the limit for a configuration file",
        ),
        (
            "eval --from-log /dev/zero",
            vec![
                "eval".as_ref(),
                "--from-log".as_ref(),
                "/dev/zero".as_ref(),
                "--config".as_ref(),
                config.as_os_str(),
            ],
            "decision log `/dev/zero`, line 1: larger than 80 MiB, the limit for a decision-log record",
        ),
        (
            "replay --log /dev/zero",
            vec![
                "replay".as_ref(),
                "--log".as_ref(),
                "/dev/zero".as_ref(),
                "--config".as_ref(),
                config.as_os_str(),
            ],
            "decision log `/dev/zero`, line 1: larger than 80 MiB, the limit for a decision-log record",
        ),
    ];
    for (what, args, expected) in cases {
        let (code, _, err) = run(shipgate().args(args));
        assert_eq!(code, 1, "{what}: {err}");
        assert!(err.contains(expected), "{what}: {err}");
    }
}

/// A snapshot saved by an editor with a byte-order mark is read; one with a
/// metric listed twice, a negative error rate or coverage above 100 % is an
/// error naming each field, not data a policy reads.
#[test]
fn snapshots_are_validated_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let healthy = std::fs::read(shipgate_tests::example_snapshot("canary-healthy")).unwrap();
    let bom = dir.path().join("bom.json");
    std::fs::write(&bom, [&b"\xef\xbb\xbf"[..], &healthy].concat()).unwrap();
    let (code, _, err) = run(shipgate()
        .arg("eval")
        .arg("--snapshot")
        .arg(&bom)
        .arg("--config")
        .arg(&config));
    assert_ne!(code, 1, "{err}");

    let mut snapshot: Snapshot = serde_json::from_slice(&healthy).unwrap();
    let error_rate = snapshot.metric("error_rate").unwrap().clone();
    snapshot.metrics.push(Metric {
        canary: Measurement::Value(0.9),
        ..error_rate
    });
    snapshot.metrics[0].baseline = Measurement::Value(-0.01);
    snapshot.ci.get_or_insert_default().coverage_percent = Some(104.5);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    let (code, _, err) = run(shipgate()
        .arg("eval")
        .arg("--snapshot")
        .arg(&bad)
        .arg("--config")
        .arg(&config));
    assert_eq!(code, 1, "{err}");
    let name = &snapshot.metrics[0].name;
    let duplicate = snapshot.metrics.len() - 1;
    for expected in [
        "invalid snapshot: `ci.coverage_percent`: `104.5` is not a percentage (0 to 100)"
            .to_owned(),
        format!("`metrics[0].baseline`: `-0.01` is negative, which `{name}` cannot be"),
        format!("`metrics[{duplicate}].name`: metric `error_rate` is listed twice"),
    ] {
        assert!(err.contains(&expected), "{expected}\n{err}");
    }
}

/// A server on loopback that answers every request with a JSON start and
/// then spaces without end (valid JSON so far, so only a cap stops it).
fn endless_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"status\":\"success\",\"data\":";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let spaces = [b' '; 64 * 1024];
                while stream.write_all(&spaces).is_ok() {}
            });
        }
    });
    url
}

fn collect_from(sources: &str) -> Snapshot {
    let sources: SourcesConfig = toml::from_str(sources).unwrap();
    let ctx = Context {
        base_dir: ".".into(),
        now: Timestamp(1_700_000_000_000),
        vars: Arc::new(MapVars::new([("GITHUB_REPOSITORY", "acme/checkout")])),
        commit: Some("9c1e4f2a7b3d5e6f8091a2b3c4d5e6f708192a3b".into()),
    };
    collect::collect(&sources, &DeploymentConfig::default(), ctx)
        .unwrap()
        .snapshot
}

/// Prometheus and GitHub answers that never end are cut off at their caps:
/// a gap naming the cap, not 1.5 GB of memory.
#[test]
fn endless_answers_are_gaps_at_their_caps() {
    let url = endless_server();
    let snapshot = collect_from(&format!(
        "[prometheus]\nurl = \"{url}\"\nservice = \"checkout\"\nmetrics = [\"error_rate\"]\n\
         alerts = false\nstale_after = \"0s\"\ntimeout = \"60s\"\nquery_timeout = \"50s\"\n"
    ));
    let error_rate = snapshot.metric("error_rate").unwrap();
    assert_eq!(
        error_rate.canary,
        Measurement::Error(
            "the answer is larger than 16 MiB, the limit for a Prometheus answer".into()
        )
    );
    let gap = snapshot.gap("prometheus").expect("a gap");
    assert!(gap.reason.contains("larger than 16 MiB"), "{}", gap.reason);

    let snapshot = collect_from(&format!(
        "[github]\napi_url = \"{url}\"\nrepository = \"acme/checkout\"\ntimeout = \"60s\"\n"
    ));
    let gap = snapshot.gap("github").expect("a gap");
    assert!(
        gap.reason
            .contains("is larger than 16 MiB, the limit for a GitHub API answer"),
        "{}",
        gap.reason
    );
}

/// Prometheus answering with `warnings` (partial data: a store of a
/// federation did not answer) gives no number: the measurement is an error,
/// the source has a gap, and the canary is never promoted on it.
#[test]
fn partial_prometheus_data_never_promotes_a_canary() {
    use shipgate_tests::prometheus::{HttpStub, Reply, Request};
    let stub = HttpStub::start(|request: &Request| {
        let time = request.query.get("time").cloned().unwrap_or_default();
        Reply::json(
            200,
            &format!(
                r#"{{"status":"success","warnings":["store eu-1 did not answer"],"data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{time},"0.001"]}}]}}}}"#
            ),
        )
    });
    let snapshot = collect_from(&format!(
        "[prometheus]\nurl = \"{}\"\nservice = \"checkout\"\nstale_after = \"0s\"\n",
        stub.url()
    ));
    let error_rate = snapshot.metric("error_rate").unwrap();
    assert_eq!(
        error_rate.canary,
        Measurement::Error(
            "Prometheus answered with partial data (warnings: store eu-1 did not answer)".into()
        )
    );
    assert!(snapshot.gap("prometheus").is_some(), "{:?}", snapshot.gaps);
    let setup =
        crate::support::setup("[[policies]]\nname = \"canary\"\nsource = \"builtin:canary\"\n");
    let report = setup
        .policies()
        .evaluate(shipgate_model::Stage::Canary, &snapshot);
    assert_ne!(report.verdict, shipgate_model::Verdict::Go, "{report:?}");
}
