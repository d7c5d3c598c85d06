-- Hourly roll-up of bin readings as a continuous aggregate (full edition). Sum and count rather than
-- an average, so that coarser buckets re-aggregate exactly. Real-time aggregation answers for the
-- newest hours that the policy has not materialised yet.
CREATE MATERIALIZED VIEW bin_readings_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT device_id,
       time_bucket(INTERVAL '1 hour', ts) AS bucket,
       count(*)::bigint AS n,
       sum(fill_pct)::double precision AS fill_sum,
       min(fill_pct) AS fill_min,
       max(fill_pct) AS fill_max,
       max(temp_c) AS temp_max,
       min(battery_v) AS battery_min
FROM bin_readings
GROUP BY device_id, time_bucket(INTERVAL '1 hour', ts)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('bin_readings_hourly',
  start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes');
