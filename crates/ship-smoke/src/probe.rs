//! Sending one check's request and judging the response; turning transport errors (DNS, TLS,
//! refused connections, timeouts) into sentences a deploy engineer can act on.

use crate::assert::{evaluate, Response};
use crate::spec::{join_url, Body, CaptureSource, Check, Plan};
use crate::template::{render_json, Vars};
use serde_json::Value;
use std::error::Error as _;
use std::time::{Duration, Instant};

/// Bodies are read up to this size; a smoke test never needs more, and a runaway response
/// must not eat the runner's memory. Reading stops there (the rest is never taken off the
/// wire); a check that needs the body then fails saying so, naming the URL and the limit.
pub const MAX_BODY: usize = 1 << 20;

/// [`MAX_BODY`] for messages.
pub const MAX_BODY_TEXT: &str = "1 MiB";

/// The outcome of one request.
#[derive(Debug, Clone)]
pub struct Probe {
    /// `GET https://…/orders/42`, secrets replaced by `***`.
    pub request: String,
    pub status: Option<u16>,
    pub latency: Duration,
    /// Why the check failed, one sentence each (secrets replaced); empty when it passed.
    pub failures: Vec<String>,
    /// The JSON body, kept when asked for (captures, version).
    pub json: Option<Value>,
    /// Why `json` is `None` although it was asked for: the body is empty, not JSON, or over
    /// [`MAX_BODY`] (one sentence, naming the request). `None` when there is JSON or no
    /// response.
    pub json_problem: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Probe {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The HTTP client every probe uses: one connection pool, no redirects followed (a check sees
/// the status the service really sent), rustls trusting the system's roots plus `extra_roots`
/// (a private CA given with `ca-cert`).
pub fn client(
    timeout: Duration,
    extra_roots: &[reqwest::Certificate],
) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .tls_certs_merge(extra_roots.iter().cloned())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ship-smoke-test/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(512)
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// Reads a PEM bundle of CA certificates (`ca-cert`) that the probes trust besides the
/// system's roots. `label` names the file in messages.
pub fn load_ca_bundle(label: &str, pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let not_pem = || {
        format!(
            "`{label}` holds no PEM certificate; `ca-cert` takes the CA's certificate(s) as PEM text (-----BEGIN CERTIFICATE-----)"
        )
    };
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(not_pem());
    }
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("`{label}` is not a valid PEM certificate bundle ({e}); export the CA certificate as PEM"))?;
    if certs.is_empty() {
        return Err(not_pem());
    }
    Ok(certs)
}

/// Sends `check` with `vars` filled in and judges the response. `keep_json`: parse and keep
/// the JSON body even when no expectation needs it.
pub async fn probe(
    http: &reqwest::Client,
    plan: &Plan,
    check: &Check,
    vars: &Vars,
    keep_json: bool,
) -> Probe {
    let url = join_url(&plan.base_url, &check.path.render(vars));
    let request = plan
        .secrets
        .redact(&format!("{} {url}", check.method.as_str()));
    let fail = |latency: Duration, message: String| Probe {
        request: request.clone(),
        status: None,
        latency,
        failures: vec![plan.secrets.redact(&message)],
        json: None,
        json_problem: None,
        headers: reqwest::header::HeaderMap::new(),
    };
    let parsed = match reqwest::Url::parse(&url) {
        Ok(u) => u,
        Err(e) => {
            return fail(
                Duration::ZERO,
                format!("`{url}` is not a valid URL ({e}); check the base URL and the path"),
            )
        }
    };
    let method = reqwest::Method::from_bytes(check.method.as_str().as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let mut builder = http.request(method, parsed.clone());
    for (name, value) in plan.headers.iter().chain(&check.headers) {
        builder = builder.header(name.as_str(), value.render(vars));
    }
    builder = match &check.body {
        Body::None => builder,
        Body::Json(json) => builder.json(&render_json(json, vars)),
        Body::Text(t) => {
            let has_type = check
                .headers
                .iter()
                .chain(&plan.headers)
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
            let b = builder.body(t.render(vars));
            if has_type {
                b
            } else {
                b.header("content-type", "text/plain; charset=utf-8")
            }
        }
    };
    let start = Instant::now();
    let mut response = match builder.send().await {
        Ok(r) => r,
        Err(e) => return fail(start.elapsed(), describe_error(&e, &parsed, plan.timeout)),
    };
    let status = response.status().as_u16();
    let mut body = Vec::new();
    // Whether the body goes on past MAX_BODY: only its first MAX_BODY bytes are kept.
    let mut over_limit = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.len() > room {
                    over_limit = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let mut p = fail(
                    start.elapsed(),
                    format!(
                        "status {status}, but reading the body failed: {}",
                        describe_error(&e, &parsed, plan.timeout)
                    ),
                );
                p.status = Some(status);
                return p;
            }
        }
    }
    let latency = start.elapsed();
    let headers = std::mem::take(response.headers_mut());
    let wants_json = keep_json || !check.expect.json.is_empty() || !check.captures.is_empty();
    let over_limit_note = over_limit.then(|| {
        format!("the body of {request} is over the {MAX_BODY_TEXT} limit; reading stopped there")
    });
    let (json, json_problem) = if !wants_json {
        (None, None)
    } else if let Some(note) = &over_limit_note {
        (None, Some(note.clone()))
    } else if body.iter().all(u8::is_ascii_whitespace) {
        (None, Some(format!("the body of {request} is empty")))
    } else if !looks_like_json(&body) {
        (
            None,
            Some(format!(
                "the body of {request} is not JSON{}",
                crate::assert::excerpt_suffix(&body)
            )),
        )
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => (Some(v), None),
            Err(e) => (
                None,
                Some(format!(
                    "the body of {request} is not valid JSON ({e}){}",
                    crate::assert::excerpt_suffix(&body)
                )),
            ),
        }
    };
    let mut failures = evaluate(
        &check.expect,
        &Response {
            status,
            headers: &headers,
            body: &body,
            json: json.as_ref(),
            over_limit: over_limit_note.as_deref(),
            latency,
        },
        vars,
    );
    if failures.is_empty() {
        for cap in &check.captures {
            if capture(cap, json.as_ref(), &headers).is_none() {
                failures.push(match &cap.from {
                    CaptureSource::Json(_) if over_limit_note.is_some() => format!(
                        "cannot capture `{}`: {}",
                        cap.name,
                        over_limit_note.as_deref().unwrap_or_default()
                    ),
                    CaptureSource::Json(p) => format!(
                        "cannot capture `{}`: the response has no `{p}`{}",
                        cap.name,
                        crate::assert::excerpt_suffix(&body)
                    ),
                    CaptureSource::Header(h) => {
                        format!(
                            "cannot capture `{}`: the response has no `{h}` header",
                            cap.name
                        )
                    }
                });
            }
        }
    }
    Probe {
        request,
        status: Some(status),
        latency,
        failures: failures
            .into_iter()
            .map(|f| plan.secrets.redact(&f))
            .collect(),
        json,
        json_problem: json_problem.map(|p| plan.secrets.redact(&p)),
        headers,
    }
}

