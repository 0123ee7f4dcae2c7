//! Where a channel may send. The Apprise API contacts whatever a channel's URLs name, on the
//! user's behalf and from inside Herald's network, so a URL could otherwise reach Herald's own
//! services (Postgres, Temporal, the Apprise API itself, a cloud metadata endpoint): server-side
//! request forgery.
//!
//! Two rules, checked when a channel is saved, before every confirmation code or test, and
//! before every delivery:
//! - only the Apprise services that make sense for people ([`ALLOWED_SCHEMES`]); local and
//!   relaying ones (`file`, `apprise`, `syslog`, desktop notifications, …) are refused;
//! - no host on a loopback, private, link-local, unique-local, shared, multicast, reserved or
//!   unspecified address, in any spelling (`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`,
//!   `[::ffff:127.0.0.1]`, `[fd00::1]`), nor a name that resolves to one, nor a name that only a
//!   private network knows (`localhost`, `postgres`, `printer.local`).
//!
//! An operator who wants channels to reach services on their own network on purpose sets
//! `HERALD_ALLOW_PRIVATE_TARGETS=true`; the scheme rule still holds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The Apprise services a channel may use: mail, push and chat services, and webhooks.
pub const ALLOWED_SCHEMES: &[&str] = &[
    "mailto",
    "mailtos",
    "ntfy",
    "ntfys",
    "tgram",
    "discord",
    "slack",
    "gotify",
    "gotifys",
    "json",
    "jsons",
    "form",
    "forms",
    "xml",
    "xmls",
    "matrix",
    "matrixs",
    "mmost",
    "mmosts",
    "rocket",
    "rockets",
    "msteams",
    "pover",
    "pbul",
    "signal",
    "signals",
    "twilio",
    "zulip",
    "whatsapp",
    "gchat",
    "opsgenie",
    "pagerduty",
    "pushed",
    "join",
    "ifttt",
    "line",
    "revolt",
    "bark",
    "barks",
    "guilded",
    "lark",
    "feishu",
    "threema",
];

/// Schemes whose "host" is an account or token: the Apprise API talks to the service's own
/// public servers, so there is no address of the user's choosing to check.
const TOKEN_SCHEMES: &[&str] = &[
    "tgram",
    "discord",
    "slack",
    "pover",
    "pbul",
    "twilio",
    "msteams",
    "whatsapp",
    "gchat",
    "opsgenie",
    "pagerduty",
    "pushed",
    "join",
    "ifttt",
    "line",
    "guilded",
    "lark",
    "feishu",
    "threema",
    "revolt",
];

/// Schemes whose first part is an account on the service's public servers when it is a single
/// word, and a host of the user's choosing otherwise.
const NAME_SCHEMES: &[&str] = &["ntfy", "ntfys", "zulip"];

/// How long a host name may take to resolve before the check gives up on it (a name nobody
/// can resolve cannot be reached by the Apprise API either).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Said when a URL names a private address.
pub const PRIVATE_TARGET: &str = "This URL points to a private or local network address, which this Herald \
     does not send to. Use the service's public address (its operator can allow local services).";

/// The operator's choice about private addresses (`HERALD_ALLOW_PRIVATE_TARGETS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    /// Whether channels may reach loopback and private addresses.
    pub allow_private: bool,
}

/// Checks the service of a URL (`scheme://…`); the message says what is accepted.
pub fn check_scheme(scheme: &str) -> Result<(), String> {
    if ALLOWED_SCHEMES.contains(&scheme) {
        return Ok(());
    }
    Err(format!("Herald does not send through “{scheme}://”. It accepts {}.", accepted()))
}

/// What [`check_scheme`] accepts, in words: the guided services, email and webhooks
/// ("ntfy, Telegram, …, email (mailto) and webhooks (json/xml/form)").
pub fn accepted() -> String {
    use super::catalogue::Service;
    let mut names: Vec<&str> = Service::ALL
        .into_iter()
        .filter(|s| !matches!(s, Service::Email | Service::Webhook))
        .map(Service::label)
        .collect();
    names.push("email (mailto)");
    format!("{} and webhooks (json/xml/form)", names.join(", "))
}

