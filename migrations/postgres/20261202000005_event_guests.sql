-- Whether visitors may answer the event without an account (guests); on by default. Only
-- public and unlisted events take guests at all.
ALTER TABLE events ADD COLUMN guests BOOLEAN NOT NULL DEFAULT TRUE;
