//! What a `uses:` does for a release: ship's own actions, the well-known deploy, image and
//! check actions, wrappers whose input is a shell command, and, for actions nobody here
//! lists, what their name and inputs say (`mbta/actions/deploy-ecs`, a `redeploy_ecs_service`
//! input).

use super::shell::commands;
use super::tools::{recognise, Activity, ToolUse};
use ship_policy::CompiledPolicy;
use ship_workflow::{ActionRef, Node};

/// Is this a ship action named `name` (`org/ship/ecs-rollout@v1`, `org/ship/…`, or
/// a local `./actions/<name>` in ship's own repository)?
pub fn is_ship_action(action: &ActionRef<'_>, name: &str, policy: &CompiledPolicy) -> bool {
    match action {
        ActionRef::Repository {
            owner,
            repo,
            path: Some(path),
            ..
        } => {
            let path = path.trim_end_matches('/');
            // Exactly ship's layout: the old `actions/<name>` paths no longer exist and are
            // `unknown-ship-action` findings, not deploy steps.
            path == name && policy.is_ship_repository(owner, repo)
        }
        ActionRef::Local(p) => {
            let p = p.trim_end_matches('/');
            p.ends_with(&format!("actions/{name}"))
                || (p.ends_with(&format!("/{name}")) && p.contains("ship"))
        }
        _ => false,
    }
}

/// `owner/repo[/path]` of a remote action or reusable workflow, lowercased.
pub fn remote_name(action: &ActionRef<'_>) -> Option<String> {
    match action {
        ActionRef::Repository { .. } => Some(action.lowercase_name()),
        _ => None,
    }
}

fn with_str<'a>(with: Option<&'a Node>, key: &str) -> Option<&'a str> {
    with?.get(key)?.as_str()
}

fn truthy(v: Option<&str>) -> bool {
    v.is_some_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "false" && v != "0"
    })
}

/// Pages publishing actions: the live site, or documentation (told apart by the caller).
const PAGES_ACTIONS: &[&str] = &[
    "peaceiris/actions-gh-pages",
    "jamesives/github-pages-deploy-action",
    "actions/deploy-pages",
    "rayluo/github-pages-overwriter",
    "crazy-max/ghaction-github-pages",
];

/// Actions that change what an environment serves.
const DEPLOY_ACTIONS: &[&str] = &[
    "aws-actions/aws-cloudformation-github-deploy",
    "google-github-actions/deploy-cloudrun",
    "google-github-actions/deploy-appengine",
    "google-github-actions/deploy-cloud-functions",
    "azure/webapps-deploy",
    "azure/k8s-deploy",
    "azure/functions-action",
    "azure/container-apps-deploy-action",
    "azure/aci-deploy",
    "akhileshns/heroku-deploy",
    "amondnet/vercel-action",
    "bcgov/action-deployer-openshift",
    "cloudflare/wrangler-action",
    "cloudflare/pages-action",
    "einaregilsson/beanstalk-deploy",
    "easingthemes/ssh-deploy",
    "burnett01/rsync-deployments",
];

/// Actions whose input is a shell command they run (`command:`), or a script run on a
/// server (`script:`).
const COMMAND_WRAPPERS: &[(&str, &str, bool)] = &[
    ("nick-invision/retry", "command", false),
    ("nick-fields/retry", "command", false),
    ("wandalen/wretry.action", "command", false),
    ("appleboy/ssh-action", "script", true),
    ("garygrossgarten/github-action-ssh", "command", true),
];

