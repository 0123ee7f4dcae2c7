//! A real browser (headless Chromium over WebDriver) walks through the portal the way people do:
//! sign up, follow the verification link Herald wrote to its log, create an organization, invite
//! someone who then makes an account and joins; an organizer watches the delivery ledger fill
//! in while a reminder goes out. Screenshots of the main pages, at desktop and phone width, land
//! in `target/screenshots/`.

use std::time::Duration;

use herald::db::models::Rsvp;

use crate::delivery::{create_org, event, got, join, person_of, wait_for_temporal};
use crate::delivery_pages::signed_in;
use crate::support::browser::{Browser, ChromeDriver, DESKTOP, ENTER, HeraldServer, PHONE, TAB, wait_until};
use crate::support::{Backend, PASSWORD, TestApp, eventually};

/// Keyboard basics on a fresh page: the first Tab lands on the skip link, which shows itself, and
/// Enter on it moves the focus to the main content.
async fn skip_link_comes_first(browser: &Browser, path: &str) {
    browser.open(path).await;
    browser.press(TAB).await;
    let focused = browser
        .js("const e = document.activeElement; return [e.tagName, e.getAttribute('href'), e.textContent.trim()]")
        .await;
    assert_eq!(focused[0], "A", "the first Tab on {path} focuses a link: {focused}");
    assert_eq!(focused[1], "#main", "the first Tab on {path} focuses the skip link: {focused}");
    assert_eq!(focused[2], "Skip to main content", "{focused}");
    // Hidden above the page until focused, then on screen.
    wait_until(&format!("the focused skip link on {path} to show"), || async {
        let rect = browser
            .js("const r = document.activeElement.getBoundingClientRect(); return [r.top, r.bottom]")
            .await;
        (rect[0].as_f64()? >= 0.0 && rect[1].as_f64()? > 0.0).then_some(())
    })
    .await;
    browser.press(ENTER).await;
    let focused = browser.js("return document.activeElement.id").await;
    assert_eq!(focused, "main", "Enter on the skip link on {path} moves the focus to <main>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_verify_create_org_and_invite_in_a_real_browser() {
    let herald = HeraldServer::start().await;
    let driver = ChromeDriver::start().await;
    let ada = driver.session().await.at(&herald.base);

    // A visitor arrives on the home page; the keyboard reaches the skip link first.
    skip_link_comes_first(&ada, "/").await;
    ada.open("/").await;
    assert_eq!(ada.heading().await, "Reminders that show up on time.");
    ada.screenshots("home").await;

    ada.open("/signin").await;
    assert_eq!(ada.heading().await, "Sign in");
    ada.screenshots("signin").await;

    // Sign up from the navigation.
    ada.open("/").await;
    ada.click_link("Sign up").await;
    ada.wait_for_path("/signup").await;
    assert_eq!(ada.heading().await, "Create your account");
    assert_eq!(ada.value("Time zone").await, "Europe/Paris", "the browser's time zone is proposed");
    ada.screenshots("signup").await;

    // Submitting nothing explains what to fix, next to each field and in a summary.
    ada.click_button("Create account").await;
    let summary = ada.wait_for_flash("Please fix the following").await;
    assert!(summary.to_lowercase().contains("email"), "the summary names the email field: {summary}");
    let invalid = ada.field("Email").await.attr("aria-invalid").await.unwrap();
    assert_eq!(invalid.as_deref(), Some("true"), "the email field is marked invalid");
    ada.screenshots("signup-errors").await;

    ada.fill("Email", "ada@example.org").await;
    ada.fill("Your name", "Ada Lovelace").await;
    ada.fill("Password", PASSWORD).await;
    ada.click_button("Create account").await;
    // The same answer whether or not the address has an account: check your inbox.
    ada.wait_for_path("/signin").await;
    ada.wait_for_flash("Almost done: we sent a link to ada@example.org").await;
    ada.screenshots("signup-sent").await;

    // The link Herald wrote to its log (no mail is configured) confirms the address and signs in.
    let link = herald.logged_link("ada@example.org", "/verify/").await;
    ada.open(&link).await;
    ada.wait_for_flash("Your email address is confirmed").await;
    let flashes = ada.flashes().await;
    assert!(
        !flashes.iter().any(|f| f.contains("Please verify")),
        "the verification banner is gone: {flashes:?}"
    );

    // No organization yet: the page says what to do next.
    ada.open("/orgs").await;
    assert_eq!(ada.heading().await, "Your organizations");
    ada.wait_for_text("You are not in any organization yet").await;
    skip_link_comes_first(&ada, "/orgs").await;
    ada.screenshots("orgs-empty").await;

    ada.click_link("Create an organization").await;
    ada.wait_for_path("/orgs/new").await;
    assert_eq!(ada.heading().await, "Create an organization");
    ada.screenshots("org-new").await;
    ada.fill("Name", "Rust Paris").await;
    ada.fill("Web address", "rust-paris").await;
    ada.click_button("Create organization").await;
    // The next step is the first event: the new organization opens on the event form.
    ada.wait_for_path("/orgs/rust-paris/events/new").await;
    ada.wait_for_flash("Rust Paris is created, and you are its owner").await;
    ada.open("/orgs/rust-paris").await;
    ada.wait_for_heading("Rust Paris").await;
    ada.wait_for_text("1 member").await;
    ada.screenshots("org-overview").await;

    ada.open("/orgs").await;
    let rows = ada.table_rows("main table").await;
    assert_eq!(rows, vec![vec!["Rust Paris".to_owned(), "owner".to_owned()]], "her organizations");
    ada.screenshots("orgs").await;

    // Invite Bea as an organizer.
    ada.open("/orgs/rust-paris").await;
    ada.click_link("Invite someone").await;
    ada.wait_for_path("/orgs/rust-paris/members").await;
    ada.fill("Email address", "b@example.org").await;
    ada.select("Role", "organizer").await;
    ada.click_button("Send invitation").await;
    ada.wait_for_flash("We sent an invitation to b@example.org").await;
    let open = ada.table_rows("section[aria-labelledby=invitations-heading] table").await;
    assert_eq!(open.len(), 1, "one open invitation: {open:?}");
    assert_eq!(&open[0][..3], ["b@example.org", "organizer", "Ada Lovelace"], "{open:?}");

    // Bea, in a browser of her own, follows the link from the log and makes an account there.
    let link = herald.logged_link("b@example.org", "/invitations/").await;
    let invitation_path = link.strip_prefix(&herald.base).unwrap().to_owned();
    let bea = driver.session().await.at(&herald.base);
    bea.open(&link).await;
    assert_eq!(bea.heading().await, "Join Rust Paris");
    bea.wait_for_text("Ada Lovelace invited b@example.org to join Rust Paris on Herald as organizer.").await;
    bea.screenshots("invitation").await;
    bea.click_link("Create an account").await;
    bea.wait_for_path("/signup").await;
    bea.fill("Email", "b@example.org").await;
    bea.fill("Your name", "Bea Organizer").await;
    bea.fill("Password", PASSWORD).await;
    bea.click_button("Create account").await;
    bea.wait_for_flash("Almost done: we sent a link to b@example.org").await;
    // The mailed link leads back to the invitation, signed in: one click to accept.
    let verify = herald.logged_link("b@example.org", "/verify/").await;
    bea.open(&verify).await;
    bea.wait_for_path(&invitation_path).await;
    bea.wait_for_flash("Welcome to Herald!").await;
    bea.wait_for_text("You are signed in as b@example.org").await;
    bea.click_button("Accept the invitation").await;
    bea.wait_for_path("/orgs/rust-paris").await;
    bea.wait_for_flash("Welcome to Rust Paris! You joined as organizer.").await;
    let flashes = bea.flashes().await;
    assert!(
        !flashes.iter().any(|f| f.contains("Please verify")),
        "accepting the mailed invitation verified her address: {flashes:?}"
    );
    let switcher = bea.text(".org-switcher summary").await;
    assert!(switcher.contains("Rust Paris"), "the switcher shows the organization: {switcher:?}");

    // Ada sees Bea among the members, and no open invitation any more.
    ada.open("/orgs/rust-paris/members").await;
    let members = ada.table_rows("table.members-table").await;
    let bea_row = members
        .iter()
        .find(|r| r.get(1).is_some_and(|e| e == "b@example.org"))
        .unwrap_or_else(|| panic!("Bea in the members table: {members:?}"));
    assert_eq!(&bea_row[..3], ["Bea Organizer", "b@example.org", "organizer"], "{members:?}");
    assert_eq!(members.len(), 2, "{members:?}");
    ada.wait_for_text("No open invitations.").await;
    skip_link_comes_first(&ada, "/orgs/rust-paris/members").await;
    ada.screenshots("members").await;

    ada.open("/orgs/rust-paris/settings").await;
    ada.wait_for_text("Delete this organization").await;
    ada.screenshots("org-settings").await;

    ada.open("/account").await;
    assert_eq!(ada.heading().await, "Account preferences");
    assert_eq!(ada.value("Your name").await, "Ada Lovelace");
    ada.screenshots("account").await;

    ada.open("/account/tokens").await;
    assert_eq!(ada.heading().await, "API tokens");
    ada.screenshots("tokens").await;
}

/// Signs up `email` in `browser` from the sign-up page and follows the link from the log.
/// Screenshots of the page at both widths, and on a phone: nothing scrolls sideways and the
/// header takes one row.
async fn look(browser: &Browser, name: &str) {
    browser.screenshots(name).await;
    browser.resize(PHONE.0, PHONE.1).await;
    let widths = browser.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert!(widths[0].as_i64() <= widths[1].as_i64(), "{name} scrolls sideways on a phone: {widths}");
    let header =
        browser.js("return document.querySelector('.site-header').getBoundingClientRect().height").await;
    assert!(
        header.as_f64().is_some_and(|h| h <= 72.0),
        "{name}: the phone header takes one row ({header} px)"
    );
    browser.resize(DESKTOP.0, DESKTOP.1).await;
}

/// The organizer's path, counted: from the sign-up form to a published event with a scheduled
/// reminder and its link copied, in at most six clicks. Every page is looked at on a desktop
/// and a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_sign_up_to_a_shared_event_in_six_clicks() {
    let herald = HeraldServer::start().await;
    let driver = ChromeDriver::start().await;
    let olga = driver.session().await.at(&herald.base);
    let mut clicks = 0;

    olga.open("/").await;
    look(&olga, "path-0-home").await;
    olga.open("/signup").await;
    olga.fill("Email", "olga@example.org").await;
    olga.fill("Your name", "Olga Organizer").await;
    olga.fill("Password", PASSWORD).await;
    look(&olga, "path-1-signup").await;
    olga.click_button("Create account").await;
    clicks += 1;
    olga.wait_for_flash("Almost done").await;

    // The mailed link (here: logged) confirms the address and opens the home page.
    let link = herald.logged_link("olga@example.org", "/verify/").await;
    olga.open(&link).await;
    clicks += 1;
    olga.wait_for_path("/").await;
    olga.wait_for_text("Get your first reminder out").await;
    olga.wait_for_text("0 of 4 done").await;
    look(&olga, "path-2-home-checklist").await;
    // On a phone the navigation sits behind the menu button, and opens from it.
    olga.resize(PHONE.0, PHONE.1).await;
    let shown = "return getComputedStyle(document.getElementById('site-nav')).display !== 'none'";
    assert_eq!(olga.js(shown).await, false, "the phone header folds the navigation away");
    let menu = olga.element("button[aria-controls='site-nav']").await;
    assert_eq!(menu.text().await.unwrap(), "Menu");
    // Right after a resize the browser may still be laying the header out: try for a moment.
    wait_until("the menu button to take a click", || async { menu.click().await.ok() }).await;
    assert_eq!(olga.js(shown).await, true, "the menu button opens it");
    olga.screenshots("path-2-home-menu-open").await;
    olga.resize(DESKTOP.0, DESKTOP.1).await;

    olga.click_link("Create an organization").await;
    clicks += 1;
    olga.wait_for_path("/orgs/new").await;
    olga.fill("Name", "Rust Paris").await;
    look(&olga, "path-3-org-new").await;
    olga.click_button("Create organization").await;
    clicks += 1;

    // The new organization opens on its first event; the end may stay empty (start + 1 h).
    olga.wait_for_path("/orgs/rust-paris/events/new").await;
    olga.fill("Name", "Rust night").await;
    olga.js("document.getElementById('f-start').value = '2030-06-01T18:30'; return null").await;
    let zones = olga.js("return document.querySelectorAll('#time-zones option').length").await;
    assert!(zones.as_u64().is_some_and(|n| n > 300), "the time zone is searchable in a list: {zones}");
    look(&olga, "path-4-event-new").await;
    olga.click_button("Publish").await;
    clicks += 1;
    olga.wait_for_flash("The event is published.").await;
    assert!(olga.path().await.starts_with("/orgs/rust-paris/events/"));
    let share = olga.value("Link to the event's page").await;
    assert!(share.starts_with(&herald.base) && share.contains("/o/rust-paris/e/rust-night"), "{share}");
    olga.wait_for_text("Sat 2030-06-01, 18:30 – 19:30").await;
    // The schedule shows the default reminders, from the saved plan.
    let schedule = olga.text("#deliveries ol.schedule").await;
    assert!(schedule.starts_with("Reminder, 1 day before"), "{schedule}");
    olga.click_button("Copy link").await;
    clicks += 1;
    olga.wait_for_text("Link copied.").await;
    look(&olga, "path-5-event-published").await;

    assert!(clicks <= 6, "{clicks} clicks from sign-up to a shared event");

    // Back home, the checklist has moved on and the event is listed.
    olga.open("/").await;
    olga.wait_for_text("3 of 4 done").await;
    olga.wait_for_text("Rust night").await;
    look(&olga, "path-6-home-after").await;
    // The event list is the organization's first tab, with counts.
    olga.open("/orgs/rust-paris/events").await;
    let tabs = olga.text("nav.org-tabs").await;
    assert!(tabs.starts_with("Events"), "{tabs}");
    let filters = olga.text("ul.segmented").await.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(filters.starts_with("Upcoming 1 Started and past 0 Drafts 0"), "{filters}");
    look(&olga, "path-7-events").await;
    // The public page is what people see; it fits a phone too.
    olga.open(&share).await;
    olga.wait_for_heading("Rust night").await;
    look(&olga, "path-8-public").await;
    // The organization's report: charts that scale to a phone.
    olga.open("/orgs/rust-paris/report").await;
    olga.wait_for_heading("Rust Paris").await;
    assert!(olga.text("main").await.contains("Answers over time"));
    let tabs = olga.text("nav.org-tabs").await;
    assert!(tabs.contains("Report"), "{tabs}");
    look(&olga, "path-9-report").await;
    // The wording of reminders: typing shows the message as it will read, live (htmx).
    olga.open("/orgs/rust-paris/messages").await;
    olga.wait_for_heading("Rust Paris").await;
    let subject = olga.element("#f-subject-reminder").await;
    subject.clear().await.unwrap();
    subject.send_keys("Soon: {{ event.name }} with {{ org.name }}").await.unwrap();
    olga.wait_for_text("Soon: Rust night with Rust Paris").await;
    assert!(olga.text("#preview-reminder").await.contains("Rust night starts in"), "the body under it");
    look(&olga, "path-10-messages").await;
}

