// The city's households and streets from the map API's vector tiles, drawn on one canvas: the tiles
// of the view (at the map's zoom) are fetched once each, decoded with @mapbox/vector-tile, kept, and
// drawn together in one pass after every move, zoom or change (coalesced to one frame). Below street
// zoom a tile holds clusters (circles sized by their households, coloured by the band that at least a
// quarter of them reach), from street zoom one point per household. Street names are written along
// the lines when the registry's streets are drawn (no tile server, or offline).
import L from 'leaflet'
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'
import { drawStreetLabels, type LabelLine } from './street-labels.ts'

export interface TileDrawing {
  /** Fetch one tile's bytes for this colouring and snapshot generation. */
  fetchTile(z: number, x: number, y: number, colour: 'all' | number, generation: string, signal: AbortSignal): Promise<ArrayBuffer>
  generation(): string
  colour(): 'all' | number
  /** False while a tile server draws the streets (the base map). */
  drawStreets(): boolean
  fills: readonly string[]
  rings: readonly string[]
  /** A household point's band, corrected by the live feed. */
  band(devices: readonly (string | null)[], streams: readonly number[], fills: readonly (number | null)[]): number
  selected(): { uprn: number; lat: number; lon: number } | null
}

interface Cluster { x: number; y: number; count: number; bands: number[]; alert: number }
interface Household { x: number; y: number; uprn: number; alert: number; devices: (string | null)[]; streams: number[]; fills: (number | null)[] }
interface Street { name: string; points: Float64Array }
/** A decoded tile: positions in world pixels at the tile's zoom. */
interface Decoded { clusters: Cluster[]; households: Household[]; streets: Street[] }

const MAX_TILES = 300
const TILE = 256

export type Hit = { kind: 'household'; uprn: number } | { kind: 'cluster'; lat: number; lon: number } | null

export class CityTileLayer extends L.Layer {
  #canvas: HTMLCanvasElement | null = null
  #frame = 0
  #drawing: TileDrawing
  #tiles = new Map<string, Decoded | Promise<void>>()
  /** The newest decoded tile of each place and colouring, of any snapshot: drawn while the new snapshot's tile is on its way (no blank flash every minute). */
  #lastGood = new Map<string, Decoded>()
  #abort = new AbortController()
  #visible: { z: number; keys: string[] } = { z: 0, keys: [] }
  #firstComplete = false

  constructor(drawing: TileDrawing) {
    super()
    this.#drawing = drawing
  }

  override onAdd(map: L.Map): this {
    this.#canvas = L.DomUtil.create('canvas', 'city-canvas') as HTMLCanvasElement
    this.#canvas.setAttribute('aria-hidden', 'true')
    map.getPanes().overlayPane!.appendChild(this.#canvas)
    map.on('moveend zoomend resize viewreset', this.redraw, this)
    this.redraw()
    return this
  }

  override onRemove(map: L.Map): this {
    map.off('moveend zoomend resize viewreset', this.redraw, this)
    cancelAnimationFrame(this.#frame)
    this.#abort.abort()
    this.#canvas?.remove()
    this.#canvas = null
    return this
  }

  /** Redraw on the next frame; several calls in one frame draw once. */
  redraw(): this {
    if (this.#frame || !this._map) return this
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0
      this.#draw()
    })
    return this
  }

  #key(z: number, x: number, y: number): string {
    return `${this.#drawing.generation()}|${this.#drawing.colour()}|${z}/${x}/${y}`
  }

