// A household as the council's CRM sees it: its bins and their sensors, what is due next, open
// reports, and the history of its collections with what happened to each.
import type { Queryable } from './database.ts'

export interface HouseholdRecord {
  uprn: number
  address: string
  street: string | null
  postcode: string | null
  ward: string | null
  lat: number | null
  lon: number | null
  assisted: boolean
  crmRef: string | null
}

export interface BinSummary {
  binId: string
  stream: string
  rfidTag: string | null
  capacityL: number | null
  colour: string | null
  communal: boolean
  active: boolean
  sensor: { deviceId: string; online: boolean | null; onlineSince: Date | null; lastReadingAt: Date | null; fillPct: number | null; status: string | null; batteryV: number | null; tempC: number | null } | null
  lastLift: { ts: Date; outcome: string; weightKg: number | null; vehicleId: string | null } | null
}

export interface NextCollection { stream: string; dueDate: string; scheduledDate: string; roundId: string; roundName: string }

export interface OpenReport { reportId: number; stream: string; collectionDate: string | null; requestedAt: Date; validity: string; expectedDatetime: Date | null; statusNotes: string | null }

export async function getHousehold(db: Queryable, uprn: number): Promise<HouseholdRecord | null> {
  const { rows } = await db.query<HouseholdRecord>(
    `SELECT uprn, address, street, postcode, ward, lat, lon, assisted, crm_ref AS "crmRef" FROM households WHERE uprn = $1`, [uprn])
  return rows[0] ?? null
}

export async function householdBins(db: Queryable, uprn: number): Promise<BinSummary[]> {
  const { rows } = await db.query<Omit<BinSummary, 'sensor' | 'lastLift'> & Record<string, unknown>>(
    `SELECT b.bin_id AS "binId", b.stream, b.rfid_tag AS "rfidTag", b.capacity_l AS "capacityL", b.colour, b.communal, b.active,
            d.device_id AS "deviceId", d.online, d.online_since AS "onlineSince",
            lr.ts AS "readingAt", lr.fill_pct AS "fillPct", lr.status AS "readingStatus", lr.battery_v AS "batteryV", lr.temp_c AS "tempC",
            ll.ts AS "liftTs", ll.outcome AS "liftOutcome", ll.weight_kg AS "liftWeightKg", ll.vehicle_id AS "liftVehicleId"
       FROM bins b
       LEFT JOIN devices d ON d.bin_id = b.bin_id AND d.revoked_at IS NULL
       LEFT JOIN latest_readings lr ON lr.device_id = d.device_id
       LEFT JOIN LATERAL (
         SELECT ts, outcome, weight_kg, vehicle_id FROM lift_events le
          WHERE le.uprn = b.uprn AND le.bin_id = b.bin_id ORDER BY le.ts DESC LIMIT 1
       ) ll ON true
      WHERE b.uprn = $1 ORDER BY b.stream, b.bin_id`, [uprn])
  return rows.map((r) => ({
    binId: r.binId, stream: r.stream, rfidTag: r.rfidTag, capacityL: r.capacityL, colour: r.colour, communal: r.communal, active: r.active,
    sensor: r.deviceId ? {
      deviceId: r.deviceId as string, online: r.online as boolean | null, onlineSince: r.onlineSince as Date | null, lastReadingAt: r.readingAt as Date | null,
      fillPct: r.fillPct as number | null, status: r.readingStatus as string | null, batteryV: r.batteryV as number | null, tempC: r.tempC as number | null,
    } : null,
    lastLift: r.liftTs ? { ts: r.liftTs as Date, outcome: r.liftOutcome as string, weightKg: r.liftWeightKg as number | null, vehicleId: r.liftVehicleId as string | null } : null,
  }))
}

/** The next collection of each stream on or after `today` (the household's local date). */
export async function nextCollections(db: Queryable, uprn: number, today: string): Promise<NextCollection[]> {
  const { rows } = await db.query<NextCollection>(
    `SELECT DISTINCT ON (sc.stream) sc.stream, sc.due_date AS "dueDate", sc.scheduled_date AS "scheduledDate", sc.round_id AS "roundId", r.name AS "roundName"
       FROM scheduled_collections sc JOIN rounds r ON r.round_id = sc.round_id
      WHERE sc.uprn = $1 AND sc.due_date >= $2 AND NOT sc.cancelled ORDER BY sc.stream, sc.due_date`, [uprn, today])
  return rows
}

export async function openReports(db: Queryable, uprn: number): Promise<OpenReport[]> {
  const { rows } = await db.query<OpenReport>(
    `SELECT report_id AS "reportId", stream, collection_date AS "collectionDate", requested_at AS "requestedAt", validity,
            expected_datetime AS "expectedDatetime", status_notes AS "statusNotes"
       FROM missed_reports WHERE uprn = $1 AND status = 'open' ORDER BY requested_at DESC`, [uprn])
  return rows
}

export interface CollectionRecord {
  collectionId: number
  stream: string
  roundId: string
  /** The round's name as the registry gives it (what crews and residents call it). */
  roundName: string
  scheduledDate: string
  dueDate: string
  cancelled: boolean
  /** null until the outcome analysis has looked at it. */
  outcome: string | null
  exceptionCode: string | null
  liftTs: Date | null
  liftWeightKg: number | null
  liftDistanceM: number | null
  liftVehicleId: string | null
  reportedAt: Date | null
  rectifyDeadline: Date | null
  rectifiedAt: Date | null
  evidence: unknown
}

