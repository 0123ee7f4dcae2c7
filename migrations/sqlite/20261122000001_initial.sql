-- Herald's initial schema (SQLite). Keep in step with migrations/postgres.
-- Ids are UUIDs stored as 16-byte BLOBs; times are UTC timestamps written by Herald
-- (RFC 3339 text); lists and payloads are JSON text; booleans are 0/1.

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    display_name  TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash TEXT,
    verified_at   TEXT,
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    locale        TEXT NOT NULL DEFAULT 'en',
    date_format   TEXT NOT NULL DEFAULT 'iso',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL, -- SHA-256 of the cookie value, never the value itself
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data         TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE organizations (
    id         BLOB PRIMARY KEY NOT NULL,
    slug       TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 64),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE memberships (
    org_id     BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'organizer', 'member')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
    id          BLOB PRIMARY KEY NOT NULL,
    org_id      BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email       TEXT NOT NULL CHECK (email = lower(email)),
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'organizer', 'member')),
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    accepted_at TEXT
);
-- One open invitation per address and organization.
CREATE UNIQUE INDEX invitations_open_idx ON invitations (org_id, email) WHERE accepted_at IS NULL;

CREATE TABLE integrations (
    id                BLOB PRIMARY KEY NOT NULL,
    user_id           BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    config_key        TEXT NOT NULL UNIQUE CHECK (length(config_key) BETWEEN 22 AND 128),
    config_ciphertext BLOB NOT NULL, -- the Apprise text config, encrypted; never stored in clear
    tags              TEXT NOT NULL DEFAULT '[]',
    enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    verified_at       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE events (
    id                  BLOB PRIMARY KEY NOT NULL,
    org_id              BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug                TEXT NOT NULL CHECK (length(slug) BETWEEN 1 AND 100),
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         TEXT NOT NULL DEFAULT '',
    location            TEXT,
    online_url          TEXT,
    starts_at           TEXT NOT NULL,
    ends_at             TEXT NOT NULL,
    timezone            TEXT NOT NULL,
    visibility          TEXT NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private')),
    reminder_offsets    TEXT NOT NULL DEFAULT '[]', -- seconds before starts_at
    notify_reminders    INTEGER NOT NULL DEFAULT 1 CHECK (notify_reminders IN (0, 1)),
    notify_changes      INTEGER NOT NULL DEFAULT 1 CHECK (notify_changes IN (0, 1)),
    notify_cancellation INTEGER NOT NULL DEFAULT 1 CHECK (notify_cancellation IN (0, 1)),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    revision            INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0),
    workflow_id         TEXT UNIQUE,
    workflow_started_at TEXT,
    created_by          BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (org_id, slug),
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_org_starts_idx ON events (org_id, starts_at);
CREATE INDEX events_status_ends_idx ON events (status, ends_at);

CREATE TABLE event_participants (
    id            BLOB PRIMARY KEY NOT NULL,
    event_id      BLOB NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id       BLOB REFERENCES users (id) ON DELETE CASCADE,
    invited_email TEXT CHECK (invited_email = lower(invited_email)),
    role          TEXT NOT NULL CHECK (role IN ('organizer', 'speaker', 'volunteer', 'attendee')),
    rsvp          TEXT NOT NULL CHECK (rsvp IN ('pending', 'going', 'maybe', 'declined')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (user_id IS NOT NULL OR invited_email IS NOT NULL),
    UNIQUE (event_id, user_id)
);
CREATE UNIQUE INDEX event_participants_invited_idx ON event_participants (event_id, invited_email)
    WHERE invited_email IS NOT NULL;
CREATE INDEX event_participants_user_idx ON event_participants (user_id);

-- Which of a participant's integrations an event uses, and with which tags.
CREATE TABLE participant_channels (
    participant_id BLOB NOT NULL REFERENCES event_participants (id) ON DELETE CASCADE,
    integration_id BLOB NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    tags           TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (participant_id, integration_id)
);
CREATE INDEX participant_channels_integration_idx ON participant_channels (integration_id);

CREATE TABLE event_updates (
    id           BLOB PRIMARY KEY NOT NULL,
    event_id     BLOB NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    revision     INTEGER NOT NULL CHECK (revision >= 0),
    kind         TEXT NOT NULL CHECK (kind IN ('published', 'updated', 'cancelled', 'message')),
    payload      TEXT NOT NULL DEFAULT '{}',
    author_id    BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    signalled_at TEXT,
    UNIQUE (event_id, revision)
);
CREATE INDEX event_updates_unsignalled_idx ON event_updates (created_at) WHERE signalled_at IS NULL;

-- The delivery ledger: one row per (notice, participant, integration).
CREATE TABLE notifications (
    id              BLOB PRIMARY KEY NOT NULL,
    event_id        BLOB NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    participant_id  BLOB REFERENCES event_participants (id) ON DELETE SET NULL,
    integration_id  BLOB REFERENCES integrations (id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reminder', 'updated', 'cancelled', 'message')),
    idempotency_key TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'partial', 'failed', 'expired', 'skipped')),
    due_at          TEXT NOT NULL,
    sent_at         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    apprise_status  INTEGER,
    apprise_answer  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX notifications_event_due_idx ON notifications (event_id, due_at);
CREATE INDEX notifications_participant_idx ON notifications (participant_id);
CREATE INDEX notifications_status_idx ON notifications (status, due_at);
