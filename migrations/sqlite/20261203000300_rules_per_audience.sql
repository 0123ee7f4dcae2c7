-- Rules per audience. An event's `reminder_offsets` stay every role's reminders; a role may have
-- its own (`role_reminders`: role name → seconds before the start). The follow-up is a thank-you
-- `follow_up_after` seconds after the end (NULL: none), with an optional feedback link.
ALTER TABLE events ADD COLUMN role_reminders TEXT NOT NULL DEFAULT '{}';
ALTER TABLE events ADD COLUMN follow_up_after INTEGER CHECK (follow_up_after IS NULL OR follow_up_after BETWEEN 1 AND 2592000);
ALTER TABLE events ADD COLUMN follow_up_link TEXT;

-- A participant's choice among the reminders offered to their role, and a user's preferred
-- reminder times for events where they chose nothing (JSON lists of seconds; NULL: all offered).
ALTER TABLE event_participants ADD COLUMN reminder_choice TEXT;
ALTER TABLE users ADD COLUMN reminder_default TEXT;

-- An organization's defaults for its new events.
CREATE TABLE org_event_defaults (
    org_id           BLOB PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    reminder_offsets TEXT NOT NULL DEFAULT '[]',
    role_reminders   TEXT NOT NULL DEFAULT '{}',
    follow_up_after  INTEGER CHECK (follow_up_after IS NULL OR follow_up_after BETWEEN 1 AND 2592000),
    follow_up_link   TEXT,
    updated_at       TEXT NOT NULL
);

-- The follow-up's wording may be the organization's own: SQLite changes a CHECK constraint by
-- rebuilding the (small) table.
CREATE TABLE notice_templates_new (
    org_id     BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('reminder', 'updated', 'cancelled', 'follow_up')),
    subject    TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body       TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, kind)
);
INSERT INTO notice_templates_new (org_id, kind, subject, body, updated_at)
    SELECT org_id, kind, subject, body, updated_at FROM notice_templates;
DROP TABLE notice_templates;
ALTER TABLE notice_templates_new RENAME TO notice_templates;
