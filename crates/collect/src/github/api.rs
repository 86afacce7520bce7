//! HTTP to GitHub's REST API: headers, the token, pagination, and errors
//! worded for a person.

use std::fmt;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, LINK};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use super::Target;
use shipgate_core::config::Duration;

use crate::support::SourceError;

/// The most pages followed for one list (100 items each). A list longer
/// than that is an error rather than silently cut short.
pub const MAX_PAGES: usize = 10;

/// The media type GitHub recommends.
const MEDIA_TYPE: &str = "application/vnd.github+json";
/// The REST API version this source was written against.
const API_VERSION: &str = "2022-11-28";
/// The most characters of a server's error message quoted in a gap.
const MESSAGE_LIMIT: usize = 200;

/// A GitHub token. Its `Debug` prints `***`; it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Token(String);

impl Token {
    /// Wraps a token's text.
    pub(super) fn new(text: String) -> Self {
        Token(text)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `err` with every secret (the token, the URL's credentials: registered
/// when read) replaced by `***`.
pub(super) fn redact(err: SourceError) -> SourceError {
    match shipgate_core::redact::scrub(&err.0) {
        std::borrow::Cow::Borrowed(_) => err,
        std::borrow::Cow::Owned(clean) => SourceError(clean),
    }
}

/// `url` without user name and password, for the log.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// A client for one repository's API.
pub(super) struct Api<'a> {
    http: &'a reqwest::Client,
    base: Url,
    headers: HeaderMap,
    token_env: String,
    has_token: bool,
    timeout: Duration,
}

impl fmt::Debug for Api<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base.as_str())
            .field("token_env", &self.token_env)
            .field("has_token", &self.has_token)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<'a> Api<'a> {
    /// A client for `target`'s API URL, with its token.
    pub(super) fn new(http: &'a reqwest::Client, target: &Target) -> Result<Self, SourceError> {
        let base = Url::parse(&target.api_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| {
                SourceError::new(format!(
                    "invalid api_url `{}`: write e.g. \"https://api.github.com\" or \"https://HOST/api/v3\"",
                    target.api_url
                ))
            })?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(MEDIA_TYPE));
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(Token(secret)) = &target.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| {
                SourceError::new(format!(
                    "the token in {} is not a valid HTTP header value",
                    target.token_env
                ))
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(Api {
            http,
            base,
            headers,
            token_env: target.token_env.clone(),
            has_token: target.token.is_some(),
            timeout: target.timeout,
        })
    }

    /// The URL of `segments` under the base URL, with `query`.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, SourceError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| SourceError::new(format!("invalid api_url `{}`", self.base)))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// One JSON document.
    pub(super) async fn get_one<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T, SourceError> {
        let url = self.url(segments, query)?;
        let (value, _) = self.get(&url).await?;
        Ok(value)
    }

    /// Every page of a list, following `Link: rel="next"` on the API's own
    /// origin, `per_page=100`, at most [`MAX_PAGES`] pages.
    pub(super) async fn get_pages<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Vec<T>, SourceError> {
        let mut url = self.url(segments, &[("per_page", "100")])?;
        let mut pages = Vec::new();
        loop {
            let (page, next) = self.get::<T>(&url).await?;
            pages.push(page);
            let Some(next) = next else { break };
            if pages.len() >= MAX_PAGES {
                return Err(SourceError::new(format!(
                    "GET {} has more than {MAX_PAGES} pages of 100; not reading further",
                    url.path()
                )));
            }
            let next = url.join(&next).map_err(|e| {
                SourceError::new(format!(
                    "GET {} gave an invalid next-page link: {e}",
                    url.path()
                ))
            })?;
            // The token must not go to another host.
            if next.origin() != self.base.origin() {
                return Err(SourceError::new(format!(
                    "GET {} gave a next-page link to another host ({}); not following it",
                    url.path(),
                    next.origin().ascii_serialization()
                )));
            }
            url = next;
        }
        Ok(pages)
    }

    /// A GET: the parsed body and the next page's link, if any.
    async fn get<T: DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<(T, Option<String>), SourceError> {
        let path = url.path();
        tracing::debug!(url = %shown(url), "github: GET");
        let response = self
            .http
            .get(url.clone())
            .headers(self.headers.clone())
            .timeout(self.timeout.0)
            .send()
            .await
            .map_err(|e| self.transport_error(url, &e))?;
        let status = response.status();
        let next = next_link(response.headers());
        let body = crate::support::read_body(response, shipgate_core::bounded::GITHUB_BODY)
            .await
            .map_err(|e| match e {
                crate::support::BodyError::Transport(e) => self.transport_error(url, &e),
                crate::support::BodyError::Read(e) => {
                    SourceError::new(format!("the answer to GET {path} is {e}"))
                }
            })?;
        if !status.is_success() {
            return Err(self.status_error(path, status, &body));
        }
        let value = serde_json::from_slice(&body)
            .map_err(|e| SourceError::new(format!("invalid response from GET {path}: {e}")))?;
        Ok((value, next))
    }

    /// A request that got no HTTP answer.
    fn transport_error(&self, url: &Url, err: &reqwest::Error) -> SourceError {
        if err.is_timeout() {
            return SourceError::new(format!(
                "GET {} timed out after {}",
                url.path(),
                self.timeout
            ));
        }
        SourceError::new(format!(
            "cannot reach {}: {}",
            self.base.origin().ascii_serialization(),
            transport_reason(err)
        ))
    }

    /// A non-2xx answer: the status, GitHub's `message`, and a hint about
    /// the token where it is the likely cause.
    fn status_error(&self, path: &str, status: StatusCode, body: &[u8]) -> SourceError {
        #[derive(serde::Deserialize)]
        struct ErrorBody {
            message: Option<String>,
        }
        let message = match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { message }) => message.unwrap_or_default(),
            Err(_) => String::from_utf8_lossy(body).into_owned(),
        };
        let message = one_line(&message, MESSAGE_LIMIT);
        let hint = match (status.as_u16(), self.has_token) {
            (401 | 403 | 404, false) => {
                format!(" (no token was sent: {} is not set)", self.token_env)
            }
            (401, true) => format!(" (the token in {} was not accepted)", self.token_env),
            _ => String::new(),
        };
        let status = match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        };
        if message.is_empty() {
            SourceError::new(format!("GET {path}: {status}{hint}"))
        } else {
            SourceError::new(format!("GET {path}: {status}: {message}{hint}"))
        }
    }
}

/// `text` on one line, at most `limit` characters (then `…`).
fn one_line(text: &str, limit: usize) -> String {
    // Secrets are masked before the text is cut, which could leave half of
    // one.
    let text = shipgate_core::redact::scrub(text);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > limit {
        let cut: String = flat.chars().take(limit).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// Why a request got no answer, from the innermost cause: `connection
/// refused`, `connection reset`, or the cause's own words.
fn transport_reason(err: &reqwest::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut innermost = err.to_string();
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                std::io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
                std::io::ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
                std::io::ErrorKind::TimedOut => "timed out".to_owned(),
                _ => one_line(&io.to_string(), MESSAGE_LIMIT),
            };
        }
        innermost = e.to_string();
        cause = e.source();
    }
    one_line(&innermost, MESSAGE_LIMIT)
}

/// The target of `rel="next"` in `Link` headers
/// (`<https://…?page=2>; rel="next", <https://…?page=5>; rel="last"`).
pub(super) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            params
                .split(';')
                .filter_map(|param| param.trim().strip_prefix("rel="))
                .any(|rel| {
                    rel.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r == "next")
                })
                .then(|| target.to_owned())
        })
}
