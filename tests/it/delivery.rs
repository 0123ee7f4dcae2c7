//! The per-event workflow delivering for real: a Temporal dev server, the worker, the fake
//! Apprise API, offsets of seconds. Reminders arrive at their due time to the right people and
//! tags; edits, moves and cancellations are told once; outages of the Apprise API, a lost key,
//! a partial delivery, a killed worker and Temporal being away lose nothing and duplicate
//! nothing.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use herald::db::models::{ParticipantRole, Rsvp};
use herald::db::participants::Invitee;
use herald_workflows::{EventWorkflow, Phase};
use reqwest::Method;
use serde_json::{Value, json};
use temporalio_client::WorkflowQueryOptions;
use uuid::Uuid;

use crate::integrations::confirmed_channel;
use crate::orgs::{api, api_user};
use crate::support::fake_apprise::Delivered;
use crate::support::temporal_server::TemporalServer;
use crate::support::{Backend, TEMPORAL_UI, TestApp, TestDb, eventually, herald_bin};

both_backends!(
    reminders_reach_the_right_people_on_time,
    moves_edits_and_cancellations,
    one_click_opt_out_stops_that_event_for_that_person_only,
);

/// Someone with a confirmed channel of URLs `urls`.
pub(crate) struct Person {
    pub(crate) id: Uuid,
    pub(crate) integration: Uuid,
    pub(crate) key: String,
}

pub(crate) async fn person(
    app: &TestApp,
    email: &str,
    name: &str,
    tz: &str,
    urls: &[(&str, &[&str])],
) -> Person {
    let (user, token) = api_user(app, email, name, true).await;
    person_of(app, user.id, &token, name, tz, urls).await
}

/// The user `id` (API token `token`) in zone `tz` with a confirmed channel of URLs `urls`.
pub(crate) async fn person_of(
    app: &TestApp,
    id: Uuid,
    token: &str,
    name: &str,
    tz: &str,
    urls: &[(&str, &[&str])],
) -> Person {
    let (status, body) = api(app, token, Method::PATCH, "/api/v1/me", Some(json!({"timezone": tz}))).await;
    assert_eq!(status, 200, "{body}");
    let (integration, key) = confirmed_channel(app, token, &format!("{name}'s channel"), urls).await;
    Person { id, integration, key }
}

/// An organizer's token and a fresh organization.
pub(crate) async fn organizer(app: &TestApp) -> String {
    let (_, token) = api_user(app, "olga@example.org", "Olga", true).await;
    create_org(app, &token).await;
    token
}

