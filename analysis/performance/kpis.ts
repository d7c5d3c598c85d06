// Contractor KPIs, default points and the monthly deduction, from summed counts (counts.ts) and the
// contract's terms. Pure functions: the same counts and terms give the same figures anywhere.
//
// KPI definitions (docs/kpis.md says the same, with examples):
//   missed per 100,000      missed / scheduled × 100,000. Misses are outcomes missed, rectified and
//                           rectified_late: a miss put right is still a miss. Scheduled collections
//                           are those due in the period, not cancelled and decided (pending ones —
//                           the day or round not over — count nowhere until they are decided).
//   collected on the day %  collected / (scheduled − crew exceptions) × 100. Resident-side
//                           exceptions are not the contractor's failure, so they leave the base.
//                           Late collections and misses are the failures.
//   rectified in time %     rectified / (rectified + not rectified in time) × 100: of the misses whose
//                           rectification is decided — put right within the deadline, put right
//                           after it, or still outstanding with the deadline passed. Misses with no
//                           deadline (never reported) or whose deadline is still ahead wait outside it.
//   repeat misses           misses at a property that had another miss (any stream) with an
//                           earlier due date within the contract's repeat_window_days.
//   invalid-report rate %   invalid / (valid + invalid) × 100 of the missed-bin reports made in the
//                           period; reports not yet assessed wait outside it.
//   exceptions by code      crew exceptions per code (not_presented, contaminated, no_access,
//                           excess_waste, overweight, wrong_bin; other).
//   default points          per miss: points_per_miss, plus points_not_rectified when it was not put
//                           right in time; the whole × repeat_multiplier when the miss is a repeat.
//   deduction               per calendar month: points × point_value, capped at deduction_cap_pct %
//                           of monthly_payment. A period spanning months is capped month by month.
// A ratio whose base is zero is null (no data), not 0 or 100.
import type { CrewException } from '../../core/contract/messages.ts'
import { EXCEPTION_CODES, EXCEPTION_FIELDS, type KpiCounts } from './counts.ts'
import type { ContractTerms } from './terms.ts'

export interface KpiFigures {
  scheduled: number
  pending: number
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
  /** Rectification visits: misses put right, in time or late (the return trips). */
  returnVisits: number
  missedPer100k: number | null
  onDayPct: number | null
  rectifiedInTimePct: number | null
  invalidReportPct: number | null
  reports: { total: number; valid: number; invalid: number; pending: number }
  exceptionsByCode: Record<CrewException | 'other', number>
}

const ratio = (num: number, den: number, scale: number): number | null => (den > 0 ? (num / den) * scale : null)

export function kpiFigures(c: KpiCounts): KpiFigures {
  const exceptionsByCode = Object.fromEntries(EXCEPTION_CODES.map((code) => [code, c[EXCEPTION_FIELDS[code]]])) as Record<CrewException, number>
  return {
    scheduled: c.scheduled,
    pending: c.pending,
    collected: c.collected,
    collectedLate: c.collectedLate,
    crewExceptions: c.crewExceptions,
    missed: c.missed,
    missedReported: c.missedReported,
    rectified: c.rectified,
    rectifiedLate: c.rectifiedLate,
    outstanding: c.outstanding,
    awaitingRectification: c.awaitingRectification,
    notRectifiedInTime: c.notRectified,
    repeatMisses: c.repeatMisses,
    returnVisits: c.rectified + c.rectifiedLate,
    missedPer100k: ratio(c.missed, c.scheduled, 100_000),
    onDayPct: ratio(c.collected, c.scheduled - c.crewExceptions, 100),
    rectifiedInTimePct: ratio(c.rectified, c.rectified + c.notRectified, 100),
    invalidReportPct: ratio(c.reportsInvalid, c.reportsValid + c.reportsInvalid, 100),
    reports: { total: c.reports, valid: c.reportsValid, invalid: c.reportsInvalid, pending: c.reports - c.reportsValid - c.reportsInvalid },
    exceptionsByCode: { ...exceptionsByCode, other: c.excOther },
  }
}

export interface Points {
  /** points_per_miss for every miss. */
  misses: number
  /** points_not_rectified for every miss not put right in time. */
  notRectified: number
  /** What the repeat multiplier adds on top, for repeat misses. */
  repeats: number
  total: number
}

type PointTerms = Pick<ContractTerms, 'pointsPerMiss' | 'pointsNotRectified' | 'repeatMultiplier'>

export function defaultPoints(c: KpiCounts, t: PointTerms): Points {
  const misses = t.pointsPerMiss * c.missed
  const notRectified = t.pointsNotRectified * c.notRectified
  // A repeat's points (its own, and the not-rectified extra when it has one) × the multiplier.
  const repeats = (t.repeatMultiplier - 1) * (t.pointsPerMiss * c.repeatMisses + t.pointsNotRectified * c.repeatNotRectified)
  return { misses, notRectified, repeats, total: misses + notRectified + repeats }
}

export interface MonthDeduction {
  /** 'YYYY-MM' */
  month: string
  /** The days of the month the figures cover (a period may cut a month). */
  from: string
  to: string
  points: number
  /** points × point_value, before the cap */
  value: number
  /** deduction_cap_pct % of monthly_payment */
  cap: number
  deduction: number
  capped: boolean
}

const pennies = (x: number) => Math.round(x * 100) / 100

export function monthDeduction(month: { month: string; from: string; to: string }, points: number, t: Pick<ContractTerms, 'pointValue' | 'deductionCapPct' | 'monthlyPayment'>): MonthDeduction {
  const value = pennies(points * t.pointValue)
  const cap = pennies((t.deductionCapPct / 100) * t.monthlyPayment)
  return { ...month, points, value, cap, deduction: Math.min(value, cap), capped: value > cap }
}
