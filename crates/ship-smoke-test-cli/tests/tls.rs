//! HTTPS services with the certificate problems deploys meet (a private CA, a self-signed
//! certificate, the wrong host name, an expired certificate): each failure names the cause and
//! the fix, and `--ca-cert` makes a private CA's service checkable.

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

struct TestCa {
    cert: Certificate,
    key: KeyPair,
}

impl TestCa {
    fn new() -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "ship test CA");
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    /// A leaf certificate for `names`, optionally already expired.
    fn issue(&self, names: &[&str], expired: bool) -> (Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert, key)
    }

    fn pem_file(&self, dir: &tempfile::TempDir) -> PathBuf {
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, self.cert.pem()).unwrap();
        path
    }
}

/// Serves `200 {"status":"ok"}` over TLS with `cert` on 127.0.0.1 until the test ends.
fn serve(cert: &Certificate, key: &KeyPair) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // Handshake failures are the point of most tests: the client reports them.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = vec![0; 4096];
                    let _ = tls.read(&mut buf).await;
                    let body = r#"{"status":"ok"}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
    });
    addr
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn smoke(url: &str, extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_ship-smoke-test"))
        .env_clear()
        .args(["--url", url, "--wait-timeout", "0"])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn url(addr: SocketAddr) -> String {
    format!("https://localhost:{}/health", addr.port())
}

#[test]
fn a_private_ca_is_trusted_with_ca_cert() {
    let ca = TestCa::new();
    let (cert, key) = ca.issue(&["localhost"], false);
    let addr = serve(&cert, &key);
    let dir = tempfile::tempdir().unwrap();

    let r = smoke(&url(addr), &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("its certificate is not signed by a trusted authority")
            && r.stdout.contains("pass the CA's PEM file with `ca-cert`"),
        "{}",
        r.stdout
    );

    let ca_file = ca.pem_file(&dir);
    let r = smoke(&url(addr), &["--ca-cert", ca_file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn a_self_signed_certificate_is_untrusted() {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let addr = serve(&cert, &key);
    let r = smoke(&url(addr), &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "TLS handshake with localhost:{} failed: its certificate is not signed by a trusted authority",
            addr.port()
        )),
        "{}",
        r.stdout
    );
}

/// Checks a service whose certificate the test CA issued for `names` (and trusts the CA).
fn check_ca_issued(names: &[&str], expired: bool) -> Run {
    let ca = TestCa::new();
    let (cert, key) = ca.issue(names, expired);
    let addr = serve(&cert, &key);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.pem_file(&dir);
    smoke(&url(addr), &["--ca-cert", ca_file.to_str().unwrap()])
}

#[test]
fn a_certificate_for_another_name_says_so() {
    let r = check_ca_issued(&["api.internal.example"], false);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("its certificate is not valid for `localhost`; check the host name"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_expired_certificate_says_renew_it() {
    let r = check_ca_issued(&["localhost"], true);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("its certificate has expired; renew it"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_bad_ca_cert_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let r = smoke(
        "https://localhost:1/health",
        &["--ca-cert", missing.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("cannot read --ca-cert") && r.stderr.contains("missing.pem"),
        "{}",
        r.stderr
    );

    let not_pem = dir.path().join("ca.der");
    std::fs::write(&not_pem, [0x30, 0x82, 0x01, 0x0a]).unwrap();
    let r = smoke(
        "https://localhost:1/health",
        &["--ca-cert", not_pem.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("holds no PEM certificate"),
        "{}",
        r.stderr
    );
}
