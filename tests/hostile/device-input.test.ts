// Hostile device input through the real broker and ingest: payloads that are oversized, of the
// wrong types, NaN and extreme numbers, timestamps far in the past or future, sequence regressions,
// unicode tricks and prototype pollution, in JSON and CBOR; topic spoofing and other ACL probes; and
// a credential brute force from one address while a real device works from another. Every refusal
// is counted under its reason in /metrics, every service stays up, and what is stored is unchanged.
import net from 'node:net'
import { encode as encodeCbor } from 'cborg'
import mqtt from 'mqtt'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { connectDevice, count, provision, waitFor } from '../helpers/stack.ts'
import { delta, fingerprint, startHostileStack, Tally, type HostileStack } from './harness.ts'

let h: HostileStack
let secret: string
let vehicleSecret: string
const DEVICE = 'sensor-h'
const TOPIC = `kerbside/v1/bins/${DEVICE}/reading`
beforeAll(async () => {
  h = await startHostileStack()
  secret = await provision(h.db, DEVICE, 'bin', { binId: 'bin-1' })
  vehicleSecret = await provision(h.db, 'rcv-h', 'vehicle', { vehicleId: 'rcv-1' })
  // What is stored before the attack: ten good readings from the device under attack.
  const d = await connectDevice(h.mqttUrl, DEVICE, secret)
  for (let seq = 1; seq <= 10; seq++) await d.publishAsync(TOPIC, JSON.stringify(good(seq)), { qos: 1 })
  await d.endAsync()
  await waitFor(async () => (await count(h.db, `SELECT 1 FROM bin_readings WHERE device_id = $1`, [DEVICE])) === 10, 20_000, 'baseline readings')
})
afterAll(async () => h?.close())

const baseTs = new Date(Date.now() - 3_600_000)
const good = (seq: number) => ({ seq, ts: new Date(baseTs.getTime() + seq * 1000).toISOString(), fillPct: 10 + seq })
const now = () => new Date().toISOString()

