-- Herald's initial schema (PostgreSQL). Keep in step with migrations/sqlite.
-- Ids are UUIDs; times are timestamptz written by Herald; lists and payloads are JSONB.

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    display_name  TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash TEXT,
    verified_at   TIMESTAMPTZ,
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    locale        TEXT NOT NULL DEFAULT 'en',
    date_format   TEXT NOT NULL DEFAULT 'iso',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL, -- SHA-256 of the cookie value, never the value itself
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data         JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE organizations (
    id         UUID PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 64),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    org_id     UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'organizer', 'member')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email       TEXT NOT NULL CHECK (email = lower(email)),
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'organizer', 'member')),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ
);
-- One open invitation per address and organization.
CREATE UNIQUE INDEX invitations_open_idx ON invitations (org_id, email) WHERE accepted_at IS NULL;

CREATE TABLE integrations (
    id                UUID PRIMARY KEY,
    user_id           UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    config_key        TEXT NOT NULL UNIQUE CHECK (length(config_key) BETWEEN 22 AND 128),
    config_ciphertext BYTEA NOT NULL, -- the Apprise text config, encrypted; never stored in clear
    tags              JSONB NOT NULL DEFAULT '[]',
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    verified_at       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE events (
    id                  UUID PRIMARY KEY,
    org_id              UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug                TEXT NOT NULL CHECK (length(slug) BETWEEN 1 AND 100),
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         TEXT NOT NULL DEFAULT '',
    location            TEXT,
    online_url          TEXT,
    starts_at           TIMESTAMPTZ NOT NULL,
    ends_at             TIMESTAMPTZ NOT NULL,
    timezone            TEXT NOT NULL,
    visibility          TEXT NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private')),
    reminder_offsets    JSONB NOT NULL DEFAULT '[]', -- seconds before starts_at
    notify_reminders    BOOLEAN NOT NULL DEFAULT TRUE,
    notify_changes      BOOLEAN NOT NULL DEFAULT TRUE,
    notify_cancellation BOOLEAN NOT NULL DEFAULT TRUE,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    revision            BIGINT NOT NULL DEFAULT 0 CHECK (revision >= 0),
    workflow_id         TEXT UNIQUE,
    workflow_started_at TIMESTAMPTZ,
    created_by          UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, slug),
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_org_starts_idx ON events (org_id, starts_at);
CREATE INDEX events_status_ends_idx ON events (status, ends_at);

CREATE TABLE event_participants (
    id            UUID PRIMARY KEY,
    event_id      UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id       UUID REFERENCES users (id) ON DELETE CASCADE,
    invited_email TEXT CHECK (invited_email = lower(invited_email)),
    role          TEXT NOT NULL CHECK (role IN ('organizer', 'speaker', 'volunteer', 'attendee')),
    rsvp          TEXT NOT NULL CHECK (rsvp IN ('pending', 'going', 'maybe', 'declined')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CHECK (user_id IS NOT NULL OR invited_email IS NOT NULL),
    UNIQUE (event_id, user_id)
);
CREATE UNIQUE INDEX event_participants_invited_idx ON event_participants (event_id, invited_email)
    WHERE invited_email IS NOT NULL;
CREATE INDEX event_participants_user_idx ON event_participants (user_id);

-- Which of a participant's integrations an event uses, and with which tags.
CREATE TABLE participant_channels (
    participant_id UUID NOT NULL REFERENCES event_participants (id) ON DELETE CASCADE,
    integration_id UUID NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    tags           JSONB NOT NULL DEFAULT '[]',
    PRIMARY KEY (participant_id, integration_id)
);
CREATE INDEX participant_channels_integration_idx ON participant_channels (integration_id);

CREATE TABLE event_updates (
    id           UUID PRIMARY KEY,
    event_id     UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    revision     BIGINT NOT NULL CHECK (revision >= 0),
    kind         TEXT NOT NULL CHECK (kind IN ('published', 'updated', 'cancelled', 'message')),
    payload      JSONB NOT NULL DEFAULT '{}',
    author_id    UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    signalled_at TIMESTAMPTZ,
    UNIQUE (event_id, revision)
);
CREATE INDEX event_updates_unsignalled_idx ON event_updates (created_at) WHERE signalled_at IS NULL;

-- The delivery ledger: one row per (notice, participant, integration).
CREATE TABLE notifications (
    id              UUID PRIMARY KEY,
    event_id        UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    participant_id  UUID REFERENCES event_participants (id) ON DELETE SET NULL,
    integration_id  UUID REFERENCES integrations (id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reminder', 'updated', 'cancelled', 'message')),
    idempotency_key TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'partial', 'failed', 'expired', 'skipped')),
    due_at          TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    apprise_status  BIGINT,
    apprise_answer  TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_event_due_idx ON notifications (event_id, due_at);
CREATE INDEX notifications_participant_idx ON notifications (participant_id);
CREATE INDEX notifications_status_idx ON notifications (status, due_at);
