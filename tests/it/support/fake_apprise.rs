//! A faithful fake of the Apprise API (see `shared/APPRISE.md`), for tests.
//!
//! It serves the stateful calls (`/add`, `/get`, `/del`, `/json/urls`, `/notify/{key}` with the
//! full tag rules), the stateless `POST /notify/` used for system mail, and `GET /status`, with
//! the same status codes and bodies as Apprise API 1.5.x. It records what it delivered to which
//! URL and every request it answered, and can be told that targets are down, that its configs
//! are locked (`APPRISE_CONFIG_LOCK`: `/add`, `/get` and `/del` answer 403 while both notifies
//! work), that it fails (500s) or that it refuses connections.
//!
//! `details` of `/notify` are Apprise's log lines `[LEVEL, TIME, MESSAGE]`, written the way
//! Apprise writes them: `INFO "Sent … notification."` per target that accepted the message and
//! `WARNING "A Connection error occurred sending … notification."` per target that failed.
//!
//! A `json://` target on the loopback address (`json://127.0.0.1:PORT/path`) is really POSTed
//! in Apprise's JSON format, so a test can run its own sink; every other target is "delivered"
//! by recording it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// One message the fake delivered.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The target URL, as stored (secrets included).
    pub url: String,
    /// The title (may be empty).
    pub title: String,
    /// The body.
    pub body: String,
    /// `info`, `success`, `warning` or `failure`.
    pub kind: String,
    /// `text`, `markdown` or `html`.
    pub format: String,
    /// The config key it was sent through; `None` for stateless sending.
    pub key: Option<String>,
    /// Files sent with it (a multipart notify's `attach` parts).
    pub attachments: Vec<Attached>,
    /// When the fake delivered it.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct Attached {
    /// Its file name (`invite.ics`).
    pub name: String,
    /// Its media type as sent.
    pub mime: String,
    /// Its content.
    pub content: Vec<u8>,
}

impl Attached {
    /// The content as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.content).into_owned()
    }
}

#[derive(Debug, Clone)]
struct Stored {
    format: String,
    config: String,
}

#[derive(Default)]
struct Inner {
    delivered: Vec<Delivered>,
    down: HashSet<String>,
    configs: HashMap<String, Stored>,
    locked: bool,
    failing: bool,
    requests: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    http: reqwest::Client,
}

/// The front door: a TCP relay on the public port that can be closed (connections refused)
/// and opened again on the same port.
struct Gate {
    public: SocketAddr,
    internal: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeApprise {
    /// `http://127.0.0.1:PORT`, the value for `HERALD_APPRISE_URL`.
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    gate: Arc<Gate>,
}

/// The schemes the fake accepts as notification URLs (Apprise knows 100+; these cover Herald's
/// guided services and what tests use).
const SCHEMES: &[&str] = &[
    "mailto", "mailtos", "json", "jsons", "form", "forms", "xml", "xmls", "ntfy", "ntfys", "tgram",
    "discord", "slack", "gotify", "gotifys", "twilio", "pover", "matrix", "matrixs", "msteams", "signal",
    "signals", "apprise", "apprises", "rocket", "rockets", "mmost", "mmosts", "pbul", "join", "ses", "sns",
    "whatsapp",
];

const LOCKED: &str = "The site has been configured to deny this request";
const FAILED: &str = "One or more notification could not be sent";

impl FakeApprise {
    /// Starts the fake on a random local port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(4)).build().unwrap();
        let shared = Shared { inner: inner.clone(), http };
        let app = Router::new()
            .route("/status", get(status))
            .route("/add/{key}", post(add))
            .route("/get/{key}", post(get_config))
            .route("/del/{key}", post(del))
            .route("/json/urls/{key}", get(json_urls))
            .route("/notify/", post(notify_stateless))
            .route("/notify/{key}", post(notify))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), failing))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), record_request))
            .with_state(shared);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let internal = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let public_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let public = public_listener.local_addr().unwrap();
        let gate = Arc::new(Gate {
            public,
            internal,
            accept: Mutex::new(None),
            connections: Arc::new(Mutex::new(Vec::new())),
        });
        gate.open(public_listener);
        Self { base: format!("http://{public}"), inner, gate }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Everything delivered so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.lock().delivered.clone()
    }

    /// Messages delivered to URLs starting with `url_prefix`.
    pub fn delivered_to(&self, url_prefix: &str) -> Vec<Delivered> {
        self.delivered().into_iter().filter(|d| d.url.starts_with(url_prefix)).collect()
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
        let mut inner = self.lock();
        if down {
            inner.down.insert(prefix.to_owned());
        } else {
            inner.down.remove(prefix);
        }
    }

    /// The config text stored under `key`, if any.
    pub fn stored_config(&self, key: &str) -> Option<String> {
        self.lock().configs.get(key).map(|s| s.config.clone())
    }

    /// Every stored key, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.lock().configs.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// Stores `config` (text format) under `key` directly, as if it had been added.
    pub fn put_config(&self, key: &str, config: &str) {
        self.lock().configs.insert(key.to_owned(), Stored { format: "text".into(), config: config.into() });
    }

    /// Loses the config under `key`, as an Apprise API whose storage was wiped does.
    pub fn forget(&self, key: &str) {
        self.lock().configs.remove(key);
    }

    /// `APPRISE_CONFIG_LOCK=yes`: `/add`, `/get` and `/del` answer 403; `/notify` still works.
    pub fn set_locked(&self, locked: bool) {
        self.lock().locked = locked;
    }

    /// Every request so far, as `METHOD /path` (the path holds the config key, if any).
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// The requests that store, read or delete configs (`/add`, `/get`, `/del`, `/json/urls`).
    pub fn config_requests(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| {
                let path = r.split_once(' ').map_or("", |(_, p)| p);
                ["/add/", "/get/", "/del/", "/json/urls/"].iter().any(|p| path.starts_with(p))
            })
            .collect()
    }

    /// Makes every endpoint answer 500.
    pub fn set_failing(&self, failing: bool) {
        self.lock().failing = failing;
    }

    /// Refuses connections (the Apprise API is down), or accepts them again on the same port.
    pub async fn set_refusing(&self, refusing: bool) {
        if refusing {
            self.gate.close().await;
        } else {
            let listener = TcpListener::bind(self.gate.public).await.unwrap();
            self.gate.open(listener);
        }
    }
}

