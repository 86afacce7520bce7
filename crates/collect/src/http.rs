//! The `http` source: health probes of the deployed service, the evidence
//! of the `verify` stage.
//!
//! ```toml
//! [sources.http]
//! timeout = "2s"
//! retries = 1
//! count = 3
//! interval = "5s"
//!
//! [[sources.http.probes]]
//! name = "api-health"
//! url = "https://checkout.internal/healthz"
//! expected_status = 200
//! body_regex = '"status"\s*:\s*"UP"'
//! header_env = { Authorization = "CHECKOUT_HEALTH_AUTH" }
//! ```
//!
//! Each probe is asked `count` times (rounds), `interval` apart; the
//! probes run at the same time. A round is one `GET`, tried again up to
//! `retries` times at once while it does not find the endpoint healthy (the
//! expected status and, with a pattern, a body that matches); its result
//! is the last try's, with the number of tries. So the snapshot's
//! `health.probes[i].results` has exactly `count` entries, one per round.
//!
//! **An endpoint that does not answer is a result, not a gap.** Refused,
//! timed out, a TLS or DNS failure, an answer cut off: the round's result
//! has no `status` and says why in `error` (a policy sees a failure). Only
//! a source that cannot run at all (a `header_env` variable unset or empty,
//! an invalid header value) is a gap, named `http`, before any request.
//!
//! **Redirects are not followed.** A health endpoint that redirects (to a
//! login page, to another host) is not the endpoint answering: the `302` is
//! the result, and `expected_status = 302` says when one is what healthy
//! looks like. Following them would make a login page's `200` read as
//! healthy, and would send the probe's headers on to another host.
//!
//! **Fresh connections.** Every try opens its own connection (no pooled,
//! kept-alive one): a service that stopped accepting connections is seen.
//!
//! **Bodies.** An answer's body is read up to [`PROBE_BODY`] (1 MiB). With
//! `body_contains` (a literal text) or `body_regex` (a regular expression,
//! the `regex` crate's, which runs in linear time whatever the body), the
//! whole body must have been read and must match: a larger one is
//! `body_matched: false` with the reason in `error`. Without a pattern the
//! status alone counts and the body is not judged.
//!
//! **Secrets.** Header values are read from the variables `header_env`
//! names and registered with [`shipgate_core::redact`] when read, so no
//! output shows them; an error never quotes one. A probe's URL as the
//! snapshot shows it has no query or fragment (credentials are refused at
//! load).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use shipgate_core::bounded::PROBE_BODY;
pub use shipgate_core::config::sources::http::{HttpConfig, ProbeConfig};
use shipgate_core::config::sources::http::{check_probe_url, compile_body_regex, shown_url};
use shipgate_model::{Health, Probe, ProbeResult};
use tokio::task::JoinSet;

use crate::support::{BodyError, Context, SourceError, innermost, io_error, io_words, read_body};

/// One probe, ready to ask: its request and what a healthy answer holds.
#[derive(Debug)]
struct Ready {
    name: String,
    url: reqwest::Url,
    shown: String,
    expected_status: u16,
    pattern: Option<regex::bytes::Regex>,
    headers: HeaderMap,
}

