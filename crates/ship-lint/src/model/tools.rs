//! Which release tools a command runs: `aws ecs update-service`, `terraform apply`,
//! `helm upgrade`, `alembic upgrade`, `docker push`… Each recognised command says what it
//! does for a release ([`Activity`]), the names it acts on (cluster, service, stack,
//! workspace: hints for the environment), and whether it acts on something local to the
//! runner (LocalStack, `localhost`, a compose database), which makes it CI.

use super::ascii_words;
use super::shell::Command;

/// What a command (or an action) does for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Activity {
    /// Changes what an environment serves: an ECS rollout, `terraform apply`, `helm
    /// upgrade`, a CodeDeploy deployment, a static site sync with a CDN invalidation.
    Rollout,
    /// Applies database migrations.
    Migrations,
    /// Returns an environment to an earlier version.
    Rollback,
    /// Checks a deployed environment (health, version, key flows, e2e against its URL).
    SmokeTest,
    /// Pushes or retags container images.
    ImagePush,
    /// A one-off task in the environment (`aws ecs run-task`): migrations when its names
    /// say so, else an operation.
    OneOffTask,
    /// Waits for a rollout to settle (`aws ecs wait services-stable`): not a check of the
    /// release.
    Wait,
    /// Publishes to GitHub Pages (a live site, or documentation when its names say so).
    PagesPublish,
    /// Starts services on the runner (`docker compose up`): a test stack, unless the job
    /// deploys (its names say so, on a self-hosted runner).
    ComposeUp,
    /// A deploy script or task named so (`./deploy.sh staging`, `make deploy`): a rollout
    /// when the step or job agrees.
    DeployScript,
}

/// One recognised use of a tool in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolUse {
    pub activity: Activity,
    /// Short name for messages (`aws ecs update-service`, `terraform apply`).
    pub tool: String,
    /// Names the command acts on (cluster, service, stack, workspace, positional targets).
    pub targets: Vec<String>,
    /// It talks to the runner itself or a test double (LocalStack, localhost, compose).
    pub local: bool,
    /// It does this only when a workflow input has a value (`terragrunt run-all ${{
    /// inputs.command }}` deploys only when `command` is `apply`): `(input, value)`.
    pub when_input: Option<(String, String)>,
}

fn use_of(
    activity: Activity,
    tool: impl Into<String>,
    cmd: &Command,
    targets: Vec<String>,
) -> ToolUse {
    ToolUse {
        activity,
        tool: tool.into(),
        targets,
        local: is_local(cmd),
        when_input: None,
    }
}

/// Does the command point at the runner itself (`--endpoint-url http://localhost:4566`)?
fn is_local(cmd: &Command) -> bool {
    cmd.args().iter().any(|a| is_local_reference(a))
}

/// A URL or host that is the runner itself, a service container or LocalStack.
pub fn is_local_reference(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "localhost",
        "127.0.0.1",
        "0.0.0.0",
        "[::1]",
        "host.docker.internal",
        "localstack",
    ]
    .iter()
    .any(|h| t.contains(h))
}

