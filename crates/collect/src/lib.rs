//! Collecting a snapshot: the host does all I/O.
//!
//! Each source configured under `[sources.*]` in `shipgate.toml` runs
//! concurrently with its own timeout. A source that fails, times out or
//! answers only in part is named in the snapshot's `gaps` with the reason;
//! it never stops the other sources and never panics the host. Policies then
//! see the gap and decide what missing data means (the built-ins hold).
//!
//! | source | reads | gap name |
//! | --- | --- | --- |
//! | [`git`] | the range base..head of a local repository | `git` |
//! | [`environment`] | declared variables, names present in the target | `environment` |
//! | [`junit`] | JUnit XML reports | `junit` |
//! | [`coverage`] | a Cobertura XML or LCOV file | `coverage` |
//! | [`github`] | checks, statuses, pull request, reviews (REST API) | `github` |
//! | [`prometheus`] | baseline / canary metrics and firing alerts | `prometheus` |
//! | [`http`] | health probes of the deployed service (`health`) | `http` |
//! | clock | the current time and the organisation's UTC offset | — |
//!
//! The configuration's types are `shipgate-core`'s (`config::sources`);
//! this crate gives them their behaviour. It depends on the model and the
//! core only: the engine that asks the policies is `shipgate-engine`.
//!
//! ```
//! use std::sync::Arc;
//!
//! use shipgate_collect::{Context, DeploymentConfig, MapVars, SourcesConfig, collect};
//! use shipgate_model::Timestamp;
//!
//! let deployment = DeploymentConfig {
//!     service: Some("checkout".into()),
//!     environment: Some("staging".into()),
//!     version: Some("2.14.1".into()),
//!     ..DeploymentConfig::default()
//! };
//! let ctx = Context {
//!     base_dir: ".".into(),
//!     now: "2026-12-07T10:00:00Z".parse::<Timestamp>()?,
//!     vars: Arc::new(MapVars::default()),
//!     commit: Some("9c1e4f2a7b".into()),
//! };
//! // No source configured: the deployment as given, and the clock.
//! let collection = collect(&SourcesConfig::default(), &deployment, ctx)?;
//! let snapshot = collection.snapshot;
//! assert_eq!(snapshot.deployment.service, "checkout");
//! assert_eq!(snapshot.deployment.environment, "staging");
//! assert!(snapshot.gaps.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod coverage;
pub mod environment;
pub mod git;
pub mod github;
pub mod http;
pub mod junit;
pub mod prometheus;
mod support;

use std::future::Future;
use std::sync::Arc;

use shipgate_model::{Ci, Deployment, Gap, Snapshot, Timestamp};

pub use shipgate_core::config::Duration;
pub use shipgate_core::config::sources::{ClockConfig, DeploymentConfig, SourcesConfig, UtcOffset};
pub use support::{Context, MapVars, ProcessVars, SourceError, Vars};

/// Default timeouts, per source.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);
const FILE_TIMEOUT: Duration = Duration::from_secs(10);
const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);
/// Network sources apply their `timeout` to each request, so that a slow
/// server gives a specific error; the whole source gets this much more
/// before it is cut off.
const NETWORK_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The whole-source limit of a network source.
fn network_limit(timeout: Option<Duration>) -> Duration {
    Duration(timeout.unwrap_or(NETWORK_TIMEOUT).0 + NETWORK_GRACE)
}

/// What one collection produced: the snapshot, and how long each source
/// took (for `--verbose` output and the benchmark).
#[derive(Debug, Clone)]
pub struct Collection {
    /// The snapshot, in stable order.
    pub snapshot: Snapshot,
    /// `(source, milliseconds)` for each source that ran, in source order.
    pub timings: Vec<(&'static str, u64)>,
}

/// Runs every configured source and assembles the snapshot. Blocking: it
/// runs its own tokio runtime.
pub fn collect(
    sources: &SourcesConfig,
    deployment: &DeploymentConfig,
    ctx: Context,
) -> Result<Collection, SourceError> {
    let runtime = io_runtime()?;
    let collection = runtime.block_on(collect_async(sources, deployment, ctx));
    // A source that timed out may still be blocked in a thread: do not wait.
    runtime.shutdown_background();
    Ok(collection)
}

/// The tokio runtime the sources run on (two workers, I/O and timers).
/// Shut it down with `shutdown_background`: a source that timed out may
/// still be blocked in a thread.
pub fn io_runtime() -> Result<tokio::runtime::Runtime, SourceError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| SourceError::new(format!("cannot start the I/O runtime: {e}")))
}

