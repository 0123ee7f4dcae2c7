//! The repository behaves the same on SQLite and Postgres: same operations accepted, same
//! constraint violations rejected as the same errors.

use chrono::{Duration, Utc};
use herald::db::DbError;
use herald::db::events::NewEvent;
use herald::db::models::*;
use herald::db::notifications::{DeliveryOutcome, PlannedNotice};
use herald::db::participants::Invitee;
use herald::db::users::NewUser;
use herald_workflows::PlanStore;
use uuid::Uuid;

use crate::support::{Backend, TestDb};

both_backends!(
    users_and_tokens,
    organizations_and_invitations,
    events_updates_and_plans,
    participants_and_channels,
    integrations_are_scoped,
    ledger_is_idempotent,
    only_one_attempt_sends_a_message,
);

fn user<'a>(email: &'a str) -> NewUser<'a> {
    NewUser {
        email,
        display_name: "Ada",
        password_hash: Some("$argon2id$fake"),
        timezone: "Europe/Paris",
        verified: false,
    }
}

fn event<'a>(org_id: Uuid, slug: &'a str, status: EventStatus) -> NewEvent<'a> {
    let starts_at = Utc::now() + Duration::days(7);
    NewEvent {
        org_id,
        slug,
        name: "Rust meetup",
        description: "Talks and pizza",
        location: Some("Town hall"),
        online_url: None,
        starts_at,
        ends_at: starts_at + Duration::hours(2),
        timezone: "Europe/Paris",
        visibility: Visibility::Public,
        reminder_offsets: vec![86_400, 3_600],
        status,
        created_by: None,
    }
}

async fn users_and_tokens(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let ada = db.create_user(&user("ada@example.org")).await.unwrap();
    assert_eq!(ada.email, "ada@example.org");
    assert_eq!(ada.timezone.name(), "Europe/Paris");
    assert!(ada.verified_at.is_none());

    assert!(
        matches!(db.create_user(&user("ada@example.org")).await, Err(DbError::Conflict(_))),
        "duplicate email"
    );
    assert!(
        matches!(db.create_user(&user("Ada@Example.org")).await, Err(DbError::Invalid(_))),
        "emails are stored lower-case"
    );
    let mut nameless = user("x@example.org");
    nameless.display_name = "";
    assert!(matches!(db.create_user(&nameless).await, Err(DbError::Invalid(_))), "empty display name");

    assert_eq!(db.user_by_email("ada@example.org").await.unwrap().map(|u| u.id), Some(ada.id));
    assert_eq!(db.user_by_email("nobody@example.org").await.unwrap(), None);
    db.mark_user_verified(ada.id).await.unwrap();
    assert!(db.user_by_id(ada.id).await.unwrap().unwrap().verified_at.is_some());
    assert!(matches!(db.mark_user_verified(Uuid::new_v4()).await, Err(DbError::NotFound)));

    // Sessions expire.
    db.create_session("live", ada.id, Utc::now() + Duration::hours(1)).await.unwrap();
    db.create_session("stale", ada.id, Utc::now() - Duration::seconds(1)).await.unwrap();
    assert!(db.session("live").await.unwrap().is_some());
    assert!(db.session("stale").await.unwrap().is_none());
    assert!(matches!(
        db.create_session("orphan", Uuid::new_v4(), Utc::now()).await,
        Err(DbError::ForeignKey(_))
    ));
    db.delete_session("live").await.unwrap();
    assert!(db.session("live").await.unwrap().is_none());

    // Tokens: usable until revoked, and only their owner can revoke them.
    let bob = db.create_user(&user("bob@example.org")).await.unwrap();
    let token = db.create_api_token(ada.id, "ci", "hash-1").await.unwrap();
    assert!(matches!(db.create_api_token(bob.id, "dup", "hash-1").await, Err(DbError::Conflict(_))));
    let found = db.live_api_token("hash-1").await.unwrap().expect("token works");
    assert!(found.last_used_at.is_none(), "finding it writes nothing");
    let now = chrono::Utc::now();
    db.note_api_token_use(found.id, now, now - Duration::minutes(1)).await.unwrap();
    let used = db.live_api_token("hash-1").await.unwrap().unwrap();
    assert!(used.last_used_at.is_some());
    db.note_api_token_use(found.id, now + Duration::seconds(5), now - Duration::minutes(1)).await.unwrap();
    assert_eq!(
        db.live_api_token("hash-1").await.unwrap().unwrap().last_used_at,
        used.last_used_at,
        "once a minute"
    );
    assert!(matches!(db.revoke_api_token(bob.id, token.id).await, Err(DbError::NotFound)), "not bob's token");
    db.revoke_api_token(ada.id, token.id).await.unwrap();
    assert!(db.live_api_token("hash-1").await.unwrap().is_none(), "revoked token stops working");
}

