// A vehicle's day as a timeline: legs of driving or standing still, from the depot along its stops (with
// trips to the tip when full) and back. Positions are sampled from the timeline at a fixed interval,
// as a vehicle unit reports them.
import { distanceM, type LatLon } from '../city/layout.ts'

export interface Leg { t0: number; t1: number; from: LatLon; to: LatLon }

export interface RouteStop {
  at: LatLon
  /** Seconds standing at the stop (0: drive past). */
  dwellS: number
  /** Left out of the drive altogether (a street the crew skipped). */
  skip: boolean
  /** Kilograms the stop adds to the load (decided when the vehicle gets there). */
  weightKg: (at: number) => number
  /** Drive slowly from the previous stop (same street) rather than at road speed. */
  sameStreet: boolean
}

export interface RouteOptions {
  departAt: number
  depot: LatLon
  tip: LatLon
  capacityKg: number
  speedKmh: number
  tipMinutes: number
  /** The vehicle breaks down on arriving at this stop index: it stands there, then goes silent. */
  breakdownAt?: number
  /** The crew stops work after this many stops and drives back. */
  stopAfter?: number
}

export interface RouteResult {
  legs: Leg[]
  /** Time of each stop's service midpoint (or drive-past), NaN for stops not reached. */
  stopTimes: number[]
  weights: number[]
  /** When the breakdown happened, if it did. */
  brokeDownAt: number | null
  /** Stops reached (served or passed). */
  reached: number
  endAt: number
}

const STREET_KMH = 8
const BREAKDOWN_STAND_MS = 45 * 60_000

export function driveRoute(stops: RouteStop[], o: RouteOptions): RouteResult {
  const legs: Leg[] = []
  let t = o.departAt
  let here = o.depot
  const go = (to: LatLon, kmh: number) => {
    const ms = (distanceM(here, to) / (kmh / 3.6)) * 1000
    legs.push({ t0: t, t1: t + ms, from: here, to })
    t += ms
    here = to
  }
  const stand = (ms: number) => {
    legs.push({ t0: t, t1: t + ms, from: here, to: here })
    t += ms
  }
  const stopTimes = new Array<number>(stops.length).fill(Number.NaN)
  const weights = new Array<number>(stops.length).fill(0)
  let load = 0
  let brokeDownAt: number | null = null
  let reached = 0
  const last = Math.min(stops.length, o.stopAfter ?? stops.length)
  for (let i = 0; i < last; i++) {
    const stop = stops[i]!
    if (stop.skip) continue
    go(stop.at, stop.sameStreet ? STREET_KMH : o.speedKmh)
    if (o.breakdownAt !== undefined && i >= o.breakdownAt) {
      brokeDownAt = t
      stand(BREAKDOWN_STAND_MS)
      return { legs, stopTimes, weights, brokeDownAt, reached, endAt: t }
    }
    if (stop.dwellS > 0) {
      let w = stop.weightKg(t + (stop.dwellS * 1000) / 2)
      if (load + w > o.capacityKg) {
        // Full: to the tip, unload, and back to this stop.
        const back = stop.at
        go(o.tip, o.speedKmh)
        stand(o.tipMinutes * 60_000)
        load = 0
        go(back, o.speedKmh)
        w = stop.weightKg(t + (stop.dwellS * 1000) / 2)
      }
      stopTimes[i] = t + (stop.dwellS * 1000) / 2
      weights[i] = w
      load += w
      stand(stop.dwellS * 1000)
    } else {
      stopTimes[i] = t
    }
    reached = i + 1
  }
  if (load > 0) {
    go(o.tip, o.speedKmh)
    stand(o.tipMinutes * 60_000)
  }
  go(o.depot, o.speedKmh)
  return { legs, stopTimes, weights, brokeDownAt, reached, endAt: t }
}

export interface Fix { at: number; lat: number; lon: number; speedKmh: number; heading: number }

/** Positions every `intervalMs` from the start of the first leg to the end of the last. */
export function samplePositions(legs: Leg[], intervalMs: number): Fix[] {
  const out: Fix[] = []
  if (legs.length === 0) return out
  let li = 0
  let heading = 0
  for (let at = legs[0]!.t0; at <= legs[legs.length - 1]!.t1; at += intervalMs) {
    while (li < legs.length - 1 && legs[li]!.t1 < at) li++
    const leg = legs[li]!
    const span = leg.t1 - leg.t0
    const f = span > 0 ? Math.min(1, Math.max(0, (at - leg.t0) / span)) : 1
    const lat = leg.from.lat + (leg.to.lat - leg.from.lat) * f
    const lon = leg.from.lon + (leg.to.lon - leg.from.lon) * f
    const metres = distanceM(leg.from, leg.to)
    const moving = metres > 0.5 && span > 0
    if (moving) heading = bearing(leg.from, leg.to)
    out.push({ at: Math.round(at), lat: round6(lat), lon: round6(lon), speedKmh: moving ? Math.round((metres / (span / 1000)) * 3.6 * 10) / 10 : 0, heading: Math.round(heading) % 360 })
  }
  return out
}

/** Initial compass bearing from a to b, degrees clockwise from north. */
export function bearing(a: LatLon, b: LatLon): number {
  const lat1 = (a.lat * Math.PI) / 180
  const lat2 = (b.lat * Math.PI) / 180
  const dLon = ((b.lon - a.lon) * Math.PI) / 180
  const y = Math.sin(dLon) * Math.cos(lat2)
  const x = Math.cos(lat1) * Math.sin(lat2) - Math.sin(lat1) * Math.cos(lat2) * Math.cos(dLon)
  return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6
