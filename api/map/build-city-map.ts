// Turns the map queries' rows into the columnar CityMap payload, and works out each bin's alerts
// with the same rules the dashboard applies to live readings.
import { ALERT_KINDS, ALERT_THRESHOLDS, binAlerts, type AlertKind } from '../../core/bin-alerts.ts'
import { WASTE_STREAMS } from '../../core/contract/domain.ts'
import type { MapBinRow, MapLiftRow, MapVehicleRow } from '../../storage/map.ts'
import type { CityMap, MapAlert, MapBins, MapHouseholds, MapLifts } from '../schemas/map.ts'
import { deriveStreetLines, type StreetLine } from './street-lines.ts'

const r5 = (v: number) => Math.round(v * 1e5) / 1e5
const r1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10)
const r2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100)
const epochS = (d: Date | null) => (d === null ? null : Math.floor(d.getTime() / 1000))

export interface StreetCache {
  /** Street lines only change when households do: reuse them while the household set is the same. */
  get(signature: string, derive: () => ReturnType<typeof deriveStreetLines>): ReturnType<typeof deriveStreetLines>
}

export function createStreetCache(): StreetCache {
  let held: { signature: string; value: ReturnType<typeof deriveStreetLines> } | null = null
  return {
    get(signature, derive) {
      if (held?.signature !== signature) held = { signature, value: derive() }
      return held.value
    },
  }
}

export interface CityMapInput {
  now: Date
  hours: number
  binRows: MapBinRow[]
  vehicles: MapVehicleRow[]
  lifts: MapLiftRow[]
  streets: StreetCache
}

export function buildCityMap({ now, hours, binRows, vehicles, lifts, streets: cache }: CityMapInput): CityMap {
  const households: MapHouseholds = { uprn: [], lat: [], lon: [], street: [], ward: [] }
  const bins: MapBins = { household: [], binId: [], stream: [], deviceId: [], online: [], fillPct: [], readingAt: [], status: [], tempC: [], batteryV: [] }
  const wards: string[] = []
  const wardIndex = new Map<string, number>()
  const streamIndex = new Map<string, number>(WASTE_STREAMS.map((s, i) => [s, i]))
  const placed: { lon: number; lat: number; street: string | null; ward: string | null }[] = []
  const alerts: MapAlert[] = []
  const t = now.getTime()

  for (const row of binRows) {
    if (households.uprn[households.uprn.length - 1] !== row.uprn) {
      households.uprn.push(row.uprn)
      households.lat.push(r5(row.lat))
      households.lon.push(r5(row.lon))
      households.street.push(-1) // filled in below, once street lines are known
      let w = -1
      if (row.ward !== null) {
        w = wardIndex.get(row.ward) ?? wards.push(row.ward) - 1
        wardIndex.set(row.ward, w)
      }
      households.ward.push(w)
      placed.push({ lon: row.lon, lat: row.lat, street: row.street, ward: row.ward })
    }
    if (row.binId === null) continue
    bins.household.push(households.uprn.length - 1)
    bins.binId.push(row.binId)
    bins.stream.push(streamIndex.get(row.stream ?? '') ?? 0)
    bins.deviceId.push(row.deviceId)
    bins.online.push(row.online)
    bins.fillPct.push(r1(row.fillPct))
    bins.readingAt.push(epochS(row.readingAt))
    bins.status.push(row.status)
    bins.tempC.push(r1(row.tempC))
    bins.batteryV.push(r2(row.batteryV))
    if (row.deviceId !== null) {
      const readingAt = row.readingAt?.getTime() ?? null
      for (const kind of binAlerts({ hasSensor: true, online: row.online, fillPct: row.fillPct, tempC: row.tempC, batteryV: row.batteryV, status: row.status, readingAt }, t)) {
        alerts.push({ kind, binId: row.binId, uprn: row.uprn, deviceId: row.deviceId, readingAt: epochS(row.readingAt), value: alertValue(kind, row, t) })
      }
    }
  }

  const signature = `${placed.length}:${households.uprn[0] ?? ''}:${households.uprn[households.uprn.length - 1] ?? ''}:${hashPlaced(placed)}`
  const { streets, streetOf } = cache.get(signature, () => deriveStreetLines(placed))
  for (let i = 0; i < streetOf.length; i++) households.street[i] = streetOf[i]!

  const order = new Map<AlertKind, number>(ALERT_KINDS.map((k, i) => [k, i]))
  alerts.sort((a, b) => order.get(a.kind)! - order.get(b.kind)! || a.uprn - b.uprn)

  return {
    generatedAt: now.toISOString(),
    hours,
    bounds: boundsOf(households),
    wards,
    streams: [...WASTE_STREAMS],
    streets: streets as StreetLine[],
    households,
    bins,
    vehicles: vehicles.map((v) => ({ ...v, lat: v.lat === null ? null : r5(v.lat), lon: v.lon === null ? null : r5(v.lon), positionAt: v.positionAt?.toISOString() ?? null })),
    lifts: columnarLifts(lifts),
    alerts,
    thresholds: { ...ALERT_THRESHOLDS },
  }
}

function alertValue(kind: AlertKind, row: MapBinRow, now: number): number | null {
  switch (kind) {
    case 'fire': return r1(row.tempC)
    case 'overflow': return r1(row.fillPct)
    case 'offline': return row.readingAt === null ? null : Math.round((now - row.readingAt.getTime()) / 360_000) / 10
    case 'low_battery': return r2(row.batteryV)
  }
}

function columnarLifts(rows: MapLiftRow[]): MapLifts {
  const out: MapLifts = { ts: [], vehicleId: [], binId: [], uprn: [], lat: [], lon: [], outcome: [], weightKg: [] }
  for (const r of rows) {
    out.ts.push(epochS(r.ts)!)
    out.vehicleId.push(r.vehicleId)
    out.binId.push(r.binId)
    out.uprn.push(r.uprn)
    out.lat.push(r5(r.lat))
    out.lon.push(r5(r.lon))
    out.outcome.push(r.outcome as MapLifts['outcome'][number])
    out.weightKg.push(r1(r.weightKg))
  }
  return out
}

function boundsOf(h: MapHouseholds): CityMap['bounds'] {
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
function hashPlaced(points: { lon: number; lat: number; street: string | null; ward: string | null }[]): number {
  let h = 0x811c9dc5
  const mix = (v: number) => { h = Math.imul(h ^ v, 0x01000193) }
  for (const p of points) {
    mix((p.lon * 1e5) | 0)
    mix((p.lat * 1e5) | 0)
    const s = p.street ?? ''
    for (let k = 0; k < s.length; k++) mix(s.charCodeAt(k))
    const w = p.ward ?? ''
    for (let k = 0; k < w.length; k++) mix(w.charCodeAt(k))
  }
  return h >>> 0
}
