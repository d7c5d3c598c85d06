// UK local time for the simulators: rounds start at 07:00 London time, residents report in the
// evening, and the clocks change in spring and autumn. Offsets come from Intl (the platform's tz
// database) and are cached per UTC hour, since the simulation asks millions of times.
import { addDays, isoWeekday, type IsoDate } from '../analysis/calendar/dates.ts'
import { bankHolidaysBetween } from '../analysis/calendar/bank-holidays.ts'

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000
const ZONE = 'Europe/London'

const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
})
const offsetCache = new Map<number, number>()

/** London's offset from UTC at an instant, in ms (0 in winter, 3,600,000 in summer). */
export function londonOffsetMs(ms: number): number {
  const hour = Math.floor(ms / HOUR_MS)
  const cached = offsetCache.get(hour)
  if (cached !== undefined) return cached
  const p: Record<string, number> = {}
  for (const { type, value } of parts.formatToParts(new Date(hour * HOUR_MS))) p[type] = Number(value)
  const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!)
  const offset = local - hour * HOUR_MS
  if (offsetCache.size > 100_000) offsetCache.clear()
  offsetCache.set(hour, offset)
  return offset
}

/** The instant of a London wall-clock time on a day (minutes may run past midnight). */
export function londonInstant(date: IsoDate, minutesOfDay: number): number {
  const naive = Date.parse(`${date}T00:00:00Z`) + minutesOfDay * MINUTE_MS
  // Two passes settle the offset across a clock change.
  let ms = naive - londonOffsetMs(naive)
  ms = naive - londonOffsetMs(ms)
  return ms
}

/** The London calendar day of an instant. */
export const londonDate = (ms: number): IsoDate => new Date(ms + londonOffsetMs(ms)).toISOString().slice(0, 10)

/** Minutes since London midnight of an instant. */
export function londonMinutes(ms: number): number {
  const local = ms + londonOffsetMs(ms)
  return ((local % DAY_MS) + DAY_MS) % DAY_MS / MINUTE_MS
}

/** 'HH:MM' → minutes after midnight. */
export function clockMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number]
  return h * 60 + m
}

export const iso = (ms: number): string => new Date(ms).toISOString()

/** Working days: Monday to Friday except bank holidays in England and Wales. */
export class WorkingDays {
  private readonly holidays: ReadonlyMap<IsoDate, string>

  constructor(from: IsoDate, to: IsoDate) {
    this.holidays = bankHolidaysBetween(addDays(from, -7), addDays(to, 60))
  }

  isWorkingDay(date: IsoDate): boolean {
    return isoWeekday(date) <= 5 && !this.holidays.has(date)
  }

  /** The n-th working day after `date` (n ≥ 1). */
  after(date: IsoDate, n = 1): IsoDate {
    let d = date
    for (let left = n; left > 0;) {
      d = addDays(d, 1)
      if (this.isWorkingDay(d)) left--
    }
    return d
  }

  get bankHolidays(): ReadonlyMap<IsoDate, string> {
    return this.holidays
  }
}
