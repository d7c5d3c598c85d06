// Contractor KPIs computed from a simulation's ground truth in plain TypeScript, independently of
// Kerbside's SQL: what each collection looks like from the data (the truth can know more than the
// data shows: a bin not put out that the crew did not log looks like a miss), then every count, KPI,
// point and deduction by hand, following docs/kpis.md.
import { addDays, type IsoDate } from '../../../analysis/calendar/dates.ts'
import type { City, CityStream } from '../../../simulators/city/city.ts'
import type { GroundTruth } from '../../../simulators/truth/ground-truth.ts'
import type { CollectionTruth, ReportTruth } from '../../../simulators/truth/records.ts'
import { londonDate, londonInstant, WorkingDays } from '../../../simulators/time.ts'

export type SeenOutcome = 'collected' | 'collected_late' | 'crew_exception' | 'missed' | 'rectified' | 'rectified_late'

/** A collection as the data shows it. */
export interface SeenCollection {
  truth: CollectionTruth
  outcome: SeenOutcome
  exceptionCode: string | null
  /** The lift or exception that decided it (ms), and the vehicle. */
  liftAt: number | null
  liftVehicleId: string | null
  /** The first valid report about it (ms) and the deadline it set. */
  reportedAt: number | null
  deadline: number | null
}

/**
 * A report the evidence cannot contradict: genuine, or about a bin not put out that the crew did
 * not log (the data shows a miss). Reports too early, too late, about a collected bin, a logged
 * exception or a collection not due are invalid.
 */
export const seenValid = (r: ReportTruth): boolean => r.genuine || !r.observable

/** Return by 17:00 UK time on the n-th working day after the day the miss was reported. */
export function deadlineFor(reportedAt: number, rectifyWorkingDays: number, days: WorkingDays): number {
  const day = londonDate(reportedAt)
  let due: IsoDate = day
  if (rectifyWorkingDays > 0) due = days.after(day, rectifyWorkingDays)
  else while (!days.isWorkingDay(due)) due = addDays(due, 1)
  return londonInstant(due, 17 * 60)
}

export function seenCollections(truth: GroundTruth, rectifyWorkingDays: number): SeenCollection[] {
  const meta = truth.meta!
  const days = new WorkingDays(meta.start.slice(0, 10), addDays(meta.end.slice(0, 10), 30))
  const reportsAbout = new Map<string, ReportTruth[]>()
  for (const r of truth.reports) {
    if (!r.dueDate) continue
    const key = `${r.uprn}|${r.stream}|${r.dueDate}`
    reportsAbout.set(key, [...(reportsAbout.get(key) ?? []), r])
  }
  return [...truth.collections.values()].map((c): SeenCollection => {
    const onDay = c.lifts.find((l) => l.outcome === 'collected' && londonDate(Date.parse(l.ts)) === c.dueDate)
    if (onDay) return { truth: c, outcome: 'collected', exceptionCode: null, liftAt: Date.parse(onDay.ts), liftVehicleId: onDay.vehicleId, reportedAt: null, deadline: null }
    const exceptions = c.lifts.filter((l) => l.outcome !== 'collected' && londonDate(Date.parse(l.ts)) === c.dueDate)
    const lastException = exceptions[exceptions.length - 1]
    if (lastException) return { truth: c, outcome: 'crew_exception', exceptionCode: lastException.outcome, liftAt: Date.parse(lastException.ts), liftVehicleId: lastException.vehicleId, reportedAt: null, deadline: null }
    // No lift and no exception on the day: a miss as far as the data goes.
    const later = c.lifts.find((l) => l.outcome === 'collected' && londonDate(Date.parse(l.ts)) > c.dueDate)
    const laterAt = later ? Date.parse(later.ts) : Infinity
    const report = (reportsAbout.get(`${c.uprn}|${c.stream}|${c.dueDate}`) ?? [])
      .filter((r) => seenValid(r) && Date.parse(r.at) < laterAt)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0]
    const reportedAt = report ? Date.parse(report.at) : null
    const deadline = reportedAt === null ? null : deadlineFor(reportedAt, rectifyWorkingDays, days)
    const base = { truth: c, exceptionCode: null, reportedAt, deadline }
    if (!later) return { ...base, outcome: 'missed', liftAt: null, liftVehicleId: null }
    const outcome: SeenOutcome = deadline === null ? 'collected_late' : laterAt <= deadline ? 'rectified' : 'rectified_late'
    return { ...base, outcome, liftAt: laterAt, liftVehicleId: later.vehicleId }
  })
}

export interface Terms {
  targetMissedPer100k: number
  targetOnDayPct: number
  targetRectifiedPct: number
  pointsPerMiss: number
  pointsNotRectified: number
  repeatMultiplier: number
  repeatWindowDays: number
  pointValue: number
  deductionCapPct: number
  monthlyPayment: number
}

export interface Expected {
  scheduled: number
  collected: number
  collectedLate: number
  crewExceptions: number
  missed: number
  missedReported: number
  rectified: number
  rectifiedLate: number
  outstanding: number
  awaitingRectification: number
  notRectifiedInTime: number
  repeatMisses: number
  returnVisits: number
  exceptionsByCode: Record<string, number>
  reports: { total: number; valid: number; invalid: number; pending: number }
  points: number
  missedPer100k: number | null
  onDayPct: number | null
  rectifiedInTimePct: number | null
  invalidReportPct: number | null
  score: number | null
}