impl Gate {
    fn open(&self, listener: TcpListener) {
        let internal = self.internal;
        let connections = self.connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(internal).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut open = connections.lock().unwrap();
                open.retain(|c| !c.is_finished());
                open.push(relay.abort_handle());
            }
        });
        if let Some(old) = self.accept.lock().unwrap().replace(task) {
            old.abort();
        }
    }

    async fn close(&self) {
        let task = self.accept.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            // Once the task is gone, so is its listener: connections are refused from here on.
            let _ = task.await;
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn not_found_page() -> Response {
    (StatusCode::NOT_FOUND, Html("<!doctype html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"))
        .into_response()
}

/// Keys the Apprise API accepts (Herald's subset: `[A-Za-z0-9_-]{1,128}`); others get a 404 page.
fn valid_key(key: &str) -> bool {
    (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

async fn record_request(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let line = format!("{} {}", request.method(), request.uri().path());
    shared.inner.lock().unwrap().requests.push(line);
    next.run(request).await
}

async fn failing(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    if shared.inner.lock().unwrap().failing {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "An error occurred accessing configuration");
    }
    next.run(request).await
}

async fn status(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let locked = shared.inner.lock().unwrap().locked;
        Json(json!({
            "config_lock": locked,
            "attach_lock": false,
            "status": {"persistent_storage": true, "can_write_config": !locked, "can_write_attach": true, "details": ["OK"]},
        }))
        .into_response()
    } else {
        "OK".into_response()
    }
}

/// `POST /add/{key}` with `{"config", "format"}` or `{"urls"}` (whose tags are dropped).
async fn add(State(shared): State<Shared>, Path(key): Path<String>, body: Bytes) -> Response {
    if !valid_key(&key) {
        return not_found_page();
    }
    if shared.inner.lock().unwrap().locked {
        return error(StatusCode::FORBIDDEN, LOCKED);
    }
    let Ok(content) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON Payload provided");
    };
    if !truthy(&content) || !content.is_object() {
        return error(StatusCode::BAD_REQUEST, "Invalid payload structure provided");
    }
    let stored = if let Some(urls) = content.get("urls") {
        let valid: Vec<String> = url_list(urls).into_iter().filter(|u| valid_url(u)).collect();
        if valid.is_empty() {
            return error(StatusCode::BAD_REQUEST, "No valid URLs defined");
        }
        Stored { format: "text".into(), config: valid.join("\r\n") }
    } else if let Some(config) = content.get("config") {
        let config = config.as_str().unwrap_or_default().to_owned();
        let format = content.get("format").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        match format.as_str() {
            "text" | "auto" => {}
            "yaml" => return error(StatusCode::BAD_REQUEST, "the fake Apprise API stores text configs only"),
            _ => return error(StatusCode::BAD_REQUEST, "Invalid configuration format specified"),
        }
        if parse_config(&config).is_empty() {
            return error(StatusCode::BAD_REQUEST, "No valid URL(s) defined");
        }
        Stored { format: "text".into(), config }
    } else {
        return error(StatusCode::BAD_REQUEST, "No configuration provided");
    };
    shared.inner.lock().unwrap().configs.insert(key, stored);
    (StatusCode::OK, Json(json!({ "error": null }))).into_response()
}

