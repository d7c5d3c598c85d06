// How the simulated people and devices behave, with defaults near what UK councils report. Every rate
// can be changed per simulation, and the crew's per round or per vehicle, so a test can give one round
// a bad crew and check that the analysis finds it.
import type { CrewException } from '../../core/contract/messages.ts'
import type { CityStream } from '../city/city.ts'

/** Exceptions the crew decides on at the kerb (not_presented and overweight follow from the bin itself). */
export type KerbException = Exclude<CrewException, 'not_presented' | 'overweight'>

export interface CrewBehaviour {
  /** Chance that a presented bin is passed by with no lift and no exception logged (a contractor miss). */
  missRate: number
  /** Chance per street per round day that the crew leaves out the whole street. */
  streetSkipRate: number
  /** Chance per round day that the vehicle breaks down part-way through. */
  breakdownRate: number
  /** Stops left by a breakdown: collected the next working day by a spare vehicle, or simply missed. */
  breakdownRecovery: 'next_day' | 'missed'
  /** Chance per round day that the crew runs out of time and leaves the last 5–15 % to the next working day. */
  unfinishedRate: number
  /** Share of bins not put out that the crew logs as `not_presented` (the rest are passed silently). */
  logNotPresented: number
  /** Crew exception rates per presented bin. */
  exceptions: Record<KerbException, Partial<Record<CityStream, number>>>
  /** The crew refuses a bin heavier than this as `overweight`, kg. */
  overweightKg: number
  /** Chance that a reported miss is put right by the end of the next working day; the rest take 2–4 working days. */
  rectifyOnTime: number
  /** Median seconds at the kerb per lift, by stream (a crew of three works two bins at once; caddies are tipped by hand). */
  secondsPerLift: Record<CityStream, number>
}

export interface ResidentBehaviour {
  /** Chance that a household puts the bin out on collection day (halved when it is under a quarter full). */
  presentRate: Record<CityStream, number>
  /** Chance of a missed-bin report, by what really happened. */
  reportRate: { missed: number; collected: number; notPresented: number; crewException: number }
  /** Chance per household per collection day of reporting the stream that was not due (wrong week). */
  notScheduledRate: number
  /** Of residents reporting a real miss: the share who report before the window opens, and after it closes. */
  earlyShare: number
  lateShare: number
  /** Share of reports that give attribute[collection_date]. */
  collectionDateShare: number
}

export type OfflineMode = 'buffer' | 'skip' | 'lose'

export interface SensorBehaviour {
  /** Seconds between readings. */
  readingIntervalS: number
  /** Measurement noise of the fill level (standard deviation, percentage points). */
  noisePct: number
  /** Offline spells per sensor per week, and their mean length in hours. */
  offlineSpellsPerWeek: number
  offlineMeanHours: number
  /**
   * What a sensor does with readings while offline, as shares of the fleet: keep them and send them
   * on reconnect ('buffer'), not take them ('skip'), or take and number them but lose them ('lose',
   * the only one that leaves gaps in seq).
   */
  offlineModes: Record<OfflineMode, number>
  /** Chance per sensor per day of a bin fire. */
  fireRatePerDay: number
  /** Share of sensors that speak the compact CBOR encoding instead of JSON. */
  cborShare: number
  /**
   * Share of sensors with a faulty ultrasonic transducer (condensation, a cracked horn), and the
   * chance per reading that such a sensor reports an impossible fill (120–160 %, beyond the device
   * contract): Kerbside refuses those into quarantine. Off by default; the demo turns it on, so an
   * operator sees refused input.
   */
  faultyShare?: number
  faultyReadingRate?: number
}

export interface VehicleBehaviour {
  /** Seconds between position reports while the vehicle is out. */
  positionIntervalS: number
  /** Speed between streets and to the tip, km/h; along a street the crew walks the vehicle at ~8 km/h. */
  speedKmh: number
  /** Minutes at the tip to unload. */
  tipMinutes: number
}

