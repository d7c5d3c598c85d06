// The registry API on the real app and the embedded TimescaleDB: import (JSON and CSV, 422 with
// the row-by-row report), export, rounds, calendar overrides, and who may do what.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../../api/build-api.ts'
import { localDate } from '../../../analysis/calendar/dates.ts'
import { createLogger, silentLogger } from '../../../core/log.ts'
import type { RegistryDataset } from '../../../core/contract/registry.ts'
import { createApiKey } from '../../../storage/api-keys.ts'
import type { Database } from '../../../storage/database.ts'
import { openDatabase } from '../../../storage/open-database.ts'
import type { ImportReport } from '../../../storage/registry/import.ts'
import { clearRegistry, smallCity, tableCounts, UPRN0 } from '../../storage/registry/fixture.ts'

const ADMIN = 'admin-key-for-registry-tests-0000'
let db: Database
let app: Api
const keys: Record<string, string> = {}

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: process.env.TEST_LOG ? createLogger({ level: process.env.TEST_LOG }) : silentLogger, registry: new Registry(), adminKey: ADMIN })
  for (const role of ['contract_manager', 'crm', 'viewer'] as const) keys[role] = (await createApiKey(db, role, role)).key
})
afterAll(async () => {
  await app?.close()
  await db?.close()
})
beforeEach(async () => clearRegistry(db))

const auth = (key?: string): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {})
const importJson = (body: unknown, key = ADMIN, query = '') =>
  app.inject({ method: 'POST', url: `/api/v1/registry/import${query}`, headers: { ...auth(key), 'content-type': 'application/json' }, payload: JSON.stringify(body) })
const importCsv = (csv: string, query: string, key = ADMIN) =>
  app.inject({ method: 'POST', url: `/api/v1/registry/import${query}`, headers: { ...auth(key), 'content-type': 'text/csv' }, payload: csv })
const get = (url: string, key = ADMIN) => app.inject({ method: 'GET', url, headers: auth(key) })

describe('POST /api/v1/registry/import', () => {
  test('401 without a key, 403 for any role but admin', async () => {
    expect((await importJson(smallCity(), '')).statusCode).toBe(401)
    for (const role of ['contract_manager', 'crm', 'viewer']) {
      const res = await importJson(smallCity(), keys[role])
      expect(res.statusCode).toBe(403)
      expect(res.json()).toMatchObject({ code: 'KERBSIDE_ERR_FORBIDDEN' })
    }
    expect(Object.values(await tableCounts(db)).every((n) => n === 0)).toBe(true)
  })

  test('200 with the report; the calendar follows', async () => {
    const res = await importJson(smallCity())
    expect(res.statusCode).toBe(200)
    const report = res.json() as ImportReport
    expect(report).toMatchObject({ ok: true, dryRun: false, errors: [] })
    expect(report.counts.households.inserted).toBe(6)
    expect(report.calendar?.from).toBe(localDate(new Date()))
    expect((await tableCounts(db)).scheduled_collections).toBeGreaterThan(0)
  })

  test('422 with every error and its row; nothing written', async () => {
    const city = smallCity()
    ;(city.households as unknown as Record<string, unknown>[])[1]!.uprn = 'x'
    city.bins[2]!.rfidTag = 'TAG-1-R'
    const res = await importJson(city)
    expect(res.statusCode).toBe(422)
    const report = res.json() as ImportReport
    expect(report.ok).toBe(false)
    expect(report.errors).toEqual(expect.arrayContaining([
      { entity: 'households', row: 2, field: 'uprn', message: 'expected integer (got "x")' },
      { entity: 'bins', row: 3, field: 'rfidTag', message: 'RFID tag TAG-1-R is also given to bin b-1-r (row 1)' },
    ]))
    expect(Object.values(await tableCounts(db)).every((n) => n === 0)).toBe(true)
  })

  test('?dryRun=true checks and counts, keeps nothing', async () => {
    const res = await importJson(smallCity(), ADMIN, '?dryRun=true')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ ok: true, dryRun: true, counts: { bins: { inserted: 12 } } })
    expect((await tableCounts(db)).bins).toBe(0)
  })

  test('a CSV body with ?entity=', async () => {
    const ok = await importCsv('uprn,address,postcode\n100000000001,1 Dale Street,L2 2DH\n', '?entity=households')
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({ ok: true, counts: { households: { inserted: 1 } } })
    const missing = await importCsv('binId,stream\nb1,residual\n', '?entity=bins')
    expect(missing.statusCode).toBe(422)
    expect(missing.json().errors).toEqual([{ entity: 'bins', row: 0, field: 'uprn', message: 'column uprn missing' }])
  })

  test('400 for CSV without an entity, an unknown entity, or an entity with JSON; 415 for other bodies', async () => {
    expect((await importCsv('uprn,address\n1,a\n', '')).json()).toMatchObject({ statusCode: 400, code: 'KERBSIDE_ERR_ENTITY_REQUIRED' })
    expect((await importCsv('uprn,address\n1,a\n', '?entity=lorries')).statusCode).toBe(400)
    expect((await importJson(smallCity(), ADMIN, '?entity=households')).statusCode).toBe(400)
    const xml = await app.inject({ method: 'POST', url: '/api/v1/registry/import', headers: { ...auth(ADMIN), 'content-type': 'application/xml' }, payload: '<x/>' })
    expect(xml.statusCode).toBe(415)
  })

  test('a JSON body that is not a registry is a 422 report, not a crash', async () => {
    const res = await importJson([1, 2, 3])
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toEqual([{ entity: 'dataset', row: 0, message: expect.stringContaining('must be an object') }])
  })

  test('bodies larger than the API\'s usual 1 MiB are accepted', async () => {
    const city = smallCity(4_000)
    expect(JSON.stringify(city).length).toBeGreaterThan(1024 * 1024)
    const res = await importJson(city, ADMIN, '?dryRun=true')
    expect(res.statusCode).toBe(200)
  })
})

