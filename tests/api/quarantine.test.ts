// Refused input made visible (issue 14): messages the real ingest pipeline refused — a faulty
// sensor's fillPct 142, a truncated JSON, a lift with an outcome outside the contract (it carries a
// bin tag) — listed by GET /api/v1/quarantine, filtered by device, reason and time, paged, counted by
// reason (repeats of the same payload counted), and each one's raw payload shown to the roles that
// may see it: contract manager and admin; provisioning gets the entry without the bytes; the
// viewer (wallboard) and the CRM nothing.
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApi, type Api } from '../../api/build-api.ts'
import type { QuarantinedPayload, QuarantinePage } from '../../api/schemas/quarantine.ts'
import { silentLogger } from '../../core/log.ts'
import { createPipeline, type Pipeline } from '../../ingest/pipeline.ts'
import { createApiKey } from '../../storage/api-keys.ts'
import type { Database } from '../../storage/database.ts'
import { openDatabase } from '../../storage/open-database.ts'

const ADMIN = 'admin-key-of-the-quarantine-test-01234'
let db: Database
let app: Api
let pipeline: Pipeline
const keys: Record<string, string> = {}
const get = (url: string, key: string = keys.contract_manager!) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } })
const page = async (url: string, key?: string): Promise<QuarantinePage> => {
  const res = await get(url, key)
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as QuarantinePage
}

const submit = (topic: string, payload: string | Buffer) => new Promise<{ refused: boolean; reason?: string }>((resolve, reject) => {
  pipeline.submit({ topic, payload: Buffer.from(payload) }, (err, verdict) => (err ? reject(err) : resolve(verdict as { refused: boolean; reason?: string })))
})

const ts = () => new Date(Date.now() - 60_000).toISOString()
const FAULTY = JSON.stringify({ seq: 7, ts: ts(), fillPct: 142, tempC: 9.5, batteryV: 3.6, status: 'ok' })
let before: Date

beforeAll(async () => {
  db = await openDatabase({ logger: silentLogger })
  app = await buildApi({ db, logger: silentLogger, registry: new Registry(), adminKey: ADMIN })
  pipeline = createPipeline({ db, logger: silentLogger, registry: new Registry(), batchSize: 100, batchMs: 0, maxPayloadBytes: 64 * 1024 })
  for (const role of ['crm', 'contract_manager', 'viewer', 'provisioning'] as const) keys[role] = (await createApiKey(db, `${role} system`, role)).key
  keys.admin = ADMIN
  before = new Date(Date.now() - 1000)
  // The faulty sensor sends the same bad reading twice (a retry): one entry, seen twice.
  expect((await submit('kerbside/v1/bins/sensor-faulty/reading', FAULTY)).refused).toBe(true)
  expect((await submit('kerbside/v1/bins/sensor-faulty/reading', FAULTY)).refused).toBe(true)
  expect((await submit('kerbside/v1/bins/sensor-faulty/reading', JSON.stringify({ seq: 8, ts: ts(), fillPct: 151 }))).refused).toBe(true)
  expect((await submit('kerbside/v1/bins/sensor-garbled/reading', '{"seq":3,"ts":')).refused).toBe(true)
  expect((await submit('kerbside/v1/vehicles/rcv-1/lift', JSON.stringify({ seq: 1, ts: ts(), tag: 'E2000017221101441890ABCD', lat: 53.4, lon: -2.98, outcome: 'thrown_in_river' }))).refused).toBe(true)
})
afterAll(async () => { await pipeline?.close(); await app?.close(); await db?.close() })

