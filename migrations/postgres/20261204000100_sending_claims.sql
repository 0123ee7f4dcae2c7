-- A ledger row is claimed by the `deliver` attempt about to send it (`sending_token`: that
-- attempt's own token, `sending_at`: when), in the same write as the outcomes before it, and the
-- claim is cleared with the outcome. Only the attempt holding the claim sends, so two attempts of
-- one batch (a retry that overlaps a slow one) never both send a message. A claim left behind by an
-- attempt that died mid-send is resolved as `uncertain`: the message was on its way and is not sent
-- again, so nobody gets it twice.
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sent', 'partial', 'failed', 'expired', 'skipped', 'uncertain'));
ALTER TABLE notifications ADD COLUMN sending_token UUID;
ALTER TABLE notifications ADD COLUMN sending_at TIMESTAMPTZ;
