// The demo's city and when its crews work. A newcomer must see lifts within a minute at whatever
// hour and on whatever day they start the demo, so the city collects every day of the week and its
// rounds are timed around the moment of the start: the first crew left a quarter of an hour ago and
// the others follow at intervals. Registry times are wall-clock times within one day (a round cannot
// run past midnight), so late in the evening each crew starts early enough to finish before midnight
// (rounds are small, STOPS_PER_CREW, and timed from their stops), and just after
// midnight the first crew leaves at 00:00. The banner says all this in words (describeShifts).
import { addDays, type IsoDate } from '../analysis/calendar/dates.ts'
import type { City } from '../simulators/city/city.ts'
import { generateCity } from '../simulators/city/generate-city.ts'
import { londonDate, londonMinutes } from '../simulators/time.ts'

/** The first crew of the day left this many minutes before the demo started. */
export const LEAD_MINUTES = 15
/** Minutes between one crew's start and the next one's the same day. */
export const STAGGER_MINUTES = 20
/** Rounds must be over by then: a lift after midnight would belong to another day. */
export const DAY_ENDS = 23 * 60 + 55
/**
 * A crew's time from its planned start to its last lift, estimated generously: up to ten minutes'
 * late start and the drive out, then 26 s a stop (the simulated crews take 18–22 s).
 */
export const estimatedMinutes = (stops: number): number => 15 + Math.ceil((stops * 26) / 60)
/** Stops per vehicle and day: small rounds, so that late in the evening every crew still fits before midnight. */
export const STOPS_PER_CREW = 90
/** Planned length of a round in the registry (the analysis takes a round as over once it has passed). */
export const PLANNED_MINUTES = 180
const LAST_MINUTE = 23 * 60 + 59

export const hhmm = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(Math.floor(minutes % 60)).padStart(2, '0')}`

export interface Shift { vehicleId: string; startsAt: number; endsAt: number }

/**
 * Start and planned end (minutes after London midnight) of each working vehicle's rounds, for a demo
 * started at `now`: in the order given, the first LEAD_MINUTES before now, the next STAGGER_MINUTES
 * later, and so on; none before midnight, each early enough that its largest round (`stops`) is
 * over by DAY_ENDS, none planned past 23:59.
 */
export function demoShifts(crews: readonly { vehicleId: string; stops: number }[], now: number): Shift[] {
  const base = Math.floor((londonMinutes(now) - LEAD_MINUTES) / 5) * 5
  return crews.map(({ vehicleId, stops }, i) => {
    const latest = Math.floor((DAY_ENDS - estimatedMinutes(stops)) / 5) * 5
    const startsAt = Math.max(0, Math.min(base + i * STAGGER_MINUTES, latest))
    return { vehicleId, startsAt, endsAt: Math.min(startsAt + PLANNED_MINUTES, LAST_MINUTE) }
  })
}

export interface DemoCityOptions {
  seed: number
  households: number
  /** The city's first day (anchors its fortnightly weeks and its contract): the history's first day. */
  start: IsoDate
  /** The demo's start: round times are set around it. */
  now: number
}

/** The demo's city: every day a collection day, each vehicle's rounds timed by demoShifts. */
export function demoCity(o: DemoCityOptions): { city: City; shifts: Shift[] } {
  const city = generateCity({ seed: o.seed, households: o.households, start: o.start, sensorShare: 0.1, weekdays: [1, 2, 3, 4, 5, 6, 7], liftsPerVehicleDay: STOPS_PER_CREW })
  const crews = city.vehicles.filter((v) => v.role !== 'spare').map((v) => ({
    vehicleId: v.vehicleId,
    stops: Math.max(0, ...city.rounds.filter((r) => r.vehicleId === v.vehicleId).map((r) => r.stops.length)),
  }))
  const shifts = demoShifts(crews, o.now)
  const byVehicle = new Map(shifts.map((s) => [s.vehicleId, s]))
  city.rounds.forEach((round, i) => {
    const shift = byVehicle.get(round.vehicleId)
    if (!shift) return
    round.startsAt = hhmm(shift.startsAt)
    round.endsAt = hhmm(shift.endsAt)
    const row = city.dataset.rounds[i]!
    row.startsAt = round.startsAt
    row.endsAt = round.endsAt
  })
  return { city, shifts }
}

/** The history to simulate before now: at least five weeks, back to the first of last month (so that a whole month has closed for rewards), at most eight weeks. */
export function historyStart(now: number): number {
  const today = londonDate(now)
  const firstOfLastMonth = `${addDays(`${today.slice(0, 7)}-01`, -1).slice(0, 7)}-01`
  const fiveWeeks = now - 35 * 86_400_000
  const eightWeeks = now - 56 * 86_400_000
  return Math.max(eightWeeks, Math.min(fiveWeeks, Date.parse(`${firstOfLastMonth}T00:00:00Z`)))
}

/** The banner's line about the crews, in words. */
export function describeShifts(shifts: readonly Shift[], now: number): string {
  if (shifts.length === 0) return 'no rounds'
  const first = Math.min(...shifts.map((s) => s.startsAt))
  const last = Math.max(...shifts.map((s) => s.startsAt))
  const nowMin = londonMinutes(now)
  const running = first <= nowMin ? `the first left at ${hhmm(first)}` : `the first leaves at ${hhmm(first)}`
  return `${shifts.length} crews collect every day, starting between ${hhmm(first)} and ${hhmm(last)} London time (set around the time you started the demo, so that you see them work now); ${running}`
}
