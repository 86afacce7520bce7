//! One evaluation's sandbox: a fresh store with a fuel budget, an epoch
//! deadline and a memory cap, and the classification of what went wrong.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Engine, ResourceLimiter, Store, Trap};

use crate::report::{Failure, FailureKind};

/// How often the epoch advances: the resolution of deadlines.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// The per-store state: the memory limiter.
#[derive(Debug)]
pub(crate) struct State {
    limiter: Limiter,
}

/// Caps linear memory and table growth, and remembers a refusal so that the
/// trap that usually follows (a Rust guest aborts on allocation failure) is
/// reported as a memory failure.
#[derive(Debug)]
struct Limiter {
    max_memory: usize,
    max_table_elements: usize,
    refused: Option<(usize, usize)>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.refused = Some((current, desired));
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table_elements)
    }

    fn instances(&self) -> usize {
        // A component made by wit-component holds a few core instances.
        16
    }
}

/// The budget of one evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub fuel: u64,
    pub deadline: Duration,
    pub max_memory: usize,
    /// The largest decision, in bytes of text, a policy may return.
    pub max_output_bytes: u64,
    /// The most findings a policy may return.
    pub max_findings: u32,
}

impl Budget {
    /// Bytes the host may copy out of the guest in one call (wasmtime's
    /// "hostcall fuel"): a result larger than this is refused while it is
    /// being lifted, before the host allocates it. Lifting costs a little
    /// more than the text itself (list and record layout), so this allows
    /// twice the cap; the exact size is checked after lifting.
    pub fn max_lifted_bytes(self) -> usize {
        usize::try_from(self.max_output_bytes.saturating_mul(2)).unwrap_or(usize::MAX)
    }
}

/// A fresh store with the budget applied.
pub(crate) fn new_store(engine: &Engine, budget: Budget) -> Result<Store<State>, Failure> {
    let mut store = Store::new(
        engine,
        State {
            limiter: Limiter {
                max_memory: budget.max_memory,
                max_table_elements: 100_000,
                refused: None,
            },
        },
    );
    store.limiter(|s| &mut s.limiter);
    store.set_hostcall_fuel(budget.max_lifted_bytes());
    store.set_fuel(budget.fuel).map_err(|e| Failure {
        kind: FailureKind::Load,
        message: format!("cannot set fuel: {e}"),
    })?;
    let ticks = budget.deadline.as_millis() / EPOCH_TICK.as_millis().max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1));
    store.epoch_deadline_trap();
    Ok(store)
}

/// Fuel used so far in a store.
pub(crate) fn fuel_used(store: &Store<State>, budget: Budget) -> u64 {
    budget.fuel.saturating_sub(store.get_fuel().unwrap_or(0))
}

/// What a failed call into a policy amounts to.
pub(crate) fn classify(err: &wasmtime::Error, store: &Store<State>, budget: Budget) -> Failure {
    let refused = store.data().limiter.refused;
    let (kind, message) = match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => (
            FailureKind::Fuel,
            format!("used all of its fuel ({})", budget.fuel),
        ),
        Some(Trap::Interrupt) => (
            FailureKind::Deadline,
            format!(
                "ran past its deadline of {} ms",
                budget.deadline.as_millis()
            ),
        ),
        Some(Trap::StackOverflow) => (
            FailureKind::StackOverflow,
            "overflowed the WebAssembly stack".to_owned(),
        ),
        _ if refused.is_some() => {
            let (current, desired) = refused.unwrap_or_default();
            (
                FailureKind::Memory,
                format!(
                    "tried to grow its memory from {} to {} (cap {})",
                    mib(current),
                    mib(desired),
                    mib(budget.max_memory)
                ),
            )
        }
        Some(trap) => (FailureKind::Trap, format!("trapped: {trap}")),
        // wasmtime's error type for this is private; its text is stable.
        None if format!("{err}").contains("too much data is being copied") => (
            FailureKind::OutputTooLarge,
            format!(
                "returned more than {} bytes (refused while copying it out)",
                budget.max_lifted_bytes()
            ),
        ),
        None => (FailureKind::Trap, first_line(&format!("{err:#}"))),
    };
    Failure { kind, message }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`] while the
/// runtime lives.
#[derive(Debug)]
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine) -> std::io::Result<EpochTicker> {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.weak();
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("shipgate-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(EpochTicker {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
