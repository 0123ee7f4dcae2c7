//! Tenant isolation: a member of organization A gets 404 — never 403, never the data — on every
//! page and API route of organization B, as if B did not exist. One table-driven test over all
//! routes: the API routes come from the OpenAPI document, so routes added later are covered
//! without touching this file; the page routes are a table below.

use std::collections::HashMap;

use herald::db::models::{Organization, Role};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::orgs::{api, member_of, owner_of};
use crate::support::{Backend, TestApp, Visitor};

both_backends!(a_member_of_one_org_gets_404_everywhere_in_another);

/// Every organization page and form action, as `(method, path)` with `{slug}`, `{user_id}`
/// and `{id}` (an invitation) to fill in. KEEP THIS UP TO DATE: add every new page or POST
/// action under `/orgs/{slug}` here (and its ids to `ids` below if it names a new kind of thing).
const PAGES: &[(&str, &str)] = &[
    ("GET", "/orgs/{slug}"),
    ("GET", "/orgs/{slug}/members"),
    ("GET", "/orgs/{slug}/settings"),
    ("GET", "/orgs/{slug}/audit"),
    ("GET", "/orgs/{slug}/report"),
    ("GET", "/orgs/{slug}/messages"),
    ("POST", "/orgs/{slug}/messages/reminder/preview"),
    ("POST", "/orgs/{slug}/messages/reminder"),
    ("POST", "/orgs/{slug}/messages/reminder/reset"),
    ("POST", "/orgs/{slug}/members/{user_id}/role"),
    ("POST", "/orgs/{slug}/members/{user_id}/remove"),
    ("POST", "/orgs/{slug}/invitations"),
    ("POST", "/orgs/{slug}/invitations/{id}/resend"),
    ("POST", "/orgs/{slug}/invitations/{id}/revoke"),
    ("POST", "/orgs/{slug}/leave"),
    ("POST", "/orgs/{slug}/settings"),
    ("POST", "/orgs/{slug}/settings/description"),
    ("POST", "/orgs/{slug}/delete"),
    // Events: `{id}` after `/events/` is an event of the organization (see `Fixture::fill`).
    ("GET", "/orgs/{slug}/events"),
    ("GET", "/orgs/{slug}/events/new"),
    ("POST", "/orgs/{slug}/events"),
    ("GET", "/orgs/{slug}/events/{id}"),
    ("GET", "/orgs/{slug}/events/{id}/deliveries"),
    ("GET", "/orgs/{slug}/events/{id}/export/participants.csv"),
    ("GET", "/orgs/{slug}/events/{id}/export/participants.json"),
    ("GET", "/orgs/{slug}/events/{id}/export/deliveries.csv"),
    ("GET", "/orgs/{slug}/events/{id}/export/deliveries.json"),
    ("GET", "/orgs/{slug}/events/{id}/edit"),
    ("POST", "/orgs/{slug}/events/{id}/edit"),
    ("POST", "/orgs/{slug}/events/{id}/duplicate"),
    ("GET", "/orgs/{slug}/events/{id}/cancel"),
    ("POST", "/orgs/{slug}/events/{id}/cancel"),
    ("GET", "/orgs/{slug}/events/{id}/delete"),
    // Participants of the event; `{participant}` and `{import}` belong to it.
    // Announcements of the event; `{aid}` is a scheduled one.
    ("GET", "/orgs/{slug}/events/{id}/announcements"),
    ("POST", "/orgs/{slug}/events/{id}/announcements"),
    ("POST", "/orgs/{slug}/events/{id}/announcements/preview"),
    ("POST", "/orgs/{slug}/events/{id}/announcements/{aid}/cancel"),
    ("GET", "/orgs/{slug}/events/{id}/participants"),
    ("POST", "/orgs/{slug}/events/{id}/participants"),
    ("POST", "/orgs/{slug}/events/{id}/participants/{participant}/role"),
    ("GET", "/orgs/{slug}/events/{id}/participants/import"),
    ("POST", "/orgs/{slug}/events/{id}/participants/import"),
    ("GET", "/orgs/{slug}/events/{id}/participants/import/{import}"),
    ("GET", "/orgs/{slug}/events/{id}/participants/{participant}/remove"),
    ("POST", "/orgs/{slug}/events/{id}/participants/{participant}/remove"),
    // The public pages of the (private) event and the RSVP actions: nothing for non-members.
    ("GET", "/o/{slug}/e/{event_slug}"),
    ("GET", "/o/{slug}/e/{event_slug}.ics"),
    ("POST", "/o/{slug}/e/{event_slug}/rsvp"),
    ("POST", "/o/{slug}/e/{event_slug}/leave"),
    ("GET", "/o/{slug}/e/{event_slug}/cover"),
    ("POST", "/orgs/{slug}/events/{id}/guests"),
    ("POST", "/orgs/{slug}/events/{id}/attendee-count"),
    ("POST", "/orgs/{slug}/events/{id}/cover"),
    ("POST", "/orgs/{slug}/events/{id}/cover/delete"),
    ("POST", "/orgs/{slug}/events/{id}/delete"),
    // Notification channels belong to a user, not an organization: `{integration}` is the
    // caller's own channel in A's fixture and Bella's (B's owner) in B's. Delete stays last.
    ("GET", "/integrations/{integration}"),
    ("GET", "/integrations/{integration}/edit"),
    ("GET", "/integrations/{integration}/delete"),
    ("POST", "/integrations/{integration}/confirm"),
    ("POST", "/integrations/{integration}/code"),
    ("POST", "/integrations/{integration}/test"),
    ("POST", "/integrations/{integration}/enabled"),
    ("POST", "/integrations/{integration}/rename"),
    ("POST", "/integrations/{integration}/edit"),
    ("POST", "/integrations/{integration}/delete"),
];

