// Calendar days as 'YYYY-MM-DD' strings, the form the database adapters return for `date`.
// Arithmetic is done on UTC midnights so that no clock change ever shifts a day.

export type IsoDate = string

const DAY_MS = 86_400_000
const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/

export class InvalidDateError extends Error {
  override name = 'KERBSIDE_ERR_INVALID_DATE'
}

/** True when `s` is a real calendar day written YYYY-MM-DD (2026-02-30 is not). */
export function isIsoDate(s: string): boolean {
  const m = ISO_DATE_RE.exec(s)
  if (!m) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
}

export function toUtcMs(date: IsoDate): number {
  if (!isIsoDate(date)) throw new InvalidDateError(`${JSON.stringify(date)} is not a calendar day written YYYY-MM-DD`)
  return Date.parse(`${date}T00:00:00Z`)
}

export const fromUtcMs = (ms: number): IsoDate => new Date(ms).toISOString().slice(0, 10)

export const ymd = (year: number, month: number, day: number): IsoDate => fromUtcMs(Date.UTC(year, month - 1, day))

export const addDays = (date: IsoDate, days: number): IsoDate => fromUtcMs(toUtcMs(date) + days * DAY_MS)

/** Whole days from `a` to `b` (negative when b is earlier). */
export const daysBetween = (a: IsoDate, b: IsoDate): number => Math.round((toUtcMs(b) - toUtcMs(a)) / DAY_MS)

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: IsoDate): number {
  const d = new Date(toUtcMs(date)).getUTCDay()
  return d === 0 ? 7 : d
}

/** Every day from `from` to `to`, both included. */
export function eachDay(from: IsoDate, to: IsoDate): IsoDate[] {
  const out: IsoDate[] = []
  for (let ms = toUtcMs(from), end = toUtcMs(to); ms <= end; ms += DAY_MS) out.push(fromUtcMs(ms))
  return out
}

/** The calendar day it is at `now` in a time zone (councils work on UK local days). */
export function localDate(now: Date, timeZone = 'Europe/London'): IsoDate {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}
