// The evidence for proactive miss detection, read in one set-based statement per run: for every
// collection due in the days looked at whose round has started, what the round has done so far.
//
//   reached   the crew has dealt with a collection further along the round (a lift or a crew exception
//             of a later stop, by position on the round): it has passed this one.
//   over      the round is over as the outcome rules take it (analysis/outcomes/decide.ts): its vehicle
//             idle ROUND_GRACE_MINUTES after the later of the planned end and its last lift, at the
//             latest the end of the day — or earlier, when the vehicle has sent nothing (no lift, no
//             position) for ROUND_SILENT_MINUTES after working today: it broke down or went back early.
//   silent    no accepted lift and no accepted crew exception of the household's bin on the due day
//             (MAX_LIFT_DISTANCE_M from the property, as the outcome rules accept them).
//   run       silent stops that were passed, counted in runs of neighbours along the round: a run of
//             SECTION_RUN or more is a section of street left out, not a bin passed alone.
//
// The same statement keeps proactive_round_days, the per-round-day counts the confidence reads.
// Candidates come back with the facts; the confidence and the state changes are decided in detect.ts.
import type { Queryable } from '../../storage/database.ts'
import { addDays, type IsoDate } from '../calendar/dates.ts'
import { MAX_LIFT_DISTANCE_M, ROUND_GRACE_MINUTES } from '../outcomes/decide.ts'
import { ukInstant } from '../outcomes/local-time.ts'

/** Silent stops in a row that make a left-out section rather than one bin passed. */
export const SECTION_RUN = 3
/** A round whose vehicle has sent nothing for this long after working today is over (it stopped early). */
export const ROUND_SILENT_MINUTES = 45
/** Lifts after the due day still resolve a miss for this many days (the return visit). */
export const RESOLVE_DAYS = 14