/// Pages that do not exist for a plain member even of their own organization (404 there too).
const MANAGERS_ONLY: &[&str] = &["/orgs/{slug}/audit", "/orgs/{slug}/report"];

/// What an organization's routes need filled in: its slug and one id of each kind.
struct Fixture {
    org: Organization,
    ids: HashMap<&'static str, String>,
}

impl Fixture {
    async fn new(
        app: &TestApp,
        owner: &Visitor,
        org: Organization,
        owner_email: &str,
        invitee: &str,
    ) -> Self {
        let owner_id = app.db.db.user_by_email(owner_email).await.unwrap().unwrap().id;
        let r = owner
            .post(&format!("/orgs/{}/invitations", org.slug), &[("email", invitee), ("role", "member")])
            .await;
        assert_eq!(r.status(), 303, "invitation in {}", org.slug);
        let invitation = app.db.db.open_invitations(org.id).await.unwrap()[0].invitation.id;
        // A published private event: visible to every member of its organization, to nobody else.
        let r = owner
            .post(
                &format!("/orgs/{}/events", org.slug),
                &[
                    ("name", &format!("{} private event", org.name)),
                    ("start", "2030-06-01T18:30"),
                    ("end", "2030-06-01T20:00"),
                    ("timezone", "Europe/Paris"),
                    ("visibility", "private"),
                    ("status", "published"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "event in {}", org.slug);
        let event = app.db.db.org_events(org.id, None, None, None, true, 10).await.unwrap()[0].clone();
        // A participant of the event (an invited address) and a finished CSV import.
        let r = owner
            .post(
                &format!("/orgs/{}/events/{}/participants", org.slug, event.id),
                &[("email", &format!("guest-{}@example.org", org.slug)), ("role", "speaker")],
            )
            .await;
        assert_eq!(r.status(), 303, "participant in {}", org.slug);
        let participant = app.db.db.participant_rows(event.id).await.unwrap()[0].id;
        // A cover image, so that its address answers in A.
        app.db.db.set_event_cover(event.id, "image/png", &crate::public_pages::png_1x1()).await.unwrap();
        let import = app.db.db.create_import(event.id, owner_id, 0).await.unwrap().id;
        // A scheduled announcement to the event's participants.
        let send_at = chrono::DateTime::parse_from_rfc3339("2030-06-01T10:00:00Z").unwrap().to_utc();
        let (announcement, _, _) = app
            .db
            .db
            .create_announcement(&herald::db::announcements::NewAnnouncement {
                event_id: event.id,
                author_id: owner_id,
                subject: "Doors open at six",
                body: "See you there.",
                answers: &[herald::db::models::Rsvp::Going],
                roles: &[herald::db::models::ParticipantRole::Attendee],
                send_at,
            })
            .await
            .unwrap();
        app.db.db.finish_import(import, "done", 0, &[]).await.unwrap();
        let ids = HashMap::from([
            ("slug", org.slug.clone()),
            ("user_id", owner_id.to_string()),
            ("id", invitation.to_string()),
            ("event", event.id.to_string()),
            ("event_slug", event.slug.clone()),
            ("participant", participant.to_string()),
            ("import", import.to_string()),
            ("aid", announcement.id.to_string()),
            // The wording of a kind of notice (the same kinds in every organization).
            ("kind", "reminder".to_owned()),
        ]);
        Self { org, ids }
    }

    /// `template` with every `{param}` replaced by this organization's value.
    fn fill(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            let end = rest[start..].find('}').map(|e| start + e).expect("closing brace");
            let name = &rest[start + 1..end];
            // `{id}` right after `/events/` is an event (elsewhere an invitation).
            let name = if name == "id" && rest[..start].ends_with("/events/") { "event" } else { name };
            let value = self.ids.get(name).unwrap_or_else(|| {
                panic!(
                    "route {template} has a parameter {{{name}}} this test does not know: create such a \
                     thing in both organizations in `Fixture::new` and add its id to `ids`"
                )
            });
            out.push_str(&rest[..start]);
            out.push_str(value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Form fields that would do the most damage if the route wrongly accepted them.
    fn form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("confirm", "yes".into()),
            ("confirm_slug", self.org.slug.clone()),
            ("role", "owner".into()),
            ("name", "Taken over".into()),
            ("email", "mallory2@example.org".into()),
        ]
    }
}

/// A notification channel created by `owner` through the page; its id.
async fn new_channel(owner: &Visitor, name: &str) -> Uuid {
    let r =
        owner.post("/integrations", &[("name", name), ("url_0", "ntfys://ntfy.example.org/isolation")]).await;
    assert_eq!(r.status(), 303, "channel {name}");
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    Uuid::parse_str(location.trim_start_matches("/integrations/")).unwrap()
}

async fn a_member_of_one_org_gets_404_everywhere_in_another(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, alpha) = owner_of(&app, "alice@example.org", "Alice", "Alpha").await;
    let (bella, bravo) = owner_of(&app, "bella@example.org", "Bella", "Bravo").await;
    let mut a = Fixture::new(&app, &alice, alpha, "alice@example.org", "ann@example.org").await;
    let mut b = Fixture::new(&app, &bella, bravo, "bella@example.org", "bert@example.org").await;
    // The caller: a plain member of A, in the browser and with an API token.
    let (mallory, mallory_id) = member_of(&app, &a.org, "mallory@example.org", "Mallory", Role::Member).await;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(mallory_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();
    // Channels are per user: the caller's own (A's fixture) and Bella's (B's fixture).
    b.ids.insert("integration", new_channel(&bella, "Bella's phone").await.to_string());
    a.ids.insert("integration", new_channel(&mallory, "Mallory's phone").await.to_string());

    // A's routes must answer the caller (else a 404 from B would prove nothing). Actions like
    // "leave" may succeed there, so the caller's membership of A is restored before each call.
    let rejoin_a = || async {
        if app.db.db.membership(a.org.id, mallory_id).await.unwrap().is_none() {
            app.db.db.add_membership(a.org.id, mallory_id, Role::Member).await.unwrap();
        }
    };

    // --- Pages ---
    let csrf = mallory.csrf().await;
    for (method, template) in PAGES {
        for (fixture, own) in [(&b, false), (&a, true)] {
            if own {
                rejoin_a().await;
            }
            let path = fixture.fill(template);
            let r = match *method {
                "GET" => mallory.get(&path).await,
                "POST" => {
                    let mut form = fixture.form();
                    form.push(("_csrf", csrf.clone()));
                    mallory.http.post(format!("{}{path}", app.base)).form(&form).send().await.unwrap()
                }
                other => panic!("unsupported method {other}"),
            };
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            if own && MANAGERS_ONLY.contains(template) {
                assert_eq!(status, 404, "{method} {path} (own org, plain member)");
            } else if own {
                assert!(status != 404 && status < 500, "{method} {path} (own org) answers, got {status}");
            } else {
                assert_eq!(status, 404, "{method} {path} (other org): {body}");
                assert!(
                    !body.contains("Bravo") && !body.contains("bella@example.org"),
                    "{method} {path} leaks B"
                );
            }
        }
    }

    // --- API: every route of the OpenAPI document that names an organization ---
    let (status, doc) = api(&app, &token, Method::GET, "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().expect("paths") {
        if !template.contains("{slug}") && !template.starts_with("/api/v1/events/{id}") {
            continue;
        }
        for (method, _) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            if !matches!(method, Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
                continue;
            }
            let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
            let path = b.fill(template);
            let r = app
                .http
                .request(method.clone(), app.url(&path))
                .bearer_auth(&token)
                .json(&body.clone().unwrap_or(Value::Null))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let content_type = r.headers().get("content-type").map(|c| c.to_str().unwrap().to_owned());
            let text = r.text().await.unwrap();
            assert_eq!(status, 404, "{method} {path} (other org): {text}");
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{method} {path}");
            assert!(
                !text.contains("Bravo") && !text.contains("bella@example.org"),
                "{method} {path} leaks B"
            );

            rejoin_a().await;
            let path = a.fill(template);
            let (status, answer) = api(&app, &token, method.clone(), &path, body).await;
            assert!(
                status != 404 && status < 500,
                "{method} {path} (own org) answers, got {status}: {answer}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 16, "only {checked} API routes name an organization; is the document complete?");

    // --- API: every route of a notification channel (`/integrations/{id}`): 404 on Bella's ---
    let bella_id = app.db.db.user_by_email("bella@example.org").await.unwrap().unwrap().id;
    let bellas: Uuid = b.ids["integration"].parse().unwrap();
    let mut own: Uuid = a.ids["integration"].parse().unwrap();
    let mut channel_routes = 0;
    for (template, item) in doc["paths"].as_object().expect("paths") {
        if !template.starts_with("/api/v1/integrations/{id}") {
            continue;
        }
        for (method, _) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let body = (method != Method::GET && method != Method::DELETE)
                .then(|| json!({"name": "Taken over", "code": "123456", "enabled": false}));
            let path = template.replace("{id}", &bellas.to_string());
            let r = app
                .http
                .request(method.clone(), app.url(&path))
                .bearer_auth(&token)
                .json(&body.clone().unwrap_or(Value::Null))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let content_type = r.headers().get("content-type").map(|c| c.to_str().unwrap().to_owned());
            let text = r.text().await.unwrap();
            assert_eq!(status, 404, "{method} {path} (another user's channel): {text}");
            assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{method} {path}");
            assert!(!text.contains("Bella"), "{method} {path} leaks Bella's channel");

            // The caller's own channel answers (recreated if an earlier DELETE removed it).
            if app.db.db.integration_of(mallory_id, own).await.unwrap().is_none() {
                own = new_channel(&mallory, "Mallory's phone").await;
            }
            let path = template.replace("{id}", &own.to_string());
            let (status, answer) = api(&app, &token, method.clone(), &path, body).await;
            assert!(
                status != 404 && status < 500,
                "{method} {path} (own channel) answers, got {status}: {answer}"
            );
            channel_routes += 1;
        }
    }
    assert!(
        channel_routes >= 6,
        "only {channel_routes} API routes name a channel; is the document complete?"
    );
    let bellas_row =
        app.db.db.integration_of(bella_id, bellas).await.unwrap().expect("Bella's channel still exists");
    assert_eq!((bellas_row.name.as_str(), bellas_row.enabled), ("Bella's phone", true));

    // B is untouched: still there, same owner, same open invitation, no new member.
    let bravo = app.db.db.organization_by_slug("bravo").await.unwrap().expect("B still exists");
    assert_eq!(bravo.name, "Bravo");
    assert_eq!(bravo.description, "", "B's description unchanged");
    let bella_id = app.db.db.user_by_email("bella@example.org").await.unwrap().unwrap().id;
    assert_eq!(app.db.db.membership(bravo.id, bella_id).await.unwrap().map(|m| m.role), Some(Role::Owner));
    assert!(app.db.db.membership(bravo.id, mallory_id).await.unwrap().is_none());
    let open = app.db.db.open_invitations(bravo.id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].invitation.id.to_string(), b.ids["id"]);
    assert_eq!(app.db.db.members_of(bravo.id).await.unwrap().len(), 1);
    let b_event = app.db.db.event(b.ids["event"].parse().unwrap()).await.unwrap().expect("B's event exists");
    // Revision 1: its scheduled announcement, made by the fixture.
    assert_eq!((b_event.name.as_str(), b_event.revision), ("Bravo private event", 1));
    assert!(!b_event.show_attendee_count, "B's attendee count unchanged");
    assert!(app.db.db.event_cover(b_event.id).await.unwrap().is_some(), "B's cover image still there");
    assert_eq!(app.db.db.org_events(bravo.id, None, None, None, true, 10).await.unwrap().len(), 1);
    let b_guests = app.db.db.participant_rows(b_event.id).await.unwrap();
    assert_eq!(b_guests.len(), 1, "B's participants unchanged");
    assert_eq!(
        (b_guests[0].role, b_guests[0].invited_email.as_deref()),
        (herald::db::models::ParticipantRole::Speaker, Some("guest-bravo@example.org"))
    );
    drop(bella);
    app.stop().await;
}