/// `POST /get/{key}`: the stored config, or 204.
async fn get_config(State(shared): State<Shared>, Path(key): Path<String>) -> Response {
    if !valid_key(&key) {
        return not_found_page();
    }
    let inner = shared.inner.lock().unwrap();
    if inner.locked {
        return error(StatusCode::FORBIDDEN, LOCKED);
    }
    match inner.configs.get(&key) {
        Some(stored) => Json(json!({ "format": stored.format, "config": stored.config })).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// `POST /del/{key}`: 200, or 204 when already gone.
async fn del(State(shared): State<Shared>, Path(key): Path<String>) -> Response {
    if !valid_key(&key) {
        return not_found_page();
    }
    let mut inner = shared.inner.lock().unwrap();
    if inner.locked {
        return error(StatusCode::FORBIDDEN, LOCKED);
    }
    match inner.configs.remove(&key) {
        Some(_) => (StatusCode::OK, Json(json!({ "error": null }))).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// `GET /json/urls/{key}?privacy=1`: the URLs and their tags; secrets masked with `privacy`
/// (always, when locked).
async fn json_urls(
    State(shared): State<Shared>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !valid_key(&key) {
        return not_found_page();
    }
    let inner = shared.inner.lock().unwrap();
    let privacy = inner.locked
        || query
            .get("privacy")
            .and_then(|p| p.chars().next())
            .is_some_and(|c| "ay1te+".contains(c.to_ascii_lowercase()));
    let Some(stored) = inner.configs.get(&key) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let servers = parse_config(&stored.config);
    let mut all_tags = BTreeSet::new();
    let urls: Vec<Value> = servers
        .iter()
        .map(|s| {
            let tags: BTreeSet<String> = s.tags.iter().cloned().collect();
            all_tags.extend(tags.iter().cloned());
            json!({
                "id": url_id(&s.url),
                "service_name": service_name(&s.url),
                "enabled": true,
                "url": if privacy { redact(&s.url) } else { s.url.clone() },
                "tags": tags,
            })
        })
        .collect();
    Json(json!({ "tags": all_tags, "urls": urls })).into_response()
}

/// `POST /notify/{key}` with `{"title", "body", "type", "format", "tag"}`.
async fn notify(State(shared): State<Shared>, Path(key): Path<String>, body: Bytes) -> Response {
    if !valid_key(&key) {
        return not_found_page();
    }
    let content = match notify_payload(&body) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let raw_tag = content.get("tag").filter(|t| truthy(t)).or_else(|| content.get("tags"));
    let Ok(query) = TagQuery::parse(raw_tag) else {
        return error(StatusCode::BAD_REQUEST, "Unsupported characters found in tag definition");
    };
    let message = match Message::from_payload(&content, Some(key.clone())) {
        Ok(m) => m,
        Err(response) => return response,
    };
    let servers = {
        let inner = shared.inner.lock().unwrap();
        match inner.configs.get(&key) {
            Some(stored) => parse_config(&stored.config),
            None => return StatusCode::NO_CONTENT.into_response(),
        }
    };
    let targets: Vec<String> =
        servers.into_iter().filter(|s| query.matches(&s.tags)).map(|s| s.url).collect();
    deliver(&shared, targets, &message).await
}

/// `POST /notify/` with `{"urls": [...], "title", "body"}`, as APPRISE.md describes it, or the
/// same fields as a multipart form whose `attach` parts are files sent with the message.
async fn notify_stateless(State(shared): State<Shared>, request: Request) -> Response {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (content, attachments) = if is_form {
        match form_payload(request).await {
            Ok(parsed) => parsed,
            Err(response) => return response,
        }
    } else {
        let Ok(body) = axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024).await else {
            return error(StatusCode::BAD_REQUEST, "Bad FORM Payload provided");
        };
        match notify_payload(&body) {
            Ok(c) => (c, Vec::new()),
            Err(response) => return response,
        }
    };
    let mut message = match Message::from_payload(&content, None) {
        Ok(m) => m,
        Err(response) => return response,
    };
    message.attachments = attachments;
    let urls = content.get("urls").map(url_list).unwrap_or_default();
    let valid: Vec<String> = urls.into_iter().filter(|u| valid_url(u)).collect();
    // Missing or invalid `urls`: 204 with an empty body.
    if valid.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    deliver(&shared, valid, &message).await
}

/// A multipart notify: its text fields as a payload (`urls` one string, split at commas and
/// spaces as the Apprise API does) and its `attach` files.
#[allow(clippy::result_large_err)]
async fn form_payload(request: Request) -> Result<(serde_json::Map<String, Value>, Vec<Attached>), Response> {
    let bad = || error(StatusCode::BAD_REQUEST, "Bad FORM Payload provided");
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(bad)?;
    let mut form = multer::Multipart::new(request.into_body().into_data_stream(), boundary);
    let mut content = serde_json::Map::new();
    let mut attachments = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "attach" {
            let file = field.file_name().unwrap_or("attachment").to_owned();
            let mime = field.content_type().map(ToString::to_string).unwrap_or_default();
            let bytes = field.bytes().await.map_err(|_| bad())?;
            attachments.push(Attached { name: file, mime, content: bytes.to_vec() });
        } else {
            let text = field.text().await.map_err(|_| bad())?;
            let value = if name == "urls" {
                let urls: Vec<&str> =
                    text.split(|c: char| c.is_whitespace() || c == ',').filter(|u| !u.is_empty()).collect();
                Value::from(urls)
            } else {
                Value::from(text)
            };
            content.insert(name, value);
        }
    }
    Ok((content, attachments))
}

/// The JSON object of a notify, or the 400 the Apprise API gives.
#[allow(clippy::result_large_err)]
fn notify_payload(body: &[u8]) -> Result<serde_json::Map<String, Value>, Response> {
    let Ok(content) = serde_json::from_slice::<Value>(body) else {
        return Err(error(StatusCode::BAD_REQUEST, "Invalid JSON Payload provided"));
    };
    match content {
        Value::Object(map) if !map.is_empty() => Ok(map),
        _ => Err(error(StatusCode::BAD_REQUEST, "Bad FORM Payload provided")),
    }
}

/// What to send.
struct Message {
    title: String,
    body: String,
    kind: String,
    format: String,
    key: Option<String>,
    attachments: Vec<Attached>,
}

impl Message {
    #[allow(clippy::result_large_err)]
    fn from_payload(content: &serde_json::Map<String, Value>, key: Option<String>) -> Result<Self, Response> {
        let text = |k: &str| content.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let body = text("body");
        let kind = match content.get("type") {
            None | Some(Value::Null) => "info".to_owned(),
            Some(Value::String(s)) if s.is_empty() => "info".to_owned(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => String::new(),
        };
        if body.is_empty() || !["info", "success", "warning", "failure"].contains(&kind.as_str()) {
            return Err(error(StatusCode::BAD_REQUEST, "Payload lacks minimum requirements"));
        }
        let format = match content.get("format") {
            None | Some(Value::Null) => "text".to_owned(),
            Some(Value::String(s)) if s.is_empty() => "text".to_owned(),
            Some(Value::String(s)) if ["text", "markdown", "html"].contains(&s.as_str()) => s.clone(),
            Some(_) => {
                return Err(error(StatusCode::BAD_REQUEST, "An invalid body input format was specified"));
            }
        };
        Ok(Self { title: text("title"), body, kind, format, key, attachments: Vec::new() })
    }
}

/// Sends `message` to every target (down ones fail; loopback `json://` ones are POSTed for
/// real) and answers as Apprise does: 200 when all worked, 424 when any failed or none matched.
async fn deliver(shared: &Shared, targets: Vec<String>, message: &Message) -> Response {
    let mut details = Vec::new();
    let time = || chrono::Utc::now().format("%Y-%m-%d %H:%M:%S,%3f").to_string();
    if targets.len() > 1 {
        details.push(json!([
            "INFO",
            time(),
            format!("Notifying {} service(s) with threads.", targets.len())
        ]));
    }
    let mut failed = false;
    for url in &targets {
        let service = service_name(url);
        let down = shared.inner.lock().unwrap().down.iter().any(|p| url.starts_with(p.as_str()));
        let worked = !down && post_json_sink(shared, url, message).await;
        if worked {
            shared.inner.lock().unwrap().delivered.push(Delivered {
                url: url.clone(),
                title: message.title.clone(),
                body: message.body.clone(),
                kind: message.kind.clone(),
                format: message.format.clone(),
                key: message.key.clone(),
                attachments: message.attachments.clone(),
                at: chrono::Utc::now(),
            });
            details.push(json!(["INFO", time(), format!("Sent {service} notification.")]));
        } else {
            failed = true;
            details.push(json!([
                "WARNING",
                time(),
                format!("A Connection error occurred sending {service} notification.")
            ]));
        }
    }
    if failed || targets.is_empty() {
        (StatusCode::FAILED_DEPENDENCY, Json(json!({ "error": FAILED, "details": details }))).into_response()
    } else {
        (StatusCode::OK, Json(json!({ "error": null, "details": details }))).into_response()
    }
}

/// POSTs a loopback `json://` target in Apprise's JSON format; `true` for every other target.
async fn post_json_sink(shared: &Shared, target: &str, message: &Message) -> bool {
    let Some(rest) = target.strip_prefix("json://") else { return true };
    let Ok(parsed) = url::Url::parse(&format!("http://{rest}")) else { return true };
    if !matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) {
        return true;
    }
    let mut sink = parsed.clone();
    let _ = sink.set_username("");
    let _ = sink.set_password(None);
    sink.set_query(None);
    let mut request = shared
        .http
        .post(sink)
        .header(header::USER_AGENT, "Apprise")
        .header(header::CONTENT_TYPE, "application/json")
        .body(
            json!({
                "version": "1.0",
                "title": message.title,
                "message": message.body,
                "attachments": message.attachments.iter().map(|a| json!({
                    "filename": a.name,
                    "base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &a.content),
                    "mimetype": a.mime,
                })).collect::<Vec<_>>(),
                "type": message.kind,
            })
            .to_string(),
        );
    if !parsed.username().is_empty() {
        request = request.basic_auth(parsed.username(), parsed.password());
    }
    request.send().await.is_ok_and(|r| r.status().is_success())
}

/// One URL of a config, with its tags (lower-case).
struct Server {
    url: String,
    tags: Vec<String>,
}

/// The valid URLs of a text config: one a line, `tag1,tag2=url` or just `url`.
fn parse_config(text: &str) -> Vec<Server> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|line| {
            let (tags, url) = match line.split_once('=') {
                Some((head, url))
                    if url.contains("://")
                        && !head.contains("://")
                        && head.chars().all(|c| c.is_ascii_alphanumeric() || " ,|_:-".contains(c)) =>
                {
                    let tags = head
                        .split([',', '|', ' '])
                        .map(|t| t.trim().to_ascii_lowercase())
                        .filter(|t| !t.is_empty())
                        .collect();
                    (tags, url.trim())
                }
                _ => (Vec::new(), line),
            };
            valid_url(url).then(|| Server { url: url.to_owned(), tags })
        })
        .collect()
}

