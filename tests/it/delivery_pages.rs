//! What people see of deliveries on the pages: the attendee's "You'll be reminded at … via …"
//! on the public event page, and the organizer-only scheduled notices and ledger (a member who
//! does not manage events gets 403 on the fragment and on the API).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use herald::db::models::{Role, Rsvp};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::delivery::{Person, create_org, event, join, person_of, wait_for_temporal};
use crate::integrations::confirmed_channel;
use crate::orgs::api;
use crate::support::{Backend, TEMPORAL_UI, TestApp, Visitor};

both_backends!(attendees_see_when_and_through_what_they_will_be_reminded, only_organizers_see_deliveries,);

/// A verified user signed in through the pages (password [`crate::support::PASSWORD`]), with
/// an API token: the visitor, their id and the token.
pub(crate) async fn signed_in(app: &TestApp, email: &str, name: &str) -> (Visitor, Uuid, String) {
    let v = app.signed_up(email, name, true).await;
    let id = app.db.db.user_by_email(email).await.unwrap().unwrap().id;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(id, "tests", &herald::secrets::hash_token(&token)).await.unwrap();
    (v, id, token)
}

/// The text of the "Your reminders" part of the RSVP card of `html` (tags dropped, spaces
/// collapsed), if there is one.
fn reminders_card(html: &str) -> Option<String> {
    let at = html.find(r#"id="reminders""#)?;
    let start = at + html[at..].find('>')? + 1;
    let end = at + html[at..].find("</section>")?;
    // Without the form to choose among the reminders offered (its own test is in rules.rs).
    let mut card = html[start..end].to_owned();
    if let Some(from) = card.find(r#"<details id="reminder-choice""#)
        && let Some(len) = card[from..].find("</details>")
    {
        card.replace_range(from..from + len + "</details>".len(), " ");
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in card.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&#39;", "'").replace("&quot;", "\"").replace("&amp;", "&");
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The card's raw HTML, to look at its links and `<time>` elements.
fn reminders_html(html: &str) -> &str {
    let at = html.find(r#"id="reminders""#).expect("a reminders card");
    let end = at + html[at..].find("</section>").unwrap();
    &html[at..end]
}

/// A reminder time as the page words it for a user with the default (ISO) date format.
fn when(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%a %Y-%m-%d, %H:%M %Z").to_string()
}

async fn card_of(v: &Visitor, page: &str) -> (Option<String>, String) {
    let (status, html) = v.page(page).await;
    assert_eq!(status, 200, "{page}: {html}");
    (reminders_card(&html), html)
}

async fn attendees_see_when_and_through_what_they_will_be_reminded(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let (_, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (ev, _) = event(&app, &olga, 2 * 86_400, 3_600, &[86_400, 3_600]).await;
    // As stored (Postgres keeps microseconds).
    let stored = app.db.db.event(ev).await.unwrap().unwrap();
    let (slug, starts_at) = (stored.slug, stored.starts_at);
    let page = format!("/o/rust-paris/e/{slug}");
    let due: Vec<DateTime<Utc>> =
        [86_400, 3_600].iter().map(|o| starts_at - chrono::Duration::seconds(*o)).collect();

    let paris: Tz = "Europe/Paris".parse().unwrap();
    // Ada (Paris time) is going and chose one of her two confirmed channels for this event.
    let (ada_v, ada_id, ada_t) = signed_in(&app, "ada@example.org", "Ada").await;
    let ada =
        person_of(&app, ada_id, &ada_t, "Ada", "Europe/Paris", &[("ntfys://ntfy.example.org/ada", &[])])
            .await;
    confirmed_channel(&app, &ada_t, "Ada's mail", &[("mailtos://ada:pw@smtp.example.org", &[])]).await;
    join(&app, ev, &ada, Rsvp::Going, Some(&[])).await;
    let (card, html) = card_of(&ada_v, &page).await;
    assert_eq!(
        card.as_deref(),
        Some(
            format!(
                "You'll be reminded at {} and {} (Europe/Paris) via Ada's channel.",
                when(due[0], paris),
                when(due[1], paris)
            )
            .as_str()
        ),
        "in her zone, through the channel she chose only"
    );
    let card_html = reminders_html(&html);
    for d in &due {
        assert!(card_html.contains(&format!(r#"<time datetime="{}">"#, d.to_rfc3339())), "{card_html}");
    }
    assert!(!html.contains("pw@smtp"), "no channel secret on the page");

    // Bob (New York) may come and chose nothing: all his confirmed channels, not the unconfirmed.
    let (bob_v, bob_id, bob_t) = signed_in(&app, "bob@example.org", "Bob").await;
    let bob =
        person_of(&app, bob_id, &bob_t, "Bob", "America/New_York", &[("ntfys://ntfy.example.org/bob", &[])])
            .await;
    confirmed_channel(&app, &bob_t, "Bob's mail", &[("mailtos://bob:pw@smtp.example.org", &[])]).await;
    let unconfirmed =
        json!({"name": "Bob's pager", "urls": [{"url": "ntfys://ntfy.example.org/pager", "tags": []}]});
    let (status, body) = api(&app, &bob_t, Method::POST, "/api/v1/integrations", Some(unconfirmed)).await;
    assert_eq!(status, 201, "{body}");
    join(&app, ev, &bob, Rsvp::Maybe, None).await;
    let ny: Tz = "America/New_York".parse().unwrap();
    let (card, _) = card_of(&bob_v, &page).await;
    assert_eq!(
        card.as_deref(),
        Some(
            format!(
                "You'll be reminded at {} and {} (America/New_York) via Bob's channel, Bob's mail, Email — bob@example.org.",
                when(due[0], ny),
                when(due[1], ny)
            )
            .as_str()
        ),
    );

    // Eve is going without any channel; Gus chose a channel he then switched off: both are told
    // that nothing will reach them, with the way to fix it.
    let (eve_v, eve_id, _) = signed_in(&app, "eve@example.org", "Eve").await;
    // Eve switched off the email Herald sends to her address: she has no channel left.
    let eve_email = app.db.db.email_integration_of(eve_id).await.unwrap().expect("her email channel");
    app.db.db.set_integration_enabled(eve_id, eve_email.id, false).await.unwrap();
    let eve = Person { id: eve_id, integration: Uuid::nil(), key: String::new() };
    join(&app, ev, &eve, Rsvp::Going, None).await;
    let (gus_v, gus_id, gus_t) = signed_in(&app, "gus@example.org", "Gus").await;
    let gus = person_of(&app, gus_id, &gus_t, "Gus", "UTC", &[("ntfys://ntfy.example.org/gus", &[])]).await;
    join(&app, ev, &gus, Rsvp::Going, Some(&[])).await;
    let (status, body) = api(
        &app,
        &gus_t,
        Method::PATCH,
        &format!("/api/v1/integrations/{}", gus.integration),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for (who, v, tz) in [("Eve", &eve_v, paris), ("Gus", &gus_v, Tz::UTC)] {
        let (card, html) = card_of(v, &page).await;
        let card = card.unwrap_or_else(|| panic!("{who} sees a reminders card"));
        assert!(card.starts_with(&format!("Reminders go out at {}", when(due[0], tz))), "{who}: {card}");
        assert!(!card.contains(" via "), "{who}: {card}");
        assert!(
            card.contains("You have no confirmed channel for this event — add one so they reach you."),
            "{who}: {card}"
        );
        // "add one" starts adding a channel, with the way back to the event.
        assert!(
            reminders_html(&html).contains(r#"<a href="/integrations/new?next=%2Fo%2Frust-paris%2Fe%2F"#),
            "{who}: {}",
            reminders_html(&html)
        );
    }

    // Dee has not answered: she is told how to get reminders. Cy declined, and an anonymous
    // visitor is no participant: no card at all.
    let (dee_v, dee_id, _) = signed_in(&app, "dee@example.org", "Dee").await;
    join(&app, ev, &Person { id: dee_id, integration: Uuid::nil(), key: String::new() }, Rsvp::Pending, None)
        .await;
    let (card, _) = card_of(&dee_v, &page).await;
    assert_eq!(card.as_deref(), Some("Answer going or maybe to get reminders."));
    let (cy_v, cy_id, _) = signed_in(&app, "cy@example.org", "Cy").await;
    join(&app, ev, &Person { id: cy_id, integration: Uuid::nil(), key: String::new() }, Rsvp::Declined, None)
        .await;
    let (card, html) = card_of(&cy_v, &page).await;
    assert_eq!(card, None, "declined: no reminder line");
    assert!(html.contains("Your answer"), "the RSVP card is still there");
    let (card, _) = card_of(&app.visitor(), &page).await;
    assert_eq!(card, None, "anonymous visitors have no reminders");

    // The organizer turns reminders off: Ada is told so.
    let patch = |body| {
        let olga = olga.clone();
        let app = &app;
        async move {
            let (status, body) =
                api(app, &olga, Method::PATCH, &format!("/api/v1/events/{ev}"), Some(body)).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    patch(json!({"notify_reminders": false})).await;
    let (card, _) = card_of(&ada_v, &page).await;
    assert_eq!(card.as_deref(), Some("This event sends no reminders."));

    // Back on, with a single reminder three days before: already past, and Ada is told so.
    patch(json!({"notify_reminders": true, "reminder_offsets": [3 * 86_400]})).await;
    let (card, _) = card_of(&ada_v, &page).await;
    assert_eq!(card.as_deref(), Some("No reminders are still to come for this event."));

    // Cancelled: the page says the event is cancelled and promises nothing.
    let (status, body) = api(&app, &olga, Method::POST, &format!("/api/v1/events/{ev}/cancel"), None).await;
    assert_eq!(status, 200, "{body}");
    let (card, html) = card_of(&ada_v, &page).await;
    assert_eq!(card, None, "no reminders for a cancelled event");
    assert!(html.contains("This event is cancelled."));
    app.stop().await;
}

async fn only_organizers_see_deliveries(backend: Backend) {
    let app = TestApp::start(backend).await;
    wait_for_temporal(&app).await;
    let (olga_v, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (ev, _) = event(&app, &olga, 86_400, 3_600, &[3_600]).await;
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    let fragment = format!("/orgs/rust-paris/events/{ev}/deliveries");
    let detail = format!("/orgs/rust-paris/events/{ev}");
    let api_routes = [format!("/api/v1/events/{ev}/notifications"), format!("/api/v1/events/{ev}/schedule")];

    // A plain member sees the event, but not its deliveries: 403 on the fragment and the API.
    let (max_v, max_id, max_t) = signed_in(&app, "max@example.org", "Max").await;
    app.db.db.add_membership(org.id, max_id, Role::Member).await.unwrap();
    let (status, html) = max_v.page(&detail).await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains(&fragment), "no deliveries section for a member");
    let (status, html) = max_v.page(&fragment).await;
    assert_eq!(status, 403, "{html}");
    assert!(!html.contains("Scheduled notices") && !html.contains(TEMPORAL_UI), "{html}");
    for path in &api_routes {
        let r = app.http.get(app.url(path)).bearer_auth(&max_t).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
        let text = r.text().await.unwrap();
        assert!(!text.contains("items") && !text.contains(TEMPORAL_UI), "{path}: {text}");
    }

    // An organizer of the organization, and its owner, see them.
    let (oscar_v, oscar_id, oscar_t) = signed_in(&app, "oscar@example.org", "Oscar").await;
    app.db.db.add_membership(org.id, oscar_id, Role::Organizer).await.unwrap();
    for (who, v, token) in [("organizer", &oscar_v, &oscar_t), ("owner", &olga_v, &olga)] {
        let (status, html) = v.page(&detail).await;
        assert_eq!(status, 200, "{who}: {html}");
        assert!(html.contains(&format!(r#"hx-get="{fragment}""#)), "{who}: the page loads the fragment");
        let (status, html) = v.page(&fragment).await;
        assert_eq!(status, 200, "{who}: {html}");
        assert!(
            html.contains("Scheduled notices") && html.contains("Reminder, 1 hour before"),
            "{who}: {html}"
        );
        for path in &api_routes {
            let (status, body) = api(&app, token, Method::GET, path, None).await;
            assert_eq!(status, 200, "{who} {path}: {body}");
        }
    }
    app.stop().await;
}
