//! The `github` source: check runs and combined status of the head commit,
//! the pull request's mergeable state and reviews, over GitHub's REST API.
//!
//! ```toml
//! [sources.github]            # inside GitHub Actions, no key is needed
//! required_checks = ["build", "security-scan"]
//! ```
//!
//! Inside GitHub Actions every key has a working default: the repository,
//! the API URL, the token, the head commit and the pull request come from
//! `GITHUB_*` variables and the event payload. Outside, set `repository`,
//! `sha` (or pass the commit on the command line) and `pull_request`.
//!
//! Requests (API version `2022-11-28`; list endpoints are followed through
//! their `Link: rel="next"` pages, 100 items a page, at most
//! [`MAX_PAGES`] pages, and only on the API's own host):
//!
//! | request | gives |
//! | --- | --- |
//! | `GET /repos/{repo}/commits/{sha}/check-runs` | checks |
//! | `GET /repos/{repo}/commits/{sha}/status` | more checks, from commit statuses |
//! | `GET /repos/{repo}/pulls/{n}` | the pull request, the merge state |
//! | `GET /repos/{repo}/compare/{base}...{sha}` | commits behind the base branch |
//! | `GET /repos/{repo}/pulls/{n}/reviews` | approvals |
//!
//! Without a pull request only the first two are made: there are then no
//! approvals and the merge state is `unknown`.
//!
//! **Checks.** A check run's `status` other than `completed` (`queued`,
//! `in_progress`, `waiting`, `requested`, `pending`) is `pending`; a
//! completed run maps its `conclusion` (`success`, `failure`, `neutral`,
//! `cancelled`, `skipped`, `timed_out` → `timed-out`, `action_required` →
//! `action-required`, `stale`); `startup_failure` and any conclusion this
//! version does not know are `failure`, because a finished check that did
//! not report success must not pass a gate. Of several runs with one name
//! (re-runs), the one started last wins (a run not started yet counts as the
//! newest; ties go to the higher id). A commit status's `state` maps
//! `success` → `success`, `failure` and `error` → `failure`, `pending` →
//! `pending`. When a check run and a commit status share a name there is one
//! entry, the less favourable of the two (failed over pending or stale over
//! passed; a tie keeps the check run): the snapshot holds one result per
//! name, and a gate should not pass on the better half of a split report.
//! `url` is the check run's `html_url` or the status's `target_url`. A check
//! is `required` when its name is in `required_checks`; a required name that
//! GitHub did not report is not invented here (list it in the `readiness`
//! policy's `required_checks` to make its absence a `no-go`).
//!
//! **Merge state** from the pull request's `mergeable_state`: `clean` and
//! `has_hooks` → `clean`; `unstable` (mergeable, but some commit status is
//! not passing) → `clean`, because failing and pending checks are judged
//! from `checks` and must not count twice; `behind` → `behind`; `dirty` →
//! `conflicting`; `blocked` → `blocked`; `draft` → `blocked` (a draft cannot
//! be merged); `unknown`, missing or anything else → `unknown` (GitHub
//! computes mergeability in the background; a later run sees it), except
//! that `mergeable: false` is `conflicting`. A merged pull request is
//! `clean` and its commits behind the base are not asked for (its branch
//! falls behind as soon as the base moves on).
//!
//! **Approvals.** Per reviewer, the latest review whose state is `APPROVED`,
//! `CHANGES_REQUESTED` or `DISMISSED` (by `submitted_at`, then list order).
//! `COMMENTED` reviews never change a reviewer's state (GitHub's own rule: a
//! comment after an approval leaves the approval standing) and `PENDING`
//! (unsubmitted) ones are ignored. `human` is false for `user.type == "Bot"`.
//! The list is sorted by reviewer.
//!
//! **Errors** are one line and never contain the token: the token is held
//! in a type whose `Debug` prints `***`, is sent as a sensitive header, and
//! is registered with [`shipgate_core::redact`] when it is read (as are credentials
//! written into the API URL), so that it is replaced by `***` in any error
//! text, before a server's message is cut short, and in everything Shipgate
//! writes. A URL is logged without its credentials.

