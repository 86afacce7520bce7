//! Throughput in-process: evaluations per second of the default `canary`
//! policy (`builtin:canary` with the default configuration's settings) on
//! `examples/snapshots/canary-healthy.json`, on 1 and 2 threads sharing one
//! [`ConfiguredPolicy`]: what a decision service embedding the engine can
//! reach. Measured twice: the policy pre-initialised
//! ([`Runtime::preinitialise`]: every evaluation starts from the snapshot of
//! its configured memory) and configured in every evaluation's instance
//! (what a policy wizer cannot snapshot, or a one-shot `shipgate eval`,
//! does).
//!
//! Each evaluation is what such a service does per request:
//! [`ConfiguredPolicy::evaluate`], which converts the sections the policy
//! reads to the component model's form and asks the policy in a fresh
//! sandbox (a pool slot, a store, an instance, all dropped afterwards).
//! Every answer is checked (`go`).
//!
//! A window: the threads start together, evaluate until told to stop, and
//! the evaluations they finished are divided by the time until the last
//! one returned. Five windows per thread count; the median, min and max are
//! printed. Without `--bench` (`cargo test --benches`) one short window per
//! thread count checks that it runs.
//!
//! Run with `cargo bench -p shipgate --bench throughput`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shipgate_core::config::{Config, Limits, PolicySource};
use shipgate_engine::runtime::{CacheMode, ConfiguredPolicy, Runtime};
use shipgate_model::{Snapshot, Stage, Verdict};

/// The snapshot every evaluation decides.
const SNAPSHOT: &str = "canary-healthy";

/// The thread counts measured.
const THREADS: [usize; 2] = [1, 2];

/// How long and how often to measure.
struct Plan {
    warmup: Duration,
    window: Duration,
    windows: usize,
}

/// One question, the policy that answers it and the answer it must give.
struct Workload {
    policy: ConfiguredPolicy,
    snapshot: Snapshot,
}

impl Workload {
    fn evaluate(&self) {
        let (decision, _) = self.policy.evaluate(Stage::Canary, &self.snapshot);
        let verdict = decision.unwrap().verdict;
        assert_eq!(
            verdict,
            Verdict::Go,
            "{SNAPSHOT}: the canary policy changed its mind"
        );
    }
}

/// Evaluations per second on `threads` threads during one window.
fn window(work: &Workload, threads: usize, length: Duration) -> f64 {
    let stop = AtomicBool::new(false);
    let start_line = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start_line.wait();
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        work.evaluate();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        std::thread::sleep(length);
        stop.store(true, Ordering::Relaxed);
        let done: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        done as f64 / start.elapsed().as_secs_f64()
    })
}

/// The `canary` policy's settings in the default configuration, as JSON.
fn default_canary_config() -> String {
    let config =
        Config::from_default_toml(shipgate_engine::builtin::DEFAULT_CONFIG, "default").unwrap();
    let canary = config
        .policies
        .iter()
        .find(|p| matches!(&p.source, PolicySource::Builtin(name) if name == "canary"))
        .expect("the default configuration has the built-in canary policy");
    canary.config.to_string()
}

/// Processors, CPU model and load average: other work on the machine
/// lowers the numbers, and a second thread helps only with a free core.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cpus} CPUs, {model}, load average {}", load.join(" "))
}

fn main() {
    let plan = if std::env::args().any(|a| a == "--bench") {
        Plan {
            warmup: Duration::from_millis(500),
            window: Duration::from_secs(2),
            windows: 5,
        }
    } else {
        Plan {
            warmup: Duration::ZERO,
            window: Duration::from_millis(50),
            windows: 1,
        }
    };
    let runtime = Runtime::new(&Limits::default(), &CacheMode::Disabled).unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/snapshots")
        .join(format!("{SNAPSHOT}.json"));
    let loaded = runtime
        .load(shipgate_engine::builtin::get("canary").unwrap())
        .unwrap();
    let snapshot: Snapshot = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let configure = || {
        runtime
            .configure(&loaded, &default_canary_config())
            .unwrap()
            .unwrap()
    };
    let mut preinitialised = configure();
    runtime.preinitialise(&mut preinitialised).unwrap();
    // A cache-less runtime never hands `configure` a cached snapshot, so
    // this one configures in every evaluation.
    let per_evaluation = configure();
    assert!(preinitialised.is_preinitialised());
    assert!(!per_evaluation.is_preinitialised());
    let variants = [
        ("pre-initialised", preinitialised),
        ("configured per evaluation", per_evaluation),
    ];

    println!(
        "throughput: builtin:canary (default settings) on {SNAPSHOT}.json, one policy shared by the threads"
    );
    println!("  machine  {}", machine());
    println!(
        "  {:<26} {:>7} {:>14} {:>23} {:>16} {:>9}",
        "policy", "threads", "evals/s", "min – max", "µs/eval/thread", "scaling"
    );
    for (label, policy) in variants {
        let work = Workload {
            policy,
            snapshot: snapshot.clone(),
        };
        work.evaluate();
        window(&work, 1, plan.warmup);
        let mut single = None;
        for threads in THREADS {
            let mut rates: Vec<f64> = (0..plan.windows)
                .map(|_| window(&work, threads, plan.window))
                .collect();
            rates.sort_by(f64::total_cmp);
            let median = rates[rates.len() / 2];
            let single = *single.get_or_insert(median);
            println!(
                "  {label:<26} {threads:>7} {median:>14.0} {:>23} {:>16.1} {:>8.2}x",
                format!("{:.0} – {:.0}", rates[0], rates[rates.len() - 1]),
                threads as f64 * 1e6 / median,
                median / single
            );
        }
    }
}
