//! Accounts: sign-up, verification by mail, sign-in, CSRF.

use chrono::{Duration, Utc};
use herald::db::auth::TokenPurpose;
use herald::secrets::hash_token;

use crate::support::{Backend, MAIL_URL, PASSWORD, TestApp, Visitor};

both_backends!(
    sign_up_verify_sign_in,
    wrong_password_and_unknown_email_look_the_same,
    sign_up_names_each_bad_field,
    sign_up_never_says_an_address_is_taken,
    verification_links_expire_work_once_and_are_replaced,
    password_reset,
    sign_in_throttling,
    parallel_guesses_are_counted_and_lock_out_only_the_guesser,
    sign_ups_and_account_mail_are_limited,
    state_changing_forms_need_the_csrf_token,
);

async fn sign_up_verify_sign_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada Lovelace", false).await;

    // Signed in right away, but unverified: the portal says so and offers to resend.
    let (_, page) = ada.page("/signin?next=/").await;
    let (status, home) = ada.page("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Please verify your email address"), "unverified banner shown");
    assert!(home.contains("Ada Lovelace"), "the user's name is in the navigation");
    drop(page);

    // The mail went through the Apprise API's stateless notify, to ada only.
    let mails = app.apprise.mail_to("ada@example.org");
    assert_eq!(mails.len(), 1);
    assert!(mails[0].url.starts_with("mailtos://herald:"), "sent with the operator's mail URL");
    let link = app.mailed_link("ada@example.org", "/verify/").expect("a verification link");
    assert_eq!(ada.get(&link).await.status(), 303);
    let (_, home) = ada.page("/").await;
    assert!(!home.contains("Please verify your email address"), "banner gone once verified");
    assert!(!home.contains("mail-secret-pw") && !home.contains(MAIL_URL), "the mail URL never shows");

    // A used link does not work twice; a forged one never does.
    assert_eq!(ada.get(&link).await.status(), 400);
    assert_eq!(ada.get("/verify/forged-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").await.status(), 400);

    // Sign out, then back in with the password.
    assert_eq!(ada.post("/signout", &[]).await.status(), 303);
    let (_, home) = ada.page("/").await;
    assert!(!home.contains("Ada Lovelace"), "signed out");
    let r = ada.post("/signin", &[("email", "ADA@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 303, "sign-in with a differently-cased email works");
    let (_, home) = ada.page("/").await;
    assert!(home.contains("Ada Lovelace"));
    app.stop().await;
}

async fn wrong_password_and_unknown_email_look_the_same(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signed_up("ada@example.org", "Ada", true).await;
    let v = app.visitor();
    let wrong = v.post("/signin", &[("email", "ada@example.org"), ("password", "not the password")]).await;
    let (wrong_status, wrong_body) = (wrong.status(), wrong.text().await.unwrap());
    let unknown =
        v.post("/signin", &[("email", "nobody@example.org"), ("password", "not the password")]).await;
    let (unknown_status, unknown_body) = (unknown.status(), unknown.text().await.unwrap());
    assert_eq!(wrong_status, 401);
    assert_eq!(wrong_status, unknown_status);
    let message =
        |body: &str| body.split("role=\"alert\"").nth(1).map(|s| s.chars().take(200).collect::<String>());
    assert_eq!(message(&wrong_body), message(&unknown_body), "the same message for both");
    assert!(message(&wrong_body).is_some());

    // Without the CSRF token, nothing happens.
    let r = v.post_raw("/signin", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 403);
    app.stop().await;
}

async fn sign_up_names_each_bad_field(backend: Backend) {
    let app = TestApp::start(backend).await;
    let v = app.visitor();
    let good = [
        ("email", "ada@example.org"),
        ("display_name", "Ada"),
        ("password", PASSWORD),
        ("timezone", "Europe/Paris"),
    ];
    let cases = [
        ("email", "ada@example", "Enter an email address like name@example.org."),
        ("password", "short", "Use at least 10 characters."),
        ("timezone", "Mars/Olympus", "is not a known time zone"),
        ("display_name", "  ", "Enter a name."),
    ];
    for (field, bad, message) in cases {
        let form: Vec<(&str, &str)> =
            good.iter().map(|&(k, val)| if k == field { (k, bad) } else { (k, val) }).collect();
        let r = v.post("/signup", &form).await;
        assert_eq!(r.status(), 422, "{field}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{field}: {message}");
        assert!(page.contains(&format!(r##"href="#f-{field}""##)), "the summary links to {field}");
        assert!(!page.contains(PASSWORD), "the password is never sent back");
    }
    // All at once: each is named.
    let r = v
        .post(
            "/signup",
            &[
                ("email", "nope"),
                ("display_name", "Ada"),
                ("password", "short"),
                ("timezone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Enter an email address")
            && page.contains("Use at least 10")
            && page.contains("Mars/Olympus")
    );
    assert!(page.contains(r#"value="nope""#), "typed values are kept");
    assert!(app.db.db.user_by_email("ada@example.org").await.unwrap().is_none(), "nothing created");
    assert!(app.apprise.delivered().is_empty(), "nothing mailed");

    app.stop().await;
}

/// What a sign-up answers: where it leads and the message shown there.
async fn sign_up_answer(app: &TestApp, email: &str) -> (u16, String, String) {
    let v = app.visitor();
    let form = [("email", email), ("display_name", "Someone"), ("password", PASSWORD), ("timezone", "UTC")];
    let r = v.post("/signup", &form).await;
    let status = r.status().as_u16();
    let to = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    let (_, page) = v.page(&to).await;
    let flash = page.split("role=\"status\"").nth(1).unwrap_or_default();
    let flash = flash.split("</p>").next().unwrap_or_default().replace(&email.to_lowercase(), "ADDRESS");
    (status, to, flash)
}

async fn sign_up_never_says_an_address_is_taken(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signed_up("ada@example.org", "Ada", true).await;
    app.signed_up("uma@example.org", "Uma", false).await;
    let mails = |who: &str| app.apprise.mail_to(who).len();
    let (ada_before, uma_before) = (mails("ada@example.org"), mails("uma@example.org"));

    // A new address, a verified one and an unconfirmed one get the same answer, signed out.
    let new = sign_up_answer(&app, "new@example.org").await;
    assert_eq!(new.0, 303);
    assert!(new.2.contains("we sent a link to ADDRESS"), "{new:?}");
    assert_eq!(sign_up_answer(&app, "ADA@example.org").await, new, "a taken address looks the same");
    assert_eq!(sign_up_answer(&app, "uma@example.org").await, new, "an unconfirmed one too");

    // The owners are told by mail instead: Ada that she has an account, Uma with a fresh link.
    assert_eq!(mails("ada@example.org"), ada_before + 1);
    let note = app.apprise.mail_to("ada@example.org").pop().unwrap();
    assert!(note.title.contains("You already have a Herald account"), "{}", note.title);
    assert!(note.body.contains(&app.url("/password/forgot")), "{}", note.body);
    assert_eq!(mails("uma@example.org"), uma_before + 1);
    assert!(app.mailed_link("uma@example.org", "/verify/").is_some());
    let ada = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap();
    assert_eq!(ada.display_name, "Ada", "the existing account is untouched");

    // The new account's link confirms it and signs in.
    let v = app.visitor();
    let link = app.mailed_link("new@example.org", "/verify/").expect("a link for the new account");
    assert_eq!(v.get(&link).await.status(), 303);
    let (_, home) = v.page("/").await;
    assert!(home.contains("Someone") && !home.contains("Please verify your email address"), "{home}");
    app.stop().await;
}

async fn verification_links_expire_work_once_and_are_replaced(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", false).await;
    let first = app.mailed_link("ada@example.org", "/verify/").unwrap();

    // Asking again sends a new link; the old one stops working.
    let (_, _) = ada.page("/account").await;
    let r = ada.post("/verify/resend", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.apprise.mail_to("ada@example.org").len(), 2, "a second mail");
    let second = app.mailed_link("ada@example.org", "/verify/").unwrap();
    assert_ne!(first, second);
    let (status, page) = ada.page(&first).await;
    assert_eq!(status, 400, "the replaced link is rejected");
    assert!(page.contains("This link does not work"));
    let verified =
        || async { app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().verified_at };
    assert!(verified().await.is_none());

    // The new one works once; forged links never do.
    assert_eq!(ada.get(&second).await.status(), 303);
    assert!(verified().await.is_some());
    assert_eq!(ada.page(&second).await.0, 400, "a used link is rejected");
    assert_eq!(ada.page("/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await.0, 400);
    assert_eq!(ada.page("/verify/%3Cscript%3E").await.0, 400);

    // An expired link is rejected and verifies nothing.
    let bob = app.signed_up("bob@example.org", "Bob", false).await;
    let bob_id = app.db.db.user_by_email("bob@example.org").await.unwrap().unwrap().id;
    let expired = "expired-link-0123456789abcdefghijklmnopqrstuv";
    app.db
        .db
        .create_auth_token(
            bob_id,
            TokenPurpose::VerifyEmail,
            &hash_token(expired),
            Utc::now() - Duration::minutes(1),
        )
        .await
        .unwrap();
    let (status, page) = bob.page(&format!("/verify/{expired}")).await;
    assert_eq!(status, 400);
    assert!(page.contains("expire"), "says links expire");
    assert!(app.db.db.user_by_id(bob_id).await.unwrap().unwrap().verified_at.is_none());
    // A reset link is not a verification link.
    let reset = "reset-link-0123456789abcdefghijklmnopqrstuvwx";
    app.db
        .db
        .create_auth_token(
            bob_id,
            TokenPurpose::ResetPassword,
            &hash_token(reset),
            Utc::now() + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(bob.page(&format!("/verify/{reset}")).await.0, 400);
    assert!(app.db.db.user_by_id(bob_id).await.unwrap().unwrap().verified_at.is_none());
    app.stop().await;
}

async fn signs_in(app: &TestApp, email: &str, password: &str) -> (u16, Visitor) {
    let v = app.visitor();
    let r = v.post("/signin", &[("email", email), ("password", password)]).await;
    (r.status().as_u16(), v)
}

/// Whether `v` is signed in (the account page answers instead of sending to sign-in).
async fn signed_in(v: &Visitor) -> bool {
    v.get("/account").await.status() == 200
}

async fn password_reset(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let (status, laptop) = signs_in(&app, "ada@example.org", PASSWORD).await;
    assert_eq!(status, 303);
    assert!(signed_in(&ada).await && signed_in(&laptop).await);

    // A known and an unknown address get the same answer; only the known one gets mail.
    let v = app.visitor();
    let main = |page: &str, email: &str| {
        let start = page.find("<main").unwrap();
        page[start..page.find("</main>").unwrap()].replace(email, "EMAIL")
    };
    let r = v.post("/password/forgot", &[("email", "ada@example.org")]).await;
    assert_eq!(r.status(), 200);
    let known = main(&r.text().await.unwrap(), "ada@example.org");
    let r = v.post("/password/forgot", &[("email", "nobody@example.org")]).await;
    assert_eq!(r.status(), 200);
    let unknown = main(&r.text().await.unwrap(), "nobody@example.org");
    assert!(known.contains("Check your inbox"));
    assert_eq!(known, unknown, "the same answer whether or not the account exists");
    assert!(app.apprise.mail_to("nobody@example.org").is_empty());
    let link = app.mailed_link("ada@example.org", "/password/reset/").expect("a reset mail");

    // The link shows a form; a weak password is refused without using up the link.
    assert_eq!(v.page(&link).await.0, 200);
    let r = v.post(&link, &[("password", "short")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Use at least 10 characters."));
    let new_password = "a brand new passphrase";
    let r = v.post(&link, &[("password", new_password)]).await;
    assert_eq!(r.status(), 303, "new password saved");
    assert!(signed_in(&v).await, "signed in with the new password");

    // Every other session is signed out; only the new password works.
    assert!(!signed_in(&ada).await && !signed_in(&laptop).await, "other sessions ended");
    assert_eq!(signs_in(&app, "ada@example.org", PASSWORD).await.0, 401, "the old password no longer works");
    assert_eq!(signs_in(&app, "ada@example.org", new_password).await.0, 303);

    // The link worked once.
    assert_eq!(v.page(&link).await.0, 400);
    let r = v.post(&link, &[("password", "yet another passphrase")]).await;
    assert_eq!(r.status(), 400);
    assert_eq!(signs_in(&app, "ada@example.org", "yet another passphrase").await.0, 401);
    app.stop().await;
}

async fn sign_in_throttling(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signed_up("ada@example.org", "Ada", true).await;
    app.signed_up("bob@example.org", "Bob", true).await;
    let v = app.visitor();
    let attempt = |email: &'static str, password: &'static str| {
        let v = &v;
        async move { v.post("/signin", &[("email", email), ("password", password)]).await }
    };
    for _ in 0..herald::accounts::throttle::PER_ACCOUNT {
        assert_eq!(attempt("ada@example.org", "wrong password!").await.status(), 401);
    }
    // Now even the right password is refused, with a reason.
    let r = attempt("ada@example.org", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Too many failed attempts"));
    assert!(!signed_in(&v).await);

    // Bob, from the same address, is not affected…
    let (status, _) = signs_in(&app, "bob@example.org", PASSWORD).await;
    assert_eq!(status, 303);
    // …until the address itself has failed too often: bring it to one failure below the limit
    // (as failures for other accounts would), then fail once more.
    let below = herald::accounts::throttle::PER_ADDRESS - herald::accounts::throttle::PER_ACCOUNT - 1;
    for _ in 0..below {
        app.db.db.record_sign_in_failure(&["ip:127.0.0.1".to_owned()]).await.unwrap();
    }
    assert_eq!(
        signs_in(&app, "bob@example.org", PASSWORD).await.0,
        303,
        "one failure below the address limit"
    );
    assert_eq!(attempt("nobody@example.org", "wrong password!").await.status(), 401);
    let v2 = app.visitor();
    let r = v2.post("/signin", &[("email", "bob@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 429, "the address limit applies to every account");
    app.stop().await;
}

/// A visitor at client address `ip` (behind the trusted proxy on this machine).
fn visitor_at(app: &TestApp, ip: &str) -> Visitor {
    app.visitor_at(ip)
}

async fn sign_ups_and_account_mail_are_limited(backend: Backend) {
    use herald::limits::{ACCOUNT_MAILS_PER_HOUR, RESETS_PER_CLIENT_HOUR, SIGN_UPS_PER_HOUR};
    let app = TestApp::start(backend).await;
    // One network making accounts in a row: refused past the limit, before any password hashing.
    let bot = visitor_at(&app, "203.0.113.50");
    bot.page("/signup").await;
    let mut statuses = Vec::new();
    for i in 0..=SIGN_UPS_PER_HOUR {
        let email = format!("bot{i}@example.org");
        let form =
            [("email", email.as_str()), ("display_name", "Bot"), ("password", PASSWORD), ("timezone", "UTC")];
        statuses.push(bot.post("/signup", &form).await.status().as_u16());
    }
    let made = statuses.iter().filter(|s| **s == 303).count();
    assert_eq!(made, SIGN_UPS_PER_HOUR as usize, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let r = bot
        .post(
            "/signup",
            &[
                ("email", "bot99@example.org"),
                ("display_name", "Bot"),
                ("password", PASSWORD),
                ("timezone", "UTC"),
            ],
        )
        .await;
    let body = r.text().await.unwrap();
    assert!(body.contains("Try again in an hour"), "the refusal says what to do: {body}");
    // Someone else signs up as usual.
    app.signed_up("ada@example.org", "Ada", true).await;

    // "Forgot password" cannot flood Ada's mailbox, whoever asks and from wherever.
    let before = app.apprise.mail_to("ada@example.org").len();
    for i in 0..ACCOUNT_MAILS_PER_HOUR + 3 {
        let v = visitor_at(&app, &format!("203.0.113.{}", 100 + i));
        v.page("/password/forgot").await;
        let r = v.post("/password/forgot", &[("email", "ada@example.org")]).await;
        assert_eq!(r.status(), 200, "the same answer every time");
    }
    let resets = app.apprise.mail_to("ada@example.org").len() - before;
    // The verification link counted as one of the account mails of this hour.
    assert_eq!(resets, ACCOUNT_MAILS_PER_HOUR as usize - 1, "reset mails to one address are capped");

    // One client asking for many addresses is stopped as well.
    let scanner = visitor_at(&app, "203.0.113.77");
    scanner.page("/password/forgot").await;
    let mut last = 0;
    for i in 0..=RESETS_PER_CLIENT_HOUR {
        let email = format!("someone{i}@example.org");
        last = scanner.post("/password/forgot", &[("email", email.as_str())]).await.status().as_u16();
    }
    assert_eq!(last, 429, "past {RESETS_PER_CLIENT_HOUR} requests one client is refused");
    app.stop().await;
}

async fn parallel_guesses_are_counted_and_lock_out_only_the_guesser(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signed_up("ada@example.org", "Ada", true).await;
    let mallory = visitor_at(&app, "203.0.113.9");
    mallory.page("/signin").await;
    let guesses = (0..30).map(|i| {
        let m = &mallory;
        async move {
            let guess = format!("wrong password {i}!");
            m.post("/signin", &[("email", "ada@example.org"), ("password", &guess)]).await.status().as_u16()
        }
    });
    let mut statuses = futures::future::join_all(guesses).await;
    // More guesses, one at a time.
    for i in 0..10 {
        let guess = format!("another wrong password {i}!");
        statuses.push(
            mallory
                .post("/signin", &[("email", "ada@example.org"), ("password", &guess)])
                .await
                .status()
                .as_u16(),
        );
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + refused, 40, "{statuses:?}");
    let limit = usize::try_from(herald::accounts::throttle::PER_ACCOUNT).unwrap();
    assert!(checked <= limit, "{checked} of 40 guesses were checked; the limit is {limit}: {statuses:?}");
    // Mallory's address is locked out of Ada's account…
    let r = mallory.post("/signin", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 429);
    // …but Ada, anywhere else, signs in as usual.
    let ada = visitor_at(&app, "198.51.100.7");
    ada.page("/signin").await;
    let r = ada.post("/signin", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 303, "a stranger cannot lock the owner out");
    app.stop().await;
}

async fn state_changing_forms_need_the_csrf_token(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ada = app.signed_up("ada@example.org", "Ada", false).await;
    let (_, page) = ada.page("/account/tokens").await;
    drop(page);
    // A token to try to revoke.
    let r = ada.post("/account/tokens", &[("name", "keep me")]).await;
    assert_eq!(r.status(), 200);
    let (_, page) = ada.page("/account/tokens").await;
    let revoke = page
        .find(r#"action="/account/tokens/"#)
        .map(|i| page[i + 8..].chars().take_while(|c| *c != '"').collect::<String>())
        .unwrap();
    let mails = app.apprise.delivered().len();
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/account", vec![("display_name", "Mallory"), ("timezone", "UTC"), ("date_format", "iso")]),
        ("/account/tokens", vec![("name", "mallory's")]),
        (revoke.as_str(), vec![]),
        ("/verify/resend", vec![]),
        ("/signout", vec![]),
        ("/password/forgot", vec![("email", "ada@example.org")]),
        ("/signup", vec![("email", "eve@example.org"), ("display_name", "Eve"), ("password", PASSWORD)]),
        ("/signin", vec![("email", "ada@example.org"), ("password", PASSWORD)]),
    ];
    for (path, fields) in &forms {
        assert_eq!(ada.post_raw(path, fields).await.status(), 403, "{path} without a token");
        let mut forged = fields.clone();
        forged.push(("_csrf", "forged"));
        assert_eq!(ada.post_raw(path, &forged).await.status(), 403, "{path} with a forged token");
    }
    // Nothing happened.
    assert!(signed_in(&ada).await, "still signed in");
    let user = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap();
    assert_eq!(user.display_name, "Ada");
    let tokens = app.db.db.api_tokens_of(user.id).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].revoked_at.is_none());
    assert_eq!(app.apprise.delivered().len(), mails, "no mail sent");
    assert!(app.db.db.user_by_email("eve@example.org").await.unwrap().is_none());

    // htmx sends the token as a header instead: that is accepted.
    let token = ada.csrf().await;
    let r = ada
        .http
        .post(format!("{}/account", ada.base))
        .header("X-CSRF-Token", token)
        .form(&[("display_name", "Ada B."), ("timezone", "UTC"), ("date_format", "iso")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let user = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap();
    assert_eq!(user.display_name, "Ada B.");

    // A token in the URL is never accepted (URLs end up in logs and histories).
    let token = ada.csrf().await;
    let r = ada.post_raw(&format!("/account/tokens?_csrf={token}"), &[("name", "from the query")]).await;
    assert_eq!(r.status(), 403, "a token in the query string");

    // Tokens are bound to the session: one seen before signing in is dead after it.
    let v = app.visitor();
    let anonymous = v.csrf().await;
    let r = v.post("/signin", &[("email", "ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), 303);
    let r = v.post_raw("/account/tokens", &[("name", "stale"), ("_csrf", &anonymous)]).await;
    assert_eq!(r.status(), 403, "the token from before sign-in");
    let fresh = v.csrf().await;
    assert_ne!(fresh, anonymous);
    assert_eq!(v.post_raw("/account/tokens", &[("name", "fresh"), ("_csrf", &fresh)]).await.status(), 200);
    // …and to the browser: another browser's token does not work here.
    let other = app.visitor();
    let other_token = other.csrf().await;
    let r = v.post_raw("/account/tokens", &[("name", "borrowed"), ("_csrf", &other_token)]).await;
    assert_eq!(r.status(), 403, "another browser's token");
    app.stop().await;
}

/// Behind https, cookies carry the `__Host-` prefix (Secure, this host only, Path=/) and
/// browsers are told to use https only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_cookies_are_host_only_and_transport_is_strict() {
    let db = crate::support::TestDb::new(Backend::Sqlite).await;
    let app = TestApp::start_configured(
        db,
        &crate::support::temporal_address(),
        false,
        crate::support::LOCAL_TARGETS,
        |web| {
            web.base_url = url::Url::parse("https://herald.example.org/").unwrap();
        },
    )
    .await;
    let r = app.get("/signin").await;
    assert_eq!(r.status(), 200);
    let cookies: Vec<String> =
        r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(!cookies.is_empty());
    for c in &cookies {
        assert!(c.starts_with("__Host-herald_") && c.contains("; Secure") && c.contains("Path=/"), "{c}");
        assert!(!c.to_lowercase().contains("domain="), "{c}");
    }
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    // The plain http app sends neither.
    let plain = TestApp::start(Backend::Sqlite).await;
    let r = plain.get("/signin").await;
    assert!(r.headers().get("strict-transport-security").is_none());
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("herald_csrf=") && !cookie.contains("Secure"), "{cookie}");
    plain.stop().await;
    app.stop().await;
}

/// With htmx, a sign-up field is checked as soon as it changes; the answer is escaped text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_fields_are_checked_inline() {
    let app = TestApp::start(Backend::Sqlite).await;
    let v = app.visitor();
    let (_, page) = v.page("/signup").await;
    assert!(page.contains(r##"hx-post="/signup/check/email""##), "the email field validates inline");
    let fields = [
        ("email", "not-an-email"),
        ("display_name", "Ada"),
        ("password", "short"),
        ("timezone", "<b>Mars</b>"),
    ];
    let check = |field: &'static str| {
        let v = &v;
        async move {
            let r = v.post(&format!("/signup/check/{field}"), &fields).await;
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    assert!(check("email").await.contains("Enter an email address like name@example.org."));
    assert_eq!(check("display_name").await, "", "a fine field has no message");
    assert!(check("password").await.contains("at least 10 characters"));
    let tz = check("timezone").await;
    assert!(
        tz.contains("&lt;b&gt;Mars&lt;/b&gt;") && !tz.contains("<b>"),
        "input quoted in the message is escaped: {tz}"
    );
    app.stop().await;
}
