//! The hostile-policy suite: real components that loop, allocate, recurse,
//! panic, flood and import WASI. Each is contained with its kind reported,
//! the host stays up, and the verdict is fail-closed.

use std::time::Instant;

use shipgate_engine::report::{FailureKind, PolicyOutcome, Report};
use shipgate_model::{Stage, Verdict};

use crate::support::{example, hostile, setup};

const LIMITS: &str = "[limits]\nfuel = 100_000_000_000\ndeadline_ms = 200\nmemory_mib = 64\n";

fn failure(report: &Report, name: &str) -> (FailureKind, String) {
    let p = report.policies.iter().find(|p| p.name == name).unwrap();
    match &p.outcome {
        PolicyOutcome::Failed(f) => (f.kind, f.message.clone()),
        other => panic!("policy `{name}` did not fail: {other:?}"),
    }
}

/// Evaluates one hostile mode at the gate and checks it failed closed with
/// `kind`, next to a well-behaved policy that still decides.
fn contained(mode: &str, extra_limits: &str, kind: FailureKind) -> (Report, String) {
    let toml = format!(
        "{LIMITS}{extra_limits}\n{}\n{}",
        hostile("bad", mode, ""),
        hostile("good", "behave", "")
    );
    let s = setup(&toml);
    let policies = s.policies();
    let report = policies.evaluate(Stage::Gate, &example("canary-healthy"));
    let (got, message) = failure(&report, "bad");
    assert_eq!(got, kind, "mode `{mode}`: {message}");
    assert_eq!(report.verdict, Verdict::NoGo, "fail-closed at the gate");
    let good = report.policies.iter().find(|p| p.name == "good").unwrap();
    assert_eq!(
        good.verdict,
        Some(Verdict::Go),
        "the other policy still decides"
    );
    // The host stays up: the same set evaluates again, with the same result.
    let again = policies.evaluate(Stage::Gate, &example("canary-healthy"));
    assert_eq!(failure(&again, "bad").0, kind);
    (report, message)
}

#[test]
fn infinite_loop_is_stopped_by_the_deadline() {
    let start = Instant::now();
    let (report, message) = contained("loop", "", FailureKind::Deadline);
    assert!(message.contains("200 ms"), "{message}");
    let bad = report.policies.iter().find(|p| p.name == "bad").unwrap();
    // The deadline is 200 ms; allow generous slack for a loaded machine, but
    // it must be stopped, not run on.
    assert!(
        bad.usage.micros < 5_000_000,
        "ran for {} µs",
        bad.usage.micros
    );
    assert!(start.elapsed().as_secs() < 30);
}

#[test]
fn infinite_loop_runs_out_of_fuel_deterministically() {
    let toml = format!(
        "[limits]\nfuel = 5_000_000\ndeadline_ms = 60_000\n{}",
        hostile("bad", "loop", "")
    );
    let s = setup(&toml);
    let policies = s.policies();
    let report = policies.evaluate(Stage::Gate, &example("canary-healthy"));
    assert_eq!(failure(&report, "bad").0, FailureKind::Fuel);
    let used = report.policies[0].usage.fuel;
    assert!(used >= 5_000_000, "used {used}");
}

#[test]
fn a_gibibyte_allocation_hits_the_memory_cap() {
    let (_, message) = contained("alloc", "", FailureKind::Memory);
    assert!(message.contains("cap 64.0 MiB"), "{message}");
}

#[test]
fn unbounded_recursion_overflows_the_stack() {
    contained("recurse", "", FailureKind::StackOverflow);
}

#[test]
fn unbounded_recursion_with_large_frames_overflows_the_shadow_stack() {
    // A Rust guest keeps large frames on a stack in its own linear memory;
    // running off its end is an out-of-bounds access, contained as a trap.
    let (_, message) = contained("deep-frames", "", FailureKind::Trap);
    assert!(message.contains("out of bounds memory access"), "{message}");
}

#[test]
fn a_panic_is_a_trap() {
    let (_, message) = contained("panic", "", FailureKind::Trap);
    assert!(message.contains("unreachable"), "{message}");
}

