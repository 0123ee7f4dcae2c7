//! The two error shapes every service speaks: [`FieldErrors`] for input a person must fix, and
//! [`ServiceError`] for why an operation did not happen. The web maps `ServiceError` once to
//! pages and once to problem+json; the CLI prints it.

/// Field-level problems in submitted input: `(field, message for the user)`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    /// One message under `field`.
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Keeps the value, or records the message under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Records a message under `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why a service operation did not happen. Every message is for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Nothing here, or nothing the caller may see (never tells which).
    #[error("not found")]
    NotFound,
    /// The caller may see this but not do it; the reason is for them to read.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request cannot be done as things stand (the last owner, a change made meanwhile).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Some input fields are not valid; each with a message.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// Too many attempts; the message says when to try again.
    #[error("too many requests: {0}")]
    TooMany(String),
    /// An outside service (the Apprise API, the mail relay) could not do what was needed;
    /// nothing was changed. For the user to read.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an outage; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(FieldErrors::one(field, message))
    }
}
