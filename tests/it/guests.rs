//! Guests: a visitor answers a public event with a name and an address, no password. Nothing
//! changes until the mailed link is followed (once); then the address takes part — as a new
//! passwordless account, or joining the account it already has — and gets every reminder by
//! email, exactly once, through the same workflow and ledger as anyone.

use std::time::Duration;

use herald::db::models::Rsvp;
use reqwest::Method;

use crate::delivery::{create_org, event};
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, eventually};

both_backends!(a_guest_answers_with_an_address_and_gets_reminders_by_email);

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

async fn a_guest_answers_with_an_address_and_gets_reminders_by_email(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, olga) = api_user(&app, "olga@example.org", "Olga", true).await;
    create_org(&app, &olga).await;
    let (ev, _) = event(&app, &olga, 20, 30, &[10]).await;
    let slug = app.db.db.event(ev).await.unwrap().unwrap().slug;
    let page = format!("/o/rust-paris/e/{slug}");

    // Step 1: the form on the public page, no account.
    let gia = app.visitor();
    let (status, html) = gia.page(&page).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(r#"action="{page}/guest""#)) && html.contains("Your email address"),
        "{html}"
    );
    let r = gia
        .post(&format!("{page}/guest"), &[("name", "Gia"), ("email", "Gia@Example.org"), ("rsvp", "going")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, html) = gia.page(&location(&r)).await;
    assert!(html.contains("Almost done: we sent a link to gia@example.org"), "{html}");
    assert!(app.db.db.user_by_email("gia@example.org").await.unwrap().is_none(), "nothing before the link");

    // Bad input names what to fix; nothing is mailed.
    let r = gia.post(&format!("{page}/guest"), &[("name", ""), ("email", "nope"), ("rsvp", "going")]).await;
    let (_, html) = gia.page(&location(&r)).await;
    assert!(html.contains("Enter a name") && html.contains("Enter an email address"), "{html}");

    // Step 2: the mailed link. It makes her a participant, signed in, with email on.
    let link = app.mailed_link("gia@example.org", "/guest/").expect("a confirmation link");
    let r = gia.get(&link).await;
    assert_eq!(r.status(), 303);
    let (_, html) = gia.page(&location(&r)).await;
    assert!(html.contains("You&#39;re in: Going") || html.contains("You're in: Going"), "{html}");
    assert!(html.contains("id=\"rsvp-current\">Going<"), "step 3, done: {html}");
    let user = app.db.db.user_by_email("gia@example.org").await.unwrap().expect("her account");
    assert!(user.verified_at.is_some() && user.password_hash.is_none());
    let p = app.db.db.participant_of(ev, user.id).await.unwrap().expect("she takes part");
    assert_eq!(p.rsvp, Rsvp::Going);
    assert!(app.db.db.email_integration_of(user.id).await.unwrap().is_some(), "email is on");
    // Her confirmation carries the event for her calendar, as an invitation to her address.
    let confirmation = eventually(Duration::from_secs(20), "the confirmation", || async {
        app.apprise.mail_to("gia@example.org").into_iter().find(|m| m.title == "You're going: Rust night")
    })
    .await;
    let file = confirmation.attachments.first().expect("invite.ics");
    let invite = crate::support::parse_invitation(&file.text());
    assert_eq!(
        (invite["method"].as_str(), invite["uid"].as_str()),
        (Some("REQUEST"), Some(ev.to_string().as_str()))
    );
    assert_eq!(invite["attendee"].as_str().map(str::to_lowercase).as_deref(), Some("mailto:gia@example.org"));
    // The link works once.
    assert_eq!(app.visitor().get(&link).await.status(), 400);

    // Someone with an account answers the same way: the same answer, and only their inbox can
    // make it count.
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    drop(ada);
    let stranger = app.visitor();
    let r = stranger
        .post(
            &format!("{page}/guest"),
            &[("name", "Not Ada"), ("email", "ada@example.org"), ("rsvp", "maybe")],
        )
        .await;
    let (_, html) = stranger.page(&location(&r)).await;
    assert!(html.contains("Almost done: we sent a link to ada@example.org"), "{html}");
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    assert!(app.db.db.participant_of(ev, ada_id).await.unwrap().is_none(), "not without her link");

    // Someone invited by the organizer answers as a guest: the invitation becomes theirs, in the
    // role it gave.
    let (status, invited) = api(
        &app,
        &olga,
        Method::POST,
        &format!("/api/v1/events/{ev}/participants"),
        Some(serde_json::json!({"email": "dora@example.org", "role": "speaker"})),
    )
    .await;
    assert_eq!(status, 201, "{invited}");
    let invitation = app.apprise.mail_to("dora@example.org").pop().expect("the invitation");
    assert!(invitation.body.contains("no account or password is needed"), "{}", invitation.body);
    let dora = app.visitor();
    let r = dora
        .post(&format!("{page}/guest"), &[("name", "Dora"), ("email", "dora@example.org"), ("rsvp", "maybe")])
        .await;
    assert_eq!(r.status(), 303);
    let link = app.mailed_link("dora@example.org", "/guest/").expect("Dora's link");
    assert_eq!(dora.get(&link).await.status(), 303);
    let dora_id = app.db.db.user_by_email("dora@example.org").await.unwrap().unwrap().id;
    let p = app.db.db.participant_of(ev, dora_id).await.unwrap().expect("Dora takes part");
    assert_eq!(p.id.to_string(), invited["id"].as_str().unwrap(), "the invitation itself");
    assert_eq!((p.role, p.rsvp), (herald::db::models::ParticipantRole::Speaker, Rsvp::Maybe));

    // The reminder reaches Gia by email, once.
    let reminders = || {
        app.apprise
            .mail_to("gia@example.org")
            .into_iter()
            .filter(|m| m.title.starts_with("Reminder: "))
            .collect::<Vec<_>>()
    };
    eventually(Duration::from_secs(40), "Gia's reminder by email", || async {
        (!reminders().is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(reminders().len(), 1, "exactly once");
    assert!(reminders()[0].body.contains("/optout/"), "with the link to stop");

    // The organizers can require an account: no form, and a direct answer is refused.
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(serde_json::json!({"guests": false})),
    )
    .await;
    assert_eq!((status, body["guests"].as_bool()), (200, Some(false)), "{body}");
    let eve = app.visitor();
    let (_, html) = eve.page(&page).await;
    assert!(
        !html.contains(&format!(r#"action="{page}/guest""#)) && html.contains("Sign in to RSVP"),
        "{html}"
    );
    let r = eve
        .post(&format!("{page}/guest"), &[("name", "Eve"), ("email", "eve@example.org"), ("rsvp", "going")])
        .await;
    let (_, html) = eve.page(&location(&r)).await;
    assert!(html.contains("takes no answers without an account"), "{html}");
    assert!(app.mailed_link("eve@example.org", "/guest/").is_none());
    let (status, _) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(serde_json::json!({"guests": true})),
    )
    .await;
    assert_eq!(status, 200);

    // A private event takes no guests.
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(serde_json::json!({"visibility": "private"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r = app
        .visitor()
        .post(&format!("{page}/guest"), &[("name", "X"), ("email", "x@example.org"), ("rsvp", "going")])
        .await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}
