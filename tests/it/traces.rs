//! Optional OpenTelemetry traces (`HERALD_OTLP_ENDPOINT`): an organizer's request, the Temporal
//! start or signal it makes, the `deliver` activity and its Apprise call arrive at an OTLP/HTTP
//! receiver as one trace, parent by parent — with no secret in any attribute.
//!
//! The receiver is a few lines of axum that decode what Herald posts with the OTLP protobuf
//! types (`opentelemetry-proto`). Traces install a process-wide subscriber: nextest runs each
//! test in its own process.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use herald::db::models::Rsvp;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;
use reqwest::Method;
use serde_json::json;

use crate::delivery::{create_org, event, got, join, person_of, wait_for_temporal};
use crate::delivery_pages::signed_in;
use crate::orgs::api;
use crate::support::{Backend, TestApp, eventually};

/// A span as the receiver got it.
#[derive(Debug, Clone)]
struct Span {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    attributes: Vec<(String, String)>,
}

type Received = Arc<Mutex<Vec<Span>>>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn export(State(received): State<Received>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export request");
    let mut spans = received.lock().unwrap();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            for s in scope.spans {
                let attributes =
                    s.attributes.iter().map(|kv| (kv.key.clone(), format!("{:?}", kv.value))).collect();
                spans.push(Span {
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent: hex(&s.parent_span_id),
                    name: s.name,
                    attributes,
                });
            }
        }
    }
    ExportTraceServiceResponse { partial_success: None }.encode_to_vec()
}

/// An OTLP/HTTP receiver on a free port: its base URL and what it received.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let app =
        axum::Router::new().route("/v1/traces", axum::routing::post(export)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, received)
}

