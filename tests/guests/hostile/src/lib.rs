//! A test guest that misbehaves the way its config asks. Never use it
//! outside the hostile-policy tests.
#![allow(clippy::panic, clippy::empty_loop)]

use serde::Deserialize;
use shipgate_sdk::prelude::*;

/// What to do in `evaluate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Answer `go` politely.
    Behave,
    /// Loop forever.
    Loop,
    /// Allocate and touch `bytes` bytes (1 GiB by default).
    Alloc,
    /// Recurse without bound on the WebAssembly value stack.
    Recurse,
    /// Recurse without bound with large frames on the guest's own shadow
    /// stack in linear memory.
    DeepFrames,
    /// Panic.
    Panic,
    /// Return `count` findings (a million by default).
    Flood,
    /// Return `Err`.
    Fail,
    /// Return a finding stricter than the verdict it reports.
    Lie,
    /// Count `configure` and `evaluate` calls in globals: a fresh instance
    /// per evaluation, configured once (by itself or in the pre-initialised
    /// snapshot it starts from), always says `configured 1, evaluated 1`.
    Count,
    /// Return a `no-go` finding whose rule id, message and evidence try to
    /// drive a terminal: a newline that would start a forged `go` row, ANSI
    /// escapes that erase the line and print a green `GO`.
    Forge,
    /// Read a section it does not declare (it declares only `rollout`):
    /// `no-go` when the snapshot's CI results are there, `go` when not.
    /// Given only what it declares, it never sees them.
    Snoop,
}

/// What [`Mode::Forge`] writes after a newline in its rule id.
pub const FORGED_ROW: &str = "    go     hostile.forged  all checks passed";

static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static CONFIGURED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What to do.
    pub mode: Mode,
    /// Bytes for `alloc`.
    #[serde(default = "one_gib")]
    pub bytes: usize,
    /// Findings for `flood`.
    #[serde(default = "a_million")]
    pub count: usize,
    /// Behave until traffic moves: answer `go` without a rollout or at 0%
    /// of traffic (a watch's look before the first traffic hook), and
    /// misbehave in every interval of the rollout.
    #[serde(default)]
    pub once_traffic_moves: bool,
}

fn one_gib() -> usize {
    1 << 30
}

fn a_million() -> usize {
    1_000_000
}

/// The policy.
#[derive(Debug)]
pub struct Hostile;

impl Policy for Hostile {
    type Config = Config;

    fn info() -> Info {
        Info::new("hostile", "misbehaves on purpose")
            .stages(&[Stage::Gate, Stage::Canary])
            .reads(&[Section::Rollout])
    }

    fn check_config(_config: &Config) -> Result<(), ConfigError> {
        CONFIGURED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    fn evaluate(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        let traffic = snapshot.rollout.as_ref().map_or(0, |r| r.traffic_percent);
        if config.once_traffic_moves && traffic == 0 {
            return Ok(Decision::go());
        }
        match config.mode {
            Mode::Behave => Ok(Decision::go()),
            Mode::Loop => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            Mode::Alloc => {
                let mut v = vec![0u8; config.bytes];
                for i in (0..v.len()).step_by(65536) {
                    v[i] = 1;
                }
                Ok(Decision::go()
                    .with_finding(Finding::pass("hostile.alloc", format!("{}", v.len()))))
            }
            Mode::Recurse => Ok(Decision::go().with_finding(Finding::pass(
                "hostile.recurse",
                descend(snapshot.metrics.len() as u64 + config.count as u64).to_string(),
            ))),
            Mode::DeepFrames => Ok(Decision::go().with_finding(Finding::pass(
                "hostile.deep-frames",
                recurse(std::hint::black_box(snapshot.metrics.len() as u64 + 1)).to_string(),
            ))),
            Mode::Panic => panic!("hostile policy panics on purpose"),
            Mode::Flood => Ok(Decision::from_findings(
                (0..config.count)
                    .map(|i| Finding::pass(format!("hostile.flood.{i}"), "one of very many"))
                    .collect(),
            )),
            Mode::Fail => Err("hostile policy refuses to decide".into()),
            Mode::Snoop => Ok(match &snapshot.ci {
                Some(_) => Decision::from_findings(vec![Finding::no_go(
                    "hostile.snoop",
                    "read the CI results it did not declare",
                )]),
                None => Decision::go(),
            }),
            Mode::Count => {
                let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                let configured = CONFIGURED.load(std::sync::atomic::Ordering::Relaxed);
                Ok(Decision::go().with_finding(Finding::pass(
                    "hostile.count",
                    format!("configured {configured}, evaluated {n}"),
                )))
            }
            Mode::Forge => Ok(Decision::from_findings(vec![
                Finding::no_go(
                    format!("hostile.forge\n{FORGED_ROW}"),
                    "\x1b[2K\r\x1b[1;32mGO\x1b[0m  clear to deploy",
                )
                .evidence("\x1b[8mhidden\x1b[0m", "\u{202e}reversed"),
            ])),
            Mode::Lie => {
                let mut d = Decision::go();
                d.findings.push(Finding::rollback(
                    "hostile.lie",
                    "stricter than the verdict",
                ));
                Ok(d)
            }
        }
    }
}

/// Recursion that keeps everything in wasm locals: it overflows the
/// engine's stack, not the guest's shadow stack.
#[inline(never)]
fn descend(n: u64) -> u64 {
    if n == 0 {
        return 1;
    }
    // Not associative-commutative, so LLVM cannot turn it into a loop.
    descend(n.wrapping_add(1)).wrapping_sub(n.rotate_left(7))
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let mut pad = [0u64; 64];
    pad[(n % 64) as usize] = n;
    std::hint::black_box(&mut pad);
    recurse(n.wrapping_add(1)).wrapping_add(pad[(n % 64) as usize])
}

shipgate_sdk::export_policy!(Hostile);