async fn sign_up_and_verify(browser: &Browser, herald: &HeraldServer, email: &str, name: &str) {
    browser.open("/signup").await;
    browser.fill("Email", email).await;
    browser.fill("Your name", name).await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Create account").await;
    browser.wait_for_flash(&format!("Almost done: we sent a link to {email}")).await;
    let link = herald.logged_link(email, "/verify/").await;
    browser.open(&link).await;
    browser.wait_for_flash("Your email address is confirmed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_user_rsvps_from_the_public_page_and_the_organizer_sees_it() {
    let herald = HeraldServer::start().await;
    let driver = ChromeDriver::start().await;

    // Ada creates an organization and publishes an event.
    let ada = driver.session().await.at(&herald.base);
    sign_up_and_verify(&ada, &herald, "ada@example.org", "Ada Lovelace").await;
    ada.open("/orgs/new").await;
    ada.fill("Name", "Rust Paris").await;
    ada.fill("Web address", "rust-paris").await;
    ada.click_button("Create organization").await;
    ada.wait_for_path("/orgs/rust-paris/events/new").await;
    ada.fill("Name", "Rust night").await;
    // Date pickers differ between browsers and locales: the values are set as a picker would.
    ada.js("document.getElementById('f-start').value = '2030-06-01T18:30'; \
         document.getElementById('f-end').value = '2030-06-01T20:00'; return null")
        .await;
    ada.fill("Time zone", "Europe/Paris").await;
    ada.click_button("Publish").await;
    ada.wait_for_flash("The event is published.").await;
    let event_path = ada.path().await;
    ada.wait_for_text("Nobody yet.").await;

    // Bea finds it on the organization's public page and is asked to sign in to answer.
    let bea = driver.session().await.at(&herald.base);
    bea.open("/o/rust-paris").await;
    bea.click_link("Rust night").await;
    bea.wait_for_heading("Rust night").await;
    let public_path = bea.path().await;
    assert!(public_path.starts_with("/o/rust-paris/e/rust-night"), "{public_path}");
    bea.click_link("Sign in to RSVP").await;
    bea.wait_for_path("/signin").await;
    // No account yet: creating one from the sign-in page comes back to the event.
    bea.click_link("Create an account").await;
    bea.wait_for_path("/signup").await;
    bea.fill("Email", "bea@example.org").await;
    bea.fill("Your name", "Bea Attendee").await;
    bea.fill("Password", PASSWORD).await;
    bea.click_button("Create account").await;
    bea.wait_for_flash("Almost done: we sent a link to bea@example.org").await;
    // The mailed link confirms her address and leads back to the event, signed in.
    let link = herald.logged_link("bea@example.org", "/verify/").await;
    bea.open(&link).await;
    bea.wait_for_path(&public_path).await;
    bea.wait_for_flash("Your email address is confirmed").await;

    // Verified, she answers "going": one tap, and the card changes in place.
    bea.click_button("Going").await;
    bea.wait_for_flash("You joined the event: Going.").await;
    assert_eq!(bea.text("#rsvp-current").await, "Going");
    let pressed = bea
        .js("return [...document.querySelectorAll('#rsvp button[aria-pressed=\"true\"]')].map(b => b.innerText.trim())")
        .await;
    assert_eq!(pressed, serde_json::json!(["Going"]), "the answer she gave is shown pressed");
    assert_eq!(bea.path().await, public_path, "answered without leaving the page");
    bea.screenshots("event-public-rsvp").await;

    // Ada's event page lists her, going.
    ada.open(&event_path).await;
    let rows = ada.table_rows("#participants table").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0][0].contains("Bea Attendee") && rows[0][0].contains("bea@example.org"), "{rows:?}");
    assert_eq!(&rows[0][1..3], ["Attendee", "Going"], "{rows:?}");
    ada.screenshots("event-participants").await;

    // Cleo answers as a guest on her phone, in three steps: the form, the mailed link, done.
    let cleo = driver.session().await.at(&herald.base);
    cleo.open(&public_path).await;
    cleo.screenshots("guest-1-form").await;
    cleo.resize(PHONE.0, PHONE.1).await;
    cleo.fill("Your name", "Cleo").await;
    cleo.fill("Your email address", "cleo@example.org").await;
    cleo.click_button("Send my answer").await;
    cleo.wait_for_flash("Almost done: we sent a link to cleo@example.org").await;
    cleo.screenshots("guest-2-check-your-inbox").await;
    let link = herald.logged_link("cleo@example.org", "/guest/").await;
    cleo.resize(PHONE.0, PHONE.1).await;
    cleo.open(&link).await;
    cleo.wait_for_flash("You're in: Going").await;
    assert_eq!(cleo.text("#rsvp-current").await, "Going");
    let reminders = cleo.text("#reminder-line").await;
    assert!(
        reminders.contains("2030") && reminders.contains("(Europe/Paris)"),
        "when she will be reminded: {reminders}"
    );
    cleo.screenshots("guest-3-done").await;
    ada.open(&event_path).await;
    let rows = ada.table_rows("#participants table").await;
    assert!(rows.iter().any(|r| r[0].contains("Cleo") && r[2] == "Going"), "{rows:?}");
}