// $1 first due date, $2 last due date, $3 now, $4 MAX_LIFT_DISTANCE_M, $5 ROUND_GRACE_MINUTES, $6 SECTION_RUN,
// $7 start of the first due day, $8 the earlier of now and the end of the last due day + RESOLVE_DAYS
// (constant bounds on the hypertables, so the planner keeps to their chunks).
export const EVIDENCE_SQL = `
WITH target AS MATERIALIZED (
  SELECT sc.collection_id, sc.uprn, sc.stream, sc.round_id, r.contract_id, r.vehicle_id, sc.due_date, rh.position,
         h.lat, h.lon, h.assisted,
         (sc.due_date::timestamp AT TIME ZONE 'Europe/London') AS day_start,
         ((sc.due_date + 1)::timestamp AT TIME ZONE 'Europe/London') AS day_end,
         ((sc.due_date + r.ends_at) AT TIME ZONE 'Europe/London') AS planned_end
    FROM scheduled_collections sc
    JOIN rounds r ON r.round_id = sc.round_id
    JOIN households h ON h.uprn = sc.uprn
    LEFT JOIN round_households rh ON rh.round_id = sc.round_id AND rh.uprn = sc.uprn
   WHERE sc.due_date BETWEEN $1::date AND $2::date AND NOT sc.cancelled
     AND ((sc.due_date + r.starts_at) AT TIME ZONE 'Europe/London') <= $3::timestamptz
),
target_bins AS MATERIALIZED (
  SELECT t.collection_id, b.bin_id, b.rfid_tag, d.device_id IS NOT NULL AS has_sensor
    FROM target t JOIN bins b ON b.uprn = t.uprn AND b.stream = t.stream AND b.active
    LEFT JOIN devices d ON d.bin_id = b.bin_id AND d.revoked_at IS NULL
),
window_lifts AS MATERIALIZED (
  -- Every lift event of the days looked at, up to now: one range scan of the hypertable's recent
  -- chunks, then joined to the bins by hash (a probe per bin costs far more at city scale).
  SELECT l.ts, l.bin_id, l.tag, l.outcome, l.lat, l.lon FROM lift_events l
   WHERE l.ts >= $7::timestamptz AND l.ts < $8::timestamptz AND l.ts <= $3::timestamptz
),
events AS MATERIALIZED (
  -- The bins' lift events from the start of the due day: on the day, and after it (the return), by the
  -- bin ingest resolved from the tag or, for tags it did not know yet, by the tag now.
  SELECT t.collection_id, l.ts, l.outcome, l.ts < t.day_end AS on_day, kerbside_distance_m(t.lat, t.lon, l.lat, l.lon) AS distance_m
    FROM (SELECT tb.collection_id, w.* FROM window_lifts w JOIN target_bins tb ON tb.bin_id = w.bin_id
          UNION ALL
          SELECT tb.collection_id, w.* FROM window_lifts w JOIN target_bins tb ON tb.rfid_tag = w.tag WHERE w.bin_id IS NULL) l
    JOIN target t ON t.collection_id = l.collection_id
   WHERE l.ts >= t.day_start AND l.ts < t.day_end + make_interval(days => ${RESOLVE_DAYS})
),
ev AS (
  SELECT collection_id,
         min(ts) FILTER (WHERE on_day) AS first_event_at,
         min(ts) FILTER (WHERE on_day AND outcome = 'collected') AS lifted_at,
         max(ts) FILTER (WHERE on_day AND outcome <> 'collected') AS exception_at,
         (array_agg(outcome ORDER BY ts DESC) FILTER (WHERE on_day AND outcome <> 'collected'))[1] AS exception_code,
         min(ts) FILTER (WHERE NOT on_day AND outcome = 'collected') AS later_lift_at
    FROM events WHERE COALESCE(distance_m <= $4::float8, true) GROUP BY collection_id
),
bin_of AS (
  SELECT DISTINCT ON (collection_id) collection_id, bin_id, has_sensor FROM target_bins ORDER BY collection_id, has_sensor DESC, bin_id
),
ranked AS (
  SELECT t.*, ev.first_event_at, ev.lifted_at, ev.exception_at, ev.exception_code, ev.later_lift_at, bo.bin_id, COALESCE(bo.has_sensor, false) AS has_sensor,
         row_number() OVER (PARTITION BY t.round_id, t.due_date ORDER BY t.position NULLS LAST, t.collection_id) AS rn
    FROM target t LEFT JOIN ev USING (collection_id) LEFT JOIN bin_of bo USING (collection_id)
),
round_day AS (
  SELECT round_id, due_date, min(vehicle_id) AS vehicle_id, min(day_start) AS day_start, min(day_end) AS day_end, min(planned_end) AS planned_end,
         min(stream) AS stream, count(*)::int AS collections, max(rn) FILTER (WHERE first_event_at IS NOT NULL) AS reached_rn
    FROM ranked GROUP BY round_id, due_date
),
round_over AS MATERIALIZED (
  -- Over at the planned end as the outcome rules take it, or earlier when the vehicle has gone silent
  -- (no lift, no position) for ROUND_SILENT_MINUTES after working today: broken down, or back at the depot.
  SELECT rd.*, least(rd.day_end, greatest(rd.planned_end, vl.last_lift) + make_interval(mins => $5::int),
                     CASE WHEN rd.reached_rn IS NOT NULL THEN greatest(vl.last_lift, vp.last_position) + make_interval(mins => ${ROUND_SILENT_MINUTES}) END) AS over_at,
         greatest(vl.last_lift, vp.last_position) AS last_seen
    FROM round_day rd
    CROSS JOIN LATERAL (
      SELECT max(l.ts) AS last_lift FROM lift_events l
       WHERE l.vehicle_id = rd.vehicle_id AND l.ts >= rd.day_start AND l.ts < rd.day_end AND l.ts <= $3::timestamptz
         AND l.ts >= $7::timestamptz AND l.ts < $8::timestamptz) vl
    CROSS JOIN LATERAL (
      SELECT max(p.ts) AS last_position FROM vehicle_positions p
       WHERE p.vehicle_id = rd.vehicle_id AND p.ts >= rd.day_start AND p.ts < rd.day_end AND p.ts <= $3::timestamptz
         AND p.ts >= $7::timestamptz AND p.ts < $8::timestamptz) vp
),
judged AS (
  SELECT r.*, ro.reached_rn, ro.over_at, ro.over_at <= $3::timestamptz AS over,
         r.first_event_at IS NULL AS silent,
         COALESCE(r.rn < ro.reached_rn, false) AS passed,
         -- When the crew passed: the first event at a later stop.
         min(r.first_event_at) OVER (PARTITION BY r.round_id, r.due_date ORDER BY r.rn ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS pass_at
    FROM ranked r JOIN round_over ro USING (round_id, due_date)
),
islands AS (
  SELECT j.*, j.rn - row_number() OVER (PARTITION BY j.round_id, j.due_date, (j.silent AND j.passed) ORDER BY j.rn) AS island FROM judged j
),
runs AS (
  SELECT i.*, CASE WHEN i.silent AND i.passed THEN count(*) OVER (PARTITION BY i.round_id, i.due_date, (i.silent AND i.passed), i.island) END AS run_length FROM islands i
),
stats AS (
  INSERT INTO proactive_round_days AS p (round_id, due_date, stream, collections, reached, not_presented, silent_isolated, silent_in_runs, over, updated_at)
  SELECT round_id, due_date, min(stream), count(*), count(*) FILTER (WHERE passed),
         count(*) FILTER (WHERE passed AND exception_code = 'not_presented'),
         count(*) FILTER (WHERE passed AND silent AND run_length < $6::int),
         count(*) FILTER (WHERE passed AND silent AND run_length >= $6::int),
         bool_or(over), $3::timestamptz
    FROM runs GROUP BY round_id, due_date
  ON CONFLICT (round_id, due_date) DO UPDATE SET
         collections = EXCLUDED.collections, reached = EXCLUDED.reached, not_presented = EXCLUDED.not_presented,
         silent_isolated = EXCLUDED.silent_isolated, silent_in_runs = EXCLUDED.silent_in_runs, over = EXCLUDED.over, updated_at = EXCLUDED.updated_at
  RETURNING 1
)
SELECT r.collection_id AS "collectionId", r.uprn, r.stream, r.round_id AS "roundId", r.contract_id AS "contractId", r.vehicle_id AS "vehicleId",
       r.due_date AS "dueDate", r.position, r.rn, r.reached_rn AS "reachedRn", r.assisted, r.lat, r.lon, r.bin_id AS "binId", r.has_sensor AS "hasSensor",
       r.day_start AS "dayStart", r.day_end AS "dayEnd", r.over_at AS "overAt", r.over, r.passed, r.silent, r.pass_at AS "passAt",
       r.run_length::int AS "runLength", r.lifted_at AS "liftedAt", r.exception_at AS "exceptionAt", r.exception_code AS "exceptionCode",
       r.later_lift_at AS "laterLiftAt", p.status AS "status", (SELECT count(*) FROM stats)::int AS "roundDays"
  FROM runs r
  LEFT JOIN proactive_misses p ON p.collection_id = r.collection_id
 WHERE (r.silent AND (r.passed OR r.over)) OR p.status IN ('suspected', 'confirmed')
 ORDER BY r.collection_id`

