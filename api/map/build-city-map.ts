// Turns the map queries' columns into the CityMap payload: household indexes for bins, dictionary
// indexes for streets, wards and streams, derived street lines, and each bin's alerts worked out with
// the same rules the dashboard applies to live readings.
import { ALERT_KINDS, ALERT_THRESHOLDS, binAlerts, type AlertKind } from '../../core/bin-alerts.ts'
import { WASTE_STREAMS } from '../../core/contract/domain.ts'
import type { MapBinColumns, MapHouseholdColumns, MapLiftColumns, MapVehicleRow } from '../../storage/map.ts'
import type { CityMap, MapAlert, MapBins, MapLifts } from '../schemas/map.ts'
import { deriveStreetLines } from './street-lines.ts'
import type { BaseMap } from '../../core/base-map.ts'

type Lines = ReturnType<typeof deriveStreetLines>

// Rounded for the wire: 5 decimals of a degree is about a metre.
const r5 = (v: number) => Math.round(v * 1e5) / 1e5
const r1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10)
const r2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100)

export interface StreetCache {
  /** Street lines only change when households do: reuse them while the household set is the same. */
  get(households: MapHouseholdColumns, derive: () => Lines): Lines
}

export function createStreetCache(): StreetCache {
  let held: { signature: number; value: Lines } | null = null
  return {
    get(households, derive) {
      const signature = fingerprint(households)
      if (held?.signature !== signature) held = { signature, value: derive() }
      return held.value
    },
  }
}

export interface CityMapInput {
  now: Date
  hours: number
  households: MapHouseholdColumns
  bins: MapBinColumns
  vehicles: MapVehicleRow[]
  lifts: MapLiftColumns
  streets: StreetCache
  baseMap?: BaseMap | null
}

export function buildCityMap({ now, hours, households: raw, bins: b, vehicles, lifts, streets: cache, baseMap = null }: CityMapInput): CityMap {
  const h: MapHouseholdColumns = { ...raw, lat: raw.lat.map(r5), lon: raw.lon.map(r5) }
  const indexOf = new Map<number, number>()
  h.uprn.forEach((u, i) => indexOf.set(u, i))
  const wards: string[] = []
  const wardIndex = new Map<string, number>()
  const ward = h.ward.map((w) => {
    if (w === null) return -1
    let k = wardIndex.get(w)
    if (k === undefined) { k = wards.push(w) - 1; wardIndex.set(w, k) }
    return k
  })

  const { streets, streetOf } = cache.get(h, () => deriveStreetLines(h.uprn.map((_, i) => ({ lon: h.lon[i]!, lat: h.lat[i]!, street: h.street[i]!, ward: h.ward[i]! }))))

  const streamIndex = new Map<string, number>(WASTE_STREAMS.map((s, i) => [s, i]))
  const bins: MapBins = { household: [], binId: [], stream: [], deviceId: [], online: [], fillPct: [], readingAt: [], status: [], tempC: [], batteryV: [] }
  const alerts: MapAlert[] = []
  const t = now.getTime()
  for (let k = 0; k < b.binId.length; k++) {
    const household = indexOf.get(b.uprn[k]!)
    if (household === undefined) continue // a household with no coordinates is not on the map
    const i = bins.binId.length
    const readingAt = b.readingAt[k]!
    bins.household.push(household)
    bins.binId.push(b.binId[k]!)
    bins.stream.push(streamIndex.get(b.stream[k]!) ?? 0)
    bins.deviceId.push(b.deviceId[k]!)
    bins.online.push(b.online[k]!)
    const fillPct = r1(b.fillPct[k]!)
    const tempC = r1(b.tempC[k]!)
    const batteryV = r2(b.batteryV[k]!)
    bins.fillPct.push(fillPct)
    bins.readingAt.push(readingAt)
    bins.status.push(b.status[k]!)
    bins.tempC.push(tempC)
    bins.batteryV.push(batteryV)
    if (b.deviceId[k] === null) continue
    const state = { hasSensor: true, online: b.online[k]!, fillPct, tempC, batteryV, status: b.status[k]!, readingAt: readingAt === null ? null : readingAt * 1000 }
    for (const kind of binAlerts(state, t)) alerts.push({ kind, bin: i, value: alertValue(kind, state, t) })
  }
  const rank = new Map<AlertKind, number>(ALERT_KINDS.map((k, i) => [k, i]))
  alerts.sort((x, y) => rank.get(x.kind)! - rank.get(y.kind)! || x.bin - y.bin)

  return {
    generatedAt: now.toISOString(),
    hours,
    bounds: boundsOf(h),
    wards,
    streams: [...WASTE_STREAMS],
    streets,
    households: { uprn: h.uprn, lat: h.lat, lon: h.lon, street: Array.from(streetOf), ward },
    bins,
    vehicles: vehicles.map((v) => ({ ...v, positionAt: v.positionAt?.toISOString() ?? null })),
    lifts: { ...lifts, lat: lifts.lat.map(r5), lon: lifts.lon.map(r5), weightKg: lifts.weightKg.map(r1) } as MapLifts,
    alerts,
    thresholds: { ...ALERT_THRESHOLDS },
    baseMap,
  }
}

function alertValue(kind: AlertKind, s: { fillPct: number | null; tempC: number | null; batteryV: number | null; readingAt: number | null }, now: number): number | null {
  switch (kind) {
    case 'fire': return s.tempC
    case 'overflow': return s.fillPct
    case 'offline': return s.readingAt === null ? null : Math.round((now - s.readingAt) / 360_000) / 10
    case 'low_battery': return s.batteryV
  }
}

function boundsOf(h: MapHouseholdColumns): CityMap['bounds'] {
  if (h.lat.length === 0) return null
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity
  for (let i = 0; i < h.lat.length; i++) {
    const lat = h.lat[i]!, lon = h.lon[i]!
    if (lon < w) w = lon
    if (lon > e) e = lon
    if (lat < s) s = lat
    if (lat > n) n = lat
  }
  return [w, s, e, n]
}

/** A cheap fingerprint of positions and street names, so a moved or renamed household refreshes the lines. */
function fingerprint(h: MapHouseholdColumns): number {
  let x = 0x811c9dc5
  const mix = (v: number) => { x = Math.imul(x ^ v, 0x01000193) }
  for (let i = 0; i < h.uprn.length; i++) {
    mix(h.uprn[i]! % 0x7fffffff)
    mix(Math.round(h.lon[i]! * 1e5))
    mix(Math.round(h.lat[i]! * 1e5))
    for (const s of [h.street[i], h.ward[i]]) {
      if (s) for (let k = 0; k < s.length; k++) mix(s.charCodeAt(k))
      mix(0)
    }
  }
  return x >>> 0
}
