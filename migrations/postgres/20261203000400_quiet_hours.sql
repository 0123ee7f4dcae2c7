-- Quiet hours and the daily digest (issue 15). A user's quiet hours are local clock times in
-- their own zone ('22:00', or '22:00:30'); both set or both empty. `digest_at`: when non-urgent
-- notices are gathered into one message a day (empty: they come one by one).
ALTER TABLE users ADD COLUMN quiet_start TEXT;
ALTER TABLE users ADD COLUMN quiet_end TEXT;
ALTER TABLE users ADD COLUMN digest_at TEXT;

-- One daily digest through one channel: the held notices it gathers point to it. Claimed by one
-- `deliver` activity (`claimed_by`), which alone sends it; its key makes it once per person,
-- channel and time.
CREATE TABLE digests (
    id              UUID PRIMARY KEY NOT NULL,
    user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    integration_id  UUID REFERENCES integrations (id) ON DELETE SET NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    claimed_by      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'partial', 'failed', 'expired', 'skipped')),
    due_at          TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    apprise_status  INTEGER,
    apprise_answer  TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX digests_claimed_idx ON digests (claimed_by);

-- A notice held for its recipient's quiet hours or digest: still `pending`, with the message as
-- rendered when it was due (`held`: title, body, tag, type), released at `hold_until`, alone or
-- gathered into a digest (`held_digest`, then `digest_id`).
ALTER TABLE notifications ADD COLUMN hold_until TIMESTAMPTZ;
ALTER TABLE notifications ADD COLUMN held_digest BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE notifications ADD COLUMN held JSONB;
ALTER TABLE notifications ADD COLUMN digest_id UUID REFERENCES digests (id) ON DELETE SET NULL;
CREATE INDEX notifications_held_idx ON notifications (hold_until) WHERE hold_until IS NOT NULL;

-- Asks the event's workflow to read its plan again without a new revision (someone's quiet
-- hours changed).
ALTER TABLE sync_outbox ADD COLUMN refresh BOOLEAN NOT NULL DEFAULT FALSE;
