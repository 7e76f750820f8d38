//! A small OCI distribution API client: read a manifest by tag or digest, read a tag's
//! digest, and put the same manifest bytes under another tag, so the digest never changes
//! and no layer moves. Speaks basic auth and the bearer-token flow.

use crate::auth::{CredentialSource, Credentials};
use crate::body::{
    read_limited, read_prefix, BodyError, ERROR_BODY_LIMIT, MANIFEST_LIMIT, TAG_LIST_LIMIT,
    TOKEN_LIMIT,
};
use crate::digest::{is_sha256_digest, sha256_digest};
use crate::error::{error_chain, target, ErrorKind, RegistryError};
use crate::floating::ListLimits;
use crate::reference::{ImageRepo, SourceRef};
use reqwest::header::{
    HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LINK, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode, Url};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// OCI image index (multi-platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list (multi-platform).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Every manifest media type asked for, indexes first so a registry never picks one platform.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// A manifest exactly as the registry stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The bytes, unchanged: re-putting them keeps the digest.
    pub bytes: Vec<u8>,
    /// Its media type (the `Content-Type` to put it with).
    pub media_type: String,
    /// Its digest as the registry names it (for the OCI API, the sha256 of `bytes`).
    pub digest: String,
}

impl Manifest {
    /// A manifest from its bytes and the registry's `Content-Type`, digest computed.
    ///
    /// The media type is the `Content-Type` when it is specific, else the document's
    /// `mediaType`, else inferred (`manifests` → index, `layers` → image manifest). Docker
    /// schema 1 manifests are refused: registries re-sign them, so their digest is unstable.
    pub fn from_bytes(bytes: Vec<u8>, content_type: Option<&str>) -> Result<Self, String> {
        let media_type = manifest_media_type(&bytes, content_type)?;
        let digest = sha256_digest(&bytes);
        Ok(Self {
            bytes,
            media_type,
            digest,
        })
    }

    /// Whether this is a multi-platform index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type == OCI_INDEX || self.media_type == DOCKER_MANIFEST_LIST
    }
}

fn manifest_media_type(bytes: &[u8], content_type: Option<&str>) -> Result<String, String> {
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty());
    let generic = |c: &str| {
        matches!(
            c,
            "application/json" | "text/plain" | "application/octet-stream"
        )
    };
    let is_schema1 = |c: &str| c.starts_with("application/vnd.docker.distribution.manifest.v1");
    if let Some(c) = header.as_deref().filter(|c| !generic(c)) {
        if is_schema1(c) {
            return Err(format!("it is a Docker schema 1 manifest ({c}), which cannot be retagged without changing its digest; rebuild the image with a current builder"));
        }
        return Ok(c.to_string());
    }
    let doc: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    if let Some(m) = doc.get("mediaType").and_then(|m| m.as_str()) {
        if is_schema1(m) {
            return Err(format!("it is a Docker schema 1 manifest ({m})"));
        }
        return Ok(m.to_string());
    }
    if doc.get("manifests").is_some() {
        Ok(OCI_INDEX.to_string())
    } else if doc.get("layers").is_some() {
        Ok(OCI_MANIFEST.to_string())
    } else {
        Err("the manifest has no media type and is neither an index nor an image manifest".into())
    }
}

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Speak plain HTTP even though the registry is not on loopback.
    pub insecure: bool,
    /// Credentials, if any were found.
    pub credentials: Option<Credentials>,
    /// Where they came from (for messages).
    pub credential_source: Option<CredentialSource>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Paging of the tag list ([`RegistryClient::list_tags`]).
    pub list_limits: ListLimits,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            insecure: false,
            credentials: None,
            credential_source: None,
            timeout: Duration::from_secs(60),
            list_limits: ListLimits::OCI,
        }
    }
}

/// Outcome of putting a manifest under a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The registry stored the tag; the digest it reports.
    Written(String),
    /// The registry already had exactly this tag on this digest (ECR's
    /// `ImageAlreadyExistsException`).
    AlreadyTagged,
}

