//! Reading the live settings through GitHub's REST API with octocrab.
//!
//! Every endpoint's answer is kept, errors included: a 403 on branch protection becomes an
//! `ApiResponse { status: 403 }` in the snapshot and one finding later, not a failed lint.
//! Only problems that make the whole read meaningless (repository not found, bad token,
//! unreachable or silent server, a rate limit that resets too far away) are errors here.

use crate::snapshot::{ApiResponse, SettingsSnapshot};
use http::header::{HeaderMap, HeaderValue};
use octocrab::Octocrab;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// `GITHUB_API_URL`, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    /// `GITHUB_TOKEN`; without one only public data is readable.
    pub token: Option<String>,
    /// Longest wait for one response (`SHIP_GITHUB_TIMEOUT`, default 30 s).
    pub timeout: Duration,
    /// Longest wait for a rate limit to reset before giving up
    /// (`SHIP_GITHUB_MAX_RATE_LIMIT_WAIT`, default 60 s).
    pub max_rate_limit_wait: Duration,
}

/// Largest API response read. A page of 100 rulesets or environments is a few hundred
/// kilobytes; a body past this is not GitHub's API answering (a proxy, a web page, a broken
/// server) and would otherwise be held in memory whole.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Default of [`FetchOptions::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`FetchOptions::max_rate_limit_wait`].
pub const DEFAULT_MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

impl FetchOptions {
    /// Options from the environment, as on an Actions runner: `GITHUB_API_URL`,
    /// `GITHUB_TOKEN`, and the durations `SHIP_GITHUB_TIMEOUT` and
    /// `SHIP_GITHUB_MAX_RATE_LIMIT_WAIT` (`30`, `30s`, `1500ms`, `2m`). An unreadable
    /// duration is reported on standard error and the default used.
    pub fn from_env() -> Self {
        FetchOptions {
            api_url: std::env::var("GITHUB_API_URL")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "https://api.github.com".into()),
            token: std::env::var("GITHUB_TOKEN").ok().filter(|s| !s.is_empty()),
            timeout: duration_from_env("SHIP_GITHUB_TIMEOUT", DEFAULT_TIMEOUT),
            max_rate_limit_wait: duration_from_env(
                "SHIP_GITHUB_MAX_RATE_LIMIT_WAIT",
                DEFAULT_MAX_RATE_LIMIT_WAIT,
            ),
        }
    }
}

fn duration_from_env(name: &str, default: Duration) -> Duration {
    let Some(value) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) else {
        return default;
    };
    match parse_duration(&value) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "ship: ignoring {name}=`{value}`: {e}; using {}",
                show_duration(&default)
            );
            default
        }
    }
}

/// A duration such as `30`, `30s`, `1500ms`, `2m`, `1h` or `0.5s` (bare numbers are seconds):
/// the one parser every ship binary uses.
pub use ship_actions_runtime::parse_duration;

