-- The registry-heavy screens at city scale (210,000 households, 500,000 bins): household search and
-- the devices list find what was typed through an index each, whatever the size of the registry
-- (storage/households.ts searchHouseholds, storage/device-list.ts).
--
-- Postcodes are matched written any way ("l11aa", "L1 1AA"): upper case, spaces removed, whole or
-- their start. Addresses and streets by their start, in any case. text_pattern_ops makes the
-- indexes serve LIKE 'start%' whatever the database's collation.
CREATE INDEX IF NOT EXISTS households_postcode_compact_idx ON households ((replace(upper(postcode), ' ', '')) text_pattern_ops);
CREATE INDEX IF NOT EXISTS households_address_start_idx ON households (lower(address) text_pattern_ops);
CREATE INDEX IF NOT EXISTS households_street_start_idx ON households (lower(street) text_pattern_ops);

-- Devices by the start of their id (ids are case-sensitive); by when last heard (silent sensors);
-- online ones counted from a partial index; the last reading's battery (low battery).
CREATE INDEX IF NOT EXISTS devices_id_start_idx ON devices (device_id text_pattern_ops);
CREATE INDEX IF NOT EXISTS devices_last_ts_idx ON devices (last_ts) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS devices_online_idx ON devices (kind) WHERE online AND revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS devices_active_kind_idx ON devices (kind) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS latest_readings_battery_idx ON latest_readings (battery_v);

-- Quarantined recently, by device (the same index as migration 115's, if that one ran).
CREATE INDEX IF NOT EXISTS quarantine_device_idx ON quarantine (device_id, last_seen DESC) WHERE device_id IS NOT NULL;
