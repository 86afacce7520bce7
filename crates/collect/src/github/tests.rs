//! The `github` source against a local fake of GitHub's REST API that
//! serves the fixtures in `tests/fixtures/github/` and checks what it is
//! sent.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use shipgate_model::{
    Approval, Check, CheckConclusion, MergeState, PullRequest, ReviewState, Timestamp,
};

use super::*;
use crate::support::MapVars;

const TOKEN: &str = "ghp_SECRET_TOKEN_must_not_leak";
const HEAD: &str = "9c1e4f2a7b3d5e6f8091a2b3c4d5e6f708192a3b";
/// `GITHUB_SHA` in [`actions`]: for a pull_request event, the merge commit.
const GITHUB_SHA: &str = "e5bd3914e2e596debea16f433f57875b5b90bcd6";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/github")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_dir().join(name)).unwrap()
}

/// What the fake server answers: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

/// One request the fake server received.
#[derive(Debug, Clone)]
struct Seen {
    path_and_query: String,
    headers: HeaderMap,
}

/// A fake GitHub on 127.0.0.1: every request is recorded, then answered by
/// `respond(base_url, path_and_query)`.
struct Fake {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(respond: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let respond = Arc::new(respond);
        let app = {
            let (seen, base) = (Arc::clone(&seen), base.clone());
            axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
                let (seen, base, respond) = (Arc::clone(&seen), base.clone(), Arc::clone(&respond));
                async move {
                    let path_and_query = uri
                        .path_and_query()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    seen.lock().unwrap().push(Seen {
                        path_and_query: path_and_query.clone(),
                        headers,
                    });
                    let (status, extra, body) = respond(&base, &path_and_query);
                    let mut response: Response = (
                        StatusCode::from_u16(status).unwrap(),
                        [("content-type", "application/json; charset=utf-8")],
                        body,
                    )
                        .into_response();
                    for (name, value) in extra {
                        response.headers_mut().append(name, value.parse().unwrap());
                    }
                    response
                }
            })
        };
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The paths and queries received, sorted.
    fn requests(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.seen().into_iter().map(|s| s.path_and_query).collect();
        paths.sort();
        paths
    }
}

fn ok(body: String) -> Answer {
    (200, Vec::new(), body)
}

/// `Link` header pointing at page 2 of `path`.
fn next_page(base: &str, path: &str) -> Vec<(&'static str, String)> {
    vec![(
        "link",
        format!(
            "<{base}{path}?per_page=100&page=2>; rel=\"next\", <{base}{path}?per_page=100&page=2>; rel=\"last\""
        ),
    )]
}

/// GitHub as the fixtures describe it, for `acme/checkout` at [`HEAD`].
fn github(base: &str, path_and_query: &str) -> Answer {
    let runs = format!("/repos/acme/checkout/commits/{HEAD}/check-runs");
    let reviews = "/repos/acme/checkout/pulls/42/reviews";
    match path_and_query {
        p if p == format!("{runs}?per_page=100") => (
            200,
            next_page(base, &runs),
            fixture("check-runs-page-1.json"),
        ),
        p if p == format!("{runs}?per_page=100&page=2") => ok(fixture("check-runs-page-2.json")),
        p if p == format!("/repos/acme/checkout/commits/{HEAD}/status?per_page=100") => {
            ok(fixture("combined-status.json"))
        }
        "/repos/acme/checkout/pulls/42" => ok(fixture("pull.json")),
        p if p == format!("/repos/acme/checkout/compare/main...{HEAD}?per_page=1") => {
            ok(fixture("compare.json"))
        }
        p if p == format!("{reviews}?per_page=100") => (
            200,
            next_page(base, reviews),
            fixture("reviews-page-1.json"),
        ),
        p if p == format!("{reviews}?per_page=100&page=2") => ok(fixture("reviews-page-2.json")),
        _ => (404, Vec::new(), fixture("error-404.json")),
    }
}

/// A context as GitHub Actions sets it up for a `pull_request` event, with
/// the event payload copied to a temporary file.
struct Actions {
    _dir: tempfile::TempDir,
    ctx: Context,
}

