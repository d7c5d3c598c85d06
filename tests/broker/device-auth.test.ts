// Device authentication and topic ACL on the real broker over real sockets.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import mqtt from 'mqtt'
import { connectDevice, count, provision, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'
import { revokeDevice } from '../../storage/devices.ts'

let t: TestStack
let secret1: string
let secret2: string
const ts = () => new Date().toISOString()
const rejections = async (reason: string) => {
  const text = await t.ctx.registry.getSingleMetricAsString('kerbside_broker_rejections_total')
  return Number(text.split('\n').find((l) => l.includes(`reason="${reason}"`))?.split(' ').pop() ?? 0)
}
/** Connect and report how the broker answered: 'connected' or the error it gave. */
const attempt = (opts: mqtt.IClientOptions) => new Promise<string>((resolve) => {
  const c = mqtt.connect(t.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  c.once('connect', () => { c.end(true); resolve('connected') })
  c.once('error', (err) => { c.end(true); resolve(err.message) })
})

beforeAll(async () => {
  t = await startTestStack({ MQTT_AUTH_FAILURES_PER_MINUTE: 1000 })
  await seedMinimalRegistry(t.db)
  secret1 = await provision(t.db, 'sensor-1', 'bin', { binId: 'bin-1' })
  secret2 = await provision(t.db, 'sensor-2', 'bin', { binId: 'bin-2' })
})
afterAll(async () => t?.close())

describe('device authentication', () => {
  test('a wrong secret, an unknown device and a borrowed client id are refused', async () => {
    expect(await attempt({ clientId: 'sensor-1', username: 'sensor-1', password: 'wrong' })).toMatch(/Bad username or password/i)
    expect(await attempt({ clientId: 'ghost', username: 'ghost', password: secret1 })).toMatch(/Bad username or password/i)
    expect(await attempt({ clientId: 'sensor-2', username: 'sensor-1', password: secret1 })).toMatch(/Not authorized/i)
    expect(await attempt({ clientId: 'anon' })).toMatch(/Bad username or password/i)
    expect(await attempt({ clientId: 'x', username: 'kerbside-ingest', password: 'not-the-service-secret' })).toMatch(/Bad username or password/i)
    expect(await rejections('bad_credentials')).toBeGreaterThanOrEqual(3)
    expect(await rejections('unknown_device')).toBe(1)
    expect(await rejections('client_id_mismatch')).toBe(1)
    expect(await attempt({ clientId: 'sensor-1', username: 'sensor-1', password: secret1 })).toBe('connected')
  })

  test('a revoked device can no longer log in', async () => {
    const secret = await provision(t.db, 'sensor-3', 'bin')
    expect(await attempt({ clientId: 'sensor-3', username: 'sensor-3', password: secret })).toBe('connected')
    await revokeDevice(t.db, 'sensor-3')
    expect(await attempt({ clientId: 'sensor-3', username: 'sensor-3', password: secret })).toMatch(/Not authorized/i)
  })
})

describe('topic ACL', () => {
  test('a device publishing under another device id is disconnected and nothing is stored', async () => {
    const device = await connectDevice(t.mqttUrl, 'sensor-1', secret1)
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()))
    device.publish('kerbside/v1/bins/sensor-2/reading', JSON.stringify({ seq: 1, ts: ts(), fillPct: 99 }), { qos: 1 })
    await closed
    expect(await rejections('topic_not_own')).toBe(1)
    // And a vehicle topic from a bin device, a topic outside the contract:
    for (const topic of ['kerbside/v1/vehicles/sensor-1/lift', 'elsewhere/topic']) {
      const d = await connectDevice(t.mqttUrl, 'sensor-1', secret1)
      const c = new Promise<void>((resolve) => d.once('close', () => resolve()))
      d.publish(topic, '{}', { qos: 1 })
      await c
    }
    expect(await rejections('topic_invalid')).toBe(2)
    // A legitimate message afterwards proves the pipeline was up while the refused ones were sent.
    const ok = await connectDevice(t.mqttUrl, 'sensor-2', secret2)
    await ok.publishAsync('kerbside/v1/bins/sensor-2/reading', JSON.stringify({ seq: 1, ts: ts(), fillPct: 10 }), { qos: 1 })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings`)) === 1, 10_000, 'legitimate reading')
    expect((await t.db.query(`SELECT device_id, fill_pct FROM bin_readings`)).rows).toEqual([{ device_id: 'sensor-2', fill_pct: 10 }])
    expect(await count(t.db, `SELECT 1 FROM quarantine`)).toBe(0)
    await ok.endAsync()
  })

  test("a device cannot subscribe to other devices' topics, only below its own", async () => {
    const device = await connectDevice(t.mqttUrl, 'sensor-1', secret1)
    // One SUBSCRIBE per filter; the SUBACK return code is on the error mqtt.js raises for it.
    const answer = (filter: string) => new Promise<number>((resolve) => {
      device.subscribe(filter, { qos: 1 }, (err, granted) => {
        const packet = (err as Error & { packet?: { granted?: number[] } } | null)?.packet
        resolve(packet?.granted?.[0] ?? (err ? -1 : granted?.[0]?.qos ?? -1))
      })
    })
    const codes = []
    for (const f of ['kerbside/v1/bins/+/reading', 'kerbside/v1/bins/sensor-2/#', '#', 'kerbside/v1/bins/sensor-1/commands']) codes.push(await answer(f))
    expect(codes).toEqual([128, 128, 128, 1])
    // And nothing of sensor-2's reaches sensor-1.
    const received: string[] = []
    device.on('message', (topic) => received.push(topic))
    const other = await connectDevice(t.mqttUrl, 'sensor-2', secret2)
    await other.publishAsync('kerbside/v1/bins/sensor-2/reading', JSON.stringify({ seq: 3, ts: ts(), fillPct: 12 }), { qos: 1 })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings WHERE seq = 3`)) === 1, 10_000, 'reading of sensor-2')
    expect(received).toEqual([])
    await other.endAsync()
    expect(await rejections('subscribe_denied')).toBe(3)
    await device.endAsync()
  })

  test('retained messages are only allowed on the status topic', async () => {
    const device = await connectDevice(t.mqttUrl, 'sensor-2', secret2)
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()))
    device.publish('kerbside/v1/bins/sensor-2/reading', JSON.stringify({ seq: 2, ts: ts(), fillPct: 11 }), { qos: 1, retain: true })
    await closed
    expect(await rejections('retain_not_allowed')).toBe(1)
  })
})

describe('brute force', () => {
  test('failed logins from one address are throttled and logged', async () => {
    const s = await startTestStack({ MQTT_AUTH_FAILURES_PER_MINUTE: 3 })
    try {
      const secret = await provision(s.db, 'sensor-9', 'bin')
      const tryOnce = (password: string) => new Promise<string>((resolve) => {
        const c = mqtt.connect(s.mqttUrl, { clientId: 'sensor-9', username: 'sensor-9', password, reconnectPeriod: 0 })
        c.once('connect', () => { c.end(true); resolve('connected') })
        c.once('error', (err) => { c.end(true); resolve(err.message) })
      })
      for (let i = 0; i < 3; i++) expect(await tryOnce(`guess-${i}`)).toMatch(/Bad username or password/i)
      // Now even the right secret is refused from this address until the minute is over.
      expect(await tryOnce(secret)).toMatch(/Not authorized/i)
      const text = await s.ctx.registry.getSingleMetricAsString('kerbside_broker_rejections_total')
      expect(text).toMatch(/reason="throttled"} 1/)
    } finally {
      await s.close()
    }
  })
})
