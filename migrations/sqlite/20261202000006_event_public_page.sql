-- Whether the event's public page says how many are going and maybe; off by default.
ALTER TABLE events ADD COLUMN show_attendee_count INTEGER NOT NULL DEFAULT 0 CHECK (show_attendee_count IN (0, 1));

-- An optional cover image per event, shown on its public page and in link previews. The type is
-- the one detected from the bytes (PNG, JPEG or WebP), never the uploaded file's name.
CREATE TABLE event_covers (
    event_id     BLOB PRIMARY KEY NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    bytes        BLOB NOT NULL,
    updated_at   TEXT NOT NULL
);
