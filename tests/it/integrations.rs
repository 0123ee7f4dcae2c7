//! Notification channels ("integrations") against the fake Apprise API: adding one by pasting
//! URLs or through a guided form, the config pushed under a long random key, the code sent
//! through the channel and confirmed, test sends and what they report, self-healing when the
//! Apprise API lost the key, encryption at rest, redaction in pages, API and logs, isolation
//! between users, 422s naming the field, deletion, log-only mode and unverified users.

use chrono::{Duration, Utc};
use herald::db::Db;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::orgs::{api, api_user};
use crate::support::{Backend, PASSWORD, TestApp, Visitor, capture_logs, captured_logs};

both_backends!(
    pasting_confirming_and_testing_a_channel_in_the_browser,
    channels_through_the_api_and_every_test_outcome,
    configs_are_encrypted_at_rest,
    secrets_never_show_in_pages_api_or_logs,
    another_users_channel_is_invisible_and_untouchable,
    invalid_input_gets_422_naming_the_field,
    deleting_channels,
    codes_expire_run_out_and_can_be_sent_again,
    editing_renaming_and_switching_channels,
    guided_forms_build_the_url,
    default_tags_on_the_page_and_the_api,
    log_only_mode_sends_nothing_and_logs_the_code,
    unverified_users_cannot_add_channels,
    resync_pushes_every_config_again,
    an_account_has_at_most_twenty_channels,
    channels_in_plain_words,
    an_unknown_service_is_refused_saying_what_is_accepted,
    setting_up_a_channel_from_an_event_comes_back_to_it,
    the_log_only_notice_is_for_operators_only,
);

// Secrets in the URLs below: none of them may ever show up outside the Apprise API.
const PHONE_TOKEN: &str = "tk_phonesecret4711";
const PHONE_TOPIC: &str = "ada-topic-secret-0815";
const PHONE_URL: &str = "ntfys://tk_phonesecret4711@ntfy.example.org/ada-topic-secret-0815";
const MAIL_PASSWORD: &str = "mail-pw-s3cr3t";
const MAIL_URL: &str = "mailtos://ada:mail-pw-s3cr3t@smtp.example.org?to=ada@example.org";
const HOOK_SECRET: &str = "hook-path-secret-42";
const HOOK_URL: &str = "jsons://hooks.example.org/hook-path-secret-42?token=query-secret-99";
const SECRETS: &[&str] = &[PHONE_TOKEN, PHONE_TOPIC, MAIL_PASSWORD, HOOK_SECRET, "query-secret-99"];

// --- Helpers ---

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Follows a redirect and returns the page it leads to (with its flash message).
async fn follow(v: &Visitor, r: reqwest::Response) -> String {
    assert_eq!(r.status(), 303, "expected a redirect, got {}: {}", r.status(), r.text().await.unwrap());
    let (status, body) = v.page(&location(&r)).await;
    assert_eq!(status, 200);
    body
}

async fn user_id(app: &TestApp, email: &str) -> Uuid {
    app.db.db.user_by_email(email).await.unwrap().unwrap().id
}

/// The id in `/integrations/{id}`.
fn id_in(path: &str) -> Uuid {
    let rest = path.strip_prefix("/integrations/").unwrap_or_else(|| panic!("not a channel path: {path}"));
    Uuid::parse_str(rest.split(['/', '?']).next().unwrap()).unwrap()
}

/// The config key of a channel, read from the database.
async fn key_of(app: &TestApp, owner: Uuid, id: Uuid) -> String {
    let stored = app.db.db.integration_of(owner, id).await.unwrap().expect("the channel exists");
    assert!(!stored.config_key.contains(&app.apprise_key(&stored)), "the key is stored encrypted");
    app.apprise_key(&stored)
}

/// The 6 digits in `text`.
fn six_digits(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(5)).find_map(|i| {
        let run: String = chars[i..i + 6].iter().collect();
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 6);
        (run.chars().all(|c| c.is_ascii_digit())
            && !before.is_some_and(|c| c.is_ascii_digit())
            && !after.is_some_and(|c| c.is_ascii_digit()))
        .then_some(run)
    })
}

/// The last confirmation code the fake delivered through `key` (to URLs starting with `prefix`):
/// through the key for a one-URL channel, to the URL alone for a channel with several.
fn last_code(app: &TestApp, key: &str, prefix: &str) -> String {
    app.apprise
        .delivered_to(prefix)
        .into_iter()
        .rev()
        .find(|d| d.key.as_deref().is_none_or(|k| k == key) && d.title == "Herald confirmation code")
        .and_then(|d| six_digits(&d.body))
        .unwrap_or_else(|| panic!("a confirmation code was delivered to {prefix}"))
}

/// Every URL's last code, separated by spaces: what confirms a channel with these URLs.
fn all_codes(app: &TestApp, key: &str, urls: &[(&str, &[&str])]) -> String {
    urls.iter().map(|(url, _)| last_code(app, key, url)).collect::<Vec<_>>().join(" ")
}

/// A code that is not `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

pub(crate) fn api_channel(name: &str, urls: &[(&str, &[&str])]) -> Value {
    json!({
        "name": name,
        "urls": urls.iter().map(|(u, t)| json!({"url": u, "tags": t})).collect::<Vec<_>>(),
    })
}

