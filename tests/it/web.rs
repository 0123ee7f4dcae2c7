//! The pages and probes a user or an operator sees first.

use std::time::Duration;

use crate::support::{Backend, TestApp};

both_backends!(home_page_and_probes, a_signed_in_404_keeps_the_signed_in_header);

async fn home_page_and_probes(backend: Backend) {
    let app = TestApp::start(backend).await;

    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"), "every response carries a request id");

    // Ready once the background link to Temporal is up (it connects within a moment).
    let ready: serde_json::Value =
        crate::support::eventually(std::time::Duration::from_secs(20), "/readyz to turn green", || async {
            let r = app.get("/readyz").await;
            if r.status() == 200 { r.json().await.ok() } else { None }
        })
        .await;
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["checks"]["database"]["ok"], true);
    assert_eq!(ready["checks"]["temporal"]["ok"], true);
    let backend_name = if backend == Backend::Sqlite { "sqlite" } else { "postgres" };
    assert!(ready["checks"]["database"]["detail"].as_str().unwrap().contains(backend_name));

    let home = app.get("/").await;
    assert_eq!(home.status(), 200);
    let csp = home.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(home.headers()["x-frame-options"], "DENY");
    assert_eq!(home.headers()["referrer-policy"], "same-origin", "mailed-link tokens never leak in Referer");
    assert!(home.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = home.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\""), "page declares its language");
    assert!(html.contains("Herald"));
    assert!(!html.contains("postgres://"), "no connection string on a public page");

    // Every stylesheet and script the page links is served, hashed and cached for a year.
    let assets: Vec<&str> = html.split(['"', '\'']).filter(|s| s.starts_with("/static/")).collect();
    assert!(assets.iter().any(|a| a.ends_with(".css")), "the page links its CSS: {assets:?}");
    assert!(
        assets.iter().any(|a| a.contains("htmx") && a.ends_with(".js")),
        "the page links htmx: {assets:?}"
    );
    for asset in &assets {
        let r = app.get(asset).await;
        assert_eq!(r.status(), 200, "{asset}");
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable", "{asset}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{asset}");
    }
    assert_eq!(app.get("/static/htmx.min.0000000000.js").await.status(), 404, "a stale hash is not served");

    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    let body = missing.text().await.unwrap();
    assert!(body.contains("Page not found") && body.contains("<main"), "404 comes in the layout");

    app.stop().await;
}

