//! Redaction: Apprise URLs with their secrets masked ([`redact`]), so pages, the API and debug
//! output can show which services a channel uses without revealing passwords or tokens.

/// Query parameters whose values are not secret and help recognise a URL.
const PLAIN_QUERY_KEYS: &[&str] =
    &["to", "cc", "bcc", "from", "name", "smtp", "mode", "format", "overflow", "priority", "lang"];

/// Schemes whose "host" part is a token, not a server name.
const TOKEN_HOST_SCHEMES: &[&str] = &["tgram", "discord", "slack", "pover", "pbul", "join", "ifttt"];

/// `url` with its secrets replaced by `****`: the scheme and a real server name stay; user
/// names, passwords, tokens, path segments and query values (but a few harmless ones such as
/// `to`) go. Works on any text, so a malformed URL never leaks either.
pub fn redact(url: &str) -> String {
    const MASK: &str = "****";
    let Some((scheme, rest)) = url.split_once("://") else { return MASK.to_owned() };
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
        return MASK.to_owned();
    }
    let (body, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match body.find('/') {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let mut out = format!("{scheme}://");
    if userinfo.is_some() {
        out.push_str(MASK);
        out.push('@');
    }
    if !host.is_empty() {
        out.push_str(if is_server_name(&scheme, host) { host } else { MASK });
    }
    for segment in path.split('/').skip(1) {
        out.push('/');
        if !segment.is_empty() {
            out.push_str(MASK);
        }
    }
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v))
                    if PLAIN_QUERY_KEYS.contains(&k.to_ascii_lowercase().as_str()) && is_plain(v) =>
                {
                    format!("{k}={v}")
                }
                Some((k, _)) if is_plain(k) => format!("{k}={MASK}"),
                _ => MASK.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// Whether `host` (with an optional port) names a server rather than carrying a secret.
fn is_server_name(scheme: &str, host: &str) -> bool {
    if TOKEN_HOST_SCHEMES.contains(&scheme) {
        return false;
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((n, _)) if !n.ends_with(']') && n.contains(':') => (host, None), // bare IPv6
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let ipv6 = name.starts_with('[') && name.ends_with(']');
    ipv6 || name == "localhost"
        || (name.contains('.')
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
}

/// Plain words, addresses and numbers: safe to show as a query value.
fn is_plain(s: &str) -> bool {
    s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || "@.-_%+".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_the_server_and_hides_secrets() {
        let cases = [
            (
                "mailtos://user:s3cret@smtp.example.org:465?to=ada@example.org&from=h@example.org",
                "mailtos://****@smtp.example.org:465?to=ada@example.org&from=h@example.org",
            ),
            ("ntfys://tk_secret@ntfy.example.org/secret-topic", "ntfys://****@ntfy.example.org/****"),
            ("ntfy://secret-topic", "ntfy://****"),
            ("tgram://123456:AAHsecret/-100123", "tgram://****/****"),
            ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://****/****"),
            ("slack://T0000/B0000/XXXXsecret", "slack://****/****/****"),
            ("gotifys://gotify.example.org/path/AzyoeNS.secret", "gotifys://gotify.example.org/****/****"),
            (
                "jsons://hooks.example.org/hook/secret?token=abc&priority=high",
                "jsons://hooks.example.org/****/****?token=****&priority=high",
            ),
            ("json://127.0.0.1:8080/sink", "json://127.0.0.1:8080/****"),
            ("https://hooks.slack.com/services/A/B/C", "https://hooks.slack.com/****/****/****/****"),
            ("json://evil.example.org#secret/x", "json://****/****"),
            ("not a url secret", "****"),
            ("json://h.example?to=secret%20with&x", "json://h.example?to=secret%20with&****"),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
        }
        for secret in
            ["s3cret", "tk_secret", "secret-topic", "AAHsecret", "JHMHI8q", "XXXXsecret", "AzyoeNS", "abc"]
        {
            for (url, _) in cases.iter().take(10) {
                if url.contains(secret) {
                    assert!(!redact(url).contains(secret), "{secret} in {}", redact(url));
                }
            }
        }
    }
}
