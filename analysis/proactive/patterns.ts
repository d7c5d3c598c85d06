// Why it keeps happening: for properties and streets where collections keep failing, the recurring
// pattern and a suggested action. A failure is a collection the outcome analysis decided as missed,
// collected late or rectified, a crew exception, or a proactive miss confirmed (not withdrawn), due
// in the period. A property with REPEAT_AT failures or more, or a street (of one round) with
// STREET_REPEAT_AT on different days, is listed with what its failures share:
//
//   same_exception   the crew logged the same code at least twice (no_access is `access`)
//   access           no_access at least twice                             → access_note
//   not_presented    not_presented at least twice (the bin is not put out) → assisted_collection (or a review of it)
//   end_of_round     misses late in the round (last fifth) or round not reached, at least twice → round_change
//   same_time        the crew came within 30 minutes of the same time of day each time
//   same_vehicle     every failure on one vehicle while the property is served by more than one → crew_briefing
//   section_skipped  the street or section left out at least twice          → round_change
import type { Queryable } from '../../storage/database.ts'

export const REPEAT_AT = 2
export const STREET_REPEAT_AT = 3
export type PatternKind = 'same_exception' | 'access' | 'not_presented' | 'end_of_round' | 'same_time' | 'same_vehicle' | 'section_skipped'
export type SuggestedAction = 'access_note' | 'assisted_collection' | 'review_assisted_collection' | 'round_change' | 'crew_briefing' | 'monitor'

interface Failure {
  uprn: number
  street: string | null
  address: string
  assisted: boolean
  stream: string
  roundId: string
  vehicleId: string | null
  dueDate: string
  kind: string
  code: string | null
  minuteOfDay: number | null
  roundShare: number | null
  basis: string | null
}

// $1 from, $2 to, $3 contract (NULL: every contract).
const FAILURES_SQL = `
SELECT o.uprn, h.street, h.address, h.assisted, o.stream, o.round_id AS "roundId", COALESCE(o.lift_vehicle_id, r.vehicle_id) AS "vehicleId",
       o.due_date AS "dueDate", o.outcome AS kind, o.exception_code AS code,
       CASE WHEN o.lift_ts IS NOT NULL AND o.outcome = 'crew_exception'
            THEN (extract(hour FROM o.lift_ts AT TIME ZONE 'Europe/London') * 60 + extract(minute FROM o.lift_ts AT TIME ZONE 'Europe/London'))::int END AS "minuteOfDay",
       rh.position::float8 / nullif((SELECT count(*) FROM round_households x WHERE x.round_id = o.round_id), 0) AS "roundShare",
       p.basis
  FROM collection_outcomes o
  JOIN households h ON h.uprn = o.uprn
  JOIN rounds r ON r.round_id = o.round_id
  LEFT JOIN round_households rh ON rh.round_id = o.round_id AND rh.uprn = o.uprn
  LEFT JOIN proactive_misses p ON p.collection_id = o.collection_id AND p.status <> 'withdrawn'
 WHERE o.due_date BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR o.contract_id = $3)
   AND o.outcome IN ('missed', 'collected_late', 'rectified', 'rectified_late', 'crew_exception')
UNION ALL
SELECT p.uprn, h.street, h.address, h.assisted, p.stream, p.round_id, r.vehicle_id, p.due_date, 'missed', NULL,
       CASE WHEN p.evidence->>'passedAt' IS NOT NULL
            THEN (extract(hour FROM (p.evidence->>'passedAt')::timestamptz AT TIME ZONE 'Europe/London') * 60
                  + extract(minute FROM (p.evidence->>'passedAt')::timestamptz AT TIME ZONE 'Europe/London'))::int END,
       rh.position::float8 / nullif((SELECT count(*) FROM round_households x WHERE x.round_id = p.round_id), 0), p.basis
  FROM proactive_misses p
  JOIN households h ON h.uprn = p.uprn
  JOIN rounds r ON r.round_id = p.round_id
  LEFT JOIN round_households rh ON rh.round_id = p.round_id AND rh.uprn = p.uprn
 WHERE p.status IN ('confirmed', 'resolved') AND p.due_date BETWEEN $1::date AND $2::date AND ($3::text IS NULL OR p.contract_id = $3)
   AND NOT EXISTS (SELECT 1 FROM collection_outcomes o WHERE o.collection_id = p.collection_id)
 ORDER BY 1, 8`

export interface Pattern { kind: PatternKind; detail: string; occurrences: number }

export interface RepeatPlace {
  /** A property (uprn) or a street of one round. */
  scope: 'property' | 'street'
  uprn: number | null
  street: string | null
  roundId: string | null
  address: string
  assisted: boolean
  failures: number
  days: number
  streams: string[]
  first: string
  last: string
  patterns: Pattern[]
  action: SuggestedAction
  why: string
}

