// The one-sentence reason for a verdict: shown to the agent, and kept as a report's invalid_reason
// (Open311 tells the reporter "This report does not match the collection records: <reason>.").
import type { WasteStream } from '../../core/contract/domain.ts'
import type { CrewException } from '../../core/contract/messages.ts'
import { EXCEPTION_ADVICE, STREAM_NAMES, dayName, dayOf, dayTime, deadlineClause, formatDistance, timeOnDay, type Rectified } from './advice.ts'
import type { BinEvent, Progress } from './lookup.ts'
import type { FirstContactVerdict } from './schema.ts'
import type { ReportWindow } from './window.ts'

export interface ReasonInput {
  verdict: FirstContactVerdict
  stream: WasteStream
  asked: string | null
  due?: string
  side?: 'too_early' | 'open' | 'too_late'
  window?: ReportWindow
  lift?: BinEvent | null
  exception?: BinEvent | null
  progress?: Progress | null
  /** The lift came after the due day: the miss it put right. */
  rectified?: Rectified | null
}

export function reasonFor(r: ReasonInput): string {
  switch (r.verdict) {
    case 'not_scheduled':
      return r.asked ? `no ${STREAM_NAMES[r.stream]} collection was due at this address on ${dayName(r.asked)}` : `no ${STREAM_NAMES[r.stream]} collection has been due at this address yet`
    case 'round_in_progress': {
      const p = r.progress
      const stops = p?.stopsBefore != null ? `, about ${p.stopsBefore} stops before this household` : ''
      const seen = p?.lastSeen ? `; its vehicle was last seen at ${timeOnDay(p.lastSeen.at)}, ${formatDistance(p.lastSeen.distanceM)} away` : ''
      return `the round is still in progress${stops}${seen}`
    }
    case 'outside_reporting_window':
      return r.side === 'too_early'
        ? `reported before the reporting window for the collection of ${dayName(r.due!)} opened at ${dayTime(r.window!.opensAt)}`
        : `reported after the reporting window for the collection of ${dayName(r.due!)} closed at the end of ${dayOf(new Date(r.window!.closesAt.getTime() - 1))}`
    case 'collected': {
      const l = r.lift!
      const reg = l.registration ?? l.vehicleId
      const emptied = `${timeOnDay(l.ts)}${reg ? ` by ${reg}` : ''}`
      const m = r.rectified
      if (m) {
        const deadline = deadlineClause(m)
        if (m.outcome === 'collected_late') return `the collection of ${dayName(r.due!)} was missed: the bin was emptied late, at ${emptied}${deadline ? `, ${deadline}` : ''}`
        return `the collection of ${dayName(r.due!)} was missed and put right: reported at ${timeOnDay(m.reportedAt!)}, the bin was emptied on the return visit at ${emptied}${deadline ? `, ${deadline}` : ''}`
      }
      return `the bin was emptied at ${emptied}${l.distanceM !== null ? `, ${Math.round(l.distanceM)} m from the property` : ''}`
    }
    case 'crew_exception': {
      const e = r.exception!
      return `the crew recorded ${e.outcome} (${EXCEPTION_ADVICE[e.outcome as CrewException]?.what ?? e.outcome}) at ${timeOnDay(e.ts)}`
    }
    case 'genuine_miss':
      return `no lift and no crew exception was recorded for this bin on ${dayName(r.due!)}, and the crew has passed it or finished the round`
  }
}
