// Bins as the smart-city view sees them (api/ngsi): each active bin of a household that has
// coordinates, with its sensor's last reading, its last emptying, its next collection and the
// contractor that empties it. No UPRN, house number or RFID tag leaves through this query.
//
// Filters arrive as a small condition tree over named attributes (parsed from NGSI-LD `q` and
// geo-queries in api/ngsi/query.ts) and are compiled here into parameterised SQL: a page of bin ids
// is chosen first, then only that page is decorated with lifts, collections and contractors.
import { BIN_STATUSES } from '../core/contract/messages.ts'
import { FIWARE_WASTE_KIND } from '../core/contract/domain.ts'
import type { Queryable } from './database.ts'

export interface ContainerRow {
  binId: string
  /** The bin's opaque id for outside views (migration 094). */
  publicId: string
  stream: string
  capacityL: number | null
  colour: string | null
  communal: boolean
  createdAt: Date
  street: string | null
  postcode: string | null
  ward: string | null
  lat: number
  lon: number
  deviceId: string | null
  readingAt: Date | null
  fillPct: number | null
  tempC: number | null
  readingStatus: string | null
  lastEmptiedAt: Date | null
  nextCollectionBy: Date | null
  responsible: string | null
}

/** EU List of Waste codes of the streams that have one (Commission Decision 2000/532/EC, chapter 20). */
export const WASTE_CODE: Partial<Record<string, string>> = {
  residual: '20 03 01', // mixed municipal waste
  food: '20 01 08', // biodegradable kitchen and canteen waste
  garden: '20 02 01', // biodegradable waste (garden and park)
  glass: '20 01 02', // glass
  // Mixed dry recycling spans several codes (paper, plastics, metals): none is given.
}

const caseOf = (column: string, map: Partial<Record<string, string>>) =>
  `CASE ${column} ${Object.entries(map).map(([k, v]) => `WHEN '${k}' THEN '${v}'`).join(' ')} END`
const statusSql = `CASE WHEN d.device_id IS NOT NULL AND lr.status IN (${BIN_STATUSES.map((s) => `'${s}'`).join(', ')}) THEN lr.status ELSE 'unknown' END`
const lastEmptiedSql = `(SELECT max(le.ts) FROM lift_events le WHERE le.uprn = b.uprn AND le.bin_id = b.bin_id AND le.outcome = 'collected')`
const nextDueSql = (today: string) => `EXISTS (SELECT 1 FROM scheduled_collections sc WHERE sc.uprn = b.uprn AND sc.stream = b.stream AND NOT sc.cancelled AND sc.due_date >= ${today}::date)`
const responsibleSql = `EXISTS (SELECT 1 FROM round_households rh JOIN rounds r ON r.round_id = rh.round_id AND r.active AND r.stream = b.stream WHERE rh.uprn = b.uprn)`

/**
 * Every attribute the view can give: when an entity has it (`exists`, SQL over b = bins, h =
 * households, d = devices, lr = latest_readings), and for those a query may compare, its value.
 * Values are rounded as the representation rounds them (api/ngsi/waste-container.ts), so that a
 * filter and the value a client sees agree.
 */
interface AttributeSql {
  exists: string | ((today: string) => string)
  compare?: { type: 'number' | 'text'; value: string }
}

export const CONTAINER_ATTRIBUTES: Record<string, AttributeSql> = {
  id: { exists: 'true' },
  type: { exists: 'true' },
  location: { exists: 'true' },
  status: { exists: 'true', compare: { type: 'text', value: statusSql } },
  storedWasteKind: { exists: 'true', compare: { type: 'text', value: caseOf('b.stream', FIWARE_WASTE_KIND) } },
  storedWasteCode: { exists: `b.stream IN (${Object.keys(WASTE_CODE).map((s) => `'${s}'`).join(', ')})`, compare: { type: 'text', value: caseOf('b.stream', WASTE_CODE) } },
  storedWasteOrigin: { exists: 'true', compare: { type: 'text', value: `'household'` } },
  category: { exists: 'true' },
  dateCreated: { exists: 'true' },
  dateModified: { exists: 'true' },
  fillingLevel: { exists: 'lr.fill_pct IS NOT NULL', compare: { type: 'number', value: 'round(lr.fill_pct::numeric * 100) / 10000' } },
  temperature: { exists: 'lr.temp_c IS NOT NULL', compare: { type: 'number', value: 'round(lr.temp_c::numeric, 2)' } },
  binCapacity: { exists: 'b.capacity_l IS NOT NULL', compare: { type: 'number', value: 'b.capacity_l::numeric' } },
  binColor: { exists: 'b.colour IS NOT NULL', compare: { type: 'text', value: 'b.colour' } },
  wardId: { exists: 'h.ward IS NOT NULL', compare: { type: 'text', value: 'h.ward' } },
  address: { exists: '(h.street IS NOT NULL OR h.postcode IS NOT NULL)' },
  refDevice: { exists: 'd.device_id IS NOT NULL' },
  dateLastEmptying: { exists: `${lastEmptiedSql} IS NOT NULL` },
  nextActuationDeadline: { exists: nextDueSql },
  responsible: { exists: responsibleSql },
}

