-- Single-use links sent by mail (email verification, password reset). Only a hash is stored.
CREATE TABLE auth_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id, purpose);

-- Failed sign-ins, for throttling per account and per client address. Old rows are pruned.
CREATE TABLE sign_in_failures (
    id         BIGSERIAL PRIMARY KEY,
    subject    TEXT NOT NULL, -- 'email:<address>' or 'ip:<address>'
    failed_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_subject_idx ON sign_in_failures (subject, failed_at);
