//! What `ship init` needs to know about a service: the fields, their `ship.toml` keys,
//! template tokens, defaults and validation; loading `ship.toml`; prompting.

use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::LazyLock;

use crate::InitError;

/// One value `ship init` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Service,
    Container,
    Region,
    ImageRepository,
    Dockerfile,
    BuildRoleArn,
    StagingCluster,
    StagingRoleArn,
    StagingHealthUrl,
    ProductionCluster,
    ProductionRoleArn,
    ProductionHealthUrl,
    MigrationsDir,
    MigrationsRunner,
    Flows,
    ActionsRepository,
    ActionsRef,
}

impl Field {
    /// Every field, in the order `ship init` asks for them.
    pub const ALL: &'static [Field] = &[
        Field::Service,
        Field::Container,
        Field::Region,
        Field::ImageRepository,
        Field::Dockerfile,
        Field::BuildRoleArn,
        Field::StagingCluster,
        Field::StagingRoleArn,
        Field::StagingHealthUrl,
        Field::ProductionCluster,
        Field::ProductionRoleArn,
        Field::ProductionHealthUrl,
        Field::MigrationsDir,
        Field::MigrationsRunner,
        Field::Flows,
        Field::ActionsRepository,
        Field::ActionsRef,
    ];

    /// The key in `ship.toml` (dotted for tables).
    pub fn key(self) -> &'static str {
        match self {
            Field::Service => "service",
            Field::Container => "container",
            Field::Region => "region",
            Field::ImageRepository => "image-repository",
            Field::Dockerfile => "dockerfile",
            Field::BuildRoleArn => "build-role-arn",
            Field::StagingCluster => "staging.cluster",
            Field::StagingRoleArn => "staging.role-arn",
            Field::StagingHealthUrl => "staging.health-url",
            Field::ProductionCluster => "production.cluster",
            Field::ProductionRoleArn => "production.role-arn",
            Field::ProductionHealthUrl => "production.health-url",
            Field::MigrationsDir => "migrations.dir",
            Field::MigrationsRunner => "migrations.runner",
            Field::Flows => "flows",
            Field::ActionsRepository => "actions.repository",
            Field::ActionsRef => "actions.ref",
        }
    }

    /// The placeholder token the templates carry for this field, if any (the runner and the
    /// ship action repository and ref change the templates' structure and `uses:` lines).
    pub fn token(self) -> Option<&'static str> {
        Some(match self {
            Field::Service => "SHIP_SERVICE_NAME",
            Field::Container => "SHIP_CONTAINER_NAME",
            Field::Region => "SHIP_AWS_REGION",
            Field::ImageRepository => "SHIP_IMAGE_REPOSITORY",
            Field::Dockerfile => "SHIP_DOCKERFILE",
            Field::BuildRoleArn => "SHIP_ROLE_ARN_BUILD",
            Field::StagingCluster => "SHIP_CLUSTER_STAGING",
            Field::StagingRoleArn => "SHIP_ROLE_ARN_STAGING",
            Field::StagingHealthUrl => "SHIP_HEALTH_URL_STAGING",
            Field::ProductionCluster => "SHIP_CLUSTER_PRODUCTION",
            Field::ProductionRoleArn => "SHIP_ROLE_ARN_PRODUCTION",
            Field::ProductionHealthUrl => "SHIP_HEALTH_URL_PRODUCTION",
            Field::MigrationsDir => "SHIP_MIGRATIONS_DIR",
            Field::Flows => "SHIP_SMOKE_CHECKS",
            Field::MigrationsRunner | Field::ActionsRepository | Field::ActionsRef => return None,
        })
    }

    /// What the value is, for prompts and documentation.
    pub fn help(self) -> &'static str {
        match self {
            Field::Service => "ECS service name (e.g. orders-api)",
            Field::Container => "container in the task definition that gets the new image",
            Field::Region => "AWS region (e.g. eu-west-1)",
            Field::ImageRepository => {
                "ECR image repository, without tag (123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api)"
            }
            Field::Dockerfile => "Dockerfile path in the repository",
            Field::BuildRoleArn => "IAM role build.yml assumes through OIDC to push to ECR",
            Field::StagingCluster => "ECS cluster of the staging environment",
            Field::StagingRoleArn => "IAM role the staging deploy assumes through OIDC",
            Field::StagingHealthUrl => {
                "staging base URL the smoke checks' paths are appended to (https://api.staging.example.com)"
            }
            Field::ProductionCluster => "ECS cluster of the production environment",
            Field::ProductionRoleArn => "IAM role the production deploy and rollback assume through OIDC",
            Field::ProductionHealthUrl => "production base URL the smoke checks' paths are appended to",
            Field::MigrationsDir => {
                "migrations directory (in the repository for runner ci, in the image for ecs-task)"
            }
            Field::MigrationsRunner => {
                "where migrations run: ci (on the runner, DATABASE_URL environment secret) or ecs-task (one-off ECS task in the VPC)"
            }
            Field::Flows => "expected flows for the smoke test, `METHOD /path STATUS`, separated by `;`",
            Field::ActionsRepository => "repository of ship's actions (owner/ship)",
            Field::ActionsRef => "ref of ship's actions",
        }
    }

    /// The value used when none is given: a sensible default, or else the placeholder token.
    pub fn default_value(self, given: &PartialConfig) -> String {
        match self {
            Field::Container => given
                .get(Field::Service)
                .map(str::to_owned)
                .unwrap_or_else(|| "SHIP_SERVICE_NAME".to_owned()),
            Field::Dockerfile => "Dockerfile".into(),
            Field::MigrationsDir => "db/migrations".into(),
            Field::MigrationsRunner => "ci".into(),
            Field::Flows => "GET /health 200".into(),
            Field::ActionsRepository => "org/ship".into(),
            Field::ActionsRef => "v1".into(),
            f => f
                .token()
                .expect("fields without a default have a token")
                .into(),
        }
    }

    /// Checks a value; the placeholder token itself is always accepted.
    pub fn validate(self, value: &str) -> Result<(), String> {
        if Some(value) == self.token() {
            return Ok(());
        }
        static NAME: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,254}$").unwrap());
        static REGION: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^[a-z]{2}(-[a-z]+)+-[0-9]$").unwrap());
        static REPOSITORY: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^[a-z0-9][a-z0-9.-]*(:[0-9]+)?/[a-z0-9][a-z0-9._/-]*$").unwrap()
        });
        static ROLE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$").unwrap()
        });
        static URL: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^https?://[A-Za-z0-9._~:/?&=%+@!-]+$").unwrap());
        static PATH: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$").unwrap());
        static FLOW: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^[A-Z]+ /[A-Za-z0-9._~:/?&=%+@!,;-]*( [1-5]([0-9]{2}|xx))?$").unwrap()
        });
        static OWNER_SHIP: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9-]*/ship$").unwrap());
        static REF: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$").unwrap());
        let (ok, expected) = match self {
            Field::Service
            | Field::Container
            | Field::StagingCluster
            | Field::ProductionCluster => (
                NAME.is_match(value),
                "a name or ARN (letters, digits, `-`, `_`, `.`, `:`, `/`)",
            ),
            Field::Region => (REGION.is_match(value), "an AWS region such as eu-west-1"),
            Field::ImageRepository => (
                REPOSITORY.is_match(value),
                "an image repository without tag, REGISTRY/NAME in lower case",
            ),
            Field::BuildRoleArn | Field::StagingRoleArn | Field::ProductionRoleArn => (
                ROLE.is_match(value),
                "an IAM role ARN, arn:aws:iam::123456789012:role/NAME",
            ),
            Field::StagingHealthUrl | Field::ProductionHealthUrl => {
                (URL.is_match(value), "an http(s) URL without spaces or `#`")
            }
            Field::Dockerfile | Field::MigrationsDir => (
                PATH.is_match(value) && !value.split('/').any(|s| s == ".."),
                "a relative path inside the repository",
            ),
            Field::MigrationsRunner => (matches!(value, "ci" | "ecs-task"), "`ci` or `ecs-task`"),
            Field::Flows => {
                let lines: Vec<&str> = value.lines().collect();
                (
                    !lines.is_empty() && lines.iter().all(|l| FLOW.is_match(l)),
                    "one or more `METHOD /path [STATUS]` lines, e.g. `GET /health 200`",
                )
            }
            Field::ActionsRepository => (
                OWNER_SHIP.is_match(value),
                "OWNER/ship (ship lint recognises ship's actions by the repository name `ship`)",
            ),
            Field::ActionsRef => (REF.is_match(value), "a tag, branch or commit"),
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`{}` must be {expected}, got `{value}`",
                self.key()
            ))
        }
    }
}

