//! A real Prometheus for tests, and what it scrapes.
//!
//! - [`Exporter`]: a small HTTP server whose `/metrics` serves, for one
//!   service and any number of tracks (`baseline`, `canary`, …), the series
//!   the standard metrics read: `http_requests_total{code}`, the histogram
//!   `http_request_duration_seconds`, and cAdvisor's CPU and memory series.
//!   Each track's [`Behaviour`] (request rate, error ratio, latency
//!   distribution, CPU and memory fractions) can be changed while it runs.
//!   It also serves kube-state-metrics's restart counter,
//!   `kube_pod_container_status_restarts_total`, per track (0 until
//!   [`Exporter::restart`]).
//!   Counters are the exact integral of the behaviour over time, and every
//!   sample carries the exporter's own timestamp, on a grid of whole
//!   seconds (one per scrape), so `rate()` over a window of whole seconds
//!   that ends at a scrape and holds only the current behaviour gives
//!   exactly the configured numbers, and `histogram_quantile` exactly
//!   [`Latency::quantile`] (see [`PrometheusServer::settled`]).
//! - [`PrometheusServer`]: Debian's `prometheus` (or `$PROMETHEUS_BIN`) on a
//!   free loopback port, scraping the exporter every second, with an
//!   optional rule file; killed on drop.
//! - [`HttpStub`]: a tiny HTTP server answering with a closure, for servers
//!   that misbehave (slow, garbage, cut off).
//!
//! Panics are test failures here: this is test support.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The histogram's bucket upper bounds (Prometheus's client defaults); the
/// `+Inf` bucket follows them.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every container's CPU limit, in cores (`container_spec_cpu_quota` /
/// `container_spec_cpu_period` = 50000 / 100000).
pub const CPU_LIMIT_CORES: f64 = 0.5;
const CPU_PERIOD_US: f64 = 100_000.0;

/// Every container's memory limit (`container_spec_memory_limit_bytes`).
pub const MEMORY_LIMIT_BYTES: f64 = 512.0 * 1024.0 * 1024.0;

/// What every counter holds before the first scrape, so that `rate()` never
/// extrapolates down to a counter's zero.
const COUNTER_START: f64 = 10_000.0;

/// The scrape and rule-evaluation interval of [`PrometheusServer`].
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

/// How requests spread over the histogram's buckets: the share of requests
/// in each bucket (`BUCKETS` then `+Inf`).
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    shares: Vec<f64>,
}

impl Latency {
    /// `(upper bound, share)` pairs; each bound one of [`BUCKETS`] or
    /// `f64::INFINITY`; the shares add up to 1. Buckets not named get none.
    pub fn new(shares: &[(f64, f64)]) -> Latency {
        let mut out = vec![0.0; BUCKETS.len() + 1];
        for &(bound, share) in shares {
            let at = if bound.is_infinite() {
                BUCKETS.len()
            } else {
                BUCKETS
                    .iter()
                    .position(|b| *b == bound)
                    .unwrap_or_else(|| panic!("{bound} is not a bucket bound: {BUCKETS:?}"))
            };
            assert!(share >= 0.0, "a negative share");
            out[at] += share;
        }
        let total: f64 = out.iter().sum();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "the shares add up to {total}, not 1"
        );
        Latency { shares: out }
    }

    /// Every request in the bucket up to `bound`.
    pub fn all_under(bound: f64) -> Latency {
        Latency::new(&[(bound, 1.0)])
    }

    /// The cumulative share of each bucket (`le`), `+Inf` last (= 1).
    pub fn cumulative(&self) -> Vec<f64> {
        let mut sum = 0.0;
        self.shares
            .iter()
            .map(|s| {
                sum += s;
                sum
            })
            .collect()
    }

    /// The mean latency, taking each bucket's midpoint (the `+Inf` bucket
    /// counts as its lower bound): what `_sum / _count` gives.
    pub fn mean(&self) -> f64 {
        let mut lower = 0.0;
        let mut mean = 0.0;
        for (i, share) in self.shares.iter().enumerate() {
            let point = match BUCKETS.get(i) {
                Some(&upper) => (lower + upper) / 2.0,
                None => lower,
            };
            mean += share * point;
            lower = BUCKETS.get(i).copied().unwrap_or(lower);
        }
        mean
    }

    /// What `histogram_quantile(q, …)` answers for this distribution: the
    /// first bucket whose cumulative count reaches `q` of all, interpolated
    /// linearly inside it (from 0 for the first bucket; the last finite
    /// bound when the rank falls in `+Inf`). Prometheus's `bucketQuantile`.
    pub fn quantile(&self, q: f64) -> f64 {
        let cumulative = self.cumulative();
        let total = cumulative[cumulative.len() - 1];
        let rank = q * total;
        let b = cumulative[..cumulative.len() - 1]
            .iter()
            .position(|c| *c >= rank)
            .unwrap_or(cumulative.len() - 1);
        if b == BUCKETS.len() {
            return BUCKETS[BUCKETS.len() - 1];
        }
        let (start, below) = if b == 0 {
            (0.0, 0.0)
        } else {
            (BUCKETS[b - 1], cumulative[b - 1])
        };
        start + (BUCKETS[b] - start) * ((rank - below) / (cumulative[b] - below))
    }
}

