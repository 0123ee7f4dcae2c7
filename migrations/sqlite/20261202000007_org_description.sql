-- What the organization's public page says about it: plain text, at most 1,000 characters.
ALTER TABLE organizations ADD COLUMN description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1000);
