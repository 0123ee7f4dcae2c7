//! Quiet hours and daily digests, delivered for real (Temporal dev server, worker, fake Apprise
//! API). The people are in Tokyo (no daylight saving: the windows of seconds below mean the
//! same whatever the date); their quiet hours and digest times are set a few seconds from now
//! in their own clock time. The daylight-saving arithmetic is unit-tested in
//! `src/domain/quiet.rs`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use herald::db::models::Rsvp;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::delivery::{Person, got, join, organizer, person_of, wait_for_temporal};
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, eventually};

both_backends!(
    quiet_hours_defer_a_change_and_let_a_cancellation_through,
    a_reminder_due_in_quiet_hours_comes_before_they_begin,
    a_newcomer_s_quiet_hours_move_their_reminder_when_they_join,
    a_digest_gathers_three_notices_into_one_message,
    settings_are_validated_and_shown,
    held_mail_keeps_its_calendar_update_and_a_digest_can_be_turned_off,
);

const TOKYO: chrono_tz::Tz = chrono_tz::Asia::Tokyo;
const ADA_NTFY: &str = "ntfys://ntfy.example.org/ada";
const BOB_NTFY: &str = "ntfys://ntfy.example.org/bob";

/// `t` as a clock time in Tokyo, with seconds: `21:04:05`.
/// `t` on a Tokyo clock, as Herald writes a clock time back ("20:05", or "20:05:30" when the
/// seconds matter).
fn tokyo_clock(t: DateTime<Utc>) -> String {
    herald::domain::quiet::clock_text(t.with_timezone(&TOKYO).time())
}

/// Someone in Tokyo with a confirmed channel; their API token.
async fn tokyo_person(app: &TestApp, email: &str, name: &str, url: &str) -> (Person, String) {
    let (user, token) = api_user(app, email, name, true).await;
    let p = person_of(app, user.id, &token, name, "Asia/Tokyo", &[(url, &[])]).await;
    (p, token)
}

