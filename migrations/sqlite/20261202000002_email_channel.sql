-- The built-in email channel: Herald makes one per verified account when system mail is set up
-- (HERALD_MAIL_URL). Its config is the operator's mail URL with the account's address; the user
-- can switch it off but not edit or delete it. At most one per user.
ALTER TABLE integrations ADD COLUMN kind TEXT NOT NULL DEFAULT 'apprise' CHECK (kind IN ('apprise', 'email'));
CREATE UNIQUE INDEX integrations_email_idx ON integrations (user_id) WHERE kind = 'email';
