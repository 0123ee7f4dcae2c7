//! Organizations, members, invitations and role rules, through pages and the API.

use chrono::{Duration, Utc};
use herald::db::models::{Organization, Role, User};
use herald::db::users::NewUser;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Backend, TestApp, Visitor};

both_backends!(
    creating_an_organization,
    role_rules,
    last_owner_rule,
    invitation_for_an_existing_account,
    invitation_for_a_new_account,
    invitations_are_managed_and_links_die,
    organizations_through_the_api,
);

// --- Helpers, shared with `isolation.rs` ---

/// A user created directly in the database with a personal API token.
pub(crate) async fn api_user(app: &TestApp, email: &str, name: &str, verified: bool) -> (User, String) {
    let user = app
        .db
        .db
        .create_user(&NewUser { email, display_name: name, password_hash: None, timezone: "UTC", verified })
        .await
        .unwrap();
    let token = format!("test-token-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(user.id, "tests", &herald::secrets::hash_token(&token)).await.unwrap();
    (user, token)
}

/// One API call; the body as JSON (`Null` when empty).
pub(crate) async fn api(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.http.request(method.clone(), app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A verified, signed-in visitor who is `role` in `org`.
pub(crate) async fn member_of(
    app: &TestApp,
    org: &Organization,
    email: &str,
    name: &str,
    role: Role,
) -> (Visitor, Uuid) {
    let v = app.signed_up(email, name, true).await;
    let user = app.db.db.user_by_email(email).await.unwrap().unwrap();
    app.db.db.add_membership(org.id, user.id, role).await.unwrap();
    (v, user.id)
}

/// A verified visitor who created `name` (slug from the name) through the page.
pub(crate) async fn owner_of(
    app: &TestApp,
    email: &str,
    person: &str,
    name: &str,
) -> (Visitor, Organization) {
    let v = app.signed_up(email, person, true).await;
    let r = v.post("/orgs", &[("name", name), ("slug", "")]).await;
    assert_eq!(r.status(), 303, "creating {name}");
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let slug = location.trim_start_matches("/orgs/").trim_end_matches("/events/new");
    let org = app.db.db.organization_by_slug(slug).await.unwrap().unwrap();
    (v, org)
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

async fn status_and_body(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn role_of(app: &TestApp, org: &Organization, user: Uuid) -> Option<Role> {
    app.db.db.membership(org.id, user).await.unwrap().map(|m| m.role)
}

/// The flash message shown after a redirect.
async fn after_redirect(v: &Visitor, r: reqwest::Response) -> String {
    assert_eq!(r.status(), 303, "expected a redirect");
    let (status, body) = v.page(&location(&r)).await;
    assert_eq!(status, 200);
    body
}

// --- Tests ---

async fn creating_an_organization(backend: Backend) {
    let app = TestApp::start(backend).await;

    // No organization yet: the list says what to do next.
    let ada = app.signed_up("ada@example.org", "Ada", true).await;
    let (status, body) = ada.page("/orgs").await;
    assert_eq!(status, 200);
    assert!(body.contains("You are not in any organization yet") && body.contains(r#"href="/orgs/new""#));
    let (status, body) = ada.page("/orgs/new").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"action="/orgs""#), "the form is offered to a verified user");

    // An empty slug is proposed from the name; the creator becomes owner.
    let r = ada.post("/orgs", &[("name", "Rust Meetup, Paris!"), ("slug", "")]).await;
    // The next step is the first event: the new organization opens on the event form.
    assert_eq!(location(&r), "/orgs/rust-meetup-paris/events/new");
    let body = after_redirect(&ada, r).await;
    assert!(body.contains("Rust Meetup, Paris!") && body.contains("and you are its owner"));
    assert!(body.contains(r#"action="/orgs/rust-meetup-paris/events""#), "the event form: {body}");
    assert!(body.contains(r#"href="/orgs/rust-meetup-paris" aria-current="page""#), "switcher marks the org");
    let org = app.db.db.organization_by_slug("rust-meetup-paris").await.unwrap().unwrap();
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    assert_eq!(role_of(&app, &org, ada_id).await, Some(Role::Owner));
    let (_, list) = ada.page("/orgs").await;
    assert!(list.contains("Rust Meetup, Paris!") && list.contains("owner"));

    // A taken slug and bad input are field problems, shown with the form again.
    let r = ada.post("/orgs", &[("name", "Another"), ("slug", "rust-meetup-paris")]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 422);
    assert!(body.contains("is taken"), "{body}");
    assert!(body.contains(r#"value="Another""#), "the form keeps what was typed");
    let r = ada.post("/orgs", &[("name", ""), ("slug", "Bad Slug")]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 422);
    assert!(body.contains("Enter a name.") && body.contains("lower-case letters"));

    // An unverified user is told to verify first, and nothing is created.
    let bob = app.signed_up("bob@example.org", "Bob", false).await;
    let (_, body) = bob.page("/orgs/new").await;
    assert!(body.contains("Verify your email address first"));
    let r = bob.post("/orgs", &[("name", "Bob's club"), ("slug", "bobs-club")]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 403);
    assert!(body.contains("Verify your email address first"));
    assert!(app.db.db.organization_by_slug("bobs-club").await.unwrap().is_none());

    // Signed out: sign in first, then come back.
    let r = app.visitor().get("/orgs/rust-meetup-paris/members").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/signin?next=%2Forgs%2Frust-meetup-paris%2Fmembers");
    app.stop().await;
}

/// Who may do what, as a table: (actor's role, what they try, expected status, text in the answer).
async fn role_rules(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (owner, org) = owner_of(&app, "owner@example.org", "Olive Owner", "Club").await;
    let owner_id = app.db.db.user_by_email("owner@example.org").await.unwrap().unwrap().id;
    let (admin, _) = member_of(&app, &org, "admin@example.org", "Adam Admin", Role::Admin).await;
    let (organizer, _) =
        member_of(&app, &org, "organizer@example.org", "Ora Organizer", Role::Organizer).await;
    let (member, _) = member_of(&app, &org, "member@example.org", "Mel Member", Role::Member).await;
    let (_, target) = member_of(&app, &org, "target@example.org", "Tess Target", Role::Member).await;
    let (_, other_admin) = member_of(&app, &org, "admin2@example.org", "Al Admin", Role::Admin).await;

    let who = |role: Role| match role {
        Role::Owner => &owner,
        Role::Admin => &admin,
        Role::Organizer => &organizer,
        Role::Member => &member,
    };
    enum Try {
        Invite(&'static str, &'static str),
        SetRole(Uuid, &'static str),
        Remove(Uuid),
        Settings,
    }
    let cases: Vec<(Role, Try, u16, &str)> = vec![
        (Role::Member, Try::Invite("x1@example.org", "member"), 403, "Only owners and admins"),
        (Role::Organizer, Try::Invite("x2@example.org", "member"), 403, "your role here is organizer"),
        (Role::Admin, Try::Invite("x3@example.org", "owner"), 403, "Only an owner can make someone an owner"),
        (Role::Admin, Try::Invite("x4@example.org", "admin"), 303, ""),
        (Role::Member, Try::SetRole(target, "admin"), 403, "Only owners and admins"),
        (Role::Organizer, Try::SetRole(target, "member"), 403, "Only owners and admins"),
        (Role::Admin, Try::SetRole(target, "owner"), 403, "Only an owner can make someone an owner"),
        (Role::Admin, Try::SetRole(owner_id, "member"), 403, "Only an owner can change or remove an owner"),
        (Role::Admin, Try::SetRole(target, "organizer"), 303, ""),
        (Role::Admin, Try::SetRole(other_admin, "member"), 303, ""),
        (Role::Admin, Try::Remove(owner_id), 403, "Only an owner can change or remove an owner"),
        (Role::Organizer, Try::Remove(target), 403, "Only owners and admins"),
        (Role::Member, Try::Settings, 403, "Only owners can rename or delete"),
        (Role::Admin, Try::Settings, 403, "Only owners can rename or delete"),
        (Role::Owner, Try::Settings, 200, "Delete this organization"),
        (Role::Owner, Try::SetRole(target, "owner"), 303, ""),
    ];
    let base = format!("/orgs/{}", org.slug);
    for (role, attempt, expected, text) in cases {
        let v = who(role);
        let (label, r) = match attempt {
            Try::Invite(email, as_role) => (
                format!("{role} invites {email} as {as_role}"),
                v.post(&format!("{base}/invitations"), &[("email", email), ("role", as_role)]).await,
            ),
            Try::SetRole(id, to) => (
                format!("{role} sets {id} to {to}"),
                v.post(&format!("{base}/members/{id}/role"), &[("role", to)]).await,
            ),
            Try::Remove(id) => (
                format!("{role} removes {id}"),
                v.post(&format!("{base}/members/{id}/remove"), &[("confirm", "yes")]).await,
            ),
            Try::Settings => (format!("{role} opens settings"), v.get(&format!("{base}/settings")).await),
        };
        let (status, body) = status_and_body(r).await;
        assert_eq!(status, expected, "{label}: {body}");
        assert!(body.contains(text), "{label}: expected {text:?}");
    }
    // What the allowed rows did, as a user would see it.
    assert_eq!(role_of(&app, &org, target).await, Some(Role::Owner), "the owner made Tess an owner");
    assert_eq!(role_of(&app, &org, other_admin).await, Some(Role::Member), "an admin can demote an admin");
    assert_eq!(role_of(&app, &org, owner_id).await, Some(Role::Owner), "admins cannot touch owners");
    let (_, page) = owner.page(&format!("{base}/members")).await;
    assert!(page.contains("x4@example.org"), "the admin's invitation is listed");
    assert!(
        !page.contains("x1@example.org") && !page.contains("x3@example.org"),
        "refused invitations are not"
    );

    // Managers see role controls on the members page; plain members see the list only.
    let (_, page) = admin.page(&format!("{base}/members")).await;
    assert!(page.contains("Send invitation") && page.contains("/role\""));
    assert!(!page.contains(r#"<option value="owner""#), "admins are not offered the owner role");
    let (status, page) = member.page(&format!("{base}/members")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Olive Owner") && page.contains("target@example.org"));
    assert!(!page.contains("Send invitation") && !page.contains("/role\"") && !page.contains("/remove\""));

    // Removing someone asks first, without JavaScript, then does it.
    let mel = app.db.db.user_by_email("member@example.org").await.unwrap().unwrap().id;
    let r = admin.post(&format!("{base}/members/{mel}/remove"), &[]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 200);
    assert!(body.contains("Remove Mel Member?") && body.contains(r#"name="confirm" value="yes""#));
    assert_eq!(role_of(&app, &org, mel).await, Some(Role::Member), "nothing happens before confirming");
    let r = admin.post(&format!("{base}/members/{mel}/remove"), &[("confirm", "yes")]).await;
    let body = after_redirect(&admin, r).await;
    assert!(body.contains("Mel Member is no longer a member"));
    assert_eq!(role_of(&app, &org, mel).await, None);
    // Mel now gets 404 for everything of the organization.
    assert_eq!(member.get(&base).await.status(), 404);

    // Anyone may leave; the owner can rename.
    let r = organizer.post(&format!("{base}/leave"), &[("confirm", "yes")]).await;
    let body = after_redirect(&organizer, r).await;
    assert!(body.contains("You left Club."));
    let r = owner.post(&format!("{base}/settings"), &[("name", "The Club")]).await;
    let body = after_redirect(&owner, r).await;
    assert!(body.contains("now called The Club"));
    let r = owner.post(&format!("{base}/settings"), &[("name", " ")]).await;
    assert_eq!(r.status(), 422);
    app.stop().await;
}

async fn last_owner_rule(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Solo").await;
    let ada_id = app.db.db.user_by_email("ada@example.org").await.unwrap().unwrap().id;
    let (bob, bob_id) = member_of(&app, &org, "bob@example.org", "Bob", Role::Member).await;
    let base = format!("/orgs/{}", org.slug);

    // The only owner can neither leave, be demoted nor be removed.
    for (what, r) in [
        ("leave", ada.post(&format!("{base}/leave"), &[("confirm", "yes")]).await),
        ("leave, unconfirmed", ada.post(&format!("{base}/leave"), &[]).await),
        ("demote", ada.post(&format!("{base}/members/{ada_id}/role"), &[("role", "admin")]).await),
        ("remove", ada.post(&format!("{base}/members/{ada_id}/remove"), &[("confirm", "yes")]).await),
    ] {
        let (status, body) = status_and_body(r).await;
        assert_eq!(status, 409, "{what}");
        assert!(body.contains("make someone else owner first"), "{what}: {body}");
    }
    assert_eq!(role_of(&app, &org, ada_id).await, Some(Role::Owner));

    // Through the API too.
    let token = format!("t-{}", Uuid::new_v4().simple());
    app.db.db.create_api_token(ada_id, "cli", &herald::secrets::hash_token(&token)).await.unwrap();
    let (status, problem) = api(&app, &token, Method::POST, &format!("/api/v1{base}/leave"), None).await;
    assert_eq!(status, 409);
    assert!(problem["detail"].as_str().unwrap().contains("make someone else owner first"));
    let member_path = format!("/api/v1{base}/members/{ada_id}");
    assert_eq!(api(&app, &token, Method::PATCH, &member_path, Some(json!({"role": "member"}))).await.0, 409);
    assert_eq!(api(&app, &token, Method::DELETE, &member_path, None).await.0, 409);

    // Once Bob is an owner too, Ada may step down, and Bob becomes the one who must stay.
    let r = ada.post(&format!("{base}/members/{bob_id}/role"), &[("role", "owner")]).await;
    assert!(after_redirect(&ada, r).await.contains("Bob is now owner."));
    let r = ada.post(&format!("{base}/members/{ada_id}/role"), &[("role", "admin")]).await;
    assert_eq!(r.status(), 303, "demoting oneself works with another owner");
    assert_eq!(role_of(&app, &org, ada_id).await, Some(Role::Admin));
    let r = bob.post(&format!("{base}/leave"), &[("confirm", "yes")]).await;
    assert_eq!(r.status(), 409, "Bob is the last owner now");
    let r = bob.post(&format!("{base}/members/{ada_id}/role"), &[("role", "owner")]).await;
    assert_eq!(r.status(), 303);
    let r = bob.post(&format!("{base}/leave"), &[("confirm", "yes")]).await;
    assert_eq!(location(&r), "/orgs", "with two owners, one may leave");
    assert_eq!(role_of(&app, &org, bob_id).await, None);
    app.stop().await;
}

async fn invitation_for_an_existing_account(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada Lovelace", "Rust Paris").await;
    let bob = app.signed_up("bob@example.org", "Bob", true).await;
    let base = format!("/orgs/{}", org.slug);

    let r = ada
        .post(&format!("{base}/invitations"), &[("email", "Bob@Example.org"), ("role", "organizer")])
        .await;
    let body = after_redirect(&ada, r).await;
    assert!(body.contains("We sent an invitation to bob@example.org"));
    assert!(body.contains("Open invitations") && body.contains("bob@example.org"));
    let link = app.mailed_link("bob@example.org", "/invitations/").expect("an invitation mail to Bob");
    let mail = app.apprise.mail_to("bob@example.org").pop().unwrap();
    assert!(mail.body.contains("Ada Lovelace invited you to join Rust Paris on Herald as organizer"));

    // Inviting the same address again while the first is open is a field problem.
    let r =
        ada.post(&format!("{base}/invitations"), &[("email", "bob@example.org"), ("role", "member")]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 422);
    assert!(body.contains("already has an open invitation"));
    let r = ada.post(&format!("{base}/invitations"), &[("email", "not an email"), ("role", "chief")]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 422);
    assert!(body.contains("Enter an email address") && body.contains("Choose one of owner"));

    // Bob opens the link while signed in: who, what, and an Accept button.
    let (status, page) = bob.page(&link).await;
    assert_eq!(status, 200);
    assert!(page.contains("Join Rust Paris") && page.contains("Ada Lovelace") && page.contains("organizer"));
    assert!(page.contains("Accept the invitation"));
    assert_eq!(bob.get(&base).await.status(), 404, "not a member before accepting");
    let r = bob.post(&link, &[]).await;
    assert_eq!(location(&r), base);
    let body = after_redirect(&bob, r).await;
    assert!(body.contains("Welcome to Rust Paris! You joined as organizer."));
    let bob_id = app.db.db.user_by_email("bob@example.org").await.unwrap().unwrap().id;
    assert_eq!(role_of(&app, &org, bob_id).await, Some(Role::Organizer));
    let (_, members) = ada.page(&format!("{base}/members")).await;
    assert!(members.contains("No open invitations."), "an accepted invitation is no longer open");

    // The link works once.
    let (status, page) = bob.page(&link).await;
    assert_eq!(status, 400);
    assert!(page.contains("This invitation link does not work"));
    assert_eq!(bob.post(&link, &[]).await.status(), 400);
    // A member cannot be invited again.
    let r =
        ada.post(&format!("{base}/invitations"), &[("email", "bob@example.org"), ("role", "member")]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 422);
    assert!(body.contains("bob@example.org is already a member"));
    app.stop().await;
}

async fn invitation_for_a_new_account(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let base = format!("/orgs/{}", org.slug);
    let r =
        ada.post(&format!("{base}/invitations"), &[("email", "carol@example.org"), ("role", "admin")]).await;
    assert_eq!(r.status(), 303);
    let link = app.mailed_link("carol@example.org", "/invitations/").expect("an invitation mail to Carol");

    // Carol has no account: the page offers to sign in or sign up, coming back afterwards.
    let carol = app.visitor();
    let (status, page) = carol.page(&link).await;
    assert_eq!(status, 200);
    assert!(page.contains("Join Rust Paris") && page.contains("admin"));
    let signup = format!("/signup?next={link}");
    assert!(page.contains(&format!(r#"href="{signup}""#)), "sign-up link with next");
    assert!(page.contains(&format!(r#"href="/signin?next={link}""#)), "sign-in link with next");
    assert!(!page.contains("Accept the invitation"));
    let (status, form) = carol.page(&signup).await;
    assert_eq!(status, 200);
    assert!(form.contains(&format!(r#"name="next" value="{link}""#)), "the sign-up form carries next");
    let r = carol
        .post(
            "/signup",
            &[
                ("email", "carol@example.org"),
                ("display_name", "Carol"),
                ("password", crate::support::PASSWORD),
                ("timezone", "UTC"),
                ("next", &link),
            ],
        )
        .await;
    let encoded = url::form_urlencoded::byte_serialize(link.as_bytes()).collect::<String>();
    assert_eq!(location(&r), format!("/signin?next={encoded}"), "sign-up signs nobody in by itself");
    // The mailed link confirms her address, signs her in and leads back to the invitation.
    let verify = app.mailed_link("carol@example.org", "/verify/").expect("a verification mail to Carol");
    let r = carol.get(&verify).await;
    assert_eq!(location(&r), link, "back to the invitation after confirming");

    let (_, page) = carol.page(&link).await;
    assert!(page.contains("Accept the invitation"), "{page}");
    let r = carol.post(&link, &[]).await;
    let body = after_redirect(&carol, r).await;
    assert!(body.contains("You joined as admin"));
    assert!(!body.contains("Please verify your email address"), "opening the mailed link proved the inbox");
    let carol_user = app.db.db.user_by_email("carol@example.org").await.unwrap().unwrap();
    assert!(carol_user.verified_at.is_some());
    assert_eq!(role_of(&app, &org, carol_user.id).await, Some(Role::Admin));

    // Someone else with an unverified account cannot use a link sent to another address.
    let r =
        ada.post(&format!("{base}/invitations"), &[("email", "dave@example.org"), ("role", "member")]).await;
    assert_eq!(r.status(), 303);
    let link = app.mailed_link("dave@example.org", "/invitations/").unwrap();
    let eve = app.signed_up("eve@example.org", "Eve", false).await;
    let (status, page) = eve.page(&link).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("This invitation was sent to dave@example.org")
            && !page.contains("Accept the invitation")
    );
    let r = eve.post(&link, &[]).await;
    assert_eq!(r.status(), 403);
    let eve_id = app.db.db.user_by_email("eve@example.org").await.unwrap().unwrap().id;
    assert_eq!(role_of(&app, &org, eve_id).await, None);
    // Once verified, any account may accept a link it holds.
    app.db.db.mark_user_verified(eve_id).await.unwrap();
    let r = eve.post(&link, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(role_of(&app, &org, eve_id).await, Some(Role::Member));
    app.stop().await;
}

async fn invitations_are_managed_and_links_die(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, org) = owner_of(&app, "ada@example.org", "Ada", "Rust Paris").await;
    let base = format!("/orgs/{}", org.slug);
    let stranger = app.signed_up("zed@example.org", "Zed", true).await;

    // A forged link and an expired one are refused with a clear page.
    let (status, page) = stranger.page("/invitations/forged-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").await;
    assert_eq!(status, 400);
    assert!(page.contains("This invitation link does not work"));
    let expired = "expired-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    app.db
        .db
        .create_invitation(
            org.id,
            "zed@example.org",
            Role::Member,
            &herald::secrets::hash_token(expired),
            None,
            Utc::now() - Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(stranger.page(&format!("/invitations/{expired}")).await.0, 400);
    assert_eq!(stranger.post(&format!("/invitations/{expired}"), &[]).await.status(), 400);
    // The members page shows it as expired; inviting the address again replaces it.
    let (_, page) = ada.page(&format!("{base}/members")).await;
    assert!(page.contains("Expired"));
    let r =
        ada.post(&format!("{base}/invitations"), &[("email", "zed@example.org"), ("role", "member")]).await;
    assert_eq!(r.status(), 303, "an expired invitation does not block a new one");

    // Re-send: a new link; the old one stops working.
    let first = app.mailed_link("zed@example.org", "/invitations/").unwrap();
    let id = app.db.db.open_invitations(org.id).await.unwrap()[0].invitation.id;
    let r = ada.post(&format!("{base}/invitations/{id}/resend"), &[]).await;
    assert!(after_redirect(&ada, r).await.contains("We sent the invitation to zed@example.org again"));
    let second = app.mailed_link("zed@example.org", "/invitations/").unwrap();
    assert_ne!(first, second);
    assert_eq!(stranger.page(&first).await.0, 400, "the re-sent invitation's old link is dead");
    assert_eq!(stranger.page(&second).await.0, 200);

    // Revoke: the link stops working.
    let r = ada.post(&format!("{base}/invitations/{id}/revoke"), &[]).await;
    assert!(after_redirect(&ada, r).await.contains("The invitation to zed@example.org is revoked"));
    assert_eq!(stranger.page(&second).await.0, 400);
    assert_eq!(stranger.post(&second, &[]).await.status(), 400);

    // When mail cannot be sent, the invitation stands and the page says to re-send.
    app.apprise.set_down("mailto", true);
    let r =
        ada.post(&format!("{base}/invitations"), &[("email", "yan@example.org"), ("role", "member")]).await;
    assert!(after_redirect(&ada, r).await.contains("could not send the email"));
    app.apprise.set_down("mailto", false);

    // The owner deletes the organization after typing its slug.
    let r = ada.post(&format!("{base}/delete"), &[("confirm_slug", "wrong")]).await;
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 422);
    assert!(body.contains("Type rust-paris exactly"));
    let r = ada.post(&format!("{base}/delete"), &[("confirm_slug", "rust-paris")]).await;
    assert!(after_redirect(&ada, r).await.contains("Rust Paris is deleted."));
    assert_eq!(ada.get(&base).await.status(), 404);
    app.stop().await;
}

async fn organizations_through_the_api(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (ada, ada_token) = api_user(&app, "ada@example.org", "Ada", true).await;
    let (_, unverified) = api_user(&app, "uma@example.org", "Uma", false).await;
    let (bob, bob_token) = api_user(&app, "bob@example.org", "Bob", true).await;

    // Create: 201, the caller is owner; bad or taken fields are 422 naming each field.
    let (status, org) =
        api(&app, &ada_token, Method::POST, "/api/v1/orgs", Some(json!({"name": "Rust Paris"}))).await;
    assert_eq!(status, 201, "{org}");
    assert_eq!(
        (org["slug"].as_str(), org["role"].as_str(), org["member_count"].as_i64()),
        (Some("rust-paris"), Some("owner"), Some(1))
    );
    let (status, problem) = api(
        &app,
        &ada_token,
        Method::POST,
        "/api/v1/orgs",
        Some(json!({"name": "Again", "slug": "rust-paris"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "slug");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("taken"));
    let (status, problem) =
        api(&app, &ada_token, Method::POST, "/api/v1/orgs", Some(json!({"name": "", "slug": "X"}))).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "slug"]);
    let (status, problem) =
        api(&app, &unverified, Method::POST, "/api/v1/orgs", Some(json!({"name": "Uma's"}))).await;
    assert_eq!(status, 403);
    assert!(problem["detail"].as_str().unwrap().contains("Verify your email address first"));

    // Read and rename.
    let (status, list) = api(&app, &ada_token, Method::GET, "/api/v1/orgs", None).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["slug"], "rust-paris");
    let (status, renamed) = api(
        &app,
        &ada_token,
        Method::PATCH,
        "/api/v1/orgs/rust-paris",
        Some(json!({"name": "Rust in Paris"})),
    )
    .await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Rust in Paris")));

    // Bob is not a member: 404 for everything, as if it did not exist.
    assert_eq!(api(&app, &bob_token, Method::GET, "/api/v1/orgs/rust-paris", None).await.0, 404);
    assert_eq!(api(&app, &bob_token, Method::GET, "/api/v1/orgs/no-such-org", None).await.0, 404);

    // Invitations: create, list, revoke.
    let (status, sent) = api(
        &app,
        &ada_token,
        Method::POST,
        "/api/v1/orgs/rust-paris/invitations",
        Some(json!({"email": "grace@example.org", "role": "organizer"})),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(
        (sent["mailed"].as_bool(), sent["invitation"]["role"].as_str()),
        (Some(true), Some("organizer"))
    );
    assert!(app.mailed_link("grace@example.org", "/invitations/").is_some());
    let id = sent["invitation"]["id"].as_str().unwrap().to_owned();
    let (status, problem) = api(
        &app,
        &ada_token,
        Method::POST,
        "/api/v1/orgs/rust-paris/invitations",
        Some(json!({"email": "nope", "role": "king"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    let (status, open) =
        api(&app, &ada_token, Method::GET, "/api/v1/orgs/rust-paris/invitations", None).await;
    assert_eq!((status, open.as_array().unwrap().len()), (200, 1));
    let (status, resent) = api(
        &app,
        &ada_token,
        Method::POST,
        &format!("/api/v1/orgs/rust-paris/invitations/{id}/resend"),
        None,
    )
    .await;
    assert_eq!((status, resent["mailed"].as_bool()), (200, Some(true)));
    let (status, _) =
        api(&app, &ada_token, Method::DELETE, &format!("/api/v1/orgs/rust-paris/invitations/{id}"), None)
            .await;
    assert_eq!(status, 204);
    let (_, open) = api(&app, &ada_token, Method::GET, "/api/v1/orgs/rust-paris/invitations", None).await;
    assert!(open.as_array().unwrap().is_empty());

    // Members: Bob joins as admin; the role rules hold through the API.
    let org = app.db.db.organization_by_slug("rust-paris").await.unwrap().unwrap();
    app.db.db.add_membership(org.id, bob.id, Role::Admin).await.unwrap();
    let (status, members) = api(&app, &bob_token, Method::GET, "/api/v1/orgs/rust-paris/members", None).await;
    assert_eq!(status, 200);
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert_eq!(members[0]["email"], "ada@example.org", "owners first");
    let ada_path = format!("/api/v1/orgs/rust-paris/members/{}", ada.id);
    let (status, problem) =
        api(&app, &bob_token, Method::PATCH, &ada_path, Some(json!({"role": "member"}))).await;
    assert_eq!(status, 403);
    assert!(problem["detail"].as_str().unwrap().contains("Only an owner can change or remove an owner"));
    assert_eq!(api(&app, &bob_token, Method::DELETE, &ada_path, None).await.0, 403);
    assert_eq!(api(&app, &bob_token, Method::DELETE, "/api/v1/orgs/rust-paris", None).await.0, 403);
    let (status, problem) = api(
        &app,
        &bob_token,
        Method::POST,
        "/api/v1/orgs/rust-paris/invitations",
        Some(json!({"email": "owner2@example.org", "role": "owner"})),
    )
    .await;
    assert_eq!(status, 403);
    assert!(problem["detail"].as_str().unwrap().contains("Only an owner can make someone an owner"));
    let bob_path = format!("/api/v1/orgs/rust-paris/members/{}", bob.id);
    let (status, problem) =
        api(&app, &ada_token, Method::PATCH, &bob_path, Some(json!({"role": "boss"}))).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "role");
    let (status, member) =
        api(&app, &ada_token, Method::PATCH, &bob_path, Some(json!({"role": "organizer"}))).await;
    assert_eq!((status, member["role"].as_str()), (200, Some("organizer")));
    let (status, problem) =
        api(&app, &bob_token, Method::GET, "/api/v1/orgs/rust-paris/invitations", None).await;
    assert_eq!(status, 403, "organizers do not see invitations: {problem}");
    let random = format!("/api/v1/orgs/rust-paris/members/{}", Uuid::new_v4());
    assert_eq!(api(&app, &ada_token, Method::DELETE, &random, None).await.0, 404);
    assert_eq!(
        api(&app, &ada_token, Method::DELETE, "/api/v1/orgs/rust-paris/members/not-a-uuid", None).await.0,
        404
    );
    assert_eq!(api(&app, &bob_token, Method::POST, "/api/v1/orgs/rust-paris/leave", None).await.0, 204);
    assert_eq!(api(&app, &bob_token, Method::GET, "/api/v1/orgs/rust-paris", None).await.0, 404);

    // The owner deletes it.
    assert_eq!(api(&app, &ada_token, Method::DELETE, "/api/v1/orgs/rust-paris", None).await.0, 204);
    assert_eq!(api(&app, &ada_token, Method::GET, "/api/v1/orgs/rust-paris", None).await.0, 404);

    // The routes are documented.
    let (_, doc) = api(&app, &ada_token, Method::GET, "/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/orgs",
        "/api/v1/orgs/{slug}",
        "/api/v1/orgs/{slug}/members/{user_id}",
        "/api/v1/orgs/{slug}/invitations/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    app.stop().await;
}
