// Acknowledged means stored: Kerbside's broker answers a device's PUBLISH only after the batch that
// holds it has committed, forwards it to subscribers only then, and not at all when it was refused.
// Real broker, real MQTT clients over TCP, the embedded TimescaleDB; the database's transactions are
// held back by a gate in front of the real adapter, to see what the broker does while a commit waits.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import mqtt, { type MqttClient } from 'mqtt'
import { revokeDevice } from '../../storage/devices.ts'
import { interceptCommits } from '../helpers/intercept-commits.ts'
import { connectDevice, count, provision, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

let t: TestStack
let gate: { open: Promise<void>; release: () => void } | null = null
let failWith: Error | null = null
const base = Date.now() - 30 * 60_000
const at = (s: number) => new Date(base + s * 1000).toISOString()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const closeGate = () => {
  let release!: () => void
  const open = new Promise<void>((r) => { release = r })
  gate = { open, release }
}
const openGate = () => { gate?.release(); gate = null }

async function subscriber(): Promise<{ client: MqttClient; received: { topic: string; payload: string }[] }> {
  const client = mqtt.connect(t.mqttUrl, { clientId: `kerbside-test-${Math.random().toString(36).slice(2)}`, username: 'kerbside-test', password: t.ctx.secrets.serviceSecret, reconnectPeriod: 0 })
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })
  const received: { topic: string; payload: string }[] = []
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }))
  await client.subscribeAsync('kerbside/v1/#', { qos: 1 })
  return { client, received }
}

beforeAll(async () => {
  t = await startTestStack()
  await seedMinimalRegistry(t.db)
  // One device per bin: a bin for each device of these tests.
  for (let i = 3; i <= 8; i++) await t.db.query(`INSERT INTO bins (bin_id, uprn, stream, rfid_tag, capacity_l) VALUES ($1, 100000000001, 'garden', $2, 240)`, [`bin-${i}`, `TAG-000${i}`])
  // The pipeline's transactions: held while the gate is closed, or failed.
  interceptCommits(t.db, async () => {
    if (gate) await gate.open
    if (failWith) throw failWith
  })
})
afterAll(async () => {
  openGate()
  await t?.close()
})

