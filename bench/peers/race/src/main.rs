//! The peer race: one canary rule, decided by Shipgate (a sandboxed
//! component), Cedar, CEL, Rego and native Rust, in one process, back to
//! back, on the same 20-metric input.
//!
//! ```sh
//! cargo run --release --manifest-path bench/peers/Cargo.toml            # check, then time
//! cargo run --release --manifest-path bench/peers/Cargo.toml -- --check # only the check
//! ```
//!
//! # The rule
//!
//! The core of the built-in `canary` policy (`policies/canary`, playbook
//! 001's "error rate > 2%" and 003's "p95 > 2x baseline"), plus the `env`
//! policy's missing required names:
//!
//! - **rollback** when the canary's `error_rate` is above 2% (`0.02`) or
//!   above 2x the baseline's;
//! - **hold** when the canary's `latency_p95` is above 2x the baseline's;
//! - **no-go** when a required environment variable is absent from the
//!   target;
//! - **go** otherwise. The strictest verdict wins (`go < hold < no-go <
//!   rollback`); exactly at a limit passes.
//!
//! Written once per engine: native Rust (`engines/native.rs`), the Shipgate
//! policy with the guest SDK (`bench/peers/policy`), Shipgate's `rules`
//! policy in CEL over the snapshot (`engines/shipgate.rs`), Cedar
//! (`engines/cedar.rs`, values in millionths: Cedar has no floats), CEL
//! (`engines/cel.rs`) and Rego (`engines/rego.rs`).
//!
//! # The input
//!
//! 20 metrics (baseline and canary), 8 required variable names and 12 names
//! present in the target (`input.rs`), converted to each engine's native
//! value before anything is timed. The timed input is the healthy canary
//! (`go`), on which every engine evaluates every condition.
//!
//! # What happens
//!
//! 1. Every engine decides every case of `input::cases()` (go, hold, no-go,
//!    rollback, the limits, combinations); the run stops with exit code 1,
//!    listing the disagreements, unless every engine gives every expected
//!    verdict.
//! 2. The timed input is raced (`timing.rs`: warm-up, then interleaved
//!    batches, median per engine) and a table of medians and ratios to Cedar
//!    is printed.

mod engines;
mod input;
mod timing;

use std::process::ExitCode;
use std::time::Duration;

use engines::Engine;
use input::Input;
use timing::{Plan, Stats};

/// The row every ratio is taken against.
const YARDSTICK: &str = "Cedar (cedar-policy)";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What the command line asks.
struct Args {
    check_only: bool,
    plan: Plan,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        check_only: false,
        plan: Plan {
            warmup: Duration::from_millis(300),
            batch: Duration::from_millis(2),
            rounds: 201,
        },
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--check" => args.check_only = true,
            "--rounds" => {
                let n = it.next().unwrap_or_default();
                args.plan.rounds = n.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    anyhow::anyhow!("`--rounds` takes a positive number, got `{n}`")
                })?;
            }
            other => anyhow::bail!("unknown argument `{other}` (expected `--check`, `--rounds N`)"),
        }
    }
    Ok(args)
}