/// The span named `name` in `spans` whose parent is `parent`'s span.
fn child<'a>(spans: &'a [Span], parent: &Span, name: &str) -> Option<&'a Span> {
    spans.iter().find(|s| s.name == name && s.parent == parent.span_id && s.trace_id == parent.trace_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_its_signal_the_delivery_and_the_apprise_call_are_one_trace() {
    let (base, received) = receiver().await;
    let config = herald::config::TracesArgs { otlp_endpoint: Some(url::Url::parse(&base).unwrap()) };
    let url = config.traces_url().unwrap();
    assert_eq!(url.as_str(), format!("{base}/v1/traces"));
    // The exporter's blocking HTTP client is made (and later dropped) off the async runtime.
    let traces = tokio::task::spawn_blocking(move || {
        herald::telemetry::init(herald::config::LogFormat::Json, Some(&url))
    })
    .await
    .unwrap()
    .expect("traces on");

    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let (_, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (_, ada_id, ada_token) = signed_in(&app, "ada@example.org", "Ada").await;
    let ada =
        person_of(&app, ada_id, &ada_token, "Ada", "UTC", &[("ntfys://ntfy.example.org/ada-traced", &[])])
            .await;
    // Publishing starts the workflow: a request and its start, no reminder yet. It ends within
    // ten minutes, so the workflow starts awake (one far off would sleep until shortly before).
    let (ev, _) = event(&app, &olga, 300, 300, &[]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    // On a busy machine the start can finish after the request answered: wait for it, so the
    // change below is a signal rather than part of a later start's plan.
    eventually(Duration::from_secs(30), "the workflow to start", || async {
        app.db.db.event(ev).await.ok().flatten().and_then(|e| e.workflow_started_at).map(|_| ())
    })
    .await;
    // ... and for its first task to have read the plan: a change saved before that would be in
    // the plan read at the start, and the reminder would follow the start's trace.
    eventually(Duration::from_secs(30), "the workflow to read its plan", || async {
        let (status, schedule) =
            api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/schedule"), None).await;
        (status == 200 && schedule["source"] == "workflow" && schedule["phase"] == "waiting").then_some(())
    })
    .await;
    // The organizer moves the event to 8 s from now with a reminder 4 s before: a signal, then
    // the reminder goes out through Ada's channel.
    let starts_at = chrono::Utc::now() + chrono::Duration::seconds(8);
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({
            "starts_at": starts_at.to_rfc3339(),
            "ends_at": (starts_at + chrono::Duration::seconds(60)).to_rfc3339(),
            "reminder_offsets": [4],
        })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(40), "Ada's reminder", || async {
        (!got(&app, &ada.key, "ntfys://", "Reminder: ").is_empty()).then_some(())
    })
    .await;

    // request (PATCH) → temporal.signal → deliver → apprise.notify, one trace.
    let spans = eventually(Duration::from_secs(30), "the delivery's spans at the receiver", || async {
        let spans = received.lock().unwrap().clone();
        let found = spans.iter().any(|d| d.name == "deliver" && child(&spans, d, "apprise.notify").is_some());
        found.then_some(spans)
    })
    .await;
    let deliver =
        spans.iter().find(|d| d.name == "deliver" && child(&spans, d, "apprise.notify").is_some()).unwrap();
    let notify = child(&spans, deliver, "apprise.notify").unwrap();
    let signal = spans
        .iter()
        .find(|s| s.span_id == deliver.parent && s.trace_id == deliver.trace_id)
        .unwrap_or_else(|| panic!("the activity's parent, carried through Temporal: {spans:#?}"));
    assert_eq!(signal.name, "temporal.signal", "{spans:#?}");
    let request = spans
        .iter()
        .find(|s| s.span_id == signal.parent && s.trace_id == signal.trace_id)
        .unwrap_or_else(|| panic!("the signal's parent: {spans:#?}"));
    assert_eq!(request.name, "request", "{spans:#?}");
    assert!(
        request.attributes.iter().any(|(k, v)| k == "path" && v.contains(&format!("/api/v1/events/{ev}"))),
        "the request's path: {request:?}"
    );
    assert!(request.attributes.iter().any(|(k, v)| k == "method" && v.contains("PATCH")), "{request:?}");
    let ids: std::collections::HashSet<_> =
        [request, signal, deliver, notify].iter().map(|s| s.trace_id.clone()).collect();
    assert_eq!(ids.len(), 1, "one trace");

    // Publishing: its request and the workflow's start, one trace too.
    let start = spans
        .iter()
        .find(|s| s.name == "temporal.start_workflow")
        .unwrap_or_else(|| panic!("the workflow's start: {spans:#?}"));
    let publish = spans
        .iter()
        .find(|s| s.span_id == start.parent && s.trace_id == start.trace_id)
        .unwrap_or_else(|| panic!("the start's parent: {spans:#?}"));
    assert_eq!(publish.name, "request");
    assert!(
        publish.attributes.iter().any(|(k, v)| k == "path" && v.contains("/api/v1/orgs/rust-paris/events"))
    );
    assert!(child(&spans, request, "temporal.signal").is_some());

    // No secret in any span: no channel URL, no Apprise key, no token; not even an address.
    let all = format!("{spans:?}");
    for secret in ["ntfys://", ada.key.as_str(), olga.as_str(), ada_token.as_str(), "@example.org"] {
        assert!(!all.contains(secret), "a span shows {secret}");
    }
    app.stop().await;
    tokio::task::spawn_blocking(move || drop(traces)).await.unwrap();
}

/// Temporal is down when an organizer publishes an event: the change waits in the outbox, and
/// when Temporal is back the outbox drain (a background task, outside any request) starts the
/// workflow. The start still joins the publishing request's trace, which the outbox row kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_told_later_by_the_outbox_drain_joins_the_requests_trace() {
    let (base, received) = receiver().await;
    let config = herald::config::TracesArgs { otlp_endpoint: Some(url::Url::parse(&base).unwrap()) };
    let url = config.traces_url().unwrap();
    let traces = tokio::task::spawn_blocking(move || {
        herald::telemetry::init(herald::config::LogFormat::Json, Some(&url))
    })
    .await
    .unwrap()
    .expect("traces on");
    let mut temporal = crate::support::temporal_server::TemporalServer::start().await;
    let address = temporal.address();
    temporal.stop();
    let app = TestApp::start_with(crate::support::TestDb::new(Backend::Sqlite).await, &address, false).await;
    let (_, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let starts_at = chrono::Utc::now() + chrono::Duration::hours(1);
    let (status, body) = api(
        &app,
        &olga,
        Method::POST,
        "/api/v1/orgs/rust-paris/events",
        Some(json!({
            "name": "Rust night", "starts_at": starts_at.to_rfc3339(),
            "ends_at": (starts_at + chrono::Duration::hours(1)).to_rfc3339(),
            "timezone": "UTC", "location": "Room 1", "reminder_offsets": [600], "status": "published",
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["synced"], false, "Temporal is down: saved, not yet told: {body}");
    temporal.restart().await;
    let spans = eventually(Duration::from_secs(90), "the drained start's span", || async {
        let spans = received.lock().unwrap().clone();
        spans.iter().any(|s| s.name == "temporal.start_workflow").then_some(spans)
    })
    .await;
    let start = spans.iter().find(|s| s.name == "temporal.start_workflow").unwrap();
    // The outbox row was written inside the request (in the span of the database call that
    // saved the event): walk up from the start to the request.
    let mut at = start;
    let publish = loop {
        let parent = spans
            .iter()
            .find(|s| s.span_id == at.parent && s.trace_id == start.trace_id)
            .unwrap_or_else(|| panic!("the start's ancestors, kept by the outbox: {spans:#?}"));
        if parent.name == "request" {
            break parent;
        }
        at = parent;
    };
    assert!(
        publish.attributes.iter().any(|(k, v)| k == "path" && v.contains("/api/v1/orgs/rust-paris/events")),
        "{publish:?}"
    );
    app.stop().await;
    drop(temporal);
    tokio::task::spawn_blocking(move || drop(traces)).await.unwrap();
}