/// The result of one source: its value or its gap, and its time.
struct Timed<T> {
    result: Option<Result<T, SourceError>>,
    millis: u64,
}

/// Runs `future` with a timeout, timing it; a source that is not
/// configured (`None`) gives no result.
async fn timed<T>(
    timeout: Duration,
    future: Option<impl Future<Output = Result<T, SourceError>>>,
) -> Timed<T> {
    let Some(future) = future else {
        return Timed {
            result: None,
            millis: 0,
        };
    };
    let start = std::time::Instant::now();
    let result = match tokio::time::timeout(timeout.0, future).await {
        Ok(result) => result,
        Err(_) => Err(SourceError::new(format!("timed out after {timeout}"))),
    };
    Timed {
        result: Some(result),
        millis: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// A blocking source (files, the git CLI), if configured: `run` on tokio's
/// blocking pool under the source's `timeout` (else `default`).
fn blocking_source<C, T>(
    config: Option<&C>,
    timeout: fn(&C) -> Option<Duration>,
    default: Duration,
    ctx: &Arc<Context>,
    run: fn(&C, &Context) -> Result<T, SourceError>,
) -> impl Future<Output = Timed<T>> + use<C, T>
where
    C: Clone + Send + 'static,
    T: Send + 'static,
{
    let limit = config.and_then(timeout).unwrap_or(default);
    let job = config.cloned().map(|config| {
        let ctx = Arc::clone(ctx);
        blocking(move || run(&config, &ctx))
    });
    timed(limit, job)
}

/// Runs a blocking source on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(SourceError::new(format!("the source crashed: {e}"))))
}

/// An HTTP client for the network sources. rustls with the `ring`
/// provider; the system's root certificates.
fn http_client() -> Result<reqwest::Client, SourceError> {
    client_builder()
        .build()
        .map_err(|e| SourceError::new(format!("cannot set up HTTP: {e}")))
}

/// The settings every HTTP client of the sources shares: rustls with the
/// `ring` provider, the system's root certificates, Shipgate's user agent.
fn client_builder() -> reqwest::ClientBuilder {
    // Installing twice is harmless: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().user_agent(concat!("shipgate/", env!("CARGO_PKG_VERSION")))
}

/// The HTTP client a network source runs with, or why there is none.
fn client(
    http: &Option<Result<reqwest::Client, SourceError>>,
) -> Result<&reqwest::Client, SourceError> {
    match http {
        Some(Ok(client)) => Ok(client),
        Some(Err(err)) => Err(err.clone()),
        None => Err(SourceError::new("HTTP was not set up")),
    }
}

/// The async body of [`collect`].
pub async fn collect_async(
    sources: &SourcesConfig,
    deployment: &DeploymentConfig,
    ctx: Context,
) -> Collection {
    let ctx = Arc::new(ctx);
    // Only a network source needs HTTP (and its root certificates).
    let http = (sources.github.is_some() || sources.prometheus.is_some()).then(http_client);

    let git = blocking_source(
        sources.git.as_ref(),
        |c| c.timeout,
        GIT_TIMEOUT,
        &ctx,
        git::collect,
    );
    let environment = blocking_source(
        sources.environment.as_ref(),
        |c| c.timeout,
        FILE_TIMEOUT,
        &ctx,
        environment::collect,
    );
    let junit = blocking_source(
        sources.junit.as_ref(),
        |c| c.timeout,
        FILE_TIMEOUT,
        &ctx,
        junit::collect,
    );
    let coverage = blocking_source(
        sources.coverage.as_ref(),
        |c| c.timeout,
        FILE_TIMEOUT,
        &ctx,
        coverage::collect,
    );
    let github = {
        let config = sources.github.as_ref();
        let (ctx, http) = (&ctx, &http);
        timed(
            network_limit(config.and_then(|c| c.timeout)),
            config.map(|config| async move { github::collect(config, ctx, client(http)?).await }),
        )
    };
    // Prometheus's `$service` defaults to the deployment's service.
    let prometheus_config = sources.prometheus.clone().map(|mut config| {
        if config.service.is_none() {
            config.service.clone_from(&deployment.service);
        }
        config
    });
    let prometheus = {
        let config = prometheus_config.as_ref();
        let (ctx, http) = (&ctx, &http);
        timed(
            network_limit(config.and_then(|c| c.timeout)),
            config
                .map(|config| async move { prometheus::collect(config, ctx, client(http)?).await }),
        )
    };
    // The probes' own timeouts are results; the source's limit covers them
    // all (`http::time_limit`).
    let http_probes = {
        let config = sources.http.as_ref();
        let ctx = &ctx;
        timed(
            Duration(config.map_or(std::time::Duration::ZERO, http::time_limit)),
            config.map(|config| http::collect(config, ctx)),
        )
    };
    let (git, environment, junit, coverage, github, prometheus, http_probes) = tokio::join!(
        git,
        environment,
        junit,
        coverage,
        github,
        prometheus,
        http_probes
    );

    let timings = [
        ("git", &git.result.is_some(), git.millis),
        (
            "environment",
            &environment.result.is_some(),
            environment.millis,
        ),
        ("junit", &junit.result.is_some(), junit.millis),
        ("coverage", &coverage.result.is_some(), coverage.millis),
        ("github", &github.result.is_some(), github.millis),
        (
            "prometheus",
            &prometheus.result.is_some(),
            prometheus.millis,
        ),
        ("http", &http_probes.result.is_some(), http_probes.millis),
    ]
    .into_iter()
    .filter(|(_, ran, _)| **ran)
    .map(|(name, _, millis)| (name, millis))
    .collect();

    let mut gaps = Vec::new();
    let git = take(&mut gaps, "git", git.result);
    let mut environment = take(&mut gaps, "environment", environment.result);
    let ci_configured =
        junit.result.is_some() || coverage.result.is_some() || github.result.is_some();
    let test_suites = take(&mut gaps, "junit", junit.result);
    let coverage_percent = take(&mut gaps, "coverage", coverage.result);
    let github = take(&mut gaps, "github", github.result);
    let prometheus = take(&mut gaps, "prometheus", prometheus.result);
    let health = take(&mut gaps, "http", http_probes.result);

    let mut snapshot = Snapshot::new(deployment_section(
        deployment,
        &ctx,
        git.as_ref(),
        github.as_ref(),
    ));
    snapshot.deployment.utc_offset_minutes = sources.clock.utc_offset.minutes;
    if let Some(git) = &git {
        snapshot.change = Some(git.change.clone());
        if let Some(env) = environment.as_mut() {
            for var in &mut env.declared {
                var.added = git.env_vars_added.contains(&var.name);
            }
        }
    }
    snapshot.environment = environment;
    if ci_configured {
        let mut ci = Ci {
            test_suites: test_suites.unwrap_or_default(),
            coverage_percent,
            ..Ci::default()
        };
        if let Some(github) = github {
            ci.checks = github.checks;
            ci.merge_state = github.merge_state;
            ci.commits_behind_base = github.commits_behind_base;
            ci.approvals = github.approvals;
        }
        snapshot.ci = Some(ci);
    }
    if let Some(prometheus) = prometheus {
        if !prometheus.problems.is_empty() {
            gaps.push(Gap {
                source: "prometheus".to_owned(),
                reason: prometheus.problems.join("; "),
            });
        }
        snapshot.metrics = prometheus.metrics;
        snapshot.alerts = prometheus.alerts;
    }
    snapshot.health = health;
    gaps.sort_by(|a, b| a.source.cmp(&b.source));
    snapshot.gaps = gaps;
    normalise(&mut snapshot);
    redact_errors(&mut snapshot);
    Collection { snapshot, timings }
}

/// Masks every secret in the error texts of `snapshot` (the gaps' reasons,
/// the metrics' errors, the health probes' errors): they quote other
/// systems, which may echo a request's credentials. Policies, and everything written from the snapshot, then
/// never see them.
fn redact_errors(snapshot: &mut Snapshot) {
    let scrub = |text: &mut String| {
        if let std::borrow::Cow::Owned(clean) = shipgate_core::redact::scrub(text) {
            *text = clean;
        }
    };
    for gap in &mut snapshot.gaps {
        scrub(&mut gap.reason);
    }
    for metric in &mut snapshot.metrics {
        for measurement in [&mut metric.baseline, &mut metric.canary] {
            if let shipgate_model::Measurement::Error(reason) = measurement {
                scrub(reason);
            }
        }
    }
    for probe in snapshot.health.iter_mut().flat_map(|h| h.probes.iter_mut()) {
        for result in &mut probe.results {
            if let Some(error) = result.error.as_mut() {
                scrub(error);
            }
        }
    }
}

/// A source's value, or its gap pushed onto `gaps`.
fn take<T>(gaps: &mut Vec<Gap>, source: &str, result: Option<Result<T, SourceError>>) -> Option<T> {
    match result? {
        Ok(value) => Some(value),
        Err(err) => {
            gaps.push(Gap {
                source: source.to_owned(),
                reason: err.0,
            });
            None
        }
    }
}

/// The `deployment` section from the configuration, the command line, git,
/// GitHub and the clock.
fn deployment_section(
    config: &DeploymentConfig,
    ctx: &Context,
    git: Option<&git::GitFacts>,
    github: Option<&github::GithubFacts>,
) -> Deployment {
    let commit = git
        .map(|g| g.head.clone())
        .or_else(|| ctx.commit.clone())
        .unwrap_or_else(|| "unknown".to_owned());
    let service = config.service.clone().unwrap_or_else(|| {
        ctx.base_dir
            .canonicalize()
            .ok()
            .and_then(|dir| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "service".to_owned())
    });
    let version = config
        .version
        .clone()
        .unwrap_or_else(|| commit.chars().take(12).collect());
    let actor = config
        .actor
        .clone()
        .or_else(|| ctx.vars.get("GITHUB_ACTOR"))
        .or_else(|| ctx.vars.get("USER"));
    Deployment {
        service,
        environment: config
            .environment
            .clone()
            .unwrap_or_else(|| "production".to_owned()),
        version,
        commit,
        base_commit: git.and_then(|g| g.base.clone()),
        pull_request: github.and_then(|g| g.pull_request.clone()),
        kind: config.kind.unwrap_or_default(),
        severity: config.severity,
        requested_at: ctx.now,
        utc_offset_minutes: 0,
        actor,
    }
}

/// Puts every list in a stable order, so that two collections of the same
/// inputs are byte-identical apart from the time.
fn normalise(snapshot: &mut Snapshot) {
    if let Some(change) = snapshot.change.as_mut() {
        change.files.sort_by(|a, b| a.path.cmp(&b.path));
        change.migrations.sort_by(|a, b| a.path.cmp(&b.path));
        change
            .dependency_changes
            .sort_by(|a, b| (&a.ecosystem, &a.name).cmp(&(&b.ecosystem, &b.name)));
        change.areas.sort();
        change.areas.dedup();
    }
    if let Some(env) = snapshot.environment.as_mut() {
        env.declared.sort_by(|a, b| a.name.cmp(&b.name));
        env.present.sort();
        env.present.dedup();
    }
    if let Some(ci) = snapshot.ci.as_mut() {
        ci.checks.sort_by(|a, b| a.name.cmp(&b.name));
        ci.test_suites.sort_by(|a, b| a.name.cmp(&b.name));
    }
    snapshot
        .alerts
        .sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
}

/// The current time, to the millisecond.
pub fn now() -> Timestamp {
    let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}