mod api;
mod map;
#[cfg(test)]
mod tests;

pub use shipgate_core::config::sources::github::GithubConfig;
use std::path::Path;

use serde::Deserialize;
use shipgate_model::{Approval, Check, MergeState, PullRequest};

use shipgate_core::config::Duration;

use super::support::{Context, SourceError};
use api::{Api, Token};

pub use api::MAX_PAGES;

/// The public API's URL, when neither the configuration nor
/// `GITHUB_API_URL` gives one.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// The variable holding the token, unless `token_env` names another.
pub const DEFAULT_TOKEN_ENV: &str = "GITHUB_TOKEN";
/// Per-request timeout unless `timeout` is set.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the `github` source found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GithubFacts {
    /// The pull request, when there is one.
    pub pull_request: Option<PullRequest>,
    /// Check runs and commit statuses of the head commit, one per name,
    /// sorted by name.
    pub checks: Vec<Check>,
    /// The pull request's mergeable state (`unknown` without one).
    pub merge_state: MergeState,
    /// How many commits the branch is behind its base.
    pub commits_behind_base: Option<u32>,
    /// Each reviewer's latest deciding review, sorted by reviewer.
    pub approvals: Vec<Approval>,
}

/// Reads the head commit's checks and the pull request from the API.
pub async fn collect(
    config: &GithubConfig,
    ctx: &Context,
    http: &reqwest::Client,
) -> Result<GithubFacts, SourceError> {
    let target = Target::resolve(config, ctx)?;
    let api = Api::new(http, &target)?;
    fetch(&api, &target).await.map_err(api::redact)
}

/// Everything the requests need, resolved from the configuration and the
/// CI environment.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    /// The API's base URL, without a trailing `/`.
    api_url: String,
    /// The repository's owner.
    owner: String,
    /// The repository's name.
    repo: String,
    /// The commit whose checks are read.
    sha: String,
    /// The pull request, if any.
    pull_request: Option<u64>,
    /// The token, if its variable is set.
    token: Option<Token>,
    /// The variable the token comes from (for error messages).
    token_env: String,
    /// Per-request timeout.
    timeout: Duration,
    /// Check names marked required.
    required_checks: Vec<String>,
}

/// The parts of a GitHub Actions event payload this source reads.
#[derive(Debug, Default, Deserialize)]
struct EventPayload {
    pull_request: Option<EventPull>,
}

#[derive(Debug, Deserialize)]
struct EventPull {
    number: u64,
    head: Option<EventHead>,
}

#[derive(Debug, Deserialize)]
struct EventHead {
    sha: Option<String>,
}