/// A published event named `name` starting `starts_in` seconds from now.
async fn named_event(app: &TestApp, token: &str, name: &str, starts_in: i64, offsets: &[i64]) -> Uuid {
    let starts_at = Utc::now() + chrono::Duration::seconds(starts_in);
    let body = json!({
        "name": name, "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::seconds(3600)).to_rfc3339(),
        "timezone": "Asia/Tokyo", "location": "Room 1", "reminder_offsets": offsets,
        "status": "published", "visibility": "public",
    });
    let (status, body) = api(app, token, Method::POST, "/api/v1/orgs/rust-paris/events", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    crate::support::told_workflow(&app.db.db, id).await;
    id
}

async fn set_me(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, body) = api(app, token, Method::PATCH, "/api/v1/me", Some(body)).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn ledger(app: &TestApp, token: &str, event: Uuid) -> Vec<Value> {
    let (status, body) =
        api(app, token, Method::GET, &format!("/api/v1/events/{event}/notifications"), None).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// Two days ahead, a change is not urgent: Ada, in her quiet hours, gets it when they end;
/// Bob at once. A cancellation is urgent: Ada gets it at once, quiet hours or not.
async fn quiet_hours_defer_a_change_and_let_a_cancellation_through(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (ada, ada_token) = tokyo_person(&app, "ada@example.org", "Ada", ADA_NTFY).await;
    let (bob, _) = tokyo_person(&app, "bob@example.org", "Bob", BOB_NTFY).await;
    let moved = named_event(&app, &olga, "Rust night", 2 * 86_400, &[3600]).await;
    let called_off = named_event(&app, &olga, "Rust brunch", 2 * 86_400, &[3600]).await;
    for ev in [moved, called_off] {
        join(&app, ev, &ada, Rsvp::Going, None).await;
        join(&app, ev, &bob, Rsvp::Going, None).await;
    }
    // Ada's quiet hours: from a moment ago until 25 s from now, in her clock.
    let quiet_end = Utc::now() + chrono::Duration::seconds(25);
    let me = set_me(
        &app,
        &ada_token,
        json!({"quiet_hours": {"start": tokyo_clock(Utc::now() - chrono::Duration::seconds(2)), "end": tokyo_clock(quiet_end)}}),
    )
    .await;
    assert!(me["quiet_hours"]["start"].is_string(), "{me}");
    let quiet_end = quiet_end.with_timezone(&Utc)
        - chrono::Duration::nanoseconds(i64::from(quiet_end.timestamp_subsec_nanos()));

    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{moved}"),
        Some(json!({"location": "Room 9"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        api(&app, &olga, Method::POST, &format!("/api/v1/events/{called_off}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");

    eventually(Duration::from_secs(20), "Bob's change notice and Ada's cancellation", || async {
        let b = got(&app, &bob.key, BOB_NTFY, "Changed: ").len();
        let a = got(&app, &ada.key, ADA_NTFY, "Cancelled: ").len();
        (b == 1 && a == 1).then_some(())
    })
    .await;
    let cancelled = &got(&app, &ada.key, ADA_NTFY, "Cancelled: ")[0];
    assert!(cancelled.at < quiet_end, "the cancellation came during the quiet hours, at once");
    assert!(got(&app, &ada.key, ADA_NTFY, "Changed: ").is_empty(), "Ada's change notice waits");
    let rows = ledger(&app, &olga, moved).await;
    assert!(
        rows.iter().any(|r| r["recipient"] == "Ada" && r["kind"] == "updated" && r["status"] == "pending"),
        "{rows:#?}"
    );

    let change = eventually(Duration::from_secs(60), "Ada's change notice after her quiet hours", || async {
        got(&app, &ada.key, ADA_NTFY, "Changed: ").into_iter().next()
    })
    .await;
    assert!(
        change.at >= quiet_end,
        "not before the end: {} ms early",
        (quiet_end - change.at).num_milliseconds()
    );
    assert!(change.body.contains("Place: Room 1 → Room 9"), "{}", change.body);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got(&app, &ada.key, ADA_NTFY, "Changed: ").len(), 1, "once");
    assert_eq!(got(&app, &bob.key, BOB_NTFY, "Changed: ").len(), 1, "once");
    let rows = ledger(&app, &olga, moved).await;
    let sent = rows.iter().filter(|r| r["kind"] == "updated" && r["status"] == "sent").count();
    assert_eq!(sent, 2, "{rows:#?}");

    // Its life — a held notice, the plan read again, a release, a cancellation — replays (and,
    // with `HERALD_RECORD_HISTORIES=1`, is kept for the replay test).
    let (status, _) = api(&app, &olga, Method::POST, &format!("/api/v1/events/{moved}/cancel"), None).await;
    assert_eq!(status, 200);
    let herald = app.herald.as_ref().unwrap();
    let client = herald.temporal.client().await.unwrap();
    let handle =
        client.get_workflow_handle::<herald_workflows::EventWorkflow>(herald_workflows::workflow_id(moved));
    tokio::time::timeout(
        Duration::from_secs(30),
        handle.get_result(temporalio_client::WorkflowGetResultOptions::default()),
    )
    .await
    .expect("the cancelled event's workflow finishes")
    .expect("and succeeds");
    let json = handle
        .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap();
    let history = temporalio_client::WorkflowHistory::from_json(&json).unwrap();
    crate::delivery::replay(history).await.unwrap_or_else(|e| panic!("a fresh history does not replay: {e}"));
    if backend == Backend::Sqlite && std::env::var_os("HERALD_RECORD_HISTORIES").is_some() {
        let name = format!("event-life-{}-quiet.json", Utc::now().format("%Y%m%d"));
        std::fs::write(crate::delivery::histories_dir().join(name), &json).unwrap();
    }
    app.stop().await;
}

/// Ada's quiet hours begin before her reminder is due: she gets it just before they begin, and
/// only then; Bob at its time.
async fn a_reminder_due_in_quiet_hours_comes_before_they_begin(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (ada, ada_token) = tokyo_person(&app, "ada@example.org", "Ada", ADA_NTFY).await;
    let (bob, _) = tokyo_person(&app, "bob@example.org", "Bob", BOB_NTFY).await;
    let ev = named_event(&app, &olga, "Rust night", 50, &[15]).await;
    let starts_at = app.db.db.event(ev).await.unwrap().unwrap().starts_at;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    join(&app, ev, &bob, Rsvp::Going, None).await;
    // Her quiet hours begin in 14 s and hold the reminder (due 35 s from the start of the test).
    let now = Utc::now();
    let begin = now + chrono::Duration::seconds(14);
    let begin = begin - chrono::Duration::nanoseconds(i64::from(begin.timestamp_subsec_nanos()));
    set_me(
        &app,
        &ada_token,
        json!({"quiet_hours": {"start": tokyo_clock(begin), "end": tokyo_clock(now + chrono::Duration::seconds(90))}}),
    )
    .await;
    let due = starts_at - chrono::Duration::seconds(15);
    assert!(begin < due, "the test's reminder falls in the quiet hours");

    let early = eventually(Duration::from_secs(40), "Ada's reminder", || async {
        got(&app, &ada.key, ADA_NTFY, "Reminder: ").into_iter().next()
    })
    .await;
    let slot = begin - herald::quiet::EARLY_LEAD;
    assert!(early.at >= slot, "not before its slot");
    assert!(
        early.at < begin,
        "before her quiet hours: {} ms after they began",
        (early.at - begin).num_milliseconds()
    );
    let on_time = eventually(Duration::from_secs(40), "Bob's reminder", || async {
        got(&app, &bob.key, BOB_NTFY, "Reminder: ").into_iter().next()
    })
    .await;
    assert!(on_time.at >= due, "Bob's at its time");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got(&app, &ada.key, ADA_NTFY, "Reminder: ").len(), 1, "Ada gets one, not two");
    assert_eq!(got(&app, &bob.key, BOB_NTFY, "Reminder: ").len(), 1);
    let rows = ledger(&app, &olga, ev).await;
    let reminders: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "reminder").collect();
    assert_eq!(reminders.len(), 2, "one ledger row each: {rows:#?}");
    assert!(reminders.iter().all(|r| r["status"] == "sent"), "{rows:#?}");
    app.stop().await;
}

/// Ada set her quiet hours before she joined, after the event's workflow had read its plan:
/// joining asks the workflow to read it again, so her reminder comes before her quiet hours
/// begin. Someone without quiet hours, a digest or own times joining asks nothing.
async fn a_newcomer_s_quiet_hours_move_their_reminder_when_they_join(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (ada, ada_token) = tokyo_person(&app, "ada@example.org", "Ada", ADA_NTFY).await;
    let (bob, bob_token) = tokyo_person(&app, "bob@example.org", "Bob", BOB_NTFY).await;
    let ev = named_event(&app, &olga, "Rust night", 50, &[15]).await;
    let starts_at = app.db.db.event(ev).await.unwrap().unwrap().starts_at;
    let now = Utc::now();
    let begin = now + chrono::Duration::seconds(14);
    let begin = begin - chrono::Duration::nanoseconds(i64::from(begin.timestamp_subsec_nanos()));
    set_me(
        &app,
        &ada_token,
        json!({"quiet_hours": {"start": tokyo_clock(begin), "end": tokyo_clock(now + chrono::Duration::seconds(90))}}),
    )
    .await;
    let rsvp = format!("/api/v1/events/{ev}/rsvp");
    for token in [&bob_token, &ada_token] {
        let (status, body) = api(&app, token, Method::PUT, &rsvp, Some(json!({"rsvp": "going"}))).await;
        assert_eq!(status, 201, "{body}");
    }
    let due = starts_at - chrono::Duration::seconds(15);
    assert!(begin < due, "the test's reminder falls in Ada's quiet hours");
    // Only Ada's settings shape the plan.
    let ada_p = app.db.db.participant_of(ev, ada.id).await.unwrap().unwrap().id;
    let bob_p = app.db.db.participant_of(ev, bob.id).await.unwrap().unwrap().id;
    assert!(app.db.db.refresh_for_participant(ada_p).await.unwrap(), "Ada's quiet hours shape the plan");
    assert!(!app.db.db.refresh_for_participant(bob_p).await.unwrap(), "Bob's answer changes no plan");

    let early = eventually(Duration::from_secs(40), "Ada's reminder", || async {
        got(&app, &ada.key, ADA_NTFY, "Reminder: ").into_iter().next()
    })
    .await;
    assert!(early.at >= begin - herald::quiet::EARLY_LEAD, "not before its slot");
    assert!(
        early.at < begin,
        "before her quiet hours: {} ms after they began",
        (early.at - begin).num_milliseconds()
    );
    let on_time = eventually(Duration::from_secs(40), "Bob's reminder", || async {
        got(&app, &bob.key, BOB_NTFY, "Reminder: ").into_iter().next()
    })
    .await;
    assert!(on_time.at >= due, "Bob's at its time");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got(&app, &ada.key, ADA_NTFY, "Reminder: ").len(), 1, "Ada gets one, not two");
    app.stop().await;
}

/// Ada chose a daily digest: three change notices of three events wait for it and come as one
/// message listing each; Bob gets the three at once.
async fn a_digest_gathers_three_notices_into_one_message(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (ada, ada_token) = tokyo_person(&app, "ada@example.org", "Ada", ADA_NTFY).await;
    let (bob, _) = tokyo_person(&app, "bob@example.org", "Bob", BOB_NTFY).await;
    let mut events = Vec::new();
    for name in ["Rust night", "Rust brunch", "Rust hack day"] {
        let ev = named_event(&app, &olga, name, 3 * 86_400, &[3600]).await;
        join(&app, ev, &ada, Rsvp::Going, None).await;
        join(&app, ev, &bob, Rsvp::Going, None).await;
        events.push(ev);
    }
    // What reached Ada before: her channel's confirmation code.
    let before = app.apprise.delivered_to(ADA_NTFY).len();
    let ada_new = || app.apprise.delivered_to(ADA_NTFY).split_off(before);
    let digest_at = Utc::now() + chrono::Duration::seconds(30);
    let digest_at = digest_at - chrono::Duration::nanoseconds(i64::from(digest_at.timestamp_subsec_nanos()));
    let me = set_me(&app, &ada_token, json!({"digest_at": tokyo_clock(digest_at)})).await;
    assert_eq!(me["digest_at"], tokyo_clock(digest_at), "{me}");
    for ev in &events {
        let (status, body) = api(
            &app,
            &olga,
            Method::PATCH,
            &format!("/api/v1/events/{ev}"),
            Some(json!({"location": "Room 9"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    eventually(Duration::from_secs(20), "Bob's three change notices", || async {
        (got(&app, &bob.key, BOB_NTFY, "Changed: ").len() == 3).then_some(())
    })
    .await;
    assert!(ada_new().is_empty(), "Ada's wait for her digest");

    let digest =
        eventually(Duration::from_secs(60), "Ada's digest", || async { ada_new().into_iter().next() }).await;
    assert!(digest.at >= digest_at, "not before her digest time");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = ada_new();
    assert_eq!(all.len(), 1, "one message: {all:#?}");
    assert!(digest.title.contains("3 notices"), "{}", digest.title);
    for name in ["Changed: Rust night", "Changed: Rust brunch", "Changed: Rust hack day"] {
        assert!(digest.body.contains(name), "{name} in the digest: {}", digest.body);
    }
    assert_eq!(digest.body.matches("Place: Room 1 → Room 9").count(), 3, "{}", digest.body);
    assert!(digest.body.contains(&format!("{}/o/rust-paris/e/", app.base)), "links: {}", digest.body);
    for ev in &events {
        let rows = ledger(&app, &olga, *ev).await;
        let ada_rows: Vec<&Value> = rows.iter().filter(|r| r["recipient"] == "Ada").collect();
        assert_eq!(ada_rows.len(), 1, "{rows:#?}");
        assert_eq!(ada_rows[0]["status"], "sent", "{rows:#?}");
    }
    app.stop().await;
}

/// The API shows and changes the settings, refusing what makes no sense with the field and the
/// reason; the account page has the same settings in plain words.
async fn settings_are_validated_and_shown(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let (status, me) = api(&app, &token, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 200);
    assert!(me["quiet_hours"].is_null() && me["digest_at"].is_null(), "{me}");
    let me =
        set_me(&app, &token, json!({"quiet_hours": {"start": "22:00", "end": "7:00"}, "digest_at": "08:30"}))
            .await;
    assert_eq!(me["quiet_hours"], json!({"start": "22:00", "end": "07:00"}), "{me}");
    assert_eq!(me["digest_at"], "08:30");
    for (body, field, says) in [
        (json!({"quiet_hours": {"start": "22:00", "end": "22:00"}}), "quiet_end", "different"),
        (json!({"quiet_hours": {"start": "10pm", "end": "07:00"}}), "quiet_start", "like 22:00"),
        (json!({"digest_at": "23:30"}), "digest_at", "during your quiet hours"),
    ] {
        let (status, problem) = api(&app, &token, Method::PATCH, "/api/v1/me", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {problem}");
        let text = problem.to_string();
        assert!(text.contains(field) && text.contains(says), "{body}: {problem}");
    }
    let (status, _) =
        api(&app, &token, Method::PATCH, "/api/v1/me", Some(json!({"quiet_hours": "late"}))).await;
    assert_eq!(status, 400);
    let me = set_me(&app, &token, json!({"quiet_hours": null, "digest_at": null})).await;
    assert!(me["quiet_hours"].is_null() && me["digest_at"].is_null(), "{me}");

    // The page: the same settings, labelled.
    let v = app.signed_up("bea@example.org", "Bea", true).await;
    let (status, page) = v.page("/account").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Quiet hours") && page.contains("Don&#39;t disturb me between")
            || page.contains("Don't disturb me between"),
        "{page}"
    );
    assert!(page.contains(r#"<label for="f-quiet_start""#) && page.contains(r#"type="time""#), "{page}");
    assert!(page.contains("Daily digest"), "{page}");
    let form = [
        ("display_name", "Bea"),
        ("timezone", "Europe/Paris"),
        ("date_format", "iso"),
        ("quiet_start", "21:30"),
        ("quiet_end", "06:45"),
        ("digest_at", ""),
    ];
    let r = v.post("/account", &form).await;
    assert_eq!(r.status(), 303);
    let (_, page) = v.page("/account").await;
    assert!(page.contains(r#"value="21:30""#) && page.contains(r#"value="06:45""#), "{page}");
    let bad = [
        ("display_name", "Bea"),
        ("timezone", "Europe/Paris"),
        ("date_format", "iso"),
        ("quiet_start", "21:30"),
        ("quiet_end", ""),
        ("digest_at", ""),
    ];
    let r = v.post("/account", &bad).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("f-quiet_end-error"), "{page}");
    app.stop().await;
}

/// The worker is killed (SIGKILL) while Ada's change notice waits for her quiet hours to end,
/// and started again after they ended: the notice arrives once, from the release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_while_a_notice_is_held_loses_and_repeats_nothing() {
    use crate::delivery::spawn_worker;
    let app = TestApp::start_with(
        crate::support::TestDb::new(Backend::Sqlite).await,
        &crate::support::temporal_address(),
        false,
    )
    .await;
    wait_for_temporal(&app).await;
    let mut worker = spawn_worker(&app);
    let olga = organizer(&app).await;
    let (ada, ada_token) = tokyo_person(&app, "ada@example.org", "Ada", ADA_NTFY).await;
    let ev = named_event(&app, &olga, "Rust night", 2 * 86_400, &[3600]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let quiet_end = Utc::now() + chrono::Duration::seconds(20);
    set_me(
        &app,
        &ada_token,
        json!({"quiet_hours": {"start": tokyo_clock(Utc::now() - chrono::Duration::seconds(2)), "end": tokyo_clock(quiet_end)}}),
    )
    .await;
    let (status, body) =
        api(&app, &olga, Method::PATCH, &format!("/api/v1/events/{ev}"), Some(json!({"location": "Room 9"})))
            .await;
    assert_eq!(status, 200, "{body}");
    // Once her notice is held...
    eventually(Duration::from_secs(30), "Ada's change notice to be held", || async {
        let rows = ledger(&app, &olga, ev).await;
        rows.iter().any(|r| r["recipient"] == "Ada" && r["status"] == "pending").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    worker.kill();
    let wait = (quiet_end - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(2);
    tokio::time::sleep(wait).await;
    assert!(got(&app, &ada.key, ADA_NTFY, "Changed: ").is_empty(), "nothing without a worker");
    let mut worker = spawn_worker(&app);
    eventually(Duration::from_secs(60), "the held notice after the restart", || async {
        got(&app, &ada.key, ADA_NTFY, "Changed: ").into_iter().next()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got(&app, &ada.key, ADA_NTFY, "Changed: ").len(), 1, "exactly once");
    worker.kill();
    app.stop().await;
}

/// The `+Header=` argument `name` of a mail's target URL (Apprise makes it a mail header).
fn mail_header(mail: &crate::support::fake_apprise::Delivered, name: &str) -> Option<String> {
    let url = url::Url::parse(&mail.url).ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// By mail (the built-in email channel), a change notice held for quiet hours still brings the
/// calendar update an immediate one brings (`invite.ics`, the event as it is now); a digest
/// brings one per event it tells of, and its `List-Unsubscribe` turns the digest off — after
/// which a change comes on its own, at once.
async fn held_mail_keeps_its_calendar_update_and_a_digest_can_be_turned_off(backend: Backend) {
    use crate::invitations::{invitation, mails, member, rsvp};
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let night = named_event(&app, &olga, "Rust night", 2 * 86_400, &[3600]).await;
    let brunch = named_event(&app, &olga, "Rust brunch", 2 * 86_400, &[3600]).await;
    let (ada, bea) = ("ada@example.org", "bea@example.org");
    let ada_token = member(&app, ada, "Ada").await;
    let bea_token = member(&app, bea, "Bea").await;
    for token in [&ada_token, &bea_token] {
        set_me(&app, token, json!({"timezone": "Asia/Tokyo"})).await;
    }
    rsvp(&app, &ada_token, night, "going").await;
    for ev in [night, brunch] {
        rsvp(&app, &bea_token, ev, "going").await;
    }
    // Ada is in her quiet hours for 20 s; Bea's digest comes in 25 s.
    let whole = |t: DateTime<Utc>| t - chrono::Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()));
    let quiet_end = whole(Utc::now() + chrono::Duration::seconds(20));
    set_me(
        &app,
        &ada_token,
        json!({"quiet_hours": {"start": tokyo_clock(Utc::now() - chrono::Duration::seconds(2)), "end": tokyo_clock(quiet_end)}}),
    )
    .await;
    let digest_at = whole(Utc::now() + chrono::Duration::seconds(25));
    set_me(&app, &bea_token, json!({"digest_at": tokyo_clock(digest_at)})).await;
    for ev in [night, brunch] {
        let (status, body) = api(
            &app,
            &olga,
            Method::PATCH,
            &format!("/api/v1/events/{ev}"),
            Some(json!({"location": "Room 9"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    // Ada's change notice comes when her quiet hours end, with the update for her calendar.
    let changed = eventually(Duration::from_secs(60), "Ada's change notice", || async {
        mails(&app, ada, "Changed: Rust night").into_iter().next()
    })
    .await;
    assert!(changed.at >= quiet_end, "not before her quiet hours end");
    assert!(changed.body.contains("Place: Room 1 → Room 9"), "{}", changed.body);
    let update = invitation(&changed);
    assert_eq!(
        (update["method"].as_str(), update["uid"].as_str()),
        (Some("REQUEST"), Some(&*night.to_string()))
    );
    let revision = app.db.db.event(night).await.unwrap().unwrap().revision;
    assert_eq!(update["sequence"].as_i64(), Some(revision), "the event as it is now: {update}");
    assert!(
        mail_header(&changed, "+List-Unsubscribe").is_some_and(|u| u.contains("/optout/")),
        "her opt-out link as before"
    );

    // Bea's digest: one mail, both events' updates, and a way to turn the digest off.
    let digest = eventually(Duration::from_secs(60), "Bea's digest", || async {
        mails(&app, bea, "Your Herald digest").into_iter().next()
    })
    .await;
    assert!(digest.at >= digest_at, "not before her digest time");
    assert!(digest.title.contains("2 notices"), "{}", digest.title);
    let mut names: Vec<&str> = digest.attachments.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["invite-rust-brunch.ics", "invite-rust-night.ics"], "one per event");
    let mut uids: Vec<String> = digest
        .attachments
        .iter()
        .map(|a| {
            assert!(a.mime.starts_with("text/calendar"), "{}", a.mime);
            let parsed = crate::support::parse_invitation(&a.text());
            assert_eq!(parsed["method"], "REQUEST", "{parsed}");
            parsed["uid"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    uids.sort_unstable();
    let mut expected = vec![night.to_string(), brunch.to_string()];
    expected.sort_unstable();
    assert_eq!(uids, expected);
    let unsubscribe = mail_header(&digest, "+List-Unsubscribe").expect("a List-Unsubscribe header");
    assert_eq!(mail_header(&digest, "+List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let link = unsubscribe.trim_start_matches('<').trim_end_matches('>').to_owned();
    assert!(link.starts_with(&format!("{}/digest-off/", app.base)), "{link}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(mails(&app, bea, "Your Herald digest").len(), 1, "once");
    assert!(mails(&app, bea, "Changed: ").is_empty(), "gathered, not sent on their own");

    // The link shows what it does; a forged one is nothing; one click as a mail client does it
    // turns the digest off and nothing else.
    let page = app.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Turn off my daily digest")
            && page.contains(&herald::quiet::clock_text(digest_at.with_timezone(&TOKYO).time())),
        "{page}"
    );
    assert_eq!(app.get("/digest-off/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await.status(), 404);
    let r = app
        .http
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("your daily digest is off"));
    let (_, me) = api(&app, &bea_token, Method::GET, "/api/v1/me", None).await;
    assert!(me["digest_at"].is_null(), "{me}");
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{night}"),
        Some(json!({"location": "Room 12"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let alone = eventually(Duration::from_secs(30), "Bea's change notice on its own", || async {
        mails(&app, bea, "Changed: Rust night").into_iter().next()
    })
    .await;
    assert!(alone.body.contains("Room 9 → Room 12"), "{}", alone.body);
    assert_eq!(invitation(&alone)["method"], "REQUEST");
    app.stop().await;
}
