// The demo's past, and what the analysis makes of it. The simulated weeks go through the broker and
// ingest like live data; what is different is only how the residents' old reports arrive (Open311
// stamps a report with the time it is received, so old ones are filed with their own time through
// the same storage and assessment the route uses) and that the analysis jobs, which a live system
// runs hour by hour, run once over the whole past when it has been replayed.
import { addDays, type IsoDate } from '../analysis/calendar/dates.ts'
import { createReportAssessor } from '../analysis/first-contact/assess-report.ts'
import { classifyOutcomes } from '../analysis/outcomes/classify.ts'
import { refreshRollup } from '../analysis/performance/rollup.ts'
import { lastClosedMonth } from '../analysis/rewards/periods.ts'
import { postRewards } from '../analysis/rewards/ledger.ts'
import type { Scheduler } from '../analysis/scheduler.ts'
import { noticeFor, RECEIVED_NOTICE } from '../api/routes/open311/representation.ts'
import type { ReportTruth } from '../simulators/truth/records.ts'
import { londonDate } from '../simulators/time.ts'
import type { Database } from '../storage/database.ts'
import { createReport, latestDueCollection, responsibleContractor, setReportVerdict } from '../storage/reports.ts'

/** File a resident's report made in the past, with its own time, and assess it as Open311 does. */
export function historicReportFiler(db: Database, source: string) {
  const assess = createReportAssessor(db)
  return async (report: ReportTruth, form: Record<string, string>): Promise<void> => {
    const requestedAt = new Date(report.at)
    const inferred = report.collectionDate ? null : await latestDueCollection(db, report.uprn, report.stream, londonDate(requestedAt.getTime()))
    const { report: stored, created } = await createReport(db, {
      serviceCode: report.serviceCode, stream: report.stream, uprn: report.uprn,
      collectionDate: report.collectionDate ?? inferred, collectionDateInferred: inferred !== null, locatedBy: 'uprn',
      description: form.description ?? null, agencyResponsible: await responsibleContractor(db, report.uprn, report.stream),
      serviceNotice: RECEIVED_NOTICE, source, idempotencyKey: `kerbside-demo-history-${report.at}-${report.uprn}-${report.stream}`, requestedAt,
      contact: { firstName: form.first_name, lastName: form.last_name, email: form.email, phone: form.phone },
    })
    if (!created) return
    const outcome = await assess(stored)
    const notice = noticeFor(outcome)
    await setReportVerdict(db, stored.id, { ...outcome, statusNotes: outcome.statusNotes ?? notice, serviceNotice: notice })
  }
}

export interface CatchUpReport { collections: number; outcomes: Record<string, number>; kpiDays: number; rewardMonths: number; ms: number }

/**
 * Everything the hourly and daily jobs would have worked out over the past weeks: each collection's
 * outcome, the KPI roll-up of every day, reward postings of the closed months, then one run of each
 * job now (readings roll-up, forecasts, proactive misses, reports settled, this month's KPIs).
 */
export async function catchUpAnalysis(db: Database, scheduler: Scheduler, from: IsoDate, now: Date): Promise<CatchUpReport> {
  const t0 = performance.now()
  const today = londonDate(now.getTime())
  const classified = await classifyOutcomes(db, { from, to: today, now, roundsEndedOnly: true })
  const rollup = await refreshRollup(db, { now, ensure: { from, to: addDays(today, -1) } })
  let rewardMonths = 0
  const firstMonth = from.slice(0, 7)
  if (firstMonth <= lastClosedMonth(now, 'Europe/London')) rewardMonths = (await postRewards(db, { from: firstMonth, now, cascade: false })).length
  for (const job of ['readings-rollup', 'timescaledb-policies', 'outcomes', 'fill-forecasts', 'proactive-misses', 'kpi-rollup', 'rewards']) {
    const r = await scheduler.runNow(job, now)
    if (r.status === 'failed') throw new Error(`the ${job} job failed on the demo's history: ${String(r.detail)}`)
  }
  return { collections: classified.decided, outcomes: classified.outcomes, kpiDays: rollup.days, rewardMonths, ms: performance.now() - t0 }
}