/// Values of options that name what a command acts on.
fn option_targets(cmd: &Command, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter_map(|n| cmd.option(n))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

const AWS_TARGET_OPTIONS: &[&str] = &[
    "--cluster",
    "--service",
    "--services",
    "--stack-name",
    "--application-name",
    "--deployment-group-name",
    "--function-name",
    "--environment-name",
    "--name",
    "--distribution-id",
];

/// Every tool a command runs, usually zero or one.
// One arm per program, read as a table: guards folded into the patterns would scatter a
// program over several arms.
#[allow(clippy::collapsible_match)]
pub fn recognise(cmd: &Command) -> Vec<ToolUse> {
    let program = cmd.program();
    let args: Vec<&str> = cmd.args().iter().map(String::as_str).collect();
    let pos = cmd.positionals(&[
        "--region",
        "--profile",
        "--endpoint-url",
        "-f",
        "--file",
        "-n",
        "--namespace",
        "-chdir",
        "--context",
        "--kube-context",
        "--app",
        "-a",
        "--config",
        "-c",
        "--values",
        "--set",
        "-p",
        "--project-directory",
        "--project-name",
        "--env-file",
    ]);
    let sub = |i: usize| pos.get(i).copied().unwrap_or("");
    let mut out = Vec::new();
    let mut add = |activity: Activity, tool: &str, targets: Vec<String>| {
        out.push(use_of(activity, tool, cmd, targets));
    };
    match program {
        "aws" => {
            let targets = option_targets(cmd, AWS_TARGET_OPTIONS);
            match (sub(0), sub(1)) {
                ("ecs", "update-service") => {
                    // Only `--desired-count` scales a service; a new task definition or a
                    // forced deployment rolls it out.
                    let rolls = cmd.has_flag("--task-definition")
                        || cmd.has_flag("--force-new-deployment")
                        || !cmd.has_flag("--desired-count");
                    if rolls {
                        add(Activity::Rollout, "aws ecs update-service", targets);
                    }
                }
                ("ecs", "deploy") => add(Activity::Rollout, "aws ecs deploy", targets),
                ("ecs", "run-task") | ("ecs", "start-task") => {
                    add(Activity::OneOffTask, "aws ecs run-task", targets)
                }
                ("ecs", "wait") => add(Activity::Wait, "aws ecs wait", targets),
                ("deploy", "create-deployment") => {
                    add(Activity::Rollout, "aws deploy create-deployment", targets)
                }
                ("lambda", "update-function-code") => add(
                    Activity::Rollout,
                    "aws lambda update-function-code",
                    targets,
                ),
                ("cloudformation", "deploy" | "update-stack" | "create-stack") => {
                    add(Activity::Rollout, "aws cloudformation deploy", targets)
                }
                ("cloudfront", "create-invalidation") => add(
                    Activity::Rollout,
                    "aws cloudfront create-invalidation",
                    targets,
                ),
                ("elasticbeanstalk", "update-environment") => add(
                    Activity::Rollout,
                    "aws elasticbeanstalk update-environment",
                    targets,
                ),
                ("apprunner", "start-deployment" | "update-service") => {
                    add(Activity::Rollout, "aws apprunner", targets)
                }
                ("scheduler", "update-schedule") => {
                    add(Activity::Rollout, "aws scheduler update-schedule", targets)
                }
                ("ecr", "put-image") => add(Activity::ImagePush, "aws ecr put-image", targets),
                _ => {}
            }
        }
        "ecs-deploy" => add(
            Activity::Rollout,
            "ecs-deploy",
            option_targets(cmd, &["-c", "--cluster", "-n", "--service-name"]),
        ),
        "ecspresso" => match sub(0) {
            "deploy" => add(Activity::Rollout, "ecspresso deploy", Vec::new()),
            "rollback" => add(Activity::Rollback, "ecspresso rollback", Vec::new()),
            "run" => add(Activity::OneOffTask, "ecspresso run", Vec::new()),
            _ => {}
        },
        "copilot" => {
            if args.contains(&"deploy") {
                add(
                    Activity::Rollout,
                    "copilot deploy",
                    option_targets(cmd, &["--env", "-e", "--name", "-n", "--app"]),
                );
            }
        }
        "terraform" | "tofu" | "terragrunt" => {
            // `terragrunt run-all apply`, `terragrunt run --all apply`, `terraform -chdir=x apply`.
            let verb = pos
                .iter()
                .copied()
                .find(|w| !matches!(*w, "run-all" | "run" | "--all"))
                .unwrap_or("");
            let mut targets = Vec::new();
            for a in &args {
                if let Some(dir) = a.strip_prefix("-chdir=") {
                    targets.push(dir.to_string());
                }
                if let Some(dir) = a.strip_prefix("--terragrunt-working-dir=") {
                    targets.push(dir.to_string());
                }
            }
            if let Some(dir) = cmd.option("--terragrunt-working-dir") {
                targets.push(dir.to_string());
            }
            if verb == "apply" {
                add(Activity::Rollout, &format!("{program} apply"), targets);
            } else if verb.starts_with("${{") && !verb.contains("plan") {
                // The command comes from an input: a deploy when it is `apply`.
                add(Activity::Rollout, &format!("{program} {verb}"), targets);
                let input = verb
                    .trim_start_matches("${{")
                    .trim_end_matches("}}")
                    .trim()
                    .strip_prefix("inputs.")
                    .map(str::to_string);
                if let (Some(input), Some(last)) = (input, out.last_mut()) {
                    last.when_input = Some((input, "apply".to_string()));
                }
            } else if verb == "workspace" && sub(1) == "select" {
                // The workspace names the environment of a later apply.
            }
        }
        "pulumi" => {
            if matches!(sub(0), "up" | "update") {
                add(
                    Activity::Rollout,
                    "pulumi up",
                    option_targets(cmd, &["--stack", "-s"]),
                );
            }
        }
        "cdk" | "aws-cdk" => {
            if sub(0) == "deploy" {
                let stacks = pos.iter().skip(1).map(|s| s.to_string()).collect();
                add(Activity::Rollout, "cdk deploy", stacks);
            }
        }
        "sam" => {
            if sub(0) == "deploy" {
                add(
                    Activity::Rollout,
                    "sam deploy",
                    option_targets(cmd, &["--stack-name", "--config-env"]),
                );
            }
        }
        "serverless" | "sls" => {
            if sub(0) == "deploy" {
                add(
                    Activity::Rollout,
                    "serverless deploy",
                    option_targets(cmd, &["--stage", "-s"]),
                );
            }
        }
        "eb" => {
            if sub(0) == "deploy" {
                add(
                    Activity::Rollout,
                    "eb deploy",
                    pos.iter().skip(1).map(|s| s.to_string()).collect(),
                );
            }
        }
        "helm" => match sub(0) {
            "upgrade" | "install" => {
                let targets = [
                    cmd.option("--namespace"),
                    cmd.option("-n"),
                    pos.get(1).copied(),
                ]
                .into_iter()
                .flatten()
                .map(str::to_string)
                .collect();
                add(Activity::Rollout, &format!("helm {}", sub(0)), targets)
            }
            "rollback" => add(Activity::Rollback, "helm rollback", Vec::new()),
            _ => {}
        },
        "helmfile" => {
            if matches!(sub(0), "apply" | "sync" | "deploy") {
                add(
                    Activity::Rollout,
                    "helmfile apply",
                    option_targets(cmd, &["--environment", "-e"]),
                );
            }
        }
        "kubectl" | "oc" => {
            let targets = option_targets(cmd, &["--namespace", "-n", "--context"]);
            match (sub(0), sub(1)) {
                ("apply" | "create" | "replace" | "patch", _) | ("set", "image") => {
                    add(Activity::Rollout, &format!("{program} {}", sub(0)), targets)
                }
                ("rollout", "restart") => add(
                    Activity::Rollout,
                    &format!("{program} rollout restart"),
                    targets,
                ),
                ("rollout", "undo") => add(
                    Activity::Rollback,
                    &format!("{program} rollout undo"),
                    targets,
                ),
                ("rollout", "status") => add(
                    Activity::Wait,
                    &format!("{program} rollout status"),
                    targets,
                ),
                _ => {}
            }
        }
        "argocd" => {
            if sub(0) == "app" && sub(1) == "sync" {
                add(
                    Activity::Rollout,
                    "argocd app sync",
                    pos.iter().skip(2).map(|s| s.to_string()).collect(),
                );
            }
        }
        "flyctl" | "fly" => {
            if sub(0) == "deploy" {
                add(
                    Activity::Rollout,
                    "flyctl deploy",
                    option_targets(cmd, &["--app", "-a"]),
                );
            }
        }
        "gcloud" => {
            let deploys = match (sub(0), sub(1), sub(2)) {
                ("run", "deploy", _) | ("app", "deploy", _) | ("functions", "deploy", _) => true,
                ("run", "services", "update") => true,
                (_, "run", "deploy") => true, // gcloud beta run deploy
                _ => false,
            };
            if deploys {
                add(
                    Activity::Rollout,
                    "gcloud deploy",
                    pos.iter().skip(2).take(1).map(|s| s.to_string()).collect(),
                );
            }
        }
        "az" => {
            let deploys = matches!(
                (sub(0), sub(1)),
                ("webapp", "deploy" | "up")
                    | ("containerapp", "update" | "up")
                    | ("functionapp", "deployment")
            );
            if deploys {
                add(
                    Activity::Rollout,
                    "az deploy",
                    option_targets(cmd, &["--name", "-n", "--resource-group", "-g"]),
                );
            }
        }
        "vercel" => {
            if sub(0) == "deploy"
                || cmd.has_flag("--prod")
                || (pos.is_empty() && !args.is_empty() && args.iter().all(|a| a.starts_with('-')))
            {
                add(Activity::Rollout, "vercel deploy", Vec::new());
            }
        }
        "netlify" | "firebase" | "wrangler" => {
            if matches!(sub(0), "deploy" | "publish") {
                add(Activity::Rollout, &format!("{program} deploy"), Vec::new());
            }
        }
        "fastapi" | "kamal" | "railway" | "caprover" | "dokku" => {
            if matches!(sub(0), "deploy" | "up") {
                add(
                    Activity::Rollout,
                    &format!("{program} {}", sub(0)),
                    Vec::new(),
                );
            }
        }
        "heroku" => {
            if sub(0).starts_with("container:release") || sub(0) == "releases:rollback" {
                let activity = if sub(0) == "releases:rollback" {
                    Activity::Rollback
                } else {
                    Activity::Rollout
                };
                add(activity, "heroku", option_targets(cmd, &["--app", "-a"]));
            }
        }
        "git" => {
            // `git push heroku main`, `git push dokku@host:app`: a deploy by push.
            if sub(0) == "push"
                && pos
                    .get(1)
                    .is_some_and(|r| *r == "heroku" || r.starts_with("dokku"))
            {
                add(Activity::Rollout, "git push heroku", Vec::new());
            }
        }
        "docker" | "podman" | "docker-compose" => {
            let compose = program == "docker-compose" || sub(0) == "compose";
            let verb_at = if program == "docker-compose" {
                0
            } else if compose {
                1
            } else {
                0
            };
            let verb = sub(verb_at);
            if compose {
                match verb {
                    "up" => add(Activity::ComposeUp, "docker compose up", Vec::new()),
                    "push" => add(Activity::ImagePush, "docker compose push", Vec::new()),
                    _ => {}
                }
            } else {
                match (sub(0), sub(1), sub(2)) {
                    ("push", _, _) | ("image", "push", _) => {
                        add(Activity::ImagePush, &format!("{program} push"), Vec::new())
                    }
                    ("buildx", "imagetools", "create") => add(
                        Activity::ImagePush,
                        "docker buildx imagetools create",
                        Vec::new(),
                    ),
                    ("build" | "buildx", _, _)
                        if args.iter().any(|a| {
                            *a == "--push"
                                || a.starts_with("--output=type=registry")
                                || a.starts_with("--output=type=image,push=true")
                        }) =>
                    {
                        add(
                            Activity::ImagePush,
                            "docker buildx build --push",
                            Vec::new(),
                        )
                    }
                    ("stack", "deploy", _) => add(
                        Activity::Rollout,
                        "docker stack deploy",
                        pos.iter().skip(2).map(|s| s.to_string()).collect(),
                    ),
                    _ => {}
                }
            }
        }
        "buildah" => {
            if sub(0) == "push" {
                add(Activity::ImagePush, "buildah push", Vec::new());
            }
        }
        "crane" | "gcrane" => {
            if matches!(sub(0), "copy" | "cp" | "tag" | "push" | "mutate" | "append") {
                add(
                    Activity::ImagePush,
                    &format!("crane {}", sub(0)),
                    Vec::new(),
                );
            }
        }
        "skopeo" => {
            if sub(0) == "copy" {
                add(Activity::ImagePush, "skopeo copy", Vec::new());
            }
        }
        "regctl" => {
            if sub(0) == "image" && matches!(sub(1), "copy" | "mod") {
                add(Activity::ImagePush, "regctl image copy", Vec::new());
            }
        }
        "ko" => {
            if matches!(sub(0), "build" | "publish" | "resolve" | "apply")
                && !cmd.has_flag("--push=false")
                && !cmd.has_flag("--local")
            {
                add(Activity::ImagePush, "ko build", Vec::new());
            }
        }
        "chartpress" => {
            if cmd.has_flag("--push") {
                add(Activity::ImagePush, "chartpress --push", Vec::new());
            }
        }
        "ship-ecs-rollout" => add(
            Activity::Rollout,
            "ship-ecs-rollout",
            option_targets(cmd, &["--cluster", "--service"]),
        ),
        "ship-rollback" => add(
            Activity::Rollback,
            "ship-rollback",
            option_targets(cmd, &["--cluster", "--service"]),
        ),
        "ship-run-migrations" => add(Activity::Migrations, "ship-run-migrations", Vec::new()),
        "ship-smoke-test" => add(
            Activity::SmokeTest,
            "ship-smoke-test",
            option_targets(cmd, &["--url"]),
        ),
        "ship-tag-image" => add(Activity::ImagePush, "ship-tag-image", Vec::new()),
        _ => {}
    }
    // A command inside `if [ "${{ inputs.command }}" == "apply" ]` runs only for that value.
    for u in out.iter_mut().filter(|u| u.when_input.is_none()) {
        u.when_input = cmd.guards.iter().rev().find_map(|g| {
            GUARD_INPUT
                .captures(g)
                .map(|c| (c[1].to_string(), c[2].to_string()))
        });
    }
    if out.is_empty() {
        // `./scripts/e2e-test.sh`, `smoke.sh`: a check script (of a deployed service unless
        // the job runs it against a local stack).
        let stem = program.split('.').next().unwrap_or("").to_ascii_lowercase();
        if ["e2e", "smoke", "health-check", "healthcheck"]
            .iter()
            .any(|w| stem.contains(w))
            && program.contains('.')
        {
            out.push(use_of(Activity::SmokeTest, program, cmd, Vec::new()));
            return out;
        }
        if let Some(u) = migrations(cmd, program, &pos) {
            out.push(u);
        } else if let Some(u) = smoke_test(cmd, program, &pos) {
            out.push(u);
        } else if let Some(u) = deploy_script(cmd, program, &pos) {
            out.push(u);
        }
    }
    out
}

/// Schema migration tools.
fn migrations(cmd: &Command, program: &str, pos: &[&str]) -> Option<ToolUse> {
    let sub = |i: usize| pos.get(i).copied().unwrap_or("");
    let tool = match program {
        "alembic" if sub(0) == "upgrade" => "alembic upgrade",
        "flyway" if pos.contains(&"migrate") => "flyway migrate",
        "liquibase" if pos.iter().any(|p| p.starts_with("update")) => "liquibase update",
        "sqlx" if sub(0) == "migrate" && sub(1) == "run" => "sqlx migrate run",
        "diesel" if sub(0) == "migration" && sub(1) == "run" => "diesel migration run",
        "prisma" if sub(0) == "migrate" && sub(1) == "deploy" => "prisma migrate deploy",
        "goose"
            if pos
                .iter()
                .any(|p| matches!(*p, "up" | "up-to" | "up-by-one")) =>
        {
            "goose up"
        }
        "dbmate" if pos.iter().any(|p| matches!(*p, "up" | "migrate")) => "dbmate up",
        "migrate" if pos.iter().any(|p| matches!(*p, "up" | "goto")) => "migrate up",
        "knex" if sub(0) == "migrate:latest" => "knex migrate:latest",
        "sequelize" | "sequelize-cli" if sub(0) == "db:migrate" => "sequelize db:migrate",
        "typeorm" if sub(0) == "migration:run" => "typeorm migration:run",
        "atlas" if sub(0) == "migrate" && sub(1) == "apply" => "atlas migrate apply",
        "rails" | "rake" if pos.iter().any(|p| p.starts_with("db:migrate")) => "rails db:migrate",
        "mix" if sub(0) == "ecto.migrate" => "mix ecto.migrate",
        "manage.py" | "django-admin" if sub(0) == "migrate" => "manage.py migrate",
        "python" | "python3" if sub(0).ends_with("manage.py") && sub(1) == "migrate" => {
            "manage.py migrate"
        }
        "php" if sub(0) == "artisan" && sub(1) == "migrate" => "artisan migrate",
        "npm" | "yarn" | "pnpm" | "bun" => {
            let script = if sub(0) == "run" { sub(1) } else { sub(0) };
            if script == "migrate"
                || script.ends_with(":migrate")
                || script.starts_with("migrate:")
                || script == "db:migrate"
            {
                "npm run migrate"
            } else {
                return None;
            }
        }
        _ => return None,
    };
    Some(use_of(Activity::Migrations, tool, cmd, Vec::new()))
}

static GUARD_INPUT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    ascii_words(r#"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}"?\s*==?\s*"?([A-Za-z0-9_.-]+)"#)
        .unwrap()
});

