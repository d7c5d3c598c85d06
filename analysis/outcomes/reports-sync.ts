// Keeping missed-bin reports in step with the outcomes: a valid report whose collection has since
// been emptied is closed (the return visit came), or, when late-arriving data shows the bin had been
// emptied — or the crew had logged an exception — before the report was made, re-judged invalid and
// closed. Reports still pending (filed while no assessor ran, or when it failed) are assessed.
import type { Database } from '../../storage/database.ts'
import { closeReport, setReportVerdict, type AssessReport, getReport } from '../../storage/reports.ts'
import { timeOnDay } from '../first-contact/advice.ts'

interface OpenValid {
  reportId: number
  requestedAt: Date
  outcome: string
  exceptionCode: string | null
  liftTs: Date
  registration: string | null
}

// Open valid reports whose collection now has a deciding event (a lift, or the crew's exception).
const OPEN_VALID_SQL = `
SELECT m.report_id AS "reportId", m.requested_at AS "requestedAt", o.outcome, o.exception_code AS "exceptionCode",
       o.lift_ts AS "liftTs", v.registration
  FROM missed_reports m
  JOIN collection_outcomes o ON o.uprn = m.uprn AND o.stream = m.stream AND o.due_date = m.collection_date
  LEFT JOIN vehicles v ON v.vehicle_id = o.lift_vehicle_id
 WHERE m.status = 'open' AND m.validity = 'valid' AND o.lift_ts IS NOT NULL AND o.lift_ts <= $1::timestamptz
 ORDER BY m.report_id`

/** Assess reports still pending from the last 30 days, as the evidence stood when each was made. */
export async function assessPendingReports(db: Database, now: Date, assess: AssessReport): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT report_id AS id FROM missed_reports WHERE status = 'open' AND validity = 'pending' AND requested_at <= $1::timestamptz
       AND requested_at > $1::timestamptz - interval '30 days' ORDER BY report_id`, [now],
  )
  let assessed = 0
  for (const { id } of rows) {
    const report = await getReport(db, id)
    if (!report) continue
    await setReportVerdict(db, id, { ...(await assess(report)), at: now })
    assessed++
  }
  return assessed
}

export interface SettleReport { closed: number; invalidated: number }

/** Close valid reports whose collection was put right; re-judge those the evidence now contradicts. */
export async function settleReports(db: Database, now: Date): Promise<SettleReport> {
  const out: SettleReport = { closed: 0, invalidated: 0 }
  const { rows } = await db.query<OpenValid>(OPEN_VALID_SQL, [now])
  for (const r of rows) {
    const by = r.registration ? ` by ${r.registration}` : ''
    // Emptied (or refused) on the collection day itself: the report was premature, or late data. After
    // the day: the return visit, unless that lift came before the report.
    const onTheDay = r.outcome === 'collected' || r.outcome === 'crew_exception'
    if (!onTheDay && r.liftTs.getTime() > r.requestedAt.getTime()) {
      await closeReport(db, r.reportId, `The bin was emptied on the return visit at ${timeOnDay(r.liftTs)}${by}.`, { at: now })
      out.closed++
    } else {
      const what = r.outcome === 'crew_exception' ? `the crew recorded ${r.exceptionCode} at ${timeOnDay(r.liftTs)}` : `the bin was emptied at ${timeOnDay(r.liftTs)}${by}`
      await setReportVerdict(db, r.reportId, {
        validity: 'invalid', reason: `the collection records now show ${what}`, close: true, at: now,
        statusNotes: `Our records now show ${what}, so no return visit is needed.`,
      })
      out.invalidated++
    }
  }
  return out
}
