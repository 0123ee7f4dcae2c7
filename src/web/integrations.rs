//! Notification channel pages: `/integrations` (list, default tags), adding a channel by pasting
//! Apprise URLs or through a guided form, and per channel: confirm, send a new code, send test,
//! enable/disable, rename, replace the URLs, delete. Every route is the owner's only: another
//! user's channel is a 404. The rules live in [`crate::integrations`].

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use herald_templates::FlashKind;
use herald_templates::integrations::{
    self as pages, Channel, DefaultsForm, GuidedField, ListPage, ServiceLink, Status, UrlInput, UrlRow,
};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{PageError, html, refusal_page};
use super::portal::Portal;
use super::{AppState, flash};
use crate::db::models::Integration;
use crate::domain::{FieldErrors, ServiceError};
use crate::integrations::{
    self as rules, Channels, Delivery, EntryInput, MAX_URLS, Service, redacted_entries, split_tags,
};
use crate::web::session::{CurrentUser, RequireUser};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(list_page).post(create_pasted))
        .route("/integrations/new", get(new_page))
        .route("/integrations/new/{service}", get(guided_page).post(create_guided))
        .route("/integrations/defaults", post(save_defaults))
        .route("/integrations/{id}", get(detail_page))
        .route("/integrations/{id}/edit", get(edit_page).post(replace_urls))
        .route("/integrations/{id}/rename", post(rename))
        .route("/integrations/{id}/enabled", post(set_enabled))
        .route("/integrations/{id}/confirm", post(confirm))
        .route("/integrations/{id}/code", post(resend_code))
        .route("/integrations/{id}/test", post(send_test))
        .route("/integrations/{id}/delete", get(delete_page).post(delete))
}

/// Rows shown on an empty add form.
const BLANK_ROWS: usize = 3;

/// A page that may show back what the user typed (URLs with secrets): never cached.
fn private_html(status: StatusCode, markup: herald_templates::Markup) -> Response {
    (status, [(header::VARY, "HX-Request"), (header::CACHE_CONTROL, "no-store")], Html(markup.into_string()))
        .into_response()
}

pub(crate) fn channels(state: &AppState) -> Channels<'_> {
    Channels { db: &state.db, keys: &state.keys, apprise: state.apprise.as_ref(), targets: state.targets }
}

/// The `?next=` of a page (or the `next` field of a form): where someone who came to set up a
/// channel from elsewhere goes back to once it is confirmed.
#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// A way back: a path on this site only (anything else is ignored), with its label ("Back to
/// Rust night" for an event the user may see).
#[derive(Debug, Clone)]
struct Back {
    href: String,
    label: String,
}

impl Back {
    fn as_return(back: Option<&Self>) -> pages::Return<'_> {
        back.map(|b| (b.href.as_str(), b.label.as_str()))
    }
}

async fn back_to(state: &AppState, user: &CurrentUser, next: Option<&str>) -> Option<Back> {
    let raw = next.map(str::trim).filter(|n| !n.is_empty())?;
    let href = super::safe_location(raw);
    if href == "/" && raw != "/" {
        return None;
    }
    // An event page: `/o/{org}/e/{event}` (with `#rsvp` or a query, perhaps).
    let path = href.split(['#', '?']).next().unwrap_or_default();
    let event_name = match path.strip_prefix("/o/").and_then(|p| p.split_once("/e/")) {
        Some((org, slug)) if !org.contains('/') && !slug.is_empty() && !slug.contains('/') => {
            crate::participants::view_by_slug(&state.db, org, slug, Some(user.user.id))
                .await
                .ok()
                .map(|v| v.event.name)
        }
        _ => None,
    };
    let label = event_name.map_or_else(|| "Go back".to_owned(), |name| format!("Back to {name}"));
    Some(Back { href, label })
}

/// `path?next=…` when there is a way back.
fn with_next(path: &str, back: Option<&Back>) -> String {
    match back {
        Some(b) => {
            let next: String = url::form_urlencoded::byte_serialize(b.href.as_bytes()).collect();
            format!("{path}?next={next}")
        }
        None => path.to_owned(),
    }
}