impl Target {
    /// Fills what the configuration leaves out from `ctx`.
    fn resolve(config: &GithubConfig, ctx: &Context) -> Result<Target, SourceError> {
        let var = |name: &str| ctx.vars.get(name).filter(|v| !v.trim().is_empty());
        let api_url = config
            .api_url
            .clone()
            .or_else(|| var("GITHUB_API_URL"))
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
            .trim()
            .trim_end_matches('/')
            .to_owned();
        shipgate_core::redact::register_url(&api_url);
        let repository = config
            .repository
            .clone()
            .or_else(|| var("GITHUB_REPOSITORY"))
            .ok_or_else(|| {
                SourceError::new(
                    "no repository: set `repository = \"owner/name\"` in [sources.github] \
                     (GITHUB_REPOSITORY is not set)",
                )
            })?;
        let (owner, repo) = split_repository(&repository)?;

        let token_env = config
            .token_env
            .clone()
            .unwrap_or_else(|| DEFAULT_TOKEN_ENV.to_owned());
        let token = var(&token_env).map(|t| {
            shipgate_core::redact::register(&t);
            Token::new(t.trim().to_owned())
        });

        // The event payload is read only when something defaults to it.
        let needs_event =
            config.pull_request.is_none() || (config.sha.is_none() && ctx.commit.is_none());
        let event = match var("GITHUB_EVENT_PATH") {
            Some(path) if needs_event => read_event(&ctx.resolve(Path::new(&path)))?,
            _ => EventPayload::default(),
        };

        let event_head = event
            .pull_request
            .as_ref()
            .and_then(|pr| pr.head.as_ref())
            .and_then(|head| head.sha.clone());
        // In a pull_request workflow GITHUB_SHA (and so a commit taken from
        // it or from the checkout) is GitHub's test merge commit, which has
        // no check runs: the pull request's head is meant.
        let commit = match (&ctx.commit, &event_head) {
            (Some(commit), Some(head)) if var("GITHUB_SHA").as_ref() == Some(commit) => {
                Some(head.clone())
            }
            (commit, _) => commit.clone(),
        };
        let sha = config
            .sha
            .clone()
            .or(commit)
            .or(event_head)
            .or_else(|| var("GITHUB_SHA"))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                SourceError::new(
                    "no commit to read checks for: set `sha` in [sources.github] or pass the \
                     commit (GITHUB_SHA is not set)",
                )
            })?;
        let pull_request = config
            .pull_request
            .or_else(|| event.pull_request.as_ref().map(|pr| pr.number))
            .or_else(|| var("GITHUB_REF").and_then(|r| pull_number_from_ref(&r)));

        Ok(Target {
            api_url,
            owner,
            repo,
            sha,
            pull_request,
            token,
            token_env,
            timeout: config.timeout.unwrap_or(DEFAULT_TIMEOUT),
            required_checks: config.required_checks.clone(),
        })
    }
}

/// `"owner/name"` split and checked.
fn split_repository(repository: &str) -> Result<(String, String), SourceError> {
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repository.trim().split_once('/') {
        Some((owner, name)) if valid(owner) && valid(name) => {
            Ok((owner.to_owned(), name.to_owned()))
        }
        _ => Err(SourceError::new(format!(
            "invalid repository `{repository}`: write it as \"owner/name\""
        ))),
    }
}

/// `N` from `refs/pull/N/merge` or `refs/pull/N/head`.
fn pull_number_from_ref(git_ref: &str) -> Option<u64> {
    let rest = git_ref.strip_prefix("refs/pull/")?;
    let (number, kind) = rest.split_once('/')?;
    matches!(kind, "merge" | "head")
        .then(|| number.parse().ok())
        .flatten()
}

/// The event payload at `path` (`GITHUB_EVENT_PATH`).
fn read_event(path: &Path) -> Result<EventPayload, SourceError> {
    let text =
        shipgate_core::bounded::read_file_to_string(path, shipgate_core::bounded::GITHUB_EVENT)
            .map_err(|e| {
                SourceError::new(format!(
                    "cannot read the GitHub event payload `{}` (GITHUB_EVENT_PATH): {e}",
                    path.display()
                ))
            })?;
    serde_json::from_str(&text).map_err(|e| {
        SourceError::new(format!(
            "invalid GitHub event payload `{}` (GITHUB_EVENT_PATH): {e}",
            path.display()
        ))
    })
}

