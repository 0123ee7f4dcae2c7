//! The signed-in user's own pages: preferences and personal API tokens.

use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use herald_templates::FlashKind;
use herald_templates::account::{
    self as pages, DateFormatChoice, PreferencesForm, PreferencesPage, TokenRow, When,
};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{PageError, html};
use super::portal::Portal;
use super::{AppState, flash};
use crate::accounts::{self, PreferencesUpdate, tokens};
use crate::db::models::User;
use crate::domain::FieldErrors;
use crate::domain::time;
use crate::domain::{DateFormat, Name, ServiceError};
use crate::quiet::QuietUpdate;
use crate::web::session::{CurrentUser, RequireUser};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(preferences_page).post(save_preferences))
        .route("/account/tokens", get(tokens_page).post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/account/export", get(export_data))
        .route("/account/delete", get(delete_page).post(delete_account))
}

/// `t` in the user's time zone and date format, e.g. `22/11/2026 14:05`.
fn when(user: &User, t: DateTime<Utc>) -> When {
    When { iso: time::machine(t), text: user.viewer().short(t) }
}

/// The date formats, worded for the form.
fn date_formats() -> Vec<DateFormatChoice> {
    DateFormat::ALL
        .into_iter()
        .map(|f| DateFormatChoice {
            value: f.as_str(),
            label: match f {
                DateFormat::Iso => "Year, month, day",
                DateFormat::DayFirst => "Day, month, year",
                DateFormat::MonthFirst => "Month, day, year",
            },
            example: f.example(),
        })
        .collect()
}

/// IANA zones proposed in the time zone field: the `Area/Place` names people pick, plus UTC
/// (the old aliases such as `US/Eastern` still parse when typed).
static ZONES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    const AREAS: &[&str] = &[
        "Africa/",
        "America/",
        "Antarctica/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
        "Pacific/",
    ];
    let mut zones: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| AREAS.iter().any(|area| name.starts_with(area)))
        .collect();
    zones.sort_unstable();
    zones.insert(0, "UTC");
    zones
});

fn preferences_markup(
    portal: &Portal,
    user: &CurrentUser,
    form: PreferencesForm,
    errors: &FieldErrors,
) -> herald_templates::Markup {
    let u = &user.user;
    let formats = date_formats();
    let local_now = Some(u.viewer().clock(Utc::now()));
    let page = PreferencesPage {
        email: &u.email,
        verified: u.verified_at.map(|t| when(u, t)),
        form,
        date_formats: &formats,
        zones: &ZONES,
        local_now,
    };
    pages::preferences(&portal.shell, &page, &errors.0)
}

async fn preferences_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
) -> Result<Response, PageError> {
    let quiet = crate::quiet::view(&state.db, user.user.id).await?;
    let (quiet_start, quiet_end) = quiet.quiet.unwrap_or_default();
    let form = PreferencesForm {
        display_name: user.user.display_name.clone(),
        timezone: user.user.timezone.name().to_owned(),
        date_format: user.user.date_format.as_str().to_owned(),
        quiet_start,
        quiet_end,
        digest_at: quiet.digest_at.unwrap_or_default(),
    };
    Ok(html(StatusCode::OK, preferences_markup(&portal, &user, form, &FieldErrors::default())))
}

#[derive(Debug, Deserialize)]
struct PreferencesInput {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    date_format: String,
    #[serde(default)]
    quiet_start: String,
    #[serde(default)]
    quiet_end: String,
    #[serde(default)]
    digest_at: String,
}

/// Quiet hours and digest as typed on the form: both times empty means none, one of them
/// empty is a mistake to point at; an empty digest time means none.
fn quiet_input(input: &PreferencesInput) -> Result<QuietUpdate, FieldErrors> {
    let (start, end) = (input.quiet_start.trim(), input.quiet_end.trim());
    let quiet = match (start.is_empty(), end.is_empty()) {
        (true, true) => None,
        (false, true) => {
            return Err(FieldErrors::one(
                "quiet_end",
                "Enter when your quiet hours end, or clear both times.",
            ));
        }
        (true, false) => {
            return Err(FieldErrors::one(
                "quiet_start",
                "Enter when your quiet hours begin, or clear both times.",
            ));
        }
        (false, false) => Some((start.to_owned(), end.to_owned())),
    };
    let digest = input.digest_at.trim();
    Ok(QuietUpdate { quiet: Some(quiet), digest_at: Some((!digest.is_empty()).then(|| digest.to_owned())) })
}