/// `2 s`, `1.5 s`, `500 ms`.
pub fn show_duration(d: &Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Why the settings could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{0}` is not OWNER/REPO; pass the repository as `--github owner/name`")]
    BadRepository(String),
    #[error("repository `{repo}` was not found at {api_url} (404): check the name, and that GITHUB_TOKEN can see it (private repositories need a token with `metadata: read`)")]
    NotFound { repo: String, api_url: String },
    #[error("GitHub rejected the token (401 {message}): set GITHUB_TOKEN to a valid token")]
    Unauthorized { message: String },
    #[error(
        "cannot reach the GitHub API at {api_url}: {reason}; check GITHUB_API_URL and the network"
    )]
    Unreachable { api_url: String, reason: String },
    #[error("the GitHub API at {api_url} did not answer within {} ({endpoint}); try again, check GITHUB_API_URL, or allow more time with SHIP_GITHUB_TIMEOUT", show_duration(.timeout))]
    Timeout {
        api_url: String,
        endpoint: String,
        timeout: Duration,
    },
    #[error("GitHub rate limit reached for {endpoint}; it resets in {wait_seconds} s, longer than ship waits ({}, set by SHIP_GITHUB_MAX_RATE_LIMIT_WAIT): run again later, allow a longer wait, or use a token with a higher limit", show_duration(.max_wait))]
    RateLimited {
        endpoint: String,
        wait_seconds: u64,
        max_wait: Duration,
    },
    #[error("GitHub rate limit still reached for {endpoint} after {attempts} waits: run again later or use a token with a higher limit")]
    RateLimitPersists { endpoint: String, attempts: u32 },
    #[error("unexpected answer from {endpoint}: {reason}")]
    Protocol { endpoint: String, reason: String },
    #[error("the GitHub API answered GET {url} with a body over the {} MiB limit{}; reading stopped there. Check that GITHUB_API_URL points at GitHub's REST API (https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server) and not at a web page or proxy", .limit / (1024 * 1024), .declared.map(|n| format!(" (Content-Length {n})")).unwrap_or_default())]
    TooLarge {
        /// The URL, without credentials or query.
        url: String,
        limit: usize,
        /// The `Content-Length` the response declared, when that was already too large.
        declared: Option<u64>,
    },
}

struct Client {
    octo: Octocrab,
    opts: FetchOptions,
    base: String,
}

/// Read `OWNER/REPO`'s settings for `branch` (blocking: runs its own small runtime).
pub fn fetch_snapshot_blocking(
    opts: &FetchOptions,
    repository: &str,
    branch: &str,
) -> Result<SettingsSnapshot, FetchError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FetchError::Unreachable {
            api_url: opts.api_url.clone(),
            reason: e.to_string(),
        })?;
    rt.block_on(fetch_snapshot(opts, repository, branch))
}

/// Read `OWNER/REPO`'s settings for `branch`.
pub async fn fetch_snapshot(
    opts: &FetchOptions,
    repository: &str,
    branch: &str,
) -> Result<SettingsSnapshot, FetchError> {
    let (owner, repo) = repository
        .split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| FetchError::BadRepository(repository.to_string()))?;
    let client = Client::new(opts)?;
    let repo_path = format!("/repos/{owner}/{repo}");

    let repo_info = client.get(&repo_path).await?;
    match repo_info.status {
        200 => {}
        404 => {
            return Err(FetchError::NotFound {
                repo: repository.to_string(),
                api_url: opts.api_url.clone(),
            })
        }
        401 => {
            return Err(FetchError::Unauthorized {
                message: repo_info.message().to_string(),
            })
        }
        s => {
            return Err(FetchError::Protocol {
                endpoint: format!("GET {repo_path}"),
                reason: format!("status {s}: {}", repo_info.message()),
            })
        }
    }

    let branch_enc = encode_path_segment(branch);
    let classic_protection = client
        .get(&format!("{repo_path}/branches/{branch_enc}/protection"))
        .await?;
    let branch_rules = client
        .get_all(
            &format!("{repo_path}/rules/branches/{branch_enc}?per_page=100"),
            None,
        )
        .await?;
    let tag_rulesets = client
        .get_all(
            &format!("{repo_path}/rulesets?targets=tag&per_page=100"),
            None,
        )
        .await?;

    let mut ids: Vec<String> = Vec::new();
    for list in [branch_rules.ok(), tag_rulesets.ok()].into_iter().flatten() {
        for item in list.as_array().into_iter().flatten() {
            let id = item
                .get("ruleset_id")
                .or_else(|| item.get("id"))
                .map(|i| i.to_string());
            if let Some(id) = id.filter(|i| !ids.contains(i)) {
                ids.push(id);
            }
        }
    }
    let mut rulesets = BTreeMap::new();
    for id in ids {
        let r = client.get(&format!("{repo_path}/rulesets/{id}")).await?;
        rulesets.insert(id, r);
    }

    let environments = client
        .get_all(
            &format!("{repo_path}/environments?per_page=100"),
            Some("environments"),
        )
        .await?;
    let mut deployment_branch_policies = BTreeMap::new();
    for env in environments
        .ok()
        .and_then(|b| b.get("environments"))
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
    {
        let Some(name) = env.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        let custom = env
            .get("deployment_branch_policy")
            .and_then(|d| d.get("custom_branch_policies"))
            .and_then(|c| c.as_bool())
            .unwrap_or(false);
        if custom {
            let r = client
                .get_all(
                    &format!(
                        "{repo_path}/environments/{}/deployment-branch-policies?per_page=100",
                        encode_path_segment(name)
                    ),
                    Some("branch_policies"),
                )
                .await?;
            deployment_branch_policies.insert(name.to_string(), r);
        }
    }

    Ok(SettingsSnapshot {
        format: 1,
        repository: repository.to_string(),
        branch: branch.to_string(),
        classic_protection,
        branch_rules,
        tag_rulesets,
        rulesets,
        environments,
        deployment_branch_policies,
    })
}

/// Percent-encode a branch or environment name for a URL path (`release/1.x` → `release%2F1.x`).
fn encode_path_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Seconds until a rate limit resets, if this response is a rate-limit response.
fn rate_limit_wait(status: u16, headers: &HeaderMap) -> Option<u64> {
    if status != 403 && status != 429 {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(secs) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(secs);
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok())?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        return Some(reset.saturating_sub(now) + 1);
    }
    // A 429 without headers: back off briefly.
    (status == 429).then_some(1)
}

impl Client {
    fn new(opts: &FetchOptions) -> Result<Self, FetchError> {
        let base = opts.api_url.trim_end_matches('/').to_string();
        let mut builder = Octocrab::builder()
            .base_uri(base.as_str())
            .map_err(|e| FetchError::Unreachable {
                api_url: base.clone(),
                reason: format!("invalid API URL: {e}"),
            })?
            .set_connect_timeout(Some(opts.timeout))
            .set_read_timeout(Some(opts.timeout));
        if let Some(token) = &opts.token {
            builder = builder.personal_token(token.clone());
        }
        let octo = builder.build().map_err(|e| FetchError::Unreachable {
            api_url: base.clone(),
            reason: e.to_string(),
        })?;
        Ok(Client {
            octo,
            opts: opts.clone(),
            base,
        })
    }

    /// One request (path relative to the API base, or an absolute `next` URL), with
    /// rate-limit waits. Returns status, headers and parsed body.
    async fn request(&self, path_or_url: &str) -> Result<(u16, HeaderMap, Value), FetchError> {
        let url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let endpoint = format!("GET {}", url.strip_prefix(&self.base).unwrap_or(&url));
        let mut headers = HeaderMap::new();
        headers.insert(
            "accept",
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        const ATTEMPTS: u32 = 4;
        for _attempt in 0..ATTEMPTS {
            let call = self
                .octo
                ._get_with_headers(url.as_str(), Some(headers.clone()));
            let response = match tokio::time::timeout(self.opts.timeout, call).await {
                Err(_) => {
                    return Err(FetchError::Timeout {
                        api_url: self.opts.api_url.clone(),
                        endpoint,
                        timeout: self.opts.timeout,
                    })
                }
                Ok(Err(e)) => {
                    let reason = error_chain(&e);
                    if reason.to_ascii_lowercase().contains("timed out")
                        || reason.contains("Elapsed")
                    {
                        return Err(FetchError::Timeout {
                            api_url: self.opts.api_url.clone(),
                            endpoint,
                            timeout: self.opts.timeout,
                        });
                    }
                    return Err(FetchError::Unreachable {
                        api_url: self.opts.api_url.clone(),
                        reason,
                    });
                }
                Ok(Ok(r)) => r,
            };
            let status = response.status().as_u16();
            let resp_headers = response.headers().clone();
            let too_large = |declared| FetchError::TooLarge {
                url: display_url(&url),
                limit: MAX_RESPONSE_BYTES,
                declared,
            };
            let declared = resp_headers
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if let Some(n) = declared.filter(|n| *n > MAX_RESPONSE_BYTES as u64) {
                return Err(too_large(Some(n)));
            }
            let bytes = tokio::time::timeout(
                self.opts.timeout,
                read_limited(response.into_body(), MAX_RESPONSE_BYTES),
            )
            .await
            .map_err(|_| FetchError::Timeout {
                api_url: self.opts.api_url.clone(),
                endpoint: endpoint.clone(),
                timeout: self.opts.timeout,
            })?
            .map_err(|e| match e {
                BodyRead::TooLarge => too_large(None),
                BodyRead::Failed(reason) => FetchError::Protocol {
                    endpoint: endpoint.clone(),
                    reason,
                },
            })?;
            let text = String::from_utf8(bytes).map_err(|e| FetchError::Protocol {
                endpoint: endpoint.clone(),
                reason: format!("body is not UTF-8 ({e})"),
            })?;
            if let Some(wait) = rate_limit_wait(status, &resp_headers) {
                if Duration::from_secs(wait) > self.opts.max_rate_limit_wait {
                    return Err(FetchError::RateLimited {
                        endpoint,
                        wait_seconds: wait,
                        max_wait: self.opts.max_rate_limit_wait,
                    });
                }
                eprintln!("ship: GitHub rate limit on {endpoint}; waiting {wait} s");
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).map_err(|e| FetchError::Protocol {
                    endpoint: endpoint.clone(),
                    reason: format!("body is not JSON ({e})"),
                })?
            };
            return Ok((status, resp_headers, body));
        }
        Err(FetchError::RateLimitPersists {
            endpoint,
            attempts: ATTEMPTS,
        })
    }

    async fn get(&self, path: &str) -> Result<ApiResponse, FetchError> {
        let (status, _, body) = self.request(path).await?;
        Ok(ApiResponse::new(status, body))
    }

    /// Every page of a list endpoint, concatenated. `field` names the array inside an
    /// object body (`{"total_count": n, "environments": [...]}`); `None` for array bodies.
    async fn get_all(&self, path: &str, field: Option<&str>) -> Result<ApiResponse, FetchError> {
        let (status, headers, mut body) = self.request(path).await?;
        if !(200..300).contains(&status) {
            return Ok(ApiResponse::new(status, body));
        }
        let mut next = next_link(&headers);
        let mut pages = 1;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 100 {
                break;
            }
            // The token goes with every request: follow only links back to the same API.
            if !url.starts_with(&format!("{}/", self.base)) {
                return Err(FetchError::Protocol {
                    endpoint: path.to_string(),
                    reason: format!("the next-page link points outside {} ({url}); refusing to send the token there", self.base),
                });
            }
            let (s, h, page) = self.request(&url).await?;
            if !(200..300).contains(&s) {
                return Ok(ApiResponse::new(s, page));
            }
            let items = match field {
                Some(f) => page.get(f).and_then(|v| v.as_array()).cloned(),
                None => page.as_array().cloned(),
            }
            .unwrap_or_default();
            let target = match field {
                Some(f) => body.get_mut(f),
                None => Some(&mut body),
            };
            if let Some(Value::Array(all)) = target {
                all.extend(items);
            }
            next = next_link(&h);
        }
        Ok(ApiResponse::new(status, body))
    }
}

/// Why a body was not read whole.
enum BodyRead {
    /// Larger than the limit: reading stopped there.
    TooLarge,
    /// The connection failed part-way.
    Failed(String),
}

/// The body, frame by frame, stopping as soon as it would exceed `limit`: a server sending a
/// body without end costs at most the limit, never the whole body.
async fn read_limited<B>(mut body: B, limit: usize) -> Result<Vec<u8>, BodyRead>
where
    B: http_body::Body + Unpin,
    B::Data: AsRef<[u8]>,
    B::Error: std::error::Error,
{
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyRead::Failed(error_chain(&e)))?;
        if let Ok(data) = frame.into_data() {
            let data = data.as_ref();
            if out.len() + data.len() > limit {
                return Err(BodyRead::TooLarge);
            }
            out.extend_from_slice(data);
        }
    }
    Ok(out)
}

/// `url` for messages: without a user name or password in its authority, nor its query.
fn display_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static("<https://api.github.com/x?page=2>; rel=\"next\", <https://api.github.com/x?page=5>; rel=\"last\""),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
    }

    #[test]
    fn rate_limit_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(rate_limit_wait(403, &h), Some(3));
        assert_eq!(rate_limit_wait(403, &HeaderMap::new()), None);
        assert_eq!(rate_limit_wait(200, &h), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration(" 1500ms "), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3 parsecs").is_err());
        assert_eq!(show_duration(&Duration::from_secs(2)), "2 s");
        assert_eq!(show_duration(&Duration::from_millis(500)), "500 ms");
        assert_eq!(show_duration(&Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            display_url("https://x:tok@ghe.example.com/api/v3/repos/a/b?per_page=100"),
            "https://ghe.example.com/api/v3/repos/a/b"
        );
        assert_eq!(
            display_url("http://127.0.0.1:1/repos/a/b"),
            "http://127.0.0.1:1/repos/a/b"
        );
    }

    #[test]
    fn encodes_branch_names() {
        assert_eq!(encode_path_segment("release/1.x"), "release%2F1.x");
    }
}
