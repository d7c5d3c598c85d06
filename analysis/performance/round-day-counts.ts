// The counts of one contract's rounds, day by day, straight from the collection outcomes and the
// missed-bin reports: one set-based query, read whole below. The roll-up stores its rows; readers
// compute the days the roll-up does not hold (yet) with it. counts.ts defines every count.
import type { Queryable } from '../../storage/database.ts'
import { COUNT_COLUMNS, COUNT_FIELDS, type RoundDayCounts } from './counts.ts'

export interface RoundDayCountsInput {
  contractId: string
  /** The days to count, 'YYYY-MM-DD' (any set, not necessarily contiguous). */
  days: readonly string[]
  /** Deadlines are passed or not as of this instant. */
  now: Date
  repeatWindowDays: number
  /** The local time zone of the council's days (reports count on the local day they were made). */
  timeZone: string
}

export interface RoundDayCountsResult {
  rows: RoundDayCounts[]
  /** Per day: the earliest rectification deadline still ahead of `now`, when the figures will change. */
  settlesAt: Map<string, Date>
}

// $1 contract, $2 days, $3 now, $4 repeat window (days), $5 time zone.
export const ROUND_DAY_COUNTS_SQL = `
WITH span AS (
  SELECT min(d) AS first_day, max(d) AS last_day FROM unnest($2::date[]) AS d
),
-- Cancelled collections are left out everywhere. Few, and found through a partial index.
cancelled AS (
  SELECT sc.collection_id FROM scheduled_collections sc, span
   WHERE sc.cancelled AND sc.due_date BETWEEN span.first_day - $4::int AND span.last_day
),
-- The day's outcomes counted by outcome and code first (one cheap hash aggregate over the rows),
-- and spread into the count columns after, over a few rows per round day.
outcomes AS (
  SELECT co.round_id, co.due_date AS day, co.outcome, co.exception_code, count(*) AS n
    FROM collection_outcomes co
   WHERE co.contract_id = $1 AND co.due_date = ANY ($2::date[])
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
   GROUP BY co.round_id, co.due_date, co.outcome, co.exception_code
),
-- Pending comes from the calendar, not from outcomes: every collection of the contract's rounds due
-- that day, not cancelled, that has no outcome yet or is decided pending (docs/kpis.md). A day the
-- outcome job has not reached, or a round still out, shows its collections here. A rolled-up day
-- stays right: deciding one marks the day stale (an outcome written), and so does a change of the
-- calendar (migration 096).
undecided AS (
  SELECT sc.round_id, sc.due_date AS day, count(*) AS n
    FROM scheduled_collections sc
    JOIN rounds r ON r.round_id = sc.round_id AND r.contract_id = $1
    LEFT JOIN collection_outcomes co ON co.collection_id = sc.collection_id
   WHERE sc.due_date = ANY ($2::date[]) AND NOT sc.cancelled
     AND (co.collection_id IS NULL OR co.outcome = 'pending')
   GROUP BY sc.round_id, sc.due_date
),
-- Every miss of the contract from a repeat window before the first day to the last: a miss is a
-- repeat when the same property had another miss with an earlier due date inside the window.
misses AS (
  SELECT co.round_id, co.due_date AS day, co.outcome, co.reported_at, co.rectify_deadline,
         count(*) OVER (PARTITION BY co.uprn ORDER BY co.due_date
                        RANGE BETWEEN make_interval(days => $4::int) PRECEDING AND interval '1 day' PRECEDING) > 0 AS is_repeat
    FROM collection_outcomes co, span
   WHERE co.contract_id = $1 AND co.outcome IN ('missed', 'rectified', 'rectified_late')
     AND co.due_date BETWEEN span.first_day - $4::int AND span.last_day
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
),
flagged_misses AS (
  SELECT round_id, day, reported_at IS NOT NULL AS reported, is_repeat, outcome, rectify_deadline,
         outcome = 'rectified_late' OR (outcome = 'missed' AND rectify_deadline <= $3) AS not_rectified
    FROM misses
   WHERE day = ANY ($2::date[])
),
-- Reports count on the local day they were made, for the round that serves that household's stream.
reports AS (
  SELECT serving.round_id, (mr.requested_at AT TIME ZONE $5)::date AS day, mr.validity
    FROM missed_reports mr
    CROSS JOIN span
    CROSS JOIN LATERAL (
      -- The household's few rounds by its index first (OFFSET 0 keeps the planner from starting at rounds).
      SELECT r.round_id FROM (SELECT round_id FROM round_households WHERE uprn = mr.uprn OFFSET 0) rh
        JOIN rounds r ON r.round_id = rh.round_id
       WHERE r.stream = mr.stream AND r.contract_id = $1
       ORDER BY r.active DESC, r.round_id LIMIT 1
    ) serving
   WHERE mr.requested_at >= (span.first_day::timestamp AT TIME ZONE $5)
     AND mr.requested_at < ((span.last_day + 1)::timestamp AT TIME ZONE $5)
     AND (mr.requested_at AT TIME ZONE $5)::date = ANY ($2::date[])
),
by_outcome AS (
  SELECT round_id, day,
         sum(n) FILTER (WHERE outcome <> 'pending')                      AS scheduled,
         sum(n) FILTER (WHERE outcome = 'collected')                     AS collected,
         sum(n) FILTER (WHERE outcome = 'collected_late')                AS collected_late,
         sum(n) FILTER (WHERE outcome = 'crew_exception')                AS crew_exceptions,
         sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = 'not_presented') AS exc_not_presented,
         sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = 'contaminated')  AS exc_contaminated,
         sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = 'no_access')     AS exc_no_access,
         sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = 'excess_waste')  AS exc_excess_waste,
         sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = 'overweight')    AS exc_overweight,
         sum(n) FILTER (WHERE outcome = 'crew_exception' AND exception_code = 'wrong_bin')     AS exc_wrong_bin,
         sum(n) FILTER (WHERE outcome = 'crew_exception' AND (exception_code IS NULL OR exception_code NOT IN
                        ('not_presented', 'contaminated', 'no_access', 'excess_waste', 'overweight', 'wrong_bin'))) AS exc_other
    FROM outcomes GROUP BY round_id, day
),
by_miss AS (
  SELECT round_id, day,
         count(*)                                                          AS missed,
         count(*) FILTER (WHERE reported)                                  AS missed_reported,
         count(*) FILTER (WHERE outcome = 'rectified')                     AS rectified,
         count(*) FILTER (WHERE outcome = 'rectified_late')                AS rectified_late,
         count(*) FILTER (WHERE outcome = 'missed')                        AS outstanding,
         count(*) FILTER (WHERE outcome = 'missed' AND rectify_deadline > $3) AS awaiting_rectification,
         count(*) FILTER (WHERE not_rectified)                             AS not_rectified,
         count(*) FILTER (WHERE is_repeat)                                 AS repeat_misses,
         count(*) FILTER (WHERE is_repeat AND not_rectified)               AS repeat_not_rectified,
         min(rectify_deadline) FILTER (WHERE outcome = 'missed' AND rectify_deadline > $3) AS settles_at
    FROM flagged_misses GROUP BY round_id, day
),
by_pending AS (
  SELECT round_id, day, n AS pending FROM undecided
),
by_report AS (
  SELECT round_id, day,
         count(*)                                        AS reports,
         count(*) FILTER (WHERE validity = 'valid')      AS reports_valid,
         count(*) FILTER (WHERE validity = 'invalid')    AS reports_invalid
    FROM reports GROUP BY round_id, day
)
SELECT round_id AS "roundId", day,
       ${COUNT_FIELDS.map((f) => `coalesce(${COUNT_COLUMNS[f]}, 0)::int AS "${f}"`).join(',\n       ')},
       settles_at AS "settlesAt"
  FROM by_outcome
  FULL JOIN by_miss USING (round_id, day)
  FULL JOIN by_report USING (round_id, day)
  FULL JOIN by_pending USING (round_id, day)
 ORDER BY day, round_id`

export async function roundDayCounts(db: Queryable, input: RoundDayCountsInput): Promise<RoundDayCountsResult> {
  const settlesAt = new Map<string, Date>()
  if (input.days.length === 0) return { rows: [], settlesAt }
  const { rows } = await db.query<RoundDayCounts & { settlesAt: Date | null }>(ROUND_DAY_COUNTS_SQL, [
    input.contractId, input.days, input.now.toISOString(), input.repeatWindowDays, input.timeZone,
  ])
  for (const r of rows) {
    const at = r.settlesAt
    if (at) {
      const known = settlesAt.get(r.day)
      if (!known || at < known) settlesAt.set(r.day, at)
    }
    delete (r as { settlesAt?: unknown }).settlesAt
  }
  return { rows, settlesAt }
}
