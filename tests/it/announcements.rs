//! Announcements for real: an organizer's own message delivered by the event's workflow (the
//! Temporal dev server, the worker, the fake Apprise API, times of seconds) to exactly the
//! people chosen by role and answer, once each, at its time; a cancelled one never; a killed
//! worker repeats nobody; the preview reads as the delivered message and counts the same people.

use std::time::Duration;

use chrono::{DateTime, Utc};
use herald::db::models::{ParticipantRole, Rsvp};
use herald::db::participants::Invitee;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::delivery::{ADA_MAIL, event, fans, got, organizer, person, spawn_worker, wait_for_temporal};
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, TestDb, eventually};

both_backends!(
    an_announcement_reaches_exactly_the_chosen_people_once,
    a_scheduled_announcement_arrives_at_its_time_and_a_cancelled_one_never,
);

const BOB_NTFY: &str = "ntfys://bob-topic@ntfy.example.org/bob";
const CY_NTFY: &str = "ntfys://cy-topic@ntfy.example.org/cy";
const DEE_NTFY: &str = "ntfys://dee-topic@ntfy.example.org/dee";
const EVE_NTFY: &str = "ntfys://eve-topic@ntfy.example.org/eve";
const GUS_NTFY: &str = "ntfys://gus-topic@ntfy.example.org/gus";

/// Adds `who` to the event as `role` with `rsvp`; the participant's id.
async fn join_as(app: &TestApp, event: Uuid, who: Uuid, role: ParticipantRole, rsvp: Rsvp) -> Uuid {
    app.db.db.add_participant(event, Invitee::User(who), role, rsvp).await.unwrap().id
}

async fn announce(app: &TestApp, token: &str, ev: Uuid, body: Value) -> (u16, Value) {
    api(app, token, Method::POST, &format!("/api/v1/events/{ev}/announcements"), Some(body)).await
}

/// The event's `message` ledger rows.
async fn message_rows(app: &TestApp, token: &str, ev: Uuid) -> Vec<Value> {
    let (status, body) =
        api(app, token, Method::GET, &format!("/api/v1/events/{ev}/notifications"), None).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().iter().filter(|r| r["kind"] == "message").cloned().collect()
}

/// `body` with the recipient's own opt-out link replaced by the preview's stand-in.
fn without_own_link(body: &str) -> String {
    const LEAD: &str = "stop messages about this event: ";
    let Some(at) = body.find(LEAD) else { return body.to_owned() };
    let start = at + LEAD.len();
    let end = body[start..].find('\n').map_or(body.len(), |e| start + e);
    format!("{}{}{}", &body[..start], herald::announcements::THEIR_LINK, &body[end..])
}

