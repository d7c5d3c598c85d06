-- LoRaWAN bin sensors (ingest/lorawan, docs/lorawan.md): a device registered by its DevEUI is a
-- Kerbside bin device (devices) with its sensor model, for the payload codec, and an optional
-- calibration of the bin's geometry. Frame-counter sessions turn LoRaWAN FCnt, which starts again at
-- 0 on a re-join, into the device's ever-growing seq (ingest/lorawan/frame-counter.ts).

CREATE TABLE lorawan_devices (
  dev_eui          text PRIMARY KEY CHECK (dev_eui ~ '^[0-9A-F]{16}$'),
  device_id        text NOT NULL UNIQUE REFERENCES devices (device_id),
  model            text NOT NULL,
  -- {innerDepthMm?, mountOffsetMm?, blindZoneMm?}: overrides of the defaults for the bin's capacity.
  calibration      jsonb NOT NULL DEFAULT '{}'::jsonb,
  joins            integer NOT NULL DEFAULT 0,
  last_join_at     timestamptz,
  -- Battery from status events and frames without a reading; the readings carry their own volts.
  battery_pct      real,
  battery_v        real,
  battery_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lorawan_sessions (
  dev_eui           text NOT NULL REFERENCES lorawan_devices (dev_eui) ON DELETE CASCADE,
  session_no        integer NOT NULL CHECK (session_no > 0),
  -- Network-server time of the join, or of the session's first uplink.
  started_at        timestamptz NOT NULL,
  seq_base          bigint NOT NULL CHECK (seq_base >= 0),
  max_f_cnt         bigint NOT NULL CHECK (max_f_cnt >= -1),
  last_received_at  timestamptz NOT NULL,
  reason            text NOT NULL CHECK (reason IN ('first', 'join', 'f_cnt_reset')),
  PRIMARY KEY (dev_eui, session_no)
);
