//! A faithful fake of the Apprise API (see `shared/APPRISE.md`), for tests. So far it serves
//! the stateless `POST /notify/` used for system mail and `GET /status`; it records what it
//! delivered to which URL and can be told that targets are down.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// One message the fake delivered.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub url: String,
    pub title: String,
    pub body: String,
}

#[derive(Default)]
struct Inner {
    delivered: Vec<Delivered>,
    down: HashSet<String>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeApprise {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

const SCHEMES: &[&str] =
    &["mailto", "mailtos", "json", "ntfy", "ntfys", "tgram", "discord", "slack", "gotify", "gotifys"];

impl FakeApprise {
    /// Starts the fake on a random local port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/status", get(|| async { "OK" }))
            .route("/notify/", post(notify_stateless))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base: format!("http://{addr}"), inner }
    }

    /// Everything delivered so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.inner.lock().unwrap().delivered.clone()
    }

    /// Messages delivered to a `mailto(s)://` URL with `to=address`.
    pub fn mail_to(&self, address: &str) -> Vec<Delivered> {
        self.delivered()
            .into_iter()
            .filter(|d| {
                url::Url::parse(&d.url).ok().is_some_and(|u| {
                    u.query_pairs().any(|(k, v)| k == "to" && v.eq_ignore_ascii_case(address))
                })
            })
            .collect()
    }

    /// Makes deliveries to URLs starting with `prefix` fail (the target is down).
    pub fn set_down(&self, prefix: &str, down: bool) {
        let mut inner = self.inner.lock().unwrap();
        if down {
            inner.down.insert(prefix.to_owned());
        } else {
            inner.down.remove(prefix);
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// `POST /notify/` with `{"urls": [...], "title", "body"}`, as APPRISE.md describes it.
async fn notify_stateless(State(inner): State<Arc<Mutex<Inner>>>, body: Bytes) -> Response {
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON specified");
    };
    let urls: Vec<String> = match payload.get("urls") {
        Some(Value::Array(list)) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) => s.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        _ => vec![],
    };
    let valid: Vec<String> = urls
        .into_iter()
        .filter(|u| {
            u.split_once("://").is_some_and(|(scheme, rest)| SCHEMES.contains(&scheme) && !rest.is_empty())
        })
        .collect();
    // Missing or invalid `urls`: 204 with an empty body.
    if valid.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let text = |k: &str| payload.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (title, message) = (text("title"), text("body"));
    if message.is_empty() {
        return error(StatusCode::BAD_REQUEST, "Payload lacks minimum requirements");
    }
    let mut inner = inner.lock().unwrap();
    let mut failed = false;
    for url in valid {
        if inner.down.iter().any(|p| url.starts_with(p.as_str())) {
            failed = true;
        } else {
            inner.delivered.push(Delivered { url, title: title.clone(), body: message.clone() });
        }
    }
    if failed {
        (
            StatusCode::FAILED_DEPENDENCY,
            Json(json!({ "error": "One or more notification could not be sent", "details": [] })),
        )
            .into_response()
    } else {
        (StatusCode::OK, Json(json!({ "error": null, "details": [] }))).into_response()
    }
}
