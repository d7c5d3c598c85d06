// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- vt-pbf ships no types; svelte-check (which reads this file through the schemas) must see the declaration too
/// <reference path="./vt-pbf.d.ts" />
// What the map needs from one snapshot of the city, for a city of any size: the overview for the
// first screen (counts, fill bands, alerts, vehicles, the latest lifts), one household's bins, and
// Mapbox vector tiles of the households and streets, so that a browser is sent only what it shows.
// Households are clustered below street zoom (supercluster: each cluster carries its households'
// counts by fill band and its most urgent alert); streets are sliced with geojson-vt; both are
// encoded with vt-pbf. Indexes are built on first use and kept with the snapshot.
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import GeoJSONVT from 'geojson-vt'
import Supercluster from 'supercluster'
import vtpbf from 'vt-pbf'
import { ALERT_KINDS, type AlertKind } from '../../core/bin-alerts.ts'
import { FILL_BAND_COUNT, fillBand } from '../../core/fill-band.ts'
import type { CityMap, MapAlertRow, MapHousehold, MapLiftRow, MapOverview } from '../schemas/map.ts'

const gzip = promisify(gzipCb)
export const TILE_EXTENT = 4096
/** From this zoom on, tiles hold every household; below it, clusters. */
export const HOUSEHOLDS_FROM_ZOOM = 16
const CLUSTER_RADIUS_PX = 18
const ALERT_ROWS_PER_KIND = 200
const LIFT_ROWS = 200
const NO_ALERT = ALERT_KINDS.length
const rank = new Map<AlertKind, number>(ALERT_KINDS.map((k, i) => [k, i]))

/**
 * Properties of a household point in a tile: UPRN, fill band, most urgent alert (index into
 * ALERT_KINDS, 4 none), and its bins comma-separated: sensors (empty: none), streams (index into the
 * overview's streams), fills (empty: no reading), so that the dashboard recolours it from live readings.
 */
interface PointProps { u: number; b: number; a: number; d: string; s: string; f: string }
/** Properties of a cluster: households by band (n0…n4) and the most urgent alert among them. */
interface ClusterProps { n0: number; n1: number; n2: number; n3: number; n4: number; a: number }

export type Colour = 'all' | number

export class CityIndex {
  readonly map: CityMap
  readonly generation: string
  #binStart: Int32Array
  #byUprn = new Map<number, number>()
  #byDevice = new Map<string, number>()
  #alertsByBin = new Map<number, AlertKind[]>()
  #worstAlert: Uint8Array
  #bands = new Map<Colour, Uint8Array>()
  #clusters = new Map<Colour, Supercluster<PointProps, ClusterProps>>()
  #streets: GeoJSONVT | null = null
  #overview: MapOverview | null = null
  #overviewJson: { body: string; gzipped: Promise<Buffer> } | null = null