/// What an action (or a reusable workflow in another repository) does, from the tables
/// above, its name and its inputs. Local actions are followed by the caller instead.
pub fn recognise_action(
    action: &ActionRef<'_>,
    with: Option<&Node>,
    policy: &CompiledPolicy,
) -> Vec<ToolUse> {
    let mut out: Vec<ToolUse> = Vec::new();
    fn push(out: &mut Vec<ToolUse>, activity: Activity, tool: &str, targets: Vec<String>) {
        out.push(ToolUse {
            activity,
            tool: tool.to_string(),
            targets,
            local: false,
            when_input: None,
        })
    }
    macro_rules! add {
        ($a:expr, $t:expr, $g:expr) => {
            push(&mut out, $a, $t, $g)
        };
    }
    for (name, activity) in [
        ("ecs-rollout", Activity::Rollout),
        ("run-migrations", Activity::Migrations),
        ("rollback", Activity::Rollback),
        ("smoke-test", Activity::SmokeTest),
        ("tag-image", Activity::ImagePush),
    ] {
        if is_ship_action(action, name, policy) {
            add!(activity, &format!("ship {name}"), with_targets(with));
            return out;
        }
    }
    let Some(name) = remote_name(action) else {
        return out;
    };
    let is = |n: &str| name == n;
    if is("aws-actions/amazon-ecs-deploy-task-definition") {
        if truthy(with_str(with, "service")) {
            add!(
                Activity::Rollout,
                "amazon-ecs-deploy-task-definition",
                with_targets(with)
            );
        } else if truthy(with_str(with, "run-task")) {
            add!(
                Activity::OneOffTask,
                "amazon-ecs-deploy-task-definition run-task",
                with_targets(with)
            );
        }
        // Without a service or a task run it only registers a revision.
        return out;
    }
    if is("aws-actions/amazon-ecs-render-task-definition") {
        return out;
    }
    if PAGES_ACTIONS.contains(&name.as_str()) {
        add!(Activity::PagesPublish, &name, Vec::new());
        return out;
    }
    if DEPLOY_ACTIONS.contains(&name.as_str()) {
        add!(Activity::Rollout, &name, with_targets(with));
        return out;
    }
    if is("superfly/flyctl-actions") || name.starts_with("superfly/flyctl-actions/") {
        if with_str(with, "args").is_some_and(|a| a.contains("deploy")) {
            add!(Activity::Rollout, "flyctl deploy", Vec::new());
        }
        return out;
    }
    if is("docker/build-push-action") {
        // `push: false` (or none) only builds; an expression may push.
        if with_str(with, "push").is_some_and(|p| p.trim() != "false") {
            add!(Activity::ImagePush, "docker/build-push-action", Vec::new());
        }
        return out;
    }
    for (wrapper, input, remote) in COMMAND_WRAPPERS {
        if name == *wrapper {
            if let Some(script) = with_str(with, input) {
                for cmd in commands(script) {
                    for mut u in recognise(&cmd) {
                        if *remote && u.activity == Activity::ComposeUp {
                            // `docker compose up` on a server over SSH is that server's deploy.
                            u.activity = Activity::Rollout;
                            u.local = false;
                        }
                        out.push(u);
                    }
                }
                if *remote && out.is_empty() && looks_like_server_deploy(script) {
                    add!(Activity::Rollout, wrapper, Vec::new());
                }
            }
            return out;
        }
    }
    // Actions that report a deploy elsewhere (an error tracker, a chat, GitHub's deployment
    // statuses) do not deploy.
    if NOTIFIES.is_match(&name) {
        return out;
    }
    // Named for what it does (`mbta/actions/deploy-ecs`, `.../build-push-ecr`).
    let words = &name;
    let deploy_input = with.and_then(|w| w.as_map()).is_some_and(|entries| {
        entries.iter().any(|e| {
            let k = e.key.as_str().unwrap_or("").to_ascii_lowercase();
            (k.starts_with("redeploy") || k.starts_with("deploy_") || k.starts_with("deploy-"))
                && truthy(e.value.as_str())
        })
    });
    if words.contains("rollback") {
        add!(Activity::Rollback, &name, with_targets(with));
    } else if words.contains("migrat") {
        add!(Activity::Migrations, &name, with_targets(with));
    } else if (words.contains("deploy") && !words.contains("pages"))
        || words.contains("terragrunt-apply")
        || words.contains("apply-terraform")
        || words.contains("terraform-apply")
    {
        add!(Activity::Rollout, &name, with_targets(with));
    } else if words.contains("smoke")
        || words.contains("health-check")
        || words.contains("healthcheck")
        || words.contains("newman")
        || words.contains("k6-action")
    {
        add!(Activity::SmokeTest, &name, with_targets(with));
    }
    let pushes_images = [
        "build-push",
        "push-ecr",
        "ecr-push",
        "push-image",
        "image-push",
        "docker-push",
        "builder-ghcr",
        "registry-tag",
        "upload-docker-image",
        "image_build",
        "image-build",
        "ecs_build",
        "build-docker",
        "docker-build",
    ]
    .iter()
    .any(|w| words.contains(w));
    if pushes_images && with_str(with, "push").is_none_or(|p| p.trim() != "false") {
        add!(Activity::ImagePush, &name, Vec::new());
    }
    if deploy_input && !out.iter().any(|u| u.activity == Activity::Rollout) {
        add!(Activity::Rollout, &name, with_targets(with));
    }
    out
}

static NOTIFIES: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)rollbar|sentry|newrelic|new-relic|datadog|honeybadger|bugsnag|notif|slack|discord|teams|deployment-status|/deployments|deployment-action|github-deploy|deploy-status|annotat",
    )
    .unwrap()
});

/// A server-side script that updates what the server runs.
fn looks_like_server_deploy(script: &str) -> bool {
    let s = script.to_ascii_lowercase();
    (s.contains("git pull") || s.contains("docker pull") || s.contains("compose pull"))
        && (s.contains("restart") || s.contains(" up") || s.contains("reload"))
}

/// Literal `with:` values that may name the environment or target (`cluster: rust-ecs-prod`).
pub fn with_targets(with: Option<&Node>) -> Vec<String> {
    let Some(entries) = with.and_then(|w| w.as_map()) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let key = e.key.as_str()?.to_ascii_lowercase();
            let v = e.value.as_str()?.trim();
            let relevant = [
                "env",
                "stage",
                "target",
                "cluster",
                "service",
                "stack",
                "workspace",
                "namespace",
                "app",
                "deploy",
                "zone",
                "project",
                "member",
                "tier",
            ]
            .iter()
            .any(|w| key.contains(w));
            (relevant && !v.is_empty() && v.len() <= 80 && !v.contains('\n')).then(|| v.to_string())
        })
        .collect()
}
