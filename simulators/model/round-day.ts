// One round's day, planned the evening before it happens (see simulation.ts for why ahead), and the
// shared vocabulary of day plans: what planning needs from the simulation and what it gives back.
import type { CrewException } from '../../core/contract/messages.ts'
import { addDays, type IsoDate } from '../../analysis/calendar/dates.ts'
import type { City, CityHousehold, CityStream, CityVehicle } from '../city/city.ts'
import type { Random } from '../random.ts'
import { clockMinutes, iso, londonInstant, MINUTE_MS, type WorkingDays } from '../time.ts'
import { GroundTruth } from '../truth/ground-truth.ts'
import type { CollectionTruth } from '../truth/records.ts'
import { crewFor, type KerbException, type SimulationBehaviour } from './behaviour.ts'
import { DENSITY_KG_PER_L, type FillModel } from './bin-fill.ts'
import type { SensorAgent } from './bin-sensor.ts'
import type { RoundRun } from './schedule.ts'
import { driveRoute, samplePositions, type RouteStop } from './vehicle-route.ts'

/** A message a vehicle unit will send, planned ahead; `onSent` records it in the truth once numbered. */
export interface PlannedMessage { at: number; kind: 'lift' | 'position'; body: Record<string, unknown>; onSent?: (seq: number, ts: string) => void }

/** A collection a spare vehicle is to lift: unfinished work (`late`) or a return after a report. */
export interface Pending { key: string; bin: number; household: number; visit: 'late' | 'return' }

/** What planning a day needs from the simulation, and what it hands back to it. */
export interface DayPlanning {
  city: City
  behaviour: SimulationBehaviour
  rng: Random
  fill: FillModel
  truth: GroundTruth
  days: WorkingDays
  startMs: number
  /** Vehicles send positions from this instant on (none in a quiet history). */
  positionsFrom: number
  sensorOfBin: ReadonlyMap<number, SensorAgent>
  /** A collection decided on its day; `decidedAt` is when the crew reached it, or would have. */
  decided(c: CollectionTruth, key: string, decidedAt: number, ref: { bin: number; household: number }): void
  /** Work for a spare vehicle on a later working day. */
  later(date: IsoDate, work: Pending): void
  /** Whether, and when, the resident reports this collection. */
  residents(c: CollectionTruth, key: string, r: Random, roundStartAt: number, decidedAt: number): void
  /** A resident reporting the stream that was not due. */
  wrongWeek(uprn: number, stream: CityStream, dueDate: IsoDate, r: Random, roundEndAt: number): void
}

const KERB_EXCEPTIONS: KerbException[] = ['contaminated', 'excess_waste', 'no_access', 'wrong_bin']

/** Where the unit's GPS puts a lift: the household, give or take a few metres. */
export function gpsFix(h: Pick<CityHousehold, 'lat' | 'lon'>, r: Random): { lat: number; lon: number } {
  return {
    lat: round6(h.lat + r.normal(0, 4) / 111_320),
    lon: round6(h.lon + r.normal(0, 4) / (111_320 * Math.cos((h.lat * Math.PI) / 180))),
  }
}

/** Kilograms in a bin holding `litres` (a bin with its lid propped holds a little over its size). */
export const weightOf = (litres: number, capacityL: number, stream: CityStream, noise: number): number =>
  Math.round(Math.min(litres, capacityL * 1.1) * DENSITY_KG_PER_L[stream] * noise * 10) / 10

const round6 = (v: number) => Math.round(v * 1e6) / 1e6

/**
 * Work out one round's day, stop by stop, the evening before: who put the bin out, what the crew
 * does at each, when it gets there, what each bin weighs, when the vehicle tips. Pushes the vehicle's
 * messages onto `items`; returns when the vehicle is back.
 */