export interface HistoryFilter {
  stream?: string
  from?: string
  to?: string
  limit: number
  offset: number
  /** The council's local day (default: today in Europe/London): history is up to it, upcoming after it. */
  today?: string
}

/** How many upcoming collections the history shows apart (about a month of a household's streams). */
export const UPCOMING_LIMIT = 12

/**
 * A household's collections: `items` the history — due today or before, newest first, paged, `total`
 * of them — and `upcoming` apart, soonest first (not cancelled), so that a future collection never
 * sits above the ones the resident is calling about.
 */
export async function collectionHistory(db: Queryable, uprn: number, f: HistoryFilter): Promise<{ total: number; items: CollectionRecord[]; upcoming: CollectionRecord[] }> {
  const where = `sc.uprn = $1 AND ($2::text IS NULL OR sc.stream = $2) AND ($3::date IS NULL OR sc.due_date >= $3) AND ($4::date IS NULL OR sc.due_date <= $4)`
  const today = `COALESCE($5::date, (now() AT TIME ZONE 'Europe/London')::date)`
  const params = [uprn, f.stream ?? null, f.from ?? null, f.to ?? null, f.today ?? null]
  const columns = `sc.collection_id AS "collectionId", sc.stream, sc.round_id AS "roundId", r.name AS "roundName", sc.scheduled_date AS "scheduledDate", sc.due_date AS "dueDate", sc.cancelled,
              co.outcome, co.exception_code AS "exceptionCode", co.lift_ts AS "liftTs", co.lift_weight_kg AS "liftWeightKg", co.lift_distance_m AS "liftDistanceM",
              co.lift_vehicle_id AS "liftVehicleId", co.reported_at AS "reportedAt", co.rectify_deadline AS "rectifyDeadline", co.rectified_at AS "rectifiedAt", co.evidence`
  const [{ rows: items }, { rows: total }, { rows: upcoming }] = await Promise.all([
    db.query<CollectionRecord>(
      `SELECT ${columns}
         FROM scheduled_collections sc JOIN rounds r ON r.round_id = sc.round_id LEFT JOIN collection_outcomes co ON co.collection_id = sc.collection_id
        WHERE ${where} AND sc.due_date <= ${today} ORDER BY sc.due_date DESC, sc.stream LIMIT $6 OFFSET $7`, [...params, f.limit, f.offset]),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scheduled_collections sc WHERE ${where} AND sc.due_date <= ${today}`, params),
    db.query<CollectionRecord>(
      `SELECT ${columns}
         FROM scheduled_collections sc JOIN rounds r ON r.round_id = sc.round_id LEFT JOIN collection_outcomes co ON co.collection_id = sc.collection_id
        WHERE ${where} AND sc.due_date > ${today} AND NOT sc.cancelled ORDER BY sc.due_date, sc.stream LIMIT $6`, [...params, UPCOMING_LIMIT]),
  ])
  return { total: total[0]?.n ?? 0, items, upcoming }
}

export interface HouseholdMatch { uprn: number; address: string; postcode: string | null; ward: string | null }

/**
 * Find households by UPRN, postcode (whole or its start) or the start of the address or the street
 * name (the contact centre's search box). Each kind of term is answered from its own index
 * (migration 127), so the search costs the same at 2,000 households as at 210,000: the whole
 * postcode first, then addresses in order.
 */
export async function searchHouseholds(db: Queryable, q: string, limit: number): Promise<HouseholdMatch[]> {
  const term = q.trim()
  if (/^\d{1,12}$/.test(term)) {
    const { rows } = await db.query<HouseholdMatch>(`SELECT uprn, address, postcode, ward FROM households WHERE uprn = $1`, [Number(term)])
    if (rows.length > 0) return rows
  }
  const postcode = term.toUpperCase().replace(/\s+/g, '')
  // Escape LIKE's wildcards in what the agent typed: it is text to find, not a pattern.
  const start = `${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  // A postcode or its start (outward code, sector): L1, L1 1, L11AA.
  const postcodeStart = /^[A-Z]{1,2}\d[A-Z\d]?(\d[A-Z]{0,2})?$/.test(postcode) ? `${postcode}%` : null
  // Each branch reads at most `limit` rows in its index's order; the union is then ordered.
  const { rows } = await db.query<HouseholdMatch>(
    `SELECT uprn, address, postcode, ward FROM (
       (SELECT uprn, address, postcode, ward FROM households WHERE replace(upper(postcode), ' ', '') LIKE $2
         ORDER BY replace(upper(postcode), ' ', ''), address LIMIT $3)
       UNION
       (SELECT uprn, address, postcode, ward FROM households WHERE lower(address) LIKE $1 ORDER BY lower(address) LIMIT $3)
       UNION
       (SELECT uprn, address, postcode, ward FROM households WHERE lower(street) LIKE $1 ORDER BY lower(street), address LIMIT $3)
     ) m
     ORDER BY (replace(upper(postcode), ' ', '') = $4) DESC, address LIMIT $3`,
    [start, postcodeStart, limit, postcode])
  return rows
}
