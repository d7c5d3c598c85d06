-- Hourly roll-up of bin readings as a plain table (Apache edition and plain PostgreSQL), kept by
-- Kerbside's own roll-up job up to `rolled_up_to`; queries add raw readings after that point, so
-- answers equal those of the continuous aggregate on the full edition.
CREATE TABLE bin_readings_hourly (
  device_id    text NOT NULL,
  bucket       timestamptz NOT NULL,
  n            bigint NOT NULL,
  fill_sum     double precision NOT NULL,
  fill_min     real NOT NULL,
  fill_max     real NOT NULL,
  temp_max     real,
  battery_min  real,
  PRIMARY KEY (device_id, bucket)
);

CREATE TABLE rollup_state (
  name          text PRIMARY KEY,
  rolled_up_to  timestamptz NOT NULL
);
INSERT INTO rollup_state (name, rolled_up_to) VALUES ('bin_readings_hourly', '1970-01-01T00:00:00Z');