static PROBE_PATH: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    ascii_words(r"(?i)(/|\b)(health|healthz|healthcheck|health-check|readyz|livez|ready|ping|status|version|smoke)(\b|$)").unwrap()
});

/// Checks of a running service: HTTP probes, Hurl, k6, Playwright, Postman collections.
fn smoke_test(cmd: &Command, program: &str, pos: &[&str]) -> Option<ToolUse> {
    let sub = |i: usize| pos.get(i).copied().unwrap_or("");
    let tool = match program {
        "curl" | "wget" | "http" | "https" | "xh" => {
            // A probe requests a health, readiness or version endpoint (not an installer
            // piped to a shell, not a download to a file, not an API call that writes).
            let probes = cmd.args().iter().any(|a| PROBE_PATH.is_match(a));
            let posts = cmd
                .option("-X")
                .or(cmd.option("--request"))
                .is_some_and(|m| !m.eq_ignore_ascii_case("GET"))
                || cmd.args().iter().any(|a| {
                    a == "-d" || a.starts_with("--data") || a == "-F" || a.starts_with("--form")
                });
            // A POST to a deploy hook is a deploy, not a probe.
            let hook = cmd.args().iter().any(|a| {
                let l = a.to_ascii_lowercase();
                (l.contains("deploy") || l.contains("hook"))
                    && (l.contains("://") || l.contains("secrets.") || l.starts_with('$'))
            });
            if posts && hook {
                return Some(use_of(
                    Activity::Rollout,
                    "deploy hook (curl POST)",
                    cmd,
                    Vec::new(),
                ));
            }
            let downloads = cmd.has_flag("-o") || cmd.has_flag("-O") || cmd.has_flag("--output");
            if !probes || posts || downloads {
                return None;
            }
            "curl"
        }
        "hurl" => "hurl",
        "k6" if sub(0) == "run" || sub(0) == "cloud" => "k6 run",
        "newman" if sub(0) == "run" => "newman run",
        "playwright" if sub(0) == "test" => "playwright test",
        "npm" | "yarn" | "pnpm" | "bun" => {
            let script = if sub(0) == "run" { sub(1) } else { sub(0) };
            if script.contains("smoke")
                || script.starts_with("e2e")
                || script.starts_with("test:e2e")
            {
                "npm run e2e"
            } else {
                return None;
            }
        }
        _ => return None,
    };
    Some(use_of(Activity::SmokeTest, tool, cmd, Vec::new()))
}

