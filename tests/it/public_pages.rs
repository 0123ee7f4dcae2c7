//! The pages people see without managing anything: the public event page (host, directions,
//! the online link once, the attendee count when the organizer shows it, the cover image and its
//! link preview), the organization's page (description, event cards, Subscribe) and the `.ics`
//! files (plain-text description, one alarm).

use herald::db::models::{Organization, Role};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::orgs::{api, member_of, owner_of};
use crate::support::{Backend, TestApp, Visitor};

both_backends!(
    event_page_host_directions_and_attendee_count,
    cover_images,
    organization_page,
    ics_plain_text_and_alarm,
);

/// The form fields of a published public event, with `extra` overriding.
fn form<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = vec![
        ("name", "Rust night"),
        ("description", "**Talks** and [slides](https://example.org/slides)"),
        ("start", "2030-06-01T18:30"),
        ("end", "2030-06-01T20:00"),
        ("timezone", "Europe/Paris"),
        ("location", "Rue de Rivoli 1, Paris & co"),
        ("online_url", "https://meet.example.org/rust"),
        ("visibility", "public"),
        ("remind_1d", "on"),
        ("custom_reminders", "30m"),
        ("notify_reminders", "on"),
        ("notify_changes", "on"),
        ("notify_cancellation", "on"),
        ("status", "published"),
    ];
    for (k, v) in extra {
        f.retain(|(name, _)| name != k);
        // An unticked box is not sent at all.
        let checkbox = k.starts_with("remind_") || k.starts_with("notify_");
        if !(checkbox && v.is_empty()) {
            f.push((k, v));
        }
    }
    f
}

/// Creates an event through the form; returns its id and its public path.
async fn create(app: &TestApp, v: &Visitor, org: &Organization, extra: &[(&str, &str)]) -> (Uuid, String) {
    let r = v.post(&format!("/orgs/{}/events", org.slug), &form(extra)).await;
    assert_eq!(r.status(), 303, "creating an event: {}", r.text().await.unwrap_or_default());
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id = Uuid::parse_str(location.rsplit('/').next().unwrap()).unwrap();
    let slug = app.db.db.event(id).await.unwrap().unwrap().slug;
    (id, format!("/o/{}/e/{slug}", org.slug))
}

