//! Pages of the rules per audience ([`crate::rules`]): an organization's defaults for new events
//! (`/orgs/{slug}/event-defaults`), a user's preferred reminder times (`/account/reminders`)
//! and a participant's choice among the reminders an event offers them (posted from the event
//! page to `/o/{org}/e/{event}/reminders`).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use herald_templates::FlashKind;
use herald_templates::rules as pages;
use serde::Deserialize;

use super::error::{PageError, html, refusal_page};
use super::membership::Membership;
use super::portal::Portal;
use super::{AppState, flash};
use crate::db::rules::EventDefaults;
use crate::domain::{FieldErrors, ServiceError};
use crate::rules::{self, RawDefaults};
use crate::web::session::RequireUser;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/event-defaults", get(defaults_page).post(save_defaults))
        .route("/account/reminders", get(times_page).post(save_times))
        .route("/o/{org}/e/{event}/reminders", post(choose))
}

/// Offsets as the forms write them: `1d, 1h`.
fn texts(offsets: &[i64]) -> String {
    offsets.iter().map(|o| rules::short_offset(*o)).collect::<Vec<_>>().join(", ")
}

fn role_fields(role_reminders: &BTreeMap<String, Vec<i64>>) -> Vec<(String, String, String)> {
    rules::ROLES
        .iter()
        .map(|r| {
            (
                format!("remind_{}", r.as_str()),
                rules::role_plural(*r).to_owned(),
                rules::role_text(role_reminders, *r),
            )
        })
        .collect()
}

fn defaults_form(d: &EventDefaults) -> pages::DefaultsForm {
    pages::DefaultsForm {
        reminders: texts(&d.reminder_offsets.0),
        roles: role_fields(&d.role_reminders.0),
        follow_up_after: d.follow_up_after.map(rules::short_offset).unwrap_or_default(),
        follow_up_link: d.follow_up_link.clone().unwrap_or_default(),
    }
}

fn forbid(m: &Membership) -> Option<Response> {
    (!m.header.manages_events).then(|| {
        refusal_page(
            &m.portal.shell,
            ServiceError::Forbidden("Only owners, admins and organizers set defaults for events.".into()),
            None,
        )
    })
}

async fn defaults_page(State(state): State<AppState>, m: Membership) -> Response {
    if let Some(r) = forbid(&m) {
        return r;
    }
    let d = match rules::defaults(&state.db, m.access.org.id).await {
        Ok(d) => d,
        Err(e) => return refusal_page(&m.portal.shell, e, None),
    };
    html(StatusCode::OK, pages::event_defaults(&m.portal.shell, &m.header, &defaults_form(&d), &[], false))
}

#[derive(Debug, Default, Deserialize)]
struct DefaultsInput {
    #[serde(default)]
    reminders: String,
    #[serde(default)]
    remind_speaker: String,
    #[serde(default)]
    remind_volunteer: String,
    #[serde(default)]
    remind_attendee: String,
    #[serde(default)]
    remind_organizer: String,
    #[serde(default)]
    follow_up_after: String,
    #[serde(default)]
    follow_up_link: String,
}

impl DefaultsInput {
    fn form(&self) -> pages::DefaultsForm {
        pages::DefaultsForm {
            reminders: self.reminders.clone(),
            roles: self
                .role_texts()
                .into_iter()
                .map(|(role, text)| {
                    let label = rules::ROLES
                        .iter()
                        .find(|r| r.as_str() == role)
                        .map_or("", |r| rules::role_plural(*r))
                        .to_owned();
                    (format!("remind_{role}"), label, text)
                })
                .collect(),
            follow_up_after: self.follow_up_after.clone(),
            follow_up_link: self.follow_up_link.clone(),
        }
    }

    fn role_texts(&self) -> Vec<(String, String)> {
        [
            ("speaker", &self.remind_speaker),
            ("volunteer", &self.remind_volunteer),
            ("attendee", &self.remind_attendee),
            ("organizer", &self.remind_organizer),
        ]
        .into_iter()
        .map(|(r, t)| (r.to_owned(), t.clone()))
        .collect()
    }

    /// The texts read into the API's shape; problems under the form's field names.
    fn raw(&self) -> Result<RawDefaults, FieldErrors> {
        let mut errors = FieldErrors::default();
        let reminder_offsets = errors.check("reminders", crate::events::parse_offsets(&self.reminders));
        let mut role_reminders = BTreeMap::new();
        for (role, text) in self.role_texts() {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if text.eq_ignore_ascii_case("none") {
                role_reminders.insert(role, Vec::new());
            } else if let Some(o) =
                errors.check(&format!("remind_{role}"), crate::events::parse_offsets(text))
            {
                role_reminders.insert(role, o);
            }
        }
        let after = match self.follow_up_after.trim() {
            "" => Some(None),
            text => match crate::events::parse_offsets(text) {
                Ok(list) if list.len() == 1 => Some(list.first().copied()),
                Ok(_) => {
                    errors.add("follow_up_after", "Write one delay, like 2h or 1d.");
                    None
                }
                Err(m) => {
                    errors.add("follow_up_after", m);
                    None
                }
            },
        };
        match (reminder_offsets, after) {
            (Some(reminder_offsets), Some(follow_up_after)) if errors.is_empty() => Ok(RawDefaults {
                reminder_offsets,
                role_reminders,
                follow_up_after,
                follow_up_link: self.follow_up_link.clone(),
            }),
            _ => Err(errors),
        }
    }
}

/// The API's field names of a defaults problem, as the form names them.
fn form_field(api: &str) -> String {
    match api {
        "reminder_offsets" => "reminders".to_owned(),
        "follow_up.after" => "follow_up_after".to_owned(),
        "follow_up.link" => "follow_up_link".to_owned(),
        other => {
            other.strip_prefix("role_reminders.").map_or_else(|| other.to_owned(), |r| format!("remind_{r}"))
        }
    }
}

