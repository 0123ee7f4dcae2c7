-- Rules per audience. An event's `reminder_offsets` stay every role's reminders; a role may have
-- its own (`role_reminders`: role name → seconds before the start). The follow-up is a thank-you
-- `follow_up_after` seconds after the end (NULL: none), with an optional feedback link.
ALTER TABLE events ADD COLUMN role_reminders JSONB NOT NULL DEFAULT '{}';
ALTER TABLE events ADD COLUMN follow_up_after BIGINT CHECK (follow_up_after IS NULL OR follow_up_after BETWEEN 1 AND 2592000);
ALTER TABLE events ADD COLUMN follow_up_link TEXT;

-- A participant's choice among the reminders offered to their role, and a user's preferred
-- reminder times for events where they chose nothing (JSON lists of seconds; NULL: all offered).
ALTER TABLE event_participants ADD COLUMN reminder_choice JSONB;
ALTER TABLE users ADD COLUMN reminder_default JSONB;

-- An organization's defaults for its new events.
CREATE TABLE org_event_defaults (
    org_id           UUID PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    reminder_offsets JSONB NOT NULL DEFAULT '[]',
    role_reminders   JSONB NOT NULL DEFAULT '{}',
    follow_up_after  BIGINT CHECK (follow_up_after IS NULL OR follow_up_after BETWEEN 1 AND 2592000),
    follow_up_link   TEXT,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- The follow-up's wording may be the organization's own.
ALTER TABLE notice_templates DROP CONSTRAINT notice_templates_kind_check;
ALTER TABLE notice_templates ADD CONSTRAINT notice_templates_kind_check
    CHECK (kind IN ('reminder', 'updated', 'cancelled', 'follow_up'));