/// The value `cap` takes from a response.
pub fn capture(
    cap: &crate::spec::Capture,
    json: Option<&Value>,
    headers: &reqwest::header::HeaderMap,
) -> Option<Value> {
    match &cap.from {
        CaptureSource::Json(path) => path.lookup(json?).filter(|v| !v.is_null()).cloned(),
        CaptureSource::Header(name) => headers
            .get(name.as_str())
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())),
    }
}

fn looks_like_json(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| {
            matches!(b, b'{' | b'[' | b'"')
                || b.is_ascii_digit()
                || *b == b'-'
                || *b == b't'
                || *b == b'f'
                || *b == b'n'
        })
}

/// What went wrong below HTTP, said so that the fix is obvious.
pub fn describe_error(err: &reqwest::Error, url: &reqwest::Url, timeout: Duration) -> String {
    let host = url.host_str().unwrap_or("?");
    let port = url.port_or_known_default().unwrap_or(0);
    let target = format!("{host}:{port}");
    if err.is_timeout() {
        return format!(
            "no response from {target} within {} (the request timeout); the service may be overloaded or a firewall/security group may drop the traffic",
            crate::format_duration(timeout)
        );
    }
    // Walk the cause chain for the errors that have a known remedy.
    let mut chain = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(s) = source {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return describe_tls(tls, &target, url);
        }
        if let Some(outer) = s.downcast_ref::<std::io::Error>() {
            // hyper-rustls nests io::Errors; the rustls error (if any) is the innermost.
            let mut io = outer;
            while let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return describe_tls(tls, &target, url);
                }
                match inner.downcast_ref::<std::io::Error>() {
                    Some(next) => io = next,
                    None => break,
                }
            }
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return format!(
                        "connection refused by {target}: nothing is listening there (the service is down, still starting, or the port is wrong)"
                    )
                }
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof => {
                    if url.scheme() == "https" && io.kind() == std::io::ErrorKind::UnexpectedEof {
                        return format!(
                            "the connection to {target} closed before the TLS handshake finished; check that this port serves HTTPS (or the service is restarting)"
                        );
                    }
                    return format!(
                        "{target} closed the connection before answering ({io}); the service may be restarting or a load balancer may have no healthy target"
                    );
                }
                _ => {}
            }
        }
        chain.push(s.to_string());
        source = s.source();
    }
    let mentions = |needle: &str| {
        chain
            .iter()
            .any(|c| c.to_ascii_lowercase().contains(needle))
    };
    if mentions("dns error") || mentions("failed to lookup address") {
        let why = chain.last().cloned().unwrap_or_default();
        return format!(
            "DNS lookup of `{host}` failed ({why}): the name does not resolve; check the host name in the URL (a record for a new service may not exist yet)"
        );
    }
    let detail = if chain.is_empty() {
        err.to_string()
    } else {
        chain.join(": ")
    };
    if err.is_connect() {
        format!("cannot connect to {target}: {detail}")
    } else {
        format!("request to {target} failed: {detail}")
    }
}

fn describe_tls(tls: &rustls::Error, target: &str, url: &reqwest::Url) -> String {
    use rustls::{CertificateError, Error, InvalidMessage};
    match tls {
        Error::InvalidMessage(InvalidMessage::InvalidContentType)
        | Error::InvalidMessage(InvalidMessage::UnexpectedMessage(_)) => format!(
            "TLS handshake with {target} failed: the server did not answer with TLS (it probably speaks plain HTTP on this port); use `http://{}` or point `https://` at the TLS port",
            url.host_str().unwrap_or("?")
        ),
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "TLS handshake with {target} failed: its certificate is not signed by a trusted authority (self-signed or a private CA); pass the CA's PEM file with `ca-cert`, or give the service a publicly trusted certificate"
        ),
        Error::InvalidCertificate(CertificateError::NotValidForName)
        | Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => format!(
            "TLS handshake with {target} failed: its certificate is not valid for `{}`; check the host name or the certificate's names",
            url.host_str().unwrap_or("?")
        ),
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => format!(
            "TLS handshake with {target} failed: its certificate has expired; renew it"
        ),
        other => format!("TLS handshake with {target} failed: {other}"),
    }
}
