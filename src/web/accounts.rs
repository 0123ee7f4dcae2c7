//! Sign up, sign in and out, email verification and password reset.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Duration, Utc};
use herald_templates::FlashKind;
use herald_templates::accounts::{self as pages, SignupForm};
use serde::Deserialize;

use super::error::{FieldErrors, PageError};
use super::portal::Portal;
use super::{AppState, cookies, flash, safe_location};
use crate::auth::session::{self, ClientIp, MaybeUser, RequireUser};
use crate::auth::throttle::{self, Subjects};
use crate::auth::{hash_token, password, random_token};
use crate::db::DbError;
use crate::db::auth::TokenPurpose;
use crate::db::models::User;
use crate::db::users::NewUser;
use crate::domain::{Email, Name, Password, TimeZone};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_page).post(signup))
        .route("/signup/check/{field}", post(check_signup_field))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/verify/resend", post(resend_verification))
        .route("/verify/{token}", get(verify))
        .route("/password/forgot", get(forgot_page).post(forgot))
        .route("/password/reset/{token}", get(reset_page).post(reset))
}

/// Where to land after signing in when no `next` was given.
const HOME: &str = "/orgs";
/// How long a verification link works.
const VERIFY_HOURS: i64 = 48;
/// How long a password reset link works.
const RESET_MINUTES: i64 = 60;
/// The same answer for an unknown email and a wrong password.
const BAD_CREDENTIALS: &str = "That email and password do not match an account. Check both and try again.";

