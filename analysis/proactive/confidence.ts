// How sure a suspected miss is: the chance that the contractor really missed a bin that was out,
// given what the evidence shows. Nothing logged at a bin has two explanations the vehicle data cannot
// tell apart — the crew passed a bin that was out (a miss), or the bin was not out and the crew did
// not log it (not_presented is logged for most, not all) — so the confidence is a ratio of rates that
// Kerbside measures itself, per stream, from the rounds of the last BASELINE_DAYS (proactive_round_days):
//
//   round_not_reached, section_skipped   the crew never came (the round stopped before the stop, or left
//       out a run of SECTION_RUN or more neighbours). It is a miss if the bin was out:
//       confidence = 1 − P(not out), where P(not out) is the share of reached bins of the stream that were
//       logged not_presented or passed with nothing logged (an upper bound: some of those were misses).
//   passed_by   the crew passed this one bin with nothing logged while it served its neighbours. A miss
//       is the excess of such passes over what non-presentation explains:
//       confidence = 1 − (expected + K) / (observed + K), with expected = the stream's silent-pass rate on
//       other rounds × the stops this round has reached today, observed = its silent passes today, and K
//       pseudo-counts so that a handful of stops says little. A normal crew scores near 0; a crew passing
//       many bins scores high.
//   assisted household   the crew fetches the bin from the property, so "not out" does not apply:
//       at least ASSISTED_CONFIDENCE.
//   the bin's sensor   out at the kerb (status `moved`) and not emptied after the crew passed: at least
//       SENSOR_CONFIDENCE. A sensor that shows the bin never went out, or was emptied, contradicts the
//       miss: it is not raised (or is withdrawn).
import type { Queryable } from '../../storage/database.ts'
import { addDays, type IsoDate } from '../calendar/dates.ts'
import type { SensorEvidence } from './evidence.ts'

export const BASELINE_DAYS = 28
/** Prior shares, and the weight (in stops) they carry, before a stream has history. */
export const PRIOR_NOT_OUT = 0.06
export const PRIOR_SILENT = 0.01
export const PRIOR_WEIGHT = 300
export const PASSED_BY_PSEUDO = 2
export const ASSISTED_CONFIDENCE = 0.95
export const SENSOR_CONFIDENCE = 0.97
/** At or above this confidence a suspected miss is confirmed: the return collection opens and the CRM is told. */
export const CONFIRM_AT = 0.9
/** A sensor reading below this after the crew passed, when it read at least EMPTIED_FROM before, means the bin was emptied. */
export const EMPTIED_BELOW = 12
export const EMPTIED_FROM = 25
/** Readings before the pass, none showing the bin out, that say it was not put out. */
export const NOT_OUT_READINGS = 3

export type Basis = 'round_not_reached' | 'section_skipped' | 'passed_by'
export type SensorVerdict = 'out_and_full' | 'not_out' | 'emptied' | 'awaiting' | 'unknown' | 'none'

export interface StreamBaseline { reached: number; notPresented: number; silentIsolated: number }
export interface RoundToday { reached: number; silentIsolated: number }

export interface Baselines {
  /** Per stream over the baseline days, and per round the same less the round itself. */
  stream: Map<string, StreamBaseline>
  round: Map<string, StreamBaseline>
  /** Each round-day of the run's days: what the crew reached so far. */
  today: Map<string, RoundToday>
}

/** The counts behind the confidences: the BASELINE_DAYS before `today`, and the round-days of the days looked at. */
export async function readBaselines(db: Queryable, today: IsoDate, from: IsoDate): Promise<Baselines> {
  const { rows } = await db.query<{ roundId: string; dueDate: string; stream: string; reached: number; notPresented: number; silentIsolated: number }>(
    `SELECT round_id AS "roundId", due_date AS "dueDate", stream, reached, not_presented AS "notPresented", silent_isolated AS "silentIsolated"
       FROM proactive_round_days WHERE due_date >= $1::date AND due_date <= $2::date`,
    [addDays(today, -BASELINE_DAYS), today],
  )
  const stream = new Map<string, StreamBaseline>()
  const round = new Map<string, StreamBaseline>()
  const today_ = new Map<string, RoundToday>()
  const add = (m: Map<string, StreamBaseline>, k: string, r: StreamBaseline) => {
    const b = m.get(k) ?? { reached: 0, notPresented: 0, silentIsolated: 0 }
    b.reached += r.reached
    b.notPresented += r.notPresented
    b.silentIsolated += r.silentIsolated
    m.set(k, b)
  }
  for (const r of rows) {
    if (r.dueDate >= from) today_.set(`${r.roundId}|${r.dueDate}`, { reached: r.reached, silentIsolated: r.silentIsolated })
    if (r.dueDate >= today) continue // history only: today's rounds are still out
    add(stream, r.stream, r)
    add(round, `${r.roundId}|${r.stream}`, r)
  }
  return { stream, round, today: today_ }
}

