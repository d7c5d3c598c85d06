// The load generator against the real broker and ingest: raw connections logged in as real devices,
// every PUBACK accounted for, and every acknowledged message found in the database.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { hashSecret } from '../../core/secrets.ts'
import { provisionDevices } from '../../storage/devices.ts'
import { LoadError, runLoad, type LoadDevice } from '../../simulators/load-generator.ts'
import { count, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

const SECRET = 'load-test-secret-0123456789'
let t: TestStack
let sensors: LoadDevice[]
let units: LoadDevice[]

beforeAll(async () => {
  t = await startTestStack({ INGEST_BATCH_MS: 100 })
  const secretHash = await hashSecret(SECRET)
  sensors = Array.from({ length: 40 }, (_, i) => ({ deviceId: `load-s${String(i).padStart(3, '0')}`, secret: SECRET, kind: 'bin' as const }))
  units = Array.from({ length: 5 }, (_, i) => ({ deviceId: `load-v${i}`, secret: SECRET, kind: 'vehicle' as const }))
  await provisionDevices(t.db, [...sensors, ...units].map((d) => ({ deviceId: d.deviceId, kind: d.kind!, secretHash })))
})
afterAll(async () => t?.close())

describe('load generator', () => {
  test('spreads a paced load over many connections; every acknowledged (device, seq) is stored', async () => {
    const report = await runLoad({ url: t.mqttUrl, devices: sensors, rate: 1_000, messages: 4_000 })
    expect(report.connections).toBe(40)
    expect(report.refused).toEqual([])
    expect(report.sent).toBe(4_000)
    expect(report.acked).toBe(4_000)
    expect(report.latencyMs.count).toBe(4_000)
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99)
    expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.max)
    expect(report.achievedRate).toBeGreaterThan(0)

    await waitFor(async () => (await count(t.db, 'SELECT 1 FROM bin_readings')) === 4_000, 60_000, 'readings stored')
    const { rows } = await t.db.query<{ deviceId: string; seq: number }>(`SELECT device_id AS "deviceId", seq FROM bin_readings`)
    expect(rows.every((r) => report.wasAcked(r.deviceId, r.seq))).toBe(true)
    const acked = [...report.acknowledged()]
    expect(new Set(acked.map((a) => `${a.deviceId}#${a.seq}`)).size).toBe(4_000)
    // Spread evenly: 100 messages a device, seq 1..100.
    expect(report.seqRange('load-s000')).toEqual({ first: 1, last: 100 })
    expect(await count(t.db, `SELECT 1 FROM quarantine`)).toBe(0)
  })

  test('continues each device\'s sequence, in CBOR, for vehicle positions', async () => {
    const first = await runLoad({ url: t.mqttUrl, devices: units, rate: 500, messages: 500, binary: true })
    expect(first.acked).toBe(500)
    const { rows } = await t.db.query<{ deviceId: string; lastSeq: number }>(`SELECT device_id AS "deviceId", last_seq AS "lastSeq" FROM devices WHERE kind = 'vehicle'`)
    await waitFor(async () => (await count(t.db, 'SELECT 1 FROM vehicle_positions')) === 500, 30_000, 'positions stored')
    const lastSeq = new Map((await t.db.query<{ deviceId: string; lastSeq: number }>(`SELECT device_id AS "deviceId", last_seq AS "lastSeq" FROM devices WHERE kind = 'vehicle'`)).rows.map((r) => [r.deviceId, r.lastSeq]))
    expect(rows).toHaveLength(5)
    const second = await runLoad({ url: t.mqttUrl, devices: units, rate: 500, messages: 500, binary: true, startSeq: (id) => lastSeq.get(id)! + 1 })
    expect(second.acked).toBe(500)
    await waitFor(async () => (await count(t.db, 'SELECT 1 FROM vehicle_positions')) === 1_000, 30_000, 'second run stored')
    expect(await count(t.db, `SELECT 1 FROM quarantine`)).toBe(0)
    expect(await count(t.db, `SELECT 1 FROM device_gaps WHERE device_id LIKE 'load-v%' AND NOT lead_in`)).toBe(0)
  })

  test('a device with the wrong secret is refused; the others carry on', async () => {
    const devices = [...sensors.slice(0, 4), { deviceId: 'load-s039', secret: 'not-the-secret-at-all' }]
    const report = await runLoad({ url: t.mqttUrl, devices, rate: 500, messages: 100, startSeq: () => 1_000 })
    expect(report.refused).toEqual([{ deviceId: 'load-s039', reason: 'CONNACK return code 4' }])
    expect(report.connections).toBe(4)
    expect(report.sent).toBe(80) // the refused device's share is never sent
    expect(report.acked).toBe(80)
  })

  test('bad options are refused with a named error', async () => {
    await expect(runLoad({ url: t.mqttUrl, devices: [], rate: 1, messages: 1 })).rejects.toThrow(LoadError)
    await expect(runLoad({ url: 'ws://127.0.0.1:1', devices: sensors, rate: 1, messages: 1 })).rejects.toThrow(LoadError)
    await expect(runLoad({ url: t.mqttUrl, devices: sensors, rate: 0, messages: 1 })).rejects.toThrow(LoadError)
  })
})
