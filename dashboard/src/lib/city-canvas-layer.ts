// Streets and households drawn on one canvas: a whole city of households as Leaflet markers would
// be tens of thousands of objects; here they are two typed arrays of projected points, redrawn in
// one pass after every move, zoom or data change (coalesced to one frame).
import L from 'leaflet'
import { drawStreetLabels, type LabelLine } from './street-labels.ts'

export interface CityDrawing {
  /** Flattened [lon, lat, …] street polylines. */
  streets: number[][]
  /** Name of each street line, written along it from zoom 15 on. */
  streetNames: readonly string[]
  /** False while a tile server draws the streets (the base map); true offline or unconfigured. */
  drawStreets(): boolean
  lat: number[]
  lon: number[]
  /** Fill colours by band, and household h's band (index into it). */
  fills: readonly string[]
  band(h: number): number
  /** Ring colours by alert kind, most urgent first, and household h's ring (index into it, -1 for none). */
  rings: readonly string[]
  ring(h: number): number
  selected(): number | null
}

export class CityCanvasLayer extends L.Layer {
  #canvas: HTMLCanvasElement | null = null
  #frame = 0
  #drawing: CityDrawing
  /** Household positions projected at zoom 0 (Web Mercator world pixels). */
  #px = new Float64Array(0)
  #py = new Float64Array(0)
  #streets: Float64Array[] = []

  constructor(drawing: CityDrawing) {
    super()
    this.#drawing = drawing
    this.setDrawing(drawing)
  }

  setDrawing(drawing: CityDrawing): void {
    this.#drawing = drawing
    const n = drawing.lat.length
    this.#px = new Float64Array(n)
    this.#py = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const p = L.CRS.EPSG3857.latLngToPoint(L.latLng(drawing.lat[i]!, drawing.lon[i]!), 0)
      this.#px[i] = p.x
      this.#py[i] = p.y
    }
    this.#streets = drawing.streets.map((path) => {
      const out = new Float64Array(path.length)
      for (let k = 0; k < path.length; k += 2) {
        const p = L.CRS.EPSG3857.latLngToPoint(L.latLng(path[k + 1]!, path[k]!), 0)
        out[k] = p.x
        out[k + 1] = p.y
      }
      return out
    })
    this.redraw()
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

  /** Index of the household drawn nearest to a container point, within `radius` pixels. */
  householdAt(point: L.Point, radius = 8): number | null {
    const map = this._map
    if (!map) return null
    const { scale, ox, oy } = this.#transform(map)
    let best: number | null = null
    let bestD = radius * radius
    for (let i = 0; i < this.#px.length; i++) {
      const dx = this.#px[i]! * scale - ox - point.x
      const dy = this.#py[i]! * scale - oy - point.y
      const d = dx * dx + dy * dy
      if (d <= bestD) { bestD = d; best = i }
    }
    return best
  }

  /** World pixels at zoom 0 to container pixels: x * scale - ox. */
  #transform(map: L.Map) {
    const scale = map.getZoomScale(map.getZoom(), 0)
    const origin = map.getPixelOrigin()
    const pane = map.layerPointToContainerPoint(L.point(0, 0))
    return { scale, ox: origin.x - pane.x, oy: origin.y - pane.y }
  }

  #draw(): void {
    const map = this._map
    const canvas = this.#canvas
    if (!map || !canvas) return
    const size = map.getSize()
    const dpr = window.devicePixelRatio || 1
    // The canvas covers the visible container; it sits in the map pane, which moves when panning.
    L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint(L.point(0, 0)))
    canvas.width = Math.round(size.x * dpr)
    canvas.height = Math.round(size.y * dpr)
    canvas.style.width = `${size.x}px`
    canvas.style.height = `${size.y}px`
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.clearRect(0, 0, size.x, size.y)
    const { scale, ox, oy } = this.#transform(map)
    const zoom = map.getZoom()

    const streets = this.#drawing.drawStreets()
    if (streets) {
      ctx.strokeStyle = '#9aa5b1'
      ctx.lineCap = 'round'
      ctx.lineJoin = 'round'
      ctx.lineWidth = zoom >= 16 ? 6 : zoom >= 14 ? 3 : 1.5
      ctx.beginPath()
      for (const s of this.#streets) {
        for (let k = 0; k < s.length; k += 2) {
          const x = s[k]! * scale - ox
          const y = s[k + 1]! * scale - oy
          if (k === 0) ctx.moveTo(x, y)
          else ctx.lineTo(x, y)
        }
      }
      ctx.stroke()
    }

    // One path per colour: a few fill calls for the whole city instead of one per household.
    const d = this.#drawing
    const r = zoom >= 17 ? 5 : zoom >= 15 ? 3.5 : zoom >= 13 ? 2.2 : 1.5
    const fills = d.fills.map(() => new Path2D())
    const rings = d.rings.map(() => new Path2D())
    let drawn = 0
    for (let i = 0; i < this.#px.length; i++) {
      const x = this.#px[i]! * scale - ox
      const y = this.#py[i]! * scale - oy
      if (x < -r || y < -r || x > size.x + r || y > size.y + r) continue
      drawn++
      const ring = d.ring(i)
      const fill = fills[d.band(i)]
      fill?.moveTo(x + r, y)
      fill?.arc(x, y, r, 0, Math.PI * 2)
      // Zoomed out, rings would hide the fill colours: only fires are ringed until zoom 14.
      if (ring === 0 || (ring > 0 && zoom >= 14)) {
        rings[ring]?.moveTo(x + r + 2.5, y)
        rings[ring]?.arc(x, y, r + 2.5, 0, Math.PI * 2)
      }
    }
    fills.forEach((path, k) => {
      ctx.fillStyle = d.fills[k]!
      ctx.fill(path)
    })
    ctx.lineWidth = 2
    rings.forEach((path, k) => {
      ctx.strokeStyle = d.rings[k]!
      ctx.stroke(path)
    })
    if (streets && zoom >= 15) {
      const lines: LabelLine[] = []
      this.#streets.forEach((s, k) => {
        const points = new Float64Array(s.length)
        for (let j = 0; j < s.length; j += 2) { points[j] = s[j]! * scale - ox; points[j + 1] = s[j + 1]! * scale - oy }
        lines.push({ name: this.#drawing.streetNames[k] ?? '', points })
      })
      canvas.dataset.labels = String(drawStreetLabels(ctx, lines.filter((l) => l.name), size.x, size.y))
    } else canvas.dataset.labels = '0'
    // How many households are on screen, for people reading the DOM (tests, the benchmark).
    canvas.dataset.drawn = String(drawn)
    canvas.dataset.drawnAt ??= String(Math.round(performance.now()))
    const sel = this.#drawing.selected()
    if (sel !== null && sel < this.#px.length) {
      ctx.beginPath()
      ctx.arc(this.#px[sel]! * scale - ox, this.#py[sel]! * scale - oy, r + 6, 0, Math.PI * 2)
      ctx.lineWidth = 3
      ctx.strokeStyle = '#1d4ed8'
      ctx.stroke()
    }
  }
}
