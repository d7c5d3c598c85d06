// A household's open missed-bin reports as the evidence stands now, not as the hourly job last left
// them. A valid report stays open until the hourly job (analysis/outcomes/reports-sync.ts) sees the
// return visit in the collection outcomes; meanwhile the first-contact check already reads the lift
// and says "emptied on the return visit". The household page showed both side by side ("Collected …
// no further action" beside "confirmed miss, return visit by Mon 7 Dec", issue 14). Each open valid
// report is read here with the first-contact check's own evidence for its collection, at the same
// instant, so the report's state and the verdict always agree; the hourly job closes it later, as
// settleReports decides: a lift after the due day and after the report put it right; one on the day,
// before the report, or the crew's exception shows there was no miss to put right.
import type { WasteStream } from '../../core/contract/domain.ts'
import type { Queryable } from '../../storage/database.ts'
import { openReports, type OpenReport } from '../../storage/households.ts'
import { firstContactCheck } from './check.ts'

/** being_checked: not assessed yet; not_a_miss: judged invalid; awaiting_return: a miss, the return visit not made yet; put_right: emptied on the return visit; no_miss: the records now show it was emptied, or refused by the crew, before the report. */
export const OPEN_REPORT_STATES = ['being_checked', 'not_a_miss', 'awaiting_return', 'put_right', 'no_miss'] as const
export type OpenReportState = (typeof OPEN_REPORT_STATES)[number]

export interface OpenReportNow extends OpenReport {
  state: OpenReportState
  /** The lift (or exception) that put it right or shows there was no miss; null otherwise. */
  evidenceAt: Date | null
  /** The vehicle's registration, when known. */
  evidenceBy: string | null
}

export async function openReportsNow(db: Queryable, uprn: number, asOf: Date = new Date(), stream?: WasteStream): Promise<OpenReportNow[]> {
  const reports = (await openReports(db, uprn)).filter((r) => stream === undefined || r.stream === stream)
  return Promise.all(reports.map(async (r): Promise<OpenReportNow> => {
    const none = { evidenceAt: null, evidenceBy: null }
    if (r.validity === 'pending') return { ...r, state: 'being_checked', ...none }
    if (r.validity === 'invalid') return { ...r, state: 'not_a_miss', ...none }
    if (!r.collectionDate) return { ...r, state: 'awaiting_return', ...none }
    const check = await firstContactCheck(db, { uprn, stream: r.stream as WasteStream, date: r.collectionDate, at: asOf, excludeReportId: r.reportId, otherReports: false })
    const lift = check.collected
    if (lift && !lift.onDueDate && Date.parse(lift.at) > r.requestedAt.getTime()) return { ...r, state: 'put_right', evidenceAt: new Date(lift.at), evidenceBy: lift.registration }
    if (lift) return { ...r, state: 'no_miss', evidenceAt: new Date(lift.at), evidenceBy: lift.registration }
    if (check.exception) return { ...r, state: 'no_miss', evidenceAt: new Date(check.exception.at), evidenceBy: check.exception.registration }
    return { ...r, state: 'awaiting_return', ...none }
  }))
}