  /** The tiles covering the view at the map's zoom; missing ones are fetched, and the view redrawn as each arrives. */
  #tilesInView(map: L.Map): { z: number; keys: string[]; missing: number } {
    const z = Math.max(0, Math.min(19, Math.round(map.getZoom())))
    const b = map.getPixelBounds()
    const scale = map.getZoomScale(z, map.getZoom())
    const n = 2 ** z
    const x0 = Math.max(0, Math.floor((b.min!.x * scale) / TILE)), x1 = Math.min(n - 1, Math.floor((b.max!.x * scale) / TILE))
    const y0 = Math.max(0, Math.floor((b.min!.y * scale) / TILE)), y1 = Math.min(n - 1, Math.floor((b.max!.y * scale) / TILE))
    const keys: string[] = []
    let missing = 0
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) {
        const key = this.#key(z, x, y)
        keys.push(key)
        const have = this.#tiles.get(key)
        if (have && !(have instanceof Promise)) continue
        missing++
        if (!have) this.#fetch(key, z, x, y)
      }
    }
    return { z, keys, missing }
  }

  #fetch(key: string, z: number, x: number, y: number): void {
    const d = this.#drawing
    const pending = d.fetchTile(z, x, y, d.colour(), d.generation(), this.#abort.signal)
      .then((bytes) => {
        const decoded = decode(bytes, z, x, y)
        this.#tiles.set(key, decoded)
        this.#lastGood.delete(place(key))
        this.#lastGood.set(place(key), decoded)
        this.#trim()
        this.redraw()
      })
      .catch(() => {
        // Asked again a second later (or at the next move).
        this.#tiles.delete(key)
        if (!this.#abort.signal.aborted) setTimeout(() => this.redraw(), 1000)
      })
    this.#tiles.set(key, pending)
  }

  /** Keep the newest tiles only (Map keeps insertion order). */
  #trim(): void {
    const keep = new Set(this.#visible.keys)
    for (const key of this.#tiles.keys()) {
      if (this.#tiles.size <= MAX_TILES) break
      if (!keep.has(key)) this.#tiles.delete(key)
    }
    for (const key of this.#lastGood.keys()) {
      if (this.#lastGood.size <= MAX_TILES) break
      this.#lastGood.delete(key)
    }
  }

  /** World pixels at zoom z to container pixels: x * scale - ox. */
  #transform(map: L.Map, z: number) {
    const scale = map.getZoomScale(map.getZoom(), z)
    const origin = map.getPixelOrigin()
    const pane = map.layerPointToContainerPoint(L.point(0, 0))
    return { scale, ox: origin.x - pane.x, oy: origin.y - pane.y }
  }

  /** What is under a container point: a household (from street zoom) or a cluster (zoom in on it). */
  hitAt(point: L.Point, radius = 10): Hit {
    const map = this._map
    if (!map) return null
    const { z, keys } = this.#visible
    const { scale, ox, oy } = this.#transform(map, z)
    let best: Hit = null
    let bestD = Infinity
    for (const key of keys) {
      const t = this.#tiles.get(key)
      if (!t || t instanceof Promise) continue
      for (const h of t.households) {
        const d = Math.hypot(h.x * scale - ox - point.x, h.y * scale - oy - point.y)
        if (d <= radius && d < bestD) { bestD = d; best = { kind: 'household', uprn: h.uprn } }
      }
      for (const c of t.clusters) {
        const d = Math.hypot(c.x * scale - ox - point.x, c.y * scale - oy - point.y)
        if (d <= clusterRadius(c.count) + 2 && d < bestD) {
          bestD = d
          const ll = map.unproject(L.point(c.x, c.y), z)
          best = { kind: 'cluster', lat: ll.lat, lon: ll.lng }
        }
      }
    }
    return best
  }

  #draw(): void {
    const map = this._map
    const canvas = this.#canvas
    if (!map || !canvas) return
    const view = this.#tilesInView(map)
    this.#visible = view
    const size = map.getSize()
    const dpr = window.devicePixelRatio || 1
    L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint(L.point(0, 0)))
    canvas.width = Math.round(size.x * dpr)
    canvas.height = Math.round(size.y * dpr)
    canvas.style.width = `${size.x}px`
    canvas.style.height = `${size.y}px`
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.clearRect(0, 0, size.x, size.y)
    const { scale, ox, oy } = this.#transform(map, view.z)
    const zoom = map.getZoom()
    const d = this.#drawing
    const tiles = view.keys.map((k) => {
      const t = this.#tiles.get(k)
      return t && !(t instanceof Promise) ? t : this.#lastGood.get(place(k))
    }).filter((t): t is Decoded => t !== undefined)
    const ownStreets = d.drawStreets()

    // Streets: every tile's pieces in one path; names once each, on the longest piece in view.
    const named = new Map<string, Float64Array>()
    if (ownStreets) {
      ctx.strokeStyle = '#9aa5b1'
      ctx.lineCap = 'round'
      ctx.lineJoin = 'round'
      ctx.lineWidth = zoom >= 16 ? 6 : zoom >= 14 ? 3 : zoom >= 12 ? 1.5 : 0.8
      ctx.beginPath()
      for (const t of tiles) {
        for (const s of t.streets) {
          const p = new Float64Array(s.points.length)
          for (let k = 0; k < p.length; k += 2) {
            p[k] = s.points[k]! * scale - ox
            p[k + 1] = s.points[k + 1]! * scale - oy
            if (k === 0) ctx.moveTo(p[0]!, p[1]!)
            else ctx.lineTo(p[k]!, p[k + 1]!)
          }
          const had = named.get(s.name)
          if (zoom >= 15 && s.name && (!had || span(p) > span(had))) named.set(s.name, p)
        }
      }
      ctx.stroke()
    }

    let drawn = 0
    const fills = d.fills.map(() => new Path2D())
    const rings = d.rings.map(() => new Path2D())
    const counts: { x: number; y: number; r: number; n: number }[] = []
    const r = zoom >= 18 ? 6 : zoom >= 17 ? 5 : 3.5
    for (const t of tiles) {
      for (const c of t.clusters) {
        const x = c.x * scale - ox, y = c.y * scale - oy
        const cr = clusterRadius(c.count)
        if (x < -cr || y < -cr || x > size.x + cr || y > size.y + cr) continue
        drawn += c.count
        const path = fills[clusterBand(c.bands)]!
        path.moveTo(x + cr, y)
        path.arc(x, y, cr, 0, Math.PI * 2)
        if (c.alert === 0) { rings[0]!.moveTo(x + cr + 2.5, y); rings[0]!.arc(x, y, cr + 2.5, 0, Math.PI * 2) }
        if (cr >= 9) counts.push({ x, y, r: cr, n: c.count })
      }
      for (const h of t.households) {
        const x = h.x * scale - ox, y = h.y * scale - oy
        if (x < -r || y < -r || x > size.x + r || y > size.y + r) continue
        drawn++
        const path = fills[d.band(h.devices, h.streams, h.fills)]!
        path.moveTo(x + r, y)
        path.arc(x, y, r, 0, Math.PI * 2)
        if (h.alert < d.rings.length) { rings[h.alert]!.moveTo(x + r + 2.5, y); rings[h.alert]!.arc(x, y, r + 2.5, 0, Math.PI * 2) }
      }
    }
    ctx.globalAlpha = 0.9
    fills.forEach((path, k) => { ctx.fillStyle = d.fills[k]!; ctx.fill(path) })
    ctx.globalAlpha = 1
    ctx.lineWidth = 2
    rings.forEach((path, k) => { ctx.strokeStyle = d.rings[k]!; ctx.stroke(path) })
    if (counts.length > 0) {
      ctx.font = '600 10px system-ui, sans-serif'
      ctx.textAlign = 'center'
      ctx.textBaseline = 'middle'
      ctx.fillStyle = '#fff'
      for (const c of counts) ctx.fillText(c.n >= 10_000 ? `${Math.round(c.n / 1000)}k` : c.n >= 1000 ? `${(c.n / 1000).toFixed(1)}k` : String(c.n), c.x, c.y)
    }
    const labels: LabelLine[] = [...named].map(([name, points]) => ({ name, points }))
    canvas.dataset.labels = String(labels.length > 0 ? drawStreetLabels(ctx, labels, size.x, size.y) : 0)

    const sel = d.selected()
    if (sel) {
      const p = map.latLngToContainerPoint([sel.lat, sel.lon])
      ctx.beginPath()
      ctx.arc(p.x, p.y, r + 6, 0, Math.PI * 2)
      ctx.lineWidth = 3
      ctx.strokeStyle = '#1d4ed8'
      ctx.stroke()
    }
    // For people reading the DOM (tests, the benchmark): households on screen, and whether every tile of the view is in.
    canvas.dataset.complete = String(view.missing === 0)
    if (view.missing === 0) {
      canvas.dataset.drawn = String(drawn)
      canvas.dataset.completeDraws = String(Number(canvas.dataset.completeDraws ?? 0) + 1)
      if (!this.#firstComplete) {
        this.#firstComplete = true
        canvas.dataset.drawnAt = String(Math.round(performance.now()))
      }
    }
  }
}

