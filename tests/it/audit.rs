//! The organization's activity (audit log) and the retention pass.

use chrono::{Duration, Utc};
use herald::config::Retention;
use herald::db::Db;
use herald::db::events::NewEvent;
use herald::db::models::{EventStatus, Role, Visibility};
use reqwest::Method;
use serde_json::{Value, json};

use crate::orgs::{api, api_user, member_of, owner_of};
use crate::support::{Backend, TestApp, TestDb};

both_backends!(
    activity_is_recorded_scoped_and_paged,
    the_remaining_kinds_of_change_are_recorded,
    retention_prunes_only_old_rows
);

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap().to_owned()).collect()
}

async fn activity_is_recorded_scoped_and_paged(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (alice, alpha) = owner_of(&app, "alice@example.org", "Alice", "Alpha").await;
    let (_bella, bravo) = owner_of(&app, "bella@example.org", "Bella", "Bravo").await;
    let alice_id = app.db.db.user_by_email("alice@example.org").await.unwrap().unwrap().id;
    let token = format!("t-{}", uuid::Uuid::new_v4().simple());
    app.db.db.create_api_token(alice_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();
    let (_, bella_token) = api_user(&app, "bella2@example.org", "Bella Two", true).await;
    let bella2 = app.db.db.user_by_email("bella2@example.org").await.unwrap().unwrap();
    app.db.db.add_membership(bravo.id, bella2.id, Role::Owner).await.unwrap();
    let (mallory, mallory_id) = member_of(&app, &alpha, "mallory@example.org", "Mallory", Role::Member).await;
    let slug = alpha.slug.clone();

    // Through the pages: rename, change a role.
    let r = alice.post(&format!("/orgs/{slug}/settings"), &[("name", "Alpha Club")]).await;
    assert!(r.status().is_redirection(), "rename: {}", r.status());
    let r = alice.post(&format!("/orgs/{slug}/members/{mallory_id}/role"), &[("role", "organizer")]).await;
    assert!(r.status().is_redirection(), "role: {}", r.status());
    // Through the API: invite, create an event, add a participant, cancel it, remove a member.
    let (status, _) = api(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/orgs/{slug}/invitations"),
        Some(json!({"email": "grace@example.org", "role": "member"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, event) = api(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/orgs/{slug}/events"),
        Some(json!({"name": "Launch night", "starts_at": "2030-06-01T18:30:00+02:00",
            "ends_at": "2030-06-01T20:00:00+02:00", "timezone": "Europe/Paris", "status": "draft",
            "visibility": "private"})),
    )
    .await;
    assert_eq!(status, 201, "{event}");
    let id = event["id"].as_str().unwrap().to_owned();
    let (status, added) = api(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/events/{id}/participants"),
        Some(json!({"email": "guest@example.org", "role": "attendee"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = api(&app, &token, Method::POST, &format!("/api/v1/events/{id}/cancel"), None).await;
    assert_eq!(status, 200);
    let (status, _) =
        api(&app, &token, Method::DELETE, &format!("/api/v1/orgs/{slug}/members/{mallory_id}"), None).await;
    assert_eq!(status, 204);

    let (status, page) = api(&app, &token, Method::GET, &format!("/api/v1/orgs/{slug}/audit"), None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        actions(&page),
        [
            "member.removed",
            "event.cancelled",
            "participant.invited",
            "event.created",
            "member.invited",
            "member.role_changed",
            "org.renamed"
        ]
    );
    assert_eq!(page["items"][0]["subject"], "mallory@example.org");
    assert_eq!(page["items"][0]["actor_email"], "alice@example.org");
    assert_eq!(page["items"][5]["detail"], "member → organizer");
    let text = page.to_string();
    assert!(!text.contains(&token) && !text.contains("://"), "no secret or URL: {text}");

    // The page, in the owner's words.
    let (status, body) = alice.page(&format!("/orgs/{slug}/audit")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Activity")
            && body.contains("renamed the organization")
            && body.contains("Launch night")
    );
    assert!(body.contains("cancelled the event"));

    // Scoped: Bravo's owner sees none of it, a plain member gets 404 (page) / 403 (API).
    let (status, other) =
        api(&app, &bella_token, Method::GET, &format!("/api/v1/orgs/{}/audit", bravo.slug), None).await;
    assert_eq!(status, 200);
    assert!(actions(&other).is_empty(), "{other}");
    assert_eq!(
        api(&app, &bella_token, Method::GET, &format!("/api/v1/orgs/{slug}/audit"), None).await.0,
        404
    );
    app.db.db.add_membership(alpha.id, mallory_id, Role::Member).await.unwrap();
    assert_eq!(mallory.page(&format!("/orgs/{slug}/audit")).await.0, 404);
    let (members_status, members_page) = mallory.page(&format!("/orgs/{slug}/members")).await;
    assert_eq!(members_status, 200);
    assert!(!members_page.contains(&format!("/orgs/{slug}/audit")), "no Activity tab for members");

    // The other kinds of change: joining and leaving, the description, edits, publishing,
    // duplicating, deleting, removing a participant.
    let grace = app.signed_up("grace@example.org", "Grace", true).await;
    let link = app.mailed_link("grace@example.org", "/invitations/").expect("an invitation to Grace");
    assert!(grace.post(&link, &[]).await.status().is_redirection());
    let r = grace.post(&format!("/orgs/{slug}/leave"), &[("confirm", "yes")]).await;
    assert!(r.status().is_redirection(), "leave: {}", r.status());
    let r = alice
        .post(&format!("/orgs/{slug}/settings/description"), &[("description", "We meet monthly.")])
        .await;
    assert!(r.status().is_redirection(), "description: {}", r.status());
    let participant = added["id"].as_str().unwrap();
    let (status, _) =
        api(&app, &token, Method::DELETE, &format!("/api/v1/events/{id}/participants/{participant}"), None)
            .await;
    assert_eq!(status, 204);
    let r = alice.post(&format!("/orgs/{slug}/events/{id}/duplicate"), &[]).await;
    assert!(r.status().is_redirection(), "duplicate: {}", r.status());
    let (status, second_event) = api(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/orgs/{slug}/events"),
        Some(json!({"name": "Second night", "starts_at": "2030-07-01T18:30:00+02:00",
            "ends_at": "2030-07-01T20:00:00+02:00", "timezone": "Europe/Paris", "status": "draft",
            "visibility": "private"})),
    )
    .await;
    assert_eq!(status, 201);
    let second_id = second_event["id"].as_str().unwrap().to_owned();
    let (status, _) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/events/{second_id}"),
        Some(json!({"location": "Hall"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/events/{second_id}"),
        Some(json!({"status": "published"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, third) = api(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/orgs/{slug}/events"),
        Some(json!({"name": "Scrapped", "starts_at": "2030-08-01T18:30:00+02:00",
            "ends_at": "2030-08-01T20:00:00+02:00", "timezone": "Europe/Paris", "status": "draft",
            "visibility": "private"})),
    )
    .await;
    let third = third["id"].as_str().unwrap().to_owned();
    assert_eq!(api(&app, &token, Method::DELETE, &format!("/api/v1/events/{third}"), None).await.0, 204);
    let (_, page) = api(&app, &token, Method::GET, &format!("/api/v1/orgs/{slug}/audit"), None).await;
    let seen = actions(&page);
    for kind in [
        "member.joined",
        "member.left",
        "org.description_changed",
        "participant.removed",
        "event.duplicated",
        "event.edited",
        "event.published",
        "event.deleted",
    ] {
        assert!(seen.iter().any(|a| a == kind), "{kind} in {seen:?}");
    }
    assert!(!page.to_string().contains("://"), "no URL in {page}");
    let before_fillers = seen.len();

    // Paging: 50 a page, newest first, an "Older" link; the API's cursor reaches the rest.
    for n in 0..60 {
        app.db
            .db
            .record_audit(alpha.id, Some(alice_id), "event.edited", &format!("Filler {n}"), None)
            .await
            .unwrap();
    }
    let (_, body) = alice.page(&format!("/orgs/{slug}/audit")).await;
    assert!(body.contains("Filler 59") && !body.contains("Filler 9<"), "newest first");
    let older = body.split("href=\"").find(|s| s.contains("/audit?before=")).unwrap();
    let older = older.split('"').next().unwrap().replace("&amp;", "&");
    let (status, body) = alice.page(&older).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Filler 9<")
            && body.contains("renamed the organization")
            && !body.contains("Filler 59")
    );
    assert!(!body.contains("/audit?before="), "the last page");
    let (_, first) =
        api(&app, &token, Method::GET, &format!("/api/v1/orgs/{slug}/audit?limit=50"), None).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 50);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) =
        api(&app, &token, Method::GET, &format!("/api/v1/orgs/{slug}/audit?limit=50&cursor={cursor}"), None)
            .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 60 + before_fillers - 50);
    assert!(second["next_cursor"].is_null());
    assert_eq!(
        api(&app, &token, Method::GET, &format!("/api/v1/orgs/{slug}/audit?cursor=nope"), None).await.0,
        422
    );

    // No entry, of any kind, holds an address of a channel or a secret.
    let (_, all) =
        api(&app, &token, Method::GET, &format!("/api/v1/orgs/{slug}/audit?limit=200"), None).await;
    assert!(!all.to_string().contains("://"), "{all}");

    // Documented.
    let (_, doc) = api(&app, &token, Method::GET, "/api/v1/openapi.json", None).await;
    assert!(doc["paths"]["/api/v1/orgs/{slug}/audit"]["get"].is_object());
}

/// Runs `sql` with the given binds on either backend.
macro_rules! run {
    ($db:expr, $sql:expr $(, $b:expr)* $(,)?) => {
        match $db {
            Db::Sqlite(p) => sqlx::query($sql)$(.bind($b))*.execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query($sql)$(.bind($b))*.execute(p).await.map(|_| ()),
        }
        .unwrap()
    };
}

/// Runs `sql` with one time bound as `$1` on either backend.
async fn exec_at(db: &Db, sql: &str, at: chrono::DateTime<Utc>) {
    match db {
        Db::Sqlite(p) => sqlx::query(sql).bind(at).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).bind(at).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await,
    }
    .unwrap()
}

async fn retention_prunes_only_old_rows(backend: Backend) {
    let test = TestDb::new(backend).await;
    let db = &test.db;
    let now = Utc::now();
    let user = db
        .create_user(&herald::db::users::NewUser {
            email: "ret@example.org",
            display_name: "Ret",
            password_hash: None,
            timezone: "UTC",
            verified: true,
        })
        .await
        .unwrap();
    let org = db.create_organization("ret", "Ret", user.id).await.unwrap();
    // Sessions: one expired, one live.
    db.create_session("old-session", user.id, now - Duration::days(1)).await.unwrap();
    db.create_session("live-session", user.id, now + Duration::days(1)).await.unwrap();
    // Tokens: revoked long ago, revoked yesterday, live.
    db.create_api_token(user.id, "old", "hash-old").await.unwrap();
    db.create_api_token(user.id, "recent", "hash-recent").await.unwrap();
    db.create_api_token(user.id, "live", "hash-live").await.unwrap();
    exec_at(
        db,
        "UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = 'hash-old'",
        now - Duration::days(40),
    )
    .await;
    exec_at(
        db,
        "UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = 'hash-recent'",
        now - Duration::days(1),
    )
    .await;
    // Events: one that ended two years ago, one next year; a ledger row each.
    let event = |name: &'static str, at: chrono::DateTime<Utc>| NewEvent {
        org_id: org.id,
        slug: name,
        name,
        description: "",
        location: None,
        online_url: None,
        starts_at: at,
        ends_at: at + Duration::hours(2),
        timezone: "UTC",
        visibility: Visibility::Private,
        reminder_offsets: vec![],
        status: EventStatus::Published,
        created_by: Some(user.id),
    };
    let old = db.create_event(&event("old", now - Duration::days(730))).await.unwrap();
    let fresh = db.create_event(&event("fresh", now + Duration::days(365))).await.unwrap();
    for (e, key) in [(&old, "k-old"), (&fresh, "k-fresh")] {
        match db {
            Db::Sqlite(p) => sqlx::query(
                "INSERT INTO notifications (id, event_id, kind, idempotency_key, status, due_at, created_at, updated_at)
                 VALUES ($1, $2, 'reminder', $3, 'sent', $4, $4, $4)",
            )
            .bind(uuid::Uuid::new_v4())
            .bind(e.id)
            .bind(key)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()),
            Db::Postgres(p) => sqlx::query(
                "INSERT INTO notifications (id, event_id, kind, idempotency_key, status, due_at, created_at, updated_at)
                 VALUES ($1, $2, 'reminder', $3, 'sent', $4, $4, $4)",
            )
            .bind(uuid::Uuid::new_v4())
            .bind(e.id)
            .bind(key)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()),
        }
        .unwrap();
    }
    // Idempotency keys: three days old and an hour old.
    for (key, age) in [("old-key", Duration::days(3)), ("new-key", Duration::hours(1))] {
        run!(
            db,
            "INSERT INTO idempotency_keys (user_id, key, request_hash, event_id, created_at) VALUES ($1, $2, 'h', $3, $4)",
            user.id,
            key,
            fresh.id,
            now - age
        );
    }
    // Mailed links: a verification link and a guest answer that expired, and live ones.
    for (hash, expires) in [("t-old", now - Duration::days(1)), ("t-new", now + Duration::days(1))] {
        run!(
            db,
            "INSERT INTO auth_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, 'verify_email', $3, $4)",
            hash,
            user.id,
            now - Duration::days(2),
            expires
        );
        run!(
            db,
            "INSERT INTO guest_answers (id, event_id, email, name, rsvp, token_hash, created_at, expires_at)
             VALUES ($1, $2, 'g@example.org', 'G', 'going', $3, $4, $5)",
            uuid::Uuid::new_v4(),
            fresh.id,
            format!("g-{hash}"),
            now - Duration::days(2),
            expires
        );
    }
    // Audit entries: one from two years ago, one today.
    db.record_audit(org.id, Some(user.id), "event.created", "old", None).await.unwrap();
    exec_at(db, "UPDATE audit_log SET created_at = $1", now - Duration::days(730)).await;
    db.record_audit(org.id, Some(user.id), "event.created", "fresh", None).await.unwrap();

    let pruned = herald::audit::prune(db, Retention::default(), now).await.unwrap();
    assert_eq!((pruned.sessions, pruned.api_tokens, pruned.ledger, pruned.audit), (1, 1, 1, 1), "{pruned:?}");
    assert_eq!((pruned.idempotency_keys, pruned.links), (1, 2), "{pruned:?}");
    assert_eq!(count(db, "idempotency_keys").await, 1);
    assert_eq!(count(db, "auth_tokens").await, 1);
    assert_eq!(count(db, "guest_answers").await, 1);
    assert_eq!(count(db, "sessions").await, 1);
    assert_eq!(count(db, "api_tokens").await, 2);
    assert_eq!(count(db, "notifications").await, 1, "the ledger of the coming event stays");
    assert_eq!(count(db, "audit_log").await, 1);
    // 0 days keeps the ledger and the activity forever.
    let again =
        herald::audit::prune(db, Retention { ledger_days: 0, audit_days: 0 }, now + Duration::days(9999))
            .await
            .unwrap();
    assert_eq!((again.ledger, again.audit), (0, 0));
}

/// The kinds of change the test above does not make: revoking an invitation, adding a member
/// to an event, changing a participant's role, a participant leaving, importing a CSV file.
/// Each leaves one entry naming the event (or the address) and who did it, in this
/// organization only.
async fn the_remaining_kinds_of_change_are_recorded(backend: Backend) {
    use crate::participants::{finished_import, location, new_event, upload};

    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (_, other) = owner_of(&app, "bella@example.org", "Bella", "Bravo").await;
    let slug = org.slug.clone();
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;

    // An invitation, revoked.
    let r = ada
        .post(&format!("/orgs/{slug}/invitations"), &[("email", "zoe@example.org"), ("role", "member")])
        .await;
    assert_eq!(r.status(), 303);
    let invitation = app.db.db.open_invitations(org.id).await.unwrap()[0].invitation.id;
    let r = ada.post(&format!("/orgs/{slug}/invitations/{invitation}/revoke"), &[]).await;
    assert!(r.status().is_redirection(), "revoke: {}", r.status());

    // Bob, a member, added to an event, made a speaker; then he leaves it himself.
    let (bob, bob_id) = member_of(&app, &org, "bob@example.org", "Bob", Role::Member).await;
    let (ev, public) = new_event(&app, &ada, &org, "Rust night", "public").await;
    let r = ada
        .post(
            &format!("/orgs/{slug}/events/{ev}/participants"),
            &[("email", "bob@example.org"), ("role", "attendee")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let participant = app
        .db
        .db
        .participant_rows(ev)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.user_id == Some(bob_id))
        .expect("Bob takes part")
        .id;
    let r = ada
        .post(&format!("/orgs/{slug}/events/{ev}/participants/{participant}/role"), &[("role", "speaker")])
        .await;
    assert!(r.status().is_redirection(), "role: {}", r.status());
    assert_eq!(bob.post(&format!("{public}/leave"), &[]).await.status(), 303);

    // A CSV import of two people.
    let import = format!("/orgs/{slug}/events/{ev}/participants/import");
    let r = upload(&ada, &import, b"email,role\r\ncy@example.org,attendee\r\ndee@example.org,volunteer\r\n")
        .await;
    assert_eq!(r.status(), 303);
    finished_import(&ada, &location(&r)).await;

    let entries = app.db.db.audit_page(org.id, None, 100).await.unwrap();
    let one = |action: &str| {
        let found: Vec<_> = entries.iter().filter(|e| e.action == action).collect();
        assert_eq!(found.len(), 1, "one {action} entry in {entries:?}");
        found[0].clone()
    };
    let e = one("member.invitation_revoked");
    assert_eq!((e.subject.as_str(), e.actor_user_id), ("zoe@example.org", Some(ada_id)), "{e:?}");
    let e = one("participant.added");
    assert_eq!(e.subject, "Rust night");
    assert!(e.detail.as_deref().is_some_and(|d| d.contains("bob@example.org")), "{e:?}");
    let e = one("participant.role_changed");
    assert!(e.detail.as_deref().is_some_and(|d| d.contains("speaker")), "{e:?}");
    let e = one("participant.left");
    assert_eq!((e.subject.as_str(), e.actor_user_id), ("Rust night", Some(bob_id)), "{e:?}");
    let e = one("participants.imported");
    assert!(e.detail.as_deref().is_some_and(|d| d.contains('2')), "two people imported: {e:?}");

    // The page says each in words; Bravo's activity has none of it.
    let (status, html) = ada.page(&format!("/orgs/{slug}/audit")).await;
    assert_eq!(status, 200);
    for words in [
        "revoked the invitation of",
        "added a participant to",
        "changed a participant's role in",
        "left the event",
        "imported participants into",
    ] {
        assert!(html.contains(words), "{words} on the page");
    }
    assert!(app.db.db.audit_page(other.id, None, 100).await.unwrap().is_empty(), "nothing in Bravo");
    app.stop().await;
}
