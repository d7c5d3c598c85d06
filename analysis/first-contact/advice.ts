// What the contact-centre agent reads out, and what the report records: one sentence of reason per
// verdict and the next action with its deadline, in plain English and UK local time.
import type { CrewException } from '../../core/contract/messages.ts'
import type { WasteStream } from '../../core/contract/domain.ts'
import { COUNCIL_TIME_ZONE } from '../outcomes/local-time.ts'
import type { NextAction } from './schema.ts'

const DAY = new Intl.DateTimeFormat('en-GB', { timeZone: COUNCIL_TIME_ZONE, weekday: 'short', day: 'numeric', month: 'short' })
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: COUNCIL_TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
const DATE_ONLY = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' })

/** "Tue 24 Nov" for a calendar day. */
export const dayName = (date: string): string => DATE_ONLY.format(new Date(`${date}T00:00:00Z`)).replace(',', '')
/** "07:42" (UK time). */
export const clock = (at: Date): string => TIME.format(at)
/** "07:42 on Tue 24 Nov" (UK time). */
export const timeOnDay = (at: Date): string => `${clock(at)} on ${dayOf(at)}`
/** "Tue 24 Nov" for the UK day of an instant. */
export const dayOf = (at: Date): string => DAY.format(at).replace(',', '')
/** "Thu 26 Nov 17:00" (UK time). */
export const dayTime = (at: Date): string => `${dayOf(at)} ${clock(at)}`

export const STREAM_NAMES: Record<WasteStream, string> = {
  residual: 'general waste', recycling: 'recycling', garden: 'garden waste', food: 'food waste', glass: 'glass',
}

/** Why the crew left the bin, as the resident would say it, and what fixes it. */
export const EXCEPTION_ADVICE: Record<CrewException, { what: string; fix: string }> = {
  not_presented: { what: 'the bin was not put out', fix: 'Please put it out by 7am on your next collection day' },
  contaminated: { what: 'the bin held items that cannot go in it', fix: 'Please take those items out before your next collection day' },
  no_access: { what: 'the crew could not get to the bin', fix: 'Please make sure the bin can be reached from the road on your next collection day' },
  excess_waste: { what: 'there was extra waste beside or on the bin (the lid must close)', fix: 'Please fit everything in the bin with the lid closed for your next collection day' },
  overweight: { what: 'the bin was too heavy to lift safely', fix: 'Please lighten the bin before your next collection day' },
  wrong_bin: { what: 'the wrong bin was put out for this collection', fix: 'Please check your collection calendar for which bin goes out when' },
}

export interface Advice {
  action: NextAction
  tell: string
  deadline: Date | null
}

const next = (nextDue: string | null) => (nextDue ? `your next collection is on ${dayName(nextDue)}` : 'no further collection is scheduled yet')
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

export function returnVisitAdvice(stream: WasteStream, dueDate: string, deadline: Date, alreadyReported: boolean, alreadyKnown = false): Advice {
  const first = alreadyReported ? `This missed ${STREAM_NAMES[stream]} collection of ${dayName(dueDate)} has already been reported.`
    : alreadyKnown ? `Sorry: we already know the crew did not empty your ${STREAM_NAMES[stream]} bin on ${dayName(dueDate)}, and a return visit is booked.`
      : `Sorry: the crew did not empty your ${STREAM_NAMES[stream]} bin on ${dayName(dueDate)}.`
  return { action: 'return_visit', deadline, tell: `${first} A crew will return to empty it by ${dayTime(deadline)}; please leave it out until then.` }
}

export function collectedAdvice(stream: WasteStream, at: Date, registration: string | null, distanceM: number | null, nextDue: NextDue | null): Advice {
  const by = registration ? ` by vehicle ${registration}` : ''
  const where = distanceM !== null ? `, ${Math.round(distanceM)} m from your property` : ''
  return { action: 'none', deadline: null, tell: `Our records show your ${STREAM_NAMES[stream]} bin was emptied at ${timeOnDay(at)}${by}${where}, so no return visit is needed. ${capital(next(nextDue?.date ?? null))}.` }
}

/** The next collection: its day, and when its round starts (the deadline to have the bin out). */
export interface NextDue { date: string; startsAt: Date }