/// A client for one repository of one registry.
pub struct RegistryClient {
    http: reqwest::Client,
    base: Url,
    registry: String,
    repository: String,
    options: ClientOptions,
    /// The `Authorization` header value learnt from the last challenge.
    auth: Mutex<Option<String>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("base", &self.base.as_str())
            .field("repository", &self.repository)
            .finish_non_exhaustive()
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses the first challenge of a `WWW-Authenticate` header:
/// `Bearer realm="https://x/token",service="x",scope="repository:a:pull,push"`.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.trim().is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

/// What a request is doing, for messages: e.g. "reading manifest api:sha-abc1234".
struct Op<'a> {
    doing: &'a str,
    reference: &'a str,
}

impl RegistryClient {
    /// A client for `repo`. Loopback registries get plain HTTP, as with Docker; others HTTPS
    /// unless `options.insecure`.
    pub fn new(repo: &ImageRepo, options: ClientOptions) -> Result<Self, RegistryError> {
        let scheme = if repo.is_loopback() || options.insecure {
            "http"
        } else {
            "https"
        };
        let base = Url::parse(&format!("{scheme}://{}/", repo.api_host())).map_err(|e| {
            RegistryError::new(
                ErrorKind::Protocol,
                &repo.registry,
                format!("registry host `{}` does not form a URL: {e}", repo.registry),
                "the image name",
            )
        })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("ship-tag-image/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(options.timeout)
            .build()
            .map_err(|e| {
                RegistryError::new(
                    ErrorKind::Protocol,
                    &repo.registry,
                    format!("cannot set up an HTTP client: {}", error_chain(&e)),
                    "the runner's TLS configuration",
                )
            })?;
        Ok(Self {
            http,
            base,
            registry: repo.registry.clone(),
            repository: repo.repository.clone(),
            options,
            auth: Mutex::new(None),
        })
    }

    /// The registry name, for messages.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The API base URL (`http://127.0.0.1:5000/`).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Url {
        // Repository and references are validated (no `?`, `#`, `..`), so joining is safe.
        self.base
            .join(&format!("v2/{}/{path}", self.repository))
            .unwrap_or_else(|_| self.base.clone())
    }

    fn current_auth(&self) -> Option<String> {
        self.auth.lock().map(|a| a.clone()).unwrap_or(None)
    }

    fn set_auth(&self, value: String) {
        if let Ok(mut a) = self.auth.lock() {
            *a = Some(value);
        }
    }

    fn credential_hint(&self) -> String {
        match &self.options.credential_source {
            Some(source) => format!("the credentials from {source}"),
            None => format!(
                "REGISTRY_USERNAME/REGISTRY_PASSWORD or `docker login {}`",
                self.registry
            ),
        }
    }

