// The live city: the map API's snapshot, kept current by live events. Whole-city columns are held
// raw (not deeply reactive: 40,000 proxied bins would be slow) and changed in place; `revision`
// tells the map to redraw. Alerts use the same rules as the API (core/bin-alerts.ts).
import { ALERT_KINDS, binAlerts, type AlertKind } from '../../../core/bin-alerts.ts'
import { answer, api, describeError, earlyFetch, signedIn } from './api-client.ts'
import type { BinReading, CityMap, DeviceStatus, LiftEvent, LiveEvent, VehiclePosition } from './api-types.ts'
import { FILL_BANDS, fillBand } from './fill-bands.ts'

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error'

export interface AlertItem {
  kind: AlertKind
  bin: number
  household: number
  value: number | null
}

export interface LiftItem {
  key: string
  /** Device time, epoch ms. */
  ts: number
  outcome: string
  vehicleId: string | null
  binId: string | null
  uprn: number | null
  tag: string | null
  street: string | null
  lat: number
  lon: number
  weightKg: number | null
  /** Arrived over the live feed (rather than with the snapshot). */
  live: boolean
}

export interface VehicleView {
  vehicleId: string
  registration: string | null
  deviceId: string | null
  online: boolean | null
  lat: number | null
  lon: number | null
  speedKmh: number | null
  heading: number | null
  positionAt: number | null
}

const MAX_EVENTS = 200
const NEAREST_HOUSEHOLD_M = 60
const rank = new Map<AlertKind, number>(ALERT_KINDS.map((k, i) => [k, i]))

export class CityState {
  status = $state<LoadStatus>('idle')
  error = $state<string | null>(null)
  /** The snapshot, its bin columns updated in place by live readings. */
  data = $state.raw<CityMap | null>(null)
  /** Bumped whenever bins change; the map redraws on it. */
  revision = $state(0)
  vehicles = $state<VehicleView[]>([])
  events = $state.raw<LiftItem[]>([])
  alerts = $state.raw<AlertItem[]>([])
  /** Colour households by this stream's bins (index into data.streams), or by their fullest bin. */
  stream = $state<number | 'all'>('all')
  /** Household selected on the map or from a list (index into data.households). */
  selected = $state<number | null>(null)

  #binByDevice = new Map<string, number>()
  #vehicleByDevice = new Map<string, number>()
  #alertsByBin = new Map<number, AlertKind[]>()
  /** bins of household h are binStart[h] … binStart[h + 1] - 1 (the API groups them by household). */
  #binStart = new Int32Array(1)
  #eventKeys = new Set<string>()
  #pending: LiveEvent[] | null = null
  #abort: AbortController | null = null
  /** Told when a snapshot from the API is in, with the instant it was made (epoch ms): the live connection replays what happened since. */
  onSnapshot: ((generatedAt: number) => void) | null = null

  /** Load the snapshot; live events that arrive meanwhile are applied after it. */
  async load(key: string): Promise<void> {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    this.status = 'loading'
    this.error = null
    this.#pending = []
    try {
      const answered = await answer(api.GET('/api/v1/map', { fetch: earlyFetch('/api/v1/map', key), ...signedIn(key, abort.signal) }))
      // The document declares bounds as a tuple of four; openapi-fetch's answer types widen tuples to arrays.
      const data: CityMap = { ...answered, bounds: answered.bounds as CityMap['bounds'] }
      if (abort.signal.aborted) return
      this.#setSnapshot(data)
      const pending = this.#pending
      this.#pending = null
      for (const event of pending) this.apply(event)
      this.status = 'ready'
      this.onSnapshot?.(Date.parse(data.generatedAt))
    } catch (err) {
      if (abort.signal.aborted) return
      this.#pending = null
      this.error = describeError(err)
      this.status = 'error'
      throw err
    }
  }

  /** Replace the snapshot (load, or tests with a CityMap of their own). */
  setSnapshot(data: CityMap): void {
    this.#setSnapshot(data)
    this.status = 'ready'
  }

