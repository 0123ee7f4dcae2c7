//! Rules per audience for real: reminder schedules per role, a participant's own choice among
//! the reminders offered, and the follow-up after the event — against a Temporal dev server with
//! offsets of seconds; moving the event arms them again; organization defaults; API checks;
//! a participant's own reminder times; a follow-up or message too close to the end refused.

use std::time::Duration;

use chrono::{DateTime, Utc};
use herald::db::models::{ParticipantRole, Rsvp};
use herald::db::participants::Invitee;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::delivery::{Person, got, organizer, person_of, wait_for_temporal};
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, eventually};

both_backends!(
    reminders_per_role_and_choices_reach_the_right_people_at_their_times,
    moving_the_event_re_arms_role_reminders_and_the_follow_up,
    organization_defaults_and_checked_input,
    own_reminder_times_reach_only_their_owner_at_their_time,
    own_times_are_bounded_per_event,
    a_follow_up_or_a_message_too_late_is_refused_with_the_reason,
);

/// Creates a published event starting `starts_in` seconds from now, lasting `lasts` seconds,
/// with the rules in `extra` (API fields).
async fn event_with(
    app: &TestApp,
    token: &str,
    starts_in: i64,
    lasts: i64,
    extra: Value,
) -> (Uuid, DateTime<Utc>) {
    let starts_at = Utc::now() + chrono::Duration::seconds(starts_in);
    let mut body = json!({
        "name": "Rust night", "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::seconds(lasts)).to_rfc3339(),
        "timezone": "UTC", "location": "Room 1", "status": "published", "visibility": "public",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, body) = api(app, token, Method::POST, "/api/v1/orgs/rust-paris/events", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    crate::support::told_workflow(&app.db.db, id).await;
    (id, starts_at)
}

async fn take_part(app: &TestApp, event: Uuid, who: &Person, role: ParticipantRole, rsvp: Rsvp) -> Uuid {
    app.db.db.add_participant(event, Invitee::User(who.id), role, rsvp).await.unwrap().id
}

const NTFY: &str = "ntfys://";

fn reminders(app: &TestApp, who: &Person) -> Vec<crate::support::fake_apprise::Delivered> {
    got(app, &who.key, NTFY, "Reminder: ")
}

fn follow_ups(app: &TestApp, who: &Person) -> Vec<crate::support::fake_apprise::Delivered> {
    got(app, &who.key, NTFY, "Thank you")
}

async fn someone(app: &TestApp, name: &str) -> (Person, String) {
    let lower = name.to_lowercase();
    let url = format!("ntfys://{lower}@ntfy.example.org/{lower}");
    let (user, token) = api_user(app, &format!("{lower}@example.org"), name, true).await;
    (person_of(app, user.id, &token, name, "UTC", &[(url.as_str(), &[])]).await, token)
}

async fn reminders_per_role_and_choices_reach_the_right_people_at_their_times(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (sam, _) = someone(&app, "Sam").await; // speaker, going
    let (val, _) = someone(&app, "Val").await; // volunteer, going
    let (ann, _) = someone(&app, "Ann").await; // attendee, going
    let (max, _) = someone(&app, "Max").await; // attendee, maybe
    let (pia, pia_token) = someone(&app, "Pia").await; // attendee, going, chooses one of the two reminders

    // Everyone: 10 s and 5 s before; speakers 14 s before; volunteers 7 s before; the
    // follow-up 3 s after the end.
    let (ev, starts_at) = event_with(
        &app,
        &olga,
        26,
        4,
        json!({"reminder_offsets": [10, 5], "role_reminders": {"speaker": [14], "volunteer": [7]},
               "follow_up": {"after": 3, "link": "https://forms.example.org/rust-night"}}),
    )
    .await;
    take_part(&app, ev, &sam, ParticipantRole::Speaker, Rsvp::Going).await;
    take_part(&app, ev, &val, ParticipantRole::Volunteer, Rsvp::Going).await;
    take_part(&app, ev, &ann, ParticipantRole::Attendee, Rsvp::Going).await;
    take_part(&app, ev, &max, ParticipantRole::Attendee, Rsvp::Maybe).await;
    take_part(&app, ev, &pia, ParticipantRole::Attendee, Rsvp::Going).await;

    // Pia sees what she is offered and keeps only the last reminder; a time not offered is refused.
    let mine = format!("/api/v1/me/events/{ev}/reminders");
    let (status, body) = api(&app, &pia_token, Method::GET, &mine, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["offered"], json!([10, 5]), "{body}");
    assert_eq!(body["chosen"], Value::Null, "{body}");
    let (status, body) = api(&app, &pia_token, Method::PUT, &mine, Some(json!({"offsets": [14]}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("Choose among the reminders offered"), "{body}");
    let (status, body) = api(&app, &pia_token, Method::PUT, &mine, Some(json!({"offsets": [5]}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["effective"], json!([5]), "{body}");

    // The organizer's schedule says who gets each reminder.
    let (status, schedule) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/schedule"), None).await;
    assert_eq!(status, 200, "{schedule}");
    let items = schedule["items"].as_array().unwrap();
    let speaker_item = items.iter().find(|i| i["offset"] == 14).unwrap_or_else(|| panic!("{schedule}"));
    assert_eq!(speaker_item["for_whom"], "speakers", "{schedule}");
    assert!(items.iter().any(|i| i["kind"] == "follow_up"), "{schedule}");
    let (status, body) = api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}"), None).await;
    assert_eq!(status, 200, "{body}");
    let words = body["rules_in_words"].to_string();
    assert!(words.contains("Speakers: 14 seconds before"), "{words}");
    assert!(words.contains("Volunteers: 7 seconds before"), "{words}");
    assert!(words.contains("Everyone else: 10 seconds and 5 seconds before"), "{words}");

    let ends_at = starts_at + chrono::Duration::seconds(4);
    eventually(Duration::from_secs(60), "the follow-up to reach those going", || async {
        [&sam, &val, &ann, &pia].iter().all(|p| !follow_ups(&app, p).is_empty()).then_some(())
    })
    .await;
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let offsets_of = |list: &[crate::support::fake_apprise::Delivered]| -> Vec<i64> {
        let mut out: Vec<i64> = [14, 10, 7, 5]
            .into_iter()
            .flat_map(|o| {
                list.iter()
                    .filter(move |d| d.body.contains(&format!("starts in {o} seconds")))
                    .map(move |_| o)
            })
            .collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    };
    assert_eq!(offsets_of(&reminders(&app, &sam)), vec![14], "speakers get theirs only");
    assert_eq!(offsets_of(&reminders(&app, &val)), vec![7], "volunteers get theirs only");
    assert_eq!(offsets_of(&reminders(&app, &ann)), vec![10, 5], "attendees get the event's");
    assert_eq!(offsets_of(&reminders(&app, &max)), vec![10, 5], "maybe gets reminders");
    assert_eq!(offsets_of(&reminders(&app, &pia)), vec![5], "Pia chose one");
    for (who, p) in [("Sam", &sam), ("Val", &val), ("Ann", &ann), ("Max", &max), ("Pia", &pia)] {
        for d in reminders(&app, p) {
            let offset =
                [14, 10, 7, 5].into_iter().find(|o| d.body.contains(&format!("starts in {o} seconds")));
            let due = starts_at - chrono::Duration::seconds(offset.unwrap_or(0));
            assert!(d.at >= due, "{who}'s reminder came {} ms early", (due - d.at).num_milliseconds());
        }
    }
    // The follow-up: once each to those going, never to maybe, at its time, with the link.
    for p in [&sam, &val, &ann, &pia] {
        let f = follow_ups(&app, p);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].at >= ends_at + chrono::Duration::seconds(3), "the follow-up came early");
        assert!(f[0].body.contains("https://forms.example.org/rust-night"), "{}", f[0].body);
    }
    assert!(follow_ups(&app, &max).is_empty(), "maybe is not thanked for coming");
    // The ledger records the follow-ups as messages.
    let (status, body) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/notifications"), None).await;
    assert_eq!(status, 200, "{body}");
    let messages = body["items"].as_array().unwrap().iter().filter(|r| r["kind"] == "message").count();
    assert_eq!(messages, 4, "{body}");
    app.stop().await;
}

async fn moving_the_event_re_arms_role_reminders_and_the_follow_up(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (sam, _) = someone(&app, "Sam").await;
    let (ann, _) = someone(&app, "Ann").await;
    let (ev, starts_at) = event_with(
        &app,
        &olga,
        12,
        3,
        json!({"reminder_offsets": [3], "role_reminders": {"speaker": [8]}, "follow_up": {"after": 2}}),
    )
    .await;
    take_part(&app, ev, &sam, ParticipantRole::Speaker, Rsvp::Going).await;
    take_part(&app, ev, &ann, ParticipantRole::Attendee, Rsvp::Going).await;
    eventually(Duration::from_secs(30), "the speaker's reminder", || async {
        (!reminders(&app, &sam).is_empty()).then_some(())
    })
    .await;
    // Moved 15 s later before it starts: every reminder and the follow-up come again at the new times.
    let moved = starts_at + chrono::Duration::seconds(15);
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({"starts_at": moved.to_rfc3339(), "ends_at": (moved + chrono::Duration::seconds(3)).to_rfc3339()})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let new_end = moved + chrono::Duration::seconds(3);
    eventually(Duration::from_secs(60), "the follow-up after the new end", || async {
        (!follow_ups(&app, &sam).is_empty() && !follow_ups(&app, &ann).is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sam_reminders = reminders(&app, &sam);
    assert_eq!(sam_reminders.len(), 2, "once before the move, once after: {sam_reminders:#?}");
    assert!(sam_reminders[1].at >= moved - chrono::Duration::seconds(8));
    let ann_reminders = reminders(&app, &ann);
    assert_eq!(ann_reminders.len(), 1, "{ann_reminders:#?}");
    assert!(ann_reminders[0].at >= moved - chrono::Duration::seconds(3), "at the new time");
    for p in [&sam, &ann] {
        let f = follow_ups(&app, p);
        assert_eq!(f.len(), 1, "once, after the new end: {f:#?}");
        assert!(f[0].at >= new_end + chrono::Duration::seconds(2), "not at the old end");
    }
    app.stop().await;
}

async fn organization_defaults_and_checked_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let olga = organizer(&app).await;
    let defaults = "/api/v1/orgs/rust-paris/event-defaults";
    let (status, body) = api(&app, &olga, Method::GET, defaults, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["follow_up"], Value::Null, "{body}");
    // Bad defaults are refused with what to fix.
    let (status, body) = api(
        &app,
        &olga,
        Method::PUT,
        defaults,
        Some(json!({"reminder_offsets": [0], "role_reminders": {"guest": [60]},
                    "follow_up": {"after": 3600, "link": "http://insecure.example.org"}})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    for field in ["reminder_offsets", "role_reminders.guest", "follow_up.link"] {
        assert!(text.contains(field), "{field}: {text}");
    }
    let good = json!({"reminder_offsets": [86400, 3600], "role_reminders": {"speaker": [259200, 86400], "volunteer": [7200]},
                      "follow_up": {"after": 7200, "link": "https://forms.example.org/feedback"}});
    let (status, body) = api(&app, &olga, Method::PUT, defaults, Some(good.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, good);

    // A new event without these fields takes the defaults; given fields win.
    let starts_at = Utc::now() + chrono::Duration::days(10);
    let base = json!({"name": "Defaults", "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::hours(2)).to_rfc3339(), "timezone": "UTC"});
    let (status, body) =
        api(&app, &olga, Method::POST, "/api/v1/orgs/rust-paris/events", Some(base.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["reminder_offsets"], json!([86400, 3600]), "{body}");
    assert_eq!(body["role_reminders"], good["role_reminders"], "{body}");
    assert_eq!(body["follow_up"], good["follow_up"], "{body}");
    let words = body["rules_in_words"].to_string();
    assert!(words.contains("Speakers: 3 days and 1 day before"), "{words}");
    assert!(words.contains("Volunteers: 2 hours before"), "{words}");
    let id = body["id"].as_str().unwrap().to_owned();
    let mut own = base.clone();
    own["reminder_offsets"] = json!([600]);
    own["role_reminders"] = json!({});
    own["follow_up"] = Value::Null;
    let (status, body) = api(&app, &olga, Method::POST, "/api/v1/orgs/rust-paris/events", Some(own)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["reminder_offsets"], json!([600]), "{body}");
    assert_eq!(body["role_reminders"], json!({}), "{body}");
    assert_eq!(body["follow_up"], Value::Null, "{body}");

    // Edits are checked: a role that does not exist, a bad offset, a follow-up too late or
    // with a link that is not https.
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{id}"),
        Some(json!({"role_reminders": {"speaker": [-5], "juggler": [60]}, "follow_up": {"after": 99_999_999, "link": "ftp://x"}})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    for field in ["role_reminders.speaker", "role_reminders.juggler", "follow_up.after", "follow_up.link"] {
        assert!(text.contains(field), "{field}: {text}");
    }
    // Turning the follow-up off leaves the rest.
    let (status, body) =
        api(&app, &olga, Method::PATCH, &format!("/api/v1/events/{id}"), Some(json!({"follow_up": null})))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["follow_up"], Value::Null, "{body}");
    assert_eq!(body["role_reminders"], good["role_reminders"], "{body}");

    // A user's preferred times: checked, and kept.
    let (status, body) =
        api(&app, &olga, Method::PUT, "/api/v1/me/reminders", Some(json!({"offsets": [0]}))).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) =
        api(&app, &olga, Method::PUT, "/api/v1/me/reminders", Some(json!({"offsets": [3600]}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api(&app, &olga, Method::GET, "/api/v1/me/reminders", None).await;
    assert_eq!((status, body["offsets"].clone()), (200, json!([3600])), "{body}");
    // Someone who does not take part has no reminders to choose.
    let (status, body) =
        api(&app, &olga, Method::GET, &format!("/api/v1/me/events/{id}/reminders"), None).await;
    assert_eq!(status, 404, "{body}");
    app.stop().await;
}

/// A life with reminders per role, a participant's own choice, a move and the follow-up — the
/// workflow finishing on its own after the follow-up — replays against the current workflow
/// code; with `HERALD_RECORD_HISTORIES=1` it is kept in `tests/it/histories` (as
/// `event-life-DATE-follow-up.json`) for the replay test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_with_role_reminders_and_a_follow_up_replays() {
    use herald_workflows::EventWorkflow;
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (sam, _) = someone(&app, "Sam").await;
    let (val, _) = someone(&app, "Val").await;
    let (pia, pia_token) = someone(&app, "Pia").await;
    let (ev, starts_at) = event_with(
        &app,
        &olga,
        16,
        3,
        json!({"reminder_offsets": [8, 4], "role_reminders": {"speaker": [11], "volunteer": [6]},
               "follow_up": {"after": 2, "link": "https://forms.example.org/rust-night"}}),
    )
    .await;
    take_part(&app, ev, &sam, ParticipantRole::Speaker, Rsvp::Going).await;
    take_part(&app, ev, &val, ParticipantRole::Volunteer, Rsvp::Going).await;
    take_part(&app, ev, &pia, ParticipantRole::Attendee, Rsvp::Going).await;
    let (status, body) = api(
        &app,
        &pia_token,
        Method::PUT,
        &format!("/api/v1/me/events/{ev}/reminders"),
        Some(json!({"offsets": [4]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(30), "the speaker's reminder", || async {
        (!reminders(&app, &sam).is_empty()).then_some(())
    })
    .await;
    // Moved 6 s later: the reminders still to come and the follow-up are armed again.
    let moved = starts_at + chrono::Duration::seconds(6);
    let (status, body) = api(
        &app,
        &olga,
        Method::PATCH,
        &format!("/api/v1/events/{ev}"),
        Some(json!({"starts_at": moved.to_rfc3339(), "ends_at": (moved + chrono::Duration::seconds(3)).to_rfc3339()})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(60), "the follow-ups", || async {
        [&sam, &val, &pia].iter().all(|p| !follow_ups(&app, p).is_empty()).then_some(())
    })
    .await;
    assert!(!reminders(&app, &val).is_empty() && !reminders(&app, &pia).is_empty());
    let herald = app.herald.as_ref().unwrap();
    let client = herald.temporal.client().await.unwrap();
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(ev));
    tokio::time::timeout(
        Duration::from_secs(30),
        handle.get_result(temporalio_client::WorkflowGetResultOptions::default()),
    )
    .await
    .expect("the workflow finishes after the follow-up")
    .expect("and succeeds");
    let json = handle
        .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap();
    let history = temporalio_client::WorkflowHistory::from_json(&json).unwrap();
    crate::delivery::replay(history).await.unwrap_or_else(|e| panic!("a fresh history does not replay: {e}"));
    if std::env::var_os("HERALD_RECORD_HISTORIES").is_some() {
        let name = format!("event-life-{}-follow-up.json", Utc::now().format("%Y%m%d"));
        std::fs::write(crate::delivery::histories_dir().join(name), &json).unwrap();
    }
    app.stop().await;
}

/// Whether the element matching `css` is shown (rendered, not inside a closed `<details>`).
async fn shown(browser: &crate::support::browser::Browser, css: &str) -> bool {
    let script = format!("const e = document.querySelector({css:?}); return !!e && e.checkVisibility();");
    browser.js(&script).await.as_bool().unwrap_or(false)
}

/// In a real browser, by labels and the keyboard: the organizer opens the collapsed "Different
/// times for speakers, volunteers…" on the event form, gives speakers and volunteers their own
/// reminders and adds a thank-you, and the event's page says who gets what; the organization's
/// "Event defaults" tab saves defaults that a new event's form then shows; a participant keeps
/// only one of the reminders offered with "Choose your reminders". Screenshots: `rules-event-form`,
/// `rules-event-defaults`, `rules-choose-reminders`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizers_set_rules_and_a_participant_chooses_in_a_real_browser() {
    use crate::support::browser::{ChromeDriver, ENTER, TAB, wait_until};
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let (_, _, olga_token) =
        crate::delivery_pages::signed_in(&app, "olga@example.org", "Olga Organizer").await;
    crate::delivery::create_org(&app, &olga_token).await;
    let (_, _, ada_token) = crate::delivery_pages::signed_in(&app, "ada@example.org", "Ada Attendee").await;
    // Ten days ahead, reminding everyone a day and an hour before.
    let (ev, _) =
        event_with(&app, &olga_token, 10 * 86_400, 7200, json!({"reminder_offsets": [86400, 3600]})).await;
    let (status, body) = api(
        &app,
        &ada_token,
        Method::PUT,
        &format!("/api/v1/events/{ev}/rsvp"),
        Some(json!({"rsvp": "going"})),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let slug = app.db.db.event(ev).await.unwrap().unwrap().slug;

    let driver = ChromeDriver::start().await;
    let olga = driver.session().await.at(&app.base);
    olga.open("/signin").await;
    olga.fill("Email", "olga@example.org").await;
    olga.fill("Password", crate::support::PASSWORD).await;
    olga.click_button("Sign in").await;
    wait_until("Olga to be signed in", || async { (olga.path().await != "/signin").then_some(()) }).await;

    // The event form: the per-role times are folded away until she opens them, from the keyboard.
    olga.open(&format!("/orgs/rust-paris/events/{ev}")).await;
    olga.click_link("Edit").await;
    olga.wait_for_heading("Edit Rust night").await;
    assert!(!shown(&olga, "#f-remind_speaker").await, "folded away at first");
    olga.field("Other reminders").await.click().await.unwrap();
    olga.press(TAB).await;
    let focused = olga.js("return document.activeElement.textContent.trim()").await;
    assert_eq!(focused, "Different times for speakers, volunteers…", "Tab reaches the folded section");
    olga.press(ENTER).await;
    wait_until("the per-role fields to show", || async {
        shown(&olga, "#f-remind_speaker").await.then_some(())
    })
    .await;
    olga.fill("Speakers", "3d, 1d").await;
    olga.fill("Volunteers", "2h").await;
    olga.fill("Thank-you message", "2h").await;
    olga.fill("Feedback link", "https://forms.example.org/rust-night").await;
    olga.screenshots("rules-event-form").await;
    olga.click_button("Save changes").await;
    olga.wait_for_path(&format!("/orgs/rust-paris/events/{ev}")).await;
    // The event's page says who gets what.
    olga.wait_for_text(
        "Reminders Speakers: 3 days and 1 day before, Volunteers: 2 hours before, \
         Everyone else: 1 day and 1 hour before, \
         Follow-up: A thank-you to those going, 2 hours after the end, with the feedback link",
    )
    .await;

    // The organization's defaults, on their own tab; a time that is not one is explained first.
    olga.open("/orgs/rust-paris").await;
    olga.click_link("Event defaults").await;
    olga.wait_for_path("/orgs/rust-paris/event-defaults").await;
    olga.fill("Reminders", "1d, 1h").await;
    olga.press(TAB).await;
    olga.press(ENTER).await;
    wait_until("the per-role defaults to show", || async {
        shown(&olga, "#f-remind_speaker").await.then_some(())
    })
    .await;
    olga.fill("Speakers", "3d, 1d").await;
    olga.fill("Volunteers", "soon").await;
    olga.fill("Thank-you message after the event", "2h").await;
    olga.fill("Feedback link", "https://forms.example.org/feedback").await;
    olga.click_button("Save the defaults").await;
    olga.wait_for_flash("Please fix the following").await;
    let invalid = olga.field("Volunteers").await.attr("aria-invalid").await.unwrap();
    assert_eq!(invalid.as_deref(), Some("true"), "the volunteers' field is marked");
    assert!(shown(&olga, "#f-remind_volunteer").await, "the field to fix is not folded away");
    assert_eq!(olga.value("Speakers").await, "3d, 1d", "what she typed is kept");
    olga.fill("Volunteers", "2h").await;
    olga.click_button("Save the defaults").await;
    olga.wait_for_flash("The defaults are saved.").await;
    olga.screenshots("rules-event-defaults").await;

    // A new event's form starts from them.
    olga.open("/orgs/rust-paris/events").await;
    olga.click_link("New event").await;
    olga.wait_for_heading("New event").await;
    for (label, on) in [
        ("1 week before", false),
        ("1 day before", true),
        ("1 hour before", true),
        ("15 minutes before", false),
    ] {
        // A boolean attribute reads "true" when ticked (WebDriver's Get Element Attribute).
        let checked = olga.field(label).await.attr("checked").await.unwrap();
        assert_eq!(checked.is_some(), on, "{label}");
    }
    assert!(shown(&olga, "#f-remind_speaker").await, "roles with their own times show them");
    assert_eq!(olga.value("Speakers").await, "3d, 1d");
    assert_eq!(olga.value("Volunteers").await, "2h");
    assert_eq!(olga.value("Attendees").await, "");
    assert_eq!(olga.value("Thank-you message").await, "2h");
    assert_eq!(olga.value("Feedback link").await, "https://forms.example.org/feedback");

    // Ada, going as an attendee, keeps only the reminder a day before.
    let ada = driver.session().await.at(&app.base);
    ada.open("/signin").await;
    ada.fill("Email", "ada@example.org").await;
    ada.fill("Password", crate::support::PASSWORD).await;
    ada.click_button("Sign in").await;
    wait_until("Ada to be signed in", || async { (ada.path().await != "/signin").then_some(()) }).await;
    ada.open(&format!("/o/rust-paris/e/{slug}")).await;
    let before = ada.text("#reminder-line").await;
    assert!(before.contains(" and "), "two reminders at first: {before}");
    assert!(!shown(&ada, "#reminder-choice form").await, "the choice is folded away");
    ada.element("#reminder-choice summary").await.click().await.unwrap();
    wait_until("the choice to show", || async { shown(&ada, "#reminder-choice form").await.then_some(()) })
        .await;
    ada.field("1 hour before").await.click().await.unwrap();
    ada.screenshots("rules-choose-reminders").await;
    ada.click_button("Save my reminders").await;
    ada.wait_for_flash("You will be reminded 1 day before.").await;
    let after = ada.text("#reminder-line").await;
    assert!(!after.contains(" and "), "one reminder now: {after}");
    let (status, body) =
        api(&app, &ada_token, Method::GET, &format!("/api/v1/me/events/{ev}/reminders"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["effective"], json!([86400]), "{body}");
    // And she can go back to all of them.
    ada.element("#reminder-choice summary").await.click().await.unwrap();
    ada.click_button("Back to all offered").await;
    wait_until("both reminders again", || async {
        ada.text("#reminder-line").await.contains(" and ").then_some(())
    })
    .await;
    drop(driver);
    app.stop().await;
}

/// Pia adds a time of her own, 12 s before the start, after the event's workflow has read its
/// plan: it asks the workflow to read it again, and she gets that reminder at its time; nobody
/// else does. Times outside the limits, already past or too many are refused with what to fix.
async fn own_reminder_times_reach_only_their_owner_at_their_time(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let (pia, pia_token) = someone(&app, "Pia").await;
    let (ann, ann_token) = someone(&app, "Ann").await;
    let (ev, starts_at) = event_with(&app, &olga, 30, 4, json!({"reminder_offsets": [6]})).await;
    take_part(&app, ev, &pia, ParticipantRole::Attendee, Rsvp::Going).await;
    take_part(&app, ev, &ann, ParticipantRole::Attendee, Rsvp::Going).await;
    let mine = format!("/api/v1/me/events/{ev}/reminders");

    // The organizer reminds 6 s before: own times may be as late as that here.
    for (own, says) in [
        (
            json!([3]),
            "Choose times between 6 seconds and 2 weeks before the start; 3 seconds is outside that.",
        ),
        (json!([20 * 86_400]), "20 days is outside that"),
        (json!([0]), "Write times before the start"),
        (json!([7, 8, 9, 10]), "Add at most 3 times of your own; you gave 4."),
        (json!([3600]), "1 hour before the start has already passed; choose a time still to come."),
    ] {
        let (status, body) = api(&app, &pia_token, Method::PUT, &mine, Some(json!({"own": own}))).await;
        assert_eq!(status, 422, "{own}: {body}");
        let text = body.to_string();
        assert!(text.contains(says) && text.contains("own"), "{own}: {text}");
    }
    let (status, body) = api(&app, &pia_token, Method::PUT, &mine, Some(json!({"own": [12]}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["own"], json!([12]), "{body}");
    assert_eq!(body["effective"], json!([12, 6]), "{body}");
    assert_eq!(body["own_range"], json!({"latest": 6, "earliest": 1_209_600, "most": 3}), "{body}");
    let (status, body) = api(&app, &ann_token, Method::GET, &mine, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["own"].clone(), body["effective"].clone()), (Value::Null, json!([6])), "{body}");

    // The workflow read its plan again: the organizer's schedule has Pia's time, for her alone.
    let schedule = format!("/api/v1/events/{ev}/schedule");
    let for_whom = eventually(Duration::from_secs(20), "the workflow to plan Pia's own time", || async {
        let (_, s) = api(&app, &olga, Method::GET, &schedule, None).await;
        s["items"].as_array()?.iter().find(|i| i["offset"] == 12).map(|i| i["for_whom"].clone())
    })
    .await;
    assert_eq!(for_whom, "those who chose this time");

    eventually(Duration::from_secs(40), "the reminders", || async {
        (reminders(&app, &pia).len() >= 2 && !reminders(&app, &ann).is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pia_got = reminders(&app, &pia);
    let ann_got = reminders(&app, &ann);
    assert_eq!(pia_got.len(), 2, "her own time and the organizer's, once each: {pia_got:#?}");
    assert_eq!(ann_got.len(), 1, "only the organizer's: {ann_got:#?}");
    assert!(ann_got[0].body.contains("starts in 6 seconds"), "{}", ann_got[0].body);
    let own = pia_got
        .iter()
        .find(|d| d.body.contains("starts in 12 seconds"))
        .unwrap_or_else(|| panic!("{pia_got:#?}"));
    assert!(own.at >= starts_at - chrono::Duration::seconds(12), "her own reminder came early");
    assert!(own.at < starts_at - chrono::Duration::seconds(6), "her own reminder came late");
    // One ledger row per person and reminder: the key holds the offset.
    let (status, body) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/notifications"), None).await;
    assert_eq!(status, 200, "{body}");
    let reminder_rows = body["items"].as_array().unwrap().iter().filter(|r| r["kind"] == "reminder").count();
    assert_eq!(reminder_rows, 3, "{body}");

    // As a default: checked against 5 minutes to 14 days, and used on her next events.
    let (status, body) =
        api(&app, &pia_token, Method::PUT, "/api/v1/me/reminders", Some(json!({"own": [60]}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("between 5 minutes and 2 weeks before the start"), "{body}");
    let (status, body) =
        api(&app, &pia_token, Method::PUT, "/api/v1/me/reminders", Some(json!({"own": [7200, 7200]}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"offsets": null, "own": [7200]}));
    // Left out, they stay; the offered times she prefers are set beside them.
    let (status, body) =
        api(&app, &pia_token, Method::PUT, "/api/v1/me/reminders", Some(json!({"offsets": [86400]}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"offsets": [86400], "own": [7200]}));
    let (next, _) =
        event_with(&app, &olga, 3 * 86_400, 3600, json!({"reminder_offsets": [86400, 3600]})).await;
    let (status, body) = api(
        &app,
        &pia_token,
        Method::PUT,
        &format!("/api/v1/events/{next}/rsvp"),
        Some(json!({"rsvp": "going"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let theirs = format!("/api/v1/me/events/{next}/reminders");
    let (_, body) = api(&app, &pia_token, Method::GET, &theirs, None).await;
    assert_eq!(body["own_default"], json!([7200]), "{body}");
    assert_eq!(body["effective"], json!([86400, 7200]), "her preferred offered one and her own: {body}");
    // None of her own on this one; then back to her usual ones.
    let (_, body) =
        api(&app, &pia_token, Method::PUT, &theirs, Some(json!({"offsets": [86400], "own": []}))).await;
    assert_eq!((body["own"].clone(), body["effective"].clone()), (json!([]), json!([86400])), "{body}");
    let (_, body) =
        api(&app, &pia_token, Method::PUT, &theirs, Some(json!({"offsets": [86400], "own": null}))).await;
    assert_eq!(
        (body["own"].clone(), body["effective"].clone()),
        (Value::Null, json!([86400, 7200])),
        "{body}"
    );
    app.stop().await;
}

/// One event plans at most 30 times of people's own: past that, a new one is refused with the
/// times it already has; one of those is still welcome.
async fn own_times_are_bounded_per_event(backend: Backend) {
    let app = TestApp::start(backend).await;
    let olga = organizer(&app).await;
    let starts_at = Utc::now() + chrono::Duration::days(5);
    let (status, body) = api(
        &app,
        &olga,
        Method::POST,
        "/api/v1/orgs/rust-paris/events",
        Some(json!({"name": "Big night", "starts_at": starts_at.to_rfc3339(),
            "ends_at": (starts_at + chrono::Duration::hours(2)).to_rfc3339(), "timezone": "UTC",
            "reminder_offsets": [86400], "status": "published", "visibility": "public"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let ev = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    for i in 0..10_i64 {
        let (user, _) = api_user(&app, &format!("fan{i}@example.org"), &format!("Fan {i}"), true).await;
        let p = app
            .db
            .db
            .add_participant(ev, Invitee::User(user.id), ParticipantRole::Attendee, Rsvp::Going)
            .await
            .unwrap();
        // 10 minutes to 5 hours, 30 different times, none the organizer's.
        let own: Vec<i64> = (1..=3).map(|k| 600 * (3 * i + k)).collect();
        app.db.db.set_own_reminders(p.id, Some(&own)).await.unwrap();
    }
    let (zoe, zoe_token) = someone(&app, "Zoe").await;
    take_part(&app, ev, &zoe, ParticipantRole::Attendee, Rsvp::Going).await;
    let mine = format!("/api/v1/me/events/{ev}/reminders");
    let (status, body) = api(&app, &zoe_token, Method::PUT, &mine, Some(json!({"own": [100 * 3600]}))).await;
    assert_eq!(status, 409, "{body}");
    let text = body.to_string();
    assert!(text.contains("already has 30 reminder times that people chose themselves"), "{text}");
    assert!(text.contains("1 day"), "the times it has: {text}");
    let (status, body) = api(&app, &zoe_token, Method::PUT, &mine, Some(json!({"own": [1800]}))).await;
    assert_eq!(status, 200, "a time already planned: {body}");
    assert_eq!(body["effective"], json!([86400, 1800]), "{body}");
    app.stop().await;
}

/// A follow-up switched on when the event is over, or a minute before its end, would never be
/// sent (the event's workflow finishes at the end): refused with the reason, as is a message
/// written in the last minute. A follow-up still waiting after the end may be changed.
async fn a_follow_up_or_a_message_too_late_is_refused_with_the_reason(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let olga = organizer(&app).await;
    let patch = |ev: Uuid, body: Value| {
        let olga = olga.clone();
        let app = &app;
        async move { api(app, &olga, Method::PATCH, &format!("/api/v1/events/{ev}"), Some(body)).await }
    };
    let (ending, _) = event_with(&app, &olga, 2, 20, json!({})).await;
    let (over, _) = event_with(&app, &olga, 2, 1, json!({})).await;
    let (thanking, _) = event_with(&app, &olga, 2, 1, json!({"follow_up": {"after": 3600}})).await;
    let (later, _) = event_with(&app, &olga, 3600, 3600, json!({})).await;

    let (status, body) = patch(ending, json!({"follow_up": {"after": 60}})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("This event ends in less than a minute"), "{body}");
    let (status, body) = api(
        &app,
        &olga,
        Method::POST,
        &format!("/api/v1/events/{ending}/announcements"),
        Some(json!({"subject": "Coats", "body": "The cloakroom closes soon."})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("This event ends in less than a minute"), "{body}");

    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, body) = patch(over, json!({"follow_up": {"after": 60}})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("This event is over"), "{body}");
    let (status, body) = patch(thanking, json!({"follow_up": {"after": 7200}})).await;
    assert_eq!(status, 200, "the thank-you is still to come: {body}");
    let (status, body) = patch(thanking, json!({"follow_up": null})).await;
    assert_eq!(status, 200, "switching it off is always fine: {body}");
    let (status, body) = patch(later, json!({"follow_up": {"after": 60}})).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}
