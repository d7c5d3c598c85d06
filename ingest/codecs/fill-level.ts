// Distance from the lid to the waste → fill level, with the bin's geometry.
//
//   sensor face ──┬──────────  (in the lid, mountOffsetMm above the rim)
//                 │ d
//   rim ──────────┼──────────  fill 100 %
//                 │
//   waste ────────┴──────────
//                 ...
//   bottom ──────────────────  fill 0 %   (innerDepthMm below the rim)
//
// fill = (innerDepth + mountOffset − d) / innerDepth. A distance inside the sensor's blind zone
// cannot be measured (the echo returns before the transducer stops ringing): the waste is at the
// sensor, so the bin counts as full and the reading is flagged. A distance shorter than the mount
// offset is waste above the rim (flagged overfull, 100 %). A distance longer than the bin is deep
// (beyond a tolerance) is impossible in an upright bin — an open lid or a sensor reading the
// ground — and is clamped to 0 % and flagged.
import type { BinStatus } from '../../core/contract/messages.ts'
import type { BatteryCurve, SensorValues } from './types.ts'

export interface BinGeometry {
  innerDepthMm: number
  mountOffsetMm: number
  blindZoneMm: number
}

/** Per-device calibration, as registered; each field overrides the default for the bin's capacity. */
export interface Calibration {
  innerDepthMm?: number
  mountOffsetMm?: number
  blindZoneMm?: number
}

/**
 * Inner depth (rim to floor) of the bin types councils use, by nominal capacity in litres. Wheeled
 * bins to EN 840-1 (two wheels: 80–360 l) and EN 840-2/3 (four wheels: 500–1,100 l): body heights
 * less the base and rim, rounded; a device's calibration overrides them.
 */
export const INNER_DEPTH_BY_CAPACITY: readonly [capacityL: number, depthMm: number][] = [
  [80, 820], [120, 860], [140, 940], [180, 960], [240, 1000], [360, 1020], [660, 1000], [770, 1060], [1100, 1120],
]
export const DEFAULT_MOUNT_OFFSET_MM = 50
export const DEFAULT_BLIND_ZONE_MM = 250
/** How far past the floor a distance may read (echo off a bag's base, tolerance) before it is impossible. */
const DEPTH_TOLERANCE = 0.1

export function geometryFor(capacityL: number | null, calibration: Calibration = {}): BinGeometry {
  const cap = capacityL ?? 240
  // The listed capacity nearest to the bin's (a 230 l bin is measured as a 240 l one).
  let depth = INNER_DEPTH_BY_CAPACITY[0]![1]
  let best = Infinity
  for (const [c, d] of INNER_DEPTH_BY_CAPACITY) {
    if (Math.abs(c - cap) < best) { best = Math.abs(c - cap); depth = d }
  }
  return {
    innerDepthMm: calibration.innerDepthMm ?? depth,
    mountOffsetMm: calibration.mountOffsetMm ?? DEFAULT_MOUNT_OFFSET_MM,
    blindZoneMm: calibration.blindZoneMm ?? DEFAULT_BLIND_ZONE_MM,
  }
}

export type FillFlag = 'blind_zone' | 'overfull' | 'beyond_depth'

export function fillFromDistance(distanceMm: number, g: BinGeometry): { fillPct: number; flag?: FillFlag } {
  if (distanceMm < g.blindZoneMm) return { fillPct: 100, flag: 'blind_zone' }
  if (distanceMm < g.mountOffsetMm) return { fillPct: 100, flag: 'overfull' }
  const maxDistance = g.mountOffsetMm + g.innerDepthMm
  if (distanceMm > maxDistance * (1 + DEPTH_TOLERANCE)) return { fillPct: 0, flag: 'beyond_depth' }
  const pct = ((maxDistance - distanceMm) / g.innerDepthMm) * 100
  return { fillPct: Math.round(Math.min(100, Math.max(0, pct)) * 10) / 10 }
}

export const voltsFromPct = (pct: number, b: BatteryCurve): number => round3(b.emptyV + (b.fullV - b.emptyV) * clamp(pct, 0, 100) / 100)
export const pctFromVolts = (v: number, b: BatteryCurve): number => Math.round(clamp((v - b.emptyV) / (b.fullV - b.emptyV), 0, 1) * 100)

/** The reading body of the device contract (without seq and ts), or null when the uplink measured no fill. */
export interface ReadingFields {
  fillPct: number
  tempC?: number
  batteryV?: number
  status?: BinStatus
}

export interface Conversion {
  reading: ReadingFields | null
  batteryPct?: number
  batteryV?: number
  flags: string[]
}

/** Turn decoded sensor values into the contract's reading fields. */
export function toReading(values: SensorValues, g: BinGeometry, battery: BatteryCurve): Conversion {
  const flags = [...values.notes]
  const batteryV = values.batteryV ?? (values.batteryPct !== undefined ? voltsFromPct(values.batteryPct, battery) : undefined)
  const batteryPct = values.batteryPct ?? (values.batteryV !== undefined ? pctFromVolts(values.batteryV, battery) : undefined)
  const out: Conversion = { reading: null, flags }
  if (batteryV !== undefined) out.batteryV = batteryV
  if (batteryPct !== undefined) out.batteryPct = batteryPct
  if (values.distanceMm === null) return out
  const fill = fillFromDistance(values.distanceMm, g)
  if (fill.flag) flags.push(fill.flag)
  const reading: ReadingFields = { fillPct: fill.fillPct }
  if (values.tempC !== undefined) reading.tempC = values.tempC
  if (batteryV !== undefined && batteryV <= 30) reading.batteryV = batteryV
  // A tilted sensor measures across the bin, not down into it: the fill is kept but the bin is down.
  // Temperature is passed on as it is: fire alerts come from it as for every bin (core/bin-alerts.ts).
  reading.status = values.tilted ? 'dropped' : 'ok'
  out.reading = reading
  return out
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v))
const round3 = (v: number) => Math.round(v * 1000) / 1000
