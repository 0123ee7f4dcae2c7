//! Calendar invitations by mail: answering going (or maybe) mails a confirmation with the event
//! as `invite.ics` (METHOD:REQUEST, the event's stable UID, its revision as SEQUENCE); a change
//! mails an update with a higher SEQUENCE, a cancellation a METHOD:CANCEL, and someone who no
//! longer goes gets a METHOD:CANCEL of their own — so calendars follow the event by themselves.
//! Read back with an independent parser (Python's `icalendar`).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::delivery::{create_org, event, wait_for_temporal};
use crate::orgs::{api, api_user};
use crate::support::fake_apprise::Delivered;
use crate::support::{Backend, TestApp, eventually, parse_invitation};

both_backends!(calendar_invitations_follow_the_answer_and_the_event);

/// Mail to `address` whose title starts with `title`.
pub(crate) fn mails(app: &TestApp, address: &str, title: &str) -> Vec<Delivered> {
    app.apprise.mail_to(address).into_iter().filter(|m| m.title.starts_with(title)).collect()
}

/// The one mail to `address` titled `title…`, once it came.
pub(crate) async fn the_mail(app: &TestApp, address: &str, title: &str) -> Delivered {
    eventually(Duration::from_secs(30), title, || async { mails(app, address, title).into_iter().next() })
        .await
}

/// The invitation attached to `mail`, parsed.
pub(crate) fn invitation(mail: &Delivered) -> Value {
    assert_eq!(mail.attachments.len(), 1, "one attachment: {:?}", mail.attachments);
    let file = &mail.attachments[0];
    assert_eq!(file.name, "invite.ics");
    assert!(file.mime.starts_with("text/calendar"), "{}", file.mime);
    parse_invitation(&file.text())
}

/// Someone who signed up and confirmed their address (so their email channel is on), with an
/// API token.
pub(crate) async fn member(app: &TestApp, email: &str, name: &str) -> String {
    drop(app.signed_up(email, name, true).await);
    let id = app.db.db.user_by_email(email).await.unwrap().unwrap().id;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(id, "t", &herald::secrets::hash_token(&token)).await.unwrap();
    token
}

pub(crate) async fn rsvp(app: &TestApp, token: &str, ev: Uuid, answer: &str) {
    let (status, body) =
        api(app, token, Method::PUT, &format!("/api/v1/events/{ev}/rsvp"), Some(json!({"rsvp": answer})))
            .await;
    assert!(status == 200 || status == 201, "{status} {body}");
}

async fn calendar_invitations_follow_the_answer_and_the_event(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let (_, olga) = api_user(&app, "olga@example.org", "Olga", true).await;
    create_org(&app, &olga).await;
    // An hour ahead: no reminder falls due during the test.
    let (ev, _) = event(&app, &olga, 3600, 3600, &[1800]).await;
    let uid = ev.to_string();

    // Ada answers going: a confirmation with the event for her calendar.
    let ada_token = member(&app, "ada@example.org", "Ada Lovelace").await;
    rsvp(&app, &ada_token, ev, "going").await;
    let confirmation = the_mail(&app, "ada@example.org", "You're going: Rust night").await;
    assert!(confirmation.body.contains("Rust night") && confirmation.body.contains("/optout/"));
    let first = invitation(&confirmation);
    assert_eq!(first["method"], "REQUEST", "{first}");
    assert_eq!(first["uid"], uid, "the event's own UID, as in its .ics");
    assert_eq!(first["summary"], "Rust night");
    assert_eq!(first["status"], "CONFIRMED");
    assert_eq!(first["attendee"].as_str().map(str::to_lowercase).as_deref(), Some("mailto:ada@example.org"));
    assert_eq!(first["partstat"], "ACCEPTED");
    assert_eq!(first["organizer"], "mailto:herald@example.org", "the mail's sender: {first}");
    assert_eq!(first["organizer_cn"], "Rust Paris");
    // It carries her one-click unsubscribe headers like every message.
    let url = url::Url::parse(&confirmation.url).unwrap();
    let unsubscribe = url.query_pairs().find(|(k, _)| k == "+List-Unsubscribe").map(|(_, v)| v.into_owned());
    assert!(
        unsubscribe.is_some_and(|u| u.contains("/optout/")),
        "a List-Unsubscribe header: {}",
        url.query_pairs().map(|(k, _)| k.into_owned()).collect::<Vec<_>>().join(",")
    );
    // Answering going again sends nothing new.
    rsvp(&app, &ada_token, ev, "going").await;

    // Bea says maybe: tentative. Then she can't go: the entry is taken out of her calendar.
    let bea = member(&app, "bea@example.org", "Bea").await;
    rsvp(&app, &bea, ev, "maybe").await;
    let maybe = invitation(&the_mail(&app, "bea@example.org", "Maybe: Rust night").await);
    assert_eq!((maybe["method"].as_str(), maybe["partstat"].as_str()), (Some("REQUEST"), Some("TENTATIVE")));
    rsvp(&app, &bea, ev, "declined").await;
    let gone = invitation(&the_mail(&app, "bea@example.org", "Not going: Rust night").await);
    assert_eq!((gone["method"].as_str(), gone["uid"].as_str()), (Some("CANCEL"), Some(uid.as_str())));

    // Olga moves the event: the change notice brings an update with a higher SEQUENCE.
    let later = chrono::Utc::now() + chrono::Duration::hours(3);
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({"starts_at": later.to_rfc3339(), "ends_at": (later + chrono::Duration::hours(1)).to_rfc3339(), "location": "Room 9"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let changed = the_mail(&app, "ada@example.org", "Changed: Rust night").await;
    let update = invitation(&changed);
    assert_eq!((update["method"].as_str(), update["uid"].as_str()), (Some("REQUEST"), Some(uid.as_str())));
    assert!(
        update["sequence"].as_i64() > first["sequence"].as_i64(),
        "calendars take the newer one: {first} then {update}"
    );
    let moved = chrono::DateTime::parse_from_rfc3339(update["dtstart"].as_str().unwrap()).unwrap();
    assert_eq!(moved.timestamp(), later.timestamp(), "the new start");

    // Olga cancels: a METHOD:CANCEL for the same UID.
    let (status, body) = api(&app, &olga, Method::POST, &format!("/api/v1/events/{ev}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");
    let cancelled = invitation(&the_mail(&app, "ada@example.org", "Cancelled: Rust night").await);
    assert_eq!(
        (cancelled["method"].as_str(), cancelled["uid"].as_str(), cancelled["status"].as_str()),
        (Some("CANCEL"), Some(uid.as_str()), Some("CANCELLED"))
    );
    assert!(cancelled["sequence"].as_i64() > update["sequence"].as_i64(), "{cancelled}");

    // Each once; Bea, who no longer goes, got neither the change nor the cancellation.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for title in ["You're going: ", "Changed: ", "Cancelled: "] {
        assert_eq!(mails(&app, "ada@example.org", title).len(), 1, "{title} once");
    }
    assert!(mails(&app, "bea@example.org", "Changed: ").is_empty());
    assert!(mails(&app, "bea@example.org", "Cancelled: ").is_empty());
    app.stop().await;
}
