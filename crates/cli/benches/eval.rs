//! Evaluating policies, each as a component in a fresh sandbox per
//! evaluation, next to the same rule compiled natively, in the same run:
//!
//! - `error-ratio`: the example team policy on `canary-error-spike.json`;
//! - every built-in on `release-full.json` (a snapshot with every section),
//!   at a stage it answers, and the whole default set at both stages.
//!
//! - the `rules` policy (CEL expressions) next to the built-in `canary`
//!   policy on the same snapshot and stage: the canary rules of the
//!   `deployment-agent` profile's twin (`examples/profiles/
//!   deployment-agent.rules.toml`) against the built-in `canary` with that
//!   profile's configuration, and a single CEL rule.
//!
//! Prints the medians and the component / native ratios at the end.
//! Run with `cargo bench -p shipgate --bench eval`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::Criterion;
use shipgate_core::config::{Config, Limits};
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::runtime::{CacheMode, ConfiguredPolicy, LoadedPolicy, Runtime};
use shipgate_model::{Decision, Snapshot, Stage};
use shipgate_sdk::Policy;
use shipgate_sdk::testing::evaluate;

fn snapshot(name: &str) -> Snapshot {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/snapshots")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const GROUP: &str = "policies";

/// One policy, as a component and natively.
struct Case {
    name: &'static str,
    stage: Stage,
    snapshot: Snapshot,
    native: fn(Stage, &Snapshot, &str) -> Result<Decision, String>,
}

fn case<P: Policy>(name: &'static str, stage: Stage, snapshot: &Snapshot) -> Case {
    Case {
        name,
        stage,
        snapshot: snapshot.clone(),
        native: evaluate::<P>,
    }
}

/// The component of `name`: a built-in, or the example team policy (not
/// built into the binary; the test fixtures build it).
fn component(name: &str) -> Vec<u8> {
    match shipgate_engine::builtin::get(name) {
        Some(bytes) => bytes.to_vec(),
        None => std::fs::read(shipgate_tests::guests::ERROR_RATIO).unwrap(),
    }
}

/// `loaded` configured with `config` and pre-initialised: what a long-lived
/// process evaluates. With `preinit == false`, configured in every
/// evaluation's instance instead (what a one-shot `shipgate eval` does);
/// asked before the pre-initialised snapshot of the same configuration is
/// cached, or `configure` would start from it.
fn configured(
    runtime: &Runtime,
    loaded: &LoadedPolicy,
    config: &str,
    preinit: bool,
) -> ConfiguredPolicy {
    let mut policy = runtime.configure(loaded, config).unwrap().unwrap();
    if preinit {
        runtime.preinitialise(&mut policy).unwrap();
    }
    assert_eq!(policy.is_preinitialised(), preinit);
    policy
}

fn benches(c: &mut Criterion, runtime: &Runtime, cache: &Path) -> Vec<&'static str> {
    let full = snapshot("release-full");
    let cases = [
        case::<error_ratio_policy::ErrorRatio>(
            "error-ratio",
            Stage::Canary,
            &snapshot("canary-error-spike"),
        ),
        case::<shipgate_policy_env::EnvPolicy>("env", Stage::Gate, &full),
        case::<shipgate_policy_readiness::Readiness>("readiness", Stage::Gate, &full),
        case::<shipgate_policy_risk::Risk>("risk", Stage::Gate, &full),
        case::<shipgate_policy_window::Window>("window", Stage::Gate, &full),
        case::<shipgate_policy_canary::Canary>("canary", Stage::Canary, &full),
    ];
    let mut group = c.benchmark_group(GROUP);
    group
        .measurement_time(Duration::from_secs(4))
        .sample_size(60);
    let config = "{}";
    for case in &cases {
        let loaded = runtime.load(&component(case.name)).unwrap();
        let unprepared = configured(runtime, &loaded, config, false);
        let policy = configured(runtime, &loaded, config, true);
        let native = (case.native)(case.stage, &case.snapshot, config).unwrap();
        for p in [&policy, &unprepared] {
            let (wasm, _) = p.evaluate(case.stage, &case.snapshot);
            assert_eq!(
                wasm.unwrap(),
                native,
                "{}: component and native rule disagree",
                case.name
            );
        }
        group.bench_function(format!("{}/wasm", case.name), |b| {
            b.iter(|| black_box(policy.evaluate(case.stage, black_box(&case.snapshot))))
        });
        group.bench_function(format!("{}/wasm-configure", case.name), |b| {
            b.iter(|| black_box(unprepared.evaluate(case.stage, black_box(&case.snapshot))))
        });
        group.bench_function(format!("{}/native", case.name), |b| {
            b.iter(|| black_box((case.native)(case.stage, black_box(&case.snapshot), config)))
        });
    }
    rules_benches(&mut group, runtime, &full);
    floor_benches(&mut group, runtime, &full);
    let mut set = PolicySet::load(
        &Config::from_default_toml(shipgate_engine::builtin::DEFAULT_CONFIG, "default").unwrap(),
        &CacheMode::Dir(cache.to_owned()),
    )
    .unwrap();
    assert!(set.preinitialise().is_empty());
    for (id, stage) in [("set/gate", Stage::Gate), ("set/canary", Stage::Canary)] {
        group.bench_function(id, |b| {
            b.iter(|| black_box(set.evaluate(stage, black_box(&full))))
        });
    }
    group.finish();
    cases.iter().map(|c| c.name).collect()
}

