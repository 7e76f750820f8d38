//! Test servers and helpers: a real registry (`tests/infra/registry.sh`), moto as ECR
//! (`tests/infra/moto.sh`), scripted HTTP stubs for faults, test images, and running the
//! binary with a clean environment.
//!
//! Servers are started by the tests themselves and killed when their guard drops. A server
//! that cannot start fails the test with the script's message: nothing is skipped.

#![allow(dead_code)]

use ship_image_tags::auth::Credentials;
use ship_image_tags::oci::{
    ClientOptions, Manifest, RegistryClient, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST,
};
use ship_image_tags::ImageRepo;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_ship-tag-image");
pub const SHA: &str = "abc1234def567890abc1234def567890abc12345";
pub const SHA_TAG: &str = "sha-abc1234";
/// moto's default account.
pub const ACCOUNT: &str = "123456789012";
pub const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A background server process, killed on drop.
pub struct Process {
    pid: u32,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

/// Runs an infra script's `start`, which prints the server's pid; retries on another port
/// (the port may have been taken between choosing and binding), then fails the test.
fn start_with_script(
    script: &str,
    args: impl Fn(u16) -> Vec<String>,
    env: &[(&str, &str)],
) -> (Process, u16) {
    let path = repo_root().join("tests/infra").join(script);
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port();
        let output = Command::new(&path)
            .args(args(port))
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        if output.status.success() {
            let pid: u32 = String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{script} start printed no pid: {output:?}"));
            return (Process { pid }, port);
        }
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    panic!(
        "cannot start the test server with tests/infra/{script} (install it with `tests/infra/{script} install`): {last}"
    );
}

/// A real OCI registry (Debian docker-registry) on 127.0.0.1 with storage in a temp dir.
pub struct Registry {
    _process: Process,
    pub port: u16,
    _dir: TempDir,
    pub credentials: Option<Credentials>,
}

impl Registry {
    pub fn start() -> Self {
        Self::start_with_auth(None)
    }

    /// With `Some((user, pass))`, the registry requires HTTP basic auth.
    pub fn start_with_auth(auth: Option<(&str, &str)>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let dir_path = dir.path().to_string_lossy().to_string();
        let auth_env = auth.map(|(u, p)| format!("{u}:{p}"));
        let env: Vec<(&str, &str)> = auth_env.iter().map(|a| ("AUTH", a.as_str())).collect();
        let (process, port) = start_with_script(
            "registry.sh",
            |port| vec!["start".into(), port.to_string(), dir_path.clone()],
            &env,
        );
        Self {
            _process: process,
            port,
            _dir: dir,
            credentials: auth.map(|(u, p)| Credentials {
                username: u.into(),
                password: p.into(),
            }),
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn image(&self, repo: &str) -> String {
        format!("{}/{repo}", self.host())
    }

    pub fn client(&self, repo: &str) -> RegistryClient {
        RegistryClient::new(
            &ImageRepo::parse(&self.image(repo)).unwrap(),
            ClientOptions {
                credentials: self.credentials.clone(),
                ..ClientOptions::default()
            },
        )
        .unwrap()
    }

    /// GETs a manifest with plain reqwest (not the code under test): bytes, Content-Type and
    /// Docker-Content-Digest, or the HTTP status on failure.
    pub fn fetch(&self, repo: &str, reference: &str) -> Result<Fetched, u16> {
        let url = format!("http://{}/v2/{repo}/manifests/{reference}", self.host());
        let credentials = self.credentials.clone();
        rt().block_on(async move {
            let mut request = reqwest::Client::new().get(&url).header(
                "Accept",
                [
                    OCI_INDEX,
                    OCI_MANIFEST,
                    DOCKER_MANIFEST,
                    ship_image_tags::oci::DOCKER_MANIFEST_LIST,
                ]
                .join(", "),
            );
            if let Some(c) = credentials {
                request = request.basic_auth(c.username, Some(c.password));
            }
            let response = request.send().await.expect("registry answers");
            if !response.status().is_success() {
                return Err(response.status().as_u16());
            }
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            let content_type = header("content-type");
            let digest = header("docker-content-digest");
            let bytes = response.bytes().await.expect("body").to_vec();
            Ok(Fetched {
                bytes,
                content_type,
                digest,
            })
        })
    }

    /// The digest a tag names, per the registry's own header, or None when missing.
    pub fn digest_of(&self, repo: &str, reference: &str) -> Option<String> {
        self.fetch(repo, reference).ok().map(|f| f.digest)
    }

    /// `repo:tag` exists and names `digest`.
    #[track_caller]
    pub fn assert_tag(&self, repo: &str, tag: &str, digest: &str) {
        assert_eq!(
            self.digest_of(repo, tag).as_deref(),
            Some(digest),
            "{repo}:{tag}"
        );
    }
}

#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub digest: String,
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

/// The images pushed by [`push_test_images`], by digest.
#[derive(Debug, Clone)]
pub struct TestImages {
    /// OCI image manifest (amd64), tagged `sha-abc1234`.
    pub single: Manifest,
    /// Docker schema 2 manifest, tagged `docker-v2`.
    pub docker: Manifest,
    /// OCI index over an amd64 and an arm64 manifest, tagged `sha-1ndex00`.
    pub index: Manifest,
    /// The index's children.
    pub children: Vec<Manifest>,
    /// Another OCI manifest (different layer), tagged `other`.
    pub other: Manifest,
}

fn config_blob(arch: &str) -> Vec<u8> {
    format!(r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"config":{{}}}}"#)
        .into_bytes()
}

fn image_manifest(
    media_type: &str,
    config_type: &str,
    layer_type: &str,
    config: &[u8],
    layer: &[u8],
) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{media_type}","config":{{"mediaType":"{config_type}","digest":"{}","size":{}}},"layers":[{{"mediaType":"{layer_type}","digest":"{}","size":{}}}]}}"#,
        sha256(config),
        config.len(),
        sha256(layer),
        layer.len()
    )
    .into_bytes()
}

