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
//! - After the last phase, when an enforced policy answers the verify stage,
//!   the watch asks it every interval without moving traffic (the *verify
//!   step*, numbered one past the plan's phases): `go` once
//!   `[watch] verify_window` has passed completes the watch, `rollback`
//!   rolls back, and a verify still holding `[watch] verify_timeout` past its
//!   window ends the watch *unverified* (exit 4): traffic stays, a person
//!   decides. A plan of a single phase at 100% (a deploy without a canary:
//!   `--plan 100:15m`) has no baseline to compare against, so its intervals
//!   ask the verify stage instead of the canary stage, and it has no step
//!   after. Verify intervals carry no `rollout` in their snapshot, so
//!   `shipgate eval --from-log` replays them as verify.
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

use event::{Event, Interval, PhaseStart, Place, Start, Summary, VerifyPlan, WatchEnd};
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
    /// `[watch] verify_window`: how long the verify step lasts at least.
    pub verify_window: Duration,
    /// `[watch] verify_timeout`: how long past its window a holding verify
    /// step is asked again.
    pub verify_timeout: Duration,
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

/// One step of a watch: a phase of the plan, or the verify step after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The share of traffic.
    pub percent: u8,
    /// How long it lasts at least (it ends at the first `go` after that).
    pub hold: Duration,
    /// The question its intervals ask.
    pub stage: Stage,
    /// Whether the traffic hook runs when it starts (not for the verify
    /// step after the last phase, which keeps the traffic where it is).
    pub moves_traffic: bool,
    /// How long past its hold a verify that still holds is asked again;
    /// none for a canary phase (it is extended until the policies decide).
    pub timeout: Option<Duration>,
}

impl Watch<'_> {
    /// When the verify stage is asked: never when no enforced policy answers
    /// it, in every interval of a plan that is a single phase at 100%, else
    /// in a step after the last phase.
    pub fn verify_plan(&self) -> VerifyPlan {
        verify_plan(self.policies, &self.plan.0)
    }

    /// The steps: the plan's phases, then the verify step if any.
    pub fn steps(&self) -> Vec<Step> {
        let verify = self.verify_plan();
        let mut steps: Vec<Step> = self
            .plan
            .0
            .phases()
            .iter()
            .map(|ph| Step {
                percent: ph.percent,
                hold: ph.hold,
                stage: if verify == VerifyPlan::EveryInterval {
                    Stage::Verify
                } else {
                    Stage::Canary
                },
                moves_traffic: true,
                timeout: (verify == VerifyPlan::EveryInterval).then_some(self.verify_timeout),
            })
            .collect();
        if verify == VerifyPlan::AfterLastPhase {
            let percent = steps.last().map_or(100, |s| s.percent);
            steps.push(Step {
                percent,
                hold: self.verify_window,
                stage: Stage::Verify,
                moves_traffic: false,
                timeout: Some(self.verify_timeout),
            });
        }
        steps
    }
}

/// When a watch of `plan` under `policies` asks the verify stage.
pub fn verify_plan(policies: &PolicySet, plan: &Plan) -> VerifyPlan {
    if !policies.decides(Stage::Verify) {
        VerifyPlan::None
    } else if matches!(plan.phases(), [only] if only.percent == 100) {
        VerifyPlan::EveryInterval
    } else {
        VerifyPlan::AfterLastPhase
    }
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
        verify: watch.verify_plan(),
    }));
    let outcome = drive(watch, &mut p, &mut signals).await;
    let summary = summarise(watch, &p, outcome);
    p.emit(Event::End(summary.clone()));
    summary
}

/// How [`drive`] ended, before it is summarised.
enum Ending {
    Completed,
    Unverified(String),
    Rollback { reason: String, hook: HookRun },
    Interrupted(Signal),
    LogFailed(String),
}

