-- The outbox of changes to tell Temporal: written in the same transaction as the event change
-- (one row per `event_updates` row), drained by a background task in every Herald process into
-- workflow starts and signals, deleted once told. `due_at` is when a process may next claim the
-- row: a claim moves it a lease ahead, so a process that dies holding it only delays it.
CREATE TABLE sync_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   BLOB NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL CHECK (revision >= 0),
    created_at TEXT NOT NULL,
    due_at     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sync_outbox_due_idx ON sync_outbox (due_at);
CREATE INDEX sync_outbox_event_idx ON sync_outbox (event_id);
