//! Accounts: sign-up, sign-in, sessions, email verification, password reset, preferences,
//! personal API tokens ([`tokens`]) and private calendar feeds ([`feeds`]).
//!
//! The sign-up form and `herald user create` both make accounts with [`create_account`]; the
//! verification link and `herald user verify` both end in [`mark_verified`]. Handlers parse the
//! request, call one function here and render its answer.

pub mod feeds;
pub mod password;
pub mod throttle;
pub mod tokens;

use std::net::IpAddr;

use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::db::auth::TokenPurpose;
use crate::db::models::User;
use crate::db::users::NewUser;
use crate::db::{Db, DbError};
use crate::domain::{DateFormat, Email, FieldErrors, Name, Password, ServiceError, TimeZone};
use crate::secrets::{hash_token, random_token};
use crate::services::Services;

/// How long a browser stays signed in.
pub const SESSION_DAYS: i64 = 30;
/// How long a verification link works.
pub const VERIFY_HOURS: i64 = 48;
/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 60;
/// Said when a new account's address is already taken.
pub const EMAIL_TAKEN: &str = "An account with this email already exists. Sign in, or reset your password.";

/// A new account, already parsed.
#[derive(Debug)]
pub struct NewAccount<'a> {
    /// Login and mail address.
    pub email: &'a Email,
    /// Display name.
    pub name: &'a Name,
    /// The password (hashed here; never stored or logged as typed).
    pub password: &'a Password,
    /// Home time zone.
    pub timezone: TimeZone,
    /// Whether the address counts as verified already (operators creating accounts).
    pub verified: bool,
}

/// Creates an account. An address that is taken is [`ServiceError::Conflict`] with
/// [`EMAIL_TAKEN`].
pub async fn create_account(db: &Db, new: NewAccount<'_>) -> Result<User, ServiceError> {
    let hash = password::hash(new.password).await?;
    let row = NewUser {
        email: new.email.as_str(),
        display_name: new.name.as_str(),
        password_hash: Some(&hash),
        timezone: new.timezone.name(),
        verified: new.verified,
    };
    match db.create_user(&row).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, "account created");
            Ok(user)
        }
        Err(DbError::Conflict(_)) => Err(ServiceError::Conflict(EMAIL_TAKEN.into())),
        Err(e) => Err(e.into()),
    }
}

/// What the sign-up form sends.
#[derive(Debug, Default, Clone)]
pub struct SignUp {
    /// Email address, as typed.
    pub email: String,
    /// Display name, as typed.
    pub display_name: String,
    /// Password, as typed.
    pub password: String,
    /// IANA time zone; empty means UTC.
    pub timezone: String,
}

/// Checks one sign-up field (inline validation); `None` when it is fine or unknown.
pub fn check_sign_up_field(field: &str, input: &SignUp) -> Option<Option<String>> {
    Some(match field {
        "email" => Email::parse(&input.email).err(),
        "display_name" => Name::parse(&input.display_name).err(),
        "password" => Password::parse(&input.password).err(),
        "timezone" => TimeZone::parse(&input.timezone).err(),
        _ => return None,
    })
}

