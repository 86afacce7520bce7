//! A metric an enforced policy needs that `[sources.prometheus]` was never
//! configured to collect is a configuration error at load, naming the file,
//! the line and the key, not a canary that holds (and then rolls back) on
//! missing data. The real binary, the real built-in canary.

use shipgate_tests::example_snapshot;

use crate::support::{run, shipgate};

/// A `shipgate.toml` with the built-in canary (`mode`, `canary_config`) and
/// a Prometheus source collecting `metrics`.
fn config(
    dir: &std::path::Path,
    mode: &str,
    canary_config: &str,
    metrics: &str,
) -> std::path::PathBuf {
    let path = dir.join("shipgate.toml");
    std::fs::write(
        &path,
        format!(
            r#"[[policies]]
name = "canary"
source = "builtin:canary"
mode = "{mode}"

[policies.config]
{canary_config}

[sources.prometheus]
url = "http://127.0.0.1:1"
service = "orders"
timeout = "2s"
query_timeout = "1s"
metrics = {metrics}
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_required_metric_the_source_does_not_collect_is_a_config_error_at_load() {
    let dir = tempfile::tempdir().unwrap();
    // The canary's default latency metrics are p95 and p99; the source
    // collects only p95 (the hot-fix playbook's metric).
    let path = config(
        dir.path(),
        "enforce",
        "",
        r#"["error_rate", "latency_p95"]"#,
    );
    let snapshot = example_snapshot("canary-healthy");
    for args in [
        vec![
            "eval",
            "--stage",
            "canary",
            "--snapshot",
            snapshot.to_str().unwrap(),
        ],
        vec!["check", "--stage", "canary", "--no-log"],
    ] {
        let (code, out, err) = run(shipgate().args(&args).arg("--config").arg(&path));
        assert_eq!(code, 1, "{args:?}: a decision was made:\n{out}\n{err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(
            err.contains("shipgate.toml:14:11: key `sources.prometheus.metrics`"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(
                "enforced policy `canary` needs the metric `latency_p99`, which the prometheus \
                 source is not configured to collect"
            ),
            "{args:?}: {err}"
        );
        assert!(err.contains("help: collect it"), "{err}");
    }
}

#[test]
fn a_source_that_collects_what_the_policies_need_loads() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = example_snapshot("canary-healthy");
    let cases = [
        // Everything the default canary reads is collected.
        (
            "enforce",
            "",
            r#"["error_rate", "latency_p95", "latency_p99"]"#,
        ),
        // The profile requires only what it watches (p95).
        (
            "enforce",
            r#"latency_metrics = ["latency_p95"]"#,
            r#"["error_rate", "latency_p95"]"#,
        ),
        // An advisory policy decides nothing: its needs are not checked.
        ("advisory", "", r#"["error_rate"]"#),
    ];
    for (mode, canary, metrics) in cases {
        let path = config(dir.path(), mode, canary, metrics);
        let (code, out, err) = run(shipgate()
            .args(["eval", "--stage", "canary", "--snapshot"])
            .arg(&snapshot)
            .arg("--config")
            .arg(&path));
        assert_ne!(code, 1, "{mode} {canary} {metrics}: {err}");
        assert!(!out.is_empty(), "{err}");
    }
}

/// The same check for the verify stage: the `verify` built-in needs the
/// deployed version's restarts and `up` by default; a source that does not
/// collect them is refused at load, and turning their rules off loads.
#[test]
fn a_verify_metric_the_source_does_not_collect_is_a_config_error_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = example_snapshot("canary-healthy");
    let verify = |config: &str| {
        let path = dir.path().join("shipgate.toml");
        std::fs::write(
            &path,
            format!(
                "[[policies]]\nname = \"verify\"\nsource = \"builtin:verify\"\n\n\
                 [policies.config]\n{config}\n\n[sources.prometheus]\n\
                 url = \"http://127.0.0.1:1\"\nmetrics = [\"http_5xx_rate\"]\n"
            ),
        )
        .unwrap();
        run(shipgate()
            .args(["eval", "--stage", "verify", "--snapshot"])
            .arg(&snapshot)
            .arg("--config")
            .arg(&path))
    };
    let (code, out, err) = verify("");
    assert_eq!(code, 1, "a decision was made:\n{out}\n{err}");
    assert!(
        err.contains(
            "shipgate.toml:10:11: key `sources.prometheus.metrics`: enforced policy `verify` needs \
             the metrics `restarts`, `up`, which the prometheus source is not configured to \
             collect"
        ),
        "{err}"
    );
    let (code, _, err) = verify("max_restarts = false\nmin_up = false");
    assert_ne!(code, 1, "{err}");
}