/// The floor of a component evaluation: the hostile test guest in `behave`
/// mode parses its config and answers `go`, so its time is the fixed cost
/// (a pool slot, a store, the instance, copying the input in, the answer
/// out, the teardown); on the deployment section alone, and on the whole
/// snapshot (the difference is copying the snapshot in).
fn floor_benches(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    full: &Snapshot,
) {
    let config = r#"{"mode": "behave"}"#;
    let hostile = std::fs::read(shipgate_tests::guests::HOSTILE).unwrap();
    let floor = configured(runtime, &runtime.load(&hostile).unwrap(), config, true);
    let mut bare: Snapshot = serde_json::from_str(
        r#"{"deployment": {"service": "x", "environment": "production", "version": "1",
            "commit": "c", "requested_at": "2026-11-20T10:00:00Z"}}"#,
    )
    .unwrap();
    bare.deployment = full.deployment.clone();
    for (id, snapshot) in [
        ("floor/deployment-only", &bare),
        ("floor/full-snapshot", full),
    ] {
        let (decision, _) = floor.evaluate(Stage::Gate, snapshot);
        assert_eq!(decision.unwrap().verdict, shipgate_model::Verdict::Go);
        group.bench_function(id, |b| {
            b.iter(|| black_box(floor.evaluate(Stage::Gate, black_box(snapshot))))
        });
    }
}

/// The profile whose canary rules are measured.
const PROFILE: &str = "deployment-agent";

/// The JSON config of the policy called `name` in an example profile.
fn profile_config(file: &str, name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/profiles")
        .join(file);
    let config = Config::load(&path).unwrap();
    let policy = config.policies.iter().find(|p| p.name == name).unwrap();
    policy.config.to_string()
}

/// One error-rate rule, the smallest useful rules configuration.
const ONE_RULE: &str = r#"{"rules": [{"id": "canary.error-rate", "when": "value(metric('error_rate').canary) > 0.02", "verdict": "rollback"}]}"#;

