//! Sign up, sign in and out, email verification and password reset.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use herald_templates::FlashKind;
use herald_templates::accounts::{self as pages, SignupForm};
use serde::Deserialize;

use super::error::{PageError, html, refusal_page};
use super::portal::Portal;
use super::session::{self, ClientIp, MaybeUser, RequireUser};
use super::{AppState, cookies, flash, safe_location};
use crate::accounts::{self, RESET_MINUTES, SignIn, SignUp, throttle};
use crate::domain::{Email, Password, ServiceError};

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

/// Where to land after signing in when no `next` was given: the home page with their events.
const HOME: &str = "/";
/// The same answer for an unknown email and a wrong password.
const BAD_CREDENTIALS: &str = "That email and password do not match an account. Check both and try again.";

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn signup_page(portal: Portal, Query(q): Query<NextQuery>) -> Response {
    if portal.user.is_some() {
        return Redirect::to(HOME).into_response();
    }
    let form = SignupForm {
        timezone: "UTC".into(),
        next: q.next,
        zones: crate::domain::time::zone_names(),
        ..Default::default()
    };
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

impl From<&SignupInput> for SignUp {
    fn from(input: &SignupInput) -> Self {
        Self {
            email: input.email.clone(),
            display_name: input.display_name.clone(),
            password: input.password.clone(),
            timezone: input.timezone.clone(),
        }
    }
}

async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    portal: Portal,
    Form(input): Form<SignupInput>,
) -> Result<Response, PageError> {
    let next = input.next.as_deref().map(safe_location);
    let email = match accounts::sign_up(&state, &SignUp::from(&input), ip, next.as_deref()).await {
        Ok(email) => email,
        Err(ServiceError::Invalid(errors)) => {
            let form = SignupForm {
                email: input.email,
                display_name: input.display_name,
                timezone: input.timezone,
                next: input.next,
                zones: crate::domain::time::zone_names(),
            };
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::signup(&portal.shell, &form, &errors.0),
            ));
        }
        Err(e) => return Ok(refusal_page(&portal.shell, e, Some(("/signup", "Back to sign-up")))),
    };
    // The same answer whether or not the address had an account: nobody learns it here.
    let mut message = format!(
        "Almost done: we sent a link to {email}. Open it to confirm your address; it signs you in. \
         No mail after a few minutes? Check your spam folder, or sign in with your password and \
         send it again from your account page."
    );
    if !state.mailer.sends() {
        message.push_str(" (This Herald sends no email yet: the link is in its log.)");
    }
    let to = match &next {
        Some(n) => {
            format!("/signin?next={}", url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>())
        }
        None => "/signin".to_owned(),
    };
    Ok(flash::redirect(&state, &to, FlashKind::Success, &message))
}

/// Inline validation (htmx): the error text for one sign-up field, or nothing when it is fine.
async fn check_signup_field(Path(field): Path<String>, Form(input): Form<SignupInput>) -> Response {
    let Some(problem) = accounts::check_sign_up_field(&field, &SignUp::from(&input)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Escaped: htmx puts this into the page as HTML, and messages may quote the input.
    let text = maud::html! { (problem.unwrap_or_default()) }.into_string();
    ([(header::VARY, "HX-Request"), (header::CACHE_CONTROL, "no-store")], Html(text)).into_response()
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
    let old = portal.user.as_ref().and_then(|u| u.session.as_deref());
    match accounts::sign_in(&state.db, &input.email, &input.password, ip, old).await? {
        SignIn::Welcome { session: token, .. } => {
            let to = safe_location(input.next.as_deref().unwrap_or(HOME));
            Ok((
                StatusCode::SEE_OTHER,
                [(header::LOCATION, to)],
                [(header::SET_COOKIE, session::cookie(&state, &token))],
            )
                .into_response())
        }
        SignIn::Throttled => {
            let message = format!(
                "Too many failed attempts. Wait {} minutes and try again, or reset your password.",
                throttle::WINDOW_MINUTES
            );
            Ok(html(
                StatusCode::TOO_MANY_REQUESTS,
                pages::signin(&portal.shell, &input.email, Some(&message), input.next.as_deref()),
            ))
        }
        SignIn::Refused => Ok(html(
            StatusCode::UNAUTHORIZED,
            pages::signin(&portal.shell, &input.email, Some(BAD_CREDENTIALS), input.next.as_deref()),
        )),
    }
}

async fn signout(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> Result<Response, PageError> {
    if let Some(hash) = user.and_then(|u| u.session) {
        accounts::end_session(&state.db, &hash).await?;
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
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    match accounts::verify_email(&state.db, &token).await? {
        Some(user_id) => {
            crate::integrations::email::ensure_for(&state, user_id).await;
            let to = safe_location(q.next.as_deref().unwrap_or(HOME));
            let mut response = flash::redirect(
                &state,
                &to,
                FlashKind::Success,
                "Your email address is confirmed. Welcome to Herald!",
            );
            // The link proves the inbox: it signs in a browser that is not signed in yet.
            if portal.user.is_none() {
                let token = accounts::start_session(&state.db, user_id).await?;
                response.headers_mut().append(header::SET_COOKIE, session::cookie(&state, &token));
            }
            Ok(response)
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
    match accounts::send_verification(&state, &user.user).await {
        Ok(()) => flash::redirect(
            &state,
            &back,
            FlashKind::Success,
            &format!("We sent a new verification link to {}.", user.user.email),
        ),
        Err(ServiceError::TooMany(why) | ServiceError::Unavailable(why)) => {
            flash::redirect(&state, &back, FlashKind::Error, &why)
        }
        Err(e) => PageError::from(e).into_response(),
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
    ClientIp(ip): ClientIp,
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
    match accounts::request_password_reset(&state, &email, ip).await {
        Ok(()) => {}
        Err(ServiceError::Unavailable(why)) => {
            return Ok(flash::redirect(&state, "/password/forgot", FlashKind::Error, &why));
        }
        Err(e) => return Ok(refusal_page(&portal.shell, e, Some(("/signin", "Back to sign-in")))),
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
    if !accounts::reset_link_works(&state.db, &token).await? {
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
    let Some(done) = accounts::reset_password(&state.db, &token, &pw).await? else {
        return Ok(expired_reset(&portal));
    };
    crate::integrations::email::ensure_for(&state, done.user_id).await;
    let cookie = session::cookie(&state, &done.session);
    let message = match done.revoked_tokens {
        0 => "Your new password is saved. You are signed in.".to_owned(),
        n => format!(
            "Your new password is saved. You are signed in. To be safe, your {n} API {} stopped working: \
             make new ones on your account page where you need them.",
            if n == 1 { "token" } else { "tokens" }
        ),
    };
    let mut response = flash::redirect(&state, HOME, FlashKind::Success, &message);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}
