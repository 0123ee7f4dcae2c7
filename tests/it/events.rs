//! Events: management through pages and the API, validation, visibility, a DST edge,
//! idempotent create, the change history, and the sync with the event's workflow (Temporal up
//! and down).

use std::time::Duration;

use herald::db::models::{EventStatus, Organization, Role};
use herald_workflows::EventWorkflow;
use reqwest::Method;
use serde_json::{Value, json};
use temporalio_client::WorkflowQueryOptions;
use uuid::Uuid;

use crate::orgs::{api, api_user, member_of, owner_of};
use crate::support::{Backend, TestApp, TestDb, Visitor, eventually};

both_backends!(
    events_through_pages,
    events_through_the_api,
    form_validation_names_the_field,
    local_times_across_dst,
    temporal_down_keeps_changes,
    public_pages_and_ics,
    the_event_form_helps_and_drafts_publish,
);

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// The form fields of a published event, with `extra` overriding.
fn form<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = vec![
        ("name", "Rust night"),
        ("description", "**Talks** <script>alert(1)</script>"),
        ("start", "2030-06-01T18:30"),
        ("end", "2030-06-01T20:00"),
        ("timezone", "America/New_York"),
        ("location", "Room 1"),
        ("online_url", ""),
        ("visibility", "public"),
        ("remind_1d", "on"),
        ("custom_reminders", "30m"),
        ("notify_reminders", "on"),
        ("notify_changes", "on"),
        ("notify_cancellation", "on"),
        ("status", "published"),
    ];
    for (k, v) in extra {
        f.retain(|(name, _)| name != k);
        f.push((k, v));
    }
    f
}

/// Creates an event through the form; returns its id.
async fn create_by_form(v: &Visitor, org: &Organization, extra: &[(&str, &str)]) -> Uuid {
    let r = v.post(&format!("/orgs/{}/events", org.slug), &form(extra)).await;
    assert_eq!(r.status(), 303, "creating an event redirects: {}", r.text().await.unwrap_or_default());
    let loc = location(&r);
    let id = loc.rsplit('/').next().unwrap();
    Uuid::parse_str(id).unwrap()
}

async fn wait_for_temporal(app: &TestApp) {
    let herald = app.herald.as_ref().unwrap();
    herald.temporal.wait_for(|s| *s == herald::temporal::LinkState::Up).await;
}

