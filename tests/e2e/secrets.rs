//! Secrets never leave the host, even through someone else's error text: a
//! Prometheus (and a GitHub API) that echoes the request's headers in its
//! error body, configured with a token or with credentials in its URL. The
//! real binary runs `check` in every format with tracing at `trace`, a step
//! summary and a decision log, and `snapshot --out`; the secret is in none of
//! stdout, stderr, the summary, the log or the snapshot.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::support::{run, shipgate};

/// The bearer token Prometheus is given through `token_env`.
const PROM_TOKEN: &str = "prom-T0KEN-e2e-must-not-leak";
/// The GitHub token (`GITHUB_TOKEN`).
const GITHUB_TOKEN: &str = "ghp-T0KEN-e2e-must-not-leak";
/// The user and password written into the URLs.
const URL_USER: &str = "alice";
const URL_PASSWORD: &str = "pw-Url-S3cret-must-not-leak";

/// An HTTP server on loopback that answers every request with an error whose
/// body echoes the request's headers, `Authorization` first: under a path
/// starting `/text/` as a plain-text 500 (after 40 characters of preamble,
/// so that a source quoting only the first 80 characters of a line cuts the
/// token in two), otherwise as a JSON 400 in the
/// shape of both Prometheus's (`error`) and GitHub's (`message`) errors.
/// Runs until the test process ends; returns its base URL (`127.0.0.1:PORT`,
/// no scheme).
fn echo_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new().fallback(|uri: Uri, headers: HeaderMap| async move {
                let mut echoed = String::new();
                if let Some(auth) = headers.get("authorization") {
                    echoed.push_str(&format!("Authorization: {}", auth.to_str().unwrap()));
                }
                for (name, value) in &headers {
                    if name != "authorization" {
                        echoed.push_str(&format!("; {name}: {}", value.to_str().unwrap_or("?")));
                    }
                }
                let response: Response = if uri.path().starts_with("/text/") {
                    let preamble = format!("{:-<39} ", "error");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("{preamble}{echoed}\n"),
                    )
                        .into_response()
                } else {
                    let body = serde_json::json!({
                        "status": "error",
                        "errorType": "bad_data",
                        "error": format!("rejected request with {echoed}"),
                        "message": format!("rejected request with {echoed}"),
                    });
                    (
                        StatusCode::BAD_REQUEST,
                        [("content-type", "application/json")],
                        body.to_string(),
                    )
                        .into_response()
                };
                response
            });
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// A folder with a `shipgate.toml` reading Prometheus at `prometheus_url`
/// (with `token_env = "PROM_TOKEN"` when `token`) and GitHub at `github_url`.
fn setup(prometheus_url: &str, token: bool, github_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let token_env = if token {
        "token_env = \"PROM_TOKEN\"\n"
    } else {
        ""
    };
    std::fs::write(
        dir.path().join("shipgate.toml"),
        format!(
            r#"[deployment]
service = "orders"
environment = "production"
version = "v2"

[sources.prometheus]
url = "{prometheus_url}"
service = "orders"
{token_env}timeout = "3s"
query_timeout = "2s"

[sources.github]
api_url = "{github_url}"
repository = "acme/orders"
sha = "9c1e4f2a7b3d5e6f8091a2b3c4d5e6f708192a3b"
timeout = "2s"

[[policies]]
name = "canary"
source = "builtin:canary"
"#
        ),
    )
    .unwrap();
    dir
}

/// `shipgate ARGS` in `dir` with the secrets in its environment, tracing at
/// `trace`, and a step summary.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = shipgate();
    cmd.current_dir(dir)
        .args(args)
        .env("SHIPGATE_LOG", "trace")
        .env("PROM_TOKEN", PROM_TOKEN)
        .env("GITHUB_TOKEN", GITHUB_TOKEN)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env_remove("GITHUB_API_URL")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_REF");
    cmd
}

