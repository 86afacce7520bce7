//! `shipgate check` against a real Prometheus on loopback (Debian's
//! `prometheus`, started here, scraping the test exporter): collecting the
//! canary snapshot (the standard metric set and alerts for both tracks),
//! deciding on it, and both, next to deciding alone on the same snapshot as
//! the in-run baseline; and the whole command as a process.
//!
//! Run with `cargo bench -p shipgate --bench check`. Skips (and says so)
//! when Prometheus is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use shipgate_collect::{self as collect, Context, MapVars};
use shipgate_core::config::Config;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::runtime::CacheMode;
use shipgate_model::Stage;
use shipgate_tests::prometheus::{Behaviour, Exporter, Latency, PrometheusServer, prometheus_bin};

const GROUP: &str = "check";

fn behaviour(error_ratio: f64) -> Behaviour {
    Behaviour {
        request_rate: 50.0,
        error_ratio,
        latency: Latency::all_under(0.1),
        cpu: 0.3,
        memory: 0.4,
    }
}

fn main() {
    if !prometheus_bin().exists() {
        println!("check bench skipped: Prometheus is not installed (apt-get install prometheus)");
        return;
    }
    let exporter = Exporter::start(
        "checkout",
        &[("baseline", behaviour(0.004)), ("canary", behaviour(0.005))],
    );
    let prometheus = PrometheusServer::start(&exporter, None);
    prometheus.wait_for_data("sum(rate(http_requests_total[4s]))");

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("shipgate.toml");
    std::fs::write(
        &config_path,
        format!(
            r#"[deployment]
service = "checkout"

[sources.prometheus]
url = "{}"
service = "checkout"
baseline = 'service="checkout", track="baseline"'
canary = 'service="checkout", track="canary"'
window = "4s"

[[policies]]
name = "canary"
source = "builtin:canary"
"#,
            prometheus.url()
        ),
    )
    .unwrap();
    let config = Config::load(&config_path).unwrap();
    let cache = CacheMode::Dir(dir.path().join("cache"));
    let policies = PolicySet::load(&config, &cache).unwrap();
    let ctx = || Context {
        base_dir: dir.path().to_owned(),
        now: collect::now(),
        vars: Arc::new(MapVars::default()),
        commit: None,
    };
    let collect = || {
        collect::collect(&config.sources, &config.deployment, ctx())
            .unwrap()
            .snapshot
    };
    let snapshot = collect();
    assert!(snapshot.gaps.is_empty(), "{:?}", snapshot.gaps);
    let metrics = snapshot.metrics.len();

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let mut group = c.benchmark_group(GROUP);
    group.bench_function("decide", |b| {
        b.iter(|| black_box(policies.evaluate(Stage::Canary, black_box(&snapshot))));
    });
    group.bench_function("collect", |b| b.iter(|| black_box(collect())));
    group.bench_function("collect+decide", |b| {
        b.iter(|| black_box(policies.evaluate(Stage::Canary, &collect())));
    });
    let exe = env!("CARGO_BIN_EXE_shipgate");
    group.bench_function("cli", |b| {
        b.iter(|| {
            let status = std::process::Command::new(exe)
                .args(["check", "--stage", "canary", "--no-log", "-f", "json", "-c"])
                .arg(&config_path)
                .env("SHIPGATE_CACHE_DIR", dir.path().join("cache"))
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            black_box(status)
        });
    });
    group.finish();
    c.final_summary();

    let Some(target) = support::target_dir() else {
        return;
    };
    let median = |id| support::median_ns(&target, GROUP, id);
    println!();
    println!(
        "summary: medians of this run ({metrics} metrics × 2 tracks + alerts from a local Prometheus)"
    );
    let decide = median("decide");
    for id in ["decide", "collect", "collect+decide", "cli"] {
        if let Some(ns) = median(id) {
            let ratio = decide.map_or_else(String::new, |d| format!("{:>8.1}x decide", ns / d));
            println!("  {id:<15} {:>10.2} ms {ratio}", ns / 1e6);
        }
    }
}
