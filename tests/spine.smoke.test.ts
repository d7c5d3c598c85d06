import { afterAll, beforeAll, expect, test } from 'vitest'
import { connectDevice, count, provision, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from './helpers/stack.ts'

let t: TestStack
beforeAll(async () => {
  t = await startTestStack()
  await seedMinimalRegistry(t.db)
})
afterAll(async () => t?.close())

test('a reading published by a bin sensor is stored and served by the API', async () => {
  const secret = await provision(t.db, 'sensor-1', 'bin', { binId: 'bin-1' })
  const device = await connectDevice(t.mqttUrl, 'sensor-1', secret)
  const ts = new Date().toISOString()
  await device.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 1, ts, fillPct: 42.5, tempC: 11, batteryV: 3.6, status: 'ok' }), { qos: 1 })
  await waitFor(async () => (await count(t.db, 'SELECT 1 FROM bin_readings')) === 1, 10_000, 'reading stored')
  const res = await fetch(`${t.httpUrl}/api/v1/devices/sensor-1/readings?from=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { headers: { authorization: `Bearer ${t.adminKey}` } })
  expect(res.status).toBe(200)
  const rows = (await res.json()) as { seq: number }[]
  expect(rows).toHaveLength(1)
  expect(rows[0]).toMatchObject({ seq: 1, fillPct: 42.5, uprn: 100000000001, binId: 'bin-1' })
  await device.endAsync()
})
