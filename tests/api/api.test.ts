// The HTTP API over a real socket: ops endpoints, OpenAPI, provisioning, telemetry reads, live feed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { createApiKey } from '../../storage/api-keys.ts'
import { connectDevice, count, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

let t: TestStack
let viewerKey: string
const api = (path: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${t.httpUrl}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), ...(init.headers as Record<string, string> | undefined) } })

beforeAll(async () => {
  t = await startTestStack()
  await seedMinimalRegistry(t.db)
  viewerKey = (await createApiKey(t.db, 'wallboard', 'viewer')).key
})
afterAll(async () => t?.close())

describe('operations', () => {
  test('health, readiness and Prometheus metrics', async () => {
    expect(await (await api('/healthz')).json()).toEqual({ status: 'ok' })
    const ready = await api('/readyz')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, ingest: true } })
    const metrics = await (await api('/metrics')).text()
    for (const name of ['kerbside_broker_connected_clients', 'kerbside_broker_rejections_total', 'kerbside_ingest_received_total', 'kerbside_ingest_rejected_total', 'kerbside_process_resident_memory_bytes']) {
      expect(metrics).toContain(name)
    }
  })

  test('the OpenAPI document describes the routes and their schemas; the UI is served', async () => {
    const doc = await (await api('/docs/json')).json() as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/devices', '/api/v1/devices/{deviceId}/readings', '/api/v1/devices/{deviceId}/readings/aggregate', '/healthz']))
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Device', 'Reading', 'ReadingBucket', 'Error']))
    expect((await api('/docs')).status).toBeLessThan(400)
  })

  test('security headers are set', async () => {
    const res = await api('/healthz')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
  })
})

