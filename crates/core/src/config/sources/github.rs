//! `[sources.github]`.

use serde::Deserialize;

use crate::config::Duration;

/// `[sources.github]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {
    /// The API's base URL; default `GITHUB_API_URL`, else
    /// `https://api.github.com`. GitHub Enterprise Server:
    /// `https://HOST/api/v3`. An http:// or https:// URL, checked at load.
    #[serde(default, deserialize_with = "checked_api_url")]
    pub api_url: Option<String>,
    /// `"owner/name"`; default `GITHUB_REPOSITORY`.
    pub repository: Option<String>,
    /// The name of the environment variable that holds the token (never the
    /// token itself); default `GITHUB_TOKEN`. When it is unset or empty the
    /// requests are unauthenticated (public repositories only, 60 requests
    /// an hour).
    pub token_env: Option<String>,
    /// The commit whose checks are read; default the commit being deployed
    /// (command line, `GITHUB_SHA` or `git rev-parse HEAD`), else the event
    /// payload's `pull_request.head.sha`, else `GITHUB_SHA`. When the commit
    /// being deployed is `GITHUB_SHA` and the event has a pull request, the
    /// pull request's head is used: there `GITHUB_SHA` is GitHub's test
    /// merge commit, which has no check runs.
    pub sha: Option<String>,
    /// The pull request's number; default the event payload's
    /// `pull_request.number` (file at `GITHUB_EVENT_PATH`), else `N` from
    /// `GITHUB_REF=refs/pull/N/merge`; none means no pull request facts.
    pub pull_request: Option<u64>,
    /// Check names to mark `required: true`; default none. They are not read
    /// from branch protection because that needs admin rights on the
    /// repository, which a CI token does not have.
    pub required_checks: Vec<String>,
    /// How long each request may take; default 10 s.
    pub timeout: Option<Duration>,
}

/// `api_url`: an http:// or https:// URL with a host (checked at load, so
/// that a typo is a configuration error rather than a gap).
fn checked_api_url<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let url = String::deserialize(deserializer)?;
    let valid = url::Url::parse(url.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
    if !valid {
        return Err(serde::de::Error::custom(format!(
            "`api_url` is not an http:// or https:// URL: `{}`; write e.g. \"https://api.github.com\" or \"https://HOST/api/v3\"",
            crate::redact::scrub(&url)
        )));
    }
    Ok(Some(url))
}
