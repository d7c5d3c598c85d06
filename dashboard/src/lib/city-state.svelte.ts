// The live city for a city of any size: the map API's overview (counts, households by fill band,
// alerts, vehicles, the latest lifts), the households themselves in vector tiles drawn by the map
// (lib/city-tile-layer.ts), and one household's bins when it is chosen. Everything comes from one
// snapshot of the API; what happened since arrives over the live feed and is applied here:
// readings and statuses move bins forward in device time (the tiles' households recoloured from
// `liveFill`, alerts raised and cleared), lifts and positions join the feed and the vehicles.
// A new snapshot is fetched every minute (its counts and clusters); the live feed replays from it.
import { ALERT_KINDS, binAlerts, type AlertKind } from '../../../core/bin-alerts.ts'
import { fillBand } from '../../../core/fill-band.ts'
import { ApiError, describeError } from './api-client.ts'
import type { BinReading, DeviceStatus, LiftEvent, LiveEvent, MapHousehold, MapOverview, MapStreet, VehiclePosition } from './api-types.ts'

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error'

export interface AlertItem {
  key: string
  kind: AlertKind
  value: number | null
  uprn: number
  street: string | null
  stream: string
  binId: string
  deviceId: string
  lat: number
  lon: number
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

/** A bin's last known state, from the snapshot or the live feed. */
export interface BinNow {
  fillPct: number | null
  /** Device time, epoch seconds. */
  readingAt: number | null
  online: boolean | null
  tempC: number | null
  batteryV: number | null
  status: string | null
}

const MAX_EVENTS = 200
const REFRESH_MS = 60_000
const rank = new Map<AlertKind, number>(ALERT_KINDS.map((k, i) => [k, i]))
const emptyCounts = () => Object.fromEntries(ALERT_KINDS.map((k) => [k, 0])) as Record<AlertKind, number>

/** A request the page started before the application loaded (public/early-map.js). */
interface EarlyRequest { path: string; key: string; response: Promise<Response> }

/** GET a map answer as JSON with the signed-in credential; the page's early request when it is the same. */
async function getJson<T>(path: string, key: string, signal?: AbortSignal): Promise<T> {
  const w = typeof window === 'undefined' ? undefined : (window as { kerbsideEarly?: EarlyRequest })
  const early = w?.kerbsideEarly
  let res: Response
  try {
    if (early && early.path === path && early.key === key) {
      w!.kerbsideEarly = undefined
      res = await early.response
    } else res = await fetch(path, { headers: { authorization: `Bearer ${key}`, accept: 'application/json' }, signal })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'KERBSIDE_ERR_NETWORK', 'Kerbside could not be reached. Check the connection and try again.')
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null) as { code?: string; message?: string } | null
    throw new ApiError(res.status, body?.code ?? 'KERBSIDE_ERR_HTTP', body?.message ?? `The API answered ${res.status} ${res.statusText}.`)
  }
  return res.json() as Promise<T>
}

export class CityState {
  status = $state<LoadStatus>('idle')
  error = $state<string | null>(null)
  /** The API's overview of its latest snapshot. */
  overview = $state.raw<MapOverview | null>(null)
  /** Bumped when what the map draws changed (live readings, a new snapshot, a chosen household). */
  revision = $state(0)
  vehicles = $state<VehicleView[]>([])
  events = $state.raw<LiftItem[]>([])
  alerts = $state.raw<AlertItem[]>([])
  /** Bins raising each kind of alert in the whole city (the list holds the first few hundred of each). */
  alertCounts = $state.raw<Record<AlertKind, number>>(emptyCounts())
  /** Colour households by this stream's bins (index into overview.streams), or by their fullest bin. */
  stream = $state<number | 'all'>('all')
  /** The chosen household, with its bins. */
  selected = $state.raw<MapHousehold | null>(null)
  /** Street lines (the why-missed hotspot map), loaded by loadStreets. */
  streetPaths = $state.raw<number[][]>([])

  /** Bins heard from over the live feed since the snapshot, by sensor: the tiles' households are coloured from these. */
  readonly liveBins = new Map<string, BinNow>()
  #key: string | null = null
  #pending: LiveEvent[] | null = null
  #abort: AbortController | null = null
  #refresh: ReturnType<typeof setInterval> | null = null
  #eventKeys = new Set<string>()
  #vehicleByDevice = new Map<string, number>()
  #lookups = new Set<string>()
  /** Where the bins that raised alerts on this screen are (their alert may clear and come back). */
  #where = new Map<string, Omit<AlertItem, 'key' | 'kind' | 'value'>>()
  #streets: Promise<void> | null = null
  /** Told when a snapshot from the API is in, with the instant it was made (epoch ms): the live connection replays what happened since. */
  onSnapshot: ((generatedAt: number) => void) | null = null

