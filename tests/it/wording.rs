//! An organization's own wording of its notices: templates with variables, refused at save when
//! they cannot be used, previewed as a named reader gets them, and delivered exactly as
//! previewed (Herald's footer added); Herald's wording comes back with a reset.

use std::time::Duration;

use herald::db::models::Rsvp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{create_org, event, got, join, person_of, wait_for_temporal};
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, eventually};

both_backends!(wording_is_checked_previewed_and_delivered_as_previewed);

const OLGA_NTFY: &str = "ntfys://olga-topic@ntfy.example.org/olga";

async fn wording_is_checked_previewed_and_delivered_as_previewed(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let page = app.signed_up("olga@example.org", "Olga Petrova", true).await;
    let olga_user = app.db.db.user_by_email("olga@example.org").await.unwrap().unwrap();
    let olga = format!("t-{}", uuid::Uuid::new_v4().simple());
    app.db.db.create_api_token(olga_user.id, "t", &herald::secrets::hash_token(&olga)).await.unwrap();
    create_org(&app, &olga).await;
    let olga_person = person_of(&app, olga_user.id, &olga, "Olga", "Europe/Paris", &[(OLGA_NTFY, &[])]).await;
    let path = "/api/v1/orgs/rust-paris/messages";

    // Herald's wording to start with, for each kind.
    let (status, list) = api(&app, &olga, Method::GET, path, None).await;
    assert_eq!(status, 200, "{list}");
    let kinds: Vec<&str> = list.as_array().unwrap().iter().map(|w| w["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["reminder", "updated", "cancelled", "follow_up"]);
    assert!(list.as_array().unwrap().iter().all(|w| w["custom"] == false));

    // Templates that cannot be used are refused when saved, naming the part and the problem.
    for (subject, body, field) in [
        ("{{ event.name", "Hi", "subject"),
        ("Hi", "{{ event.nmae }} soon", "body"),
        ("Hi", "{% for i in range(1000000) %}x{% endfor %}", "body"),
        ("", "Hi", "subject"),
    ] {
        let (status, problem) = api(
            &app,
            &olga,
            Method::PUT,
            &format!("{path}/reminder"),
            Some(json!({"subject": subject, "body": body})),
        )
        .await;
        assert_eq!(status, 422, "{subject} / {body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (status, _) = api(
        &app,
        &olga,
        Method::PUT,
        &format!("{path}/nonsense"),
        Some(json!({"subject": "x", "body": "y"})),
    )
    .await;
    assert_eq!(status, 404);

    // A wording of her own.
    let mine = json!({
        "subject": "{{ org.name }}: {{ event.name }} in {{ reminder.starts_in }}",
        "body": "Hello {{ participant.name }},\n\n{{ event.name }} starts {{ event.starts_local }}{% if event.location %} at {{ event.location }}{% endif %}.\n\n{{ details }}",
    });
    let (status, saved) =
        api(&app, &olga, Method::PUT, &format!("{path}/reminder"), Some(mine.clone())).await;
    assert_eq!((status, saved["custom"].as_bool()), (200, Some(true)), "{saved}");

    // The event: its reminder comes in 20 s, to Olga herself (going).
    let (ev, _) = event(&app, &olga, 30, 60, &[10]).await;
    join(&app, ev, &olga_person, Rsvp::Going, None).await;
    let (status, preview) =
        api(&app, &olga, Method::POST, &format!("{path}/reminder/preview"), Some(json!({"event_id": ev})))
            .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["subject"], "Rust Paris: Rust night in 10 seconds", "{preview}");
    let body = preview["body"].as_str().unwrap();
    assert!(
        body.starts_with("Hello Olga Petrova,\n\nRust night starts ")
            && body.contains(" at Room 1.\n\nWhen: "),
        "{body}"
    );
    assert!(body.contains("CET") || body.contains("CEST"), "in her own time zone: {body}");

    // Delivered exactly as previewed, with Herald's footer after it.
    let reminder = eventually(Duration::from_secs(45), "the reminder", || async {
        got(&app, &olga_person.key, OLGA_NTFY, "Rust Paris: ").into_iter().next()
    })
    .await;
    assert_eq!(reminder.title, preview["subject"].as_str().unwrap());
    assert!(
        reminder.body.starts_with(&format!("{body}\n\n—\n")),
        "as previewed, then the footer:\n{}\n---\n{body}",
        reminder.body
    );
    assert!(reminder.body.contains("/optout/"), "the footer stays");

    // The page: her wording, its preview, and the live preview's fragment.
    let (status, html) = page.page("/orgs/rust-paris/messages").await;
    assert_eq!(status, 200);
    assert!(html.contains("Your wording"), "{html}");
    assert!(html.contains("Herald&#39;s wording") || html.contains("Herald's wording"), "{html}");
    assert!(html.contains("Hello Olga Petrova,"), "the preview: {html}");
    let r = page
        .http
        .post(format!("{}/orgs/rust-paris/messages/updated/preview", page.base))
        .header("HX-Request", "true")
        .form(&[
            ("_csrf", page.csrf().await.as_str()),
            ("subject", "Moved: {{ event.name }}"),
            ("body", "{{ changes }}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let fragment = r.text().await.unwrap();
    assert!(
        fragment.contains("Moved: Rust night") && fragment.contains("Place: Room 1 → Room 9"),
        "{fragment}"
    );
    let r =
        page.post("/orgs/rust-paris/messages/updated", &[("subject", "Moved"), ("body", "{{ nope }}")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("This template cannot be used"));

    // A member who does not organize cannot change it; a reset brings Herald's back.
    let (mia_user, mia) = api_user(&app, "mia@example.org", "Mia", true).await;
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    app.db.db.add_membership(org.id, mia_user.id, herald::db::models::Role::Member).await.unwrap();
    let (status, _) = api(&app, &mia, Method::PUT, &format!("{path}/reminder"), Some(mine)).await;
    assert_eq!(status, 403);
    let (status, back) = api(&app, &olga, Method::DELETE, &format!("{path}/reminder"), None).await;
    assert_eq!((status, back["custom"].as_bool()), (200, Some(false)), "{back}");
    assert_eq!(back["subject"], "Reminder: {{ event.name }}");
    let (_, list) = api(&app, &olga, Method::GET, path, None).await;
    assert!(list.as_array().unwrap().iter().all(|w: &Value| w["custom"] == false), "{list}");
    // The organization's activity says who changed the wording, in words.
    let (_, activity) = page.page("/orgs/rust-paris/audit").await;
    assert!(
        activity.contains("changed the wording of") && activity.contains("went back to Herald"),
        "{activity}"
    );
    app.stop().await;
}
