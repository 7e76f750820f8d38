//! Registry failures, shared by the OCI and ECR backends: each names the registry, says
//! what went wrong, and what to check.

use serde::Serialize;

/// The class of a registry failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// No connection (refused, DNS, TLS, timeout).
    Unreachable,
    /// Authentication missing or refused (HTTP 401, bad AWS credentials).
    Unauthorized,
    /// Authenticated, but not allowed (HTTP 403, AWS AccessDenied).
    Forbidden,
    /// Repository or manifest does not exist (HTTP 404).
    NotFound,
    /// The registry failed (HTTP 5xx).
    Server,
    /// The registry refused the request (other 4xx): invalid manifest, tag rules.
    Rejected,
    /// The registry answered something this client cannot use.
    Protocol,
}

/// A registry failure: `{problem}; check {check}` on one line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{problem}; check {check}")]
pub struct RegistryError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// The registry (host) involved.
    pub registry: String,
    /// What happened, naming the registry.
    pub problem: String,
    /// What to check.
    pub check: String,
}

impl RegistryError {
    /// A failure of the given kind.
    pub fn new(
        kind: ErrorKind,
        registry: impl Into<String>,
        problem: impl Into<String>,
        check: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            registry: registry.into(),
            problem: problem.into(),
            check: check.into(),
        }
    }
}

/// What a request was about, for messages: `api:v1.2.3`, or the repository `api` alone for
/// requests about the whole repository (listing its tags: `reference` empty).
pub(crate) fn target(repository: &str, reference: &str) -> String {
    if reference.is_empty() {
        repository.to_string()
    } else {
        format!("{repository}:{reference}")
    }
}

/// `e` and its sources, joined with `: `, so "error sending request" carries its cause
/// ("Connection refused").
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ").replace('\n', " ")
}