  /** Load the overview; live events that arrive meanwhile are applied after it. Then a fresh one every minute. */
  async load(key: string): Promise<void> {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    this.#key = key
    this.status = 'loading'
    this.error = null
    this.#pending = []
    try {
      const overview = await getJson<MapOverview>('/api/v1/map/overview', key, abort.signal)
      if (abort.signal.aborted) return
      this.setOverview(overview)
      const pending = this.#pending
      this.#pending = null
      for (const event of pending) this.apply(event)
      this.status = 'ready'
      this.onSnapshot?.(Date.parse(overview.generatedAt))
      if (!this.#refresh && typeof setInterval === 'function') this.#refresh = setInterval(() => void this.refresh(), REFRESH_MS)
    } catch (err) {
      if (abort.signal.aborted) return
      this.#pending = null
      this.error = describeError(err)
      this.status = 'error'
      throw err
    }
  }

  /** A newer snapshot, if the API has one: its counts, alerts and tiles replace what was applied live before it. */
  async refresh(): Promise<void> {
    const key = this.#key
    if (!key || this.status !== 'ready') return
    try {
      const overview = await getJson<MapOverview>('/api/v1/map/overview', key)
      if (overview.generation === this.overview?.generation) return
      const since = Date.parse(overview.generatedAt) / 1000
      for (const [device, bin] of this.liveBins) if ((bin.readingAt ?? 0) < since) this.liveBins.delete(device)
      this.setOverview(overview, { keepLive: true })
      this.onSnapshot?.(Date.parse(overview.generatedAt))
    } catch {
      // The next minute tries again; the live feed keeps the screen current meanwhile.
    }
  }

  /** Take an overview (load, refresh, or tests with one of their own). */
  setOverview(o: MapOverview, opts: { keepLive?: boolean } = {}): void {
    if (!opts.keepLive) this.liveBins.clear()
    this.vehicles = o.vehicles.map((v) => ({ ...v, positionAt: v.positionAt === null ? null : Date.parse(v.positionAt) }))
    this.#vehicleByDevice = new Map()
    o.vehicles.forEach((v, i) => { if (v.deviceId !== null) this.#vehicleByDevice.set(v.deviceId, i) })
    const live = opts.keepLive ? this.events.filter((e) => e.live && e.ts > Date.parse(o.generatedAt)) : []
    this.#eventKeys = new Set(live.map((e) => e.key))
    const fromSnapshot = o.lifts.map((l): LiftItem => ({
      key: liftKey(l.vehicleId, l.ts, l.lat, l.lon), ts: l.ts * 1000, outcome: l.outcome, vehicleId: l.vehicleId, binId: l.binId, uprn: l.uprn,
      tag: null, street: l.street, lat: l.lat, lon: l.lon, weightKg: l.weightKg, live: false,
    })).filter((e) => !this.#eventKeys.has(e.key))
    for (const e of fromSnapshot) this.#eventKeys.add(e.key)
    this.events = [...live, ...fromSnapshot].sort((a, b) => b.ts - a.ts).slice(0, MAX_EVENTS)
    this.alerts = o.alerts.rows.map((a) => ({ ...a, key: `${a.kind}:${a.deviceId}` }))
    for (const { kind: _k, value: _v, ...where } of o.alerts.rows) this.#where.set(where.deviceId, where)
    this.alertCounts = { ...o.alerts.counts }
    this.overview = o
    if (this.status !== 'loading') this.status = 'ready'
    this.revision++
  }

  /** Apply one live event. Readings and positions only ever move state forward in device time. */
  apply(event: LiveEvent, now = Date.now()): void {
    if (this.#pending) {
      this.#pending.push(event)
      return
    }
    if (!this.overview) return
    switch (event.type) {
      case 'reading': return this.#reading(event.deviceId, event.data as BinReading, now)
      case 'lift': return this.#lift(event.deviceId, event.data as LiftEvent)
      case 'position': return this.#position(event.deviceId, event.data as VehiclePosition)
      case 'status': return this.#status(event.deviceKind, event.deviceId, event.data as DeviceStatus, now)
    }
  }

  #reading(deviceId: string, r: BinReading, now: number): void {
    const at = Math.floor(Date.parse(r.ts) / 1000)
    const known = this.#binNow(deviceId)
    if (known && known.readingAt !== null && known.readingAt > at) return
    // A sensor that reports is connected, whatever the snapshot said.
    this.#setBin(deviceId, { fillPct: Math.round(r.fillPct * 10) / 10, readingAt: at, online: true, tempC: r.tempC ?? null, batteryV: r.batteryV ?? null, status: r.status ?? null }, now)
  }

  #status(kind: 'bin' | 'vehicle', deviceId: string, s: DeviceStatus, now: number): void {
    if (kind === 'vehicle') {
      const v = this.#vehicleByDevice.get(deviceId)
      if (v !== undefined && this.vehicles[v]) this.vehicles[v].online = s.online
      return
    }
    const known = this.#binNow(deviceId)
    if (known) this.#setBin(deviceId, { ...known, online: s.online }, now)
    else if (!s.online) this.#lookUp(deviceId, now, (bin) => ({ ...bin, online: false }))
  }

  /** What is known of a sensor's bin: heard live, or in the chosen household, or raising an alert. */
  #binNow(deviceId: string): BinNow | null {
    const live = this.liveBins.get(deviceId)
    if (live) return live
    const b = this.selected?.bins.find((x) => x.deviceId === deviceId)
    return b ? { fillPct: b.fillPct, readingAt: b.readingAt, online: b.online, tempC: b.tempC, batteryV: b.batteryV, status: b.status } : null
  }

  #setBin(deviceId: string, bin: BinNow, now: number): void {
    this.liveBins.set(deviceId, bin)
    const kinds = this.#kindsOf(bin, now)
    const sel = this.selected
    const where = this.#where.get(deviceId) ?? this.#inSelected(deviceId)
    if (where || kinds.length === 0) this.#setAlerts(deviceId, kinds, bin, where, now)
    else this.#lookUp(deviceId, now, () => bin) // a new alert on a bin the screen does not know yet: ask where it is
    if (sel?.bins.some((b) => b.deviceId === deviceId)) {
      this.selected = { ...sel, bins: sel.bins.map((b) => (b.deviceId === deviceId ? { ...b, ...bin, alerts: kinds } : b)) }
    }
    this.revision++
  }

