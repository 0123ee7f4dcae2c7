//! The built-in email channel: with system mail set up, a verified account is reached at its own
//! address without adding anything — on the channel list, in the RSVP choice, through the same
//! workflow, ledger and exactly-once delivery as any channel. Its user can switch it off, not
//! edit or delete it, and the operator's mail URL never shows.

use std::time::Duration;

use herald::db::models::{ParticipantRole, Rsvp};
use herald::db::participants::Invitee;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::delivery::{create_org, event};
use crate::orgs::{api, api_user};
use crate::support::{Backend, MAIL_URL, TestApp, eventually};

both_backends!(a_verified_account_is_reached_by_email_without_adding_a_channel);

/// The caller's built-in email channel, as the API lists it.
async fn email_channel(app: &TestApp, token: &str) -> Option<Value> {
    let (status, list) = api(app, token, Method::GET, "/api/v1/integrations", None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().iter().find(|i| i["kind"] == "email").cloned()
}

async fn a_verified_account_is_reached_by_email_without_adding_a_channel(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, olga) = api_user(&app, "olga@example.org", "Olga", true).await;
    create_org(&app, &olga).await;

    // Ada signs up and confirms her address: her email channel is there, active, at once.
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "t", &herald::secrets::hash_token(&token)).await.unwrap();
    let channel = email_channel(&app, &token).await.expect("a built-in email channel");
    assert_eq!(channel["name"], "Email — ada@example.org");
    assert_eq!((channel["status"].as_str(), channel["confirmed"].as_bool()), (Some("active"), Some(true)));
    assert_eq!(channel["urls"], json!([{"url": "mailto:ada@example.org", "tags": []}]));
    let text = channel.to_string();
    assert!(!text.contains("mail-secret-pw") && !text.contains("mail.example.org"), "{text}");
    let id = channel["id"].as_str().unwrap().to_owned();

    // It can be switched off and on, not renamed, re-pointed or deleted.
    let path = format!("/api/v1/integrations/{id}");
    for body in [json!({"name": "Mine"}), json!({"urls": [{"url": "ntfys://ntfy.sh/x", "tags": []}]})] {
        let (status, problem) = api(&app, &token, Method::PATCH, &path, Some(body)).await;
        assert_eq!(status, 403, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("built-in email channel"), "{problem}");
    }
    assert_eq!(api(&app, &token, Method::DELETE, &path, None).await.0, 403);
    let (status, off) = api(&app, &token, Method::PATCH, &path, Some(json!({"enabled": false}))).await;
    assert_eq!((status, off["status"].as_str()), (200, Some("disabled")));
    let (status, _) = api(&app, &token, Method::PATCH, &path, Some(json!({"enabled": true}))).await;
    assert_eq!(status, 200);
    let (_, page) = ada.page("/integrations").await;
    assert!(page.contains("Email — ada@example.org") && !page.contains(&format!("/integrations/{id}/edit")));

    // A test goes to her inbox.
    let (status, _) = api(&app, &token, Method::POST, &format!("{path}/test"), None).await;
    assert_eq!(status, 200);
    assert!(app.apprise.mail_to("ada@example.org").iter().any(|m| m.title == "Herald test message"));

    // Going to an event, with no channel of her own, she gets the reminder by email, once.
    let (ev, _) = event(&app, &olga, 8, 4, &[5]).await;
    app.db
        .db
        .add_participant(ev, Invitee::User(ada_id), ParticipantRole::Attendee, Rsvp::Going)
        .await
        .unwrap();
    let reminders = || {
        app.apprise
            .mail_to("ada@example.org")
            .into_iter()
            .filter(|m| m.title.starts_with("Reminder: "))
            .collect::<Vec<_>>()
    };
    eventually(Duration::from_secs(40), "the reminder by email", || async {
        (!reminders().is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = reminders();
    assert_eq!(got.len(), 1, "exactly once: {got:?}");
    assert!(got[0].url.starts_with("mailtos://herald:") && got[0].body.contains("Rust night"), "{got:?}");
    // The mail carries her own one-click unsubscribe link (RFC 8058), the one in its footer.
    let url = url::Url::parse(&got[0].url).unwrap();
    let header = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let unsubscribe = header("+List-Unsubscribe").expect("a List-Unsubscribe header");
    let link = unsubscribe.trim_start_matches('<').trim_end_matches('>');
    assert!(link.starts_with(&app.url("/optout/")) && got[0].body.contains(link), "{unsubscribe}");
    assert_eq!(header("+List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert_eq!(got[0].key, None, "sent with the headers of this very message");
    let (_, ledger) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/notifications"), None).await;
    let rows: Vec<&Value> = ledger["items"].as_array().unwrap().iter().collect();
    assert!(
        rows.iter()
            .any(|r| r["status"] == "sent" && r["channel"].as_str().is_some_and(|c| c.contains("Email"))),
        "{ledger}"
    );

    // Someone verified by the operator's command gets theirs when Herald catches up.
    let (bea, bea_token) = api_user(&app, "bea@example.org", "Bea", true).await;
    assert!(email_channel(&app, &bea_token).await.is_none());
    let keys = herald::secrets::SecretKey::load(None, app.db.data_dir.path()).unwrap();
    let apprise_url = url::Url::parse(&app.apprise.base).unwrap();
    let mailer = herald::mail::Mailer::new(Some(apprise_url.clone()), Some(MAIL_URL.to_owned()));
    let client = herald_workflows::apprise::AppriseClient::new(apprise_url, Duration::from_secs(5)).unwrap();
    let made =
        herald::integrations::email::sync_all(&app.db.db, &keys, Some(&client), &mailer).await.unwrap();
    assert!(made >= 1, "{made}");
    assert!(email_channel(&app, &bea_token).await.is_some(), "Bea ({}) has hers now", bea.id);
    app.stop().await;
}
