// The CRM's household API: summary, history, search; roles; every household read audited.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { buildApi, type Api } from '../../api/build-api.ts'
import { silentLogger } from '../../core/log.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'
import { seedMinimalRegistry } from '../helpers/stack.ts'
import { localDate } from '../../analysis/calendar/dates.ts'

const ADMIN = 'admin-key-of-this-test-0123456789'
const UPRN = 100000000001
const DAYS = ['2026-11-02', '2026-11-09', '2026-11-16', '2026-11-23', '2099-01-05']
let db: Database
let app: Api
const keys: Record<string, string> = {}
const get = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} })
const audited = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)).rows[0]!.n

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  await seedMinimalRegistry(db)
  await db.query(`INSERT INTO devices (device_id, kind, secret_hash, bin_id, online) VALUES ('s-1', 'bin', '!', 'bin-1', true)`)
  await db.query(`INSERT INTO latest_readings (device_id, bin_id, uprn, ts, seq, fill_pct, status, battery_v) VALUES ('s-1', 'bin-1', $1, now() - interval '10 minutes', 7, 64.5, 'ok', 3.61)`, [UPRN])
  await db.query(`INSERT INTO lift_events (ts, device_id, seq, vehicle_id, tag, bin_id, uprn, weight_kg, lat, lon, outcome) VALUES (now() - interval '8 days', 'u-1', 1, 'rcv-1', 'TAG-0001', 'bin-1', $1, 17.5, 53.4084, -2.9916, 'collected')`, [UPRN])
  await db.query(`INSERT INTO contracts (contract_id, contractor_id, name, starts_on) VALUES ('k1', 'c1', 'Test contract', '2026-01-01')`)
  await db.query(`INSERT INTO rounds (round_id, contract_id, name, stream, vehicle_id, weekday, frequency, anchor_date) VALUES ('r1', 'k1', 'Mon residual', 'residual', 'rcv-1', 1, 'weekly', '2026-11-02')`)
  for (const d of DAYS) await db.query(`INSERT INTO scheduled_collections (uprn, stream, round_id, scheduled_date, due_date) VALUES ($1, 'residual', 'r1', $2, $2)`, [UPRN, d])
  await db.query(`INSERT INTO collection_outcomes (collection_id, uprn, stream, round_id, contract_id, due_date, outcome, lift_ts, lift_weight_kg)
                  SELECT collection_id, uprn, stream, round_id, 'k1', due_date, CASE WHEN due_date = '2026-11-09' THEN 'missed' ELSE 'collected' END, due_date + time '09:00', 15
                    FROM scheduled_collections WHERE due_date < '2026-11-20'`)
  await db.query(`INSERT INTO missed_reports (service_code, stream, uprn, collection_date, located_by, source) VALUES ('missed_residual', 'residual', $1, '2026-11-09', 'uprn', 'test')`, [UPRN])
  for (const role of ['crm', 'contract_manager', 'viewer'] as const) keys[role] = (await createApiKey(db, `${role} system`, role)).key
})
afterAll(async () => { await app?.close(); await db?.close() })

describe('household summary', () => {
  test('bins with sensor state and last lift, next collections, open reports', async () => {
    const res = await get(`/api/v1/households/${UPRN}`, keys.crm)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.household).toMatchObject({ uprn: UPRN, address: '1 Test Street', postcode: 'L1 1AA', ward: 'Central' })
    expect(body.bins).toHaveLength(1)
    expect(body.bins[0]).toMatchObject({ binId: 'bin-1', stream: 'residual', sensor: { deviceId: 's-1', online: true, fillPct: 64.5, status: 'ok' }, lastLift: { outcome: 'collected', weightKg: 17.5, vehicleId: 'rcv-1' } })
    const next = DAYS.find((d) => d >= localDate(new Date()))!
    expect(body.nextCollections).toEqual([{ stream: 'residual', dueDate: next, scheduledDate: next, roundId: 'r1', roundName: 'Mon residual' }])
    expect(body.openReports).toEqual([expect.objectContaining({ stream: 'residual', collectionDate: '2026-11-09', validity: 'pending' })])
    expect(body.rewardBalance).toBe(0)
  })

  test('unknown household 404, bad UPRN 400, no key 401, wrong role 403', async () => {
    expect((await get('/api/v1/households/999999999999', keys.crm)).statusCode).toBe(404)
    expect((await get('/api/v1/households/1234567890123', keys.crm)).statusCode).toBe(400)
    expect((await get('/api/v1/households/abc', keys.crm)).statusCode).toBe(400)
    expect((await get(`/api/v1/households/${UPRN}`)).statusCode).toBe(401)
    expect((await get(`/api/v1/households/${UPRN}`, keys.viewer)).statusCode).toBe(403)
  })
})