/// How a track behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// Requests per second.
    pub request_rate: f64,
    /// The share of requests answered with a 5xx (0–1).
    pub error_ratio: f64,
    /// How long requests take.
    pub latency: Latency,
    /// CPU used, as a fraction of the limit (0–1).
    pub cpu: f64,
    /// Memory working set, as a fraction of the limit (0–1).
    pub memory: f64,
}

impl Behaviour {
    /// A track without traffic: rates of 0, so error ratio and latency are
    /// 0/0 (NaN).
    pub fn idle() -> Behaviour {
        Behaviour {
            request_rate: 0.0,
            error_ratio: 0.0,
            latency: Latency::all_under(0.1),
            cpu: 0.0,
            memory: 0.05,
        }
    }

    /// The error rate the standard query answers; `None` without traffic.
    pub fn expected_error_rate(&self) -> Option<f64> {
        (self.request_rate > 0.0).then_some(self.error_ratio)
    }

    /// The latency quantile the standard query answers; `None` without
    /// traffic.
    pub fn expected_latency(&self, q: f64) -> Option<f64> {
        (self.request_rate > 0.0).then(|| self.latency.quantile(q))
    }
}

/// One track's counters at `at` (ms).
#[derive(Debug, Clone)]
struct Track {
    behaviour: Behaviour,
    at: i64,
    /// Since when the behaviour holds (ms).
    since: i64,
    ok: f64,
    errors: f64,
    buckets: Vec<f64>,
    sum: f64,
    cpu_seconds: f64,
}

impl Track {
    fn new(behaviour: Behaviour, at: i64) -> Track {
        Track {
            behaviour,
            at,
            since: at,
            ok: COUNTER_START,
            errors: COUNTER_START,
            buckets: vec![COUNTER_START; BUCKETS.len() + 1],
            sum: COUNTER_START,
            cpu_seconds: COUNTER_START,
        }
    }

    /// Integrates the behaviour up to `now` (ms).
    fn advance(&mut self, now: i64) {
        if now <= self.at {
            return;
        }
        let dt = (now - self.at) as f64 / 1000.0;
        let b = &self.behaviour;
        let requests = b.request_rate * dt;
        self.ok += requests * (1.0 - b.error_ratio);
        self.errors += requests * b.error_ratio;
        for (counter, share) in self.buckets.iter_mut().zip(b.latency.cumulative()) {
            *counter += requests * share;
        }
        self.sum += requests * b.latency.mean();
        self.cpu_seconds += b.cpu * CPU_LIMIT_CORES * dt;
        self.at = now;
    }
}

/// An extra gauge whose samples are `lag` behind the scrape.
#[derive(Debug, Clone)]
struct Gauge {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    lag: Duration,
}

