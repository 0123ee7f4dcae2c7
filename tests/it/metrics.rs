//! `/metrics`: closed unless the operator sets a token, Prometheus text format, counters that move
//! with requests and deliveries, and labels that stay few however many events there are.

use std::collections::HashSet;
use std::time::Duration;

use herald::db::events::NewEvent;
use herald::db::models::{EventStatus, Rsvp, Visibility};

use crate::delivery::{create_org, event, join, person_of, wait_for_temporal};
use crate::delivery_pages::signed_in;
use crate::support::{Backend, LOCAL_TARGETS, TestApp, TestDb, eventually, temporal_address};

const TOKEN: &str = "metrics-token-0123456789abcdef";

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(scrape_text(app).await.lines().map(|l| Ok(l.to_owned())))
        .expect("Prometheus text format")
}

/// The exposition text. (`prometheus-parse` skips samples whose label values hold braces, such
/// as route templates: those are read from the text.)
async fn scrape_text(app: &TestApp) -> String {
    let r = reqwest::Client::new().get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    assert!(!text.contains(TOKEN), "the token is never in the output");
    text
}

/// The value of the sample `name` whose labels include `labels`; 0 when there is none.
fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => 0.0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_closed_without_a_token() {
    let app = TestApp::start(Backend::Sqlite).await;
    assert_eq!(app.get("/metrics").await.status(), 404, "no token set: no metrics page");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_requests_and_deliveries() {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = TestApp::start_configured(db, &temporal_address(), true, LOCAL_TARGETS, |web| {
        web.metrics_token = Some(TOKEN.to_owned());
    })
    .await;
    wait_for_temporal(&app).await;

    // Closed to anyone without the token.
    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = reqwest::Client::new().get(app.url("/metrics")).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    // A request moves the request counter of its route template.
    let before = scrape(&app).await;
    let healthz = [("route", "/healthz"), ("status", "200"), ("method", "GET")];
    assert_eq!(app.get("/healthz").await.status(), 200);
    let after = scrape(&app).await;
    assert_eq!(
        value(&after, "herald_http_requests_total", &healthz)
            - value(&before, "herald_http_requests_total", &healthz),
        1.0
    );
    assert_eq!(value(&after, "herald_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
    assert_eq!(value(&after, "herald_dependency_up", &[("dependency", "database")]), 1.0);
    assert_eq!(value(&after, "herald_dependency_up", &[("dependency", "temporal")]), 1.0);

    // A reminder that reaches Ada, and one that reaches only half of Bob's channel.
    let (olga_v, olga_id, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (ada_id, ada_token) = {
        let (_, id, token) = signed_in(&app, "ada@example.org", "Ada").await;
        (id, token)
    };
    let ada =
        person_of(&app, ada_id, &ada_token, "Ada", "UTC", &[("ntfys://ntfy.example.org/ada", &[])]).await;
    let (_, bob_id, bob_token) = signed_in(&app, "bob@example.org", "Bob").await;
    let bob = person_of(
        &app,
        bob_id,
        &bob_token,
        "Bob",
        "UTC",
        &[("ntfys://ntfy.example.org/bob", &[]), ("ntfys://down.example.org/bob", &[])],
    )
    .await;
    app.apprise.set_down("ntfys://down.example.org", true);
    let (ev, _) = event(&app, &olga, 8, 60, &[4]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    join(&app, ev, &bob, Rsvp::Going, None).await;
    let reminder = |status: &'static str| [("kind", "reminder"), ("status", status)];
    let _outcomes = eventually(Duration::from_secs(40), "the reminder's outcomes in /metrics", || async {
        let s = scrape(&app).await;
        (value(&s, "herald_notifications_total", &reminder("sent")) >= 1.0
            && value(&s, "herald_notifications_total", &reminder("partial")) >= 1.0)
            .then_some(s)
    })
    .await;
    // Sent: Ada's ntfy and both built-in email channels; partly: Bob's channel with a URL down.
    let sent = eventually(Duration::from_secs(20), "all four deliveries", || async {
        let s = scrape(&app).await;
        (value(&s, "herald_notifications_total", &reminder("sent")) >= 3.0).then_some(s)
    })
    .await;
    assert_eq!(value(&sent, "herald_notifications_total", &reminder("sent")), 3.0);
    assert_eq!(value(&sent, "herald_notifications_total", &reminder("partial")), 1.0);
    assert_eq!(value(&sent, "herald_reminder_lateness_seconds", &[]), 4.0, "each delivery's lateness");
    // The event's workflow waits for the event's end in the worker's cache, and is counted.
    let held = value(&sent, "herald_workflows_in_memory", &[]);
    assert!((1.0..=256.0).contains(&held), "workflows in memory: {held}");
    // The activity's own duration is observed when its batch is over, just after the outcomes.
    eventually(Duration::from_secs(20), "the deliver activity's duration", || async {
        let s = scrape(&app).await;
        (value(&s, "herald_deliver_activity_duration_seconds", &[("kind", "reminder")]) >= 1.0).then_some(())
    })
    .await;

    // A thousand different events, each page opened (and as many addresses of events that do
    // not exist) are one route each: the label set stays small.
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    let start = chrono::Utc::now() + chrono::Duration::days(30);
    for i in 0..1000 {
        let (slug, name) = (format!("draft-{i}"), format!("Draft {i}"));
        let draft = app
            .db
            .db
            .create_event(&NewEvent {
                org_id: org.id,
                slug: &slug,
                name: &name,
                description: "",
                location: None,
                online_url: None,
                starts_at: start,
                ends_at: start + chrono::Duration::hours(1),
                timezone: "UTC",
                visibility: Visibility::Public,
                reminder_offsets: vec![],
                status: EventStatus::Draft,
                created_by: Some(olga_id),
            })
            .await
            .unwrap();
        let (status, _) = olga_v.page(&format!("/orgs/rust-paris/events/{}", draft.id)).await;
        assert_eq!(status, 200);
        let _ = app.get(&format!("/o/rust-paris/e/no-such-event-{i}")).await;
    }
    let text = scrape_text(&app).await;
    let routes: HashSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("herald_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1)?.split('"').next())
        .collect();
    assert!(routes.contains("/o/{org}/e/{event}"), "{routes:?}");
    assert!(routes.contains("/orgs/{slug}/events/{id}"), "{routes:?}");
    assert!(routes.len() < 30, "route labels stay bounded: {routes:?}");
    assert!(!routes.iter().any(|r| r.contains("no-such-event")), "no ids in labels");
    assert!(!text.contains(&org.id.to_string()) && !text.contains("draft-"), "no ids in labels");
    let series = text.lines().filter(|l| l.starts_with("herald_")).count();
    assert!(series < 400, "{series} series after 1,000 distinct events");
    app.stop().await;
}