impl Targets {
    /// Whether `url` (an Apprise URL with a checked scheme) may be sent to: `Err` with a message
    /// for the user when a host it names is private. Names are resolved here.
    pub async fn check(&self, url: &str) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        for (host, port) in hosts_of(url) {
            if let Some(why) = private_host(&host) {
                tracing::info!(reason = why, "refused a channel URL with a private host");
                return Err(PRIVATE_TARGET.into());
            }
            if host.parse::<IpAddr>().is_ok() || loose_ipv4(&host).is_some() {
                continue;
            }
            let lookup =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)));
            if let Ok(Ok(addrs)) = lookup.await
                && let Some(why) = private_among(addrs.map(|a| a.ip()))
            {
                tracing::info!(
                    reason = why,
                    "refused a channel URL whose host resolves to a private address"
                );
                return Err(PRIVATE_TARGET.into());
            }
        }
        Ok(())
    }

    /// [`Self::check`] for every URL; the first refusal.
    pub async fn check_all(&self, urls: &[String]) -> Result<(), String> {
        for url in urls {
            self.check(url).await?;
        }
        Ok(())
    }
}

/// The hosts (and ports, for resolving) that the Apprise API would contact for `url`: the
/// authority of hostful services, and a mail URL's `smtp=` server.
pub fn hosts_of(url: &str) -> Vec<(String, u16)> {
    let Some((scheme, rest)) = url.split_once("://") else { return Vec::new() };
    let scheme = scheme.to_ascii_lowercase();
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut hosts = Vec::new();
    if !TOKEN_SCHEMES.contains(&scheme.as_str()) {
        let mut segments = before_query.split(['/', '#']);
        let authority = segments.next().unwrap_or("");
        let has_path = segments.any(|s| !s.is_empty());
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if let Some((host, port)) = split_host_port(host_port, default_port(&scheme)) {
            // `ntfy://topic` and `zulip://bot@organization/token` name an account on the
            // service's public servers, not a host; a dotted name, an address or a server
            // followed by a topic (`ntfy://server/topic`) is a host.
            let account = NAME_SCHEMES.contains(&scheme.as_str())
                && !host.contains('.')
                && !host.contains(':')
                && host != "localhost"
                && loose_ipv4(&host).is_none()
                && (scheme == "zulip" || !has_path);
            if !account {
                hosts.push((host, port));
            }
        }
    }
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k.eq_ignore_ascii_case("smtp") {
            let v = percent_decode(v);
            if let Some(h) = split_host_port(&v, 25) {
                hosts.push(h);
            }
        }
    }
    hosts
}