export type ComparisonOp = '==' | '!=' | '<' | '<=' | '>' | '>='

export type Condition =
  | { and: Condition[] }
  | { or: Condition[] }
  | { attr: string; exists: true }
  | { attr: string; op: ComparisonOp; values: (string | number)[] }
  | { attr: string; range: [number, number] }

/** A WGS 84 ring as [lon, lat] pairs (GeoJSON order). */
export type Ring = [number, number][]

export type GeoFilter =
  | { near: { lon: number; lat: number; maxDistanceM: number } }
  | { within: Ring[] }
  | { disjoint: Ring[] }

export interface ContainerFilter {
  /** bins.public_id values (the NGSI-LD entity ids' last part). */
  publicIds?: readonly string[]
  where?: Condition
  geo?: GeoFilter
}

export interface Page { limit: number; offset: number }

/** The council's local date (due dates are local) and time zone (a round's end time is local). */
export interface LocalClock { today: string; timeZone: string }

export class ContainerQueryError extends Error {
  override name = 'KERBSIDE_ERR_CONTAINER_QUERY'
}

class Params {
  readonly values: unknown[] = []
  private readonly named = new Map<string, string>()
  constructor(private readonly clock: LocalClock) {}
  add(v: unknown): string {
    this.values.push(v)
    return `$${this.values.length}`
  }
  /** The council's local date, as one parameter however often it is used. */
  today(): string {
    let ref = this.named.get('today')
    if (!ref) this.named.set('today', (ref = this.add(this.clock.today)))
    return ref
  }
}

const EARTH_RADIUS_M = 6_371_008.8

function compile(c: Condition, p: Params): string {
  if ('and' in c) return c.and.length === 0 ? 'true' : `(${c.and.map((x) => compile(x, p)).join(' AND ')})`
  if ('or' in c) return c.or.length === 0 ? 'false' : `(${c.or.map((x) => compile(x, p)).join(' OR ')})`
  const a = CONTAINER_ATTRIBUTES[c.attr]
  // An entity without the attribute matches no term about it (NGSI-LD query language).
  if (!a) return 'false'
  if ('exists' in c) return `(${typeof a.exists === 'function' ? a.exists(p.today()) : a.exists})`
  if (!a.compare) throw new ContainerQueryError(`${c.attr} cannot be compared in a query here; only whether it exists`)
  const { type, value } = a.compare
  const typed = (v: string | number) => {
    if (type === 'number' && typeof v !== 'number') throw new ContainerQueryError(`${c.attr} is a number: compare it with a number, not ${JSON.stringify(v)}`)
    if (type === 'text' && typeof v !== 'string') throw new ContainerQueryError(`${c.attr} is text: compare it with a quoted string, not ${v}`)
    return `${p.add(v)}::${type === 'number' ? 'numeric' : 'text'}`
  }
  if ('range' in c) {
    if (type !== 'number') throw new ContainerQueryError(`a range needs a numeric attribute; ${c.attr} is text`)
    return `((${value}) BETWEEN ${typed(c.range[0])} AND ${typed(c.range[1])})`
  }
  if (c.values.length === 0) throw new ContainerQueryError(`${c.attr} ${c.op} needs a value`)
  if (c.values.length > 1) {
    if (c.op !== '==' && c.op !== '!=') throw new ContainerQueryError('a list of values works with == and != only')
    const list = c.values.map(typed).join(', ')
    return c.op === '==' ? `((${value}) IN (${list}))` : `((${value}) NOT IN (${list}))`
  }
  const op = c.op === '==' ? '=' : c.op === '!=' ? '<>' : c.op
  return `((${value}) ${op} ${typed(c.values[0]!)})`
}

/** Point in polygon by the even-odd rule over every ring (holes included), after a bounding box. */
function insideRings(rings: Ring[], p: Params): string {
  const points = rings.flat()
  const lons = points.map((q) => q[0])
  const lats = points.map((q) => q[1])
  // Edges as (y1, y2, dx/dy, x1): no division in SQL, and horizontal edges never cross a ray.
  const edges = rings.flatMap((ring) => ring.slice(0, -1).map((a, i) => [a, ring[i + 1]!] as const))
    .filter(([a, b]) => a[1] !== b[1])
    .map(([a, b]) => ({ y1: a[1], y2: b[1], k: (b[0] - a[0]) / (b[1] - a[1]), x1: a[0] }))
  return `(h.lat BETWEEN ${p.add(Math.min(...lats))}::float8 AND ${p.add(Math.max(...lats))}::float8
     AND h.lon BETWEEN ${p.add(Math.min(...lons))}::float8 AND ${p.add(Math.max(...lons))}::float8
     AND (SELECT count(*) FROM jsonb_to_recordset(${p.add(JSON.stringify(edges))}::jsonb) AS e(y1 float8, y2 float8, k float8, x1 float8)
           WHERE (e.y1 > h.lat) <> (e.y2 > h.lat) AND h.lon < e.k * (h.lat - e.y1) + e.x1) % 2 = 1)`
}

