//! The pages and probes a user or an operator sees first.

use crate::support::{Backend, TestApp};

both_backends!(home_page_and_probes);

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
