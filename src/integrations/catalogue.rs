//! The catalogue of guided forms: common services ([`Service`]) whose Apprise URL Herald builds
//! from a few fields ([`ServiceField`]), with the checks on each field.

use std::collections::HashMap;

use crate::domain::FieldErrors;

/// A common service whose Apprise URL Herald builds from a few fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Email through an SMTP server (`mailtos://` / `mailto://`).
    Email,
    /// ntfy push notifications (`ntfys://host/topic`).
    Ntfy,
    /// A Telegram bot writing to a chat (`tgram://bot_token/chat_id`).
    Telegram,
    /// A Discord channel webhook (`discord://webhook_id/webhook_token`).
    Discord,
    /// A Slack incoming webhook (`slack://TokenA/TokenB/TokenC`).
    Slack,
    /// A Gotify server (`gotifys://host/token`).
    Gotify,
    /// Any HTTP endpoint receiving JSON (`jsons://host/path`).
    Webhook,
}

/// One input of a guided form.
#[derive(Debug, Clone, Copy)]
pub struct ServiceField {
    /// Form field name.
    pub name: &'static str,
    /// Visible label.
    pub label: &'static str,
    /// Input type (`text`, `password`, `email`, `url`).
    pub kind: &'static str,
    /// Help under the label.
    pub help: &'static str,
    /// Whether it must be filled in.
    pub required: bool,
}

const fn field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    help: &'static str,
    required: bool,
) -> ServiceField {
    ServiceField { name, label, kind, help, required }
}

impl Service {
    /// Every guided service, in the order offered.
    pub const ALL: [Self; 7] =
        [Self::Email, Self::Ntfy, Self::Telegram, Self::Discord, Self::Slack, Self::Gotify, Self::Webhook];