/// Runs every probe and gathers what each round found.
pub async fn collect(config: &HttpConfig, ctx: &Context) -> Result<Health, SourceError> {
    let ready = config
        .probes
        .iter()
        .map(|probe| prepare(probe, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let client = super::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| SourceError::new(format!("cannot set up HTTP: {}", innermost(&e))))?;
    let plan = Plan {
        timeout: config.timeout.0,
        retries: config.retries,
        count: config.count,
        interval: config.interval.0,
    };
    let mut tasks = JoinSet::new();
    for (index, probe) in ready.into_iter().enumerate() {
        let client = client.clone();
        tasks.spawn(async move { (index, run_probe(&client, probe, plan).await) });
    }
    let mut probes: Vec<Option<Probe>> = vec![None; config.probes.len()];
    while let Some(joined) = tasks.join_next().await {
        let (index, probe) =
            joined.map_err(|e| SourceError::new(format!("a probe crashed: {e}")))?;
        if let Some(slot) = probes.get_mut(index) {
            *slot = Some(probe);
        }
    }
    Ok(Health {
        probes: probes.into_iter().flatten().collect(),
    })
}

/// A probe's URL, pattern and headers, checked; a header variable that is
/// not set is the source's error (nothing is asked).
fn prepare(probe: &ProbeConfig, ctx: &Context) -> Result<Ready, SourceError> {
    let name = &probe.name;
    let parsed = check_probe_url(&probe.url)
        .map_err(|e| SourceError::new(format!("probe `{name}`: {e}")))?;
    let shown = shown_url(&parsed);
    let pattern = match (&probe.body_contains, &probe.body_regex) {
        (Some(text), _) => Some(regex::escape(text)),
        (None, Some(pattern)) => Some(pattern.clone()),
        (None, None) => None,
    }
    .map(|pattern| compile_body_regex(&pattern))
    .transpose()
    .map_err(|e| SourceError::new(format!("probe `{name}`: {e}")))?;
    let mut headers = HeaderMap::new();
    for (header, var) in &probe.header_env {
        let value = ctx.vars.get(var).filter(|v| !v.is_empty()).ok_or_else(|| {
            SourceError::new(format!(
                "probe `{name}`: `header_env` names `{var}` for the header `{header}`, which is not set"
            ))
        })?;
        shipgate_core::redact::register(&value);
        let header_name = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
            SourceError::new(format!(
                "probe `{name}`: `{header}` is not an HTTP header name"
            ))
        })?;
        let mut header_value = HeaderValue::from_str(&value).map_err(|_| {
            SourceError::new(format!(
                "probe `{name}`: the variable `{var}` (header `{header}`) holds a value an HTTP header cannot carry (a line break or a control character)"
            ))
        })?;
        header_value.set_sensitive(true);
        headers.insert(header_name, header_value);
    }
    Ok(Ready {
        name: name.clone(),
        url: parsed,
        shown,
        expected_status: probe.expected_status,
        pattern,
        headers,
    })
}

/// The source-level settings every probe runs with.
#[derive(Debug, Clone, Copy)]
struct Plan {
    timeout: Duration,
    retries: u32,
    count: u32,
    interval: Duration,
}

/// The rounds of one probe.
async fn run_probe(client: &reqwest::Client, probe: Ready, plan: Plan) -> Probe {
    let mut results = Vec::new();
    for round in 0..plan.count {
        if round > 0 {
            tokio::time::sleep(plan.interval).await;
        }
        let mut tries = 0;
        let result = loop {
            tries += 1;
            let mut result = ask(client, &probe, plan.timeout).await;
            result.tries = tries;
            if result.healthy(probe.expected_status) || tries > plan.retries {
                break result;
            }
        };
        results.push(result);
    }
    Probe {
        name: probe.name,
        url: probe.shown,
        expected_status: probe.expected_status,
        results,
    }
}

/// One try: a `GET` within `timeout`, its body read and matched.
async fn ask(client: &reqwest::Client, probe: &Ready, timeout: Duration) -> ProbeResult {
    let started = tokio::time::Instant::now();
    let exchange = async {
        let response = client
            .get(probe.url.clone())
            .headers(probe.headers.clone())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let Some(pattern) = &probe.pattern else {
            return Ok((status, None, None));
        };
        match read_body(response, PROBE_BODY).await {
            Ok(body) => Ok((status, Some(pattern.is_match(&body)), None)),
            // Too large to judge: not a match, and why.
            Err(BodyError::Read(e)) => {
                Ok((status, Some(false), Some(format!("the answer is {e}"))))
            }
            Err(BodyError::Transport(e)) => Err(format!(
                "the answer (HTTP {status}) was cut off: {}",
                innermost(&e)
            )),
        }
    };
    let outcome = tokio::time::timeout(timeout, exchange).await;
    let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    let (status, body_matched, error) = match outcome {
        Ok(Ok((status, matched, error))) => (Some(status), matched, error),
        Ok(Err(error)) => (None, None, Some(error)),
        Err(_) => (
            None,
            None,
            Some(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            )),
        ),
    };
    ProbeResult {
        status,
        latency_ms,
        body_matched,
        error: error.map(|e| shipgate_core::redact::scrub(&e).into_owned()),
        tries: 0,
    }
}

/// A request that got no answer, in a few words (never the URL: reqwest's
/// own message names it whole, query included).
fn describe(err: &reqwest::Error) -> String {
    if err.is_connect() {
        let why = io_error(err).map_or_else(|| innermost(err), io_words);
        format!("cannot connect: {why}")
    } else if err.is_timeout() {
        "timed out".to_owned()
    } else {
        format!("the request failed: {}", innermost(err))
    }
}

