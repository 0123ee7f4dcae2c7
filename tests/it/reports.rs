//! The organization's report: answers per day, deliveries by status and channel kind, reminder
//! lateness — drawn as SVG with the same numbers in hidden tables, and as JSON in the API.
//! Managers only; a plain member and another organization's owner get 404.

use chrono::{Duration, Utc};
use herald::db::models::{DeliveryStatus, NoticeKind, Role, Rsvp};
use herald::db::notifications::PlannedNotice;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::delivery::{create_org, event, join, person};
use crate::delivery_pages::signed_in;
use crate::orgs::{api, member_of, owner_of};
use crate::support::{Backend, TestApp};

both_backends!(managers_read_the_report_at_a_glance);

/// A ledger row for `participant` due `late_ms` before now, then delivered with `status`.
pub(crate) async fn ledger_row(
    app: &TestApp,
    ev: Uuid,
    participant: Uuid,
    integration: Option<Uuid>,
    late_ms: i64,
    status: Option<DeliveryStatus>,
) {
    let n = app
        .db
        .db
        .plan_notification(&PlannedNotice {
            event_id: ev,
            participant_id: participant,
            integration_id: integration,
            kind: NoticeKind::Reminder,
            idempotency_key: &format!("report-{}", Uuid::new_v4()),
            due_at: Utc::now() - Duration::milliseconds(late_ms),
        })
        .await
        .unwrap();
    if let Some(status) = status {
        app.db.db.record_delivery(n.id, status, Some(200), None).await.unwrap();
    }
}

/// The `<svg class="chart-svg" …>…</svg>` parts of a page, each parsed as XML.
fn charts(html: &str) -> usize {
    let mut count = 0;
    let mut rest = html;
    while let Some(start) = rest.find("<svg class=\"chart-svg\"") {
        let end = rest[start..].find("</svg>").unwrap() + start + "</svg>".len();
        let svg = &rest[start..end];
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
        assert!(doc.descendants().any(|n| n.has_tag_name("title")), "{svg}");
        count += 1;
        rest = &rest[end..];
    }
    count
}

fn row(label: &str, values: &[u64]) -> String {
    let cells: String = values.iter().map(|v| format!("<td>{v}</td>")).collect();
    format!("<th scope=\"row\">{label}</th>{cells}")
}

fn counts(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["count"].as_u64().unwrap()))
        .collect()
}

