//! The release policy ship enforces.
//!
//! A policy file (`.github/ship-policy.yml`) is merged over the built-in default
//! (`default-policy.yml`, the release policy in DEVELOPERS.md). The file is checked against a
//! JSON Schema generated from [`Policy`], so `ship policy schema` and the checks can never
//! disagree, and every error is reported at the file's line and column with the key path.

mod load;
pub use load::schema;
mod size;

pub use load::{PolicyError, PolicySource};
pub use size::parse_size;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The text of the built-in policy.
pub const DEFAULT_POLICY_YAML: &str = include_str!("default-policy.yml");

/// A release policy. Every field has a built-in default; a policy file sets only what differs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "ship release policy")]
pub struct Policy {
    /// Format version of the policy file. Must be 1.
    pub version: u32,
    /// The branch that is always production-ready and protected.
    pub production_branch: String,
    /// Glob of the git tags that mark a release (e.g. `v*`).
    pub release_tags: String,
    /// The environment the production rules apply to.
    pub production_environment: String,
    /// Deployment environments by name.
    pub environments: BTreeMap<String, EnvironmentPolicy>,
    /// Pull-request CI requirements.
    pub ci: CiPolicy,
    /// Container image rules.
    pub images: ImagePolicy,
    /// Third-party action rules.
    pub actions: ActionPolicy,
    /// Rules switched off or given another severity.
    pub rules: RulesPolicy,
    /// Protection of the production branch, checked against the repository's settings.
    pub protection: ProtectionPolicy,
    /// Resource limits for linting.
    pub limits: LimitsPolicy,
    /// Globs (relative to the repository root) that repository-wide file checks skip, such
    /// as test fixtures that hold a `.env` on purpose.
    pub ignore_paths: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct EnvironmentPolicy {
    /// Events that may start a deploy to this environment.
    pub triggers: Vec<TriggerKind>,
    /// Case-insensitive regexes: a deploy job without `environment:` belongs to this
    /// environment when its id, name, workflow name or file name matches one.
    #[serde(rename = "match")]
    pub name_patterns: Vec<String>,
    /// Secret name prefixes that belong to this environment only.
    pub secret_prefixes: Vec<String>,
    /// Approving reviewers the GitHub environment must require (0 = none needed).
    pub required_reviewers: Option<u32>,
    /// Deploys here must run in a GitHub Environment (`environment:` on the job). Default
    /// true; per-pull-request preview stacks usually have none.
    pub require_environment: Option<bool>,
}

impl EnvironmentPolicy {
    /// Whether a deploy job must name a GitHub Environment (default: yes).
    pub fn requires_environment(&self) -> bool {
        self.require_environment.unwrap_or(true)
    }
}

/// Something that may start a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A manual run (`workflow_dispatch`).
    WorkflowDispatch,
    /// A push of a tag matching `release-tags`.
    #[serde(rename = "release-tag")]
    ReleaseTag,
    /// A push to the production branch.
    #[serde(rename = "push-production-branch")]
    PushProductionBranch,
    /// A push to any other branch.
    Push,
    /// A published GitHub release (`release`).
    Release,
    /// A schedule (`schedule`).
    Schedule,
    /// Another workflow finishing (`workflow_run`).
    WorkflowRun,
    /// An API call (`repository_dispatch`).
    RepositoryDispatch,
    /// A merge queue (`merge_group`).
    MergeGroup,
    /// A pull request (`pull_request`, `pull_request_target`): only per-PR preview stacks.
    PullRequest,
}