    /// The path segment (`/integrations/new/{slug}`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Ntfy => "ntfy",
            Self::Telegram => "telegram",
            Self::Discord => "discord",
            Self::Slack => "slack",
            Self::Gotify => "gotify",
            Self::Webhook => "webhook",
        }
    }

    /// The service named by `slug`.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// Its name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Ntfy => "ntfy",
            Self::Telegram => "Telegram",
            Self::Discord => "Discord",
            Self::Slack => "Slack",
            Self::Gotify => "Gotify",
            Self::Webhook => "Webhook (JSON)",
        }
    }

    /// One sentence on what it is and what to have at hand.
    pub fn summary(self) -> &'static str {
        match self {
            Self::Email => {
                "Mail through your own SMTP server or mail provider: have its server name, your login and an app password ready."
            }
            Self::Ntfy => {
                "Push notifications to the ntfy app on your phone, through ntfy.sh or your own ntfy server."
            }
            Self::Telegram => {
                "Messages from a Telegram bot you create with @BotFather, to you or to a group."
            }
            Self::Discord => {
                "Messages in a Discord channel, through a webhook made in the channel's settings."
            }
            Self::Slack => "Messages in a Slack channel, through an incoming webhook of a Slack app.",
            Self::Gotify => "Push notifications through your own Gotify server, with an application token.",
            Self::Webhook => "A JSON POST to any web address, for your own automation.",
        }
    }

    /// The form's fields.
    pub fn fields(self) -> &'static [ServiceField] {
        const EMAIL: &[ServiceField] = &[
            field("to", "Send to", "email", "The address that receives the notifications.", true),
            field(
                "smtp_host",
                "SMTP server",
                "text",
                "Your provider's outgoing mail server, like smtp.example.org.",
                true,
            ),
            field(
                "port",
                "Port",
                "text",
                "Leave empty for the usual port (465 with TLS, 25 without).",
                false,
            ),
            field("username", "Login", "text", "Usually your full email address.", true),
            field(
                "password",
                "Password",
                "password",
                "An app password if your provider offers them. Herald stores it encrypted and never shows it again.",
                true,
            ),
            field("from", "Send from", "email", "Leave empty to send from the login address.", false),
        ];
        const NTFY: &[ServiceField] = &[
            field(
                "topic",
                "Topic",
                "text",
                "The topic you subscribed to in the ntfy app: letters, digits, “_” and “-”. Anyone who knows a topic on ntfy.sh can read it, so pick something hard to guess.",
                true,
            ),
            field(
                "server",
                "Server",
                "text",
                "Leave empty for ntfy.sh, or enter your own server, like ntfy.example.org.",
                false,
            ),
            field(
                "token",
                "Access token",
                "password",
                "Only for protected topics: an access token starting with tk_.",
                false,
            ),
        ];
        const TELEGRAM: &[ServiceField] = &[
            field(
                "bot_token",
                "Bot token",
                "password",
                "The token @BotFather gave you, like 123456789:AAH…",
                true,
            ),
            field(
                "chat_id",
                "Chat ID",
                "text",
                "Your chat or group ID (a number; groups start with -). Send /start to your bot first.",
                true,
            ),
        ];
        const DISCORD: &[ServiceField] = &[field(
            "webhook_url",
            "Webhook URL",
            "url",
            "In Discord: channel settings → Integrations → Webhooks → Copy webhook URL. It starts with https://discord.com/api/webhooks/.",
            true,
        )];
        const SLACK: &[ServiceField] = &[field(
            "webhook_url",
            "Webhook URL",
            "url",
            "From your Slack app's Incoming Webhooks page. It starts with https://hooks.slack.com/services/.",
            true,
        )];
        const GOTIFY: &[ServiceField] = &[
            field(
                "server",
                "Server",
                "text",
                "Your Gotify server, like gotify.example.org (https is used unless you write http://).",
                true,
            ),
            field(
                "token",
                "Application token",
                "password",
                "In Gotify: Apps → create an application → its token.",
                true,
            ),
        ];
        const WEBHOOK: &[ServiceField] = &[field(
            "url",
            "Web address",
            "url",
            "Herald POSTs a JSON document with title and message here, like https://example.org/hooks/herald.",
            true,
        )];
        match self {
            Self::Email => EMAIL,
            Self::Ntfy => NTFY,
            Self::Telegram => TELEGRAM,
            Self::Discord => DISCORD,
            Self::Slack => SLACK,
            Self::Gotify => GOTIFY,
            Self::Webhook => WEBHOOK,
        }
    }

    /// The Apprise URL built from the submitted `values`; problems under the field names.
    pub fn build(self, values: &HashMap<String, String>) -> Result<String, FieldErrors> {
        let mut errors = FieldErrors::default();
        let get = |name: &str| values.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
        for f in self.fields() {
            if f.required && get(f.name).is_empty() {
                errors.add(f.name, format!("Enter the {}.", f.label.to_lowercase()));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let url = match self {
            Self::Email => build_email(&get, &mut errors),
            Self::Ntfy => build_ntfy(&get, &mut errors),
            Self::Telegram => build_telegram(&get, &mut errors),
            Self::Discord => build_discord(&get("webhook_url"), &mut errors),
            Self::Slack => build_slack(&get("webhook_url"), &mut errors),
            Self::Gotify => build_gotify(&get, &mut errors),
            Self::Webhook => build_webhook(&get("url"), &mut errors),
        };
        match url {
            Some(url) if errors.is_empty() => Ok(url),
            _ => Err(errors),
        }
    }
}

/// Percent-encodes everything but unreserved characters (for user names, passwords, query values).
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A server name with an optional port (and, if `path`, a path), without a scheme.
fn check_server(raw: &str, path: bool) -> Result<(bool, String), String> {
    let lower = raw.trim().to_owned();
    let (secure, rest) = if let Some(r) = lower.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = lower.strip_prefix("http://") {
        (false, r)
    } else {
        (true, lower.as_str())
    };
    let rest = rest.trim_end_matches('/');
    let (hostport, tail) = match rest.find('/') {
        Some(i) if path => (&rest[..i], &rest[i..]),
        Some(_) => return Err("Enter only the server name, like ntfy.example.org, without a path.".into()),
        None => (rest, ""),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !host.starts_with(['.', '-']);
    if !host_ok {
        return Err("Enter a server name like example.org (letters, digits, dots and hyphens).".into());
    }
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|n| n > 0)
    {
        return Err("The port after “:” must be a number from 1 to 65535.".into());
    }
    if tail.chars().any(|c| c.is_whitespace() || "?#@".contains(c)) {
        return Err("The path after the server name cannot contain spaces, “?”, “#” or “@”.".into());
    }
    Ok((secure, format!("{hostport}{tail}")))
}

fn check_email(field: &str, raw: &str, errors: &mut FieldErrors) -> Option<String> {
    match crate::domain::Email::parse(raw) {
        Ok(e) => Some(e.as_str().to_owned()),
        Err(m) => {
            errors.add(field, m);
            None
        }
    }
}

fn build_email(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let to = check_email("to", &get("to"), errors);
    let from = match get("from") {
        f if f.is_empty() => None,
        f => Some(check_email("from", &f, errors)?),
    };
    let server = match check_server(&get("smtp_host"), false) {
        Ok((_, s)) if !s.contains(':') => Some(s),
        Ok(_) => {
            errors.add("smtp_host", "Enter the port in the Port field, not after the server name.");
            None
        }
        Err(m) => {
            errors.add("smtp_host", m);
            None
        }
    };
    let port = match get("port") {
        p if p.is_empty() => String::new(),
        p => match p.parse::<u16>() {
            Ok(n) if n > 0 => format!(":{n}"),
            _ => {
                errors.add("port", "Enter a port number from 1 to 65535, or leave it empty.");
                String::new()
            }
        },
    };
    let (user, password) = (get("username"), get("password"));
    let (to, server) = (to?, server?);
    let mut url = format!("mailtos://{}:{}@{server}{port}?to={}", enc(&user), enc(&password), enc(&to));
    if let Some(from) = from {
        url.push_str(&format!("&from={}", enc(&from)));
    }
    Some(url)
}

fn build_ntfy(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let topic = get("topic");
    if topic.len() > 64 || !topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        errors.add("topic", "A topic uses letters, digits, “_” and “-” only, 64 at most.");
        return None;
    }
    let (secure, server) = match get("server") {
        s if s.is_empty() => (true, "ntfy.sh".to_owned()),
        s => match check_server(&s, false) {
            Ok(x) => x,
            Err(m) => {
                errors.add("server", m);
                return None;
            }
        },
    };
    let token = get("token");
    let auth = if token.is_empty() {
        String::new()
    } else if token.starts_with("tk_")
        && token.len() > 3
        && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        format!("{token}@")
    } else {
        errors.add("token", "An ntfy access token starts with tk_ followed by letters and digits.");
        return None;
    };
    Some(format!("{}://{auth}{server}/{topic}", if secure { "ntfys" } else { "ntfy" }))
}

