// Rounds balanced per vehicle, the way UK councils plan alternate weekly collection:
// - The city is cut along the route into one zone per collection weekday ("your bin day").
// - Each zone is cut into areas of about `liftsPerVehicleDay` households. An area's residual and
//   recycling rounds are fortnightly on alternate weeks (anchor dates a week apart), served by the
//   same vehicle, so every vehicle lifts one area's worth of bins every working day. Half the areas
//   of a day have residual in week A and half in week B, so each week carries both streams.
// - Garden waste is fortnightly by subscription: a zone's subscribers are cut into rounds of about
//   the same size, alternating weeks, two rounds per garden vehicle.
// - Food caddies go weekly, in rounds of the same size.
import { addDays, isoWeekday, type IsoDate } from '../../analysis/calendar/dates.ts'
import type { CityHousehold, CityRound, CityStream, VehicleRole } from './city.ts'

const DAY_NAMES = ['', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const DAY_TITLES = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']

export interface RoundPlanInput {
  households: CityHousehold[]
  /** Does household i have a bin for the stream (garden: is it subscribed)? */
  has: (stream: CityStream, household: number) => boolean
  weekdays: number[]
  liftsPerVehicleDay: number
  start: IsoDate
  startsAt: string
  endsAt: string
}

export interface RoundPlan {
  rounds: CityRound[]
  vehicles: { vehicleId: string; role: VehicleRole }[]
}

/** Split `items` into `parts` contiguous runs whose lengths differ by at most one. */
export function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = []
  for (let p = 0; p < parts; p++) out.push(items.slice(Math.round((p * items.length) / parts), Math.round(((p + 1) * items.length) / parts)))
  return out
}

/** Rounds needed for `n` lifts a day: the whole number of rounds whose size is nearest the target, by ratio. */
export function roundsFor(n: number, target: number): number {
  const k = Math.max(1, Math.floor(n / target))
  return Math.abs(Math.log(n / k / target)) <= Math.abs(Math.log(n / (k + 1) / target)) ? k : k + 1
}

/** Assign each household its collection weekday: contiguous zones along the route. */
export function assignWeekdays(households: CityHousehold[], weekdays: number[]): void {
  const zones = splitEvenly(households, weekdays.length)
  zones.forEach((zone, z) => { for (const h of zone) h.weekday = weekdays[z]! })
}

export function planRounds(input: RoundPlanInput): RoundPlan {
  const { households, liftsPerVehicleDay: target } = input
  // Week A starts on the Monday of the week holding `start`.
  const weekA = addDays(input.start, 1 - isoWeekday(input.start))
  const anchor = (weekday: number, week: 0 | 1) => addDays(weekA, weekday - 1 + 7 * week)
  const rounds: CityRound[] = []
  const vehicles = new Map<string, VehicleRole>()
  const round = (r: Omit<CityRound, 'startsAt' | 'endsAt'>) => rounds.push({ ...r, startsAt: input.startsAt, endsAt: input.endsAt })

  for (const [z, weekday] of input.weekdays.entries()) {
    const zone = households.filter((h) => h.weekday === weekday).map((h) => h.index)
    if (zone.length === 0) continue
    const day = DAY_NAMES[weekday]!
    const title = DAY_TITLES[weekday]!

    const areas = splitEvenly(zone, roundsFor(zone.length, target))
    areas.forEach((area, a) => {
      const vehicleId = `rcv-${String(a + 1).padStart(2, '0')}`
      vehicles.set(vehicleId, 'rcv')
      // Alternate the residual week across areas and across days, so both streams run every week.
      const residualWeek = ((a + z) % 2) as 0 | 1
      const otherWeek = (1 - residualWeek) as 0 | 1
      for (const [stream, week] of [['residual', residualWeek], ['recycling', otherWeek]] as const) {
        const stops = area.filter((h) => input.has(stream, h))
        if (stops.length === 0) continue
        round({ roundId: `${stream === 'residual' ? 'res' : 'rec'}-${day}-${a + 1}`, name: `${stream === 'residual' ? 'Residual' : 'Recycling'} ${title} ${a + 1}`, stream, vehicleId, weekday, frequency: 'fortnightly', anchorDate: anchor(weekday, week), subscription: false, stops })
      }
    })

    const subscribers = zone.filter((h) => input.has('garden', h))
    if (subscribers.length > 0) {
      const gardenRounds = splitEvenly(subscribers, roundsFor(subscribers.length, target))
      gardenRounds.forEach((stops, g) => {
        const vehicleId = `gdn-${String(Math.floor(g / 2) + 1).padStart(2, '0')}`
        vehicles.set(vehicleId, 'garden')
        round({ roundId: `gdn-${day}-${g + 1}`, name: `Garden ${title} ${g + 1}`, stream: 'garden', vehicleId, weekday, frequency: 'fortnightly', anchorDate: anchor(weekday, (g % 2) as 0 | 1), subscription: true, stops })
      })
    }

    const caddies = zone.filter((h) => input.has('food', h))
    if (caddies.length > 0) {
      splitEvenly(caddies, roundsFor(caddies.length, target)).forEach((stops, f) => {
        const vehicleId = `food-${String(f + 1).padStart(2, '0')}`
        vehicles.set(vehicleId, 'food')
        round({ roundId: `food-${day}-${f + 1}`, name: `Food ${title} ${f + 1}`, stream: 'food', vehicleId, weekday, frequency: 'weekly', anchorDate: anchor(weekday, 0), subscription: false, stops })
      })
    }
  }

  // Spare vehicles: return visits for reported misses and rounds left unfinished (about one in ten).
  const working = vehicles.size
  for (let s = 0; s < Math.max(1, Math.round(working / 10)); s++) vehicles.set(`spare-${String(s + 1).padStart(2, '0')}`, 'spare')
  return { rounds, vehicles: [...vehicles].map(([vehicleId, role]) => ({ vehicleId, role })) }
}

export const CAPACITY_KG: Record<VehicleRole, number> = { rcv: 11_000, garden: 10_000, food: 3_500, spare: 5_000 }
