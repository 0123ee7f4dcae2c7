use sqlx::error::ErrorKind;

/// What can go wrong in a repository call, in terms the callers act on.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No row matched.
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated (the thing already exists).
    #[error("already exists{}", constraint_suffix(.0))]
    Conflict(Option<String>),
    /// A referenced row does not exist, or a row is still referenced.
    #[error("refers to something that does not exist{}", constraint_suffix(.0))]
    ForeignKey(Option<String>),
    /// A check or not-null constraint rejected a value.
    #[error("a value is not allowed{}", constraint_suffix(.0))]
    Invalid(Option<String>),
    /// The database could not be reached or answered with an unexpected error.
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

fn constraint_suffix(c: &Option<String>) -> String {
    c.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) => {
                let constraint = db.constraint().map(str::to_owned);
                match db.kind() {
                    ErrorKind::UniqueViolation => Self::Conflict(constraint),
                    ErrorKind::ForeignKeyViolation => Self::ForeignKey(constraint),
                    ErrorKind::CheckViolation | ErrorKind::NotNullViolation => Self::Invalid(constraint),
                    _ => Self::Other(sqlx::Error::Database(db)),
                }
            }
            other => Self::Other(other),
        }
    }
}

impl From<DbError> for crate::domain::ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}