export async function repeatPatterns(db: Queryable, o: { from: string; to: string; contractId?: string | null; limit?: number }): Promise<RepeatPlace[]> {
  const { rows } = await db.query<Failure>(FAILURES_SQL, [o.from, o.to, o.contractId ?? null])
  const byUprn = new Map<number, Failure[]>()
  const byStreet = new Map<string, Failure[]>()
  for (const f of rows) {
    byUprn.set(f.uprn, [...(byUprn.get(f.uprn) ?? []), f])
    if (f.street && f.kind !== 'crew_exception') byStreet.set(`${f.roundId}|${f.street}`, [...(byStreet.get(`${f.roundId}|${f.street}`) ?? []), f])
  }
  const out: RepeatPlace[] = []
  for (const [uprn, fs] of byUprn) {
    if (fs.length < REPEAT_AT) continue
    out.push(place('property', fs, { uprn, street: fs[0]!.street, roundId: null, address: fs[0]!.address, assisted: fs[0]!.assisted }))
  }
  for (const fs of byStreet.values()) {
    const days = new Set(fs.map((f) => f.dueDate)).size
    if (days < STREET_REPEAT_AT) continue
    out.push(place('street', fs, { uprn: null, street: fs[0]!.street, roundId: fs[0]!.roundId, address: fs[0]!.street ?? '', assisted: false }))
  }
  out.sort((a, b) => b.failures - a.failures || a.address.localeCompare(b.address))
  return out.slice(0, o.limit ?? 500)
}

function place(scope: RepeatPlace['scope'], fs: Failure[], who: Pick<RepeatPlace, 'uprn' | 'street' | 'roundId' | 'address' | 'assisted'>): RepeatPlace {
  const patterns: Pattern[] = []
  const count = (p: (f: Failure) => boolean) => fs.filter(p).length
  const codes = new Map<string, number>()
  for (const f of fs) if (f.code) codes.set(f.code, (codes.get(f.code) ?? 0) + 1)
  for (const [code, n] of codes) {
    if (n < 2) continue
    if (code === 'no_access') patterns.push({ kind: 'access', detail: 'the crew could not get to the bin', occurrences: n })
    else if (code === 'not_presented') patterns.push({ kind: 'not_presented', detail: 'the bin was not put out', occurrences: n })
    else patterns.push({ kind: 'same_exception', detail: code, occurrences: n })
  }
  const late = count((f) => f.kind !== 'crew_exception' && (f.basis === 'round_not_reached' || (f.roundShare ?? 0) >= 0.8))
  if (late >= 2) patterns.push({ kind: 'end_of_round', detail: 'missed late in the round or when the round did not get there', occurrences: late })
  const skipped = count((f) => f.basis === 'section_skipped')
  if (skipped >= 2) patterns.push({ kind: 'section_skipped', detail: 'the street or section was left out', occurrences: skipped })
  const minutes = fs.map((f) => f.minuteOfDay).filter((m): m is number => m !== null).sort((a, b) => a - b)
  if (minutes.length >= 2 && minutes[minutes.length - 1]! - minutes[0]! <= 30) {
    const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
    patterns.push({ kind: 'same_time', detail: `between ${hhmm(minutes[0]!)} and ${hhmm(minutes[minutes.length - 1]!)}`, occurrences: minutes.length })
  }
  const vehicles = new Set(fs.map((f) => f.vehicleId).filter(Boolean))
  const streams = [...new Set(fs.map((f) => f.stream))].sort()
  if (vehicles.size === 1 && scope === 'property' && streams.length === 1 && fs.length >= 2) {
    patterns.push({ kind: 'same_vehicle', detail: [...vehicles][0]!, occurrences: fs.length })
  }
  const has = (k: PatternKind) => patterns.some((p) => p.kind === k)
  let action: SuggestedAction = 'monitor'
  let why = 'failures without a shared cause yet'
  if (has('access')) { action = 'access_note'; why = 'the crew keeps logging no access: record how to reach the bin, or agree where it is left' }
  else if (has('not_presented')) {
    action = who.assisted ? 'review_assisted_collection' : 'assisted_collection'
    why = who.assisted ? 'an assisted collection keeps finding no bin: review it with the household' : 'the bin is often not put out: offer an assisted (pull-out) collection'
  } else if (has('end_of_round') || has('section_skipped')) { action = 'round_change'; why = 'misses come where the round runs out or leaves out the street: rebalance the round or move this street' }
  else if (has('same_vehicle') && fs.filter((f) => f.kind !== 'crew_exception').length >= 2) { action = 'crew_briefing'; why = 'the same crew keeps passing this property: brief the crew and add a note to the in-cab list' }
  else if (who.assisted && fs.some((f) => f.kind !== 'crew_exception')) { action = 'review_assisted_collection'; why = 'an assisted collection keeps being missed' }
  const dates = fs.map((f) => f.dueDate).sort()
  return {
    scope, ...who, failures: fs.length, days: new Set(dates).size, streams, first: dates[0]!, last: dates[dates.length - 1]!, patterns, action, why,
  }
}