/** Payloads that must all be refused (or recognised as duplicates); [label, topic suffix, bytes]. */
function hostilePayloads(): [string, string, Buffer | string][] {
  const j = (o: unknown) => JSON.stringify(o)
  const seq = 11
  const ts = now()
  const cases: [string, string, Buffer | string][] = [
    // oversized (the broker takes up to 256 KiB; ingest refuses anything over 16 KiB)
    ['16 KiB + 1 of JSON', 'reading', j({ seq, ts, fillPct: 5, status: 'x'.repeat(16_384) })],
    ['200 KB of spaces', 'reading', ' '.repeat(200_000)],
    ['200 KB of CBOR', 'reading/cbor', Buffer.from(encodeCbor({ seq, ts: Date.now(), fillPct: 5, pad: 'y'.repeat(200_000) }))],
    // wrong types
    ['fillPct as a string', 'reading', j({ seq, ts, fillPct: '50' })],
    ['seq as a string', 'reading', j({ seq: '11', ts, fillPct: 5 })],
    ['ts as a number', 'reading', j({ seq, ts: Date.now(), fillPct: 5 })],
    ['status as a number', 'reading', j({ seq, ts, fillPct: 5, status: 1 })],
    ['fillPct as a boolean', 'reading', j({ seq, ts, fillPct: true })],
    ['fillPct as an object', 'reading', j({ seq, ts, fillPct: { $gt: 0 } })],
    ['root array', 'reading', j([seq, ts, 5])],
    ['root string', 'reading', j('reading')],
    ['root number', 'reading', '42'],
    ['empty payload', 'reading', ''],
    ['lift on a bin topic', 'reading', j({ seq, ts, tag: 'TAG-0001', lat: 53.4, lon: -2.9, outcome: 'collected' })],
    // NaN and extreme numbers
    ['NaN literal', 'reading', `{"seq":${seq},"ts":"${ts}","fillPct":NaN}`],
    ['Infinity literal', 'reading', `{"seq":${seq},"ts":"${ts}","fillPct":Infinity}`],
    ['1e309 (overflows to Infinity)', 'reading', `{"seq":${seq},"ts":"${ts}","fillPct":1e309}`],
    ['-1e308', 'reading', j({ seq, ts, fillPct: -1e308 })],
    ['fillPct 100.0000001', 'reading', j({ seq, ts, fillPct: 100.0000001 })],
    ['seq 2^53 + 2', 'reading', `{"seq":9007199254740994,"ts":"${ts}","fillPct":5}`],
    ['seq 1e400', 'reading', `{"seq":1e400,"ts":"${ts}","fillPct":5}`],
    ['seq -1', 'reading', j({ seq: -1, ts, fillPct: 5 })],
    ['seq 11.5', 'reading', j({ seq: 11.5, ts, fillPct: 5 })],
    ['batteryV -0.0001', 'reading', j({ seq, ts, fillPct: 5, batteryV: -0.0001 })],
    ['tempC 1e6', 'reading', j({ seq, ts, fillPct: 5, tempC: 1e6 })],
    ['CBOR NaN', 'reading/cbor', Buffer.from([0xa3, 0x63, ...Buffer.from('seq'), 0x0b, 0x62, ...Buffer.from('ts'), 0x1b, ...bigEndian(Date.now()), 0x67, ...Buffer.from('fillPct'), 0xf9, 0x7e, 0x00])],
    ['CBOR +Infinity', 'reading/cbor', Buffer.from([0xa3, 0x63, ...Buffer.from('seq'), 0x0b, 0x62, ...Buffer.from('ts'), 0x1b, ...bigEndian(Date.now()), 0x67, ...Buffer.from('fillPct'), 0xf9, 0x7c, 0x00])],
    ['CBOR seq as a 2^64 bignum', 'reading/cbor', Buffer.from([0xa3, 0x63, ...Buffer.from('seq'), 0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x62, ...Buffer.from('ts'), 0x1b, ...bigEndian(Date.now()), 0x67, ...Buffer.from('fillPct'), 0x05])],
    ['CBOR ts 1e20 ms', 'reading/cbor', Buffer.from(encodeCbor({ seq, ts: 1e20, fillPct: 5 }))],
    ['CBOR 10,000 nested arrays', 'reading/cbor', Buffer.concat([Buffer.alloc(10_000, 0x81), Buffer.from([0x00])])],
    ['CBOR indefinite map never closed', 'reading/cbor', Buffer.from([0xbf, 0x63, ...Buffer.from('seq'), 0x0b])],
    ['JSON 5,000 nested arrays', 'reading', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    // timestamps
    ['ts year 0001', 'reading', j({ seq, ts: '0001-01-01T00:00:00Z', fillPct: 5 })],
    ['ts year 9999', 'reading', j({ seq, ts: '9999-12-31T23:59:59Z', fillPct: 5 })],
    ['ts epoch 0', 'reading', j({ seq, ts: '1970-01-01T00:00:00Z', fillPct: 5 })],
    ['ts 401 days ago', 'reading', j({ seq, ts: new Date(Date.now() - 401 * 86_400_000).toISOString(), fillPct: 5 })],
    ['ts 11 minutes ahead', 'reading', j({ seq, ts: new Date(Date.now() + 11 * 60_000).toISOString(), fillPct: 5 })],
    ['ts 30 February', 'reading', j({ seq, ts: '2026-02-30T12:00:00Z', fillPct: 5 })],
    ['ts leap second 23:59:60', 'reading', j({ seq, ts: '2026-06-30T23:59:60Z', fillPct: 5 })],
    ['ts without a zone', 'reading', j({ seq, ts: ts.slice(0, 19), fillPct: 5 })],
    ['ts with 30 fraction digits', 'reading', j({ seq, ts: `${ts.slice(0, 19)}.${'9'.repeat(30)}Z`, fillPct: 5 })],
    ['ts +99:00 offset', 'reading', j({ seq, ts: `${ts.slice(0, 19)}+99:00`, fillPct: 5 })],
    ['ts as words', 'reading', j({ seq, ts: 'now', fillPct: 5 })],
    // sequence regressions: below the last stored seq (10), filling no gap
    ['seq 5 again with another time and value', 'reading', j({ ...good(5), ts: now(), fillPct: 99 })],
    ['seq 1 again with another value', 'reading', j({ ...good(1), fillPct: 77 })],
    // unicode and encodings
    ['status with a Cyrillic o (homoglyph)', 'reading', j({ seq, ts, fillPct: 5, status: '\u043ek' })],
    ['field name with a zero-width space', 'reading', j({ seq, ts, 'fill\u200bPct': 5 })],
    ['right-to-left override in status', 'reading', j({ seq, ts, fillPct: 5, status: '\u202eko' })],
    ['NUL in status', 'reading', j({ seq, ts, fillPct: 5, status: 'ok\u0000' })],
    ['lone surrogate escape', 'reading', `{"seq":${seq},"ts":"${ts}","fillPct":5,"status":"\\ud800"}`],
    ['UTF-16LE JSON', 'reading', Buffer.from(j({ seq, ts, fillPct: 5 }), 'utf16le')],
    ['overlong UTF-8 slash', 'reading', Buffer.concat([Buffer.from('{"seq":11,"ts":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('","fillPct":5}')])],
    ['emoji everywhere', 'reading', j({ '\u{1F5D1}': '\u{1F525}', seq, ts, fillPct: 5 })],
    // prototype pollution and injection
    ['__proto__ key', 'reading', `{"seq":${seq},"ts":"${ts}","fillPct":5,"__proto__":{"polluted":true}}`],
    ['constructor.prototype', 'reading', j({ seq, ts, fillPct: 5, constructor: { prototype: { polluted: true } } })],
    ['CBOR __proto__ key', 'reading/cbor', Buffer.from(encodeCbor(new Map<string, unknown>([['seq', seq], ['ts', Date.now()], ['fillPct', 5], ['__proto__', { polluted: true }]])))],
    ['SQL in status', 'reading', j({ seq, ts, fillPct: 5, status: "ok'); DELETE FROM bin_readings; --" })],
    ['SQL in tag', 'lift', j({ seq, ts, tag: "TAG-0001' OR '1'='1", lat: 53.4, lon: -2.9, outcome: 'collected' })],
    ['script in outcome', 'lift', j({ seq, ts, tag: 'TAG-0001', lat: 53.4, lon: -2.9, outcome: '<script>alert(1)</script>' })],
  ]
  return cases
}

function bigEndian(n: number): number[] {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n))
  return [...b]
}

test('hostile payloads: every one refused with a reason and counted; nothing stored changes; the pipeline works throughout', async () => {
  const tally = new Tally('device payloads')
  const before = await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })
  const rejectedBefore = await h.byLabel('kerbside_ingest_rejected_total', 'reason')
  const dupBefore = await h.metric('kerbside_ingest_duplicates_total')
  const receivedBefore = await h.metric('kerbside_ingest_received_total')
  const d = await connectDevice(h.mqttUrl, DEVICE, secret)
  const cases = hostilePayloads()
  const onReading = cases.filter(([, suffix]) => suffix.startsWith('reading'))
  let sent = 0
  for (let round = 0; round < 5; round++) { // each case five times: repeats are kept once in quarantine
    for (const [, suffix, payload] of onReading) {
      await d.publishAsync(`kerbside/v1/bins/${DEVICE}/${suffix}`, payload, { qos: 1 })
      sent++
    }
    await h.stillUp()
  }
  // The exact redelivery of a stored message: recognised as a duplicate, not stored again. (So is
  // "seq 1 again with another value" above: same seq and time, the idempotency key of a reading.)
  for (let k = 0; k < 5; k++, sent++) await d.publishAsync(TOPIC, JSON.stringify(good(7)), { qos: 1 })
  await d.endAsync()
  // Lifts with injection attempts, from a vehicle on its own topic.
  const onLift = cases.filter(([, suffix]) => suffix === 'lift')
  const v = await connectDevice(h.mqttUrl, 'rcv-h', vehicleSecret)
  for (const [, , payload] of onLift) { await v.publishAsync('kerbside/v1/vehicles/rcv-h/lift', payload, { qos: 1 }); sent++ }
  await v.endAsync()
  tally.tried += sent

  const probeMessages = h.probe.sent
  await waitFor(async () => (await h.metric('kerbside_ingest_received_total')) - receivedBefore >= sent + probeMessages, 30_000, 'every hostile payload read by ingest')
  await waitFor(async () => (await h.metric('kerbside_ingest_pending_messages')) === 0, 30_000, 'ingest idle')
  const rejected = delta(await h.byLabel('kerbside_ingest_rejected_total', 'reason'), rejectedBefore)
  const duplicates = (await h.metric('kerbside_ingest_duplicates_total')) - dupBefore
  for (const [reason, n] of Object.entries(rejected)) tally.reject(reason, n)
  if (duplicates) tally.reject('duplicate (recognised redelivery)', duplicates)
  const probe = await h.probeStored()
  tally.lost = h.probe.sent - probe.distinct
  tally.duplicates = probe.stored - probe.distinct
  const quarantined = await count(h.db, `SELECT 1 FROM quarantine WHERE device_id = ANY($1::text[])`, [[DEVICE, 'rcv-h']])
  tally.print(`kept in quarantine ${quarantined} distinct payloads, probe readings stored ${probe.stored}/${h.probe.sent}`)

  // Every hostile payload is accounted for: refused under a reason, or recognised as a redelivery.
  expect(Object.values(rejected).reduce((s, n) => s + n, 0) + duplicates).toBe(sent)
  expect(duplicates).toBe(10)
  expect(Object.keys(rejected).sort()).toEqual(['bad_encoding', 'bad_json', 'bad_timestamp', 'payload_too_large', 'schema', 'seq_regression', 'timestamp_out_of_range'])
  // Each distinct refused payload is kept once, with its reason; the redelivery is not refused.
  expect(quarantined).toBe(onReading.length + onLift.length - 1)
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect(tally.lost).toBe(0)
  expect(tally.duplicates).toBe(0)
  expect(await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })).toEqual(before)
})

