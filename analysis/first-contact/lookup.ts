// The first-contact check's reads, each a small indexed query: the household and the collection in
// question, its next collection, the round's progress, and the extra evidence for the timeline
// (the vehicle's nearest pass, the bin's sensor readings, earlier reports). The outcome rules
// themselves are analysis/outcomes/decide.ts, asked about the one collection.
import type { CollectionOutcome } from '../../core/contract/domain.ts'
import type { Queryable } from '../../storage/database.ts'

export interface CollectionInQuestion {
  uprn: number
  address: string
  postcode: string | null
  lat: number | null
  lon: number | null
  collectionId: number | null
  scheduledDate: string | null
  dueDate: string | null
  roundId: string | null
  roundName: string | null
  vehicleId: string | null
  registration: string | null
  startsAt: string | null
  endsAt: string | null
  position: number | null
  reportOpensHour: number | null
  reportWindowWorkingDays: number | null
  rectifyWorkingDays: number | null
  /** The outcome as last classified (analysis/outcomes), if it has been. */
  storedOutcome: CollectionOutcome | null
  /** The household's next collection of the stream after this one (its evidence ends there), and when its round starts. */
  nextDue: string | null
  nextStartsAt: string | null
  /** The household's bin of the stream has a fill sensor. */
  hasSensor: boolean
}

// $1 uprn, $2 stream, $3 the day asked about (NULL: the latest due on or before $4), $4 today.
// A collection moved from the day asked about (bank holiday, override) is found by its scheduled day.
const COLLECTION_SQL = `
SELECT h.uprn, h.postcode, h.address, h.lat, h.lon, c.*, co.outcome AS "storedOutcome", nx.due_date AS "nextDue", nx.starts_at AS "nextStartsAt",
       EXISTS (SELECT 1 FROM bins b JOIN devices d ON d.bin_id = b.bin_id WHERE b.uprn = h.uprn AND b.stream = $2) AS "hasSensor"
  FROM households h
  LEFT JOIN LATERAL (
    SELECT sc.collection_id AS "collectionId", sc.scheduled_date AS "scheduledDate", sc.due_date AS "dueDate",
           sc.round_id AS "roundId", r.name AS "roundName", r.vehicle_id AS "vehicleId", v.registration,
           r.starts_at::text AS "startsAt", r.ends_at::text AS "endsAt", rh.position,
           k.report_opens_hour AS "reportOpensHour", k.report_window_working_days AS "reportWindowWorkingDays",
           k.rectify_working_days AS "rectifyWorkingDays"
      FROM scheduled_collections sc
      JOIN rounds r ON r.round_id = sc.round_id
      JOIN contracts k ON k.contract_id = r.contract_id
      LEFT JOIN vehicles v ON v.vehicle_id = r.vehicle_id
      LEFT JOIN round_households rh ON rh.round_id = sc.round_id AND rh.uprn = sc.uprn
     WHERE sc.uprn = h.uprn AND sc.stream = $2 AND NOT sc.cancelled
       AND CASE WHEN $3::date IS NULL THEN sc.due_date <= $4::date ELSE sc.due_date = $3::date OR sc.scheduled_date = $3::date END
     ORDER BY (sc.due_date = $3::date) DESC NULLS LAST, sc.due_date DESC
     LIMIT 1
  ) c ON true
  LEFT JOIN collection_outcomes co ON co.collection_id = c."collectionId"
  LEFT JOIN LATERAL (
    SELECT n.due_date, nr.starts_at::text AS starts_at FROM scheduled_collections n JOIN rounds nr ON nr.round_id = n.round_id
     WHERE n.uprn = h.uprn AND n.stream = $2 AND NOT n.cancelled AND n.due_date > c."dueDate" ORDER BY n.due_date LIMIT 1
  ) nx ON true
 WHERE h.uprn = $1`

export async function collectionInQuestion(db: Queryable, uprn: number, stream: string, date: string | null, today: string): Promise<CollectionInQuestion | null> {
  const { rows } = await db.query<CollectionInQuestion>(COLLECTION_SQL, [uprn, stream, date, today])
  return rows[0] ?? null
}

/** The household's next collection of the stream after `after`, and when its round starts. */
export async function nextCollection(db: Queryable, uprn: number, stream: string, after: string): Promise<{ dueDate: string; startsAt: string } | null> {
  const { rows } = await db.query<{ dueDate: string; startsAt: string }>(
    `SELECT sc.due_date AS "dueDate", r.starts_at::text AS "startsAt"
       FROM scheduled_collections sc JOIN rounds r ON r.round_id = sc.round_id
      WHERE sc.uprn = $1 AND sc.stream = $2 AND NOT sc.cancelled AND sc.due_date > $3::date ORDER BY sc.due_date LIMIT 1`,
    [uprn, stream, after],
  )
  return rows[0] ?? null
}