#[derive(Debug, Default)]
struct ExporterState {
    tracks: BTreeMap<String, Track>,
    gauges: Vec<Gauge>,
    /// Container restarts per track, since the start.
    restarts: BTreeMap<String, u64>,
    first_scrape: Option<i64>,
    last_scrape: Option<i64>,
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A test exporter for one service: see the module documentation.
#[derive(Debug)]
pub struct Exporter {
    service: String,
    state: Arc<Mutex<ExporterState>>,
    server: HttpStub,
}

impl Exporter {
    /// An exporter of `service` with these tracks, listening on a free
    /// loopback port.
    pub fn start(service: &str, tracks: &[(&str, Behaviour)]) -> Exporter {
        let state = Arc::new(Mutex::new(ExporterState::default()));
        let now = now_ms();
        {
            let mut s = state.lock().unwrap();
            for (name, behaviour) in tracks {
                s.tracks
                    .insert((*name).to_owned(), Track::new(behaviour.clone(), now));
            }
        }
        let served = Arc::clone(&state);
        let svc = service.to_owned();
        let server = HttpStub::start(move |request| {
            if request.path != "/metrics" {
                return Reply::text(404, "not found\n");
            }
            let mut state = served.lock().unwrap_or_else(|e| e.into_inner());
            Reply {
                content_type: "text/plain; version=0.0.4".into(),
                ..Reply::text(200, &render(&svc, &mut state))
            }
        });
        Exporter {
            service: service.to_owned(),
            state,
            server,
        }
    }

    fn state(&self) -> MutexGuard<'_, ExporterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `host:port`, as a scrape target.
    pub fn target(&self) -> String {
        self.server.addr().to_string()
    }

    /// The service's name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Changes (or adds) a track's behaviour from now on. Counters keep
    /// counting: what was served so far at the old behaviour stays.
    pub fn set(&self, track: &str, behaviour: Behaviour) {
        let now = now_ms();
        let mut state = self.state();
        match state.tracks.get_mut(track) {
            Some(t) => {
                t.advance(now.max(t.at));
                t.behaviour = behaviour;
                t.since = t.at;
            }
            None => {
                state
                    .tracks
                    .insert(track.to_owned(), Track::new(behaviour, now));
            }
        }
    }

    /// A track's current behaviour.
    pub fn behaviour(&self, track: &str) -> Behaviour {
        self.state()
            .tracks
            .get(track)
            .map(|t| t.behaviour.clone())
            .unwrap_or_else(|| panic!("no track {track}"))
    }

    /// Serves a gauge `name{labels}` = `value` whose samples carry a
    /// timestamp `lag` before each scrape: data that arrives late.
    pub fn add_lagging_gauge(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        value: f64,
        lag: Duration,
    ) {
        self.state().gauges.push(Gauge {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
            lag,
        });
    }

    /// Counts one container restart of `track` from now on.
    pub fn restart(&self, track: &str) {
        *self.state().restarts.entry(track.to_owned()).or_default() += 1;
    }

    /// When the latest scrape was served (ms), if any.
    pub fn last_scrape(&self) -> Option<i64> {
        self.state().last_scrape
    }