/// Signs `email` in through the sign-in page.
async fn sign_in(browser: &Browser, email: &str) {
    browser.open("/signin").await;
    browser.fill("Email", email).await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
    wait_until(&format!("{email} to be signed in"), || async {
        (browser.path().await != "/signin").then_some(())
    })
    .await;
    browser.element("h1").await;
}

/// The rows of the ledger table on the page now (empty while there is none).
async fn ledger_rows(browser: &Browser) -> Vec<Vec<String>> {
    let rows = browser
        .js("return [...document.querySelectorAll('#deliveries table.ledger tbody tr')] \
             .map(r => [...r.cells].map(c => c.innerText.trim()))")
        .await;
    serde_json::from_value(rows).unwrap_or_default()
}

/// The attendee reads when and through what she will be reminded; the organizer keeps the
/// event's page open while the reminder goes out and watches the ledger fill in by itself (the
/// fragment polls every 3 s), without reloading the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organizer_watches_the_ledger_fill_in() {
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let (_, _, olga_token) = signed_in(&app, "olga@example.org", "Olga Organizer").await;
    create_org(&app, &olga_token).await;
    let (_, ada_id, ada_token) = signed_in(&app, "ada@example.org", "Ada Attendee").await;
    let ada =
        person_of(&app, ada_id, &ada_token, "Ada", "Europe/Paris", &[("ntfys://ntfy.example.org/ada", &[])])
            .await;
    // The reminder is due 30 s from now: time for two browsers to sign in and look first.
    let (ev, starts_at) = event(&app, &olga_token, 45, 60, &[15]).await;
    let due = starts_at - chrono::Duration::seconds(15);
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let slug = app.db.db.event(ev).await.unwrap().unwrap().slug;
    let driver = ChromeDriver::start().await;

    // Ada, on the public page, reads when (in her zone) and through what.
    let ada_b = driver.session().await.at(&app.base);
    sign_in(&ada_b, "ada@example.org").await;
    ada_b.open(&format!("/o/rust-paris/e/{slug}")).await;
    let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    // Ada keeps the default date format: year first.
    let at = due.with_timezone(&paris).format("%a %Y-%m-%d, %H:%M %Z");
    assert_eq!(
        ada_b.text("#reminder-line").await,
        format!("You'll be reminded at {at} (Europe/Paris) via Ada's channel, Email — ada@example.org.")
    );
    ada_b.screenshots("event-public-reminders").await;

    // Olga opens her event's page before the reminder is due: it is scheduled, nothing is sent.
    let olga = driver.session().await.at(&app.base);
    sign_in(&olga, "olga@example.org").await;
    olga.open(&format!("/orgs/rust-paris/events/{ev}")).await;
    olga.wait_for_text("Nothing sent yet.").await;
    assert!(chrono::Utc::now() < due, "the page was open before the reminder was due");
    let schedule = olga.text("#deliveries ol.schedule").await;
    assert!(schedule.starts_with("Reminder, 15 seconds before"), "{schedule}");
    let link = olga
        .js("const a = [...document.querySelectorAll('#deliveries a')] \
             .find(a => a.textContent.includes('Temporal UI')); return a ? a.getAttribute('href') : null")
        .await;
    assert!(link.is_null(), "the Temporal UI is for operators, not organizers: {link}");
    // A mark on this very document: a reload would lose it.
    olga.js("window.heraldSamePage = true; return null").await;

    eventually(Duration::from_secs(60), "the ledger to show Ada's reminder as sent", || async {
        let rows = ledger_rows(&olga).await;
        rows.iter()
            .any(|r| {
                r.first().is_some_and(|c| c == "Ada Attendee")
                    && r.get(1).is_some_and(|s| s.starts_with("sent"))
            })
            .then_some(rows)
    })
    .await;
    // One reminder through each of her channels: her own and the email to her address.
    let rows = eventually(Duration::from_secs(30), "both of Ada's channels in the ledger", || async {
        let rows = ledger_rows(&olga).await;
        (rows.iter().filter(|r| r.get(1).is_some_and(|s| s.starts_with("sent"))).count() == 2).then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), 2, "one reminder, two channels: {rows:?}");
    let row = rows.iter().find(|r| r[4] == "Ada's channel").expect("her own channel's row");
    assert!(rows.iter().any(|r| r[4] == "Email — ada@example.org"), "{rows:?}");
    assert_eq!(
        (row[0].as_str(), row[1].as_str(), row[2].as_str()),
        ("Ada Attendee", "sent", "Reminder"),
        "{rows:?}"
    );
    let olga_tz = app.db.db.user_by_email("olga@example.org").await.unwrap().unwrap().timezone;
    assert_eq!(row[3], due.with_timezone(&olga_tz.0).format("%a %Y-%m-%d, %H:%M %Z").to_string(), "{rows:?}");
    assert_eq!(row[4], "Ada's channel", "{rows:?}");
    assert_eq!(
        olga.js("return window.heraldSamePage === true").await,
        true,
        "the ledger filled in without a reload"
    );
    assert_eq!(olga.text("#deliveries .ledger-summary").await, "2 delivered");
    assert_eq!(got(&app, &ada.key, "ntfys://", "Reminder: ").len(), 1, "and Ada got it");

    olga.screenshots("event-deliveries").await;

    // At phone width the page itself never scrolls sideways: the table scrolls in its frame.
    olga.resize(PHONE.0, PHONE.1).await;
    let widths = olga
        .js("const wide = [...document.querySelectorAll('main *')] \
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 \
                            && !e.closest('.table-wrap table')) \
               .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)); \
             return [document.documentElement.scrollWidth, window.innerWidth, wide]")
        .await;
    let (page, viewport) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(page <= viewport, "the page is {page}px wide on a {viewport}px phone; too wide: {}", widths[2]);
    // Who got what is readable without scrolling the table sideways.
    let status_right = olga
        .js("return document.querySelector('#deliveries table.ledger tbody td.status .badge').getBoundingClientRect().right")
        .await;
    assert!(
        status_right.as_f64().unwrap() <= viewport as f64,
        "the status badge ends at {status_right}px on a {viewport}px phone"
    );
    drop(driver);
    app.stop().await;
}

