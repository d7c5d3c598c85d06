// Households with repeat misses in a period: candidates for an assisted collection, an access fix,
// or a look at why an assisted collection keeps failing. A household is listed when it has at least
// one repeat miss (the contract's rule: another miss at the property, any stream, with an earlier
// due date within repeat_window_days) due in the period. Its history is counted over the period and
// the repeat window before it, so that the earlier miss that made the repeat is in view.
import type { Queryable } from '../../storage/database.ts'
import { keptValue } from '../kept-value.ts'

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

// $1 contract, $2 from, $3 to, $4 repeat window (days). Every household with a repeat miss due in
// the period, most repeats first, with its counts over the period and the window before it. The
// households' details and what changes without touching an outcome's counted columns (reports, crew
// exceptions, the registry) are read afterwards for the page only (REPEAT_DETAILS_SQL).
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
  SELECT co.uprn, co.stream, co.due_date,
         count(*) OVER (PARTITION BY co.uprn ORDER BY co.due_date
                        RANGE BETWEEN make_interval(days => $4::int) PRECEDING AND interval '1 day' PRECEDING) > 0 AS is_repeat
    FROM collection_outcomes co
   WHERE co.contract_id = $1 AND co.outcome IN ('missed', 'rectified', 'rectified_late')
     AND co.due_date BETWEEN $2::date - $4::int AND $3::date
     AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
     AND co.uprn IN (SELECT uprn FROM candidates)
)
SELECT uprn,
       count(*)::int AS misses,
       (count(*) FILTER (WHERE due_date >= $2::date))::int AS "missesInPeriod",
       (count(*) FILTER (WHERE is_repeat AND due_date >= $2::date))::int AS "repeatMisses",
       array_agg(DISTINCT stream ORDER BY stream) AS streams,
       min(due_date) AS "firstMissed", max(due_date) AS "lastMissed"
  FROM misses GROUP BY uprn