    /// Since when (ms) every track's behaviour and the scrapes hold: the
    /// later of the first scrape and the latest [`Exporter::set`].
    fn steady_since(&self) -> Option<i64> {
        let state = self.state();
        let first = state.first_scrape?;
        Some(state.tracks.values().map(|t| t.since).fold(first, i64::max))
    }
}

/// One label set, written `{a="b",c="d"}`.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The exposition text of one scrape, at the exporter's time.
fn render(service: &str, state: &mut ExporterState) -> String {
    // Whole seconds (the scrape interval), each scrape on its own second:
    // then a window of whole seconds ending at a scrape starts at one, and
    // rate() needs no extrapolation, however late a scrape was.
    let wall = now_ms();
    let mut now = wall - wall.rem_euclid(1000);
    if let Some(last) = state.last_scrape
        && now <= last
    {
        now = last + 1000;
    }
    state.first_scrape.get_or_insert(now);
    state.last_scrape = Some(now);
    for track in state.tracks.values_mut() {
        track.advance(now);
    }
    let mut out = String::new();
    let line = |out: &mut String, name: &str, labels: &str, value: f64, at: i64| {
        let _ = writeln!(out, "{name}{labels} {value} {at}");
    };
    let _ = writeln!(out, "# TYPE shipgate_test_exporter_up gauge");
    line(&mut out, "shipgate_test_exporter_up", "", 1.0, now);

    let _ = writeln!(out, "# TYPE http_requests_total counter");
    for (name, t) in &state.tracks {
        let base = [("service", service), ("track", name.as_str())];
        for (code, value) in [("200", t.ok), ("500", t.errors)] {
            let l = labels(&[base[0], base[1], ("code", code)]);
            line(&mut out, "http_requests_total", &l, value, now);
        }
    }
    let _ = writeln!(out, "# TYPE http_request_duration_seconds histogram");
    for (name, t) in &state.tracks {
        let base = [("service", service), ("track", name.as_str())];
        for (i, value) in t.buckets.iter().enumerate() {
            let le = BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let l = labels(&[base[0], base[1], ("le", &le)]);
            line(
                &mut out,
                "http_request_duration_seconds_bucket",
                &l,
                *value,
                now,
            );
        }
        let l = labels(&base);
        line(
            &mut out,
            "http_request_duration_seconds_sum",
            &l,
            t.sum,
            now,
        );
        let count = t.buckets[t.buckets.len() - 1];
        line(
            &mut out,
            "http_request_duration_seconds_count",
            &l,
            count,
            now,
        );
    }
    // cAdvisor: the container's own cgroup (`container="app"`) and the pod's
    // (`container=""`, which queries must leave out).
    let cadvisor = |track: &str, container: &str| {
        let pod = format!("{service}-{track}-0");
        labels(&[
            ("service", service),
            ("track", track),
            ("namespace", "default"),
            ("pod", &pod),
            ("container", container),
        ])
    };
    let _ = writeln!(out, "# TYPE container_cpu_usage_seconds_total counter");
    for (name, t) in &state.tracks {
        for container in ["app", ""] {
            let l = cadvisor(name, container);
            line(
                &mut out,
                "container_cpu_usage_seconds_total",
                &l,
                t.cpu_seconds,
                now,
            );
        }
    }
    let quota = CPU_LIMIT_CORES * CPU_PERIOD_US;
    let _ = writeln!(out, "# TYPE container_spec_cpu_quota gauge");
    for name in state.tracks.keys() {
        line(
            &mut out,
            "container_spec_cpu_quota",
            &cadvisor(name, "app"),
            quota,
            now,
        );
    }
    let _ = writeln!(out, "# TYPE container_spec_cpu_period gauge");
    for name in state.tracks.keys() {
        let l = cadvisor(name, "app");
        line(
            &mut out,
            "container_spec_cpu_period",
            &l,
            CPU_PERIOD_US,
            now,
        );
    }
    let _ = writeln!(out, "# TYPE container_memory_working_set_bytes gauge");
    for (name, t) in &state.tracks {
        let bytes = t.behaviour.memory * MEMORY_LIMIT_BYTES;
        for container in ["app", ""] {
            let l = cadvisor(name, container);
            line(
                &mut out,
                "container_memory_working_set_bytes",
                &l,
                bytes,
                now,
            );
        }
    }
    let _ = writeln!(out, "# TYPE container_spec_memory_limit_bytes gauge");
    for name in state.tracks.keys() {
        let l = cadvisor(name, "app");
        line(
            &mut out,
            "container_spec_memory_limit_bytes",
            &l,
            MEMORY_LIMIT_BYTES,
            now,
        );
    }
    let _ = writeln!(
        out,
        "# TYPE kube_pod_container_status_restarts_total counter"
    );
    for name in state.tracks.keys() {
        let restarts = state.restarts.get(name).copied().unwrap_or(0);
        line(
            &mut out,
            "kube_pod_container_status_restarts_total",
            &cadvisor(name, "app"),
            restarts as f64,
            now,
        );
    }
    let mut names: Vec<&str> = state.gauges.iter().map(|g| g.name.as_str()).collect();
    names.dedup();
    for name in names {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for gauge in state.gauges.iter().filter(|g| g.name == name) {
            let pairs: Vec<(&str, &str)> = gauge
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let lag = i64::try_from(gauge.lag.as_millis()).unwrap_or(i64::MAX);
            line(&mut out, name, &labels(&pairs), gauge.value, now - lag);
        }
    }
    out
}

/// The `prometheus` binary: `$PROMETHEUS_BIN`, or Debian's.
pub fn prometheus_bin() -> PathBuf {
    std::env::var_os("PROMETHEUS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus"))
}

