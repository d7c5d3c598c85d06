// Periods the contract pages look at. Days are the council's local days (Europe/London), as the
// API counts them: "this month" in London, whatever the browser's own time zone.

export const COUNCIL_TIME_ZONE = 'Europe/London'
const dayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: COUNCIL_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' })

/** YYYY-MM-DD in London at the instant `ms`. */
export const londonDay = (ms: number = Date.now()): string => dayFmt.format(ms)

const DAY_MS = 86_400_000
const utc = (day: string) => Date.parse(`${day}T00:00:00Z`)
export const addDays = (day: string, n: number): string => new Date(utc(day) + n * DAY_MS).toISOString().slice(0, 10)
export const daysBetween = (a: string, b: string): number => Math.round((utc(b) - utc(a)) / DAY_MS)
export const isDay = (s: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(utc(s)) && new Date(utc(s)).toISOString().startsWith(s)

export function monthStart(day: string, monthsBack = 0): string {
  const d = new Date(utc(day))
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - monthsBack, 1)).toISOString().slice(0, 10)
}

export const PRESETS = [
  { id: 'month', label: 'This month so far' },
  { id: 'last-month', label: 'Last month' },
  { id: '4w', label: 'Last 4 weeks' },
  { id: '4w-complete', label: 'Last 4 complete weeks' },
  { id: '3m', label: 'Last 3 months' },
  { id: 'custom', label: 'Chosen dates' },
] as const
export type PresetId = (typeof PRESETS)[number]['id']

export interface DayRange { from: string; to: string }

export function presetRange(id: Exclude<PresetId, 'custom'>, today: string): DayRange {
  switch (id) {
    case 'month': return { from: monthStart(today), to: today }
    case 'last-month': return { from: monthStart(today, 1), to: addDays(monthStart(today), -1) }
    case '4w': return { from: addDays(today, -27), to: today }
    case '4w-complete': return { from: addDays(today, -28), to: addDays(today, -1) }
    case '3m': return { from: monthStart(today, 2), to: today }
  }
}

/** Complete days of this month before which "this month so far" is too thin to explain misses with. */
export const THIN_MONTH_DAYS = 14

/**
 * Early in a month, "this month so far" holds a day or a few (Why missed opened on 0 missed on the
 * 6th): the last four complete weeks instead, which hold a month's worth of collections on any day.
 */
export const isThinMonth = (today: string): boolean => daysBetween(monthStart(today), today) < THIN_MONTH_DAYS

/** Trend points that read well over a range: days for a month, weeks for a quarter, months beyond. */
export function granularityFor(r: DayRange): 'day' | 'week' | 'month' {
  const days = daysBetween(r.from, r.to) + 1
  return days <= 45 ? 'day' : days <= 190 ? 'week' : 'month'
}

/** The API takes at most 366 days (analysis/performance/periods.ts MAX_RANGE_DAYS). */
export const MAX_RANGE_DAYS = 366

export function rangeProblem(r: DayRange): string | null {
  if (!isDay(r.from) || !isDay(r.to)) return 'Enter both dates.'
  if (r.to < r.from) return 'The last day is before the first.'
  if (daysBetween(r.from, r.to) + 1 > MAX_RANGE_DAYS) return `A period covers at most ${MAX_RANGE_DAYS} days.`
  return null
}

const wallFmt = new Intl.DateTimeFormat('en-GB', { timeZone: COUNCIL_TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** London's offset from UTC at an instant, in ms (0 in winter, an hour in summer). */
function londonOffset(ms: number): number {
  const p = Object.fromEntries(wallFmt.formatToParts(ms).map((x) => [x.type, x.value]))
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)) - Math.floor(ms / 1000) * 1000
}

/** The instant a London day starts (epoch ms). */
export function londonDayStart(day: string): number {
  const guess = utc(day)
  return guess - londonOffset(guess - londonOffset(guess))
}
