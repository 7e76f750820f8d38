//! A real HTTP service on 127.0.0.1 for the smoke tests to probe, with the misbehaviours a
//! rollout produces on demand: not listening yet, 503 before it is ready, the old version,
//! slow answers, a share of failures, a required header, and a small tenant → catalog →
//! order → dashboard API whose created ids the tests capture.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the service behaves.
#[derive(Clone, Default)]
pub struct Behaviour {
    /// Start listening only after this long (connections are refused until then).
    pub down_for: Duration,
    /// `/health` answers 503 to this many requests before it answers 200.
    pub unavailable_first: u64,
    /// What `/version` and the `X-App-Version` header report (default `v1.2.3`).
    pub version: Option<String>,
    /// How long `/slow` takes.
    pub slow: Duration,
    /// `/flaky` answers 500 to every n-th request (0: never).
    pub fail_every: u64,
    /// Every request must carry this header with this value, or gets 401.
    pub require_header: Option<(String, String)>,
}

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
}

#[derive(Default)]
struct Shop {
    next_id: u64,
    /// tenant → (item id → price)
    catalog: HashMap<String, HashMap<u64, f64>>,
    /// tenant → order ids
    orders: HashMap<String, Vec<String>>,
}

struct App {
    behaviour: Behaviour,
    health_calls: AtomicU64,
    flaky_calls: AtomicU64,
    shop: Mutex<Shop>,
}

type Shared = State<Arc<App>>;

impl TestServer {
    pub fn start(behaviour: Behaviour) -> TestServer {
        // Reserve a free port, then let the server bind it (late, if asked to).
        let reserved = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = reserved.local_addr().expect("local addr");
        let down_for = behaviour.down_for;
        let early = if down_for.is_zero() {
            reserved.set_nonblocking(true).expect("nonblocking");
            Some(reserved)
        } else {
            drop(reserved);
            None
        };
        let app = Arc::new(App {
            behaviour,
            health_calls: AtomicU64::new(0),
            flaky_calls: AtomicU64::new(0),
            shop: Mutex::new(Shop::default()),
        });
        let router = Router::new()
            .route("/health", get(health))
            .route("/version", get(version))
            .route("/slow", get(slow))
            .route("/flaky", get(flaky))
            .route("/broken-json", get(broken_json))
            .route("/v1/tenants", post(create_tenant))
            .route("/v1/tenants/{tenant}/catalog", post(create_item))
            .route("/v1/tenants/{tenant}/orders", post(place_order))
            .route("/v1/tenants/{tenant}/dashboard", get(dashboard))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&app),
                require_header,
            ))
            .with_state(app);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = match early {
                    Some(l) => tokio::net::TcpListener::from_std(l).expect("listener"),
                    None => {
                        tokio::time::sleep(down_for).await;
                        tokio::net::TcpListener::bind(addr)
                            .await
                            .expect("late bind")
                    }
                };
                axum::serve(listener, router).await.expect("serve");
            });
        });
        TestServer {
            url: format!("http://{addr}"),
            addr,
        }
    }
}

async fn require_header(
    State(app): Shared,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some((name, value)) = &app.behaviour.require_header {
        let ok = request
            .headers()
            .get(name.as_str())
            .is_some_and(|v| v.as_bytes() == value.as_bytes());
        if !ok {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": format!("missing or wrong {name}")})),
            )
                .into_response();
        }
    }
    next.run(request).await
}

fn served_version(app: &App) -> String {
    app.behaviour
        .version
        .clone()
        .unwrap_or_else(|| "v1.2.3".into())
}

fn with_version(app: &App, status: StatusCode, body: Value) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = served_version(app).parse() {
        headers.insert("x-app-version", v);
    }
    (status, headers, Json(body)).into_response()
}

async fn health(State(app): Shared) -> Response {
    let n = app.health_calls.fetch_add(1, Ordering::SeqCst);
    if n < app.behaviour.unavailable_first {
        return with_version(
            &app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "starting"}),
        );
    }
    with_version(&app, StatusCode::OK, json!({"status": "ok"}))
}

async fn version(State(app): Shared) -> Response {
    let v = served_version(&app);
    with_version(
        &app,
        StatusCode::OK,
        json!({"version": v, "build": {"version": v}}),
    )
}

