-- TimescaleDB (full or Apache edition): telemetry tables become hypertables partitioned by device time.
SELECT create_hypertable('bin_readings', by_range('ts', INTERVAL '7 days'));
SELECT create_hypertable('lift_events', by_range('ts', INTERVAL '7 days'));
SELECT create_hypertable('vehicle_positions', by_range('ts', INTERVAL '1 day'));
