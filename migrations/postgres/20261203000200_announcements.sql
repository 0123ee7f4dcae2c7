-- Announcements (issue #15): an organizer's own message to an event's participants, filtered by
-- answer and role, sent now or at `send_at`. The event's workflow delivers it as the timed
-- notice `message:{id}` (ledger kind 'message'). Keep in step with migrations/sqlite.
CREATE TABLE announcements (
    id           UUID PRIMARY KEY NOT NULL,
    event_id     UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    author_id    UUID REFERENCES users (id) ON DELETE SET NULL,
    subject      TEXT NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 200),
    body         TEXT NOT NULL CHECK (char_length(body) BETWEEN 1 AND 10000),
    -- JSON lists: answers among 'going', 'maybe', 'pending'; roles among 'organizer', 'speaker',
    -- 'volunteer', 'attendee'. Never empty.
    answers      JSONB NOT NULL,
    roles        JSONB NOT NULL,
    send_at      TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ
);
CREATE INDEX announcements_event_idx ON announcements (event_id, send_at);
