//! Sign-in throttling per account and per client address, kept in the database so every web
//! replica sees the same counts.

use chrono::{Duration, Utc};

use crate::db::{Db, DbError};

/// Failures allowed per account within the window.
pub const PER_ACCOUNT: i64 = 5;
/// Failures allowed per client address within the window.
pub const PER_ADDRESS: i64 = 20;
/// The window, in minutes.
pub const WINDOW_MINUTES: i64 = 15;

/// The throttling keys of one attempt.
#[derive(Debug, Clone)]
pub struct Subjects {
    account: String,
    address: String,
}

impl Subjects {
    /// Keys for `email` from `ip`.
    pub fn new(email: &str, ip: std::net::IpAddr) -> Self {
        Self { account: format!("email:{email}"), address: format!("ip:{ip}") }
    }

    /// Whether another attempt is allowed now.
    pub async fn allowed(&self, db: &Db) -> Result<bool, DbError> {
        let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
        Ok(db.sign_in_failures_since(&self.account, since).await? < PER_ACCOUNT
            && db.sign_in_failures_since(&self.address, since).await? < PER_ADDRESS)
    }

    /// Records a failed attempt.
    pub async fn failed(&self, db: &Db) -> Result<(), DbError> {
        db.record_sign_in_failure(&[self.account.clone(), self.address.clone()]).await
    }

    /// Forgets the account's failures after a successful sign-in, and prunes old rows.
    pub async fn succeeded(&self, db: &Db) -> Result<(), DbError> {
        db.clear_sign_in_failures(&self.account, Utc::now() - Duration::minutes(WINDOW_MINUTES)).await
    }
}
