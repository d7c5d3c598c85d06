// Periods the KPIs are reported over: a date range of whole days (both ends included), cut into
// days, ISO weeks (Monday to Sunday, named like 2026-W10) or calendar months. A bucket at either end
// of the range keeps only the days inside the range.
import { addDays, daysBetween, eachDay, isIsoDate, isoWeekday, toUtcMs, type IsoDate } from '../calendar/dates.ts'

export type Granularity = 'day' | 'week' | 'month'

export interface DateRange {
  from: IsoDate
  to: IsoDate
}

/** A year and a day: a whole year compared with the same day a year before. */
export const MAX_RANGE_DAYS = 366

export class InvalidRangeError extends Error {
  override name = 'KERBSIDE_ERR_INVALID_RANGE'
}

export function checkRange(r: DateRange): DateRange {
  if (!isIsoDate(r.from) || !isIsoDate(r.to)) throw new InvalidRangeError(`from and to must be days written YYYY-MM-DD (got ${JSON.stringify(r.from)} and ${JSON.stringify(r.to)}).`)
  if (r.from > r.to) throw new InvalidRangeError(`from (${r.from}) is after to (${r.to}).`)
  if (daysBetween(r.from, r.to) + 1 > MAX_RANGE_DAYS) throw new InvalidRangeError(`A range covers at most ${MAX_RANGE_DAYS} days; ${r.from} to ${r.to} is ${daysBetween(r.from, r.to) + 1}.`)
  return r
}

/** ISO 8601 week of a day, e.g. '2026-W01' (the week with the year's first Thursday). */
export function isoWeek(day: IsoDate): string {
  const thursday = addDays(day, 4 - isoWeekday(day))
  const year = thursday.slice(0, 4)
  const week = Math.floor(daysBetween(`${year}-01-01`, thursday) / 7) + 1
  return `${year}-W${String(week).padStart(2, '0')}`
}

export function bucketOf(day: IsoDate, g: Granularity): string {
  return g === 'day' ? day : g === 'week' ? isoWeek(day) : day.slice(0, 7)
}

export interface Bucket {
  period: string
  from: IsoDate
  to: IsoDate
  days: IsoDate[]
}

/** The range cut into buckets, in order; each with the range's days that fall in it. */
export function buckets(r: DateRange, g: Granularity): Bucket[] {
  const out: Bucket[] = []
  for (const day of eachDay(r.from, r.to)) {
    const period = bucketOf(day, g)
    const last = out[out.length - 1]
    if (last && last.period === period) {
      last.to = day
      last.days.push(day)
    } else {
      out.push({ period, from: day, to: day, days: [day] })
    }
  }
  return out
}

/** Whole days in a range. */
export const rangeDays = (r: DateRange): number => Math.round((toUtcMs(r.to) - toUtcMs(r.from)) / 86_400_000) + 1