describe('PUBACK after commit', () => {
  test('no PUBACK and no delivery to subscribers while the commit waits; both once it is stored', async () => {
    const sensor = await connectDevice(t.mqttUrl, 'pac-1', await provision(t.db, 'pac-1', 'bin', { binId: 'bin-1' }))
    const sub = await subscriber()
    closeGate()
    let acked = false
    let storedWhenAcked = -1
    const published = sensor.publishAsync('kerbside/v1/bins/pac-1/reading', JSON.stringify({ seq: 1, ts: at(1), fillPct: 40 }), { qos: 1 }).then(async () => {
      acked = true
      storedWhenAcked = await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'pac-1'`)
    })
    await sleep(800)
    expect(acked).toBe(false)
    expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'pac-1'`)).toBe(0)
    expect(sub.received.filter((m) => m.topic.includes('pac-1'))).toEqual([])
    openGate()
    await published
    expect(storedWhenAcked).toBe(1)
    await waitFor(() => sub.received.some((m) => m.topic === 'kerbside/v1/bins/pac-1/reading'), 5000, 'delivery after the commit')
    await sensor.endAsync()
    await sub.client.endAsync()
  })

  test('refused input is quarantined, then acknowledged, and never forwarded', async () => {
    const sensor = await connectDevice(t.mqttUrl, 'pac-2', await provision(t.db, 'pac-2', 'bin', { binId: 'bin-2' }))
    const sub = await subscriber()
    await sensor.publishAsync('kerbside/v1/bins/pac-2/reading', JSON.stringify({ seq: 1, ts: at(2), fillPct: 142 }), { qos: 1 })
    expect(await count(t.db, `SELECT 1 FROM quarantine WHERE device_id = 'pac-2'`)).toBe(1)
    await sensor.publishAsync('kerbside/v1/bins/pac-2/reading', JSON.stringify({ seq: 2, ts: at(3), fillPct: 42 }), { qos: 1 })
    await waitFor(() => sub.received.some((m) => m.topic === 'kerbside/v1/bins/pac-2/reading'), 5000, 'the valid reading delivered')
    expect(sub.received.filter((m) => m.topic === 'kerbside/v1/bins/pac-2/reading').map((m) => JSON.parse(m.payload).fillPct)).toEqual([42])
    await sensor.endAsync()
    await sub.client.endAsync()
  })

  test('while commits fail the broker is not ready and acknowledges nothing; it recovers by itself', async () => {
    const sensor = await connectDevice(t.mqttUrl, 'pac-3', await provision(t.db, 'pac-3', 'bin', { binId: 'bin-3' }), { clean: false, reconnectPeriod: 200 })
    failWith = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    let acked = false
    const published = sensor.publishAsync('kerbside/v1/bins/pac-3/reading', JSON.stringify({ seq: 1, ts: at(4), fillPct: 50 }), { qos: 1 }).then(() => { acked = true })
    await waitFor(() => !t.stack.broker.broker.ready(), 5000, 'not ready')
    const ready = await fetch(`${t.httpUrl}/readyz`)
    expect(ready.status).toBe(503)
    const body = await ready.json() as { problems?: Record<string, string> }
    expect(body.problems?.ingest).toMatch(/unreachable.*ECONNREFUSED/)
    await sleep(500)
    expect(acked).toBe(false)
    failWith = null
    await published
    expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'pac-3'`)).toBe(1)
    await waitFor(() => t.stack.broker.broker.ready(), 5000, 'ready again')
    expect((await fetch(`${t.httpUrl}/readyz`)).status).toBe(200)
    await sensor.endAsync()
  })
})

describe('wills and revocation', () => {
  test('a will aimed at another device is refused at CONNECT; its own status is accepted', async () => {
    const secret = await provision(t.db, 'will-a', 'bin', { binId: 'bin-4' })
    const refused = mqtt.connect(t.mqttUrl, {
      clientId: 'will-a', username: 'will-a', password: secret, reconnectPeriod: 0,
      will: { topic: 'kerbside/v1/bins/will-b/reading', payload: Buffer.from(JSON.stringify({ seq: 9, ts: at(5), fillPct: 100, status: 'burning' })), qos: 1, retain: true },
    })
    const err = await new Promise<Error & { code?: number }>((resolve) => refused.once('error', resolve))
    expect(err.code).toBe(5) // CONNACK: not authorised
    refused.end(true)
    const own = await connectDevice(t.mqttUrl, 'will-a', secret, { will: { topic: 'kerbside/v1/bins/will-a/status', payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true } })
    expect(own.connected).toBe(true)
    await own.endAsync()
  })

  test('a revoked device is disconnected, and what it sends is neither stored nor shown live', async () => {
    const sensor = await connectDevice(t.mqttUrl, 'rev-1', await provision(t.db, 'rev-1', 'bin', { binId: 'bin-5' }))
    const sub = await subscriber()
    const closed = new Promise<number>((resolve) => sensor.once('close', () => resolve(Date.now())))
    await revokeDevice(t.db, 'rev-1')
    const revokedAt = Date.now()
    // Sent in the moment before the broker notices: refused by the pipeline, not forwarded.
    sensor.publish('kerbside/v1/bins/rev-1/reading', JSON.stringify({ seq: 1, ts: at(6), fillPct: 100, status: 'burning' }), { qos: 1 })
    const closedAt = await closed
    // The broker looks for revocations every 500 ms (this revocation is written straight to the
    // database, as another process would): how long it took is printed, not asserted (no timed
    // assertions); a revocation through the API closes the connection at once (revoked-device.test.ts).
    console.error(`revoked device disconnected ${closedAt - revokedAt} ms after its revocation was written`)
    await sleep(300)
    expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'rev-1'`)).toBe(0)
    expect(sub.received.filter((m) => m.topic.includes('rev-1'))).toEqual([])
    sensor.end(true)
    await sub.client.endAsync()
  })
})
