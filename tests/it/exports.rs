//! Exports for organizers (an event's participants and delivery ledger, CSV and JSON, on the
//! pages and the API), a person's data download, and deleting an account.

use herald::db::models::{DeliveryStatus, NoticeKind, Role, Rsvp};
use herald::db::notifications::PlannedNotice;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::delivery::{Person, create_org, event, join, person, person_of};
use crate::delivery_pages::signed_in;
use crate::orgs::{api, api_user};
use crate::support::{Backend, TestApp, Visitor};

both_backends!(
    organizers_export_participants_and_deliveries,
    csv_exports_open_in_pythons_csv_with_formulas_neutralised,
    people_download_their_data_and_delete_their_account,
    a_deleted_account_leaves_no_personal_data_behind,
);

/// A participant's name that a spreadsheet would run as a formula.
const FORMULA: &str = r#"=HYPERLINK("http://x")"#;

/// A channel URL full of secrets: none of it may show in an export.
const SECRET_URL: &str = "ntfys://eve-secret-user:eve-secret-pass@ntfy.example.org/eve-secret-topic";

/// Eve (named `name`, signed in on the pages) with a confirmed channel, going to `ev`, and a
/// reminder sent to her through it.
async fn eve(app: &TestApp, ev: Uuid, name: &str) -> (Visitor, String, Person) {
    let (v, id, token) = signed_in(app, "eve@example.org", name).await;
    let eve = person_of(app, id, &token, name, "Europe/Paris", &[(SECRET_URL, &[])]).await;
    let participant = join(app, ev, &eve, Rsvp::Going, None).await;
    let n = app
        .db
        .db
        .plan_notification(&PlannedNotice {
            event_id: ev,
            participant_id: participant,
            integration_id: Some(eve.integration),
            kind: NoticeKind::Reminder,
            idempotency_key: &format!("test-{participant}"),
            due_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    app.db
        .db
        .record_delivery(n.id, DeliveryStatus::Sent, Some(200), Some("Delivered to 1 of 1 URL"))
        .await
        .unwrap();
    (v, token, eve)
}

/// The response's status, `Content-Disposition` and body.
async fn download(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let disposition =
        r.headers().get("content-disposition").and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
    (status, disposition, r.text().await.unwrap())
}

/// CSV text as rows of cells (the header first).
fn rows(csv_text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn assert_no_secret(app: &TestApp, what: &str, body: &str, eve: &Person) {
    for secret in ["eve-secret", &eve.key, SECRET_URL] {
        assert!(!body.contains(secret), "{what} shows {secret}: {body}");
    }
    let _ = app;
}

async fn organizers_export_participants_and_deliveries(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (olga_v, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (ev, _) = event(&app, &olga, 3 * 86_400, 3_600, &[3_600]).await;
    let (_, _, eve) = eve(&app, ev, FORMULA).await;
    let base = format!("/orgs/rust-paris/events/{ev}/export");

    // The organizer's event page links to the four files.
    let (status, html) = olga_v.page(&format!("/orgs/rust-paris/events/{ev}")).await;
    assert_eq!(status, 200);
    for file in ["participants.csv", "participants.json", "deliveries.csv", "deliveries.json"] {
        assert!(html.contains(&format!(r#"href="{base}/{file}""#)), "link to {file}");
    }

    // Participants as CSV: a download, the formula defused, reachability by channel name.
    let (status, disposition, body) = download(olga_v.get(&format!("{base}/participants.csv")).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.ends_with("participants.csv\"")
    );
    let table = rows(&body);
    assert_eq!(
        table[0],
        [
            "name",
            "email",
            "role",
            "rsvp",
            "reachable",
            "reached_through",
            "unreachable_reason",
            "opted_out_at",
            "added_at",
            "added_at_local"
        ]
    );
    let row = table.iter().find(|r| r[1] == "eve@example.org").expect("Eve's row");
    assert_eq!(row[0], format!("'{FORMULA}"), "the formula comes out as text");
    assert_eq!(row[3], "going");
    assert_eq!(row[4], "yes");
    assert!(
        row[5].starts_with(&format!("'{FORMULA}'s channel")),
        "reached through her channel, by name: {row:?}"
    );
    assert!(row[8].ends_with('Z') && (row[9].ends_with("-05:00") || row[9].ends_with("-04:00")), "{row:?}");
    assert_no_secret(&app, "participants.csv", &body, &eve);

    // Participants as JSON, from the API too.
    let (status, disposition, body) = download(olga_v.get(&format!("{base}/participants.json")).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(disposition.ends_with("participants.json\""));
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["event"]["timezone"], "America/New_York");
    let p =
        json["participants"].as_array().unwrap().iter().find(|p| p["email"] == "eve@example.org").unwrap();
    assert_eq!(p["name"], FORMULA);
    assert!(
        p["reached_through"].as_array().unwrap().contains(&Value::String(format!("{FORMULA}'s channel"))),
        "{p}"
    );
    assert_no_secret(&app, "participants.json", &body, &eve);
    let r = app
        .http
        .get(app.url(&format!("/api/v1/events/{ev}/participants/export?format=csv")))
        .bearer_auth(&olga)
        .send()
        .await
        .unwrap();
    let (status, disposition, body) = download(r).await;
    assert_eq!(status, 200, "{body}");
    assert!(disposition.starts_with("attachment;"));
    assert!(rows(&body).iter().any(|r| r[0] == format!("'{FORMULA}")), "{body}");

    // The delivery ledger: the reminder, its channel by name, status, attempts and answer.
    let (status, _, body) = download(olga_v.get(&format!("{base}/deliveries.csv")).await).await;
    assert_eq!(status, 200, "{body}");
    let table = rows(&body);
    assert_eq!(
        table[0],
        [
            "notice",
            "due_at",
            "due_at_local",
            "participant",
            "email",
            "channel",
            "status",
            "attempts",
            "sent_at",
            "last_answer"
        ]
    );
    assert_eq!(table.len(), 2, "{body}");
    assert_eq!(table[1][0], "reminder");
    assert_eq!(table[1][3], format!("'{FORMULA}"));
    assert_eq!(table[1][5], format!("'{FORMULA}'s channel"));
    assert_eq!(table[1][6], "sent");
    assert_eq!(table[1][7], "1");
    assert_eq!(table[1][9], "Delivered to 1 of 1 URL");
    assert_no_secret(&app, "deliveries.csv", &body, &eve);
    let (status, body) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/notifications/export?format=json"), None)
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["deliveries"][0]["status"], "sent");
    assert_eq!(body["deliveries"][0]["channel"], format!("{FORMULA}'s channel"));
    assert_no_secret(&app, "deliveries API", &body.to_string(), &eve);
    let (status, _) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/notifications/export?format=xls"), None)
            .await;
    assert_eq!(status, 400);

    // A plain member of the organization gets 403 (as for the deliveries), the owner of another
    // one 404, as if the event did not exist.
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    let (max_v, max_id, max_t) = signed_in(&app, "max@example.org", "Max").await;
    app.db.db.add_membership(org.id, max_id, Role::Member).await.unwrap();
    let (bella_v, _, bella_t) = signed_in(&app, "bella@example.org", "Bella").await;
    let (status, _) = api(
        &app,
        &bella_t,
        Method::POST,
        "/api/v1/orgs",
        Some(serde_json::json!({"name": "Other", "slug": "other"})),
    )
    .await;
    assert_eq!(status, 201);
    for (who, v, token, refused) in
        [("member", &max_v, &max_t, 403), ("other org's owner", &bella_v, &bella_t, 404)]
    {
        for file in ["participants.csv", "participants.json", "deliveries.csv", "deliveries.json"] {
            let (status, _, body) = download(v.get(&format!("{base}/{file}")).await).await;
            assert_eq!(status, refused, "{who} {file}");
            assert!(!body.contains("eve@example.org"), "{who} {file}");
        }
        for path in [
            format!("/api/v1/events/{ev}/participants/export?format=csv"),
            format!("/api/v1/events/{ev}/notifications/export?format=json"),
        ] {
            let (status, body) = api(&app, token, Method::GET, &path, None).await;
            assert_eq!(status, refused, "{who} {path}: {body}");
            assert!(!body.to_string().contains("eve@example.org"), "{who} {path}");
        }
    }
    let (status, html) = max_v.page(&format!("/orgs/rust-paris/events/{ev}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains(&base), "no Export card for a member");
    app.stop().await;
}

async fn people_download_their_data_and_delete_their_account(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (olga_v, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (ev, _) = event(&app, &olga, 3 * 86_400, 3_600, &[3_600]).await;
    let (eve_v, eve_token, eve) = eve(&app, ev, "Eve").await;

    // The account page offers the download; it holds her participation, her channel by name
    // with its URL masked, her token's name — and no secret.
    let (status, html) = eve_v.page("/account").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"href="/account/export""#) && html.contains("Download my data"));
    let (status, disposition, body) = download(eve_v.get("/account/export").await).await;
    assert_eq!(status, 200, "{body}");
    assert!(disposition.starts_with("attachment; filename=\""), "{disposition}");
    let data: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(data["profile"]["email"], "eve@example.org");
    assert_eq!(data["participations"][0]["event"], "Rust night");
    assert_eq!(data["participations"][0]["organization"], "Rust Paris");
    assert_eq!(data["participations"][0]["rsvp"], "going");
    assert_eq!(data["participations"][0]["notifications"][0]["status"], "sent");
    let channel = data["channels"].as_array().unwrap().iter().find(|c| c["name"] == "Eve's channel").unwrap();
    assert!(channel["urls"][0]["url"].as_str().unwrap().starts_with("ntfys://"), "{channel}");
    assert_eq!(data["api_tokens"][0]["name"], "tests");
    assert!(data["sessions"].as_i64().unwrap() >= 1);
    let user = app.db.db.user_by_email("eve@example.org").await.unwrap().unwrap();
    let token_hash = herald::secrets::hash_token(&eve_token);
    let password_hash = user.password_hash.clone().expect("a password");
    for secret in
        ["eve-secret", eve.key.as_str(), token_hash.as_str(), password_hash.as_str(), eve_token.as_str()]
    {
        assert!(!body.contains(secret), "the download shows {secret}");
    }
    let (status, body) = api(&app, &eve_token, Method::GET, "/api/v1/me/export", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["participations"][0]["event"], "Rust night");
    assert!(!body.to_string().contains("eve-secret"));

    // Deleting asks for the address first.
    let (status, html) = eve_v.page("/account/delete").await;
    assert_eq!(status, 200);
    assert!(html.contains("Type your email address"), "{html}");
    let r = eve_v.post("/account/delete", &[("confirm", "someone@example.org")]).await;
    assert_eq!(r.status(), 422);
    assert!(app.db.db.user_by_email("eve@example.org").await.unwrap().is_some());
    assert!(app.apprise.stored_config(&eve.key).is_some(), "her channel is in the Apprise API");

    // Then the account goes: the user, her channel in the Apprise API, her participation, her
    // sign-in and her token.
    let r = eve_v.post("/account/delete", &[("confirm", "Eve@example.org")]).await;
    assert_eq!(r.status(), 303);
    assert!(app.db.db.user_by_email("eve@example.org").await.unwrap().is_none(), "the user is gone");
    assert_eq!(app.apprise.stored_config(&eve.key), None, "her channel is gone from the Apprise API");
    let participants = app.db.db.participant_rows(ev).await.unwrap();
    assert!(
        participants.iter().all(|p| p.email.as_deref() != Some("eve@example.org")),
        "participation deleted"
    );
    let (status, html) = eve_v.page("/account").await;
    assert_ne!(status, 200, "her session no longer works: {html}");
    let (status, _) = api(&app, &eve_token, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 401, "her token no longer works");
    // The organizer's ledger keeps the row, without her.
    let (status, body) =
        api(&app, &olga, Method::GET, &format!("/api/v1/events/{ev}/notifications/export"), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains("eve@example.org"), "{body}");

    // The last owner of an organization is refused, told which one and what to do.
    let (status, body) = api(&app, &olga, Method::DELETE, "/api/v1/me", None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Rust Paris"), "{body}");
    let r = olga_v.post("/account/delete", &[("confirm", "olga@example.org")]).await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("Rust Paris") && html.contains("make another member an owner"), "{html}");
    assert!(app.db.db.user_by_email("olga@example.org").await.unwrap().is_some());

    // Someone with nothing to hand over deletes their account through the API.
    let (_, gus) = api_user(&app, "gus@example.org", "Gus", true).await;
    let (status, body) = api(&app, &gus, Method::DELETE, "/api/v1/me", None).await;
    assert_eq!(status, 204, "{body}");
    assert!(app.db.db.user_by_email("gus@example.org").await.unwrap().is_none());
    app.stop().await;
}

/// Every place in the database (every column of every table but `_sqlx_migrations`, read as
/// text) that holds `needle`, case-insensitively, as `table.column (rows)`.
async fn places_holding(db: &herald::db::Db, needle: &str) -> Vec<String> {
    use sqlx::Row as _;
    let mut found = Vec::new();
    match db {
        herald::db::Db::Sqlite(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                   AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            assert!(tables.len() > 10, "{tables:?}");
            for table in tables {
                let columns =
                    sqlx::query(&format!("PRAGMA table_info(\"{table}\")")).fetch_all(pool).await.unwrap();
                for column in columns {
                    let column: String = column.get("name");
                    let n: i64 = sqlx::query_scalar(&format!(
                        "SELECT COUNT(*) FROM \"{table}\" WHERE instr(lower(CAST(\"{column}\" AS TEXT)), lower($1)) > 0"
                    ))
                    .bind(needle)
                    .fetch_one(pool)
                    .await
                    .unwrap();
                    if n > 0 {
                        found.push(format!("{table}.{column} ({n})"));
                    }
                }
            }
        }
        herald::db::Db::Postgres(pool) => {
            let columns: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY table_name, column_name",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            assert!(columns.len() > 50, "{columns:?}");
            for (table, column, data_type) in columns {
                let test = if data_type == "bytea" {
                    format!("position(convert_to($1, 'UTF8') in \"{column}\") > 0")
                } else {
                    format!("strpos(lower(\"{column}\"::text), lower($1)) > 0")
                };
                let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\" WHERE {test}"))
                    .bind(needle)
                    .fetch_one(pool)
                    .await
                    .unwrap();
                if n > 0 {
                    found.push(format!("{table}.{column} ({n})"));
                }
            }
        }
    }
    found
}

async fn a_deleted_account_leaves_no_personal_data_behind(backend: Backend) {
    const EMAIL: &str = "zelda.quarkwright@example.org";
    const NAME: &str = "Zelda Quarkwright";
    let app = TestApp::start(backend).await;
    let (_, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (ev, _) = event(&app, &olga, 3 * 86_400, 3_600, &[3_600]).await;

    // Zelda: a session and a token (signed in), a channel, a participation with a reminder
    // sent, an invitation to the organization (an activity entry naming her address), events
    // she created as an organizer (entries with her as the actor), a guest answer, a failed
    // sign-in.
    let (zelda_v, zelda_id, zelda_token) = signed_in(&app, EMAIL, NAME).await;
    let (status, body) = api(
        &app,
        &olga,
        Method::POST,
        "/api/v1/orgs/rust-paris/invitations",
        Some(serde_json::json!({"email": EMAIL, "role": "organizer"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    app.db.db.add_membership(org.id, zelda_id, Role::Organizer).await.unwrap();
    let zelda = person_of(&app, zelda_id, &zelda_token, NAME, "Europe/Paris", &[(SECRET_URL, &[])]).await;
    let participant = join(&app, ev, &zelda, Rsvp::Going, None).await;
    let n = app
        .db
        .db
        .plan_notification(&PlannedNotice {
            event_id: ev,
            participant_id: participant,
            integration_id: Some(zelda.integration),
            kind: NoticeKind::Reminder,
            idempotency_key: &format!("test-{participant}"),
            due_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    app.db.db.record_delivery(n.id, DeliveryStatus::Sent, Some(200), Some("Delivered")).await.unwrap();
    let (status, body) = api(
        &app,
        &zelda_token,
        Method::POST,
        "/api/v1/orgs/rust-paris/events",
        Some(serde_json::json!({
            "name": "Zelda's workshop", "starts_at": "2031-03-01T18:00:00Z", "ends_at": "2031-03-01T20:00:00Z",
            "timezone": "Europe/Paris", "status": "draft", "visibility": "public",
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    app.db
        .db
        .create_guest_answer(
            ev,
            EMAIL,
            NAME,
            Rsvp::Maybe,
            "guest-token-hash-zelda",
            chrono::Utc::now() + chrono::Duration::days(1),
        )
        .await
        .unwrap();
    let _ = app.visitor().post("/signin", &[("email", EMAIL), ("password", "not her password")]).await;
    let entries = app.db.db.audit_page(org.id, None, 100).await.unwrap();
    assert!(entries.iter().any(|e| e.actor_user_id == Some(zelda_id)), "an entry with her as the actor");
    assert!(entries.iter().any(|e| e.subject == EMAIL), "an entry naming her address");
    for needle in [EMAIL, NAME] {
        assert!(!places_holding(&app.db.db, needle).await.is_empty(), "the scan finds {needle} before");
    }

    // She deletes her account: her address and her name are nowhere any more.
    let (status, body) = api(&app, &zelda_token, Method::DELETE, "/api/v1/me", None).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = zelda_v.page("/account").await;
    assert_ne!(status, 200);
    for needle in [EMAIL, NAME] {
        let left = places_holding(&app.db.db, needle).await;
        assert!(left.is_empty(), "{needle} is still in {left:?}");
    }
    // The activity keeps its entries, without her.
    let after = app.db.db.audit_page(org.id, None, 100).await.unwrap();
    assert_eq!(after.len(), entries.len());
    assert!(after.iter().any(|e| e.subject == "a deleted account"), "{after:?}");
    app.stop().await;
}

/// A CSV file as Python's standard `csv` module reads it (`csv.DictReader` in strict mode over
/// the file opened with `newline=''`, as its documentation asks): the header it found and each
/// row as column → cell. A file Python cannot read fails the test with its error.
fn python_csv(text: &str) -> (Vec<String>, Vec<std::collections::HashMap<String, String>>) {
    const SCRIPT: &str = "import csv, json, sys\n\
        with open(sys.argv[1], newline='', encoding='utf-8') as f:\n\
        \x20   r = csv.DictReader(f, strict=True)\n\
        \x20   rows = list(r)\n\
        json.dump({'header': r.fieldnames, 'rows': rows}, sys.stdout)\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&file)
        .output()
        .expect("python3 runs (the test reads the exports with Python's csv module)");
    assert!(
        out.status.success(),
        "Python's csv cannot read the file: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (serde_json::from_value(v["header"].clone()).unwrap(), serde_json::from_value(v["rows"].clone()).unwrap())
}

/// Names a spreadsheet would run, one for each character that starts a formula.
const FORMULAS: [&str; 4] = [r#"=HYPERLINK("http://x")"#, "+SUM(1,1)", "-2+3", "@SUM(A1:A9)"];

async fn csv_exports_open_in_pythons_csv_with_formulas_neutralised(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (olga_v, _, olga) = signed_in(&app, "olga@example.org", "Olga").await;
    create_org(&app, &olga).await;
    let (ev, _) = event(&app, &olga, 3 * 86_400, 3_600, &[3_600]).await;
    // Four people whose names start a formula, each reached through a channel named after them;
    // each has a sent reminder whose Apprise answer starts a formula too.
    for (i, name) in FORMULAS.iter().enumerate() {
        let who = person(
            &app,
            &format!("f{i}@example.org"),
            name,
            "UTC",
            &[(&format!("ntfys://ntfy.example.org/formula-{i}"), &[])],
        )
        .await;
        let participant = join(&app, ev, &who, Rsvp::Going, None).await;
        let n = app
            .db
            .db
            .plan_notification(&PlannedNotice {
                event_id: ev,
                participant_id: participant,
                integration_id: Some(who.integration),
                kind: NoticeKind::Reminder,
                idempotency_key: &format!("python-{participant}"),
                due_at: chrono::Utc::now(),
            })
            .await
            .unwrap();
        let answer = format!("{}{i} answered", ['=', '+', '-', '@'][i]);
        app.db.db.record_delivery(n.id, DeliveryStatus::Sent, Some(200), Some(&answer)).await.unwrap();
    }
    let base = format!("/orgs/rust-paris/events/{ev}/export");
    let starts_formula = |cell: &str| cell.starts_with(['=', '+', '-', '@', '\t', '\r']);

    // Participants: the documented columns; each formula comes out as text, with a `'` first.
    let (status, _, body) = download(olga_v.get(&format!("{base}/participants.csv")).await).await;
    assert_eq!(status, 200, "{body}");
    let (header, rows) = python_csv(&body);
    assert_eq!(
        header,
        [
            "name",
            "email",
            "role",
            "rsvp",
            "reachable",
            "reached_through",
            "unreachable_reason",
            "opted_out_at",
            "added_at",
            "added_at_local"
        ]
    );
    assert_eq!(rows.len(), FORMULAS.len(), "{rows:?}");
    for (i, name) in FORMULAS.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r["email"] == format!("f{i}@example.org"))
            .unwrap_or_else(|| panic!("a row for {name}: {rows:?}"));
        assert_eq!(row["name"], format!("'{name}"), "{row:?}");
        assert_eq!(row["reached_through"], format!("'{name}'s channel"), "{row:?}");
        assert_eq!((row["rsvp"].as_str(), row["reachable"].as_str()), ("going", "yes"), "{row:?}");
        chrono::DateTime::parse_from_rfc3339(&row["added_at"]).unwrap();
    }
    for row in &rows {
        assert!(!row.values().any(|c| starts_formula(c)), "a cell Python reads as a formula: {row:?}");
    }

    // The delivery ledger, from the page and from the API alike.
    let (status, _, page_body) = download(olga_v.get(&format!("{base}/deliveries.csv")).await).await;
    assert_eq!(status, 200, "{page_body}");
    let r = app
        .http
        .get(app.url(&format!("/api/v1/events/{ev}/notifications/export?format=csv")))
        .bearer_auth(&olga)
        .send()
        .await
        .unwrap();
    let (status, _, api_body) = download(r).await;
    assert_eq!(status, 200, "{api_body}");
    for body in [page_body, api_body] {
        let (header, rows) = python_csv(&body);
        assert_eq!(
            header,
            [
                "notice",
                "due_at",
                "due_at_local",
                "participant",
                "email",
                "channel",
                "status",
                "attempts",
                "sent_at",
                "last_answer"
            ]
        );
        assert_eq!(rows.len(), FORMULAS.len(), "{rows:?}");
        for (i, name) in FORMULAS.iter().enumerate() {
            let row = rows
                .iter()
                .find(|r| r["email"] == format!("f{i}@example.org"))
                .unwrap_or_else(|| panic!("a ledger row for {name}: {rows:?}"));
            assert_eq!(row["participant"], format!("'{name}"), "{row:?}");
            assert_eq!(row["channel"], format!("'{name}'s channel"), "{row:?}");
            assert_eq!(row["last_answer"], format!("'{}{i} answered", ['=', '+', '-', '@'][i]), "{row:?}");
            assert_eq!((row["notice"].as_str(), row["status"].as_str()), ("reminder", "sent"), "{row:?}");
            assert_eq!(row["attempts"], "1");
        }
        for row in &rows {
            assert!(!row.values().any(|c| starts_formula(c)), "a cell Python reads as a formula: {row:?}");
        }
    }
    app.stop().await;
}
