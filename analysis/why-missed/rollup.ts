// The why-missed roll-up (storage migration 131): what every breakdown sums, stored per contract and
// due day at three grains — per round, per passing hour and window, per street × 250 m cell — and
// refreshed with the KPI roll-up (analysis/performance/rollup.ts refreshRollup) for the same days.
// Readers take the days rolled up and not marked stale from the tables, and compute the others live
// with the very same SQL (FINE_SQL below), so an answer never depends on when the refresh last ran.
import type { Database, Queryable } from '../../storage/database.ts'
import { EXCEPTION_CODES } from '../performance/counts.ts'
import { passingSql } from './passing.ts'

/** The grid the place roll-up is stored at; other cell sizes are answered by the one-pass query. */
export const ROLLUP_CELL_M = 250

/**
 * A household's cell of the roll-up's grid, from its row `h` (breakdowns.ts: rows of 250 m, each cell
 * as wide as tall at its latitude band). Migration 131 indexes households by these very expressions.
 */
export const CELL_Y_SQL = (h: string) => `floor(${h}.lat * 111320 / ${ROLLUP_CELL_M}::float8)::int`
export const CELL_X_SQL = (h: string) =>
  `floor(${h}.lon * 111320 * cos(radians((${CELL_Y_SQL(h)} + 0.5) * ${ROLLUP_CELL_M}::float8 / 111320)) / ${ROLLUP_CELL_M}::float8)::int`

/** The additive sums of a breakdown row, as stored (column) and as answered (field). */
export const SUM_COLUMNS = [
  ['scheduled', 'scheduled'], ['missed', 'missed'], ['collected_late', 'collectedLate'], ['crew_exceptions', 'crewExceptions'],
  ['return_visits', 'returnVisits'], ...EXCEPTION_CODES.map((c) => [`exc_${c}`, `exc:${c}`] as const), ['exc_other', 'exc:other'],
] as const

const MISS = `outcome IN ('missed', 'rectified', 'rectified_late')`
const CODES = EXCEPTION_CODES.map((c) => `'${c}'`).join(', ')
/** The sums of counted rows (`n` collections per outcome and code), in SUM_COLUMNS order. */
const SUMS_OF_N = [
  `sum(n)::int`,
  `coalesce(sum(n) FILTER (WHERE ${MISS}), 0)::int`,
  `coalesce(sum(n) FILTER (WHERE outcome = 'collected_late'), 0)::int`,
  `coalesce(sum(n) FILTER (WHERE outcome = 'crew_exception'), 0)::int`,
  `coalesce(sum(n) FILTER (WHERE outcome IN ('rectified', 'rectified_late')), 0)::int`,
  ...EXCEPTION_CODES.map((c) => `coalesce(sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = '${c}'), 0)::int`),
  `coalesce(sum(n) FILTER (WHERE outcome = 'crew_exception' AND (exception_code IS NULL OR exception_code NOT IN (${CODES}))), 0)::int`,
]
const COLUMNS = SUM_COLUMNS.map(([c]) => c)
const sumsAs = (names: readonly string[]) => SUMS_OF_N.map((s, i) => `${s} AS ${names[i]}`).join(', ')

