//! The minimal per-event workflow on a real Temporal dev server.

use std::time::Duration;

use herald_workflows::{EventSignal, EventWorkflow, Phase};
use temporalio_client::{
    WorkflowGetResultOptions, WorkflowQueryOptions, WorkflowSignalOptions, WorkflowStartOptions,
};

use crate::support::{Backend, TestApp, TestDb, eventually};

/// A published event in a fresh organization, ending `ends_in_secs` from now.
pub async fn published_event(db: &TestDb, ends_in_secs: i64) -> uuid::Uuid {
    use herald::db::events::NewEvent;
    use herald::db::models::{EventStatus, Visibility};
    use herald::db::users::NewUser;
    let owner = db
        .db
        .create_user(&NewUser {
            email: "owner@example.org",
            display_name: "Owner",
            password_hash: None,
            timezone: "UTC",
            verified: true,
        })
        .await
        .unwrap();
    let org = db.db.create_organization("org", "Org", owner.id).await.unwrap();
    let now = chrono::Utc::now();
    db.db
        .create_event(&NewEvent {
            org_id: org.id,
            slug: "ev",
            name: "Event",
            description: "",
            location: None,
            online_url: None,
            starts_at: now + chrono::Duration::seconds(ends_in_secs) - chrono::Duration::milliseconds(500),
            ends_at: now + chrono::Duration::seconds(ends_in_secs),
            timezone: "UTC",
            visibility: Visibility::Public,
            reminder_offsets: vec![],
            status: EventStatus::Published,
            created_by: Some(owner.id),
        })
        .await
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_workflow_follows_signals_and_finishes_on_cancel() {
    let app = TestApp::start(Backend::Sqlite).await;
    let herald = app.herald.as_ref().unwrap();
    herald.temporal.wait_for(|s| *s == herald::temporal::LinkState::Up).await;
    let ev = published_event(&app.db, 3600).await;
    let client = herald.temporal.client().await.expect("connected");
    let handle = client
        .start_workflow(
            EventWorkflow::run,
            herald_workflows::WorkflowInput { event_id: ev, ..Default::default() },
            WorkflowStartOptions::new(
                herald.temporal.config().task_queue.clone(),
                herald_workflows::workflow_id(ev),
            )
            .build(),
        )
        .await
        .unwrap();

    let status = eventually(Duration::from_secs(30), "the workflow to wait for the event's end", || async {
        let s = handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.ok()?;
        (s.phase == Phase::Waiting).then_some(s)
    })
    .await;
    assert_eq!(status.plan_revision, 0);
    assert!(status.next_wake_at.is_some(), "it sleeps until the end");

    // Commit first, then signal: the workflow re-reads the plan at the new revision.
    let update = app
        .db
        .db
        .change_event_status(
            ev,
            herald::db::models::EventStatus::Published,
            herald::db::models::UpdateKind::Updated,
            serde_json::json!({}),
            None,
        )
        .await
        .unwrap();
    handle
        .signal(
            EventWorkflow::event_updated,
            EventSignal { revision: update.revision, traceparent: None, refresh: false },
            WorkflowSignalOptions::default(),
        )
        .await
        .unwrap();
    eventually(Duration::from_secs(30), "the workflow to catch up with revision 1", || async {
        let s = handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.ok()?;
        (s.plan_revision == 1 && s.phase == Phase::Waiting).then_some(())
    })
    .await;

    let cancel = app
        .db
        .db
        .change_event_status(
            ev,
            herald::db::models::EventStatus::Cancelled,
            herald::db::models::UpdateKind::Cancelled,
            serde_json::json!({}),
            None,
        )
        .await
        .unwrap();
    handle
        .signal(
            EventWorkflow::event_cancelled,
            EventSignal { revision: cancel.revision, traceparent: None, refresh: false },
            WorkflowSignalOptions::default(),
        )
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), handle.get_result(WorkflowGetResultOptions::default()))
        .await
        .expect("the cancelled event's workflow finishes")
        .expect("and succeeds");
    app.stop().await;
}