fn valid_url(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, rest)| {
        SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) && !rest.trim().is_empty()
    })
}

/// `urls` as a list: a JSON list, or a string split on commas and spaces.
fn url_list(urls: &Value) -> Vec<String> {
    match urls {
        Value::Array(list) => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Value::String(s) => s.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        _ => vec![],
    }
}

/// Python truthiness, as the Apprise API applies it to JSON values.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Which URLs a notify reaches.
enum TagQuery {
    /// No tag: only the untagged URLs.
    Untagged,
    /// OR of AND-groups; `all` matches any URL and `always` URLs join in.
    Groups(Vec<Vec<String>>),
    /// A list with garbage in it: nothing matches.
    Nothing,
}

impl TagQuery {
    /// Parses `tag` as the Apprise API does; `Err` means 400.
    fn parse(tag: Option<&Value>) -> Result<Self, ()> {
        let Some(tag) = tag.filter(|t| truthy(t)) else { return Ok(Self::Untagged) };
        match tag {
            Value::String(expr) => Self::parse_expression(expr),
            Value::Array(entries) => {
                let mut groups = Vec::new();
                for entry in entries {
                    let group: Vec<String> = match entry {
                        Value::String(s) => split_list(s),
                        Value::Array(inner) => {
                            if inner.iter().any(|v| !v.is_string()) {
                                return Ok(Self::Nothing);
                            }
                            inner.iter().filter_map(Value::as_str).flat_map(split_list).collect()
                        }
                        _ => return Ok(Self::Nothing),
                    };
                    if !group.is_empty() {
                        groups.push(group);
                    }
                }
                Ok(if groups.is_empty() { Self::Untagged } else { Self::Groups(groups) })
            }
            _ => Err(()),
        }
    }