/** SUBSCRIBE and the return codes of the broker's SUBACK as it came over the wire. */
const subscribe = (c: mqtt.MqttClient, topic: string, qos: 0 | 1) => new Promise<{ qos: number }[]>((resolve) => {
  c.on('packetreceive', (p) => { if (p.cmd === 'suback') resolve((p.granted as number[]).map((g) => ({ qos: g }))) })
  c.subscribe(topic, { qos })
})

/** Connect (expecting success or refusal) and try one action; resolves with what the broker did. */
async function tryAs(opts: { clientId: string; username: string; password: string }, action: (c: mqtt.MqttClient) => Promise<unknown>): Promise<{ connack?: number; closed: boolean; granted?: number[] }> {
  const c = mqtt.connect(h.mqttUrl, { ...opts, reconnectPeriod: 0, connectTimeout: 5000 })
  const connected = await new Promise<number>((resolve) => {
    c.once('connect', () => resolve(0))
    c.once('error', (err) => resolve((err as Error & { code?: number }).code ?? -1))
    c.once('close', () => resolve(-1))
  })
  if (connected !== 0) { c.end(true); return { connack: connected, closed: true } }
  const closed = new Promise<void>((r) => c.once('close', () => r()))
  let granted: number[] | undefined
  const r = await Promise.race([action(c).then((x) => { granted = (x as { qos: number }[] | undefined)?.map?.((g) => g.qos); return 'done' as const }).catch(() => 'error' as const), closed.then(() => 'closed' as const)])
  if (r === 'closed') granted = undefined
  // A refused publish is answered by closing the connection; give a loaded machine time to do it.
  const wasClosed = r === 'closed' || (granted === undefined && (await Promise.race([closed.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 10_000))])))
  c.end(true)
  return { connack: 0, closed: wasClosed, granted }
}

