-- Refused input browsed by an operator (GET /api/v1/quarantine, the dashboard's Quarantine page):
-- by device, by reason and by time, newest first. Identical payloads on one topic stay one row;
-- times_seen counts how often it came, so the counts by reason are of messages, not only of rows.
ALTER TABLE quarantine ADD COLUMN times_seen integer NOT NULL DEFAULT 1;
CREATE INDEX quarantine_last_seen_idx ON quarantine (last_seen DESC, id DESC);
CREATE INDEX quarantine_device_idx ON quarantine (device_id, last_seen DESC) WHERE device_id IS NOT NULL;
