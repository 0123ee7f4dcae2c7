//! Accounts: sign-up, verification by mail, sign-in, CSRF.

use crate::support::{Backend, MAIL_URL, PASSWORD, TestApp};

both_backends!(sign_up_verify_sign_in, wrong_password_and_unknown_email_look_the_same);

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