    /// Sends a request built by `make`, answering one authentication challenge and retrying
    /// transient failures (429, 502, 503, 504) twice.
    async fn send(
        &self,
        op: &Op<'_>,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let mut challenged = false;
        let mut transient_retries = 0u32;
        loop {
            let mut request = make();
            if let Some(auth) = self.current_auth() {
                request = request.header(AUTHORIZATION, auth);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.transport_error(op, &e))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let challenge = response
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_challenge);
                self.authenticate(op, challenge).await?;
                continue;
            }
            let transient = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            );
            if transient && transient_retries < 2 {
                transient_retries += 1;
                tokio::time::sleep(Duration::from_millis(500 * u64::from(transient_retries))).await;
                continue;
            }
            return Ok(response);
        }
    }

    /// Answers a 401 challenge: basic auth with the credentials, or a bearer token from the
    /// challenge's realm.
    async fn authenticate(
        &self,
        op: &Op<'_>,
        challenge: Option<Challenge>,
    ) -> Result<(), RegistryError> {
        let Some(challenge) = challenge else {
            return Err(self.unauthorized(op, "HTTP 401 without a WWW-Authenticate challenge"));
        };
        match challenge.scheme.as_str() {
            "basic" => {
                let Some(credentials) = &self.options.credentials else {
                    return Err(self.no_credentials(op));
                };
                self.set_auth(credentials.basic_header());
                Ok(())
            }
            "bearer" => {
                let token = self.fetch_token(op, &challenge).await?;
                self.set_auth(format!("Bearer {token}"));
                Ok(())
            }
            other => Err(self.unauthorized(
                op,
                &format!("the registry asks for `{other}` authentication, which is not supported (only basic and bearer)"),
            )),
        }
    }

    async fn fetch_token(
        &self,
        op: &Op<'_>,
        challenge: &Challenge,
    ) -> Result<String, RegistryError> {
        let realm = challenge
            .params
            .get("realm")
            .map(String::as_str)
            .unwrap_or("");
        let mut url = Url::parse(realm).map_err(|_| {
            RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!(
                    "registry {} sent a bearer challenge without a usable realm (`{realm}`)",
                    self.registry
                ),
                "that the image name points at a container registry",
            )
        })?;
        if url.scheme() != "https" && !(url.scheme() == "http" && self.base.scheme() == "http") {
            return Err(RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!("registry {} sent a token realm `{realm}` that is not HTTPS; credentials are not sent there", self.registry),
                "the registry's token service configuration",
            ));
        }
        let scope = challenge
            .params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull,push", self.repository));
        let service = challenge.params.get("service").cloned();
        let credentials = self.options.credentials.as_ref();

        let response = if let Some(c) = credentials.filter(|c| c.is_identity_token()) {
            // OAuth2 refresh-token grant, as Docker does with an identity token.
            let mut form = Url::parse("http://form.invalid/").expect("static URL");
            {
                let mut pairs = form.query_pairs_mut();
                pairs.append_pair("grant_type", "refresh_token");
                pairs.append_pair("client_id", "ship-tag-image");
                pairs.append_pair("refresh_token", &c.password);
                pairs.append_pair("scope", &scope);
                if let Some(s) = &service {
                    pairs.append_pair("service", s);
                }
            }
            let body = form.query().unwrap_or_default().to_string();
            self.http
                .post(url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        } else {
            {
                let mut pairs = url.query_pairs_mut();
                if let Some(s) = &service {
                    pairs.append_pair("service", s);
                }
                pairs.append_pair("scope", &scope);
            }
            let mut request = self.http.get(url.clone());
            if let Some(c) = credentials {
                request = request.header(AUTHORIZATION, c.basic_header());
            }
            request.send().await
        };
        let token_op = Op {
            doing: "requesting a token from",
            reference: realm,
        };
        let response = response.map_err(|e| self.transport_error(&token_op, &e))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let detail = error_detail(response).await;
            return Err(match credentials {
                None => self.no_credentials(op),
                Some(_) => RegistryError::new(
                    ErrorKind::Unauthorized,
                    &self.registry,
                    format!(
                        "registry {}'s token service {realm} refused the credentials for {scope} (HTTP {}: {detail})",
                        self.registry,
                        status.as_u16()
                    ),
                    format!("{} and that they may pull and push {}", self.credential_hint(), self.repository),
                ),
            });
        }
        if !status.is_success() {
            let detail = error_detail(response).await;
            return Err(RegistryError::new(
                if status.is_server_error() {
                    ErrorKind::Server
                } else {
                    ErrorKind::Rejected
                },
                &self.registry,
                format!(
                    "registry {}'s token service {realm} failed with HTTP {status} ({detail})",
                    self.registry
                ),
                "the registry's status, then re-run",
            ));
        }
        #[derive(serde::Deserialize)]
        struct TokenReply {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = read_limited(response, TOKEN_LIMIT)
            .await
            .map_err(|e| self.body_error(&token_op, e))?;
        let reply: TokenReply = serde_json::from_slice(&body).map_err(|e| {
            RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!("registry {}'s token service {realm} answered something other than a token: {e}", self.registry),
                "that the registry speaks the Docker token protocol",
            )
        })?;
        let token = reply.token.or(reply.access_token).filter(|t| !t.is_empty());
        if let Some(token) = &token {
            // A credential like the password: masked in every output of the process.
            ship_actions_runtime::secrets::register(token);
        }
        token.ok_or_else(|| {
            RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!(
                    "registry {}'s token service {realm} answered without a token",
                    self.registry
                ),
                "that the registry speaks the Docker token protocol",
            )
        })
    }

    fn no_credentials(&self, op: &Op<'_>) -> RegistryError {
        RegistryError::new(
            ErrorKind::Unauthorized,
            &self.registry,
            format!(
                "registry {} requires authentication for {} {} and no credentials were found",
                self.registry, op.doing, target(&self.repository, op.reference)
            ),
            format!(
                "REGISTRY_USERNAME/REGISTRY_PASSWORD (the action's registry-username/registry-password inputs) or `docker login {}` before this step",
                self.registry
            ),
        )
    }

    fn unauthorized(&self, op: &Op<'_>, detail: &str) -> RegistryError {
        if self.options.credentials.is_none() {
            return self.no_credentials(op);
        }
        RegistryError::new(
            ErrorKind::Unauthorized,
            &self.registry,
            format!(
                "registry {} refused the credentials (HTTP 401) when {} {}: {detail}",
                self.registry,
                op.doing,
                target(&self.repository, op.reference)
            ),
            format!(
                "{}: username, password or token, and their expiry",
                self.credential_hint()
            ),
        )
    }

    fn transport_error(&self, op: &Op<'_>, e: &reqwest::Error) -> RegistryError {
        let url = e
            .url()
            .map(|u| u.as_str().to_string())
            .unwrap_or_else(|| self.base.to_string());
        let what = if e.is_timeout() {
            format!("did not answer within {}s", self.options.timeout.as_secs())
        } else {
            // reqwest's own message repeats the URL; its causes say what happened.
            let cause = std::error::Error::source(e)
                .map(error_chain)
                .unwrap_or_else(|| e.to_string());
            format!("is unreachable ({cause})")
        };
        RegistryError::new(
            ErrorKind::Unreachable,
            &self.registry,
            format!(
                "registry {} {what} when {} {} at {url}",
                self.registry, op.doing, target(&self.repository, op.reference)
            ),
            "the image name, that the registry is up and reachable from this runner (DNS, proxy, firewall), \
             and its TLS certificate (a registry without TLS needs --insecure)",
        )
    }

    /// A body that could not be read: the transport failed part-way, or it is larger than
    /// this client reads, which names the URL and the limit.
    fn body_error(&self, op: &Op<'_>, e: BodyError) -> RegistryError {
        match e {
            BodyError::Transport(e) => self.transport_error(op, &e),
            BodyError::TooLarge {
                url,
                limit,
                declared,
            } => RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!(
                    "registry {} answered {} {} ({url}) with a body {}",
                    self.registry,
                    op.doing,
                    target(&self.repository, op.reference),
                    BodyError::over_limit(limit, declared)
                ),
                "that the image name points at an OCI distribution registry and not at a proxy or \
                 web server answering in its place (no image manifest, token reply or tag list \
                 page is that large)",
            ),
        }
    }

    /// Turns an unsuccessful response into an error naming the registry and what to check.
    async fn status_error(&self, op: &Op<'_>, response: Response) -> RegistryError {
        let status = response.status();
        let detail = error_detail(response).await;
        let target = target(&self.repository, op.reference);
        match status {
            StatusCode::UNAUTHORIZED => self.unauthorized(op, &detail),
            StatusCode::FORBIDDEN => RegistryError::new(
                ErrorKind::Forbidden,
                &self.registry,
                format!("registry {} denied {} {target} (HTTP 403: {detail})", self.registry, op.doing),
                format!(
                    "that {} may pull and push {} (on GitHub Actions with GHCR: `permissions: packages: write`)",
                    self.credential_hint(),
                    self.repository
                ),
            ),
            StatusCode::NOT_FOUND => RegistryError::new(
                ErrorKind::NotFound,
                &self.registry,
                format!("registry {} has no {target} (HTTP 404 when {}: {detail})", self.registry, op.doing),
                "the image name and that the source tag or digest was pushed there \
                 (the default source is sha-<first 7 characters of the commit>, pushed by the build)",
            ),
            s if s.is_server_error() => RegistryError::new(
                ErrorKind::Server,
                &self.registry,
                format!("registry {} failed with HTTP {s} when {} {target}: {detail}", self.registry, op.doing),
                "the registry's status and logs, then re-run",
            ),
            s => RegistryError::new(
                ErrorKind::Rejected,
                &self.registry,
                format!("registry {} rejected {} {target} with HTTP {s}: {detail}", self.registry, op.doing),
                "the registry's tag rules (immutability, retention) and that the manifest's blobs are in the repository",
            ),
        }
    }

    /// Reads a manifest by tag or digest, bytes unchanged.
    pub async fn get_manifest(&self, reference: &SourceRef) -> Result<Manifest, RegistryError> {
        let op = Op {
            doing: "reading manifest",
            reference: reference.as_str(),
        };
        let url = self.url(&format!("manifests/{}", reference.as_str()));
        let accept = MANIFEST_MEDIA_TYPES.join(", ");
        let response = self
            .send(&op, || self.http.get(url.clone()).header(ACCEPT, &accept))
            .await?;
        if !response.status().is_success() {
            return Err(self.status_error(&op, response).await);
        }
        let headers = response.headers().clone();
        let bytes = read_limited(response, MANIFEST_LIMIT)
            .await
            .map_err(|e| self.body_error(&op, e))?;
        self.manifest_from_response(&op, reference, &headers, bytes)
    }

    fn manifest_from_response(
        &self,
        op: &Op<'_>,
        reference: &SourceRef,
        headers: &HeaderMap,
        bytes: Vec<u8>,
    ) -> Result<Manifest, RegistryError> {
        let protocol = |what: String| {
            RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!(
                    "registry {} returned an unusable manifest for {}:{}: {what}",
                    self.registry, self.repository, op.reference
                ),
                "that the source is an image built by a current builder (docker buildx, buildah)",
            )
        };
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let manifest = Manifest::from_bytes(bytes, content_type).map_err(protocol)?;
        if let SourceRef::Digest(d) = reference {
            if &manifest.digest != d {
                return Err(protocol(format!(
                    "its content hashes to {}, not the requested digest",
                    manifest.digest
                )));
            }
        }
        if let Some(header) = header_digest(headers) {
            if header != manifest.digest {
                return Err(protocol(format!(
                    "Docker-Content-Digest says {header} but the bytes hash to {} (the registry converted the manifest)",
                    manifest.digest
                )));
            }
        }
        Ok(manifest)
    }

    /// The digest `tag` currently points at, or `None` when the tag does not exist.
    pub async fn tag_digest(&self, tag: &str) -> Result<Option<String>, RegistryError> {
        let op = Op {
            doing: "checking tag",
            reference: tag,
        };
        let url = self.url(&format!("manifests/{tag}"));
        let accept = MANIFEST_MEDIA_TYPES.join(", ");
        let response = self
            .send(&op, || self.http.head(url.clone()).header(ACCEPT, &accept))
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => match header_digest(response.headers()) {
                Some(d) => Ok(Some(d)),
                // Some registries omit the header on HEAD; the bytes tell.
                None => match self.get_manifest(&SourceRef::Tag(tag.to_string())).await {
                    Ok(m) => Ok(Some(m.digest)),
                    Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                },
            },
            _ => Err(self.status_error(&op, response).await),
        }
    }

    /// Every tag of the repository: `GET /v2/<name>/tags/list?n=…`, following the
    /// `Link: <…>; rel="next"` pages for at most [`ListLimits::max_pages`] pages.
    ///
    /// Next links must stay on the registry's own scheme, host and port: the request carries
    /// the registry's credentials, which another host must not receive.
    pub async fn list_tags(&self) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            // Some registries answer `null` for a repository without tags.
            tags: Option<Vec<String>>,
        }
        let op = Op {
            doing: "listing the tags of",
            reference: "",
        };
        let limits = self.options.list_limits;
        let mut url = self.url("tags/list");
        url.query_pairs_mut()
            .append_pair("n", &limits.page_size.to_string());
        let mut tags = Vec::new();
        for _ in 0..limits.max_pages {
            let response = self.send(&op, || self.http.get(url.clone())).await?;
            if !response.status().is_success() {
                let mut error = self.status_error(&op, response).await;
                if error.kind == ErrorKind::NotFound {
                    error.check = format!(
                        "the image name: the registry does not know the repository {} (the source was read from it, so its name or the credentials' scope may differ)",
                        self.repository
                    );
                }
                return Err(error);
            }
            let next = next_link(response.headers());
            let body = read_limited(response, TAG_LIST_LIMIT)
                .await
                .map_err(|e| self.body_error(&op, e))?;
            let page: TagList = serde_json::from_slice(&body).map_err(|e| {
                RegistryError::new(
                    ErrorKind::Protocol,
                    &self.registry,
                    format!(
                        "registry {} answered the tag list of {} with something other than {{\"tags\": [...]}}: {e}",
                        self.registry, self.repository
                    ),
                    "that the image name points at an OCI distribution registry",
                )
            })?;
            tags.extend(page.tags.unwrap_or_default());
            let Some(next) = next else {
                return Ok(tags);
            };
            url = self.next_page_url(&url, &next)?;
        }
        Err(limits.exceeded(&self.registry, &self.repository, tags.len()))
    }

    /// Resolves a `next` link against the page it came from, refusing another origin.
    fn next_page_url(&self, current: &Url, link: &str) -> Result<Url, RegistryError> {
        let next = current.join(link).ok().filter(|u| {
            u.scheme() == self.base.scheme()
                && u.host_str() == self.base.host_str()
                && u.port_or_known_default() == self.base.port_or_known_default()
        });
        next.ok_or_else(|| {
            RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!(
                    "registry {} linked the next page of {}'s tags to `{}`, which is not on {}; not followed, so credentials stay with the registry",
                    self.registry,
                    self.repository,
                    truncate(link),
                    self.base.as_str().trim_end_matches('/')
                ),
                "the registry's proxy or base URL configuration, or leave floating off",
            )
        })
    }

    /// Puts `manifest`'s bytes under `tag`. The registry must report the same digest.
    pub async fn put_manifest(
        &self,
        tag: &str,
        manifest: &Manifest,
    ) -> Result<PutOutcome, RegistryError> {
        let op = Op {
            doing: "tagging",
            reference: tag,
        };
        let url = self.url(&format!("manifests/{tag}"));
        let response = self
            .send(&op, || {
                self.http
                    .put(url.clone())
                    .header(CONTENT_TYPE, &manifest.media_type)
                    .body(manifest.bytes.clone())
            })
            .await?;
        if !response.status().is_success() {
            return Err(self.status_error(&op, response).await);
        }
        let digest = header_digest(response.headers()).unwrap_or_else(|| manifest.digest.clone());
        if digest != manifest.digest {
            return Err(RegistryError::new(
                ErrorKind::Protocol,
                &self.registry,
                format!(
                    "registry {} stored {}:{tag} under {digest}, not the source digest {}",
                    self.registry, self.repository, manifest.digest
                ),
                "the registry: it rewrote the manifest, so the tag now names a different image",
            ));
        }
        Ok(PutOutcome::Written(digest))
    }

    /// Uploads a blob (monolithic upload) unless the registry already has it; returns its
    /// digest. Used to push test images; the retag itself never moves blobs.
    pub async fn push_blob(&self, bytes: &[u8]) -> Result<String, RegistryError> {
        let digest = sha256_digest(bytes);
        let op = Op {
            doing: "uploading blob",
            reference: &digest,
        };
        let head_url = self.url(&format!("blobs/{digest}"));
        let response = self.send(&op, || self.http.head(head_url.clone())).await?;
        if response.status().is_success() {
            return Ok(digest);
        }
        let start_url = self.url("blobs/uploads/");
        let response = self
            .send(&op, || self.http.request(Method::POST, start_url.clone()))
            .await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.status_error(&op, response).await);
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| self.base.join(l).ok())
            .ok_or_else(|| {
                RegistryError::new(
                    ErrorKind::Protocol,
                    &self.registry,
                    format!(
                        "registry {} started an upload without a Location",
                        self.registry
                    ),
                    "that this is an OCI distribution registry",
                )
            })?;
        let mut put_url = location;
        put_url.query_pairs_mut().append_pair("digest", &digest);
        let response = self
            .send(&op, || {
                self.http
                    .put(put_url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.to_vec())
            })
            .await?;
        if !response.status().is_success() {
            return Err(self.status_error(&op, response).await);
        }
        Ok(digest)
    }
}