async fn drive(
    watch: &Watch<'_>,
    p: &mut Progress<'_>,
    signals: &mut channel::Receiver<Option<Signal>>,
) -> Ending {
    let phases = watch.plan.0.phases().len();
    for (index, step) in watch.steps().into_iter().enumerate() {
        let previous = p.percent;
        p.phase = index + 1;
        p.percent = step.percent;
        p.emit(Event::Phase(PhaseStart {
            phase: index + 1,
            stage: step.stage,
            phases,
            percent: step.percent,
            hold_seconds: step.hold.as_secs(),
            timeout_seconds: step.timeout.map(|t| t.as_secs()),
        }));
        if step.moves_traffic {
            let ctx = hook_context(watch, HookKind::Traffic, index + 1, step.percent, previous);
            let traffic = watch.runner.run(watch.traffic_hook.as_ref(), &ctx).await;
            p.emit(Event::Hook(traffic.clone()));
            let failed = !traffic.status.succeeded();
            let reason = format!(
                "the traffic hook for phase {} ({}%) failed: {}",
                index + 1,
                step.percent,
                traffic.status
            );
            p.unlogged_hooks.push(traffic);
            if failed {
                return rollback(watch, p, reason).await;
            }
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
                s = collect_interval(watch, p, index, &step, in_phase) => s,
                _ = signalled(signals) => {
                    let signal = signals.borrow().unwrap_or(Signal::Interrupt);
                    return Ending::Interrupted(signal);
                }
            };
            let report = watch.policies.evaluate(step.stage, &snapshot);
            if let Err(e) = log(watch, p, &snapshot, &report) {
                return Ending::LogFailed(e);
            }
            let place = Place {
                phase: index + 1,
                percent: step.percent,
                stage: step.stage,
                seconds_in_phase: in_phase.as_secs(),
                hold_seconds: step.hold.as_secs(),
            };
            let interval = Interval::of(
                &snapshot,
                &report,
                p.intervals.len() + 1,
                place,
                p.next_log_entry.map(|n| n - 1),
            );
            if step.stage == Stage::Canary {
                p.history.push(report.interval_result(
                    u32::try_from(index).unwrap_or(u32::MAX),
                    snapshot.deployment.requested_at,
                ));
            }
            p.intervals.push(interval.clone());
            p.emit(Event::Interval(interval));
            if report.verdict == Verdict::Rollback {
                let reason = rollback_reason(&report);
                return rollback(watch, p, reason).await;
            }
            if let Some(reason) =
                failures::limit_reached(&p.intervals, watch.max_failed_evaluations)
            {
                if step.stage == Stage::Verify {
                    return Ending::Unverified(reason);
                }
                return rollback(watch, p, reason).await;
            }
            if report.verdict == Verdict::Go && in_phase >= step.hold {
                break;
            }
            if let Some(timeout) = step.timeout
                && in_phase >= step.hold.saturating_add(timeout)
            {
                let after = step.hold.saturating_add(timeout);
                return Ending::Unverified(unverified_reason(&report, after));
            }
            if let Some(signal) = *signals.borrow() {
                return Ending::Interrupted(signal);
            }
        }
    }
    Ending::Completed
}