/// Signs a visitor up. The answer is the same whether or not the address already has an
/// account, so the form cannot tell who uses Herald: a new account is created unverified and
/// mailed a link that confirms the address and signs in; the owner of an existing account is
/// mailed a note instead (a new link if they never confirmed). Mail is sent at most a few times
/// an hour per address, silently. `next` is a local path the link leads to afterwards.
/// Returns the address the link went to. Every invalid field is reported at once;
/// [`ServiceError::TooMany`] when this client made too many accounts lately.
pub async fn sign_up(
    svc: &Services,
    input: &SignUp,
    client: IpAddr,
    next: Option<&str>,
) -> Result<Email, ServiceError> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&input.email));
    let name = errors.check("display_name", Name::parse(&input.display_name));
    let pw = errors.check("password", Password::parse(&input.password));
    let tz_raw = if input.timezone.trim().is_empty() { "UTC" } else { input.timezone.as_str() };
    let tz = errors.check("timezone", TimeZone::parse(tz_raw));
    let (Some(email), Some(name), Some(pw), Some(timezone)) = (email, name, pw, tz) else {
        return Err(ServiceError::Invalid(errors));
    };
    // Counted before the password is hashed: a burst costs no hashing work past the limit.
    svc.limits.sign_up(client)?;
    // The password is hashed either way, so a taken address takes as long as a new one.
    let new = NewAccount { email: &email, name: &name, password: &pw, timezone, verified: false };
    let user = match create_account(&svc.db, new).await {
        Ok(user) => user,
        Err(ServiceError::Conflict(_)) => {
            let Some(owner) = svc.db.user_by_email(email.as_str()).await? else {
                return Err(ServiceError::Conflict("Please try again.".into()));
            };
            if svc.limits.account_mail(email.as_str()) {
                if owner.verified_at.is_some() {
                    send_already_registered_mail(svc, &owner, &email).await;
                } else {
                    send_verification_mail(svc, &owner, next).await;
                }
            }
            tracing::info!(user_id = %owner.id, "sign-up with a taken address: the owner was told");
            return Ok(email);
        }
        Err(e) => return Err(e),
    };
    if svc.limits.account_mail(email.as_str()) {
        send_verification_mail(svc, &user, next).await;
    }
    Ok(email)
}

/// Tells the owner of an account that someone tried to sign up with their address.
async fn send_already_registered_mail(svc: &Services, owner: &User, to: &Email) {
    let signin = svc.links.absolute("/signin");
    let forgot = svc.links.absolute("/password/forgot");
    let body = format!(
        "Hello {},\n\nsomeone (perhaps you) tried to create a Herald account with this address, which \
         already has one. To use it, sign in:\n\n{signin}\n\nForgot your password? Choose a new one \
         here:\n\n{forgot}\n\nIf it was not you, ignore this message: nothing changed.\n",
        owner.display_name
    );
    if let Err(e) = svc.mailer.send(to, "You already have a Herald account", &body).await {
        tracing::warn!(error = %e, "cannot mail an account owner about a sign-up with their address");
    }
}

/// Mails a fresh verification link. [`ServiceError::TooMany`] when this address got several
/// lately, [`ServiceError::Unavailable`] when the mail could not be handed over.
pub async fn send_verification(svc: &Services, user: &User) -> Result<(), ServiceError> {
    if !svc.limits.account_mail(&user.email) {
        return Err(ServiceError::TooMany(
            "We sent you several links in the last hour already. Use the newest one, or try again later."
                .into(),
        ));
    }
    if send_verification_mail(svc, user, None).await {
        Ok(())
    } else {
        Err(ServiceError::Unavailable(
            "We could not send the email just now. Please try again in a few minutes.".into(),
        ))
    }
}

/// Mails a fresh verification link to `user`; after it, the link leads to `next` (a local path).
async fn send_verification_mail(svc: &Services, user: &User, next: Option<&str>) -> bool {
    let token = random_token();
    let expires = Utc::now() + Duration::hours(VERIFY_HOURS);
    if let Err(e) =
        svc.db.create_auth_token(user.id, TokenPurpose::VerifyEmail, &hash_token(&token), expires).await
    {
        tracing::error!(error = %e, "cannot store a verification link");
        return false;
    }
    let next = next
        .map(|n| format!("?next={}", url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()))
        .unwrap_or_default();
    let link = svc.links.absolute(&format!("/verify/{token}{next}"));
    let body = format!(
        "Hello {},\n\nplease confirm your email address for Herald by opening this link:\n\n{link}\n\n\
         The link works once, for {VERIFY_HOURS} hours. If you did not sign up, ignore this message.\n",
        user.display_name
    );
    let Ok(to) = Email::parse(&user.email) else { return false };
    svc.mailer.send(&to, "Confirm your email address for Herald", &body).await.is_ok()
}

