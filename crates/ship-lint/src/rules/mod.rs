//! The rules. One file per rule; the struct's doc comment is the rule's documentation
//! (what it reports, why, how to fix, an example), shown by `ship lint --explain RULE` and
//! carried into SARIF. [`registry`] lists every rule, in the order `ship rules` prints them.

use crate::context::{Diagnostic, RepositoryContext, SettingsContext, WorkflowContext};
use ship_findings::RuleInfo;

/// Declare a rule struct whose doc comment becomes its documentation: the shared
/// [`ship_findings::declare_rule!`], re-declared here so every rule module below sees it.
macro_rules! declare_rule {
    ($($rule:tt)*) => {
        ship_findings::declare_rule! { $($rule)* }
    };
}

pub mod admin_bypass;
pub mod baseline_stale;
pub mod branch_deletion;
pub mod branch_protection;
pub mod ci_stages;
pub mod ci_trigger;
pub mod dangerous_trigger;
pub mod deploy_concurrency;
pub mod deploy_environment;
pub mod deploy_trigger;
pub mod deploy_version_input;
pub mod env_file_committed;
pub mod environment_protection;
pub mod force_push;
pub mod hardcoded_secret;
pub mod image_tags;
pub mod migrations_order;
pub mod mutable_image_tag;
pub mod permissions;
pub mod post_deploy_check;
pub mod required_checks;
pub mod required_reviews;
pub mod rollback_path;
pub mod secret_scope;
pub mod settings_access;
pub mod stale_reviews;
pub mod static_credentials;
pub mod strict_checks;
pub mod tag_protection;
pub mod template_injection;
pub mod unknown_ship_action;
pub mod unpinned_action;
pub mod unused_ignore;
pub mod workflow_syntax;

/// A lint rule. Workflow rules look at one file; repository rules at all of them at once.
pub trait Rule: Send + Sync {
    fn info(&self) -> &'static RuleInfo;

    fn check_workflow(&self, _cx: &WorkflowContext<'_>, _out: &mut Vec<Diagnostic>) {}

    fn check_repository(&self, _cx: &RepositoryContext<'_>, _out: &mut Vec<Diagnostic>) {}

    /// Repository settings rules (`--github`/`--settings`): branch protection, environments.
    fn check_settings(&self, _cx: &SettingsContext<'_>, _out: &mut Vec<Diagnostic>) {}

    /// Whether the rule reads the repository's GitHub settings (it runs only with
    /// `--github`/`--settings`), not its files.
    fn reads_settings(&self) -> bool {
        false
    }

    /// Whether the rule also checks composite actions (`.github/actions/**/action.yml`),
    /// whose steps it reads like a workflow job's.
    fn reads_actions(&self) -> bool {
        false
    }
}

/// Every rule, in the order `ship rules` lists them.
pub fn registry() -> &'static [&'static dyn Rule] {
    static RULES: &[&dyn Rule] = &[
        &workflow_syntax::WorkflowSyntax,
        &ci_trigger::CiTrigger,
        &ci_stages::CiStages,
        &deploy_trigger::DeployTrigger,
        &deploy_environment::DeployEnvironment,
        &deploy_concurrency::DeployConcurrency,
        &deploy_version_input::DeployVersionInput,
        &migrations_order::MigrationsOrder,
        &post_deploy_check::PostDeployCheck,
        &mutable_image_tag::MutableImageTag,
        &image_tags::ImageTags,
        &rollback_path::RollbackPath,
        &secret_scope::SecretScope,
        &hardcoded_secret::HardcodedSecret,
        &template_injection::TemplateInjection,
        &permissions::Permissions,
        &unpinned_action::UnpinnedAction,
        &unknown_ship_action::UnknownShipAction,
        &static_credentials::StaticCredentials,
        &dangerous_trigger::DangerousTrigger,
        &env_file_committed::EnvFileCommitted,
        &unused_ignore::UnusedIgnore,
        &baseline_stale::BaselineStale,
        &branch_protection::BranchProtection,
        &required_reviews::RequiredReviews,
        &stale_reviews::StaleReviews,
        &required_checks::RequiredChecks,
        &strict_checks::StrictChecks,
        &admin_bypass::AdminBypass,
        &force_push::ForcePush,
        &branch_deletion::BranchDeletion,
        &environment_protection::EnvironmentProtection,
        &tag_protection::TagProtection,
        &settings_access::SettingsAccess,
    ];
    RULES
}

/// The rule with this id.
pub fn rule_by_id(id: &str) -> Option<&'static dyn Rule> {
    registry().iter().copied().find(|r| r.info().id == id)
}

/// Every rule id.
pub fn rule_ids() -> Vec<&'static str> {
    registry().iter().map(|r| r.info().id).collect()
}

/// The ids of the rules that read repository settings (see [`Rule::reads_settings`]), in
/// registry order.
pub fn settings_rule_ids() -> Vec<&'static str> {
    registry()
        .iter()
        .filter(|r| r.reads_settings())
        .map(|r| r.info().id)
        .collect()
}

/// A rule's documentation with the one-space indent of doc comments removed.
pub fn documentation(info: &RuleInfo) -> String {
    info.documentation()
}

/// Implement [`Rule`] for a declared rule struct with the given check methods.
macro_rules! rule_impl {
    ($name:ident) => {
        impl $crate::rules::Rule for $name {
            fn info(&self) -> &'static ship_findings::RuleInfo {
                &Self::INFO
            }
        }
    };
    ($name:ident, workflow) => {
        impl $crate::rules::Rule for $name {
            fn info(&self) -> &'static ship_findings::RuleInfo {
                &Self::INFO
            }
            fn check_workflow(
                &self,
                cx: &$crate::context::WorkflowContext<'_>,
                out: &mut Vec<$crate::context::Diagnostic>,
            ) {
                self.check(cx, out)
            }
        }
    };
    ($name:ident, workflow, actions) => {
        impl $crate::rules::Rule for $name {
            fn info(&self) -> &'static ship_findings::RuleInfo {
                &Self::INFO
            }
            fn reads_actions(&self) -> bool {
                true
            }
            fn check_workflow(
                &self,
                cx: &$crate::context::WorkflowContext<'_>,
                out: &mut Vec<$crate::context::Diagnostic>,
            ) {
                self.check(cx, out)
            }
        }
    };
    ($name:ident, settings) => {
        impl $crate::rules::Rule for $name {
            fn info(&self) -> &'static ship_findings::RuleInfo {
                &Self::INFO
            }
            fn reads_settings(&self) -> bool {
                true
            }
            fn check_settings(
                &self,
                cx: &$crate::context::SettingsContext<'_>,
                out: &mut Vec<$crate::context::Diagnostic>,
            ) {
                self.check(cx, out)
            }
        }
    };
    ($name:ident, repository) => {
        impl $crate::rules::Rule for $name {
            fn info(&self) -> &'static ship_findings::RuleInfo {
                &Self::INFO
            }
            fn check_repository(
                &self,
                cx: &$crate::context::RepositoryContext<'_>,
                out: &mut Vec<$crate::context::Diagnostic>,
            ) {
                self.check(cx, out)
            }
        }
    };
}

pub(crate) use rule_impl;