fn actions(api_url: &str, event: &str, token: Option<&str>) -> Actions {
    let dir = tempfile::tempdir().unwrap();
    let event_path = dir.path().join("event.json");
    std::fs::copy(fixture_dir().join(event), &event_path).unwrap();
    let mut vars = vec![
        ("GITHUB_API_URL", api_url.to_owned()),
        ("GITHUB_REPOSITORY", "acme/checkout".to_owned()),
        ("GITHUB_EVENT_PATH", event_path.display().to_string()),
        // The merge commit of a pull_request event: not the head.
        ("GITHUB_SHA", GITHUB_SHA.to_owned()),
        ("GITHUB_REF", "refs/pull/42/merge".to_owned()),
    ];
    if let Some(token) = token {
        vars.push(("GITHUB_TOKEN", token.to_owned()));
    }
    Actions {
        ctx: Context {
            base_dir: dir.path().to_owned(),
            now: Timestamp(0),
            vars: Arc::new(MapVars::new(vars)),
            // As the orchestrator derives it: from GITHUB_SHA.
            commit: Some(GITHUB_SHA.to_owned()),
        },
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    crate::http_client().unwrap()
}

fn at(text: &str) -> Option<Timestamp> {
    Some(text.parse().unwrap())
}

fn check(name: &str, conclusion: CheckConclusion, required: bool, url: Option<&str>) -> Check {
    Check {
        name: name.to_owned(),
        conclusion,
        required,
        url: url.map(str::to_owned),
    }
}

fn approval(reviewer: &str, state: ReviewState, human: bool, when: &str) -> Approval {
    Approval {
        reviewer: reviewer.to_owned(),
        state,
        human,
        at: at(when),
    }
}

/// Asserts that `text` does not contain the token.
fn assert_no_token(text: &str) {
    assert!(!text.contains(TOKEN), "the token leaked into: {text}");
    assert!(
        !text.contains("SECRET"),
        "part of the token leaked into: {text}"
    );
}

#[tokio::test]
async fn pull_request_event_gives_the_exact_facts_and_sends_the_right_requests() {
    let fake = Fake::start(github).await;
    let env = actions(&fake.base, "event-pull_request.json", Some(TOKEN));
    let config = GithubConfig {
        required_checks: vec!["build".to_owned(), "security-scan".to_owned()],
        ..GithubConfig::default()
    };
    let facts = collect(&config, &env.ctx, &client()).await.unwrap();

    let expected = GithubFacts {
        pull_request: Some(PullRequest {
            number: 42,
            title: "Fix rounding in order totals".to_owned(),
            author: Some("octocat".to_owned()),
            base_branch: Some("main".to_owned()),
            head_branch: Some("fix/rounding".to_owned()),
            url: Some("https://github.com/acme/checkout/pull/42".to_owned()),
        }),
        checks: vec![
            // Re-run: the run started last (page 1) wins over the failed
            // first run listed on page 2.
            check(
                "build",
                CheckConclusion::Success,
                true,
                Some("https://github.com/acme/checkout/actions/runs/9100/job/30000105"),
            ),
            check(
                "ci/jenkins",
                CheckConclusion::Success,
                false,
                Some("https://jenkins.example.com/job/checkout/1184/"),
            ),
            check(
                "deploy-preview",
                CheckConclusion::Stale,
                false,
                Some("https://github.com/acme/checkout/runs/30000060"),
            ),
            check("deploy/netlify", CheckConclusion::Pending, false, None),
            check(
                "e2e",
                CheckConclusion::TimedOut,
                false,
                Some("https://github.com/acme/checkout/actions/runs/9100/job/30000108"),
            ),
            // A commit status in state `error`.
            check(
                "license/cla",
                CheckConclusion::Failure,
                false,
                Some("https://cla.example.com/acme/checkout?pullRequest=42"),
            ),
            check(
                "lint",
                CheckConclusion::Success,
                false,
                Some("https://github.com/acme/checkout/actions/runs/9100/job/30000106"),
            ),
            // A running check run and a successful status of the same name:
            // the less favourable one.
            check(
                "security-scan",
                CheckConclusion::Pending,
                true,
                Some("https://github.com/acme/checkout/runs/30000107"),
            ),
        ],
        merge_state: MergeState::Behind,
        commits_behind_base: Some(2),
        approvals: vec![
            // Approved, then commented: still approved.
            approval("alice", ReviewState::Approved, true, "2026-11-20T09:00:00Z"),
            // Requested changes, then approved on page 2.
            approval("bob", ReviewState::Approved, true, "2026-11-20T09:40:00Z"),
            approval(
                "carol",
                ReviewState::Dismissed,
                true,
                "2026-11-19T16:00:00Z",
            ),
            approval(
                "dependabot[bot]",
                ReviewState::Approved,
                false,
                "2026-11-20T09:45:00Z",
            ),
            // dave (pending) and erin (comment only) are not listed.
        ],
    };
    assert_eq!(facts, expected);

    // Exactly these requests: both pages of both paginated lists, the
    // head commit from the event payload (not GITHUB_SHA's merge commit),
    // the compare against the PR's base branch.
    assert_eq!(
        fake.requests(),
        vec![
            format!("/repos/acme/checkout/commits/{HEAD}/check-runs?per_page=100"),
            format!("/repos/acme/checkout/commits/{HEAD}/check-runs?per_page=100&page=2"),
            format!("/repos/acme/checkout/commits/{HEAD}/status?per_page=100"),
            format!("/repos/acme/checkout/compare/main...{HEAD}?per_page=1"),
            "/repos/acme/checkout/pulls/42".to_owned(),
            "/repos/acme/checkout/pulls/42/reviews?per_page=100".to_owned(),
            "/repos/acme/checkout/pulls/42/reviews?per_page=100&page=2".to_owned(),
        ]
    );
    for seen in fake.seen() {
        let header = |name: &str| {
            seen.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let what = &seen.path_and_query;
        assert_eq!(
            header("authorization"),
            Some(format!("Bearer {TOKEN}")),
            "{what}"
        );
        assert_eq!(
            header("x-github-api-version"),
            Some("2022-11-28".to_owned()),
            "{what}"
        );
        assert_eq!(
            header("accept"),
            Some("application/vnd.github+json".to_owned()),
            "{what}"
        );
        assert!(
            header("user-agent").unwrap().starts_with("shipgate/"),
            "{what}"
        );
    }

    assert_no_token(&format!("{facts:?}"));
    assert_no_token(&format!("{config:?}"));
    let target = Target::resolve(&config, &env.ctx).unwrap();
    assert_no_token(&format!("{target:?}"));
    assert!(format!("{target:?}").contains("token: Some(***)"));
}

#[tokio::test]
async fn push_event_reads_only_the_commit_and_leaves_merge_state_unknown() {
    let fake = Fake::start(github).await;
    let mut env = actions(&fake.base, "event-push.json", Some(TOKEN));
    // A push event: GITHUB_REF is a branch and the commit is GITHUB_SHA
    // (here, as the orchestrator passes it, the context's commit).
    env.ctx.vars = Arc::new(MapVars::new([
        ("GITHUB_API_URL", fake.base.clone()),
        ("GITHUB_REPOSITORY", "acme/checkout".to_owned()),
        (
            "GITHUB_EVENT_PATH",
            env._dir.path().join("event.json").display().to_string(),
        ),
        ("GITHUB_REF", "refs/heads/main".to_owned()),
        ("GITHUB_TOKEN", TOKEN.to_owned()),
    ]));
    env.ctx.commit = Some(HEAD.to_owned());
    let facts = collect(&GithubConfig::default(), &env.ctx, &client())
        .await
        .unwrap();
    assert_eq!(facts.pull_request, None);
    assert_eq!(facts.merge_state, MergeState::Unknown);
    assert_eq!(facts.commits_behind_base, None);
    assert_eq!(facts.approvals, Vec::new());
    assert_eq!(facts.checks.len(), 8);
    assert!(facts.checks.iter().all(|c| !c.required));
    assert_eq!(
        fake.requests(),
        vec![
            format!("/repos/acme/checkout/commits/{HEAD}/check-runs?per_page=100"),
            format!("/repos/acme/checkout/commits/{HEAD}/check-runs?per_page=100&page=2"),
            format!("/repos/acme/checkout/commits/{HEAD}/status?per_page=100"),
        ]
    );
}

/// Runs the source against a server that answers every request with
/// `answer`, and returns the error text after checking it hides the token.
async fn fault(answer: Answer, token: Option<&str>) -> String {
    let fake = Fake::start(move |_, _| answer.clone()).await;
    let env = actions(&fake.base, "event-pull_request.json", token);
    let err = collect(&GithubConfig::default(), &env.ctx, &client())
        .await
        .unwrap_err();
    assert_no_token(&err.0);
    assert!(!err.0.contains('\n'), "{err}");
    err.0
}

#[tokio::test]
async fn unauthorized_says_the_token_was_not_accepted() {
    let err = fault((401, Vec::new(), fixture("error-401.json")), Some(TOKEN)).await;
    assert_eq!(
        err,
        format!(
            "GET /repos/acme/checkout/commits/{HEAD}/check-runs: 401 Unauthorized: Bad credentials \
             (the token in GITHUB_TOKEN was not accepted)"
        )
    );
}

#[tokio::test]
async fn not_found_without_a_token_says_the_token_variable_is_not_set() {
    let err = fault((404, Vec::new(), fixture("error-404.json")), None).await;
    assert_eq!(
        err,
        format!(
            "GET /repos/acme/checkout/commits/{HEAD}/check-runs: 404 Not Found: Not Found \
             (no token was sent: GITHUB_TOKEN is not set)"
        )
    );
}

#[tokio::test]
async fn unauthenticated_requests_send_no_authorization_header() {
    let fake = Fake::start(github).await;
    // An empty variable (a missing secret in Actions) counts as not set.
    let env = actions(&fake.base, "event-pull_request.json", Some(""));
    collect(&GithubConfig::default(), &env.ctx, &client())
        .await
        .unwrap();
    assert!(!fake.seen().is_empty());
    assert!(
        fake.seen()
            .iter()
            .all(|s| !s.headers.contains_key("authorization"))
    );
}

#[tokio::test]
async fn rate_limit_quotes_githubs_message() {
    let err = fault(
        (403, Vec::new(), fixture("error-403-rate-limit.json")),
        Some(TOKEN),
    )
    .await;
    assert_eq!(
        err,
        format!(
            "GET /repos/acme/checkout/commits/{HEAD}/check-runs: 403 Forbidden: API rate limit \
             exceeded for 203.0.113.7. (But here's the good news: Authenticated requests get a \
             higher rate limit. Check out the documentation for more details.)"
        )
    );
}

#[tokio::test]
async fn server_error_without_a_body_gives_the_status() {
    let err = fault((500, Vec::new(), String::new()), Some(TOKEN)).await;
    assert_eq!(
        err,
        format!("GET /repos/acme/checkout/commits/{HEAD}/check-runs: 500 Internal Server Error")
    );
}

#[tokio::test]
async fn garbage_json_says_what_was_expected_and_where() {
    let err = fault(ok("<html>unicorn</html>".to_owned()), Some(TOKEN)).await;
    assert_eq!(
        err,
        format!(
            "invalid response from GET /repos/acme/checkout/commits/{HEAD}/check-runs: \
             expected value at line 1 column 1"
        )
    );
    let err = fault(ok(r#"{"total_count": 1}"#.to_owned()), Some(TOKEN)).await;
    assert_eq!(
        err,
        format!(
            "invalid response from GET /repos/acme/checkout/commits/{HEAD}/check-runs: \
             missing field `check_runs` at line 1 column 18"
        )
    );
}

#[tokio::test]
async fn an_echoed_token_is_redacted() {
    // A misbehaving proxy that quotes the Authorization header back.
    let fake = Fake::start(|_, _| {
        (
            502,
            Vec::new(),
            format!(r#"{{"message": "upstream rejected Bearer {TOKEN}"}}"#),
        )
    })
    .await;
    let env = actions(&fake.base, "event-pull_request.json", Some(TOKEN));
    let err = collect(&GithubConfig::default(), &env.ctx, &client())
        .await
        .unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "GET /repos/acme/checkout/commits/{HEAD}/check-runs: 502 Bad Gateway: upstream \
             rejected Bearer ***"
        )
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_per_request() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Accepts connections and holds them open without a byte of answer.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let env = actions(&base, "event-pull_request.json", Some(TOKEN));
    let config = GithubConfig {
        timeout: Some(Duration(std::time::Duration::from_millis(300))),
        ..GithubConfig::default()
    };
    let start = std::time::Instant::now();
    let err = collect(&config, &env.ctx, &client()).await.unwrap_err();
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        err.0,
        format!("GET /repos/acme/checkout/commits/{HEAD}/check-runs timed out after 300ms")
    );
    assert_no_token(&err.0);
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let env = actions(&base, "event-pull_request.json", Some(TOKEN));
    let err = collect(&GithubConfig::default(), &env.ctx, &client())
        .await
        .unwrap_err();
    assert_eq!(err.0, format!("cannot reach {base}: connection refused"));
    assert_no_token(&err.0);
}

#[tokio::test]
async fn pagination_stays_on_the_api_host_and_is_bounded() {
    // A next link to another host: the token must not follow it.
    let err = fault(
        (
            200,
            vec![(
                "link",
                "<https://elsewhere.example/page2>; rel=\"next\"".to_owned(),
            )],
            fixture("check-runs-page-2.json"),
        ),
        Some(TOKEN),
    )
    .await;
    assert_eq!(
        err,
        format!(
            "GET /repos/acme/checkout/commits/{HEAD}/check-runs gave a next-page link to another \
             host (https://elsewhere.example); not following it"
        )
    );

    // A list that never ends.
    let fake = Fake::start(|base, path_and_query| {
        let path = path_and_query
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        let body = if path.ends_with("/status") {
            fixture("combined-status.json")
        } else {
            fixture("check-runs-page-2.json")
        };
        (200, next_page(base, &path), body)
    })
    .await;
    // A push event: the commit is GITHUB_SHA.
    let env = actions(&fake.base, "event-push.json", Some(TOKEN));
    let err = collect(&GithubConfig::default(), &env.ctx, &client())
        .await
        .unwrap_err();
    assert_eq!(
        err.0,
        format!(
            "GET /repos/acme/checkout/commits/{GITHUB_SHA}/check-runs has more than {MAX_PAGES} \
             pages of 100; not reading further"
        )
    );
    let check_run_pages = fake
        .requests()
        .iter()
        .filter(|p| p.contains("/check-runs"))
        .count();
    assert_eq!(check_run_pages, MAX_PAGES);
}

fn ctx_with(vars: &[(&str, &str)], commit: Option<&str>) -> Context {
    Context {
        base_dir: fixture_dir(),
        now: Timestamp(0),
        vars: Arc::new(MapVars::new(vars.iter().copied())),
        commit: commit.map(str::to_owned),
    }
}

#[test]
fn defaults_come_from_the_actions_environment() {
    let ctx = ctx_with(
        &[
            ("GITHUB_REPOSITORY", "acme/checkout"),
            ("GITHUB_EVENT_PATH", "event-pull_request.json"),
            ("GITHUB_SHA", GITHUB_SHA),
            ("GITHUB_TOKEN", TOKEN),
        ],
        None,
    );
    let target = Target::resolve(&GithubConfig::default(), &ctx).unwrap();
    assert_eq!(target.api_url, "https://api.github.com");
    assert_eq!(
        (target.owner.as_str(), target.repo.as_str()),
        ("acme", "checkout")
    );
    // The event's head commit, not GITHUB_SHA (the merge commit).
    assert_eq!(target.sha, HEAD);
    assert_eq!(target.pull_request, Some(42));
    assert_eq!(target.token, Some(api::Token::new(TOKEN.to_owned())));
    assert_eq!(target.timeout, Duration::from_secs(10));

    // The merge commit GitHub checks out for a pull_request event is
    // GITHUB_SHA; its checks live on the head commit.
    let ctx = ctx_with(
        &[
            ("GITHUB_REPOSITORY", "acme/checkout"),
            ("GITHUB_EVENT_PATH", "event-pull_request.json"),
            ("GITHUB_SHA", GITHUB_SHA),
        ],
        Some(GITHUB_SHA),
    );
    assert_eq!(
        Target::resolve(&GithubConfig::default(), &ctx).unwrap().sha,
        HEAD
    );

    // Any other commit being deployed wins over the event payload.
    let ctx = ctx_with(
        &[
            ("GITHUB_REPOSITORY", "acme/checkout"),
            ("GITHUB_EVENT_PATH", "event-pull_request.json"),
        ],
        Some("abc1234"),
    );
    assert_eq!(
        Target::resolve(&GithubConfig::default(), &ctx).unwrap().sha,
        "abc1234"
    );
}

#[test]
fn configuration_wins_over_the_environment() {
    let ctx = ctx_with(
        &[
            ("GITHUB_API_URL", "https://api.github.com"),
            ("GITHUB_REPOSITORY", "acme/checkout"),
            ("GITHUB_EVENT_PATH", "does-not-exist.json"),
            ("GITHUB_TOKEN", "not this one"),
            ("DEPLOY_BOT_TOKEN", TOKEN),
        ],
        Some("abc1234"),
    );
    let config = GithubConfig {
        api_url: Some("https://ghe.acme.test/api/v3/".to_owned()),
        repository: Some("platform/billing".to_owned()),
        token_env: Some("DEPLOY_BOT_TOKEN".to_owned()),
        sha: Some("def5678".to_owned()),
        pull_request: Some(7),
        required_checks: Vec::new(),
        timeout: None,
    };
    // The event payload is not read: nothing defaults to it.
    let target = Target::resolve(&config, &ctx).unwrap();
    assert_eq!(target.api_url, "https://ghe.acme.test/api/v3");
    assert_eq!(
        (target.owner.as_str(), target.repo.as_str()),
        ("platform", "billing")
    );
    assert_eq!(target.sha, "def5678");
    assert_eq!(target.pull_request, Some(7));
    assert_eq!(target.token, Some(api::Token::new(TOKEN.to_owned())));
    assert_eq!(target.token_env, "DEPLOY_BOT_TOKEN");
}

#[test]
fn pull_request_number_falls_back_to_github_ref() {
    let ctx = ctx_with(
        &[
            ("GITHUB_REPOSITORY", "acme/checkout"),
            ("GITHUB_REF", "refs/pull/118/merge"),
        ],
        Some(HEAD),
    );
    let target = Target::resolve(&GithubConfig::default(), &ctx).unwrap();
    assert_eq!(target.pull_request, Some(118));
    assert_eq!(pull_number_from_ref("refs/pull/9/head"), Some(9));
    assert_eq!(pull_number_from_ref("refs/heads/pull/9/merge"), None);
    assert_eq!(pull_number_from_ref("refs/pull/x/merge"), None);
}

#[test]
fn missing_or_invalid_settings_are_errors_that_say_what_to_set() {
    let err = Target::resolve(&GithubConfig::default(), &ctx_with(&[], Some(HEAD))).unwrap_err();
    assert!(err.0.starts_with("no repository: set `repository"), "{err}");

    let ctx = ctx_with(&[("GITHUB_REPOSITORY", "acme")], Some(HEAD));
    let err = Target::resolve(&GithubConfig::default(), &ctx).unwrap_err();
    assert_eq!(
        err.0,
        "invalid repository `acme`: write it as \"owner/name\""
    );

    let ctx = ctx_with(&[("GITHUB_REPOSITORY", "acme/checkout")], None);
    let err = Target::resolve(&GithubConfig::default(), &ctx).unwrap_err();
    assert!(err.0.starts_with("no commit to read checks for"), "{err}");

    let ctx = ctx_with(
        &[
            ("GITHUB_REPOSITORY", "acme/checkout"),
            ("GITHUB_EVENT_PATH", "combined-status.json"),
        ],
        None,
    );
    // A JSON file that is not an event: it has no pull request, so the
    // commit must come from elsewhere.
    let err = Target::resolve(&GithubConfig::default(), &ctx).unwrap_err();
    assert!(err.0.starts_with("no commit to read checks for"), "{err}");

    let ctx = ctx_with(
        &[
            ("GITHUB_REPOSITORY", "acme/checkout"),
            ("GITHUB_EVENT_PATH", "README.md"),
        ],
        Some(HEAD),
    );
    let err = Target::resolve(&GithubConfig::default(), &ctx).unwrap_err();
    assert!(
        err.0.starts_with("invalid GitHub event payload `")
            && err
                .0
                .contains("(GITHUB_EVENT_PATH): expected value at line 1 column 1"),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_api_url_is_an_error() {
    let ctx = ctx_with(&[("GITHUB_REPOSITORY", "acme/checkout")], Some(HEAD));
    let config = GithubConfig {
        api_url: Some("api.github.com".to_owned()),
        ..GithubConfig::default()
    };
    let err = collect(&config, &ctx, &client()).await.unwrap_err();
    assert_eq!(
        err.0,
        "invalid api_url `api.github.com`: write e.g. \"https://api.github.com\" or \"https://HOST/api/v3\""
    );
}

#[test]
fn config_parses_from_toml_and_rejects_unknown_keys() {
    let config: GithubConfig = toml::from_str(
        "repository = \"acme/checkout\"\nrequired_checks = [\"build\"]\npull_request = 42\ntimeout = \"3s\"",
    )
    .unwrap();
    assert_eq!(config.repository.as_deref(), Some("acme/checkout"));
    assert_eq!(config.pull_request, Some(42));
    assert_eq!(config.timeout, Some(Duration::from_secs(3)));
    let err = toml::from_str::<GithubConfig>("token = \"ghp_x\"").unwrap_err();
    assert!(err.to_string().contains("unknown field `token`"), "{err}");
}

#[test]
fn check_run_and_status_mappings() {
    use map::{check_run_conclusion as run, status_conclusion as status};
    for waiting in ["queued", "in_progress", "waiting", "requested", "pending"] {
        assert_eq!(run(waiting, None), CheckConclusion::Pending);
    }
    let completed = [
        ("success", CheckConclusion::Success),
        ("failure", CheckConclusion::Failure),
        ("neutral", CheckConclusion::Neutral),
        ("cancelled", CheckConclusion::Cancelled),
        ("skipped", CheckConclusion::Skipped),
        ("timed_out", CheckConclusion::TimedOut),
        ("action_required", CheckConclusion::ActionRequired),
        ("stale", CheckConclusion::Stale),
        ("startup_failure", CheckConclusion::Failure),
        ("something_new", CheckConclusion::Failure),
    ];
    for (conclusion, expected) in completed {
        assert_eq!(run("completed", Some(conclusion)), expected, "{conclusion}");
    }
    assert_eq!(status("success"), CheckConclusion::Success);
    assert_eq!(status("failure"), CheckConclusion::Failure);
    assert_eq!(status("error"), CheckConclusion::Failure);
    assert_eq!(status("pending"), CheckConclusion::Pending);
}

#[test]
fn merge_state_mapping() {
    let pull = |state: Option<&str>, mergeable: Option<bool>, merged: bool| map::Pull {
        number: 1,
        title: String::new(),
        user: None,
        html_url: None,
        head: map::Branch {
            branch: "h".to_owned(),
        },
        base: map::Branch {
            branch: "b".to_owned(),
        },
        merged: Some(merged),
        mergeable,
        mergeable_state: state.map(str::to_owned),
    };
    let cases = [
        (Some("clean"), Some(true), MergeState::Clean),
        (Some("has_hooks"), Some(true), MergeState::Clean),
        (Some("unstable"), Some(true), MergeState::Clean),
        (Some("behind"), Some(true), MergeState::Behind),
        (Some("dirty"), Some(false), MergeState::Conflicting),
        (Some("blocked"), Some(true), MergeState::Blocked),
        (Some("draft"), Some(true), MergeState::Blocked),
        (Some("unknown"), None, MergeState::Unknown),
        (None, None, MergeState::Unknown),
        (Some("unknown"), Some(false), MergeState::Conflicting),
    ];
    for (state, mergeable, expected) in cases {
        assert_eq!(
            map::merge_state(&pull(state, mergeable, false)),
            expected,
            "{state:?}"
        );
    }
    assert_eq!(
        map::merge_state(&pull(Some("unknown"), None, true)),
        MergeState::Clean
    );
}

#[test]
fn next_link_is_found_among_others() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "link",
        "<https://api.github.com/x?page=1>; rel=\"prev\", <https://api.github.com/x?page=3>; rel=\"next\", <https://api.github.com/x?page=9>; rel=\"last\""
            .parse()
            .unwrap(),
    );
    assert_eq!(
        api::next_link(&headers).as_deref(),
        Some("https://api.github.com/x?page=3")
    );
    headers.insert(
        "link",
        "<https://api.github.com/x?page=1>; rel=\"first\""
            .parse()
            .unwrap(),
    );
    assert_eq!(api::next_link(&headers), None);
}

#[test]
fn token_debug_is_redacted() {
    let token = api::Token::new(TOKEN.to_owned());
    assert_eq!(format!("{token:?}"), "***");
    assert_eq!(format!("{:?}", Some(token)), "Some(***)");
}
