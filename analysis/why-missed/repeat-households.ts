// Households with repeat misses in a period: candidates for an assisted collection, an access fix,
// or a look at why an assisted collection keeps failing. A household is listed when it has at least
// one repeat miss (the contract's rule: another miss at the property, any stream, with an earlier
// due date within repeat_window_days) due in the period. Its history is counted over the period and
// the repeat window before it, so that the earlier miss that made the repeat is in view.
import type { Queryable } from '../../storage/database.ts'

export type Suggestion = 'access_fix' | 'assisted_collection' | 'review_assisted_collection'

export interface RepeatHousehold {
  uprn: number
  address: string
  street: string | null
  ward: string | null
  lat: number | null
  lon: number | null
  /** Already on an assisted (pull-out) collection. */
  assisted: boolean
  /** Misses over the period and the window before it; of them due in the period; repeats in the period. */
  misses: number
  missesInPeriod: number
  repeatMisses: number
  reported: number
  streams: string[]
  firstMissed: string
  lastMissed: string
  /** Crew exceptions logged at the household over the same span, and their codes. */
  crewExceptions: number
  exceptionCodes: string[]
  /**
   * What to look at first: an access fix when the crew logged no_access there; an assisted
   * collection when the household is not on one; otherwise review the assisted collection itself.
   */
  suggestion: Suggestion
}

// $1 contract, $2 from, $3 to, $4 repeat window (days), $5 limit.
export const REPEAT_HOUSEHOLDS_SQL = `
WITH cancelled AS (
  SELECT collection_id FROM scheduled_collections WHERE cancelled AND due_date BETWEEN $2::date - $4::int AND $3::date
),
-- Only a household with two misses or more in the span can have a repeat: most have one, and the
-- window and the per-household sums below then run over the few that may.
candidates AS (
  SELECT co.uprn
    FROM collection_outcomes co
   WHERE co.contract_id = $1 AND co.outcome IN ('missed', 'rectified', 'rectified_late')
     AND co.due_date BETWEEN $2::date - $4::int AND $3::date
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
   GROUP BY co.uprn HAVING count(*) >= 2
),
misses AS (
  SELECT co.uprn, co.stream, co.due_date, co.reported_at,
         count(*) OVER (PARTITION BY co.uprn ORDER BY co.due_date
                        RANGE BETWEEN make_interval(days => $4::int) PRECEDING AND interval '1 day' PRECEDING) > 0 AS is_repeat
    FROM collection_outcomes co
   WHERE co.contract_id = $1 AND co.outcome IN ('missed', 'rectified', 'rectified_late')
     AND co.due_date BETWEEN $2::date - $4::int AND $3::date
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
     AND co.uprn IN (SELECT uprn FROM candidates)
),
per_household AS (
  SELECT uprn,
         count(*) AS misses,
         count(*) FILTER (WHERE due_date >= $2::date) AS misses_in_period,
         count(*) FILTER (WHERE is_repeat AND due_date >= $2::date) AS repeat_misses,
         count(*) FILTER (WHERE reported_at IS NOT NULL) AS reported,
         array_agg(DISTINCT stream ORDER BY stream) AS streams,
         min(due_date) AS first_missed, max(due_date) AS last_missed
    FROM misses GROUP BY uprn
  HAVING count(*) FILTER (WHERE is_repeat AND due_date >= $2::date) > 0
),
-- The page first (and the count of all), then the households' details for its rows only: joined
-- before the LIMIT, the planner read every household of the city to find a few (a hash join on an
-- estimate of a thousand candidates) and its cost turned JIT compilation on (30 ms).
ranked AS (
  SELECT m.*, count(*) OVER () AS total
    FROM per_household m
   CROSS JOIN LATERAL (SELECT 1 FROM households h WHERE h.uprn = m.uprn LIMIT 1) registered
   ORDER BY m.repeat_misses DESC, m.misses DESC, m.uprn
   LIMIT $5
)
SELECT m.uprn, h.address, h.street, h.ward, h.lat, h.lon, h.assisted,
       m.misses::int, m.misses_in_period::int AS "missesInPeriod", m.repeat_misses::int AS "repeatMisses", m.reported::int,
       m.streams, m.first_missed AS "firstMissed", m.last_missed AS "lastMissed",
       coalesce(x.n, 0)::int AS "crewExceptions", coalesce(x.codes, '{}') AS "exceptionCodes",
       m.total::int AS total
  FROM ranked m
  CROSS JOIN LATERAL (SELECT address, street, ward, lat, lon, assisted FROM households h WHERE h.uprn = m.uprn LIMIT 1) h
  LEFT JOIN LATERAL (
    SELECT count(*) AS n, array_agg(DISTINCT coalesce(e.exception_code, 'other') ORDER BY coalesce(e.exception_code, 'other')) AS codes
      FROM collection_outcomes e
     WHERE e.uprn = m.uprn AND e.contract_id = $1 AND e.outcome = 'crew_exception' AND e.due_date BETWEEN $2::date - $4::int AND $3::date
  ) x ON true
 ORDER BY m.repeat_misses DESC, m.misses DESC, m.uprn`

export function suggestionFor(h: Pick<RepeatHousehold, 'assisted' | 'exceptionCodes'>): Suggestion {
  if (h.exceptionCodes.includes('no_access')) return 'access_fix'
  return h.assisted ? 'review_assisted_collection' : 'assisted_collection'
}

export async function repeatHouseholds(db: Queryable, input: { contractId: string; from: string; to: string; repeatWindowDays: number; limit: number }): Promise<{ total: number; households: RepeatHousehold[] }> {
  const { rows } = await db.query<Omit<RepeatHousehold, 'suggestion'> & { total: number }>(REPEAT_HOUSEHOLDS_SQL, [input.contractId, input.from, input.to, input.repeatWindowDays, input.limit])
  return {
    total: rows[0]?.total ?? 0,
    households: rows.map(({ total: _, ...h }) => ({ ...h, suggestion: suggestionFor(h) })),
  }
}