async fn readyz(app: &TestApp) -> (u16, serde_json::Value) {
    let r = app.get("/readyz").await;
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

/// The home page's line for the Apprise API: (status badge, detail).
async fn apprise_line(operator: &crate::support::Visitor) -> String {
    let (_, html) = operator.page("/").await;
    let start = html.find("Apprise API").expect("an Apprise API line on the home page");
    let end = html[start..].find("</li>").map_or(html.len(), |e| start + e);
    html[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_apprise_api() {
    let app = TestApp::start(Backend::Sqlite).await;
    let ops = app.signed_up(crate::support::OPERATOR, "Ops", true).await;
    // The system status is for operators: visitors and other people never see it.
    let public = app.get("/").await.text().await.unwrap();
    assert!(!public.contains("System status") && !public.contains("Temporal"), "no internals in public");
    assert!(public.contains(r#"href="/signup""#) && public.contains("Get started"));
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let (_, home) = ada.page("/").await;
    assert!(home.contains("Hello, Ada") && !home.contains("System status"), "a user's home has no status");
    let (_, home) = ops.page("/").await;
    assert!(home.contains("System status"), "the operator's home shows it");
    let (_, ready) = crate::support::eventually(Duration::from_secs(20), "/readyz to turn green", || async {
        let (status, body) = readyz(&app).await;
        (status == 200).then_some((status, body))
    })
    .await;
    assert_eq!(ready["checks"]["apprise"]["ok"], true, "{ready}");
    assert_eq!(ready["checks"]["apprise"]["detail"], "answering");
    assert!(apprise_line(&ops).await.contains("OK"));

    app.apprise.set_failing(true);
    let (status, ready) = readyz(&app).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "unavailable");
    assert_eq!(ready["checks"]["apprise"]["ok"], false);
    assert_eq!(ready["checks"]["database"]["ok"], true, "only the Apprise API is down");
    let detail = ready["checks"]["apprise"]["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("500"), "the reason is given: {detail}");
    let line = apprise_line(&ops).await;
    assert!(line.contains("Down") && line.contains("500"), "the home page says so: {line}");

    app.apprise.set_failing(false);
    app.apprise.set_refusing(true).await;
    let (status, ready) = readyz(&app).await;
    assert_eq!(status, 503, "{ready}");
    let detail = ready["checks"]["apprise"]["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("unavailable"), "{detail}");
    assert!(!detail.contains(&app.apprise.base), "no URL in the reason: {detail}");
    // Connections refused from here on (the first probe may have broken a pooled connection).
    let (_, ready) = readyz(&app).await;
    let detail = ready["checks"]["apprise"]["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("cannot connect"), "{detail}");

    app.apprise.set_refusing(false).await;
    let (status, ready) = readyz(&app).await;
    assert_eq!(status, 200, "green again without a restart: {ready}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_only_mode_is_ready_and_says_nothing_is_sent() {
    let app = TestApp::start_log_only(Backend::Sqlite).await;
    // Nothing is mailed in log-only mode: the operator's address is confirmed directly.
    let ops = app.signed_up(crate::support::OPERATOR, "Ops", false).await;
    let (_, home) = ops.page("/").await;
    assert!(!home.contains("System status"), "an unconfirmed address is nobody's");
    let id = app.db.db.user_by_email(crate::support::OPERATOR).await.unwrap().unwrap().id;
    herald::accounts::mark_verified(&app.db.db, id).await.unwrap();
    let (_, ready) = crate::support::eventually(Duration::from_secs(20), "/readyz to turn green", || async {
        let (status, body) = readyz(&app).await;
        (status == 200).then_some((status, body))
    })
    .await;
    assert_eq!(ready["checks"]["apprise"]["ok"], true, "log-only is a valid mode: {ready}");
    assert_eq!(ready["checks"]["apprise"]["detail"], "log-only mode (nothing is sent)");
    let line = apprise_line(&ops).await;
    assert!(line.contains("log-only mode (nothing is sent)"), "{line}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_pages_are_never_cached() {
    let app = TestApp::start(Backend::Sqlite).await;
    let anonymous = app.get("/").await;
    assert_eq!(anonymous.status(), 200);
    assert!(anonymous.headers().get("cache-control").is_none(), "a public page may be cached");
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    for path in ["/", "/account", "/orgs"] {
        let r = ada.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path} is Ada's alone");
    }
    // Static files keep their long-lived caching.
    let page = ada.get("/account").await.text().await.unwrap();
    let css = page.split('"').find(|s| s.starts_with("/static/") && s.ends_with(".css")).unwrap().to_owned();
    let r = ada.get(&css).await;
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"), "{css}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start(Backend::Sqlite).await;
    let limit = herald::web::server::HEADER_READ_TIMEOUT;
    // A client that starts a request and never finishes its headers…
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: herald\r\nX-Slow: ").await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(limit + Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    // …is cut off once the time for headers is up, not kept forever.
    assert!(read.is_ok(), "the connection is still open after {:?}", started.elapsed());
    assert!(started.elapsed() >= limit - Duration::from_secs(1), "closed too early: {:?}", started.elapsed());
    // Everyone else is served as usual, with the peer address known (sign-in limits use it).
    assert_eq!(app.get("/healthz").await.status(), 200);
    let v = app.signed_up("ada@example.org", "Ada", true).await;
    assert_eq!(v.page("/account").await.0, 200);
    app.stop().await;
}

/// A page that is not there keeps the signed-in visitor's header (their name, Sign out) and
/// the CSRF token; visitors who are not signed in get the plain page.
async fn a_signed_in_404_keeps_the_signed_in_header(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada Lovelace", true).await;
    // An address nothing answers, and one a handler refuses (no such organization).
    for path in ["/no/such/page", "/o/no-such-org", "/orgs/no-such-org"] {
        let (status, page) = ada.page(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("Page not found"), "{path}: {page}");
        assert!(
            page.contains(r#"href="/account" title="ada@example.org">Ada Lovelace</a>"#),
            "{path}: {page}"
        );
        assert!(page.contains("Sign out") && crate::support::csrf_in(&page).is_some(), "{path}");
        if path.starts_with("/orgs/") {
            continue; // Signed out, this one asks to sign in first.
        }
        let r = app.get(path).await;
        assert_eq!(r.status(), 404);
        let page = r.text().await.unwrap();
        assert!(page.contains("Page not found") && !page.contains("Sign out"), "{path}: {page}");
        assert!(page.contains(r#"href="/signin""#), "{path}");
    }
    app.stop().await;
}
