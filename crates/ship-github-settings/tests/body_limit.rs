//! A server that answers the GitHub API with a body without end (or one declaring 2 GB): the
//! read stops at the limit with an error naming the URL and the limit, having taken at most a
//! few MiB off the wire.
#![cfg(feature = "fetch")]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ship_github_settings::fetch::{fetch_snapshot, FetchError, FetchOptions};

/// Serves every request with a JSON-looking body that never ends: chunked, or under a
/// `Content-Length` of `declared`. Counts the body bytes written.
fn endless_server(declared: Option<u64>) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                let length = match declared {
                    Some(n) => format!("Content-Length: {n}"),
                    None => "Transfer-Encoding: chunked".into(),
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let block = [b' '; 64 * 1024];
                loop {
                    let written = match declared {
                        Some(_) => stream.write_all(&block),
                        None => stream
                            .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                            .and_then(|_| stream.write_all(&block))
                            .and_then(|_| stream.write_all(b"\r\n")),
                    };
                    if written.is_err() {
                        return;
                    }
                    counter.fetch_add(block.len() as u64, Ordering::SeqCst);
                }
            });
        }
    });
    (url, sent)
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_and_huge_bodies_stop_at_the_limit() {
    for declared in [None, Some(2u64 << 30)] {
        let (url, sent) = endless_server(declared);
        let opts = FetchOptions {
            api_url: url.clone(),
            token: Some("ghp_not-a-real-token".into()),
            timeout: Duration::from_secs(60),
            max_rate_limit_wait: Duration::from_secs(1),
        };
        let err = fetch_snapshot(&opts, "acme/orders-api", "main")
            .await
            .expect_err("an endless body cannot be a snapshot");
        assert!(
            matches!(err, FetchError::TooLarge { .. }),
            "{declared:?}: {err}"
        );
        let text = err.to_string();
        for want in [
            format!("GET {url}/repos/acme/orders-api with a body over the 8 MiB limit"),
            "GITHUB_API_URL".to_string(),
        ] {
            assert!(
                text.contains(&want),
                "{declared:?}: missing `{want}` in: {text}"
            );
        }
        if let Some(n) = declared {
            assert!(text.contains(&format!("(Content-Length {n})")), "{text}");
        }
        assert!(!text.contains("ghp_"), "{text}");
        // What was read plus what the socket buffers held; reading it whole would be GBs.
        let sent = sent.load(Ordering::SeqCst);
        assert!(sent < 64 << 20, "{declared:?}: {sent} bytes were sent");
    }
}
