//! Participants: organizers add people by email (unknown addresses are invited, and linked once
//! they sign up and verify), set roles and remove them; attendees RSVP from the public page and
//! the API with channels from their defaults or chosen; CSV import with a per-row report and
//! progress; the organization's and the private per-user calendar feeds; who sees a private event.

use std::time::Duration;

use chrono::Utc;
use herald::db::Db;
use herald::db::models::{Organization, ParticipantRole, Role, Rsvp};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::orgs::{api, api_user, member_of, owner_of};
use crate::support::{Backend, TestApp, Visitor, eventually, parse_ics_all};

both_backends!(
    organizers_add_invite_and_manage_participants,
    rsvp_from_the_public_page_with_channels,
    participants_and_rsvp_through_the_api,
    csv_import_reports_every_row_and_shows_progress,
    calendar_feeds_parse_and_revoke,
    private_events_for_members_and_participants_only,
    events_hold_at_most_the_operators_number_of_participants,
    one_address_gets_a_bounded_number_of_invitations,
    the_organizer_sees_who_will_be_told,
    one_tap_answers_on_the_public_page,
    removing_a_participant_asks_first,
);

pub(crate) fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Creates a published event through the form; returns its id and public page path.
pub(crate) async fn new_event(
    app: &TestApp,
    v: &Visitor,
    org: &Organization,
    name: &str,
    visibility: &str,
) -> (Uuid, String) {
    let r = v
        .post(
            &format!("/orgs/{}/events", org.slug),
            &[
                ("name", name),
                ("start", "2030-06-01T18:30"),
                ("end", "2030-06-01T20:00"),
                ("timezone", "Europe/Paris"),
                ("location", "Room 1"),
                ("visibility", visibility),
                ("remind_1d", "on"),
                ("notify_reminders", "on"),
                ("status", "published"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "creating {name}: {}", r.text().await.unwrap_or_default());
    let id = Uuid::parse_str(location(&r).rsplit('/').next().unwrap()).unwrap();
    let slug = app.db.db.event(id).await.unwrap().unwrap().slug;
    (id, format!("/o/{}/e/{slug}", org.slug))
}

/// A notification channel of `user_id` that is enabled and confirmed (no Apprise needed).
async fn active_channel(db: &Db, user_id: Uuid, name: &str) -> Uuid {
    let key = format!("key-{}", Uuid::new_v4().simple());
    let i = db.create_integration(user_id, name, &key, b"sealed", &[]).await.unwrap();
    let sql = "UPDATE integrations SET verified_at = $1 WHERE id = $2";
    match db {
        Db::Sqlite(p) => sqlx::query(sql).bind(Utc::now()).bind(i.id).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).bind(Utc::now()).bind(i.id).execute(p).await.map(|_| ()),
    }
    .unwrap();
    i.id
}

async fn user_id(app: &TestApp, email: &str) -> Uuid {
    app.db.db.user_by_email(email).await.unwrap().unwrap().id
}

/// (integration name, tags) of a participant's channels, by name.
async fn channels_of(db: &Db, participant: Uuid) -> Vec<(String, Vec<String>)> {
    db.channel_rows_of(participant).await.unwrap().into_iter().map(|c| (c.name, c.tags.0)).collect()
}

async fn organizers_add_invite_and_manage_participants(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, public) = new_event(&app, &ada, &org, "Rust night", "public").await;
    let event_page = format!("/orgs/{}/events/{id}", org.slug);
    let add = format!("{event_page}/participants");
    let bob = app.signed_up("bob@example.org", "Bob Builder", true).await;
    let bob_id = user_id(&app, "bob@example.org").await;
    let bob_phone = active_channel(&app.db.db, bob_id, "Bob's phone").await;

    // Someone outside the organization is invited, account or not: the organizer learns nothing
    // about their account, and nothing is sent to them until they answer.
    let r = ada.post(&add, &[("email", "Bob@Example.org"), ("role", "speaker")]).await;
    assert_eq!(r.status(), 303);
    assert!(app.db.db.participant_of(id, bob_id).await.unwrap().is_none(), "not before Bob answers");
    let invitation = app.db.db.invited_participant(id, "bob@example.org").await.unwrap().expect("invited");
    assert_eq!(invitation.role, ParticipantRole::Speaker);
    let (_, page) = ada.page(&event_page).await;
    assert!(page.contains("We sent bob@example.org an invitation."), "{page}");
    assert!(!page.contains("Bob Builder") && !page.contains("Bob's phone"), "{page}");
    let mails = app.apprise.mail_to("bob@example.org");
    let mail = mails.last().expect("Bob is mailed the invitation");
    assert!(mail.title.contains("invited you to Rust night"), "{}", mail.title);
    assert!(mail.body.contains(&app.url("/signin?next=")), "{}", mail.body);

    // Bob answers on the event's page: that accepts the invitation, in the role he was given.
    let (_, page) = bob.page(&public).await;
    assert!(page.contains("You are invited to this event as speaker"), "{page}");
    assert_eq!(bob.post(&format!("{public}/rsvp"), &[("rsvp", "maybe")]).await.status(), 303);
    let bob_p = app.db.db.participant_of(id, bob_id).await.unwrap().expect("Bob takes part");
    assert_eq!((bob_p.id, bob_p.role, bob_p.rsvp), (invitation.id, ParticipantRole::Speaker, Rsvp::Maybe));
    assert_eq!(
        channels_of(&app.db.db, bob_p.id).await,
        vec![("Bob's phone".to_owned(), vec![]), ("Email — bob@example.org".to_owned(), vec![])],
        "his channels, and email to his address"
    );
    let _ = bob_phone;

    // A member of the organization is added at once.
    let (mia, _) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    let r = ada.post(&add, &[("email", "mia@example.org"), ("role", "volunteer")]).await;
    assert_eq!(r.status(), 303);
    let mia_id = user_id(&app, "mia@example.org").await;
    let mia_p = app.db.db.participant_of(id, mia_id).await.unwrap().expect("Mia takes part");
    assert_eq!((mia_p.role, mia_p.rsvp), (ParticipantRole::Volunteer, Rsvp::Pending));
    let (_, page) = ada.page(&event_page).await;
    assert!(page.contains("mia@example.org is added."), "{page}");
    app.db.db.delete_participant(mia_p.id).await.unwrap();

    // An unknown address is invited by mail, with the event, where she can answer without an
    // account (the event is public).
    let r = ada.post(&add, &[("email", "carol@example.org"), ("role", "")]).await;
    assert_eq!(r.status(), 303);
    let mails = app.apprise.mail_to("carol@example.org");
    assert_eq!(mails.len(), 1, "one invitation mailed");
    assert!(mails[0].title.contains("Rust night"), "{}", mails[0].title);
    assert!(mails[0].body.contains(&app.url(&public)), "{}", mails[0].body);
    assert!(mails[0].body.contains("no account or password is needed"), "{}", mails[0].body);
    let carol_p = app.db.db.invited_participant(id, "carol@example.org").await.unwrap().expect("invited");
    assert_eq!((carol_p.user_id, carol_p.role), (None, ParticipantRole::Attendee));

    // Twice is refused; a bad address or role is named.
    let r = ada.post(&add, &[("email", "bob@example.org"), ("role", "attendee")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("bob@example.org is already a participant."));
    let r = ada.post(&add, &[("email", "not an address"), ("role", "boss")]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("href=\"#f-email\"") && body.contains("Choose organizer, speaker"), "{body}");

    // The organizer's page lists them with role, answer and the invitation.
    let (_, page) = ada.page(&event_page).await;
    assert!(
        page.contains("Participants") && page.contains("Bob Builder") && page.contains("carol@example.org")
    );
    assert!(page.contains("Invited"), "{page}");
    assert!(page.contains("2 in all: 1 no answer yet · 1 maybe"), "{page}");
    assert!(page.contains("<option value=\"speaker\" selected>Speaker</option>"), "{page}");

    // Roles change; members who do not manage events may not.
    let r = ada.post(&format!("{add}/{}/role", bob_p.id), &[("role", "volunteer")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.db.db.participant(bob_p.id).await.unwrap().unwrap().role, ParticipantRole::Volunteer);
    assert_eq!(ada.post(&format!("{add}/{}/role", bob_p.id), &[("role", "boss")]).await.status(), 422);
    assert_eq!(mia.post(&add, &[("email", "x@example.org")]).await.status(), 403);
    assert_eq!(mia.post(&format!("{add}/{}/remove", bob_p.id), &[]).await.status(), 403);
    let (_, mia_page) = mia.page(&event_page).await;
    assert!(!mia_page.contains("bob@example.org"), "members do not see the participant list");

    // Carol signs up with the invited address: nothing until she verifies it, then it is hers.
    let carol = app.signed_up("carol@example.org", "Carol", false).await;
    assert!(app.db.db.invited_participant(id, "carol@example.org").await.unwrap().is_some());
    let link = app.mailed_link("carol@example.org", "/verify/").unwrap();
    assert_eq!(carol.get(&link).await.status(), 303);
    let carol_id = user_id(&app, "carol@example.org").await;
    let linked = app.db.db.participant_of(id, carol_id).await.unwrap().expect("the invitation is hers now");
    assert_eq!(linked.id, carol_p.id);
    let (_, page) = carol.page(&public).await;
    assert!(page.contains("id=\"rsvp-current\">No answer yet<"), "{page}");
    let (_, page) = ada.page(&event_page).await;
    assert!(page.contains(">Carol<"), "the organizer sees her name now: {page}");

    // Organizers remove; the row disappears.
    let r = ada.post(&format!("{add}/{}/remove", carol_p.id), &[]).await;
    assert_eq!(r.status(), 303);
    assert!(app.db.db.participant_of(id, carol_id).await.unwrap().is_none());
    assert_eq!(ada.post(&format!("{add}/{}/remove", carol_p.id), &[]).await.status(), 404);
    app.stop().await;
}

async fn rsvp_from_the_public_page_with_channels(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, public) = new_event(&app, &ada, &org, "Rust night", "public").await;

    // Anonymous visitors are offered to sign in, coming back here.
    let (status, page) = app.visitor().page(&public).await;
    assert_eq!(status, 200);
    let next = url::form_urlencoded::byte_serialize(public.as_bytes()).collect::<String>();
    assert!(page.contains(&format!("href=\"/signin?next={next}\"")), "{page}");
    assert!(page.contains("Sign in to RSVP"));
    let r = app.visitor().post(&format!("{public}/rsvp"), &[("rsvp", "going")]).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/signin?next="));

    // An unverified user is told to verify first, and does not join.
    let uma = app.signed_up("uma@example.org", "Uma", false).await;
    let (_, page) = uma.page(&public).await;
    assert!(page.contains("Verify your email address to answer"), "{page}");
    assert_eq!(uma.post(&format!("{public}/rsvp"), &[("rsvp", "going")]).await.status(), 303);
    assert!(app.db.db.participant_of(id, user_id(&app, "uma@example.org").await).await.unwrap().is_none());

    // Dan has two active channels, one disabled, and default reminder tags.
    let dan = app.signed_up("dan@example.org", "Dan", true).await;
    let dan_id = user_id(&app, "dan@example.org").await;
    let phone = active_channel(&app.db.db, dan_id, "Phone").await;
    let _mail = active_channel(&app.db.db, dan_id, "Mail").await;
    let off = active_channel(&app.db.db, dan_id, "Old pager").await;
    app.db.db.set_integration_enabled(dan_id, off, false).await.unwrap();
    app.db.db.set_notification_defaults(dan_id, &["email".into()], &[]).await.unwrap();

    // The form proposes the defaults; answering without a choice uses them.
    let (_, page) = dan.page(&public).await;
    assert!(page.contains(&format!("name=\"tags_{phone}\" value=\"email\"")), "{page}");
    assert!(!page.contains("Old pager"), "disabled channels are not offered");
    let r = dan.post(&format!("{public}/rsvp"), &[("rsvp", "going")]).await;
    assert_eq!(r.status(), 303);
    let p = app.db.db.participant_of(id, dan_id).await.unwrap().expect("Dan joined");
    assert_eq!((p.rsvp, p.role), (Rsvp::Going, ParticipantRole::Attendee));
    assert_eq!(
        channels_of(&app.db.db, p.id).await,
        vec![
            ("Email — dan@example.org".into(), vec!["email".into()]),
            ("Mail".into(), vec!["email".into()]),
            ("Phone".into(), vec!["email".into()])
        ]
    );
    let (_, page) = dan.page(&public).await;
    assert!(page.contains("You joined the event: Going."), "{page}");
    assert!(page.contains("id=\"rsvp-current\">Going<"), "{page}");
    assert!(page.contains("Mail (tags: email), Phone (tags: email)"), "{page}");

    // An explicit choice: only the phone, with the sms tag; another answer.
    let r = dan
        .post(
            &format!("{public}/rsvp"),
            &[
                ("rsvp", "maybe"),
                ("channels_shown", "1"),
                ("channel", &phone.to_string()),
                (&format!("tags_{phone}"), "SMS"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.db.db.participant(p.id).await.unwrap().unwrap().rsvp, Rsvp::Maybe);
    assert_eq!(channels_of(&app.db.db, p.id).await, vec![("Phone".into(), vec!["sms".into()])]);
    // A bad tag or someone else's channel is refused and changes nothing.
    let r = dan
        .post(
            &format!("{public}/rsvp"),
            &[
                ("rsvp", "going"),
                ("channels_shown", "1"),
                ("channel", &phone.to_string()),
                (&format!("tags_{phone}"), "all"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = dan.page(&public).await;
    assert!(page.contains("reserved by Apprise"), "{page}");
    assert_eq!(app.db.db.participant(p.id).await.unwrap().unwrap().rsvp, Rsvp::Maybe);

    // The organizer sees the answer and the channels by name, never a key.
    let (_, page) = ada.page(&format!("/orgs/{}/events/{id}", org.slug)).await;
    assert!(page.contains("Dan") && page.contains("Maybe") && page.contains("Phone (tags: sms)"), "{page}");
    let key = app.db.db.integration_of(dan_id, phone).await.unwrap().unwrap().config_key;
    assert!(!page.contains(&key));

    // Leaving removes the participation.
    assert_eq!(dan.post(&format!("{public}/leave"), &[]).await.status(), 303);
    assert!(app.db.db.participant_of(id, dan_id).await.unwrap().is_none());
    let (_, page) = dan.page(&public).await;
    assert!(page.contains("You left Rust night.") && !page.contains("rsvp-current"), "{page}");
    app.stop().await;
}

async fn participants_and_rsvp_through_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let ada_token = format!("t-{}", Uuid::new_v4().simple());
    let ada_id = user_id(&app, "ada@example.org").await;
    app.db.db.create_api_token(ada_id, "t", &herald::secrets::hash_token(&ada_token)).await.unwrap();
    let (status, event) = api(
        &app,
        &ada_token,
        Method::POST,
        &format!("/api/v1/orgs/{}/events", org.slug),
        Some(json!({"name": "API night", "starts_at": "2030-06-01T18:30:00+02:00", "ends_at": "2030-06-01T20:00:00+02:00",
            "timezone": "Europe/Paris", "status": "published"})),
    )
    .await;
    assert_eq!(status, 201, "{event}");
    let id = event["id"].as_str().unwrap().to_owned();
    let list = format!("/api/v1/events/{id}/participants");
    let (bob, bob_token) = api_user(&app, "bob@example.org", "Bob", true).await;

    // Idempotent add: a retry returns the same participant; the key with another body is refused.
    let post = |key: &'static str, body: Value| {
        let (app, token, list) = (&app, ada_token.clone(), list.clone());
        async move {
            let r = app
                .http
                .post(app.url(&list))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, added) = post("add-bob", json!({"email": "bob@example.org", "role": "speaker"})).await;
    assert_eq!(status, 201, "{added}");
    // Bob has an account but is not a member: he is invited, and the answer says no more than
    // for an address without an account.
    assert_eq!((added["role"].as_str(), added["invited"].as_bool()), (Some("speaker"), Some(true)));
    assert!(added["user_id"].is_null() && !added.to_string().contains("Bob"), "{added}");
    let (status, again) = post("add-bob", json!({"email": "bob@example.org", "role": "speaker"})).await;
    assert_eq!((status, &again["id"]), (200, &added["id"]));
    let (status, problem) = post("add-bob", json!({"email": "eve@example.org"})).await;
    assert_eq!(status, 409, "{problem}");
    let (status, invited) =
        api(&app, &ada_token, Method::POST, &list, Some(json!({"email": "new@example.org"}))).await;
    assert_eq!(status, 201);
    assert_eq!((invited["invited"].as_bool(), invited["rsvp"].as_str()), (Some(true), Some("pending")));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&added), keys(&invited), "the same answer with or without an account");
    assert_eq!(app.apprise.mail_to("new@example.org").len(), 1);
    for (body, field) in
        [(json!({"role": "attendee"}), "email"), (json!({"email": "x@example.org", "role": "boss"}), "role")]
    {
        let (status, problem) = api(&app, &ada_token, Method::POST, &list, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (status, _) =
        api(&app, &ada_token, Method::POST, &list, Some(json!({"email": "bob@example.org"}))).await;
    assert_eq!(status, 409, "already a participant");
    let (status, _) = api(&app, &ada_token, Method::POST, &list, Some(json!("not an object"))).await;
    assert!((400..500).contains(&status), "bad JSON is a 4xx");

    // Bob answers: his channels default to his active ones.
    let bob_phone = active_channel(&app.db.db, bob.id, "Bob's phone").await;
    let rsvp = format!("/api/v1/events/{id}/rsvp");
    let (status, mine) = api(&app, &bob_token, Method::PUT, &rsvp, Some(json!({"rsvp": "going"}))).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["rsvp"], "going");
    assert_eq!(
        (&mine["id"], mine["role"].as_str()),
        (&added["id"], Some("speaker")),
        "the invitation, accepted"
    );
    assert_eq!(mine["channels"], json!([{"integration_id": bob_phone, "name": "Bob's phone", "tags": []}]));

    // Erin, not a member, joins the public event with an explicit channel.
    let (erin, erin_token) = api_user(&app, "erin@example.org", "Erin", true).await;
    let erin_phone = active_channel(&app.db.db, erin.id, "Erin's phone").await;
    let (status, joined) = api(
        &app,
        &erin_token,
        Method::PUT,
        &rsvp,
        Some(json!({"rsvp": "maybe", "channels": [{"integration_id": erin_phone, "tags": ["sms"]}]})),
    )
    .await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["channels"][0]["tags"], json!(["sms"]));
    assert_eq!(api(&app, &erin_token, Method::GET, &format!("/api/v1/events/{id}"), None).await.0, 200);
    for (body, field) in [
        (json!({"rsvp": "yes"}), "rsvp"),
        (json!({"rsvp": "going", "channels": [{"integration_id": bob_phone}]}), "channels[0].integration_id"),
        (json!({"rsvp": "going", "channels": [{"integration_id": "nope"}]}), "channels[0].integration_id"),
        (
            json!({"rsvp": "going", "channels": [{"integration_id": erin_phone, "tags": ["no spaces"]}]}),
            "channels[0].tags",
        ),
    ] {
        let (status, problem) = api(&app, &erin_token, Method::PUT, &rsvp, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (_, unverified) = api_user(&app, "uma@example.org", "Uma", false).await;
    assert_eq!(api(&app, &unverified, Method::PUT, &rsvp, Some(json!({"rsvp": "going"}))).await.0, 403);

    // Organizers see everyone with channels by name; others only themselves.
    let (_, all) = api(&app, &ada_token, Method::GET, &list, None).await;
    let emails: Vec<&str> = all.as_array().unwrap().iter().map(|p| p["email"].as_str().unwrap()).collect();
    assert_eq!(emails, vec!["bob@example.org", "new@example.org", "erin@example.org"]);
    assert!(!all.to_string().contains("key-"), "no config keys: {all}");
    let (_, own) = api(&app, &erin_token, Method::GET, &list, None).await;
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["email"], "erin@example.org");

    // Roles: organizers change them; others get 403; unknown ids 404.
    let bob_pid = added["id"].as_str().unwrap();
    let one = |pid: &str| format!("{list}/{pid}");
    let (status, patched) =
        api(&app, &ada_token, Method::PATCH, &one(bob_pid), Some(json!({"role": "volunteer"}))).await;
    assert_eq!((status, patched["role"].as_str()), (200, Some("volunteer")));
    assert_eq!(api(&app, &ada_token, Method::PATCH, &one(bob_pid), Some(json!({}))).await.0, 422);
    assert_eq!(
        api(&app, &erin_token, Method::PATCH, &one(bob_pid), Some(json!({"role": "organizer"}))).await.0,
        403
    );
    assert_eq!(
        api(
            &app,
            &ada_token,
            Method::PATCH,
            &one(&Uuid::new_v4().to_string()),
            Some(json!({"role": "speaker"}))
        )
        .await
        .0,
        404
    );

    // Removing: not someone else's (403); oneself is leaving (204); organizers anyone (204).
    assert_eq!(api(&app, &erin_token, Method::DELETE, &one(bob_pid), None).await.0, 403);
    let erin_pid = joined["id"].as_str().unwrap();
    assert_eq!(api(&app, &erin_token, Method::DELETE, &one(erin_pid), None).await.0, 204);
    assert_eq!(api(&app, &ada_token, Method::DELETE, &one(bob_pid), None).await.0, 204);
    let (_, all) = api(&app, &ada_token, Method::GET, &list, None).await;
    assert_eq!(all.as_array().unwrap().len(), 1);

    // All of it is in the OpenAPI document.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/events/{id}/participants", "get"),
        ("/api/v1/events/{id}/participants", "post"),
        ("/api/v1/events/{id}/participants/{participant}", "patch"),
        ("/api/v1/events/{id}/participants/{participant}", "delete"),
        ("/api/v1/events/{id}/rsvp", "put"),
    ] {
        assert!(doc["paths"][path].get(method).is_some(), "{method} {path} documented");
    }
    app.stop().await;
}

/// A `multipart/form-data` body with `csv` as the file: (content type, body).
/// A multipart form as a browser sends the import form: the CSRF field first, then the file.
fn multipart(csrf: &str, csv: &[u8]) -> (String, Vec<u8>) {
    let boundary = "herald-test-boundary-7d1f0c";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(csv);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload(v: &Visitor, path: &str, csv: &[u8]) -> reqwest::Response {
    let token = v.csrf().await;
    let (content_type, body) = multipart(&token, csv);
    v.http
        .post(format!("{}{path}", v.base))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Polls the progress fragment (as htmx does) until the import is done; returns the fragment.
pub(crate) async fn finished_import(v: &Visitor, path: &str) -> String {
    eventually(Duration::from_secs(60), "the import to finish", || async {
        let r = v.http.get(format!("{}{path}", v.base)).header("HX-Request", "true").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        assert!(body.contains("<progress"), "{body}");
        (!body.contains("hx-trigger")).then_some(body)
    })
    .await
}

async fn csv_import_reports_every_row_and_shows_progress(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, _) = new_event(&app, &ada, &org, "Rust night", "public").await;
    let import = format!("/orgs/{}/events/{id}/participants/import", org.slug);
    // Bob is a member (added at once); everyone else is invited.
    let (_bob, _) = member_of(&app, &org, "bob@example.org", "Bob", Role::Member).await;
    let (status, page) = ada.page(&import).await;
    assert_eq!(status, 200);
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("CSV file"), "{page}");

    // Bad rows are reported and never stop the good ones.
    let csv = "email,role,name\r\nbob@example.org,speaker\r\nnew@example.org,volunteer,\"New, Person\"\r\n\
               not-an-address\r\n\r\nbob@example.org\r\nx@example.org,boss\r\nlast@example.org,,Last\r\n";
    let r = upload(&ada, &import, csv.as_bytes()).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let progress = location(&r);
    assert!(progress.starts_with(&format!("{import}/")), "{progress}");
    let report = finished_import(&ada, &progress).await;
    assert!(report.contains("6 of 6 rows (100%)"), "{report}");
    let rows: Vec<(&str, &str)> = vec![
        ("2", "bob@example.org</td><td>Added"),
        ("3", "new@example.org</td><td>Invited by email"),
        ("4", "not-an-address</td><td>Error: Enter an email address"),
        ("6", "bob@example.org</td><td>Already a participant"),
        ("7", "x@example.org</td><td>Error: Choose organizer, speaker"),
        ("8", "last@example.org</td><td>Invited by email"),
    ];
    for (row, text) in rows {
        assert!(report.contains(&format!("<td>{row}</td><td>{text}")), "row {row}: {report}");
    }
    assert!(report.contains("1 added · 2 invited · 2 errors · 1 already participants"), "{report}");
    // The organization's activity says one import happened, with its counts.
    let entry = eventually(Duration::from_secs(10), "the import in the activity", || async {
        let entries = app.db.db.audit_page(org.id, None, 50).await.unwrap();
        entries.into_iter().find(|e| e.action == "participants.imported")
    })
    .await;
    assert_eq!(
        (entry.subject.as_str(), entry.detail.as_deref()),
        ("Rust night", Some("6 rows: 1 added, 2 invited"))
    );
    let all = app.db.db.participant_rows(id).await.unwrap();
    assert_eq!(all.len(), 3);
    let new = all.iter().find(|p| p.invited_email.as_deref() == Some("new@example.org")).unwrap();
    assert_eq!((new.role, new.invited_name.as_deref()), (ParticipantRole::Volunteer, Some("New, Person")));
    assert_eq!(app.apprise.mail_to("last@example.org").len(), 1, "invitations are mailed");
    // The full page (no htmx) has the same report and a way back.
    let (status, page) = ada.page(&progress).await;
    assert_eq!(status, 200);
    assert!(page.contains("Back to the event") && page.contains("Importing participants"));

    // A larger file reaches 100% through the progress endpoint.
    let big: String = (0..600).map(|i| format!("person{i}@example.org,attendee,Person {i}\n")).collect();
    let r = upload(&ada, &import, big.as_bytes()).await;
    assert_eq!(r.status(), 303);
    let report = finished_import(&ada, &location(&r)).await;
    assert!(report.contains("600 of 600 rows (100%)") && report.contains("600 invited"), "{report}");
    assert_eq!(app.db.db.participant_rows(id).await.unwrap().len(), 603);

    // Too large, too many rows, nothing, or not text: refused with a message, nothing imported.
    let huge = "a@example.org\n".repeat(80_000);
    let r = upload(&ada, &import, huge.as_bytes()).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("larger than 1 MiB"));
    let many: String = (0..5001).map(|i| format!("m{i}@example.org\n")).collect();
    let r = upload(&ada, &import, many.as_bytes()).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("import at most 5000"));
    assert_eq!(upload(&ada, &import, b"email\n\n").await.status(), 422);
    assert_eq!(upload(&ada, &import, &[0xff, 0xfe, 0x00]).await.status(), 422);
    assert_eq!(app.db.db.participant_rows(id).await.unwrap().len(), 603);

    // Members who do not manage events cannot import.
    let (mia, _) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    assert_eq!(mia.page(&import).await.0, 403);
    assert_eq!(upload(&mia, &import, b"z@example.org\n").await.status(), 403);
    app.stop().await;
}

async fn calendar_feeds_parse_and_revoke(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (public, public_path) = new_event(&app, &ada, &org, "Rust night, with pizza", "public").await;
    let (cancelled, _) = new_event(&app, &ada, &org, "Called off", "public").await;
    let (private, private_page) = new_event(&app, &ada, &org, "Board meeting", "private").await;
    let (_unlisted, _) = new_event(&app, &ada, &org, "Unlisted meetup", "unlisted").await;
    let r = ada.post(&format!("/orgs/{}/events/{cancelled}/cancel", org.slug), &[("confirm", "yes")]).await;
    assert_eq!(r.status(), 303);

    // The organization's feed: upcoming public events, the cancelled one marked so.
    let r = app.get(&format!("/o/{}/events.ics", org.slug)).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let feed = parse_ics_all(&r.text().await.unwrap());
    assert_eq!(feed["calendar"], "Rust Paris");
    let events = feed["events"].as_array().unwrap();
    let by_uid = |id: Uuid| events.iter().find(|e| e["uid"] == id.to_string());
    assert_eq!(events.len(), 2, "{feed}");
    assert_eq!(by_uid(public).unwrap()["summary"], "Rust night, with pizza");
    assert_eq!(by_uid(public).unwrap()["status"], "CONFIRMED");
    assert_eq!(by_uid(public).unwrap()["dtstart"], "2030-06-01T16:30:00+00:00");
    assert_eq!(by_uid(cancelled).unwrap()["status"], "CANCELLED");
    assert!(by_uid(private).is_none());
    assert_eq!(app.get("/o/nobody/events.ics").await.status(), 404);

    // Bob's private feed: the events he joined, including the private one he was added to.
    let bob = app.signed_up("bob@example.org", "Bob", true).await;
    assert_eq!(bob.post(&format!("{public_path}/rsvp"), &[("rsvp", "going")]).await.status(), 303);
    let add = format!("/orgs/{}/events/{private}/participants", org.slug);
    assert_eq!(ada.post(&add, &[("email", "bob@example.org")]).await.status(), 303);
    // Invited to the private one, he answers there: that accepts it.
    assert_eq!(bob.post(&format!("{private_page}/rsvp"), &[("rsvp", "going")]).await.status(), 303);
    let (status, page) = bob.page("/account/calendar").await;
    assert_eq!(status, 200);
    assert!(page.contains("You have no feed address."));
    let r = bob.post("/account/calendar", &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    let feed_url = |page: &str| {
        let start = page.find(&app.url("/feeds/")).expect("the feed address is shown once");
        page[start + app.base.len()..].chars().take_while(|c| *c != '"').collect::<String>()
    };
    let first = feed_url(&page);
    assert!(first.ends_with(".ics") && first.len() > "/feeds/.ics".len() + 40, "{first}");
    let (_, page) = bob.page("/account/calendar").await;
    assert!(!page.contains(&first), "shown only once");
    let r = app.get(&first).await;
    assert_eq!(r.status(), 200);
    let feed = parse_ics_all(&r.text().await.unwrap());
    let mut names: Vec<&str> =
        feed["events"].as_array().unwrap().iter().map(|e| e["summary"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["Board meeting", "Rust night, with pizza"], "{feed}");

    // A new address revokes the old one; turning the feed off revokes it too.
    let second = feed_url(&bob.post("/account/calendar", &[]).await.text().await.unwrap());
    assert_ne!(first, second);
    assert_eq!(app.get(&first).await.status(), 404);
    assert_eq!(app.get(&second).await.status(), 200);
    assert_eq!(bob.post("/account/calendar/revoke", &[]).await.status(), 303);
    assert_eq!(app.get(&second).await.status(), 404);
    assert_eq!(app.get("/feeds/made-up.ics").await.status(), 404);
    app.stop().await;
}

async fn private_events_for_members_and_participants_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, path) = new_event(&app, &ada, &org, "Board meeting", "private").await;
    let (member, mia_id) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    let participant = app.signed_up("pat@example.org", "Pat", true).await;
    let pat_id = user_id(&app, "pat@example.org").await;
    let outsider = app.signed_up("otto@example.org", "Otto", true).await;
    let otto_id = user_id(&app, "otto@example.org").await;
    let r = ada
        .post(&format!("/orgs/{}/events/{id}/participants", org.slug), &[("email", "pat@example.org")])
        .await;
    assert_eq!(r.status(), 303);
    let token = |uid: Uuid| {
        let db = app.db.db.clone();
        async move {
            let t = format!("t-{}", Uuid::new_v4().simple());
            db.create_api_token(uid, "t", &herald::secrets::hash_token(&t)).await.unwrap();
            t
        }
    };
    let anon = app.visitor();
    let cases: [(&str, &Visitor, Option<String>, u16); 4] = [
        ("anonymous", &anon, None, 404),
        ("member", &member, Some(token(mia_id).await), 200),
        ("participant", &participant, Some(token(pat_id).await), 200),
        ("outsider", &outsider, Some(token(otto_id).await), 404),
    ];
    for (who, v, api_token, expected) in &cases {
        let (status, page) = v.page(&path).await;
        assert_eq!(status, *expected, "{who}: page");
        assert_eq!(page.contains("Board meeting"), *expected == 200, "{who}: page content");
        assert_eq!(v.page(&format!("{path}.ics")).await.0, *expected, "{who}: .ics");
        let api_status = match api_token {
            Some(t) => api(&app, t, Method::GET, &format!("/api/v1/events/{id}"), None).await.0,
            None => app.get(&format!("/api/v1/events/{id}")).await.status().as_u16(),
        };
        let api_expected = if api_token.is_none() { 401 } else { *expected };
        assert_eq!(api_status, api_expected, "{who}: API");
        if let Some(t) = api_token {
            let (status, _) = api(
                &app,
                t,
                Method::PUT,
                &format!("/api/v1/events/{id}/rsvp"),
                Some(json!({"rsvp": "going"})),
            )
            .await;
            assert_eq!(status == 404, *expected == 404, "{who}: RSVP through the API ({status})");
        }
    }
    // The outsider cannot join by posting the form either.
    assert_eq!(outsider.post(&format!("{path}/rsvp"), &[("rsvp", "going")]).await.status(), 404);
    assert!(app.db.db.participant_of(id, otto_id).await.unwrap().is_none());
    // Once the participant leaves, the private event is gone for them.
    assert_eq!(participant.post(&format!("{path}/leave"), &[]).await.status(), 303);
    assert_eq!(participant.page(&path).await.0, 404);
    app.stop().await;
}

async fn dan_id(app: &TestApp) -> Uuid {
    user_id(app, "dan@example.org").await
}

async fn events_hold_at_most_the_operators_number_of_participants(backend: Backend) {
    let app = TestApp::start_with_max_participants(backend, 2).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, public) = new_event(&app, &ada, &org, "Rust night", "public").await;
    let add = format!("/orgs/{}/events/{id}/participants", org.slug);
    for email in ["one@example.org", "two@example.org"] {
        assert_eq!(ada.post(&add, &[("email", email)]).await.status(), 303, "{email}");
    }

    // The third is refused with the reason, on the page…
    let r = ada.post(&add, &[("email", "three@example.org")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("reached the limit of 2 participants"));
    // …by an answer from the public page…
    let dan = app.signed_up("dan@example.org", "Dan", true).await;
    let r = dan.post(&format!("{public}/rsvp"), &[("rsvp", "going")]).await;
    assert_eq!(r.status(), 303);
    let (_, page) = dan.page(&location(&r)).await;
    assert!(page.contains("reached the limit of 2 participants"), "{page}");
    assert!(app.db.db.participant_of(id, dan_id(&app).await).await.unwrap().is_none());
    // …and in a CSV import's report.
    let import = format!("{add}/import");
    let r = upload(&ada, &import, b"four@example.org\n").await;
    assert_eq!(r.status(), 303);
    let report = finished_import(&ada, &location(&r)).await;
    assert!(report.contains("reached the limit of 2 participants"), "{report}");
    assert_eq!(app.db.db.participant_count(id).await.unwrap(), 2);

    // Room again once someone is removed.
    let first = app.db.db.participant_rows(id).await.unwrap()[0].id;
    assert_eq!(ada.post(&format!("{add}/{first}/remove"), &[]).await.status(), 303);
    assert_eq!(dan.post(&format!("{public}/rsvp"), &[("rsvp", "going")]).await.status(), 303);
    app.stop().await;
}

async fn one_address_gets_a_bounded_number_of_invitations(backend: Backend) {
    use herald::limits::INVITATIONS_PER_ADDRESS_HOUR;
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    // An organizer inviting the same address to event after event: the first few are mailed,
    // then the invitations are saved but the inbox is left alone for the hour.
    let mut pages = Vec::new();
    for n in 0..=INVITATIONS_PER_ADDRESS_HOUR {
        let (id, _) = new_event(&app, &ada, &org, &format!("Night {n}"), "public").await;
        let add = format!("/orgs/{}/events/{id}/participants", org.slug);
        let r = ada.post(&add, &[("email", "target@example.org")]).await;
        assert_eq!(r.status(), 303);
        pages.push(ada.page(&location(&r)).await.1);
        assert!(app.db.db.invited_participant(id, "target@example.org").await.unwrap().is_some());
    }
    assert_eq!(app.apprise.mail_to("target@example.org").len(), INVITATIONS_PER_ADDRESS_HOUR as usize);
    let last = pages.last().unwrap();
    assert!(last.contains("The invitation is saved, but we could not send the email just now."), "{last}");
    app.stop().await;
}

async fn the_organizer_sees_who_will_be_told(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let ada_token = format!("t-{}", Uuid::new_v4().simple());
    let ada_id = user_id(&app, "ada@example.org").await;
    app.db.db.create_api_token(ada_id, "t", &herald::secrets::hash_token(&ada_token)).await.unwrap();
    let (id, public) = new_event(&app, &ada, &org, "Rust night", "public").await;
    let add = format!("/orgs/{}/events/{id}/participants", org.slug);

    // Mia, a member with a confirmed address: reached by email. Carol: invited, not answered.
    let (_mia, _) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    assert_eq!(ada.post(&add, &[("email", "mia@example.org")]).await.status(), 303);
    assert_eq!(ada.post(&add, &[("email", "carol@example.org")]).await.status(), 303);
    // Dan answers but has no working channel (he switched his email off). Bob declines.
    let dan = app.signed_up("dan@example.org", "Dan", true).await;
    let dan_id = user_id(&app, "dan@example.org").await;
    let dan_email = app.db.db.email_integration_of(dan_id).await.unwrap().unwrap();
    app.db.db.set_integration_enabled(dan_id, dan_email.id, false).await.unwrap();
    assert_eq!(dan.post(&format!("{public}/rsvp"), &[("rsvp", "going")]).await.status(), 303);
    let bob = app.signed_up("bob@example.org", "Bob", true).await;
    assert_eq!(bob.post(&format!("{public}/rsvp"), &[("rsvp", "declined")]).await.status(), 303);

    let (_, page) = ada.page(&format!("/orgs/{}/events/{id}", org.slug)).await;
    assert!(page.contains("1 of 4 will be told."), "{page}");
    // The organizer's page leads to the public page people answer on.
    assert!(page.contains(&format!(r#"href="{public}">View public page</a>"#)), "{page}");
    // Answers without an account are on by default; the organizer turns them off from the page.
    assert!(page.contains("Allowed (name and a confirmed email address)"), "{page}");
    let r = ada.post(&format!("/orgs/{}/events/{id}/guests", org.slug), &[("guests", "off")]).await;
    assert_eq!(r.status(), 303);
    assert!(!app.db.db.event(id).await.unwrap().unwrap().guests);
    let (_, page) = ada.page(&format!("/orgs/{}/events/{id}", org.slug)).await;
    assert!(
        page.contains("Visitors now need an account to answer.") && page.contains("Not allowed"),
        "{page}"
    );
    assert!(page.contains("Email — mia@example.org"), "{page}");
    for reason in
        [herald::participants::NOT_ANSWERED, herald::participants::NO_CHANNEL, herald::participants::DECLINED]
    {
        assert!(page.contains(reason), "{reason}: {page}");
    }

    // The API says the same.
    let (status, list) =
        api(&app, &ada_token, Method::GET, &format!("/api/v1/events/{id}/participants"), None).await;
    assert_eq!(status, 200, "{list}");
    let of = |email: &str| list.as_array().unwrap().iter().find(|p| p["email"] == email).cloned().unwrap();
    assert_eq!(of("mia@example.org")["reachable"], true);
    assert_eq!(of("mia@example.org")["reached_through"], json!(["Email — mia@example.org"]));
    assert_eq!(of("carol@example.org")["unreachable_reason"], herald::participants::NOT_ANSWERED);
    assert_eq!(of("dan@example.org")["unreachable_reason"], herald::participants::NO_CHANNEL);
    assert_eq!(of("bob@example.org")["reachable"], false);
    app.stop().await;
}

/// The RSVP card's buttons, as (value, pressed) in page order.
fn answer_buttons(html: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("class=\"button rsvp-choice\"") {
        let tag_start = rest[..at].rfind('<').unwrap_or(0);
        let tag_end = at + rest[at..].find('>').unwrap_or(0);
        let tag = &rest[tag_start..tag_end];
        let value = tag.split("value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap_or_default();
        out.push((value.to_owned(), tag.contains("aria-pressed=\"true\"")));
        rest = &rest[tag_end..];
    }
    out
}

/// An answer posted the way htmx posts it (the button's name and value, `HX-Request`).
async fn tap(v: &Visitor, public: &str, answer: &str) -> (u16, String) {
    let csrf = v.csrf().await;
    let r = v
        .http
        .post(format!("{}{public}/rsvp", v.base))
        .header("HX-Request", "true")
        .form(&[("_csrf", csrf.as_str()), ("channels_shown", "1"), ("rsvp", answer)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Going, Maybe and Can't go are three buttons of one form: one tap answers; the answer given
/// is shown pressed and in words, with the reminder sentence above; the channel choice waits
/// folded under "Choose how you're told". With htmx the card comes back in place; without
/// JavaScript the form posts and the page comes back.
async fn one_tap_answers_on_the_public_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, public) = new_event(&app, &ada, &org, "Rust night", "public").await;
    let dan = app.signed_up("dan@example.org", "Dan", true).await;
    let dan_id = user_id(&app, "dan@example.org").await;
    let phone = active_channel(&app.db.db, dan_id, "Phone").await;

    let (_, page) = dan.page(&public).await;
    assert_eq!(
        answer_buttons(&page),
        vec![("going".into(), false), ("maybe".into(), false), ("declined".into(), false)],
        "{page}"
    );
    let page = page.replace("&#39;", "'");
    for label in [">Going</button>", ">Maybe</button>", ">Can't go</button>"] {
        assert!(page.contains(label), "{label}: {page}");
    }
    assert!(page.contains("Answer going or maybe to get reminders."), "what answering does: {page}");
    assert!(!page.contains("type=\"radio\""), "no radio group for a signed-in visitor: {page}");
    // The channel choice is folded away under the buttons, and still part of the form.
    let details = page.find("<details class=\"rsvp-channels\">").expect("a folded channel choice");
    assert!(page.find("rsvp-choice").unwrap() < details, "the buttons come first");
    assert!(page[details..].contains("<summary>Choose how you're told</summary>"), "{page}");
    assert!(page[details..].contains(&format!("name=\"channel\" value=\"{phone}\"")), "{page}");
    assert!(page.contains("href=\"/integrations/new?next="), "adding a channel comes back here: {page}");

    // Each button sets the answer; the card comes back with it pressed (htmx).
    for (value, words, rsvp) in [
        ("going", "Going", Rsvp::Going),
        ("maybe", "Maybe", Rsvp::Maybe),
        ("declined", "Can", Rsvp::Declined),
    ] {
        let (status, card) = tap(&dan, &public, value).await;
        assert_eq!(status, 200, "{value}: {card}");
        assert!(
            card.trim_start().starts_with("<section class=\"card\" id=\"rsvp\""),
            "only the card: {card}"
        );
        assert!(!card.contains("<html"), "{card}");
        let pressed: Vec<String> =
            answer_buttons(&card).into_iter().filter(|(_, p)| *p).map(|(v, _)| v).collect();
        assert_eq!(pressed, vec![value.to_owned()], "{card}");
        assert!(card.contains(&format!("id=\"rsvp-current\">{words}")), "in words too: {card}");
        let p = app.db.db.participant_of(id, dan_id).await.unwrap().expect("Dan takes part");
        assert_eq!(p.rsvp, rsvp);
        if rsvp == Rsvp::Going {
            assert!(card.contains("id=\"reminder-line\""), "the reminder sentence is above: {card}");
            assert!(card.replace("&#39;", "'").contains("You'll be reminded at"), "{card}");
            assert!(card.find("reminder-line").unwrap() < card.find("rsvp-choice").unwrap());
        }
    }

    // Without JavaScript: the form posts, and the page comes back with the answer pressed.
    let r = dan.post(&format!("{public}/rsvp"), &[("rsvp", "going"), ("channels_shown", "1")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{public}#rsvp"));
    let (_, page) = dan.page(&public).await;
    assert!(page.contains("Your answer is saved: Going."), "{page}");
    let pressed: Vec<String> =
        answer_buttons(&page).into_iter().filter(|(_, p)| *p).map(|(v, _)| v).collect();
    assert_eq!(pressed, vec!["going".to_owned()]);
    // A bad answer is refused in the card, and changes nothing.
    let (status, card) = tap(&dan, &public, "perhaps").await;
    assert_eq!(status, 200);
    assert!(card.contains("flash-error"), "{card}");
    assert_eq!(app.db.db.participant_of(id, dan_id).await.unwrap().unwrap().rsvp, Rsvp::Going);
    app.stop().await;
}

/// "Remove" in the participants table opens a page that asks first; its button removes.
async fn removing_a_participant_asks_first(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, public) = new_event(&app, &ada, &org, "Rust night", "public").await;
    let bea = app.signed_up("bea@example.org", "Bea", true).await;
    assert_eq!(bea.post(&format!("{public}/rsvp"), &[("rsvp", "going")]).await.status(), 303);
    let bea_id = user_id(&app, "bea@example.org").await;
    let p = app.db.db.participant_of(id, bea_id).await.unwrap().expect("Bea takes part");
    let event_page = format!("/orgs/{}/events/{id}", org.slug);
    let remove = format!("{event_page}/participants/{}/remove", p.id);

    // The table links to the question; nothing is removed by looking.
    let (_, page) = ada.page(&event_page).await;
    assert!(
        page.contains(&format!(
            "<a class=\"button button-secondary button-quiet-danger\" href=\"{remove}\">"
        )),
        "{page}"
    );
    let (status, page) = ada.page(&remove).await;
    assert_eq!(status, 200);
    assert!(page.contains("Remove Bea from Rust night?"), "{page}");
    assert!(page.contains("They stop getting its notices."), "{page}");
    assert!(page.contains(&format!("action=\"{remove}\"")) && page.contains("name=\"_csrf\""), "{page}");
    assert!(page.contains(&format!("href=\"{event_page}#participants\"")), "a way out: {page}");
    assert!(app.db.db.participant_of(id, bea_id).await.unwrap().is_some(), "still there");

    // Others cannot even see the question; without the CSRF token nothing happens.
    assert_eq!(bea.get(&remove).await.status(), 404);
    assert_eq!(ada.post_raw(&remove, &[("confirm", "yes")]).await.status(), 403);
    assert!(app.db.db.participant_of(id, bea_id).await.unwrap().is_some());

    // The page's button removes.
    let r = ada.post(&remove, &[("confirm", "yes")]).await;
    assert_eq!(r.status(), 303);
    assert!(app.db.db.participant_of(id, bea_id).await.unwrap().is_none(), "removed");
    let (_, page) = ada.page(&event_page).await;
    assert!(page.contains("bea@example.org is no longer a participant."), "{page}");
    assert_eq!(ada.get(&remove).await.status(), 404, "nobody left to remove");
    app.stop().await;
}