/// Deploy scripts and tasks: `./deploy.sh prod`, `python deploy.py staging`, `make deploy`.
fn deploy_script(cmd: &Command, program: &str, pos: &[&str]) -> Option<ToolUse> {
    let is_deploy_name = |name: &str| {
        let stem = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
        let stem = stem.split('.').next().unwrap_or("");
        stem == "deploy"
            || stem.starts_with("deploy-")
            || stem.starts_with("deploy_")
            || stem.ends_with("-deploy")
            || stem.ends_with("_deploy")
    };
    let (script, rest): (&str, &[&str]) = match program {
        "python" | "python3" | "bash" | "sh" | "node" | "ruby" | "pwsh" => {
            match pos.split_first() {
                Some((s, rest)) => (s, rest),
                None => return None,
            }
        }
        "make" | "just" | "task" => match pos.split_first() {
            Some((s, rest)) if s.starts_with("deploy") => (s, rest),
            _ => return None,
        },
        "npm" | "yarn" | "pnpm" | "bun" => {
            let (s, rest) = match pos.split_first() {
                Some((&"run", rest)) => match rest.split_first() {
                    Some((s, r)) => (*s, r),
                    None => return None,
                },
                Some((s, r)) => (*s, r),
                None => return None,
            };
            if s == "deploy" || s.starts_with("deploy:") {
                (s, rest)
            } else {
                return None;
            }
        }
        p => (p, pos),
    };
    if !(is_deploy_name(script) || script.starts_with("deploy")) {
        return None;
    }
    let targets = rest
        .iter()
        .filter(|a| !a.starts_with('$'))
        .map(|s| s.to_string())
        .collect();
    Some(use_of(
        Activity::DeployScript,
        script.rsplit('/').next().unwrap_or(script),
        cmd,
        targets,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::shell::commands;
    use super::*;

    fn activities(script: &str) -> Vec<(Activity, String)> {
        commands(script)
            .iter()
            .flat_map(recognise)
            .map(|u| (u.activity, u.tool))
            .collect()
    }

    #[test]
    fn recognises_deploy_tools() {
        use Activity::*;
        let cases = [
            (
                "aws ecs update-service --cluster prod-api --service api --force-new-deployment",
                Rollout,
            ),
            (
                "aws ecs run-task --cluster c --task-definition migrate",
                OneOffTask,
            ),
            (
                "terragrunt run-all apply --terragrunt-non-interactive",
                Rollout,
            ),
            ("terraform -chdir=infra/prod apply -auto-approve", Rollout),
            ("npx cdk deploy --all --require-approval never", Rollout),
            ("helm upgrade --install api ./chart -n prod", Rollout),
            ("kubectl set image deployment/api api=r/api:v1", Rollout),
            ("copilot svc deploy --name api --env prod", Rollout),
            ("ecspresso deploy --config ecspresso.yml", Rollout),
            ("flyctl deploy --remote-only", Rollout),
            ("gcloud run deploy api --image x", Rollout),
            ("pulumi up --yes --stack prod", Rollout),
            ("alembic upgrade head", Migrations),
            ("docker push r/api:v1", ImagePush),
            ("curl -fsS https://api.example.com/health", SmokeTest),
            ("python ./deploy.py staging", DeployScript),
            ("docker compose up -d --wait", ComposeUp),
        ];
        for (script, want) in cases {
            let got = activities(script);
            assert_eq!(got.first().map(|g| g.0), Some(want), "{script}: {got:?}");
        }
    }

    #[test]
    fn not_deploys() {
        for script in [
            "terraform plan -out tfplan",
            "terragrunt run-all destroy",
            "aws ecs update-service --cluster c --service s --desired-count 0",
            "helm template ./chart",
            "echo 'aws ecs update-service'",
            "cdk diff",
            "curl https://example.com/install.sh",
            "manage.py makemigrations --check",
        ] {
            assert_eq!(activities(script), vec![], "{script}");
        }
    }

    #[test]
    fn local_endpoints() {
        let cmds = commands("aws --endpoint-url http://localhost:4566 ecs update-service --cluster c --service s --force-new-deployment");
        let uses = recognise(&cmds[0]);
        assert!(uses[0].local);
    }

    #[test]
    fn deploy_hooks() {
        let got = activities("curl -X POST \"${{ secrets.STAGING_DEPLOY_URL }}\" -d '{}'");
        assert_eq!(got[0].0, Activity::Rollout);
    }
}