  constructor(map: CityMap) {
    this.map = map
    this.generation = String(Date.parse(map.generatedAt))
    const nh = map.households.uprn.length
    map.households.uprn.forEach((u, h) => this.#byUprn.set(u, h))
    const start = new Int32Array(nh + 1)
    for (const h of map.bins.household) start[h + 1]!++
    for (let h = 0; h < nh; h++) start[h + 1]! += start[h]!
    this.#binStart = start
    map.bins.deviceId.forEach((d, i) => { if (d !== null) this.#byDevice.set(d, i) })
    this.#worstAlert = new Uint8Array(nh).fill(NO_ALERT)
    for (const a of map.alerts) {
      const list = this.#alertsByBin.get(a.bin) ?? []
      list.push(a.kind)
      this.#alertsByBin.set(a.bin, list)
      const h = map.bins.household[a.bin]!
      this.#worstAlert[h] = Math.min(this.#worstAlert[h]!, rank.get(a.kind)!)
    }
  }

  /**
   * Build what the first screen asks for ahead: the overview and the city-zoom tiles' indexes. Each
   * part is a few seconds of one core for a 210,000-household city: between parts the event loop
   * answers the requests waiting (from the previous snapshot, still current until this one is ready).
   */
  async prepare(): Promise<void> {
    const next = () => new Promise<void>((resolve) => setImmediate(resolve))
    void this.overviewEncoded().gzipped.catch(() => undefined) // a failure shows when a request awaits it
    await next()
    this.#clusterIndex('all')
    await next()
    this.#streetIndex()
  }

  /** Each household's band: its fullest bin, of one stream or of all. */
  bands(colour: Colour): Uint8Array {
    let out = this.#bands.get(colour)
    if (out) return out
    const { bins, thresholds } = this.map
    out = new Uint8Array(this.map.households.uprn.length)
    for (let h = 0; h < out.length; h++) {
      let band = 0
      for (let i = this.#binStart[h]!; i < this.#binStart[h + 1]!; i++) {
        if (colour !== 'all' && bins.stream[i] !== colour) continue
        band = Math.max(band, fillBand(bins.fillPct[i]!, thresholds.overflowPct))
      }
      out[h] = band
    }
    this.#bands.set(colour, out)
    return out
  }

  overview(): MapOverview {
    if (this.#overview) return this.#overview
    const m = this.map
    const count = (bands: Uint8Array) => {
      const c = new Array<number>(FILL_BAND_COUNT).fill(0)
      for (const b of bands) c[b]!++
      return c
    }
    const counts = Object.fromEntries(ALERT_KINDS.map((k) => [k, 0])) as Record<AlertKind, number>
    const rows: MapAlertRow[] = []
    for (const a of m.alerts) { // sorted most urgent kind first
      if (counts[a.kind]++ >= ALERT_ROWS_PER_KIND) continue
      const h = m.bins.household[a.bin]!
      rows.push({ kind: a.kind, value: a.value, uprn: m.households.uprn[h]!, street: this.#streetName(h), stream: m.streams[m.bins.stream[a.bin]!] ?? '?', binId: m.bins.binId[a.bin]!, deviceId: m.bins.deviceId[a.bin]!, lat: m.households.lat[h]!, lon: m.households.lon[h]! })
    }
    const lifts: MapLiftRow[] = []
    const l = m.lifts
    for (let i = 0; i < Math.min(LIFT_ROWS, l.ts.length); i++) {
      const h = l.uprn[i] === null ? undefined : this.#byUprn.get(l.uprn[i]!)
      lifts.push({ ts: l.ts[i]!, vehicleId: l.vehicleId[i]!, binId: l.binId[i]!, uprn: l.uprn[i]!, street: h === undefined ? null : this.#streetName(h), lat: l.lat[i]!, lon: l.lon[i]!, outcome: l.outcome[i]!, weightKg: l.weightKg[i]! })
    }
    this.#overview = {
      generatedAt: m.generatedAt, generation: this.generation, hours: m.hours, bounds: m.bounds, streams: m.streams,
      counts: { households: m.households.uprn.length, bins: m.bins.binId.length, vehicles: m.vehicles.length },
      bands: { all: count(this.bands('all')), byStream: m.streams.map((_, s) => count(this.bands(s))) },
      alerts: { counts, rows, perKind: ALERT_ROWS_PER_KIND },
      vehicles: m.vehicles, lifts, thresholds: m.thresholds, baseMap: m.baseMap,
    }
    return this.#overview
  }

  /** The overview as JSON and gzipped, made once per snapshot (every dashboard opening asks for it). */
  overviewEncoded(): { body: string; gzipped: Promise<Buffer> } {
    if (this.#overviewJson) return this.#overviewJson
    const body = JSON.stringify(this.overview())
    this.#overviewJson = { body, gzipped: gzip(body, { level: 6 }) }
    return this.#overviewJson
  }

  /** One household's bins with their last readings and alerts; null when the UPRN is not on the map. */
  household(uprn: number): MapHousehold | null {
    const h = this.#byUprn.get(uprn)
    return h === undefined ? null : this.#household(h)
  }

  /** The household whose bin carries this sensor. */
  householdOfDevice(deviceId: string): MapHousehold | null {
    const bin = this.#byDevice.get(deviceId)
    return bin === undefined ? null : this.#household(this.map.bins.household[bin]!)
  }

  /** The household nearest to a point, within `withinM` metres. */
  nearest(lat: number, lon: number, withinM: number): MapHousehold | null {
    const { lat: la, lon: lo } = this.map.households
    const kx = Math.cos((lat * Math.PI) / 180)
    let best = -1
    let bestD = (withinM / 111_320) ** 2
    for (let h = 0; h < la.length; h++) {
      const d = (la[h]! - lat) ** 2 + ((lo[h]! - lon) * kx) ** 2
      if (d < bestD) { bestD = d; best = h }
    }
    return best < 0 ? null : this.#household(best)
  }

  streetLines(): { generatedAt: string; streets: CityMap['streets'] } {
    return { generatedAt: this.map.generatedAt, streets: this.map.streets }
  }

  /** The vector tile z/x/y: layer `households` (clusters below HOUSEHOLDS_FROM_ZOOM, then points) and layer `streets` (lines with their names). */
  tile(z: number, x: number, y: number, colour: Colour): Uint8Array {
    const households = this.#clusterIndex(colour).getTile(z, x, y) ?? { features: [] }
    const streets = this.#streetIndex().getTile(z, x, y) ?? { features: [] }
    return vtpbf.fromGeojsonVt({ households, streets } as never, { version: 2, extent: TILE_EXTENT })
  }

  #clusterIndex(colour: Colour): Supercluster<PointProps, ClusterProps> {
    let index = this.#clusters.get(colour)
    if (index) return index
    const bands = this.bands(colour)
    const { uprn, lat, lon } = this.map.households
    const { deviceId, stream, fillPct } = this.map.bins
    const list = (h: number, f: (i: number) => string) => {
      const out: string[] = []
      for (let i = this.#binStart[h]!; i < this.#binStart[h + 1]!; i++) out.push(f(i))
      return out.join(',')
    }
    const points = uprn.map((u, h) => ({
      type: 'Feature' as const, geometry: { type: 'Point' as const, coordinates: [lon[h]!, lat[h]!] },
      properties: { u, b: bands[h]!, a: this.#worstAlert[h]!, d: list(h, (i) => deviceId[i] ?? ''), s: list(h, (i) => String(stream[i])), f: list(h, (i) => (fillPct[i] === null ? '' : String(fillPct[i]))) },
    }))
    index = new Supercluster<PointProps, ClusterProps>({
      radius: CLUSTER_RADIUS_PX * (TILE_EXTENT / 256), extent: TILE_EXTENT, maxZoom: HOUSEHOLDS_FROM_ZOOM - 1, minPoints: 2,
      map: (p) => ({ n0: p.b === 0 ? 1 : 0, n1: p.b === 1 ? 1 : 0, n2: p.b === 2 ? 1 : 0, n3: p.b === 3 ? 1 : 0, n4: p.b === 4 ? 1 : 0, a: p.a }),
      reduce: (acc, p) => { acc.n0 += p.n0; acc.n1 += p.n1; acc.n2 += p.n2; acc.n3 += p.n3; acc.n4 += p.n4; acc.a = Math.min(acc.a, p.a) },
    }).load(points)
    this.#clusters.set(colour, index)
    return index
  }

  #streetIndex(): GeoJSONVT {
    this.#streets ??= new GeoJSONVT({
      type: 'FeatureCollection',
      features: this.map.streets.map((s) => {
        const coordinates: [number, number][] = []
        for (let k = 0; k + 1 < s.path.length; k += 2) coordinates.push([s.path[k]!, s.path[k + 1]!])
        return { type: 'Feature', properties: { name: s.name }, geometry: coordinates.length > 1 ? { type: 'LineString', coordinates } : { type: 'Point', coordinates: coordinates[0] ?? [0, 0] } }
      }),
    }, { maxZoom: 19, indexMaxZoom: 6, extent: TILE_EXTENT, buffer: 64, tolerance: 3 })
    return this.#streets
  }

  #streetName(h: number): string | null {
    const s = this.map.households.street[h] ?? -1
    return s >= 0 ? (this.map.streets[s]?.name ?? null) : null
  }

  #household(h: number): MapHousehold {
    const m = this.map
    const b = m.bins
    const bins: MapHousehold['bins'] = []
    for (let i = this.#binStart[h]!; i < this.#binStart[h + 1]!; i++) {
      bins.push({ binId: b.binId[i]!, stream: m.streams[b.stream[i]!] ?? '?', deviceId: b.deviceId[i]!, online: b.online[i]!, fillPct: b.fillPct[i]!, readingAt: b.readingAt[i]!, status: b.status[i]!, tempC: b.tempC[i]!, batteryV: b.batteryV[i]!, alerts: this.#alertsByBin.get(i) ?? [] })
    }
    const ward = m.households.ward[h]!
    return { generatedAt: m.generatedAt, uprn: m.households.uprn[h]!, street: this.#streetName(h), ward: ward >= 0 ? (m.wards[ward] ?? null) : null, lat: m.households.lat[h]!, lon: m.households.lon[h]!, bins }
  }
}
