// 10,000 malformed payloads through the real broker: every one is refused with a reason and
// counted, every service stays up, nothing is stored, and valid messages sent after them are stored.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { connectDevice, count, provision, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

let t: TestStack
beforeAll(async () => {
  t = await startTestStack({ INGEST_MAX_PENDING: 5000 })
  await seedMinimalRegistry(t.db)
})
afterAll(async () => t?.close())

const rejectedTotal = async () => {
  const text = await t.ctx.registry.getSingleMetricAsString('kerbside_ingest_rejected_total')
  return text.split('\n').filter((l) => l.startsWith('kerbside_ingest_rejected_total{')).reduce((s, l) => s + Number(l.split(' ').pop()), 0)
}

/** Deterministic generator of bad payloads of many kinds; returns [topic suffix, payload]. */
function malformed(i: number): [string, Buffer | string] {
  const ts = new Date(Date.now() - 60_000).toISOString()
  const seq = 1_000_000 + i
  switch (i % 20) {
    case 0: return ['reading', `{"seq":${seq},"ts":"${ts}","fillPct":`]                                  // truncated JSON
    case 1: return ['reading', JSON.stringify({ seq, ts, fillPct: '50' })]                                // wrong type
    case 2: return ['reading', JSON.stringify({ seq, ts, fillPct: 100.5 + i })]                           // out of range
    case 3: return ['reading', JSON.stringify({ seq, ts })]                                               // missing field
    case 4: return ['reading', `{"seq":${seq},"ts":"${ts}","fillPct":NaN}`]                               // NaN is not JSON
    case 5: return ['reading', JSON.stringify({ seq, ts, fillPct: 1e308 })]                               // extreme number
    case 6: return ['reading', JSON.stringify({ seq: -seq, ts, fillPct: 5 })]                             // negative seq
    case 7: return ['reading', JSON.stringify({ seq, ts: '2999-01-01T00:00:00Z', fillPct: 5 })]           // far future
    case 8: return ['reading', JSON.stringify({ seq, ts: '1970-01-01T00:00:00Z', fillPct: 5 })]           // far past
    case 9: return ['reading', JSON.stringify({ seq, ts: 'yesterday', fillPct: 5 })]                      // not a time
    case 10: return ['reading', Buffer.from([0xc3, 0x28, 0xa0, 0xa1, i & 0xff])]                          // invalid UTF-8
    case 11: return ['reading', JSON.stringify({ seq, ts, fillPct: 5, status: 'ok\u0000; DROP TABLE bin_readings;--' })]
    case 12: return ['reading', JSON.stringify([seq, ts, 5])]                                             // array
    case 13: return ['reading', 'null']
    case 14: return ['reading', JSON.stringify({ seq, ts, fillPct: 5, extra: { deeply: { nested: i } } })] // unknown field
    case 15: return ['reading', i % 400 === 15 ? 'x'.repeat(200_000 + i) : JSON.stringify({ seq, ts, fillPct: 5, status: 'x'.repeat(20_000 + i) })] // huge
    case 16: return ['reading/cbor', Buffer.from([0xbf, 0x61, i & 0x7f])]                                  // truncated CBOR
    case 17: return ['reading', JSON.stringify({ seq: seq + 0.5, ts, fillPct: 5 })]                        // fractional seq
    case 18: return ['reading', JSON.stringify({ seq, ts, fillPct: 5, tempC: -273.15 - i })]              // impossible temperature
    default: return ['reading', `\u{1F5D1}\u{FE0F} ${'\u202E'.repeat(3)} ${i}`]                           // unicode, not JSON
  }
}

test('10,000 malformed payloads are all refused and counted; valid ones after them are stored', async () => {
  const secret = await provision(t.db, 'sensor-m', 'bin', { binId: 'bin-1' })
  const device = await connectDevice(t.mqttUrl, 'sensor-m', secret)
  const before = await rejectedTotal()
  const N = 10_000
  const distinct = new Set<string>()
  for (let i = 0; i < N; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, k) => {
      const [suffix, payload] = malformed(i + k)
      distinct.add(`${suffix}\0${Buffer.from(payload).toString('hex')}`)
      return device.publishAsync(`kerbside/v1/bins/sensor-m/${suffix}`, payload, { qos: 1 })
    }))
  }
  await waitFor(async () => (await rejectedTotal()) - before === N, 120_000, 'all malformed payloads counted')
  expect(await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'sensor-m'`)).toBe(0)
  const byReason = (await t.db.query<{ reason: string; n: number }>(`SELECT reason, count(*)::int AS n FROM quarantine WHERE device_id = 'sensor-m' GROUP BY reason ORDER BY reason`)).rows
  expect(byReason.map((r) => r.reason)).toEqual(expect.arrayContaining(['bad_encoding', 'bad_json', 'payload_too_large', 'schema', 'timestamp_out_of_range']))
  // Each distinct payload is kept once for inspection (some generated ones repeat, e.g. 'null').
  expect(byReason.reduce((s, r) => s + r.n, 0)).toBe(distinct.size)

  // Still up: readiness, and a valid message after the flood is stored.
  expect((await fetch(`${t.httpUrl}/readyz`)).status).toBe(200)
  await device.publishAsync('kerbside/v1/bins/sensor-m/reading', JSON.stringify({ seq: 1, ts: new Date().toISOString(), fillPct: 33 }), { qos: 1 })
  await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id = 'sensor-m'`)) === 1, 10_000, 'valid reading after the flood')
  await device.endAsync()
})
