//! Reading and writing cookies by hand: a handful of cookies, all with the same safe defaults.

use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie (HttpOnly; the value is a random token whose hash is the session id).
pub const SESSION: &str = "herald_session";
/// The CSRF nonce cookie.
pub const CSRF: &str = "herald_csrf";
/// One-shot flash messages.
pub const FLASH: &str = "herald_flash";

/// The name a cookie is sent under: with the `__Host-` prefix behind https, so that browsers
/// accept it only when it is `Secure`, for this host alone (no `Domain`), on `Path=/` — a
/// sibling subdomain cannot plant or overwrite it.
pub fn full_name(name: &str, secure: bool) -> String {
    if secure { format!("__Host-{name}") } else { name.to_owned() }
}

/// The value of cookie `name` in the request (under its `__Host-` name when `secure`).
pub fn get<'a>(headers: &'a HeaderMap, name: &str, secure: bool) -> Option<&'a str> {
    let name = full_name(name, secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure and `__Host-` when `secure`.
/// `max_age` `None` is a browser-session cookie; `Some(0)` deletes it.
pub fn set(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let name = full_name(name, secure);
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    // ok: names and values are ASCII tokens produced by Herald (base64url, hex, digits).
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookies_among_many() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; herald_session=abc"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(get(&h, SESSION, false), Some("abc"));
        assert_eq!(get(&h, "b", false), Some("2"));
        assert_eq!(get(&h, "c", false), None);
        assert_eq!(get(&h, SESSION, true), None, "behind https only the __Host- cookie counts");
        h.append(header::COOKIE, HeaderValue::from_static("__Host-herald_session=def"));
        assert_eq!(get(&h, SESSION, true), Some("def"));
        let v = set(SESSION, "t", Some(60), true);
        assert_eq!(
            v.to_str().ok(),
            Some("__Host-herald_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure")
        );
        assert_eq!(
            set(SESSION, "t", None, false).to_str().ok(),
            Some("herald_session=t; Path=/; HttpOnly; SameSite=Lax")
        );
    }
}
