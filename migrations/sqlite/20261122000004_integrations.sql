-- Integrations: confirmation codes, and each user's default tags. Keep in step with migrations/postgres.

-- A new or changed integration becomes active only once its owner enters the code it received.
-- Only an HMAC of the code is stored.
ALTER TABLE integrations ADD COLUMN confirm_code_hash TEXT;
ALTER TABLE integrations ADD COLUMN confirm_expires_at TEXT;
ALTER TABLE integrations ADD COLUMN confirm_attempts INTEGER NOT NULL DEFAULT 0 CHECK (confirm_attempts >= 0);
ALTER TABLE integrations ADD COLUMN confirm_sent_at TEXT;

-- Which tags receive reminders and which receive urgent changes (JSON lists of tags; an empty
-- list means every URL of every active channel). Used as the default when joining an event.
ALTER TABLE users ADD COLUMN reminder_tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN urgent_tags TEXT NOT NULL DEFAULT '[]';
