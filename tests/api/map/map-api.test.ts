// GET /api/v1/map and /api/v1/map/summary on the real app and the embedded TimescaleDB.
import { gunzipSync } from 'node:zlib'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import ajvModule from 'ajv'
import ajvFormats from 'ajv-formats'
import { CityMap as CityMapSchema, type CityMap, type MapSummary } from '../../../api/schemas/map.ts'
import { createLogger, silentLogger } from '../../../core/log.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import { seedCity, type SeededCity } from '../../helpers/seed-city.ts'
import { answerSchema, type OpenApiDoc } from '../../helpers/openapi.ts'
import { rebuildLatestState } from '../../../storage/latest-state.ts'

const ADMIN = 'admin-key-for-map-tests-000000'
const now = new Date()
let db: Database
let app: Api
let city: SeededCity
const keys: Record<string, string> = {}

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: process.env.TEST_LOG ? createLogger({ level: process.env.TEST_LOG }) : silentLogger, registry: new Registry(), adminKey: ADMIN })
  city = await seedCity(db, { households: 120, perStreet: 20, vehicles: 2, recentLifts: 30, now })
  // A vehicle unit with two positions: the map shows the later one.
  await db.query(`INSERT INTO devices (device_id, kind, secret_hash, vehicle_id, online) VALUES ('unit-1', 'vehicle', 'unusable', 'rcv-01', true)`)
  await db.query(`INSERT INTO vehicle_positions (ts, device_id, seq, vehicle_id, lat, lon, speed_kmh, heading) VALUES ($1, 'unit-1', 1, 'rcv-01', 53.40, -2.99, 10, 90), ($2, 'unit-1', 2, 'rcv-01', 53.41, -2.98, 22.5, 180)`,
    [new Date(now.getTime() - 120_000).toISOString(), new Date(now.getTime() - 60_000).toISOString()])
  // An older lift outside a 1-hour window, and a newer reading that supersedes a bin's seeded one.
  await db.query(`INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, lat, lon, outcome) VALUES ($1, 'unit-1', 9, 'rcv-01', 'OLD', NULL, NULL, 53.4, -2.99, 'collected')`, [new Date(now.getTime() - 5 * 3_600_000).toISOString()])
  await db.query(`INSERT INTO bin_readings (ts, device_id, seq, bin_id, uprn, fill_pct, temp_c, battery_v, status) VALUES ($1, $2, 2, $3, $4, 93.25, 20, 3.7, 'ok')`,
    [new Date(now.getTime() - 1000).toISOString(), `s-${city.binIdOf(0, 'residual')}`, city.binIdOf(0, 'residual'), city.firstUprn])
  await rebuildLatestState(db) // rows inserted above bypassed ingest
  for (const role of ['contract_manager', 'crm', 'viewer', 'provisioning'] as const) keys[role] = (await createApiKey(db, role, role)).key
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})

const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} })