async fn save_defaults(
    State(state): State<AppState>,
    m: Membership,
    Form(input): Form<DefaultsInput>,
) -> Response {
    if let Some(r) = forbid(&m) {
        return r;
    }
    let refused = |errors: Vec<(String, String)>| {
        html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::event_defaults(&m.portal.shell, &m.header, &input.form(), &errors, false),
        )
    };
    let raw = match input.raw() {
        Ok(r) => r,
        Err(errors) => return refused(errors.0),
    };
    match rules::save_defaults(&state, &m.access, &raw).await {
        Ok(d) => html(
            StatusCode::OK,
            pages::event_defaults(&m.portal.shell, &m.header, &defaults_form(&d), &[], true),
        ),
        Err(ServiceError::Invalid(errors)) => {
            refused(errors.0.into_iter().map(|(f, msg)| (form_field(&f), msg)).collect())
        }
        Err(e) => refusal_page(&m.portal.shell, e, None),
    }
}

async fn times_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
) -> Result<Response, PageError> {
    let d = rules::default_times(&state.db, user.user.id).await?;
    let times = d.preferred.map(|o| texts(&o)).unwrap_or_default();
    Ok(html(StatusCode::OK, pages::reminder_times(&portal.shell, &times, &texts(&d.own), &[], false)))
}

#[derive(Debug, Default, Deserialize)]
struct TimesInput {
    #[serde(default)]
    times: String,
    #[serde(default)]
    own: String,
}

/// Times as typed in a form (`2h, 30m`): `Ok(None)` when empty or `none`.
fn typed_times(text: &str) -> Result<Option<Vec<i64>>, String> {
    match text.trim() {
        "" => Ok(None),
        t if t.eq_ignore_ascii_case("none") => Ok(Some(Vec::new())),
        t => crate::events::parse_offsets(t).map(Some),
    }
}

async fn save_times(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Form(input): Form<TimesInput>,
) -> Result<Response, PageError> {
    let refused = |errors: Vec<(String, String)>| {
        html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::reminder_times(&portal.shell, &input.times, &input.own, &errors, false),
        )
    };
    let mut errors = Vec::new();
    let offsets = match typed_times(&input.times) {
        Ok(o) => o.filter(|l| !l.is_empty()),
        Err(m) => {
            errors.push(("times".to_owned(), m));
            None
        }
    };
    let own = match typed_times(&input.own) {
        Ok(o) => Some(o.filter(|l| !l.is_empty())),
        Err(m) => {
            errors.push(("own".to_owned(), m));
            None
        }
    };
    if !errors.is_empty() {
        return Ok(refused(errors));
    }
    match rules::set_default(&state.db, user.user.id, offsets, own).await {
        Ok(saved) => {
            let times = saved.preferred.map(|o| texts(&o)).unwrap_or_default();
            Ok(html(
                StatusCode::OK,
                pages::reminder_times(&portal.shell, &times, &texts(&saved.own), &[], true),
            ))
        }
        Err(ServiceError::Invalid(errors)) => Ok(refused(
            errors.0.into_iter().map(|(f, m)| (if f == "own" { f } else { "times".to_owned() }, m)).collect(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The participant keeps some of the reminders offered (`choice=these` with `keep` values), or
/// goes back to all of them (`choice=all`); back to the event page with a message.
async fn choose(
    State(state): State<AppState>,
    portal: Portal,
    Path((org, slug)): Path<(String, String)>,
    Form(input): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let page = format!("/o/{org}/e/{slug}");
    let Some(user) = portal.user.clone() else {
        return Ok(flash::redirect(&state, &page, FlashKind::Error, "Sign in to choose your reminders."));
    };
    let view = crate::participants::view_by_slug(&state.db, &org, &slug, Some(user.user.id)).await?;
    let all = input.iter().any(|(k, v)| k == "choice" && v == "all");
    let chosen = if all {
        None
    } else {
        let mut keep = Vec::new();
        for (k, v) in &input {
            if k == "keep" {
                match v.parse::<i64>() {
                    Ok(o) => keep.push(o),
                    Err(_) => {
                        return Ok(flash::redirect(
                            &state,
                            &format!("{page}#reminders"),
                            FlashKind::Error,
                            "Choose among the reminders offered.",
                        ));
                    }
                }
            }
        }
        Some(keep)
    };
    // Own times: empty for the usual ones, `none` for none here, else the times typed.
    let own = match input.iter().find(|(k, _)| k == "own").map(|(_, v)| typed_times(v)) {
        None => None,
        Some(Ok(times)) => Some(times),
        Some(Err(m)) => {
            return Ok(flash::redirect(&state, &format!("{page}#reminders"), FlashKind::Error, &m));
        }
    };
    match rules::choose(&state.db, &view, chosen, own).await {
        Ok(c) => {
            let words = if c.effective.is_empty() {
                "You will get no reminders for this event.".to_owned()
            } else {
                format!("You will be reminded {}.", rules::offsets_in_words(&c.effective))
            };
            Ok(flash::redirect(&state, &format!("{page}#reminders"), FlashKind::Success, &words))
        }
        Err(ServiceError::Invalid(errors)) => {
            let why = errors.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" ");
            Ok(flash::redirect(&state, &format!("{page}#reminders"), FlashKind::Error, &why))
        }
        Err(ServiceError::Conflict(why)) => {
            Ok(flash::redirect(&state, &format!("{page}#reminders"), FlashKind::Error, &why))
        }
        Err(e) => Err(e.into()),
    }
}
