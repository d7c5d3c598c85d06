// When a round collects, and on which day each collection is really due. Pure functions: the
// calendar generator applies the same rules in SQL over whole rounds, and the tests pin them here.
import { addDays, daysBetween, eachDay, isoWeekday, type IsoDate } from './dates.ts'

export type Frequency = 'weekly' | 'fortnightly'

/** The part of a round that decides its days. */
export interface RoundPattern {
  /** ISO weekday, 1 = Monday. */
  weekday: number
  frequency: Frequency
  /** A day the round runs; fortnightly rounds run on anchorDate ± 14·n. */
  anchorDate: IsoDate
}

/**
 * Does the round run on `date`? Weekly rounds run on every one of their weekdays; fortnightly ones
 * every 14 days from the anchor, backwards as well as forwards. Two fortnightly rounds on the same
 * weekday whose anchors are a week apart therefore alternate weeks (residual one week, recycling
 * the next).
 */
export function roundRunsOn(round: RoundPattern, date: IsoDate): boolean {
  if (isoWeekday(date) !== round.weekday) return false
  return round.frequency === 'weekly' || daysBetween(round.anchorDate, date) % 14 === 0
}

/** Every day from `from` to `to` (both included) that the round runs. */
export const roundDates = (round: RoundPattern, from: IsoDate, to: IsoDate): IsoDate[] => eachDay(from, to).filter((d) => roundRunsOn(round, d))

/** A council's own change to one day: collections due that day move to `movedTo`, or are cancelled (null). */
export type CalendarOverrides = ReadonlyMap<IsoDate, IsoDate | null>

export interface DueDay {
  dueDate: IsoDate
  cancelled: boolean
  /** Why the day differs from the scheduled one. */
  reason: 'scheduled' | 'bank-holiday' | 'override'
}

/**
 * The day a collection scheduled for `scheduled` is really due.
 *
 * 1. A council override for the scheduled day wins: it moves the collection to its own date, or
 *    cancels it. Councils publish these for Christmas and New Year weeks, where the simple shift
 *    would put collections on Boxing Day or a Sunday.
 * 2. Otherwise the "slip a day" rule that most English councils publish on their "bank holiday
 *    collections" pages (gov.uk/bank-holidays for the days themselves): when a bank holiday
 *    falls Monday–Friday, every collection from that day to the end of that week moves one day
 *    later, so Friday's moves to Saturday. A collection is therefore moved by the number of
 *    weekday bank holidays in its week on or before its day (two in a Christmas week), and if that
 *    lands on a bank holiday it moves on to the next day that is not one. Weekend rounds and weeks
 *    without a weekday bank holiday are unchanged.
 */
export function dueDay(scheduled: IsoDate, holidays: ReadonlySet<IsoDate> | ReadonlyMap<IsoDate, unknown>, overrides: CalendarOverrides = new Map()): DueDay {
  if (overrides.has(scheduled)) {
    const movedTo = overrides.get(scheduled) ?? null
    return movedTo === null ? { dueDate: scheduled, cancelled: true, reason: 'override' } : { dueDate: movedTo, cancelled: false, reason: 'override' }
  }
  const weekday = isoWeekday(scheduled)
  if (weekday > 5) return { dueDate: scheduled, cancelled: false, reason: 'scheduled' }
  const monday = addDays(scheduled, 1 - weekday)
  let shift = 0
  for (let i = 0; i < weekday; i++) if (holidays.has(addDays(monday, i))) shift++
  if (shift === 0) return { dueDate: scheduled, cancelled: false, reason: 'scheduled' }
  let due = addDays(scheduled, shift)
  while (holidays.has(due)) due = addDays(due, 1)
  return { dueDate: due, cancelled: false, reason: 'bank-holiday' }
}
