//! The outbox: a change saved while Temporal is unreachable answers at once, and its workflow is
//! started and signalled from the outbox once Temporal is back; several processes claim its
//! rows without ever taking the same row twice.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use herald::db::events::NewEvent;
use herald::db::models::{EventStatus, Rsvp, Visibility};
use herald::db::users::NewUser;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::delivery::{ADA_MAIL, got, join, organizer, person, spawn_worker};
use crate::orgs::api;
use crate::support::temporal_server::TemporalServer;
use crate::support::{Backend, TestApp, TestDb, eventually};

both_backends!(a_save_while_temporal_is_down_is_told_from_the_outbox, outbox_rows_are_claimed_once);

/// Temporal is down while an event is created and edited through the API: both answer at once
/// (before this outbox, an edit waited seconds for Temporal), the changes wait in the outbox,
/// and once Temporal is back the web process's outbox drain starts the workflow with the
/// edited plan. There is no worker (hence no reconciler) until the outbox has drained, so the
/// drain did it. Then a worker runs the workflow: the reminder arrives once, with the edit.
async fn a_save_while_temporal_is_down_is_told_from_the_outbox(backend: Backend) {
    let mut temporal = TemporalServer::start().await;
    let address = temporal.address();
    temporal.stop();
    let app = TestApp::start_with(TestDb::new(backend).await, &address, false).await;
    let db = &app.db.db;
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "UTC", &[(ADA_MAIL, &[])]).await;
    let starts_at = Utc::now() + chrono::Duration::seconds(50);
    let body = json!({
        "name": "Rust night", "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::seconds(5)).to_rfc3339(),
        "timezone": "UTC", "location": "Room 1", "reminder_offsets": [25], "status": "published",
    });
    let clock = Instant::now();
    let (status, body) = api(&app, &olga, Method::POST, "/api/v1/orgs/rust-paris/events", Some(body)).await;
    let create_took = clock.elapsed();
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["synced"], false, "saved, not yet synced: {body}");
    let ev = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let clock = Instant::now();
    let (status, body) =
        api(&app, &olga, Method::PATCH, &format!("/api/v1/events/{ev}"), Some(json!({"location": "Room 9"})))
            .await;
    let edit_took = clock.elapsed();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["synced"], false, "{body}");
    println!("with Temporal down: create answered in {create_took:?}, edit in {edit_took:?}");
    // Not a benchmark: a save must not wait for an unreachable Temporal (it took seconds).
    for (what, took) in [("create", create_took), ("edit", edit_took)] {
        assert!(took < Duration::from_secs(1), "{what} answered in {took:?} with Temporal down");
    }
    let (waiting, oldest) = db.outbox_summary().await.unwrap();
    assert_eq!(waiting, 2, "the publication and the edit wait in the outbox");
    assert!(oldest.is_some());
    assert!(db.event(ev).await.unwrap().unwrap().workflow_started_at.is_none());

    temporal.restart().await;
    eventually(Duration::from_secs(60), "the outbox to drain into Temporal", || async {
        let (waiting, _) = db.outbox_summary().await.ok()?;
        let event = db.event(ev).await.ok()??;
        let unsynced = db.event_unsynced(ev).await.ok()?;
        (waiting == 0 && event.workflow_started_at.is_some() && !unsynced).then_some(())
    })
    .await;
    let (_, fresh) = api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}"), None).await;
    assert_eq!(fresh["synced"], true, "{fresh}");

    let mut worker = spawn_worker(&app);
    let reminder = eventually(Duration::from_secs(60), "the reminder", || async {
        got(&app, &ada.key, "mailtos://", "Reminder: ").into_iter().next()
    })
    .await;
    assert!(reminder.body.contains("Where: Room 9"), "the edit reached the workflow: {}", reminder.body);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got(&app, &ada.key, "mailtos://", "Reminder: ").len(), 1, "the reminder arrived once");
    worker.kill();
    app.stop().await;
    drop(temporal);
}

fn new_event(org_id: Uuid, slug: &str) -> NewEvent<'_> {
    let starts_at = Utc::now() + chrono::Duration::days(7);
    NewEvent {
        org_id,
        slug,
        name: "Rust meetup",
        description: "",
        location: None,
        online_url: None,
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        timezone: "UTC",
        visibility: Visibility::Public,
        reminder_offsets: vec![3_600],
        status: EventStatus::Published,
        created_by: None,
    }
}

/// Every published event and every change writes an outbox row with its commit; four drains
/// claiming at once (separate connection pools, like separate processes) each get different
/// rows, every row is claimed exactly once, and a claimed row is not claimable again until its
/// lease ends or it is released.
async fn outbox_rows_are_claimed_once(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let ada = db
        .create_user(&NewUser {
            email: "ada@example.org",
            display_name: "Ada",
            password_hash: None,
            timezone: "UTC",
            verified: true,
        })
        .await
        .unwrap();
    let org = db.create_organization("rustaceans", "Rustaceans", ada.id).await.unwrap();
    let mut events = Vec::new();
    for i in 0..60 {
        let slug = format!("meetup-{i}");
        let event = db.create_event(&new_event(org.id, &slug)).await.unwrap();
        events.push(event.id);
    }
    let draft = db.create_event(&NewEvent { status: EventStatus::Draft, ..new_event(org.id, "draft") }).await;
    draft.unwrap();
    assert_eq!(db.outbox_summary().await.unwrap().0, 60, "one row per published event, none for a draft");
    // The saving process holds its rows for a while: nobody else may claim them yet.
    let lease = Utc::now() + chrono::Duration::seconds(60);
    assert!(db.claim_outbox(100, lease).await.unwrap().is_empty(), "held by the process that saved them");
    for id in &events {
        db.release_outbox(*id, None, Utc::now()).await.unwrap();
    }

    let mut pools = Vec::new();
    for _ in 0..4 {
        pools.push(herald::db::Db::connect(&t.url).await.unwrap());
    }
    let claims = futures::future::join_all(pools.iter().map(|pool| async move {
        let mut mine = Vec::new();
        loop {
            let rows = pool.claim_outbox(7, Utc::now() + chrono::Duration::seconds(60)).await.unwrap();
            if rows.is_empty() {
                return mine;
            }
            mine.extend(rows.into_iter().map(|r| r.id));
        }
    }))
    .await;
    let all: Vec<i64> = claims.iter().flatten().copied().collect();
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every row claimed once: {claims:?}");
    assert_eq!(distinct.len(), 60, "no row claimed twice: {claims:?}");
    assert!(db.claim_outbox(100, lease).await.unwrap().is_empty(), "claimed rows are leased");

    // Released rows are claimable again; done rows are gone.
    db.release_outbox(events[0], None, Utc::now()).await.unwrap();
    let again = db.claim_outbox(100, lease).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].event_id, again[0].attempts), (events[0], 2), "the second claim of that row");
    db.outbox_done(events[0], 0).await.unwrap();
    assert_eq!(db.outbox_summary().await.unwrap().0, 59);
    for pool in pools {
        pool.close().await;
    }
}