  #inSelected(deviceId: string): Omit<AlertItem, 'key' | 'kind' | 'value'> | null {
    const h = this.selected
    const b = h?.bins.find((x) => x.deviceId === deviceId)
    return h && b ? { uprn: h.uprn, street: h.street, stream: b.stream, binId: b.binId, deviceId, lat: h.lat, lon: h.lon } : null
  }

  #kindsOf(bin: BinNow, now: number): AlertKind[] {
    return binAlerts({ hasSensor: true, ...bin, readingAt: bin.readingAt === null ? null : bin.readingAt * 1000 }, now)
  }

  /** The alert rows of one sensor, replaced by `kinds`; the counts move with them. */
  #setAlerts(deviceId: string, kinds: AlertKind[], bin: BinNow, where: Omit<AlertItem, 'key' | 'kind' | 'value'> | null, now: number): void {
    const before = this.alerts.filter((a) => a.deviceId === deviceId)
    const counts = { ...this.alertCounts }
    for (const a of before) if (!kinds.includes(a.kind)) counts[a.kind] = Math.max(0, counts[a.kind] - 1)
    const rows: AlertItem[] = this.alerts.filter((a) => a.deviceId !== deviceId)
    if (where) {
      const { key: _key, kind: _kind, value: _value, ...place } = where as AlertItem
      this.#where.set(deviceId, { ...place, deviceId })
      for (const kind of kinds) {
        if (!before.some((a) => a.kind === kind)) counts[kind]++
        rows.push({ ...where, deviceId, key: `${kind}:${deviceId}`, kind, value: alertValue(kind, bin, now) })
      }
    }
    rows.sort((x, y) => rank.get(x.kind)! - rank.get(y.kind)! || x.key.localeCompare(y.key))
    this.alerts = rows
    this.alertCounts = counts
  }

  /** Find the household of a sensor the screen does not know (once per sensor at a time), then apply `next` to its bin. */
  #lookUp(deviceId: string, now: number, next: (bin: BinNow) => BinNow): void {
    const key = this.#key
    if (!key || this.#lookups.has(deviceId)) return
    this.#lookups.add(deviceId)
    getJson<MapHousehold>(`/api/v1/map/devices/${encodeURIComponent(deviceId)}/household`, key)
      .then((h) => {
        const b = h.bins.find((x) => x.deviceId === deviceId)
        if (!b) return
        const bin = next(this.liveBins.get(deviceId) ?? { fillPct: b.fillPct, readingAt: b.readingAt, online: b.online, tempC: b.tempC, batteryV: b.batteryV, status: b.status })
        this.liveBins.set(deviceId, bin)
        this.#setAlerts(deviceId, this.#kindsOf(bin, now), bin, { uprn: h.uprn, street: h.street, stream: b.stream, binId: b.binId, deviceId, lat: h.lat, lon: h.lon }, now)
        this.revision++
      })
      .catch(() => undefined) // not on the map (no coordinates): nothing to show
      .finally(() => this.#lookups.delete(deviceId))
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

  #lift(deviceId: string, lift: LiftEvent): void {
    const v = this.#vehicleByDevice.get(deviceId)
    const vehicleId = v === undefined ? null : (this.vehicles[v]?.vehicleId ?? null)
    const tsMs = Date.parse(lift.ts)
    const key = liftKey(vehicleId, Math.floor(tsMs / 1000), round5(lift.lat), round5(lift.lon))
    if (this.#eventKeys.has(key)) return
    this.#eventKeys.add(key)
    const item: LiftItem = {
      key, ts: tsMs, outcome: lift.outcome, vehicleId, binId: null, uprn: null,
      tag: lift.tag, street: null, lat: lift.lat, lon: lift.lon, weightKg: lift.weightKg ?? null, live: true,
    }
    const events = [item, ...this.events]
    events.sort((a, b) => b.ts - a.ts)
    this.events = events.slice(0, MAX_EVENTS)
    // Its street, from the household nearest to where the lift happened.
    const k = this.#key
    if (k) {
      getJson<MapHousehold>(`/api/v1/map/nearest?lat=${lift.lat}&lon=${lift.lon}`, k)
        .then((h) => { this.events = this.events.map((e) => (e.key === key ? { ...e, uprn: h.uprn, street: h.street } : e)) })
        .catch(() => undefined)
    }
  }

  /** Sensors fall silent without an event: the hours-silent figures move on, and heard bins are checked again. */
  recheckAll(now = Date.now()): void {
    for (const [deviceId, bin] of this.liveBins) {
      const listed = this.alerts.find((a) => a.deviceId === deviceId)
      if (listed) this.#setAlerts(deviceId, this.#kindsOf(bin, now), bin, listed, now)
    }
    this.revision++
  }

  /** Choose a household by UPRN (null: none); its bins are fetched from the same snapshot. */
  async select(uprn: number | null): Promise<void> {
    if (uprn === null || !this.#key) {
      this.selected = null
      this.revision++
      return
    }
    if (this.selected?.uprn === uprn) return
    const h = await getJson<MapHousehold>(`/api/v1/map/households/${uprn}`, this.#key)
    this.selected = this.#withLive(h)
    this.revision++
  }

  /** Choose the household nearest to a point (a lift on the feed). */
  async selectNear(lat: number, lon: number): Promise<void> {
    if (!this.#key) return
    try {
      this.selected = this.#withLive(await getJson<MapHousehold>(`/api/v1/map/nearest?lat=${lat}&lon=${lon}`, this.#key))
      this.revision++
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err
    }
  }

  #withLive(h: MapHousehold): MapHousehold {
    const now = Date.now()
    return { ...h, bins: h.bins.map((b) => {
      const live = b.deviceId === null ? undefined : this.liveBins.get(b.deviceId)
      return live ? { ...b, ...live, alerts: this.#kindsOf(live, now) } : b
    }) }
  }

  /** The band (index into FILL_BANDS) of a household drawn from a tile, its bins corrected by what the live feed said since. */
  bandOf(devices: readonly (string | null)[], streams: readonly number[], fills: readonly (number | null)[]): number {
    const overflow = this.overview?.thresholds.overflowPct ?? 90
    let band = 0
    for (let i = 0; i < fills.length; i++) {
      if (this.stream !== 'all' && streams[i] !== this.stream) continue
      const d = devices[i]
      const live = d ? this.liveBins.get(d) : undefined
      band = Math.max(band, fillBand(live ? live.fillPct : fills[i]!, overflow))
    }
    return band
  }

  /** Households by fill band, of the chosen colouring, as of the snapshot. */
  bandCounts(): number[] {
    const o = this.overview
    if (!o) return [0, 0, 0, 0, 0]
    return this.stream === 'all' ? o.bands.all : (o.bands.byStream[this.stream] ?? o.bands.all)
  }

  /** The street lines, for the why-missed hotspot map (once). */
  loadStreets(key: string): Promise<void> {
    this.#streets ??= getJson<{ streets: MapStreet[] }>('/api/v1/map/streets', key)
      .then((r) => { this.streetPaths = r.streets.map((s) => s.path) })
      .catch(() => { this.#streets = null })
    return this.#streets
  }

  stop(): void {
    this.#abort?.abort()
    if (this.#refresh) clearInterval(this.#refresh)
    this.#refresh = null
  }
}

function alertValue(kind: AlertKind, b: BinNow, now: number): number | null {
  switch (kind) {
    case 'fire': return b.tempC
    case 'overflow': return b.fillPct
    case 'offline': return b.readingAt === null ? null : Math.round((now - b.readingAt * 1000) / 360_000) / 10
    case 'low_battery': return b.batteryV
  }
}

const round5 = (v: number) => Math.round(v * 1e5) / 1e5
const liftKey = (vehicleId: string | null, tsSeconds: number, lat: number, lon: number) => `${vehicleId ?? '?'}|${tsSeconds}|${lat}|${lon}`
