// Why bins are missed: the decided collections of a contract over a range, broken down by round,
// street, ward, vehicle, stream, weekday, the hour the round passed, where the round was against its
// scheduled window, and 250 m grid cells. Two ways to the same rows: `rolledUpBreakdowns` sums the
// why-missed roll-up (rollup.ts, migration 131) for the days it holds and computes the others live;
// `breakdowns` is one pass over the outcomes (GROUPING SETS), kept for other cell sizes and as the
// ground truth the roll-up is tested against.
//
// "When the round passed" a property: for a collection lifted or refused on its due day, the time
// of that lift or exception; for the others (misses, late collections) the time of the round's last
// lift or exception before it in driving order that day, or, for the first stops, the first one
// after it. A round day with no lift at all has not passed (key 'not_passed'). The window compares
// that time, in local time, with the round's starts_at–ends_at: 'before', 'within', 'after'.
import { eachDay } from '../calendar/dates.ts'
import type { Queryable } from '../../storage/database.ts'
import { EXCEPTION_CODES } from '../performance/counts.ts'
import { allRoundsVersion, keepBreakdowns, keptBreakdowns, type KeptBreakdowns } from './kept.ts'
import { passingSql } from './passing.ts'
import { CELL_X_SQL, CELL_Y_SQL, FINE_SQL, freshWhyMissedDays, ROLLUP_CELL_M, SUM_COLUMNS } from './rollup.ts'

export const DIMENSIONS = ['total', 'round', 'street', 'ward', 'vehicle', 'stream', 'weekday', 'hour', 'window', 'cell'] as const
export type Dimension = (typeof DIMENSIONS)[number]

export interface BreakdownRow {
  dimension: Dimension
  /** Round id, street name, ward, vehicle id, stream, ISO weekday 1–7, hour 0–23, window, or 'y:x' of a cell; '' for the total. */
  key: string
  /** The street's ward (streets of the same name in two wards are two streets); for a cell, the ward most of its collections are in. */
  ward: string | null
  /** Cells: the street most of the cell's collections are on (its name for people); null for the other dimensions. */
  mainStreet: string | null
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

// What every breakdown row sums from the counted rows (n collections per outcome and code).
const MISS = `outcome IN ('missed', 'rectified', 'rectified_late')`
const SUMS = `sum(n)::int AS scheduled,
         coalesce(sum(n) FILTER (WHERE ${MISS}), 0)::int AS missed,
         coalesce(sum(n) FILTER (WHERE outcome = 'collected_late'), 0)::int AS "collectedLate",
         coalesce(sum(n) FILTER (WHERE outcome = 'crew_exception'), 0)::int AS "crewExceptions",
         coalesce(sum(n) FILTER (WHERE outcome IN ('rectified', 'rectified_late')), 0)::int AS "returnVisits",
         ${EXCEPTION_CODES.map((c) => `coalesce(sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = '${c}'), 0)::int AS "exc:${c}"`).join(',\n         ')},
         coalesce(sum(n) FILTER (WHERE outcome = 'crew_exception' AND (exception_code IS NULL OR exception_code NOT IN (${EXCEPTION_CODES.map((c) => `'${c}'`).join(', ')}))), 0)::int AS "exc:other"`


