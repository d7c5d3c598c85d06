// A synthetic city for map tests, the dashboard's end-to-end tests and its benchmark, written with
// bulk inserts (unnest), so that 20,000 households take seconds. Deterministic: the same options
// give the same city. Streets run in a grid of wards around central Liverpool; every household has
// a residual and a recycling bin, each with a sensor and a last reading; a few bins raise alerts.
// Bin sensors get an unusable secret (they never log in); vehicles are left for the caller to fit.
import type { Queryable } from '../../storage/database.ts'
import { rebuildLatestState } from '../../storage/latest-state.ts'

export interface CityOptions {
  households: number
  /** Households per street (two sides of the road). */
  perStreet?: number
  vehicles?: number
  /** Lifts in the hour before `now`, spread over the first households. */
  recentLifts?: number
  now?: Date
  firstUprn?: number
}

export interface SeededCity {
  households: number
  bins: number
  streets: number
  vehicles: string[]
  firstUprn: number
  /** The RFID tag of household k's residual bin. */
  tagOf(k: number): string
  binIdOf(k: number, stream: 'residual' | 'recycling'): string
}

const CENTRE = { lat: 53.4084, lon: -2.9916 }
const M_LAT = 1 / 111_320
const M_LON = 1 / (111_320 * Math.cos((CENTRE.lat * Math.PI) / 180))
const STREET_NAMES = ['Church', 'Park', 'Mill', 'Station', 'Victoria', 'Albert', 'Green', 'Manor', 'Queens', 'Kings', 'Grove', 'Chapel', 'School', 'North', 'South', 'West']
const SUFFIXES = ['Road', 'Street', 'Lane', 'Avenue', 'Close', 'Drive']

/** Chunked so that no statement carries more than a few megabytes of parameters. */
async function inChunks<T>(rows: T[], size: number, write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await write(rows.slice(i, i + size))
}