async fn an_announcement_reaches_exactly_the_chosen_people_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    // Speakers: Ada (going, mail), Bob (maybe, ntfy), Fay (going, no channel), Gus (going, but he
    // stopped this event's messages), Eve (can't go). Cy attends; Dee volunteers, no answer yet.
    let ada = person(&app, "ada@example.org", "Ada", "Europe/Paris", &[(ADA_MAIL, &[])]).await;
    let bob = person(&app, "bob@example.org", "Bob", "America/New_York", &[(BOB_NTFY, &[])]).await;
    let cy = person(&app, "cy@example.org", "Cy", "UTC", &[(CY_NTFY, &[])]).await;
    let dee = person(&app, "dee@example.org", "Dee", "UTC", &[(DEE_NTFY, &[])]).await;
    let eve = person(&app, "eve@example.org", "Eve", "UTC", &[(EVE_NTFY, &[])]).await;
    let gus = person(&app, "gus@example.org", "Gus", "UTC", &[(GUS_NTFY, &[])]).await;
    let (fay, _) = api_user(&app, "fay@example.org", "Fay", true).await;
    let (ev, _) = event(&app, &olga, 120, 600, &[]).await;
    let speaker = ParticipantRole::Speaker;
    join_as(&app, ev, ada.id, speaker, Rsvp::Going).await;
    let bob_p = join_as(&app, ev, bob.id, speaker, Rsvp::Maybe).await;
    join_as(&app, ev, fay.id, speaker, Rsvp::Going).await;
    let gus_p = join_as(&app, ev, gus.id, speaker, Rsvp::Going).await;
    join_as(&app, ev, eve.id, speaker, Rsvp::Declined).await;
    join_as(&app, ev, cy.id, ParticipantRole::Attendee, Rsvp::Going).await;
    join_as(&app, ev, dee.id, ParticipantRole::Volunteer, Rsvp::Pending).await;
    app.db.db.set_opted_out(gus_p, Some(Utc::now())).await.unwrap();

    let message = json!({
        "subject": "Speakers: slides by Friday",
        "body": "Hello speakers,\n\nPlease send your **slides** by Friday. [Upload here](https://example.org/up).",
        "answers": ["going", "maybe", "pending"],
        "roles": ["speaker"],
    });
    // The preview, as Bob will get it, and who it reaches.
    let mut for_bob = message.clone();
    for_bob["recipient"] = json!(bob_p);
    let (status, preview) =
        api(&app, &olga, Method::POST, &format!("/api/v1/events/{ev}/announcements/preview"), Some(for_bob))
            .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["recipient"]["name"], "Bob", "{preview}");
    let reach = &preview["reach"];
    assert_eq!(reach["people"], 4, "Ada, Bob, Fay and Gus; never Eve, who can't go: {reach}");
    assert_eq!(reach["no_channel"], 1, "Fay: {reach}");
    assert_eq!(reach["opted_out"], 1, "Gus: {reach}");
    let kinds: Vec<(String, i64)> = reach["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap().to_owned(), k["people"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, vec![("email".to_owned(), 1), ("ntfy".to_owned(), 1)], "{reach}");
    assert_eq!(
        reach["summary"],
        "4 people: 1 by email, 1 by ntfy, 1 with no channel, 1 who stopped this event's messages"
    );

    let (status, created) = announce(&app, &olga, ev, message).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "sent", "{created}");
    let aid = created["id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(30), "the announcement to reach Ada and Bob", || async {
        let a = got(&app, &ada.key, "mailtos://", "Speakers: ");
        let b = got(&app, &bob.key, BOB_NTFY, "Speakers: ");
        (!a.is_empty() && !b.is_empty()).then_some(())
    })
    .await;
    // Then a second one, to those who have not answered yet, whatever their role.
    let (status, body) = announce(
        &app,
        &olga,
        ev,
        json!({"subject": "Will you come?", "body": "Tell us if you come.", "answers": ["pending"],
               "roles": ["speaker", "volunteer", "attendee", "organizer"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    eventually(Duration::from_secs(30), "the second announcement to reach Dee", || async {
        (!got(&app, &dee.key, DEE_NTFY, "Will you come?").is_empty()).then_some(())
    })
    .await;
    // Time for a duplicate to show up before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bob_got = got(&app, &bob.key, BOB_NTFY, "Speakers: ");
    assert_eq!(got(&app, &ada.key, "mailtos://", "Speakers: ").len(), 1, "once to Ada");
    assert_eq!(bob_got.len(), 1, "once to Bob");
    for (key, url, who) in [
        (&cy.key, CY_NTFY, "Cy"),
        (&dee.key, DEE_NTFY, "Dee"),
        (&eve.key, EVE_NTFY, "Eve"),
        (&gus.key, GUS_NTFY, "Gus"),
    ] {
        assert!(got(&app, key, url, "Speakers: ").is_empty(), "{who} is not a speaker who may be written to");
    }
    assert_eq!(got(&app, &dee.key, DEE_NTFY, "Will you come?").len(), 1);
    for (key, url, who) in
        [(&ada.key, "mailtos://", "Ada"), (&bob.key, BOB_NTFY, "Bob"), (&cy.key, CY_NTFY, "Cy")]
    {
        assert!(got(&app, key, url, "Will you come?").is_empty(), "{who} has answered");
    }
    // Writing to participants is not a change of the event: nobody is told "what changed".
    assert!(
        app.apprise.delivered().iter().all(|d| !d.title.starts_with("Changed: ")),
        "no change notice: {:#?}",
        app.apprise.delivered()
    );
    // Bob reads what the preview showed, word for word, on his channel.
    let delivered = &bob_got[0];
    assert_eq!(delivered.title, preview["subject"].as_str().unwrap());
    assert_eq!(without_own_link(&delivered.body), preview["text"].as_str().unwrap());
    assert!(delivered.body.contains("Please send your slides by Friday."), "{}", delivered.body);
    assert!(delivered.body.contains("/optout/"), "the footer with his own link: {}", delivered.body);
    assert!(delivered.body.contains("(America/New_York)"), "in his time zone: {}", delivered.body);

    // The ledger: Ada and Bob sent, Fay (no channel) and Gus (stopped) skipped; then Dee.
    let rows = message_rows(&app, &olga, ev).await;
    let of = |name: &str, status: &str| {
        rows.iter().filter(|r| r["recipient"] == name && r["status"] == status).count()
    };
    assert_eq!((of("Ada", "sent"), of("Bob", "sent"), of("Dee", "sent")), (1, 1, 1), "{rows:#?}");
    assert_eq!((of("Fay", "skipped"), of("Gus", "skipped")), (1, 1), "{rows:#?}");
    assert_eq!(rows.len(), 5, "nobody else: {rows:#?}");
    // The history of announcements, with their outcomes.
    let (status, one) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/announcements/{aid}"), None).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        (one["outcomes"]["sent"].as_i64(), one["outcomes"]["skipped"].as_i64()),
        (Some(2), Some(2)),
        "{one}"
    );
    let (status, list) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/announcements"), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["subject"], "Will you come?", "latest first: {list}");
    app.stop().await;
}

async fn a_scheduled_announcement_arrives_at_its_time_and_a_cancelled_one_never(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "UTC", &[(ADA_MAIL, &[])]).await;
    let (ev, _) = event(&app, &olga, 60, 600, &[]).await;
    join_as(&app, ev, ada.id, ParticipantRole::Attendee, Rsvp::Going).await;
    let at: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(10);
    let (status, kept) = announce(
        &app,
        &olga,
        ev,
        json!({"subject": "Doors open", "body": "Doors open in 5 minutes.", "send_at": at.to_rfc3339()}),
    )
    .await;
    assert_eq!(status, 201, "{kept}");
    assert_eq!(kept["state"], "scheduled", "{kept}");
    let later = Utc::now() + chrono::Duration::seconds(14);
    let (status, dropped) = announce(
        &app,
        &olga,
        ev,
        json!({"subject": "Never mind", "body": "This one is cancelled.", "send_at": later.to_rfc3339()}),
    )
    .await;
    assert_eq!(status, 201, "{dropped}");
    let dropped_id = dropped["id"].as_str().unwrap();
    let cancel = format!("/api/v1/events/{ev}/announcements/{dropped_id}/cancel");
    let (status, body) = api(&app, &olga, Method::POST, &cancel, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "cancelled", "{body}");
    let (status, body) = api(&app, &olga, Method::POST, &cancel, None).await;
    assert_eq!(status, 409, "cancelled already: {body}");

    let arrived = eventually(Duration::from_secs(40), "the scheduled announcement", || async {
        got(&app, &ada.key, "mailtos://", "Doors open").into_iter().next()
    })
    .await;
    assert!(arrived.at >= at, "{} ms early", (at - arrived.at).num_milliseconds());
    // Past the cancelled one's time: it never comes; the kept one came once.
    let wait = (later - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(4);
    tokio::time::sleep(wait).await;
    assert!(got(&app, &ada.key, "mailtos://", "Never mind").is_empty(), "the cancelled one never arrives");
    assert_eq!(got(&app, &ada.key, "mailtos://", "Doors open").len(), 1);
    // Gone out: it cannot be cancelled any more.
    let kept_id = kept["id"].as_str().unwrap();
    let (status, body) =
        api(&app, &olga, Method::POST, &format!("/api/v1/events/{ev}/announcements/{kept_id}/cancel"), None)
            .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap_or_default().contains("gone out"), "{body}");
    app.stop().await;
}

/// Bad input is refused with a 4xx that says what to fix; never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_announcements_are_refused_with_the_reason() {
    let app = TestApp::start(Backend::Sqlite).await;
    let olga = organizer(&app).await;
    let (ev, starts_at) = event(&app, &olga, 3600, 3600, &[]).await;
    let path = format!("/api/v1/events/{ev}/announcements");
    let ends_at = starts_at + chrono::Duration::seconds(3600);
    let cases = [
        (json!({"subject": "", "body": "x"}), "subject"),
        (json!({"subject": "Hi", "body": "  "}), "body"),
        (json!({"subject": "Hi", "body": "x", "answers": ["declined"]}), "answers"),
        (json!({"subject": "Hi", "body": "x", "answers": []}), "answers"),
        (json!({"subject": "Hi", "body": "x", "roles": ["juggler"]}), "roles"),
        (json!({"subject": "Hi", "body": "x", "send_at": "tomorrow"}), "send_at"),
        (json!({"subject": "Hi", "body": "x", "send_at": "2020-01-01T00:00:00Z"}), "send_at"),
        (
            json!({"subject": "Hi", "body": "x", "send_at": (ends_at + chrono::Duration::minutes(1)).to_rfc3339()}),
            "send_at",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = api(&app, &olga, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, 422, "{body} → {answer}");
        let text = answer.to_string();
        assert!(text.contains(field), "{body} names {field}: {answer}");
    }
    // A draft is nobody's business yet.
    let (status, draft) = api(
        &app,
        &olga,
        Method::POST,
        "/api/v1/orgs/rust-paris/events",
        Some(json!({"name": "Draft", "starts_at": starts_at.to_rfc3339(), "ends_at": ends_at.to_rfc3339(), "timezone": "UTC"})),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    let (status, answer) = api(
        &app,
        &olga,
        Method::POST,
        &format!("/api/v1/events/{}/announcements", draft["id"].as_str().unwrap()),
        Some(json!({"subject": "Hi", "body": "x"})),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["detail"].as_str().unwrap_or_default().contains("Publish"), "{answer}");
    // A member who does not manage events may not write to participants.
    let (member, member_token) = api_user(&app, "max@example.org", "Max", true).await;
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    app.db.db.add_membership(org.id, member.id, herald::db::models::Role::Member).await.unwrap();
    let (status, answer) =
        api(&app, &member_token, Method::POST, &path, Some(json!({"subject": "Hi", "body": "x"}))).await;
    assert_eq!(status, 403, "{answer}");
    // Unknown announcements, and a preview for someone it does not go to.
    let (status, _) = api(&app, &olga, Method::GET, &format!("{path}/{}", Uuid::new_v4()), None).await;
    assert_eq!(status, 404);
    let (status, answer) = api(
        &app,
        &olga,
        Method::POST,
        &format!("{path}/preview"),
        Some(json!({"subject": "Hi", "body": "x", "recipient": Uuid::new_v4()})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer.to_string().contains("recipient"), "{answer}");
    app.stop().await;
}

/// The worker is killed (SIGKILL) while it sends an announcement to 300 people, and started
/// again: nobody gets it twice. Every message goes out under a claim committed just before the
/// call, so the retry never sends what the dead worker had on its way: those few (at most the
/// 16 in flight) are `uncertain` in the ledger — most arrived, since the Apprise API had them
/// — and everyone else gets it exactly once (see docs/DELIVERY.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_send_repeats_nobody() {
    const PEOPLE: usize = 300;
    let app =
        TestApp::start_with(TestDb::new(Backend::Sqlite).await, &crate::support::temporal_address(), false)
            .await;
    wait_for_temporal(&app).await;
    let mut worker = spawn_worker(&app);
    let olga = organizer(&app).await;
    let (ev, _) = event(&app, &olga, 600, 600, &[]).await;
    fans(&app, ev, PEOPLE, ParticipantRole::Speaker).await;
    let (status, body) = announce(
        &app,
        &olga,
        ev,
        json!({"subject": "Speakers' dinner", "body": "At 8 pm.", "roles": ["speaker"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let copies = || {
        let mut by_url = std::collections::HashMap::<String, usize>::new();
        for d in app.apprise.delivered_to("ntfys://fan").into_iter().filter(|d| d.title == "Speakers' dinner")
        {
            *by_url.entry(d.url).or_default() += 1;
        }
        by_url
    };
    eventually(Duration::from_secs(60), "the first deliveries", || async {
        (!copies().is_empty()).then_some(())
    })
    .await;
    worker.kill();
    let delivered_at_kill = copies().len();
    // What the ledger knew when the worker died: those are never sent again.
    let recorded: Vec<String> = message_rows(&app, &olga, ev)
        .await
        .iter()
        .filter(|r| r["status"] == "sent")
        .filter_map(|r| {
            r["recipient"]
                .as_str()?
                .strip_prefix("Fan ")
                .map(|i| format!("ntfys://fan{i}@ntfy.example.org/fans"))
        })
        .collect();
    println!(
        "killed the worker after {delivered_at_kill} of {PEOPLE} deliveries, {} recorded",
        recorded.len()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut worker = spawn_worker(&app);
    // Every row final: sent, or uncertain once the dead attempt's claims have expired (60 s).
    let rows = eventually(Duration::from_secs(240), "every message settled after the restart", || async {
        let rows = message_rows(&app, &olga, ev).await;
        (rows.len() == PEOPLE && rows.iter().all(|r| r["status"] == "sent" || r["status"] == "uncertain"))
            .then_some(rows)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let copies = copies();
    let url_of = |r: &Value| {
        r["recipient"]
            .as_str()
            .and_then(|n| n.strip_prefix("Fan "))
            .map(|i| format!("ntfys://fan{i}@ntfy.example.org/fans"))
    };
    for (url, n) in &copies {
        assert_eq!(*n, 1, "{url} got the message {n} times: a killed worker repeats nobody");
    }
    for url in &recorded {
        assert_eq!(copies.get(url), Some(&1), "{url} was recorded as sent before the kill");
    }
    let uncertain: Vec<String> =
        rows.iter().filter(|r| r["status"] == "uncertain").filter_map(url_of).collect();
    for url in rows.iter().filter(|r| r["status"] == "sent").filter_map(url_of) {
        assert_eq!(copies.get(&url), Some(&1), "{url} is recorded as sent and got it once");
    }
    // Only what was in flight at the kill is uncertain: at most one batch's concurrency.
    assert!(
        uncertain.len() <= herald_workflows::activities::CONCURRENCY,
        "{} uncertain messages; at most {} were in flight",
        uncertain.len(),
        herald_workflows::activities::CONCURRENCY
    );
    let arrived = uncertain.iter().filter(|u| copies.contains_key(*u)).count();
    assert_eq!(copies.len(), PEOPLE - (uncertain.len() - arrived), "everyone else got it");
    println!(
        "after the restart: nobody got it twice; {} of {PEOPLE} uncertain (in flight at the kill), {arrived} of them had arrived",
        uncertain.len()
    );
    worker.kill();
    app.stop().await;
}

/// In a real browser: the organizer goes from the event's page to "Write to participants",
/// writes to the speakers only, watches the preview and the count follow what she types and
/// ticks, sends it, and finds it in the event's announcements; the speaker gets it, the attendee
/// does not. Screenshots: `announcement-compose` and `announcement-sent` (desktop and phone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizer_writes_to_the_speakers_in_a_real_browser() {
    use crate::support::browser::{ChromeDriver, PHONE, wait_until};
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let (_, _, olga_token) =
        crate::delivery_pages::signed_in(&app, "olga@example.org", "Olga Organizer").await;
    crate::delivery::create_org(&app, &olga_token).await;
    let ada =
        person(&app, "ada@example.org", "Ada", "Europe/Paris", &[("ntfys://ntfy.example.org/ada", &[])])
            .await;
    let cy = person(&app, "cy@example.org", "Cy", "UTC", &[(CY_NTFY, &[])]).await;
    let (ev, _) = event(&app, &olga_token, 900, 600, &[]).await;
    join_as(&app, ev, ada.id, ParticipantRole::Speaker, Rsvp::Going).await;
    join_as(&app, ev, cy.id, ParticipantRole::Attendee, Rsvp::Going).await;

    let driver = ChromeDriver::start().await;
    let olga = driver.session().await.at(&app.base);
    olga.open("/signin").await;
    olga.fill("Email", "olga@example.org").await;
    olga.fill("Password", crate::support::PASSWORD).await;
    olga.click_button("Sign in").await;
    wait_until("Olga to be signed in", || async { (olga.path().await != "/signin").then_some(()) }).await;
    olga.open(&format!("/orgs/rust-paris/events/{ev}")).await;
    olga.click_link("Write to participants").await;
    olga.wait_for_heading("Write to participants").await;
    olga.fill("Subject", "Slides by Friday").await;
    olga.fill("Message", "Please send your **slides** by Friday.").await;
    // Everyone going or maybe, by default.
    olga.wait_for_text("2 people: 2 by ntfy").await;
    // Only the speakers: untick the attendees, the volunteers and the organizers.
    for role in ["Attendees", "Volunteers", "Organizers"] {
        olga.field(role).await.click().await.unwrap();
    }
    olga.wait_for_text("1 person: 1 by ntfy").await;
    olga.wait_for_text("Please send your slides by Friday.").await;
    assert!(
        olga.main_text().await.contains("Ada"),
        "the preview names whom it shows: {}",
        olga.main_text().await
    );
    olga.screenshots("announcement-compose").await;
    olga.resize(PHONE.0, PHONE.1).await;
    let widths = olga.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert!(widths[0].as_i64() <= widths[1].as_i64(), "the form scrolls sideways on a phone: {widths}");
    olga.resize(crate::support::browser::DESKTOP.0, crate::support::browser::DESKTOP.1).await;

    olga.click_button("Send").await;
    olga.wait_for_flash("is on its way").await;
    eventually(Duration::from_secs(30), "Ada's message", || async {
        (!got(&app, &ada.key, "ntfys://", "Slides by Friday").is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(got(&app, &ada.key, "ntfys://", "Slides by Friday").len(), 1);
    assert!(got(&app, &cy.key, CY_NTFY, "Slides by Friday").is_empty(), "Cy attends, he is not a speaker");
    // The event's announcements say how it went.
    eventually(Duration::from_secs(20), "the outcome on the page", || async {
        olga.open(&format!("/orgs/rust-paris/events/{ev}/announcements")).await;
        olga.main_text().await.contains("1 sent").then_some(())
    })
    .await;
    olga.screenshots("announcement-sent").await;
    drop(driver);
    app.stop().await;
}

/// A life with announcements — one sent at once, one at its time, one cancelled — then the
/// event's cancellation, replays against the current workflow code; with
/// `HERALD_RECORD_HISTORIES=1` it is kept in `tests/it/histories` for the replay test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_with_announcements_replays() {
    use herald_workflows::EventWorkflow;
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "Europe/Paris", &[(ADA_MAIL, &[])]).await;
    let (ev, _) = event(&app, &olga, 60, 600, &[]).await;
    join_as(&app, ev, ada.id, ParticipantRole::Speaker, Rsvp::Going).await;
    let (status, body) = announce(&app, &olga, ev, json!({"subject": "Now: hello", "body": "Hello."})).await;
    assert_eq!(status, 201, "{body}");
    let at = Utc::now() + chrono::Duration::seconds(6);
    let (status, body) = announce(
        &app,
        &olga,
        ev,
        json!({"subject": "Later: doors", "body": "Doors open.", "send_at": at.to_rfc3339()}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, dropped) = announce(
        &app,
        &olga,
        ev,
        json!({"subject": "Never", "body": "Cancelled.", "send_at": (at + chrono::Duration::seconds(30)).to_rfc3339()}),
    )
    .await;
    assert_eq!(status, 201, "{dropped}");
    let (status, body) = api(
        &app,
        &olga,
        Method::POST,
        &format!("/api/v1/events/{ev}/announcements/{}/cancel", dropped["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(40), "both announcements", || async {
        let now = got(&app, &ada.key, "mailtos://", "Now: ");
        let later = got(&app, &ada.key, "mailtos://", "Later: ");
        (!now.is_empty() && !later.is_empty()).then_some(())
    })
    .await;
    let (status, _) = api(&app, &olga, Method::POST, &format!("/api/v1/events/{ev}/cancel"), None).await;
    assert_eq!(status, 200);
    let herald = app.herald.as_ref().unwrap();
    let client = herald.temporal.client().await.unwrap();
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(ev));
    tokio::time::timeout(
        Duration::from_secs(30),
        handle.get_result(temporalio_client::WorkflowGetResultOptions::default()),
    )
    .await
    .expect("the cancelled event's workflow finishes")
    .expect("and succeeds");
    assert!(got(&app, &ada.key, "mailtos://", "Never").is_empty());
    assert_eq!(got(&app, &ada.key, "mailtos://", "Changed: ").len(), 0, "announcements are not changes");
    let json = handle
        .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap();
    let history = temporalio_client::WorkflowHistory::from_json(&json).unwrap();
    let options = temporalio_sdk::workflow_replayer::WorkflowReplayerOptions::new()
        .register_workflow::<EventWorkflow>()
        .unwrap()
        .build();
    let replayer = temporalio_sdk::workflow_replayer::WorkflowReplayer::new(options).unwrap();
    replayer
        .replay_workflow(history)
        .await
        .unwrap_or_else(|e| panic!("a fresh history does not replay: {e:?}"));
    if std::env::var_os("HERALD_RECORD_HISTORIES").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/histories");
        let path = dir.join(format!("event-life-{}-announce.json", Utc::now().format("%Y%m%d")));
        std::fs::write(&path, &json).unwrap();
        println!("recorded {}", path.display());
    }
    app.stop().await;
}