// $1 contract, $2 from, $3 to, $4 time zone, $5 cell size (m).
// Two stages: one pass over the outcomes counts them by household, by round day, and by the time
// the round passed (GROUPING SETS over fine keys, a few hundred thousand rows for a city month);
// each breakdown is then a sum over those counts, never over the outcomes again.
export const BREAKDOWNS_SQL = `
WITH cancelled AS (
  SELECT collection_id FROM scheduled_collections WHERE cancelled AND due_date BETWEEN $2::date AND $3::date
),
-- Collections the round did not lift or refuse on the day (a few in a thousand): when it passed them.
${passingSql('o.due_date BETWEEN $2::date AND $3::date')}),
timed AS (
  SELECT co.uprn, co.round_id, co.due_date, co.outcome, co.exception_code, r.starts_at, r.ends_at,
         (CASE WHEN co.outcome IN ('collected', 'crew_exception') THEN co.lift_ts ELSE p.passed_at END) AT TIME ZONE $4 AS passed_local
    FROM collection_outcomes co
    JOIN rounds r ON r.round_id = co.round_id
    LEFT JOIN passing p ON p.collection_id = co.collection_id
   WHERE co.contract_id = $1 AND co.due_date BETWEEN $2::date AND $3::date AND co.outcome <> 'pending'
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
),
counted AS (
  SELECT uprn, round_id, due_date, hour, round_window, outcome, exception_code, count(*) AS n,
         GROUPING(uprn, round_id, hour) AS grp  -- 3: by household, 5: by round day, 6: by passing time
    FROM (SELECT *, extract(hour FROM passed_local)::int AS hour,
                 CASE WHEN passed_local IS NULL THEN 'not_passed'
                      WHEN passed_local::time < starts_at THEN 'before'
                      WHEN passed_local::time > ends_at THEN 'after'
                      ELSE 'within' END AS round_window
            FROM timed) t
   GROUP BY GROUPING SETS ((uprn, outcome, exception_code), (round_id, due_date, outcome, exception_code), (hour, round_window, outcome, exception_code))
),
by_household AS (
  SELECT c.*, h.street, h.ward, h.lat, h.lon, floor(h.lat * 111320 / $5::float8)::int AS cell_y
    FROM counted c JOIN households h ON h.uprn = c.uprn
   WHERE c.grp = 3
),
by_place AS (
  SELECT CASE WHEN GROUPING(street) = 0 THEN 'street' WHEN GROUPING(ward) = 0 THEN 'ward' ELSE 'cell' END AS dimension,
         coalesce(CASE WHEN GROUPING(street) = 0 THEN street WHEN GROUPING(ward) = 0 THEN ward ELSE cell_y || ':' || cell_x END, '') AS key,
         CASE WHEN GROUPING(street) = 0 THEN ward WHEN GROUPING(ward) = 1 THEN mode() WITHIN GROUP (ORDER BY ward) END AS ward,
         -- A cell is named by the street most of its collections are on (and that street's ward).
         CASE WHEN GROUPING(street) = 1 AND GROUPING(ward) = 1 THEN mode() WITHIN GROUP (ORDER BY street) END AS "mainStreet",
         ${SUMS},
         sum(lat * n) / sum(n) FILTER (WHERE lat IS NOT NULL) AS lat, sum(lon * n) / sum(n) FILTER (WHERE lon IS NOT NULL) AS lon
    FROM (SELECT *, -- cells are as wide as they are tall at their own latitude band
                 floor(lon * 111320 * cos(radians((cell_y + 0.5) * $5::float8 / 111320)) / $5::float8)::int AS cell_x
            FROM by_household) b
   GROUP BY GROUPING SETS ((ward, street), (ward), (cell_y, cell_x))
),
by_round AS (
  SELECT CASE WHEN GROUPING(c.round_id) = 0 THEN 'round' WHEN GROUPING(r.vehicle_id) = 0 THEN 'vehicle' WHEN GROUPING(r.stream) = 0 THEN 'stream'
              WHEN GROUPING(c.due_weekday) = 0 THEN 'weekday' ELSE 'total' END AS dimension,
         coalesce(c.round_id, r.vehicle_id, r.stream, c.due_weekday::text, '') AS key,
         NULL::text AS ward, NULL::text AS "mainStreet",
         ${SUMS},
         NULL::float8 AS lat, NULL::float8 AS lon
    FROM (SELECT *, extract(isodow FROM due_date)::int AS due_weekday FROM counted WHERE grp = 5) c
    JOIN rounds r ON r.round_id = c.round_id
   GROUP BY GROUPING SETS ((c.round_id), (r.vehicle_id), (r.stream), (c.due_weekday), ())
),
by_time AS (
  SELECT CASE WHEN GROUPING(hour) = 0 THEN 'hour' ELSE 'window' END AS dimension,
         CASE WHEN GROUPING(hour) = 0 THEN coalesce(hour::text, 'not_passed') ELSE round_window END AS key,
         NULL::text AS ward, NULL::text AS "mainStreet",
         ${SUMS},
         NULL::float8 AS lat, NULL::float8 AS lon
    FROM counted WHERE grp = 6
   GROUP BY GROUPING SETS ((hour), (round_window))
)
SELECT * FROM by_place UNION ALL SELECT * FROM by_round UNION ALL SELECT * FROM by_time`

/** Breakdown rows from the query's rows: the `exc:` columns gathered into exceptionsByCode. */
function toRows(rows: Record<string, unknown>[]): BreakdownRow[] {
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

/** The breakdowns from one pass over the outcomes of the range (any cell size; the ground truth). */
export async function breakdowns(db: Queryable, input: BreakdownInput): Promise<BreakdownRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(BREAKDOWNS_SQL, [input.contractId, input.from, input.to, input.timeZone, input.cellM])
  return toRows(rows)
}