fn oci_manifest(config: &[u8], layer: &[u8]) -> Vec<u8> {
    image_manifest(
        OCI_MANIFEST,
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        config,
        layer,
    )
}

fn index_manifest(children: &[(&[u8], &str)]) -> Vec<u8> {
    let entries: Vec<String> = children
        .iter()
        .map(|(m, arch)| {
            format!(
                r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":{},"platform":{{"architecture":"{arch}","os":"linux"}}}}"#,
                sha256(m),
                m.len()
            )
        })
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
        entries.join(",")
    )
    .into_bytes()
}

/// The test manifests (bytes only), shared by the registry and ECR set-ups.
pub struct Manifests {
    pub blobs: Vec<Vec<u8>>,
    pub single: Vec<u8>,
    pub docker: Vec<u8>,
    pub children: Vec<Vec<u8>>,
    pub index: Vec<u8>,
    pub other: Vec<u8>,
}

pub fn manifests() -> Manifests {
    let amd_config = config_blob("amd64");
    let arm_config = config_blob("arm64");
    let amd_layer = b"layer for amd64".to_vec();
    let arm_layer = b"layer for arm64".to_vec();
    let other_layer = b"another build entirely".to_vec();
    let single = oci_manifest(&amd_config, &amd_layer);
    let docker = image_manifest(
        DOCKER_MANIFEST,
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        &amd_config,
        &amd_layer,
    );
    let arm = oci_manifest(&arm_config, &arm_layer);
    let index = index_manifest(&[(&single, "amd64"), (&arm, "arm64")]);
    let other = oci_manifest(&amd_config, &other_layer);
    Manifests {
        blobs: vec![amd_config, arm_config, amd_layer, arm_layer, other_layer],
        single: single.clone(),
        docker,
        children: vec![single, arm],
        index,
        other,
    }
}

fn manifest(bytes: &[u8], media_type: &str) -> Manifest {
    Manifest::from_bytes(bytes.to_vec(), Some(media_type)).unwrap()
}

