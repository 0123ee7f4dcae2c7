//! Who is calling, as axum extractors: the signed-in user of a browser session, and the client
//! address.
//!
//! A session cookie holds a random token; the accounts service keeps only its SHA-256. The
//! lookup is cached in the request's extensions so several extractors cost one query.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::PageError;
use super::{AppState, cookies};
use crate::accounts::{self, SESSION_DAYS};
use crate::db::models::User;

/// The signed-in user of this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: User,
    /// The session's id (hash), when signed in through the browser.
    pub session: Option<String>,
}

impl CurrentUser {
    /// Whether the address is verified.
    pub fn verified(&self) -> bool {
        self.user.verified_at.is_some()
    }
}

/// Cached result of the cookie lookup.
#[derive(Clone)]
struct Looked(Option<CurrentUser>);

/// The signed-in user, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(Looked(found)) = parts.extensions.get::<Looked>() {
            return Ok(Self(found.clone()));
        }
        let found = match cookies::get(&parts.headers, cookies::SESSION, state.web.secure_cookies()) {
            Some(token) if !token.is_empty() => accounts::session_user(&state.db, token)
                .await?
                .map(|(user, session)| CurrentUser { user, session: Some(session) }),
            _ => None,
        };
        parts.extensions.insert(Looked(found.clone()));
        Ok(Self(found))
    }
}

/// A signed-in user; anyone else is sent to the sign-in page and brought back afterwards.
#[derive(Debug, Clone)]
pub struct RequireUser(pub CurrentUser);

/// Sends the visitor to sign in.
#[derive(Debug)]
pub enum SignInFirst {
    /// Redirect to `/signin?next=…`.
    Redirect(String),
    /// The lookup itself failed.
    Error(PageError),
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        match self {
            Self::Redirect(next) => {
                let location = format!(
                    "/signin?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
            }
            Self::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for RequireUser {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await.map_err(SignInFirst::Error)? {
            MaybeUser(Some(user)) => Ok(Self(user)),
            MaybeUser(None) => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
                Err(SignInFirst::Redirect(next))
            }
        }
    }
}

/// The `Set-Cookie` value that carries a session token made by the accounts service.
pub fn cookie(state: &AppState, token: &str) -> HeaderValue {
    cookies::set(cookies::SESSION, token, Some(SESSION_DAYS * 24 * 3600), state.web.secure_cookies())
}

/// The client's address: the peer, or — only when the peer is a trusted proxy — the right-most
/// untrusted address of `X-Forwarded-For`.
pub fn client_ip(parts: &Parts, trusted: &[ipnet::IpNet]) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip());
    if !trusted.iter().any(|net| net.contains(&peer)) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|ip| !trusted.iter().any(|net| net.contains(ip))).unwrap_or(peer)
}

/// The client address as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts, &state.web.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, xff: Option<&str>) -> Parts {
        let mut req = axum::http::Request::builder().uri("/");
        if let Some(x) = xff {
            req = req.header("x-forwarded-for", x);
        }
        let (mut parts, ()) = req.body(()).unwrap_or_else(|e| panic!("{e}")).into_parts();
        let addr: SocketAddr = peer.parse().unwrap_or_else(|e| panic!("{e}"));
        parts.extensions.insert(ConnectInfo(addr));
        parts
    }

    #[test]
    fn forwarded_for_is_only_trusted_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap_or_else(|e| panic!("{e}"))];
        let spoofed = parts("203.0.113.9:5000", Some("1.2.3.4"));
        assert_eq!(client_ip(&spoofed, &trusted).to_string(), "203.0.113.9");
        let proxied = parts("10.0.0.2:5000", Some("1.2.3.4, 198.51.100.7, 10.0.0.3"));
        assert_eq!(client_ip(&proxied, &trusted).to_string(), "198.51.100.7");
        assert_eq!(client_ip(&proxied, &[]).to_string(), "10.0.0.2");
    }
}