/// The organization's report with real answers and deliveries (not its empty state): the four
/// charts are drawn and visible at desktop and phone width, the page never scrolls sideways on
/// the phone, and each chart fits the screen. Screenshots: `report-data` and `report-data-phone`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_shows_its_charts_with_data_on_a_desktop_and_a_phone() {
    use herald::db::models::DeliveryStatus;

    use crate::delivery::person;
    use crate::reports::ledger_row;

    let app = TestApp::start(Backend::Sqlite).await;
    let (_, _, olga_token) = signed_in(&app, "olga@example.org", "Olga Organizer").await;
    create_org(&app, &olga_token).await;
    let (ev, _) = event(&app, &olga_token, 30 * 86_400, 3_600, &[]).await;
    // Eight people answer, each with a channel; reminders went out to them, sent or failed, some
    // on time and some late, and one is still pending.
    let answers = [Rsvp::Going, Rsvp::Going, Rsvp::Going, Rsvp::Maybe, Rsvp::Maybe, Rsvp::Declined];
    let lateness_ms = [200, 800, 3_000, 12_000, 45_000, 400_000];
    for (i, (rsvp, late)) in answers.iter().zip(lateness_ms).enumerate() {
        let who = person(
            &app,
            &format!("p{i}@example.org"),
            &format!("Person {i}"),
            "UTC",
            &[(&format!("ntfys://ntfy.example.org/report-{i}"), &[])],
        )
        .await;
        let p = join(&app, ev, &who, *rsvp, None).await;
        let status = if i == 4 { DeliveryStatus::Failed } else { DeliveryStatus::Sent };
        ledger_row(&app, ev, p, Some(who.integration), late, Some(status)).await;
        if i == 5 {
            ledger_row(&app, ev, p, None, 0, None).await;
        }
    }

    let driver = ChromeDriver::start().await;
    let olga = driver.session().await.at(&app.base);
    sign_in(&olga, "olga@example.org").await;
    olga.open("/orgs/rust-paris/report").await;
    olga.wait_for_heading("Rust Paris").await;
    let text = olga.text("main").await;
    assert!(!text.contains("No answers yet") && !text.contains("Nothing delivered yet"), "{text}");
    assert!(!text.contains("No reminders sent yet"), "the charts, not the empty state: {text}");

    // Every chart on screen: its box has a size, it fits the viewport, and it draws bars.
    let charts = "return [...document.querySelectorAll('svg.chart-svg')].map(s => { \
          const r = s.getBoundingClientRect(); \
          const bars = [...s.querySelectorAll('rect.bar')].filter(b => { \
            const q = b.getBoundingClientRect(); return q.width > 0 && q.height > 0; }).length; \
          return [Math.round(r.left), Math.round(r.right), Math.round(r.width), Math.round(r.height), bars, \
                  getComputedStyle(s).visibility, window.innerWidth]; })";
    for (width, height) in [DESKTOP, PHONE] {
        olga.resize(width, height).await;
        let seen = olga.js(charts).await;
        let seen = seen.as_array().unwrap();
        assert_eq!(seen.len(), 4, "four charts at {width} px: {seen:?}");
        for c in seen {
            let [left, right, w, h, bars, visibility, viewport] = &c.as_array().unwrap()[..] else {
                panic!("{c}")
            };
            assert!(
                w.as_i64().unwrap() > 100 && h.as_i64().unwrap() > 50,
                "a chart too small at {width} px: {c}"
            );
            assert!(
                left.as_i64().unwrap() >= 0 && right.as_i64().unwrap() <= viewport.as_i64().unwrap(),
                "a chart sticks out of the {width} px screen: {c}"
            );
            assert!(bars.as_i64().unwrap() >= 1, "a chart without a visible bar at {width} px: {c}");
            assert_eq!(visibility, "visible", "{c}");
        }
    }
    // On the phone, nothing scrolls sideways.
    let widths = olga
        .js("const wide = [...document.querySelectorAll('main *')] \
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 \
                            && !e.closest('.table-wrap table')) \
               .map(e => e.tagName + '.' + e.getAttribute('class')); \
             return [document.documentElement.scrollWidth, window.innerWidth, wide]")
        .await;
    assert!(
        widths[0].as_i64().unwrap() <= widths[1].as_i64().unwrap(),
        "the report scrolls sideways on a phone: {widths}"
    );
    olga.resize(DESKTOP.0, DESKTOP.1).await;
    olga.screenshots("report-data").await;
    drop(driver);
    app.stop().await;
}

