//! `shipgate watch`: drive a phased canary rollout.
//!
//! For each phase of the plan the traffic hook moves the canary to the
//! phase's share; then, every interval, the host collects a snapshot,
//! records where the rollout stands in `snapshot.rollout` (phase, time in
//! phase, the plan, and every earlier interval's verdict and the rule ids
//! that fired), asks the canary-stage policies, logs the decision and
//! appends it to the history. Policies do all the counting (failed,
//! inconclusive and data-less intervals) from that history, so replaying
//! any logged interval with `shipgate eval` gives the same decision. The
//! one count the host keeps is of intervals in which a policy failed and so
//! decided nothing ([`failures`]).
//!
//! - `rollback` runs the rollback hook at once and ends (exit 3).
//! - `go` once the phase has been held for its time promotes to the next
//!   phase; after the last phase the watch ends (exit 0).
//! - `hold` (and `no-go`) keeps watching: the phase is extended until the
//!   policies promote or roll back.
//! - Before the first traffic hook, the first collection is put to the
//!   canary-stage policies ([`preflight`]): when they cannot judge the
//!   rollout (a source that does not answer, no enforced policy) the watch
//!   does not start and no traffic moves.
//! - An interval is *without data* when an enforced policy says so
//!   ([`Report::data_missing`](shipgate_engine::report::Report::data_missing)), not when the collector left a metric no
//!   policy reads empty.
//! - An enforced policy that fails (a trap, its deadline or fuel, an
//!   `Err`) holds the interval (`on_error`); the watch counts the
//!   consecutive intervals in which one failed, and at
//!   `[watch] max_failed_evaluations` (default 3) rolls back naming the
//!   policy and its failure ([`failures`]): a policy that cannot decide
//!   does not hold a rollout forever.
//! - A traffic hook that fails counts as a rollback (fail closed): the
//!   canary's share is unknown.
//! - Ctrl-C or SIGTERM stops between steps: a running hook is let finish
//!   (it is in its own process group, so the terminal's Ctrl-C does not
//!   reach it), every decided interval is logged, and the summary says where
//!   the rollout stood (exit 130 / 143).

pub mod event;
pub mod failures;
pub mod hook;
pub mod preflight;
pub mod view;

use std::time::{Duration, Instant};

use shipgate_model::{IntervalResult, Rollout, RolloutStrategy, Snapshot, Stage, Verdict};
use tokio::sync::watch as channel;

use event::{Event, Interval, PhaseStart, Start, Summary, WatchEnd};
use hook::{HookCommand, HookContext, HookKind, HookRun, HookRunner};
use shipgate_collect::{Context, DeploymentConfig, SourcesConfig};
use shipgate_core::config::watch::{Plan, PlanSource};
use shipgate_engine::decision_log::{self, Record};
use shipgate_engine::exit::ExitCode;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::report::{Report, Subject};

/// Everything a watch needs, resolved.
pub struct Watch<'a> {
    /// The policies (the canary stage is asked).
    pub policies: &'a PolicySet,
    /// The sources to collect every interval.
    pub sources: &'a SourcesConfig,
    /// What is deployed, as configured (every interval's collection).
    pub deployment: &'a DeploymentConfig,
    /// What is deployed, as first collected (for the report and the hooks).
    pub subject: Subject,
    /// The collection context for a given time.
    pub context: &'a (dyn Fn(shipgate_model::Timestamp) -> Context + Sync),
    /// The plan and where it came from.
    pub plan: (Plan, PlanSource),
    /// Time between intervals.
    pub interval: Duration,
    /// The hooks.
    pub traffic_hook: Option<HookCommand>,
    /// The rollback hook.
    pub rollback_hook: Option<HookCommand>,
    /// Runs the hooks.
    pub runner: HookRunner,
    /// Consecutive intervals with a failed enforced policy that roll back.
    pub max_failed_evaluations: shipgate_core::config::watch::FailureLimit,
    /// The decision log and the number of records already in it.
    pub log: Option<(std::path::PathBuf, usize)>,
    /// What log records name as their configuration.
    pub config_ref: decision_log::ConfigRef,
}