/// Values given so far (from `ship.toml`, flags or prompts); flows are one per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialConfig {
    values: BTreeMap<Field, String>,
}

impl PartialConfig {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values.get(&field).map(String::as_str)
    }

    pub fn set(&mut self, field: Field, value: impl Into<String>) {
        self.values.insert(field, value.into());
    }

    /// `self` with every value of `over` replacing its own.
    pub fn overridden_by(mut self, over: &PartialConfig) -> PartialConfig {
        for (k, v) in &over.values {
            self.values.insert(*k, v.clone());
        }
        self
    }

    /// The fields that have no value yet.
    pub fn missing(&self) -> Vec<Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(|f| !self.values.contains_key(f))
            .collect()
    }

    /// Reads `ship.toml`; errors name the file, line and key.
    pub fn load(path: &Path) -> Result<PartialConfig, InitError> {
        let text = std::fs::read_to_string(path).map_err(|e| InitError::Config {
            origin: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        PartialConfig::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses a `ship.toml` text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<PartialConfig, InitError> {
        let parsed: ShipToml = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            let key = e.span().and_then(|s| key_at(text, s.start));
            let message = e.message().trim().to_owned();
            let message = match key {
                Some(k) => format!("key `{k}`: {message}"),
                None => message,
            };
            InitError::Config {
                origin: format!("{origin}:{line}:{col}"),
                message: format!("{message}; {TOML_HELP}"),
            }
        })?;
        let mut out = PartialConfig::default();
        let mut put = |field: Field, v: Option<String>| {
            if let Some(v) = v {
                out.set(field, v);
            }
        };
        put(Field::Service, parsed.service);
        put(Field::Container, parsed.container);
        put(Field::Region, parsed.region);
        put(Field::ImageRepository, parsed.image_repository);
        put(Field::Dockerfile, parsed.dockerfile);
        put(Field::BuildRoleArn, parsed.build_role_arn);
        put(Field::Flows, parsed.flows.map(|f| f.join("\n")));
        let staging = parsed.staging.unwrap_or_default();
        put(Field::StagingCluster, staging.cluster);
        put(Field::StagingRoleArn, staging.role_arn);
        put(Field::StagingHealthUrl, staging.health_url);
        let production = parsed.production.unwrap_or_default();
        put(Field::ProductionCluster, production.cluster);
        put(Field::ProductionRoleArn, production.role_arn);
        put(Field::ProductionHealthUrl, production.health_url);
        let migrations = parsed.migrations.unwrap_or_default();
        put(Field::MigrationsDir, migrations.dir);
        put(Field::MigrationsRunner, migrations.runner);
        let actions = parsed.actions.unwrap_or_default();
        put(Field::ActionsRepository, actions.repository);
        put(Field::ActionsRef, actions.r#ref);
        // Values are checked here too, so a bad one names its line.
        for (field, value) in &out.values {
            if let Err(message) = field.validate(value) {
                let line = find_key_line(text, field.key()).unwrap_or(0);
                return Err(InitError::Config {
                    origin: format!("{origin}:{line}"),
                    message,
                });
            }
        }
        Ok(out)
    }
}

/// The fix for a `ship.toml` that does not parse.
const TOML_HELP: &str = "every key is a string except `flows`, a list of strings; the keys \
     and their tables are listed in ship's workflows-templates/README.md (`ship init --yes` in \
     an empty directory writes a complete ship.toml)";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ShipToml {
    service: Option<String>,
    container: Option<String>,
    region: Option<String>,
    image_repository: Option<String>,
    dockerfile: Option<String>,
    build_role_arn: Option<String>,
    flows: Option<Vec<String>>,
    staging: Option<EnvToml>,
    production: Option<EnvToml>,
    migrations: Option<MigrationsToml>,
    actions: Option<ActionsToml>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct EnvToml {
    cluster: Option<String>,
    role_arn: Option<String>,
    health_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MigrationsToml {
    dir: Option<String>,
    runner: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ActionsToml {
    repository: Option<String>,
    r#ref: Option<String>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The key (`table.key`) written on the line holding `offset`, for error messages.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let (line_no, _) = line_col(text, offset);
    let mut table = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_owned();
        }
        if i + 1 == line_no {
            if let Some((k, _)) = t.split_once('=') {
                let k = k.trim();
                return Some(if table.is_empty() {
                    k.to_owned()
                } else {
                    format!("{table}.{k}")
                });
            }
            return (!table.is_empty()).then_some(table);
        }
    }
    None
}

/// The 1-based line where dotted `key` is assigned.
fn find_key_line(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_owned();
        } else if let Some((k, _)) = t.split_once('=') {
            let k = k.trim().trim_matches('"');
            if current == table && k == leaf || current.is_empty() && k == key {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Asks for every missing field on `output`, reading answers from `input`; an empty
/// answer takes the shown default (or placeholder). Invalid answers are asked again.
pub fn prompt_missing(
    given: &PartialConfig,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> std::io::Result<PartialConfig> {
    let mut out = given.clone();
    for field in given.missing() {
        let default = field.default_value(&out);
        loop {
            write!(
                output,
                "{} ({}) [{}]: ",
                field.help(),
                field.key(),
                default.replace('\n', "; ")
            )?;
            output.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                // End of input: take the default for this and every later field.
                writeln!(output)?;
                out.set(field, default.clone());
                break;
            }
            let answer = line.trim();
            let value = if answer.is_empty() {
                default.clone()
            } else if field == Field::Flows {
                answer
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                answer.to_owned()
            };
            match field.validate(&value) {
                Ok(()) => {
                    out.set(field, value);
                    break;
                }
                Err(e) => writeln!(output, "  {e}")?,
            }
        }
    }
    Ok(out)
}

/// Where migrations run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationsRunner {
    /// On the GitHub runner with ship's run-migrations action (`DATABASE_URL` environment
    /// secret).
    Ci,
    /// In a one-off ECS task from the new image, inside the VPC.
    EcsTask,
}

/// One environment's deploy target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentConfig {
    pub cluster: String,
    pub role_arn: String,
    pub health_url: String,
}

/// Everything the templates need, every value given or defaulted (placeholders included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitConfig {
    pub service: String,
    pub container: String,
    pub region: String,
    pub image_repository: String,
    pub dockerfile: String,
    pub build_role_arn: String,
    pub staging: EnvironmentConfig,
    pub production: EnvironmentConfig,
    pub migrations_dir: String,
    pub migrations_runner: MigrationsRunner,
    /// `METHOD /path STATUS` lines for the smoke test.
    pub flows: Vec<String>,
    pub actions_repository: String,
    pub actions_ref: String,
}

impl InitConfig {
    /// Fills what `given` lacks with defaults or placeholders and validates every value.
    pub fn resolve(given: &PartialConfig) -> Result<InitConfig, InitError> {
        let mut v = BTreeMap::new();
        let mut filled = given.clone();
        for &field in Field::ALL {
            let value = match given.get(field) {
                Some(x) => x.to_owned(),
                None => field.default_value(&filled),
            };
            field
                .validate(&value)
                .map_err(|message| InitError::Config {
                    origin: "ship init".into(),
                    message,
                })?;
            filled.set(field, value.clone());
            v.insert(field, value);
        }
        let mut take = |f: Field| v.remove(&f).expect("every field resolved");
        Ok(InitConfig {
            service: take(Field::Service),
            container: take(Field::Container),
            region: take(Field::Region),
            image_repository: take(Field::ImageRepository),
            dockerfile: take(Field::Dockerfile),
            build_role_arn: take(Field::BuildRoleArn),
            staging: EnvironmentConfig {
                cluster: take(Field::StagingCluster),
                role_arn: take(Field::StagingRoleArn),
                health_url: take(Field::StagingHealthUrl),
            },
            production: EnvironmentConfig {
                cluster: take(Field::ProductionCluster),
                role_arn: take(Field::ProductionRoleArn),
                health_url: take(Field::ProductionHealthUrl),
            },
            migrations_dir: take(Field::MigrationsDir),
            migrations_runner: match take(Field::MigrationsRunner).as_str() {
                "ecs-task" => MigrationsRunner::EcsTask,
                _ => MigrationsRunner::Ci,
            },
            flows: take(Field::Flows).lines().map(str::to_owned).collect(),
            actions_repository: take(Field::ActionsRepository),
            actions_ref: take(Field::ActionsRef),
        })
    }

    /// The value of one field (flows one per line).
    pub fn get(&self, field: Field) -> String {
        match field {
            Field::Service => self.service.clone(),
            Field::Container => self.container.clone(),
            Field::Region => self.region.clone(),
            Field::ImageRepository => self.image_repository.clone(),
            Field::Dockerfile => self.dockerfile.clone(),
            Field::BuildRoleArn => self.build_role_arn.clone(),
            Field::StagingCluster => self.staging.cluster.clone(),
            Field::StagingRoleArn => self.staging.role_arn.clone(),
            Field::StagingHealthUrl => self.staging.health_url.clone(),
            Field::ProductionCluster => self.production.cluster.clone(),
            Field::ProductionRoleArn => self.production.role_arn.clone(),
            Field::ProductionHealthUrl => self.production.health_url.clone(),
            Field::MigrationsDir => self.migrations_dir.clone(),
            Field::MigrationsRunner => match self.migrations_runner {
                MigrationsRunner::Ci => "ci".into(),
                MigrationsRunner::EcsTask => "ecs-task".into(),
            },
            Field::Flows => self.flows.join("\n"),
            Field::ActionsRepository => self.actions_repository.clone(),
            Field::ActionsRef => self.actions_ref.clone(),
        }
    }

    /// Fields still holding their placeholder token.
    pub fn placeholders(&self) -> Vec<Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(|f| f.token().is_some_and(|t| self.get(*f).contains(t)))
            .collect()
    }

    /// This configuration as a `ship.toml`.
    pub fn to_toml(&self) -> String {
        // A TOML basic string (validated values carry no control characters).
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut out = String::from(
            "# ship init's answers: `ship init` renders ship's workflow templates from this file,\n\
             # and `ship init --check` fails when the workflows drifted from it.\n\
             # Values still named SHIP_* are placeholders (see ship's workflows-templates/README.md).\n",
        );
        let mut table = "";
        // Top-level keys first: TOML puts every key after a `[table]` header in that table.
        let mut fields: Vec<Field> = Field::ALL.to_vec();
        fields.sort_by_key(|f| f.key().contains('.'));
        for field in fields {
            let (t, leaf) = field.key().rsplit_once('.').unwrap_or(("", field.key()));
            if t != table {
                out.push_str(&format!("\n[{t}]\n"));
                table = t;
            }
            out.push_str(&format!("# {}\n", field.help()));
            if field == Field::Flows {
                out.push_str("flows = [\n");
                for f in &self.flows {
                    out.push_str(&format!("  {},\n", q(f)));
                }
                out.push_str("]\n");
            } else {
                out.push_str(&format!("{leaf} = {}\n", q(&self.get(field))));
            }
        }
        out
    }
}
