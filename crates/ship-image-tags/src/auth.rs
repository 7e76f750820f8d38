//! Registry credentials: `REGISTRY_USERNAME`/`REGISTRY_PASSWORD`, or what `docker login`
//! left in `~/.docker/config.json` (inline `auths` entries and credential helpers).

use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The username Docker uses for an identity (OAuth2 refresh) token.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// A username and password (or token). `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username (`<token>` for an identity token).
    pub username: String,
    /// The password, token or identity token.
    pub password: String,
}

impl Credentials {
    /// The `Authorization: Basic …` header value.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// Whether this is an identity token (exchanged through the OAuth2 refresh-token grant).
    pub fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Where credentials came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `REGISTRY_USERNAME` / `REGISTRY_PASSWORD`.
    Environment,
    /// An `auths` entry of a Docker config file.
    DockerConfig(PathBuf),
    /// A `docker-credential-<name>` helper.
    Helper(String),
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Environment => f.write_str("REGISTRY_USERNAME/REGISTRY_PASSWORD"),
            CredentialSource::DockerConfig(p) => write!(f, "{}", p.display()),
            CredentialSource::Helper(h) => write!(f, "docker-credential-{h}"),
        }
    }
}

/// Credentials found for a registry, with their source.
#[derive(Debug, Clone)]
pub struct FoundCredentials {
    /// The credentials.
    pub credentials: Credentials,
    /// Where they came from.
    pub source: CredentialSource,
}

/// Credentials that exist but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Only one of the two variables is set.
    #[error(
        "{set} is set but {missing} is empty: set both, or neither to use ~/.docker/config.json"
    )]
    HalfSet {
        /// The variable that is set.
        set: &'static str,
        /// The one that is not.
        missing: &'static str,
    },
    /// The Docker config file exists but cannot be read or parsed.
    #[error("cannot read Docker config `{}`: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A credential helper failed.
    #[error("credential helper docker-credential-{helper} failed for {registry}: {reason}")]
    Helper {
        /// The helper name.
        helper: String,
        /// The registry asked about.
        registry: String,
        /// Why.
        reason: String,
    },
}

/// Reads `REGISTRY_USERNAME` and `REGISTRY_PASSWORD` through `env`: both or neither.
pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Credentials>, AuthError> {
    let get = |k: &str| env(k).filter(|v| !v.is_empty());
    match (get("REGISTRY_USERNAME"), get("REGISTRY_PASSWORD")) {
        (Some(username), Some(password)) => Ok(Some(Credentials { username, password })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(AuthError::HalfSet {
            set: "REGISTRY_USERNAME",
            missing: "REGISTRY_PASSWORD",
        }),
        (None, Some(_)) => Err(AuthError::HalfSet {
            set: "REGISTRY_PASSWORD",
            missing: "REGISTRY_USERNAME",
        }),
    }
}

/// The Docker config file: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn docker_config_path(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    env("HOME")
        .filter(|v| !v.is_empty())
        .map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

#[derive(Debug, Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// The key Docker stores Docker Hub credentials under.
const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// Whether an `auths` key (`ghcr.io`, `https://ghcr.io`, `https://index.docker.io/v1/`) names
/// `registry`.
fn key_matches(key: &str, registry: &str) -> bool {
    let host = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    let normalise = |h: &str| {
        let h = h.to_ascii_lowercase();
        match h.as_str() {
            "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
            _ => h,
        }
    };
    normalise(host) == normalise(registry)
}

/// Looks `registry` up in the Docker config file at `path`: its credential helper
/// (`credHelpers`), then its `auths` entry, then the default store (`credsStore`).
///
/// A missing file is `Ok(None)`.
pub fn from_docker_config(
    path: &Path,
    registry: &str,
) -> Result<Option<FoundCredentials>, AuthError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AuthError::Config {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        }
    };
    let config: DockerConfig = serde_json::from_str(&text).map_err(|e| AuthError::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;

    let server = if key_matches(registry, crate::reference::DOCKER_HUB) {
        DOCKER_HUB_AUTH_KEY.to_string()
    } else {
        registry.to_string()
    };
    if let Some((_, helper)) = config
        .cred_helpers
        .iter()
        .find(|(k, _)| key_matches(k, registry))
    {
        return run_helper(helper, &server).map(|c| {
            c.map(|credentials| FoundCredentials {
                credentials,
                source: CredentialSource::Helper(helper.clone()),
            })
        });
    }
    if let Some((_, entry)) = config.auths.iter().find(|(k, _)| key_matches(k, registry)) {
        if let Some(credentials) = entry_credentials(path, entry)? {
            return Ok(Some(FoundCredentials {
                credentials,
                source: CredentialSource::DockerConfig(path.to_path_buf()),
            }));
        }
    }
    if let Some(store) = config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        return run_helper(store, &server).map(|c| {
            c.map(|credentials| FoundCredentials {
                credentials,
                source: CredentialSource::Helper(store.to_string()),
            })
        });
    }
    Ok(None)
}

