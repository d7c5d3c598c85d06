// Queries behind the live city map. Each stays fast at city size:
// - the last reading of every bin and the last position of every vehicle come from latest_readings
//   and latest_positions, which ingest keeps in the same transaction as the telemetry: a join, never
//   a probe into history per bin;
// - whole-city results come back as one row of JSON arrays (json_agg), not one row per bin: the
//   embedded database hands rows to JavaScript one by one, and 40,000 rows cost more than the query
//   itself. Every array of one query shares one ORDER BY, so the planner sorts once (PostgreSQL 16+)
//   and position k of each array is the same household or bin.
// JSON rather than SQL arrays: PGlite's array parser turns NULL elements into NaN, 'NULL' or false,
// and `pg` returns bigint arrays as strings; inside JSON every number is a plain number. No rounding
// in SQL (numeric casts cost more than the rest of the query): the caller rounds for the wire.
import type { Queryable } from './database.ts'

export interface MapHouseholdColumns {
  uprn: number[]
  lat: number[]
  lon: number[]
  street: (string | null)[]
  ward: (string | null)[]
}

/** Every household with coordinates, by UPRN. */
export async function mapHouseholds(db: Queryable): Promise<MapHouseholdColumns> {
  const { rows } = await db.query<MapHouseholdColumns>(`
    SELECT coalesce(json_agg(uprn::float8 ORDER BY uprn), '[]'::json) AS uprn,
           coalesce(json_agg(lat ORDER BY uprn), '[]'::json) AS lat,
           coalesce(json_agg(lon ORDER BY uprn), '[]'::json) AS lon,
           coalesce(json_agg(street ORDER BY uprn), '[]'::json) AS street,
           coalesce(json_agg(ward ORDER BY uprn), '[]'::json) AS ward
      FROM households WHERE lat IS NOT NULL AND lon IS NOT NULL`)
  return rows[0]!
}

export interface MapBinColumns {
  uprn: number[]
  binId: string[]
  stream: string[]
  deviceId: (string | null)[]
  online: (boolean | null)[]
  fillPct: (number | null)[]
  /** Device time of the last reading, epoch seconds. */
  readingAt: (number | null)[]
  status: (string | null)[]
  tempC: (number | null)[]
  batteryV: (number | null)[]
}

/** Every active bin with its sensor (if any) and that sensor's last reading, by household. */
export async function mapBins(db: Queryable): Promise<MapBinColumns> {
  const order = 'ORDER BY b.uprn, b.stream'
  const { rows } = await db.query<MapBinColumns>(`
    SELECT coalesce(json_agg(b.uprn::float8 ${order}), '[]'::json) AS uprn,
           coalesce(json_agg(b.bin_id ${order}), '[]'::json) AS "binId",
           coalesce(json_agg(b.stream ${order}), '[]'::json) AS stream,
           coalesce(json_agg(d.device_id ${order}), '[]'::json) AS "deviceId",
           coalesce(json_agg(d.online ${order}), '[]'::json) AS online,
           coalesce(json_agg(r.fill_pct ${order}), '[]'::json) AS "fillPct",
           coalesce(json_agg(floor(extract(epoch FROM r.ts))::int8 ${order}), '[]'::json) AS "readingAt",
           coalesce(json_agg(r.status ${order}), '[]'::json) AS status,
           coalesce(json_agg(r.temp_c ${order}), '[]'::json) AS "tempC",
           coalesce(json_agg(r.battery_v ${order}), '[]'::json) AS "batteryV"
      FROM bins b
      LEFT JOIN devices d ON d.bin_id = b.bin_id AND d.revoked_at IS NULL
      LEFT JOIN latest_readings r ON r.device_id = d.device_id
     WHERE b.active`)
  return rows[0]!
}

export interface MapVehicleRow {
  vehicleId: string
  registration: string | null
  deviceId: string | null
  online: boolean | null
  lat: number | null
  lon: number | null
  speedKmh: number | null
  heading: number | null
  positionAt: Date | null
}

export async function mapVehicles(db: Queryable): Promise<MapVehicleRow[]> {
  const { rows } = await db.query<MapVehicleRow>(`
    SELECT v.vehicle_id AS "vehicleId", v.registration, d.device_id AS "deviceId", d.online,
           round(p.lat::numeric, 5)::float8 AS lat, round(p.lon::numeric, 5)::float8 AS lon,
           p.speed_kmh::float8 AS "speedKmh", p.heading::float8 AS heading, p.ts AS "positionAt"
      FROM vehicles v
      LEFT JOIN devices d ON d.vehicle_id = v.vehicle_id AND d.revoked_at IS NULL
      LEFT JOIN LATERAL (
        SELECT lat, lon, speed_kmh, heading, ts FROM latest_positions lp
         WHERE lp.vehicle_id = v.vehicle_id ORDER BY lp.ts DESC LIMIT 1
      ) p ON true
     ORDER BY v.vehicle_id`)
  return rows
}

export interface MapLiftColumns {
  /** Epoch seconds, newest first. */
  ts: number[]
  vehicleId: (string | null)[]
  binId: (string | null)[]
  uprn: (number | null)[]
  lat: number[]
  lon: number[]
  outcome: string[]
  weightKg: (number | null)[]
}

/** Lifts and crew exceptions since `since`, newest first; the hypertable prunes to recent chunks. */
export async function mapRecentLifts(db: Queryable, since: Date, limit: number): Promise<MapLiftColumns> {
  const order = 'ORDER BY ts DESC, device_id, seq'
  const { rows } = await db.query<MapLiftColumns>(`
    SELECT coalesce(json_agg(floor(extract(epoch FROM ts))::int8 ${order}), '[]'::json) AS ts,
           coalesce(json_agg(vehicle_id ${order}), '[]'::json) AS "vehicleId",
           coalesce(json_agg(bin_id ${order}), '[]'::json) AS "binId",
           coalesce(json_agg(uprn::float8 ${order}), '[]'::json) AS uprn,
           coalesce(json_agg(lat ${order}), '[]'::json) AS lat,
           coalesce(json_agg(lon ${order}), '[]'::json) AS lon,
           coalesce(json_agg(outcome ${order}), '[]'::json) AS outcome,
           coalesce(json_agg(weight_kg ${order}), '[]'::json) AS "weightKg"
      FROM (SELECT * FROM lift_events WHERE ts >= $1 ORDER BY ts DESC LIMIT $2) l`,
  [since.toISOString(), limit])
  return rows[0]!
}

export interface MapCounts {
  households: number
  placedHouseholds: number
  bins: number
  vehicles: number
}

export async function mapCounts(db: Queryable): Promise<MapCounts> {
  const { rows } = await db.query<MapCounts>(`
    SELECT (SELECT count(*) FROM households)::int AS households,
           (SELECT count(*) FROM households WHERE lat IS NOT NULL AND lon IS NOT NULL)::int AS "placedHouseholds",
           (SELECT count(*) FROM bins WHERE active)::int AS bins,
           (SELECT count(*) FROM vehicles)::int AS vehicles`)
  return rows[0]!
}