fn build_telegram(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let token = get("bot_token");
    let token = token.strip_prefix("bot").unwrap_or(&token).to_owned();
    let token_ok = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.chars().all(|c| c.is_ascii_digit())
            && !secret.is_empty()
            && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if !token_ok {
        errors.add(
            "bot_token",
            "A bot token looks like 123456789:AAH… (digits, a colon, then letters, digits, “_” and “-”).",
        );
    }
    let chat = get("chat_id");
    let chat_ok = {
        let digits = chat.strip_prefix('-').unwrap_or(&chat);
        (!digits.is_empty() && digits.len() <= 32 && digits.chars().all(|c| c.is_ascii_digit()))
            || chat
                .strip_prefix('@')
                .is_some_and(|n| n.len() >= 2 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    };
    if !chat_ok {
        errors.add(
            "chat_id",
            "A chat ID is a number (groups start with -), or a public channel like @my_channel.",
        );
    }
    (token_ok && chat_ok).then(|| format!("tgram://{token}/{}", chat.trim_start_matches('@')))
}

/// The path segments of an `https://` URL on one of `hosts`, after `prefix`.
fn webhook_parts<'a>(raw: &'a str, hosts: &[&str], prefix: &str) -> Option<Vec<&'a str>> {
    let rest = raw.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    if !hosts.contains(&host.to_ascii_lowercase().as_str()) {
        return None;
    }
    let path = path.split(['?', '#']).next()?.strip_prefix(prefix)?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .then_some(parts)
}

fn build_discord(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    let hosts = ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"];
    match webhook_parts(raw, &hosts, "api/webhooks/").as_deref() {
        Some([id, token]) if id.chars().all(|c| c.is_ascii_digit()) => {
            Some(format!("discord://{id}/{token}"))
        }
        _ => {
            errors.add(
                "webhook_url",
                "Paste the whole webhook URL from Discord: https://discord.com/api/webhooks/ followed by a number and a token.",
            );
            None
        }
    }
}

fn build_slack(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    match webhook_parts(raw, &["hooks.slack.com"], "services/").as_deref() {
        Some([a, b, c]) => Some(format!("slack://{a}/{b}/{c}")),
        _ => {
            errors.add(
                "webhook_url",
                "Paste the whole webhook URL from Slack: https://hooks.slack.com/services/ followed by three parts.",
            );
            None
        }
    }
}

fn build_gotify(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let server = match check_server(&get("server"), true) {
        Ok(s) => Some(s),
        Err(m) => {
            errors.add("server", m);
            None
        }
    };
    let token = get("token");
    let token_ok = token.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !token_ok {
        errors.add("token", "An application token uses letters, digits, “.”, “_” and “-” only.");
    }
    let (secure, server) = server?;
    token_ok.then(|| format!("{}://{server}/{token}", if secure { "gotifys" } else { "gotify" }))
}

