//! `HERALD_APPRISE_CONFIG_LOCK` against an Apprise API locked with `APPRISE_CONFIG_LOCK=yes`
//! (as docker-compose runs them): channels are made, confirmed, tested, edited and deleted, the
//! built-in email channel works and reminders go out through the real workflow to exactly the
//! URLs whose tags were chosen, once each, while the Apprise API never stores, shows or deletes
//! a config.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald::db::models::Rsvp;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::delivery::{Person, create_org, event, join, wait_for_temporal};
use crate::integrations::api_channel;
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, eventually};

both_backends!(a_locked_apprise_api_holds_no_config_and_everything_still_arrives);

/// What a `json://` sink received: (path, title, message).
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// A local sink for `json://127.0.0.1:PORT/...` targets, recording every path.
async fn json_sink() -> (String, Received) {
    let seen: Received = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::Json<Value>| {
        let store = store.clone();
        async move {
            let text = |k: &str| body.0[k].as_str().unwrap_or_default().to_owned();
            store.lock().unwrap().push((uri.path().to_owned(), text("title"), text("message")));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("json://{addr}"), seen)
}

/// Messages titled `title…` that reached the sink's `path`.
fn arrived(seen: &Received, path: &str, title: &str) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(p, t, _)| p == path && t.starts_with(title))
        .map(|(_, _, m)| m.clone())
        .collect()
}

/// The 6-digit code in a confirmation message.
fn code_in(message: &str) -> String {
    let at = message.find(" is ").expect("the code follows “is”") + 4;
    let code: String = message[at..].chars().take(6).collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{message}");
    code
}

async fn a_locked_apprise_api_holds_no_config_and_everything_still_arrives(backend: Backend) {
    let app = TestApp::start_locked(backend).await;
    wait_for_temporal(&app).await;
    let (sink, seen) = json_sink().await;
    let phone = format!("{sink}/phone?token=phone-secret-1");
    let desk = format!("{sink}/desk");
    let (ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;

    // Ada adds a channel with two URLs of different tags: saved in Herald only, a code to each URL.
    let urls: &[(&str, &[&str])] = &[(&phone, &["phone"]), (&desk, &["desk"])];
    let (status, body) =
        api(&app, &token, Method::POST, "/api/v1/integrations", Some(api_channel("Ada's hooks", urls))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["config_push"], "locked", "{body}");
    assert_eq!(body["confirmation"]["outcome"], "delivered", "{body}");
    assert!(!body.to_string().contains("phone-secret-1"), "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let codes: Vec<String> = ["/phone", "/desk"]
        .iter()
        .map(|path| {
            let got = arrived(&seen, path, "Herald confirmation code");
            assert_eq!(got.len(), 1, "one code to {path}: {got:?}");
            code_in(&got[0])
        })
        .collect();
    let (status, body) = api(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/integrations/{id}/confirm"),
        Some(json!({"code": codes.join(" ")})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");

    // A test message reaches both URLs, once.
    let (status, body) =
        api(&app, &token, Method::POST, &format!("/api/v1/integrations/{id}/test"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "delivered", "{body}");
    assert!(body["message"].as_str().unwrap().contains("delivered to every URL"), "{body}");
    assert_eq!(arrived(&seen, "/phone", "Herald test message").len(), 1);
    assert_eq!(arrived(&seen, "/desk", "Herald test message").len(), 1);

    // A URL that is down: the test says so, as with a stored config.
    app.apprise.set_down(&desk, true);
    let (_, body) = api(&app, &token, Method::POST, &format!("/api/v1/integrations/{id}/test"), None).await;
    assert_eq!(body["outcome"], "partial", "{body}");
    app.apprise.set_down(&desk, false);

    // A reminder through the real workflow: Ada chose only her "phone" URL for this event.
    let (_, olga_token) = api_user(&app, "olga@example.org", "Olga", true).await;
    create_org(&app, &olga_token).await;
    let (ev, _) = event(&app, &olga_token, 14, 4, &[7]).await;
    let integration = Uuid::parse_str(&id).unwrap();
    let who = Person { id: ada.id, integration, key: String::new() };
    join(&app, ev, &who, Rsvp::Going, Some(&["phone"])).await;
    eventually(Duration::from_secs(40), "the reminder to reach Ada's phone URL", || async {
        (!arrived(&seen, "/phone", "Reminder: ").is_empty()).then_some(())
    })
    .await;
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reminders = arrived(&seen, "/phone", "Reminder: ");
    assert_eq!(reminders.len(), 1, "exactly once: {reminders:?}");
    assert!(reminders[0].contains("starts in 7 seconds"), "{}", reminders[0]);
    assert!(arrived(&seen, "/desk", "Reminder: ").is_empty(), "the desk URL was not chosen");
    let (status, rows) =
        api(&app, &olga_token, Method::GET, &format!("/api/v1/events/{ev}/notifications"), None).await;
    assert_eq!(status, 200, "{rows}");
    let rows = rows["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!((rows[0]["recipient"].as_str(), rows[0]["status"].as_str()), (Some("Ada"), Some("sent")));

    // Editing, renaming and deleting need nothing from the Apprise API either.
    let (status, body) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"name": "Desk only", "urls": [{"url": desk, "tags": ["desk"]}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["name"].as_str(), body["config_push"].as_str()), (Some("Desk only"), Some("locked")));
    assert_eq!(arrived(&seen, "/desk", "Herald confirmation code").len(), 2, "a new code to the new URL");
    let (status, body) = api(&app, &token, Method::DELETE, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!(status, 204, "{body}");

    // Someone who verifies their address gets the built-in email channel, and it sends.
    app.signed_up("bea@example.org", "Bea", true).await;
    let bea_id = app.db.db.user_by_email("bea@example.org").await.unwrap().unwrap().id;
    let email = eventually(Duration::from_secs(10), "Bea's built-in email channel", || async {
        app.db.db.email_integration_of(bea_id).await.unwrap()
    })
    .await;
    let bea_token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(bea_id, "tests", &herald::secrets::hash_token(&bea_token)).await.unwrap();
    let (status, body) =
        api(&app, &bea_token, Method::POST, &format!("/api/v1/integrations/{}/test", email.id), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "delivered", "{body}");
    let mails: Vec<_> = app
        .apprise
        .mail_to("bea@example.org")
        .into_iter()
        .filter(|m| m.title == "Herald test message")
        .collect();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].key.is_none(), "sent stateless");

    // The Apprise API never stored, showed or deleted a config: nobody can read one from it.
    assert_eq!(app.apprise.config_requests(), Vec::<String>::new());
    assert!(app.apprise.keys().is_empty());
    assert!(
        app.apprise.requests().iter().all(|r| r == "POST /notify/" || r == "GET /status"),
        "only stateless sends (and health checks): {:?}",
        app.apprise.requests()
    );
    app.stop().await;
}
