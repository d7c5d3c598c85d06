// A collection's evidence as the outcome rules recorded it (analysis/outcomes/decide.ts). The API
// declares it as free JSON, so it is checked here before a screen shows it: anything of another
// shape is shown as "no detailed evidence" rather than trusted.
import type { OutcomeEvidence } from './api-types.ts'

export type EvidenceEvent = OutcomeEvidence['events'][number]

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function isEvent(v: unknown): v is EvidenceEvent {
  return isObject(v) && typeof v.ts === 'string' && typeof v.outcome === 'string' && typeof v.accepted === 'boolean'
}

export function readEvidence(raw: unknown): OutcomeEvidence | null {
  if (!isObject(raw) || typeof raw.rule !== 'string' || !Array.isArray(raw.events)) return null
  const events = raw.events.filter(isEvent)
  const report = isObject(raw.report) && typeof raw.report.at === 'string' ? (raw.report as OutcomeEvidence['report']) : null
  return { ...(raw as unknown as OutcomeEvidence), events, report }
}

/** One line for an event the rules looked at: "Lift by rcv-01, 12.5 kg, 8 m away (on the day)". */
export function describeEvent(e: EvidenceEvent, outcomeLabel: (o: string) => string): string {
  const parts = [e.outcome === 'collected' ? 'Lift' : `Exception: ${outcomeLabel(e.outcome)}`]
  if (e.vehicleId) parts[0] += ` by ${e.vehicleId}`
  if (e.weightKg !== null) parts.push(`${e.weightKg} kg`)
  if (e.distanceM !== null) parts.push(`${Math.round(e.distanceM)} m from the property`)
  parts.push(e.onDueDay ? 'on the day' : 'after the day')
  if (!e.accepted) parts.push('not accepted (too far away)')
  return parts.join(', ')
}
