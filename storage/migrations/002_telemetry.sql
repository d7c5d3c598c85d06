-- Telemetry. Each message is keyed by (device_id, ts, seq): redelivery of the same message
-- (same device, same seq, same device timestamp) never doubles a row. The device timestamp is in
-- the key because TimescaleDB requires every unique index of a hypertable to include its time column.
-- uprn and bin_id are resolved at ingest time so that a reading stays with the household it came from.

CREATE TABLE bin_readings (
  ts           timestamptz NOT NULL,
  device_id    text NOT NULL,
  seq          bigint NOT NULL,
  bin_id       text,
  uprn         bigint,
  fill_pct     real NOT NULL,
  temp_c       real,
  battery_v    real,
  status       text,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, ts, seq)
);
CREATE INDEX bin_readings_bin_ts_idx ON bin_readings (bin_id, ts DESC);
CREATE INDEX bin_readings_uprn_ts_idx ON bin_readings (uprn, ts DESC);

CREATE TABLE lift_events (
  ts           timestamptz NOT NULL,
  device_id    text NOT NULL,
  seq          bigint NOT NULL,
  vehicle_id   text,
  tag          text NOT NULL,
  bin_id       text,
  uprn         bigint,
  weight_kg    real,
  lat          double precision NOT NULL,
  lon          double precision NOT NULL,
  outcome      text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, ts, seq)
);
CREATE INDEX lift_events_uprn_ts_idx ON lift_events (uprn, ts DESC);
CREATE INDEX lift_events_tag_ts_idx ON lift_events (tag, ts DESC);
CREATE INDEX lift_events_vehicle_ts_idx ON lift_events (vehicle_id, ts DESC);

CREATE TABLE vehicle_positions (
  ts           timestamptz NOT NULL,
  device_id    text NOT NULL,
  seq          bigint NOT NULL,
  vehicle_id   text,
  lat          double precision NOT NULL,
  lon          double precision NOT NULL,
  speed_kmh    real,
  heading      real,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, ts, seq)
);
CREATE INDEX vehicle_positions_vehicle_ts_idx ON vehicle_positions (vehicle_id, ts DESC);

-- Online/offline transitions (from the device's retained status and its MQTT last will).
CREATE TABLE device_status_events (
  id           bigserial PRIMARY KEY,
  device_id    text NOT NULL,
  ts           timestamptz NOT NULL,
  online       boolean NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_status_events_device_idx ON device_status_events (device_id, ts DESC);

-- Sequence gaps seen per device: messages the device numbered but that never arrived (yet).
CREATE TABLE device_gaps (
  device_id    text NOT NULL,
  after_seq    bigint NOT NULL,
  before_seq   bigint NOT NULL,
  missing      bigint NOT NULL,
  detected_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, after_seq)
);

-- Refused input, kept for inspection. Identical payloads on one topic are kept once and counted.
CREATE TABLE quarantine (
  id              bigserial PRIMARY KEY,
  topic           text NOT NULL,
  device_id       text,
  client_id       text,
  reason          text NOT NULL,
  detail          text,
  payload         bytea NOT NULL,
  payload_bytes   integer NOT NULL,
  payload_sha256  bytea NOT NULL,
  first_seen      timestamptz NOT NULL DEFAULT now(),
  last_seen       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topic, payload_sha256)
);
CREATE INDEX quarantine_reason_idx ON quarantine (reason, last_seen DESC);