/// The whole source's time limit: every probe's worst case (they run at
/// the same time) and a margin, so that the collector never cuts a probe
/// short (a probe's own timeouts are results, not a gap).
pub fn time_limit(config: &HttpConfig) -> Duration {
    config.worst_case() + Duration::from_secs(2)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use shipgate_model::Timestamp;

    use super::*;
    use crate::support::MapVars;

    fn ctx(vars: &[(&str, &str)]) -> Context {
        Context {
            base_dir: ".".into(),
            now: Timestamp(0),
            vars: Arc::new(MapVars::new(vars.iter().copied())),
            commit: None,
        }
    }

    fn config(text: &str) -> HttpConfig {
        toml::from_str(text).unwrap()
    }

    fn run(config: &HttpConfig, ctx: &Context) -> Result<Health, SourceError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(collect(config, ctx))
    }

    #[test]
    fn an_unset_header_variable_is_a_gap_before_any_request() {
        let config = config(
            "[[probes]]\nname = \"api\"\nurl = \"http://127.0.0.1:9/healthz\"\nheader_env = { Authorization = \"HEALTH_AUTH\" }\n",
        );
        let err = run(&config, &ctx(&[])).unwrap_err();
        assert_eq!(
            err.0,
            "probe `api`: `header_env` names `HEALTH_AUTH` for the header `Authorization`, which is not set"
        );
        let err = run(&config, &ctx(&[("HEALTH_AUTH", "")])).unwrap_err();
        assert!(err.0.ends_with("which is not set"), "{err}");
    }

    #[test]
    fn a_header_value_that_cannot_be_sent_is_a_gap_that_does_not_quote_it() {
        let config = config(
            "[[probes]]\nname = \"api\"\nurl = \"http://127.0.0.1:9/\"\nheader_env = { X-Token = \"HEALTH_TOKEN\" }\n",
        );
        let secret = "line-one-s3cret\r\nInjected: yes";
        let err = run(&config, &ctx(&[("HEALTH_TOKEN", secret)])).unwrap_err();
        assert!(!err.0.contains("s3cret"), "{err}");
        assert!(err.0.contains("`HEALTH_TOKEN` (header `X-Token`)"), "{err}");
    }

    #[test]
    fn a_closed_port_is_a_result_without_status_never_a_gap() {
        // A port just freed: nothing listens, the connection is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let config = config(&format!(
            "retries = 2\ncount = 2\ninterval = \"0s\"\n[[probes]]\nname = \"down\"\nurl = \"http://127.0.0.1:{port}/healthz?key=abc#top\"\n"
        ));
        let health = run(&config, &ctx(&[])).unwrap();
        let probe = &health.probes[0];
        assert_eq!(probe.url, format!("http://127.0.0.1:{port}/healthz"));
        assert_eq!(probe.results.len(), 2);
        for result in &probe.results {
            assert_eq!(result.status, None);
            assert_eq!(result.tries, 3);
            assert_eq!(
                result.error.as_deref(),
                Some("cannot connect: connection refused")
            );
            assert!(!result.healthy(200));
        }
    }

    #[test]
    fn a_redirect_is_the_answer_never_followed() {
        // `/healthz` redirects to a login page that answers 200 "ok": a
        // client that follows it would call the endpoint healthy.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let health = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let app = axum::Router::new()
                .route(
                    "/healthz",
                    axum::routing::get(|| async {
                        (
                            axum::http::StatusCode::FOUND,
                            [("location", "/login")],
                            "moved",
                        )
                    }),
                )
                .route("/login", axum::routing::get(|| async { "ok" }));
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            let config = config(&format!(
                "[[probes]]\nname = \"api\"\nurl = \"{base}/healthz\"\nbody_contains = \"ok\"\n"
            ));
            collect(&config, &ctx(&[])).await.unwrap()
        });
        let result = &health.probes[0].results[0];
        assert_eq!(
            (result.status, result.body_matched),
            (Some(302), Some(false))
        );
        assert!(!result.healthy(200));
    }

    #[test]
    fn the_time_limit_covers_every_try_and_wait() {
        let config = config(
            "timeout = \"2s\"\nretries = 1\ncount = 3\ninterval = \"5s\"\n[[probes]]\nname = \"a\"\nurl = \"http://x/\"\n",
        );
        // 3 rounds × 2 tries × 2 s + 2 waits × 5 s, and the margin.
        assert_eq!(time_limit(&config), Duration::from_secs(24));
    }
}