async fn managers_read_the_report_at_a_glance(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (olga_v, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;

    // Before anything happened: friendly empty states, no chart.
    let (status, html) = olga_v.page("/orgs/rust-paris/report").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("No answers yet") && html.contains("Nothing delivered yet"), "{html}");
    assert!(html.contains("No reminders sent yet"), "{html}");
    assert_eq!(charts(&html), 0);
    assert!(html.contains(r#"href="/orgs/rust-paris/report" aria-current="page""#), "the tab: {html}");
    assert!(!html.contains(" style="), "no inline style (CSP)");

    let (ev, _) = event(&app, &olga, 30 * 86_400, 3_600, &[]).await;
    let ann =
        person(&app, "ann@example.org", "Ann", "UTC", &[("ntfys://ntfy.example.org/ann-report", &[])]).await;
    let bob =
        person(&app, "bob@example.org", "Bob", "UTC", &[("ntfys://ntfy.example.org/bob-report", &[])]).await;
    let cat =
        person(&app, "cat@example.org", "Cat", "UTC", &[("ntfys://ntfy.example.org/cat-report", &[])]).await;
    let dan =
        person(&app, "dan@example.org", "Dan", "UTC", &[("ntfys://ntfy.example.org/dan-report", &[])]).await;
    let pa = join(&app, ev, &ann, Rsvp::Going, None).await;
    let pb = join(&app, ev, &bob, Rsvp::Maybe, None).await;
    let pc = join(&app, ev, &cat, Rsvp::Declined, None).await;
    join(&app, ev, &dan, Rsvp::Pending, None).await;
    ledger_row(&app, ev, pa, Some(ann.integration), 200, Some(DeliveryStatus::Sent)).await;
    ledger_row(&app, ev, pb, Some(bob.integration), 10_000, Some(DeliveryStatus::Sent)).await;
    ledger_row(&app, ev, pc, Some(cat.integration), 300_000, Some(DeliveryStatus::Sent)).await;
    ledger_row(&app, ev, pb, Some(bob.integration), 0, Some(DeliveryStatus::Failed)).await;
    ledger_row(&app, ev, pc, None, 0, None).await;

    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let (status, html) = olga_v.page("/orgs/rust-paris/report").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(charts(&html), 4, "four charts, each valid XML: {html}");
    for expected in [
        row(&today, &[1, 1, 1]),
        row("sent", &[3]),
        row("failed", &[1]),
        row("pending", &[1]),
        row("expired", &[0]),
        row("Other channels", &[4]),
        row("No channel", &[1]),
        row("Email", &[0]),
        row("under 1 s", &[1]),
        row("5–30 s", &[1]),
        row("1–5 s", &[0]),
        row("over 2 min", &[1]),
    ] {
        assert!(html.contains(&expected), "{expected} in {html}");
    }
    assert!(!html.contains(" style="), "no inline style (CSP)");

    // The API gives the same numbers.
    let (status, body) = api(&app, &olga, Method::GET, "/api/v1/orgs/rust-paris/report", None).await;
    assert_eq!(status, 200, "{body}");
    let days = body["answers"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let last = &days[29];
    assert_eq!(
        (last["day"].as_str().unwrap(), &last["going"], &last["maybe"], &last["declined"]),
        (today.as_str(), &Value::from(1), &Value::from(1), &Value::from(1))
    );
    let status_counts = counts(&body["deliveries_by_status"]);
    assert!(status_counts.contains(&("sent".into(), 3)) && status_counts.contains(&("failed".into(), 1)));
    assert!(status_counts.contains(&("pending".into(), 1)) && status_counts.contains(&("skipped".into(), 0)));
    let channel_counts = counts(&body["deliveries_by_channel"]);
    assert_eq!(channel_counts, vec![("email".into(), 0), ("apprise".into(), 4), ("none".into(), 1)]);
    let lateness = counts(&body["reminder_lateness"]);
    assert_eq!(
        lateness,
        vec![
            ("under 1 s".into(), 1),
            ("1–5 s".into(), 0),
            ("5–30 s".into(), 1),
            ("30 s–2 min".into(), 0),
            ("over 2 min".into(), 1)
        ]
    );

    // An organizer sees it; a plain member does not (404 on the page, 403 in the API), nor does
    // the tab show for them.
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    let (oscar_v, _) = member_of(&app, &org, "oscar@example.org", "Oscar", Role::Organizer).await;
    let (status, html) = oscar_v.page("/orgs/rust-paris/report").await;
    assert_eq!(status, 200);
    assert!(html.contains(&row("sent", &[3])));
    let (mia_v, _) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    let (status, _) = mia_v.page("/orgs/rust-paris/report").await;
    assert_eq!(status, 404);
    let (_, html) = mia_v.page("/orgs/rust-paris").await;
    assert!(!html.contains("/orgs/rust-paris/report"), "no Report tab for a plain member");
    let mia = app.db.db.user_by_email("mia@example.org").await.unwrap().unwrap();
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(mia.id, "tests", &herald::secrets::hash_token(&token)).await.unwrap();
    let (status, body) = api(&app, &token, Method::GET, "/api/v1/orgs/rust-paris/report", None).await;
    assert_eq!(status, 403, "{body}");

    // Another organization's owner: 404 on both, and nothing of Rust Paris.
    let (bella_v, bravo) = owner_of(&app, "bella@example.org", "Bella", "Bravo").await;
    let (status, html) = bella_v.page("/orgs/rust-paris/report").await;
    assert_eq!(status, 404);
    assert!(!html.contains("Rust Paris"));
    let (status, html) = bella_v.page(&format!("/orgs/{}/report", bravo.slug)).await;
    assert_eq!(status, 200);
    assert_eq!(charts(&html), 0, "Bravo has no data");
    let bella = app.db.db.user_by_email("bella@example.org").await.unwrap().unwrap();
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(bella.id, "tests", &herald::secrets::hash_token(&token)).await.unwrap();
    let (status, _) = api(&app, &token, Method::GET, "/api/v1/orgs/rust-paris/report", None).await;
    assert_eq!(status, 404);
    app.stop().await;
}