// The stored sums summed again, as the one-pass query sums its counted rows (scheduled is NULL on
// the total of an empty range there too, the others 0).
const RESUM = SUM_COLUMNS.map(([c, f], i) => (i === 0 ? `sum(${c})::int AS "${f}"` : `coalesce(sum(${c}), 0)::int AS "${f}"`)).join(',\n         ')

// $1 contract, $2 days not rolled up (computed here), $3 time zone, $4 days rolled up (read). When
// every day is rolled up, the statement without the live part (planning the live part costs more
// than reading a city's month of stored rows).
const rolledUpBreakdownsSql = (live: boolean) => `
WITH ${live ? `${FINE_SQL.ctes},` : ''}
place AS (
  SELECT ${FINE_SQL.placeColumns.join(', ')} FROM why_missed_place_days WHERE contract_id = $1 AND ${live ? 'day = ANY ($4::date[])' : 'day BETWEEN $2 AND $3'}
  ${live ? `UNION ALL SELECT ${FINE_SQL.placeColumns.join(', ')} FROM fine_place` : ''}
),
round_days AS (
  SELECT day, round_id, ${FINE_SQL.columns.join(', ')} FROM why_missed_round_days WHERE contract_id = $1 AND ${live ? 'day = ANY ($4::date[])' : 'day BETWEEN $2 AND $3'}
  ${live ? `UNION ALL SELECT day, round_id, ${FINE_SQL.columns.join(', ')} FROM fine_round` : ''}
),
time_days AS (
  SELECT hour, round_window, ${FINE_SQL.columns.join(', ')} FROM why_missed_time_days WHERE contract_id = $1 AND ${live ? 'day = ANY ($4::date[])' : 'day BETWEEN $2 AND $3'}
  ${live ? `UNION ALL SELECT hour, round_window, ${FINE_SQL.columns.join(', ')} FROM fine_time` : ''}
),
by_place AS (
  SELECT CASE WHEN GROUPING(street) = 0 THEN 'street' WHEN GROUPING(ward) = 0 THEN 'ward' ELSE 'cell' END AS dimension,
         coalesce(CASE WHEN GROUPING(street) = 0 THEN street WHEN GROUPING(ward) = 0 THEN ward ELSE cell_y || ':' || cell_x END, '') AS key,
         -- A cell's ward and street are named afterwards, for the cells shown (cellNames).
         CASE WHEN GROUPING(street) = 0 THEN ward END AS ward, NULL::text AS "mainStreet",
         ${RESUM},
         sum(lat_sum) / nullif(sum(lat_n), 0) AS lat, sum(lon_sum) / nullif(sum(lon_n), 0) AS lon
    FROM place
   GROUP BY GROUPING SETS ((ward, street), (ward), (cell_y, cell_x))
),
by_round AS (
  SELECT CASE WHEN GROUPING(c.round_id) = 0 THEN 'round' WHEN GROUPING(r.vehicle_id) = 0 THEN 'vehicle' WHEN GROUPING(r.stream) = 0 THEN 'stream'
              WHEN GROUPING(c.due_weekday) = 0 THEN 'weekday' ELSE 'total' END AS dimension,
         coalesce(c.round_id, r.vehicle_id, r.stream, c.due_weekday::text, '') AS key,
         NULL::text AS ward, NULL::text AS "mainStreet",
         ${RESUM},
         NULL::float8 AS lat, NULL::float8 AS lon
    FROM (SELECT *, extract(isodow FROM day)::int AS due_weekday FROM round_days) c
    JOIN rounds r ON r.round_id = c.round_id
   GROUP BY GROUPING SETS ((c.round_id), (r.vehicle_id), (r.stream), (c.due_weekday), ())
),
by_time AS (
  SELECT CASE WHEN GROUPING(hour) = 0 THEN 'hour' ELSE 'window' END AS dimension,
         CASE WHEN GROUPING(hour) = 0 THEN coalesce(hour::text, 'not_passed') ELSE round_window END AS key,
         NULL::text AS ward, NULL::text AS "mainStreet",
         ${RESUM},
         NULL::float8 AS lat, NULL::float8 AS lon
    FROM time_days
   GROUP BY GROUPING SETS ((hour), (round_window))
)
SELECT * FROM by_place UNION ALL SELECT * FROM by_round UNION ALL SELECT * FROM by_time`
export const ROLLED_UP_BREAKDOWNS_SQL = { withLive: rolledUpBreakdownsSql(true), rolledUpOnly: rolledUpBreakdownsSql(false) }