describe('GET /api/v1/quarantine', () => {
  test('lists every refused message newest first, with reasons, details and counts by reason', async () => {
    const all = await page('/api/v1/quarantine')
    expect(all.total).toBe(4)
    expect(all.entries.map((e) => e.deviceId)).toEqual(['rcv-1', 'sensor-garbled', 'sensor-faulty', 'sensor-faulty'])
    const faulty = all.entries.find((e) => e.deviceId === 'sensor-faulty' && e.timesSeen === 2)
    expect(faulty, 'the repeated reading is one entry seen twice').toBeDefined()
    expect(faulty!.detail).toMatch(/fillPct/)
    expect(faulty!.payloadBytes).toBe(Buffer.byteLength(FAULTY))
    expect(all.entries[0]).not.toHaveProperty('payloadText')
    const byReason = Object.fromEntries(all.byReason.map((r) => [r.reason, r]))
    const schema = all.entries.find((e) => e.deviceId === 'sensor-faulty')!.reason
    expect(byReason[schema]!.messages).toBeGreaterThanOrEqual(3)
    expect(all.byReason.reduce((s, r) => s + r.messages, 0)).toBe(5)
    expect(all.byReason.reduce((s, r) => s + r.entries, 0)).toBe(4)
  })

  test('filters by device, by reason and by time, and pages', async () => {
    const device = await page('/api/v1/quarantine?deviceId=sensor-faulty')
    expect(device.total).toBe(2)
    expect(device.entries.every((e) => e.deviceId === 'sensor-faulty')).toBe(true)
    const garbled = (await page('/api/v1/quarantine?deviceId=sensor-garbled')).entries[0]!
    const byReason = await page(`/api/v1/quarantine?reason=${garbled.reason}`)
    expect(byReason.entries.every((e) => e.reason === garbled.reason)).toBe(true)
    expect(byReason.entries.map((e) => e.deviceId)).toContain('sensor-garbled')
    // The counts by reason keep every reason, whatever reason is asked for (the page shows them to choose from).
    expect(byReason.byReason.length).toBe((await page('/api/v1/quarantine')).byReason.length)
    expect((await page(`/api/v1/quarantine?from=${encodeURIComponent(before.toISOString())}`)).total).toBe(4)
    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect((await page(`/api/v1/quarantine?from=${encodeURIComponent(future)}`)).total).toBe(0)
    expect((await page(`/api/v1/quarantine?to=${encodeURIComponent(before.toISOString())}`)).total).toBe(0)
    const first = await page('/api/v1/quarantine?limit=2')
    const second = await page('/api/v1/quarantine?limit=2&offset=2')
    expect(first.entries).toHaveLength(2)
    expect(second.entries).toHaveLength(2)
    expect(second.total).toBe(4)
    expect(new Set([...first.entries, ...second.entries].map((e) => e.id)).size).toBe(4)
  })

  test('bad filters are clear errors', async () => {
    const res = await get(`/api/v1/quarantine?from=${encodeURIComponent(new Date().toISOString())}&to=${encodeURIComponent(before.toISOString())}`)
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/`to` must be after `from`/)
    expect((await get('/api/v1/quarantine?reason=DROP%20TABLE')).statusCode).toBe(400)
    expect((await get('/api/v1/quarantine?limit=0')).statusCode).toBe(400)
  })

  test('operator data: contract manager, provisioning and admin; not the viewer, not the CRM, not without a key', async () => {
    expect((await get('/api/v1/quarantine', keys.provisioning)).statusCode).toBe(200)
    expect((await get('/api/v1/quarantine', keys.admin)).statusCode).toBe(200)
    expect((await get('/api/v1/quarantine', keys.viewer)).statusCode).toBe(403)
    expect((await get('/api/v1/quarantine', keys.crm)).statusCode).toBe(403)
    expect((await app.inject({ method: 'GET', url: '/api/v1/quarantine' })).statusCode).toBe(401)
  })
})

describe('GET /api/v1/quarantine/:id', () => {
  const idOf = async (deviceId: string) => (await page(`/api/v1/quarantine?deviceId=${deviceId}`)).entries[0]!.id

  test('the raw payload, as text when it is text, and in hex', async () => {
    const id = await idOf('sensor-garbled')
    const res = await get(`/api/v1/quarantine/${id}`)
    expect(res.statusCode, res.body).toBe(200)
    const entry = res.json() as QuarantinedPayload
    expect(entry.payloadText).toBe('{"seq":3,"ts":')
    expect(Buffer.from(entry.payloadHex!, 'hex').toString()).toBe('{"seq":3,"ts":')
    expect(entry.payloadTruncated).toBe(false)
  })

  test('the payload (a lift carries a bin tag and a position) only for contract manager and admin; provisioning sees what was wrong', async () => {
    const id = await idOf('rcv-1')
    for (const role of ['contract_manager', 'admin']) {
      const entry = (await get(`/api/v1/quarantine/${id}`, keys[role])).json() as QuarantinedPayload
      expect(entry.payloadText, role).toContain('E2000017221101441890ABCD')
    }
    const res = await get(`/api/v1/quarantine/${id}`, keys.provisioning)
    expect(res.statusCode).toBe(200)
    const entry = res.json() as QuarantinedPayload
    expect(entry.reason).toBeTruthy()
    expect(entry).not.toHaveProperty('payloadText')
    expect(entry).not.toHaveProperty('payloadHex')
    expect(res.body).not.toContain('E2000017221101441890ABCD')
    expect((await get(`/api/v1/quarantine/${id}`, keys.viewer)).statusCode).toBe(403)
  })

  test('binary payloads have no text; an unknown id is a 404 that says what to do', async () => {
    expect((await submit('kerbside/v1/bins/sensor-cbor/reading/cbor', Buffer.from([0xbf, 0x61, 0x00, 0x01]))).refused).toBe(true)
    const entry = (await get(`/api/v1/quarantine/${await idOf('sensor-cbor')}`)).json() as QuarantinedPayload
    expect(entry.payloadText).toBeNull()
    expect(entry.payloadHex).toBe('bf610001')
    const missing = await get('/api/v1/quarantine/99999999')
    expect(missing.statusCode).toBe(404)
    expect(missing.json().message).toMatch(/GET \/api\/v1\/quarantine/)
  })

  test('a replayed past is stamped with when each message arrived, not when it was written', async () => {
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000)
    await new Promise<void>((resolve, reject) => pipeline.submit({ topic: 'kerbside/v1/bins/sensor-old/reading', payload: Buffer.from('{"seq":1,'), receivedAt: threeDaysAgo }, (err) => (err ? reject(err) : resolve())))
    const old = await page(`/api/v1/quarantine?to=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`)
    expect(old.entries.map((e) => [e.deviceId, e.lastSeen])).toEqual([['sensor-old', threeDaysAgo.toISOString()]])
  })
})
