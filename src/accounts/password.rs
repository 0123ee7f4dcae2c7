//! Argon2id password hashes, computed off the async threads, at most one per core at a time:
//! each takes about 19 MiB and a core for a moment, so a burst of sign-ups or sign-ins waits
//! its turn instead of growing the process without bound.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

use crate::domain::Password;

/// One slot per core for argon2 work.
static SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// Runs argon2 work `f` on the blocking pool once a slot is free.
async fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let _slot = SLOTS.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let _busy = busy::Guard::enter();
        f()
    })
    .await?)
}

/// How many hashes run at once (the tests read the peak).
mod busy {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NOW: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    pub(super) struct Guard;

    impl Guard {
        pub(super) fn enter() -> Self {
            let now = NOW.fetch_add(1, Ordering::SeqCst) + 1;
            PEAK.fetch_max(now, Ordering::SeqCst);
            Self
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            NOW.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The most hashes that ran at once so far.
    #[cfg(test)]
    pub(super) fn peak() -> usize {
        PEAK.load(Ordering::SeqCst)
    }
}

/// Hashes a new password (argon2id, default parameters, random salt).
pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let plain = password.expose().to_owned();
    bounded(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(plain.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// A hash of nothing anybody knows, verified against when the account does not exist so that
/// an unknown email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(crate::secrets::random_token().as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
});

/// Whether `candidate` matches `stored`; `None` (no account, or no password set) takes the same
/// time and fails.
pub async fn verify(stored: Option<String>, candidate: &str) -> bool {
    let candidate = candidate.to_owned();
    bounded(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (DUMMY_HASH.clone().unwrap_or_default(), false),
        };
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        let ok = Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let pw = Password::parse("correct horse battery").unwrap_or_else(|e| panic!("{e}"));
        let a = hash(&pw).await.unwrap_or_else(|e| panic!("{e}"));
        let b = hash(&pw).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify(Some(a.clone()), "correct horse battery").await);
        assert!(!verify(Some(a), "wrong horse battery").await);
        assert!(!verify(None, "anything at all").await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_hashes_runs_one_per_core_at_a_time() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pw = Password::parse("correct horse battery").unwrap_or_else(|e| panic!("{e}"));
        let burst: Vec<_> = (0..cores * 4)
            .map(|_| {
                let pw = pw.clone();
                tokio::spawn(async move { hash(&pw).await })
            })
            .collect();
        for task in burst {
            assert!(task.await.unwrap_or_else(|e| panic!("{e}")).is_ok());
        }
        assert!(busy::peak() <= cores, "{} hashes at once on {cores} cores", busy::peak());
    }
}
