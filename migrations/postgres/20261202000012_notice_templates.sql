-- An organization's own wording of a kind of notice: subject and body templates with variables
-- ({{ event.name }}, …), checked when saved. No row: Herald's default wording.
CREATE TABLE notice_templates (
    org_id     UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('reminder', 'updated', 'cancelled')),
    subject    TEXT NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 200),
    body       TEXT NOT NULL CHECK (char_length(body) BETWEEN 1 AND 5000),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, kind)
);