/// Why a verify step that still holds at its timeout ends the watch.
fn unverified_reason(report: &Report, after: Duration) -> String {
    let concerns: Vec<String> = report
        .findings
        .iter()
        .filter(|f| !f.advisory && f.finding.verdict != Verdict::Go)
        .map(|f| format!("{}: {}", f.finding.rule, f.finding.message))
        .chain(
            event::failed_policies(report)
                .into_iter()
                .map(|f| format!("policy `{}` failed ({}): {}", f.policy, f.kind, f.message)),
        )
        .collect();
    let why = if concerns.is_empty() {
        format!("its verdict was {}", report.verdict)
    } else {
        concerns.join("; ")
    };
    format!(
        "the verify stage did not pass within {}: {why}",
        humantime::format_duration(after)
    )
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

/// Collects one interval's snapshot for its stage (the health probes only
/// for `verify`) and, in a canary phase, puts the rollout's state in it (a
/// verify step's snapshot has none: it is asked about the deployment as it
/// stands).
async fn collect_interval(
    watch: &Watch<'_>,
    p: &Progress<'_>,
    index: usize,
    step: &Step,
    in_phase: Duration,
) -> Snapshot {
    let ctx = (watch.context)(shipgate_collect::now());
    let sources = watch.sources.for_stage(Some(step.stage));
    let mut snapshot = shipgate_collect::collect_async(&sources, watch.deployment, ctx)
        .await
        .snapshot;
    if step.stage == Stage::Canary {
        snapshot.rollout = Some(Rollout {
            strategy: RolloutStrategy::Canary,
            phase: u32::try_from(index).unwrap_or(u32::MAX),
            traffic_percent: p.percent,
            seconds_in_phase: u32::try_from(in_phase.as_secs()).unwrap_or(u32::MAX),
            steps: watch.plan.0.steps(),
            history: p.history.clone(),
        });
    }
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
        ..hook_context(
            watch,
            HookKind::Rollback,
            traffic_phase(watch, p),
            p.percent,
            p.percent,
        )
    };
    let hook = watch.runner.run(watch.rollback_hook.as_ref(), &ctx).await;
    p.emit(Event::Hook(hook.clone()));
    Ending::Rollback { reason, hook }
}

/// The plan's phase the traffic is at: the current phase, or in the verify
/// step the last one (the step moves no traffic), so that a hook mapping
/// `SHIPGATE_PHASE` to a weight sees a phase of the plan.
fn traffic_phase(watch: &Watch<'_>, p: &Progress<'_>) -> usize {
    p.phase.min(watch.plan.0.phases().len())
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
        verified: false,
        intervals: p.intervals.len(),
        elapsed_seconds: p.started.elapsed().as_secs(),
        columns,
        table,
        rollback_hook: None,
        advice: None,
    };
    let rollback_line = watch.rollback_hook.as_ref().map(|h| {
        hook_context(
            watch,
            HookKind::Rollback,
            traffic_phase(watch, p),
            p.percent,
            p.percent,
        )
        .command_line(h)
    });
    match ending {
        Ending::Completed => {
            summary.verified = watch.verify_plan() != VerifyPlan::None;
            let verified = if summary.verified {
                ", and the verify stage passed"
            } else {
                "; no enforced policy answers the verify stage, so nothing verified it"
            };
            summary.reason = format!(
                "every phase completed with its criteria met{verified}: {}% of traffic is on {}",
                p.percent, watch.subject.version
            );
        }
        Ending::Unverified(reason) => {
            summary.outcome = WatchEnd::Unverified;
            summary.exit_code = ExitCode::Hold;
            summary.reason = reason;
            summary.advice = Some(match &rollback_line {
                Some(line) => format!(
                    "traffic stays at {}%: check the deployment, and to roll back: {line}",
                    p.percent
                ),
                None => format!("traffic stays at {}%: check the deployment", p.percent),
            });
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
                "stopped by {} in {}; traffic stays at {}%",
                signal.name(),
                event::whereabouts(p.phase, phases),
                p.percent
            );
            summary.advice = rollback_line.map(|line| format!("to roll back: {line}"));
        }
        Ending::LogFailed(e) => {
            summary.outcome = WatchEnd::Failed;
            summary.exit_code = ExitCode::Error;
            summary.reason = format!(
                "the decision log could not be written ({e}); stopped in {} with {}% of traffic",
                event::whereabouts(p.phase, phases),
                p.percent
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
        assert_eq!(w.verify_timeout.0.as_secs(), 900);
        assert!(
            error("[watch]\nverify_timeout = \"2d\"\n")
                .starts_with("shipgate.toml:2:18: key `watch.verify_timeout`: "),
            "{}",
            error("[watch]\nverify_timeout = \"2d\"\n")
        );
    }
}
