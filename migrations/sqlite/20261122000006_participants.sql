-- Participants (issue #5): invitees' names, idempotent participant creation, CSV imports and
-- private calendar feeds. Keep in step with migrations/postgres.

-- The name given for an invited address (CSV import), shown until the person signs up.
ALTER TABLE event_participants ADD COLUMN invited_name TEXT
    CHECK (invited_name IS NULL OR length(invited_name) BETWEEN 1 AND 100);

-- An idempotency key may also stand for a participant added through the API (POST
-- /events/{id}/participants); `event_id` is then the participant's event.
ALTER TABLE idempotency_keys ADD COLUMN participant_id BLOB
    REFERENCES event_participants (id) ON DELETE CASCADE;

-- CSV imports of participants, processed in the background; `report` is one entry per row.
CREATE TABLE imports (
    id         BLOB PRIMARY KEY NOT NULL,
    event_id   BLOB NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    total      INTEGER NOT NULL CHECK (total >= 0),
    done       INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
    report     TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX imports_event_idx ON imports (event_id);

-- A user's private calendar feed of joined events: one secret URL, stored as SHA-256.
CREATE TABLE calendar_feeds (
    user_id      BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