describe('GET /api/v1/registry/export', () => {
  beforeEach(async () => {
    expect((await importJson(smallCity())).statusCode).toBe(200)
  })

  test('JSON for admin, contract managers and viewers; not for the CRM', async () => {
    for (const key of [ADMIN, keys.contract_manager!, keys.viewer!]) {
      const res = await get('/api/v1/registry/export?format=json', key)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toContain('application/json')
      const dataset = res.json() as Required<RegistryDataset>
      expect(dataset.households).toHaveLength(6)
      expect(dataset.roundStops).toHaveLength(18)
    }
    expect((await get('/api/v1/registry/export', keys.crm)).statusCode).toBe(403)
    expect((await get('/api/v1/registry/export', '')).statusCode).toBe(401)
  })

  test('CSV of one entity; CSV without an entity is a 400', async () => {
    const res = await get('/api/v1/registry/export?format=csv&entity=rounds', keys.viewer)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('text/csv')
    expect(res.headers['content-disposition']).toContain('rounds.csv')
    const lines = res.body.trim().split('\n')
    expect(lines[0]).toBe('roundId,contractId,name,stream,vehicleId,weekday,frequency,anchorDate,startsAt,endsAt,subscription,active')
    expect(lines).toHaveLength(4)
    expect((await get('/api/v1/registry/export?format=csv', keys.viewer)).statusCode).toBe(400)
  })

  test('what is exported imports back unchanged', async () => {
    const exported = (await get('/api/v1/registry/export')).json()
    const again = await importJson(exported)
    expect(again.statusCode).toBe(200)
    for (const c of Object.values((again.json() as ImportReport).counts)) expect(c).toMatchObject({ inserted: 0, updated: 0, removed: 0 })
  })
})

