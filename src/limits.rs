//! Abuse limits on what costs Herald work or sends mail to someone: sign-ups and password
//! resets per client address, account mail and invitations per recipient address, invitations
//! per sender. Token buckets from `governor` (GCRA), kept in memory: each web replica counts on
//! its own, which is enough to stop a burst from one client (sign-in, which guards passwords, is
//! counted in the database instead: `accounts::throttle`).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota};
use uuid::Uuid;

use crate::domain::ServiceError;

/// Sign-ups one client address may make per hour.
pub const SIGN_UPS_PER_HOUR: u32 = 10;
/// Mails about an account (verification, password reset) one address may receive per hour.
pub const ACCOUNT_MAILS_PER_HOUR: u32 = 5;
/// Password reset requests one client address may make per hour (for any addresses).
pub const RESETS_PER_CLIENT_HOUR: u32 = 20;
/// Answers without an account (guests) one client address may send per hour.
pub const GUEST_ANSWERS_PER_HOUR: u32 = 20;
/// Invitation mails (to an organization or an event) one address may receive per hour.
pub const INVITATIONS_PER_ADDRESS_HOUR: u32 = 10;
/// Invitation mails one person may send per hour (a CSV import counts each row).
pub const INVITATIONS_PER_SENDER_HOUR: u32 = 500;

/// Participants an event may have unless the operator sets `HERALD_MAX_PARTICIPANTS`.
pub const DEFAULT_MAX_PARTICIPANTS: usize = 10_000;

/// Past this many tracked keys, keys idle long enough to be full again are forgotten.
const RETAIN_ABOVE: usize = 10_000;

/// The limits, shared by every request of this process.
#[derive(Clone)]
pub struct Limits(Arc<Inner>);

struct Inner {
    max_participants: usize,
    sign_ups: DefaultKeyedRateLimiter<IpAddr>,
    guest_answers: DefaultKeyedRateLimiter<IpAddr>,
    account_mails: DefaultKeyedRateLimiter<String>,
    resets: DefaultKeyedRateLimiter<IpAddr>,
    invitations_to: DefaultKeyedRateLimiter<String>,
    invitations_from: DefaultKeyedRateLimiter<Uuid>,
}

/// Counts one more for `key`; whether it is within the limit.
fn allow<K: Clone + Eq + Hash>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> bool {
    if limiter.len() > RETAIN_ABOVE {
        limiter.retain_recent();
    }
    limiter.check_key(key).is_ok()
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limits")
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

fn per_hour(n: u32) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(Duration::from_secs(3600) / n.get()).map_or(Quota::per_hour(n), |q| q.allow_burst(n))
}

impl Limits {
    /// The limits above.
    pub fn new() -> Self {
        Self::with_max_participants(DEFAULT_MAX_PARTICIPANTS)
    }

    /// The limits above, with at most `max_participants` per event (`HERALD_MAX_PARTICIPANTS`).
    pub fn with_max_participants(max_participants: usize) -> Self {
        Self(Arc::new(Inner {
            max_participants: max_participants.max(1),
            sign_ups: DefaultKeyedRateLimiter::keyed(per_hour(SIGN_UPS_PER_HOUR)),
            guest_answers: DefaultKeyedRateLimiter::keyed(per_hour(GUEST_ANSWERS_PER_HOUR)),
            account_mails: DefaultKeyedRateLimiter::keyed(per_hour(ACCOUNT_MAILS_PER_HOUR)),
            resets: DefaultKeyedRateLimiter::keyed(per_hour(RESETS_PER_CLIENT_HOUR)),
            invitations_to: DefaultKeyedRateLimiter::keyed(per_hour(INVITATIONS_PER_ADDRESS_HOUR)),
            invitations_from: DefaultKeyedRateLimiter::keyed(per_hour(INVITATIONS_PER_SENDER_HOUR)),
        }))
    }

    /// The most participants an event may have.
    pub fn max_participants(&self) -> usize {
        self.0.max_participants
    }

    /// One more sign-up from `client`, or [`ServiceError::TooMany`].
    pub fn sign_up(&self, client: IpAddr) -> Result<(), ServiceError> {
        if allow(&self.0.sign_ups, &client) {
            return Ok(());
        }
        tracing::warn!(%client, "sign-ups throttled");
        Err(ServiceError::TooMany(
            "Too many new accounts from your network just now. Try again in an hour.".into(),
        ))
    }

    /// One more answer without an account from `client`, or [`ServiceError::TooMany`].
    pub fn guest_answer(&self, client: IpAddr) -> Result<(), ServiceError> {
        if allow(&self.0.guest_answers, &client) {
            return Ok(());
        }
        tracing::warn!(%client, "guest answers throttled");
        Err(ServiceError::TooMany(
            "Too many answers from your network just now. Try again in an hour.".into(),
        ))
    }

    /// Whether `client` may ask for one more password reset now.
    pub fn password_reset(&self, client: IpAddr) -> bool {
        let ok = allow(&self.0.resets, &client);
        if !ok {
            tracing::warn!(%client, "password reset requests throttled");
        }
        ok
    }

    /// Whether one more account mail may go to `address` now.
    pub fn account_mail(&self, address: &str) -> bool {
        let ok = allow(&self.0.account_mails, &address.to_lowercase());
        if !ok {
            tracing::warn!("account mail to one address throttled");
        }
        ok
    }

    /// Whether `sender` may mail one more invitation to `address` now.
    pub fn invitation_mail(&self, sender: Uuid, address: &str) -> bool {
        let ok = allow(&self.0.invitations_from, &sender)
            && allow(&self.0.invitations_to, &address.to_lowercase());
        if !ok {
            tracing::warn!(%sender, "invitation mail throttled");
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_cut_at_the_limit_per_key() {
        let limits = Limits::new();
        let a: IpAddr = [203, 0, 113, 9].into();
        let b: IpAddr = [198, 51, 100, 7].into();
        for _ in 0..SIGN_UPS_PER_HOUR {
            assert!(limits.sign_up(a).is_ok());
        }
        assert!(matches!(limits.sign_up(a), Err(ServiceError::TooMany(_))));
        assert!(limits.sign_up(b).is_ok(), "another address is not affected");
        for _ in 0..ACCOUNT_MAILS_PER_HOUR {
            assert!(limits.account_mail("Ada@example.org"));
        }
        assert!(!limits.account_mail("ada@example.org"), "the same address, however written");
        assert!(limits.account_mail("bob@example.org"));
        for _ in 0..RESETS_PER_CLIENT_HOUR {
            assert!(limits.password_reset(a));
        }
        assert!(!limits.password_reset(a));
        assert!(limits.password_reset(b));
        let (carol, dave) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..INVITATIONS_PER_ADDRESS_HOUR {
            assert!(limits.invitation_mail(carol, "eve@example.org"));
        }
        assert!(!limits.invitation_mail(dave, "eve@example.org"), "per address, whoever sends");
        assert!(limits.invitation_mail(dave, "frank@example.org"));
    }
}