// $1 contract, $2 days (date[]), $3 time zone. Every decided, not cancelled outcome of the days with
// when the round passed it, exactly as breakdowns.ts's one-pass query decides it (the same
// statements, over a set of days instead of a range), counted at the three grains of the roll-up.
const FINE_CTES = `
cancelled AS (
  SELECT collection_id FROM scheduled_collections WHERE cancelled AND due_date = ANY ($2::date[])
),
${passingSql('o.due_date = ANY ($2::date[])')}),
timed AS (
  SELECT co.uprn, co.round_id, co.due_date, co.outcome, co.exception_code, r.starts_at, r.ends_at,
         (CASE WHEN co.outcome IN ('collected', 'crew_exception') THEN co.lift_ts ELSE p.passed_at END) AT TIME ZONE $3 AS passed_local
    FROM collection_outcomes co
    JOIN rounds r ON r.round_id = co.round_id
    LEFT JOIN passing p ON p.collection_id = co.collection_id
   WHERE co.contract_id = $1 AND co.due_date = ANY ($2::date[]) AND co.outcome <> 'pending'
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
),
counted AS (
  SELECT uprn, round_id, due_date, hour, round_window, outcome, exception_code, count(*) AS n,
         GROUPING(uprn, round_id, hour) AS grp  -- 3: by household, 5: by round, 6: by passing time (each per day)
    FROM (SELECT *, extract(hour FROM passed_local)::int AS hour,
                 CASE WHEN passed_local IS NULL THEN 'not_passed'
                      WHEN passed_local::time < starts_at THEN 'before'
                      WHEN passed_local::time > ends_at THEN 'after'
                      ELSE 'within' END AS round_window
            FROM timed) t
   GROUP BY GROUPING SETS ((due_date, uprn, outcome, exception_code), (due_date, round_id, outcome, exception_code),
                           (due_date, hour, round_window, outcome, exception_code))
),
fine_round AS (
  SELECT due_date AS day, round_id, ${sumsAs(COLUMNS)} FROM counted WHERE grp = 5 GROUP BY due_date, round_id
),
fine_time AS (
  SELECT due_date AS day, hour, round_window, ${sumsAs(COLUMNS)} FROM counted WHERE grp = 6 GROUP BY due_date, hour, round_window
),
fine_place AS (
  SELECT c.due_date AS day, h.ward, h.street, ${CELL_Y_SQL('h')} AS cell_y, ${CELL_X_SQL('h')} AS cell_x,
         ${sumsAs(COLUMNS)},
         sum(h.lat * n) AS lat_sum, coalesce(sum(n) FILTER (WHERE h.lat IS NOT NULL), 0)::int AS lat_n,
         sum(h.lon * n) AS lon_sum, coalesce(sum(n) FILTER (WHERE h.lon IS NOT NULL), 0)::int AS lon_n
    FROM counted c JOIN households h ON h.uprn = c.uprn
   WHERE c.grp = 3
   GROUP BY c.due_date, h.ward, h.street, 4, 5
)`

const PLACE_COLUMNS = ['ward', 'street', 'cell_y', 'cell_x', ...COLUMNS, 'lat_sum', 'lat_n', 'lon_sum', 'lon_n']

/** The live counterpart of the stored rows, for days not rolled up ($1 contract, $2 days, $3 time zone). */
export const FINE_SQL = { ctes: FINE_CTES, placeColumns: PLACE_COLUMNS, columns: COLUMNS }

// One statement computes the days once and writes all three tables (data-modifying CTEs), after
// the days' old rows are deleted (a separate statement: sub-statements share one snapshot).
const DELETE_SQL = ['why_missed_round_days', 'why_missed_time_days', 'why_missed_place_days']
  .map((t) => `DELETE FROM ${t} WHERE contract_id = $1 AND day = ANY ($2::date[])`)
const STORE_SQL = `
WITH ${FINE_CTES},
put_round AS (INSERT INTO why_missed_round_days (contract_id, day, round_id, ${COLUMNS.join(', ')})
              SELECT $1, day, round_id, ${COLUMNS.join(', ')} FROM fine_round RETURNING 1),
put_time AS (INSERT INTO why_missed_time_days (contract_id, day, hour, round_window, ${COLUMNS.join(', ')})
             SELECT $1, day, hour, round_window, ${COLUMNS.join(', ')} FROM fine_time RETURNING 1),
put_place AS (INSERT INTO why_missed_place_days (contract_id, day, ${PLACE_COLUMNS.join(', ')})
              SELECT $1, day, ${PLACE_COLUMNS.join(', ')} FROM fine_place RETURNING 1)
SELECT (SELECT count(*) FROM put_round)::int + (SELECT count(*) FROM put_time)::int + (SELECT count(*) FROM put_place)::int AS rows`

