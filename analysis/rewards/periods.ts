// Reward periods are calendar months of the council's local time, written 'YYYY-MM' (stored as the
// month's first day). A month is posted once it is over; the scheme year for the yearly cap starts in
// a configurable month (April, the UK financial year, by default).
import { localDate } from '../calendar/dates.ts'

export type Month = string

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/

export class RewardPeriodError extends Error {
  override name = 'KERBSIDE_ERR_REWARD_PERIOD'
}

export const isMonth = (s: string): boolean => MONTH_RE.test(s)

function parts(m: Month): [number, number] {
  const x = MONTH_RE.exec(m)
  if (!x) throw new RewardPeriodError(`${JSON.stringify(m)} is not a month written YYYY-MM.`)
  return [Number(x[1]), Number(x[2])]
}

export function addMonths(m: Month, n: number): Month {
  const [y, mo] = parts(m)
  const i = y * 12 + (mo - 1) + n
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`
}

/** First day of the month, YYYY-MM-DD. */
export function monthStart(m: Month): string {
  parts(m)
  return `${m}-01`
}

export const monthOfDay = (day: string): Month => day.slice(0, 7)

/** The month the scheme year containing `m` starts in, for a year starting in month `startMonth` (1–12). */
export function schemeYearStart(m: Month, startMonth: number): Month {
  const [y, mo] = parts(m)
  const year = mo >= startMonth ? y : y - 1
  return `${year}-${String(startMonth).padStart(2, '0')}`
}

/** The latest month that is over at `now` in the council's time zone. */
export const lastClosedMonth = (now: Date, timeZone: string): Month => addMonths(monthOfDay(localDate(now, timeZone)), -1)

/** Months from `from` to `to`, both included. */
export function monthsFrom(from: Month, to: Month): Month[] {
  const out: Month[] = []
  for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m)
  return out
}
