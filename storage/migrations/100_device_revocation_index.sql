-- The broker looks every half second for devices revoked in the last half minute, to disconnect
-- them at once (broker/revocation.ts); a partial index keeps that a few rows, whatever the fleet.
CREATE INDEX IF NOT EXISTS devices_revoked_at_idx ON devices (revoked_at) WHERE revoked_at IS NOT NULL;