/** P(a bin of the stream was not out), from the stream's reached stops. */
export function notOutShare(b: StreamBaseline | undefined): number {
  const reached = b?.reached ?? 0
  return (((b?.notPresented ?? 0) + (b?.silentIsolated ?? 0)) + PRIOR_NOT_OUT * PRIOR_WEIGHT) / (reached + PRIOR_WEIGHT)
}

/** The stream's rate of silent passes on other rounds than `roundId`. */
export function silentRate(b: Baselines, stream: string, roundId: string): number {
  const all = b.stream.get(stream) ?? { reached: 0, notPresented: 0, silentIsolated: 0 }
  const own = b.round.get(`${roundId}|${stream}`) ?? { reached: 0, notPresented: 0, silentIsolated: 0 }
  const reached = all.reached - own.reached
  const silent = all.silentIsolated - own.silentIsolated
  return (silent + PRIOR_SILENT * PRIOR_WEIGHT) / (reached + PRIOR_WEIGHT)
}

export function sensorVerdict(hasSensor: boolean, s: SensorEvidence | undefined): SensorVerdict {
  if (!hasSensor) return 'none'
  if (!s || s.readings === 0) return 'unknown'
  if (s.afterN > 0 && s.minFillAfter !== null && s.minFillAfter < EMPTIED_BELOW && (s.fillBefore ?? 0) >= EMPTIED_FROM) return 'emptied'
  if (s.outSeen) return s.afterN > 0 ? 'out_and_full' : 'awaiting'
  if (!s.lidOpen && s.beforeN >= NOT_OUT_READINGS) return 'not_out'
  return 'unknown'
}

export interface ConfidenceInput {
  basis: Basis
  stream: string
  roundId: string
  dueDate: string
  assisted: boolean
  sensor: SensorVerdict
}

export interface Confidence {
  confidence: number
  /** The figures behind it, for the evidence. */
  notOutShare: number
  expectedSilent: number | null
  observedSilent: number | null
  why: string[]
}

const round3 = (v: number) => Math.round(v * 1000) / 1000
const pct = (v: number) => `${(v * 100).toFixed(1)}%`

export function confidenceOf(b: Baselines, c: ConfidenceInput): Confidence {
  const notOut = notOutShare(b.stream.get(c.stream))
  let confidence: number
  let expectedSilent: number | null = null
  let observedSilent: number | null = null
  const why: string[] = []
  if (c.basis === 'passed_by') {
    const today = b.today.get(`${c.roundId}|${c.dueDate}`) ?? { reached: 0, silentIsolated: 0 }
    expectedSilent = silentRate(b, c.stream, c.roundId) * today.reached
    observedSilent = today.silentIsolated
    confidence = Math.max(0, 1 - (expectedSilent + PASSED_BY_PSEUDO) / (observedSilent + PASSED_BY_PSEUDO))
    why.push(`the crew passed this bin with nothing logged; today it passed ${observedSilent} of ${today.reached} stops so, against ${expectedSilent.toFixed(1)} expected from bins not put out`)
  } else {
    confidence = 1 - notOut
    why.push(c.basis === 'round_not_reached' ? 'the round ended without reaching this stop' : 'the crew left out this stop and its neighbours along the round')
    why.push(`${pct(notOut)} of ${c.stream} bins are not put out on a collection day`)
  }
  if (c.assisted && confidence < ASSISTED_CONFIDENCE) {
    confidence = ASSISTED_CONFIDENCE
    why.push('assisted collection: the crew fetches the bin from the property')
  }
  if (c.sensor === 'out_and_full' && confidence < SENSOR_CONFIDENCE) {
    confidence = SENSOR_CONFIDENCE
  }
  if (c.sensor === 'out_and_full') why.push('the bin\'s sensor shows it was out at the kerb and is still full')
  if (c.sensor === 'awaiting') why.push('the bin\'s sensor shows it was out; waiting for a reading since the crew passed')
  return { confidence: round3(Math.min(1, confidence)), notOutShare: round3(notOut), expectedSilent: expectedSilent === null ? null : round3(expectedSilent), observedSilent, why }
}