  #setSnapshot(data: CityMap): void {
    const bins = data.bins
    const nh = data.households.uprn.length
    const start = new Int32Array(nh + 1)
    for (const h of bins.household) start[h + 1]!++
    for (let h = 0; h < nh; h++) start[h + 1]! += start[h]!
    this.#binStart = start
    this.#binByDevice = new Map()
    bins.deviceId.forEach((d, i) => { if (d !== null) this.#binByDevice.set(d, i) })
    this.#vehicleByDevice = new Map()
    data.vehicles.forEach((v, i) => { if (v.deviceId !== null) this.#vehicleByDevice.set(v.deviceId, i) })
    this.#alertsByBin = new Map()
    for (const a of data.alerts) {
      const list = this.#alertsByBin.get(a.bin) ?? []
      list.push(a.kind)
      this.#alertsByBin.set(a.bin, list)
    }
    this.vehicles = data.vehicles.map((v) => ({ ...v, positionAt: v.positionAt === null ? null : Date.parse(v.positionAt) }))
    const l = data.lifts
    const householdOf = new Map<number, number>()
    data.households.uprn.forEach((u, h) => householdOf.set(u, h))
    this.data = data
    this.#eventKeys = new Set()
    const streetOf = (uprn: number | null) => {
      const h = uprn === null ? undefined : householdOf.get(uprn)
      return h === undefined ? null : this.streetName(h)
    }
    this.events = l.ts.map((ts, i) => {
      const item: LiftItem = {
        key: liftKey(l.vehicleId[i]!, ts, l.lat[i]!, l.lon[i]!), ts: ts * 1000, outcome: l.outcome[i]!, vehicleId: l.vehicleId[i]!, binId: l.binId[i]!, uprn: l.uprn[i]!,
        tag: null, street: streetOf(l.uprn[i]!), lat: l.lat[i]!, lon: l.lon[i]!, weightKg: l.weightKg[i]!, live: false,
      }
      this.#eventKeys.add(item.key)
      return item
    }).slice(0, MAX_EVENTS)
    this.#rebuildAlerts(data)
    this.revision++
  }

  /** Apply one live event. Readings and positions only ever move state forward in device time. */
  apply(event: LiveEvent, now = Date.now()): void {
    if (this.#pending) {
      this.#pending.push(event)
      return
    }
    const data = this.data
    if (!data) return
    switch (event.type) {
      case 'reading': return this.#reading(data, event.deviceId, event.data as BinReading, now)
      case 'lift': return this.#lift(data, event.deviceId, event.data as LiftEvent)
      case 'position': return this.#position(event.deviceId, event.data as VehiclePosition)
      case 'status': return this.#status(data, event.deviceKind, event.deviceId, event.data as DeviceStatus, now)
    }
  }

  #reading(data: CityMap, deviceId: string, r: BinReading, now: number): void {
    const i = this.#binByDevice.get(deviceId)
    if (i === undefined) return
    const at = Math.floor(Date.parse(r.ts) / 1000)
    const b = data.bins
    if (b.readingAt[i] !== null && b.readingAt[i]! > at) return
    b.fillPct[i] = Math.round(r.fillPct * 10) / 10
    b.readingAt[i] = at
    b.status[i] = r.status ?? null
    b.tempC[i] = r.tempC ?? null
    b.batteryV[i] = r.batteryV ?? null
    this.#recheckBin(data, i, now)
  }

  #status(data: CityMap, kind: 'bin' | 'vehicle', deviceId: string, s: DeviceStatus, now: number): void {
    if (kind === 'vehicle') {
      const v = this.#vehicleByDevice.get(deviceId)
      if (v !== undefined && this.vehicles[v]) this.vehicles[v].online = s.online
      return
    }
    const i = this.#binByDevice.get(deviceId)
    if (i === undefined) return
    data.bins.online[i] = s.online
    this.#recheckBin(data, i, now)
  }

  #position(deviceId: string, p: VehiclePosition): void {
    const v = this.#vehicleByDevice.get(deviceId)
    const vehicle = v === undefined ? undefined : this.vehicles[v]
    if (!vehicle) return
    const at = Date.parse(p.ts)
    if (vehicle.positionAt !== null && vehicle.positionAt > at) return
    vehicle.lat = p.lat
    vehicle.lon = p.lon
    vehicle.speedKmh = p.speedKmh ?? null
    vehicle.heading = p.heading ?? null
    vehicle.positionAt = at
  }

  #lift(data: CityMap, deviceId: string, lift: LiftEvent): void {
    const v = this.#vehicleByDevice.get(deviceId)
    const vehicleId = v === undefined ? null : (this.vehicles[v]?.vehicleId ?? null)
    const tsMs = Date.parse(lift.ts)
    const key = liftKey(vehicleId, Math.floor(tsMs / 1000), round5(lift.lat), round5(lift.lon))
    if (this.#eventKeys.has(key)) return
    this.#eventKeys.add(key)
    const h = this.nearestHousehold(lift.lat, lift.lon)
    const item: LiftItem = {
      key, ts: tsMs, outcome: lift.outcome, vehicleId, binId: null, uprn: h === null ? null : data.households.uprn[h]!,
      tag: lift.tag, street: h === null ? null : this.streetName(h), lat: lift.lat, lon: lift.lon, weightKg: lift.weightKg ?? null, live: true,
    }
    const events = [item, ...this.events]
    events.sort((a, b) => b.ts - a.ts)
    this.events = events.slice(0, MAX_EVENTS)
  }

