//! Form building blocks: labelled fields with help and error text wired up for screen readers.

use maud::{Markup, html};

/// One input field.
#[derive(Debug, Clone, Default)]
pub struct Field<'a> {
    /// Form field name (also the element id, prefixed `f-`).
    pub name: &'a str,
    /// Visible label.
    pub label: &'a str,
    /// Input type: text, email, password, …
    pub kind: &'a str,
    /// Current value (never set for passwords).
    pub value: &'a str,
    /// Help text under the label.
    pub help: Option<&'a str>,
    /// Error message for this field, if it was rejected.
    pub error: Option<&'a str>,
    /// The `autocomplete` hint.
    pub autocomplete: Option<&'a str>,
    /// Whether the field is required.
    pub required: bool,
    /// With htmx: where to POST the form when this field changes, to show its error inline.
    pub validate: Option<&'a str>,
    /// The id of a `<datalist>` of suggestions (searchable as the person types).
    pub list: Option<&'a str>,
}

impl<'a> Field<'a> {
    /// A required field.
    pub fn new(name: &'a str, label: &'a str, kind: &'a str) -> Self {
        Self { name, label, kind, required: true, ..Default::default() }
    }

    /// With a current value.
    pub fn value(mut self, value: &'a str) -> Self {
        self.value = value;
        self
    }

    /// With help text.
    pub fn help(mut self, help: &'a str) -> Self {
        self.help = Some(help);
        self
    }

    /// With an error (from a [`Errors`] lookup).
    pub fn error(mut self, error: Option<&'a str>) -> Self {
        self.error = error;
        self
    }

    /// With an autocomplete hint.
    pub fn autocomplete(mut self, hint: &'a str) -> Self {
        self.autocomplete = Some(hint);
        self
    }

    /// Checked as soon as it changes (htmx POSTs the form to `url`, which answers with the
    /// field's error text or nothing); without JavaScript, on submit as usual.
    pub fn validate(mut self, url: &'a str) -> Self {
        self.validate = Some(url);
        self
    }

    /// With suggestions from the `<datalist>` whose id is `list`.
    pub fn list(mut self, list: &'a str) -> Self {
        self.list = Some(list);
        self
    }

    /// Not required.
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// Field errors from the server, by field name.
pub type Errors = [(String, String)];

/// The message for `field`, if any.
pub fn error_for<'a>(errors: &'a Errors, field: &str) -> Option<&'a str> {
    errors.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
}

/// Renders a [`Field`]: label, help, input, error, with `aria-describedby` and `aria-invalid`.
pub fn field(f: &Field<'_>) -> Markup {
    let id = format!("f-{}", f.name);
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-error");
    // An inline-validated field keeps an (empty) error slot for htmx to fill.
    let has_error_slot = f.error.is_some() || f.validate.is_some();
    let described: Vec<&str> =
        [f.help.map(|_| help_id.as_str()), has_error_slot.then_some(error_id.as_str())]
            .into_iter()
            .flatten()
            .collect();
    let target = format!("#{error_id}");
    html! {
        div.field {
            label for=(id) { (f.label) }
            @if let Some(help) = f.help { p.help id=(help_id) { (help) } }
            input id=(id) name=(f.name) type=(f.kind)
                value=[(f.kind != "password").then_some(f.value)]
                required[f.required]
                autocomplete=[f.autocomplete]
                list=[f.list]
                aria-invalid=[f.error.map(|_| "true")]
                aria-describedby=[(!described.is_empty()).then(|| described.join(" "))]
                hx-post=[f.validate]
                hx-trigger=[f.validate.map(|_| "change")]
                hx-target=[f.validate.map(|_| target.as_str())]
                hx-swap=[f.validate.map(|_| "innerHTML")]
                hx-sync=[f.validate.map(|_| "closest form:abort")];
            @if has_error_slot {
                p.error-text id=(error_id) aria-live="polite" { @if let Some(error) = f.error { (error) } }
            }
        }
    }
}

/// The visible label of a form field, for the error summary ("Ends: enter a date and time").
fn label_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "name" => "Name",
        "description" => "Description",
        "start" => "Starts",
        "end" => "Ends",
        "timezone" => "Time zone",
        "location" => "Location",
        "online_url" => "Online link",
        "visibility" => "Visibility",
        "custom_reminders" => "Other reminders",
        "status" => "Status",
        "email" => "Email",
        "password" => "Password",
        "display_name" => "Name",
        "quiet_start" => "Quiet hours, from",
        "quiet_end" => "Quiet hours, until",
        "digest_at" => "Daily digest",
        "slug" => "Web address",
        "urls" => "Where to send",
        "role" => "Role",
        "tags" => "Tags",
        "code" => "Code",
        _ => return None,
    })
}

/// A summary of the errors at the top of a rejected form, linking to each field, each line
/// starting with the field's label.
pub fn error_summary(errors: &Errors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.flash.flash-error role="alert" tabindex="-1" {
                div.flash-body {
                    p { strong { "Please fix the following:" } }
                    ul {
                        @for (name, message) in errors {
                            li {
                                a href={ "#f-" (name) } {
                                    @if let Some(label) = label_of(name) { (label) ": " }
                                    (message)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