    /// "a b, c" = (a AND b) OR c; commas and `|` are OR, spaces, `+` and `&` are AND.
    fn parse_expression(expr: &str) -> Result<Self, ()> {
        if !expr.chars().all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || "|,_:+&-".contains(c)) {
            return Err(());
        }
        let mut groups = Vec::new();
        for group in expr.split([',', '|']).map(str::trim).filter(|g| !g.is_empty()) {
            let tokens: Vec<String> = group
                .split(|c: char| c.is_whitespace() || c == '&' || c == '+')
                .filter(|t| !t.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            if tokens.is_empty() || !tokens.iter().all(|t| valid_token(t)) {
                return Err(());
            }
            groups.push(tokens);
        }
        Ok(if groups.is_empty() { Self::Untagged } else { Self::Groups(groups) })
    }

    fn matches(&self, url_tags: &[String]) -> bool {
        match self {
            Self::Untagged => url_tags.is_empty(),
            Self::Nothing => false,
            Self::Groups(groups) => {
                url_tags.iter().any(|t| t == "always")
                    || groups.iter().any(|g| g.iter().all(|t| t == "all" || url_tags.contains(t)))
            }
        }
    }
}

/// `[priority:]name[:retry]` with name `[a-z0-9][a-z0-9_-]*`.
fn valid_token(token: &str) -> bool {
    let mut parts: Vec<&str> = token.split(':').collect();
    if parts.len() > 1 && parts[0].chars().all(|c| c.is_ascii_digit()) && !parts[0].is_empty() {
        parts.remove(0);
    }
    if parts.len() == 2 && !parts[1].is_empty() && parts[1].chars().all(|c| c.is_ascii_digit()) {
        parts.pop();
    }
    let [name] = parts.as_slice() else { return false };
    name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Apprise's `parse_list`: split on whitespace and commas, lower-case.
fn split_list(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn service_name(url: &str) -> &'static str {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase()).unwrap_or_default();
    match scheme.as_str() {
        "mailto" | "mailtos" => "Email",
        "json" | "jsons" => "JSON POST",
        "form" | "forms" => "Form POST",
        "xml" | "xmls" => "XML POST",
        "ntfy" | "ntfys" => "ntfy",
        "tgram" => "Telegram",
        "discord" => "Discord",
        "slack" => "Slack",
        "gotify" | "gotifys" => "Gotify",
        "twilio" => "Twilio",
        "pover" => "Pushover",
        "matrix" | "matrixs" => "Matrix",
        "msteams" => "MSTeams",
        "signal" | "signals" => "Signal API",
        _ => "Apprise",
    }
}

fn url_id(url: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    url.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The URL with its secrets masked, Apprise style: passwords as `****`, tokens as `a...z`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "****".into() };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') { format!("{user}:****") } else { mask_token(user) };
            format!("{masked}@{host}")
        }
        // No dots: the "host" is a token (Telegram bot token, Discord webhook id…).
        None if !authority.contains('.') && authority != "localhost" => mask_token(authority),
        None => authority.to_owned(),
    };
    let (path, query) = tail.split_once('?').map_or((tail, None), |(p, q)| (p, Some(q)));
    let path: Vec<String> = path.split('/').map(mask_token).collect();
    let mut out = format!("{scheme}://{authority}{}", path.join("/"));
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _))
                    if ["pass", "pwd", "token", "key", "secret", "auth", "pin"]
                        .iter()
                        .any(|s| k.to_ascii_lowercase().contains(s)) =>
                {
                    format!("{k}=****")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// A segment that looks like a token (8+ characters with a digit, or 20+) as `a...z`.
fn mask_token(segment: &str) -> String {
    let tokenish = segment.chars().all(|c| c.is_ascii_alphanumeric() || "_-:".contains(c))
        && ((segment.len() >= 8 && segment.chars().any(|c| c.is_ascii_digit())) || segment.len() >= 20);
    match (tokenish, segment.chars().next(), segment.chars().last()) {
        (true, Some(first), Some(last)) => format!("{first}...{last}"),
        _ => segment.to_owned(),
    }
}