impl TriggerKind {
    pub fn describe(self) -> &'static str {
        match self {
            TriggerKind::WorkflowDispatch => "workflow_dispatch",
            TriggerKind::ReleaseTag => "a push of a release tag",
            TriggerKind::PushProductionBranch => "a push to the production branch",
            TriggerKind::Push => "a push to another branch",
            TriggerKind::Release => "release",
            TriggerKind::Schedule => "schedule",
            TriggerKind::WorkflowRun => "workflow_run",
            TriggerKind::RepositoryDispatch => "repository_dispatch",
            TriggerKind::MergeGroup => "merge_group",
            TriggerKind::PullRequest => "a pull request",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CiPolicy {
    /// Stages every pull request to the production branch must run.
    pub required_stages: Vec<String>,
    /// What satisfies each stage.
    pub stages: BTreeMap<String, StagePolicy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct StagePolicy {
    /// Case-insensitive regexes on job ids, job names and step names.
    pub names: Vec<String>,
    /// Regexes on `run:` scripts (multi-line mode: `^`/`$` match at line ends).
    pub commands: Vec<String>,
    /// Globs on `uses:` actions (`owner/repo[/path]`, no `@ref`).
    pub uses: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImagePolicy {
    /// Image tags that must never reach production.
    pub forbidden_tags: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ActionPolicy {
    /// How third-party actions must be pinned.
    pub pinning: Pinning,
    /// Owners whose actions may use any ref.
    pub allowed_owners: Vec<String>,
    /// Repositories (`owner/repo` globs) that hold ship's actions: `OWNER/REPO/actions/NAME@ref`
    /// and `OWNER/REPO/NAME@ref` are read as ship's `NAME` action (ecs-rollout, rollback, ...).
    /// Add yours when ship is forked or vendored under another name.
    pub ship_repositories: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pinning {
    /// A full 40-hex commit SHA.
    #[default]
    Sha,
    /// Any `@ref`.
    Ref,
    /// No requirement.
    Any,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RulesPolicy {
    /// Rule ids to switch off.
    pub disable: Vec<String>,
    /// Severity per rule id.
    pub severity: BTreeMap<String, SeverityName>,
}

/// A severity as written in a policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Error,
    Warning,
    Note,
}

impl From<SeverityName> for ship_findings::Severity {
    fn from(s: SeverityName) -> Self {
        match s {
            SeverityName::Error => ship_findings::Severity::Error,
            SeverityName::Warning => ship_findings::Severity::Warning,
            SeverityName::Note => ship_findings::Severity::Note,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProtectionPolicy {
    /// Approving reviews a pull request needs.
    pub required_approvals: Option<u32>,
    /// Stale approvals must be dismissed when new commits are pushed.
    pub dismiss_stale_reviews: Option<bool>,
    /// Branches must be up to date before merging.
    pub require_up_to_date: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsPolicy {
    /// Largest file that is parsed, e.g. `5MB`, `512KB`.
    pub max_file_size: String,
}

/// A policy with its patterns compiled, ready for the rules.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub policy: Policy,
    pub environments: Vec<CompiledEnvironment>,
    /// Every environment's `match` patterns in one set, by index in `environments`: one
    /// pass per name tells which environments it could be.
    pub environment_names: StageMatcher,
    pub stages: Vec<CompiledStage>,
    /// Every stage's `names` in one set, and the stage index of each pattern: one pass per
    /// name tells which stages it satisfies.
    pub stage_names: StageMatcher,
    /// Every stage's `commands` in one set (one pass per script).
    pub stage_commands: StageMatcher,
    /// Every stage's `uses` globs in one set (one pass per action name).
    pub stage_uses: StageGlobs,
    pub max_file_size: u64,
    /// `actions.ship-repositories`, lower-cased.
    pub ship_repositories: globset::GlobSet,
    /// The policy file names `production-branch` itself. When it does not, a repository
    /// whose workflows never mention the default (`main`) but use `master` (or `develop`)
    /// for it has that branch read as its production branch.
    pub production_branch_set: bool,
}

impl CompiledPolicy {
    /// Is `owner/repo` one of the repositories that hold ship's actions?
    pub fn is_ship_repository(&self, owner: &str, repo: &str) -> bool {
        self.ship_repositories
            .is_match(format!("{owner}/{repo}").to_ascii_lowercase())
    }
}

/// Patterns of several stages in one multi-pattern regex (what `regex::RegexSet` builds,
/// without its literal prefilter: see `StageMatcher::new`).
#[derive(Debug, Clone)]
pub struct StageMatcher {
    set: regex_automata::meta::Regex,
    stage_of: Vec<usize>,
}

impl StageMatcher {
    /// `None` when some pattern does not compile (the caller finds and names it).
    pub(crate) fn new(patterns: Vec<(usize, String)>) -> Option<Self> {
        use regex_automata::{meta, util::syntax, MatchKind};
        // ASCII word boundaries and classes keep the whole set on the fast DFA (see
        // `compile`); a set with a pattern that needs Unicode is compiled with it.
        let build = |ascii: bool| {
            let texts: Vec<String> = patterns
                .iter()
                .map(|(_, p)| {
                    if ascii {
                        ascii_word_boundaries(p)
                    } else {
                        p.clone()
                    }
                })
                .collect();
            // What `regex::RegexSetBuilder` configures, plus the prefilter switch it does
            // not expose.
            meta::Builder::new()
                .configure(
                    meta::Config::new()
                        .match_kind(MatchKind::All)
                        .utf8_empty(true)
                        .which_captures(regex_automata::nfa::thompson::WhichCaptures::None)
                        .nfa_size_limit(Some(32 << 20))
                        .hybrid_cache_capacity(2 << 20)
                        // No literal prefilter: extracting one is quadratic in the number of
                        // patterns (regex-syntax merges each pattern's literals into the whole
                        // set's: 4.6 s for 8,000 patterns), and even for the built-in policy's
                        // hundred it cost more at start-up (2.6 ms of a 12 ms run) than it
                        // saved on 3,500 workflows; the lazy DFA alone is linear in the text.
                        .auto_prefilter(false),
                )
                .syntax(
                    syntax::Config::new()
                        .case_insensitive(true)
                        .multi_line(true)
                        .utf8(true),
                )
                .build_many(&texts)
                .ok()
        };
        let set = build(true).or_else(|| build(false))?;
        Some(StageMatcher {
            set,
            stage_of: patterns.into_iter().map(|(i, _)| i).collect(),
        })
    }

    /// Mark in `found` (indexed like `CompiledPolicy::stages`) each stage `text` satisfies.
    pub fn mark(&self, text: &str, found: &mut [bool]) {
        // Most text matches nothing; `is_match` is the cheap way to learn that.
        if !self.set.is_match(text) {
            return;
        }
        let mut which = regex_automata::PatternSet::new(self.set.pattern_len());
        self.set
            .which_overlapping_matches(&regex_automata::Input::new(text), &mut which);
        for i in which.iter() {
            found[self.stage_of[i.as_usize()]] = true;
        }
    }
}

/// Globs of several stages in one [`globset::GlobSet`]: which stages an action satisfies.
#[derive(Debug, Clone)]
pub struct StageGlobs {
    set: globset::GlobSet,
    stage_of: Vec<usize>,
}

impl StageGlobs {
    pub(crate) fn new(globs: Vec<(usize, globset::Glob)>) -> Option<Self> {
        let mut builder = globset::GlobSetBuilder::new();
        for (_, g) in &globs {
            builder.add(g.clone());
        }
        Some(StageGlobs {
            set: builder.build().ok()?,
            stage_of: globs.into_iter().map(|(i, _)| i).collect(),
        })
    }

    /// Mark in `found` each stage whose `uses` globs match `action` (lower-cased
    /// `owner/repo[/path]`, without its `@ref`).
    pub fn mark(&self, action: &str, found: &mut [bool]) {
        for i in self.set.matches(action) {
            found[self.stage_of[i]] = true;
        }
    }
}

#[derive(Debug, Clone)]
pub struct CompiledEnvironment {
    pub name: String,
    pub policy: EnvironmentPolicy,
}

#[derive(Debug, Clone)]
pub struct CompiledStage {
    pub name: String,
    pub required: bool,
}

impl CompiledPolicy {
    pub fn environment(&self, name: &str) -> Option<&CompiledEnvironment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The policy environment a GitHub Environment name stands for. GitHub compares
    /// environment names case-insensitively (`Production` is `production`); a name that is
    /// not a policy environment's own belongs to the first environment (production first)
    /// whose `match` patterns it satisfies, so `prod` or `Staging-EU` are placed too.
    pub fn environment_named(&self, name: &str) -> Option<&CompiledEnvironment> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        self.environments
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .or_else(|| self.infer_environment(&[name]))
    }

    /// The environment whose name patterns match any of `names` (first in policy order,
    /// production first so an ambiguous name errs on the strict side).
    pub fn infer_environment<'s>(&'s self, names: &[&str]) -> Option<&'s CompiledEnvironment> {
        let production = &self.policy.production_environment;
        // `deploy_prod` and `deploy-prod` read the same: regexes use `\b`, for which `_` is
        // part of a word.
        let mut hit = vec![false; self.environments.len()];
        for name in names {
            if name.contains('_') {
                self.environment_names
                    .mark(&name.replace('_', "-"), &mut hit);
            } else {
                self.environment_names.mark(name, &mut hit);
            }
        }
        let in_order = self.environments.iter().enumerate();
        in_order
            .clone()
            .filter(|(_, e)| &e.name == production)
            .chain(in_order.filter(|(_, e)| &e.name != production))
            .find(|(i, _)| hit[*i])
            .map(|(_, e)| e)
    }

    pub fn is_production(&self, environment: &str) -> bool {
        environment == self.policy.production_environment
    }

    /// The environment a secret name belongs to, by prefix.
    pub fn secret_environment(&self, secret: &str) -> Option<&CompiledEnvironment> {
        let upper = secret.to_ascii_uppercase();
        self.environments.iter().find(|e| {
            e.policy
                .secret_prefixes
                .iter()
                .any(|p| upper.starts_with(&p.to_ascii_uppercase()))
        })
    }

    /// Does a tag name match `release-tags`?
    pub fn is_release_tag(&self, tag: &str) -> bool {
        glob_matches(&self.policy.release_tags, tag)
    }

    /// Is a branch or tag *pattern* (from an `on.push.tags` filter) confined to release tags?
    /// Patterns are compared by their literal prefix: `v*.*.*` is inside `v*`, `*` is not.
    pub fn pattern_within_release_tags(&self, pattern: &str) -> bool {
        let release_prefix = literal_prefix(&self.policy.release_tags);
        let prefix = literal_prefix(pattern);
        !pattern.starts_with('!')
            && prefix.starts_with(release_prefix)
            && (prefix.len() > release_prefix.len()
                || !release_prefix.is_empty()
                || pattern == self.policy.release_tags)
    }
}

/// `\b` made ASCII (`(?-u:\b)`): workflow names and commands are ASCII, and an ASCII word
/// boundary keeps a regex on the fast lazy DFA on any text, where a Unicode one falls back
/// to the slow PikeVM as soon as the text holds a non-ASCII character.
pub fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') => out.push_str(r"(?-u:\b)"),
                // `\\` (a literal backslash) and every other escape stay as written.
                Some(n) => {
                    out.push(c);
                    out.push(n);
                }
                None => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The part of a glob before its first special character.
pub fn literal_prefix(glob: &str) -> &str {
    let end = glob.find(['*', '?', '[', '+', '!']).unwrap_or(glob.len());
    &glob[..end]
}

/// GitHub-style glob match of one name (`*` does not cross `/`, `**` does).
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    // Literal patterns (`main`) are the common case and need no matcher.
    if !pattern.contains(['*', '?', '[', '{']) {
        return pattern == name;
    }
    // Compiling a glob builds a regex; workflows repeat the same few patterns, so keep them.
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Option<globset::GlobMatcher>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 4096 {
            cache.clear();
        }
        let matcher = cache.entry(pattern.to_string()).or_insert_with(|| {
            globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        });
        match matcher {
            Some(m) => m.is_match(name),
            None => pattern == name,
        }
    })
}

#[cfg(test)]
mod ascii_tests {
    use super::ascii_word_boundaries;

    #[test]
    fn word_boundaries_become_ascii_and_escapes_stay() {
        assert_eq!(ascii_word_boundaries(r"\bprod\b"), r"(?-u:\b)prod(?-u:\b)");
        assert_eq!(ascii_word_boundaries(r"a\\b"), r"a\\b");
        assert_eq!(ascii_word_boundaries(r"\d+\.\b"), r"\d+\.(?-u:\b)");
    }
}
