// Why bins are missed: the decided collections of a contract over a range, broken down by round,
// street, ward, vehicle, stream, weekday, the hour the round passed, where the round was against its
// scheduled window, and 250 m grid cells — in one pass (GROUPING SETS) over the outcomes.
//
// "When the round passed" a property: for a collection lifted or refused on its due day, the time
// of that lift or exception; for the others (misses, late collections) the time of the round's last
// lift or exception before it in driving order that day, or, for the first stops, the first one
// after it. A round day with no lift at all has not passed (key 'not_passed'). The window compares
// that time, in local time, with the round's starts_at–ends_at: 'before', 'within', 'after'.
import type { Queryable } from '../../storage/database.ts'
import { EXCEPTION_CODES } from '../performance/counts.ts'

export const DIMENSIONS = ['total', 'round', 'street', 'ward', 'vehicle', 'stream', 'weekday', 'hour', 'window', 'cell'] as const
export type Dimension = (typeof DIMENSIONS)[number]

export interface BreakdownRow {
  dimension: Dimension
  /** Round id, street name, ward, vehicle id, stream, ISO weekday 1–7, hour 0–23, window, or 'y:x' of a cell; '' for the total. */
  key: string
  /** The street's ward (streets of the same name in two wards are two streets). */
  ward: string | null
  scheduled: number
  missed: number
  collectedLate: number
  crewExceptions: number
  returnVisits: number
  /** Crew exceptions by code (the six of the device contract, and other). */
  exceptionsByCode: Record<string, number>
  /** Where the households of the group are on average (streets and cells, for the map). */
  lat: number | null
  lon: number | null
}

export interface BreakdownInput {
  contractId: string
  from: string
  to: string
  timeZone: string
  /** Side of a grid cell in metres. */
  cellM: number
}

