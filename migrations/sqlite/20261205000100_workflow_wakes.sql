-- When an event's workflow was started with a start delay (its first notice far off), the moment
-- Temporal hands it its first task. Until then a plain signal would wait for that moment too, so
-- changes are told with signal-with-start, which wakes it at once. NULL: started without a delay.
ALTER TABLE events ADD COLUMN workflow_wakes_at TEXT;
