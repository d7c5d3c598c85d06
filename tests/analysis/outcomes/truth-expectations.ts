// What the outcome rules and the first-contact check should say about the simulator's ground truth,
// wherever the truth can be seen in the data Kerbside receives. Written from the truth records alone
// (simulators/truth/records.ts), independently of the analysis, for the ground-truth tests.
//
// Not observable, and so excluded (each counted, so the test can say how many):
// - A bin the resident did not put out and the crew passed without logging not_presented: the data
//   (no lift, no exception) looks exactly like a contractor miss. Its outcome, and the verdict on any
//   report about it, are excluded. (The truth marks such reports `observable: false`.)
// Told apart by what the data shows rather than by the truth's own labels:
// - collected_late vs rectified: the truth names the visit (a spare finishing an unfinished round, or a
//   return after a report); the data shows only whether a valid report came before the lift. A late
//   lift after a valid report is rectified (or rectified_late, by the deadline computed here), one
//   without is collected_late — whichever visit it was.
import type { CollectionOutcome } from '../../../core/contract/domain.ts'
import type { FirstContactVerdict } from '../../../analysis/first-contact/schema.ts'
import { WorkingDays, londonDate, londonInstant } from '../../../simulators/time.ts'
import type { CollectionTruth, ReportTruth } from '../../../simulators/truth/records.ts'

export type Expected<T> = { observable: true; value: T } | { observable: false; why: string }

/** Reports the truth judges genuine, by collection key, first first. */
export function genuineReportsByCollection(reports: readonly ReportTruth[]): Map<string, ReportTruth[]> {
  const out = new Map<string, ReportTruth[]>()
  for (const r of [...reports].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    if (!r.genuine || !r.scheduledDate) continue
    const key = `${r.uprn}|${r.stream}|${r.scheduledDate}`
    const list = out.get(key)
    if (list) list.push(r)
    else out.set(key, [r])
  }
  return out
}

/** The return deadline the contract gives a miss reported at `at`: 17:00 on the n-th working day after its UK day. */
export function deadlineFor(at: string, rectifyWorkingDays: number, days: WorkingDays): number {
  const day = londonDate(Date.parse(at))
  let d = day
  if (rectifyWorkingDays === 0) while (!days.isWorkingDay(d)) d = days.after(d, 1)
  else d = days.after(day, rectifyWorkingDays)
  return londonInstant(d, 17 * 60)
}

export interface ExpectedOutcome { outcome: CollectionOutcome; exceptionCode: string | null }

export function expectedOutcome(c: CollectionTruth, genuine: ReportTruth[] | undefined, rectifyWorkingDays: number, days: WorkingDays): Expected<ExpectedOutcome> {
  switch (c.outcome) {
    case 'collected': return { observable: true, value: { outcome: 'collected', exceptionCode: null } }
    case 'crew_exception': return { observable: true, value: { outcome: 'crew_exception', exceptionCode: c.exception } }
    case 'not_presented':
      return c.exception === 'not_presented'
        ? { observable: true, value: { outcome: 'crew_exception', exceptionCode: 'not_presented' } }
        : { observable: false, why: 'not put out, and the crew logged nothing: looks like a miss' }
    case 'missed': return { observable: true, value: { outcome: 'missed', exceptionCode: null } }
    case 'collected_late':
    case 'rectified': {
      const liftAt = Date.parse(c.collectedAt!)
      const report = genuine?.find((r) => Date.parse(r.at) <= liftAt)
      if (!report) return { observable: true, value: { outcome: 'collected_late', exceptionCode: null } }
      const late = liftAt > deadlineFor(report.at, rectifyWorkingDays, days)
      return { observable: true, value: { outcome: late ? 'rectified_late' : 'rectified', exceptionCode: null } }
    }
  }
}

/** The verdicts that stand for each of the truth's reasons (the first-contact check is finer: round in progress is a kind of too early). */
export const VERDICTS_FOR_REASON: Record<ReportTruth['reason'], readonly { verdict: FirstContactVerdict; side?: 'too_early' | 'too_late'; code?: string; notCode?: string }[]> = {
  genuine: [{ verdict: 'genuine_miss' }],
  collected: [{ verdict: 'collected' }],
  not_presented: [{ verdict: 'crew_exception', code: 'not_presented' }],
  crew_exception: [{ verdict: 'crew_exception', notCode: 'not_presented' }],
  // The truth judges the window first; the check puts recorded evidence first (a lift, the crew's
  // exception: docs/crm-integration.md), so a report out of the window about an emptied or refused bin
  // is answered with that evidence. Either way the report is not a valid miss.
  too_early: [{ verdict: 'round_in_progress' }, { verdict: 'outside_reporting_window', side: 'too_early' }, { verdict: 'collected' }, { verdict: 'crew_exception' }],
  too_late: [{ verdict: 'outside_reporting_window', side: 'too_late' }, { verdict: 'collected' }, { verdict: 'crew_exception' }],
  not_scheduled: [{ verdict: 'not_scheduled' }],
}

export function verdictMatches(reason: ReportTruth['reason'], got: { verdict: FirstContactVerdict; windowSide: string | null; exceptionCode: string | null }): boolean {
  return VERDICTS_FOR_REASON[reason].some((v) => v.verdict === got.verdict
    && (v.side === undefined || v.side === got.windowSide)
    && (v.code === undefined || v.code === got.exceptionCode)
    && (v.notCode === undefined || (got.exceptionCode !== null && v.notCode !== got.exceptionCode)))
}

export { WorkingDays }