/// The organization `rust-paris`, created by the holder of `token`.
pub(crate) async fn create_org(app: &TestApp, token: &str) {
    let (status, body) = api(
        app,
        token,
        Method::POST,
        "/api/v1/orgs",
        Some(json!({"name": "Rust Paris", "slug": "rust-paris"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// Creates a published event starting `starts_in` seconds from now, lasting `lasts` seconds.
pub(crate) async fn event(
    app: &TestApp,
    token: &str,
    starts_in: i64,
    lasts: i64,
    offsets: &[i64],
) -> (Uuid, DateTime<Utc>) {
    let starts_at = Utc::now() + chrono::Duration::seconds(starts_in);
    let body = json!({
        "name": "Rust night", "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::seconds(lasts)).to_rfc3339(),
        "timezone": "America/New_York", "location": "Room 1", "reminder_offsets": offsets,
        "status": "published", "visibility": "public",
    });
    let (status, body) = api(app, token, Method::POST, "/api/v1/orgs/rust-paris/events", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    crate::support::told_workflow(&app.db.db, id).await;
    (id, starts_at)
}

/// Adds `who` to the event with `rsvp`; with `tags`, they chose their channel with those tags.
pub(crate) async fn join(
    app: &TestApp,
    event: Uuid,
    who: &Person,
    rsvp: Rsvp,
    tags: Option<&[&str]>,
) -> Uuid {
    let p = app
        .db
        .db
        .add_participant(event, Invitee::User(who.id), ParticipantRole::Attendee, rsvp)
        .await
        .unwrap();
    if let Some(tags) = tags {
        let tags = tags.iter().map(|t| (*t).to_owned()).collect();
        app.db.db.set_participant_channels(p.id, &[(who.integration, tags)]).await.unwrap();
    }
    p.id
}

/// Messages with `title_prefix` delivered through `key` to URLs starting with `url`.
pub(crate) fn got(app: &TestApp, key: &str, url: &str, title_prefix: &str) -> Vec<Delivered> {
    app.apprise
        .delivered_to(url)
        .into_iter()
        .filter(|d| d.key.as_deref() == Some(key) && d.title.starts_with(title_prefix))
        .collect()
}

async fn ledger(app: &TestApp, token: &str, event: Uuid) -> Vec<Value> {
    let (status, body) =
        api(app, token, Method::GET, &format!("/api/v1/events/{event}/notifications"), None).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

pub(crate) async fn wait_for_temporal(app: &TestApp) {
    let herald = app.herald.as_ref().unwrap();
    herald.temporal.wait_for(|s| *s == herald::temporal::LinkState::Up).await;
}

pub(crate) const ADA_MAIL: &str = "mailtos://ada:pw@smtp.example.org?to=ada@example.org";
const ADA_SMS: &str = "twilio://sid:tok@+15550001/+15550002";
const BOB_NTFY: &str = "ntfys://bob-topic@ntfy.example.org/bob";
const CY_NTFY: &str = "ntfys://cy-topic@ntfy.example.org/cy";
const DEE_NTFY: &str = "ntfys://dee-topic@ntfy.example.org/dee";

async fn reminders_reach_the_right_people_on_time(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    // Ada reads Paris time and chose only her "email" URL for this event; Bob chose nothing,
    // so all his channels with his defaults; Cy declined; Dee has not answered; Eve is going
    // but has no channel.
    let ada = person(
        &app,
        "ada@example.org",
        "Ada",
        "Europe/Paris",
        &[(ADA_MAIL, &["email"]), (ADA_SMS, &["sms"])],
    )
    .await;
    let bob = person(&app, "bob@example.org", "Bob", "America/New_York", &[(BOB_NTFY, &[])]).await;
    let cy = person(&app, "cy@example.org", "Cy", "UTC", &[(CY_NTFY, &[])]).await;
    let dee = person(&app, "dee@example.org", "Dee", "UTC", &[(DEE_NTFY, &[])]).await;
    let (eve, _) = api_user(&app, "eve@example.org", "Eve", true).await;

    let (ev, starts_at) = event(&app, &olga, 16, 4, &[10, 5]).await;
    join(&app, ev, &ada, Rsvp::Going, Some(&["email"])).await;
    join(&app, ev, &bob, Rsvp::Maybe, None).await;
    join(&app, ev, &cy, Rsvp::Declined, None).await;
    join(&app, ev, &dee, Rsvp::Pending, None).await;
    // Bob writes dates month first; Ada keeps the default (year first).
    app.db.db.update_preferences(bob.id, "Bob", "America/New_York", "mdy").await.unwrap();
    app.db
        .db
        .add_participant(ev, Invitee::User(eve.id), ParticipantRole::Attendee, Rsvp::Going)
        .await
        .unwrap();

    // The organizer's schedule comes from the workflow itself.
    let schedule = eventually(Duration::from_secs(20), "the workflow to wait for the reminders", || async {
        let (status, schedule) =
            api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/schedule"), None).await;
        assert_eq!(status, 200, "{schedule}");
        (schedule["phase"] == "waiting").then_some(schedule)
    })
    .await;
    assert_eq!(schedule["source"], "workflow", "{schedule}");
    let offsets: Vec<i64> =
        schedule["items"].as_array().unwrap().iter().map(|i| i["offset"].as_i64().unwrap()).collect();
    assert_eq!(offsets, vec![10, 5], "{schedule}");
    assert!(schedule["workflow_url"].as_str().unwrap().starts_with(TEMPORAL_UI), "{schedule}");

    let both = eventually(Duration::from_secs(40), "both reminders to reach Ada and Bob", || async {
        let a = got(&app, &ada.key, "mailtos://", "Reminder: ");
        let b = got(&app, &bob.key, BOB_NTFY, "Reminder: ");
        (a.len() >= 2 && b.len() >= 2).then_some((a, b))
    })
    .await;
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ada_mail = got(&app, &ada.key, "mailtos://", "Reminder: ");
    assert_eq!(ada_mail.len(), 2, "each reminder exactly once: {ada_mail:#?}");
    assert_eq!(got(&app, &bob.key, BOB_NTFY, "Reminder: ").len(), 2);
    assert!(
        got(&app, &ada.key, "twilio://", "Reminder: ").is_empty(),
        "Ada's SMS URL is not among her tags for this event"
    );
    assert!(got(&app, &cy.key, CY_NTFY, "Reminder: ").is_empty(), "Cy declined");
    assert!(got(&app, &dee.key, DEE_NTFY, "Reminder: ").is_empty(), "reminders go to going and maybe only");

    // Never early, and in order.
    for (list, who) in [(&both.0, "Ada"), (&both.1, "Bob")] {
        for (d, offset) in list.iter().zip([10, 5]) {
            let due = starts_at - chrono::Duration::seconds(offset);
            assert!(
                d.at >= due,
                "{who}'s {offset}s reminder came {} ms early",
                (due - d.at).num_milliseconds()
            );
            assert!(d.body.contains(&format!("starts in {offset} seconds")), "{}", d.body);
        }
    }
    // Rendered for each recipient: Ada in Paris time plus the event's New York time, with a link.
    let a = &ada_mail[0];
    assert_eq!(a.title, "Reminder: Rust night");
    assert!(
        a.body.contains("(Europe/Paris)")
            && a.body.contains("(America/New_York)")
            && a.body.contains("(event time)"),
        "{}",
        a.body
    );
    assert!(a.body.contains("Where: Room 1"), "{}", a.body);
    assert!(a.body.contains(&format!("{}/o/rust-paris/e/", app.base)), "{}", a.body);
    let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let ada_date = starts_at.with_timezone(&paris).format("When: %a %Y-%m-%d, %H:%M").to_string();
    assert!(a.body.contains(&ada_date), "Ada's zone and date format, {ada_date}: {}", a.body);
    let b = &both.1[0];
    assert!(b.body.contains("(America/New_York)") && !b.body.contains("(event time)"), "{}", b.body);
    let new_york: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let bob_date = starts_at.with_timezone(&new_york).format("When: %a %b %-d, %Y, %H:%M").to_string();
    assert!(b.body.contains(&bob_date), "Bob's date format, {bob_date}: {}", b.body);

    // The ledger: 2 reminders × (Ada's channel, Bob's channel, Eve without one).
    let rows = ledger(&app, &olga, ev).await;
    let of = |name: &str, status: &str| {
        rows.iter()
            .filter(|r| r["recipient"] == name && r["status"] == status && r["kind"] == "reminder")
            .count()
    };
    assert_eq!(of("Ada", "sent"), 2, "{rows:#?}");
    assert_eq!(of("Bob", "sent"), 2, "{rows:#?}");
    assert_eq!(of("Eve", "skipped"), 2, "{rows:#?}");
    assert_eq!(rows.len(), 6, "nobody else: {rows:#?}");
    assert!(rows.iter().any(|r| r["detail"] == "no confirmed channel"));

    // The organizer's page shows the ledger; the event is over soon and the workflow finishes.
    let herald = app.herald.as_ref().unwrap();
    let client = herald.temporal.client().await.unwrap();
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(ev));
    eventually(Duration::from_secs(30), "the workflow to finish after the event", || async {
        let s = handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.ok();
        match s {
            Some(s) => (s.phase == Phase::Finished).then_some(()),
            None => Some(()), // completed workflows may refuse queries
        }
    })
    .await;
    // An edit after the workflow finished is saved and counts as synced: there is nobody left to tell.
    tokio::time::timeout(
        Duration::from_secs(30),
        handle.get_result(temporalio_client::WorkflowGetResultOptions::default()),
    )
    .await
    .expect("the workflow finishes after the event")
    .expect("and succeeds");
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({"description": "Slides online"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The workflow has finished: there is nobody to signal, and the edit counts as told.
    crate::support::told_workflow(&app.db.db, ev).await;
    app.stop().await;
}

async fn moves_edits_and_cancellations(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "UTC", &[(ADA_MAIL, &["email"])]).await;
    let dee = person(&app, "dee@example.org", "Dee", "UTC", &[(DEE_NTFY, &[])]).await;
    let (ev, first_start) = event(&app, &olga, 30, 60, &[20, 8]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    join(&app, ev, &dee, Rsvp::Pending, None).await;
    println!("event {ev}");

    // Move it 6 s later and to another room: one change notice, to Dee too (not declined).
    let new_start = first_start + chrono::Duration::seconds(6);
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({"starts_at": new_start.to_rfc3339(), "ends_at": (new_start + chrono::Duration::seconds(60)).to_rfc3339(), "location": "Room 9"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let changed = eventually(Duration::from_secs(30), "the change notice", || async {
        let a = got(&app, &ada.key, "mailtos://", "Changed: ");
        let d = got(&app, &dee.key, DEE_NTFY, "Changed: ");
        (!a.is_empty() && !d.is_empty()).then_some(a)
    })
    .await;
    assert!(changed[0].body.contains("Place: Room 1 → Room 9"), "{}", changed[0].body);
    assert!(changed[0].body.contains("Time: "), "{}", changed[0].body);

    // The first reminder comes at the new due time, not the old one.
    let first = eventually(Duration::from_secs(40), "the first reminder", || async {
        got(&app, &ada.key, "mailtos://", "Reminder: ").into_iter().next()
    })
    .await;
    let new_due = new_start - chrono::Duration::seconds(20);
    assert!(
        first.at >= new_due,
        "re-armed for the new start: came {} ms before it",
        (new_due - first.at).num_milliseconds()
    );
    assert!(got(&app, &dee.key, DEE_NTFY, "Reminder: ").is_empty(), "Dee has not said she's coming");

    // Cancel before the second reminder: one cancellation, no more reminders.
    let (status, body) = api(&app, &olga, Method::POST, &format!("/api/v1/events/{ev}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(30), "the cancellation", || async {
        let a = got(&app, &ada.key, "mailtos://", "Cancelled: ");
        let d = got(&app, &dee.key, DEE_NTFY, "Cancelled: ");
        (!a.is_empty() && !d.is_empty()).then_some(())
    })
    .await;
    // Wait past the second reminder's due time.
    let second_due = new_start - chrono::Duration::seconds(8);
    let wait = (second_due - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(3);
    tokio::time::sleep(wait).await;
    assert_eq!(
        got(&app, &ada.key, "mailtos://", "Reminder: ").len(),
        1,
        "no reminder after the cancellation"
    );
    assert_eq!(got(&app, &ada.key, "mailtos://", "Cancelled: ").len(), 1, "one cancellation");
    assert_eq!(got(&app, &ada.key, "mailtos://", "Changed: ").len(), 1, "one change notice");
    let rows = ledger(&app, &olga, ev).await;
    let kinds: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["kind"].as_str().unwrap(), r["recipient"].as_str().unwrap())).collect();
    assert_eq!(rows.len(), 5, "change ×2, reminder ×1 (Ada), cancellation ×2: {kinds:?}");
    app.stop().await;
}

/// `herald worker` as its own process on `app`'s database and task queue.
/// A worker process, killed when dropped (also when the test fails).
pub(crate) struct WorkerProcess(Child);

impl WorkerProcess {
    /// SIGKILL, like a crash.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn spawn_worker(app: &TestApp) -> WorkerProcess {
    let herald = app.herald.as_ref().unwrap();
    let cfg = app.db.database_config();
    let mut cmd = Command::new(herald_bin());
    match &cfg.url {
        // The default database is `herald.db` in the data folder, which is where the test's is.
        herald::config::DatabaseUrl::Sqlite(_) => cmd.env_remove("HERALD_DATABASE_URL"),
        herald::config::DatabaseUrl::Postgres(u) => cmd.env("HERALD_DATABASE_URL", u),
    };
    let log =
        std::fs::OpenOptions::new().create(true).append(true).open(cfg.data_dir.join("worker.log")).unwrap();
    cmd.arg("worker")
        .env("HERALD_DATA_DIR", &cfg.data_dir)
        .env("HERALD_TEMPORAL_ADDRESS", herald.temporal.config().address.as_str())
        .env("HERALD_TASK_QUEUE", &herald.temporal.config().task_queue)
        .env("HERALD_APPRISE_URL", &app.apprise.base)
        .env("HERALD_BASE_URL", &app.base)
        .stdout(Stdio::from(log))
        .stderr(Stdio::null())
        .spawn()
        .map(WorkerProcess)
        .expect("spawn herald worker")
}

/// The worker is killed (SIGKILL) while the workflow sleeps, and started again: every reminder
/// still arrives, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_and_repeats_nothing() {
    let app =
        TestApp::start_with(TestDb::new(Backend::Sqlite).await, &crate::support::temporal_address(), false)
            .await;
    wait_for_temporal(&app).await;
    let mut worker = spawn_worker(&app);
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "UTC", &[(ADA_MAIL, &[])]).await;
    let (ev, _) = event(&app, &olga, 30, 4, &[24, 8]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let log = app.db.database_config().data_dir.join("worker.log");
    let first = tokio::time::timeout(Duration::from_secs(30), async {
        while got(&app, &ada.key, "mailtos://", "Reminder: ").is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        first.is_ok(),
        "the first reminder; worker log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Once the first is in the ledger and the workflow sleeps until the second...
    let herald = app.herald.as_ref().unwrap();
    let client = herald.temporal.client().await.unwrap();
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(ev));
    eventually(Duration::from_secs(20), "the workflow to wait for the second reminder", || async {
        let s = handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.ok()?;
        (s.phase == Phase::Waiting && s.counts.sent == 1).then_some(())
    })
    .await;
    // Mid-wait for the second reminder: kill it.
    worker.kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut worker = spawn_worker(&app);
    eventually(Duration::from_secs(90), "the second reminder after the restart", || async {
        (got(&app, &ada.key, "mailtos://", "Reminder: ").len() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got(&app, &ada.key, "mailtos://", "Reminder: ").len(), 2, "exactly once each");
    worker.kill();
    app.stop().await;
}

/// The Apprise API refusing connections, then answering 500, then coming back: delivered once.
/// A target that is down makes a partial delivery: the working target gets exactly one message.
/// A lost key (204) is pushed again and the message delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apprise_outages_partial_deliveries_and_lost_keys() {
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "UTC", &[(ADA_MAIL, &[])]).await;
    let bob = person(&app, "bob@example.org", "Bob", "UTC", &[(BOB_NTFY, &[]), (ADA_SMS, &[])]).await;
    let dee = person(&app, "dee@example.org", "Dee", "UTC", &[(DEE_NTFY, &[])]).await;
    let (ev, _) = event(&app, &olga, 40, 4, &[32]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    join(&app, ev, &bob, Rsvp::Going, None).await;
    join(&app, ev, &dee, Rsvp::Going, None).await;
    app.apprise.set_down("twilio://", true); // one of Bob's two targets fails: a 424 with a success
    app.apprise.forget(&dee.key); // the Apprise API lost Dee's config: 204 on notify
    app.apprise.set_refusing(true).await;

    // The reminder is due in ~8 s; the Apprise API refuses connections until a while after.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(got(&app, &ada.key, "mailtos://", "Reminder: ").is_empty());
    let rows = ledger(&app, &olga, ev).await;
    assert!(
        rows.iter().any(|r| r["status"] == "pending" && r["attempts"].as_i64().unwrap_or(0) >= 1),
        "{rows:#?}"
    );
    app.apprise.set_refusing(false).await;
    app.apprise.set_failing(true); // 500s now
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(got(&app, &ada.key, "mailtos://", "Reminder: ").is_empty(), "nothing got through a 500");
    app.apprise.set_failing(false);

    eventually(Duration::from_secs(60), "the reminder once the Apprise API is back", || async {
        let a = got(&app, &ada.key, "mailtos://", "Reminder: ").len();
        let d = got(&app, &dee.key, DEE_NTFY, "Reminder: ").len();
        let b = got(&app, &bob.key, BOB_NTFY, "Reminder: ").len();
        (a >= 1 && d >= 1 && b >= 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(got(&app, &ada.key, "mailtos://", "Reminder: ").len(), 1, "delivered once");
    assert_eq!(got(&app, &bob.key, BOB_NTFY, "Reminder: ").len(), 1, "the working target got exactly one");
    assert_eq!(got(&app, &dee.key, DEE_NTFY, "Reminder: ").len(), 1, "re-pushed and delivered once");
    assert!(app.apprise.stored_config(&dee.key).is_some(), "Dee's config was pushed again");
    let rows = ledger(&app, &olga, ev).await;
    let status_of = |name: &str| rows.iter().find(|r| r["recipient"] == name).map(|r| r["status"].clone());
    assert_eq!(status_of("Ada"), Some(json!("sent")), "{rows:#?}");
    assert_eq!(status_of("Bob"), Some(json!("partial")), "{rows:#?}");
    assert_eq!(status_of("Dee"), Some(json!("sent")), "{rows:#?}");
    app.stop().await;
}

/// Temporal is down while an event is created and edited; when it comes back the reconciler
/// starts the workflow, the edits reach it and the reminder goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_catches_up_after_temporal_was_down() {
    let mut temporal = TemporalServer::start().await;
    let address = temporal.address();
    temporal.stop();
    let app = TestApp::start_with(TestDb::new(Backend::Sqlite).await, &address, true).await;
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "UTC", &[(ADA_MAIL, &[])]).await;
    let starts_at = Utc::now() + chrono::Duration::seconds(45);
    let body = json!({
        "name": "Rust night", "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::seconds(5)).to_rfc3339(),
        "timezone": "UTC", "location": "Room 1", "reminder_offsets": [20], "status": "published",
    });
    let (status, body) = api(&app, &olga, Method::POST, "/api/v1/orgs/rust-paris/events", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["synced"], false, "saved, not yet synced: {body}");
    let ev = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let (status, body) =
        api(&app, &olga, Method::PATCH, &format!("/api/v1/events/{ev}"), Some(json!({"location": "Room 9"})))
            .await;
    assert_eq!(status, 200, "{body}");
    let revision = body["revision"].as_i64().unwrap();
    // The schedule is an estimate meanwhile, and says why.
    let (_, schedule) = api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/schedule"), None).await;
    assert_eq!(schedule["source"], "estimate", "{schedule}");
    assert_eq!(schedule["items"].as_array().unwrap().len(), 1, "{schedule}");

    temporal.restart().await;
    let herald = app.herald.as_ref().unwrap();
    herald.temporal.wait_for(|s| *s == herald::temporal::LinkState::Up).await;
    eventually(Duration::from_secs(40), "the reconciler to start the workflow", || async {
        let e = app.db.db.event(ev).await.unwrap().unwrap();
        let unsignalled = app.db.db.unsignalled_updates(100).await.unwrap();
        (e.workflow_started_at.is_some() && unsignalled.is_empty()).then_some(())
    })
    .await;
    let client = herald.temporal.client().await.unwrap();
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(ev));
    eventually(Duration::from_secs(30), "the workflow to act on the edited plan", || async {
        let s = handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()).await.ok()?;
        (s.plan_revision == revision && s.phase == Phase::Waiting).then_some(())
    })
    .await;
    let reminder = eventually(Duration::from_secs(45), "the reminder", || async {
        got(&app, &ada.key, "mailtos://", "Reminder: ").into_iter().next()
    })
    .await;
    assert!(reminder.body.contains("Where: Room 9"), "the edit reached the workflow: {}", reminder.body);
    // The edit happened before the workflow existed; told once, when it caught up.
    assert_eq!(got(&app, &ada.key, "mailtos://", "Changed: ").len(), 1);
    app.stop().await;
    drop(temporal);
}

/// Log-only mode: the workflow runs, every notice is rendered, written to the ledger as skipped
/// and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_only_mode_records_skipped_deliveries() {
    let app = TestApp::start_log_only(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let channel = json!({"name": "Mail", "urls": [{"url": ADA_MAIL, "tags": []}]});
    let (status, body) = api(&app, &token, Method::POST, "/api/v1/integrations", Some(channel)).await;
    assert_eq!(status, 201, "{body}");
    let integration = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    // In log-only mode the code only goes to the log: confirm it directly.
    crate::integrations::execute(
        &app.db.db,
        "UPDATE integrations SET verified_at = $1 WHERE id = $2",
        Utc::now(),
        integration,
    )
    .await;
    let (ev, _) = event(&app, &olga, 8, 2, &[4]).await;
    app.db
        .db
        .add_participant(ev, Invitee::User(ada.id), ParticipantRole::Attendee, Rsvp::Going)
        .await
        .unwrap();
    // The row is planned (pending) first; its outcome is written when the batch records it.
    let rows = eventually(Duration::from_secs(30), "the reminder's outcome in the ledger", || async {
        let rows = ledger(&app, &olga, ev).await;
        rows.iter().any(|r| r["status"] != "pending").then_some(rows)
    })
    .await;
    assert_eq!(rows[0]["status"], "skipped", "{rows:#?}");
    assert_eq!(rows[0]["channel"], "Mail", "{rows:#?}");
    assert_eq!(rows[0]["detail"], "log-only mode: nothing is sent", "{rows:#?}");
    assert!(app.apprise.delivered().is_empty());
    app.stop().await;
}

// --- Replay: the workflow code must stay compatible with recorded histories ---

/// Where recorded histories live; `HERALD_RECORD_HISTORIES=1` adds the fresh one there.
pub(crate) fn histories_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/histories")
}

pub(crate) async fn replay(history: temporalio_client::WorkflowHistory) -> Result<(), String> {
    let options = temporalio_sdk::workflow_replayer::WorkflowReplayerOptions::new()
        .register_workflow::<EventWorkflow>()
        .map_err(|e| e.to_string())?
        .build();
    let replayer =
        temporalio_sdk::workflow_replayer::WorkflowReplayer::new(options).map_err(|e| e.to_string())?;
    replayer.replay_workflow(history).await.map_err(|e| format!("{e:?}"))
}

/// Every history recorded in `tests/it/histories` replays against the current workflow code:
/// a change to the workflow that would break running workflows fails here (guard it with
/// `ctx.patched`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_histories_replay_against_the_current_code() {
    let mut files: Vec<_> = std::fs::read_dir(histories_dir())
        .expect("tests/it/histories exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no recorded histories in {}", histories_dir().display());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let history = temporalio_client::WorkflowHistory::from_json(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        replay(history).await.unwrap_or_else(|e| panic!("{} no longer replays: {e}", file.display()));
    }
}

/// A full life — reminders, an edit, a cancellation — recorded now replays too (and, with
/// `HERALD_RECORD_HISTORIES=1`, is kept for the test above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_history_replays() {
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let ada = person(&app, "ada@example.org", "Ada", "Europe/Paris", &[(ADA_MAIL, &[])]).await;
    let (ev, _) = event(&app, &olga, 14, 30, &[10, 2]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let (status, _) =
        api(&app, &olga, Method::PATCH, &format!("/api/v1/events/{ev}"), Some(json!({"location": "Room 9"})))
            .await;
    assert_eq!(status, 200);
    eventually(Duration::from_secs(40), "both reminders", || async {
        (got(&app, &ada.key, "mailtos://", "Reminder: ").len() >= 2).then_some(())
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
    let json = handle
        .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap();
    let history = temporalio_client::WorkflowHistory::from_json(&json).unwrap();
    replay(history).await.unwrap_or_else(|e| panic!("a fresh history does not replay: {e}"));
    if std::env::var_os("HERALD_RECORD_HISTORIES").is_some() {
        let path = histories_dir().join(format!("event-life-{}.json", Utc::now().format("%Y%m%d")));
        std::fs::write(&path, &json).unwrap();
        println!("recorded {}", path.display());
    }
    app.stop().await;
}

/// A large event: 1,100 participants (two `deliver` activities, the first of four pages of 250,
/// the second of one page of 100) each get the reminder exactly once, and the ledger has one
/// `sent` row per participant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_event_fans_out_in_batches() {
    const PEOPLE: usize = 1100;
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    // Due in 115 s: time enough to add 1,100 people on a busy machine.
    let (ev, _) = event(&app, &olga, 120, 5, &[5]).await;
    let setup = std::time::Instant::now();
    fans(&app, ev, PEOPLE, ParticipantRole::Attendee).await;
    assert!(
        setup.elapsed() < Duration::from_secs(110),
        "the setup took {:?}: the reminder went first",
        setup.elapsed()
    );
    let start = std::time::Instant::now();
    eventually(Duration::from_secs(180), "every participant's reminder", || async {
        let n = app
            .apprise
            .delivered_to("ntfys://fan")
            .iter()
            .filter(|d| d.title.starts_with("Reminder: "))
            .count();
        (n >= PEOPLE).then_some(())
    })
    .await;
    println!("{PEOPLE} reminders delivered {:?} after the setup finished", start.elapsed());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered = app.apprise.delivered_to("ntfys://fan");
    let mut urls: Vec<&str> = delivered.iter().map(|d| d.url.as_str()).collect();
    urls.sort_unstable();
    urls.dedup();
    assert_eq!(delivered.len(), PEOPLE, "exactly one each");
    assert_eq!(urls.len(), PEOPLE, "to everyone");
    let rows = ledger(&app, &olga, ev).await;
    assert_eq!(rows.iter().filter(|r| r["status"] == "sent").count(), PEOPLE);
    app.stop().await;
}

/// Edits arriving at the same moment (and the worker writing its ledger meanwhile) all succeed
/// on SQLite: write transactions take the lock up front instead of failing with "locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_edits_all_succeed_on_sqlite() {
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (ev, _) = event(&app, &olga, 3600, 60, &[60]).await;
    let edits = (0..12).map(|i| {
        let app = &app;
        let olga = olga.clone();
        async move {
            api(
                app,
                &olga,
                Method::PATCH,
                &format!("/api/v1/events/{ev}"),
                Some(json!({"description": format!("v{i}")})),
            )
            .await
        }
    });
    for (status, body) in futures::future::join_all(edits).await {
        assert_eq!(status, 200, "{body}");
    }
    let e = app.db.db.event(ev).await.unwrap().unwrap();
    assert_eq!(e.revision, 12, "every edit counted once");
    app.stop().await;
}

/// Every message ends with a link that stops that event's messages to its reader: one POST (as
/// a mail client sends for RFC 8058, with no session and no form token) and the next reminder
/// skips them, recorded in the ledger with the reason, while the others still get it.
async fn one_click_opt_out_stops_that_event_for_that_person_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let olga = organizer(&app).await;
    let ada =
        person(&app, "ada@example.org", "Ada", "Europe/Paris", &[("ntfys://ntfy.example.org/ada", &[])])
            .await;
    let bob = person(&app, "bob@example.org", "Bob", "UTC", &[(BOB_NTFY, &[])]).await;
    let (ev, _) = event(&app, &olga, 18, 4, &[14, 4]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    join(&app, ev, &bob, Rsvp::Going, None).await;

    let first = eventually(Duration::from_secs(40), "the first reminder to Ada", || async {
        got(&app, &ada.key, "ntfys://ntfy.example.org/ada", "Reminder: ").into_iter().next()
    })
    .await;
    assert!(first.body.contains("Your notification settings: "), "{}", first.body);
    let start = first.body.find(&app.url("/optout/")).expect("an opt-out link in the message");
    let link: String =
        first.body[start + app.base.len()..].chars().take_while(|c| !c.is_whitespace()).collect();

    // The link shows what it is about; a forged one is nothing.
    let page = app.get(&link).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Rust night") && page.contains("Stop messages about this event"), "{page}");
    assert_eq!(app.get("/optout/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await.status(), 404);
    // One click, as a mail client does it.
    let r = app
        .http
        .post(app.url(&link))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("no more messages about this event"));
    // The same link changes her answer: guests have no account to sign in with.
    assert!(page.contains(r#"id="answer-current">Going"#), "{page}");
    let form = [("rsvp", "maybe")];
    let r = app.http.post(app.url(&format!("{link}/answer"))).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Your answer is saved: Maybe.")
            && body.contains(r#"value="maybe" aria-pressed="true""#),
        "{body}"
    );
    let ada_part = app.db.db.participant_of(ev, ada.id).await.unwrap().unwrap();
    assert_eq!(ada_part.rsvp, Rsvp::Maybe);
    let bad =
        app.http.post(app.url(&format!("{link}/answer"))).form(&[("rsvp", "perhaps")]).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    let forged = app
        .http
        .post(app.url("/optout/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/answer"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);

    // The second reminder reaches Bob, not Ada; her ledger row says why.
    eventually(Duration::from_secs(40), "the second reminder to Bob", || async {
        (got(&app, &bob.key, BOB_NTFY, "Reminder: ").len() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        got(&app, &ada.key, "ntfys://ntfy.example.org/ada", "Reminder: ").len(),
        1,
        "Ada got only the first"
    );
    let (_, ledger) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/notifications"), None).await;
    let skipped: Vec<&Value> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["recipient"].as_str().is_some_and(|n| n.contains("Ada")) && r["status"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{ledger}");
    assert_eq!(skipped[0]["detail"], herald::delivery::OPTED_OUT, "{ledger}");

    // Ada sees on the event's page what was sent to her, and what was not and why.
    let session = herald::accounts::start_session(&app.db.db, ada.id).await.unwrap();
    let slug = app.db.db.event(ev).await.unwrap().unwrap().slug;
    let page = app
        .http
        .get(app.url(&format!("/o/rust-paris/e/{slug}")))
        .header("cookie", format!("herald_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let card = &page[page.find("What Herald sent you").expect("the card")..];
    assert!(card.contains("Reminder") && card.contains("Delivered"), "{card}");
    assert!(
        card.contains("Not sent: you stopped this event&#39;s messages")
            || card.contains("Not sent: you stopped this event's messages"),
        "{card}"
    );
    assert!(!card.contains("apprise") && !card.contains("ntfy.example.org"), "{card}");

    // The organizer sees she will not be told; the link starts the messages again.
    let (_, list) = api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/participants"), None).await;
    let row = list.as_array().unwrap().iter().find(|p| p["email"] == "ada@example.org").unwrap();
    assert_eq!(row["unreachable_reason"], herald::participants::OPTED_OUT, "{row}");
    let r = app.http.post(app.url(&format!("{link}/resume"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(app.db.db.participant_of(ev, ada.id).await.unwrap().unwrap().opted_out_at.is_none());
    app.stop().await;
}

/// `n` people in `role`, going, each with a confirmed ntfy channel chosen for the event.
pub async fn fans(app: &TestApp, ev: Uuid, n: usize, role: ParticipantRole) {
    let keys = herald::secrets::SecretKey::load(None, &app.db.database_config().data_dir).unwrap();
    let db = &app.db.db;
    for i in 0..n {
        let email = format!("fan{i}@example.org");
        let user = db
            .create_user(&herald::db::users::NewUser {
                email: &email,
                display_name: &format!("Fan {i}"),
                password_hash: None,
                timezone: "UTC",
                verified: true,
            })
            .await
            .unwrap();
        let id = Uuid::new_v4();
        let key = format!("fan-key-{}", Uuid::new_v4().simple());
        let url = format!("ntfys://fan{i}@ntfy.example.org/fans");
        let sealed = herald::integrations::seal(&keys, id, &url).unwrap();
        db.insert_integration(id, user.id, "Phone", &key, &sealed, &[]).await.unwrap();
        app.apprise.put_config(&key, &url);
        crate::integrations::execute(
            db,
            "UPDATE integrations SET verified_at = $1 WHERE id = $2",
            Utc::now(),
            id,
        )
        .await;
        let p = db.add_participant(ev, Invitee::User(user.id), role, Rsvp::Going).await.unwrap();
        db.set_participant_channels(p.id, &[(id, vec![])]).await.unwrap();
    }
}