/// base64 of `text` (standard alphabet, padded): how HTTP Basic carries
/// `user:password`.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every form of every secret that must not appear.
fn secrets() -> Vec<String> {
    let userinfo = format!("{URL_USER}:{URL_PASSWORD}");
    vec![
        PROM_TOKEN.to_owned(),
        GITHUB_TOKEN.to_owned(),
        URL_PASSWORD.to_owned(),
        base64(&userinfo),
        userinfo,
    ]
}

/// Asserts that `text` holds no secret, nor the first 12 characters of one
/// (a message cut short must not keep half a token).
fn assert_clean(what: &str, text: &str) {
    for secret in secrets() {
        let start: String = secret.chars().take(12).collect();
        assert!(
            !text.contains(&start),
            "{what} leaks `{secret}` (or its start):\n{text}"
        );
    }
}

/// Runs the attack against one configuration: `check` in each format with
/// a log and a summary, and `snapshot --out`. Returns everything written
/// (stdout and stderr of each run, the summary, the log and the snapshot).
fn attack(dir: &Path) -> Vec<(String, String)> {
    let mut outputs = Vec::new();
    let log: PathBuf = dir.join("decisions.jsonl");
    for format in ["text", "json", "markdown"] {
        let (code, stdout, stderr) = run(command(
            dir,
            &["check", "--stage", "canary", "--format", format, "--log"],
        )
        .arg(&log));
        assert!(
            [2, 4].contains(&code),
            "{format}: exit {code}\n{stdout}\n{stderr}"
        );
        outputs.push((format!("check --format {format}: stdout"), stdout));
        outputs.push((format!("check --format {format}: stderr"), stderr));
    }
    let snapshot = dir.join("snapshot.json");
    let (code, stdout, stderr) = run(command(dir, &["snapshot", "--out"]).arg(&snapshot));
    assert_eq!(code, 0, "{stderr}");
    outputs.push(("snapshot: stdout".into(), stdout));
    outputs.push(("snapshot: stderr".into(), stderr));
    for file in [dir.join("summary.md"), log, snapshot] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.is_empty(), "{} is empty", file.display());
        outputs.push((file.display().to_string(), text));
    }
    outputs
}

/// Checks that no secret is in any output, and that the attack reached the
/// outputs at all (the echo is in the JSON report, masked).
fn assert_attack_contained(outputs: &[(String, String)], masked: &str) {
    for (what, text) in outputs {
        assert_clean(what, text);
    }
    let (_, report) = outputs
        .iter()
        .find(|(what, _)| what == "check --format json: stdout")
        .unwrap();
    assert!(
        report.contains(masked),
        "the echo did not reach the report, so the test proves nothing:\n{report}"
    );
}

#[test]
fn a_prometheus_echoing_the_bearer_token_in_a_json_error_leaks_it_nowhere() {
    let addr = echo_server();
    let dir = setup(
        &format!("http://{addr}/json/"),
        true,
        &format!("http://{addr}/gh"),
    );
    let outputs = attack(dir.path());
    assert_attack_contained(&outputs, "Authorization: Bearer ***");
}

#[test]
fn a_prometheus_echoing_the_bearer_token_in_a_text_error_leaks_it_nowhere() {
    let addr = echo_server();
    let dir = setup(
        &format!("http://{addr}/text/"),
        true,
        &format!("http://{addr}/gh"),
    );
    let outputs = attack(dir.path());
    assert_attack_contained(&outputs, "Authorization: Bearer ***");
}

#[test]
fn credentials_in_the_prometheus_and_github_urls_leak_nowhere() {
    let addr = echo_server();
    let dir = setup(
        &format!("http://{URL_USER}:{URL_PASSWORD}@{addr}/json/"),
        false,
        &format!("http://{URL_USER}:{URL_PASSWORD}@{addr}/gh"),
    );
    let outputs = attack(dir.path());
    assert_attack_contained(&outputs, "Authorization: Basic ***");
    // The GitHub source's debug line names the URL it asks, credentials
    // masked.
    let (_, stderr) = outputs
        .iter()
        .find(|(what, _)| what == "check --format text: stderr")
        .unwrap();
    assert!(stderr.contains("github: GET"), "{stderr}");
}
