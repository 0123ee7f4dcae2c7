-- Who did what and when, per organization: shown to its owners and admins. `subject` is a short
-- label (an event's name, a member's address); `detail` is short and never holds a secret.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    action        TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    subject       TEXT NOT NULL CHECK (length(subject) <= 300),
    detail        TEXT CHECK (length(detail) <= 300),
    created_at    TEXT NOT NULL
);
CREATE INDEX audit_log_org_created_idx ON audit_log (org_id, created_at);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
