-- Guests: a visitor answers a public or unlisted event with a name and an address, no password.
-- The answer waits here until the link mailed to that address is followed (once, before it
-- expires); only then does the address become a participant (and, if it had none, a
-- passwordless account that gets the built-in email channel).
CREATE TABLE guest_answers (
    id         UUID PRIMARY KEY NOT NULL,
    event_id   UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    email      TEXT NOT NULL CHECK (email = lower(email)),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    rsvp       TEXT NOT NULL CHECK (rsvp IN ('going', 'maybe', 'declined')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX guest_answers_event_idx ON guest_answers (event_id);
