// The spine against the machine's real PostgreSQL server (plain tier): the same flows as the
// embedded suite — devices publish to the real broker, ingest stores, the API serves.
import { afterAll, beforeAll, expect, test } from 'vitest'
import mqtt from 'mqtt'
import { connectDevice, count, provision, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts'
import { readingAggregates, refreshReadingsRollup } from '../../storage/readings.ts'

let pgdb: TestDatabase
let t: TestStack
beforeAll(async () => {
  pgdb = await createTestDatabase()
  t = await startTestStack({ DATABASE_URL: pgdb.url })
  await seedMinimalRegistry(t.db)
})
afterAll(async () => {
  await t?.close()
  await pgdb?.drop()
})

test('the server offers the plain PostgreSQL tier and Kerbside uses its own roll-ups', () => {
  expect(t.db.kind).toBe('pg')
  expect(t.db.capabilities).toMatchObject({ tier: 'postgresql', hypertables: false, continuousAggregates: false })
})

test('readings and lifts flow from devices through the broker and ingest into PostgreSQL and out of the API', async () => {
  const sensor = await connectDevice(t.mqttUrl, 'sensor-1', await provision(t.db, 'sensor-1', 'bin', { binId: 'bin-1' }))
  const unit = await connectDevice(t.mqttUrl, 'unit-1', await provision(t.db, 'unit-1', 'vehicle', { vehicleId: 'rcv-1' }))
  const base = Date.now() - 3 * 3600_000
  for (let i = 0; i < 30; i++) {
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: i + 1, ts: new Date(base + i * 360_000).toISOString(), fillPct: i * 3 }), { qos: 1 })
  }
  await unit.publishAsync('kerbside/v1/vehicles/unit-1/lift', JSON.stringify({ seq: 1, ts: new Date().toISOString(), tag: 'TAG-0001', weightKg: 14, lat: 53.4, lon: -2.99, outcome: 'collected' }), { qos: 1 })
  // a redelivery is not stored twice
  await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 30, ts: new Date(base + 29 * 360_000).toISOString(), fillPct: 87 }), { qos: 1 })
  await waitFor(async () => (await count(t.db, 'SELECT 1 FROM bin_readings')) === 30 && (await count(t.db, 'SELECT 1 FROM lift_events')) === 1, 15_000, 'rows in PostgreSQL')
  expect((await t.db.query(`SELECT uprn, bin_id FROM lift_events`)).rows).toEqual([{ uprn: 100000000001, bin_id: 'bin-1' }])

  await refreshReadingsRollup(t.db)
  const from = new Date(base - 3600_000)
  const to = new Date()
  const hourly = await readingAggregates(t.db, 'sensor-1', from, to, 3600)
  expect(hourly.reduce((s, b) => s + b.n, 0)).toBe(30)
  const res = await fetch(`${t.httpUrl}/api/v1/devices/sensor-1/readings/aggregate?from=${from.toISOString()}&to=${to.toISOString()}&bucket=1d`, { headers: { authorization: `Bearer ${t.adminKey}` } })
  expect(((await res.json()) as { n: number }[]).reduce((s, b) => s + b.n, 0)).toBe(30)
  await sensor.endAsync()
  await unit.endAsync()
})

test('wrong secret, unknown device and publishing under another id are refused; nothing is stored', async () => {
  const before = await count(t.db, 'SELECT 1 FROM bin_readings')
  const refused = (opts: mqtt.IClientOptions) => new Promise<boolean>((resolve) => {
    const c = mqtt.connect(t.mqttUrl, { reconnectPeriod: 0, ...opts })
    c.once('connect', () => { c.end(true); resolve(false) })
    c.once('error', () => { c.end(true); resolve(true) })
  })
  expect(await refused({ clientId: 'sensor-1', username: 'sensor-1', password: 'wrong' })).toBe(true)
  expect(await refused({ clientId: 'nobody', username: 'nobody', password: 'x' })).toBe(true)
  const secret2 = await provision(t.db, 'sensor-2', 'bin', { binId: 'bin-2' })
  const spoofer = await connectDevice(t.mqttUrl, 'sensor-2', secret2)
  const closed = new Promise<void>((resolve) => spoofer.once('close', () => resolve()))
  spoofer.publish('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 999, ts: new Date().toISOString(), fillPct: 1 }), { qos: 1 })
  await closed
  await new Promise((r) => setTimeout(r, 300))
  expect(await count(t.db, 'SELECT 1 FROM bin_readings')).toBe(before)
})
