-- TimescaleDB full edition: native compression of older chunks and retention of raw positions.
ALTER TABLE bin_readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'ts DESC, seq DESC');
ALTER TABLE lift_events SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'ts DESC, seq DESC');
ALTER TABLE vehicle_positions SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'ts DESC, seq DESC');
SELECT add_compression_policy('bin_readings', INTERVAL '30 days');
SELECT add_compression_policy('lift_events', INTERVAL '60 days');
SELECT add_compression_policy('vehicle_positions', INTERVAL '7 days');
-- Raw vehicle positions are only needed to explain recent rounds; lifts and readings are kept.
SELECT add_retention_policy('vehicle_positions', INTERVAL '400 days');
