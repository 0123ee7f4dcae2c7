-- Whether visitors may answer the event without an account (guests); on by default. Only
-- public and unlisted events take guests at all.
ALTER TABLE events ADD COLUMN guests INTEGER NOT NULL DEFAULT 1 CHECK (guests IN (0, 1));