const MISSES = new Set<SeenOutcome>(['missed', 'rectified', 'rectified_late'])

/** Which collections are repeat misses: another miss at the household with an earlier due date within the window. */
export function repeatMisses(seen: SeenCollection[], windowDays: number): Set<SeenCollection> {
  const byHousehold = new Map<number, SeenCollection[]>()
  for (const s of seen) if (MISSES.has(s.outcome)) byHousehold.set(s.truth.uprn, [...(byHousehold.get(s.truth.uprn) ?? []), s])
  const repeats = new Set<SeenCollection>()
  for (const list of byHousehold.values()) {
    for (const s of list) {
      const earliest = addDays(s.truth.dueDate, -windowDays)
      if (list.some((o) => o.truth.dueDate < s.truth.dueDate && o.truth.dueDate >= earliest)) repeats.add(s)
    }
  }
  return repeats
}

/** Failure-rate score of one KPI (docs/kpis.md): 100 at the allowed level, 0 at three times it. */
const kpiScore = (failure: number, allowed: number) => (allowed <= 0 ? (failure <= 0 ? 100 : 0) : 100 * Math.min(1, Math.max(0, (3 * allowed - failure) / (2 * allowed))))

export function expectedKpis(seen: SeenCollection[], reports: ReportTruth[], repeats: Set<SeenCollection>, terms: Terms, now: number): Expected {
  const e: Expected = {
    scheduled: seen.length, collected: 0, collectedLate: 0, crewExceptions: 0, missed: 0, missedReported: 0, rectified: 0, rectifiedLate: 0,
    outstanding: 0, awaitingRectification: 0, notRectifiedInTime: 0, repeatMisses: 0, returnVisits: 0,
    exceptionsByCode: { not_presented: 0, contaminated: 0, no_access: 0, excess_waste: 0, overweight: 0, wrong_bin: 0, other: 0 },
    reports: { total: reports.length, valid: reports.filter(seenValid).length, invalid: reports.filter((r) => !seenValid(r)).length, pending: 0 },
    points: 0, missedPer100k: null, onDayPct: null, rectifiedInTimePct: null, invalidReportPct: null, score: null,
  }
  for (const s of seen) {
    if (s.outcome === 'collected') e.collected++
    if (s.outcome === 'collected_late') e.collectedLate++
    if (s.outcome === 'crew_exception') {
      e.crewExceptions++
      e.exceptionsByCode[s.exceptionCode ?? 'other']!++
    }
    if (!MISSES.has(s.outcome)) continue
    e.missed++
    if (s.reportedAt !== null) e.missedReported++
    if (s.outcome === 'rectified') e.rectified++
    if (s.outcome === 'rectified_late') e.rectifiedLate++
    if (s.outcome === 'missed') e.outstanding++
    if (s.outcome === 'missed' && s.deadline !== null && s.deadline > now) e.awaitingRectification++
    const notRectified = s.outcome === 'rectified_late' || (s.outcome === 'missed' && s.deadline !== null && s.deadline <= now)
    if (notRectified) e.notRectifiedInTime++
    const repeat = repeats.has(s)
    if (repeat) e.repeatMisses++
    // Points miss by miss: its own, the extra when not put right in time, all × the multiplier for a repeat.
    e.points += (terms.pointsPerMiss + (notRectified ? terms.pointsNotRectified : 0)) * (repeat ? terms.repeatMultiplier : 1)
  }
  e.returnVisits = e.rectified + e.rectifiedLate
  if (e.scheduled > 0) e.missedPer100k = (e.missed / e.scheduled) * 100_000
  if (e.scheduled - e.crewExceptions > 0) e.onDayPct = (e.collected / (e.scheduled - e.crewExceptions)) * 100
  if (e.rectified + e.notRectifiedInTime > 0) e.rectifiedInTimePct = (e.rectified / (e.rectified + e.notRectifiedInTime)) * 100
  if (e.reports.valid + e.reports.invalid > 0) e.invalidReportPct = (e.reports.invalid / (e.reports.valid + e.reports.invalid)) * 100
  const parts: [number | null, number, number][] = [
    [e.missedPer100k, terms.targetMissedPer100k, 0.5],
    [e.onDayPct === null ? null : 100 - e.onDayPct, 100 - terms.targetOnDayPct, 0.3],
    [e.rectifiedInTimePct === null ? null : 100 - e.rectifiedInTimePct, 100 - terms.targetRectifiedPct, 0.2],
  ]
  const scored = parts.filter((p): p is [number, number, number] => p[0] !== null)
  if (scored.length > 0) e.score = Math.round((scored.reduce((s, [f, a, w]) => s + w * kpiScore(f, a), 0) / scored.reduce((s, [, , w]) => s + w, 0)) * 10) / 10
  return e
}

/** The round that serves each household for each stream, from the city's own plan. */
export function servingRounds(city: City): Map<string, string> {
  const serving = new Map<string, string>()
  for (const r of [...city.rounds].sort((a, b) => (a.roundId < b.roundId ? 1 : -1))) {
    for (const h of r.stops) serving.set(`${city.households[h]!.uprn}|${r.stream}`, r.roundId) // the lowest round id wins
  }
  return serving
}

export const servingKey = (uprn: number, stream: CityStream | string) => `${uprn}|${stream}`
