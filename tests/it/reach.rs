//! Reach without an account: someone imported from a CSV file who never makes a password, and a
//! visitor who answered on the public page, each get every reminder, change notice and
//! cancellation exactly once by email, and the signed link at the end of each message works.

use std::time::Duration;

use herald::db::models::{ParticipantRole, Rsvp};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::delivery::{create_org, event, wait_for_temporal};
use crate::orgs::api;
use crate::participants::{finished_import, upload};
use crate::support::fake_apprise::Delivered;
use crate::support::{Backend, TestApp, Visitor, eventually};

both_backends!(an_imported_invitee_and_a_guest_get_every_notice_once_by_email);

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn titled(app: &TestApp, address: &str, title: &str) -> Vec<Delivered> {
    app.apprise.mail_to(address).into_iter().filter(|m| m.title.starts_with(title)).collect()
}

/// Answers the public event page as a guest and follows the mailed link, as a person would.
async fn answer_as_guest(app: &TestApp, page: &str, name: &str, email: &str) -> Visitor {
    let guest = app.visitor();
    let r =
        guest.post(&format!("{page}/guest"), &[("name", name), ("email", email), ("rsvp", "going")]).await;
    assert_eq!(r.status(), 303);
    let link = app.mailed_link(email, "/guest/").expect("a confirmation link");
    assert_eq!(guest.get(&link).await.status(), 303);
    guest
}

/// The signed link at the end of a message.
fn footer_link(mail: &Delivered) -> String {
    let start = mail.body.find("/optout/").expect("a signed link in the footer");
    let end = mail.body[start..].find(char::is_whitespace).map_or(mail.body.len(), |e| start + e);
    mail.body[start..end].to_owned()
}

async fn an_imported_invitee_and_a_guest_get_every_notice_once_by_email(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = app.signed_up("olga@example.org", "Olga", true).await;
    let olga_id = app.db.db.user_by_email("olga@example.org").await.unwrap().unwrap().id;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(olga_id, "t", &herald::secrets::hash_token(&token)).await.unwrap();
    create_org(&app, &token).await;
    // The reminder falls due 30 s from now: time for the import, two answers and an edit first.
    let (ev, _) = event(&app, &token, 45, 60, &[15]).await;
    let slug = app.db.db.event(ev).await.unwrap().unwrap().slug;
    let page = format!("/o/rust-paris/e/{slug}");

    // Ivy comes from a CSV file, as a speaker; she answers from the invitation, no password.
    let import = format!("/orgs/rust-paris/events/{ev}/participants/import");
    let r = upload(&olga, &import, b"email,role,name\r\nivy@example.org,speaker,Ivy\r\n").await;
    assert_eq!(r.status(), 303);
    let report = finished_import(&olga, &location(&r)).await;
    assert!(report.contains("ivy@example.org</td><td>Invited by email"), "{report}");
    let invitation = eventually(Duration::from_secs(10), "the invitation", || async {
        app.apprise.mail_to("ivy@example.org").into_iter().next()
    })
    .await;
    assert!(invitation.body.contains("no account or password is needed"), "{}", invitation.body);
    answer_as_guest(&app, &page, "Ivy", "ivy@example.org").await;
    let ivy = app.db.db.user_by_email("ivy@example.org").await.unwrap().expect("ivy's passwordless account");
    assert!(ivy.password_hash.is_none());
    let p = app.db.db.participant_of(ev, ivy.id).await.unwrap().expect("Ivy takes part");
    assert_eq!((p.rsvp, p.role), (Rsvp::Going, ParticipantRole::Speaker), "the invitation became hers");

    // Gia just found the public page.
    answer_as_guest(&app, &page, "Gia", "gia@example.org").await;

    // A change, then the reminder, then the cancellation.
    let (status, body) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({"location": "Room 9"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let people = ["ivy@example.org", "gia@example.org"];
    eventually(Duration::from_secs(30), "the change notices", || async {
        people.iter().all(|a| !titled(&app, a, "Changed: ").is_empty()).then_some(())
    })
    .await;
    eventually(Duration::from_secs(60), "the reminders", || async {
        people.iter().all(|a| !titled(&app, a, "Reminder: ").is_empty()).then_some(())
    })
    .await;
    let (status, body) = api(&app, &token, Method::POST, &format!("/api/v1/events/{ev}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(30), "the cancellations", || async {
        people.iter().all(|a| !titled(&app, a, "Cancelled: ").is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    for address in people {
        for title in ["Changed: ", "Reminder: ", "Cancelled: "] {
            let got = titled(&app, address, title);
            assert_eq!(got.len(), 1, "{address}: {title} exactly once: {got:?}");
            assert!(got[0].body.contains("Room 9"), "{address}: {}", got[0].body);
        }
        // The signed link of the reminder opens that person's own page: answer or stop.
        let reminder = &titled(&app, address, "Reminder: ")[0];
        let (status, html) = app.visitor().page(&footer_link(reminder)).await;
        assert_eq!(status, 200, "{address}");
        assert!(html.contains("Rust night"), "{html}");
    }
    app.stop().await;
}
