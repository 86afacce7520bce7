//! Golden decisions: each example snapshot through the example policy, as
//! JSON, snapshot-tested so that any change to a decision shows as a diff.

use shipgate::render;
use shipgate_model::Stage;

use crate::support::{error_ratio, example, setup};

fn decision(name: &str) -> serde_json::Value {
    let s = setup(&error_ratio(""));
    let report = s.policies().evaluate(Stage::Canary, &example(name));
    let mut json: serde_json::Value = serde_json::from_str(&render::json(&report)).unwrap();
    // What changes with every build or run is not part of the decision.
    for p in json["policies"].as_array_mut().unwrap() {
        p["sha256"] = "[sha256]".into();
        p["fuel"] = "[fuel]".into();
        p["micros"] = "[micros]".into();
    }
    json
}

#[test]
fn canary_error_spike() {
    insta::assert_json_snapshot!(decision("canary-error-spike"));
}

#[test]
fn canary_healthy() {
    insta::assert_json_snapshot!(decision("canary-healthy"));
}

#[test]
fn canary_prometheus_down() {
    insta::assert_json_snapshot!(decision("canary-prometheus-down"));
}

#[test]
fn native_and_wasm_agree_on_every_example() {
    use error_ratio_policy::ErrorRatio;
    let s = setup(&error_ratio(""));
    let policies = s.policies();
    for name in [
        "canary-error-spike",
        "canary-healthy",
        "canary-prometheus-down",
    ] {
        let snapshot = example(name);
        let native =
            shipgate_sdk::testing::evaluate::<ErrorRatio>(Stage::Canary, &snapshot, "{}").unwrap();
        let report = policies.evaluate(Stage::Canary, &snapshot);
        let shipgate_engine::report::PolicyOutcome::Decided(wasm) = &report.policies[0].outcome
        else {
            panic!("{name}: {:?}", report.policies[0].outcome)
        };
        assert_eq!(&native, wasm, "{name}");
    }
}
