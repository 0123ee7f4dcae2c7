//! The Apprise client against the fake Apprise API: every answer of APPRISE.md maps to the
//! right outcome, the tag rules pick the right URLs, and no error ever quotes a key or a URL.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_workflows::apprise::{
    AppriseClient, AppriseError, BodyFormat, ConfigKey, Notice, NoticeType, Outcome, Removal,
};
use serde_json::{Value, json};

use crate::support::fake_apprise::FakeApprise;

async fn fake_and_client() -> (FakeApprise, AppriseClient) {
    let fake = FakeApprise::start().await;
    let client = AppriseClient::new(url::Url::parse(&fake.base).unwrap(), Duration::from_secs(10)).unwrap();
    (fake, client)
}

/// A fresh random key, as Herald makes them.
fn new_key() -> ConfigKey {
    ConfigKey::parse(&format!("k-{}", uuid::Uuid::new_v4().simple())).unwrap()
}

fn notice<'a>(title: &'a str, tag: Option<&'a str>) -> Notice<'a> {
    Notice { title, body: "The body", kind: NoticeType::Info, format: BodyFormat::Text, tag }
}

/// The raw answer of the fake to a JSON POST, for what the typed client cannot send.
async fn raw_post(fake: &FakeApprise, path: &str, body: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", fake.base))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn configs_are_added_read_listed_redacted_and_deleted() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    let config = "email,Urgent=mailtos://herald:s3cret-pw@mail.example.org?to=ada@example.org\n\
                  tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321\n";

    assert_eq!(client.get_config(&key).await, Ok(None), "unknown key: 204 = None");
    assert_eq!(client.redacted_urls(&key).await, Ok(None), "unknown key: 204 = None");

    client.add_config(&key, config).await.expect("stored");
    assert_eq!(fake.stored_config(key.as_str()).as_deref(), Some(config));
    assert_eq!(client.get_config(&key).await, Ok(Some(config.to_owned())), "read back with its secrets");

    let urls = client.redacted_urls(&key).await.expect("listed").expect("present");
    assert_eq!(urls.len(), 2);
    let mail = urls.iter().find(|u| u.url.starts_with("mailtos://")).expect("the mail URL");
    assert_eq!(mail.tags, vec!["email".to_owned(), "urgent".to_owned()], "tags, lower-case");
    assert_eq!(mail.service_name, "Email");
    assert!(mail.enabled);
    let telegram = urls.iter().find(|u| u.url.starts_with("tgram://")).expect("the Telegram URL");
    assert!(telegram.tags.is_empty());
    for u in &urls {
        assert!(
            !u.url.contains("s3cret-pw") && !u.url.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
            "{u:?}"
        );
    }

    // Saving again under the same key replaces the config.
    client.add_config(&key, "json://127.0.0.1:9/hook").await.expect("replaced");
    assert_eq!(client.get_config(&key).await, Ok(Some("json://127.0.0.1:9/hook".to_owned())));

    assert_eq!(client.delete_config(&key).await, Ok(Removal::Deleted));
    assert_eq!(client.delete_config(&key).await, Ok(Removal::AlreadyGone), "204 when already gone");
    assert_eq!(client.get_config(&key).await, Ok(None));
    assert!(fake.stored_config(key.as_str()).is_none());
}

