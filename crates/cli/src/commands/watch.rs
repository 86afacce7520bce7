//! `shipgate watch`: drive a phased canary rollout (see [`crate::watch`]).

use shipgate_engine::exit::ExitCode;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::CliError;
use super::collect::{CollectArgs, prepare};
use super::log_path;
use crate::watch::hook::HookRunner;
use crate::watch::view::{JsonLines, Lines, Live};
use crate::watch::{self, Observer, Watch};
use shipgate_collect::ProcessVars;
use shipgate_core::config::watch::Plan;
use shipgate_engine::decision_log;
use shipgate_engine::decision_log::ConfigRef;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::report::Subject;
use shipgate_engine::runtime::CacheMode;
use shipgate_model::Stage;

/// How the watch shows itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// A live view on a terminal, plain lines otherwise.
    Text,
    /// One JSON object per line: `start`, `phase`, `hook`, `interval`, `end`.
    Json,
}

/// Arguments of `shipgate watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// What to collect.
    #[command(flatten)]
    pub collect: CollectArgs,
    /// The rollout plan, `PERCENT:HOLD,...`; default `[watch] plan`, else
    /// the risk policy's recommendation, else `10:10m,50:10m,100:30m`.
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<Plan>,
    /// Time between analysis intervals; default `[watch] interval`, else
    /// 60s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// Run no hook: say what would have run, and still decide and log.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: WatchFormat,
    /// Compile policies without the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Append the decisions to this log instead of the configured one.
    #[arg(long, value_name = "FILE", conflicts_with = "no_log")]
    pub log: Option<PathBuf>,
    /// Do not write the decision log.
    #[arg(long)]
    pub no_log: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 10s, 1m"))?;
    if d < Duration::from_millis(100) {
        return Err("the interval must be at least 100ms".into());
    }
    Ok(d)
}

/// Runs `shipgate watch`; returns the exit code of the summary.
pub fn run(args: &WatchArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    if args.collect.now.is_some() {
        return Err(CliError::Other(
            "`--now` does not apply to `watch`, which runs in real time; replay a logged \
             interval with `shipgate eval --from-log` instead"
                .into(),
        ));
    }
    let prepared = prepare(&args.collect, Arc::new(ProcessVars))?;
    let config = &prepared.config;
    let cache = if args.no_cache {
        CacheMode::Disabled
    } else {
        CacheMode::Default
    };
    let policies = PolicySet::load(config, &cache)?;
    let log = log_path(args.log.as_deref(), args.no_log, config)
        .map(|path| {
            let count = decision_log::count(&path).map_err(|e| CliError::Other(e.to_string()))?;
            Ok::<_, CliError>((path, count))
        })
        .transpose()?;

    let runtime = shipgate_collect::io_runtime().map_err(|e| CliError::Other(e.to_string()))?;
    let context = |now| prepared.context(now);
    let summary = runtime.block_on(async {
        let signals = watch::listen_for_signals();
        // A first collection resolves what is deployed (the version for the
        // hooks), feeds the risk stage when no plan is given, and is put to
        // the first phase's policies before any traffic moves.
        // With the health probes when a policy answers verify, so that the
        // preflight sees what the verify stage will lack.
        let ctx = prepared.context(shipgate_collect::now());
        let first_stage = if policies.decides(Stage::Verify) {
            Stage::Verify
        } else {
            Stage::Canary
        };
        let sources = prepared.sources.for_stage(Some(first_stage));
        let first = shipgate_collect::collect_async(&sources, &prepared.deployment, ctx)
            .await
            .snapshot;
        let subject = Subject::of(&first);
        let plan = watch::resolve_plan(
            args.plan.clone(),
            config.watch.plan.as_ref(),
            &policies,
            &first,
        );
        if watch::verify_plan(&policies, &plan.0) == watch::event::VerifyPlan::EveryInterval
            && policies.decides(Stage::Canary)
        {
            tracing::warn!(
                "the plan is a single phase at 100%: with no baseline to compare against, its \
                 intervals ask the verify stage, and the canary-stage policies are not asked"
            );
        }
        watch::preflight::check(&policies, &first, &plan.0).map_err(|refusal| {
            CliError::Other(shipgate_core::redact::scrub(&refusal.to_string()).into_owned())
        })?;
        let w = Watch {
            policies: &policies,
            sources: &prepared.sources,
            deployment: &prepared.deployment,
            subject,
            context: &context,
            plan,
            interval: args.interval.unwrap_or(config.watch.interval.0),
            traffic_hook: config.watch.traffic_hook.clone(),
            rollback_hook: config.watch.rollback_hook.clone(),
            runner: HookRunner {
                timeout: config.watch.hook_timeout.0,
                dry_run: args.dry_run,
                dir: config.base_dir(),
                env: config.watch.hook_env.clone(),
            },
            max_failed_evaluations: config.watch.max_failed_evaluations,
            verify_window: config.watch.verify_window.0,
            verify_timeout: config.watch.verify_timeout.0,
            log,
            config_ref: ConfigRef::of(config),
        };
        let mut observer: Box<dyn Observer + '_> = match args.format {
            WatchFormat::Json => Box::new(JsonLines::new(&mut *out)),
            WatchFormat::Text if std::io::stdout().is_terminal() => Box::new(Live::new()),
            WatchFormat::Text => Box::new(Lines::new(&mut *out)),
        };
        Ok::<_, CliError>(watch::run(&w, observer.as_mut(), signals).await)
    });
    // A source that timed out may still be blocked in a thread: do not wait.
    runtime.shutdown_background();
    Ok(summary?.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_and_tiny_ones_are_refused() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration(" 1m "), Ok(Duration::from_secs(60)));
        assert!(
            parse_duration("10ms")
                .unwrap_err()
                .contains("at least 100ms")
        );
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("not a duration")
        );
    }
}
