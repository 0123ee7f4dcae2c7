-- API tokens may expire; a token past `expires_at` no longer works (NULL: it does not expire).
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