export interface BinEvent {
  ts: Date
  vehicleId: string | null
  registration: string | null
  outcome: string
  weightKg: number | null
  distanceM: number | null
  onDueDay: boolean
  accepted: boolean
}

// The household's bin of the stream: its lift events from the start of the due day until the next
// collection (or four weeks), up to `asOf` — the evidence the outcome rules read for a collection
// (analysis/outcomes/decide.ts, which says why lifts farther than $9 metres do not count).
// $1 uprn, $2 stream, $3 start of the due day, $4 end of it, $5 end of the claim, $6 as of, $7/$8 lat/lon, $9 max distance.
const EVENTS_SQL = `
SELECT e.ts, e.vehicle_id AS "vehicleId", v.registration, e.outcome, e.weight_kg AS "weightKg",
       e.ts < $4::timestamptz AS "onDueDay", d.distance_m AS "distanceM", COALESCE(d.distance_m <= $9::float8, true) AS accepted
  FROM (
    SELECT l.ts, l.seq, l.vehicle_id, l.outcome, l.weight_kg, l.lat, l.lon FROM bins b
      JOIN lift_events l ON l.uprn = b.uprn AND l.bin_id = b.bin_id
     WHERE b.uprn = $1 AND b.stream = $2 AND l.ts >= $3::timestamptz AND l.ts < $5::timestamptz AND l.ts <= $6::timestamptz
    UNION ALL
    SELECT l.ts, l.seq, l.vehicle_id, l.outcome, l.weight_kg, l.lat, l.lon FROM bins b
      JOIN lift_events l ON l.tag = b.rfid_tag AND l.bin_id IS NULL
     WHERE b.uprn = $1 AND b.stream = $2 AND l.ts >= $3::timestamptz AND l.ts < $5::timestamptz AND l.ts <= $6::timestamptz
  ) e
  CROSS JOIN LATERAL (SELECT kerbside_distance_m($7::float8, $8::float8, e.lat, e.lon) AS distance_m) d
  LEFT JOIN vehicles v ON v.vehicle_id = e.vehicle_id
 ORDER BY e.ts, e.seq`

export async function binEvents(db: Queryable, q: { uprn: number; stream: string; dayStart: Date; dayEnd: Date; claimEnd: Date; asOf: Date; lat: number | null; lon: number | null; maxDistanceM: number }): Promise<BinEvent[]> {
  const { rows } = await db.query<BinEvent>(EVENTS_SQL, [q.uprn, q.stream, q.dayStart, q.dayEnd, q.claimEnd, q.asOf, q.lat, q.lon, q.maxDistanceM])
  return rows.map((r) => ({ ...r, distanceM: r.distanceM === null ? null : Math.round(r.distanceM * 10) / 10 }))
}

export interface Progress {
  /** Furthest position along the round lifted (or logged) today, and when the vehicle last lifted. */
  maxPosition: number | null
  lastLiftAt: Date | null
  liftsToday: number
  /** Households on the round between the furthest lifted and this one. */
  stopsBefore: number | null
  lastSeen: { at: Date; lat: number; lon: number; distanceM: number } | null
}

// $1 round, $2 stream, $3 vehicle, $4 start of the day, $5 as of, $6 this household's position, $7/$8 its lat/lon.
const PROGRESS_SQL = `
WITH done AS (
  -- Lifts and exceptions of this round's households by its vehicle so far today.
  SELECT max(rh.position) AS max_position, max(l.ts) AS last_lift, count(*)::int AS lifts
    FROM lift_events l
    JOIN round_households rh ON rh.round_id = $1 AND rh.uprn = l.uprn
    JOIN bins b ON b.bin_id = l.bin_id AND b.stream = $2
   WHERE l.vehicle_id = $3 AND l.ts >= $4::timestamptz AND l.ts <= $5::timestamptz
),
seen AS (
  SELECT p.ts, p.lat, p.lon FROM vehicle_positions p
   WHERE p.vehicle_id = $3 AND p.ts >= $4::timestamptz AND p.ts <= $5::timestamptz
   ORDER BY p.ts DESC LIMIT 1
)
SELECT d.max_position AS "maxPosition", d.last_lift AS "lastLiftAt", d.lifts AS "liftsToday",
       CASE WHEN $6::int IS NULL THEN NULL ELSE (
         SELECT count(*)::int FROM round_households rh
          WHERE rh.round_id = $1 AND rh.position > COALESCE(d.max_position, -1) AND rh.position < $6::int) END AS "stopsBefore",
       s.ts AS "seenAt", s.lat AS "seenLat", s.lon AS "seenLon",
       kerbside_distance_m($7::float8, $8::float8, s.lat, s.lon) AS "seenDistanceM"
  FROM done d LEFT JOIN seen s ON true`

