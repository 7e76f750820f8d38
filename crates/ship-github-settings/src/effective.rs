//! What the settings amount to for the production branch: classic protection and rulesets
//! combined, the stricter setting winning, and what could not be read.

use crate::snapshot::{ApiResponse, SettingsSnapshot};
use serde_json::Value;

/// GitHub Actions' app id: a required check with this id (or none) must come from a workflow.
pub const GITHUB_ACTIONS_APP_ID: i64 = 15368;

/// A setting the token could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessProblem {
    /// What could not be read, e.g. "branch protection of `main`".
    pub what: String,
    pub endpoint: String,
    pub status: u16,
    pub message: String,
    /// The fine-grained permission that reads it, e.g. `administration: read`.
    pub permission: &'static str,
}

/// A status check that must pass before merging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredCheck {
    pub context: String,
    /// The app that must report it; `None` means any.
    pub app_id: Option<i64>,
    /// Where the requirement comes from (`classic protection` or `ruleset "name"`).
    pub source: String,
}

/// A ruleset that applies to the branch or to tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruleset {
    pub id: String,
    pub name: String,
    pub enforcement: String,
    /// `None` when the token could not see them (they need admin access).
    pub bypass_actors: Option<Vec<String>>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub rule_types: Vec<String>,
}

/// A deployment environment.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentSettings {
    pub name: String,
    pub required_reviewers: usize,
    /// `None`: any branch may deploy.
    pub deployment_branch_policy: Option<DeploymentBranchPolicy>,
    /// Custom branch/tag patterns when `custom_branch_policies` is on.
    pub custom_policies: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentBranchPolicy {
    pub protected_branches: bool,
    pub custom_branch_policies: bool,
}

/// The production branch's effective protection.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchProtection {
    pub classic: bool,
    pub rulesets: Vec<Ruleset>,
    pub required_approvals: u32,
    pub dismiss_stale_reviews: bool,
    pub strict_checks: bool,
    pub required_checks: Vec<RequiredCheck>,
    /// Classic protection applies to admins too (`enforce_admins`). `None` without classic.
    pub enforce_admins: Option<bool>,
    pub force_push_allowed: bool,
    pub deletion_allowed: bool,
    /// Classic protection or the rulesets' rules could not be read (an access problem says
    /// which): a requirement missing here may be set there, so only what was read can be
    /// reported, never an absence.
    pub partial: bool,
}

impl BranchProtection {
    /// Classic protection or at least one ruleset applies to the branch.
    pub fn is_protected(&self) -> bool {
        self.classic || !self.rulesets.is_empty()
    }
}

/// Everything the settings rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveSettings {
    pub repository: String,
    pub branch: String,
    /// `None` when protection could not be read at all.
    pub protection: Option<BranchProtection>,
    pub environments: Option<Vec<EnvironmentSettings>>,
    pub tag_rulesets: Option<Vec<Ruleset>>,
    pub access_problems: Vec<AccessProblem>,
}

fn flag(v: &Value, path: &[&str]) -> Option<bool> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_bool()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn access_problem(
    resp: &ApiResponse,
    what: String,
    endpoint: String,
    permission: &'static str,
) -> AccessProblem {
    AccessProblem {
        what,
        endpoint,
        status: resp.status,
        message: resp.message().to_string(),
        permission,
    }
}