describe('GET /api/v1/map', () => {
  test('needs a key of the contract manager, CRM or viewer role', async () => {
    expect((await get('/api/v1/map')).statusCode).toBe(401)
    expect((await get('/api/v1/map', keys.provisioning)).json()).toMatchObject({ statusCode: 403, code: 'KERBSIDE_ERR_FORBIDDEN' })
    for (const role of ['contract_manager', 'crm', 'viewer']) expect((await get('/api/v1/map/summary', keys[role])).statusCode).toBe(200)
  })

  test('households with their bins and last readings, in columns of equal length', async () => {
    const res = await get('/api/v1/map', keys.viewer)
    expect(res.statusCode).toBe(200)
    const map = res.json() as CityMap
    // Written with JSON.stringify (speed), so the answer is checked against its declared schema here.
    const ajv = new ajvModule.default({ allErrors: true, strict: false })
    ajvFormats.default(ajv)
    const valid = ajv.compile(CityMapSchema)
    expect(valid(map), JSON.stringify(valid.errors?.slice(0, 5))).toBe(true)
    const h = map.households
    expect(h.uprn).toHaveLength(120)
    for (const col of [h.lat, h.lon, h.street, h.ward]) expect(col).toHaveLength(120)
    expect(map.bins.binId).toHaveLength(240)
    for (const col of Object.values(map.bins)) expect(col).toHaveLength(240)
    expect(map.streams).toEqual(['residual', 'recycling', 'garden', 'food', 'glass'])

    // The first household's residual bin: its newest reading, not the seeded one.
    const i = map.bins.binId.indexOf(city.binIdOf(0, 'residual'))
    expect(map.households.uprn[map.bins.household[i]!]).toBe(city.firstUprn)
    expect(map.streams[map.bins.stream[i]!]).toBe('residual')
    expect(map.bins.fillPct[i]).toBe(93.3)
    expect(map.bins.readingAt[i]).toBe(Math.floor((now.getTime() - 1000) / 1000))
    expect(map.bins.deviceId[i]).toBe(`s-${city.binIdOf(0, 'residual')}`)
    expect(map.bins.online[i]).toBe(true)

    // Coordinates rounded to 5 decimals; bounds enclose every household.
    const [w, s, e, n] = map.bounds!
    expect(h.lat.every((v) => v >= s && v <= n && Math.round(v * 1e5) / 1e5 === v)).toBe(true)
    expect(h.lon.every((v) => v >= w && v <= e)).toBe(true)
  })

  test('streets derived from the households: one line per street, every household on one', async () => {
    const map = (await get('/api/v1/map', keys.crm)).json() as CityMap
    expect(map.streets).toHaveLength(6)
    expect(map.households.street.every((s) => s >= 0 && s < 6)).toBe(true)
    for (const street of map.streets) {
      expect(street.path.length).toBeGreaterThanOrEqual(4)
      expect(street.path.length % 2).toBe(0)
    }
    expect(map.wards.length).toBeGreaterThan(0)
    expect(map.households.ward.every((w) => map.wards[w] !== undefined)).toBe(true)
  })

  test('vehicles with their latest position; lifts of the last hours only, newest first', async () => {
    const map = (await get('/api/v1/map?hours=2', keys.contract_manager)).json() as CityMap
    expect(map.vehicles).toEqual([
      { vehicleId: 'rcv-01', registration: 'KB26 R01', deviceId: 'unit-1', online: true, lat: 53.41, lon: -2.98, speedKmh: 22.5, heading: 180, positionAt: new Date(now.getTime() - 60_000).toISOString() },
      { vehicleId: 'rcv-02', registration: 'KB26 R02', deviceId: null, online: null, lat: null, lon: null, speedKmh: null, heading: null, positionAt: null },
    ])
    expect(map.hours).toBe(2)
    expect(map.lifts.ts).toHaveLength(30)
    expect(map.lifts.ts).toEqual([...map.lifts.ts].sort((a, b) => b - a))
    expect(map.lifts.outcome.filter((o) => o === 'not_presented')).toHaveLength(1)
    expect(map.lifts.binId[map.lifts.ts.length - 1]).toBe(city.binIdOf(0, 'residual'))
    const wide = (await get('/api/v1/map?hours=6&liftLimit=5', keys.viewer)).json() as CityMap
    expect(wide.lifts.ts).toHaveLength(5)
    expect((await get('/api/v1/map?hours=0', keys.viewer)).statusCode).toBe(400)
  })

  test('alerts: fire, overflow, offline and low battery, most urgent first', async () => {
    const map = (await get('/api/v1/map', keys.viewer)).json() as CityMap
    const kinds = map.alerts.map((a) => a.kind)
    expect(new Set(kinds)).toEqual(new Set(['fire', 'overflow', 'offline', 'low_battery']))
    const rank = { fire: 0, overflow: 1, offline: 2, low_battery: 3 }
    expect(kinds).toEqual([...kinds].sort((a, b) => rank[a] - rank[b]))
    // Seeded: bin index 3 burning at 72 °C; index 11 at 3.1 V; index 5 disconnected; index 7 silent for 5 h.
    const of = (binId: string) => map.alerts.filter((a) => map.bins.binId[a.bin] === binId).map(({ kind, value }) => ({ kind, value }))
    expect(of(city.binIdOf(1, 'recycling'))).toEqual([{ kind: 'fire', value: 72 }])
    expect(of(city.binIdOf(0, 'residual'))).toEqual([{ kind: 'overflow', value: 93.3 }])
    expect(of(city.binIdOf(5, 'recycling'))).toEqual([{ kind: 'low_battery', value: 3.1 }])
    expect(of(city.binIdOf(2, 'recycling'))).toEqual([{ kind: 'offline', value: expect.any(Number) }])
    expect(of(city.binIdOf(3, 'recycling'))).toEqual([{ kind: 'offline', value: 5 }])
    expect(of(city.binIdOf(0, 'recycling'))).toEqual([])
    expect(map.thresholds).toEqual({ fireTempC: 60, overflowPct: 90, offlineAfterMs: 10_800_000, lowBatteryV: 3.3 })
  })

  test('a city-sized answer is gzipped for clients that take it, and the same JSON either way', async () => {
    const plain = await get('/api/v1/map', keys.viewer)
    const zipped = await app.inject({ method: 'GET', url: '/api/v1/map', headers: { authorization: `Bearer ${keys.viewer}`, 'accept-encoding': 'gzip, deflate, br' } })
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers['content-type']).toMatch(/^application\/json/)
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3)
    const a = JSON.parse(gunzipSync(zipped.rawPayload).toString()) as CityMap
    const b = plain.json() as CityMap
    expect({ ...a, generatedAt: '' }).toEqual({ ...b, generatedAt: '' })
  })

  test('the summary tells who is calling and how big the city is; the OpenAPI document has the schemas', async () => {
    const summary = (await get('/api/v1/map/summary', keys.crm)).json() as MapSummary
    expect(summary).toEqual({ caller: { name: 'crm', role: 'crm' }, households: 120, placedHouseholds: 120, bins: 240, vehicles: 2 })
    await app.ready()
    const doc = (await get('/docs/json')).json() as OpenApiDoc
    expect(Object.keys(answerSchema(doc, '/api/v1/map').properties ?? {})).toEqual(expect.arrayContaining(['bounds', 'households', 'bins']))
    expect(Object.keys(answerSchema(doc, '/api/v1/map/summary').properties ?? {})).toEqual(expect.arrayContaining(['households', 'bins']))
  })
})