export interface RolledUpBreakdowns {
  rows: BreakdownRow[]
  /** Days read from the roll-up, and days computed live (not rolled up yet, or marked stale). */
  rolledUpDays: number
  liveDays: number
  /** When every day is rolled up: the entry the rows are kept in (kept.ts), for the cells' names too. */
  kept: KeptBreakdowns | null
}

/**
 * The same rows as `breakdowns` for 250 m cells, from the roll-up where it holds and live elsewhere;
 * cells come without their ward and main street (name the ones shown with `cellNames`). A range
 * wholly rolled up is summed once and kept while its days' versions hold (kept.ts).
 */
export async function rolledUpBreakdowns(db: Queryable, input: Omit<BreakdownInput, 'cellM'>): Promise<RolledUpBreakdowns> {
  const fresh = await freshWhyMissedDays(db, input)
  const freshSet = new Set(fresh.map((f) => f.day))
  const live = eachDay(input.from, input.to).filter((d) => !freshSet.has(d))
  if (live.length > 0) {
    const { rows } = await db.query<Record<string, unknown>>(ROLLED_UP_BREAKDOWNS_SQL.withLive, [input.contractId, live, input.timeZone, [...freshSet]])
    return { rows: toRows(rows), rolledUpDays: fresh.length, liveDays: live.length, kept: null }
  }
  const key = JSON.stringify([input.contractId, input.from, input.to, input.timeZone])
  const token = JSON.stringify([fresh, await allRoundsVersion(db)])
  let kept = keptBreakdowns(db, key, token)
  if (!kept) {
    const { rows } = await db.query<Record<string, unknown>>(ROLLED_UP_BREAKDOWNS_SQL.rolledUpOnly, [input.contractId, input.from, input.to])
    kept = { rows: toRows(rows), names: new Map(), figures: new Map() }
    keepBreakdowns(db, key, token, kept)
  }
  return { rows: kept.rows, rolledUpDays: fresh.length, liveDays: 0, kept }
}

// $1 contract, $2 from, $3 to, $4 cell rows, $5 cell columns (of the roll-up's grid). A cell is named
// as the one-pass query names it: the ward and the street most of its counted rows (one per
// household, outcome and code over the range) are in. Only the cells asked for: their households
// found through the index of their cell (migration 131, the same expressions as here), then their
// outcomes through the household index.
export const CELL_NAMES_SQL = `
WITH cells AS (SELECT y, x FROM unnest($4::int[], $5::int[]) AS c(y, x)),
cancelled AS (
  SELECT collection_id FROM scheduled_collections WHERE cancelled AND due_date BETWEEN $2::date AND $3::date
),
homes AS (
  -- A probe of the cell index per cell, never a pass over every household (OFFSET 0 keeps the
  -- planner from turning it into a hash join over all of them, which it costs as cheaper).
  SELECT c.y, c.x, h.uprn, h.street, h.ward
    FROM cells c
    CROSS JOIN LATERAL (SELECT h.uprn, h.street, h.ward FROM households h WHERE ${CELL_Y_SQL('h')} = c.y AND ${CELL_X_SQL('h')} = c.x OFFSET 0) h
),
counted AS (
  SELECT DISTINCT homes.y, homes.x, homes.uprn, homes.street, homes.ward, co.outcome, co.exception_code
    FROM homes
    JOIN collection_outcomes co ON co.uprn = homes.uprn
   WHERE co.contract_id = $1 AND co.due_date BETWEEN $2::date AND $3::date AND co.outcome <> 'pending'
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
     AND co.round_id IN (SELECT round_id FROM rounds)
)
SELECT y || ':' || x AS key, mode() WITHIN GROUP (ORDER BY ward) AS ward, mode() WITHIN GROUP (ORDER BY street) AS "mainStreet"
  FROM counted GROUP BY y, x`

/** The ward and main street of these cells of the roll-up's grid ('y:x' keys) over a range, as `breakdowns` names them. */
export async function cellNames(db: Queryable, input: { contractId: string; from: string; to: string; keys: readonly string[] }): Promise<Map<string, { ward: string | null; mainStreet: string | null }>> {
  const cells = input.keys.filter((k) => /^-?\d+:-?\d+$/.test(k)).map((k) => k.split(':').map(Number) as [number, number])
  if (cells.length === 0) return new Map()
  const { rows } = await db.query<{ key: string; ward: string | null; mainStreet: string | null }>(CELL_NAMES_SQL, [
    input.contractId, input.from, input.to, cells.map((c) => c[0]), cells.map((c) => c[1]),
  ])
  return new Map(rows.map((r) => [r.key, { ward: r.ward, mainStreet: r.mainStreet }]))
}

export { ROLLUP_CELL_M }