HAVING count(*) FILTER (WHERE is_repeat AND due_date >= $2::date) > 0
 ORDER BY 4 DESC, 2 DESC, uprn`

// $1 contract, $2 from, $3 to, $4 repeat window (days), $5 the households (UPRNs, in their order).
// Those still in the registry, with their details, the misses a resident reported and the crew
// exceptions logged over the same span: a few indexed reads per household.
export const REPEAT_DETAILS_SQL = `
WITH cancelled AS (
  SELECT collection_id FROM scheduled_collections WHERE cancelled AND due_date BETWEEN $2::date - $4::int AND $3::date
)
SELECT h.uprn, h.address, h.street, h.ward, h.lat, h.lon, h.assisted,
       coalesce(r.n, 0)::int AS reported, coalesce(x.n, 0)::int AS "crewExceptions", coalesce(x.codes, '{}') AS "exceptionCodes"
  FROM unnest($5::bigint[]) WITH ORDINALITY AS u(uprn, k)
  JOIN households h ON h.uprn = u.uprn
  LEFT JOIN LATERAL (
    SELECT count(*) AS n FROM collection_outcomes co
     WHERE co.uprn = u.uprn AND co.contract_id = $1 AND co.outcome IN ('missed', 'rectified', 'rectified_late')
       AND co.due_date BETWEEN $2::date - $4::int AND $3::date AND co.reported_at IS NOT NULL
       AND co.collection_id NOT IN (SELECT collection_id FROM cancelled)
  ) r ON true
  LEFT JOIN LATERAL (
    SELECT count(*) AS n, array_agg(DISTINCT coalesce(e.exception_code, 'other') ORDER BY coalesce(e.exception_code, 'other')) AS codes
      FROM collection_outcomes e
     WHERE e.uprn = u.uprn AND e.contract_id = $1 AND e.outcome = 'crew_exception' AND e.due_date BETWEEN $2::date - $4::int AND $3::date
  ) x ON true
 ORDER BY u.k`

type Ranked = Pick<RepeatHousehold, 'uprn' | 'misses' | 'missesInPeriod' | 'repeatMisses' | 'streams' | 'firstMissed' | 'lastMissed'>

export function suggestionFor(h: Pick<RepeatHousehold, 'assisted' | 'exceptionCodes'>): Suggestion {
  if (h.exceptionCodes.includes('no_access')) return 'access_fix'
  return h.assisted ? 'review_assisted_collection' : 'assisted_collection'
}

export async function repeatHouseholds(db: Queryable, input: { contractId: string; from: string; to: string; repeatWindowDays: number; limit: number }): Promise<{ total: number; households: RepeatHousehold[] }> {
  const params = [input.contractId, input.from, input.to, input.repeatWindowDays]
  const ranked = await keptRanking(db, params)
  // The registry decides which of them are listed (and counted): a household removed since is not.
  const { rows: present } = await db.query<{ uprn: string }>('SELECT uprn::text AS uprn FROM households WHERE uprn = ANY($1::bigint[])', [ranked.map((r) => r.uprn)])
  const registered = new Set(present.map((r) => Number(r.uprn)))
  const listed = ranked.filter((r) => registered.has(r.uprn))
  const page = listed.slice(0, Math.max(0, input.limit))
  if (page.length === 0) return { total: listed.length, households: [] }
  const { rows } = await db.query<Pick<RepeatHousehold, 'uprn' | 'address' | 'street' | 'ward' | 'lat' | 'lon' | 'assisted' | 'reported' | 'crewExceptions' | 'exceptionCodes'>>(
    REPEAT_DETAILS_SQL, [...params, page.map((r) => r.uprn)])
  const details = new Map(rows.map((d) => [Number(d.uprn), d]))
  const households = page.flatMap((r) => {
    const d = details.get(r.uprn)
    if (!d) return [] // removed from the registry between the two reads
    const h = { ...r, address: d.address, street: d.street, ward: d.ward, lat: d.lat, lon: d.lon, assisted: d.assisted, reported: d.reported, crewExceptions: d.crewExceptions, exceptionCodes: d.exceptionCodes }
    return [{ ...h, suggestion: suggestionFor(h) }]
  })
  return { total: listed.length, households }
}

// The ranking sums a contract's misses over the period and the window before it, which grows with
// the city (6,300 misses at 210,000 households: 6 ms). It is kept per database, contract, period and
// window while no outcome it reads has changed. Every change to an outcome's counted columns, and
// every cancellation or move of a decided collection, marks its day for the why-missed roll-up
// (migration 131: a why_missed_stale_days row, or a new version of it), and the roll-up's refresh
// rewrites the day's why_missed_days row: the marks and the rolled-up rows of the span, read in the
// same transactions as the changes they mark, are the token. Read before the ranking, so that a
// change committed in between makes the next answer sum again. What the kept ranking does not hold
// (details, reports, crew exceptions, the registry) is read for each answer.
const SPAN_TOKEN_SQL = `
SELECT coalesce((SELECT string_agg(day::text || '=' || version::text, ',' ORDER BY day) FROM why_missed_stale_days
                  WHERE contract_id = $1 AND day BETWEEN $2::date - $4::int AND $3::date), '')
       || '|' || coalesce((SELECT string_agg(day::text || '=' || xmin::text, ',' ORDER BY day) FROM why_missed_days
                  WHERE contract_id = $1 AND day BETWEEN $2::date - $4::int AND $3::date), '') AS token`
const MAX_KEPT = 8

async function keptRanking(db: Queryable, params: (string | number)[]): Promise<Ranked[]> {
  const { rows: v } = await db.query<{ token: string }>(SPAN_TOKEN_SQL, params)
  return keptValue(db, JSON.stringify(params), v[0]!.token, MAX_KEPT, async () =>
    (await db.query<Ranked>(REPEAT_HOUSEHOLDS_SQL, params)).rows.map((r) => ({ ...r, uprn: Number(r.uprn) })))
}