async fn slow(State(app): Shared) -> Response {
    tokio::time::sleep(app.behaviour.slow).await;
    with_version(&app, StatusCode::OK, json!({"status": "ok"}))
}

async fn flaky(State(app): Shared) -> Response {
    let n = app.flaky_calls.fetch_add(1, Ordering::SeqCst) + 1;
    let every = app.behaviour.fail_every;
    if every > 0 && n % every == 0 {
        return with_version(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "injected failure"}),
        );
    }
    with_version(&app, StatusCode::OK, json!({"status": "ok"}))
}

/// JSON cut off half-way, as a crashing service or a dropped proxy connection leaves it.
async fn broken_json(State(app): Shared) -> Response {
    let body = format!(r#"{{"version": "{}", "build": {{"#, served_version(&app));
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

/// A service whose every answer is `200 OK` with a JSON body that never ends (chunked):
/// `{"version": "v1.2.3", "pad": "xxxx…`. Returns its URL and the count of body bytes
/// written, which shows how much the client took before it hung up.
pub fn endless_json() -> (String, Arc<AtomicU64>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line.trim().is_empty() {
                        break;
                    }
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                let start = r#"{"version": "v1.2.3", "pad": ""#;
                let chunk = |data: &[u8]| {
                    let mut c = format!("{:x}\r\n", data.len()).into_bytes();
                    c.extend_from_slice(data);
                    c.extend_from_slice(b"\r\n");
                    c
                };
                if stream.write_all(head.as_bytes()).is_err()
                    || stream.write_all(&chunk(start.as_bytes())).is_err()
                {
                    return;
                }
                let block = chunk(&[b'x'; 64 * 1024]);
                while stream.write_all(&block).is_ok() {
                    counter.fetch_add(64 * 1024, Ordering::SeqCst);
                }
            });
        }
    });
    (url, sent)
}

async fn create_tenant(State(app): Shared, Json(body): Json<Value>) -> Response {
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "name is required"})),
        )
            .into_response();
    };
    let mut shop = app.shop.lock().expect("lock");
    shop.next_id += 1;
    let id = format!("t-{}", shop.next_id);
    shop.catalog.insert(id.clone(), HashMap::new());
    shop.orders.insert(id.clone(), Vec::new());
    (
        StatusCode::CREATED,
        [("location", format!("/v1/tenants/{id}"))],
        Json(json!({"id": id, "name": name})),
    )
        .into_response()
}

async fn create_item(
    State(app): Shared,
    Path(tenant): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut shop = app.shop.lock().expect("lock");
    shop.next_id += 1;
    let id = shop.next_id;
    let price = body.get("price").and_then(Value::as_f64).unwrap_or(0.0);
    match shop.catalog.get_mut(&tenant) {
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such tenant"})),
        )
            .into_response(),
        Some(items) => {
            items.insert(id, price);
            (
                StatusCode::CREATED,
                Json(json!({"id": id, "sku": body.get("sku"), "price": price})),
            )
                .into_response()
        }
    }
}

async fn place_order(
    State(app): Shared,
    Path(tenant): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut shop = app.shop.lock().expect("lock");
    // The item id must arrive as the number the catalog returned, not as a string.
    let item = body.get("item_id").and_then(Value::as_u64);
    let quantity = body.get("quantity").and_then(Value::as_f64).unwrap_or(1.0);
    let price = item.and_then(|i| shop.catalog.get(&tenant)?.get(&i).copied());
    let Some(price) = price else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "unknown item", "got": body})),
        )
            .into_response();
    };
    shop.next_id += 1;
    let id = format!("o-{}", shop.next_id);
    shop.orders.entry(tenant).or_default().push(id.clone());
    (
        StatusCode::CREATED,
        Json(json!({"id": id, "status": "placed", "total": price * quantity})),
    )
        .into_response()
}

async fn dashboard(State(app): Shared, Path(tenant): Path<String>) -> Response {
    let shop = app.shop.lock().expect("lock");
    match shop.orders.get(&tenant) {
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such tenant"})),
        )
            .into_response(),
        Some(orders) => (
            StatusCode::OK,
            Json(json!({"tenant": tenant, "orders": orders.len(), "recent": orders})),
        )
            .into_response(),
    }
}