fn html(status: StatusCode, markup: herald_templates::Markup) -> Response {
    (status, [(header::VARY, "HX-Request")], Html(markup.into_string())).into_response()
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn signup_page(portal: Portal, Query(q): Query<NextQuery>) -> Response {
    if portal.user.is_some() {
        return Redirect::to(HOME).into_response();
    }
    let form = SignupForm { timezone: "UTC".into(), next: q.next, ..Default::default() };
    html(StatusCode::OK, pages::signup(&portal.shell, &form, &[]))
}

#[derive(Debug, Deserialize)]
struct SignupInput {
    email: String,
    display_name: String,
    password: String,
    #[serde(default)]
    timezone: String,
    next: Option<String>,
}

async fn signup(
    State(state): State<AppState>,
    portal: Portal,
    Form(input): Form<SignupInput>,
) -> Result<Response, PageError> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&input.email));
    let name = errors.check("display_name", Name::parse(&input.display_name));
    let pw = errors.check("password", Password::parse(&input.password));
    let tz_raw = if input.timezone.trim().is_empty() { "UTC" } else { input.timezone.as_str() };
    let tz = errors.check("timezone", TimeZone::parse(tz_raw));
    let form = SignupForm {
        email: input.email.clone(),
        display_name: input.display_name.clone(),
        timezone: input.timezone.clone(),
        next: input.next.clone(),
    };
    let (Some(email), Some(name), Some(pw), Some(tz)) = (email, name, pw, tz) else {
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, pages::signup(&portal.shell, &form, &errors.0)));
    };
    let hash = password::hash(&pw).await?;
    let new = NewUser {
        email: email.as_str(),
        display_name: name.as_str(),
        password_hash: Some(&hash),
        timezone: tz.name(),
        verified: false,
    };
    let user = match state.db.create_user(&new).await {
        Ok(u) => u,
        Err(DbError::Conflict(_)) => {
            errors
                .add("email", "An account with this email already exists. Sign in, or reset your password.");
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::signup(&portal.shell, &form, &errors.0),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user_id = %user.id, "account created");
    let cookie = session::start(&state, user.id).await?;
    let sent = send_verification(&state, &user).await;
    let message = if sent {
        format!("Welcome to Herald! We sent a verification link to {}.", user.email)
    } else {
        "Welcome to Herald! We could not send the verification email just now; use “Send the link again” in a moment.".to_owned()
    };
    let to = input.next.as_deref().map_or(HOME, |n| n);
    let mut response =
        flash::redirect(&state, to, if sent { FlashKind::Success } else { FlashKind::Warning }, &message);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Inline validation (htmx): the error text for one sign-up field, or nothing when it is fine.
async fn check_signup_field(Path(field): Path<String>, Form(input): Form<SignupInput>) -> Response {
    let problem = match field.as_str() {
        "email" => Email::parse(&input.email).err(),
        "display_name" => Name::parse(&input.display_name).err(),
        "password" => Password::parse(&input.password).err(),
        "timezone" => TimeZone::parse(&input.timezone).err(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // Escaped: htmx puts this into the page as HTML, and messages may quote the input.
    let text = maud::html! { (problem.unwrap_or_default()) }.into_string();
    ([(header::VARY, "HX-Request"), (header::CACHE_CONTROL, "no-store")], Html(text)).into_response()
}

/// Mails a fresh verification link; `false` when the mail could not be handed over.
pub(crate) async fn send_verification(state: &AppState, user: &User) -> bool {
    let token = random_token();
    let expires = Utc::now() + Duration::hours(VERIFY_HOURS);
    if let Err(e) =
        state.db.create_auth_token(user.id, TokenPurpose::VerifyEmail, &hash_token(&token), expires).await
    {
        tracing::error!(error = %e, "cannot store a verification link");
        return false;
    }
    let link = state.web.absolute(&format!("/verify/{token}"));
    let body = format!(
        "Hello {},\n\nplease confirm your email address for Herald by opening this link:\n\n{link}\n\n\
         The link works once, for {VERIFY_HOURS} hours. If you did not sign up, ignore this message.\n",
        user.display_name
    );
    let Ok(to) = Email::parse(&user.email) else { return false };
    state.mailer.send(&to, "Confirm your email address for Herald", &body).await.is_ok()
}

async fn signin_page(portal: Portal, Query(q): Query<NextQuery>) -> Response {
    if portal.user.is_some() {
        return Redirect::to(&safe_location(q.next.as_deref().unwrap_or(HOME))).into_response();
    }
    html(StatusCode::OK, pages::signin(&portal.shell, "", None, q.next.as_deref()))
}

#[derive(Debug, Deserialize)]
struct SigninInput {
    email: String,
    password: String,
    next: Option<String>,
}

async fn signin(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    portal: Portal,
    Form(input): Form<SigninInput>,
) -> Result<Response, PageError> {
    let email = input.email.trim().to_lowercase();
    let subjects = Subjects::new(&email, ip);
    if !subjects.allowed(&state.db).await? {
        tracing::warn!(%ip, "sign-in throttled");
        let message = format!(
            "Too many failed attempts. Wait {} minutes and try again, or reset your password.",
            throttle::WINDOW_MINUTES
        );
        return Ok(html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::signin(&portal.shell, &input.email, Some(&message), input.next.as_deref()),
        ));
    }
    let user = state.db.user_by_email(&email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = password::verify(stored, &input.password).await;
    let Some(user) = user.filter(|_| ok) else {
        subjects.failed(&state.db).await?;
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            pages::signin(&portal.shell, &input.email, Some(BAD_CREDENTIALS), input.next.as_deref()),
        ));
    };
    subjects.succeeded(&state.db).await?;
    if let Some(old) = portal.user.and_then(|u| u.session) {
        state.db.delete_session(&old).await?;
    }
    let cookie = session::start(&state, user.id).await?;
    tracing::info!(user_id = %user.id, "signed in");
    let to = safe_location(input.next.as_deref().unwrap_or(HOME));
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)], [(header::SET_COOKIE, cookie)]).into_response())
}

async fn signout(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> Result<Response, PageError> {
    if let Some(hash) = user.and_then(|u| u.session) {
        state.db.delete_session(&hash).await?;
    }
    let mut response = flash::redirect(&state, "/", FlashKind::Info, "You are signed out.");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::SESSION, state.web.secure_cookies()));
    Ok(response)
}

async fn verify(
    State(state): State<AppState>,
    portal: Portal,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state.db.consume_auth_token(TokenPurpose::VerifyEmail, &hash_token(&token)).await? {
        Some(user_id) => {
            state.db.mark_user_verified(user_id).await?;
            tracing::info!(%user_id, "email verified");
            let to = if portal.user.is_some() { HOME } else { "/signin" };
            Ok(flash::redirect(&state, to, FlashKind::Success, "Your email address is verified. Thank you!"))
        }
        None => {
            let action = portal.user.as_ref().map(|_| ("/account", "Go to your account"));
            Ok(html(
                StatusCode::BAD_REQUEST,
                pages::message(
                    &portal.shell,
                    "This link does not work",
                    "Verification links work once and expire after two days. Sign in and use “Send the link again” to get a new one.",
                    action.or(Some(("/signin", "Sign in"))),
                ),
            ))
        }
    }
}

