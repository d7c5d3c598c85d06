// UK wall-clock time for the outcome rules and the first-contact check: the instant of a local time
// on a calendar day, and the calendar day of an instant. Offsets come from the platform's time-zone
// database (Intl), so the clock changes in spring and autumn (BST) are minded.
import { addDays, localDate, type IsoDate } from '../calendar/dates.ts'

/** Councils in England and Wales work on UK local days (the SQL says 'Europe/London' where it needs it). */
export const COUNCIL_TIME_ZONE = 'Europe/London'
const MINUTE_MS = 60_000
const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: COUNCIL_TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
})

/** The zone's offset from UTC at an instant, in ms (0 in winter, 3,600,000 in British Summer Time). */
function offsetMs(ms: number): number {
  const p: Record<string, number> = {}
  for (const { type, value } of parts.formatToParts(new Date(ms))) p[type] = Number(value)
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(ms / 1000) * 1000
}

/** The instant of a UK wall-clock time `minutes` after midnight on `date` (1440 = the next midnight). */
export function ukInstant(date: IsoDate, minutes = 0): Date {
  const naive = Date.parse(`${date}T00:00:00Z`) + minutes * MINUTE_MS
  // Two passes settle the offset across a clock change.
  let ms = naive - offsetMs(naive)
  ms = naive - offsetMs(ms)
  return new Date(ms)
}

/** The UK calendar day of an instant. */
export const ukDate = (at: Date): IsoDate => localDate(at, COUNCIL_TIME_ZONE)

/** Midnight at the start of the UK day after `date`. */
export const ukDayEnd = (date: IsoDate): Date => ukInstant(addDays(date, 1))

/** 'HH:MM' or 'HH:MM:SS' → minutes after midnight. */
export function clockMinutes(time: string): number {
  const [h, m] = time.split(':').map(Number) as [number, number]
  return h * 60 + m
}