#[tokio::test]
async fn keys_are_case_sensitive_and_the_fake_refuses_bad_ones() {
    let (fake, client) = fake_and_client().await;
    let lower = ConfigKey::parse("abcdefghijklmnop").unwrap();
    let upper = ConfigKey::parse("ABCDEFGHIJKLMNOP").unwrap();
    client.add_config(&lower, "ntfy://ntfy.example.org/lower").await.unwrap();
    assert_eq!(client.get_config(&upper).await, Ok(None), "a key differing in case is another key");

    for bad in ["a".repeat(129), "with.dot".to_owned(), "with%20space".to_owned()] {
        let (status, body) =
            raw_post(&fake, &format!("/add/{bad}"), r#"{"config":"ntfy://x/y","format":"text"}"#).await;
        assert_eq!(status, 404, "{bad}");
        assert!(body.contains("<html"), "a 404 HTML page: {body}");
    }
    assert!(ConfigKey::parse(&"a".repeat(129)).is_err() && ConfigKey::parse("with.dot").is_err());
}

#[tokio::test]
async fn a_config_without_a_valid_url_is_rejected_with_the_reason() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    let err = client.add_config(&key, "not a url\nbogus://nope/").await.unwrap_err();
    assert!(matches!(&err, AppriseError::Rejected(m) if m.contains("No valid URL")), "{err:?}");
    assert!(fake.stored_config(key.as_str()).is_none());

    // `urls` instead of `config` drops the tags, as the real API does.
    let (status, _) =
        raw_post(&fake, &format!("/add/{}", key.as_str()), r#"{"urls": ["ntfy://ntfy.example.org/t"]}"#)
            .await;
    assert_eq!(status, 200);
    assert_eq!(fake.stored_config(key.as_str()).as_deref(), Some("ntfy://ntfy.example.org/t"));
    let (status, body) =
        raw_post(&fake, &format!("/add/{}", key.as_str()), r#"{"config": "ntfy://x/y"}"#).await;
    assert_eq!((status, body.contains("format")), (400, true), "a config needs its format: {body}");
    let (status, _) = raw_post(&fake, &format!("/add/{}", key.as_str()), "{}").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_locked_api_refuses_config_calls_but_still_sends() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client.add_config(&key, "ntfy://ntfy.example.org/locked").await.unwrap();
    fake.set_locked(true);
    assert_eq!(client.add_config(&key, "ntfy://ntfy.example.org/other").await, Err(AppriseError::Locked));
    assert_eq!(client.get_config(&key).await, Err(AppriseError::Locked));
    assert_eq!(client.delete_config(&key).await, Err(AppriseError::Locked));
    assert!(AppriseError::Locked.to_string().contains("locked"), "said in words");
    let urls = client.redacted_urls(&key).await.unwrap().unwrap();
    assert_eq!(urls.len(), 1, "listing (with privacy) still works");
    assert_eq!(client.notify(&key, &notice("Still sent", None)).await, Outcome::Delivered);
    assert_eq!(fake.stored_config(key.as_str()).as_deref(), Some("ntfy://ntfy.example.org/locked"));
    fake.set_locked(false);
    assert_eq!(client.delete_config(&key).await, Ok(Removal::Deleted));
}

#[tokio::test]
async fn a_notice_is_delivered_with_its_title_body_type_and_format() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client
        .add_config(&key, "ntfy://ntfy.example.org/herald\ndiscord://1234567890/abcdefghijklmnop")
        .await
        .unwrap();
    let n = Notice {
        title: "Meetup tonight",
        body: "**Starts** at 19:00",
        kind: NoticeType::Warning,
        format: BodyFormat::Markdown,
        tag: None,
    };
    assert_eq!(client.notify(&key, &n).await, Outcome::Delivered);
    let got = fake.delivered();
    assert_eq!(got.len(), 2, "both untagged URLs: {got:?}");
    for d in &got {
        assert_eq!((d.title.as_str(), d.body.as_str()), ("Meetup tonight", "**Starts** at 19:00"));
        assert_eq!((d.kind.as_str(), d.format.as_str()), ("warning", "markdown"));
        assert_eq!(d.key.as_deref(), Some(key.as_str()));
    }
    assert_eq!(fake.delivered_to("ntfy://").len(), 1);
}

#[tokio::test]
async fn some_targets_down_is_a_partial_delivery_and_the_others_got_it() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client
        .add_config(&key, "ntfy://ntfy.example.org/works\ndiscord://1234567890/abcdefghijklmnop")
        .await
        .unwrap();
    fake.set_down("discord://", true);
    let outcome = client.notify(&key, &notice("Partly", None)).await;
    let Outcome::Partial { reason } = &outcome else { panic!("partial, got {outcome:?}") };
    assert!(reason.contains("Discord"), "names what failed: {reason}");
    assert!(!outcome.nothing_delivered(), "so it must not be retried blindly");
    assert_eq!(fake.delivered_to("ntfy://ntfy.example.org/works").len(), 1, "the working target got it");
    assert!(fake.delivered_to("discord://").is_empty());
}