export interface EvidenceRow {
  collectionId: number
  uprn: number
  stream: string
  roundId: string
  contractId: string
  vehicleId: string | null
  dueDate: string
  position: number | null
  rn: number
  reachedRn: number | null
  assisted: boolean
  lat: number | null
  lon: number | null
  binId: string | null
  hasSensor: boolean
  dayStart: Date
  dayEnd: Date
  overAt: Date
  over: boolean
  passed: boolean
  silent: boolean
  passAt: Date | null
  runLength: number | null
  liftedAt: Date | null
  exceptionAt: Date | null
  exceptionCode: string | null
  laterLiftAt: Date | null
  /** The proactive record already kept for it, if any. */
  status: string | null
}

/** Candidates and open records of collections due from `from` to `to`, as the evidence stood at `now`. */
export async function readEvidence(db: Queryable, from: IsoDate, to: IsoDate, now: Date): Promise<EvidenceRow[]> {
  const end = ukInstant(addDays(to, 1 + RESOLVE_DAYS))
  const upper = end.getTime() < now.getTime() ? end : new Date(now.getTime() + 1)
  const { rows } = await db.query<EvidenceRow>(EVIDENCE_SQL, [from, to, now, MAX_LIFT_DISTANCE_M, ROUND_GRACE_MINUTES, SECTION_RUN, ukInstant(from), upper])
  return rows
}

export interface SensorEvidence {
  collectionId: number
  readings: number
  outSeen: boolean
  lidOpen: boolean
  beforeN: number
  fillBefore: number | null
  afterN: number
  minFillAfter: number | null
  lastFill: number | null
  lastAt: Date | null
}

// $1 the candidates [{collection_id, bin_id, from_ts, pass_at}], $2 now. The bin's readings from 18:00
// the evening before (bins go out the night before) to now: whether it was out at the kerb (FIWARE
// status `moved`), and its fill before and after the crew passed.
const SENSOR_SQL = `
SELECT c.collection_id AS "collectionId", count(r.ts)::int AS readings,
       COALESCE(bool_or(r.status = 'moved'), false) AS "outSeen", COALESCE(bool_or(r.status = 'lidOpen'), false) AS "lidOpen",
       count(r.ts) FILTER (WHERE r.ts < c.pass_at)::int AS "beforeN",
       (array_agg(r.fill_pct ORDER BY r.ts DESC) FILTER (WHERE r.ts < c.pass_at))[1] AS "fillBefore",
       count(r.ts) FILTER (WHERE r.ts >= c.pass_at)::int AS "afterN",
       min(r.fill_pct) FILTER (WHERE r.ts >= c.pass_at) AS "minFillAfter",
       (array_agg(r.fill_pct ORDER BY r.ts DESC))[1] AS "lastFill", max(r.ts) AS "lastAt"
  FROM jsonb_to_recordset($1::jsonb) AS c(collection_id bigint, bin_id text, from_ts timestamptz, to_ts timestamptz, pass_at timestamptz)
  LEFT JOIN bin_readings r ON r.bin_id = c.bin_id AND r.ts >= c.from_ts AND r.ts <= c.to_ts AND r.ts <= $2::timestamptz
 GROUP BY c.collection_id`

export async function readSensorEvidence(db: Queryable, rows: readonly EvidenceRow[], now: Date): Promise<Map<number, SensorEvidence>> {
  const wanted = rows.filter((r) => r.hasSensor && r.binId)
  if (wanted.length === 0) return new Map()
  const input = wanted.map((r) => ({
    collection_id: r.collectionId, bin_id: r.binId,
    from_ts: new Date(r.dayStart.getTime() - 6 * 3_600_000).toISOString(),
    to_ts: new Date(r.dayEnd.getTime() + 12 * 3_600_000).toISOString(),
    pass_at: (r.passAt ?? r.overAt).toISOString(),
  }))
  const { rows: out } = await db.query<SensorEvidence>(SENSOR_SQL, [JSON.stringify(input), now])
  return new Map(out.map((s) => [s.collectionId, s]))
}
