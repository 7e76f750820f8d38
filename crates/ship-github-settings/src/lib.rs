//! A repository's settings that the release policy depends on (branch protection, rulesets,
//! environments), as GitHub's own responses ([`SettingsSnapshot`], the document
//! `ship settings export` writes) and as what they amount to ([`EffectiveSettings`]).
//!
//! With the `fetch` feature, [`fetch::fetch_snapshot`] reads them live through octocrab.

mod effective;
#[cfg(feature = "fetch")]
pub mod fetch;
mod snapshot;

pub use effective::{
    AccessProblem, BranchProtection, DeploymentBranchPolicy, EffectiveSettings,
    EnvironmentSettings, RequiredCheck, Ruleset, GITHUB_ACTIONS_APP_ID,
};
pub use snapshot::{ApiResponse, SettingsSnapshot};