impl std::fmt::Debug for Watch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("plan", &self.plan)
            .field("interval", &self.interval)
            .field("traffic_hook", &self.traffic_hook)
            .field("rollback_hook", &self.rollback_hook)
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

/// Receives the events of a watch as they happen.
pub trait Observer {
    /// An event happened.
    fn event(&mut self, event: &Event);
    /// Time passed in the current phase (called a few times a second while
    /// waiting; only a live view draws it).
    fn tick(&mut self, _in_phase: Duration) {}
}

/// Which signal stopped the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    fn exit_code(self) -> ExitCode {
        match self {
            Signal::Interrupt => ExitCode::Interrupted,
            Signal::Terminate => ExitCode::Terminated,
        }
    }
}

/// Listens for Ctrl-C and SIGTERM; the receiver turns `Some` at the first.
pub fn listen_for_signals() -> channel::Receiver<Option<Signal>> {
    let (tx, rx) = channel::channel(None);
    tokio::spawn(async move {
        let signal = wait_for_signal().await;
        let _ = tx.send(Some(signal));
    });
    rx
}

#[cfg(unix)]
async fn wait_for_signal() -> Signal {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return Signal::Interrupt;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Signal::Interrupt,
        _ = term.recv() => Signal::Terminate,
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> Signal {
    let _ = tokio::signal::ctrl_c().await;
    Signal::Interrupt
}

/// The state of a watch in progress.
struct Progress<'o> {
    observer: &'o mut dyn Observer,
    started: Instant,
    phase: usize,
    percent: u8,
    history: Vec<IntervalResult>,
    intervals: Vec<Interval>,
    /// Hook runs not yet in a log record.
    unlogged_hooks: Vec<HookRun>,
    next_log_entry: Option<usize>,
}

impl Progress<'_> {
    fn emit(&mut self, event: Event) {
        self.observer.event(&event);
    }
}

/// Runs the watch to its end and returns the summary (also emitted as the
/// last event).
pub async fn run(
    watch: &Watch<'_>,
    observer: &mut dyn Observer,
    mut signals: channel::Receiver<Option<Signal>>,
) -> Summary {
    let (plan, source) = &watch.plan;
    let mut p = Progress {
        observer,
        started: Instant::now(),
        phase: 0,
        percent: 0,
        history: Vec::new(),
        intervals: Vec::new(),
        unlogged_hooks: Vec::new(),
        next_log_entry: watch.log.as_ref().map(|(_, n)| n + 1),
    };
    p.emit(Event::Start(Start {
        service: watch.subject.service.clone(),
        environment: watch.subject.environment.clone(),
        version: watch.subject.version.clone(),
        plan: plan.to_string(),
        plan_source: source.to_string(),
        percents: plan.phases().iter().map(|ph| ph.percent).collect(),
        hold_seconds: plan.phases().iter().map(|ph| ph.hold.as_secs()).collect(),
        interval_seconds: watch.interval.as_secs_f64(),
        dry_run: watch.runner.dry_run,
    }));
    let outcome = drive(watch, &mut p, &mut signals).await;
    let summary = summarise(watch, &p, outcome);
    p.emit(Event::End(summary.clone()));
    summary
}

/// How [`drive`] ended, before it is summarised.
enum Ending {
    Completed,
    Rollback { reason: String, hook: HookRun },
    Interrupted(Signal),
    LogFailed(String),
}

