//! Evaluating a policy: the example `error-ratio` component in a fresh
//! sandbox per evaluation, next to the same rule compiled natively, in the
//! same run. Prints both medians and their ratio at the end.
//!
//! Run with `cargo bench -p shipgate --bench eval`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::Criterion;
use error_ratio_policy::ErrorRatio;
use shipgate::config::{Config, Limits};
use shipgate::policy_set::PolicySet;
use shipgate::runtime::{CacheMode, Runtime};
use shipgate_model::{Snapshot, Stage};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn reference_snapshot() -> Snapshot {
    let path = workspace().join("examples/snapshots/canary-error-spike.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const GROUP: &str = "error-ratio";
const WASM: &str = "wasm-fresh-sandbox";
const NATIVE: &str = "native";
const SET: &str = "policy-set-with-report";

fn benches(c: &mut Criterion) {
    let snapshot = reference_snapshot();
    let cache = tempfile::tempdir().unwrap();
    let runtime =
        Runtime::new(&Limits::default(), &CacheMode::Dir(cache.path().to_owned())).unwrap();
    let policy = runtime
        .load(shipgate::builtin::get("error-ratio").unwrap())
        .unwrap();
    // Both sides run the same code path: parse the config JSON, then decide.
    let config = "{}";
    let native =
        shipgate_sdk::testing::evaluate::<ErrorRatio>(Stage::Canary, &snapshot, config).unwrap();
    let (wasm, _) = policy.evaluate(Stage::Canary, &snapshot, config);
    assert_eq!(
        wasm.unwrap(),
        native,
        "the component and the native rule must agree"
    );

    let set = PolicySet::load(
        &Config::from_default_toml(shipgate::builtin::DEFAULT_CONFIG, "default").unwrap(),
        &CacheMode::Dir(cache.path().to_owned()),
    )
    .unwrap();

    let mut group = c.benchmark_group(GROUP);
    group.bench_function(WASM, |b| {
        b.iter(|| {
            let (decision, _) = policy.evaluate(Stage::Canary, black_box(&snapshot), config);
            black_box(decision)
        })
    });
    group.bench_function(NATIVE, |b| {
        b.iter(|| {
            black_box(shipgate_sdk::testing::evaluate::<ErrorRatio>(
                Stage::Canary,
                black_box(&snapshot),
                config,
            ))
        })
    });
    group.bench_function(SET, |b| {
        b.iter(|| black_box(set.evaluate(Stage::Canary, black_box(&snapshot))))
    });
    group.finish();
}

/// criterion's median estimate of one benchmark, in nanoseconds.
fn median_ns(target: &std::path::Path, bench: &str) -> Option<f64> {
    let path = target
        .join("criterion")
        .join(GROUP)
        .join(bench)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn summary() {
    // The bench binary is target/<profile>/deps/eval-<hash>.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_owned())
        });
    let Some(target) = target else { return };
    let (Some(wasm), Some(native)) = (median_ns(&target, WASM), median_ns(&target, NATIVE)) else {
        println!("(no criterion estimates found under {})", target.display());
        return;
    };
    let set = median_ns(&target, SET);
    println!();
    println!("summary (medians of this run)");
    println!(
        "  native rule                       {:>10.2} µs",
        native / 1e3
    );
    println!(
        "  component, fresh sandbox per eval {:>10.2} µs",
        wasm / 1e3
    );
    if let Some(set) = set {
        println!("  policy set + aggregated report    {:>10.2} µs", set / 1e3);
    }
    println!(
        "  ratio component / native          {:>10.1}x",
        wasm / native
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    summary();
}
