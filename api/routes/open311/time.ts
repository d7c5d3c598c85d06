// Dates and times as GeoReport v2 writes them: "a common subset of ISO 8601 as per the w3 note",
// time zone required (spec, "Date/time format"). Councils work in UK time.

const W3_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** A W3C date-time with time zone (e.g. 2010-01-01T00:00:00Z), or null when it is not one. */
export function parseW3DateTime(s: string): Date | null {
  if (!W3_DATETIME.test(s)) return null
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? null : d
}

/** W3C format in UTC, whole seconds: 2010-01-01T00:00:00Z. */
export const w3 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

const LONDON_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' })
const LONDON_LONG = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })

/** The calendar day of an instant in the UK, YYYY-MM-DD. */
export const londonDate = (d: Date): string => LONDON_DAY.format(d)

/** "Tuesday 14 May 2024" */
export const ukLongDate = (d: Date): string => LONDON_LONG.format(d).replace(',', '')
