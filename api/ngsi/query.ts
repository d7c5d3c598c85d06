// The NGSI-LD query language (`q`) and geo-query (`georel`, `geometry`, `coordinates`) of ETSI GS
// CIM 009, the part of them a WasteContainer view needs, parsed into storage's condition tree.
//
//   q:      term (';' = AND, '|' = OR, parentheses), AND binding tighter than OR
//           term = attr | attr op value | attr == v1,v2,… | attr == from..to
//           op = == != > >= < <=; values are numbers or "quoted strings"
//           e.g. q=fillingLevel>0.8;wardId=="Central"   q=status=="lidOpen"|status=="burning"
//   geo:    georel=near;maxDistance==<metres> with geometry=Point&coordinates=[lon,lat]
//           georel=within | intersects | disjoint with geometry=Polygon|MultiPolygon (a bounding box
//           is a Polygon of five positions); intersects a point location is being within.
import type { ComparisonOp, Condition, GeoFilter, Ring } from '../../storage/waste-containers.ts'
import { NgsiLdError } from './problem.ts'

const bad = (detail: string) => new NgsiLdError('BadRequestData', detail)

const OPS: ComparisonOp[] = ['==', '!=', '>=', '<=', '>', '<']
const MAX_Q_TERMS = 50
const MAX_POSITIONS = 1000

class QParser {
  private i = 0
  private terms = 0
  constructor(private readonly s: string) {}

  parse(): Condition {
    const c = this.or()
    if (this.i < this.s.length) throw bad(`q: unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 10))} at position ${this.i}`)
    return c
  }

  private or(): Condition {
    const parts = [this.and()]
    while (this.s[this.i] === '|') {
      this.i++
      parts.push(this.and())
    }
    return parts.length === 1 ? parts[0]! : { or: parts }
  }

  private and(): Condition {
    const parts = [this.term()]
    while (this.s[this.i] === ';') {
      this.i++
      parts.push(this.term())
    }
    return parts.length === 1 ? parts[0]! : { and: parts }
  }

  private term(): Condition {
    if (++this.terms > MAX_Q_TERMS) throw new NgsiLdError('TooComplexQuery', `q may hold at most ${MAX_Q_TERMS} terms`)
    if (this.s[this.i] === '(') {
      this.i++
      const inner = this.or()
      if (this.s[this.i] !== ')') throw bad(`q: a ( at position ${this.i} is not closed`)
      this.i++
      return inner
    }
    const attr = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0]
    if (!attr) throw bad(`q: an attribute name was expected at position ${this.i}`)
    this.i += attr.length
    if (this.s[this.i] === '.' || this.s[this.i] === '[') throw bad(`q: sub-attributes and properties of attributes (${attr}${this.s[this.i]}…) are not supported here`)
    if (this.i >= this.s.length || this.s[this.i] === ';' || this.s[this.i] === '|' || this.s[this.i] === ')') return { attr, exists: true }
    if (this.s.startsWith('~=', this.i) || this.s.startsWith('!~=', this.i)) throw bad('q: pattern matching (~=, !~=) is not supported here')
    const op = OPS.find((o) => this.s.startsWith(o, this.i))
    if (!op) throw bad(`q: an operator (${OPS.join(' ')}) was expected after ${attr}`)
    this.i += op.length
    const first = this.scalar()
    if (this.s.startsWith('..', this.i)) {
      this.i += 2
      const to = this.scalar()
      if (op !== '==' || typeof first !== 'number' || typeof to !== 'number') throw bad('q: a range (from..to) needs == and two numbers')
      return { attr, range: [first, to] }
    }
    const values = [first]
    while (this.s[this.i] === ',') {
      this.i++
      values.push(this.scalar())
    }
    return { attr, op, values }
  }

  private scalar(): string | number {
    if (this.s[this.i] === '"') {
      let out = ''
      for (this.i++; this.i < this.s.length; this.i++) {
        const ch = this.s[this.i]!
        if (ch === '\\' && this.i + 1 < this.s.length) out += this.s[++this.i]
        else if (ch === '"') {
          this.i++
          return out
        } else out += ch
      }
      throw bad('q: a quoted string is not closed')
    }
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.s.slice(this.i))?.[0]
    if (!num) throw bad(`q: a number or a "quoted string" was expected at position ${this.i}`)
    this.i += num.length
    return Number(num)
  }
}

export function parseQ(q: string): Condition {
  return new QParser(q.trim()).parse()
}

function parseCoordinates(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw bad('coordinates must be a JSON array, e.g. [-2.99,53.41] for a Point')
  }
}

const isPosition = (p: unknown): p is [number, number] =>
  Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number' && Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90

function ringsOf(geometry: string, coords: unknown): Ring[] {
  const polygons = geometry === 'Polygon' ? [coords] : geometry === 'MultiPolygon' && Array.isArray(coords) ? coords : null
  if (!polygons) throw bad('georel within, intersects and disjoint take geometry=Polygon or MultiPolygon')
  const rings: Ring[] = []
  for (const polygon of polygons) {
    if (!Array.isArray(polygon) || polygon.length === 0) throw bad(`coordinates of a ${geometry} must be arrays of linear rings`)
    for (const ring of polygon as unknown[]) {
      if (!Array.isArray(ring) || ring.length < 4 || !ring.every(isPosition)) throw bad('each linear ring needs at least four [lon, lat] positions in range')
      const [a, z] = [ring[0] as [number, number], ring[ring.length - 1] as [number, number]]
      if (a[0] !== z[0] || a[1] !== z[1]) throw bad('a linear ring must end where it starts (GeoJSON, RFC 7946 §3.1.6)')
      rings.push(ring.map((p: [number, number]) => [p[0], p[1]]))
    }
  }
  if (rings.reduce((n, r) => n + r.length, 0) > MAX_POSITIONS) throw new NgsiLdError('TooComplexQuery', `a geometry may hold at most ${MAX_POSITIONS} positions`)
  return rings
}

/** The geo-query of a request, or undefined when it has none. */
export function parseGeoQuery(p: { georel?: string; geometry?: string; coordinates?: string; geoproperty?: string }): GeoFilter | undefined {
  if (p.georel === undefined && p.geometry === undefined && p.coordinates === undefined) return undefined
  if (!p.georel || !p.geometry || !p.coordinates) throw bad('a geo-query needs georel, geometry and coordinates together')
  if (p.geoproperty && p.geoproperty !== 'location') throw bad(`geoproperty ${p.geoproperty}: a WasteContainer has only location`)
  const coords = parseCoordinates(p.coordinates)
  const [rel, ...mods] = p.georel.split(';')
  if (rel === 'near') {
    const max = mods.map((m) => /^maxDistance==(\d+(\.\d+)?)$/.exec(m)).find(Boolean)
    if (!max || mods.length !== 1) throw bad('georel near takes one modifier here: near;maxDistance==<metres>')
    if (p.geometry !== 'Point' || !isPosition(coords)) throw bad('georel near takes geometry=Point and coordinates=[lon,lat]')
    return { near: { lon: coords[0], lat: coords[1], maxDistanceM: Number(max[1]) } }
  }
  if (rel === 'within' || rel === 'intersects') return { within: ringsOf(p.geometry, coords) }
  if (rel === 'disjoint') return { disjoint: ringsOf(p.geometry, coords) }
  throw bad(`georel ${rel} is not supported here: use near;maxDistance==<m>, within, intersects or disjoint`)
}
