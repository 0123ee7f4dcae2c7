-- A ledger row is claimed by the `deliver` attempt about to send it (`sending_token`: that
-- attempt's own token, `sending_at`: when), in the same write as the outcomes before it, and the
-- claim is cleared with the outcome. Only the attempt holding the claim sends, so two attempts of
-- one batch (a retry that overlaps a slow one) never both send a message. A claim left behind by an
-- attempt that died mid-send is resolved as `uncertain`: the message was on its way and is not sent
-- again, so nobody gets it twice. SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE notifications_new (
    id              BLOB PRIMARY KEY NOT NULL,
    event_id        BLOB NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    participant_id  BLOB REFERENCES event_participants (id) ON DELETE SET NULL,
    integration_id  BLOB REFERENCES integrations (id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reminder', 'updated', 'cancelled', 'message')),
    idempotency_key TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'partial', 'failed', 'expired', 'skipped', 'uncertain')),
    due_at          TEXT NOT NULL,
    sent_at         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    apprise_status  INTEGER,
    apprise_answer  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    hold_until      TEXT,
    held_digest     INTEGER NOT NULL DEFAULT 0,
    held            TEXT,
    digest_id       BLOB REFERENCES digests (id) ON DELETE SET NULL,
    sending_token   BLOB,
    sending_at      TEXT
);
INSERT INTO notifications_new (id, event_id, participant_id, integration_id, kind, idempotency_key, status,
    due_at, sent_at, attempts, apprise_status, apprise_answer, created_at, updated_at, hold_until,
    held_digest, held, digest_id)
SELECT id, event_id, participant_id, integration_id, kind, idempotency_key, status, due_at, sent_at,
    attempts, apprise_status, apprise_answer, created_at, updated_at, hold_until, held_digest, held,
    digest_id
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_event_due_idx ON notifications (event_id, due_at);
CREATE INDEX notifications_participant_idx ON notifications (participant_id);
CREATE INDEX notifications_status_idx ON notifications (status, due_at);
CREATE INDEX notifications_held_idx ON notifications (hold_until) WHERE hold_until IS NOT NULL;