fn entry_credentials(path: &Path, entry: &AuthEntry) -> Result<Option<Credentials>, AuthError> {
    if let Some(token) = entry.identity_token.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credentials {
            username: IDENTITY_TOKEN_USER.into(),
            password: token.into(),
        }));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let bad = |reason: &str| AuthError::Config {
            path: path.to_path_buf(),
            reason: reason.into(),
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad("an `auth` entry is not base64"))?;
        let decoded =
            String::from_utf8(decoded).map_err(|_| bad("an `auth` entry is not UTF-8"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad("an `auth` entry is not base64 of `user:password`"))?;
        return Ok(Some(Credentials {
            username: username.into(),
            password: password.into(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Ok(Some(Credentials {
            username: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// Runs `docker-credential-<helper> get` with the server on stdin, as Docker does.
fn run_helper(helper: &str, server: &str) -> Result<Option<Credentials>, AuthError> {
    let fail = |reason: String| AuthError::Helper {
        helper: helper.to_string(),
        registry: server.to_string(),
        reason,
    };
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is reported through its exit status.
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| fail(format!("{program} did not finish: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // The protocol's "no credentials" answer: not an error, just nothing stored.
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail = [stdout.trim(), stderr.trim()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("no output")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        return Err(fail(format!(
            "{program} exited with {}: {detail}",
            output.status
        )));
    }
    let reply: HelperReply = serde_json::from_str(stdout.trim()).map_err(|e| {
        fail(format!(
            "{program} printed something other than credentials JSON: {e}"
        ))
    })?;
    if reply.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials {
        username: reply.username,
        password: reply.secret,
    }))
}

/// Finds credentials for `registry`: the environment variables first, then the Docker config.
pub fn resolve(
    env: impl Fn(&str) -> Option<String>,
    registry: &str,
) -> Result<Option<FoundCredentials>, AuthError> {
    if let Some(credentials) = from_env(&env)? {
        return Ok(Some(FoundCredentials {
            credentials,
            source: CredentialSource::Environment,
        }));
    }
    match docker_config_path(&env) {
        Some(path) => from_docker_config(&path, registry),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn env_pair() {
        let c = from_env(env(&[
            ("REGISTRY_USERNAME", "u"),
            ("REGISTRY_PASSWORD", "p"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.basic_header(), "Basic dTpw");
        assert!(from_env(env(&[])).unwrap().is_none());
        let err = from_env(env(&[("REGISTRY_USERNAME", "u")])).unwrap_err();
        assert!(
            err.to_string().contains("REGISTRY_PASSWORD is empty"),
            "{err}"
        );
        let err = from_env(env(&[
            ("REGISTRY_PASSWORD", "p"),
            ("REGISTRY_USERNAME", ""),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("REGISTRY_USERNAME is empty"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_password() {
        let c = Credentials {
            username: "bot".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn docker_config_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "aHViOmh1YnB3"},
                "ghcr.io": {"auth": "Z2g6Z2hwdw=="},
                "http://localhost:5000/v2/": {"username": "l", "password": "lp"},
                "quay.io": {"identitytoken": "idt"},
                "empty.example": {}
            }}"#,
        )
        .unwrap();
        let get = |r: &str| from_docker_config(&path, r).unwrap().map(|f| f.credentials);
        let pair = |u: &str, p: &str| {
            Some(Credentials {
                username: u.into(),
                password: p.into(),
            })
        };
        assert_eq!(get("docker.io"), pair("hub", "hubpw"));
        assert_eq!(get("ghcr.io"), pair("gh", "ghpw"));
        assert_eq!(get("GHCR.io"), pair("gh", "ghpw"));
        assert_eq!(get("localhost:5000"), pair("l", "lp"));
        assert_eq!(get("localhost:5001"), None);
        assert!(get("quay.io").unwrap().is_identity_token());
        assert_eq!(get("empty.example"), None);
        assert_eq!(get("other.example"), None);
        let found = from_docker_config(&path, "ghcr.io").unwrap().unwrap();
        assert_eq!(found.source, CredentialSource::DockerConfig(path.clone()));
    }

    #[test]
    fn docker_config_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        assert!(from_docker_config(&path, "ghcr.io").unwrap().is_none());
        std::fs::write(&path, "{not json").unwrap();
        let err = from_docker_config(&path, "ghcr.io")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read Docker config"), "{err}");
        std::fs::write(&path, r#"{"auths": {"ghcr.io": {"auth": "!!"}}}"#).unwrap();
        let err = from_docker_config(&path, "ghcr.io")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not base64"), "{err}");
        std::fs::write(
            &path,
            r#"{"credHelpers": {"ghcr.io": "ship-test-missing-helper"}}"#,
        )
        .unwrap();
        let err = from_docker_config(&path, "ghcr.io")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("docker-credential-ship-test-missing-helper"),
            "{err}"
        );
    }

    #[test]
    fn config_path() {
        assert_eq!(
            docker_config_path(env(&[("DOCKER_CONFIG", "/d"), ("HOME", "/h")])),
            Some(PathBuf::from("/d/config.json"))
        );
        assert_eq!(
            docker_config_path(env(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.docker/config.json"))
        );
        assert_eq!(docker_config_path(env(&[])), None);
    }

    #[test]
    fn env_wins_over_config() {
        let found = resolve(
            env(&[
                ("REGISTRY_USERNAME", "u"),
                ("REGISTRY_PASSWORD", "p"),
                ("HOME", "/nonexistent"),
            ]),
            "ghcr.io",
        )
        .unwrap()
        .unwrap();
        assert_eq!(found.source, CredentialSource::Environment);
        assert!(resolve(env(&[("HOME", "/nonexistent")]), "ghcr.io")
            .unwrap()
            .is_none());
    }
}