test('topic spoofing and ACL probes: refused, counted by reason, the spoofer disconnected; nothing written under another device', async () => {
  const tally = new Tally('topics and sessions')
  const before = await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })
  const rejBefore = await h.byLabel('kerbside_broker_rejections_total', 'reason')
  const me = { clientId: DEVICE, username: DEVICE, password: secret }
  const ts = now()
  const body = JSON.stringify({ seq: 1000, ts, fillPct: 50 })
  const attempts: [string, string, () => Promise<{ connack?: number; closed: boolean; granted?: number[] }>][] = [
    ['publish as another device', 'topic_not_own', () => tryAs(me, (c) => c.publishAsync(`kerbside/v1/bins/${h.probe.deviceId}/reading`, body, { qos: 1 }))],
    ['publish a lift from a bin', 'topic_invalid', () => tryAs(me, (c) => c.publishAsync(`kerbside/v1/vehicles/${DEVICE}/lift`, body, { qos: 1 }))],
    ['publish outside the contract', 'topic_invalid', () => tryAs(me, (c) => c.publishAsync('kerbside/v2/admin/commands', body, { qos: 1 }))],
    ['publish a path traversal', 'topic_invalid', () => tryAs(me, (c) => c.publishAsync(`kerbside/v1/bins/${DEVICE}/../${h.probe.deviceId}/reading`, body, { qos: 1 }))],
    ['publish with a unicode look-alike id', 'topic_invalid', () => tryAs(me, (c) => c.publishAsync(`kerbside/v1/bins/sensor-\u04bb/reading`, body, { qos: 1 }))],
    ['publish to $SYS', 'sys_topic', () => tryAs(me, (c) => c.publishAsync('$SYS/broker/uptime', 'owned', { qos: 0 }))],
    ['retain a reading', 'retain_not_allowed', () => tryAs(me, (c) => c.publishAsync(TOPIC, body, { qos: 1, retain: true }))],
    ['publish at QoS 2', 'qos2_not_supported', () => tryAs(me, (c) => c.publishAsync(TOPIC, body, { qos: 2 }))],
    ['vehicle lift with SQL in the tag', 'topic_not_own', () => tryAs({ clientId: 'rcv-h', username: 'rcv-h', password: vehicleSecret }, (c) => c.publishAsync('kerbside/v1/vehicles/other-rcv/lift', JSON.stringify({ seq: 1, ts, tag: "x' OR 1=1 --", lat: 1, lon: 1, outcome: 'collected' }), { qos: 1 }))],
    ['subscribe to everything', 'subscribe_denied', () => tryAs(me, (c) => subscribe(c, '#', 1))],
    ['subscribe to every device', 'subscribe_denied', () => tryAs(me, (c) => subscribe(c, 'kerbside/v1/+/+/+', 1))],
    ['subscribe to $SYS', 'subscribe_denied', () => tryAs(me, (c) => subscribe(c, '$SYS/#', 0))],
    ['take over another device\'s session (client id)', 'client_id_mismatch', () => tryAs({ ...me, clientId: h.probe.deviceId }, async () => undefined)],
    ['log in as a service with a device secret', 'bad_credentials', () => tryAs({ clientId: 'kerbside-ingest', username: 'kerbside-ingest', password: secret }, async () => undefined)],
    ['unknown device', 'unknown_device', () => tryAs({ clientId: 'ghost-1', username: 'ghost-1', password: secret }, async () => undefined)],
  ]
  for (const [name, reason, run] of attempts) {
    tally.tried++
    const r0 = await h.byLabel('kerbside_broker_rejections_total', 'reason')
    const r = await run()
    const counted = delta(await h.byLabel('kerbside_broker_rejections_total', 'reason'), r0)
    expect(counted, name).toEqual({ [reason]: 1 })
    if (reason === 'subscribe_denied') expect(r.granted, name).toEqual([128]) // SUBACK failure [MQTT-3.9.3-2]
    else if (r.connack === 0) expect(r.closed, `${name}: the broker keeps a client whose publish it refused`).toBe(true)
    else expect(r.connack, name).toBeGreaterThan(0)
    tally.reject(reason)
  }
  await h.stillUp()
  const rejections = delta(await h.byLabel('kerbside_broker_rejections_total', 'reason'), rejBefore)
  const probe = await h.probeStored()
  tally.lost = h.probe.sent - probe.distinct
  tally.duplicates = probe.stored - probe.distinct
  tally.print(`broker rejections ${JSON.stringify(rejections)}`)
  expect(await count(h.db, `SELECT 1 FROM bin_readings WHERE device_id = $1 AND seq = 1000`, [h.probe.deviceId])).toBe(0)
  expect(await fingerprint(h.db, { excludeDevices: [h.probe.deviceId] })).toEqual(before)
})