async fn organizations_and_invitations(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let ada = db.create_user(&user("ada@example.org")).await.unwrap();
    let bob = db.create_user(&user("bob@example.org")).await.unwrap();

    let org = db.create_organization("rustaceans", "Rustaceans", ada.id).await.unwrap();
    assert_eq!(db.membership(org.id, ada.id).await.unwrap().map(|m| m.role), Some(Role::Owner));
    assert!(matches!(db.create_organization("rustaceans", "Other", bob.id).await, Err(DbError::Conflict(_))));
    // The failed create left nothing behind: bob owns nothing.
    assert!(db.organizations_of(bob.id).await.unwrap().is_empty());

    db.add_membership(org.id, bob.id, Role::Organizer).await.unwrap();
    assert!(matches!(db.add_membership(org.id, bob.id, Role::Member).await, Err(DbError::Conflict(_))));
    assert!(matches!(
        db.add_membership(org.id, Uuid::new_v4(), Role::Member).await,
        Err(DbError::ForeignKey(_))
    ));
    let of_bob = db.organizations_of(bob.id).await.unwrap();
    assert_eq!(of_bob.len(), 1);
    assert_eq!((of_bob[0].0.slug.as_str(), of_bob[0].1), ("rustaceans", Role::Organizer));

    let expires = Utc::now() + Duration::days(7);
    db.create_invitation(org.id, "carol@example.org", Role::Member, "inv-1", Some(ada.id), expires)
        .await
        .unwrap();
    assert!(
        matches!(
            db.create_invitation(org.id, "carol@example.org", Role::Admin, "inv-2", Some(ada.id), expires)
                .await,
            Err(DbError::Conflict(_))
        ),
        "one open invitation per address"
    );
    let accepted = db.accept_invitation("inv-1").await.unwrap().expect("open invitation accepted");
    assert_eq!(accepted.role, Role::Member);
    assert!(db.accept_invitation("inv-1").await.unwrap().is_none(), "single use");
    // Once accepted, the address can be invited again.
    db.create_invitation(
        org.id,
        "carol@example.org",
        Role::Admin,
        "inv-3",
        None,
        Utc::now() - Duration::seconds(1),
    )
    .await
    .unwrap();
    assert!(db.accept_invitation("inv-3").await.unwrap().is_none(), "expired");
}

