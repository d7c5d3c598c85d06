// Which rounds run on which day, by the same rules as the collection calendar
// (analysis/calendar/rules.ts): weekday, fortnightly from the anchor, and the bank-holiday slip.
// Council overrides live in the database and are not simulated: a simulated city has none.
import { addDays, eachDay, type IsoDate } from '../../analysis/calendar/dates.ts'
import { dueDay, roundRunsOn } from '../../analysis/calendar/rules.ts'
import type { City, CityRound } from '../city/city.ts'
import type { WorkingDays } from '../time.ts'

export interface RoundRun {
  round: CityRound
  scheduledDate: IsoDate
  dueDate: IsoDate
}

/** Round runs due on each day from `from` to `to` (both included), by due date. */
export function roundRunsByDueDate(city: City, from: IsoDate, to: IsoDate, days: WorkingDays): Map<IsoDate, RoundRun[]> {
  const byDue = new Map<IsoDate, RoundRun[]>()
  // A bank holiday early in a week moves collections up to six days later: look back a week.
  for (const scheduledDate of eachDay(addDays(from, -7), to)) {
    for (const round of city.rounds) {
      if (!roundRunsOn(round, scheduledDate)) continue
      const due = dueDay(scheduledDate, days.bankHolidays)
      if (due.cancelled || due.dueDate < from || due.dueDate > to) continue
      const list = byDue.get(due.dueDate)
      if (list) list.push({ round, scheduledDate, dueDate: due.dueDate })
      else byDue.set(due.dueDate, [{ round, scheduledDate, dueDate: due.dueDate }])
    }
  }
  return byDue
}

/** The round's last run on or before `date` (its scheduled day), for the state bins start in. */
export function previousRun(round: CityRound, date: IsoDate): IsoDate {
  for (let d = date, i = 0; i < 15; i++, d = addDays(d, -1)) if (roundRunsOn(round, d)) return d
  return addDays(date, -14)
}
