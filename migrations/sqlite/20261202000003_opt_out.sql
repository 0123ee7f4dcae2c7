-- One-click opt-out: a participant who followed the link in a message gets no more messages
-- about this event (the ledger records each one skipped, with the reason) until they resume.
ALTER TABLE event_participants ADD COLUMN opted_out_at TEXT;