fn parse_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| PageError::NotFound)
}

/// The channel as the templates show it: redacted URLs only.
fn view(state: &AppState, i: &Integration) -> Channel {
    let status = match rules::status_of(i) {
        "disabled" => Status::Disabled,
        "awaiting_confirmation" => Status::Awaiting,
        _ => Status::Active,
    };
    Channel {
        id: i.id.to_string(),
        name: i.name.clone(),
        status,
        confirmed: i.verified_at.is_some(),
        urls: redacted_entries(&state.keys, i)
            .into_iter()
            .map(|(redacted, tags)| UrlRow { redacted, tags })
            .collect(),
        built_in: i.is_email(),
    }
}

/// A page error for what cannot be shown as a form error.
fn refusal(portal: &Portal, e: ServiceError) -> Response {
    refusal_page(&portal.shell, e, Some(("/integrations", "Back to your channels")))
}

/// The path to go back to after an action: the referring channel page (with its way back,
/// `?next=`) or the list.
fn back(headers: &HeaderMap, id: Uuid) -> String {
    let detail = format!("/integrations/{id}");
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| u.path() == detail || u.path() == "/integrations")
        .map(|u| {
            let next = u.query_pairs().find(|(k, _)| k == "next").map(|(_, v)| v.into_owned());
            let path = u.path().to_owned();
            match next {
                Some(n) if path == detail && super::safe_location(&n) == n => {
                    let n: String = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
                    format!("{path}?next={n}")
                }
                _ => path,
            }
        })
        .unwrap_or(detail)
}

fn flash_kind(d: &Delivery) -> FlashKind {
    match d {
        Delivery::LogOnly => FlashKind::Info,
        d if d.delivered() => FlashKind::Success,
        d if d.reached_someone() => FlashKind::Warning,
        _ => FlashKind::Error,
    }
}

// --- The list and the default tags ---

async fn list_markup(
    state: &AppState,
    portal: &Portal,
    user: &CurrentUser,
    defaults: Option<DefaultsForm>,
    code_error: Option<(&str, &str)>,
    errors: &FieldErrors,
) -> Result<herald_templates::Markup, PageError> {
    let ch = channels(state);
    let rows = state.db.integrations_of(user.user.id).await?;
    let known: Vec<String> = rows
        .iter()
        .flat_map(|i| i.tags.0.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let views: Vec<Channel> = rows.iter().map(|i| view(state, i)).collect();
    let defaults = match defaults {
        Some(d) => d,
        None => {
            let (reminder, urgent) = ch.defaults(&user.user).await.map_err(channel_to_page)?;
            DefaultsForm { reminder: reminder.join(", "), urgent: urgent.join(", ") }
        }
    };
    let page =
        ListPage { may_add: user.verified(), channels: &views, known_tags: &known, defaults, code_error };
    Ok(pages::list(&portal.shell, &page, &errors.0))
}

fn channel_to_page(e: ServiceError) -> PageError {
    match e {
        ServiceError::NotFound => PageError::NotFound,
        other => PageError::Internal(anyhow::anyhow!("{other}")),
    }
}

async fn list_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
) -> Result<Response, PageError> {
    Ok(html(StatusCode::OK, list_markup(&state, &portal, &user, None, None, &FieldErrors::default()).await?))
}

#[derive(Debug, Deserialize)]
struct DefaultsInput {
    #[serde(default)]
    reminder_tags: String,
    #[serde(default)]
    urgent_tags: String,
}