/// A Prometheus server started for a test: see the module documentation.
#[derive(Debug)]
pub struct PrometheusServer {
    child: Mutex<Option<Child>>,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts Prometheus scraping `exporter` every second, with `rules` (the
    /// text of a rule file) if given, and waits until it is ready (30 s at
    /// most).
    pub fn start(exporter: &Exporter, rules: Option<&str>) -> PrometheusServer {
        Self::start_scraping(&exporter.target(), rules)
    }

    /// Starts Prometheus scraping `exporter`, its target labelled `labels`
    /// (so its `up` series carries them; the exporter's own labels win over
    /// them, `honor_labels`).
    pub fn start_labelled(exporter: &Exporter, labels: &[(&str, &str)]) -> PrometheusServer {
        Self::launch_scraping(&exporter.target(), None, labels)
    }

    /// Starts Prometheus scraping `target` (`host:port`, path `/metrics`).
    pub fn start_scraping(target: &str, rules: Option<&str>) -> PrometheusServer {
        Self::launch_scraping(target, rules, &[])
    }

    fn launch_scraping(
        target: &str,
        rules: Option<&str>,
        target_labels: &[(&str, &str)],
    ) -> PrometheusServer {
        let bin = prometheus_bin();
        if !bin.exists() {
            panic!(
                "Prometheus is not installed at {}: install Debian's prometheus package \
                 (apt-get install prometheus), or set PROMETHEUS_BIN",
                bin.display()
            );
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: exporter\n    honor_timestamps: true\n    \
             static_configs:\n      - targets: [\"{target}\"]\n"
        );
        if !target_labels.is_empty() {
            config.push_str("        labels:\n");
            for (name, value) in target_labels {
                config.push_str(&format!("          {name}: \"{value}\"\n"));
            }
            config.push_str("    honor_labels: true\n");
        }
        if let Some(rules) = rules {
            std::fs::write(dir.path().join("rules.yml"), rules).expect("write rules.yml");
            config.push_str("rule_files:\n  - rules.yml\n");
        }
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("write prometheus.yml");
        let mut failures = Vec::new();
        // A port taken between choosing and binding it: try another.
        for _ in 0..3 {
            let addr = free_port();
            let mut child = launch(&bin, dir.path(), addr);
            match wait_ready(&mut child, addr, Duration::from_secs(30)) {
                Ok(()) => {
                    return PrometheusServer {
                        child: Mutex::new(Some(child)),
                        addr,
                        dir,
                    };
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let tail = tail(dir.path(), 20);
                    let clash = tail.contains("address already in use");
                    failures.push(format!("{why}\n--- its stderr ---\n{tail}"));
                    if !clash {
                        break;
                    }
                }
            }
        }
        panic!(
            "Prometheus did not get ready: {}",
            failures.join("\n--- again ---\n")
        )
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Kills Prometheus and waits for it (idempotent; from any thread).
    pub fn stop(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `lines` lines of its stderr.
    pub fn stderr_tail(&self, lines: usize) -> String {
        tail(self.dir.path(), lines)
    }

    /// An instant query now: the `data` of the answer, or why not.
    pub fn query(&self, promql: &str) -> Result<serde_json::Value, String> {
        let path = format!("/api/v1/query?query={}", percent_encode(promql));
        let (status, body) = http_get(self.addr, &path).map_err(|e| e.to_string())?;
        let answer: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("HTTP {status}: {e}: {body}"))?;
        if answer["status"] != "success" {
            return Err(format!("HTTP {status}: {body}"));
        }
        Ok(answer["data"].clone())
    }

    /// The values of an instant query's vector now (empty on error).
    pub fn values(&self, promql: &str) -> Vec<f64> {
        let Ok(data) = self.query(promql) else {
            return Vec::new();
        };
        data["result"]
            .as_array()
            .map(|series| {
                series
                    .iter()
                    .filter_map(|s| s["value"][1].as_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Polls `check` every 100 ms until it answers `Some`, and returns that;
    /// panics naming `what` after `timeout`.
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&PrometheusServer) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            if start.elapsed() > timeout {
                panic!(
                    "waited {timeout:?} for {what}\n--- Prometheus's stderr ---\n{}",
                    self.stderr_tail(10)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (60 s at most) until the instant query `promql` returns at
    /// least one series, and returns its values.
    pub fn wait_for_data(&self, promql: &str) -> Vec<f64> {
        self.wait_until(
            &format!("data from `{promql}`"),
            Duration::from_secs(60),
            |p| {
                let values = p.values(promql);
                (!values.is_empty()).then_some(values)
            },
        )
    }

    /// Waits (60 s at most) until Prometheus holds `span` of the exporter's
    /// current behaviour, and returns the time (ms) of the newest sample it
    /// holds. At that time, `rate()` over a window of whole seconds up to
    /// `span` minus two scrape intervals sees only the current behaviour,
    /// and (samples being on a whole-second grid, the newest at that very
    /// time) needs no extrapolation: the answer is exactly the behaviour's.
    /// Use it as the collection's `now`.
    pub fn settled(&self, exporter: &Exporter, span: Duration) -> i64 {
        let span = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
        self.wait_until(
            &format!("{span} ms of scraped history"),
            Duration::from_secs(60),
            |p| {
                let since = exporter.steady_since()?;
                let newest = p.values("timestamp(shipgate_test_exporter_up)");
                let newest = (newest.first()? * 1000.0).round() as i64;
                (newest - since >= span).then_some(newest)
            },
        )
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `bin` with its files in `dir`, listening on `addr`; stderr goes
/// to `dir/stderr.log`.
fn launch(bin: &std::path::Path, dir: &std::path::Path, addr: SocketAddr) -> Child {
    let log = std::fs::File::create(dir.join("stderr.log")).expect("create stderr.log");
    Command::new(bin)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()))
}

/// Polls `/-/ready` until it answers 200, the process exits, or `timeout`
/// passes.
fn wait_ready(child: &mut Child, addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited with {status}"));
        }
        if let Ok((200, _)) = http_get(addr, "/-/ready") {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(format!("not ready after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last `lines` lines of `dir/stderr.log`.
fn tail(dir: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A free loopback address (the port is released for the caller to bind).
pub fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address")
}

/// `GET path` over HTTP/1.0 (no chunking, the server closes): status and
/// body. For the harness's own polling.
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {head}")))?;
    Ok((status, body.to_owned()))
}

/// Percent-encodes a query parameter.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Decodes a percent-encoded query parameter (`+` is a space).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP request as [`HttpStub`] sees it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query's parameters, decoded.
    pub query: BTreeMap<String, String>,
    /// Headers, names in lower case.
    pub headers: BTreeMap<String, String>,
}

/// What [`HttpStub`] answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
    /// How long to wait before answering.
    pub delay: Duration,
    /// Send only this many bytes of the body (with the full length
    /// announced), then close: an answer cut off.
    pub cut_after: Option<usize>,
    /// More headers (name, value).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A `text/plain` answer.
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
            cut_after: None,
            headers: Vec::new(),
        }
    }

    /// An `application/json` answer.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            content_type: "application/json".into(),
            ..Reply::text(status, body)
        }
    }

    /// An `text/html` answer.
    pub fn html(status: u16, body: &str) -> Reply {
        Reply {
            content_type: "text/html; charset=utf-8".into(),
            ..Reply::text(status, body)
        }
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A tiny HTTP/1.1 server on a free loopback port: one thread per
/// connection, one request per connection (`Connection: close`), answered by
/// a closure. Stops on drop.
pub struct HttpStub {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl std::fmt::Debug for HttpStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStub")
            .field("addr", &self.addr)
            .finish()
    }
}

impl HttpStub {
    /// Starts answering with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> HttpStub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let (stop, in_flight, max_in_flight, requests) = (
                Arc::clone(&stop),
                Arc::clone(&in_flight),
                Arc::clone(&max_in_flight),
                Arc::clone(&requests),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let handler = Arc::clone(&handler);
                            let counters = Counters {
                                in_flight: Arc::clone(&in_flight),
                                max_in_flight: Arc::clone(&max_in_flight),
                                requests: Arc::clone(&requests),
                            };
                            std::thread::spawn(move || {
                                let _ = serve(stream, &*handler, &counters);
                            });
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        HttpStub {
            addr,
            stop,
            accept: Some(accept),
            in_flight,
            max_in_flight,
            requests,
        }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The most requests it has been answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests it is answering now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Requests it has received.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HttpStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// What [`HttpStub`] counts.
struct Counters {
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

/// Reads one request from `stream` and answers it. A request counts as in
/// flight from when it has been read until its answer starts (so a client
/// that waits for answers never sees more in flight than it sent).
fn serve(mut stream: TcpStream, handler: &Handler, counters: &Counters) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 || raw.len() > 1 << 20 {
            return Ok(());
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&raw);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let request = Request {
        method,
        path: path.to_owned(),
        query: query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect(),
        headers: lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect(),
    };
    counters.requests.fetch_add(1, Ordering::SeqCst);
    let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let reply = handler(&request);
    if !reply.delay.is_zero() {
        std::thread::sleep(reply.delay);
    }
    counters.in_flight.fetch_sub(1, Ordering::SeqCst);
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let extra: String = reply
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    stream.write_all(head.as_bytes())?;
    let body = match reply.cut_after {
        Some(n) => &reply.body[..n.min(reply.body.len())],
        None => &reply.body[..],
    };
    stream.write_all(body)?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_prometheus() {
        let latency = Latency::new(&[(0.05, 0.6), (0.1, 0.3), (0.25, 0.08), (0.5, 0.02)]);
        // From the bound below (0.025; the buckets under it are empty).
        assert!((latency.quantile(0.5) - (0.025 + 0.025 * 0.5 / 0.6)).abs() < 1e-15);
        assert!((latency.quantile(0.95) - 0.19375).abs() < 1e-12);
        assert!((latency.quantile(0.99) - 0.375).abs() < 1e-12);
        // A rank in +Inf: the last finite bound.
        let slow = Latency::new(&[(0.1, 0.5), (f64::INFINITY, 0.5)]);
        assert_eq!(slow.quantile(0.99), 10.0);
        // Leading empty buckets are skipped: interpolation starts at the
        // bucket below.
        let narrow = Latency::all_under(0.25);
        assert!((narrow.quantile(0.5) - 0.175).abs() < 1e-12);
    }

    #[test]
    fn percent_round_trip() {
        let text = r#"sum(rate(x{a="b", c=~"5.."}[5m])) / 2 + 1"#;
        assert_eq!(percent_decode(&percent_encode(text)), text);
        assert_eq!(percent_decode("a+b%2Fc%"), "a b/c%");
    }

    #[test]
    fn counters_integrate_the_behaviour() {
        let behaviour = Behaviour {
            request_rate: 10.0,
            error_ratio: 0.1,
            latency: Latency::all_under(0.1),
            cpu: 0.5,
            memory: 0.5,
        };
        let mut track = Track::new(behaviour, 0);
        track.advance(2000);
        assert!((track.ok - COUNTER_START - 18.0).abs() < 1e-9);
        assert!((track.errors - COUNTER_START - 2.0).abs() < 1e-9);
        assert!((track.cpu_seconds - COUNTER_START - 0.5).abs() < 1e-9);
        assert!((track.buckets[BUCKETS.len()] - COUNTER_START - 20.0).abs() < 1e-9);
    }
}
