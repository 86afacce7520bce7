//! Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`): one
//! bounded, timed request at a time, and its JSON answer read into
//! [`Answer`]. Every failure is one line worded for a person.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use shipgate_model::Timestamp;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::support::{innermost, io_error, io_words};

/// What a query answered.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Answer {
    /// An instant vector: one sample per series.
    Vector(Vec<Sample>),
    /// A scalar.
    Scalar(f64),
    /// A range vector: samples per series.
    Matrix(Vec<Series>),
    /// A string.
    String,
}

/// One series's sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Sample {
    /// The series's labels (`__name__` included when Prometheus keeps it).
    pub labels: BTreeMap<String, String>,
    /// Its value (NaN and ±Inf included).
    pub value: f64,
}

/// One series of a range vector.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Series {
    /// The values, oldest first (NaN and ±Inf included).
    pub values: Vec<f64>,
}

/// A client for one server: base URL, token, per-request timeout, a bound
/// on requests in flight and a deadline for the whole source.
pub(super) struct Api {
    http: reqwest::Client,
    base: Url,
    shown: String,
    token: Option<String>,
    query_timeout: Duration,
    source_timeout: Duration,
    deadline: Instant,
    in_flight: Semaphore,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.shown)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("query_timeout", &self.query_timeout)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// The settings of an [`Api`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// How long one request may take.
    pub query_timeout: Duration,
    /// The source's own timeout (for messages).
    pub source_timeout: Duration,
    /// When every request must have ended.
    pub deadline: Instant,
    /// Requests in flight at most.
    pub in_flight: usize,
}

/// `url` without user name and password, for messages.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// Seconds since the epoch, as the API reads a time (`1700000000.123`).
pub(super) fn api_time(at: Timestamp) -> String {
    // Exact: milliseconds since the epoch fit an f64's 53 bits.
    format!("{:.3}", at.0 as f64 / 1000.0)
}

impl Api {
    /// A client of the server at `base`.
    pub(super) fn new(
        http: reqwest::Client,
        base: Url,
        token: Option<String>,
        limits: Limits,
    ) -> Arc<Api> {
        Arc::new(Api {
            http,
            shown: shown(&base),
            base,
            token,
            query_timeout: limits.query_timeout,
            source_timeout: limits.source_timeout,
            deadline: limits.deadline,
            in_flight: Semaphore::new(limits.in_flight.max(1)),
        })
    }

    /// `GET /api/v1/query?query=…&time=…`.
    pub(super) async fn instant(&self, query: &str, at: Timestamp) -> Result<Answer, String> {
        self.get("api/v1/query", &[("query", query), ("time", &api_time(at))])
            .await
    }

    /// `GET /api/v1/query_range?query=…&start=…&end=…&step=…`.
    pub(super) async fn range(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Answer, String> {
        let step = format!("{}", step.as_secs_f64());
        self.get(
            "api/v1/query_range",
            &[
                ("query", query),
                ("start", &api_time(start)),
                ("end", &api_time(end)),
                ("step", &step),
            ],
        )
        .await
    }

    /// One request, in the bound, timed.
    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Answer, String> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| "the source was shut down".to_owned())?;
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.out_of_time());
        }
        let (limit, cut_short) = if left < self.query_timeout {
            (left, true)
        } else {
            (self.query_timeout, false)
        };
        let url = self
            .base
            .join(path)
            .map_err(|e| format!("cannot build the request's URL: {e}"))?;
        let mut request = self.http.get(url).query(params);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let exchange = async {
            let response = request.send().await.map_err(|e| self.describe(&e))?;
            let status = response.status();
            // The most an answer may weigh: more is an error, not an
            // allocation.
            let body = crate::support::read_body(response, shipgate_core::bounded::PROMETHEUS_BODY)
                .await
                .map_err(|e| match e {
                    crate::support::BodyError::Transport(e) => {
                        format!("the answer was cut off: {}", innermost(&e))
                    }
                    crate::support::BodyError::Read(e) => format!("the answer is {e}"),
                })?;
            parse(status, &body)
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) if cut_short => Err(self.out_of_time()),
            Err(_) => Err(format!(
                "timed out after {}",
                humantime::format_duration(self.query_timeout)
            )),
        }
    }

    /// The reason for a query that the source's deadline cut off.
    fn out_of_time(&self) -> String {
        format!(
            "timed out: the source's time limit ({}) ran out",
            humantime::format_duration(self.source_timeout)
        )
    }

    /// A failed request, in words.
    fn describe(&self, err: &reqwest::Error) -> String {
        if err.is_connect() {
            let why = io_error(err).map_or_else(|| innermost(err), io_words);
            format!("cannot reach {}: {why}", self.shown)
        } else if err.is_timeout() {
            format!(
                "timed out after {}",
                humantime::format_duration(self.query_timeout)
            )
        } else if err.is_redirect() {
            format!("too many redirects from {}", self.shown)
        } else {
            format!("the request failed: {}", innermost(err))
        }
    }
}