#[tokio::test]
async fn every_target_down_delivered_nothing_and_may_be_retried() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client.add_config(&key, "ntfy://ntfy.example.org/a\nntfy://ntfy.example.org/b").await.unwrap();
    fake.set_down("ntfy://", true);
    let outcome = client.notify(&key, &notice("Nobody", None)).await;
    assert!(matches!(&outcome, Outcome::Unavailable { reason } if reason.contains("ntfy")), "{outcome:?}");
    assert!(outcome.nothing_delivered());
    assert!(fake.delivered().is_empty());

    fake.set_down("ntfy://", false);
    assert_eq!(client.notify(&key, &notice("Retried", None)).await, Outcome::Delivered);
    assert_eq!(fake.delivered().len(), 2);
}

#[tokio::test]
async fn a_lost_key_is_reported_as_missing_and_a_re_push_heals_it() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    let config = "ntfy://ntfy.example.org/healed";
    client.add_config(&key, config).await.unwrap();
    fake.forget(key.as_str());
    assert_eq!(client.notify(&key, &notice("Lost", None)).await, Outcome::KeyMissing);
    assert!(fake.delivered().is_empty());
    client.add_config(&key, config).await.unwrap();
    assert_eq!(client.notify(&key, &notice("Healed", None)).await, Outcome::Delivered);
}