/// Pushes the test images to `repo` over plain HTTP: blobs, then manifests.
pub fn push_test_images(registry: &Registry, repo: &str) -> TestImages {
    let client = registry.client(repo);
    let m = manifests();
    rt().block_on(async {
        for blob in &m.blobs {
            client.push_blob(blob).await.expect("push blob");
        }
        let single = manifest(&m.single, OCI_MANIFEST);
        let docker = manifest(&m.docker, DOCKER_MANIFEST);
        let children: Vec<Manifest> = m
            .children
            .iter()
            .map(|c| manifest(c, OCI_MANIFEST))
            .collect();
        let index = manifest(&m.index, OCI_INDEX);
        let other = manifest(&m.other, OCI_MANIFEST);
        for child in &children {
            client
                .put_manifest(&child.digest, child)
                .await
                .expect("push child");
        }
        client
            .put_manifest(SHA_TAG, &single)
            .await
            .expect("push single");
        client
            .put_manifest("docker-v2", &docker)
            .await
            .expect("push docker");
        client
            .put_manifest("sha-1ndex00", &index)
            .await
            .expect("push index");
        client
            .put_manifest("other", &other)
            .await
            .expect("push other");
        TestImages {
            single,
            docker,
            index,
            children,
            other,
        }
    })
}