async fn events_through_pages(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let base = format!("/orgs/{}/events", org.slug);

    // The overview links to the events; the list starts empty.
    let (_, overview) = ada.page(&format!("/orgs/{}", org.slug)).await;
    assert!(overview.contains(&format!("href=\"{base}\"")));
    let (status, list) = ada.page(&base).await;
    assert_eq!(status, 200);
    assert!(list.contains("No upcoming events"), "{list}");

    // Create a published event: saved, shown in both zones, description rendered safely.
    let id = create_by_form(&ada, &org, &[]).await;
    let (status, page) = ada.page(&format!("{base}/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Rust night"));
    // Ada keeps the default date format (year first); the date is said once per span.
    assert!(page.contains("Sat 2030-06-01, 18:30 – 20:00 EDT (America/New_York)"), "event's zone: {page}");
    assert!(page.contains("Sun 2030-06-02, 00:30 – 02:00 CEST (Europe/Paris)"), "viewer's zone: {page}");
    assert!(page.contains("<strong>Talks</strong>"));
    assert!(!page.contains("<script>alert(1)"), "raw HTML is not rendered");
    assert!(page.contains("1 day before") && page.contains("30 minutes before"));
    // The workflow is started within moments of the save (the answer waits a little for it).
    crate::support::told_workflow(&app.db.db, id).await;
    eventually(Duration::from_secs(5), "the page to say nothing is pending", || async {
        (!ada.page(&format!("{base}/{id}")).await.1.contains("scheduler is reachable")).then_some(())
    })
    .await;
    let (_, list) = ada.page(&base).await;
    assert!(list.contains("Rust night"));

    // Publishing started the workflow.
    let event = app.db.db.event(id).await.unwrap().unwrap();
    assert!(event.workflow_started_at.is_some(), "the workflow was started");
    let client = app.herald.as_ref().unwrap().temporal.client().await.unwrap();
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(id));

    // Edit: place and time change, recorded old → new, and the workflow is signalled.
    let r = ada
        .post(&format!("{base}/{id}/edit"), &form(&[("location", "Room 2"), ("start", "2030-06-01T19:00")]))
        .await;
    assert_eq!(r.status(), 303);
    let event = app.db.db.event(id).await.unwrap().unwrap();
    assert_eq!(event.revision, 1);
    assert_eq!(event.location.as_deref(), Some("Room 2"));
    let (_, page) = ada.page(&format!("{base}/{id}")).await;
    assert!(page.contains("Place: Room 1 → Room 2"), "{page}");
    assert!(page.contains("Time: Sat 2030-06-01, 18:30 – 20:00 EDT"), "{page}");
    assert!(page.contains("→ Sat 2030-06-01, 19:00 – 20:00 EDT"), "{page}");
    eventually(Duration::from_secs(60), "the workflow to see revision 1", || async {
        let s = handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.ok()?;
        (s.plan_revision == 1).then_some(())
    })
    .await;
    assert!(app.db.db.unsignalled_updates(100).await.unwrap().iter().all(|u| u.event_id != id));

    // A member sees a private event; an outsider gets 404; anonymous is sent to sign in.
    let private =
        create_by_form(&ada, &org, &[("name", "Secret board meeting"), ("visibility", "private")]).await;
    let (member, _) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    let (status, page) = member.page(&format!("{base}/{private}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Secret board meeting"));
    assert_eq!(member.page(&format!("{base}/{private}/edit")).await.0, 403, "members do not edit");
    let outsider = app.signed_up("otto@example.org", "Otto", true).await;
    let (status, page) = outsider.page(&format!("{base}/{private}")).await;
    assert_eq!(status, 404);
    assert!(!page.contains("Secret board meeting"));
    assert_eq!(outsider.page(&base).await.0, 404);
    let anon = app.visitor();
    let r = anon.get(&format!("{base}/{private}")).await;
    assert_ne!(r.status(), 200);
    assert!(!r.text().await.unwrap().contains("Secret board meeting"));

    // Duplicate: a draft copy, which can be deleted after confirmation.
    let r = ada.post(&format!("{base}/{id}/duplicate"), &[]).await;
    assert_eq!(r.status(), 303);
    let copy = Uuid::parse_str(location(&r).trim_end_matches("/edit").rsplit('/').next().unwrap()).unwrap();
    let copied = app.db.db.event(copy).await.unwrap().unwrap();
    assert_eq!(copied.status, EventStatus::Draft);
    assert_eq!(copied.name, "Copy of Rust night");
    let (_, drafts) = ada.page(&format!("{base}?filter=drafts")).await;
    assert!(drafts.contains("Copy of Rust night"));
    let (status, confirm) = ada.page(&format!("{base}/{copy}/delete")).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Delete Copy of Rust night?"));
    assert_eq!(ada.post(&format!("{base}/{copy}/delete"), &[("confirm", "yes")]).await.status(), 303);
    assert!(app.db.db.event(copy).await.unwrap().is_none());

    // An upcoming published event cannot be deleted, only cancelled.
    assert_eq!(ada.post(&format!("{base}/{id}/delete"), &[("confirm", "yes")]).await.status(), 409);
    assert_eq!(ada.post(&format!("{base}/{id}/cancel"), &[("confirm", "yes")]).await.status(), 303);
    let event = app.db.db.event(id).await.unwrap().unwrap();
    assert_eq!(event.status, EventStatus::Cancelled);
    let (_, page) = ada.page(&format!("{base}/{id}")).await;
    assert!(page.contains("Status: published → cancelled"), "{page}");
    let (_, cancelled) = ada.page(&format!("{base}?filter=cancelled")).await;
    assert!(cancelled.contains("Rust night"));
    let (_, upcoming) = ada.page(&base).await;
    assert!(!upcoming.contains(">Rust night<"));
    assert_eq!(ada.post(&format!("{base}/{id}/edit"), &form(&[])).await.status(), 409, "cancelled: no edits");
    app.stop().await;
}