function geoSql(g: GeoFilter, p: Params): string {
  if ('near' in g) {
    const { lat, lon, maxDistanceM } = g.near
    const dLat = (maxDistanceM / EARTH_RADIUS_M) * (180 / Math.PI)
    const dLon = dLat / Math.max(Math.cos((lat * Math.PI) / 180), 0.01)
    const la = p.add(lat)
    const lo = p.add(lon)
    return `(h.lat BETWEEN ${la}::float8 - ${p.add(dLat)} AND ${la}::float8 + ${p.add(dLat)}
       AND h.lon BETWEEN ${lo}::float8 - ${p.add(dLon)} AND ${lo}::float8 + ${p.add(dLon)}
       AND 2 * ${EARTH_RADIUS_M}::float8 * asin(sqrt(power(sin(radians(h.lat - ${la}::float8) / 2), 2)
           + cos(radians(${la}::float8)) * cos(radians(h.lat)) * power(sin(radians(h.lon - ${lo}::float8) / 2), 2))) <= ${p.add(maxDistanceM)}::float8)`
  }
  if ('within' in g) return insideRings(g.within, p)
  return `NOT ${insideRings(g.disjoint, p)}`
}

const FROM = `FROM bins b
  JOIN households h ON h.uprn = b.uprn
  LEFT JOIN devices d ON d.bin_id = b.bin_id AND d.revoked_at IS NULL
  LEFT JOIN latest_readings lr ON lr.device_id = d.device_id`

function whereOf(q: ContainerFilter, p: Params): string {
  const parts = ['b.active', 'h.lat IS NOT NULL', 'h.lon IS NOT NULL']
  if (q.publicIds) parts.push(`b.public_id = ANY(${p.add(q.publicIds)}::text[])`)
  if (q.where) parts.push(compile(q.where, p))
  if (q.geo) parts.push(geoSql(q.geo, p))
  return parts.join(' AND ')
}

/**
 * One page of containers, by bin id. The next due collection and its round's end time, in the
 * council's time zone, make the deadline of the next emptying.
 */
export async function listContainers(db: Queryable, q: ContainerFilter & Page, clock: LocalClock): Promise<ContainerRow[]> {
  const p = new Params(clock)
  const where = whereOf(q, p)
  const tz = p.add(clock.timeZone)
  const { rows } = await db.query<ContainerRow>(
    `WITH page AS (
       SELECT b.bin_id ${FROM} WHERE ${where} ORDER BY b.bin_id LIMIT ${p.add(q.limit)} OFFSET ${p.add(q.offset)}
     )
     SELECT b.bin_id AS "binId", b.public_id AS "publicId", b.stream, b.capacity_l AS "capacityL", b.colour, b.communal, b.created_at AS "createdAt",
            h.street, h.postcode, h.ward, h.lat, h.lon,
            d.device_id AS "deviceId", lr.ts AS "readingAt", lr.fill_pct AS "fillPct", lr.temp_c AS "tempC", lr.status AS "readingStatus",
            ${lastEmptiedSql} AS "lastEmptiedAt", nc.deadline AS "nextCollectionBy", resp.name AS responsible
       FROM page JOIN bins b ON b.bin_id = page.bin_id
       JOIN households h ON h.uprn = b.uprn
       LEFT JOIN devices d ON d.bin_id = b.bin_id AND d.revoked_at IS NULL
       LEFT JOIN latest_readings lr ON lr.device_id = d.device_id
       LEFT JOIN LATERAL (
         SELECT (sc.due_date + r.ends_at) AT TIME ZONE ${tz} AS deadline
           FROM scheduled_collections sc JOIN rounds r ON r.round_id = sc.round_id
          WHERE sc.uprn = b.uprn AND sc.stream = b.stream AND NOT sc.cancelled AND sc.due_date >= ${p.today()}::date
          ORDER BY sc.due_date LIMIT 1
       ) nc ON true
       LEFT JOIN LATERAL (
         SELECT c.name FROM round_households rh
           JOIN rounds r ON r.round_id = rh.round_id AND r.active AND r.stream = b.stream
           JOIN contracts k ON k.contract_id = r.contract_id
           JOIN contractors c ON c.contractor_id = k.contractor_id
          WHERE rh.uprn = b.uprn ORDER BY r.round_id LIMIT 1
       ) resp ON true
      ORDER BY b.bin_id`,
    p.values,
  )
  return rows
}

/** How many containers match (NGSI-LD `count=true`). */
export async function countContainers(db: Queryable, q: ContainerFilter, clock: LocalClock): Promise<number> {
  const p = new Params(clock)
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n ${FROM} WHERE ${whereOf(q, p)}`, p.values)
  return rows[0]?.n ?? 0
}