/// The envelope of every API answer.
#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    /// Prometheus's warnings: the answer is partial (a remote-read or
    /// federated store did not answer, a query limit cut it short).
    #[serde(default)]
    warnings: Vec<String>,
}

/// `data` of a query's answer.
#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct VectorItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

#[derive(Deserialize)]
struct MatrixItem {
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Reads an answer with HTTP status `status` and body `body`. The error
/// quotes the answer (Prometheus's own words, a result type) and becomes a
/// gap's reason, so it is escaped onto one line.
pub(super) fn parse(status: StatusCode, body: &[u8]) -> Result<Answer, String> {
    parse_body(status, body).map_err(|e| shipgate_core::escape::escape_line(&e).into_owned())
}

fn parse_body(status: StatusCode, body: &[u8]) -> Result<Answer, String> {
    let envelope = match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => envelope,
        Err(e) => return Err(not_json(status, body, &e)),
    };
    if envelope.status != "success" {
        let kind = envelope.error_type.unwrap_or_default();
        let error = envelope.error.unwrap_or_default();
        return Err(match (kind.is_empty(), error.is_empty()) {
            (_, true) if !status.is_success() => format!("HTTP {status}"),
            (true, true) => format!("the answer's status is `{}`", envelope.status),
            (true, false) => error,
            (false, true) => kind,
            (false, false) => format!("{kind}: {error}"),
        });
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    // Partial data is not data: a value computed from part of the series
    // could let a canary promote on what was not seen. The measurement is
    // an error (missing data), and the policies hold.
    if !envelope.warnings.is_empty() {
        let warnings: Vec<String> = envelope.warnings.iter().map(|w| preview(w)).collect();
        return Err(format!(
            "Prometheus answered with partial data (warnings: {})",
            warnings.join("; ")
        ));
    }
    let shape =
        |e: serde_json::Error| format!("the answer is not in Prometheus's query format: {e}");
    let data: Data = serde_json::from_value(envelope.data.unwrap_or_default()).map_err(shape)?;
    match data.result_type.as_str() {
        "vector" => {
            let items: Vec<VectorItem> = serde_json::from_value(data.result).map_err(shape)?;
            items
                .into_iter()
                .map(|item| {
                    Ok(Sample {
                        labels: item.metric,
                        value: number(&item.value.1)?,
                    })
                })
                .collect::<Result<_, String>>()
                .map(Answer::Vector)
        }
        "scalar" => {
            let (_, value): (f64, String) = serde_json::from_value(data.result).map_err(shape)?;
            Ok(Answer::Scalar(number(&value)?))
        }
        "matrix" => {
            let items: Vec<MatrixItem> = serde_json::from_value(data.result).map_err(shape)?;
            items
                .into_iter()
                .map(|item| {
                    Ok(Series {
                        values: item
                            .values
                            .iter()
                            .map(|(_, v)| number(v))
                            .collect::<Result<_, String>>()?,
                    })
                })
                .collect::<Result<_, String>>()
                .map(Answer::Matrix)
        }
        "string" => Ok(Answer::String),
        other => Err(format!("the answer has an unknown result type `{other}`")),
    }
}

/// A sample value as Prometheus writes it (`"0.25"`, `"NaN"`, `"+Inf"`).
fn number(text: &str) -> Result<f64, String> {
    text.parse::<f64>().map_err(|_| {
        format!(
            "the answer has a sample value that is not a number: `{}`",
            preview(text)
        )
    })
}

/// Why `body` (HTTP status `status`) is not an API answer.
fn not_json(status: StatusCode, body: &[u8], err: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    let html = trimmed.starts_with('<');
    if !status.is_success() {
        return if html || trimmed.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {}", preview(trimmed))
        };
    }
    if trimmed.is_empty() {
        "the answer is empty".into()
    } else if html {
        "the answer is an HTML page, not Prometheus's JSON API (is `url` the Prometheus server?)"
            .into()
    } else if err.is_eof() {
        format!("the answer is truncated JSON ({err})")
    } else {
        format!("the answer is not Prometheus's JSON ({err})")
    }
}