describe('collection history', () => {
  test('paged, newest first, filterable, with outcomes', async () => {
    const page1 = (await get(`/api/v1/households/${UPRN}/collections?limit=2`, keys.contract_manager)).json()
    // The history is what is due today or before, newest first; a collection still to come is listed apart.
    expect(page1.total).toBe(4)
    expect(page1.items.map((c: { dueDate: string }) => c.dueDate)).toEqual(['2026-11-23', '2026-11-16'])
    expect(page1.items[0]).toMatchObject({ roundId: 'r1', roundName: 'Mon residual' })
    expect(page1.upcoming.map((c: { dueDate: string; outcome: string | null }) => [c.dueDate, c.outcome])).toEqual([['2099-01-05', null]])
    const ranged = (await get(`/api/v1/households/${UPRN}/collections?from=2026-11-01&to=2026-11-15&stream=residual`, keys.crm)).json()
    expect(ranged.items.map((c: { dueDate: string; outcome: string }) => [c.dueDate, c.outcome])).toEqual([['2026-11-09', 'missed'], ['2026-11-02', 'collected']])
    expect((await get(`/api/v1/households/${UPRN}/collections?stream=garden`, keys.crm)).json().total).toBe(0)
    expect((await get(`/api/v1/households/${UPRN}/collections?stream=nuclear`, keys.crm)).statusCode).toBe(400)
    expect((await get(`/api/v1/households/${UPRN}/collections?from=2026-11-15&to=2026-11-01`, keys.crm)).statusCode).toBe(400)
  })
})

describe('search', () => {
  test('by UPRN, postcode without spaces, or address; wildcards are literal', async () => {
    expect((await get(`/api/v1/households?q=${UPRN}`, keys.crm)).json()).toEqual([{ uprn: UPRN, address: '1 Test Street', postcode: 'L1 1AA', ward: 'Central' }])
    expect((await get('/api/v1/households?q=l11aa', keys.crm)).json()).toHaveLength(2)
    expect((await get('/api/v1/households?q=2%20Test', keys.crm)).json().map((h: { uprn: number }) => h.uprn)).toEqual([100000000002])
    expect((await get('/api/v1/households?q=%25%25', keys.crm)).json()).toEqual([])
  })
})

describe('audit', () => {
  test('every successful household read is recorded with who, what and when; failures and searches are not reads of a record', async () => {
    await db.query('DELETE FROM audit_log')
    await get(`/api/v1/households/${UPRN}`, keys.crm)
    await get(`/api/v1/households/${UPRN}/collections`, keys.contract_manager)
    await get('/api/v1/households/999999999999', keys.crm)
    await get(`/api/v1/households/${UPRN}`, keys.viewer)
    expect(await audited()).toBe(2)
    const log = (await get(`/api/v1/audit?uprn=${UPRN}&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`, ADMIN)).json()
    expect(log.map((e: { role: string; action: string; actorName: string }) => [e.role, e.action, e.actorName])).toEqual([
      ['contract_manager', 'GET /api/v1/households/:uprn/collections', 'contract_manager system'],
      ['crm', 'GET /api/v1/households/:uprn', 'crm system'],
    ])
    expect((await get('/api/v1/audit?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z', keys.crm)).statusCode).toBe(403)
  })
})
