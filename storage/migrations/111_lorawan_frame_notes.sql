-- LoRaWAN frames worth a note (ingest/lorawan/uplink-handler.ts, docs/lorawan.md "Frames without a
-- usable distance"): a frame that gave no reading (no usable distance, a payload the codec cannot
-- read) and a reading stored with a flag (blind zone, overfull, beyond the bin's depth). A frame
-- without a reading still used its frame counter, so its seq counts as heard in the device's
-- sequence (no gap is opened for it, and an open gap it falls in is filled); the primary key makes
-- that happen once however often the frame is delivered (several gateways, retries, backfill).
CREATE TABLE lorawan_frame_notes (
  device_id  text NOT NULL REFERENCES devices (device_id),
  seq        bigint NOT NULL,
  -- Network-server time of reception (the reading's ts when one was stored).
  ts         timestamptz NOT NULL,
  -- A reading was stored for the frame (with flags), or not (reason says why).
  stored     boolean NOT NULL,
  reason     text,
  flags      text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, seq)
);
CREATE INDEX lorawan_frame_notes_recent_idx ON lorawan_frame_notes (device_id, ts DESC);
