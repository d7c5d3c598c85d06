// The scheduled job that keeps the collection calendar eight weeks ahead. Daily, keyed by the UK
// date, so a second instance or a restart on the same day does not repeat it.
import type { JobDefinition } from '../scheduler.ts'
import { addDays, localDate } from './dates.ts'
import { generateCalendar } from './generate.ts'

export const CALENDAR_WEEKS_AHEAD = 8

/** The range the calendar is kept for on a given day: today and the next eight weeks. */
export function calendarHorizon(now: Date): { from: string; to: string; today: string } {
  const today = localDate(now)
  return { from: today, to: addDays(today, CALENDAR_WEEKS_AHEAD * 7), today }
}

export const calendarJob: JobDefinition = {
  name: 'calendar',
  // 02:20 daily: after midnight, before crews start; also run after every registry import.
  schedule: '20 2 * * *',
  runAtStart: true,
  period: (now) => localDate(now),
  async run({ db, now }) {
    const report = await generateCalendar(db, calendarHorizon(now))
    return { ...report }
  },
}