fn default_port(scheme: &str) -> u16 {
    if scheme.starts_with("mailto") {
        587
    } else if scheme.ends_with('s') {
        443
    } else {
        80
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`, percent-decoded, lower-cased, without a
/// trailing dot.
fn split_host_port(raw: &str, default: u16) -> Option<(String, u16)> {
    let raw = percent_decode(raw);
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        (h.to_owned(), after.strip_prefix(':').and_then(|p| p.parse().ok()))
    } else {
        match raw.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_owned(), p.parse().ok()),
            _ => (raw.clone(), None),
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then(|| (host, port.unwrap_or(default)))
}

fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| raw.to_owned(), |(_, v)| v.into_owned())
}

/// Why `host` (a literal address in any spelling, or a name) is private; `None` when it may be
/// public.
pub fn private_host(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return private_ip(ip);
    }
    if let Some(v4) = loose_ipv4(&host) {
        return private_ip(IpAddr::V4(v4));
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return Some("loopback name");
    }
    if !host.contains('.') {
        return Some("a name only a local network knows");
    }
    const LOCAL_SUFFIXES: &[&str] = &[".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp"];
    if LOCAL_SUFFIXES.iter().any(|s| host.ends_with(s)) {
        return Some("a local network name");
    }
    None
}

/// An IPv4 address as the C library reads it (`inet_aton`): one to four parts, each decimal,
/// `0x` hexadecimal or `0` octal, the last filling the remaining bytes (`127.1`, `2130706433`).
pub fn loose_ipv4(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        let v = if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u64::from_str_radix(hex, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()?
        } else {
            return None;
        };
        values.push(v);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|v| *v > 255) {
        return None;
    }
    let rest_bytes = 4 - head.len();
    if *last >= 1u64 << (8 * rest_bytes) {
        return None;
    }
    let mut n: u64 = 0;
    for v in head {
        n = (n << 8) | v;
    }
    n = (n << (8 * rest_bytes)) | last;
    u32::try_from(n).ok().map(Ipv4Addr::from)
}

/// Why a name that resolves to `addrs` is private: any private address among them is enough
/// (the Apprise API may pick any of them).
pub fn private_among(addrs: impl IntoIterator<Item = IpAddr>) -> Option<&'static str> {
    addrs.into_iter().find_map(private_ip)
}

/// Why `ip` is not a public address; `None` when it is.
pub fn private_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

fn private_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match () {
        () if ip.is_loopback() => "loopback",
        () if ip.is_private() => "private",
        () if ip.is_link_local() => "link-local (cloud metadata)",
        () if ip.is_unspecified() || a == 0 => "unspecified",
        () if ip.is_broadcast() => "broadcast",
        () if ip.is_multicast() => "multicast",
        () if a == 100 && (64..128).contains(&b) => "shared address space",
        () if a == 192 && b == 0 && c == 0 => "IETF protocol assignments",
        () if a == 198 && (b == 18 || b == 19) => "benchmarking",
        () if a >= 240 => "reserved",
        () if ip.is_documentation() => "documentation",
        () => return None,
    })
}

fn private_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    let s = ip.segments();
    // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4
    // address that decides where the packet goes.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return private_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return private_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return private_v4(embedded(s[1], s[2]));
    }
    Some(match () {
        () if ip.is_loopback() => "loopback",
        () if ip.is_unspecified() => "unspecified",
        () if ip.is_multicast() => "multicast",
        () if ip.is_unique_local() => "unique-local",
        () if ip.is_unicast_link_local() => "link-local",
        () if (s[0] & 0xffc0) == 0xfec0 => "site-local",
        () if s[0] == 0x2001 && s[1] == 0x0db8 => "documentation",
        () => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_private_address_is_caught() {
        for host in [
            "127.0.0.1",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "0",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "localhost",
            "LOCALHOST.",
            "api.localhost",
            "postgres",
            "temporal-ui",
            "printer.local",
            "metadata.google.internal",
        ] {
            assert!(private_host(host).is_some(), "{host} must be refused");
        }
        for host in ["ntfy.sh", "93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "smtp.example.org"] {
            assert_eq!(private_host(host), None, "{host} is public");
        }
    }

    #[test]
    fn hosts_are_found_where_apprise_would_connect() {
        let hosts = |u: &str| hosts_of(u).into_iter().map(|(h, _)| h).collect::<Vec<_>>();
        assert_eq!(hosts("json://user:pw@127.0.0.1:9/path?x=1"), ["127.0.0.1"]);
        assert_eq!(hosts("xml://[::1]:6379/"), ["::1"]);
        assert_eq!(hosts("json://[::ffff:127.0.0.1]/"), ["::ffff:127.0.0.1"]);
        assert_eq!(hosts("form://%31%30.0.0.1:8500/x"), ["10.0.0.1"]);
        assert_eq!(hosts("ntfys://topic@ntfy.example.org/"), ["ntfy.example.org"]);
        assert_eq!(
            hosts("mailtos://u:p@example.org?smtp=127.0.0.1&to=a@b.org"),
            ["example.org", "127.0.0.1"]
        );
        assert!(hosts("tgram://123456:AAH-token/4242").is_empty(), "a token, not a host");
        assert!(hosts("discord://webhook_id/token").is_empty());
        assert!(hosts("ntfy://my-topic").is_empty(), "a topic on ntfy.sh");
        assert_eq!(hosts("ntfy://postgres/topic"), ["postgres"], "a server, then a topic");
        assert_eq!(hosts("ntfy://2130706433"), ["2130706433"]);
        assert!(hosts("zulip://bot@myorg/token").is_empty());
    }

    #[test]
    fn only_services_for_people_are_allowed() {
        for ok in ["mailtos", "ntfys", "tgram", "discord", "slack", "gotifys", "jsons", "json", "twilio"] {
            assert!(check_scheme(ok).is_ok(), "{ok}");
        }
        for refused in ["file", "apprise", "apprises", "syslog", "windows", "dbus", "gnome", "kde", "macosx"]
        {
            let e = check_scheme(refused).expect_err(refused);
            assert!(
                e.ends_with(
                    "It accepts ntfy, Telegram, Discord, Slack, Gotify, email (mailto) and webhooks (json/xml/form)."
                ),
                "says what is accepted: {e}"
            );
        }
    }

    #[test]
    fn a_name_with_one_private_address_among_public_ones_is_private() {
        let public: IpAddr = "93.184.216.34".parse().unwrap_or_else(|e| panic!("{e}"));
        let private: IpAddr = "10.0.0.5".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(private_among([public]), None);
        assert_eq!(private_among([public, private]), Some("private"));
    }

    #[tokio::test]
    async fn the_operator_switch_lets_local_services_through() {
        let strict = Targets { allow_private: false };
        assert_eq!(strict.check("json://127.0.0.1:9/").await, Err(PRIVATE_TARGET.into()));
        assert_eq!(strict.check("json://localhost:7233/").await, Err(PRIVATE_TARGET.into()));
        assert!(strict.check("tgram://123:abc/42").await.is_ok());
        let open = Targets { allow_private: true };
        assert!(open.check("json://127.0.0.1:9/").await.is_ok());
    }
}