/// Creates a channel through the API and confirms it with the code it received.
pub(crate) async fn confirmed_channel(
    app: &TestApp,
    token: &str,
    name: &str,
    urls: &[(&str, &[&str])],
) -> (Uuid, String) {
    let (status, body) =
        api(app, token, Method::POST, "/api/v1/integrations", Some(api_channel(name, urls))).await;
    assert_eq!(status, 201, "{body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let key = app.apprise_key(&any_integration(&app.db.db, id).await);
    let code = all_codes(app, &key, urls);
    let (status, body) = api(
        app,
        token,
        Method::POST,
        &format!("/api/v1/integrations/{id}/confirm"),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");
    (id, key)
}

/// Raw SQL on the test database.
pub(crate) async fn execute(db: &Db, sql: &str, at: chrono::DateTime<Utc>, id: Uuid) {
    match db {
        Db::Sqlite(pool) => sqlx::query(sql).bind(at).bind(id).execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::query(sql).bind(at).bind(id).execute(pool).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A channel by id, whoever owns it.
async fn any_integration(db: &Db, id: Uuid) -> herald::db::models::Integration {
    db.all_integrations().await.unwrap().into_iter().find(|i| i.id == id).expect("the channel exists")
}

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows the secret {s}: {text}");
    }
}

// --- Tests ---

async fn pasting_confirming_and_testing_a_channel_in_the_browser(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;

    let (status, page) = ada.page("/integrations").await;
    assert_eq!(status, 200);
    // Verified with system mail set up: the built-in email channel is there from the start.
    assert!(
        page.contains("Email — ada@example.org") && page.contains(r#"href="/integrations/new""#),
        "{page}"
    );
    assert!(page.contains("mailto:ada@example.org") && !page.contains("mail-secret-pw"), "{page}");
    assert!(page.contains(r#"href="/integrations">Channels</a>"#), "nav link");
    let (status, page) = ada.page("/integrations/new").await;
    assert_eq!(status, 200);
    for service in ["email", "ntfy", "telegram", "discord", "slack", "gotify", "webhook"] {
        assert!(
            page.contains(&format!(r#"href="/integrations/new/{service}""#)),
            "guided form for {service}"
        );
    }
    assert!(page.contains(r#"name="url_2""#) && !page.contains(r#"name="url_3""#), "three rows");

    // Without JavaScript, another row comes from the server, keeping what was typed.
    let r = ada
        .post(
            "/integrations",
            &[("name", "My phone"), ("url_0", PHONE_URL), ("tags_0", "phone"), ("add_row", "1")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains(r#"name="url_1""#) && page.contains("My phone"));

    let r = ada
        .post(
            "/integrations",
            &[
                ("name", "My phone"),
                ("url_0", PHONE_URL),
                ("tags_0", "phone, Urgent"),
                ("url_1", ""),
                ("tags_1", ""),
                ("url_2", MAIL_URL),
                ("tags_2", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let path = location(&r);
    let id = id_in(&path);
    let page = follow(&ada, r).await;
    assert!(page.contains("We sent a 6-digit code to each of the 2 URLs"), "{page}");
    assert!(page.contains("Confirmation codes") && page.contains("Enter all 2"), "{page}");
    assert!(page.contains("Awaiting confirmation"));
    assert!(page.contains("ntfys://****@ntfy.example.org/****"), "redacted URL shown");
    assert!(page.contains("mailtos://****@smtp.example.org?to=ada@example.org"));
    assert_no_secret("the channel page", &page);

    // Pushed under a long random key, as the text config with the tags.
    let key = key_of(&app, ada_id, id).await;
    assert!(key.len() >= 43, "256-bit key: {key}");
    assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(!key.contains(&id.to_string()) && !key.contains(&ada_id.to_string()));
    assert_eq!(
        app.apprise.stored_config(&key).as_deref(),
        Some(format!("phone,urgent={PHONE_URL}\n{MAIL_URL}\n").as_str())
    );

    // Each URL received its own code, sent to it alone: the code that reached one inbox cannot
    // enrol the other target.
    let phone = last_code(&app, &key, "ntfys://");
    let mail = last_code(&app, &key, "mailtos://");
    assert_ne!(phone, mail, "one code per URL");
    for d in app.apprise.delivered_to("ntfys://") {
        assert!(!d.body.contains(&mail), "the mail URL's code never reaches the phone");
    }
    let r = ada.post(&format!("{path}/confirm"), &[("code", &phone)]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Enter all 2 codes"), "{page}");
    assert!(app.db.db.integration_of(ada_id, id).await.unwrap().unwrap().verified_at.is_none());

    // A wrong code is refused, with the tries left; the right ones, in any order, activate it.
    let r = ada.post(&format!("{path}/confirm"), &[("code", &format!("{phone} {}", wrong(&mail)))]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("not the code we sent") && page.contains("4 tries left"), "{page}");
    assert!(page.contains(r#"aria-invalid="true""#));
    let r = ada
        .post(&format!("{path}/confirm"), &[("code", &format!("{} {}, {phone}", &mail[..3], &mail[3..]))])
        .await;
    let page = follow(&ada, r).await;
    assert!(page.contains("is confirmed and active"), "{page}");
    assert!(page.contains("Active") && page.contains("Send test"));
    let row = app.db.db.integration_of(ada_id, id).await.unwrap().unwrap();
    assert!(row.verified_at.is_some());

    // Send test: delivered everywhere.
    let r = ada.post(&format!("{path}/test"), &[]).await;
    let page = follow(&ada, r).await;
    assert!(page.contains("The test message was delivered to every URL"), "{page}");
    let tests = |prefix: &str| {
        app.apprise.delivered_to(prefix).into_iter().filter(|d| d.title == "Herald test message").count()
    };
    assert_eq!((tests("ntfys://"), tests("mailtos://ada:")), (1, 1));

    // One URL down: the others got it, and the page says so.
    app.apprise.set_down("ntfys://", true);
    let page = follow(&ada, ada.post(&format!("{path}/test"), &[]).await).await;
    assert!(page.contains("The test message reached only some URLs of this channel"), "{page}");
    assert_eq!((tests("ntfys://"), tests("mailtos://ada:")), (1, 2));
    app.apprise.set_down("ntfys://", false);

    // The Apprise API lost the key: Herald stores it again and retries.
    app.apprise.forget(&key);
    let page = follow(&ada, ada.post(&format!("{path}/test"), &[]).await).await;
    assert!(page.contains("had lost this channel's configuration"), "{page}");
    assert!(page.contains("delivered to every URL"));
    assert!(app.apprise.stored_config(&key).is_some(), "re-pushed");
    assert_eq!((tests("ntfys://"), tests("mailtos://ada:")), (2, 3));

    // The Apprise API is down.
    app.apprise.set_refusing(true).await;
    let page = follow(&ada, ada.post(&format!("{path}/test"), &[]).await).await;
    assert!(page.contains("was not delivered: the notification service could not be reached"), "{page}");
    assert!(!page.contains("connect"), "no connection error text is shown: {page}");
    app.apprise.set_refusing(false).await;

    // The list shows it too.
    let (_, page) = ada.page("/integrations").await;
    assert!(page.contains("My phone") && page.contains("Active") && page.contains("urgent"));
    assert_no_secret("the list", &page);
    app.stop().await;
}

async fn channels_through_the_api_and_every_test_outcome(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;

    let (status, body) = api(
        &app,
        &token,
        Method::POST,
        "/api/v1/integrations",
        Some(api_channel("Everywhere", &[(PHONE_URL, &["phone"]), (HOOK_URL, &["Ops", "phone"])])),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "awaiting_confirmation");
    assert_eq!(body["confirmed"], false);
    assert_eq!(body["config_push"], "stored");
    assert_eq!(body["confirmation"]["outcome"], "delivered");
    assert_eq!(body["tags"], json!(["ops", "phone"]));
    assert_eq!(body["urls"][0]["url"], "ntfys://****@ntfy.example.org/****");
    assert_eq!(body["urls"][1]["url"], "jsons://hooks.example.org/****?token=****");
    assert_eq!(body["urls"][1]["tags"], json!(["ops", "phone"]));
    assert_no_secret("the API answer", &body.to_string());
    let id = body["id"].as_str().unwrap().to_owned();
    let key = key_of(&app, ada.id, Uuid::parse_str(&id).unwrap()).await;
    assert_eq!(
        app.apprise.stored_config(&key).as_deref(),
        Some(format!("phone={PHONE_URL}\nops,phone={HOOK_URL}\n").as_str())
    );

    // Tests wait for the confirmation.
    let (status, body) =
        api(&app, &token, Method::POST, &format!("/api/v1/integrations/{id}/test"), None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Confirm this channel"));

    let code = format!("{} {}", last_code(&app, &key, "ntfys://"), last_code(&app, &key, "jsons://"));
    let confirm = |code: String| {
        let path = format!("/api/v1/integrations/{id}/confirm");
        let app = &app;
        let token = &token;
        async move { api(app, token, Method::POST, &path, Some(json!({"code": code}))).await }
    };
    let (status, body) = confirm(format!("{} {}", &code[..6], wrong(&code[7..]))).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "code");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("not the code we sent"));
    let (status, body) = confirm(code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "active");
    assert!(body["verified_at"].is_string());

    let test = || async {
        let (status, body) =
            api(&app, &token, Method::POST, &format!("/api/v1/integrations/{id}/test"), None).await;
        assert_eq!(status, 200, "{body}");
        body
    };
    let body = test().await;
    assert_eq!((body["outcome"].as_str(), body["repushed"].as_bool()), (Some("delivered"), Some(false)));

    app.apprise.set_down("jsons://", true);
    let body = test().await;
    assert_eq!(body["outcome"], "partial", "{body}");
    assert!(body["message"].as_str().unwrap().contains("reached only some URLs"));
    app.apprise.set_down("jsons://", false);

    app.apprise.forget(&key);
    let body = test().await;
    assert_eq!(
        (body["outcome"].as_str(), body["repushed"].as_bool()),
        (Some("delivered"), Some(true)),
        "{body}"
    );
    assert!(app.apprise.stored_config(&key).is_some());

    app.apprise.set_failing(true);
    let body = test().await;
    assert_eq!(body["outcome"], "unavailable", "{body}");
    assert!(body["message"].as_str().unwrap().contains("was not delivered"), "{body}");
    app.apprise.set_failing(false);

    // Every URL down: nothing delivered.
    app.apprise.set_down("jsons://", true);
    app.apprise.set_down("ntfys://", true);
    let body = test().await;
    assert_eq!(body["outcome"], "unavailable", "{body}");
    app.apprise.set_down("jsons://", false);
    app.apprise.set_down("ntfys://", false);

    // Listed and fetched with redacted URLs only.
    let (status, list) = api(&app, &token, Method::GET, "/api/v1/integrations", None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "Everywhere");
    assert!(list[0].get("confirmation").is_none());
    let (status, one) = api(&app, &token, Method::GET, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!((status, one["id"].as_str()), (200, Some(id.as_str())));
    assert_no_secret("the API list", &list.to_string());

    // The document describes every route.
    let (_, doc) = api(&app, &token, Method::GET, "/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/integrations",
        "/api/v1/integrations/{id}",
        "/api/v1/integrations/{id}/confirm",
        "/api/v1/integrations/{id}/test",
        "/api/v1/integrations/{id}/code",
        "/api/v1/me/notification-defaults",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is in the OpenAPI document");
    }
    app.stop().await;
}

async fn configs_are_encrypted_at_rest(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let (id, _) = confirmed_channel(
        &app,
        &token,
        "All of them",
        &[(PHONE_URL, &["phone"]), (MAIL_URL, &[]), (HOOK_URL, &["ops"])],
    )
    .await;
    let (other, _) =
        confirmed_channel(&app, &token, "Second", &[("ntfys://ntfy.example.org/second-topic-secret", &[])])
            .await;

    // Every column of every row, as the database holds it.
    let rows: Vec<String> = match &app.db.db {
        Db::Sqlite(pool) => {
            use sqlx::{Column, Row};
            let rows = sqlx::query("SELECT * FROM integrations").fetch_all(pool).await.unwrap();
            rows.iter()
                .map(|row| {
                    (0..row.columns().len())
                        .map(|i| {
                            let bytes: Option<Vec<u8>> = row.try_get_unchecked(i).unwrap();
                            let bytes = bytes.unwrap_or_default();
                            format!(
                                "{}={} hex:{}",
                                row.columns()[i].name(),
                                String::from_utf8_lossy(&bytes),
                                herald::secrets::encode_hex(&bytes)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .collect()
        }
        Db::Postgres(pool) => {
            let rows: Vec<(String,)> = sqlx::query_as("SELECT row_to_json(i)::text FROM integrations i")
                .fetch_all(pool)
                .await
                .unwrap();
            rows.into_iter().map(|(r,)| r).collect()
        }
    };
    assert_eq!(rows.len(), 2);
    let all = rows.join("\n");
    for secret in SECRETS.iter().chain(&[
        "second-topic-secret",
        "ntfys://",
        "mailtos://",
        "jsons://",
        "smtp.example.org",
    ]) {
        assert!(!all.contains(secret), "the database holds {secret} in clear: {all}");
        let hex = herald::secrets::encode_hex(secret.as_bytes());
        assert!(!all.to_lowercase().contains(&hex), "the database holds {secret} (as hex)");
    }
    assert!(all.contains("phone") && all.contains("ops"), "tags are plain: {all}");

    // It is Herald's own key that opens it, only for its own row.
    let keys = herald::secrets::SecretKey::load(None, app.db.data_dir.path()).unwrap();
    let row = app.db.db.integration_of(ada.id, id).await.unwrap().unwrap();
    let text = herald::integrations::open(&keys, id, &row.config_ciphertext).unwrap();
    assert_eq!(text, format!("phone={PHONE_URL}\n{MAIL_URL}\nops={HOOK_URL}\n"));
    assert!(herald::integrations::open(&keys, other, &row.config_ciphertext).is_err(), "bound to its row");
    assert!(
        herald::integrations::open(&herald::secrets::SecretKey::generate(), id, &row.config_ciphertext)
            .is_err()
    );
    app.stop().await;
}

async fn secrets_never_show_in_pages_api_or_logs(backend: Backend) {
    capture_logs();
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();

    let r = ada
        .post(
            "/integrations",
            &[
                ("name", "Secrets"),
                ("url_0", PHONE_URL),
                ("tags_0", "phone"),
                ("url_1", MAIL_URL),
                ("url_2", HOOK_URL),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let path = location(&r);
    let id = id_in(&path);
    let key = key_of(&app, ada_id, id).await;
    let code = ["ntfys://", "mailtos://", "jsons://"].map(|p| last_code(&app, &key, p)).join(" ");
    follow(&ada, ada.post(&format!("{path}/confirm"), &[("code", &code)]).await).await;
    follow(&ada, ada.post(&format!("{path}/test"), &[]).await).await;
    app.apprise.forget(&key);
    follow(&ada, ada.post(&format!("{path}/test"), &[]).await).await;

    for page in ["/integrations", &path, &format!("{path}/edit"), &format!("{path}/delete")] {
        let (status, body) = ada.page(page).await;
        assert_eq!(status, 200, "{page}");
        assert_no_secret(page, &body);
        assert!(!body.contains(&key), "{page} shows the config key");
    }
    for api_path in ["/api/v1/integrations".to_owned(), format!("/api/v1/integrations/{id}")] {
        let (status, body) = api(&app, &token, Method::GET, &api_path, None).await;
        assert_eq!(status, 200);
        assert_no_secret(&api_path, &body.to_string());
        assert!(!body.to_string().contains(&key));
    }
    let (status, body) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"urls": [{"url": PHONE_URL, "tags": ["x"]}, {"url": HOOK_URL}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_no_secret("PATCH answer", &body.to_string());

    let logs = captured_logs();
    assert!(logs.contains("integration created"), "the log is captured");
    assert_no_secret("the log", &logs);
    assert!(!logs.contains(&key), "the log shows the config key");
    assert!(
        !logs.contains(&format!("code={code}")) && !logs.contains(&format!("code: {code}")),
        "the log shows the code"
    );
    app.stop().await;
}

async fn another_users_channel_is_invisible_and_untouchable(backend: Backend) {
    let app = TestApp::start(backend).await;
    let _ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;
    let ada_token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&ada_token)).await.unwrap();
    let (id, key) = confirmed_channel(&app, &ada_token, "Ada's phone", &[(PHONE_URL, &["phone"])]).await;

    let mallory = app.signed_up("mallory@example.org", "Mallory", true).await;
    let mallory_id = user_id(&app, "mallory@example.org").await;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(mallory_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();

    let sent_before = app.apprise.delivered().len();
    let base = format!("/integrations/{id}");
    for page in [base.clone(), format!("{base}/edit"), format!("{base}/delete")] {
        let (status, body) = mallory.page(&page).await;
        assert_eq!(status, 404, "GET {page}");
        assert!(!body.contains("Ada's phone"), "GET {page} leaks the name");
    }
    let form: &[(&str, &str)] = &[
        ("name", "Taken"),
        ("enabled", "false"),
        ("code", "123456"),
        ("confirm", "yes"),
        ("url_0", "json://evil.example.org/x"),
    ];
    for action in ["confirm", "code", "test", "enabled", "rename", "edit", "delete"] {
        let r = mallory.post(&format!("{base}/{action}"), form).await;
        assert_eq!(r.status(), 404, "POST {base}/{action}");
    }
    let (_, list) = mallory.page("/integrations").await;
    assert!(!list.contains("Ada's phone"));
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/integrations/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/integrations/{id}"),
            Some(json!({"name": "Taken", "enabled": false})),
        ),
        (Method::DELETE, format!("/api/v1/integrations/{id}"), None),
        (Method::POST, format!("/api/v1/integrations/{id}/confirm"), Some(json!({"code": "123456"}))),
        (Method::POST, format!("/api/v1/integrations/{id}/test"), None),
        (Method::POST, format!("/api/v1/integrations/{id}/code"), None),
    ] {
        let (status, answer) = api(&app, &token, method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert!(!answer.to_string().contains("Ada"), "{method} {path} leaks");
    }
    let (_, list) = api(&app, &token, Method::GET, "/api/v1/integrations", None).await;
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Email — mallory@example.org"], "only her own built-in channel");
    // A malformed id names nothing either.
    assert_eq!(mallory.page("/integrations/not-an-id").await.0, 404);
    assert_eq!(api(&app, &token, Method::GET, "/api/v1/integrations/not-an-id", None).await.0, 404);

    // Untouched: same name, still enabled and confirmed, still stored, nothing sent.
    let row = app.db.db.integration_of(ada_id, id).await.unwrap().unwrap();
    assert_eq!((row.name.as_str(), row.enabled, row.verified_at.is_some()), ("Ada's phone", true, true));
    assert!(app.apprise.stored_config(&key).is_some());
    assert_eq!(app.apprise.delivered().len(), sent_before, "nothing was sent");
    app.stop().await;
}

async fn invalid_input_gets_422_naming_the_field(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let fields_of = |body: &Value| -> Vec<String> {
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect()
    };
    let create = |body: Value| {
        let (app, token) = (&app, &token);
        async move { api(app, token, Method::POST, "/api/v1/integrations", Some(body)).await }
    };

    let (status, body) = create(api_channel(
        " ",
        &[
            ("ntfys://ntfy.sh/ok", &["email", "phone", "all"]),
            ("not a url", &[]),
            ("ntfy.sh/topic", &["Bad Tag"]),
        ],
    ))
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["status"], 422);
    assert_eq!(
        fields_of(&body),
        vec!["name", "urls[0].tags[2]", "urls[1].url", "urls[2].url", "urls[2].tags[0]"]
    );
    let text = body.to_string();
    assert!(text.contains("reserved") && text.contains("URL 2") && text.contains("Enter a name"));

    let (status, body) = create(api_channel("x", &[])).await;
    assert_eq!((status, fields_of(&body)), (422, vec!["urls".to_owned()]));
    let many: Vec<(String, Vec<&str>)> =
        (0..21).map(|i| (format!("json://hooks.example.org/{i}"), vec![])).collect();
    let many: Vec<(&str, &[&str])> = many.iter().map(|(u, t)| (u.as_str(), t.as_slice())).collect();
    let (status, body) = create(api_channel("x", &many)).await;
    assert_eq!((status, fields_of(&body)), (422, vec!["urls".to_owned()]));
    let long = format!("json://hooks.example.org/{}", "a".repeat(2100));
    let (status, body) = create(api_channel(&"n".repeat(101), &[(&long, &[&"t".repeat(33)])])).await;
    assert_eq!(
        (status, fields_of(&body)),
        (422, vec!["name".into(), "urls[0].url".into(), "urls[0].tags[0]".into()])
    );
    // The Apprise API rejects what it cannot read: a 422 on `urls`, and nothing is stored.
    let (status, body) = create(api_channel("Unknown", &[("revolt://x", &[])])).await;
    assert_eq!((status, fields_of(&body)), (422, vec!["urls".to_owned()]), "{body}");
    // It skips what it does not understand among good URLs: Herald notices and saves nothing.
    let (status, body) =
        create(api_channel("Half", &[("ntfys://ntfy.sh/fine", &[]), ("revolt://x", &[])])).await;
    assert_eq!((status, fields_of(&body)), (422, vec!["urls".to_owned()]), "{body}");
    assert!(body.to_string().contains("did not recognise 1 of these 2 URLs"), "{body}");
    assert!(app.apprise.keys().is_empty(), "the half-understood config was removed again");
    // A name used twice.
    confirmed_channel(&app, &token, "Phone", &[(PHONE_URL, &[])]).await;
    let (status, body) = create(api_channel("Phone", &[(MAIL_URL, &[])])).await;
    assert_eq!((status, fields_of(&body)), (422, vec!["name".to_owned()]));
    // Not JSON of the right shape: 400.
    let (status, _) = create(json!({"name": "x", "urls": "ntfys://x"})).await;
    assert_eq!(status, 400);
    let (_, list) = api(&app, &token, Method::GET, "/api/v1/integrations", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing else was stored");
    assert_eq!(app.apprise.keys().len(), 1, "nothing else was pushed");

    // Pages: the same rules, each message next to its field.
    let ada = app.signed_up("bea@example.org", "Bea", true).await;
    let r = ada
        .post(
            "/integrations",
            &[
                ("name", ""),
                ("url_0", ""),
                ("url_1", "ntfys://ntfy.sh/ok"),
                ("tags_1", "ok always"),
                ("url_2", "nope"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    for (id, message) in [
        ("f-name", "Enter a name."),
        ("f-tags_1", "URL 2: “always” is reserved"),
        ("f-url_2", "URL 3: This is not an Apprise URL"),
    ] {
        assert!(page.contains(&format!(r##"href="#{id}""##)), "error summary links to {id}");
        assert!(page.contains(message), "{message} in {page}");
    }
    assert!(page.contains(r#"value="ntfys://ntfy.sh/ok""#), "what was typed stays");
    let r = ada.post("/integrations", &[("name", "Empty")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Add at least one Apprise URL."));
    let r = ada
        .post("/integrations/new/ntfy", &[("name", "Phone"), ("topic", "not a topic"), ("tags", "ok")])
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r##"href="#f-topic""##) && page.contains("A topic uses letters"));
    let r =
        ada.post("/integrations/new/ntfy", &[("name", "Phone"), ("topic", "good"), ("tags", "all")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("is reserved"));
    assert_eq!(ada.post("/integrations/new/fax", &[("name", "x")]).await.status(), 404);
    app.stop().await;
}

async fn deleting_channels(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();

    // In the browser, after a confirmation page.
    let (id, key) = confirmed_channel(&app, &token, "Phone", &[(PHONE_URL, &[])]).await;
    let (status, page) = ada.page(&format!("/integrations/{id}/delete")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Delete “Phone”?") && page.contains("cannot be undone"));
    let r = ada.post(&format!("/integrations/{id}/delete"), &[]).await;
    assert_eq!(location(&r), format!("/integrations/{id}/delete"), "needs the confirmation");
    assert!(app.db.db.integration_of(ada_id, id).await.unwrap().is_some());
    let page =
        follow(&ada, ada.post(&format!("/integrations/{id}/delete"), &[("confirm", "yes")]).await).await;
    assert!(page.contains("The channel “Phone” is deleted"), "{page}");
    assert!(app.db.db.integration_of(ada_id, id).await.unwrap().is_none());
    assert!(app.apprise.stored_config(&key).is_none(), "removed from the Apprise API");

    // The Apprise API cannot be reached: nothing is deleted, and the user is told.
    let (id, key) = confirmed_channel(&app, &token, "Mail", &[(MAIL_URL, &[])]).await;
    app.apprise.set_refusing(true).await;
    let page =
        follow(&ada, ada.post(&format!("/integrations/{id}/delete"), &[("confirm", "yes")]).await).await;
    assert!(page.contains("Nothing was deleted"), "{page}");
    let (status, body) = api(&app, &token, Method::DELETE, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("nothing changed"));
    app.apprise.set_refusing(false).await;
    app.apprise.set_locked(true);
    let (status, _) = api(&app, &token, Method::DELETE, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!(status, 503, "a locked Apprise API deletes nothing");
    app.apprise.set_locked(false);
    assert!(app.db.db.integration_of(ada_id, id).await.unwrap().is_some(), "kept");
    assert!(app.apprise.stored_config(&key).is_some());

    // The key is already gone from the Apprise API: the channel goes anyway.
    app.apprise.forget(&key);
    let (status, _) = api(&app, &token, Method::DELETE, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!(status, 204);
    assert!(app.db.db.integration_of(ada_id, id).await.unwrap().is_none());
    let (status, _) = api(&app, &token, Method::DELETE, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!(status, 404);
    app.stop().await;
}

async fn codes_expire_run_out_and_can_be_sent_again(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let (status, body) = api(
        &app,
        &token,
        Method::POST,
        "/api/v1/integrations",
        Some(api_channel("Phone", &[(PHONE_URL, &[])])),
    )
    .await;
    assert_eq!(status, 201);
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let key = key_of(&app, ada.id, id).await;
    let first = last_code(&app, &key, "ntfys://");
    let confirm = |code: String| {
        let (app, token) = (&app, &token);
        async move {
            api(
                app,
                token,
                Method::POST,
                &format!("/api/v1/integrations/{id}/confirm"),
                Some(json!({"code": code})),
            )
            .await
        }
    };
    let resend =
        || async { api(&app, &token, Method::POST, &format!("/api/v1/integrations/{id}/code"), None).await };
    let message = |body: &Value| body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();

    // Not a code at all.
    let (status, body) = confirm("12ab".into()).await;
    assert_eq!((status, message(&body).contains("6-digit")), (422, true));
    // Five wrong tries, then even the right code is refused.
    for left in (0..5).rev() {
        let (status, body) = confirm(wrong(&first)).await;
        assert_eq!(status, 422);
        if left > 0 {
            assert!(message(&body).contains(&format!("{left} tr")), "{body}");
        } else {
            assert!(message(&body).contains("last try"), "{body}");
        }
    }
    let (status, body) = confirm(first.clone()).await;
    assert_eq!(status, 422);
    assert!(message(&body).contains("Too many wrong codes"), "{body}");

    // A new code at once is refused (it goes to someone's phone); a little later it is sent.
    let (status, body) = resend().await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Wait"));
    let earlier = Utc::now() - Duration::minutes(2);
    execute(&app.db.db, "UPDATE integrations SET confirm_sent_at = $1 WHERE id = $2", earlier, id).await;
    let (status, body) = resend().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "delivered");
    let second = last_code(&app, &key, "ntfys://");
    let (status, _) = confirm(first.clone()).await;
    assert_eq!(status, 422, "the old code no longer works");

    // Codes expire.
    let past = Utc::now() - Duration::minutes(1);
    execute(&app.db.db, "UPDATE integrations SET confirm_expires_at = $1 WHERE id = $2", past, id).await;
    let (status, body) = confirm(second.clone()).await;
    assert_eq!(status, 422);
    assert!(message(&body).contains("expired"), "{body}");

    // A fresh one works; afterwards, no more codes.
    execute(&app.db.db, "UPDATE integrations SET confirm_sent_at = $1 WHERE id = $2", earlier, id).await;
    assert_eq!(resend().await.0, 200);
    let third = last_code(&app, &key, "ntfys://");
    let (status, body) = confirm(third.clone()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("active")));
    let (status, body) = resend().await;
    assert_eq!(status, 409);
    assert!(body["detail"].as_str().unwrap().contains("already confirmed"));
    let (status, _) = confirm(third).await;
    assert_eq!(status, 200, "confirming again is harmless");

    // A code that does not reach anyone says so, and the channel waits.
    let (status, body) = api(
        &app,
        &token,
        Method::POST,
        "/api/v1/integrations",
        Some(api_channel("Hook", &[("jsons://hooks.example.org/down", &[])])),
    )
    .await;
    assert_eq!(status, 201);
    let hook_id = body["id"].as_str().unwrap().to_owned();
    app.apprise.set_down("jsons://", true);
    execute(
        &app.db.db,
        "UPDATE integrations SET confirm_sent_at = $1 WHERE id = $2",
        earlier,
        Uuid::parse_str(&hook_id).unwrap(),
    )
    .await;
    let (status, body) =
        api(&app, &token, Method::POST, &format!("/api/v1/integrations/{hook_id}/code"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["outcome"], "unavailable", "{body}");
    assert!(body["message"].as_str().unwrap().contains("was not delivered"), "{body}");
    app.stop().await;
}

async fn editing_renaming_and_switching_channels(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();
    let (id, key) = confirmed_channel(&app, &token, "Phone", &[(PHONE_URL, &["phone"])]).await;
    confirmed_channel(&app, &token, "Mail", &[(MAIL_URL, &[])]).await;
    let path = format!("/integrations/{id}");

    // Rename: a name in use is refused.
    let r = ada.post(&format!("{path}/rename"), &[("name", "Mail")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("You already have a channel named “Mail”"));
    let page = follow(&ada, ada.post(&format!("{path}/rename"), &[("name", "Pocket")]).await).await;
    assert!(page.contains("now called “Pocket”"));

    // Disable and enable.
    let page = follow(&ada, ada.post(&format!("{path}/enabled"), &[("enabled", "false")]).await).await;
    assert!(page.contains("is disabled") && page.contains("Disabled"), "{page}");
    let (_, body) = api(&app, &token, Method::GET, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!((body["status"].as_str(), body["enabled"].as_bool()), (Some("disabled"), Some(false)));
    let (status, body) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"enabled": true, "name": "Phone"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["status"].as_str(), body["name"].as_str()), (Some("active"), Some("Phone")));

    // New URLs: re-pushed under the same key, unconfirmed until the new code is entered.
    let (status, page) = ada.page(&format!("{path}/edit")).await;
    assert_eq!(status, 200);
    assert!(page.contains("ntfys://****@ntfy.example.org/****") && page.contains("enter all the URLs again"));
    let new_url = "ntfys://ntfy.example.org/new-topic";
    let r = ada.post(&format!("{path}/edit"), &[("url_0", new_url), ("tags_0", "phone, pager")]).await;
    let page = follow(&ada, r).await;
    assert!(page.contains("Awaiting confirmation") && page.contains("We sent a 6-digit code"), "{page}");
    assert_eq!(app.apprise.stored_config(&key).as_deref(), Some(format!("pager,phone={new_url}\n").as_str()));
    let row = app.db.db.integration_of(ada_id, id).await.unwrap().unwrap();
    assert!(row.verified_at.is_none());
    assert_eq!(row.tags.0, vec!["pager", "phone"]);
    let code = last_code(&app, &key, new_url);
    follow(&ada, ada.post(&format!("{path}/confirm"), &[("code", &code)]).await).await;
    // A bad edit changes nothing, also when only the Apprise API can tell.
    let r = ada.post(&format!("{path}/edit"), &[("url_0", "bad")]).await;
    assert_eq!(r.status(), 422);
    let r = ada.post(&format!("{path}/edit"), &[("url_0", new_url), ("url_1", "revolt://x")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("did not recognise 1 of these 2 URLs"));
    assert_eq!(app.apprise.stored_config(&key).as_deref(), Some(format!("pager,phone={new_url}\n").as_str()));
    assert!(app.db.db.integration_of(ada_id, id).await.unwrap().unwrap().verified_at.is_some());

    // Through the API: PATCH with URLs.
    let (status, body) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"urls": [{"url": PHONE_URL, "tags": ["phone"]}]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["confirmation"]["outcome"].as_str()),
        (Some("awaiting_confirmation"), Some("delivered"))
    );
    let (status, body) = api(
        &app,
        &token,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"name": "Mail", "urls": [{"url": "x"}]})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
    app.stop().await;
}

async fn guided_forms_build_the_url(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;
    for (service, fields, expected) in [
        (
            "telegram",
            vec![("bot_token", "123456789:AAH-secret_x"), ("chat_id", "-1001234")],
            "tgram://123456789:AAH-secret_x/-1001234",
        ),
        ("ntfy", vec![("topic", "ada-alerts"), ("server", ""), ("token", "")], "ntfys://ntfy.sh/ada-alerts"),
        (
            "discord",
            vec![("webhook_url", "https://discord.com/api/webhooks/4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js")],
            "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
        ),
        (
            "email",
            vec![
                ("to", "ada@example.org"),
                ("smtp_host", "smtp.example.org"),
                ("port", ""),
                ("username", "ada@example.org"),
                ("password", "p@ss word"),
                ("from", ""),
            ],
            "mailtos://ada%40example.org:p%40ss%20word@smtp.example.org?to=ada%40example.org",
        ),
    ] {
        let (status, page) = ada.page(&format!("/integrations/new/{service}")).await;
        assert_eq!(status, 200, "{service}");
        assert!(page.contains(r#"name="tags""#));
        let mut form = fields.clone();
        let name = format!("My {service}");
        form.push(("name", &name));
        form.push(("tags", "phone"));
        let r = ada.post(&format!("/integrations/new/{service}"), &form).await;
        assert_eq!(r.status(), 303, "{service}: {}", r.text().await.unwrap());
        let id = id_in(&location(&r));
        let key = key_of(&app, ada_id, id).await;
        assert_eq!(app.apprise.stored_config(&key), Some(format!("phone={expected}\n")), "{service}");
        let page = follow(&ada, r).await;
        assert!(page.contains("We sent a 6-digit code"), "{service}: {page}");
        assert!(!page.contains("AAH-secret_x") && !page.contains("JHMHI8q") && !page.contains("p%40ss"));
    }
    // A password is never shown back, even when something else was wrong.
    let r = ada
        .post(
            "/integrations/new/telegram",
            &[("name", "x"), ("bot_token", "123:AAH-secret_y"), ("chat_id", "not a chat")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(!page.contains("AAH-secret_y") && page.contains("A chat ID is a number"));
    app.stop().await;
}

async fn default_tags_on_the_page_and_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();

    let (status, body) = api(&app, &token, Method::GET, "/api/v1/me/notification-defaults", None).await;
    assert_eq!((status, body), (200, json!({"reminder_tags": [], "urgent_tags": []})));
    let page = follow(
        &ada,
        ada.post("/integrations/defaults", &[("reminder_tags", "Email"), ("urgent_tags", "phone, email")])
            .await,
    )
    .await;
    assert!(page.contains("Your default tags are saved."));
    assert!(page.contains(r#"value="email""#) && page.contains(r#"value="email, phone""#), "{page}");
    let (_, body) = api(&app, &token, Method::GET, "/api/v1/me/notification-defaults", None).await;
    assert_eq!(body, json!({"reminder_tags": ["email"], "urgent_tags": ["email", "phone"]}));

    let r = ada.post("/integrations/defaults", &[("reminder_tags", "email, all"), ("urgent_tags", "")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(r##"href="#f-reminder_tags""##) && page.contains("is reserved"));
    let (status, body) = api(
        &app,
        &token,
        Method::PUT,
        "/api/v1/me/notification-defaults",
        Some(json!({"reminder_tags": ["phone"], "urgent_tags": ["ok", "no way"]})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "urgent_tags[1]");
    let (status, body) = api(
        &app,
        &token,
        Method::PUT,
        "/api/v1/me/notification-defaults",
        Some(json!({"reminder_tags": ["Phone"], "urgent_tags": []})),
    )
    .await;
    assert_eq!((status, body), (200, json!({"reminder_tags": ["phone"], "urgent_tags": []})));
    app.stop().await;
}

async fn log_only_mode_sends_nothing_and_logs_the_code(backend: Backend) {
    capture_logs();
    let app = TestApp::start_log_only(backend).await;
    // No mail in log-only mode either: the account is made verified directly.
    let hash =
        herald::accounts::password::hash(&herald::domain::Password::parse(PASSWORD).unwrap()).await.unwrap();
    let user = app
        .db
        .db
        .create_user(&herald::db::users::NewUser {
            email: "ada@example.org",
            display_name: "Ada",
            password_hash: Some(&hash),
            timezone: "UTC",
            verified: true,
        })
        .await
        .unwrap();
    let ada = app.visitor();
    let r = ada.post("/signin", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 303);

    // Ada is no operator: the pages say nothing about the mode (the outcome of what she does
    // still says where the code went).
    let (status, page) = ada.page("/integrations").await;
    assert_eq!(status, 200);
    assert!(!page.to_lowercase().contains("log-only"), "{page}");

    let r = ada.post("/integrations", &[("name", "Phone"), ("url_0", PHONE_URL), ("tags_0", "phone")]).await;
    let path = location(&r);
    let id = id_in(&path);
    let page = follow(&ada, r).await;
    assert!(page.contains("written to Herald's log"), "{page}");

    // The code is in the log, next to the channel's id; the URL is not.
    let code =
        crate::support::eventually(std::time::Duration::from_secs(5), "the code in the log", || async {
            captured_logs()
                .lines()
                .find(|l| l.contains("log-only mode: confirmation code") && l.contains(&id.to_string()))
                .and_then(|l| l.split("code=").nth(1).and_then(six_digits))
        })
        .await;
    assert_no_secret("the log", &captured_logs());
    let page = follow(&ada, ada.post(&format!("{path}/confirm"), &[("code", &code)]).await).await;
    assert!(page.contains("is confirmed and active"), "{page}");
    let page = follow(&ada, ada.post(&format!("{path}/test"), &[]).await).await;
    assert!(page.contains("log-only mode"), "{page}");

    // The API says the same; deleting needs no Apprise API.
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(user.id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();
    let (status, body) =
        api(&app, &token, Method::POST, &format!("/api/v1/integrations/{id}/test"), None).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("log_only")));
    let (status, body) = api(
        &app,
        &token,
        Method::POST,
        "/api/v1/integrations",
        Some(api_channel("Mail", &[(MAIL_URL, &[])])),
    )
    .await;
    assert_eq!(
        (status, body["config_push"].as_str(), body["confirmation"]["outcome"].as_str()),
        (201, Some("log_only"), Some("log_only"))
    );
    let (status, _) = api(&app, &token, Method::DELETE, &format!("/api/v1/integrations/{id}"), None).await;
    assert_eq!(status, 204);
    assert!(
        app.apprise.delivered().is_empty() && app.apprise.keys().is_empty(),
        "nothing reached an Apprise API"
    );
    app.stop().await;
}

async fn unverified_users_cannot_add_channels(backend: Backend) {
    let app = TestApp::start(backend).await;
    let eve = app.signed_up("eve@example.org", "Eve", false).await;
    let (status, page) = eve.page("/integrations").await;
    assert_eq!(status, 200);
    assert!(page.contains("Verify your email address to add notification channels"));
    assert!(!page.contains(r#"<a class="button" href="/integrations/new""#));
    for path in ["/integrations/new", "/integrations/new/ntfy"] {
        let (status, page) = eve.page(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("Verify your email address first"), "{path}");
    }
    let r = eve.post("/integrations", &[("name", "Phone"), ("url_0", PHONE_URL)]).await;
    assert_eq!(r.status(), 403);
    let r = eve.post("/integrations/new/ntfy", &[("name", "Phone"), ("topic", "abc")]).await;
    assert_eq!(r.status(), 403);

    let (_, token) = api_user(&app, "mal@example.org", "Mal", false).await;
    let (status, body) = api(
        &app,
        &token,
        Method::POST,
        "/api/v1/integrations",
        Some(api_channel("Phone", &[(PHONE_URL, &[])])),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body["detail"].as_str().unwrap().contains("Verify your email address"));
    assert!(app.apprise.keys().is_empty(), "nothing was pushed");
    // Signed out: to the sign-in page.
    let r = app.visitor().get("/integrations").await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/signin?next="));
    app.stop().await;
}

async fn resync_pushes_every_config_again(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let (bob, bob_token) = api_user(&app, "bob@example.org", "Bob", true).await;
    let (a, a_key) = confirmed_channel(&app, &token, "Phone", &[(PHONE_URL, &["phone"])]).await;
    let (b, b_key) = confirmed_channel(&app, &bob_token, "Hook", &[(HOOK_URL, &[])]).await;
    // The Apprise API lost its storage.
    app.apprise.forget(&a_key);
    app.apprise.forget(&b_key);
    let keys = herald::secrets::SecretKey::load(None, app.db.data_dir.path()).unwrap();
    let client = herald_workflows::apprise::AppriseClient::new(
        url::Url::parse(&app.apprise.base).unwrap(),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let report = herald::integrations::resync_all(&app.db.db, &keys, &client).await.unwrap();
    assert_eq!((report.pushed, report.failed), (2, 0));
    assert_eq!(app.apprise.stored_config(&a_key), Some(format!("phone={PHONE_URL}\n")));
    assert_eq!(app.apprise.stored_config(&b_key), Some(format!("{HOOK_URL}\n")));
    app.apprise.set_failing(true);
    let report = herald::integrations::resync_all(&app.db.db, &keys, &client).await.unwrap();
    assert_eq!((report.pushed, report.failed), (0, 2));
    app.apprise.set_failing(false);
    // Nothing else changed: both still confirmed and their owners'.
    assert!(app.db.db.integration_of(ada.id, a).await.unwrap().unwrap().verified_at.is_some());
    assert!(app.db.db.integration_of(bob.id, b).await.unwrap().unwrap().verified_at.is_some());
    app.stop().await;
}

/// A real browser (headless Chromium) adds a channel through the ntfy form, enters the code the
/// fake Apprise API received, and sends a test; screenshots land in `target/screenshots/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_in_a_real_browser() {
    use crate::support::browser::ChromeDriver;
    let app = TestApp::start(Backend::Sqlite).await;
    app.signed_up("ada@example.org", "Ada", true).await;
    let driver = ChromeDriver::start().await;
    let ada = driver.session().await.at(&app.base);
    ada.open("/signin").await;
    ada.fill("Email", "ada@example.org").await;
    ada.fill("Password", PASSWORD).await;
    ada.click_button("Sign in").await;
    // Signing in lands on the home page.
    ada.wait_for_path("/").await;

    ada.click_link("Channels").await;
    ada.wait_for_heading("Where should we remind you?").await;
    ada.wait_for_text("Email — ada@example.org").await;
    ada.screenshots("integrations-email-only").await;
    ada.click_link("Add a channel").await;
    ada.wait_for_heading("Add a channel").await;
    ada.screenshots("integration-new").await;
    ada.click_link("ntfy").await;
    ada.wait_for_heading("Add a ntfy channel").await;
    ada.fill("Name", "My phone").await;
    ada.fill("Topic", "ada-browser-topic").await;
    // Tags are folded under "Advanced".
    ada.js("document.querySelector('details.advanced > summary').click(); return null").await;
    ada.fill("Tags", "phone, urgent").await;
    ada.click_button("Save and send the code").await;
    ada.wait_for_flash("We sent a 6-digit code").await;
    ada.wait_for_text("Awaiting confirmation").await;
    ada.wait_for_text("ntfys://ntfy.sh/****").await;
    ada.screenshots("integration-awaiting").await;

    let path = ada.path().await;
    let key = key_of(&app, user_id(&app, "ada@example.org").await, id_in(&path)).await;
    assert_eq!(
        app.apprise.stored_config(&key),
        Some("phone,urgent=ntfys://ntfy.sh/ada-browser-topic\n".into())
    );
    let code = last_code(&app, &key, "ntfys://ntfy.sh/ada-browser-topic");
    ada.fill("Confirmation code", &wrong(&code)).await;
    ada.click_button("Confirm My phone").await;
    ada.wait_for_text("That is not the code we sent").await;
    let invalid =
        ada.js("return document.querySelector('input[name=code]').getAttribute('aria-invalid')").await;
    assert_eq!(invalid, "true", "the rejected field is marked for screen readers");
    ada.screenshots("integration-wrong-code").await;
    ada.fill("Confirmation code", &code).await;
    ada.click_button("Confirm My phone").await;
    ada.wait_for_flash("is confirmed and active").await;
    ada.click_button("Send test through My phone").await;
    ada.wait_for_flash("The test message was delivered to every URL of this channel.").await;
    ada.screenshots("integration-active").await;
    let tests = app.apprise.delivered_to("ntfys://ntfy.sh/ada-browser-topic");
    assert!(tests.iter().any(|d| d.title == "Herald test message"), "the test reached the channel");

    ada.click_link("← All channels").await;
    ada.wait_for_heading("Where should we remind you?").await;
    ada.wait_for_text("Active").await;
    ada.screenshots("integrations").await;
    drop(driver);
    app.stop().await;
}

async fn an_account_has_at_most_twenty_channels(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_ada, token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let create = |n: usize| {
        let (app, token) = (&app, &token);
        async move {
            let url = format!("ntfys://ntfy.example.org/topic-{n}");
            api(
                app,
                token,
                Method::POST,
                "/api/v1/integrations",
                Some(api_channel(&format!("C{n}"), &[(&url, &[])])),
            )
            .await
        }
    };
    for n in 0..herald::integrations::MAX_CHANNELS {
        assert_eq!(create(n).await.0, 201, "channel {n}");
    }
    let (status, problem) = create(99).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("the most an account can have"), "{problem}");
    app.stop().await;
}

/// `html` without its "Advanced" sections (`<details class="… advanced">…</details>`).
fn outside_advanced(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find("<details class=\"") {
        let tag_end = at + rest[at..].find('>').unwrap_or(0);
        if !rest[at..tag_end].contains("advanced") {
            out.push_str(&rest[..=tag_end]);
            rest = &rest[tag_end + 1..];
            continue;
        }
        out.push_str(&rest[..at]);
        let end = rest[at..].find("</details>").map_or(rest.len(), |e| at + e + "</details>".len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The channel pages ask "Where should we remind you?" and name services; "Apprise URL" (and
/// tags) appear only under "Advanced", for people who paste URLs themselves.
async fn channels_in_plain_words(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    for path in ["/integrations", "/integrations/new", "/integrations/new/ntfy"] {
        let (status, page) = ada.page(path).await;
        assert_eq!(status, 200, "{path}");
        let plain = outside_advanced(&page);
        assert!(!plain.contains("Apprise URL"), "{path}: {plain}");
        assert!(
            !plain.contains("Tags for URL") && !plain.contains("name=\"tags"),
            "{path}: tags are advanced"
        );
        if path != "/integrations/new/ntfy" {
            assert!(page.contains("Where should we remind you?"), "{path}");
        }
    }
    let (_, page) = ada.page("/integrations/new").await;
    for service in ["ntfy", "Telegram", "Discord", "Slack", "Gotify"] {
        assert!(outside_advanced(&page).contains(&format!("<strong>{service}</strong>")), "{service}");
    }
    // The technical way is still there, folded.
    assert!(page.contains("<summary>Advanced: paste Apprise URLs</summary>"), "{page}");
    assert!(page.contains("href=\"https://github.com/caronc/apprise/wiki\""), "{page}");
    assert!(page.contains("name=\"url_0\""));
    let (_, page) = ada.page("/integrations").await;
    assert!(page.contains("<summary>Advanced: tags</summary>"), "{page}");
    app.stop().await;
}

/// A service Herald does not send through is refused with the list of what it accepts.
async fn an_unknown_service_is_refused_saying_what_is_accepted(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let r =
        ada.post("/integrations", &[("name", "Fax"), ("url_0", "fax://0123456789"), ("tags_0", "")]).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    let message = "Herald does not send through “fax://”. It accepts ntfy, Telegram, Discord, Slack, Gotify, \
                   email (mailto) and webhooks (json/xml/form).";
    assert!(page.contains(message), "{page}");
    assert!(page.contains("<details class=\"card advanced\" open>"), "the form is open again: {page}");
    app.stop().await;
}

/// From an event's page, "add one" leads through adding and confirming a channel and back to
/// the event; a way back to another site is ignored.
async fn setting_up_a_channel_from_an_event_comes_back_to_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (olga, org) = crate::orgs::owner_of(&app, "olga@example.org", "Olga", "Rust Paris").await;
    let r = olga
        .post(
            &format!("/orgs/{}/events", org.slug),
            &[
                ("name", "Rust night"),
                ("start", "2030-06-01T18:30"),
                ("end", "2030-06-01T20:00"),
                ("timezone", "Europe/Paris"),
                ("location", "Room 1"),
                ("visibility", "public"),
                ("remind_1d", "on"),
                ("notify_reminders", "on"),
                ("status", "published"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let ev = Uuid::parse_str(location(&r).rsplit('/').next().unwrap()).unwrap();
    let slug = app.db.db.event(ev).await.unwrap().unwrap().slug;
    let public = format!("/o/rust-paris/e/{slug}");
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = user_id(&app, "ada@example.org").await;

    // The RSVP card links to adding a channel, with the way back.
    let (_, page) = ada.page(&public).await;
    let next: String = url::form_urlencoded::byte_serialize(format!("{public}#rsvp").as_bytes()).collect();
    let add = format!("/integrations/new?next={next}");
    assert!(page.contains(&format!("href=\"{add}\"")), "{page}");
    let (_, page) = ada.page(&add).await;
    assert!(page.contains("Back to Rust night"), "{page}");
    assert!(
        page.contains(&format!("href=\"/integrations/new/ntfy?next={}\"", next.replace("%2F", "/"))),
        "{page}"
    );
    let (_, page) = ada.page(&format!("/integrations/new/ntfy?next={next}")).await;
    assert!(page.contains(&format!("name=\"next\" value=\"{public}#rsvp\"")), "{page}");

    // Saved through the guided form: the channel's page keeps the way back.
    let r = ada
        .post(
            "/integrations/new/ntfy",
            &[
                ("name", "My phone"),
                ("server", "ntfy.example.org"),
                ("topic", "ada-next-topic"),
                ("next", &format!("{public}#rsvp")),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let path = location(&r);
    assert!(path.ends_with(&format!("?next={next}")), "{path}");
    let id = id_in(&path);
    let (_, page) = ada.page(&path).await;
    assert!(
        page.contains(&format!("name=\"next\" value=\"{public}#rsvp\"")),
        "the code form carries it: {page}"
    );
    assert!(page.contains("Once the channel is confirmed, Herald takes you back."), "{page}");

    // Confirmed: back to the event, where the channel is offered.
    let key = key_of(&app, ada_id, id).await;
    let code = last_code(&app, &key, "ntfys://ntfy.example.org/ada-next-topic");
    let r = ada
        .post(&format!("/integrations/{id}/confirm"), &[("code", &code), ("next", &format!("{public}#rsvp"))])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("{public}#rsvp"));
    let (_, page) = ada.page(&public).await;
    assert!(page.contains("“My phone” is confirmed and active"), "{page}");
    assert!(page.contains(&format!("name=\"channel\" value=\"{id}\"")), "{page}");
    // The channel's page offers the way back by name once confirmed.
    let (_, page) = ada.page(&path).await;
    assert!(page.contains(&format!("href=\"{public}#rsvp\">Back to Rust night</a>")), "{page}");

    // Another site as the way back is ignored, everywhere.
    for evil in ["https://evil.example/x", "//evil.example/x", "/\\evil.example"] {
        let q: String = url::form_urlencoded::byte_serialize(evil.as_bytes()).collect();
        let (status, page) = ada.page(&format!("/integrations/new?next={q}")).await;
        assert_eq!(status, 200);
        assert!(!page.contains("evil.example") && !page.contains("name=\"next\""), "{evil}: {page}");
        let (_, page) = ada.page(&format!("/integrations/{id}?next={q}")).await;
        assert!(!page.contains("evil.example"), "{evil}");
    }
    let r = ada
        .post(
            "/integrations/new/ntfy",
            &[
                ("name", "Pager"),
                ("server", "ntfy.example.org"),
                ("topic", "ada-pager"),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let path = location(&r);
    assert!(!path.contains("next") && !path.contains("evil"), "{path}");
    let id = id_in(&path);
    let code = last_code(&app, &key_of(&app, ada_id, id).await, "ntfys://ntfy.example.org/ada-pager");
    let r = ada
        .post(&format!("/integrations/{id}/confirm"), &[("code", &code), ("next", "https://evil.example/")])
        .await;
    assert_eq!(location(&r), format!("/integrations/{id}"), "not to another site");
    app.stop().await;
}

/// In log-only mode, the notice is for operators (a confirmed address in HERALD_ADMIN_EMAILS),
/// once per page; nobody else sees anything about it.
async fn the_log_only_notice_is_for_operators_only(backend: Backend) {
    let app = TestApp::start_log_only(backend).await;
    let ops = app.signed_up(crate::support::OPERATOR, "Ops", false).await;
    let ada = app.signed_up("ada@example.org", "Ada", false).await;
    for who in [crate::support::OPERATOR, "ada@example.org"] {
        let id = user_id(&app, who).await;
        herald::accounts::mark_verified(&app.db.db, id).await.unwrap();
    }
    for path in ["/", "/integrations", "/integrations/new", "/account"] {
        let (status, page) = ops.page(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            page.matches("id=\"log-only-notice\"").count(),
            1,
            "{path}: once for the operator: {page}"
        );
        assert!(page.contains("Log-only mode."), "{path}");
        let (_, page) = ada.page(path).await;
        assert!(!page.to_lowercase().contains("log-only"), "{path}: nothing for others: {page}");
        let (_, page) = app.visitor().page(path).await;
        assert!(!page.to_lowercase().contains("log-only"), "{path}: nothing for visitors");
    }
    app.stop().await;
}