async fn save_defaults(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Form(input): Form<DefaultsInput>,
) -> Result<Response, PageError> {
    let reminder = split_tags(&input.reminder_tags);
    let urgent = split_tags(&input.urgent_tags);
    match channels(&state).set_defaults(&user.user, &reminder, &urgent).await {
        Ok(_) => {
            Ok(flash::redirect(&state, "/integrations", FlashKind::Success, "Your default tags are saved."))
        }
        Err(ServiceError::Invalid(errors)) => {
            // `reminder_tags[1]` → the `reminder_tags` field.
            let errors = FieldErrors(
                errors
                    .0
                    .into_iter()
                    .map(|(f, m)| (f.split('[').next().unwrap_or(&f).to_owned(), m))
                    .collect(),
            );
            let form = DefaultsForm { reminder: input.reminder_tags, urgent: input.urgent_tags };
            let markup = list_markup(&state, &portal, &user, Some(form), None, &errors).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, markup))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

// --- Adding a channel ---

fn service_links() -> Vec<ServiceLink> {
    Service::ALL
        .into_iter()
        .map(|s| ServiceLink { slug: s.slug(), label: s.label(), summary: s.summary() })
        .collect()
}

fn blank_rows(n: usize) -> Vec<UrlInput> {
    vec![UrlInput::default(); n.clamp(1, MAX_URLS)]
}

async fn new_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Query(q): Query<NextQuery>,
) -> Response {
    if let Err(e) = rules::check_may_add(&user.user) {
        return refusal(&portal, e);
    }
    let back = back_to(&state, &user, q.next.as_deref()).await;
    html(
        StatusCode::OK,
        pages::new_paste(
            &portal.shell,
            "",
            &blank_rows(BLANK_ROWS),
            &service_links(),
            &[],
            Back::as_return(back.as_ref()),
        ),
    )
}

/// The paste form as submitted: name, rows of (URL, tags), whether a row was asked for, and
/// the way back.
struct PasteForm {
    name: String,
    rows: Vec<UrlInput>,
    add_row: bool,
    next: Option<String>,
}

impl PasteForm {
    fn read(fields: Vec<(String, String)>) -> Self {
        let mut name = String::new();
        let mut next = None;
        let mut add_row = false;
        let mut rows: Vec<UrlInput> = Vec::new();
        for (k, v) in fields {
            let slot = |rows: &mut Vec<UrlInput>, i: usize| -> Option<usize> {
                (i < MAX_URLS * 2).then(|| {
                    if rows.len() <= i {
                        rows.resize(i + 1, UrlInput::default());
                    }
                    i
                })
            };
            if k == "name" {
                name = v;
            } else if k == "next" {
                next = Some(v);
            } else if k == "add_row" {
                add_row = true;
            } else if let Some(i) = k.strip_prefix("url_").and_then(|i| i.parse::<usize>().ok()) {
                if let Some(i) = slot(&mut rows, i) {
                    rows[i].url = v;
                }
            } else if let Some(i) = k.strip_prefix("tags_").and_then(|i| i.parse::<usize>().ok())
                && let Some(i) = slot(&mut rows, i)
            {
                rows[i].tags = v;
            }
        }
        Self { name, rows, add_row, next }
    }

    /// The filled-in rows as entries, with the form row each came from.
    fn entries(&self) -> (Vec<EntryInput>, Vec<usize>) {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.url.trim().is_empty() || !r.tags.trim().is_empty())
            .map(|(i, r)| (EntryInput { url: r.url.clone(), tags: split_tags(&r.tags) }, i))
            .unzip()
    }
}

/// Moves errors named after entries (`urls[k].url`, `urls[k].tags[j]`) to the form's fields
/// (`url_{row}`, `tags_{row}`), renumbering "URL k" as the row the user sees.
fn errors_to_rows(errors: FieldErrors, rows: &[usize]) -> FieldErrors {
    FieldErrors(
        errors
            .0
            .into_iter()
            .map(|(field, message)| {
                let Some(rest) = field.strip_prefix("urls[") else { return (field, message) };
                let Some((k, tail)) = rest.split_once(']') else { return (field, message) };
                let Some(&row) = k.parse::<usize>().ok().and_then(|k| rows.get(k)) else {
                    return (field, message);
                };
                let k: usize = k.parse().unwrap_or(0);
                let message = match message.strip_prefix(&format!("URL {}", k + 1)) {
                    Some(m) => format!("URL {}{m}", row + 1),
                    None => message,
                };
                let name =
                    if tail.starts_with(".url") { format!("url_{row}") } else { format!("tags_{row}") };
                (name, message)
            })
            .collect(),
    )
}

