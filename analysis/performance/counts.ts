// The additive counts behind every contractor KPI, per contract, round and day. Ratios, points and
// scores are derived from sums of these (kpis.ts), so that a week, a month or a league table is a
// sum of day rows — the same whether the rows come from the roll-up table or are computed live.
//
// What each count means (docs/kpis.md has the KPI definitions built on them):
//   scheduled              collections due that day, not cancelled, whose outcome is decided
//                          (every outcome except `pending`: the day or the round is not over yet)
//   pending                collections due that day still undecided; counted in no KPI
//   collected              lifted on the due date
//   collectedLate          lifted after the due date with no miss reported before
//   crewExceptions         the crew logged a resident-side exception (not the contractor's fault)
//   missed                 contractor misses: outcomes missed + rectified + rectified_late (a miss
//                          put right is still a miss)
//   missedReported         misses a resident reported (reported_at set)
//   rectified              misses returned to within the rectification deadline
//   rectifiedLate          misses returned to after the deadline
//   outstanding            misses not returned to (yet)
//   awaitingRectification  outstanding misses whose deadline is still ahead
//   notRectified           misses not put right in time: rectified late, or outstanding with the
//                          deadline passed ("as of" the evaluation time)
//   repeatMisses           misses at a property (any stream) that had another miss with an earlier
//                          due date within the contract's repeat_window_days before
//   repeatNotRectified     repeat misses that are also not rectified in time
//   exc*                   crew exceptions by code; excOther for codes outside the device contract
//   reports                missed-bin reports made that (local) day, for the round that serves the
//                          household's stream; reportsValid / reportsInvalid as assessed, the rest pending
import { CREW_EXCEPTIONS, type CrewException } from '../../core/contract/messages.ts'

export const COUNT_FIELDS = [
  'scheduled', 'pending', 'collected', 'collectedLate', 'crewExceptions', 'missed', 'missedReported', 'rectified', 'rectifiedLate',
  'outstanding', 'awaitingRectification', 'notRectified', 'repeatMisses', 'repeatNotRectified',
  'excNotPresented', 'excContaminated', 'excNoAccess', 'excExcessWaste', 'excOverweight', 'excWrongBin', 'excOther',
  'reports', 'reportsValid', 'reportsInvalid',
] as const
export type CountField = (typeof COUNT_FIELDS)[number]
export type KpiCounts = Record<CountField, number>

/** Column of kpi_round_days for each count (snake_case of the field). */
export const COUNT_COLUMNS: Record<CountField, string> = Object.fromEntries(
  COUNT_FIELDS.map((f) => [f, f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]),
) as Record<CountField, string>

/** The count field of each crew exception code. */
export const EXCEPTION_FIELDS: Record<CrewException, CountField> = {
  not_presented: 'excNotPresented', contaminated: 'excContaminated', no_access: 'excNoAccess',
  excess_waste: 'excExcessWaste', overweight: 'excOverweight', wrong_bin: 'excWrongBin',
}
export const EXCEPTION_CODES = CREW_EXCEPTIONS

export const emptyCounts = (): KpiCounts => Object.fromEntries(COUNT_FIELDS.map((f) => [f, 0])) as KpiCounts

/** Add `b` into `a` (in place) and return `a`. */
export function addCounts(a: KpiCounts, b: KpiCounts): KpiCounts {
  for (const f of COUNT_FIELDS) a[f] += b[f]
  return a
}

export function sumCounts(rows: Iterable<KpiCounts>): KpiCounts {
  const total = emptyCounts()
  for (const r of rows) addCounts(total, r)
  return total
}

/** One row of counts: a contract's round on one day. */
export interface RoundDayCounts extends KpiCounts {
  roundId: string
  day: string
}