/// A real 1 × 1 PNG (signature, IHDR, one stored-deflate IDAT, IEND with their CRCs).
pub(crate) fn png_1x1() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut typed = kind.to_vec();
        typed.extend_from_slice(data);
        out.extend_from_slice(&typed);
        out.extend_from_slice(&crc32(&typed).to_be_bytes());
    }
    // One row: filter byte 0, then one RGB pixel.
    let raw = [0u8, 0x4f, 0x46, 0xe5];
    let (a, b) = raw
        .iter()
        .fold((1u32, 0u32), |(a, b), x| ((a + u32::from(*x)) % 65521, (b + a + u32::from(*x)) % 65521));
    let mut zlib = vec![0x78, 0x01, 0x01, 4, 0, 0xfb, 0xff];
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Uploads `bytes` as the cover of event `id` the way the browser sends the form: the CSRF
/// field first, then the file named `file_name`.
async fn upload(
    v: &Visitor,
    org: &Organization,
    id: Uuid,
    file_name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let token = v.csrf().await;
    let boundary = "herald-cover-boundary-41c2";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"{file_name}\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    v.http
        .post(format!("{}/orgs/{}/events/{id}/cover", v.base, org.slug))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn event_page_host_directions_and_attendee_count(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, public) = create(&app, &ada, &org, &[]).await;
    let anon = app.visitor();

    let (status, page) = anon.page(&public).await;
    assert_eq!(status, 200);
    // The host, linked to its page.
    assert!(page.contains("Hosted by</dt>"), "{page}");
    assert!(page.contains(&format!("<a class=\"host\" href=\"/o/{}\">Rust Paris</a>", org.slug)), "{page}");
    // Directions: an OpenStreetMap search for the place, URL-encoded, opening in the same tab.
    let directions = "https://www.openstreetmap.org/search?query=Rue+de+Rivoli+1%2C+Paris+%26+co";
    assert!(
        page.contains(&format!("<a class=\"directions\" href=\"{directions}\" rel=\"noreferrer\">")),
        "{page}"
    );
    assert!(!page.contains("<iframe") && !page.contains("openstreetmap.org/export"), "no embedded map");
    // The online link, once.
    assert_eq!(page.matches("href=\"https://meet.example.org/rust\"").count(), 1, "{page}");
    // No attendee count unless the organizer shows it.
    assert!(!page.contains("going ·") && !page.contains("attendee-count"), "{page}");

    // Two people answer.
    for (email, name, answer) in [("bob@example.org", "Bob", "going"), ("cy@example.org", "Cy", "maybe")] {
        let v = app.signed_up(email, name, true).await;
        v.page(&public).await;
        assert_eq!(v.post(&format!("{public}/rsvp"), &[("rsvp", answer)]).await.status(), 303, "{name}");
    }
    let (_, page) = anon.page(&public).await;
    assert!(!page.contains("1 going"), "still hidden: {page}");

    // The organizer switches it on from the event's page.
    let detail = format!("/orgs/{}/events/{id}", org.slug);
    let (_, page) = ada.page(&detail).await;
    assert!(page.contains("Show how many are going"), "{page}");
    let r = ada.post(&format!("{detail}/attendee-count"), &[("show_attendee_count", "on")]).await;
    assert_eq!(r.status(), 303);
    let (_, page) = anon.page(&public).await;
    assert!(page.contains("1 going · 1 maybe"), "{page}");
    let (_, page) = ada.page(&detail).await;
    assert!(page.contains("Hide how many are going"), "{page}");

    // The API shows and switches it too.
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();
    let (status, event) = api(&app, &token, Method::GET, &format!("/api/v1/events/{id}"), None).await;
    assert_eq!((status, &event["show_attendee_count"]), (200, &json!(true)), "{event}");
    let body = json!({"show_attendee_count": false});
    let (status, event) = api(&app, &token, Method::PATCH, &format!("/api/v1/events/{id}"), Some(body)).await;
    assert_eq!((status, &event["show_attendee_count"]), (200, &json!(false)), "{event}");
    let (_, page) = anon.page(&public).await;
    assert!(!page.contains("1 going"), "hidden again: {page}");
    // Off by default for events created through the API; documented in the OpenAPI document.
    let body = json!({"name": "API night", "starts_at": "2030-07-01T18:00:00+02:00",
        "ends_at": "2030-07-01T20:00:00+02:00", "timezone": "Europe/Paris"});
    let (status, event) =
        api(&app, &token, Method::POST, &format!("/api/v1/orgs/{}/events", org.slug), Some(body)).await;
    assert_eq!((status, &event["show_attendee_count"]), (201, &json!(false)), "{event}");
    let (_, doc) = api(&app, &token, Method::GET, "/api/v1/openapi.json", None).await;
    assert!(doc["components"]["schemas"]["ApiEvent"]["properties"]["show_attendee_count"].is_object());
    assert!(doc["components"]["schemas"]["EventBody"]["properties"]["show_attendee_count"].is_object());
    app.stop().await;
}

