// The evidence as a timeline for the agent: the collection as scheduled, the reporting window, the
// round's vehicle passing the property, every lift and exception of the bin (those recorded too far
// away marked as not counted), the bin sensor's readings before and after, and earlier reports.
import type { WasteStream } from '../../core/contract/domain.ts'
import { EXCEPTION_ADVICE, STREAM_NAMES, clock, dayName, dayTime } from './advice.ts'
import type { BinEvent, EarlierReport, Reading } from './lookup.ts'
import type { TimelineEntry } from './schema.ts'
import type { ReportWindow } from './window.ts'
import type { CrewException } from '../../core/contract/messages.ts'

export interface TimelineInput {
  scheduled?: { at: Date; roundName: string; dueDate: string; movedFrom: string | null; stream: WasteStream }
  window?: ReportWindow
  pass?: { at: Date; distanceM: number; registration: string | null } | null
  events?: BinEvent[]
  readings?: Reading[]
  reports: EarlierReport[]
}

const by = (registration: string | null | undefined) => (registration ? ` by ${registration}` : '')

export function buildTimeline(t: TimelineInput): TimelineEntry[] {
  const out: { at: Date; kind: TimelineEntry['kind']; summary: string }[] = []
  if (t.scheduled) {
    const s = t.scheduled
    const moved = s.movedFrom ? ` (moved from ${dayName(s.movedFrom)})` : ''
    out.push({ at: s.at, kind: 'scheduled', summary: `${capital(STREAM_NAMES[s.stream])} collection due on ${dayName(s.dueDate)}${moved}, round ${s.roundName}, from ${clock(s.at)}` })
  }
  if (t.window) {
    out.push({ at: t.window.opensAt, kind: 'window_opens', summary: `Missed-bin reports open (${dayTime(t.window.opensAt)})` })
    out.push({ at: t.window.closesAt, kind: 'window_closes', summary: 'Missed-bin reports close' })
  }
  if (t.pass) out.push({ at: t.pass.at, kind: 'vehicle_nearest', summary: `Round vehicle${by(t.pass.registration)} passed ${Math.round(t.pass.distanceM)} m from the property` })
  for (const e of t.events ?? []) {
    const reg = e.registration ?? e.vehicleId
    const far = e.accepted ? '' : ` — recorded ${Math.round(e.distanceM ?? 0)} m from the property, so not counted`
    const when = e.onDueDay ? '' : ' (after the collection day)'
    if (e.outcome === 'collected') {
      const weight = e.weightKg !== null ? `, ${e.weightKg} kg` : ''
      out.push({ at: e.ts, kind: 'lift', summary: `Bin emptied${by(reg)}${weight}${when}${far}` })
    } else {
      const what = EXCEPTION_ADVICE[e.outcome as CrewException]?.what ?? e.outcome
      out.push({ at: e.ts, kind: 'exception', summary: `Crew logged ${e.outcome}: ${what}${by(reg)}${far}` })
    }
  }
  for (const r of t.readings ?? []) {
    out.push({ at: r.at, kind: 'reading', summary: `Bin sensor: ${Math.round(r.fillPct)}% full${r.status && r.status !== 'ok' ? `, ${r.status}` : ''}` })
  }
  for (const r of t.reports) {
    out.push({ at: r.at, kind: 'report', summary: `Missed-bin report ${r.id}${r.collectionDate ? ` about ${dayName(r.collectionDate)}` : ''}: ${r.validity}, ${r.status}` })
  }
  return out.sort((a, b) => a.at.getTime() - b.at.getTime()).map((e) => ({ at: e.at.toISOString(), kind: e.kind, summary: e.summary }))
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