fn ruleset_from(id: &str, detail: Option<&ApiResponse>, fallback: Option<&Value>) -> Ruleset {
    let body = detail.and_then(|d| d.ok()).or(fallback);
    let get_str = |k: &str| {
        body.and_then(|b| b.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let bypass_actors = body
        .and_then(|b| b.get("bypass_actors"))
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .map(|actor| {
                    let kind = actor
                        .get("actor_type")
                        .and_then(|t| t.as_str())
                        .unwrap_or("actor");
                    let mode = actor
                        .get("bypass_mode")
                        .and_then(|m| m.as_str())
                        .unwrap_or("always");
                    // `DeployKey` (and sometimes `OrganizationAdmin`) come with `"actor_id": null`.
                    match actor.get("actor_id").filter(|i| !i.is_null()) {
                        Some(id) => format!("{kind} {id} ({mode})"),
                        None => format!("{kind} ({mode})"),
                    }
                })
                .collect()
        });
    let ref_name = body
        .and_then(|b| b.get("conditions"))
        .and_then(|c| c.get("ref_name"));
    Ruleset {
        id: id.to_string(),
        name: get_str("name"),
        enforcement: get_str("enforcement"),
        bypass_actors,
        include: strings(ref_name.and_then(|r| r.get("include"))),
        exclude: strings(ref_name.and_then(|r| r.get("exclude"))),
        rule_types: body
            .and_then(|b| b.get("rules"))
            .and_then(|r| r.as_array())
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.get("type")?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

impl EffectiveSettings {
    /// Combine the snapshot's responses. Where classic protection and rulesets both set
    /// something, the stricter value wins (GitHub enforces both).
    pub fn from_snapshot(s: &SettingsSnapshot) -> Self {
        let mut problems = Vec::new();
        let (owner_repo, branch) = (&s.repository, &s.branch);

        // Classic protection.
        let classic_ep = format!("GET /repos/{owner_repo}/branches/{branch}/protection");
        let classic: Option<Option<&Value>> = match &s.classic_protection {
            r if r.ok().is_some() => Some(r.ok()),
            // GitHub says "Branch not protected" for an unprotected branch; a bare "Not Found"
            // is a token that may not see protection (private repository) or a missing branch,
            // and must not read as "unprotected".
            r if r.is_not_found() && r.message().to_ascii_lowercase().contains("not protected") => {
                Some(None)
            }
            r => {
                problems.push(access_problem(
                    r,
                    format!("branch protection of `{branch}`"),
                    classic_ep,
                    "administration: read",
                ));
                None
            }
        };
        // Rules from rulesets.
        let rules_ep = format!("GET /repos/{owner_repo}/rules/branches/{branch}");
        let rules: Option<Vec<Value>> = match s.branch_rules.ok() {
            Some(b) => Some(b.as_array().cloned().unwrap_or_default()),
            None => {
                problems.push(access_problem(
                    &s.branch_rules,
                    format!("ruleset rules of `{branch}`"),
                    rules_ep,
                    "metadata: read",
                ));
                None
            }
        };

        let protection = match (classic, rules) {
            (Some(classic), Some(rules)) => Some(Self::protection(classic, &rules, s, false)),
            // One source readable: use it, the access problem is reported, and what the other
            // source may add is unknown (`partial`).
            (Some(classic), None) => Some(Self::protection(classic, &[], s, true)),
            (None, Some(rules)) if !rules.is_empty() => {
                Some(Self::protection(None, &rules, s, true))
            }
            _ => None,
        };
        // Each ruleset behind the branch's rules, and each tag ruleset, is read in detail
        // (bypass actors, conditions, rules): say what could not be seen.
        if let Some(p) = &protection {
            for r in &p.rulesets {
                Self::ruleset_problems(s, r, r.bypass_actors.is_none(), &mut problems);
            }
        }

        // Environments.
        let env_ep = format!("GET /repos/{owner_repo}/environments");
        let environments = match s.environments.ok() {
            Some(body) => Some(
                body.get("environments")
                    .and_then(|e| e.as_array())
                    .map(|envs| {
                        envs.iter()
                            .map(|e| Self::environment(e, s, &mut problems))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            // A repository without environments answers 404 on some GitHub versions.
            None if s.environments.is_not_found() => Some(Vec::new()),
            None => {
                problems.push(access_problem(
                    &s.environments,
                    "environments".into(),
                    env_ep,
                    "environments: read (or actions: read)",
                ));
                None
            }
        };

        // Tag rulesets.
        let tag_ep = format!("GET /repos/{owner_repo}/rulesets?targets=tag");
        let tag_rulesets = match s.tag_rulesets.ok() {
            Some(list) => {
                let rulesets: Vec<Ruleset> = list
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .filter(|r| {
                                r.get("target").and_then(|t| t.as_str()).unwrap_or("tag") == "tag"
                            })
                            .map(|r| {
                                let id = r.get("id").map(|i| i.to_string()).unwrap_or_default();
                                ruleset_from(&id, s.rulesets.get(&id), Some(r))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                // The list has no conditions or rules: a ruleset whose detail could not be
                // read may well protect the release tags, so tags cannot be judged.
                let mut all_read = true;
                for r in &rulesets {
                    all_read &= Self::ruleset_problems(s, r, false, &mut problems);
                }
                all_read.then_some(rulesets)
            }
            None => {
                problems.push(access_problem(
                    &s.tag_rulesets,
                    "tag rulesets".into(),
                    tag_ep,
                    "metadata: read",
                ));
                None
            }
        };

        EffectiveSettings {
            repository: owner_repo.clone(),
            branch: branch.clone(),
            protection,
            environments,
            tag_rulesets,
            access_problems: problems,
        }
    }

    /// Access problems of one ruleset's detail (`GET /repos/{o}/{r}/rulesets/{id}`).
    /// Returns whether the detail was readable.
    fn ruleset_problems(
        s: &SettingsSnapshot,
        ruleset: &Ruleset,
        bypass_hidden: bool,
        problems: &mut Vec<AccessProblem>,
    ) -> bool {
        let id = &ruleset.id;
        let endpoint = format!("GET /repos/{}/rulesets/{id}", s.repository);
        let named = if ruleset.name.is_empty() {
            format!("ruleset {id}")
        } else {
            format!("ruleset \"{}\"", ruleset.name)
        };
        match s.rulesets.get(id) {
            Some(r) if r.ok().is_none() => {
                problems.push(access_problem(r, named, endpoint, "metadata: read"));
                return false;
            }
            // GitHub leaves `bypass_actors` out for tokens that may not administer the ruleset.
            Some(r) if bypass_hidden => problems.push(AccessProblem {
                what: format!("the bypass actors of {named}"),
                endpoint,
                status: r.status,
                message: "no `bypass_actors` in the response".into(),
                permission: "administration: read",
            }),
            _ => {}
        }
        true
    }

    fn protection(
        classic: Option<&Value>,
        rules: &[Value],
        s: &SettingsSnapshot,
        partial: bool,
    ) -> BranchProtection {
        let mut p = BranchProtection {
            classic: classic.is_some(),
            rulesets: Vec::new(),
            required_approvals: 0,
            dismiss_stale_reviews: false,
            strict_checks: false,
            required_checks: Vec::new(),
            enforce_admins: None,
            // Unprotected: anything goes until a rule says otherwise.
            force_push_allowed: true,
            deletion_allowed: true,
            partial,
        };
        if let Some(c) = classic {
            if let Some(reviews) = c.get("required_pull_request_reviews") {
                p.required_approvals = reviews
                    .get("required_approving_review_count")
                    .and_then(|n| n.as_u64())
                    .unwrap_or(0) as u32;
                p.dismiss_stale_reviews = reviews
                    .get("dismiss_stale_reviews")
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false);
            }
            if let Some(checks) = c.get("required_status_checks") {
                p.strict_checks = checks
                    .get("strict")
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false);
                let mut seen: Vec<String> = Vec::new();
                for check in checks
                    .get("checks")
                    .and_then(|c| c.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(ctx) = check.get("context").and_then(|c| c.as_str()) {
                        seen.push(ctx.to_string());
                        p.required_checks.push(RequiredCheck {
                            context: ctx.to_string(),
                            app_id: check.get("app_id").and_then(|a| a.as_i64()),
                            source: "classic protection".into(),
                        });
                    }
                }
                for ctx in strings(checks.get("contexts")) {
                    if !seen.contains(&ctx) {
                        p.required_checks.push(RequiredCheck {
                            context: ctx,
                            app_id: None,
                            source: "classic protection".into(),
                        });
                    }
                }
            }
            p.enforce_admins = Some(flag(c, &["enforce_admins", "enabled"]).unwrap_or(false));
            p.force_push_allowed = flag(c, &["allow_force_pushes", "enabled"]).unwrap_or(false);
            p.deletion_allowed = flag(c, &["allow_deletions", "enabled"]).unwrap_or(false);
        }
        let mut ruleset_ids: Vec<String> = Vec::new();
        let mut ruleset_blocks_force_push = false;
        let mut ruleset_blocks_deletion = false;
        for rule in rules {
            let id = rule
                .get("ruleset_id")
                .map(|i| i.to_string())
                .unwrap_or_default();
            if !id.is_empty() && !ruleset_ids.contains(&id) {
                ruleset_ids.push(id.clone());
            }
            let source = match s
                .rulesets
                .get(&id)
                .and_then(|r| r.ok())
                .and_then(|b| b.get("name"))
                .and_then(|n| n.as_str())
            {
                Some(name) => format!("ruleset \"{name}\""),
                None => format!("ruleset {id}"),
            };
            let params = rule.get("parameters");
            match rule.get("type").and_then(|t| t.as_str()).unwrap_or("") {
                "pull_request" => {
                    let n = params
                        .and_then(|p| p.get("required_approving_review_count"))
                        .and_then(|n| n.as_u64())
                        .unwrap_or(0) as u32;
                    p.required_approvals = p.required_approvals.max(n);
                    p.dismiss_stale_reviews |= params
                        .and_then(|p| p.get("dismiss_stale_reviews_on_push"))
                        .and_then(|b| b.as_bool())
                        .unwrap_or(false);
                }
                "required_status_checks" => {
                    p.strict_checks |= params
                        .and_then(|p| p.get("strict_required_status_checks_policy"))
                        .and_then(|b| b.as_bool())
                        .unwrap_or(false);
                    for check in params
                        .and_then(|p| p.get("required_status_checks"))
                        .and_then(|c| c.as_array())
                        .into_iter()
                        .flatten()
                    {
                        if let Some(ctx) = check.get("context").and_then(|c| c.as_str()) {
                            if !p.required_checks.iter().any(|r| r.context == ctx) {
                                p.required_checks.push(RequiredCheck {
                                    context: ctx.to_string(),
                                    app_id: check.get("integration_id").and_then(|a| a.as_i64()),
                                    source: source.clone(),
                                });
                            }
                        }
                    }
                }
                "non_fast_forward" => ruleset_blocks_force_push = true,
                "deletion" => ruleset_blocks_deletion = true,
                _ => {}
            }
        }
        if ruleset_blocks_force_push {
            p.force_push_allowed = false;
        }
        if ruleset_blocks_deletion {
            p.deletion_allowed = false;
        }
        p.rulesets = ruleset_ids
            .iter()
            .map(|id| ruleset_from(id, s.rulesets.get(id), None))
            .collect();
        p
    }

    fn environment(
        e: &Value,
        s: &SettingsSnapshot,
        problems: &mut Vec<AccessProblem>,
    ) -> EnvironmentSettings {
        let name = e
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        let required_reviewers = e
            .get("protection_rules")
            .and_then(|r| r.as_array())
            .map(|rules| {
                rules
                    .iter()
                    .filter(|r| {
                        r.get("type").and_then(|t| t.as_str()) == Some("required_reviewers")
                    })
                    .map(|r| {
                        r.get("reviewers")
                            .and_then(|v| v.as_array())
                            .map(|a| a.len())
                            .unwrap_or(0)
                    })
                    .sum()
            })
            .unwrap_or(0);
        let deployment_branch_policy = e
            .get("deployment_branch_policy")
            .filter(|v| !v.is_null())
            .map(|d| DeploymentBranchPolicy {
                protected_branches: flag(d, &["protected_branches"]).unwrap_or(false),
                custom_branch_policies: flag(d, &["custom_branch_policies"]).unwrap_or(false),
            });
        let mut custom_policies = Vec::new();
        if deployment_branch_policy
            .as_ref()
            .is_some_and(|d| d.custom_branch_policies)
        {
            match s.deployment_branch_policies.get(&name) {
                Some(r) if r.ok().is_some() => {
                    for bp in r
                        .body
                        .get("branch_policies")
                        .and_then(|b| b.as_array())
                        .into_iter()
                        .flatten()
                    {
                        let pattern = bp
                            .get("name")
                            .and_then(|n| n.as_str())
                            .unwrap_or("")
                            .to_string();
                        let kind = bp
                            .get("type")
                            .and_then(|t| t.as_str())
                            .unwrap_or("branch")
                            .to_string();
                        custom_policies.push((pattern, kind));
                    }
                }
                Some(r) => problems.push(access_problem(
                    r,
                    format!("deployment branch policies of environment `{name}`"),
                    format!(
                        "GET /repos/{}/environments/{name}/deployment-branch-policies",
                        s.repository
                    ),
                    "environments: read (or actions: read)",
                )),
                None => {}
            }
        }
        EnvironmentSettings {
            name,
            required_reviewers,
            deployment_branch_policy,
            custom_policies,
        }
    }
}