async fn events_updates_and_plans(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let ada = db.create_user(&user("ada@example.org")).await.unwrap();
    let org = db.create_organization("rustaceans", "Rustaceans", ada.id).await.unwrap();
    let other = db.create_organization("gophers", "Gophers", ada.id).await.unwrap();

    let ev = db.create_event(&event(org.id, "meetup", EventStatus::Published)).await.unwrap();
    assert_eq!(ev.revision, 0);
    assert_eq!(ev.reminder_offsets.0, vec![86_400, 3_600]);
    assert_eq!(ev.workflow_id.as_deref(), Some(format!("event-{}", ev.id).as_str()));
    assert!(matches!(
        db.create_event(&event(org.id, "meetup", EventStatus::Draft)).await,
        Err(DbError::Conflict(_))
    ));
    db.create_event(&event(other.id, "meetup", EventStatus::Draft))
        .await
        .expect("slugs are per organization");

    let mut backwards = event(org.id, "backwards", EventStatus::Draft);
    backwards.ends_at = backwards.starts_at - Duration::minutes(1);
    assert!(matches!(db.create_event(&backwards).await, Err(DbError::Invalid(_))), "end before start");
    assert!(matches!(
        db.create_event(&event(Uuid::new_v4(), "x", EventStatus::Draft)).await,
        Err(DbError::ForeignKey(_))
    ));

    // A published event gets its `published` update, waiting to be signalled; drafts do not.
    let pending = db.unsignalled_updates(100).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].event_id, pending[0].revision, pending[0].kind),
        (ev.id, 0, UpdateKind::Published)
    );
    assert_eq!(
        db.events_missing_workflow(100).await.unwrap().iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ev.id]
    );
    db.mark_workflow_started(ev.id, None).await.unwrap();
    assert!(db.events_missing_workflow(100).await.unwrap().is_empty());

    let update = db
        .change_event_status(
            ev.id,
            EventStatus::Cancelled,
            UpdateKind::Cancelled,
            serde_json::json!({"reason": "rain"}),
            Some(ada.id),
        )
        .await
        .unwrap();
    assert_eq!(update.revision, 1);
    assert_eq!(update.payload.0["reason"], "rain");
    assert!(matches!(
        db.change_event_status(
            Uuid::new_v4(),
            EventStatus::Cancelled,
            UpdateKind::Cancelled,
            serde_json::json!({}),
            None
        )
        .await,
        Err(DbError::NotFound)
    ));
    db.mark_told(ev.id, 1).await.unwrap();
    assert!(
        db.unsignalled_updates(100).await.unwrap().is_empty(),
        "marking revision 1 covers revision 0 too"
    );

    let plans = herald::delivery::Deliverer::new(
        db.clone(),
        herald::secrets::SecretKey::generate(),
        None,
        url::Url::parse("http://herald.example.org/").unwrap(),
        herald::integrations::Targets::default(),
    );
    let plan = plans.load_plan(ev.id).await.unwrap().expect("plan");
    assert_eq!(plan.revision, 1);
    assert_eq!(plan.status, herald_workflows::EventStatus::Cancelled);
    assert_eq!(plan.reminder_offsets, vec![86_400, 3_600]);
    // Times survive the round trip to the microsecond on both backends.
    assert_eq!(plan.starts_at.timestamp_micros(), ev.starts_at.timestamp_micros());
    assert!(plans.load_plan(Uuid::new_v4()).await.unwrap().is_none());
}

async fn participants_and_channels(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let ada = db.create_user(&user("ada@example.org")).await.unwrap();
    let org = db.create_organization("rustaceans", "Rustaceans", ada.id).await.unwrap();
    let ev = db.create_event(&event(org.id, "meetup", EventStatus::Published)).await.unwrap();

    let p = db
        .add_participant(ev.id, Invitee::User(ada.id), ParticipantRole::Speaker, Rsvp::Going)
        .await
        .unwrap();
    assert!(matches!(
        db.add_participant(ev.id, Invitee::User(ada.id), ParticipantRole::Attendee, Rsvp::Maybe).await,
        Err(DbError::Conflict(_))
    ));
    db.add_participant(ev.id, Invitee::Email("new@example.org"), ParticipantRole::Attendee, Rsvp::Pending)
        .await
        .unwrap();
    assert!(matches!(
        db.add_participant(
            ev.id,
            Invitee::Email("new@example.org"),
            ParticipantRole::Attendee,
            Rsvp::Pending
        )
        .await,
        Err(DbError::Conflict(_))
    ));
    assert!(matches!(
        db.add_participant(
            ev.id,
            Invitee::Email("Mixed@Example.org"),
            ParticipantRole::Attendee,
            Rsvp::Pending
        )
        .await,
        Err(DbError::Invalid(_))
    ));
    let all = db.participants(ev.id).await.unwrap();
    assert_eq!(all.len(), 2);
    db.set_rsvp(p.id, Rsvp::Declined, false).await.unwrap();
    assert_eq!(db.participants(ev.id).await.unwrap()[0].rsvp, Rsvp::Declined);

    let phone =
        db.create_integration(ada.id, "Phone", &"k".repeat(32), b"cipher", &["phone".into()]).await.unwrap();
    let chans = db
        .set_participant_channels(p.id, &[(phone.id, vec!["phone".into(), "urgent".into()])])
        .await
        .unwrap();
    assert_eq!(chans[0].tags.0, vec!["phone", "urgent"]);
    assert!(matches!(
        db.set_participant_channels(p.id, &[(Uuid::new_v4(), vec![])]).await,
        Err(DbError::ForeignKey(_))
    ));
    // The failed replacement rolled back: the earlier channel is still there.
    let again = db.set_participant_channels(p.id, &[(phone.id, vec![])]).await.unwrap();
    assert_eq!(again.len(), 1);
}