test('an empty city: no households, no bounds, empty columns', async () => {
  const empty = await openDatabase({ logger: silentLogger })
  const api = await buildApi({ db: empty, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  try {
    const res = await api.inject({ method: 'GET', url: '/api/v1/map', headers: { authorization: `Bearer ${ADMIN}` } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ bounds: null, streets: [], households: { uprn: [] }, bins: { binId: [] }, vehicles: [], alerts: [], lifts: { ts: [] } })
    // The summary's counts are shared and held for 30 s, but a registry import through the API counts again at once.
    const summary = async () => (await api.inject({ method: 'GET', url: '/api/v1/map/summary', headers: { authorization: `Bearer ${ADMIN}` } })).json() as MapSummary
    expect(await summary()).toMatchObject({ households: 0, placedHouseholds: 0, bins: 0 })
    const imported = await api.inject({
      method: 'POST', url: '/api/v1/registry/import?entity=households', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' },
      payload: 'uprn,address,postcode,lat,lon\n100000000001,1 Dale Street,L2 2DH,53.4084,-2.9916\n100000000002,3 Dale Street,L2 2DH,,\n',
    })
    expect(imported.statusCode, imported.body).toBe(200)
    expect(await summary()).toMatchObject({ households: 2, placedHouseholds: 1, bins: 0 })
  } finally {
    await api.close()
    await empty.close()
  }
})