/** A collection missed on its day and emptied after it (check.ts putRight): how, as the outcome rules decide it. */
export interface Rectified {
  outcome: 'rectified' | 'rectified_late' | 'collected_late'
  /** The first valid report of the miss made before the return, and its deadline (or the booked return's). */
  reportedAt: Date | null
  deadline: Date | null
  returnedAt: Date
  registration: string | null
}

/** "within the deadline of Tue 17 Mar 17:00" / "after the deadline of …" / "" */
export const deadlineClause = (r: Rectified): string => (r.deadline ? `${r.returnedAt.getTime() <= r.deadline.getTime() ? 'within' : 'after'} the deadline of ${dayTime(r.deadline)}` : '')

export function rectifiedAdvice(stream: WasteStream, dueDate: string, r: Rectified, nextDue: NextDue | null): Advice {
  const by = r.registration ? ` by vehicle ${r.registration}` : ''
  const when = r.outcome === 'collected_late' ? `The crew came back and emptied it at ${timeOnDay(r.returnedAt)}${by}` : `It was emptied on the return visit at ${timeOnDay(r.returnedAt)}${by}`
  const deadline = deadlineClause(r)
  return {
    action: 'none', deadline: null,
    tell: `Sorry: the crew did not empty your ${STREAM_NAMES[stream]} bin on ${dayName(dueDate)}. ${when}${deadline ? `, ${deadline}` : ''}, so no further visit is needed. ${capital(next(nextDue?.date ?? null))}.`,
  }
}

export function exceptionAdvice(code: CrewException, at: Date, nextDue: NextDue | null): Advice {
  const a = EXCEPTION_ADVICE[code]
  return {
    action: 'resident_action', deadline: nextDue?.startsAt ?? null,
    tell: `The crew called at ${timeOnDay(at)} and recorded that ${a.what}, so the bin was not emptied and no return visit is due. ${a.fix}${nextDue ? ` (${dayName(nextDue.date)})` : ''}.`,
  }
}

export function inProgressAdvice(opensAt: Date, stopsBefore: number | null, lastSeen: { at: Date; distanceM: number } | null): Advice {
  const stops = stopsBefore !== null ? ` with about ${stopsBefore} ${stopsBefore === 1 ? 'stop' : 'stops'} before yours` : ''
  const seen = lastSeen ? ` The vehicle was last seen at ${clock(lastSeen.at)}, ${formatDistance(lastSeen.distanceM)} away.` : ''
  return { action: 'wait', deadline: opensAt, tell: `The crew is still on its round today${stops}.${seen} Please leave the bin out; if it has not been emptied by ${dayTime(opensAt)}, report it then.` }
}

export function tooEarlyAdvice(dueDate: string, opensAt: Date, collectedAt: Date | null): Advice {
  const done = collectedAt ? ` Our records already show the bin was emptied at ${timeOnDay(collectedAt)}.` : ''
  return { action: 'wait', deadline: opensAt, tell: `Missed bins for the collection of ${dayName(dueDate)} can be reported from ${dayTime(opensAt)}.${done}` }
}

export function tooLateAdvice(closesAt: Date, nextDue: NextDue | null): Advice {
  const lastDay = new Date(closesAt.getTime() - 1)
  return {
    action: 'next_collection', deadline: nextDue?.startsAt ?? null,
    tell: `Missed bins must be reported by the end of ${dayOf(lastDay)}; it is too late to send a crew back for this one. The bin will be emptied on the next collection day${nextDue ? `, ${dayName(nextDue.date)}` : ''}.`,
  }
}

export function notScheduledAdvice(stream: WasteStream, asked: string | null, nextDue: NextDue | null): Advice {
  const when = asked ? `on ${dayName(asked)}` : 'on or before today'
  return { action: 'next_collection', deadline: nextDue?.startsAt ?? null, tell: `There was no ${STREAM_NAMES[stream]} collection due at this address ${when}; ${next(nextDue?.date ?? null)}.` }
}

export function formatDistance(m: number): string {
  return m < 1000 ? `${Math.round(m / 10) * 10} m` : `${(m / 1000).toFixed(1)} km`
}