/** A raw CONNECT from a chosen local address; resolves with the CONNACK return code (or -1). */
function rawLogin(localAddress: string, username: string, password: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: h.mqttPort, host: '127.0.0.1', localAddress })
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    let code = -1
    parser.on('packet', (p: Packet) => { if (p.cmd === 'connack') { code = p.returnCode ?? -1; socket.destroy() } })
    socket.on('data', (d) => parser.parse(d))
    socket.on('error', () => undefined)
    socket.on('close', () => resolve(code))
    socket.on('connect', () => socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: username, username, password: Buffer.from(password) } as Packet)))
    setTimeout(() => socket.destroy(), 10_000)
  })
}

test('credential brute force: throttled after the configured failures, logged without the guesses; other addresses unaffected', async () => {
  const tally = new Tally('credential brute force')
  const rejBefore = await h.byLabel('kerbside_broker_rejections_total', 'reason')
  const logStart = h.logs.length
  const guesses = Array.from({ length: 40 }, (_, i) => `guess-${i}-${'p'.repeat(8)}`)
  const codes: number[] = []
  for (const g of guesses) { codes.push(await rawLogin('127.0.0.2', DEVICE, g)); tally.tried++ }
  // The right secret from the attacking address is refused too while it is throttled.
  codes.push(await rawLogin('127.0.0.2', DEVICE, secret))
  tally.tried++
  // The real device, from another address, logs in.
  const real = await connectDevice(h.mqttUrl, DEVICE, secret)
  await real.endAsync()
  await h.stillUp()

  const limit = h.ctx.config.MQTT_AUTH_FAILURES_PER_MINUTE
  expect(codes.slice(0, limit)).toEqual(Array(limit).fill(4)) // bad user name or password
  expect(codes.slice(limit)).toEqual(Array(codes.length - limit).fill(5)) // not authorised: throttled
  const rejections = delta(await h.byLabel('kerbside_broker_rejections_total', 'reason'), rejBefore)
  expect(rejections).toEqual({ bad_credentials: limit, throttled: codes.length - limit })
  for (const [r, n] of Object.entries(rejections)) tally.reject(r, n)

  const lines = h.logs.slice(logStart).join('')
  expect(lines).toContain('MQTT login refused')
  expect(lines).toContain('MQTT login throttled')
  expect(lines).toContain('127.0.0.2')
  for (const g of [...guesses, secret]) expect(lines).not.toContain(g)

  // The API's sign-in is throttled as well.
  const apiCodes: number[] = []
  for (let i = 0; i < 15; i++) {
    const res = await fetch(`${h.httpUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: `wrong-${i}` }) })
    apiCodes.push(res.status)
    tally.tried++
    const body = await res.json() as { code?: string; message?: string }
    expect(body.message, `status ${res.status} without a reason`).toBeTruthy()
    tally.reject(`HTTP ${res.status} ${body.code}`)
  }
  expect(apiCodes.every((c) => c === 401 || c === 429)).toBe(true)
  expect(apiCodes).toContain(429)
  expect(h.logs.slice(logStart).join('')).not.toMatch(/wrong-\d/)
  const probe = await h.probeStored()
  tally.lost = h.probe.sent - probe.distinct
  tally.duplicates = probe.stored - probe.distinct
  tally.print(`MQTT answers ${codes.filter((c) => c === 4).length}×4 then ${codes.filter((c) => c === 5).length}×5, API ${apiCodes.filter((c) => c === 401).length}×401 then ${apiCodes.filter((c) => c === 429).length}×429`)
})
