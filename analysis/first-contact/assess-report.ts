// The Open311 assessor (storage/reports.ts AssessReport): a missed-bin report judged by the
// first-contact check as the evidence stood when it was made. A genuine miss is valid, with the
// return deadline as expected_datetime and the resident told when the crew comes back; a report the
// evidence contradicts (collected, crew exception, not scheduled, outside the window, round still in
// progress) is invalid with its reason, and closed: nothing more will be done about it.
import type { Database } from '../../storage/database.ts'
import { setReportVerdict, type AssessReport, type ReportAssessment } from '../../storage/reports.ts'
import { classifyOutcomes } from '../outcomes/classify.ts'
import { firstContactCheck } from './check.ts'
import type { FirstContactAnswer } from './schema.ts'

/** What a report keeps of the check (missed_reports.verdict): the decision and its key facts, not the whole timeline. */
export function verdictRecord(a: FirstContactAnswer) {
  return {
    verdict: a.verdict, valid: a.valid, reason: a.reason, windowSide: a.windowSide, asOf: a.asOf,
    collection: a.collection && { collectionId: a.collection.collectionId, roundId: a.collection.roundId, dueDate: a.collection.dueDate, outcome: a.collection.outcome },
    window: a.window, collected: a.collected, exception: a.exception,
    progress: a.progress && { stopsBefore: a.progress.stopsBefore, passed: a.progress.passed, lastSeen: a.progress.lastSeen },
    nextCollection: a.nextCollection, nextAction: a.nextAction,
  }
}

export function assessmentOf(a: FirstContactAnswer): ReportAssessment {
  if (a.valid) {
    return { validity: 'valid', reason: a.reason, statusNotes: a.nextAction.tell, expectedDatetime: new Date(a.nextAction.deadline!), verdict: verdictRecord(a) }
  }
  return { validity: 'invalid', reason: a.reason, statusNotes: a.nextAction.tell, verdict: verdictRecord(a), close: true }
}

export function createReportAssessor(db: Database): AssessReport {
  return async (report) => {
    const answer = await firstContactCheck(db, { uprn: report.uprn, stream: report.stream, date: report.collectionDate, at: report.requestedAt, excludeReportId: report.id, otherReports: false })
    const assessment = assessmentOf(answer)
    if (assessment.validity === 'valid' && answer.collection) {
      // A miss already classified takes the report in at once (reported_at, first_report_id,
      // rectify_deadline): the verdict is recorded here first, then the collection re-decided as it
      // stands now. The Open311 route records the same verdict again with its notice; nothing changes.
      await setReportVerdict(db, report.id, assessment)
      const due = answer.collection.dueDate
      await classifyOutcomes(db, { from: due, to: due, now: new Date(), collectionIds: [answer.collection.collectionId] })
    }
    return assessment
  }
}