export function planRoundDay(p: DayPlanning, run: RoundRun, vehicle: CityVehicle, freeFrom: number, now: number, items: PlannedMessage[]): number {
  const { round, dueDate } = run
  const crew = crewFor(p.behaviour, round.roundId, vehicle.vehicleId)
  const r = p.rng.fork('round', round.roundId, dueDate)
  const departAt = Math.max(londonInstant(dueDate, clockMinutes(round.startsAt)) + r.between(0, 10) * MINUTE_MS, freeFrom)
  // Rounds that would have started before the simulation did are not simulated.
  if (departAt < p.startMs) return freeFrom
  const stops = round.stops
  const n = stops.length
  const skipped = new Set<number>()
  for (const h of stops) {
    const street = p.city.households[h]!.street
    if (!skipped.has(street) && !skipped.has(-street - 1)) {
      if (r.chance(crew.streetSkipRate)) skipped.add(street)
      else skipped.add(-street - 1) // decided: not skipped
    }
  }
  const breakdownAt = r.chance(crew.breakdownRate) ? Math.floor(n * r.between(0.2, 0.9)) : undefined
  const stopAfter = r.chance(crew.unfinishedRate) ? Math.ceil(n * (1 - r.between(0.05, 0.15))) : undefined

  type Action = { kind: 'lift' } | { kind: 'exception'; code: CrewException } | { kind: 'pass' } | { kind: 'skip' }
  const actions: Action[] = []
  const presented: boolean[] = []
  const noise: number[] = []
  const routeStops: RouteStop[] = []
  for (const [i, h] of stops.entries()) {
    const household = p.city.households[h]!
    const bin = p.city.binOf[round.stream][h]!
    const pct = p.fill.fillPct(bin, now)
    const put = household.assisted || r.chance(p.behaviour.residents.presentRate[round.stream] * (pct < 15 ? 0.6 : 1))
    presented.push(put)
    noise.push(r.logNormal(1, 0.12))
    let action: Action
    // A skipped street is not driven at all: nothing is lifted or logged there.
    if (skipped.has(household.street)) action = { kind: 'skip' }
    else if (!put) action = r.chance(crew.logNotPresented) ? { kind: 'exception', code: 'not_presented' } : { kind: 'pass' }
    else if (r.chance(crew.missRate)) action = { kind: 'pass' }
    else {
      const code = KERB_EXCEPTIONS.find((c) => r.chance(crew.exceptions[c]?.[round.stream] ?? 0))
      action = code ? { kind: 'exception', code } : { kind: 'lift' }
    }
    actions.push(action)
    const dwellS = action.kind === 'lift' ? crew.secondsPerLift[round.stream] * r.logNormal(1, 0.3) + (household.assisted ? 45 : 0)
      : action.kind === 'exception' ? (action.code === 'not_presented' ? 6 : 15) : 0
    const binCapacity = p.city.bins[bin]!.capacityL
    routeStops.push({
      at: household, dwellS, skip: action.kind === 'skip',
      sameStreet: i > 0 && p.city.households[stops[i - 1]!]!.street === household.street,
      weightKg: action.kind === 'lift' ? (t) => Math.round(Math.min(p.fill.litresAt(bin, t), binCapacity * 1.1) * DENSITY_KG_PER_L[round.stream] * noise[i]! * 10) / 10 : () => 0,
    })
  }
  const route = driveRoute(routeStops, {
    departAt, depot: p.city.depot, tip: p.city.tip, capacityKg: vehicle.capacityKg, speedKmh: p.behaviour.vehicles.speedKmh,
    tipMinutes: p.behaviour.vehicles.tipMinutes, breakdownAt, stopAfter,
  })
  const gps = r.fork('gps')
  const roundStartAt = departAt
  const reports = r.fork('residents')
  let lastPassed = departAt
  const nextDay = p.days.after(dueDate)

  for (const [i, h] of stops.entries()) {
    const household = p.city.households[h]!
    const bin = p.city.bins[p.city.binOf[round.stream][h]!]!
    const action = actions[i]!
    const t = route.stopTimes[i]!
    const reached = !Number.isNaN(t)
    if (reached) lastPassed = t
    const key = GroundTruth.key(household.uprn, round.stream, run.scheduledDate)
    const c: CollectionTruth = {
      type: 'collection', uprn: household.uprn, stream: round.stream, binId: bin.binId, tag: bin.tag, roundId: round.roundId, vehicleId: vehicle.vehicleId,
      scheduledDate: run.scheduledDate, dueDate, presented: presented[i]!, outcome: 'collected', exception: null, missCause: null, lifts: [],
      collectedAt: null, lateAt: null, rectifiedAt: null, firstReportAt: null,
    }
    let decided = reached ? t : route.brokeDownAt ?? route.endAt
    if (action.kind === 'skip') decided = lastPassed
    let code: CrewException | null = null
    if (!presented[i]) {
      c.outcome = 'not_presented'
      if (action.kind === 'exception' && reached) code = 'not_presented'
    } else if (action.kind === 'skip') {
      c.outcome = 'missed'
      c.missCause = 'street_skipped'
    } else if (!reached) {
      c.outcome = 'missed'
      c.missCause = breakdownAt !== undefined && i >= breakdownAt ? 'breakdown' : 'unfinished'
      const recover = c.missCause === 'unfinished' || crew.breakdownRecovery === 'next_day'
      if (recover) p.later(nextDay, { key, bin: bin.index, household: h, visit: 'late' })
    } else if (action.kind === 'pass') {
      c.outcome = 'missed'
      c.missCause = 'random'
    } else if (action.kind === 'exception') {
      c.outcome = 'crew_exception'
      code = action.code
    } else if (route.weights[i]! > crew.overweightKg) {
      c.outcome = 'crew_exception'
      code = 'overweight'
    }
    c.exception = code
    p.decided(c, key, decided, { bin: bin.index, household: h })

    if (reached && (code || c.outcome === 'collected')) {
      const { lat, lon } = gpsFix(household, gps)
      const weightKg = c.outcome === 'collected' ? route.weights[i]! : null
      if (c.outcome === 'collected') p.fill.empty(bin.index, t)
      const outcome = code ?? 'collected'
      items.push({
        at: Math.round(t), kind: 'lift',
        body: { tag: bin.tag, ...(weightKg !== null ? { weightKg } : {}), lat, lon, outcome },
        onSent: (seq, ts) => {
          c.lifts.push({ ts, seq, deviceId: vehicle.unitDeviceId, vehicleId: vehicle.vehicleId, outcome, weightKg, lat, lon, visit: 'round' })
          if (outcome === 'collected') c.collectedAt = ts
        },
      })
    }
    // The bin stands at the kerb from the evening before until the evening of the day.
    const sensor = p.sensorOfBin.get(bin.index)
    if (sensor && presented[i]) {
      const out = londonInstant(addDays(dueDate, -1), r.between(19 * 60, 23 * 60))
      const back = Math.max(londonInstant(dueDate, r.between(17 * 60, 21 * 60)), (reached ? t : 0) + 3_600_000)
      sensor.presented.push([out, back])
    }
    p.residents(c, key, reports, roundStartAt, decided)
  }
  // Residents who report the stream that was not due: the other of residual and recycling.
  if (round.stream === 'residual' || round.stream === 'recycling') {
    const other = round.stream === 'residual' ? 'recycling' : 'residual'
    for (const h of stops) {
      if (!reports.chance(p.behaviour.residents.notScheduledRate)) continue
      p.wrongWeek(p.city.households[h]!.uprn, other, dueDate, reports, route.endAt)
    }
  }

  const positions = samplePositions(route.legs, p.behaviour.vehicles.positionIntervalS * 1000)
  for (const q of positions) if (q.at >= p.positionsFrom) items.push({ at: q.at, kind: 'position', body: { lat: q.lat, lon: q.lon, speedKmh: q.speedKmh, heading: q.heading } })

  if (route.brokeDownAt !== null) {
    const where = route.legs[route.legs.length - 1]!.to
    p.truth.breakdowns.push({ type: 'breakdown', vehicleId: vehicle.vehicleId, roundId: round.roundId, date: dueDate, at: iso(route.brokeDownAt), lat: where.lat, lon: where.lon, stopsLeft: n - breakdownAt!, recovery: crew.breakdownRecovery })
  } else if (stopAfter !== undefined && stopAfter < n) {
    p.truth.unfinished.push({ type: 'unfinished', roundId: round.roundId, vehicleId: vehicle.vehicleId, date: dueDate, at: iso(lastPassed), stopsLeft: n - stopAfter })
  }
  for (const street of skipped) {
    if (street < 0) continue
    const households = stops.filter((h) => p.city.households[h]!.street === street).length
    p.truth.streetsSkipped.push({ type: 'street-skipped', roundId: round.roundId, vehicleId: vehicle.vehicleId, date: dueDate, street: p.city.streets[street]!.name, households })
  }
  return route.endAt
}
