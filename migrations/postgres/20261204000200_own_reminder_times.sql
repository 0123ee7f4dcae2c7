-- A participant's own reminder times beside those the organizer offers (issue 15): on one event
-- (`reminder_own`, NULL: their default own times apply) and as a default for every event
-- (`reminder_own_default`, NULL: none). JSON lists of seconds before the start. `_at`: when they
-- were set, so a time already past then is never planned.
ALTER TABLE event_participants ADD COLUMN reminder_own JSONB;
ALTER TABLE event_participants ADD COLUMN reminder_own_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN reminder_own_default JSONB;
ALTER TABLE users ADD COLUMN reminder_own_default_at TIMESTAMPTZ;