/// Opens the "Choose your reminders" part of the event page by keyboard: the focus on its
/// summary, Enter.
async fn open_reminder_choice(browser: &Browser) {
    browser.element("#reminder-choice summary").await;
    browser.js("document.querySelector('#reminder-choice summary').focus(); return null").await;
    browser.press(ENTER).await;
    let open = browser.js("return document.querySelector('#reminder-choice').open").await;
    assert_eq!(open, true, "Enter on the summary opens the reminder choice");
}

/// On a phone, by keyboard, Ada adds a reminder time of her own on the event page: the field
/// is labelled and says its limits, a time outside them is refused with what to fix, and a good
/// one is saved and listed with her reminders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_adds_her_own_reminder_time_by_keyboard_on_a_phone() {
    let app = TestApp::start(Backend::Sqlite).await;
    wait_for_temporal(&app).await;
    let (_, _, olga_token) = signed_in(&app, "olga@example.org", "Olga Organizer").await;
    create_org(&app, &olga_token).await;
    let (_, ada_id, ada_token) = signed_in(&app, "ada@example.org", "Ada Attendee").await;
    let ada =
        person_of(&app, ada_id, &ada_token, "Ada", "Europe/Paris", &[("ntfys://ntfy.example.org/ada", &[])])
            .await;
    let (ev, _) = event(&app, &olga_token, 3 * 86_400, 3600, &[86_400, 3600]).await;
    join(&app, ev, &ada, Rsvp::Going, None).await;
    let slug = app.db.db.event(ev).await.unwrap().unwrap().slug;
    let driver = ChromeDriver::start().await;
    let b = driver.session().await.at(&app.base);
    b.resize(PHONE.0, PHONE.1).await;
    sign_in(&b, "ada@example.org").await;
    let page = format!("/o/rust-paris/e/{slug}");
    b.open(&page).await;

    open_reminder_choice(&b).await;
    let label = "Also remind me at times of my own";
    let field = b.field(label).await;
    let help = b
        .js("const f = [...document.querySelectorAll('#reminder-choice input[name=own]')][0]; \
             return f.getAttribute('aria-describedby').split(' ') \
               .map(id => document.getElementById(id).textContent).join(' ')")
        .await;
    let help = help.as_str().unwrap_or_default().to_owned();
    assert!(help.contains("up to 3, between 5 minutes and 2 weeks before the start"), "{help}");
    // Too late to be of use: refused with the limits.
    field.send_keys("30s").await.unwrap();
    b.press(ENTER).await;
    b.wait_for_flash(
        "Choose times between 5 minutes and 2 weeks before the start; 30 seconds is outside that.",
    )
    .await;
    b.open(&page).await;
    open_reminder_choice(&b).await;
    b.fill(label, "2h").await;
    b.press(ENTER).await;
    b.wait_for_flash("You will be reminded 1 day, 2 hours and 1 hour before.").await;
    let times = b.js("return document.querySelectorAll('#reminder-line time').length").await;
    assert_eq!(times, 3, "three reminders listed: {}", b.text("#reminder-line").await);
    // Her own time stays in the field, and nothing scrolls sideways on the phone.
    assert_eq!(b.js("return document.querySelector('#reminder-choice').open").await, true);
    assert_eq!(b.value(label).await, "2h");
    let widths = b.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
    assert!(widths[0].as_i64().unwrap() <= widths[1].as_i64().unwrap(), "{widths}");
    b.screenshots("event-public-own-reminder").await;
    let (status, body) = crate::orgs::api(
        &app,
        &ada_token,
        reqwest::Method::GET,
        &format!("/api/v1/me/events/{ev}/reminders"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["own"], serde_json::json!([7200]), "{body}");
    drop(driver);
    app.stop().await;
}