export async function roundProgress(db: Queryable, q: { roundId: string; stream: string; vehicleId: string; dayStart: Date; asOf: Date; position: number | null; lat: number | null; lon: number | null }): Promise<Progress> {
  const { rows } = await db.query<Omit<Progress, 'lastSeen'> & { seenAt: Date | null; seenLat: number | null; seenLon: number | null; seenDistanceM: number | null }>(
    PROGRESS_SQL, [q.roundId, q.stream, q.vehicleId, q.dayStart, q.asOf, q.position, q.lat, q.lon],
  )
  const r = rows[0]!
  return {
    maxPosition: r.maxPosition, lastLiftAt: r.lastLiftAt, liftsToday: r.liftsToday, stopsBefore: r.stopsBefore,
    lastSeen: r.seenAt ? { at: r.seenAt, lat: r.seenLat!, lon: r.seenLon!, distanceM: Math.round(r.seenDistanceM ?? 0) } : null,
  }
}

/** The round vehicle's nearest pass by the property on the day (GPS positions), if it came within `withinM`. */
export async function nearestPass(db: Queryable, vehicleId: string, lat: number, lon: number, from: Date, to: Date, withinM: number): Promise<{ at: Date; distanceM: number } | null> {
  const { rows } = await db.query<{ at: Date; distanceM: number }>(
    `SELECT ts AS at, d AS "distanceM" FROM (
       SELECT ts, kerbside_distance_m($2::float8, $3::float8, lat, lon) AS d FROM vehicle_positions
        WHERE vehicle_id = $1 AND ts >= $4::timestamptz AND ts <= $5::timestamptz) p
      WHERE d <= $6 ORDER BY d, ts LIMIT 1`,
    [vehicleId, lat, lon, from, to, withinM],
  )
  return rows[0] ?? null
}

export interface Reading { at: Date; fillPct: number; status: string | null }

/** The household's bin's sensor: the last reading before `around` and the first two after it (up to `asOf`). */
export async function readingsAround(db: Queryable, uprn: number, stream: string, around: Date, asOf: Date): Promise<Reading[]> {
  const { rows } = await db.query<Reading>(
    `WITH bin AS (SELECT bin_id FROM bins WHERE uprn = $1 AND stream = $2 AND active ORDER BY bin_id LIMIT 1)
     (SELECT r.ts AS at, r.fill_pct AS "fillPct", r.status FROM bin_readings r, bin
       WHERE r.bin_id = bin.bin_id AND r.ts < $3::timestamptz AND r.ts >= $3::timestamptz - interval '2 days' ORDER BY r.ts DESC LIMIT 1)
     UNION ALL
     (SELECT r.ts AS at, r.fill_pct AS "fillPct", r.status FROM bin_readings r, bin
       WHERE r.bin_id = bin.bin_id AND r.ts >= $3::timestamptz AND r.ts <= $4::timestamptz AND r.ts < $3::timestamptz + interval '2 days' ORDER BY r.ts LIMIT 2)`,
    [uprn, stream, around, asOf],
  )
  return rows
}

export interface EarlierReport { id: number; at: Date; collectionDate: string | null; validity: string; status: string; expectedDatetime: Date | null }

/** Reports about this household's stream in the 12 weeks before `asOf`, newest first. */
export async function earlierReports(db: Queryable, uprn: number, stream: string, asOf: Date, excludeId: number | null): Promise<EarlierReport[]> {
  const { rows } = await db.query<EarlierReport>(
    `SELECT report_id AS id, requested_at AS at, collection_date AS "collectionDate", validity, status, expected_datetime AS "expectedDatetime" FROM missed_reports
      WHERE uprn = $1 AND stream = $2 AND requested_at <= $3::timestamptz AND requested_at > $3::timestamptz - interval '84 days'
        AND report_id IS DISTINCT FROM $4::bigint
      ORDER BY requested_at DESC, report_id DESC LIMIT 10`,
    [uprn, stream, asOf, excludeId],
  )
  return rows
}