describe('provisioning', () => {
  test('needs a key with the right role', async () => {
    const body = JSON.stringify({ deviceId: 'sensor-x', kind: 'bin', binId: 'bin-1' })
    const none = await api('/api/v1/devices', { method: 'POST', body })
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ code: 'KERBSIDE_ERR_UNAUTHENTICATED' })
    const viewer = await api('/api/v1/devices', { method: 'POST', body, key: viewerKey })
    expect(viewer.status).toBe(403)
    expect(await viewer.json()).toMatchObject({ code: 'KERBSIDE_ERR_FORBIDDEN' })
    expect((await api('/api/v1/devices', { method: 'POST', body, key: 'ks_aaaaaaaaaaaa_' + 'x'.repeat(43) })).status).toBe(401)
  })

  test('returns the secret once; the device logs in with it and its readings come back', async () => {
    const res = await api('/api/v1/devices', { method: 'POST', key: t.adminKey, body: JSON.stringify({ deviceId: 'sensor-a', kind: 'bin', binId: 'bin-1' }) })
    expect(res.status).toBe(201)
    const { secret, device, mqtt } = await res.json() as { secret: string; device: { deviceId: string }; mqtt: { topics: string[] } }
    expect(device.deviceId).toBe('sensor-a')
    expect(mqtt.topics).toContain('kerbside/v1/bins/sensor-a/reading')
    const stored = (await t.db.query<{ secret_hash: string }>(`SELECT secret_hash FROM devices WHERE device_id = 'sensor-a'`)).rows[0]!.secret_hash
    expect(stored).toMatch(/^scrypt\$/)
    expect(stored).not.toContain(secret)

    const client = await connectDevice(t.mqttUrl, 'sensor-a', secret)
    const t0 = Date.now() - 2 * 3600_000
    for (let i = 0; i < 12; i++) {
      await client.publishAsync('kerbside/v1/bins/sensor-a/reading', JSON.stringify({ seq: i + 1, ts: new Date(t0 + i * 600_000).toISOString(), fillPct: 10 + i }), { qos: 1 })
    }
    await client.endAsync()
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'sensor-a'`)) === 12, 10_000, 'readings')
    const range = `from=${new Date(t0 - 3600_000).toISOString()}&to=${new Date().toISOString()}`
    const raw = await (await api(`/api/v1/devices/sensor-a/readings?${range}&limit=5`, { key: viewerKey })).json() as { seq: number }[]
    expect(raw.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
    const agg = await (await api(`/api/v1/devices/sensor-a/readings/aggregate?${range}&bucket=1d`, { key: viewerKey })).json() as { n: number; fillMin: number; fillMax: number }[]
    expect(agg.reduce((s, b) => s + b.n, 0)).toBe(12)
    expect(Math.min(...agg.map((b) => b.fillMin))).toBe(10)
    expect(Math.max(...agg.map((b) => b.fillMax))).toBe(21)
    const listed = await (await api('/api/v1/devices/sensor-a', { key: viewerKey })).json() as { lastSeq: number }
    expect(listed.lastSeq).toBe(12)
  })

  test('invalid requests get a clear 4xx and change nothing', async () => {
    const cases: [string, RequestInit & { key?: string }, number, string][] = [
      ['/api/v1/devices', { method: 'POST', key: t.adminKey, body: JSON.stringify({ deviceId: 'bad/id', kind: 'bin' }) }, 400, 'FST_ERR_VALIDATION'],
      ['/api/v1/devices', { method: 'POST', key: t.adminKey, body: JSON.stringify({ deviceId: 'ok', kind: 'robot' }) }, 400, 'FST_ERR_VALIDATION'],
      ['/api/v1/devices', { method: 'POST', key: t.adminKey, body: JSON.stringify({ deviceId: 'ok', kind: 'bin', extra: 1 }) }, 400, 'FST_ERR_VALIDATION'],
      ['/api/v1/devices', { method: 'POST', key: t.adminKey, body: '{"deviceId":' }, 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
      ['/api/v1/devices', { method: 'POST', key: t.adminKey, body: JSON.stringify({ deviceId: 'ok2', kind: 'bin', binId: 'no-such-bin' }) }, 404, 'KERBSIDE_ERR_NOT_FOUND'],
      ['/api/v1/devices', { method: 'POST', key: t.adminKey, body: JSON.stringify({ deviceId: 'sensor-a', kind: 'bin' }) }, 409, 'KERBSIDE_ERR_DEVICE_CONFLICT'],
      ['/api/v1/devices/sensor-a/readings?from=yesterday&to=now', { key: viewerKey }, 400, 'FST_ERR_VALIDATION'],
      ['/api/v1/devices/sensor-a/readings?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', { key: viewerKey }, 400, 'KERBSIDE_ERR_BAD_RANGE'],
      ['/api/v1/devices/sensor-a/readings/aggregate?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&bucket=3m', { key: viewerKey }, 400, 'FST_ERR_VALIDATION'],
      ['/api/v1/devices/ghost', { key: viewerKey }, 404, 'KERBSIDE_ERR_NOT_FOUND'],
      ['/api/v1/nothing-here', { key: viewerKey }, 404, 'KERBSIDE_ERR_NOT_FOUND'],
    ]
    const before = await count(t.db, 'SELECT 1 FROM devices')
    for (const [path, init, status, code] of cases) {
      const res = await api(path, init)
      expect(res.status, path).toBe(status)
      const body = await res.json() as { code: string; message: string }
      expect(body.code, path).toBe(code)
      expect(body.message.length).toBeGreaterThan(5)
    }
    expect(await count(t.db, 'SELECT 1 FROM devices')).toBe(before)
  })
})

describe('live feed', () => {
  test('streams validated telemetry to WebSocket clients and refuses anonymous ones', async () => {
    const anonymous = new WebSocket(`${t.httpUrl.replace('http', 'ws')}/api/v1/live`)
    const refused = await new Promise<number>((resolve) => anonymous.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))
    expect(refused).toBe(401)

    const ws = new WebSocket(`${t.httpUrl.replace('http', 'ws')}/api/v1/live?api_key=${encodeURIComponent(viewerKey)}`)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const events: { type: string; deviceId: string; data: { tag?: string } }[] = []
    ws.on('message', (m) => events.push(JSON.parse(m.toString())))
    const res = await api('/api/v1/devices', { method: 'POST', key: t.adminKey, body: JSON.stringify({ deviceId: 'unit-live', kind: 'vehicle', vehicleId: 'rcv-1' }) })
    const { secret } = await res.json() as { secret: string }
    const unit = await connectDevice(t.mqttUrl, 'unit-live', secret)
    await unit.publishAsync('kerbside/v1/vehicles/unit-live/lift', JSON.stringify({ seq: 1, ts: new Date().toISOString(), tag: 'TAG-0002', lat: 53.4, lon: -2.99, outcome: 'collected' }), { qos: 1 })
    await unit.publishAsync('kerbside/v1/vehicles/unit-live/lift', 'not json', { qos: 1 })
    await waitFor(() => events.some((e) => e.type === 'lift'), 5_000, 'live lift event')
    // The wallboard's viewer key gets the lift without its RFID tag (api/access-model.ts).
    expect(events.find((e) => e.type === 'lift')).toMatchObject({ deviceId: 'unit-live', deviceKind: 'vehicle', data: { outcome: 'collected' } })
    expect(events.find((e) => e.type === 'lift')!.data).not.toHaveProperty('tag')
    expect(events.filter((e) => e.type === 'lift')).toHaveLength(1)
    ws.close()
    await unit.endAsync()

    // A listener that connects later asks for what it missed: the lift comes again, then a count.
    const late = new WebSocket(`${t.httpUrl.replace('http', 'ws')}/api/v1/live?api_key=${encodeURIComponent(viewerKey)}`)
    await new Promise((resolve, reject) => { late.once('open', resolve); late.once('error', reject) })
    const replayed: { type: string; deviceId?: string; events?: number; data?: { tag?: string } }[] = []
    late.on('message', (m) => replayed.push(JSON.parse(m.toString())))
    late.send('not json') // ignored
    late.send(JSON.stringify({ type: 'replay', since: Date.now() - 60_000 }))
    await waitFor(() => replayed.some((e) => e.type === 'replayed'), 5_000, 'replay answer')
    expect(replayed.find((e) => e.type === 'lift')).toMatchObject({ deviceId: 'unit-live', data: { outcome: 'collected' } })
    expect(replayed.find((e) => e.type === 'lift')!.data).not.toHaveProperty('tag')
    expect(replayed.find((e) => e.type === 'replayed')!.events).toBeGreaterThanOrEqual(1)
    replayed.length = 0
    late.send(JSON.stringify({ type: 'replay', since: Date.now() + 1000 })) // nothing after a future instant
    await waitFor(() => replayed.some((e) => e.type === 'replayed'), 5_000, 'second replay answer')
    expect(replayed).toEqual([{ type: 'replayed', since: expect.any(Number), events: 0 }])
    // A contract manager's connection gets the tag, and is audited as it opens (a viewer's is not: no personal data).
    const auditedBefore = await count(t.db, `SELECT 1 FROM audit_log WHERE action = 'GET /api/v1/live'`)
    const managerKey = (await createApiKey(t.db, 'contract manager', 'contract_manager')).key
    const manager = new WebSocket(`${t.httpUrl.replace('http', 'ws')}/api/v1/live?api_key=${encodeURIComponent(managerKey)}`)
    await new Promise((resolve, reject) => { manager.once('open', resolve); manager.once('error', reject) })
    const seen: { type: string; data?: { tag?: string } }[] = []
    manager.on('message', (m) => seen.push(JSON.parse(m.toString())))
    manager.send(JSON.stringify({ type: 'replay', since: Date.now() - 60_000 }))
    await waitFor(() => seen.some((e) => e.type === 'replayed'), 5_000, 'manager replay answer')
    expect(seen.find((e) => e.type === 'lift')).toMatchObject({ data: { tag: 'TAG-0002' } })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM audit_log WHERE action = 'GET /api/v1/live'`)) === auditedBefore + 1, 5_000, 'audit entry of the connection')
    manager.close()
    // A connection asking over and over is refused past ten a minute, and told so.
    replayed.length = 0
    for (let i = 0; i < 9; i++) late.send(JSON.stringify({ type: 'replay', since: Date.now() - 60_000 }))
    await waitFor(() => replayed.filter((e) => e.type === 'replayed').length === 9, 5_000, 'nine more replay answers')
    expect(replayed.filter((e) => e.type === 'replayed').map((e) => (e as { refused?: string }).refused ?? 'ok')).toEqual([...Array(8).fill('ok'), 'at most 10 replays a minute'])
    late.close()
  })
})