async fn drive(
    watch: &Watch<'_>,
    p: &mut Progress<'_>,
    signals: &mut channel::Receiver<Option<Signal>>,
) -> Ending {
    let (plan, _) = &watch.plan;
    let phases = plan.phases();
    for (index, phase) in phases.iter().enumerate() {
        let previous = p.percent;
        p.phase = index + 1;
        p.percent = phase.percent;
        p.emit(Event::Phase(PhaseStart {
            phase: index + 1,
            phases: phases.len(),
            percent: phase.percent,
            hold_seconds: phase.hold.as_secs(),
        }));
        let ctx = hook_context(watch, HookKind::Traffic, index + 1, phase.percent, previous);
        let traffic = watch.runner.run(watch.traffic_hook.as_ref(), &ctx).await;
        p.emit(Event::Hook(traffic.clone()));
        let failed = !traffic.status.succeeded();
        let reason = format!(
            "the traffic hook for phase {} ({}%) failed: {}",
            index + 1,
            phase.percent,
            traffic.status
        );
        p.unlogged_hooks.push(traffic);
        if failed {
            return rollback(watch, p, reason).await;
        }
        if let Some(signal) = *signals.borrow() {
            return Ending::Interrupted(signal);
        }

        let phase_started = Instant::now();
        let mut tick = 0u32;
        loop {
            tick += 1;
            let due = phase_started + watch.interval * tick;
            if let Err(s) = wait_until(due, phase_started, p, signals).await {
                return Ending::Interrupted(s);
            }
            let in_phase = phase_started.elapsed();
            let snapshot = tokio::select! {
                s = collect_interval(watch, p, index, in_phase) => s,
                _ = signalled(signals) => {
                    let signal = signals.borrow().unwrap_or(Signal::Interrupt);
                    return Ending::Interrupted(signal);
                }
            };
            let report = watch.policies.evaluate(Stage::Canary, &snapshot);
            if let Err(e) = log(watch, p, &snapshot, &report) {
                return Ending::LogFailed(e);
            }
            let interval = Interval::of(
                &snapshot,
                &report,
                p.intervals.len() + 1,
                phase.hold.as_secs(),
                p.next_log_entry.map(|n| n - 1),
            );
            p.history.push(report.interval_result(
                u32::try_from(index).unwrap_or(u32::MAX),
                snapshot.deployment.requested_at,
            ));
            p.intervals.push(interval.clone());
            p.emit(Event::Interval(interval));
            if report.verdict == Verdict::Rollback {
                let reason = rollback_reason(&report);
                return rollback(watch, p, reason).await;
            }
            if let Some(reason) =
                failures::limit_reached(&p.intervals, watch.max_failed_evaluations)
            {
                return rollback(watch, p, reason).await;
            }
            if report.verdict == Verdict::Go && in_phase >= phase.hold {
                break;
            }
            if let Some(signal) = *signals.borrow() {
                return Ending::Interrupted(signal);
            }
        }
    }
    Ending::Completed
}

/// Sleeps until `due`, ticking the observer; stops early on a signal.
async fn wait_until(
    due: Instant,
    phase_started: Instant,
    p: &mut Progress<'_>,
    signals: &mut channel::Receiver<Option<Signal>>,
) -> Result<(), Signal> {
    const TICK: Duration = Duration::from_millis(250);
    loop {
        if let Some(signal) = *signals.borrow() {
            return Err(signal);
        }
        let now = Instant::now();
        if now >= due {
            return Ok(());
        }
        let next = (now + TICK).min(due);
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = signalled(signals) => {}
        }
        p.observer.tick(phase_started.elapsed());
    }
}

/// Resolves once a signal has arrived.
async fn signalled(signals: &mut channel::Receiver<Option<Signal>>) {
    if signals.wait_for(Option::is_some).await.is_err() {
        // The listener is gone: no signal will come.
        std::future::pending::<()>().await;
    }
}

/// Collects one interval's snapshot and puts the rollout's state in it.
async fn collect_interval(
    watch: &Watch<'_>,
    p: &Progress<'_>,
    index: usize,
    in_phase: Duration,
) -> Snapshot {
    let ctx = (watch.context)(shipgate_collect::now());
    let mut snapshot = shipgate_collect::collect_async(watch.sources, watch.deployment, ctx)
        .await
        .snapshot;
    snapshot.rollout = Some(Rollout {
        strategy: RolloutStrategy::Canary,
        phase: u32::try_from(index).unwrap_or(u32::MAX),
        traffic_percent: p.percent,
        seconds_in_phase: u32::try_from(in_phase.as_secs()).unwrap_or(u32::MAX),
        steps: watch.plan.0.steps(),
        history: p.history.clone(),
    });
    snapshot
}