async fn form_validation_names_the_field(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let base = format!("/orgs/{}/events", org.slug);
    let long = "x".repeat(201);
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("timezone", "Mars/Olympus")], "f-timezone", "not a known time zone"),
        (vec![("end", "2030-06-01T17:00")], "f-end", "The end must be after the start."),
        (vec![("custom_reminders", "400d")], "f-custom_reminders", "at most one year"),
        (vec![("custom_reminders", "0m")], "f-custom_reminders", "must be positive"),
        (vec![("name", long.as_str())], "f-name", "at most 200 characters"),
        (vec![("online_url", "javascript:alert(1)")], "f-online_url", "https://"),
        (vec![("start", "2027-03-14T02:30")], "f-start", "does not exist in America/New_York"),
    ];
    for (extra, field, message) in cases {
        let r = ada.post(&base, &form(&extra)).await;
        assert_eq!(r.status(), 422, "{extra:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("href=\"#{field}\"")), "{extra:?} names {field}: {body}");
        assert!(body.contains(message), "{extra:?}: {message}");
    }
    assert!(app.db.db.org_events(org.id, None, None, None, true, 10).await.unwrap().is_empty());
    app.stop().await;
}

async fn local_times_across_dst(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    // 2027-11-07 01:30 happens twice in New York (EDT, then EST): the earlier one is used.
    let id = create_by_form(
        &ada,
        &org,
        &[("start", "2027-11-07T01:30"), ("end", "2027-11-07T03:00"), ("status", "draft")],
    )
    .await;
    let event = app.db.db.event(id).await.unwrap().unwrap();
    assert_eq!(event.starts_at.to_rfc3339(), "2027-11-07T05:30:00+00:00");
    assert_eq!(event.ends_at.to_rfc3339(), "2027-11-07T08:00:00+00:00");
    let (_, page) = ada.page(&format!("/orgs/{}/events/{id}", org.slug)).await;
    assert!(page.contains("Sun 2027-11-07, 01:30 EDT – 03:00 EST (America/New_York)"), "{page}");
    assert!(page.contains("Sun 2027-11-07, 06:30 – 09:00 CET (Europe/Paris)"), "viewer in Paris: {page}");
    // The edit form shows the same local time again, and says how it was read.
    let (_, edit) = ada.page(&format!("/orgs/{}/events/{id}/edit", org.slug)).await;
    assert!(edit.contains("value=\"2027-11-07T01:30\""));
    assert!(edit.contains("the earlier of the two moments is used"));
    // Through the API: RFC 3339 with the zone's offset at that moment, plus the zone name.
    let token = format!("t-{}", Uuid::new_v4().simple());
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    app.db.db.create_api_token(ada_id, "t", &herald::secrets::hash_token(&token)).await.unwrap();
    let (status, body) = api(&app, &token, Method::GET, &format!("/api/v1/events/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["starts_at"], "2027-11-07T01:30:00-04:00");
    assert_eq!(body["ends_at"], "2027-11-07T03:00:00-05:00");
    assert_eq!(body["timezone"], "America/New_York");
    app.stop().await;
}

async fn events_through_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let (_ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let (status, _) = api(
        &app,
        &token,
        Method::POST,
        "/api/v1/orgs",
        Some(json!({"name": "Rust Paris", "slug": "rust-paris"})),
    )
    .await;
    assert_eq!(status, 201);
    let body = json!({
        "name": "API night", "starts_at": "2030-06-01T18:30:00+02:00", "ends_at": "2030-06-01T20:00:00+02:00",
        "timezone": "Europe/Paris", "location": "Room 1", "reminder_offsets": [86400, 900], "status": "published",
        "visibility": "private"
    });
    let post = |key: &'static str, body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            let r = app
                .http
                .post(app.url("/api/v1/orgs/rust-paris/events"))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // Idempotent create: a retry returns the same event; the key with another body is refused.
    let (status, created) = post("key-1", body.clone()).await;
    assert_eq!(status, 201, "{created}");
    let (status, again) = post("key-1", body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], created["id"]);
    let mut other = body.clone();
    other["name"] = json!("Other");
    let (status, problem) = post("key-1", other).await;
    assert_eq!(status, 409);
    assert!(problem["detail"].as_str().unwrap().contains("Idempotency-Key"));
    let (_, list) = api(&app, &token, Method::GET, "/api/v1/orgs/rust-paris/events", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one event, not two");
    assert_eq!(created["starts_at"], "2030-06-01T18:30:00+02:00");
    assert_eq!(created["reminder_offsets"], json!([86400, 900]));
    let id = created["id"].as_str().unwrap().to_owned();
    crate::support::told_workflow(&app.db.db, Uuid::parse_str(&id).unwrap()).await;
    let (_, fresh) = api(&app, &token, Method::GET, &format!("/api/v1/events/{id}"), None).await;
    assert_eq!(fresh["synced"], true, "{fresh}");

    // Validation: each bad field named.
    for (patch, field) in [
        (json!({"timezone": "Nowhere/City"}), "timezone"),
        (json!({"ends_at": "2030-06-01T17:00:00+02:00"}), "ends_at"),
        (json!({"reminder_offsets": [0]}), "reminder_offsets"),
        (json!({"reminder_offsets": [40_000_000]}), "reminder_offsets"),
        (json!({"reminder_offsets": [60, 60]}), "reminder_offsets"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"description": "x".repeat(20_001)}), "description"),
        (json!({"online_url": "ftp://example.org"}), "online_url"),
        // Invisible characters: a NUL would otherwise reach Postgres as a server error.
        (json!({"description": "Talks\u{0}"}), "description"),
        (json!({"name": "Rust\u{000B}night"}), "name"),
        (json!({"location": "Room\u{0085}1"}), "location"),
        (json!({"name": "Rust\u{2028}night"}), "name"),
    ] {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (status, problem) =
            api(&app, &token, Method::POST, "/api/v1/orgs/rust-paris/events", Some(b)).await;
        assert_eq!(status, 422, "{patch}");
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec![field], "{patch}");
        let (status, _) =
            api(&app, &token, Method::PATCH, &format!("/api/v1/events/{id}"), Some(patch.clone())).await;
        assert_eq!(status, 422, "PATCH {patch}");
    }

    // PATCH: only the given fields change; the history says old → new; the workflow follows.
    let (status, patched) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/events/{id}"),
        Some(json!({"location": "Room 2"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["location"], "Room 2");
    assert_eq!(patched["name"], "API night");
    assert_eq!(patched["revision"], 1);
    // Signalled within moments of the answer (which waits for it only briefly).
    crate::support::told_workflow(&app.db.db, Uuid::parse_str(&id).unwrap()).await;
    let (_, updates) = api(&app, &token, Method::GET, &format!("/api/v1/events/{id}/updates"), None).await;
    assert_eq!(updates[0]["kind"], "updated");
    assert_eq!(updates[0]["changes"]["place"], json!({"old": "Room 1", "new": "Room 2"}));
    assert_eq!(updates[0]["signalled"], true);
    assert_eq!(updates[1]["kind"], "published");
    let client = app.herald.as_ref().unwrap().temporal.client().await.unwrap();
    let handle = client.get_workflow_handle::<EventWorkflow>(format!("event-{id}"));
    eventually(Duration::from_secs(60), "the workflow to see revision 1", || async {
        let s = handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.ok()?;
        (s.plan_revision == 1).then_some(())
    })
    .await;

    // Pagination and the time range.
    for (i, day) in ["02", "03", "04"].iter().enumerate() {
        let b = json!({"name": format!("Later {i}"), "starts_at": format!("2030-06-{day}T10:00:00Z"),
            "ends_at": format!("2030-06-{day}T11:00:00Z"), "timezone": "UTC"});
        assert_eq!(api(&app, &token, Method::POST, "/api/v1/orgs/rust-paris/events", Some(b)).await.0, 201);
    }
    let (_, page1) = api(&app, &token, Method::GET, "/api/v1/orgs/rust-paris/events?limit=2", None).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    assert_eq!(page1["items"][0]["name"], "API night");
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = api(
        &app,
        &token,
        Method::GET,
        &format!("/api/v1/orgs/rust-paris/events?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    let names: Vec<&str> =
        page2["items"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Later 1", "Later 2"]);
    assert!(page2["next_cursor"].is_null());
    let (_, ranged) = api(
        &app,
        &token,
        Method::GET,
        "/api/v1/orgs/rust-paris/events?from=2030-06-02T12:00:00Z&to=2030-06-04T00:00:00Z",
        None,
    )
    .await;
    let names: Vec<&str> =
        ranged["items"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Later 1"]);
    let (status, problem) =
        api(&app, &token, Method::GET, "/api/v1/orgs/rust-paris/events?limit=500&from=yesterday", None).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);

    // Visibility: outsiders and anonymous callers get nothing.
    let (_, otto) = api_user(&app, "otto@example.org", "Otto", true).await;
    for path in [
        format!("/api/v1/events/{id}"),
        format!("/api/v1/events/{id}/updates"),
        "/api/v1/orgs/rust-paris/events".into(),
    ] {
        let (status, body) = api(&app, &otto, Method::GET, &path, None).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.to_string().contains("API night"));
        assert_eq!(app.get(&path).await.status(), 401);
    }
    assert_eq!(
        api(&app, &otto, Method::PATCH, &format!("/api/v1/events/{id}"), Some(json!({"name": "x"}))).await.0,
        404
    );
    assert_eq!(api(&app, &otto, Method::POST, &format!("/api/v1/events/{id}/cancel"), None).await.0, 404);
    assert_eq!(api(&app, &otto, Method::DELETE, &format!("/api/v1/events/{id}"), None).await.0, 404);

    // Cancel, then delete rules.
    assert_eq!(api(&app, &token, Method::DELETE, &format!("/api/v1/events/{id}"), None).await.0, 409);
    let (status, cancelled) =
        api(&app, &token, Method::POST, &format!("/api/v1/events/{id}/cancel"), None).await;
    assert_eq!(status, 200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(api(&app, &token, Method::POST, &format!("/api/v1/events/{id}/cancel"), None).await.0, 409);
    let draft = page2["items"][0]["id"].as_str().unwrap();
    assert_eq!(api(&app, &token, Method::DELETE, &format!("/api/v1/events/{draft}"), None).await.0, 204);
    assert_eq!(api(&app, &token, Method::GET, &format!("/api/v1/events/{draft}"), None).await.0, 404);

    // Everything is in the OpenAPI document.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/orgs/{slug}/events",
        "/api/v1/events/{id}",
        "/api/v1/events/{id}/cancel",
        "/api/v1/events/{id}/updates",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    app.stop().await;
}

async fn temporal_down_keeps_changes(backend: Backend) {
    let app = TestApp::start_with(TestDb::new(backend).await, "http://127.0.0.1:1", true).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let id = create_by_form(&ada, &org, &[]).await;
    let event = app.db.db.event(id).await.unwrap().unwrap();
    assert_eq!(event.status, EventStatus::Published);
    assert!(event.workflow_started_at.is_none(), "not started");
    let (_, page) = ada.page(&format!("/orgs/{}/events/{id}", org.slug)).await;
    assert!(page.contains("Saved; reminders will be scheduled when the scheduler is reachable."), "{page}");

    // An edit is saved too, and waits to be signalled.
    let r = ada.post(&format!("/orgs/{}/events/{id}/edit", org.slug), &form(&[("location", "Room 9")])).await;
    assert_eq!(r.status(), 303);
    let event = app.db.db.event(id).await.unwrap().unwrap();
    assert_eq!(event.location.as_deref(), Some("Room 9"));
    let pending: Vec<i64> = app
        .db
        .db
        .unsignalled_updates(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.event_id == id)
        .map(|u| u.revision)
        .collect();
    assert_eq!(pending, vec![0, 1]);
    assert_eq!(app.db.db.events_missing_workflow(10).await.unwrap().len(), 1);
    let (_, page) = ada.page(&format!("/orgs/{}/events/{id}", org.slug)).await;
    assert!(page.contains("scheduler is reachable"));
    app.stop().await;
}

async fn public_pages_and_ics(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let public = create_by_form(
        &ada,
        &org,
        &[("name", "Rust night, with pizza; and more"), ("description", "Bring a laptop\nand a friend")],
    )
    .await;
    let unlisted =
        create_by_form(&ada, &org, &[("name", "Unlisted meetup"), ("visibility", "unlisted")]).await;
    let private = create_by_form(&ada, &org, &[("name", "Private board"), ("visibility", "private")]).await;
    let draft = create_by_form(&ada, &org, &[("name", "Draft idea"), ("status", "draft")]).await;
    let path = |id: Uuid| {
        let app = &app;
        let org = org.slug.clone();
        async move { format!("/o/{org}/e/{}", app.db.db.event(id).await.unwrap().unwrap().slug) }
    };
    let anon = app.visitor();

    // The organization's page lists only upcoming public events.
    let (status, page) = anon.page(&format!("/o/{}", org.slug)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Rust night, with pizza; and more"));
    for hidden in ["Unlisted meetup", "Private board", "Draft idea"] {
        assert!(!page.contains(hidden), "{hidden} is not listed");
    }
    assert_eq!(anon.page("/o/nobody-here").await.0, 404);

    // The event page: times in the event's zone for anonymous visitors, both for a signed-in one.
    let public_path = path(public).await;
    let (status, page) = anon.page(&public_path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sat 1 Jun 2030, 18:30 – 20:00 EDT (America/New_York)"), "{page}");
    assert!(
        page.contains("<meta property=\"og:title\" content=\"Rust night, with pizza; and more\">"),
        "{page}"
    );
    assert!(page.contains("og:url"));
    let (_, page) = ada.page(&public_path).await;
    assert!(
        page.contains("Sun 2030-06-02, 00:30 – 02:00 CEST")
            && page.contains("Sat 2030-06-01, 18:30 – 20:00 EDT")
    );

    // Her time zone and date-format preferences are honoured wherever she reads a time.
    let prefs = [("display_name", "Ada"), ("timezone", "Asia/Tokyo"), ("date_format", "mdy")];
    assert_eq!(ada.post("/account", &prefs).await.status(), 303);
    let (_, page) = ada.page(&public_path).await;
    assert!(page.contains("Sun Jun 2, 2030, 07:30 – 09:00 JST (Asia/Tokyo)"), "{page}");
    assert!(page.contains("Sat Jun 1, 2030, 18:30 – 20:00 EDT (America/New_York)"), "{page}");
    let (_, page) = ada.page(&format!("/orgs/{}/events/{public}", org.slug)).await;
    assert!(page.contains("Sun Jun 2, 2030, 07:30 – 09:00 JST (Asia/Tokyo)"), "{page}");

    // Who sees what.
    assert_eq!(anon.page(&path(unlisted).await).await.0, 200);
    // An unlisted event's link is its only protection: 96 random bits (20 base-32 characters).
    let slug = app.db.db.event(unlisted).await.unwrap().unwrap().slug;
    let suffix = slug.rsplit('-').next().unwrap();
    assert!(
        suffix.len() == 20 && suffix.chars().all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)),
        "not guessable: {slug}"
    );
    let private_path = path(private).await;
    let outsider = app.signed_up("otto@example.org", "Otto", true).await;
    let (member, _) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    for (who, v) in [("anonymous", &anon), ("outsider", &outsider)] {
        let (status, page) = v.page(&private_path).await;
        assert_eq!(status, 404, "{who}");
        assert!(!page.contains("Private board"), "{who}");
        assert_eq!(v.page(&format!("{private_path}.ics")).await.0, 404, "{who} .ics");
    }
    let (status, page) = member.page(&private_path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Private board"));
    assert_eq!(member.page(&format!("{private_path}.ics")).await.0, 200);
    assert_eq!(ada.page(&path(draft).await).await.0, 404, "drafts are not public");

    // The .ics file: CRLF lines folded at 75 octets, escaped text, UTC times, the event id as UID.
    let r = anon.get(&format!("{public_path}.ics")).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = r.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    assert!(!ics.replace("\r\n", "").contains('\n'), "only CRLF line ends");
    assert!(ics.split("\r\n").all(|l| l.len() <= 75), "folded: {ics}");
    let unfolded = ics.replace("\r\n ", "");
    assert!(unfolded.contains(&format!("\r\nUID:{public}\r\n")));
    assert!(unfolded.contains("\r\nDTSTART:20300601T223000Z\r\n"), "{unfolded}");
    assert!(unfolded.contains("\r\nDTEND:20300602T000000Z\r\n"));
    assert!(unfolded.contains("\r\nSUMMARY:Rust night\\, with pizza\\; and more\r\n"), "{unfolded}");
    assert!(unfolded.contains("\r\nDESCRIPTION:Bring a laptop\\nand a friend\r\n"), "{unfolded}");

    // An independent parser (Python's `icalendar`) reads the same values back.
    let parsed = crate::support::parse_ics(&ics);
    assert_eq!(parsed["summary"], "Rust night, with pizza; and more", "{parsed}");
    assert_eq!(parsed["description"], "Bring a laptop\nand a friend");
    assert_eq!(parsed["uid"], public.to_string());
    assert_eq!(parsed["dtstart"], "2030-06-01T22:30:00+00:00");
    assert_eq!(parsed["dtend"], "2030-06-02T00:00:00+00:00");
    assert!(unfolded.contains("\r\nSEQUENCE:"), "a SEQUENCE calendars update by: {unfolded}");

    // Beside the .ics, the page opens Google Calendar and Outlook with the event filled in.
    let page = app.get(&public_path).await.text().await.unwrap();
    assert!(
        page.contains("https://calendar.google.com/calendar/render?action=TEMPLATE&amp;text=Rust+night%2C+with+pizza%3B+and+more&amp;dates=20300601T223000Z/20300602T000000Z"),
        "{page}"
    );
    assert!(
        page.contains("https://outlook.live.com/calendar/0/deeplink/compose?")
            && page.contains("startdt=2030-06-01T22%3A30%3A00Z"),
        "{page}"
    );
    app.stop().await;
}

/// The form's rules: every problem at once with the field named, a past start refused, "Ends"
/// defaulting to an hour after the start, Publish or Save as draft, a draft published from its
/// page, drafts listed (badged) with counts, and the schedule right after an edit.
async fn the_event_form_helps_and_drafts_publish(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let base = format!("/orgs/{}/events", org.slug);

    // The form offers Publish first, Save as draft beside it, and a searchable zone list.
    let (_, new) = ada.page(&format!("{base}/new")).await;
    let publish = new.find(r#"name="status" value="published""#).expect("a Publish button");
    let draft = new.find(r#"name="status" value="draft""#).expect("a Save as draft button");
    assert!(publish < draft, "Publish is the primary action");
    assert!(new.contains(r#"list="time-zones""#) && new.contains(r#"<option value="Europe/Paris">"#));

    // Three problems, one answer: each named by its field, the past start among them.
    let long = "x".repeat(201);
    let r = ada
        .post(
            &base,
            &form(&[("start", "2020-01-01T10:00"), ("name", long.as_str()), ("custom_reminders", "0m")]),
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains(r##"href="#f-start">Starts: This time has passed"##), "{body}");
    assert!(
        body.contains(r##"href="#f-name">Name: "##)
            && body.contains(r##"href="#f-custom_reminders">Other reminders: "##)
    );
    let r = ada.post(&base, &form(&[("end", "2030-06-01T17:00")])).await;
    assert!(r.text().await.unwrap().contains(r##"href="#f-end">Ends: The end must be after the start."##));
    assert!(app.db.db.org_events(org.id, None, None, None, true, 10).await.unwrap().is_empty());

    // "Ends" left empty: an hour after the start.
    let id = create_by_form(&ada, &org, &[("end", ""), ("status", "draft")]).await;
    let event = app.db.db.event(id).await.unwrap().unwrap();
    assert_eq!(event.ends_at - event.starts_at, chrono::Duration::hours(1));
    assert_eq!(event.status, EventStatus::Draft);

    // The draft is listed under Upcoming, badged, with counts on the filters.
    let (_, list) = ada.page(&base).await;
    assert!(list.contains("badge-draft") && list.contains("Rust night"), "{list}");
    assert!(list.contains(r#"aria-current="page">Upcoming <span class="count">1</span>"#), "{list}");
    assert!(list.contains(r#"Drafts <span class="count">1</span>"#), "{list}");

    // Its page offers Publish; publishing schedules the reminders and shows the link to share.
    let page_path = format!("{base}/{id}");
    let (_, page) = ada.page(&page_path).await;
    assert!(page.contains("This is a draft") && page.contains(&format!(r#"action="{page_path}/publish""#)));
    let r = ada.post(&format!("{page_path}/publish"), &[]).await;
    assert_eq!(location(&r), page_path);
    let (_, page) = ada.page(&page_path).await;
    assert!(page.contains("The event is published."), "{page}");
    assert!(page.contains("/o/rust-paris/e/rust-night") && page.contains("Copy link"), "{page}");
    assert_eq!(app.db.db.event(id).await.unwrap().unwrap().status, EventStatus::Published);

    // Right after an edit the schedule shows the new plan, never the old one.
    let mut edited = form(&[("custom_reminders", "2h")]);
    edited.retain(|(k, _)| *k != "remind_1d");
    let r = ada.post(&format!("{page_path}/edit"), &edited).await;
    assert_eq!(r.status(), 303);
    let (_, schedule) = ada.page(&format!("{page_path}/deliveries")).await;
    assert!(schedule.contains("Reminder, 2 hours before"), "{schedule}");
    assert!(!schedule.contains("1 day before") && !schedule.contains("30 minutes before"), "{schedule}");

    // A draft whose start has passed is not published as it is.
    let old = create_by_form(&ada, &org, &[("status", "draft")]).await;
    let past = chrono::Utc::now() - chrono::Duration::hours(2);
    crate::integrations::execute(&app.db.db, "UPDATE events SET starts_at = $1 WHERE id = $2", past, old)
        .await;
    let r = ada.post(&format!("{base}/{old}/publish"), &[]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("start has passed"));
    assert_eq!(app.db.db.event(old).await.unwrap().unwrap().status, EventStatus::Draft);

    // Home lists what Ada organizes, and the checklist has moved on.
    let (_, home) = ada.page("/").await;
    assert!(home.contains("Events you organize") && home.contains("Rust night"), "{home}");
    // Mail is set up here, so her address is a channel already: every first step is done.
    assert!(!home.contains("Get your first reminder out"), "{home}");
    app.stop().await;
}