/// Makes the requests and assembles the facts. Requests that do not depend
/// on each other run concurrently; when several fail, the error reported is
/// the first in the order checks, statuses, pull request, reviews, so that
/// the same failure always gives the same text.
async fn fetch(api: &Api<'_>, target: &Target) -> Result<GithubFacts, SourceError> {
    let repo = ["repos", target.owner.as_str(), target.repo.as_str()];
    let commit = |leaf: &'static str| {
        let mut path = repo.to_vec();
        path.extend(["commits", target.sha.as_str(), leaf]);
        path
    };
    let (runs_path, status_path) = (commit("check-runs"), commit("status"));
    let check_runs = api.get_pages::<map::CheckRunsPage>(&runs_path);
    let statuses = api.get_pages::<map::CombinedStatus>(&status_path);
    let pull = async {
        let Some(number) = target.pull_request else {
            return Ok(None);
        };
        let number = number.to_string();
        let mut path = repo.to_vec();
        path.extend(["pulls", number.as_str()]);
        let pull: map::Pull = api.get_one(&path, &[]).await?;
        let behind = if pull.merged == Some(true) {
            None
        } else {
            // `{base}...{head}`; a base branch with `/` spans several
            // segments, which GitHub reads as one branch name.
            let spec = format!("{}...{}", pull.base.branch, target.sha);
            let mut path = repo.to_vec();
            path.push("compare");
            path.extend(spec.split('/'));
            let compare: map::Compare = api.get_one(&path, &[("per_page", "1")]).await?;
            Some(u32::try_from(compare.behind_by).unwrap_or(u32::MAX))
        };
        Ok::<_, SourceError>(Some((pull, behind)))
    };
    let reviews = async {
        let Some(number) = target.pull_request else {
            return Ok(Vec::new());
        };
        let number = number.to_string();
        let mut path = repo.to_vec();
        path.extend(["pulls", number.as_str(), "reviews"]);
        api.get_pages::<Vec<map::Review>>(&path).await
    };
    let (check_runs, statuses, pull, reviews) = tokio::join!(check_runs, statuses, pull, reviews);
    let check_runs: Vec<map::CheckRun> = check_runs?
        .into_iter()
        .flat_map(|page| page.check_runs)
        .collect();
    let statuses: Vec<map::Status> = statuses?
        .into_iter()
        .flat_map(|page| page.statuses)
        .collect();
    let pull = pull?;
    let reviews: Vec<map::Review> = reviews?.into_iter().flatten().collect();

    let checks = map::checks(check_runs, statuses, &target.required_checks);
    let (pull_request, merge_state, commits_behind_base) = match pull {
        Some((pull, behind)) => (
            Some(map::pull_request(&pull)),
            map::merge_state(&pull),
            behind,
        ),
        None => (None, MergeState::Unknown, None),
    };
    Ok(GithubFacts {
        pull_request,
        checks,
        merge_state,
        commits_behind_base,
        approvals: map::approvals(reviews),
    })
}

/// For the fuzz targets: GitHub's answer `body` to the request `kind`
/// (`check-runs`, `status`, `pull`, `compare`, `reviews`), or an event
/// payload (`event`), or a `Link` header (`link`), decoded and mapped as
/// [`collect`] does; the facts it gives, as debug text.
#[doc(hidden)]
#[doc(hidden)]
pub fn read_answer(kind: &str, body: &[u8], required: &[String]) -> Result<String, String> {
    fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
        serde_json::from_slice(body).map_err(|e| format!("invalid response: {e}"))
    }
    Ok(match kind {
        "check-runs" => {
            let page: map::CheckRunsPage = decode(body)?;
            format!("{:?}", map::checks(page.check_runs, Vec::new(), required))
        }
        "status" => {
            let page: map::CombinedStatus = decode(body)?;
            format!("{:?}", map::checks(Vec::new(), page.statuses, required))
        }
        "pull" => {
            let pull: map::Pull = decode(body)?;
            let state = map::merge_state(&pull);
            format!("{:?} {state:?}", map::pull_request(&pull))
        }
        "compare" => {
            let compare: map::Compare = decode(body)?;
            format!("{}", u32::try_from(compare.behind_by).unwrap_or(u32::MAX))
        }
        "reviews" => format!("{:?}", map::approvals(decode(body)?)),
        "event" => format!("{:?}", decode::<EventPayload>(body)?),
        "link" => {
            let mut headers = reqwest::header::HeaderMap::new();
            let value =
                reqwest::header::HeaderValue::from_bytes(body).map_err(|e| e.to_string())?;
            headers.insert(reqwest::header::LINK, value);
            format!("{:?}", api::next_link(&headers))
        }
        other => return Err(format!("unknown answer kind `{other}`")),
    })
}
