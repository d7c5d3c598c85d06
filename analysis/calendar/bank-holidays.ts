// Bank holidays in England and Wales, computed for any year, as gov.uk/bank-holidays lists them:
// the day off itself, so a holiday that falls at a weekend appears as its substitute weekday.
// Sources: Banking and Financial Dealings Act 1971 (schedule 1) and the royal proclamations that
// moved or added days; the one-offs below are each listed on gov.uk for their year.
import { addDays, isoWeekday, ymd, type IsoDate } from './dates.ts'

export interface BankHoliday {
  date: IsoDate
  name: string
}

/** Easter Sunday (Gregorian), by the anonymous computus (Meeus/Jones/Butcher). */
export function easterSunday(year: number): IsoDate {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return ymd(year, month, day)
}

/** The first Monday on or after a day. */
const mondayOnOrAfter = (date: IsoDate): IsoDate => addDays(date, (8 - isoWeekday(date)) % 7)
/** The last Monday on or before a day. */
const mondayOnOrBefore = (date: IsoDate): IsoDate => addDays(date, -((isoWeekday(date) + 6) % 7))

/** Standing days that a proclamation moved in a given year: statutory date → the day off instead. */
const MOVED: Record<IsoDate, { date: IsoDate; name: string }> = {
  '1995-05-01': { date: '1995-05-08', name: 'Early May bank holiday (VE Day)' },
  '2002-05-27': { date: '2002-06-04', name: 'Spring bank holiday' },
  '2012-05-28': { date: '2012-06-04', name: 'Spring bank holiday' },
  '2020-05-04': { date: '2020-05-08', name: 'Early May bank holiday (VE Day)' },
  '2022-05-30': { date: '2022-06-02', name: 'Spring bank holiday' },
}

/** Extra days granted once. */
const ONE_OFFS: BankHoliday[] = [
  { date: '1999-12-31', name: 'Millennium celebrations' },
  { date: '2002-06-03', name: 'Golden Jubilee of Queen Elizabeth II' },
  { date: '2011-04-29', name: 'Wedding of Prince William and Catherine Middleton' },
  { date: '2012-06-05', name: 'Diamond Jubilee of Queen Elizabeth II' },
  { date: '2022-06-03', name: 'Platinum Jubilee bank holiday' },
  { date: '2022-09-19', name: 'State Funeral of Queen Elizabeth II' },
  { date: '2023-05-08', name: 'Bank holiday for the coronation of King Charles III' },
]

/** Bank holidays of England and Wales in one year, in date order. */
export function bankHolidays(year: number): BankHoliday[] {
  const easter = easterSunday(year)
  const out: BankHoliday[] = []
  const add = (date: IsoDate, name: string) => {
    const moved = MOVED[date]
    out.push(moved ?? { date, name })
  }

  // New Year's Day; at a weekend, the next Monday is the substitute day.
  const newYear = ymd(year, 1, 1)
  add(isoWeekday(newYear) >= 6 ? mondayOnOrAfter(newYear) : newYear, isoWeekday(newYear) >= 6 ? "New Year's Day (substitute day)" : "New Year's Day")
  add(addDays(easter, -2), 'Good Friday')
  add(addDays(easter, 1), 'Easter Monday')
  add(mondayOnOrAfter(ymd(year, 5, 1)), 'Early May bank holiday')
  add(mondayOnOrBefore(ymd(year, 5, 31)), 'Spring bank holiday')
  add(mondayOnOrBefore(ymd(year, 8, 31)), 'Summer bank holiday')

  // Christmas Day and Boxing Day: a day that falls at a weekend is replaced by the next weekday
  // not already a holiday (Sat 25 → Mon 27 and Sun 26 → Tue 28; Sun 25 → Tue 27, Boxing Day Mon 26).
  const christmas = ymd(year, 12, 25)
  const boxing = ymd(year, 12, 26)
  const taken = new Set<IsoDate>()
  for (const [date, name] of [[christmas, 'Christmas Day'], [boxing, 'Boxing Day']] as const) {
    if (isoWeekday(date) <= 5) {
      taken.add(date)
      out.push({ date, name })
    }
  }
  for (const [date, name] of [[christmas, 'Christmas Day'], [boxing, 'Boxing Day']] as const) {
    if (isoWeekday(date) <= 5) continue
    let sub = mondayOnOrAfter(date)
    while (taken.has(sub)) sub = addDays(sub, 1)
    taken.add(sub)
    out.push({ date: sub, name: `${name} (substitute day)` })
  }

  for (const h of ONE_OFFS) if (h.date.startsWith(`${year}-`)) out.push(h)
  return out.sort((a, b) => a.date.localeCompare(b.date))
}

/** Bank holidays from `from` to `to` (both included), keyed by date. */
export function bankHolidaysBetween(from: IsoDate, to: IsoDate): Map<IsoDate, string> {
  const out = new Map<IsoDate, string>()
  for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) {
    for (const h of bankHolidays(y)) if (h.date >= from && h.date <= to) out.set(h.date, h.name)
  }
  return out
}