// Days of a contract to (re)compute: marked stale, rolled up in another time zone, rolled up for the
// KPIs but not here (this roll-up's days follow the KPI roll-up's), or within $3–$4 never rolled up.
const DAYS_TO_REFRESH_SQL = `
SELECT day FROM why_missed_stale_days WHERE contract_id = $1
UNION
SELECT day FROM why_missed_days WHERE contract_id = $1 AND time_zone <> $2
UNION
SELECT k.day FROM kpi_days k WHERE k.contract_id = $1 AND NOT EXISTS (SELECT 1 FROM why_missed_days w WHERE w.contract_id = $1 AND w.day = k.day)
UNION
SELECT d::date FROM generate_series($3::date, $4::date, interval '1 day') AS d
 WHERE $3::date IS NOT NULL AND NOT EXISTS (SELECT 1 FROM why_missed_days w WHERE w.contract_id = $1 AND w.day = d::date)
ORDER BY day`

/** The contract's days whose why-missed roll-up is missing or no longer holds, within `only` if given. */
export async function whyMissedDaysToRefresh(db: Queryable, o: { contractId: string; timeZone: string; ensure?: { from: string; to: string }; only?: { from: string; to: string } }): Promise<string[]> {
  const { rows } = await db.query<{ day: string }>(DAYS_TO_REFRESH_SQL, [o.contractId, o.timeZone, o.ensure?.from ?? null, o.ensure?.to ?? null])
  return rows.map((r) => r.day).filter((d) => !o.only || (d >= o.only.from && d <= o.only.to))
}

/** Recompute and store these days of a contract, in one transaction; returns the rows written. */
export async function storeWhyMissedDays(db: Database, o: { contractId: string; days: string[]; now: Date; timeZone: string }): Promise<number> {
  if (o.days.length === 0) return 0
  return db.transaction(async (tx) => {
    // Lock the marks first: a writer marking one of these days again waits until this commits, and a
    // mark made before is seen here by its version, so only the marks computed over are removed.
    const marks = (await tx.query<{ day: string; version: number }>(
      `SELECT day, version FROM why_missed_stale_days WHERE contract_id = $1 AND day = ANY ($2::date[]) FOR UPDATE`, [o.contractId, o.days])).rows
    for (const sql of DELETE_SQL) await tx.query(sql, [o.contractId, o.days])
    const { rows } = await tx.query<{ rows: number }>(STORE_SQL, [o.contractId, o.days, o.timeZone])
    await tx.query(
      `INSERT INTO why_missed_days (contract_id, day, computed_at, time_zone) SELECT $1, d, $3, $4 FROM unnest($2::date[]) AS d
       ON CONFLICT (contract_id, day) DO UPDATE SET computed_at = excluded.computed_at, time_zone = excluded.time_zone`,
      [o.contractId, o.days, o.now.toISOString(), o.timeZone],
    )
    if (marks.length > 0) {
      await tx.query(
        `DELETE FROM why_missed_stale_days s USING unnest($2::date[], $3::bigint[]) AS m(day, version)
          WHERE s.contract_id = $1 AND s.day = m.day AND s.version = m.version`,
        [o.contractId, marks.map((m) => m.day), marks.map((m) => m.version)],
      )
    }
    return rows[0]?.rows ?? 0
  })
}

// A rolled-up day holds while nothing it was computed from has changed: rolled up in this time zone
// and not marked stale since.
const FRESH_DAYS_SQL = `
SELECT d.day, d.xmin::text AS version FROM why_missed_days d
 WHERE d.contract_id = $1 AND d.day BETWEEN $2 AND $3 AND d.time_zone = $4
   AND NOT EXISTS (SELECT 1 FROM why_missed_stale_days s WHERE s.contract_id = d.contract_id AND s.day = d.day)`

/** The days of the range whose roll-up holds, each with its row's version (xmin: changes whenever the day is rolled up again). */
export async function freshWhyMissedDays(db: Queryable, o: { contractId: string; from: string; to: string; timeZone: string }): Promise<{ day: string; version: string }[]> {
  return (await db.query<{ day: string; version: string }>(FRESH_DAYS_SQL, [o.contractId, o.from, o.to, o.timeZone])).rows
}
