//! An event whose first notice is far off starts its workflow asleep: Temporal hands it its first
//! task 15 to 30 minutes before that notice, so thousands of events planned weeks ahead cost the
//! scheduler and the worker nothing until then. Nothing may be lost by it: a change, a cancellation
//! or a participant's own earlier reminder wakes the workflow at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use herald::db::models::Rsvp;
use herald_workflows::EventWorkflow;
use reqwest::Method;
use serde_json::{Value, json};
use temporalio_client::WorkflowQueryOptions;
use uuid::Uuid;

use crate::delivery::{ADA_MAIL, event, got, join, organizer, person_of, wait_for_temporal};
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, eventually};

both_backends!(a_far_off_event_sleeps_and_a_change_wakes_it);

/// A draft starting in three days with a reminder one day before.
async fn far_off_draft(app: &TestApp, token: &str, name: &str) -> Uuid {
    let starts_at = Utc::now() + chrono::Duration::days(3);
    let body = json!({
        "name": name, "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::hours(1)).to_rfc3339(),
        "timezone": "UTC", "reminder_offsets": [86_400], "status": "draft",
    });
    let (status, body) = api(app, token, Method::POST, "/api/v1/orgs/rust-paris/events", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    Uuid::parse_str(body["id"].as_str().unwrap()).unwrap()
}

/// Starts the event's workflow as another process would have, asleep for `delay`.
async fn start_elsewhere(app: &TestApp, ev: Uuid, delay: Duration) {
    let herald = app.herald.as_ref().unwrap();
    let client = herald.temporal.client().await.expect("connected");
    let input = herald_workflows::WorkflowInput { event_id: ev, ..Default::default() };
    let queue = &herald.temporal.config().task_queue;
    let started = herald::temporal::start_delayed(
        &client,
        EventWorkflow::run,
        input,
        queue,
        herald_workflows::workflow_id(ev),
        delay,
    )
    .await
    .unwrap();
    assert!(started);
}

async fn publish(app: &TestApp, token: &str, ev: Uuid) {
    let (status, body) =
        api(app, token, Method::PATCH, &format!("/api/v1/events/{ev}"), Some(json!({"status": "published"})))
            .await;
    assert_eq!(status, 200, "{body}");
    crate::support::told_workflow(&app.db.db, ev).await;
}

async fn schedule(app: &TestApp, token: &str, ev: Uuid) -> Value {
    let (status, body) = api(app, token, Method::GET, &format!("/api/v1/events/{ev}/schedule"), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Whether `at` is the moment `expected` (Postgres keeps microseconds).
fn close(at: &Value, expected: DateTime<Utc>) -> bool {
    at.as_str()
        .and_then(|a| a.parse::<DateTime<Utc>>().ok())
        .is_some_and(|a| (a - expected).abs() < chrono::Duration::milliseconds(1))
}

/// Whether the event's workflow answers a query (an asleep one has had no task yet: it cannot).
async fn answers(app: &TestApp, ev: Uuid) -> bool {
    let herald = app.herald.as_ref().unwrap();
    let client = herald.temporal.client().await.expect("connected");
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(ev));
    handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.is_ok()
}

async fn a_far_off_event_sleeps_and_a_change_wakes_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (ada_user, ada_token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let ada = person_of(&app, ada_user.id, &ada_token, "Ada", "UTC", &[(ADA_MAIL, &["email"])]).await;

    // Three days ahead, a reminder one day before: the workflow rests until shortly before it.
    let day = 86_400;
    let (ev, starts_at) = event(&app, &olga, 3 * day, 3600, &[day]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let s = schedule(&app, &olga, ev).await;
    assert_eq!(s["source"], "asleep", "{s}");
    let wakes_at: DateTime<Utc> = s["wakes_at"].as_str().unwrap().parse().unwrap();
    let reminder = starts_at - chrono::Duration::seconds(day);
    assert!(
        wakes_at <= reminder - chrono::Duration::minutes(15)
            && wakes_at >= reminder - chrono::Duration::minutes(31),
        "wakes 15 to 30 minutes before the first reminder ({reminder}): {wakes_at}"
    );
    assert!(close(&s["items"][0]["due_at"], reminder), "the reminder is listed: {s}");
    assert!(!answers(&app, ev).await, "an asleep workflow has had no task yet");

    // Moved to 40 s from now with a reminder 20 s before: the change wakes it, Ada hears of the
    // change at once and gets the new reminder on time, once.
    let new_start = Utc::now() + chrono::Duration::seconds(40);
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({
            "starts_at": new_start.to_rfc3339(),
            "ends_at": (new_start + chrono::Duration::seconds(60)).to_rfc3339(),
            "reminder_offsets": [20],
        })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(30), "the change notice", || async {
        got(&app, &ada.key, "mailtos://", "Changed: ").into_iter().next()
    })
    .await;
    assert!(answers(&app, ev).await, "awake after the change");
    let s = schedule(&app, &olga, ev).await;
    assert_ne!(s["source"], "asleep", "{s}");
    let first = eventually(Duration::from_secs(50), "the reminder", || async {
        got(&app, &ada.key, "mailtos://", "Reminder: ").into_iter().next()
    })
    .await;
    let due = new_start - chrono::Duration::seconds(20);
    assert!(first.at >= due, "not early: {} ms before its time", (due - first.at).num_milliseconds());
    assert!(
        first.at - due < chrono::Duration::seconds(10),
        "on time: {} ms late",
        (first.at - due).num_milliseconds()
    );

    // Another far-off event, cancelled while its workflow sleeps: Ada is told at once.
    let (other, _) = event(&app, &olga, 5 * day, 3600, &[day]).await;
    join(&app, other, &ada, Rsvp::Going, None).await;
    assert_eq!(schedule(&app, &olga, other).await["source"], "asleep");
    let (status, body) =
        api(&app, &olga, Method::POST, &format!("/api/v1/events/{other}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(30), "the cancellation", || async {
        got(&app, &ada.key, "mailtos://", "Cancelled: ").into_iter().next()
    })
    .await;

    // A third, where Ada adds a time of her own before the workflow would wake: it wakes to plan it.
    let (third, third_start) = event(&app, &olga, 3 * day, 3600, &[day]).await;
    join(&app, third, &ada, Rsvp::Going, None).await;
    assert!(!answers(&app, third).await, "asleep");
    let mine = format!("/api/v1/me/events/{third}/reminders");
    let (status, body) = api(&app, &ada_token, Method::PUT, &mine, Some(json!({"own": [2 * day]}))).await;
    assert_eq!(status, 200, "{body}");
    let planned = eventually(Duration::from_secs(30), "the workflow to wake and plan Ada's time", || async {
        let s = schedule(&app, &olga, third).await;
        (s["source"] == "workflow").then_some(s)
    })
    .await;
    let own_due = third_start - chrono::Duration::seconds(2 * day);
    assert_eq!(planned["items"][0]["offset"], 2 * day, "{planned}");
    assert!(close(&planned["items"][0]["due_at"], own_due), "{planned}");

    assert_eq!(got(&app, &ada.key, "mailtos://", "Reminder: ").len(), 1, "one reminder in all");
    assert_eq!(got(&app, &ada.key, "mailtos://", "Changed: ").len(), 1, "one change notice");
    app.stop().await;
}

/// Another start got there first (the reconciler while a save's start was on its way, or a
/// process that died before recording it), perhaps on an older plan: a workflow asleep until
/// later than the event's plan needs is woken; one that wakes early enough is left asleep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_finds_the_workflow_there_wakes_it_only_if_it_would_wake_too_late() {
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;

    // Asleep for three days, past its first reminder in two: publishing wakes it.
    let late = far_off_draft(&app, &olga, "Too late").await;
    start_elsewhere(&app, late, Duration::from_secs(3 * 86_400)).await;
    publish(&app, &olga, late).await;
    eventually(Duration::from_secs(30), "the late sleeper to be woken", || async {
        answers(&app, late).await.then_some(())
    })
    .await;
    assert_eq!(schedule(&app, &olga, late).await["source"], "workflow");

    // Asleep for an hour only: it stays asleep, and the organizer sees when it wakes.
    let early = far_off_draft(&app, &olga, "Early enough").await;
    start_elsewhere(&app, early, Duration::from_secs(3600)).await;
    publish(&app, &olga, early).await;
    let s = schedule(&app, &olga, early).await;
    assert_eq!(s["source"], "asleep", "{s}");
    let wakes_at: DateTime<Utc> = s["wakes_at"].as_str().unwrap().parse().unwrap();
    let in_an_hour = Utc::now() + chrono::Duration::hours(1);
    assert!((wakes_at - in_an_hour).abs() < chrono::Duration::minutes(1), "{wakes_at}");
    assert!(!answers(&app, early).await, "still asleep");
    app.stop().await;
}