fn run() -> anyhow::Result<ExitCode> {
    let args = args()?;
    println!("peer race: one canary rule, 20 metrics, one process, back to back");
    println!("  date        {}", utc_date());
    println!("  machine     {}", machine());
    println!("  versions    {}", env!("PEER_VERSIONS"));
    let engines = engines::all()?;

    let cases = input::cases();
    let disagreements = check(&engines, &cases);
    if !disagreements.is_empty() {
        eprintln!("error: the engines do not agree; nothing was timed:");
        for d in &disagreements {
            eprintln!("  {d}");
        }
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "  check       {} engines agree on {} cases: {}",
        engines.len(),
        cases.len(),
        cases
            .iter()
            .map(|c| format!("{} ({})", c.name, c.expected))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if args.check_only {
        return Ok(ExitCode::SUCCESS);
    }

    let timed = input::timed();
    let mut decides = engines
        .iter()
        .map(|e| e.prepare(&timed))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let plan = &args.plan;
    println!(
        "  timing      median of {} interleaved samples per engine, each a batch of ~{} ms, after {} ms of warm-up; input `{}`",
        plan.rounds,
        plan.batch.as_millis(),
        plan.warmup.as_millis(),
        timed.name
    );
    let stats = timing::race(&mut decides, plan)?;
    println!();
    table(&engines, &stats);
    Ok(ExitCode::SUCCESS)
}

/// Every engine on every case: the disagreements with the expected
/// verdicts (and any error), as lines.
fn check(engines: &[Box<dyn Engine>], cases: &[Input]) -> Vec<String> {
    let mut out = Vec::new();
    for case in cases {
        for engine in engines {
            let got = engine.prepare(case).and_then(|mut decide| decide());
            match got {
                Ok(v) if v == case.expected => {}
                Ok(v) => out.push(format!(
                    "{}: `{}` decided {v}, expected {}",
                    engine.name(),
                    case.name,
                    case.expected
                )),
                Err(e) => out.push(format!("{}: `{}` failed: {e:#}", engine.name(), case.name)),
            }
        }
    }
    out
}

fn table(engines: &[Box<dyn Engine>], stats: &[Stats]) {
    let cedar = engines
        .iter()
        .zip(stats)
        .find(|(e, _)| e.name() == YARDSTICK)
        .map(|(_, s)| s.median);
    let width = engines
        .iter()
        .map(|e| e.name().chars().count())
        .max()
        .unwrap_or(0);
    println!(
        "  {:<width$} {:>11} {:>25} {:>8}",
        "engine", "median", "p10 – p90", "× Cedar"
    );
    for (engine, s) in engines.iter().zip(stats) {
        let ratio = cedar.map_or_else(
            || "-".to_owned(),
            |c| match s.median / c {
                r if r < 0.1 => format!("{r:.3}"),
                r => format!("{r:.2}"),
            },
        );
        println!(
            "  {:<width$} {:>11} {:>25} {:>8}",
            engine.name(),
            micros(s.median),
            format!("{} – {}", micros(s.p10), micros(s.p90)),
            ratio
        );
    }
}

/// Nanoseconds as microseconds.
fn micros(ns: f64) -> String {
    if ns < 1000.0 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{:.2} µs", ns / 1e3)
    }
}

/// Processors, CPU model and load average (other work on the machine
/// skews the numbers).
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{cpus} CPUs, {model}, load average {load}")
}

/// Today's date in UTC, `YYYY-MM-DD` (Howard Hinnant's civil-from-days).
fn utc_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_engine::model::Verdict;

    /// An engine that always answers `go`.
    struct AlwaysGo;

    impl Engine for AlwaysGo {
        fn name(&self) -> &'static str {
            "always go"
        }

        fn prepare<'a>(&'a self, _: &Input) -> anyhow::Result<engines::Decide<'a>> {
            Ok(Box::new(|| Ok(Verdict::Go)))
        }
    }

    #[test]
    fn every_engine_gives_every_expected_verdict() {
        let engines = engines::all().unwrap();
        assert_eq!(check(&engines, &input::cases()), Vec::<String>::new());
    }

    #[test]
    fn an_engine_that_disagrees_is_named_with_the_case() {
        let cases = input::cases();
        let found = check(&[Box::new(AlwaysGo) as Box<dyn Engine>], &cases);
        let not_go = cases.iter().filter(|c| c.expected != Verdict::Go).count();
        assert_eq!(found.len(), not_go, "{found:#?}");
        assert!(
            found.contains(&"always go: `p95-above-2x` decided go, expected hold".to_owned()),
            "{found:#?}"
        );
    }

    #[test]
    fn the_cases_cover_every_verdict() {
        let cases = input::cases();
        for v in [Verdict::Go, Verdict::Hold, Verdict::NoGo, Verdict::Rollback] {
            assert!(cases.iter().any(|c| c.expected == v), "no case expects {v}");
        }
        assert!(cases.iter().all(|c| c.metrics.len() == 20));
    }

    #[test]
    fn utc_date_is_a_date() {
        let d = utc_date();
        assert_eq!(d.len(), 10, "{d}");
        assert!(d.starts_with("20"), "{d}");
    }
}
