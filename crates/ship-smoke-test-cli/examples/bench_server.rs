//! A minimal, fast HTTP service for `bench/smoke-watch-bench.sh`: `GET /health` answers a
//! small JSON document. Single-threaded on purpose: the script pins it to its own core, so
//! the client under test, not the server, is what runs out of CPU.
//!
//! Prints `listening on 127.0.0.1:PORT` once it accepts connections.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::io::Write;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", listener.local_addr()?)?;
        out.flush()?;
        drop(out);
        let app = Router::new().route(
            "/health",
            get(|| async { Json(json!({"status": "ok", "version": "v1.2.3"})) }),
        );
        axum::serve(listener, app).await
    })
}