async fn save_preferences(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Form(input): Form<PreferencesInput>,
) -> Result<Response, PageError> {
    let update = PreferencesUpdate {
        display_name: Some(input.display_name.clone()),
        timezone: Some(input.timezone.clone()),
        date_format: Some(input.date_format.clone()),
    };
    // Quiet hours are checked first, so that a refused form changes nothing.
    let current = crate::quiet::view(&state.db, user.user.id).await?;
    let quiet = quiet_input(&input).and_then(|q| crate::quiet::validate(&current, &q).map(|_| q));
    let saved = match quiet {
        Err(errors) => Err(ServiceError::Invalid(errors)),
        Ok(quiet) => match accounts::update_preferences(&state.db, &user.user, &update).await {
            Ok(updated) => {
                let zone_changed = updated.timezone != user.user.timezone;
                crate::quiet::save(&state.db, user.user.id, &quiet, zone_changed).await.map(|_| ())
            }
            Err(e) => Err(e),
        },
    };
    match saved {
        Ok(()) => {}
        Err(ServiceError::Invalid(errors)) => {
            let form = PreferencesForm {
                display_name: input.display_name,
                timezone: input.timezone,
                date_format: input.date_format,
                quiet_start: input.quiet_start,
                quiet_end: input.quiet_end,
                digest_at: input.digest_at,
            };
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                preferences_markup(&portal, &user, form, &errors),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(flash::redirect(&state, "/account", FlashKind::Success, "Your preferences are saved."))
}

/// A token as its owner's table shows it, times in the owner's zone and format.
fn token_row(u: &crate::db::models::User, t: crate::db::models::ApiToken) -> TokenRow {
    let now = chrono::Utc::now();
    TokenRow {
        id: t.id.to_string(),
        created: when(u, t.created_at),
        last_used: t.last_used_at.map(|x| when(u, x)),
        revoked: t.revoked_at.map(|x| when(u, x)),
        expires: t.expires_at.map(|x| when(u, x)),
        expired: t.expires_at.is_some_and(|x| x <= now),
        name: t.name,
    }
}

async fn tokens_markup(
    state: &AppState,
    portal: &Portal,
    user: &CurrentUser,
    name: &str,
    errors: &FieldErrors,
) -> Result<herald_templates::Markup, PageError> {
    let u = &user.user;
    let rows: Vec<TokenRow> =
        tokens::list(&state.db, u.id).await?.into_iter().map(|t| token_row(u, t)).collect();
    Ok(pages::tokens(&portal.shell, &rows, name, &errors.0))
}

async fn tokens_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
) -> Result<Response, PageError> {
    Ok(html(StatusCode::OK, tokens_markup(&state, &portal, &user, "", &FieldErrors::default()).await?))
}

#[derive(Debug, Deserialize)]
struct NewTokenInput {
    #[serde(default)]
    name: String,
    /// Days; empty: never.
    #[serde(default)]
    expires_in_days: String,
}

async fn create_token(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Form(input): Form<NewTokenInput>,
) -> Result<Response, PageError> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", Name::parse(&input.name));
    let days = match input.expires_in_days.trim() {
        "" => Some(None),
        raw => errors.check(
            "expires_in_days",
            raw.parse::<i64>().map_err(|_| "Choose when the token expires.".to_owned()).map(Some),
        ),
    };
    let issued = match (name, days) {
        (Some(name), Some(days)) => {
            tokens::issue(&state.db, user.user.id, &name, days).await.map(|t| (name, t.1))
        }
        _ => Err(ServiceError::Invalid(errors)),
    };
    let (name, token) = match issued {
        Ok(done) => done,
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let errors = match e {
                ServiceError::Conflict(why) => FieldErrors::one("name", why),
                ServiceError::Invalid(errors) => errors,
                _ => FieldErrors::default(),
            };
            let markup = tokens_markup(&state, &portal, &user, &input.name, &errors).await?;
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, markup));
        }
        Err(e) => return Err(e.into()),
    };
    // Shown right here, once: never in a redirect, a flash cookie, a cache or the log.
    let markup =
        pages::token_created(&portal.shell, name.as_str(), &token, &state.web.absolute("/api/v1/me"));
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store"), (header::VARY, "HX-Request")],
        Html(markup.into_string()),
    )
        .into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let token = tokens::get(&state.db, user.user.id, id).await?;
    tokens::revoke(&state.db, user.user.id, id).await?;
    // htmx: swap just this row; without JavaScript: back to the list with a message.
    if headers.contains_key("hx-request") {
        let row = token_row(&user.user, tokens::get(&state.db, user.user.id, id).await?);
        return Ok(html(StatusCode::OK, pages::token_row(&portal.shell, &row)));
    }
    Ok(flash::redirect(
        &state,
        "/account/tokens",
        FlashKind::Success,
        &format!("The token “{}” is revoked; it no longer works.", token.name),
    ))
}

/// `/account/export`: everything Herald holds about the signed-in user, as a JSON file.
async fn export_data(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Response, PageError> {
    let file = crate::exports::personal_data_file(&state, &user.user).await?;
    Ok(super::api::exports::attachment(file))
}

/// The confirmation typed on the deletion form.
#[derive(Debug, Default, Deserialize)]
struct DeleteInput {
    #[serde(default)]
    confirm: String,
}

async fn delete_page(RequireUser(user): RequireUser, portal: Portal) -> Response {
    html(StatusCode::OK, pages::delete_account(&portal.shell, &user.user.email, "", None))
}

/// Deletes the account once the address is typed; the last owner of an organization is refused
/// with its name.
async fn delete_account(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Form(input): Form<DeleteInput>,
) -> Result<Response, PageError> {
    let email = &user.user.email;
    let typed = input.confirm.trim();
    if !typed.eq_ignore_ascii_case(email) {
        let why = "Type your email address exactly as shown to confirm.";
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::delete_account(&portal.shell, email, typed, Some(why)),
        ));
    }
    match crate::exports::delete_account(&state, &user.user).await {
        Ok(()) => {
            let mut response = flash::redirect(&state, "/", FlashKind::Info, "Your account is deleted.");
            response.headers_mut().append(
                header::SET_COOKIE,
                super::cookies::clear(super::cookies::SESSION, state.web.secure_cookies()),
            );
            Ok(response)
        }
        Err(ServiceError::Conflict(why)) => {
            Ok(html(StatusCode::CONFLICT, pages::delete_account(&portal.shell, email, typed, Some(&why))))
        }
        Err(ServiceError::Unavailable(why)) => Ok(html(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::delete_account(&portal.shell, email, typed, Some(&why)),
        )),
        Err(e) => Err(e.into()),
    }
}
