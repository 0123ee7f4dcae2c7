//! Temporal outages: the web keeps serving, /readyz says why, and everything recovers alone.

use std::time::Duration;

use herald_workflows::EventWorkflow;
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};

use crate::support::temporal_server::TemporalServer;
use crate::support::{Backend, TestApp, TestDb, eventually};

async fn readiness(app: &TestApp) -> (u16, serde_json::Value) {
    let r = app.get("/readyz").await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporal_outage_turns_readyz_red_then_green_without_restart() {
    let mut server = TemporalServer::start().await;
    let app = TestApp::start_with(TestDb::new(Backend::Sqlite).await, &server.address(), true).await;
    eventually(Duration::from_secs(60), "/readyz green at start", || async {
        (readiness(&app).await.0 == 200).then_some(())
    })
    .await;

    server.stop();
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["temporal"]["ok"], false);
    assert_eq!(body["checks"]["database"]["ok"], true);
    let reason = body["checks"]["temporal"]["detail"].as_str().unwrap_or_default();
    assert!(reason.contains("cannot reach Temporal"), "the reason is given: {reason}");
    let port = server.address().rsplit(':').next().unwrap().to_owned();
    assert!(!body.to_string().contains(&port), "no internal address for anonymous callers: {body}");
    assert_eq!(app.get("/").await.status(), 200, "pages still load while Temporal is down");

    server.restart().await;
    eventually(Duration::from_secs(60), "/readyz green again after Temporal returns", || async {
        (readiness(&app).await.0 == 200).then_some(())
    })
    .await;

    // The worker recovered too: a workflow started now runs to completion on it.
    let herald = app.herald.as_ref().unwrap();
    let ev = crate::workflow::published_event(&app.db, 3).await;
    let client = herald.temporal.client().await.expect("client connected");
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
        .expect("workflow starts");
    tokio::time::timeout(Duration::from_secs(60), handle.get_result(WorkflowGetResultOptions::default()))
        .await
        .expect("the recovered worker ran the workflow to its end")
        .expect("workflow succeeded");
    app.stop().await;
}