/// The start of `text`'s first line, at most 80 characters, printable, with
/// every secret masked first (cutting could leave half of one).
fn preview(text: &str) -> String {
    let text = shipgate_core::redact::scrub(text);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out: String = line
        .trim()
        .chars()
        .take(80)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.trim().chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use shipgate_core::config::sources::prometheus::base_url;

    use super::*;

    fn ok(body: &str) -> Result<Answer, String> {
        parse(StatusCode::OK, body.as_bytes())
    }

    #[test]
    fn line_breaks_in_an_unsuccessful_answer_stay_out_of_the_reason() {
        // Found by the `prometheus` fuzz target: an answer's own status or
        // error text becomes a gap's reason, which is one line.
        let err = ok(r#"{"status":"no\nsuccess","data":{}}"#).unwrap_err();
        assert_eq!(err, "the answer's status is `no\\nsuccess`");
        let err = parse(
            StatusCode::BAD_REQUEST,
            br#"{"status":"error","errorType":"bad_data","error":"parse error:\r\nGO"}"#,
        )
        .unwrap_err();
        assert_eq!(err, "bad_data: parse error:\\r\\nGO");
        let err =
            ok(r#"{"status":"success","data":{"resultType":"scal\r","result":[]}}"#).unwrap_err();
        assert_eq!(err, "the answer has an unknown result type `scal\\r`");
    }

    #[test]
    fn reads_a_vector() {
        let answer = ok(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"track":"canary"},"value":[1700000000.5,"0.25"]},
            {"metric":{},"value":[1700000000.5,"NaN"]},
            {"metric":{},"value":[1700000000.5,"+Inf"]},
            {"metric":{},"value":[1700000000.5,"-Inf"]}]}}"#,
        )
        .unwrap();
        let Answer::Vector(samples) = answer else {
            panic!("{answer:?}")
        };
        assert_eq!(samples[0].value, 0.25);
        assert_eq!(samples[0].labels["track"], "canary");
        assert!(samples[1].value.is_nan());
        assert_eq!(samples[2].value, f64::INFINITY);
        assert_eq!(samples[3].value, f64::NEG_INFINITY);
    }

    #[test]
    fn reads_scalars_matrices_and_strings() {
        assert_eq!(
            ok(r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"2"]}}"#),
            Ok(Answer::Scalar(2.0))
        );
        assert_eq!(
            ok(
                r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"3"]]}]}}"#
            ),
            Ok(Answer::Matrix(vec![Series {
                values: vec![1.0, 3.0]
            }]))
        );
        assert_eq!(
            ok(r#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#),
            Ok(Answer::String)
        );
    }

    #[test]
    fn partial_data_is_not_data() {
        let body = r#"{"status":"success","warnings":["remote store `eu-1` did not answer"],
            "data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.5,"0.001"]}]}}"#;
        assert_eq!(
            ok(body).unwrap_err(),
            "Prometheus answered with partial data (warnings: remote store `eu-1` did not answer)"
        );
        let body = r#"{"status":"success","warnings":[],"infos":["x"],
            "data":{"resultType":"scalar","result":[1,"2"]}}"#;
        assert_eq!(ok(body), Ok(Answer::Scalar(2.0)));
    }

    #[test]
    fn api_errors_keep_prometheus_words() {
        let body = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}"#;
        assert_eq!(
            parse(StatusCode::BAD_REQUEST, body.as_bytes()).unwrap_err(),
            "bad_data: invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"
        );
    }

    #[test]
    fn other_answers_are_named() {
        assert_eq!(
            ok("<!DOCTYPE html><html><body>Grafana</body></html>").unwrap_err(),
            "the answer is an HTML page, not Prometheus's JSON API (is `url` the Prometheus server?)"
        );
        assert!(
            ok(r#"{"status":"success","data":{"resultType":"vec"#)
                .unwrap_err()
                .starts_with("the answer is truncated JSON (EOF while parsing"),
        );
        assert!(
            ok("hello")
                .unwrap_err()
                .starts_with("the answer is not Prometheus's JSON (expected value")
        );
        assert_eq!(ok("").unwrap_err(), "the answer is empty");
        assert_eq!(
            parse(StatusCode::BAD_GATEWAY, b"<html>nginx</html>").unwrap_err(),
            "HTTP 502 Bad Gateway"
        );
        assert_eq!(
            parse(StatusCode::UNAUTHORIZED, b"missing token\n").unwrap_err(),
            "HTTP 401 Unauthorized: missing token"
        );
        assert!(
            ok(r#"{"status":"success","data":{"resultType":"vector","result":{"a":1}}}"#)
                .unwrap_err()
                .starts_with("the answer is not in Prometheus's query format")
        );
        assert_eq!(
            ok(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"many"]}]}}"#)
                .unwrap_err(),
            "the answer has a sample value that is not a number: `many`"
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            base_url("http://prom:9090").unwrap().as_str(),
            "http://prom:9090/"
        );
        assert_eq!(
            base_url("https://h/prometheus?x=1")
                .unwrap()
                .join("api/v1/query")
                .unwrap()
                .as_str(),
            "https://h/prometheus/api/v1/query"
        );
        assert_eq!(base_url(" ").unwrap_err(), "`url` is empty");
        assert!(base_url("prom:9090").is_err());
        assert!(base_url("ftp://prom").is_err());
        let secret = base_url("http://user:pw@prom:9090").unwrap();
        assert_eq!(shown(&secret), "http://prom:9090/");
        assert_eq!(api_time(Timestamp(1_700_000_000_123)), "1700000000.123");
        assert_eq!(api_time(Timestamp(1_700_000_000_000)), "1700000000.000");
    }
}
