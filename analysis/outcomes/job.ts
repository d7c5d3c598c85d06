// The scheduled job that keeps collection outcomes and missed-bin reports up to date. Hourly, keyed by
// the hour, so a second instance or a restart in the same hour does not repeat it. Each run:
//   1. assesses reports still pending (filed while no assessor ran, or when it failed);
//   2. decides every collection due yesterday, and today's once their round's planned end has passed
//      (pending until the round is over; rounds still out are left alone, so that a big city's day is
//      not rewritten every hour while its crews work);
//   3. re-decides the unsettled collections (no outcome yet, pending or missed) of the LOOKBACK_DAYS
//      before, for late data: a lift arriving after a miss was recorded, a return visit, a new report;
//   4. closes valid reports whose collection was put right, and re-judges those late data contradicts.
// Steps 2 and 3 tell the CRM of each miss decided, and of a miss it was told of that late evidence
// withdraws, in the transaction that writes the outcome (crm-misses.ts).
import type { JobDefinition } from '../scheduler.ts'
import { addDays } from '../calendar/dates.ts'
import { createReportAssessor } from '../first-contact/assess-report.ts'
import { classifyOutcomes, unsettledCollections } from './classify.ts'
import { ukDate } from './local-time.ts'
import { assessPendingReports, settleReports } from './reports-sync.ts'

/** Days back that late evidence still re-decides an outcome: beyond the reporting window and rectification. */
export const LOOKBACK_DAYS = 14

export const outcomesJob: JobDefinition = {
  name: 'outcomes',
  // Hourly at :10, after the quarter-hour roll-ups have started; rounds end through the afternoon.
  schedule: '10 * * * *',
  period: (now) => now.toISOString().slice(0, 13),
  async run({ db, now }) {
    const today = ukDate(now)
    const assessed = await assessPendingReports(db, now, createReportAssessor(db))
    const recent = await classifyOutcomes(db, { from: addDays(today, -1), to: today, now, roundsEndedOnly: true })
    const from = addDays(today, -LOOKBACK_DAYS)
    const to = addDays(today, -2)
    const earlier = await classifyOutcomes(db, { from, to, now, collectionIds: await unsettledCollections(db, from, to) })
    const reports = await settleReports(db, now)
    return {
      assessed,
      recent: { decided: recent.decided, written: recent.inserted + recent.rewritten, outcomes: recent.outcomes, crmEvents: recent.crmEvents, ms: recent.ms },
      earlier: { decided: earlier.decided, written: earlier.inserted + earlier.rewritten, crmEvents: earlier.crmEvents, ms: earlier.ms },
      reportsClosed: reports.closed,
      reportsInvalidated: reports.invalidated,
    }
  },
}
