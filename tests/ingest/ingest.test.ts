// Ingest over real sockets: real device clients publish to the real broker; ingest stores.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { MqttClient } from 'mqtt'
import { encodeBinary } from '../../core/contract/codec.ts'
import { connectDevice, count, provision, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

let t: TestStack
let sensor: MqttClient
let unit: MqttClient
const base = Date.now() - 60 * 60_000
const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString()
const metric = async (name: string, labels = '') => {
  const text = await t.ctx.registry.getSingleMetricAsString(name)
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `))
  return line ? Number(line.split(' ').pop()) : 0
}

beforeAll(async () => {
  t = await startTestStack()
  await seedMinimalRegistry(t.db)
  sensor = await connectDevice(t.mqttUrl, 'sensor-1', await provision(t.db, 'sensor-1', 'bin', { binId: 'bin-1' }))
  unit = await connectDevice(t.mqttUrl, 'unit-1', await provision(t.db, 'unit-1', 'vehicle', { vehicleId: 'rcv-1' }))
})
afterAll(async () => {
  await sensor?.endAsync()
  await unit?.endAsync()
  await t?.close()
})

describe('ingest', () => {
  test('readings, lifts, positions and status are stored with their household', async () => {
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 1, ts: at(0), fillPct: 80, tempC: 9.5, batteryV: 3.61, status: 'lidOpen' }), { qos: 1 })
    await unit.publishAsync('kerbside/v1/vehicles/unit-1/position', JSON.stringify({ seq: 1, ts: at(1), lat: 53.4084, lon: -2.9916, speedKmh: 12, heading: 180 }), { qos: 1 })
    await unit.publishAsync('kerbside/v1/vehicles/unit-1/lift', JSON.stringify({ seq: 2, ts: at(2), tag: 'TAG-0001', weightKg: 21.4, lat: 53.4084, lon: -2.9916, outcome: 'collected' }), { qos: 1 })
    await unit.publishAsync('kerbside/v1/vehicles/unit-1/lift', JSON.stringify({ seq: 3, ts: at(3), tag: 'TAG-UNKNOWN', lat: 53.4085, lon: -2.9915, outcome: 'contaminated' }), { qos: 1 })
    await unit.publishAsync('kerbside/v1/vehicles/unit-1/status', JSON.stringify({ online: true }), { qos: 1, retain: true })
    await waitFor(async () => (await count(t.db, 'SELECT 1 FROM lift_events')) === 2 && (await count(t.db, 'SELECT 1 FROM device_status_events')) === 1, 10_000, 'rows')

    const reading = (await t.db.query(`SELECT * FROM bin_readings`)).rows[0]
    expect(reading).toMatchObject({ device_id: 'sensor-1', seq: 1, uprn: 100000000001, bin_id: 'bin-1', status: 'lidOpen', fill_pct: 80 })
    expect((reading!.ts as Date).toISOString()).toBe(at(0))
    const lifts = (await t.db.query(`SELECT tag, bin_id, uprn, vehicle_id, outcome, weight_kg FROM lift_events ORDER BY seq`)).rows
    expect(lifts).toEqual([
      { tag: 'TAG-0001', bin_id: 'bin-1', uprn: 100000000001, vehicle_id: 'rcv-1', outcome: 'collected', weight_kg: expect.closeTo(21.4, 3) },
      { tag: 'TAG-UNKNOWN', bin_id: null, uprn: null, vehicle_id: 'rcv-1', outcome: 'contaminated', weight_kg: null },
    ])
    expect(await count(t.db, `SELECT 1 FROM vehicle_positions WHERE vehicle_id = 'rcv-1'`)).toBe(1)
    const device = (await t.db.query(`SELECT online, last_seq FROM devices WHERE device_id = 'unit-1'`)).rows[0]
    expect(device).toEqual({ online: true, last_seq: 3 })
  })

  test('a redelivered message is stored once and counted as a duplicate', async () => {
    const before = await metric('kerbside_ingest_duplicates_total')
    const msg = JSON.stringify({ seq: 10, ts: at(10), fillPct: 55 })
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', msg, { qos: 1 })
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', msg, { qos: 1 })
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', msg, { qos: 1, dup: true } as never)
    await waitFor(async () => (await metric('kerbside_ingest_duplicates_total')) - before === 2, 10_000, 'duplicates counted')
    expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE seq = 10`)).toBe(1)
  })

  test("a new device's earlier message arriving after a later one is stored, and is no loss", async () => {
    const missingBefore = await metric('kerbside_ingest_seq_missing_total')
    await t.db.query(`INSERT INTO vehicles (vehicle_id, registration, contractor_id) VALUES ('rcv-2', 'KB26 RCW', 'c1')`)
    const late = await connectDevice(t.mqttUrl, 'unit-2', await provision(t.db, 'unit-2', 'vehicle', { vehicleId: 'rcv-2' }))
    try {
      const position = (seq: number) => JSON.stringify({ seq, ts: at(30 + seq), lat: 53.4084, lon: -2.9916 })
      await late.publishAsync('kerbside/v1/vehicles/unit-2/position', position(5), { qos: 1 })
      await waitFor(async () => (await count(t.db, `SELECT 1 FROM vehicle_positions WHERE device_id = 'unit-2'`)) === 1, 10_000, 'first stored')
      // seq 3 and 4 were sent first but come after (a broker restart can reorder a session queue)
      await late.publishAsync('kerbside/v1/vehicles/unit-2/position', position(3), { qos: 1 })
      await late.publishAsync('kerbside/v1/vehicles/unit-2/position', position(4), { qos: 1 })
      await waitFor(async () => (await count(t.db, `SELECT 1 FROM vehicle_positions WHERE device_id = 'unit-2'`)) === 3, 10_000, 'late ones stored')
      expect(await count(t.db, `SELECT 1 FROM quarantine WHERE device_id = 'unit-2'`)).toBe(0)
      expect(await metric('kerbside_ingest_seq_missing_total')).toBe(missingBefore)
    } finally {
      await late.endAsync()
    }
  })

  test('a jump in seq opens a gap, a late message fills it, a regression is quarantined', async () => {
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 14, ts: at(14), fillPct: 60 }), { qos: 1 })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM device_gaps WHERE device_id = 'sensor-1' AND after_seq = 10`)) === 1, 10_000, 'gap')
    // seq 1 then 10 earlier in this file left the gap (1, 10); this one is (10, 14).
    expect((await t.db.query(`SELECT after_seq, before_seq, missing FROM device_gaps WHERE device_id = 'sensor-1' AND NOT lead_in ORDER BY after_seq`)).rows)
      .toEqual([{ after_seq: 1, before_seq: 10, missing: 8 }, { after_seq: 10, before_seq: 14, missing: 3 }])

    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 12, ts: at(12), fillPct: 58 }), { qos: 1 })
    await waitFor(async () => (await t.db.query(`SELECT missing FROM device_gaps WHERE device_id = 'sensor-1' AND after_seq = 10`)).rows[0]?.missing === 2, 10_000, 'gap filled')
    // The late message is history; the sensor's latest state stays the newer seq 14.
    expect((await t.db.query(`SELECT seq, fill_pct, bin_id, uprn FROM latest_readings WHERE device_id = 'sensor-1'`)).rows).toEqual([{ seq: 14, fill_pct: 60, bin_id: 'bin-1', uprn: 100000000001 }])

    // seq 10 again, but with another timestamp: below the stored maximum, in no open gap, and not a
    // redelivery of the stored seq 10 — the device's counter went backwards.
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 10, ts: at(20), fillPct: 1 }), { qos: 1 })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM quarantine WHERE reason = 'seq_regression'`)) === 1, 10_000, 'regression quarantined')
    expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE seq = 10`)).toBe(1)
    expect((await t.db.query(`SELECT last_seq FROM devices WHERE device_id = 'sensor-1'`)).rows[0]).toEqual({ last_seq: 14 })
  })

  test('the CBOR encoding is stored like JSON', async () => {
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading/cbor', encodeBinary({ seq: 15, ts: at(15), fillPct: 61.5, batteryV: 3.55 }), { qos: 1 })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings WHERE seq = 15`)) === 1, 10_000, 'cbor reading')
    expect((await t.db.query(`SELECT fill_pct, battery_v FROM bin_readings WHERE seq = 15`)).rows[0]).toEqual({ fill_pct: 61.5, battery_v: expect.closeTo(3.55, 5) })
  })

  test('refused input is quarantined with its reason and counted; valid input after it is stored', async () => {
    const bad = ['{not json', JSON.stringify({ seq: 16, ts: at(16) }), JSON.stringify({ seq: 17, ts: at(17), fillPct: 'full' })]
    for (const p of bad) await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', p, { qos: 1 })
    await sensor.publishAsync('kerbside/v1/bins/sensor-1/reading', JSON.stringify({ seq: 18, ts: at(18), fillPct: 70 }), { qos: 1 })
    await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings WHERE seq = 18`)) === 1, 10_000, 'valid after bad')
    const reasons = (await t.db.query<{ reason: string }>(`SELECT reason FROM quarantine WHERE device_id = 'sensor-1' ORDER BY id`)).rows.map((r) => r.reason)
    expect(reasons).toEqual(expect.arrayContaining(['bad_json', 'schema']))
    expect(await metric('kerbside_ingest_rejected_total', 'reason="bad_json"')).toBeGreaterThanOrEqual(1)
    expect(await metric('kerbside_ingest_rejected_total', 'reason="schema"')).toBeGreaterThanOrEqual(2)
  })
})

describe('device status', () => {
  test('regression: an offline→online pair inside one batch records both transitions', async () => {
    await t.db.query(`INSERT INTO devices (device_id, kind, secret_hash, online) VALUES ('flappy', 'bin', '!', true)`)
    const { writeBatch } = await import('../../ingest/write-batch.ts')
    const { parseTopic } = await import('../../core/contract/topics.ts')
    const topic = 'kerbside/v1/bins/flappy/status'
    const item = (online: boolean, ts: string) => ({ topic, payload: Buffer.from('{}'), receivedAt: new Date(), parsed: parseTopic(topic), result: { ok: true as const, message: { kind: 'status' as const, body: { online, ts } } } })
    await t.db.transaction((tx) => writeBatch(tx, [item(false, at(30)), item(true, at(31)), item(true, at(32))]))
    const events = (await t.db.query<{ online: boolean }>(`SELECT online FROM device_status_events WHERE device_id = 'flappy' ORDER BY ts`)).rows
    expect(events.map((e) => e.online)).toEqual([false, true])
    expect((await t.db.query(`SELECT online FROM devices WHERE device_id = 'flappy'`)).rows[0]).toEqual({ online: true })
  })
})
