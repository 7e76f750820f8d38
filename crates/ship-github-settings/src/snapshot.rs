//! The settings document (`ship settings export`): GitHub's own responses, kept verbatim with
//! their HTTP status, so an audit can see exactly what the API said and `ship lint --settings`
//! reads the same bytes `ship lint --github` would have fetched.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One API response: its status and JSON body (all pages concatenated for list endpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiResponse {
    pub status: u16,
    #[serde(default)]
    pub body: Value,
}

impl ApiResponse {
    pub fn new(status: u16, body: Value) -> Self {
        ApiResponse { status, body }
    }

    /// The body of a 2xx response.
    pub fn ok(&self) -> Option<&Value> {
        (200..300).contains(&self.status).then_some(&self.body)
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// GitHub's `message` field, for error responses.
    pub fn message(&self) -> &str {
        self.body
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("")
    }
}

/// Everything ship reads about a repository's settings, as one JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsSnapshot {
    /// Format of this document; 1.
    pub format: u32,
    /// `OWNER/REPO`.
    pub repository: String,
    /// The production branch the protection was read for.
    pub branch: String,
    /// `GET /repos/{o}/{r}/branches/{branch}/protection` (404 "Branch not protected" =
    /// unprotected; any other 404 is a token that cannot see it, or no such branch).
    pub classic_protection: ApiResponse,
    /// `GET /repos/{o}/{r}/rules/branches/{branch}`: the active rules from every ruleset.
    pub branch_rules: ApiResponse,
    /// `GET /repos/{o}/{r}/rulesets?targets=tag`.
    pub tag_rulesets: ApiResponse,
    /// `GET /repos/{o}/{r}/rulesets/{id}` for every ruleset above (bypass actors, conditions).
    #[serde(default)]
    pub rulesets: BTreeMap<String, ApiResponse>,
    /// `GET /repos/{o}/{r}/environments`.
    pub environments: ApiResponse,
    /// `GET /repos/{o}/{r}/environments/{name}/deployment-branch-policies`, by environment.
    #[serde(default)]
    pub deployment_branch_policies: BTreeMap<String, ApiResponse>,
}
