//! GitHub's response shapes (only the fields read) and how they become
//! snapshot facts. The rules are documented on the parent module.

use std::collections::BTreeMap;

use serde::Deserialize;
use shipgate_model::{
    Approval, Check, CheckConclusion, MergeState, PullRequest, ReviewState, Timestamp,
};

/// A page of `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`.
#[derive(Debug, Deserialize)]
pub(super) struct CheckRunsPage {
    pub check_runs: Vec<CheckRun>,
}

/// One check run.
#[derive(Debug, Deserialize)]
pub(super) struct CheckRun {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: Option<String>,
    pub html_url: Option<String>,
}

/// A page of `GET /repos/{owner}/{repo}/commits/{ref}/status`.
#[derive(Debug, Deserialize)]
pub(super) struct CombinedStatus {
    pub statuses: Vec<Status>,
}

/// One commit status (the latest of its context).
#[derive(Debug, Deserialize)]
pub(super) struct Status {
    pub context: String,
    pub state: String,
    pub target_url: Option<String>,
}

/// `GET /repos/{owner}/{repo}/pulls/{n}`.
#[derive(Debug, Deserialize)]
pub(super) struct Pull {
    pub number: u64,
    pub title: String,
    pub user: Option<User>,
    pub html_url: Option<String>,
    pub head: Branch,
    pub base: Branch,
    pub merged: Option<bool>,
    pub mergeable: Option<bool>,
    pub mergeable_state: Option<String>,
}

/// The head or base of a pull request.
#[derive(Debug, Deserialize)]
pub(super) struct Branch {
    #[serde(rename = "ref")]
    pub branch: String,
}