/// After a channel was saved: to its page (keeping the way back), saying what happened to the
/// push and the code.
fn saved_redirect(state: &AppState, saved: &rules::Saved, back: Option<&Back>) -> Response {
    let kind = match (&saved.pushed, &saved.code) {
        (rules::Pushed::Later(_), _) => FlashKind::Warning,
        (_, d) => flash_kind(d),
    };
    let to = with_next(&format!("/integrations/{}", saved.integration.id), back);
    flash::redirect(state, &to, kind, &saved.describe())
}

async fn create_pasted(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut form = PasteForm::read(fields);
    let back = back_to(&state, &user, form.next.as_deref()).await;
    let render = |form: &PasteForm, status: StatusCode, errors: &FieldErrors| {
        private_html(
            status,
            pages::new_paste(
                &portal.shell,
                &form.name,
                &form.rows,
                &service_links(),
                &errors.0,
                Back::as_return(back.as_ref()),
            ),
        )
    };
    if form.add_row {
        if form.rows.len() < MAX_URLS {
            form.rows.push(UrlInput::default());
        }
        return Ok(render(&form, StatusCode::OK, &FieldErrors::default()));
    }
    let (entries, rows) = form.entries();
    match channels(&state).create(&user.user, &form.name, &entries).await {
        Ok(saved) => Ok(saved_redirect(&state, &saved, back.as_ref())),
        Err(ServiceError::Invalid(errors)) => {
            if form.rows.is_empty() {
                form.rows = blank_rows(BLANK_ROWS);
            }
            Ok(render(&form, StatusCode::UNPROCESSABLE_ENTITY, &errors_to_rows(errors, &rows)))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

fn guided_fields(service: Service, values: &HashMap<String, String>) -> Vec<GuidedField> {
    service
        .fields()
        .iter()
        .map(|f| GuidedField {
            name: f.name,
            label: f.label,
            kind: f.kind,
            help: f.help,
            required: f.required,
            value: if f.kind == "password" {
                String::new()
            } else {
                values.get(f.name).cloned().unwrap_or_default()
            },
        })
        .collect()
}

fn link(service: Service) -> ServiceLink {
    ServiceLink { slug: service.slug(), label: service.label(), summary: service.summary() }
}

async fn guided_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(slug): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let service = Service::from_slug(&slug).ok_or(PageError::NotFound)?;
    if let Err(e) = rules::check_may_add(&user.user) {
        return Ok(refusal(&portal, e));
    }
    let fields = guided_fields(service, &HashMap::new());
    let back = back_to(&state, &user, q.next.as_deref()).await;
    Ok(html(
        StatusCode::OK,
        pages::new_guided(
            &portal.shell,
            &link(service),
            "",
            "",
            &fields,
            &[],
            Back::as_return(back.as_ref()),
        ),
    ))
}

async fn create_guided(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(slug): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let service = Service::from_slug(&slug).ok_or(PageError::NotFound)?;
    if let Err(e) = rules::check_may_add(&user.user) {
        return Ok(refusal(&portal, e));
    }
    let name = values.get("name").cloned().unwrap_or_default();
    let tags = values.get("tags").cloned().unwrap_or_default();
    let back = back_to(&state, &user, values.get("next").map(String::as_str)).await;
    let render = |errors: &FieldErrors| {
        private_html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::new_guided(
                &portal.shell,
                &link(service),
                &name,
                &tags,
                &guided_fields(service, &values),
                &errors.0,
                Back::as_return(back.as_ref()),
            ),
        )
    };
    let url = match service.build(&values) {
        Ok(url) => url,
        Err(mut errors) => {
            // Say what else is wrong at once: the name too.
            if let Err(m) = crate::domain::Name::parse(&name) {
                errors.0.insert(0, ("name".into(), m));
            }
            return Ok(render(&errors));
        }
    };
    let entry = EntryInput { url, tags: split_tags(&tags) };
    match channels(&state).create(&user.user, &name, &[entry]).await {
        Ok(saved) => Ok(saved_redirect(&state, &saved, back.as_ref())),
        Err(ServiceError::Invalid(errors)) => {
            let first = service.fields().first().map_or("name", |f| f.name);
            let errors = FieldErrors(
                errors
                    .0
                    .into_iter()
                    .map(|(f, m)| {
                        let m = m.strip_prefix("URL 1: ").map(str::to_owned).unwrap_or(m);
                        match f.as_str() {
                            "name" => (f, m),
                            f if f.contains(".tags") => ("tags".to_owned(), m),
                            _ => (first.to_owned(), m),
                        }
                    })
                    .collect(),
            );
            Ok(render(&errors))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

// --- One channel ---

async fn detail_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(id): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let integration = channels(&state).get(&user.user, id).await.map_err(channel_to_page)?;
    let back = back_to(&state, &user, q.next.as_deref()).await;
    Ok(html(
        StatusCode::OK,
        pages::detail(&portal.shell, &view(&state, &integration), None, Back::as_return(back.as_ref())),
    ))
}

#[derive(Debug, Deserialize)]
struct CodeInput {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: Option<String>,
}

async fn confirm(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(id): Path<String>,
    Form(input): Form<CodeInput>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let back = back_to(&state, &user, input.next.as_deref()).await;
    match channels(&state).confirm(&user.user, id, &input.code).await {
        // Back where they came from (an event's page), or to the channel.
        Ok(i) => Ok(flash::redirect(
            &state,
            &back.as_ref().map_or_else(|| format!("/integrations/{id}"), |b| b.href.clone()),
            FlashKind::Success,
            &format!("“{}” is confirmed and active: Herald sends your notifications through it.", i.name),
        )),
        Err(ServiceError::Invalid(errors)) => {
            let integration = channels(&state).get(&user.user, id).await.map_err(channel_to_page)?;
            let message = errors.0.first().map(|(_, m)| m.clone()).unwrap_or_default();
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::detail(
                    &portal.shell,
                    &view(&state, &integration),
                    Some(&message),
                    Back::as_return(back.as_ref()),
                ),
            ))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

async fn resend_code(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let to = back(&headers, id);
    match channels(&state).resend_code(&user.user, id).await {
        Ok((i, delivery)) => {
            let message = match &delivery {
                Delivery::LogOnly => {
                    "Herald runs in log-only mode: the new code was written to Herald's log.".to_owned()
                }
                d if d.reached_someone() => format!(
                    "We sent a new code through “{}”; earlier codes no longer work. {}",
                    i.name,
                    if d.delivered() { String::new() } else { d.describe("The code") }
                ),
                d => d.describe("The new code"),
            };
            Ok(flash::redirect(&state, &to, flash_kind(&delivery), message.trim()))
        }
        Err(ServiceError::Invalid(errors)) => {
            let message = errors.0.first().map(|(_, m)| m.clone()).unwrap_or_default();
            Ok(flash::redirect(&state, &to, FlashKind::Warning, &message))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

async fn send_test(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let to = back(&headers, id);
    match channels(&state).test(&user.user, id).await {
        Ok((_, delivery)) => {
            Ok(flash::redirect(&state, &to, flash_kind(&delivery), &delivery.describe("The test message")))
        }
        Err(ServiceError::Forbidden(why)) => Ok(flash::redirect(&state, &to, FlashKind::Warning, &why)),
        Err(e) => Ok(refusal(&portal, e)),
    }
}

#[derive(Debug, Deserialize)]
struct EnabledInput {
    #[serde(default)]
    enabled: String,
}

async fn set_enabled(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(input): Form<EnabledInput>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let enabled = matches!(input.enabled.as_str(), "true" | "on" | "1" | "yes");
    match channels(&state).set_enabled(&user.user, id, enabled).await {
        Ok(i) => {
            let message = if enabled {
                format!("“{}” is enabled.", i.name)
            } else {
                format!("“{}” is disabled: it receives nothing until you enable it again.", i.name)
            };
            Ok(flash::redirect(&state, &back(&headers, id), FlashKind::Success, &message))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

async fn edit_markup(
    state: &AppState,
    portal: &Portal,
    user: &CurrentUser,
    id: Uuid,
    name: Option<&str>,
    rows: Option<&[UrlInput]>,
    errors: &FieldErrors,
) -> Result<herald_templates::Markup, PageError> {
    let integration = channels(state).get(&user.user, id).await.map_err(channel_to_page)?;
    let channel = view(state, &integration);
    let blank = blank_rows(channel.urls.len() + 1);
    Ok(pages::edit(
        &portal.shell,
        &channel,
        name.unwrap_or(&integration.name),
        rows.unwrap_or(&blank),
        &errors.0,
    ))
}

async fn edit_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    Ok(html(
        StatusCode::OK,
        edit_markup(&state, &portal, &user, id, None, None, &FieldErrors::default()).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct RenameInput {
    #[serde(default)]
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(id): Path<String>,
    Form(input): Form<RenameInput>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    match channels(&state).rename(&user.user, id, &input.name).await {
        Ok(i) => Ok(flash::redirect(
            &state,
            &format!("/integrations/{id}"),
            FlashKind::Success,
            &format!("The channel is now called “{}”.", i.name),
        )),
        Err(ServiceError::Invalid(errors)) => {
            let markup = edit_markup(&state, &portal, &user, id, Some(&input.name), None, &errors).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, markup))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

async fn replace_urls(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let mut form = PasteForm::read(fields);
    if form.add_row {
        if form.rows.len() < MAX_URLS {
            form.rows.push(UrlInput::default());
        }
        let markup =
            edit_markup(&state, &portal, &user, id, None, Some(&form.rows), &FieldErrors::default()).await?;
        return Ok(private_html(StatusCode::OK, markup));
    }
    let (entries, rows) = form.entries();
    match channels(&state).replace_urls(&user.user, id, &entries).await {
        Ok(saved) => Ok(saved_redirect(&state, &saved, None)),
        Err(ServiceError::Invalid(errors)) => {
            if form.rows.is_empty() {
                form.rows = blank_rows(2);
            }
            let errors = errors_to_rows(errors, &rows);
            let markup = edit_markup(&state, &portal, &user, id, None, Some(&form.rows), &errors).await?;
            Ok(private_html(StatusCode::UNPROCESSABLE_ENTITY, markup))
        }
        Err(e) => Ok(refusal(&portal, e)),
    }
}

async fn delete_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let integration = channels(&state).get(&user.user, id).await.map_err(channel_to_page)?;
    Ok(html(StatusCode::OK, pages::confirm_delete(&portal.shell, &view(&state, &integration))))
}

#[derive(Debug, Deserialize)]
struct DeleteInput {
    #[serde(default)]
    confirm: String,
}

async fn delete(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
    Path(id): Path<String>,
    Form(input): Form<DeleteInput>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let ch = channels(&state);
    // Look first, so another user's channel is a 404 whatever the form says.
    ch.get(&user.user, id).await.map_err(channel_to_page)?;
    if input.confirm != "yes" {
        return Ok(flash::redirect(
            &state,
            &format!("/integrations/{id}/delete"),
            FlashKind::Info,
            "Use the “Delete the channel” button to confirm.",
        ));
    }
    match ch.delete(&user.user, id).await {
        Ok(i) => Ok(flash::redirect(
            &state,
            "/integrations",
            FlashKind::Success,
            &format!("The channel “{}” is deleted; Herald no longer sends through it.", i.name),
        )),
        Err(ServiceError::Unavailable(why)) => Ok(flash::redirect(
            &state,
            &format!("/integrations/{id}"),
            FlashKind::Error,
            &format!(
                "Nothing was deleted: Herald could not remove the channel from the Apprise API ({why}). \
                 Try again once it is back."
            ),
        )),
        Err(e) => Ok(refusal(&portal, e)),
    }
}