async fn cover_images(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let (id, public) = create(&app, &ada, &org, &[]).await;
    let anon = app.visitor();
    let png = png_1x1();

    // The organizer's page offers the upload.
    let detail = format!("/orgs/{}/events/{id}", org.slug);
    let (_, page) = ada.page(&detail).await;
    assert!(page.contains("Cover image") && page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(page.contains("accept=\"image/png,image/jpeg,image/webp\""), "{page}");

    // A real PNG is accepted and served as one, with nosniff and a cache header.
    let r = upload(&ada, &org, id, "cover.png", &png).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let (_, page) = anon.page(&public).await;
    let src_start = page.find("<img class=\"event-cover\" src=\"").expect("the cover is shown") + 30;
    let src: String = page[src_start..].chars().take_while(|c| *c != '"').collect();
    assert!(src.starts_with(&format!("{public}/cover?v=")), "{src}");
    assert!(page.contains(&format!("src=\"{src}\" alt=\"\"")), "decorative: empty alt: {page}");
    assert!(page.contains(&format!("<meta property=\"og:image\" content=\"{}{src}\">", app.base)), "{page}");
    assert!(page.contains("<meta property=\"og:title\" content=\"Rust night\">"), "{page}");
    assert!(page.contains("<meta property=\"og:description\" content=\""), "{page}");
    let r = anon.get(&src).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("max-age="), "{:?}", r.headers());
    assert_eq!(r.bytes().await.unwrap().as_ref(), png.as_slice());

    // A text file named .png and a file over 2 MB are refused, saying why; the cover stays.
    let r = upload(&ada, &org, id, "cat.png", b"just some text, honestly").await;
    assert_eq!(r.status(), 415);
    assert!(r.text().await.unwrap().contains("not a PNG, JPEG or WebP image"));
    let mut big = png.clone();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let r = upload(&ada, &org, id, "big.png", &big).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("larger than 2 MB"));
    assert_eq!(anon.get(&src).await.bytes().await.unwrap().as_ref(), png.as_slice());

    // A plain member may not change it.
    let (mia, _) = member_of(&app, &org, "mia@example.org", "Mia", Role::Member).await;
    mia.page(&detail).await;
    assert_eq!(upload(&mia, &org, id, "cover.png", &png).await.status(), 403);

    // A draft's cover is served to nobody, not even its organizer.
    let (draft, draft_path) = create(&app, &ada, &org, &[("name", "Draft idea"), ("status", "draft")]).await;
    assert_eq!(upload(&ada, &org, draft, "cover.png", &png).await.status(), 303);
    assert_eq!(ada.get(&format!("{draft_path}/cover")).await.status(), 404);
    let (_, page) = ada.page(&format!("/orgs/{}/events/{draft}", org.slug)).await;
    assert!(page.contains("once the event is published"), "{page}");

    // A private event's cover: members and participants only.
    let (private, private_path) =
        create(&app, &ada, &org, &[("name", "Private board"), ("visibility", "private")]).await;
    assert_eq!(upload(&ada, &org, private, "cover.png", &png).await.status(), 303);
    let outsider = app.signed_up("otto@example.org", "Otto", true).await;
    assert_eq!(anon.get(&format!("{private_path}/cover")).await.status(), 404, "anonymous");
    assert_eq!(outsider.get(&format!("{private_path}/cover")).await.status(), 404, "outsider");
    assert_eq!(mia.get(&format!("{private_path}/cover")).await.status(), 200, "member");

    // Removed: no longer served, shown or previewed.
    let r = ada.post(&format!("{detail}/cover/delete"), &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(anon.get(&src).await.status(), 404);
    let (_, page) = anon.page(&public).await;
    assert!(!page.contains("event-cover") && !page.contains("og:image"), "{page}");
    app.stop().await;
}