/// Appends the interval's record (with the hook runs since the last one).
fn log(
    watch: &Watch<'_>,
    p: &mut Progress<'_>,
    snapshot: &Snapshot,
    report: &Report,
) -> Result<(), String> {
    let Some((path, _)) = &watch.log else {
        return Ok(());
    };
    let mut record = Record::new("watch", snapshot, report, watch.config_ref.clone());
    record.hooks = std::mem::take(&mut p.unlogged_hooks);
    decision_log::append(path, &record).map_err(|e| e.to_string())?;
    p.next_log_entry = p.next_log_entry.map(|n| n + 1);
    Ok(())
}

/// The findings that asked for the rollback, in one line.
fn rollback_reason(report: &Report) -> String {
    let triggers: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.finding.verdict == Verdict::Rollback)
        .map(|f| format!("{}: {}", f.finding.rule, f.finding.message))
        .collect();
    if triggers.is_empty() {
        "the policies decided to roll back".into()
    } else {
        triggers.join("; ")
    }
}

async fn rollback(watch: &Watch<'_>, p: &mut Progress<'_>, reason: String) -> Ending {
    let ctx = HookContext {
        reason: Some(reason.clone()),
        ..hook_context(watch, HookKind::Rollback, p.phase, p.percent, p.percent)
    };
    let hook = watch.runner.run(watch.rollback_hook.as_ref(), &ctx).await;
    p.emit(Event::Hook(hook.clone()));
    Ending::Rollback { reason, hook }
}

fn hook_context(
    watch: &Watch<'_>,
    kind: HookKind,
    phase: usize,
    percent: u8,
    previous_percent: u8,
) -> HookContext {
    let d = &watch.subject;
    HookContext {
        kind,
        phase,
        percent,
        previous_percent,
        service: d.service.clone(),
        environment: d.environment.clone(),
        version: d.version.clone(),
        reason: None,
    }
}

fn summarise(watch: &Watch<'_>, p: &Progress<'_>, ending: Ending) -> Summary {
    let phases = watch.plan.0.phases().len();
    let (columns, table) = event::table(&p.intervals);
    let mut summary = Summary {
        outcome: WatchEnd::Completed,
        exit_code: ExitCode::Success,
        reason: String::new(),
        phase: p.phase,
        phases,
        percent: p.percent,
        intervals: p.intervals.len(),
        elapsed_seconds: p.started.elapsed().as_secs(),
        columns,
        table,
        rollback_hook: None,
        advice: None,
    };
    let rollback_line = watch.rollback_hook.as_ref().map(|h| {
        hook_context(watch, HookKind::Rollback, p.phase, p.percent, p.percent).command_line(h)
    });
    match ending {
        Ending::Completed => {
            summary.reason = format!(
                "every phase completed with its criteria met: {}% of traffic is on {}",
                p.percent, watch.subject.version
            );
        }
        Ending::Rollback { reason, hook } => {
            let ok = hook.status.succeeded();
            summary.outcome = if ok {
                WatchEnd::RolledBack
            } else {
                WatchEnd::RollbackFailed
            };
            summary.exit_code = if ok {
                ExitCode::Rollback
            } else {
                ExitCode::Error
            };
            if !ok {
                summary.advice = Some(match &rollback_line {
                    Some(line) => format!(
                        "the rollback hook failed ({}): roll back by hand: {line}",
                        hook.status
                    ),
                    None => "roll back by hand".into(),
                });
            } else if hook.status == hook::HookStatus::NotConfigured {
                summary.advice = Some("no rollback hook is configured: roll back by hand".into());
            }
            summary.reason = reason;
            summary.rollback_hook = Some(hook);
        }
        Ending::Interrupted(signal) => {
            summary.outcome = WatchEnd::Interrupted;
            summary.exit_code = signal.exit_code();
            summary.reason = format!(
                "stopped by {} in phase {} of {phases}; traffic stays at {}%",
                signal.name(),
                p.phase,
                p.percent
            );
            summary.advice = rollback_line.map(|line| format!("to roll back: {line}"));
        }
        Ending::LogFailed(e) => {
            summary.outcome = WatchEnd::Failed;
            summary.exit_code = ExitCode::Error;
            summary.reason = format!(
                "the decision log could not be written ({e}); stopped in phase {} with {}% of traffic",
                p.phase, p.percent
            );
            summary.advice = rollback_line.map(|line| format!("to roll back: {line}"));
        }
    }
    summary
}

