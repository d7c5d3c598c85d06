// Queries behind the live city map. Each stays fast at city size: the last reading of every bin
// and the last position of every vehicle are one index probe each (LATERAL … ORDER BY ts DESC
// LIMIT 1 on the (bin_id, ts DESC) and (vehicle_id, ts DESC) indexes), never a scan of history.
import type { Queryable } from './database.ts'

export interface MapBinRow {
  uprn: number
  lat: number
  lon: number
  street: string | null
  ward: string | null
  binId: string | null
  stream: string | null
  deviceId: string | null
  online: boolean | null
  fillPct: number | null
  readingAt: Date | null
  status: string | null
  tempC: number | null
  batteryV: number | null
}

/**
 * Every placed household with its active bins and each bin's sensor and last reading; one row per
 * bin, or one row with binId null for a household without bins. Ordered by household, then stream.
 */
export async function mapHouseholdBins(db: Queryable): Promise<MapBinRow[]> {
  const { rows } = await db.query<MapBinRow>(`
    SELECT h.uprn, h.lat, h.lon, h.street, h.ward,
           b.bin_id AS "binId", b.stream, d.device_id AS "deviceId", d.online,
           r.fill_pct AS "fillPct", r.ts AS "readingAt", r.status, r.temp_c AS "tempC", r.battery_v AS "batteryV"
      FROM households h
      LEFT JOIN bins b ON b.uprn = h.uprn AND b.active
      LEFT JOIN devices d ON d.bin_id = b.bin_id AND d.revoked_at IS NULL
      LEFT JOIN LATERAL (
        SELECT fill_pct, ts, status, temp_c, battery_v FROM bin_readings br
         WHERE br.bin_id = b.bin_id ORDER BY br.ts DESC LIMIT 1
      ) r ON b.bin_id IS NOT NULL
     WHERE h.lat IS NOT NULL AND h.lon IS NOT NULL
     ORDER BY h.uprn, b.stream, b.bin_id`)
  return rows
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
           p.lat, p.lon, p.speed_kmh AS "speedKmh", p.heading, p.ts AS "positionAt"
      FROM vehicles v
      LEFT JOIN devices d ON d.vehicle_id = v.vehicle_id AND d.revoked_at IS NULL
      LEFT JOIN LATERAL (
        SELECT lat, lon, speed_kmh, heading, ts FROM vehicle_positions vp
         WHERE vp.vehicle_id = v.vehicle_id ORDER BY vp.ts DESC LIMIT 1
      ) p ON true
     ORDER BY v.vehicle_id`)
  return rows
}

export interface MapLiftRow {
  ts: Date
  vehicleId: string | null
  binId: string | null
  uprn: number | null
  lat: number
  lon: number
  outcome: string
  weightKg: number | null
}

/** Lifts and crew exceptions since `since`, newest first; the hypertable prunes to recent chunks. */
export async function mapRecentLifts(db: Queryable, since: Date, limit: number): Promise<MapLiftRow[]> {
  const { rows } = await db.query<MapLiftRow>(`
    SELECT ts, vehicle_id AS "vehicleId", bin_id AS "binId", uprn, lat, lon, outcome, weight_kg AS "weightKg"
      FROM lift_events WHERE ts >= $1 ORDER BY ts DESC LIMIT $2`,
  [since.toISOString(), limit])
  return rows
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