async fn integrations_are_scoped(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let ada = db.create_user(&user("ada@example.org")).await.unwrap();
    let bob = db.create_user(&user("bob@example.org")).await.unwrap();
    let key = "a".repeat(32);
    let i = db.create_integration(ada.id, "Email", &key, &[1, 2, 3], &["email".into()]).await.unwrap();
    assert!(i.enabled && i.verified_at.is_none());
    assert_eq!(i.config_ciphertext, vec![1, 2, 3]);
    assert!(
        matches!(db.create_integration(bob.id, "Email", &key, b"x", &[]).await, Err(DbError::Conflict(_))),
        "config keys are unique"
    );
    assert!(
        matches!(
            db.create_integration(ada.id, "Email", &"b".repeat(32), b"x", &[]).await,
            Err(DbError::Conflict(_))
        ),
        "names are unique per user"
    );
    assert!(
        matches!(db.create_integration(ada.id, "Short", "short", b"x", &[]).await, Err(DbError::Invalid(_))),
        "keys carry ≥128 bits"
    );
    assert_eq!(db.integration_of(ada.id, i.id).await.unwrap().map(|x| x.id), Some(i.id));
    assert_eq!(db.integration_of(bob.id, i.id).await.unwrap(), None, "bob cannot see ada's integration");
    assert!(db.integrations_of(bob.id).await.unwrap().is_empty());
}

/// Ada, going to a published event of her organization: the event and her participation.
async fn ada_going(db: &herald::db::Db) -> (User, Event, Participant) {
    let ada = db.create_user(&user("ada@example.org")).await.unwrap();
    let org = db.create_organization("rustaceans", "Rustaceans", ada.id).await.unwrap();
    let ev = db.create_event(&event(org.id, "meetup", EventStatus::Published)).await.unwrap();
    let p = db
        .add_participant(ev.id, Invitee::User(ada.id), ParticipantRole::Attendee, Rsvp::Going)
        .await
        .unwrap();
    (ada, ev, p)
}

async fn ledger_is_idempotent(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let (ada, ev, p) = ada_going(db).await;
    let i = db.create_integration(ada.id, "Email", &"c".repeat(40), b"x", &[]).await.unwrap();
    let notice = PlannedNotice {
        event_id: ev.id,
        participant_id: p.id,
        integration_id: Some(i.id),
        kind: NoticeKind::Reminder,
        idempotency_key: "reminder:3600:rev0:p:i",
        due_at: ev.starts_at - Duration::hours(1),
    };
    let first = db.plan_notification(&notice).await.unwrap();
    let sent = db.record_delivery(first.id, DeliveryStatus::Sent, Some(200), Some("ok")).await.unwrap();
    assert_eq!((sent.status, sent.attempts), (DeliveryStatus::Sent, 1));
    assert!(sent.sent_at.is_some());
    // A retried activity plans the same notice again: it gets the existing row, already sent.
    let retried = db.plan_notification(&notice).await.unwrap();
    assert_eq!((retried.id, retried.status), (first.id, DeliveryStatus::Sent));
    assert_eq!(db.notifications_for_event(ev.id).await.unwrap().len(), 1);
    assert!(matches!(
        db.record_delivery(Uuid::new_v4(), DeliveryStatus::Failed, None, None).await,
        Err(DbError::NotFound)
    ));
}