async fn resend_verification(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    headers: HeaderMap,
) -> Response {
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|| HOME.to_owned());
    if user.verified() {
        return flash::redirect(&state, &back, FlashKind::Info, "Your email address is already verified.");
    }
    if send_verification(&state, &user.user).await {
        flash::redirect(
            &state,
            &back,
            FlashKind::Success,
            &format!("We sent a new verification link to {}.", user.user.email),
        )
    } else {
        flash::redirect(
            &state,
            &back,
            FlashKind::Error,
            "We could not send the email just now. Please try again in a few minutes.",
        )
    }
}

async fn forgot_page(portal: Portal) -> Response {
    html(StatusCode::OK, pages::forgot_password(&portal.shell, "", &[]))
}

#[derive(Debug, Deserialize)]
struct ForgotInput {
    email: String,
}

async fn forgot(
    State(state): State<AppState>,
    portal: Portal,
    Form(input): Form<ForgotInput>,
) -> Result<Response, PageError> {
    let email = match Email::parse(&input.email) {
        Ok(e) => e,
        Err(message) => {
            let errors = vec![("email".to_owned(), message)];
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::forgot_password(&portal.shell, &input.email, &errors),
            ));
        }
    };
    // The same answer whether or not the account exists.
    if let Some(user) = state.db.user_by_email(email.as_str()).await? {
        let token = random_token();
        let expires = Utc::now() + Duration::minutes(RESET_MINUTES);
        state
            .db
            .create_auth_token(user.id, TokenPurpose::ResetPassword, &hash_token(&token), expires)
            .await?;
        let link = state.web.absolute(&format!("/password/reset/{token}"));
        let body = format!(
            "Hello {},\n\nsomeone (hopefully you) asked to reset your Herald password. Choose a new one here:\n\n{link}\n\n\
             The link works once, for {RESET_MINUTES} minutes. If you did not ask, ignore this message: your password stays as it is.\n",
            user.display_name
        );
        if state.mailer.send(&email, "Reset your Herald password", &body).await.is_err() {
            return Ok(flash::redirect(
                &state,
                "/password/forgot",
                FlashKind::Error,
                "We could not send the email just now. Please try again in a few minutes.",
            ));
        }
    }
    Ok(html(
        StatusCode::OK,
        pages::message(
            &portal.shell,
            "Check your inbox",
            &format!(
                "If an account exists for {email}, we sent it a link to choose a new password. It works for {RESET_MINUTES} minutes."
            ),
            Some(("/signin", "Back to sign in")),
        ),
    ))
}

fn expired_reset(portal: &Portal) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        pages::message(
            &portal.shell,
            "This link does not work",
            "Password reset links work once and expire after an hour. Ask for a new one.",
            Some(("/password/forgot", "Send a new link")),
        ),
    )
}

async fn reset_page(
    State(state): State<AppState>,
    portal: Portal,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    if !state.db.auth_token_valid(TokenPurpose::ResetPassword, &hash_token(&token)).await? {
        return Ok(expired_reset(&portal));
    }
    Ok(html(StatusCode::OK, pages::reset_password(&portal.shell, &token, &[])))
}

#[derive(Debug, Deserialize)]
struct ResetInput {
    password: String,
}

async fn reset(
    State(state): State<AppState>,
    portal: Portal,
    Path(token): Path<String>,
    Form(input): Form<ResetInput>,
) -> Result<Response, PageError> {
    let pw = match Password::parse(&input.password) {
        Ok(p) => p,
        Err(message) => {
            let errors = vec![("password".to_owned(), message)];
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::reset_password(&portal.shell, &token, &errors),
            ));
        }
    };
    let Some(user_id) = state.db.consume_auth_token(TokenPurpose::ResetPassword, &hash_token(&token)).await?
    else {
        return Ok(expired_reset(&portal));
    };
    let hash = password::hash(&pw).await?;
    state.db.set_password(user_id, &hash).await?;
    // Whoever could read the mail could also verify the address: the reset proves it.
    state.db.mark_user_verified(user_id).await?;
    tracing::info!(%user_id, "password reset; other sessions ended");
    let cookie = session::start(&state, user_id).await?;
    let mut response =
        flash::redirect(&state, HOME, FlashKind::Success, "Your new password is saved. You are signed in.");
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}
