-- The newest reading of every bin sensor and the newest position of every vehicle unit, kept by
-- ingest in the same transaction as the telemetry rows. The live map, the household summary and
-- the sensor-health checks read these instead of probing history for each of a city's bins.
CREATE TABLE latest_readings (
  device_id  text PRIMARY KEY,
  bin_id     text,
  uprn       bigint,
  ts         timestamptz NOT NULL,
  seq        bigint NOT NULL,
  fill_pct   real NOT NULL,
  temp_c     real,
  battery_v  real,
  status     text
);
CREATE INDEX latest_readings_bin_idx ON latest_readings (bin_id);

CREATE TABLE latest_positions (
  device_id   text PRIMARY KEY,
  vehicle_id  text,
  ts          timestamptz NOT NULL,
  seq         bigint NOT NULL,
  lat         double precision NOT NULL,
  lon         double precision NOT NULL,
  speed_kmh   real,
  heading     real
);
CREATE INDEX latest_positions_vehicle_idx ON latest_positions (vehicle_id);

INSERT INTO latest_readings (device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v, status)
SELECT DISTINCT ON (device_id) device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v, status
  FROM bin_readings ORDER BY device_id, ts DESC, seq DESC;

INSERT INTO latest_positions (device_id, vehicle_id, ts, seq, lat, lon, speed_kmh, heading)
SELECT DISTINCT ON (device_id) device_id, vehicle_id, ts, seq, lat, lon, speed_kmh, heading
  FROM vehicle_positions ORDER BY device_id, ts DESC, seq DESC;