export interface SimulationBehaviour {
  crew: CrewBehaviour
  /** Overrides for particular rounds (by round id) or crews (by vehicle id); a round's override wins. */
  crewByRound: Record<string, Partial<CrewBehaviour>>
  crewByVehicle: Record<string, Partial<CrewBehaviour>>
  residents: ResidentBehaviour
  sensors: SensorBehaviour
  vehicles: VehicleBehaviour
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] }
export type BehaviourOptions = DeepPartial<Omit<SimulationBehaviour, 'crewByRound' | 'crewByVehicle'>> & {
  crewByRound?: Record<string, Partial<CrewBehaviour>>
  crewByVehicle?: Record<string, Partial<CrewBehaviour>>
}

export const DEFAULT_BEHAVIOUR: SimulationBehaviour = {
  crew: {
    // ~30 per 100,000 is a typical UK contract target; the other causes add to it.
    missRate: 0.0003,
    streetSkipRate: 0.0005,
    breakdownRate: 0.003,
    breakdownRecovery: 'next_day',
    unfinishedRate: 0.01,
    logNotPresented: 0.85,
    exceptions: {
      contaminated: { recycling: 0.015, food: 0.004, garden: 0.003 },
      excess_waste: { residual: 0.004, recycling: 0.002 },
      no_access: { residual: 0.0015, recycling: 0.0015, garden: 0.0015, food: 0.0005 },
      wrong_bin: { residual: 0.001, recycling: 0.001, garden: 0.0005 },
    },
    overweightKg: 70,
    rectifyOnTime: 0.92,
    secondsPerLift: { residual: 16, recycling: 16, garden: 18, food: 9 },
  },
  crewByRound: {},
  crewByVehicle: {},
  residents: {
    presentRate: { residual: 0.97, recycling: 0.93, garden: 0.88, food: 0.8 },
    reportRate: { missed: 0.7, collected: 0.0005, notPresented: 0.03, crewException: 0.12 },
    notScheduledRate: 0.0001,
    earlyShare: 0.08,
    lateShare: 0.03,
    collectionDateShare: 1,
  },
  sensors: {
    readingIntervalS: 3600,
    noisePct: 2,
    offlineSpellsPerWeek: 0.1,
    offlineMeanHours: 8,
    offlineModes: { buffer: 0.6, skip: 0.3, lose: 0.1 },
    fireRatePerDay: 0.00002,
    cborShare: 0.2,
  },
  vehicles: { positionIntervalS: 30, speedKmh: 25, tipMinutes: 20 },
}

export class BehaviourError extends Error {
  override name = 'KERBSIDE_ERR_SIM_BEHAVIOUR'
}

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over as T
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge((base as Record<string, unknown>)[k], v)
  return out as T
}

export function resolveBehaviour(options: BehaviourOptions = {}): SimulationBehaviour {
  const b = merge(DEFAULT_BEHAVIOUR, options)
  if (!(b.sensors.readingIntervalS >= 10)) throw new BehaviourError('sensors.readingIntervalS must be at least 10 seconds')
  if (!(b.vehicles.positionIntervalS >= 1)) throw new BehaviourError('vehicles.positionIntervalS must be at least 1 second')
  if (!(b.vehicles.speedKmh > 0)) throw new BehaviourError('vehicles.speedKmh must be positive')
  const modes = Object.values(b.sensors.offlineModes)
  if (modes.some((m) => m < 0) || modes.reduce((s, m) => s + m, 0) <= 0) throw new BehaviourError('sensors.offlineModes must be non-negative shares that do not all equal 0')
  return b
}

/** The crew behaviour for one round: defaults, then the vehicle's crew, then the round itself. */
export function crewFor(b: SimulationBehaviour, roundId: string, vehicleId: string): CrewBehaviour {
  return merge(merge(b.crew, b.crewByVehicle[vehicleId]), b.crewByRound[roundId])
}