  #recheckBin(data: CityMap, i: number, now: number): void {
    const kinds = this.#binAlertsNow(data, i, now)
    const before = this.#alertsByBin.get(i)
    if (kinds.length === 0) this.#alertsByBin.delete(i)
    else this.#alertsByBin.set(i, kinds)
    if ((before?.join() ?? '') !== kinds.join()) this.#rebuildAlerts(data)
    this.revision++
  }

  #binAlertsNow(data: CityMap, i: number, now: number): AlertKind[] {
    const b = data.bins
    const at = b.readingAt[i]!
    return binAlerts({ hasSensor: b.deviceId[i] !== null, online: b.online[i]!, fillPct: b.fillPct[i]!, tempC: b.tempC[i]!, batteryV: b.batteryV[i]!, status: b.status[i]!, readingAt: at === null ? null : at * 1000 }, now)
  }

  /** Sensors fall silent without an event: recheck every bin against the clock. */
  recheckAll(now = Date.now()): void {
    const data = this.data
    if (!data) return
    this.#alertsByBin = new Map()
    for (let i = 0; i < data.bins.binId.length; i++) {
      const kinds = this.#binAlertsNow(data, i, now)
      if (kinds.length > 0) this.#alertsByBin.set(i, kinds)
    }
    this.#rebuildAlerts(data, now)
    this.revision++
  }

  #rebuildAlerts(data: CityMap, now = Date.now()): void {
    const out: AlertItem[] = []
    const b = data.bins
    for (const [bin, kinds] of this.#alertsByBin) {
      for (const kind of kinds) {
        const at = b.readingAt[bin]!
        const value = kind === 'fire' ? b.tempC[bin]! : kind === 'overflow' ? b.fillPct[bin]! : kind === 'low_battery' ? b.batteryV[bin]!
          : at === null ? null : Math.round((now - at * 1000) / 360_000) / 10
        out.push({ kind, bin, household: b.household[bin]!, value })
      }
    }
    out.sort((x, y) => rank.get(x.kind)! - rank.get(y.kind)! || x.bin - y.bin)
    this.alerts = out
  }

  /** Alerts of one bin, most urgent first. */
  alertsOf(bin: number): AlertKind[] {
    return this.#alertsByBin.get(bin) ?? []
  }

  /** Bin indexes of household h. */
  binsOf(h: number): number[] {
    const out: number[] = []
    for (let i = this.#binStart[h] ?? 0; i < (this.#binStart[h + 1] ?? 0); i++) out.push(i)
    return out
  }

  /** Fill band (index into FILL_BANDS) of a household: its fullest bin of the chosen stream. */
  householdBand(h: number): number {
    const data = this.data
    if (!data) return 0
    let band = 0
    for (let i = this.#binStart[h]!; i < this.#binStart[h + 1]!; i++) {
      if (this.stream !== 'all' && data.bins.stream[i] !== this.stream) continue
      band = Math.max(band, fillBand(data.bins.fillPct[i]!, data.thresholds.overflowPct))
    }
    return band
  }

  /** Households whose bins raise an alert, with their most urgent kind. */
  householdAlert(h: number): AlertKind | null {
    let best: AlertKind | null = null
    for (let i = this.#binStart[h]!; i < this.#binStart[h + 1]!; i++) {
      const k = this.#alertsByBin.get(i)?.[0]
      if (k && (best === null || rank.get(k)! < rank.get(best)!)) best = k
    }
    return best
  }

  /** How many households fall in each fill band, for the legend and the chart. */
  bandCounts(): number[] {
    void this.revision
    void this.stream
    const counts = FILL_BANDS.map(() => 0)
    const n = this.data?.households.uprn.length ?? 0
    for (let h = 0; h < n; h++) counts[this.householdBand(h)]!++
    return counts
  }

  streetName(h: number): string | null {
    const s = this.data?.households.street[h] ?? -1
    return s >= 0 ? (this.data?.streets[s]?.name ?? null) : null
  }

  nearestHousehold(lat: number, lon: number): number | null {
    const hh = this.data?.households
    if (!hh) return null
    const kx = Math.cos((lat * Math.PI) / 180)
    let best: number | null = null
    let bestD = (NEAREST_HOUSEHOLD_M / 111_320) ** 2
    for (let h = 0; h < hh.uprn.length; h++) {
      const d = (hh.lat[h]! - lat) ** 2 + ((hh.lon[h]! - lon) * kx) ** 2
      if (d < bestD) { bestD = d; best = h }
    }
    return best
  }

  stop(): void {
    this.#abort?.abort()
  }
}

const round5 = (v: number) => Math.round(v * 1e5) / 1e5
const liftKey = (vehicleId: string | null, tsSeconds: number, lat: number, lon: number) => `${vehicleId ?? '?'}|${tsSeconds}|${lat}|${lon}`
