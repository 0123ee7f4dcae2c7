//! Account pages, preferences, API tokens and the operator commands.

use std::process::Stdio;

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::support::{
    Backend, MAIL_URL, PASSWORD, TestApp, Visitor, capture_logs, captured_logs, herald_bin,
};

both_backends!(
    preferences_page_and_api,
    tokens_on_the_account_page,
    tokens_through_the_api,
    token_use_is_recorded_to_the_minute,
    tokens_expire_are_capped_and_end_with_a_password_reset,
    operator_commands
);

/// The new token shown on the "Your new API token" page.
fn token_in(body: &str) -> String {
    let marker = r#"readonly value=""#;
    let start = body.find(marker).expect("the page shows the new token") + marker.len();
    body[start..].chars().take_while(|c| *c != '"').collect()
}

/// Creates a token through the account page; returns it.
async fn token_for(v: &Visitor, name: &str) -> String {
    let r = v.post("/account/tokens", &[("name", name)]).await;
    assert_eq!(r.status(), 200, "token created");
    token_in(&r.text().await.unwrap())
}

/// The ids in the revoke buttons of a token list page, in page order.
fn revoke_paths(body: &str) -> Vec<String> {
    body.match_indices(r#"action="/account/tokens/"#)
        .map(|(i, _)| body[i + 8..].chars().take_while(|c| *c != '"').collect())
        .collect()
}

async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.http.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let r = api(app, reqwest::Method::GET, "/api/v1/me", Some(token), None).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Whether the radio button with this value is checked.
fn checked(page: &str, value: &str) -> bool {
    let needle = format!(r#"name="date_format" value="{value}""#);
    page.find(&needle)
        .is_some_and(|i| page[i..].split('>').next().is_some_and(|tag| tag.contains(" checked")))
}

/// A 401 as API clients expect it: problem+json with a bearer challenge.
fn assert_unauthorized(r: &reqwest::Response) {
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer");
}

async fn preferences_page_and_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    // Signed out, the page asks to sign in and comes back.
    let r = app.get("/account").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/signin?next=%2Faccount");

    let ada = app.signed_up("ada@example.org", "Ada Lovelace", false).await;
    let (status, page) = ada.page("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("ada@example.org") && page.contains("Not verified"));
    assert!(page.contains(r#"action="/verify/resend""#), "offers to send the link again");
    assert!(page.contains(r#"value="Europe/Paris""#), "the time zone chosen at sign-up");
    assert!(page.contains(r#"<option value="America/New_York">"#), "zones are proposed while typing");
    assert!(checked(&page, "iso") && !checked(&page, "dmy"), "ISO dates by default");

    // Every bad field is named, the typed values are kept, nothing is saved.
    let r = ada
        .post("/account", &[("display_name", "  "), ("timezone", "Mars/Olympus"), ("date_format", "yyyy")])
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("Enter a name."), "name error");
    assert!(page.contains("is not a known time zone"), "time zone error");
    assert!(page.contains("Choose one of the date formats."), "date format error");
    for field in ["display_name", "timezone", "date_format"] {
        assert!(page.contains(&format!(r##"href="#f-{field}""##)), "the summary links to {field}");
    }
    assert!(page.contains(r#"value="Mars/Olympus""#), "the typed zone is kept for correction");
    let user = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap();
    assert_eq!((user.display_name.as_str(), user.timezone.name()), ("Ada Lovelace", "Europe/Paris"));

    // A good update is saved and confirmed.
    let r = ada
        .post(
            "/account",
            &[("display_name", "Ada King"), ("timezone", "America/New_York"), ("date_format", "dmy")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account");
    let (_, page) = ada.page("/account").await;
    assert!(page.contains("Your preferences are saved."), "flash shown");
    assert!(page.contains(r#"value="Ada King""#) && page.contains(r#"value="America/New_York""#));
    assert!(checked(&page, "dmy") && !checked(&page, "iso"));

    // The API sees the same preferences.
    let token = token_for(&ada, "prefs").await;
    let (status, body) = me(&app, &token).await;
    assert_eq!(status, 200);
    assert_eq!(body["display_name"], "Ada King");
    assert_eq!(body["timezone"], "America/New_York");
    assert_eq!(body["date_format"], "dmy");
    assert_eq!(body["verified"], false);

    // Once verified, the page says since when, written the way Ada chose.
    let link = app.mailed_link("ada@example.org", "/verify/").unwrap();
    assert_eq!(ada.get(&link).await.status(), 303);
    let (_, page) = ada.page("/account").await;
    let today =
        chrono::Utc::now().with_timezone(&chrono_tz::America::New_York).format("%d/%m/%Y").to_string();
    assert!(page.contains("Verified") && !page.contains("Not verified"));
    assert!(page.contains(&today), "verification date in dd/mm/yyyy ({today})");

    // PATCH /api/v1/me changes only what it is given…
    let r = api(
        &app,
        reqwest::Method::PATCH,
        "/api/v1/me",
        Some(&token),
        Some(json!({"timezone": "Asia/Tokyo"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["timezone"].as_str(), body["display_name"].as_str()),
        (Some("Asia/Tokyo"), Some("Ada King"))
    );
    let (_, page) = ada.page("/account").await;
    assert!(page.contains(r#"value="Asia/Tokyo""#), "the page shows the zone set through the API");

    // …and names every bad field.
    let r = api(
        &app,
        reqwest::Method::PATCH,
        "/api/v1/me",
        Some(&token),
        Some(json!({"display_name": "", "timezone": "Nowhere/Land", "date_format": "ymd"})),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    let mut fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["date_format", "display_name", "timezone"]);
    assert!(problem["errors"].as_array().unwrap().iter().all(|e| !e["message"].as_str().unwrap().is_empty()));
    let (_, body) = me(&app, &token).await;
    assert_eq!(body["timezone"], "Asia/Tokyo", "nothing saved from a rejected request");

    // A misspelt field is refused rather than silently ignored; no token, no change.
    let r = api(&app, reqwest::Method::PATCH, "/api/v1/me", Some(&token), Some(json!({"time_zone": "UTC"})))
        .await;
    assert_eq!(r.status(), 400);
    let r = api(&app, reqwest::Method::PATCH, "/api/v1/me", None, Some(json!({"timezone": "UTC"}))).await;
    assert_unauthorized(&r);
    app.stop().await;
}

async fn tokens_on_the_account_page(backend: Backend) {
    capture_logs();
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let bob = app.signed_up("bob@example.org", "Bob", true).await;

    let (status, page) = ada.page("/account/tokens").await;
    assert_eq!(status, 200);
    assert!(page.contains("No tokens yet"), "empty state");

    // Names are required and short.
    let r = ada.post("/account/tokens", &[("name", " ")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Enter a name."));
    let long = "x".repeat(101);
    let r = ada.post("/account/tokens", &[("name", &long)]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Use 100 characters at most."));

    // Created: shown once, on the answer itself, never in a cookie or a cache.
    let r = ada.post("/account/tokens", &[("name", "CI deploys")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    let cookies: Vec<String> =
        r.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let page = r.text().await.unwrap();
    let token = token_in(&page);
    assert!(token.starts_with("herald_") && token.len() == "herald_".len() + 43, "{token}");
    assert!(page.contains("cannot show it to you again"), "warns it is shown once");
    assert!(cookies.iter().all(|c| !c.contains(&token)), "not in a cookie: {cookies:?}");

    // It works on the API; without its prefix it does not.
    let (status, body) = me(&app, &token).await;
    assert_eq!((status, body["email"].as_str()), (200, Some("ada@example.org")));
    let r = api(&app, reqwest::Method::GET, "/api/v1/me", Some(&token["herald_".len()..]), None).await;
    assert_unauthorized(&r);

    // Listed with its last use, never with its value.
    let (_, page) = ada.page("/account/tokens").await;
    assert!(page.contains("CI deploys") && page.contains("Active"));
    assert!(
        !page.contains(r#"<td data-label="Last used"><span class="muted">Never"#),
        "last use is recorded"
    );
    assert!(!page.contains(&token) && !page.contains(&herald::secrets::hash_token(&token)));
    let paths = revoke_paths(&page);
    assert_eq!(paths.len(), 1);

    // Bob cannot revoke Ada's token, nor find out that it exists.
    let r = bob.post(&paths[0], &[]).await;
    assert_eq!(r.status(), 404);
    assert_eq!(bob.post("/account/tokens/not-a-token/revoke", &[]).await.status(), 404);
    assert_eq!(me(&app, &token).await.0, 200, "still works");

    // Ada revokes it: it stops working at once.
    let r = ada.post(&paths[0], &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account/tokens");
    let r = api(&app, reqwest::Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_unauthorized(&r);
    let (_, page) = ada.page("/account/tokens").await;
    assert!(page.contains("is revoked") && page.contains("Revoked"));
    assert!(revoke_paths(&page).is_empty(), "no revoke button for a revoked token");

    // Nothing secret reached a page or the log.
    let logs = captured_logs();
    assert!(logs.contains("API token created"), "logs are captured: {logs}");
    assert!(!logs.contains(&token), "the token is never logged");
    assert!(!logs.contains(&token["herald_".len()..]));
    assert!(!logs.contains(PASSWORD), "no password in the log");
    assert!(!logs.contains(MAIL_URL) && !logs.contains("mail-secret-pw"), "the mail URL is never logged");
    for path in ["/account", "/account/tokens"] {
        let (_, page) = ada.page(path).await;
        assert!(!page.contains(&token) && !page.contains("mail-secret-pw"), "{path}");
    }
    app.stop().await;
}

/// Checking a bearer token does not write on every request: its last use is recorded when it
/// is first used, then at most once a minute, and the account page and the API show it.
async fn token_use_is_recorded_to_the_minute(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let token = token_for(&ada, "CI deploys").await;
    let never = r#"<td data-label="Last used"><span class="muted">Never"#;
    assert!(ada.page("/account/tokens").await.1.contains(never), "not used yet");
    let recorded = || async {
        let user = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap();
        app.db.db.api_tokens_of(user.id).await.unwrap()[0].last_used_at
    };

    // The first use is recorded, and shown.
    let before = chrono::Utc::now();
    assert_eq!(me(&app, &token).await.0, 200);
    let first = recorded().await.expect("the first use is recorded");
    assert!(first >= before - chrono::Duration::seconds(1), "{first} vs {before}");
    let (_, page) = ada.page("/account/tokens").await;
    assert!(!page.contains(never), "the page shows the last use: {page}");

    // More uses within the minute write nothing.
    for _ in 0..5 {
        assert_eq!(me(&app, &token).await.0, 200);
    }
    assert_eq!(recorded().await, Some(first), "not rewritten within the minute");

    // A use more than a minute after the recorded one is recorded again.
    let user = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap();
    let id = app.db.db.api_tokens_of(user.id).await.unwrap()[0].id;
    let long_ago = chrono::Utc::now() - chrono::Duration::minutes(5);
    crate::integrations::execute(
        &app.db.db,
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2",
        long_ago,
        id,
    )
    .await;
    let before = chrono::Utc::now();
    assert_eq!(me(&app, &token).await.0, 200);
    let again = recorded().await.unwrap();
    assert!(again >= before - chrono::Duration::seconds(1), "recorded anew: {again} vs {before}");
    let r = api(&app, reqwest::Method::GET, "/api/v1/me/tokens", Some(&token), None).await;
    let list: Value = r.json().await.unwrap();
    let shown: chrono::DateTime<chrono::Utc> = list[0]["last_used_at"].as_str().unwrap().parse().unwrap();
    assert!((shown - again).abs() < chrono::Duration::seconds(61), "the API shows it: {list}");
    app.stop().await;
}

async fn tokens_through_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let bob = app.signed_up("bob@example.org", "Bob", true).await;
    let first = token_for(&ada, "bootstrap").await;
    let bobs = token_for(&bob, "bob's").await;
    let post = reqwest::Method::POST;

    let r = api(&app, post.clone(), "/api/v1/me/tokens", Some(&first), Some(json!({"name": "deploy"}))).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let second = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(second.starts_with("herald_") && second != first);
    assert_eq!(created["name"], "deploy");
    assert_eq!(me(&app, &second).await.0, 200, "the new token works");

    // Bad names are 422 naming the field; no token is 401.
    let r = api(&app, post.clone(), "/api/v1/me/tokens", Some(&first), Some(json!({"name": ""}))).await;
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "name");
    assert_unauthorized(
        &api(&app, post.clone(), "/api/v1/me/tokens", None, Some(json!({"name": "x"}))).await,
    );

    // Listed without values.
    let r = api(&app, reqwest::Method::GET, "/api/v1/me/tokens", Some(&second), None).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(!text.contains(&first) && !text.contains(&second), "values never listed");
    let list: Value = serde_json::from_str(&text).unwrap();
    let mut names: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["bootstrap", "deploy"], "only Ada's tokens");
    let deploy = list.as_array().unwrap().iter().find(|t| t["name"] == "deploy").unwrap();
    assert_eq!(deploy["active"], true);
    assert!(deploy["last_used_at"].is_string(), "last use recorded");

    // Bob cannot revoke Ada's token: 404, as if it did not exist.
    let path = format!("/api/v1/me/tokens/{id}");
    let r = api(&app, reqwest::Method::DELETE, &path, Some(&bobs), None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(me(&app, &second).await.0, 200);
    let r = api(&app, reqwest::Method::DELETE, "/api/v1/me/tokens/not-a-uuid", Some(&first), None).await;
    assert_eq!(r.status(), 404);

    // Ada revokes it: it stops working at once; revoking again is harmless.
    let r = api(&app, reqwest::Method::DELETE, &path, Some(&first), None).await;
    assert_eq!(r.status(), 204);
    assert_unauthorized(&api(&app, reqwest::Method::GET, "/api/v1/me", Some(&second), None).await);
    assert_eq!(api(&app, reqwest::Method::DELETE, &path, Some(&first), None).await.status(), 204);
    let list: Value =
        api(&app, reqwest::Method::GET, "/api/v1/me/tokens", Some(&first), None).await.json().await.unwrap();
    let deploy = list.as_array().unwrap().iter().find(|t| t["name"] == "deploy").unwrap();
    assert_eq!(deploy["active"], false);
    assert!(deploy["revoked_at"].is_string());
    assert_eq!(me(&app, &first).await.0, 200, "other tokens keep working");

    // Every route is in the OpenAPI document.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/me/tokens", "get"),
        ("/api/v1/me/tokens", "post"),
        ("/api/v1/me/tokens/{id}", "delete"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is documented");
    }
    app.stop().await;
}

async fn tokens_expire_are_capped_and_end_with_a_password_reset(backend: Backend) {
    use herald::accounts::tokens::MAX_ACTIVE_TOKENS;
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    let first = token_for(&ada, "bootstrap").await;
    let post = reqwest::Method::POST;
    let create = |body: Value| api(&app, post.clone(), "/api/v1/me/tokens", Some(&first), Some(body));

    // A token can be made to expire; bad lifetimes name the field.
    let r = create(json!({"name": "a week", "expires_in_days": 7})).await;
    assert_eq!(r.status(), 201);
    let week: Value = r.json().await.unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(week["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "about 7 days: {days} h");
    for bad in [json!(0), json!(3651)] {
        let r = create(json!({"name": "bad", "expires_in_days": bad})).await;
        assert_eq!(r.status(), 422, "{bad}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "expires_in_days");
    }
    let r = create(json!({"name": "bad", "expires_in_days": "soon"})).await;
    assert!((400..500).contains(&r.status().as_u16()), "a string is refused: {}", r.status());

    // An expired token no longer works, and says so in the list and on the page.
    let stale = format!("herald_{}", uuid::Uuid::new_v4().simple());
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    app.db
        .db
        .create_api_token_until(ada_id, "stale", &herald::secrets::hash_token(&stale), Some(past))
        .await
        .unwrap();
    assert_unauthorized(&api(&app, reqwest::Method::GET, "/api/v1/me", Some(&stale), None).await);
    let list: Value =
        api(&app, reqwest::Method::GET, "/api/v1/me/tokens", Some(&first), None).await.json().await.unwrap();
    let row = list.as_array().unwrap().iter().find(|t| t["name"] == "stale").unwrap();
    assert_eq!((row["active"].as_bool(), row["revoked_at"].is_null()), (Some(false), true));
    let (_, page) = ada.page("/account/tokens").await;
    assert!(page.contains("Expired") && page.contains("name=\"expires_in_days\""), "{page}");

    // At most MAX_ACTIVE_TOKENS work at once: past that, 409 (and a clear form error).
    let working = app.db.db.active_api_token_count(ada_id).await.unwrap();
    for i in working..MAX_ACTIVE_TOKENS {
        let t = format!("herald_{}", uuid::Uuid::new_v4().simple());
        app.db.db.create_api_token(ada_id, &format!("t{i}"), &herald::secrets::hash_token(&t)).await.unwrap();
    }
    let r = create(json!({"name": "one too many"})).await;
    assert_eq!(r.status(), 409);
    let r = ada.post("/account/tokens", &[("name", "one too many")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Revoke one you no longer use first"));

    // A password reset revokes every token: whoever knew the password may know them.
    let v = app.visitor();
    assert_eq!(v.post("/password/forgot", &[("email", "ada@example.org")]).await.status(), 200);
    let link = app.mailed_link("ada@example.org", "/password/reset/").expect("a reset mail");
    let r = v.post(&link, &[("password", "a brand new passphrase")]).await;
    assert_eq!(r.status(), 303);
    let (_, home) = v.page("/").await;
    assert!(home.contains("API tokens stopped working"), "{home}");
    assert_unauthorized(&api(&app, reqwest::Method::GET, "/api/v1/me", Some(&first), None).await);
    assert_eq!(app.db.db.active_api_token_count(ada_id).await.unwrap(), 0);
    app.stop().await;
}

/// Runs `herald ARGS` on the app's database; returns (exit code, stdout, stderr).
async fn herald(app: &TestApp, args: &[&str], stdin: Option<&str>) -> (Option<i32>, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(herald_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("HERALD_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HERALD_DATA_DIR", app.db.data_dir.path());
    if let herald::config::DatabaseUrl::Postgres(url) = &app.db.url {
        cmd.env("HERALD_DATABASE_URL", url);
    }
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("run herald");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).await.unwrap();
        drop(pipe);
    }
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One `error: …` line naming `what`, and a non-zero exit.
fn assert_fails(result: &(Option<i32>, String, String), what: &str) {
    let (code, stdout, stderr) = result;
    assert!(matches!(code, Some(c) if *c != 0), "non-zero exit: {result:?}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(what), "names {what}: {stderr}");
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
}

async fn signs_in(app: &TestApp, email: &str, password: &str) -> Option<Visitor> {
    let v = app.visitor();
    let r = v.post("/signin", &[("email", email), ("password", password)]).await;
    (r.status() == 303).then_some(v)
}

async fn operator_commands(backend: Backend) {
    let app = TestApp::start(backend).await;

    // A generated password: printed once, alone on stdout, and it signs in.
    let (code, stdout, stderr) =
        herald(&app, &["user", "create", "carol@example.org", "--name", "Carol"], None).await;
    assert_eq!(code, Some(0), "{stderr}");
    let password = stdout.trim().to_owned();
    assert_eq!(stdout.lines().count(), 1, "only the password on stdout: {stdout}");
    assert!(password.chars().count() >= 20, "a strong password: {password}");
    assert!(!stderr.contains(&password), "the password is printed once: {stderr}");
    let carol = signs_in(&app, "carol@example.org", &password).await.expect("the printed password signs in");
    let (_, page) = carol.page("/account").await;
    assert!(page.contains("Not verified") && page.contains(r#"value="UTC""#));

    // Mistakes are one clear line.
    assert_fails(
        &herald(&app, &["user", "create", "CAROL@example.org", "--name", "C"], None).await,
        "already exists",
    );
    assert_fails(&herald(&app, &["user", "create", "carol", "--name", "C"], None).await, "EMAIL");
    assert_fails(&herald(&app, &["user", "create", "x@example.org", "--name", " "], None).await, "--name");
    let bad_tz = ["user", "create", "x@example.org", "--name", "X", "--timezone", "Mars/Olympus"];
    assert_fails(&herald(&app, &bad_tz, None).await, "--timezone");
    let short = herald(&app, &["user", "create", "x@example.org", "--name", "X"], Some("short\n")).await;
    assert_fails(&short, "at least 10 characters");
    assert!(app.db.db.user_by_email("x@example.org").await.unwrap().is_none(), "nothing created");

    // A password from stdin, verified, in a chosen zone.
    let dave_pw = "dave's own long passphrase";
    let args =
        ["user", "create", "dave@example.org", "--name", "Dave", "--verified", "--timezone", "Europe/Berlin"];
    let (code, stdout, stderr) =
        herald(&app, &args, Some(&format!("{dave_pw}\nignored second line\n"))).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty(), "nothing to print: {stdout}");
    assert!(!stderr.contains(dave_pw));
    let dave = signs_in(&app, "dave@example.org", dave_pw).await.expect("the piped password signs in");
    let (_, page) = dave.page("/account").await;
    assert!(page.contains("Verified") && !page.contains("Not verified"));
    assert!(page.contains(r#"value="Europe/Berlin""#));

    // user verify.
    let (code, _, stderr) = herald(&app, &["user", "verify", "Carol@Example.org"], None).await;
    assert_eq!(code, Some(0), "{stderr}");
    let (_, page) = carol.page("/account").await;
    assert!(!page.contains("Not verified"), "carol is verified");
    assert_fails(&herald(&app, &["user", "verify", "nobody@example.org"], None).await, "nobody@example.org");

    // token create: only the token on stdout, and it works at once.
    let (code, stdout, stderr) =
        herald(&app, &["token", "create", "carol@example.org", "--name", "backup script"], None).await;
    assert_eq!(code, Some(0), "{stderr}");
    let token = stdout.trim_end_matches('\n');
    assert!(
        token.starts_with("herald_") && !token.contains(char::is_whitespace),
        "just the token: {stdout:?}"
    );
    assert!(!stderr.contains(token), "printed once");
    let (status, body) = me(&app, token).await;
    assert_eq!(
        (status, body["email"].as_str(), body["verified"].as_bool()),
        (200, Some("carol@example.org"), Some(true))
    );
    let (_, page) = carol.page("/account/tokens").await;
    assert!(page.contains("backup script"), "listed on carol's page");
    assert_fails(
        &herald(&app, &["token", "create", "nobody@example.org", "--name", "x"], None).await,
        "nobody@example.org",
    );
    assert_fails(
        &herald(&app, &["token", "create", "carol@example.org", "--name", ""], None).await,
        "--name",
    );
    app.stop().await;
}

/// With htmx, revoking a token swaps just its row; the token stops working at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_with_htmx_updates_the_row_in_place() {
    let app = TestApp::start(crate::support::Backend::Sqlite).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let user = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap();
    let token = app
        .db
        .db
        .create_api_token(user.id, "Deploys", &herald::secrets::hash_token("herald_abc"))
        .await
        .unwrap();
    let (_, page) = ada.page("/account/tokens").await;
    let path = format!("/account/tokens/{}/revoke", token.id);
    assert!(page.contains(&format!(r#"hx-post="{path}""#)), "the revoke form is htmx-enhanced");
    let csrf = crate::support::csrf_in(&page).unwrap();
    let r = ada
        .http
        .post(format!("{}{path}", ada.base))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let row = r.text().await.unwrap();
    assert!(row.trim_start().starts_with("<tr") && !row.contains("<html"), "only the row: {row}");
    assert!(row.contains("Deploys") && row.contains("Revoked") && !row.contains("/revoke"), "{row}");
    assert!(app.db.db.live_api_token(&herald::secrets::hash_token("herald_abc")).await.unwrap().is_none());
    app.stop().await;
}

/// The OpenAPI document says what each operation can answer, and the API keeps to it for bodies
/// of the wrong JSON type or size: a problem document, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_each_operations_refusals() {
    let app = TestApp::start(crate::support::Backend::Sqlite).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let token = token_for(&ada, "schema").await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let listed: Vec<&str> = op["responses"].as_object().unwrap().keys().map(String::as_str).collect();
            let has = |s: &str| listed.contains(&s);
            assert!(has("401"), "{method} {path}: 401 {listed:?}");
            if path.contains('{') {
                assert!(has("404"), "{method} {path}: 404 {listed:?}");
            }
            if op.get("requestBody").is_none() {
                continue;
            }
            for status in ["400", "413", "422"] {
                assert!(has(status), "{method} {path}: {status} {listed:?}");
            }
            // A body of the wrong JSON type gets a documented problem, never a server error.
            let url = path.replace("/api/v1", "").replace(['{', '}'], "");
            let concrete = url
                .split('/')
                .map(|seg| {
                    if seg.ends_with("id") || seg == "slug" || seg == "p" {
                        "00000000-0000-0000-0000-000000000000"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for body in [json!([]), json!("text"), json!(42), json!(null)] {
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let r = api(&app, m, &format!("/api/v1{concrete}"), Some(&token), Some(body.clone())).await;
                let status = r.status().as_u16().to_string();
                assert!(
                    listed.contains(&status.as_str()),
                    "{method} {path} with {body}: {status} is not in {listed:?}"
                );
                assert_eq!(r.headers()[CONTENT_TYPE], "application/problem+json", "{method} {path}");
            }
        }
    }
    assert!(operations >= 30, "{operations} operations");

    // Where the path holds no id, the wrong type is a 400 naming the problem; too big is 413.
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/orgs"),
        (reqwest::Method::PATCH, "/api/v1/me"),
        (reqwest::Method::POST, "/api/v1/me/tokens"),
    ] {
        let r = api(&app, method.clone(), path, Some(&token), Some(json!(["an", "array"]))).await;
        assert_eq!(r.status(), 400, "{method} {path}");
        let problem: Value = r.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("expected"), "{problem}");
    }
    let big = json!({"name": "x".repeat(3 * 1024 * 1024)});
    let r = api(&app, reqwest::Method::POST, "/api/v1/orgs", Some(&token), Some(big)).await;
    assert_eq!(r.status(), 413);
    app.stop().await;
}
