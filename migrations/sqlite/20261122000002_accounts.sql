-- Single-use links sent by mail (email verification, password reset). Only a hash is stored.
CREATE TABLE auth_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id, purpose);

-- Failed sign-ins, for throttling per account and per client address. Old rows are pruned.
CREATE TABLE sign_in_failures (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    subject    TEXT NOT NULL, -- 'email:<address>' or 'ip:<address>'
    failed_at  TEXT NOT NULL
);
CREATE INDEX sign_in_failures_subject_idx ON sign_in_failures (subject, failed_at);