/// The plan: `--plan`, else `[watch] plan`, else a `rollout-plan`
/// requirement from the risk stage on `snapshot` (asked only when neither
/// gives a plan), else the playbook's.
pub fn resolve_plan(
    flag: Option<Plan>,
    config: Option<&Plan>,
    policies: &PolicySet,
    snapshot: &Snapshot,
) -> (Plan, PlanSource) {
    if let Some(plan) = flag {
        return (plan, PlanSource::Flag);
    }
    if let Some(plan) = config {
        return (plan.clone(), PlanSource::Config);
    }
    let report = policies.evaluate(Stage::Risk, snapshot);
    for p in &report.policies {
        let shipgate_engine::report::PolicyOutcome::Decided(d) = &p.outcome else {
            continue;
        };
        for r in &d.requirements {
            if let shipgate_model::Requirement::RolloutPlan(steps) = r {
                match Plan::from_steps(steps) {
                    Ok(plan) => return (plan, PlanSource::RiskPolicy(p.name.clone())),
                    Err(e) => tracing::warn!(policy = %p.name, "ignoring its rollout plan: {e}"),
                }
            }
        }
    }
    (Plan::playbook(), PlanSource::Playbook)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use shipgate_core::config::Config;

    fn error(text: &str) -> String {
        Config::parse(text, Path::new("shipgate.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_watch_table_reads_and_its_mistakes_name_file_line_and_key() {
        let config = Config::parse(
            "[watch]\nplan = \"10:1m,100:2m\"\ninterval = \"5s\"\n\
             traffic_hook = [\"./w.sh\", \"{percent}\"]\nrollback_hook = \"./r.sh\"\n",
            Path::new("shipgate.toml"),
        )
        .unwrap();
        let w = &config.watch;
        assert_eq!(
            w.plan.as_ref().map(ToString::to_string).as_deref(),
            Some("10% 1m → 100% 2m")
        );
        assert_eq!(w.interval.0.as_secs(), 5);
        assert_eq!(w.hook_timeout.0.as_secs(), 300);
        assert_eq!(
            w.rollback_hook,
            Some(super::hook::HookCommand::Shell("./r.sh".into()))
        );
        assert_eq!(
            error("[watch]\nplan = \"50:1m,10:1m\"\n"),
            "shipgate.toml:2:8: key `watch.plan`: invalid plan `50:1m,10:1m`: phase 2: traffic \
             must grow from phase to phase (50% then 10%)"
        );
        assert_eq!(
            error("[watch]\ntraffic_hook = 3\n"),
            "shipgate.toml:2:16: key `watch.traffic_hook`: invalid type: integer `3`, expected \
             a command: a string for `sh -c`, or a list of program and arguments"
        );
        assert!(
            error("[watch]\ntrafic_hook = \"x\"\n").starts_with(
                "shipgate.toml:2:1: key `watch.trafic_hook`: unknown key `trafic_hook`"
            ),
        );
        assert!(error("[watch]\ninterval = \"often\"\n").contains("key `watch.interval`"));
    }
}