#[test]
fn a_million_findings_exceed_the_output_cap() {
    // With room in guest memory, the million findings reach the host and are
    // refused by the output cap.
    let toml = format!(
        "[limits]\nfuel = 100_000_000_000\ndeadline_ms = 30_000\nmemory_mib = 1024\n{}",
        hostile("bad", "flood", "")
    );
    let s = setup(&toml);
    let report = s
        .policies()
        .evaluate(Stage::Gate, &example("canary-healthy"));
    let (kind, message) = failure(&report, "bad");
    assert_eq!(kind, FailureKind::OutputTooLarge, "{message}");
    // Refused while being copied out, before the host allocated it.
    assert!(
        message.contains("refused while copying it out"),
        "{message}"
    );
    assert_eq!(report.verdict, Verdict::NoGo);
}

#[test]
fn a_million_findings_in_a_small_sandbox_hit_the_memory_cap_first() {
    contained("flood", "", FailureKind::Memory);
}

#[test]
fn more_findings_than_the_cap_are_refused() {
    let toml = format!(
        "[limits]\nmax_findings = 10\n[[policies]]\nname = \"bad\"\nsource = {:?}\n[policies.config]\nmode = \"flood\"\ncount = 11\n",
        shipgate_tests::guests::HOSTILE
    );
    let s = setup(&toml);
    let report = s
        .policies()
        .evaluate(Stage::Gate, &example("canary-healthy"));
    assert_eq!(failure(&report, "bad").0, FailureKind::OutputTooLarge);
}

#[test]
fn a_wasi_import_is_refused_at_load_naming_the_import() {
    let toml = format!(
        "[[policies]]\nname = \"bad\"\nsource = {:?}\n\n{}",
        shipgate_tests::guests::WASI_IMPORTER,
        hostile("good", "behave", "")
    );
    let s = setup(&toml);
    let policies = s.policies();
    for (stage, verdict) in [(Stage::Gate, Verdict::NoGo), (Stage::Canary, Verdict::Hold)] {
        let report = policies.evaluate(stage, &example("canary-healthy"));
        let (kind, message) = failure(&report, "bad");
        assert_eq!(kind, FailureKind::Load);
        assert!(
            message.contains("`wasi:cli/environment@0.2.0`"),
            "{message}"
        );
        assert_eq!(report.verdict, verdict);
    }
}

#[test]
fn an_error_from_the_policy_and_an_inconsistent_decision_fail_closed() {
    contained("fail", "", FailureKind::PolicyError);
    let (_, message) = contained("lie", "", FailureKind::InvalidDecision);
    assert!(message.contains("hostile.lie"), "{message}");
}

#[test]
fn fail_closed_holds_a_canary_and_fail_open_lets_it_go() {
    let toml = format!(
        "{LIMITS}\n{}\n{}",
        hostile("closed", "panic", "stages = [\"canary\"]"),
        hostile("open", "panic", "on_error = \"fail-open\"")
    );
    let s = setup(&toml);
    let policies = s.policies();
    let report = policies.evaluate(Stage::Canary, &example("canary-healthy"));
    assert_eq!(report.verdict, Verdict::Hold);
    let open = report.policies.iter().find(|p| p.name == "open").unwrap();
    assert_eq!(open.verdict, Some(Verdict::Go));
    assert!(
        matches!(open.outcome, PolicyOutcome::Failed(_)),
        "reported either way"
    );
    // Only fail-open left at the gate (the other answers canary only).
    let report = policies.evaluate(Stage::Gate, &example("canary-healthy"));
    assert_eq!(report.verdict, Verdict::Go);
    assert_eq!(report.policies[0].status(), "skipped");
}

#[test]
fn an_advisory_failure_is_reported_but_does_not_count() {
    // Next to an enforced policy that lets it through (alone, an advisory
    // policy decides nothing: see `failclosed.rs`).
    let toml = format!(
        "{LIMITS}\n{}\n{}",
        hostile("adv", "panic", "mode = \"advisory\""),
        hostile("ok", "behave", "")
    );
    let s = setup(&toml);
    let report = s
        .policies()
        .evaluate(Stage::Gate, &example("canary-healthy"));
    assert_eq!(report.verdict, Verdict::Go);
    assert!(!report.policies[0].counted);
    assert_eq!(report.policies[0].status(), "failed");
}
