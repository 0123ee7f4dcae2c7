-- Announcements (issue #15): an organizer's own message to an event's participants, filtered by
-- answer and role, sent now or at `send_at`. The event's workflow delivers it as the timed
-- notice `message:{id}` (ledger kind 'message'). Keep in step with migrations/postgres.
CREATE TABLE announcements (
    id           BLOB PRIMARY KEY NOT NULL,
    event_id     BLOB NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    author_id    BLOB REFERENCES users (id) ON DELETE SET NULL,
    subject      TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body         TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    -- JSON lists: answers among 'going', 'maybe', 'pending'; roles among 'organizer', 'speaker',
    -- 'volunteer', 'attendee'. Never empty.
    answers      TEXT NOT NULL,
    roles        TEXT NOT NULL,
    send_at      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX announcements_event_idx ON announcements (event_id, send_at);