/// moto's server as ECR, on 127.0.0.1.
pub struct Moto {
    _process: Process,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Self {
        let (process, port) = start_with_script(
            "moto.sh",
            |port| vec!["start".into(), port.to_string()],
            &[],
        );
        Self {
            _process: process,
            port,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> aws_sdk_ecr::Client {
        let conf = aws_sdk_ecr::Config::builder()
            .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
            .region(aws_sdk_ecr::config::Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_sdk_ecr::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .build();
        aws_sdk_ecr::Client::from_conf(conf)
    }

    /// The environment the binary needs to reach this moto as ECR.
    pub fn env(&self) -> Vec<(String, String)> {
        aws_env(&self.endpoint())
    }

    pub fn image(repo: &str) -> String {
        format!("{ECR_HOST}/{repo}")
    }
}

/// ECR's digests of the images [`seed_ecr`] puts.
pub struct EcrSeeded {
    pub single: String,
    pub oci: String,
    pub index: String,
    pub other: String,
}

/// Creates `api` in moto and puts: a Docker v2 manifest as `sha-abc1234`, an OCI manifest
/// (media type given through the API) as `oci`, an OCI index as `sha-1ndex00`, another image
/// as `other`. Returns ECR's digests.
pub fn seed_ecr(moto: &Moto) -> EcrSeeded {
    let client = moto.client();
    let m = manifests();
    rt().block_on(async {
        ecr_create_repository(&client, "api").await;
        EcrSeeded {
            single: ecr_put(&client, "api", SHA_TAG, &m.docker, None).await,
            // Not `m.single`: moto's digest hashes the layer digests, which it shares with m.docker.
            oci: ecr_put(&client, "api", "oci", &m.children[1], Some(OCI_MANIFEST)).await,
            index: ecr_put(&client, "api", "sha-1ndex00", &m.index, Some(OCI_INDEX)).await,
            other: ecr_put(&client, "api", "other", &m.other, None).await,
        }
    })
}

/// The image `tag` names in moto's `api` repository, read with the AWS SDK directly.
pub fn ecr_image(moto: &Moto, tag: &str) -> Option<EcrImage> {
    rt().block_on(ecr_get(&moto.client(), "api", tag))
}

/// The environment that sends the binary's AWS calls to `endpoint` with test credentials
/// (and never to the instance metadata service).
pub fn aws_env(endpoint: &str) -> Vec<(String, String)> {
    vec![
        ("AWS_ENDPOINT_URL".into(), endpoint.into()),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
    ]
}

/// The library's ECR client for the `api` repository, talking to `endpoint` with test
/// credentials.
pub fn ecr_client_at(endpoint: &str) -> ship_image_tags::ecr::EcrClient {
    let repo = ImageRepo::parse(&Moto::image("api")).unwrap();
    let ecr = repo.ecr.clone().unwrap();
    let config = rt().block_on(async {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_ecr::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .load()
            .await
    });
    ship_image_tags::ecr::EcrClient::from_config(&repo, &ecr, &config)
}

/// One image as ECR reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrImage {
    pub digest: String,
    pub manifest: String,
    pub media_type: Option<String>,
}

pub async fn ecr_create_repository(client: &aws_sdk_ecr::Client, repo: &str) {
    client
        .create_repository()
        .repository_name(repo)
        .send()
        .await
        .expect("create repository");
}

pub async fn ecr_put(
    client: &aws_sdk_ecr::Client,
    repo: &str,
    tag: &str,
    manifest: &[u8],
    media_type: Option<&str>,
) -> String {
    let output = client
        .put_image()
        .repository_name(repo)
        .image_tag(tag)
        .image_manifest(String::from_utf8(manifest.to_vec()).unwrap())
        .set_image_manifest_media_type(media_type.map(str::to_string))
        .send()
        .await
        .expect("put image");
    output
        .image()
        .and_then(|i| i.image_id())
        .and_then(|i| i.image_digest())
        .expect("digest")
        .to_string()
}

pub async fn ecr_get(client: &aws_sdk_ecr::Client, repo: &str, tag: &str) -> Option<EcrImage> {
    let output = client
        .batch_get_image()
        .repository_name(repo)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .send()
        .await
        .expect("batch get image");
    output.images().first().map(|i| EcrImage {
        digest: i
            .image_id()
            .and_then(|id| id.image_digest())
            .unwrap_or_default()
            .to_string(),
        manifest: i.image_manifest().unwrap_or_default().to_string(),
        media_type: i.image_manifest_media_type().map(str::to_string),
    })
}

/// `ship-tag-image`'s command line and environment, built flag by flag:
/// `TagArgs::new(&image).sha().version("v1.2.3").floating().json().run()`.
#[derive(Debug, Clone, Default)]
pub struct TagArgs {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl TagArgs {
    /// `--image image`.
    pub fn new(image: &str) -> Self {
        Self::default().arg("--image", image)
    }

    /// `--image <moto's api repository>`, with the environment that points the AWS SDK at moto.
    pub fn ecr(moto: &Moto) -> Self {
        Self::new(&Moto::image("api")).aws_at(&moto.endpoint())
    }

    /// The ECR `api` repository behind `endpoint`, tried once (an endpoint nothing listens on
    /// fails at once instead of after the SDK's retries).
    pub fn ecr_at(endpoint: &str) -> Self {
        Self::new(&Moto::image("api"))
            .aws_at(endpoint)
            .env("AWS_MAX_ATTEMPTS", "1")
    }

    /// AWS calls go to `endpoint` with test credentials ([`aws_env`]).
    pub fn aws_at(mut self, endpoint: &str) -> Self {
        self.env.extend(aws_env(endpoint));
        self
    }

    /// `flag value`.
    pub fn arg(mut self, flag: &str, value: &str) -> Self {
        self.args.extend([flag.to_string(), value.to_string()]);
        self
    }

    /// A flag without a value (`--floating`).
    pub fn flag(mut self, flag: &str) -> Self {
        self.args.push(flag.to_string());
        self
    }

    /// `--sha` with the test commit (so `sha-abc1234` is among the tags and the default source).
    pub fn sha(self) -> Self {
        self.arg("--sha", SHA)
    }

    pub fn source(self, source: &str) -> Self {
        self.arg("--source", source)
    }

    pub fn version(self, version: &str) -> Self {
        self.arg("--release-version", version)
    }

    pub fn floating(self) -> Self {
        self.flag("--floating")
    }

    pub fn force(self) -> Self {
        self.flag("--force")
    }

    pub fn dry_run(self) -> Self {
        self.flag("--dry-run")
    }

    pub fn json(self) -> Self {
        self.arg("--format", "json")
    }

    /// An environment variable for the run (on top of the clean one [`tag_image`] makes).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    pub fn run(&self) -> Run {
        let home = tempfile::tempdir().expect("temp home");
        self.run_in(home.path())
    }

    pub fn run_in(&self, home: &Path) -> Run {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        tag_image_in(home, &args, &env)
    }
}

/// Tags the test image `other` (another build than the one `--sha` names) `version` for
/// real, with `base`'s image and flags: a release that is not ours.
#[track_caller]
pub fn tag_other(base: TagArgs, version: &str) {
    base.source("other").version(version).run().assert_code(0);
}

/// Writes `$home/.docker/config.json`, as `docker login` would.
pub fn write_docker_config(home: &Path, config: &str) {
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(home.join(".docker/config.json"), config).unwrap();
}

/// `(&str, &str)` pairs as owned strings, to compare with [`Run::statuses`] and [`Run::plan`].
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The result of running the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (want {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// `field` of each entry of the JSON report's `list`, as (tag, field) pairs.
    fn per_tag(&self, list: &str, field: &str) -> Vec<(String, String)> {
        self.json()[list]
            .as_array()
            .unwrap_or_else(|| panic!("no `{list}` in {}", self.stdout))
            .iter()
            .map(|r| {
                (
                    r["tag"].as_str().unwrap().to_string(),
                    r[field].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The statuses of `results` in the JSON report, as (tag, status) pairs.
    pub fn statuses(&self) -> Vec<(String, String)> {
        self.per_tag("results", "status")
    }

    /// The actions of a dry run's `plan` in the JSON report, as (tag, action) pairs.
    pub fn plan(&self) -> Vec<(String, String)> {
        self.per_tag("plan", "action")
    }

    /// The run exited 0 with these (tag, status) results.
    #[track_caller]
    pub fn assert_statuses(&self, want: &[(&str, &str)]) -> &Self {
        self.assert_code(0);
        assert_eq!(self.statuses(), pairs(want), "{}", self.stdout);
        self
    }

    /// The run exited 0 and changed nothing (a re-run).
    #[track_caller]
    pub fn assert_all_unchanged(&self) -> &Self {
        self.assert_code(0);
        let statuses = self.statuses();
        assert!(
            statuses.iter().all(|(_, s)| s == "unchanged"),
            "{statuses:?}"
        );
        self
    }

    /// The run exited `code` with this (tag, action) dry-run plan.
    #[track_caller]
    pub fn assert_plan(&self, code: i32, want: &[(&str, &str)]) -> &Self {
        self.assert_code(code);
        assert_eq!(self.plan(), pairs(want), "{}", self.stdout);
        self
    }

    /// Standard error contains each of `wants`.
    #[track_caller]
    pub fn assert_stderr_has(&self, wants: &[&str]) -> &Self {
        assert_has("stderr", &self.stderr, wants);
        self
    }

    /// Standard output contains each of `wants`.
    #[track_caller]
    pub fn assert_stdout_has(&self, wants: &[&str]) -> &Self {
        assert_has("stdout", &self.stdout, wants);
        self
    }

    /// The step summary contains each of `wants`.
    #[track_caller]
    pub fn assert_summary_has(&self, wants: &[&str]) -> &Self {
        assert_has("the step summary", &self.summary, wants);
        self
    }
}

/// Runs `ship-tag-image` with a clean environment: PATH, a fresh HOME, `GITHUB_OUTPUT` and
/// `GITHUB_STEP_SUMMARY` files, and `env`. Nothing from the real environment (GITHUB_*,
/// INPUT_*, AWS_*, ~/.docker) leaks in.
pub fn tag_image(args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = tempfile::tempdir().expect("temp home");
    tag_image_in(home.path(), args, env)
}

pub fn tag_image_in(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let files = tempfile::tempdir().expect("temp dir");
    let output_file = files.path().join("output");
    let summary_file = files.path().join("summary");
    let output = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .envs(env.iter().copied())
        .output()
        .expect("run ship-tag-image");
    let outputs = std::fs::read_to_string(&output_file)
        .map(|t| parse_outputs(&t))
        .unwrap_or_default();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        outputs,
        summary: std::fs::read_to_string(&summary_file).unwrap_or_default(),
    }
}

/// `text` (`what`, for the message) contains each of `wants`.
#[track_caller]
pub fn assert_has(what: &str, text: &str, wants: &[&str]) {
    for want in wants {
        assert!(text.contains(want), "missing `{want}` in {what}:\n{text}");
    }
}

/// The run exited `code` with exactly one error line, containing each of `wants`.
#[track_caller]
pub fn assert_one_line_error(run: &Run, code: i32, wants: &[&str]) {
    run.assert_code(code);
    let stderr = run.stderr.trim_end();
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Progress lines (where credentials came from) may precede it; the error is one line.
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("ship-tag-image: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "not one error line:\n{stderr}");
    assert!(
        stderr.lines().all(|l| l.starts_with("ship-tag-image: ")),
        "{stderr}"
    );
    for want in wants {
        assert!(errors[0].contains(want), "missing `{want}` in:\n{stderr}");
    }
}

/// Parses a `$GITHUB_OUTPUT` file: `name=value` and `name<<DELIM` … `DELIM` records.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        }
    }
    outputs
}

/// A request as the stub server saw it.
#[derive(Debug, Clone)]
pub struct StubRequest {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A canned response.
pub struct StubResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Instead of `body`, bytes without end (`{"x":"xxxx…`) until the client hangs up: with
    /// `Some(n)` under `Content-Length: n`, with `None` chunked.
    pub endless: Option<Option<u64>>,
}

impl StubResponse {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            endless: None,
        }
    }

    /// A body that never ends (see [`StubResponse::endless`]); `declared`, the
    /// `Content-Length` it claims, if any.
    pub fn endless(mut self, declared: Option<u64>) -> Self {
        self.endless = Some(declared);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

type Handler = dyn Fn(&StubRequest) -> StubResponse + Send + Sync;

/// A scripted HTTP/1.1 server on 127.0.0.1, for failures a real registry will not produce
/// on demand (HTTP 500, a failure half-way through, a bearer token service). One request per
/// connection (`Connection: close`). Stops accepting when dropped.
pub struct Stub {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<StubRequest>>>,
    /// Body bytes written to clients, over all connections.
    pub sent: Arc<std::sync::atomic::AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Stub {
    pub fn start(handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind stub");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log, stopped, counter) = (requests.clone(), stop.clone(), sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (handler, log, counter) = (handler.clone(), log.clone(), counter.clone());
                std::thread::spawn(move || serve(stream, &*handler, &log, &counter));
            }
        });
        Self {
            port,
            requests,
            sent,
            stop,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<StubRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    stream: TcpStream,
    handler: &Handler,
    log: &Mutex<Vec<StubRequest>>,
    sent: &std::sync::atomic::AtomicU64,
) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.trim().is_empty() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = StubRequest {
        method,
        path,
        headers,
        body,
    };
    let response = handler(&request);
    log.lock().unwrap().push(request.clone());
    let mut out = format!("HTTP/1.1 {} Stub\r\nConnection: close\r\n", response.status);
    for (k, v) in &response.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    match response.endless {
        Some(Some(declared)) => out.push_str(&format!("Content-Length: {declared}\r\n")),
        Some(None) => out.push_str("Transfer-Encoding: chunked\r\n"),
        // For HEAD this is the length a GET would have had; no body follows.
        None => out.push_str(&format!("Content-Length: {}\r\n", response.body.len())),
    }
    out.push_str("\r\n");
    let mut stream = reader.into_inner();
    let _ = stream.write_all(out.as_bytes());
    if request.method == "HEAD" {
        let _ = stream.flush();
        return;
    }
    let count = |n: usize| sent.fetch_add(n as u64, std::sync::atomic::Ordering::SeqCst);
    match response.endless {
        None => {
            if stream.write_all(&response.body).is_ok() {
                count(response.body.len());
            }
        }
        Some(declared) => {
            // Until the client hangs up (or, with a length, that length is sent: 2 GB in
            // tests, so in practice the client hangs up first).
            let block = [b'x'; 64 * 1024];
            let mut total = 0u64;
            // The JSON-looking start, framed as its own chunk when the body is chunked.
            let start: &[u8] = b"{\"x\":\"";
            let _ = match declared {
                Some(_) => stream.write_all(start),
                None => stream
                    .write_all(format!("{:x}\r\n", start.len()).as_bytes())
                    .and_then(|_| stream.write_all(start))
                    .and_then(|_| stream.write_all(b"\r\n")),
            };
            while declared.is_none_or(|d| total < d) {
                let written = match declared {
                    Some(_) => stream.write_all(&block),
                    None => stream
                        .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                        .and_then(|_| stream.write_all(&block))
                        .and_then(|_| stream.write_all(b"\r\n")),
                };
                if written.is_err() {
                    break;
                }
                total += block.len() as u64;
                count(block.len());
            }
        }
    }
    let _ = stream.flush();
}
