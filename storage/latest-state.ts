// latest_readings / latest_positions are kept by ingest as it writes. Data loaded another way
// (bulk COPY, a restore, a backfill) bypasses ingest: rebuild them from history afterwards.
import type { Queryable } from './database.ts'

export async function rebuildLatestState(db: Queryable): Promise<void> {
  await db.query(`
    INSERT INTO latest_readings (device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v, status)
    SELECT DISTINCT ON (device_id) device_id, bin_id, uprn, ts, seq, fill_pct, temp_c, battery_v, status
      FROM bin_readings ORDER BY device_id, ts DESC, seq DESC
    ON CONFLICT (device_id) DO UPDATE SET bin_id = excluded.bin_id, uprn = excluded.uprn, ts = excluded.ts, seq = excluded.seq,
      fill_pct = excluded.fill_pct, temp_c = excluded.temp_c, battery_v = excluded.battery_v, status = excluded.status
     WHERE latest_readings.ts < excluded.ts OR (latest_readings.ts = excluded.ts AND latest_readings.seq < excluded.seq)`)
  await db.query(`
    INSERT INTO latest_positions (device_id, vehicle_id, ts, seq, lat, lon, speed_kmh, heading)
    SELECT DISTINCT ON (device_id) device_id, vehicle_id, ts, seq, lat, lon, speed_kmh, heading
      FROM vehicle_positions ORDER BY device_id, ts DESC, seq DESC
    ON CONFLICT (device_id) DO UPDATE SET vehicle_id = excluded.vehicle_id, ts = excluded.ts, seq = excluded.seq, lat = excluded.lat,
      lon = excluded.lon, speed_kmh = excluded.speed_kmh, heading = excluded.heading
     WHERE latest_positions.ts < excluded.ts OR (latest_positions.ts = excluded.ts AND latest_positions.seq < excluded.seq)`)
}