/// Follows a mailed verification link: the verified user, or `None` when the link is unknown,
/// used or expired.
pub async fn verify_email(db: &Db, token: &str) -> Result<Option<Uuid>, ServiceError> {
    let Some(user_id) = db.consume_auth_token(TokenPurpose::VerifyEmail, &hash_token(token)).await? else {
        return Ok(None);
    };
    mark_verified(db, user_id).await?;
    Ok(Some(user_id))
}

/// Marks an address verified (a followed link, a reset, or `herald user verify`). Pending
/// invitations to that address become participations here: only a proven inbox claims them.
pub async fn mark_verified(db: &Db, user_id: Uuid) -> Result<(), ServiceError> {
    db.mark_user_verified(user_id).await?;
    tracing::info!(%user_id, "email verified");
    Ok(())
}

/// The account with this address, if any.
pub async fn by_email(db: &Db, email: &Email) -> Result<Option<User>, ServiceError> {
    Ok(db.user_by_email(email.as_str()).await?)
}

/// How a sign-in attempt ended.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the session token for the cookie, and the user.
    Welcome { user: User, session: String },
    /// Too many failures for this account or address lately.
    Throttled,
    /// Unknown address or wrong password (never says which).
    Refused,
}

/// Checks an address and password, throttled per account and client address; on success
/// starts a session (ending `old_session`, so a fixed session id cannot be reused).
pub async fn sign_in(
    db: &Db,
    raw_email: &str,
    candidate: &str,
    client: IpAddr,
    old_session: Option<&str>,
) -> Result<SignIn, ServiceError> {
    let email = raw_email.trim().to_lowercase();
    let Some(attempt) = throttle::Attempt::begin(db, &email, client).await? else {
        tracing::warn!(%client, "sign-in throttled");
        return Ok(SignIn::Throttled);
    };
    let user = db.user_by_email(&email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = password::verify(stored, candidate).await;
    let Some(user) = user.filter(|_| ok) else {
        attempt.failed();
        return Ok(SignIn::Refused);
    };
    attempt.succeeded(db).await?;
    if let Some(old) = old_session {
        db.delete_session(old).await?;
    }
    let session = start_session(db, user.id).await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(SignIn::Welcome { user, session })
}

/// Starts a browser session for `user_id`: the token for the cookie (only its hash is stored).
pub async fn start_session(db: &Db, user_id: Uuid) -> Result<String, ServiceError> {
    let token = random_token();
    db.create_session(&hash_token(&token), user_id, Utc::now() + Duration::days(SESSION_DAYS)).await?;
    Ok(token)
}

/// The user a session cookie belongs to, with the session's id (its hash).
pub async fn session_user(db: &Db, token: &str) -> Result<Option<(User, String)>, ServiceError> {
    let hash = hash_token(token);
    let Some(session) = db.session(&hash).await? else { return Ok(None) };
    Ok(db.user_by_id(session.user_id).await?.map(|user| (user, hash)))
}

/// Ends a session, by its id (hash).
pub async fn end_session(db: &Db, session_id: &str) -> Result<(), ServiceError> {
    Ok(db.delete_session(session_id).await?)
}

/// Mails a password reset link when an account has this address; says nothing either way, and
/// sends nothing when the address got several mails lately (a mailbox cannot be flooded through
/// this form). [`ServiceError::TooMany`] when `client` asked too often (whatever the address),
/// [`ServiceError::Unavailable`] when the mail could not be handed over.
pub async fn request_password_reset(
    svc: &Services,
    email: &Email,
    client: IpAddr,
) -> Result<(), ServiceError> {
    if !svc.limits.password_reset(client) {
        return Err(ServiceError::TooMany(
            "Too many password reset requests from your network just now. Try again in an hour.".into(),
        ));
    }
    let Some(user) = svc.db.user_by_email(email.as_str()).await? else { return Ok(()) };
    if !svc.limits.account_mail(email.as_str()) {
        return Ok(());
    }
    let token = random_token();
    let expires = Utc::now() + Duration::minutes(RESET_MINUTES);
    svc.db.create_auth_token(user.id, TokenPurpose::ResetPassword, &hash_token(&token), expires).await?;
    let link = svc.links.absolute(&format!("/password/reset/{token}"));
    let body = format!(
        "Hello {},\n\nsomeone (hopefully you) asked to reset your Herald password. Choose a new one here:\n\n{link}\n\n\
         The link works once, for {RESET_MINUTES} minutes. If you did not ask, ignore this message: your password stays as it is.\n",
        user.display_name
    );
    svc.mailer.send(email, "Reset your Herald password", &body).await.map_err(|_| {
        ServiceError::Unavailable(
            "We could not send the email just now. Please try again in a few minutes.".into(),
        )
    })
}

/// Whether a reset link still works.
pub async fn reset_link_works(db: &Db, token: &str) -> Result<bool, ServiceError> {
    Ok(db.auth_token_valid(TokenPurpose::ResetPassword, &hash_token(token)).await?)
}

/// Sets a new password from a reset link, which also proves the address; every other session
/// ends. Returns the new session's token, or `None` when the link is unknown, used or expired.
pub async fn reset_password(
    db: &Db,
    token: &str,
    new: &Password,
) -> Result<Option<PasswordReset>, ServiceError> {
    let Some(user_id) = db.consume_auth_token(TokenPurpose::ResetPassword, &hash_token(token)).await? else {
        return Ok(None);
    };
    let hash = password::hash(new).await?;
    db.set_password(user_id, &hash).await?;
    // A reset is what someone does who fears their password is known: API tokens made with it
    // may be known too, so they stop working with the other sessions.
    let revoked = db.revoke_all_api_tokens(user_id).await?;
    // Whoever could read the mail could also verify the address: the reset proves it.
    mark_verified(db, user_id).await?;
    tracing::info!(%user_id, revoked_tokens = revoked, "password reset; other sessions ended, API tokens revoked");
    Ok(Some(PasswordReset { user_id, session: start_session(db, user_id).await?, revoked_tokens: revoked }))
}

/// A password reset done.
#[derive(Debug)]
pub struct PasswordReset {
    /// Whose password it was.
    pub user_id: Uuid,
    /// The new session's token, for the cookie.
    pub session: String,
    /// How many API tokens stopped working.
    pub revoked_tokens: u64,
}

/// Changes to a user's preferences, as typed; `None` keeps the current value.
#[derive(Debug, Default, Clone)]
pub struct PreferencesUpdate {
    /// Display name.
    pub display_name: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// `iso`, `dmy` or `mdy`.
    pub date_format: Option<String>,
}

/// Saves a user's preferences (the account page and `PATCH /api/v1/me`); every invalid field
/// is reported at once. Returns the updated user.
pub async fn update_preferences(
    db: &Db,
    user: &User,
    update: &PreferencesUpdate,
) -> Result<User, ServiceError> {
    let mut errors = FieldErrors::default();
    let name = match &update.display_name {
        Some(raw) => errors.check("display_name", Name::parse(raw)).map(|n| n.as_str().to_owned()),
        None => Some(user.display_name.clone()),
    };
    let tz = match &update.timezone {
        Some(raw) => errors.check("timezone", TimeZone::parse(raw)).map(|t| t.name().to_owned()),
        None => Some(user.timezone.name().to_owned()),
    };
    let format = match &update.date_format {
        Some(raw) => errors.check("date_format", DateFormat::parse(raw)).map(|f| f.as_str().to_owned()),
        None => Some(user.date_format.as_str().to_owned()),
    };
    let (Some(name), Some(tz), Some(format)) = (name, tz, format) else {
        return Err(ServiceError::Invalid(errors));
    };
    db.update_preferences(user.id, &name, &tz, &format).await?;
    tracing::info!(user_id = %user.id, "preferences updated");
    db.user_by_id(user.id).await?.ok_or(ServiceError::NotFound)
}