/// Two attempts of one batch (a retry overlapping a slow attempt, or one after a worker died):
/// a row is claimed by one of them only, until its outcome is written; a retryable outcome
/// frees it for the next attempt, a final one for nobody. Ids that name no ledger row (a
/// digest's, which has its own claim) are granted.
async fn only_one_attempt_sends_a_message(backend: Backend) {
    let t = TestDb::new(backend).await;
    let db = &t.db;
    let (_, ev, p) = ada_going(db).await;
    let keys = ["k1", "k2"];
    let notices: Vec<PlannedNotice<'_>> = keys
        .iter()
        .map(|k| PlannedNotice {
            event_id: ev.id,
            participant_id: p.id,
            integration_id: None,
            kind: NoticeKind::Message,
            idempotency_key: k,
            due_at: ev.starts_at - Duration::hours(1),
        })
        .collect();
    let rows = db.plan_notifications(&notices).await.unwrap();
    let (one, two) = (rows[0].id, rows[1].id);
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let digest = Uuid::new_v4();
    let claimed = db.claim_and_record(first, &[one, two, digest], &[]).await.unwrap();
    assert_eq!(claimed.granted.len(), 3, "{claimed:?}");
    assert!(claimed.granted.contains(&digest), "a digest's id is its own business");
    let row = db.notifications_for_event(ev.id).await.unwrap();
    assert!(row.iter().all(|r| r.sending_token == Some(first) && r.sending_at.is_some()));
    // The second attempt gets neither while the first holds them; claiming again is harmless.
    assert!(db.claim_and_record(second, &[one, two], &[]).await.unwrap().granted.is_empty());
    assert_eq!(db.claim_and_record(first, &[one], &[]).await.unwrap().granted, vec![one]);
    // The first records one as sent and the other as worth another try, in one write.
    let outcomes = [
        DeliveryOutcome {
            id: one,
            status: DeliveryStatus::Sent,
            apprise_status: Some(200),
            apprise_answer: None,
        },
        DeliveryOutcome {
            id: two,
            status: DeliveryStatus::Pending,
            apprise_status: None,
            apprise_answer: Some("connection refused"),
        },
    ];
    let done = db.claim_and_record(first, &[], &outcomes).await.unwrap();
    assert!(done.missing.is_empty());
    let claimed = db.claim_and_record(second, &[one, two], &[]).await.unwrap();
    assert_eq!(claimed.granted, vec![two], "the sent one stays sent; the pending one is free again");
    let rows = db.notifications_for_event(ev.id).await.unwrap();
    let sent = rows.iter().find(|r| r.id == one).unwrap();
    assert_eq!((sent.status, sent.sending_token), (DeliveryStatus::Sent, None));
    let retried = rows.iter().find(|r| r.id == two).unwrap();
    assert_eq!(
        (retried.status, retried.sending_token, retried.attempts),
        (DeliveryStatus::Pending, Some(second), 1)
    );
    // An attempt that died holding it leaves it uncertain: final, never claimed again.
    db.record_delivery(two, DeliveryStatus::Uncertain, None, Some("stopped")).await.unwrap();
    assert!(db.claim_and_record(Uuid::new_v4(), &[two], &[]).await.unwrap().granted.is_empty());
    let missing = db
        .claim_and_record(
            first,
            &[],
            &[DeliveryOutcome {
                id: digest,
                status: DeliveryStatus::Sent,
                apprise_status: Some(200),
                apprise_answer: None,
            }],
        )
        .await
        .unwrap()
        .missing;
    assert_eq!(missing, vec![digest]);
}

/// On SQLite, the writers of one process take turns (the write queue of `db::BeginWrite`)
/// while the file's lock still makes writers in other processes wait: with another process (the
/// CLI, a second `herald serve`) holding the write lock for a while, forty saves made at once
/// all land, none fails with "database is locked", and the other process's write is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writers_take_turns_and_wait_for_other_processes() {
    use sqlx::Connection;
    let t = TestDb::new(Backend::Sqlite).await;
    let db = t.db.clone();
    let herald::config::DatabaseUrl::Sqlite(path) = &t.url else { panic!("a SQLite test database") };
    let ada = db.create_user(&user("ada@example.org")).await.unwrap();
    let org = db.create_organization("rustaceans", "Rustaceans", ada.id).await.unwrap();

    // "Another process": its own connection, outside this process's queue.
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    let mut other = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
    sqlx::query(
        "INSERT INTO audit_log (org_id, actor_user_id, action, subject, detail, created_at)
         VALUES ($1, NULL, 'org.renamed', 'from the command line', NULL, $2)",
    )
    .bind(org.id)
    .bind(Utc::now())
    .execute(&mut other)
    .await
    .unwrap();

    let mut saves = tokio::task::JoinSet::new();
    for i in 0..40 {
        let db = db.clone();
        let org_id = org.id;
        saves.spawn(async move {
            if i % 2 == 0 {
                let slug = format!("meetup-{i}");
                db.create_event(&event(org_id, &slug, EventStatus::Published)).await.map(|_| ())
            } else {
                db.record_audit(org_id, None, "event.edited", &format!("save {i}"), None).await
            }
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    while let Some(saved) = saves.join_next().await {
        saved.unwrap().unwrap_or_else(|e| panic!("a save failed while another process wrote: {e}"));
    }

    let events = db.org_events(org.id, None, None, None, true, 100).await.unwrap();
    assert_eq!(events.len(), 20, "every event saved at once is there");
    let log = db.audit_page(org.id, None, 100).await.unwrap();
    assert_eq!(
        log.iter().filter(|e| e.action == "event.edited").count(),
        20,
        "every activity entry is there"
    );
    assert!(log.iter().any(|e| e.subject == "from the command line"), "the other process's write is kept");
}
