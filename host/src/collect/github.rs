//! The `github` source: check runs and combined status of the head commit,
//! the pull request's mergeable state and reviews, over GitHub's REST API.
//!
//! (stub: being written)

use serde::Deserialize;
use shipgate_model::{Approval, Check, MergeState, PullRequest};

use super::support::{Context, SourceError};

/// `[sources.github]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {
    /// The API's base URL; default `https://api.github.com`.
    pub api_url: Option<String>,
    /// How long the source may take.
    pub timeout: Option<super::support::Duration>,
}

/// What the `github` source found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GithubFacts {
    /// The pull request, when there is one.
    pub pull_request: Option<PullRequest>,
    /// Check runs and commit statuses of the head commit.
    pub checks: Vec<Check>,
    /// The pull request's mergeable state.
    pub merge_state: MergeState,
    /// How many commits the branch is behind its base.
    pub commits_behind_base: Option<u32>,
    /// Reviews of the pull request.
    pub approvals: Vec<Approval>,
}

/// Reads the head commit's checks and the pull request from the API.
pub async fn collect(
    config: &GithubConfig,
    ctx: &Context,
    http: &reqwest::Client,
) -> Result<GithubFacts, SourceError> {
    let _ = (config, ctx, http);
    Err(SourceError::new("the github source is not written yet"))
}