// $1 contract, $2 from, $3 to, $4 time zone, $5 cell size (m).
export const BREAKDOWNS_SQL = `
WITH cancelled AS (
  SELECT collection_id FROM scheduled_collections WHERE cancelled AND due_date BETWEEN $2::date AND $3::date
),
outcomes AS (
  SELECT co.collection_id, co.round_id, co.due_date, co.uprn, co.stream, co.outcome, co.exception_code, co.lift_ts
    FROM collection_outcomes co
   WHERE co.contract_id = $1 AND co.due_date BETWEEN $2::date AND $3::date AND co.outcome <> 'pending'
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
),
-- Collections the round did not lift or refuse on the day: when it passed them (see above).
passing AS MATERIALIZED (
  SELECT o.*, coalesce(before.lift_ts, after.lift_ts) AS passed_at
    FROM outcomes o
    LEFT JOIN round_households me ON me.round_id = o.round_id AND me.uprn = o.uprn
    -- Walk the round's stops away from this one in driving order, taking the first the round lifted
    -- or refused that day: an index scan that stops at once in the common case.
    LEFT JOIN LATERAL (
      SELECT walk.lift_ts FROM (
        SELECT (SELECT n.lift_ts FROM collection_outcomes n
                 WHERE n.uprn = nh.uprn AND n.stream = o.stream AND n.due_date = o.due_date AND n.round_id = o.round_id
                   AND n.outcome IN ('collected', 'crew_exception') LIMIT 1) AS lift_ts
          FROM round_households nh
         WHERE nh.round_id = o.round_id AND nh.position < me.position
         ORDER BY nh.position DESC
      ) walk WHERE walk.lift_ts IS NOT NULL LIMIT 1
    ) before ON true
    LEFT JOIN LATERAL (
      SELECT walk.lift_ts FROM (
        SELECT (SELECT n.lift_ts FROM collection_outcomes n
                 WHERE n.uprn = nh.uprn AND n.stream = o.stream AND n.due_date = o.due_date AND n.round_id = o.round_id
                   AND n.outcome IN ('collected', 'crew_exception') LIMIT 1) AS lift_ts
          FROM round_households nh
         WHERE nh.round_id = o.round_id AND nh.position > me.position
         ORDER BY nh.position
      ) walk WHERE walk.lift_ts IS NOT NULL LIMIT 1
    ) after ON before.lift_ts IS NULL
   WHERE o.outcome NOT IN ('collected', 'crew_exception')
),
-- Every collection with the time the round passed it (no join: a plan that cannot go quadratic).
timed AS (
  SELECT o.*, o.lift_ts AS passed_at FROM outcomes o WHERE o.outcome IN ('collected', 'crew_exception')
  UNION ALL
  SELECT * FROM passing
),
facts AS (
  SELECT o.round_id, o.stream, o.outcome, o.exception_code, h.street, h.ward, h.lat, h.lon, r.vehicle_id,
         extract(isodow FROM o.due_date)::int AS weekday,
         o.passed_at AT TIME ZONE $4 AS passed_local,
         r.starts_at, r.ends_at,
         floor(h.lat * 111320 / $5::float8)::int AS cell_y
    FROM timed o
    JOIN households h ON h.uprn = o.uprn
    JOIN rounds r ON r.round_id = o.round_id
),
keyed AS (
  SELECT *,
         extract(hour FROM passed_local)::int AS hour,
         CASE WHEN passed_local IS NULL THEN 'not_passed'
              WHEN passed_local::time < starts_at THEN 'before'
              WHEN passed_local::time > ends_at THEN 'after'
              ELSE 'within' END AS round_window,
         -- Cells are as wide as they are tall at their own latitude band.
         floor(lon * 111320 * cos(radians((cell_y + 0.5) * $5::float8 / 111320)) / $5::float8)::int AS cell_x
    FROM facts
)
SELECT CASE WHEN GROUPING(round_id) = 0 THEN 'round' WHEN GROUPING(street) = 0 THEN 'street' WHEN GROUPING(ward) = 0 THEN 'ward'
            WHEN GROUPING(vehicle_id) = 0 THEN 'vehicle' WHEN GROUPING(stream) = 0 THEN 'stream' WHEN GROUPING(weekday) = 0 THEN 'weekday'
            WHEN GROUPING(hour) = 0 THEN 'hour' WHEN GROUPING(round_window) = 0 THEN 'window' WHEN GROUPING(cell_y) = 0 THEN 'cell'
            ELSE 'total' END AS dimension,
       coalesce(round_id, street, CASE WHEN GROUPING(street) = 1 THEN ward END, vehicle_id, stream, weekday::text,
                CASE WHEN GROUPING(hour) = 0 THEN coalesce(hour::text, 'not_passed') END, round_window, cell_y || ':' || cell_x, '') AS key,
       CASE WHEN GROUPING(street) = 0 THEN ward END AS ward,
       count(*)::int AS scheduled,
       count(*) FILTER (WHERE outcome IN ('missed', 'rectified', 'rectified_late'))::int AS missed,
       count(*) FILTER (WHERE outcome = 'collected_late')::int AS "collectedLate",
       count(*) FILTER (WHERE outcome = 'crew_exception')::int AS "crewExceptions",
       count(*) FILTER (WHERE outcome IN ('rectified', 'rectified_late'))::int AS "returnVisits",
       ${EXCEPTION_CODES.map((c) => `count(*) FILTER (WHERE outcome = 'crew_exception' AND exception_code = '${c}')::int AS "exc:${c}"`).join(',\n       ')},
       count(*) FILTER (WHERE outcome = 'crew_exception' AND (exception_code IS NULL OR exception_code NOT IN (${EXCEPTION_CODES.map((c) => `'${c}'`).join(', ')})))::int AS "exc:other",
       avg(lat) AS lat, avg(lon) AS lon
  FROM keyed
 GROUP BY GROUPING SETS ((), (round_id), (ward, street), (ward), (vehicle_id), (stream), (weekday), (hour), (round_window), (cell_y, cell_x))`

export async function breakdowns(db: Queryable, input: BreakdownInput): Promise<BreakdownRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(BREAKDOWNS_SQL, [input.contractId, input.from, input.to, input.timeZone, input.cellM])
  return rows.map((row) => {
    const r: Record<string, unknown> = {}
    const exceptionsByCode: Record<string, number> = {}
    for (const [k, v] of Object.entries(row)) {
      if (k.startsWith('exc:')) exceptionsByCode[k.slice(4)] = v as number
      else r[k] = v
    }
    return { ...(r as Omit<BreakdownRow, 'exceptionsByCode'>), exceptionsByCode }
  })
}