/** A tile key without its snapshot generation: colouring and z/x/y. */
const place = (key: string) => key.slice(key.indexOf('|') + 1)

/** Cluster circles grow with the square root of their households. */
const clusterRadius = (n: number) => Math.min(26, 5 + Math.sqrt(n) * 0.6)

/** The band at least a quarter of a cluster's households reach: a cluster turns red when a quarter of it is full. */
function clusterBand(bands: number[]): number {
  const total = bands.reduce((a, b) => a + b, 0)
  let atLeast = 0
  for (let b = bands.length - 1; b > 0; b--) {
    atLeast += bands[b]!
    if (atLeast >= total * 0.25) return b
  }
  return 0
}

function span(p: Float64Array): number {
  let len = 0
  for (let k = 2; k < p.length; k += 2) len += Math.hypot(p[k]! - p[k - 2]!, p[k + 1]! - p[k - 1]!)
  return len
}

function decode(bytes: ArrayBuffer, z: number, x: number, y: number): Decoded {
  const tile = new VectorTile(new PbfReader(new Uint8Array(bytes)))
  const out: Decoded = { clusters: [], households: [], streets: [] }
  const hh = tile.layers.households
  if (hh) {
    const k = TILE / hh.extent
    for (let i = 0; i < hh.length; i++) {
      const f = hh.feature(i)
      const p = f.properties as Record<string, string | number | boolean>
      const pt = f.loadGeometry()[0]![0]!
      // A tile repeats its neighbours' features in its buffer: each household or cluster is kept by the tile it lies in.
      if (pt.x < 0 || pt.y < 0 || pt.x >= hh.extent || pt.y >= hh.extent) continue
      const wx = x * TILE + pt.x * k, wy = y * TILE + pt.y * k
      if (p.cluster) out.clusters.push({ x: wx, y: wy, count: Number(p.point_count), bands: [Number(p.n0), Number(p.n1), Number(p.n2), Number(p.n3), Number(p.n4)], alert: Number(p.a) })
      else {
        const split = (v: unknown) => (v === undefined || v === '' ? [] : String(v).split(','))
        const devices = split(p.d).map((s) => s || null)
        const fills = split(p.f).map((s) => (s === '' ? null : Number(s)))
        while (fills.length < devices.length) fills.push(null)
        out.households.push({ x: wx, y: wy, uprn: Number(p.u), alert: Number(p.a), devices, streams: split(p.s).map(Number), fills })
      }
    }
  }
  const st = tile.layers.streets
  if (st) {
    const k = TILE / st.extent
    for (let i = 0; i < st.length; i++) {
      const f = st.feature(i)
      for (const line of f.loadGeometry()) {
        const points = new Float64Array(line.length * 2)
        line.forEach((pt, j) => { points[j * 2] = x * TILE + pt.x * k; points[j * 2 + 1] = y * TILE + pt.y * k })
        out.streets.push({ name: String(f.properties.name ?? ''), points })
      }
    }
  }
  void z
  return out
}