#[tokio::test]
async fn bad_requests_are_rejected_for_good() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client.add_config(&key, "ntfy://ntfy.example.org/x").await.unwrap();

    let empty = Notice { body: "", ..notice("No body", None) };
    let outcome = client.notify(&key, &empty).await;
    assert!(
        matches!(&outcome, Outcome::Rejected { reason } if reason.contains("Payload lacks minimum requirements")),
        "{outcome:?}"
    );

    for tag in ["a/b", "émail", "x;y", "tag!"] {
        let outcome = client.notify(&key, &notice("Bad tag", Some(tag))).await;
        assert!(
            matches!(&outcome, Outcome::Rejected { reason } if reason.contains("Unsupported characters")),
            "{tag}: {outcome:?}"
        );
    }
    assert!(fake.delivered().is_empty(), "nothing sent");

    // What the typed client cannot even send.
    let path = format!("/notify/{}", key.as_str());
    for (body, what) in [
        (r#"{"body": "x", "type": "loud"}"#, "Payload lacks minimum requirements"),
        (r#"{"title": "only a title"}"#, "Payload lacks minimum requirements"),
        (r#"{"body": "x", "format": "rtf"}"#, "format"),
        (r#"{"body": "x", "tag": 5}"#, "Unsupported characters found in tag definition"),
        ("{not json", "JSON"),
        ("{}", "Payload"),
    ] {
        let (status, answer) = raw_post(&fake, &path, body).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer.contains(what), "{body}: {answer}");
    }
    // A bad request to a missing key is still a 400 (validation comes first), a good one 204.
    let (status, _) = raw_post(&fake, "/notify/no-such-key", r#"{"body": "x", "type": "loud"}"#).await;
    assert_eq!(status, 400);
    let (status, answer) = raw_post(&fake, "/notify/no-such-key", r#"{"body": "x"}"#).await;
    assert_eq!((status, answer.as_str()), (204, ""));
}

#[tokio::test]
async fn a_tag_that_matches_nothing_is_rejected_with_words() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client.add_config(&key, "email=ntfy://ntfy.example.org/email").await.unwrap();
    let outcome = client.notify(&key, &notice("Nothing", Some("sms"))).await;
    assert!(matches!(&outcome, Outcome::Rejected { reason } if reason.contains("sms")), "{outcome:?}");
    let outcome = client.notify(&key, &notice("Untagged", None)).await;
    assert!(matches!(&outcome, Outcome::Rejected { reason } if reason.contains("untagged")), "{outcome:?}");
    assert!(fake.delivered().is_empty());
}

#[tokio::test]
async fn a_failing_api_is_unavailable() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client.add_config(&key, "ntfy://ntfy.example.org/x").await.unwrap();
    fake.set_failing(true);
    assert!(
        matches!(client.notify(&key, &notice("500", None)).await, Outcome::Unavailable { reason } if reason.contains("500"))
    );
    assert!(matches!(client.add_config(&key, "ntfy://x/y").await, Err(AppriseError::Unavailable(_))));
    assert!(matches!(client.get_config(&key).await, Err(AppriseError::Unavailable(_))));
    assert!(matches!(client.delete_config(&key).await, Err(AppriseError::Unavailable(_))));
    assert!(matches!(client.status().await, Err(AppriseError::Unavailable(_))));
    assert!(matches!(
        client.notify_stateless(&["ntfy://x/y".to_owned()], "t", "b").await,
        Outcome::Unavailable { .. }
    ));
    fake.set_failing(false);
    assert_eq!(client.status().await, Ok(()));
    assert_eq!(client.notify(&key, &notice("Back", None)).await, Outcome::Delivered);
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_until_the_api_returns() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client.add_config(&key, "ntfy://ntfy.example.org/x").await.unwrap();
    fake.set_refusing(true).await;
    // The first request may still go out on the pooled connection, which breaks; the next
    // ones find nobody listening.
    let outcome = client.notify(&key, &notice("Refused", None)).await;
    assert!(matches!(&outcome, Outcome::Unavailable { .. }), "{outcome:?}");
    let outcome = client.notify(&key, &notice("Refused", None)).await;
    assert!(
        matches!(&outcome, Outcome::Unavailable { reason } if reason.contains("cannot connect")),
        "{outcome:?}"
    );
    assert!(
        matches!(client.status().await, Err(AppriseError::Unavailable(r)) if r.contains("cannot connect"))
    );
    assert!(fake.delivered().is_empty());
    assert!(matches!(client.get_config(&key).await, Err(AppriseError::Unavailable(_))));
    fake.set_refusing(false).await;
    assert_eq!(client.status().await, Ok(()));
    assert_eq!(client.notify(&key, &notice("Accepted", None)).await, Outcome::Delivered);

    // Nothing listening at all.
    let closed = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let nowhere =
        AppriseClient::new(url::Url::parse(&format!("http://{closed}")).unwrap(), Duration::from_secs(5))
            .unwrap();
    assert!(matches!(nowhere.notify(&key, &notice("x", None)).await, Outcome::Unavailable { .. }));
}

#[tokio::test]
async fn a_slow_api_times_out_as_unavailable() {
    // A listener that accepts but never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let client =
        AppriseClient::new(url::Url::parse(&format!("http://{addr}")).unwrap(), Duration::from_millis(500))
            .unwrap();
    let outcome = client.notify(&new_key(), &notice("x", None)).await;
    assert!(matches!(&outcome, Outcome::Unavailable { reason } if reason.contains("in time")), "{outcome:?}");
}

#[tokio::test]
async fn errors_and_outcomes_never_quote_the_key_or_a_url() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client
        .add_config(&key, "json://user:hunter2@127.0.0.1:9/hook\nntfy://ntfy.example.org/ok")
        .await
        .unwrap();
    let mut said = Vec::new();
    said.push(client.notify(&key, &notice("Partial", None)).await.to_string());
    fake.set_failing(true);
    said.push(client.notify(&key, &notice("x", None)).await.to_string());
    said.push(client.add_config(&key, "ntfy://a/b").await.unwrap_err().to_string());
    fake.set_failing(false);
    fake.set_refusing(true).await;
    said.push(client.notify(&key, &notice("x", None)).await.to_string());
    said.push(client.get_config(&key).await.unwrap_err().to_string());
    said.push(format!("{key:?}"));
    for s in &said {
        assert!(!s.contains(key.as_str()) && !s.contains("hunter2") && !s.contains(&fake.base), "{s}");
    }
}

#[tokio::test]
async fn status_reports_up_and_the_json_form_says_ok() {
    let (fake, client) = fake_and_client().await;
    assert_eq!(client.status().await, Ok(()));
    let body: Value = reqwest::Client::new()
        .get(format!("{}/status", fake.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"]["details"], json!(["OK"]));
}

#[tokio::test]
async fn stateless_sending_still_works_and_no_valid_url_is_rejected() {
    let (fake, client) = fake_and_client().await;
    let mail = "mailtos://u:p@mail.example.org?to=ada@example.org".to_owned();
    assert_eq!(
        client.notify_stateless(std::slice::from_ref(&mail), "Hi", "Welcome").await,
        Outcome::Delivered
    );
    assert_eq!(fake.mail_to("ada@example.org").len(), 1);
    assert_eq!(fake.mail_to("ada@example.org")[0].key, None);
    let outcome = client.notify_stateless(&["bogus://nope".to_owned()], "Hi", "Welcome").await;
    assert!(matches!(outcome, Outcome::Rejected { .. }), "204: no valid URL");
    fake.set_down("mailtos://", true);
    let outcome = client.notify_stateless(&[mail], "Hi", "Again").await;
    assert!(matches!(outcome, Outcome::Unavailable { .. }), "the only target failed: {outcome:?}");
}

/// A local sink for `json://` targets: what it received, with the User-Agent.
async fn json_sink() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    use axum::routing::post;
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
            let store = store.clone();
            async move {
                let agent =
                    headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                store.lock().unwrap().push((agent, body.0));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("json://{addr}/hook"), seen)
}

#[tokio::test]
async fn a_loopback_json_target_really_receives_the_apprise_payload() {
    let (fake, client) = fake_and_client().await;
    let (sink, seen) = json_sink().await;
    let key = new_key();
    client.add_config(&key, &format!("alerts={sink}")).await.unwrap();
    let n = Notice { kind: NoticeType::Failure, ..notice("Cancelled", Some("alerts")) };
    assert_eq!(client.notify(&key, &n).await, Outcome::Delivered);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "Apprise");
    assert_eq!(
        got[0].1,
        json!({"version": "1.0", "title": "Cancelled", "message": "The body", "attachments": [], "type": "failure"})
    );
    assert_eq!(fake.delivered_to(&sink).len(), 1);

    // A sink that is gone is a failed target.
    client.add_config(&key, "json://127.0.0.1:9/hook").await.unwrap();
    assert!(matches!(client.notify(&key, &notice("Gone", None)).await, Outcome::Unavailable { .. }));
}

const TAGGED_CONFIG: &str = "ntfy://ntfy.example.org/untagged\n\
    email=ntfy://ntfy.example.org/email\n\
    sms=ntfy://ntfy.example.org/sms\n\
    email,urgent=ntfy://ntfy.example.org/email-urgent\n\
    always=ntfy://ntfy.example.org/always\n";

fn reached(fake: &FakeApprise, title: &str) -> BTreeSet<String> {
    fake.delivered()
        .into_iter()
        .filter(|d| d.title == title)
        .map(|d| d.url.trim_start_matches("ntfy://ntfy.example.org/").to_owned())
        .collect()
}

#[tokio::test]
async fn tags_pick_the_urls_as_apprise_does() {
    let (fake, client) = fake_and_client().await;
    let key = new_key();
    client.add_config(&key, TAGGED_CONFIG).await.unwrap();
    let cases: &[(Option<&str>, &[&str])] = &[
        (None, &["untagged"]),
        (Some("email"), &["email", "email-urgent", "always"]),
        (Some("EMAIL"), &["email", "email-urgent", "always"]),
        (Some("email,sms"), &["email", "sms", "email-urgent", "always"]),
        (Some("email, sms"), &["email", "sms", "email-urgent", "always"]),
        (Some("email|sms"), &["email", "sms", "email-urgent", "always"]),
        (Some("email sms"), &["always"]),
        (Some("email+urgent"), &["email-urgent", "always"]),
        (Some("email&urgent"), &["email-urgent", "always"]),
        (Some("urgent email"), &["email-urgent", "always"]),
        (Some("sms, email urgent"), &["sms", "email-urgent", "always"]),
        (Some("all"), &["untagged", "email", "sms", "email-urgent", "always"]),
        (Some("nobody"), &["always"]),
    ];
    for (i, (tag, expected)) in cases.iter().enumerate() {
        let title = format!("case {i}");
        let outcome = client.notify(&key, &notice(&title, *tag)).await;
        assert_eq!(outcome, Outcome::Delivered, "{tag:?}");
        let expected: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(reached(&fake, &title), expected, "tag {tag:?}");
    }

    // JSON lists (not sent by Herald, but part of the API): list = OR, list in list = AND.
    let path = format!("/notify/{}", key.as_str());
    for (tag, expected) in [
        (json!(["email", "sms"]), vec!["email", "sms", "email-urgent", "always"]),
        (json!([["email", "urgent"]]), vec!["email-urgent", "always"]),
        (json!([["email", "urgent"], "sms"]), vec!["sms", "email-urgent", "always"]),
    ] {
        let title = format!("list {tag}");
        let (status, _) =
            raw_post(&fake, &path, &json!({"title": title, "body": "b", "tag": tag}).to_string()).await;
        assert_eq!(status, 200);
        let expected: BTreeSet<String> = expected.into_iter().map(str::to_owned).collect();
        assert_eq!(reached(&fake, &title), expected, "tag {tag}");
    }
}

/// Runs `herald ARGS` with a clean HERALD_* environment plus `env`: (exit code, stdout, stderr).
fn herald(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut cmd = std::process::Command::new(crate::support::herald_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("HERALD_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run herald");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_re_pushes_every_integration_and_fails_loudly() {
    use herald::db::users::NewUser;
    use herald::secrets::SecretKey;

    let db = crate::support::TestDb::new(crate::support::Backend::Sqlite).await;
    let data = db.data_dir.path().to_str().unwrap().to_owned();
    let secret = "5e".repeat(32);
    let keys = SecretKey::parse(&secret).unwrap();
    let user = db
        .db
        .create_user(&NewUser {
            email: "ada@example.org",
            display_name: "Ada",
            password_hash: None,
            timezone: "UTC",
            verified: true,
        })
        .await
        .unwrap();
    let mut stored = Vec::new();
    for (name, text) in [
        ("Phone", "sms=ntfy://ntfy.example.org/ada-phone\n"),
        ("Mail", "email=mailtos://ada:mail-pw-123@mail.example.org?to=ada@example.org\n"),
    ] {
        let id = uuid::Uuid::new_v4();
        let key = new_key();
        let sealed = herald::integrations::seal(&keys, id, text).unwrap();
        db.db.insert_integration(id, user.id, name, key.as_str(), &sealed, &[]).await.unwrap();
        stored.push((key, text));
    }
    let fake = FakeApprise::start().await;
    let env = [
        ("HERALD_DATA_DIR", data.as_str()),
        ("HERALD_SECRET_KEY", secret.as_str()),
        ("HERALD_APPRISE_URL", fake.base.as_str()),
    ];

    let (code, stdout, stderr) = herald(&["integrations", "resync"], &env);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "re-pushed 2 integrations, 0 failed");
    for (key, text) in &stored {
        assert_eq!(fake.stored_config(key.as_str()).as_deref(), Some(*text), "pushed as stored");
    }

    // Keys stored in plain text by an earlier version are encrypted (as Herald does when it
    // starts), and keep working.
    assert_eq!(herald::integrations::seal_stored_keys(&db.db, &keys).await.unwrap(), 2);
    assert_eq!(herald::integrations::seal_stored_keys(&db.db, &keys).await.unwrap(), 0, "once");
    for (key, _) in &stored {
        fake.forget(key.as_str());
    }
    for row in db.db.all_integrations().await.unwrap() {
        assert!(stored.iter().all(|(key, _)| !row.config_key.contains(key.as_str())), "no plain key stored");
        let opened = herald::integrations::open_config_key(&keys, row.id, &row.config_key).unwrap();
        assert!(stored.iter().any(|(key, _)| key.as_str() == opened.as_str()));
    }
    let (code, stdout, stderr) = herald(&["integrations", "resync"], &env);
    assert_eq!((code, stdout.trim()), (Some(0), "re-pushed 2 integrations, 0 failed"), "{stderr}");
    for (key, text) in &stored {
        assert_eq!(fake.stored_config(key.as_str()).as_deref(), Some(*text), "pushed under the same key");
    }

    // The Apprise API fails: every push fails, the command says so and exits 1.
    fake.set_failing(true);
    let (code, stdout, stderr) = herald(&["integrations", "resync"], &env);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "re-pushed 0 integrations, 2 failed");
    assert!(stderr.contains("error: 2 integration(s) could not be pushed"), "{stderr}");
    fake.set_failing(false);

    // One config that no longer decrypts (sealed under another key) fails; the others go.
    let id = uuid::Uuid::new_v4();
    let other = SecretKey::parse(&"77".repeat(32)).unwrap();
    let sealed = herald::integrations::seal(&other, id, "ntfy://ntfy.example.org/x").unwrap();
    db.db.insert_integration(id, user.id, "Broken", new_key().as_str(), &sealed, &[]).await.unwrap();
    fake.forget(stored[0].0.as_str());
    let (code, stdout, stderr) = herald(&["integrations", "resync"], &env);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "re-pushed 2 integrations, 1 failed");
    assert_eq!(
        fake.stored_config(stored[0].0.as_str()).as_deref(),
        Some(stored[0].1),
        "the lost key is back"
    );
    let everything = format!("{stdout}{stderr}");
    for (key, _) in &stored {
        assert!(!everything.contains(key.as_str()), "no config key in the output: {everything}");
    }
    assert!(!everything.contains("mail-pw-123") && !everything.contains(&secret), "no secret: {everything}");

    // Log-only mode: nothing to push to, said in one line.
    let (code, stdout, stderr) =
        herald(&["integrations", "resync"], &[("HERALD_DATA_DIR", &data), ("HERALD_SECRET_KEY", &secret)]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty(), "{stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: HERALD_APPRISE_URL") && lines[0].contains("log-only"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_refuses_when_the_apprise_api_is_locked() {
    let db = crate::support::TestDb::new(crate::support::Backend::Sqlite).await;
    let data = db.data_dir.path().to_str().unwrap().to_owned();
    let secret = "5e".repeat(32);
    let fake = FakeApprise::start().await;
    fake.set_locked(true);
    let env = [
        ("HERALD_DATA_DIR", data.as_str()),
        ("HERALD_SECRET_KEY", secret.as_str()),
        ("HERALD_APPRISE_URL", fake.base.as_str()),
        ("HERALD_APPRISE_CONFIG_LOCK", "true"),
    ];
    let (code, _, stderr) = herald(&["integrations", "resync"], &env);
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("HERALD_APPRISE_CONFIG_LOCK") && stderr.contains("nothing to push"), "{stderr}");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}
