// The contract's reporting window and rectification deadline, in working days (Monday to Friday,
// England and Wales bank holidays excluded) and UK local time.
//
// - Reporting window (DESIGN.md "Domain rules": councils take reports from 16:00 up to 3 working
//   days): it opens on the due day at contract.report_opens_hour — once the round should be over, as
//   councils tell residents ("report it if it has not been emptied by 4pm on your collection day") —
//   and closes at the end of the contract.report_window_working_days-th working day after the due day.
//   The simulator's ground truth judges reports by the same window (simulators/model/residents.ts).
// - Return visit for a valid miss: by RETURN_BY_HOUR on the contract.rectify_working_days-th working
//   day after the day it was reported (0: the same day, or the next working day when reported on a
//   day off). This is the deadline the resident is told and that decides rectified vs rectified_late.
import { bankHolidaysBetween } from '../calendar/bank-holidays.ts'
import { addDays, isoWeekday, type IsoDate } from '../calendar/dates.ts'
import { ukDate, ukDayEnd, ukInstant } from '../outcomes/local-time.ts'

/** A return visit is due by this hour (UK time) of its last working day. */
export const RETURN_BY_HOUR = 17

export interface ReportingTerms {
  reportOpensHour: number
  reportWindowWorkingDays: number
  rectifyWorkingDays: number
}

const holidaysByYear = new Map<number, ReadonlySet<IsoDate>>()
function holidaysOf(year: number): ReadonlySet<IsoDate> {
  let set = holidaysByYear.get(year)
  if (!set) holidaysByYear.set(year, (set = new Set(bankHolidaysBetween(`${year}-01-01`, `${year}-12-31`).keys())))
  return set
}

export function isWorkingDay(date: IsoDate): boolean {
  return isoWeekday(date) <= 5 && !holidaysOf(Number(date.slice(0, 4))).has(date)
}

/** The n-th working day after `date` (n ≥ 1); `date` itself, or the next working day, for n = 0. */
export function workingDayAfter(date: IsoDate, n: number): IsoDate {
  let d = date
  if (n <= 0) {
    while (!isWorkingDay(d)) d = addDays(d, 1)
    return d
  }
  for (let left = n; left > 0;) {
    d = addDays(d, 1)
    if (isWorkingDay(d)) left--
  }
  return d
}

export interface ReportWindow {
  opensAt: Date
  closesAt: Date
}

export function reportWindow(dueDate: IsoDate, terms: ReportingTerms): ReportWindow {
  return {
    opensAt: ukInstant(dueDate, terms.reportOpensHour * 60),
    closesAt: ukDayEnd(workingDayAfter(dueDate, terms.reportWindowWorkingDays)),
  }
}

/** Where an instant falls against the window. */
export function windowSide(w: ReportWindow, at: Date): 'too_early' | 'open' | 'too_late' {
  if (at.getTime() < w.opensAt.getTime()) return 'too_early'
  if (at.getTime() > w.closesAt.getTime()) return 'too_late'
  return 'open'
}

/** When a miss reported at `reportedAt` must be put right. */
export function rectifyDeadline(reportedAt: Date, rectifyWorkingDays: number): Date {
  return ukInstant(workingDayAfter(ukDate(reportedAt), rectifyWorkingDays), RETURN_BY_HOUR * 60)
}