async fn organization_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    create(&app, &ada, &org, &[("location", "Room 1")]).await;
    let anon = app.visitor();

    // The owner writes a description on the settings page; it shows, as text, on the public page.
    let settings = format!("/orgs/{}/settings", org.slug);
    let (_, page) = ada.page(&settings).await;
    assert!(page.contains("name=\"description\"") && page.contains("maxlength=\"1000\""), "{page}");
    let text = "We meet every month.\nEveryone is welcome <b>really</b>.";
    let r = ada.post(&format!("{settings}/description"), &[("description", text)]).await;
    assert_eq!(r.status(), 303);
    let (status, page) = anon.page(&format!("/o/{}", org.slug)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<p class=\"org-description\">We meet every month.\nEveryone is welcome &lt;b&gt;really&lt;/b&gt;.</p>"),
        "{page}"
    );
    let too_long = "x".repeat(1001);
    let r = ada.post(&format!("{settings}/description"), &[("description", &too_long)]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("1000 characters or fewer"));

    // Upcoming events as cards: name, date, place.
    assert!(page.contains("<li class=\"event-card\">"), "{page}");
    assert!(page.contains(">Rust night</a></h3>"), "{page}");
    assert!(page.contains("Sat 1 Jun 2030, 18:30 – 20:00 CEST (Europe/Paris)</time>"), "{page}");
    assert!(page.contains("event-card-place\">Room 1</p>"), "{page}");

    // Subscribe: the feed as webcal:// and as https.
    let host = app.base.trim_start_matches("http://");
    assert!(
        page.contains(&format!("href=\"webcal://{host}/o/{}/events.ics\">Subscribe", org.slug)),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/o/{}/events.ics\"", org.slug)), "{page}");
    assert_eq!(anon.get(&format!("/o/{}/events.ics", org.slug)).await.status(), 200);

    // Through the API too.
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();
    let path = format!("/api/v1/orgs/{}", org.slug);
    let (status, body) = api(&app, &token, Method::GET, &path, None).await;
    assert_eq!((status, body["description"].as_str()), (200, Some(text)), "{body}");
    let (status, body) =
        api(&app, &token, Method::PATCH, &path, Some(json!({"description": "Set from the API"}))).await;
    assert_eq!((status, body["description"].as_str()), (200, Some("Set from the API")), "{body}");
    let (status, _) = api(&app, &token, Method::PATCH, &path, Some(json!({"description": too_long}))).await;
    assert_eq!(status, 422);
    let (_, page) = anon.page(&format!("/o/{}", org.slug)).await;
    assert!(page.contains("Set from the API"), "{page}");
    app.stop().await;
}

async fn ics_plain_text_and_alarm(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let md = "**Talks** by _Ada_, see [the slides](https://example.org/s).\n\n- pizza\n- `cargo` demos";
    let (_, public) = create(&app, &ada, &org, &[("description", md)]).await;
    let (_, quiet) =
        create(&app, &ada, &org, &[("name", "No reminders"), ("remind_1d", ""), ("custom_reminders", "")])
            .await;
    let anon = app.visitor();
    let plain = "Talks by Ada, see the slides (https://example.org/s).\n\n- pizza\n- cargo demos";

    for path in [format!("{public}.ics"), format!("/o/{}/events.ics", org.slug)] {
        let ics = anon.get(&path).await.text().await.unwrap();
        let unfolded = ics.replace("\r\n ", "");
        let escaped = plain.replace(',', "\\,").replace('\n', "\\n");
        assert!(unfolded.contains(&format!("\r\nDESCRIPTION:{escaped}\r\n")), "{path}: {unfolded}");
        for syntax in ["**", "_Ada_", "](", "`"] {
            assert!(!unfolded.contains(syntax), "{path}: {syntax} in {unfolded}");
        }
        // Reminders 1 day and 30 minutes before: the alarm is the last one, 30 minutes before.
        let rust_night = unfolded.split("BEGIN:VEVENT").find(|e| e.contains("SUMMARY:Rust night")).unwrap();
        assert_eq!(rust_night.matches("BEGIN:VALARM").count(), 1, "{path}: {rust_night}");
        assert!(rust_night.contains("\r\nACTION:DISPLAY\r\n"), "{rust_night}");
        assert!(rust_night.contains("\r\nTRIGGER:-PT30M\r\n"), "{rust_night}");
        if path.ends_with("events.ics") {
            let other = unfolded.split("BEGIN:VEVENT").find(|e| e.contains("SUMMARY:No reminders")).unwrap();
            assert!(!other.contains("VALARM"), "an event without reminders has no alarm: {other}");
        }
    }
    let ics = anon.get(&format!("{public}.ics")).await.text().await.unwrap();
    let parsed = crate::support::parse_ics(&ics);
    assert_eq!(parsed["description"], plain, "{parsed}");
    assert!(!anon.get(&format!("{quiet}.ics")).await.text().await.unwrap().contains("VALARM"));
    app.stop().await;
}
