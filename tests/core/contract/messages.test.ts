import { describe, expect, test } from 'vitest'
import { decodePayload, encodeBinary } from '../../../core/contract/codec.ts'
import { parseDeviceTime, validateMessage } from '../../../core/contract/messages.ts'
import { deviceTopic, parseTopic } from '../../../core/contract/topics.ts'

const now = Date.parse('2026-11-23T12:00:00Z')
const ts = '2026-11-23T11:59:00Z'

describe('topics', () => {
  test('parses device topics and refuses anything else', () => {
    expect(parseTopic('kerbside/v1/bins/s-1/reading')).toEqual({ deviceKind: 'bin', deviceId: 's-1', message: 'reading', binary: false })
    expect(parseTopic('kerbside/v1/vehicles/u1/lift/cbor')).toEqual({ deviceKind: 'vehicle', deviceId: 'u1', message: 'lift', binary: true })
    for (const bad of ['kerbside/v1/bins/s-1/lift', 'kerbside/v2/bins/s/reading', 'kerbside/v1/bins/+/reading', 'kerbside/v1/bins/s/reading/json',
      'kerbside/v1/bins/s/status/cbor', 'kerbside/v1/trucks/x/lift', 'kerbside/v1/bins//reading', `kerbside/v1/bins/${'x'.repeat(65)}/reading`]) {
      expect(parseTopic(bad), bad).toBeNull()
    }
    expect(deviceTopic('vehicle', 'u1', 'position')).toBe('kerbside/v1/vehicles/u1/position')
  })
})

describe('messages', () => {
  test('accepts a valid reading, lift and position', () => {
    expect(validateMessage('reading', { seq: 1, ts, fillPct: 50, tempC: 12.5, batteryV: 3.7, status: 'ok' }, now).ok).toBe(true)
    expect(validateMessage('lift', { seq: 2, ts, tag: 'TAG-1', weightKg: 18, lat: 53.4, lon: -2.9, outcome: 'collected' }, now).ok).toBe(true)
    expect(validateMessage('lift', { seq: 2, ts, tag: 'TAG-1', lat: 53.4, lon: -2.9, outcome: 'no_access' }, now).ok).toBe(true)
    expect(validateMessage('position', { seq: 3, ts, lat: 53.4, lon: -2.9, speedKmh: 20, heading: 90 }, now).ok).toBe(true)
    expect(validateMessage('status', { online: false }, now).ok).toBe(true)
  })

  test.each([
    ['missing field', 'reading', { seq: 1, ts }, 'schema'],
    ['fill out of range', 'reading', { seq: 1, ts, fillPct: 101 }, 'schema'],
    ['NaN as string', 'reading', { seq: 1, ts, fillPct: 'NaN' }, 'schema'],
    ['negative seq', 'reading', { seq: -1, ts, fillPct: 1 }, 'schema'],
    ['fractional seq', 'reading', { seq: 1.5, ts, fillPct: 1 }, 'schema'],
    ['unknown status', 'reading', { seq: 1, ts, fillPct: 1, status: 'exploded' }, 'schema'],
    ['extra property', 'reading', { seq: 1, ts, fillPct: 1, evil: true }, 'schema'],
    ['unknown outcome', 'lift', { seq: 1, ts, tag: 'T', lat: 1, lon: 1, outcome: 'maybe' }, 'schema'],
    ['latitude 91', 'position', { seq: 1, ts, lat: 91, lon: 0 }, 'schema'],
    ['tag with injection', 'lift', { seq: 1, ts, tag: "x'; DROP TABLE bins;--", lat: 1, lon: 1, outcome: 'collected' }, 'schema'],
    ['no zone', 'reading', { seq: 1, ts: '2026-11-23T11:59:00', fillPct: 1 }, 'schema'],
    ['far future', 'reading', { seq: 1, ts: '2027-01-01T00:00:00Z', fillPct: 1 }, 'timestamp_out_of_range'],
    ['far past', 'reading', { seq: 1, ts: '2020-01-01T00:00:00Z', fillPct: 1 }, 'timestamp_out_of_range'],
    ['not an object', 'reading', [1, 2, 3], 'schema'],
  ] as const)('refuses %s', (_name, kind, body, reason) => {
    const r = validateMessage(kind, body, now)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toBe(reason)
  })

  test('device time must be a real date with a zone', () => {
    expect(parseDeviceTime('2026-02-30T00:00:00Z', now).ok).toBe(false)
    expect(parseDeviceTime('2026-11-23T11:00:00+01:00', now).ok).toBe(true)
  })
})

describe('codec', () => {
  test('decodes JSON and CBOR to the same message, with epoch-ms ts in CBOR', () => {
    const body = { seq: 7, ts, fillPct: 33.5 }
    const json = decodePayload('reading', Buffer.from(JSON.stringify(body)), false, 1024, now)
    const cbor = decodePayload('reading', encodeBinary(body), true, 1024, now)
    expect(json).toEqual({ ok: true, message: { kind: 'reading', body } })
    expect(cbor).toEqual({ ok: true, message: { kind: 'reading', body: { ...body, ts: new Date(ts).toISOString() } } })
    expect(encodeBinary(body).length).toBeLessThan(Buffer.byteLength(JSON.stringify(body)))
  })

  test('names the reason for each kind of bad payload', () => {
    expect(decodePayload('reading', Buffer.from('{"seq":'), false, 1024, now)).toMatchObject({ ok: false, reason: 'bad_json' })
    expect(decodePayload('reading', Buffer.from([0xff, 0xfe, 0x00]), false, 1024, now)).toMatchObject({ ok: false, reason: 'bad_encoding' })
    expect(decodePayload('reading', Buffer.alloc(2048, 0x20), false, 1024, now)).toMatchObject({ ok: false, reason: 'payload_too_large' })
    expect(decodePayload('reading', Buffer.from([0xff]), true, 1024, now)).toMatchObject({ ok: false })
  })
})
