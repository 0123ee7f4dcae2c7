-- The trace of the request that saved a change (a W3C `traceparent`, with optional traces on), so
-- that a change the outbox drain tells later still joins the request's trace. Empty with traces off.
ALTER TABLE sync_outbox ADD COLUMN traceparent TEXT;