export async function seedCity(db: Queryable, opts: CityOptions): Promise<SeededCity> {
  const n = opts.households
  const perStreet = opts.perStreet ?? 40
  const now = opts.now ?? new Date()
  const firstUprn = opts.firstUprn ?? 200_000_000_001
  const streets = Math.ceil(n / perStreet)
  const side = Math.ceil(Math.sqrt(streets)) // streets laid out in a square grid of blocks

  const h = { uprn: [] as number[], address: [] as string[], street: [] as string[], postcode: [] as string[], ward: [] as string[], lat: [] as number[], lon: [] as number[] }
  for (let k = 0; k < n; k++) {
    const s = Math.floor(k / perStreet)
    const j = k % perStreet
    const row = Math.floor(s / side)
    const col = s % side
    // Each street runs east–west, 10 m per pair of houses, odd numbers north side, even south.
    const lat = CENTRE.lat + (row - side / 2) * 120 * M_LAT + (j % 2 === 0 ? 8 : -8) * M_LAT
    const lon = CENTRE.lon + (col - side / 2) * (perStreet * 5 + 60) * M_LON + Math.floor(j / 2) * 10 * M_LON
    const name = `${STREET_NAMES[s % STREET_NAMES.length]} ${SUFFIXES[Math.floor(s / STREET_NAMES.length) % SUFFIXES.length]}${s >= STREET_NAMES.length * SUFFIXES.length ? ` ${Math.floor(s / (STREET_NAMES.length * SUFFIXES.length)) + 1}` : ''}`
    h.uprn.push(firstUprn + k)
    h.address.push(`${j + 1} ${name}`)
    h.street.push(name)
    h.postcode.push(`L${1 + (s % 30)} ${1 + (j % 9)}AA`)
    h.ward.push(`Ward ${1 + Math.floor(row / 4) * Math.ceil(side / 4) + Math.floor(col / 4)}`)
    h.lat.push(lat)
    h.lon.push(lon)
  }
  await inChunks(h.uprn.map((_, i) => i), 5000, (idx) => db.query(
    `INSERT INTO households (uprn, address, street, postcode, ward, lat, lon)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[]) ON CONFLICT DO NOTHING`,
    [idx.map((i) => h.uprn[i]), idx.map((i) => h.address[i]), idx.map((i) => h.street[i]), idx.map((i) => h.postcode[i]), idx.map((i) => h.ward[i]), idx.map((i) => h.lat[i]), idx.map((i) => h.lon[i])],
  ))

  const binIdOf = (k: number, stream: 'residual' | 'recycling') => `bin-${firstUprn + k}-${stream === 'residual' ? 'r' : 'y'}`
  const tagOf = (k: number) => `TAG-${firstUprn + k}`
  const bins = { binId: [] as string[], uprn: [] as number[], stream: [] as string[], tag: [] as string[] }
  for (let k = 0; k < n; k++) {
    for (const stream of ['residual', 'recycling'] as const) {
      bins.binId.push(binIdOf(k, stream))
      bins.uprn.push(firstUprn + k)
      bins.stream.push(stream)
      bins.tag.push(stream === 'residual' ? tagOf(k) : `TAG-${firstUprn + k}-Y`)
    }
  }
  const b = bins.binId.map((_, i) => i)
  await inChunks(b, 10_000, (idx) => db.query(
    `INSERT INTO bins (bin_id, uprn, stream, rfid_tag, capacity_l) SELECT *, 240 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
    [idx.map((i) => bins.binId[i]), idx.map((i) => bins.uprn[i]), idx.map((i) => bins.stream[i]), idx.map((i) => bins.tag[i])],
  ))
  await inChunks(b, 10_000, (idx) => db.query(
    `INSERT INTO devices (device_id, kind, secret_hash, bin_id, online, online_since)
     SELECT 's-' || bin_id, 'bin', 'unusable', bin_id, online, $3::timestamptz FROM unnest($1::text[], $2::boolean[]) AS t(bin_id, online) ON CONFLICT DO NOTHING`,
    [idx.map((i) => bins.binId[i]), idx.map((i) => i % 97 !== 5), now.toISOString()],
  ))

  // Last readings: fills spread over 0–100 %, a hot bin every 500, a flat battery every 211, a silent sensor every 313.
  const r = { device: [] as string[], binId: [] as string[], uprn: [] as number[], ts: [] as string[], fill: [] as number[], temp: [] as number[], battery: [] as number[], status: [] as string[] }
  for (const i of b) {
    const silent = i % 313 === 7
    r.device.push(`s-${bins.binId[i]}`)
    r.binId.push(bins.binId[i]!)
    r.uprn.push(bins.uprn[i]!)
    r.ts.push(new Date(now.getTime() - (silent ? 5 * 3_600_000 : (1 + (i % 50)) * 60_000)).toISOString())
    r.fill.push((i * 37) % 101)
    r.temp.push(i % 500 === 3 ? 72 : 8 + (i % 9))
    r.battery.push(i % 211 === 11 ? 3.1 : 3.6)
    r.status.push(i % 500 === 3 ? 'burning' : 'ok')
  }
  await inChunks(b, 10_000, (idx) => db.query(
    `INSERT INTO bin_readings (device_id, ts, seq, bin_id, uprn, fill_pct, temp_c, battery_v, status)
     SELECT d, ts, 1, bin_id, uprn, fill, temp, battery, status
       FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[], $5::real[], $6::real[], $7::real[], $8::text[]) AS t(d, ts, bin_id, uprn, fill, temp, battery, status)
     ON CONFLICT DO NOTHING`,
    [idx.map((i) => r.device[i]), idx.map((i) => r.ts[i]), idx.map((i) => r.binId[i]), idx.map((i) => r.uprn[i]), idx.map((i) => r.fill[i]), idx.map((i) => r.temp[i]), idx.map((i) => r.battery[i]), idx.map((i) => r.status[i])],
  ))
  await rebuildLatestState(db) // bulk-loaded history bypasses ingest, which keeps the latest state

  await db.query(`INSERT INTO contractors (contractor_id, name) VALUES ('city-contractor', 'City Waste Ltd') ON CONFLICT DO NOTHING`)
  const vehicles = Array.from({ length: opts.vehicles ?? 4 }, (_, v) => `rcv-${String(v + 1).padStart(2, '0')}`)
  for (const [v, id] of vehicles.entries()) {
    await db.query(`INSERT INTO vehicles (vehicle_id, registration, contractor_id) VALUES ($1, $2, 'city-contractor') ON CONFLICT DO NOTHING`, [id, `KB26 R${String(v + 1).padStart(2, '0')}`])
  }

  // Recent lifts by the first vehicle (no device row needed: lifts keep their vehicle id).
  const lifts = Math.min(opts.recentLifts ?? 0, n)
  if (lifts > 0 && vehicles[0]) {
    const ks = Array.from({ length: lifts }, (_, k) => k)
    await db.query(
      `INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome)
       SELECT ts, 'seed-unit', seq, $9, tag, bin_id, uprn, 12.5, lat, lon, outcome
         FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::float8[], $7::float8[], $8::text[]) AS t(ts, seq, tag, bin_id, uprn, lat, lon, outcome)`,
      [ks.map((k) => new Date(now.getTime() - 3_600_000 + (k * 3_600_000) / lifts).toISOString()), ks.map((k) => k + 1), ks.map(tagOf), ks.map((k) => binIdOf(k, 'residual')), ks.map((k) => firstUprn + k),
        ks.map((k) => h.lat[k]), ks.map((k) => h.lon[k]), ks.map((k) => (k % 25 === 24 ? 'not_presented' : 'collected')), vehicles[0]],
    )
  }
  return { households: n, bins: bins.binId.length, streets, vehicles, firstUprn, tagOf, binIdOf }
}