fn build_webhook(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    let (scheme, rest) = if let Some(r) = raw.strip_prefix("https://") {
        ("jsons", r)
    } else if let Some(r) = raw.strip_prefix("http://") {
        ("json", r)
    } else {
        errors.add("url", "Enter a web address starting with https:// (or http://).");
        return None;
    };
    let (hostport, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if hostport.contains('@') {
        errors.add("url", "Put no user name or password in the address.");
        return None;
    }
    if let Err(m) = check_server(hostport, false) {
        errors.add("url", m);
        return None;
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#') {
        errors.add("url", "Remove spaces and “#” from the address.");
        return None;
    }
    Some(format!("{scheme}://{hostport}{path}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::integrations::parse_url;

    fn build(service: Service, pairs: &[(&str, &str)]) -> Result<String, Vec<String>> {
        let values = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        service.build(&values).map_err(|e| e.0.into_iter().map(|(f, _)| f).collect())
    }

    #[test]
    fn guided_forms_build_apprise_urls() {
        assert_eq!(
            build(
                Service::Email,
                &[
                    ("to", "Ada@Example.org"),
                    ("smtp_host", "smtp.example.org"),
                    ("port", "587"),
                    ("username", "ada@example.org"),
                    ("password", "p@ss:w/rd"),
                    ("from", "")
                ]
            ),
            Ok("mailtos://ada%40example.org:p%40ss%3Aw%2Frd@smtp.example.org:587?to=ada%40example.org"
                .into())
        );
        assert_eq!(build(Service::Ntfy, &[("topic", "my-topic")]), Ok("ntfys://ntfy.sh/my-topic".into()));
        assert_eq!(
            build(Service::Ntfy, &[("topic", "t"), ("server", "http://ntfy.lan:8080"), ("token", "tk_abc")]),
            Ok("ntfy://tk_abc@ntfy.lan:8080/t".into())
        );
        assert_eq!(build(Service::Ntfy, &[("topic", "bad topic")]), Err(vec!["topic".into()]));
        assert_eq!(
            build(Service::Telegram, &[("bot_token", "123456:AAH-x_y"), ("chat_id", "-1001")]),
            Ok("tgram://123456:AAH-x_y/-1001".into())
        );
        assert_eq!(
            build(Service::Telegram, &[("bot_token", "nope"), ("chat_id", "x y")]).unwrap_err().len(),
            2
        );
        assert_eq!(
            build(
                Service::Discord,
                &[("webhook_url", "https://discord.com/api/webhooks/4174216298/JHMH_js-x")]
            ),
            Ok("discord://4174216298/JHMH_js-x".into())
        );
        assert!(
            build(Service::Discord, &[("webhook_url", "https://evil.example/api/webhooks/1/x")]).is_err()
        );
        assert_eq!(
            build(Service::Slack, &[("webhook_url", "https://hooks.slack.com/services/T00/B00/XXX")]),
            Ok("slack://T00/B00/XXX".into())
        );
        assert!(
            build(Service::Slack, &[("webhook_url", "https://hooks.slack.com/services/T00/B00")]).is_err()
        );
        assert_eq!(
            build(
                Service::Gotify,
                &[("server", "https://gotify.example.org/sub"), ("token", "AzyoeNS.D4iJLVa")]
            ),
            Ok("gotifys://gotify.example.org/sub/AzyoeNS.D4iJLVa".into())
        );
        assert_eq!(
            build(Service::Webhook, &[("url", "https://hooks.example.org/herald?x=1")]),
            Ok("jsons://hooks.example.org/herald?x=1".into())
        );
        assert_eq!(build(Service::Webhook, &[("url", "ftp://x")]), Err(vec!["url".into()]));
        assert_eq!(build(Service::Email, &[]).unwrap_err(), vec!["to", "smtp_host", "username", "password"]);
        for s in Service::ALL {
            assert_eq!(Service::from_slug(s.slug()), Some(s));
            assert!(parse_url(&build_any(s)).is_ok(), "{s:?} builds a URL that passes the general check");
        }
    }

    fn build_any(s: Service) -> String {
        let pairs: &[(&str, &str)] = match s {
            Service::Email => &[
                ("to", "a@example.org"),
                ("smtp_host", "smtp.example.org"),
                ("username", "u"),
                ("password", "p"),
            ],
            Service::Ntfy => &[("topic", "t")],
            Service::Telegram => &[("bot_token", "1:a"), ("chat_id", "1")],
            Service::Discord => &[("webhook_url", "https://discord.com/api/webhooks/1/a")],
            Service::Slack => &[("webhook_url", "https://hooks.slack.com/services/a/b/c")],
            Service::Gotify => &[("server", "g.example.org"), ("token", "t")],
            Service::Webhook => &[("url", "https://example.org/h")],
        };
        build(s, pairs).unwrap_or_else(|e| panic!("{e:?}"))
    }
}
