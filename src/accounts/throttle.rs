//! Sign-in throttling, kept in the database so every web replica sees the same counts.
//!
//! Each attempt first claims a row per subject — the account *from this client address*, and
//! the address — and is let through only when its claim is within the limit. Claims are
//! committed before they are counted, so of any number of parallel attempts at most the limit
//! reach the password check. A failure keeps its rows; a success or a refusal removes them.
//!
//! The account is counted per client address: a stranger's failures lock only the stranger's
//! address out, never the account's owner elsewhere.

use chrono::{Duration, Utc};

use crate::db::{Db, DbError};

/// Failures allowed per account and client address within the window.
pub const PER_ACCOUNT: i64 = 5;
/// Failures allowed per client address within the window.
pub const PER_ADDRESS: i64 = 20;
/// The window, in minutes.
pub const WINDOW_MINUTES: i64 = 15;

/// One sign-in attempt that was let through: its claims, to settle once the password is checked.
#[derive(Debug)]
pub struct Attempt {
    account: String,
    claims: Vec<i64>,
}

impl Attempt {
    /// Claims an attempt for `email` from `ip`; `None` when the account (from this address) or
    /// the address has failed too often lately.
    pub async fn begin(db: &Db, email: &str, ip: std::net::IpAddr) -> Result<Option<Self>, DbError> {
        let account = format!("email:{email}|ip:{ip}");
        let address = format!("ip:{ip}");
        let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
        let mut claims = Vec::with_capacity(2);
        let mut allowed = true;
        for (subject, limit) in [(&account, PER_ACCOUNT), (&address, PER_ADDRESS)] {
            let (id, count) = db.claim_sign_in_attempt(subject, since).await?;
            claims.push(id);
            allowed &= count <= limit;
        }
        if !allowed {
            db.release_sign_in_claims(&claims).await?;
            return Ok(None);
        }
        Ok(Some(Self { account, claims }))
    }

    /// The password was right: the claims go, and so do the account's earlier failures from this
    /// address (and every row past the window).
    pub async fn succeeded(self, db: &Db) -> Result<(), DbError> {
        db.release_sign_in_claims(&self.claims).await?;
        db.clear_sign_in_failures(&self.account, Utc::now() - Duration::minutes(WINDOW_MINUTES)).await
    }

    /// The password was wrong: the claims stay, as failures.
    pub fn failed(self) {}
}