fn header_digest(headers: &HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|d| is_sha256_digest(d))
        .map(str::to_string)
}

/// The target of the `rel="next"` entry of a `Link` header (RFC 8288), as distribution
/// paginates tag lists: `</v2/api/tags/list?last=b&n=2>; rel="next"`.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|entry| {
            let (target, params) = entry.trim().strip_prefix('<')?.split_once('>')?;
            params
                .split(';')
                .filter_map(|p| p.trim().split_once('='))
                .any(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                })
                .then(|| target.trim().to_string())
        })
        .filter(|t| !t.is_empty())
}

/// The registry's explanation from an error response: the first `errors[]` entry of an OCI
/// error body (`MANIFEST_UNKNOWN: manifest unknown`), else the first line of the body.
async fn error_detail(response: Response) -> String {
    let body = read_prefix(response, ERROR_BODY_LIMIT).await;
    detail_from_body(&body)
}

fn detail_from_body(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<Errors>(body) {
        if let Some(first) = parsed.errors.first() {
            let text = match (first.code.is_empty(), first.message.is_empty()) {
                (false, false) => format!("{}: {}", first.code, first.message),
                (false, true) => first.code.clone(),
                _ => first.message.clone(),
            };
            // Masked before it is cut short: a cut secret would no longer match.
            let text = ship_actions_runtime::redact(&text).into_owned();
            if !text.is_empty() {
                return truncate(&text);
            }
        }
    }
    // A server may echo the request, Authorization header included: masked (in all its
    // forms, base64 too) before the line is cut short, when it still matches whole.
    let text = String::from_utf8_lossy(body);
    let text = ship_actions_runtime::redact(&text);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.is_empty() {
        "no details in the response".into()
    } else {
        truncate(line)
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 300;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/api:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://ghcr.io/token");
        assert_eq!(c.params["service"], "ghcr.io");
        assert_eq!(c.params["scope"], "repository:org/api:pull,push");
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], "Registry Realm");
        let c = parse_challenge(r#"Bearer realm=https://x/t, error="insufficient_scope""#).unwrap();
        assert_eq!(c.params["realm"], "https://x/t");
        assert_eq!(c.params["error"], "insufficient_scope");
        let c = parse_challenge(r#"Bearer realm="a\"b""#).unwrap();
        assert_eq!(c.params["realm"], "a\"b");
        assert!(parse_challenge("").is_none());
    }

    #[test]
    fn media_types() {
        let m = Manifest::from_bytes(
            br#"{"schemaVersion":2}"#.to_vec(),
            Some(&format!("{OCI_MANIFEST}; charset=utf-8")),
        )
        .unwrap();
        assert_eq!(m.media_type, OCI_MANIFEST);
        assert_eq!(m.digest, sha256_digest(br#"{"schemaVersion":2}"#));
        let m = Manifest::from_bytes(
            format!(r#"{{"mediaType":"{DOCKER_MANIFEST_LIST}"}}"#).into_bytes(),
            Some("application/json"),
        )
        .unwrap();
        assert_eq!(m.media_type, DOCKER_MANIFEST_LIST);
        assert!(m.is_index());
        let m = Manifest::from_bytes(br#"{"manifests":[]}"#.to_vec(), None).unwrap();
        assert_eq!(m.media_type, OCI_INDEX);
        let m = Manifest::from_bytes(br#"{"layers":[]}"#.to_vec(), None).unwrap();
        assert_eq!(m.media_type, OCI_MANIFEST);
        assert!(!m.is_index());
        assert!(Manifest::from_bytes(b"{}".to_vec(), None).is_err());
        assert!(Manifest::from_bytes(b"nope".to_vec(), None).is_err());
        let err = Manifest::from_bytes(
            b"{}".to_vec(),
            Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
        )
        .unwrap_err();
        assert!(err.contains("schema 1"), "{err}");
    }

    #[test]
    fn next_links() {
        let link = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append(LINK, v.parse().unwrap());
            }
            next_link(&headers)
        };
        assert_eq!(
            link(&[r#"</v2/api/tags/list?last=b&n=2>; rel="next""#]).as_deref(),
            Some("/v2/api/tags/list?last=b&n=2")
        );
        assert_eq!(
            link(&[r#"<https://r/v2/a/tags/list?last=x>; rel=next"#]).as_deref(),
            Some("https://r/v2/a/tags/list?last=x")
        );
        assert_eq!(
            link(&[r#"</first>; rel="first", </next>; rel="next""#]).as_deref(),
            Some("/next")
        );
        assert_eq!(
            link(&[r#"</prev>; rel="prev""#, r#"</n>; rel="next""#]).as_deref(),
            Some("/n")
        );
        assert_eq!(link(&[r#"</prev>; rel="prev""#]), None);
        assert_eq!(link(&[]), None);
        assert_eq!(link(&["garbage"]), None);
    }

    #[test]
    fn next_pages_stay_on_the_registry() {
        let repo = ImageRepo::parse("registry.example.com/api").unwrap();
        let client = RegistryClient::new(&repo, ClientOptions::default()).unwrap();
        let current = client.url("tags/list");
        assert_eq!(
            client
                .next_page_url(&current, "/v2/api/tags/list?last=b&n=2")
                .unwrap()
                .as_str(),
            "https://registry.example.com/v2/api/tags/list?last=b&n=2"
        );
        assert!(client
            .next_page_url(
                &current,
                "https://registry.example.com:443/v2/api/tags/list?last=c"
            )
            .is_ok());
        for elsewhere in [
            "https://evil.example/v2/api/tags/list",
            "http://registry.example.com/v2/api/tags/list",
            "https://registry.example.com:8443/v2/api/tags/list",
        ] {
            let err = client.next_page_url(&current, elsewhere).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Protocol);
            assert!(err.problem.contains("not followed"), "{err}");
        }
    }

    #[test]
    fn error_details() {
        assert_eq!(
            detail_from_body(br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(
            detail_from_body(b"\n  upstream exploded\nstack"),
            "upstream exploded"
        );
        assert_eq!(detail_from_body(b""), "no details in the response");
        assert!(detail_from_body("x".repeat(1000).as_bytes()).ends_with('…'));
    }
}