/// An account.
#[derive(Debug, Deserialize)]
pub(super) struct User {
    pub login: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
#[derive(Debug, Deserialize)]
pub(super) struct Compare {
    pub behind_by: u64,
}

/// One review of `GET /repos/{owner}/{repo}/pulls/{n}/reviews`.
#[derive(Debug, Deserialize)]
pub(super) struct Review {
    pub user: Option<User>,
    pub state: String,
    pub submitted_at: Option<String>,
}

/// A check run's outcome.
pub(super) fn check_run_conclusion(status: &str, conclusion: Option<&str>) -> CheckConclusion {
    if status != "completed" {
        return CheckConclusion::Pending;
    }
    match conclusion {
        None => CheckConclusion::Pending,
        Some("success") => CheckConclusion::Success,
        Some("neutral") => CheckConclusion::Neutral,
        Some("cancelled") => CheckConclusion::Cancelled,
        Some("skipped") => CheckConclusion::Skipped,
        Some("timed_out") => CheckConclusion::TimedOut,
        Some("action_required") => CheckConclusion::ActionRequired,
        Some("stale") => CheckConclusion::Stale,
        // `failure`, `startup_failure`, and outcomes not known here.
        Some(_) => CheckConclusion::Failure,
    }
}

/// A commit status's outcome.
pub(super) fn status_conclusion(state: &str) -> CheckConclusion {
    match state {
        "success" => CheckConclusion::Success,
        "failure" | "error" => CheckConclusion::Failure,
        _ => CheckConclusion::Pending,
    }
}

/// How bad an outcome is for a gate: 2 failed, 1 no result yet, 0 passed.
fn badness(conclusion: CheckConclusion) -> u8 {
    match conclusion {
        CheckConclusion::Failure
        | CheckConclusion::Cancelled
        | CheckConclusion::TimedOut
        | CheckConclusion::ActionRequired => 2,
        CheckConclusion::Pending | CheckConclusion::Stale => 1,
        CheckConclusion::Success | CheckConclusion::Neutral | CheckConclusion::Skipped => 0,
    }
}

/// One check per name, sorted by name.
pub(super) fn checks(
    runs: Vec<CheckRun>,
    statuses: Vec<Status>,
    required: &[String],
) -> Vec<Check> {
    let mut latest: BTreeMap<String, (RunRank, Check)> = BTreeMap::new();
    for run in runs {
        let rank = run_rank(&run);
        if let Some((existing, _)) = latest.get(&run.name)
            && *existing > rank
        {
            continue;
        }
        let check = Check {
            name: run.name.clone(),
            conclusion: check_run_conclusion(&run.status, run.conclusion.as_deref()),
            required: false,
            url: run.html_url,
        };
        latest.insert(run.name, (rank, check));
    }
    let mut by_name: BTreeMap<String, Check> = latest
        .into_iter()
        .map(|(name, (_, check))| (name, check))
        .collect();
    for status in statuses {
        let check = Check {
            name: status.context.clone(),
            conclusion: status_conclusion(&status.state),
            required: false,
            url: status.target_url,
        };
        match by_name.get(&status.context) {
            Some(existing) if badness(existing.conclusion) >= badness(check.conclusion) => {}
            _ => {
                by_name.insert(status.context, check);
            }
        }
    }
    by_name
        .into_values()
        .map(|mut check| {
            check.required = required.contains(&check.name);
            check
        })
        .collect()
}

/// How recent a check run is; greater is newer.
type RunRank = (u8, Option<Timestamp>, u64);

/// A run that has not started is newer than any that has; otherwise the
/// later start (an unreadable start time is older than any readable one),
/// then the higher id.
fn run_rank(run: &CheckRun) -> RunRank {
    match &run.started_at {
        None => (2, None, run.id),
        Some(text) => (1, text.parse::<Timestamp>().ok(), run.id),
    }
}

/// The pull request's snapshot entry.
pub(super) fn pull_request(pull: &Pull) -> PullRequest {
    PullRequest {
        number: pull.number,
        title: pull.title.clone(),
        author: pull.user.as_ref().map(|u| u.login.clone()),
        base_branch: Some(pull.base.branch.clone()),
        head_branch: Some(pull.head.branch.clone()),
        url: pull.html_url.clone(),
    }
}

/// The merge state from `merged`, `mergeable_state` and `mergeable`.
pub(super) fn merge_state(pull: &Pull) -> MergeState {
    if pull.merged == Some(true) {
        return MergeState::Clean;
    }
    match pull.mergeable_state.as_deref() {
        Some("clean" | "has_hooks" | "unstable") => MergeState::Clean,
        Some("behind") => MergeState::Behind,
        Some("dirty") => MergeState::Conflicting,
        Some("blocked" | "draft") => MergeState::Blocked,
        _ if pull.mergeable == Some(false) => MergeState::Conflicting,
        _ => MergeState::Unknown,
    }
}

/// Each reviewer's latest deciding review, sorted by reviewer.
pub(super) fn approvals(reviews: Vec<Review>) -> Vec<Approval> {
    let mut latest: BTreeMap<String, ((Option<Timestamp>, usize), Approval)> = BTreeMap::new();
    for (index, review) in reviews.into_iter().enumerate() {
        let state = match review.state.as_str() {
            "APPROVED" => ReviewState::Approved,
            "CHANGES_REQUESTED" => ReviewState::ChangesRequested,
            "DISMISSED" => ReviewState::Dismissed,
            // COMMENTED never changes a reviewer's state; PENDING is not
            // submitted.
            _ => continue,
        };
        // A deleted account (`user: null`) cannot be counted as anyone.
        let Some(user) = review.user else { continue };
        let at = review
            .submitted_at
            .as_deref()
            .and_then(|text| text.parse::<Timestamp>().ok());
        let key = (at, index);
        let approval = Approval {
            reviewer: user.login.clone(),
            state,
            human: user.kind.as_deref() != Some("Bot"),
            at,
        };
        match latest.get(&user.login) {
            Some((existing, _)) if *existing > key => {}
            _ => {
                latest.insert(user.login, (key, approval));
            }
        }
    }
    latest.into_values().map(|(_, approval)| approval).collect()
}
