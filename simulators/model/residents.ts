// Residents who report missed bins: most real misses get reported, mostly the same evening or the
// next day; a few people report too early (the round is still out) or too late; some report bins
// that were collected, that they never put out, or that the crew refused — and a few report the
// stream that was not due that week.
import { FIRST_NAMES, LAST_NAMES } from '../city/names.ts'
import type { CityStream } from '../city/city.ts'
import type { Random } from '../random.ts'
import { londonInstant, type WorkingDays } from '../time.ts'
import type { ResidentBehaviour } from './behaviour.ts'
import type { CollectionTruth, ReportReason, TruthOutcome } from '../truth/records.ts'

/** What the resident believes, which sets when they report; the truth is judged when they do. */
export type ReportIntent = 'missed' | 'collected' | 'not_presented' | 'crew_exception' | 'not_scheduled'

export interface PlannedReport {
  at: number
  uprn: number
  stream: CityStream
  /** The collection's key in the ground truth, or null for a stream not due (wrong week). */
  collectionKey: string | null
  dueDate: string
  giveDate: boolean
  intent: ReportIntent
  person: { firstName: string; lastName: string; email: string; phone: string }
  description: string
}

export interface ReportWindow { opensAt: number; closesAt: number }

export function reportWindow(dueDate: string, opensHour: number, workingDays: number, days: WorkingDays): ReportWindow {
  return { opensAt: londonInstant(dueDate, opensHour * 60), closesAt: londonInstant(days.after(dueDate, workingDays), 24 * 60) }
}

const DESCRIPTIONS: Record<ReportIntent, string[]> = {
  missed: [
    'Bin was out by 7am and has not been emptied. The rest of the street was done.',
    'Our bin was left full at the kerb again.',
    'Crew did not come down our road today.',
    'Bin put out the night before, still full this evening.',
  ],
  collected: ['I think our bin was missed this week.', 'Bin not emptied, please send someone.'],
  not_presented: ['Bin was not emptied today.', 'Missed our bin, please come back.'],
  crew_exception: ['Bin was left with a sticker on it and not emptied.', 'Crew refused to empty the bin.'],
  not_scheduled: ['Recycling not collected today.', 'Bin not emptied today.'],
}

function person(r: Random, n: number) {
  const firstName = r.pick(FIRST_NAMES)
  const lastName = r.pick(LAST_NAMES)
  // example.com is reserved for examples (RFC 2606); 07700 900xxx is Ofcom's range for drama.
  return { firstName, lastName, email: `${firstName}.${lastName}${n % 1000}@example.com`.toLowerCase(), phone: `07700 900${String(r.int(0, 999)).padStart(3, '0')}` }
}

/**
 * When a resident who saw the bin still full reports: that evening (once the window is open and the
 * crew has been and gone), the next working day, or the one after.
 */
function usualTime(r: Random, dueDate: string, window: ReportWindow, days: WorkingDays, decidedAt: number): number {
  const k = r.weighted([[0, 0.45], [1, 0.4], [2, 0.15]] as const)
  const evening = Math.max(window.opensAt, decidedAt + 30 * 60_000)
  const later = londonInstant(days.after(dueDate, k || 1), r.between(8 * 60, 20 * 60))
  if (k === 0) return evening + r.between(5, 300) * 60_000
  return Math.max(later, evening + 3_600_000)
}

export interface ReportPlanInput {
  r: Random
  behaviour: ResidentBehaviour
  collection: CollectionTruth
  key: string
  window: ReportWindow
  days: WorkingDays
  /** When the round started, for reports made while it is still out. */
  roundStartAt: number
  /** When the crew reached (or would have reached) the bin. */
  decidedAt: number
  serial: number
}

/** Does the resident of this collection report it, and when? */
export function planReport(input: ReportPlanInput): PlannedReport | null {
  const { r, behaviour: b, collection: c, window, days } = input
  let intent: ReportIntent
  let rate: number
  if (!c.presented) { intent = 'not_presented'; rate = b.reportRate.notPresented }
  else if (c.exception) { intent = 'crew_exception'; rate = b.reportRate.crewException }
  else if (c.missCause) { intent = 'missed'; rate = b.reportRate.missed }
  else { intent = 'collected'; rate = b.reportRate.collected }
  if (!r.chance(rate)) return null
  let at = usualTime(r, c.dueDate, window, days, input.decidedAt)
  if (intent === 'missed') {
    const timing = r.next()
    if (timing < b.earlyShare) at = r.between(Math.min(input.roundStartAt + 3_600_000, window.opensAt - 600_000), window.opensAt - 60_000)
    else if (timing < b.earlyShare + b.lateShare) at = window.closesAt + r.between(2, 72) * 3_600_000
  }
  return {
    at: Math.round(at), uprn: c.uprn, stream: c.stream, collectionKey: input.key, dueDate: c.dueDate, giveDate: r.chance(b.collectionDateShare), intent,
    person: person(r, input.serial), description: r.pick(DESCRIPTIONS[intent]),
  }
}

/** A report about the stream that was not due this week. */
export function planWrongWeekReport(r: Random, b: ResidentBehaviour, uprn: number, stream: CityStream, dueDate: string, window: ReportWindow, roundEndAt: number, serial: number): PlannedReport {
  return {
    at: Math.round(Math.max(window.opensAt, roundEndAt) + r.between(30, 300) * 60_000), uprn, stream, collectionKey: null, dueDate, giveDate: r.chance(b.collectionDateShare), intent: 'not_scheduled',
    person: person(r, serial), description: r.pick(DESCRIPTIONS.not_scheduled),
  }
}

export interface Judgement { genuine: boolean; reason: ReportReason; observable: boolean; outcomeAtReport: TruthOutcome | 'pending' }

/**
 * Is the report a valid missed-bin report, as the evidence stands when it is made? Invalid when
 * outside the window, when the bin was lifted by then, when the crew logged an exception, or when
 * the bin was not put out (which only the resident and the crew can know).
 */
export function judgeReport(at: number, collection: CollectionTruth | undefined, decidedAt: number | undefined, window: ReportWindow): Judgement {
  if (!collection) return { genuine: false, reason: 'not_scheduled', observable: true, outcomeAtReport: 'pending' }
  const collectedBy = collection.lifts.find((l) => l.outcome === 'collected' && Date.parse(l.ts) <= at)
  const pending = decidedAt === undefined || at < decidedAt
  const state: TruthOutcome | 'pending' = pending && !collectedBy ? 'pending' : collection.outcome
  if (at < window.opensAt || state === 'pending') return { genuine: false, reason: 'too_early', observable: true, outcomeAtReport: state }
  if (at > window.closesAt) return { genuine: false, reason: 'too_late', observable: true, outcomeAtReport: state }
  if (collectedBy) return { genuine: false, reason: 'collected', observable: true, outcomeAtReport: state }
  if (collection.exception === 'not_presented') return { genuine: false, reason: 'not_presented', observable: true, outcomeAtReport: state }
  if (collection.exception) return { genuine: false, reason: 'crew_exception', observable: true, outcomeAtReport: state }
  if (!collection.presented) return { genuine: false, reason: 'not_presented', observable: false, outcomeAtReport: state }
  return { genuine: true, reason: 'genuine', observable: true, outcomeAtReport: state }
}