describe('rounds', () => {
  beforeEach(async () => {
    expect((await importJson(smallCity())).statusCode).toBe(200)
  })

  test('GET /api/v1/rounds lists rounds with stream, day, frequency, vehicle and household count', async () => {
    const res = await get('/api/v1/rounds', keys.crm)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual([
      expect.objectContaining({ roundId: 'mon-rec', stream: 'recycling', weekday: 1, frequency: 'fortnightly', vehicleId: 'rcv-1', vehicleRegistration: 'KB26 RCV', households: 6, startsAt: '06:30', contractorId: 'acme' }),
      expect.objectContaining({ roundId: 'mon-res', stream: 'residual', weekday: 1, households: 6, startsAt: '07:00', endsAt: '15:00' }),
      expect.objectContaining({ roundId: 'tue-gdn', stream: 'garden', weekday: 2, subscription: true, vehicleId: null, households: 6 }),
    ])
    expect((await get('/api/v1/rounds?stream=garden', keys.viewer)).json()).toHaveLength(1)
    expect((await get('/api/v1/rounds?weekday=1&limit=1', keys.viewer)).json()).toHaveLength(1)
    expect((await get('/api/v1/rounds', '')).statusCode).toBe(401)
  })

  test('GET /api/v1/rounds/:roundId gives stops in driving order and the next collection days', async () => {
    const res = await get('/api/v1/rounds/mon-rec', keys.contract_manager)
    expect(res.statusCode).toBe(200)
    const round = res.json()
    expect(round.stops.map((s: { uprn: number }) => s.uprn)).toEqual([5, 4, 3, 2, 1, 0].map((i) => UPRN0 + i))
    expect(round.stops[5]).toMatchObject({ position: 5, uprn: UPRN0, address: '1 Test Street', assisted: true })
    expect(round.upcoming.length).toBeGreaterThanOrEqual(4)
    expect(round.upcoming[0]).toMatchObject({ collections: 6, cancelled: false })
    expect((await get('/api/v1/rounds/nope', keys.viewer)).statusCode).toBe(404)
  })
})

describe('calendar', () => {
  test('bank holidays of a year', async () => {
    const res = await get('/api/v1/calendar/bank-holidays?year=2026', keys.crm)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toContainEqual({ date: '2026-12-28', name: 'Boxing Day (substitute day)' })
  })

  test('an override moves a day\'s collections at once; removing it moves them back', async () => {
    expect((await importJson(smallCity())).statusCode).toBe(200)
    const { rows } = await db.query<{ d: string }>(`SELECT min(scheduled_date) AS d FROM scheduled_collections WHERE scheduled_date > $1::date AND round_id = 'mon-res'`, [localDate(new Date())])
    const day = rows[0]!.d
    const put = (key: string) => app.inject({ method: 'PUT', url: `/api/v1/calendar/overrides/${day}`, headers: { ...auth(key), 'content-type': 'application/json' }, payload: { movedTo: null, reason: 'depot closed' } })
    expect((await put(keys.viewer!)).statusCode).toBe(403)
    const res = await put(keys.contract_manager!)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ override: { originalDate: day, movedTo: null, reason: 'depot closed' }, calendar: { updated: 6 } })
    const cancelled = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scheduled_collections WHERE scheduled_date = $1 AND cancelled`, [day])).rows[0]!.n
    expect(await cancelled()).toBe(6)
    expect((await get('/api/v1/calendar/overrides', keys.viewer)).json()).toEqual([{ originalDate: day, movedTo: null, reason: 'depot closed' }])
    const del = await app.inject({ method: 'DELETE', url: `/api/v1/calendar/overrides/${day}`, headers: auth(keys.contract_manager) })
    expect(del.statusCode).toBe(200)
    expect(await cancelled()).toBe(0)
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/calendar/overrides/${day}`, headers: auth(keys.contract_manager) })).statusCode).toBe(404)
  })

  test('POST /api/v1/calendar/generate is for admins and refuses a bad range', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/v1/calendar/generate', headers: auth(keys.contract_manager) })).statusCode).toBe(403)
    const ok = await app.inject({ method: 'POST', url: '/api/v1/calendar/generate', headers: auth(ADMIN) })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({ from: localDate(new Date()), inserted: 0 })
    const bad = await app.inject({ method: 'POST', url: '/api/v1/calendar/generate?from=2026-05-01&to=2026-04-01', headers: auth(ADMIN) })
    expect(bad.json()).toMatchObject({ statusCode: 400, code: 'KERBSIDE_ERR_CALENDAR_RANGE' })
  })
})

test('the OpenAPI document has the registry routes and their schemas', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/registry/import', '/api/v1/registry/export', '/api/v1/rounds', '/api/v1/rounds/{roundId}', '/api/v1/calendar/overrides/{originalDate}']))
  expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['ImportReport', 'RegistryDataset', 'Round', 'RoundDetail', 'CalendarOverride']))
})