fn rules_benches(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    full: &Snapshot,
) {
    let canary_config = profile_config(&format!("{PROFILE}.toml"), "canary");
    let rules_config = profile_config(&format!("{PROFILE}.rules.toml"), "canary");
    let load = |name| {
        runtime
            .load(shipgate_engine::builtin::get(name).unwrap())
            .unwrap()
    };
    let (canary, rules) = (load("canary"), load("rules"));
    let one_rule = configured(runtime, &rules, ONE_RULE, true);
    let canary = configured(runtime, &canary, &canary_config, true);
    let rules = configured(runtime, &rules, &rules_config, true);
    let stage = Stage::Canary;
    let built_in = canary.evaluate(stage, full).0.unwrap();
    let twin = rules.evaluate(stage, full).0.unwrap();
    assert_eq!(
        one_rule.evaluate(stage, full).0.unwrap(),
        evaluate::<shipgate_policy_rules::RulesPolicy>(stage, full, ONE_RULE).unwrap()
    );
    assert_eq!(built_in.verdict, twin.verdict, "the twin disagrees");
    let native_twin = evaluate::<shipgate_policy_rules::RulesPolicy>(stage, full, &rules_config);
    assert_eq!(
        native_twin.unwrap(),
        twin,
        "rules: component and native disagree"
    );
    group.bench_function("canary-profile/wasm", |b| {
        b.iter(|| black_box(canary.evaluate(stage, black_box(full))))
    });
    group.bench_function("rules-twin/wasm", |b| {
        b.iter(|| black_box(rules.evaluate(stage, black_box(full))))
    });
    group.bench_function("rules-twin/native", |b| {
        b.iter(|| {
            black_box(evaluate::<shipgate_policy_rules::RulesPolicy>(
                stage,
                black_box(full),
                &rules_config,
            ))
        })
    });
    group.bench_function("rules-one/wasm", |b| {
        b.iter(|| black_box(one_rule.evaluate(stage, black_box(full))))
    });
    group.bench_function("rules-one/native", |b| {
        b.iter(|| {
            black_box(evaluate::<shipgate_policy_rules::RulesPolicy>(
                stage,
                black_box(full),
                ONE_RULE,
            ))
        })
    });
}

fn summary(names: &[&str]) {
    let Some(target) = support::target_dir() else {
        return;
    };
    println!();
    println!("summary: medians of this run (fresh store + instance per component evaluation)");
    println!(
        "  {:<12} {:>12} {:>12} {:>8}",
        "policy", "native", "component", "ratio"
    );
    let us = |ns: f64| format!("{:.2} µs", ns / 1e3);
    for name in names {
        let (Some(native), Some(wasm)) = (
            support::median_ns(&target, GROUP, &format!("{name}/native")),
            support::median_ns(&target, GROUP, &format!("{name}/wasm")),
        ) else {
            println!("  {name:<12} (no estimates under {})", target.display());
            continue;
        };
        println!(
            "  {name:<12} {:>12} {:>12} {:>7.1}x",
            us(native),
            us(wasm),
            wasm / native
        );
    }
    for name in ["rules-twin", "rules-one"] {
        if let (Some(native), Some(wasm)) = (
            support::median_ns(&target, GROUP, &format!("{name}/native")),
            support::median_ns(&target, GROUP, &format!("{name}/wasm")),
        ) {
            println!(
                "  {name:<12} {:>12} {:>12} {:>7.1}x",
                us(native),
                us(wasm),
                wasm / native
            );
        }
    }
    if let (Some(canary), Some(rules)) = (
        support::median_ns(&target, GROUP, "canary-profile/wasm"),
        support::median_ns(&target, GROUP, "rules-twin/wasm"),
    ) {
        println!(
            "  {PROFILE} canary, same snapshot and stage: built-in {} vs rules twin {} \
             (rules / built-in {:.1}x)",
            us(canary),
            us(rules),
            rules / canary
        );
    }
    for id in ["set/gate", "set/canary"] {
        if let Some(ns) = support::median_ns(&target, GROUP, id) {
            println!("  {id:<12} {:>12} {:>12}", "", us(ns));
        }
    }
}

fn main() {
    let cache = tempfile::tempdir().unwrap();
    let runtime =
        Runtime::new(&Limits::default(), &CacheMode::Dir(cache.path().to_owned())).unwrap();
    let mut c = Criterion::default().configure_from_args();
    let names = benches(&mut c, &runtime, cache.path());
    c.final_summary();
    summary(&names);
}
