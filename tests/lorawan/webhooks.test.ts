// The LoRaWAN webhooks end to end on the embedded database: a network server's envelope → the
// sensor's codec → fill level for a 240 l bin → a stored reading through the one ingest pipeline →
// the household's record; and every awkward delivery a network server makes, each with a clear
// outcome: nothing lost, nothing doubled, services up.
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { chirpstackJoin, chirpstackStatus, chirpstackUp, ttsJoinAccept, ttsUplink } from '../../simulators/lorawan/envelopes.ts'
import { registerSensors, sendRound } from '../../simulators/lorawan/simulate.ts'
import { count, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

const TTN_SECRET = 'ttn-secret-for-this-test-0123456789'
const CS_SECRET = 'chirpstack-secret-for-this-test-0123'
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

let t: TestStack
// Network-server times, fixed once: every copy of an uplink must carry the same one.
const T0 = Math.floor(Date.now() / 1000) * 1000
const at = (secondsAgo: number) => new Date(T0 - secondsAgo * 1000)

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${t.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${t.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

async function post(path: string, body: unknown, secret: string | null) {
  const res = await fetch(`${t.httpUrl}/api/v1/lorawan/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(secret ? { 'x-kerbside-secret': secret } : {}) }, body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}
const tts = (body: unknown) => post('ttn', body, TTN_SECRET)
const cs = (event: string, body: unknown) => post(`chirpstack?event=${event}`, body, CS_SECRET)

const readings = (deviceId: string) => t.db.query<{ seq: number; ts: Date; fillPct: number; status: string; tempC: number | null; batteryV: number | null }>(
  `SELECT seq, ts, fill_pct AS "fillPct", status, temp_c AS "tempC", battery_v AS "batteryV" FROM bin_readings WHERE device_id = $1 ORDER BY seq`, [deviceId]).then((r) => r.rows)

beforeAll(async () => {
  t = await startTestStack({ LORAWAN_TTN_SECRET: TTN_SECRET, LORAWAN_CHIRPSTACK_SECRET: CS_SECRET, LORAWAN_MAX_BODY_BYTES: 256 * 1024, MAP_SNAPSHOT_SECONDS: 0 })
  await seedMinimalRegistry(t.db)
  await t.db.query(`INSERT INTO households (uprn, address, street, postcode, ward, lat, lon) VALUES
    (100000000003, '3 Test Street', 'Test Street', 'L1 1AA', 'Central', 53.4086, -2.9914), (100000000004, '4 Test Street', 'Test Street', 'L1 1AA', 'Central', 53.4087, -2.9913)`)
  await t.db.query(`INSERT INTO bins (bin_id, uprn, stream, capacity_l) VALUES ('bin-3', 100000000003, 'residual', 240), ('bin-4', 100000000004, 'residual', 240),
    ('sim-1', 100000000003, 'recycling', 240), ('sim-2', 100000000003, 'garden', 240), ('sim-3', 100000000004, 'recycling', 240), ('sim-4', 100000000004, 'garden', 240)`)
}, 120_000)
afterAll(async () => { await t?.close() })

describe('registration by DevEUI', () => {
  test('a sensor is registered with its model and bin, and again to change its calibration; an unknown model or bin is refused', async () => {
    const first = await api('PUT', '/api/v1/lorawan/devices/24E124713B154032', { model: 'milesight-em310-udl', binId: 'bin-1' })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ devEui: '24E124713B154032', deviceId: 'lw-24e124713b154032', model: 'milesight-em310-udl', binId: 'bin-1', capacityL: 240 })
    const again = await api('PUT', '/api/v1/lorawan/devices/24e124713b154032', { model: 'milesight-em310-udl', binId: 'bin-1', calibration: { blindZoneMm: 250 } })
    expect(again.status).toBe(200)
    expect(again.body.calibration).toEqual({ blindZoneMm: 250 })
    expect((await api('PUT', '/api/v1/lorawan/devices/A84041000181C61A', { model: 'no-such-sensor', binId: 'bin-2' })).status).toBe(400)
    expect((await api('PUT', '/api/v1/lorawan/devices/A84041000181C61A', { model: 'dragino-ldds75', binId: 'no-such-bin' })).status).toBe(404)
    expect((await api('PUT', '/api/v1/lorawan/devices/A84041000181C61B', { model: 'dragino-ldds75', binId: 'bin-1' })).status).toBe(409)
    expect((await api('PUT', '/api/v1/lorawan/devices/A84041000181C61A', { model: 'dragino-ldds75', binId: 'bin-2' })).status).toBe(201)
    expect((await api('PUT', '/api/v1/lorawan/devices/70B3D50000000303', { model: 'decentlab-dl-mbx', binId: 'bin-3' })).status).toBe(201)
    expect((await api('PUT', '/api/v1/lorawan/devices/24E124710C000400', { model: 'milesight-em400-udl', binId: 'bin-4' })).status).toBe(201)
  })
})

describe('vendor examples through The Things Stack and ChirpStack to the household', () => {
  test('EM310-UDL via TTS, a frame as its document defines (distance 520 mm): 53 % for the 240 l bin, in the household record and the readings', async () => {
    const res = await tts(ttsUplink({ devEui: '24E124713B154032', fCnt: 12, fPort: 85, payload: hex('01755C 03820802 040000'), receivedAt: at(600) }))
    expect(res).toEqual({ status: 200, body: { outcome: 'stored', deviceId: 'lw-24e124713b154032', seq: 12, fillPct: 53 } })
    expect(await readings('lw-24e124713b154032')).toEqual([{ seq: 12, ts: at(600), fillPct: 53, status: 'ok', tempC: null, batteryV: expect.closeTo(3.552, 3) }])
    const household = await api('GET', '/api/v1/households/100000000001')
    expect(household.body.bins).toEqual([expect.objectContaining({ binId: 'bin-1', sensor: expect.objectContaining({ deviceId: 'lw-24e124713b154032', fillPct: 53, status: 'ok' }) })])
    const history = await api('GET', `/api/v1/devices/lw-24e124713b154032/readings?from=${at(3600).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`)
    expect(history.status).toBe(200)
    expect(JSON.stringify(history.body)).toContain('"fillPct":53')
    const map = await api('GET', '/api/v1/map')
    const bins = map.body.bins as { binId: string[]; fillPct: (number | null)[]; deviceId: (string | null)[] }
    const k = bins.binId.indexOf('bin-1')
    expect([bins.deviceId[k], bins.fillPct[k]]).toEqual(['lw-24e124713b154032', 53])
  })

  test('EM400-UDL vendor example 01755C 03670101 04824408 050001 via ChirpStack: tilt → dropped, 25.7 °C, 2116 mm is deeper than the bin → 0 % flagged', async () => {
    const res = await cs('up', chirpstackUp({ devEui: '24E124710C000400', fCnt: 3, fPort: 85, payload: hex('01755C 03670101 04824408 050001'), receivedAt: at(590) }))
    expect(res).toEqual({ status: 200, body: { outcome: 'stored', deviceId: 'lw-24e124710c000400', seq: 3, fillPct: 0, flags: ['beyond_depth'] } })
    expect(await readings('lw-24e124710c000400')).toEqual([expect.objectContaining({ seq: 3, fillPct: 0, status: 'dropped', tempC: expect.closeTo(25.7, 3) })])
  })

  test('LDDS75 vendor example 0D3B0AEF00000001 (TTS) and DL-MBX vendor example 02012f000304d200010bb1 (ChirpStack): battery volts and % recorded', async () => {
    expect((await tts(ttsUplink({ devEui: 'A84041000181C61A', fCnt: 7, fPort: 2, payload: hex('0D3B0AEF00000001'), receivedAt: at(580) }))).body).toMatchObject({ outcome: 'stored', fillPct: 0, flags: ['beyond_depth'] })
    expect((await cs('up', chirpstackUp({ devEui: '70B3D50000000303', fCnt: 1, payload: hex('02012f000304d200010bb1'), receivedAt: at(580) }))).body).toMatchObject({ outcome: 'stored', fillPct: 0 })
    const ldds = await api('GET', '/api/v1/lorawan/devices/A84041000181C61A')
    expect(ldds.body).toMatchObject({ batteryV: expect.closeTo(3.387, 3), batteryPct: 81, lastFCnt: 7 })
    expect((await readings('lw-70b3d50000000303'))[0]).toMatchObject({ seq: 1, batteryV: expect.closeTo(2.993, 3) })
  })

  test("the network server's decoded fields are taken when the uplink carries no frame", async () => {
    const env = ttsUplink({ devEui: '24E124713B154032', fCnt: 13, fPort: 85, payload: Buffer.alloc(0), receivedAt: at(500), decoded: { battery: 91, distance: 300, position: 'normal' } })
    expect((await tts(env)).body).toMatchObject({ outcome: 'stored', seq: 13, fillPct: 75 })
  })
})

describe('awkward deliveries', () => {
  test('the same uplink from two gateways, then again: one reading', async () => {
    const one = ttsUplink({ devEui: '24E124713B154032', fCnt: 14, fPort: 85, payload: hex('01755C 03822003 040000'), receivedAt: at(400), gateways: 1 })
    const two = ttsUplink({ devEui: '24E124713B154032', fCnt: 14, fPort: 85, payload: hex('01755C 03822003 040000'), receivedAt: at(400), gateways: 2 })
    const answers = await Promise.all([tts(one), tts(two)])
    expect(answers.map((a) => a.body)).toEqual([expect.objectContaining({ outcome: 'stored', seq: 14 }), expect.objectContaining({ outcome: 'stored', seq: 14 })])
    expect((await tts(two)).body).toMatchObject({ outcome: 'stored', seq: 14 })
    expect((await readings('lw-24e124713b154032')).filter((r) => r.seq === 14)).toHaveLength(1)
  })

  test('a retry after the network server gave up waiting: stored once, the retry answered 2xx', async () => {
    const env = ttsUplink({ devEui: '24E124713B154032', fCnt: 15, fPort: 85, payload: hex('01755C 03822003 040000'), receivedAt: at(300) })
    const body = JSON.stringify(env)
    // The first delivery: sent whole, then the connection is dropped before the answer, as a timed-out client does.
    await new Promise<void>((resolve) => {
      const req = request(`${t.httpUrl}/api/v1/lorawan/ttn`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-kerbside-secret': TTN_SECRET } })
      req.on('error', () => resolve())
      req.end(body, () => { req.destroy(); resolve() })
    })
    await waitFor(async () => (await readings('lw-24e124713b154032')).some((r) => r.seq === 15), 10_000, 'the first delivery to be stored')
    expect((await tts(env)).body).toMatchObject({ outcome: 'stored', seq: 15 })
    expect((await readings('lw-24e124713b154032')).filter((r) => r.seq === 15)).toHaveLength(1)
  })

  test('a frame-counter reset after a re-join (TTS join-accept): no doubled reading, none refused, the re-join on the device', async () => {
    await tts(ttsJoinAccept('24E124713B154032', at(250)))
    await tts(ttsJoinAccept('24E124713B154032', at(250))) // delivered twice
    for (const [fCnt, ago] of [[0, 240], [1, 230], [0, 240]] as const) {
      expect((await tts(ttsUplink({ devEui: '24E124713B154032', fCnt, fPort: 85, payload: hex('01755C 03822003 040000'), receivedAt: at(ago) }))).body).toMatchObject({ outcome: 'stored' })
    }
    // A late copy of an uplink from before the re-join still finds its own session.
    expect((await tts(ttsUplink({ devEui: '24E124713B154032', fCnt: 15, fPort: 85, payload: hex('01755C 03822003 040000'), receivedAt: at(300) }))).body).toMatchObject({ outcome: 'stored', seq: 15 })
    expect((await readings('lw-24e124713b154032')).map((r) => r.seq)).toEqual([12, 13, 14, 15, 16, 17])
    const device = await api('GET', '/api/v1/lorawan/devices/24E124713B154032')
    expect(device.body).toMatchObject({ joins: 1, lastJoinAt: at(250).toISOString() })
    expect((device.body.sessions as { reason: string; seqBase: number }[]).map((s) => [s.reason, s.seqBase])).toEqual([['first', 0], ['join', 16]])
    expect(await count(t.db, `SELECT 1 FROM quarantine WHERE device_id = 'lw-24e124713b154032'`)).toBe(0)
  })

  test('a frame-counter reset with no join event (ChirpStack): a new session all the same', async () => {
    for (const [fCnt, ago] of [[5, 200], [0, 150], [1, 140]] as const) {
      expect((await cs('up', chirpstackUp({ devEui: '70B3D50000000303', fCnt, payload: hex('02012f000301f400010bb1'), receivedAt: at(ago) }))).body).toMatchObject({ outcome: 'stored' })
    }
    expect((await readings('lw-70b3d50000000303')).map((r) => [r.seq, r.fillPct])).toEqual([[1, 0], [5, 55], [6, 55], [7, 55]])
    const device = await api('GET', '/api/v1/lorawan/devices/70B3D50000000303')
    expect((device.body.sessions as { reason: string }[]).map((s) => s.reason)).toEqual(['first', 'f_cnt_reset'])
    expect((await cs('join', chirpstackJoin('70B3D50000000303', at(151)))).body).toEqual({ outcome: 'recorded' })
  })

  test('an unknown DevEUI: quarantined with its reason, answered 202', async () => {
    const env = ttsUplink({ devEui: '0004A30B001C0530', fCnt: 1, payload: hex('01755C'), receivedAt: at(100) })
    const res = await tts(env)
    expect(res).toEqual({ status: 202, body: { outcome: 'quarantined', reason: 'unknown_dev_eui', detail: expect.stringContaining('PUT /api/v1/lorawan/devices/0004A30B001C0530') } })
    const { rows } = await t.db.query<{ topic: string; reason: string; payload: Buffer }>(`SELECT topic, reason, payload FROM quarantine WHERE reason = 'unknown_dev_eui'`)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.topic).toBe('lorawan/ttn/0004A30B001C0530/up')
    expect(JSON.parse(Buffer.from(rows[0]!.payload).toString('utf8'))).toEqual(env)
  })

  test('a payload the codec cannot decode: quarantined as undecodable_payload with where it broke', async () => {
    const res = await cs('up', chirpstackUp({ devEui: '24E124710C000400', fCnt: 4, fPort: 85, payload: hex('0482 44'), receivedAt: at(90) }))
    expect(res).toEqual({ status: 202, body: { outcome: 'quarantined', reason: 'undecodable_payload', detail: 'milesight-em400-udl: channel 0x04 type 0x82 needs 2 bytes, 1 left', deviceId: 'lw-24e124710c000400', seq: 4 } })
    expect(await count(t.db, `SELECT 1 FROM quarantine WHERE reason = 'undecodable_payload' AND device_id = 'lw-24e124710c000400'`)).toBe(1)
  })

  test('an envelope that is not a network-server message: 400, kept in quarantine', async () => {
    expect(await tts({ hello: 'world' })).toEqual({ status: 400, body: { outcome: 'quarantined', reason: 'bad_envelope', detail: 'end_device_ids is missing' } })
    expect((await cs('party', chirpstackUp({ devEui: '24E124710C000400', fCnt: 4, payload: hex('00'), receivedAt: at(80) }))).body).toMatchObject({ reason: 'bad_envelope', detail: expect.stringContaining('not a ChirpStack v4 event type') })
  })

  test('a ChirpStack status event records the battery; acks and logs are taken and ignored', async () => {
    expect((await cs('status', chirpstackStatus('A84041000181C61A', at(5), 64))).body).toEqual({ outcome: 'recorded' })
    expect((await api('GET', '/api/v1/lorawan/devices/A84041000181C61A')).body).toMatchObject({ batteryPct: 64 })
    expect((await cs('log', { deviceInfo: { devEui: 'a84041000181c61a' }, level: 'ERROR', code: 'UPLINK_CODEC', description: 'x' })).body).toEqual({ outcome: 'ignored', reason: 'log' })
  })

  test('a wrong or missing secret: 401, nothing read; a secret of the other network server does not open this door', async () => {
    const env = ttsUplink({ devEui: '24E124713B154032', fCnt: 40, payload: hex('01755C'), receivedAt: at(10) })
    expect((await post('ttn', env, 'not-the-secret')).status).toBe(401)
    expect((await post('ttn', env, null)).status).toBe(401)
    expect((await post('ttn', env, CS_SECRET)).status).toBe(401)
    expect((await readings('lw-24e124713b154032')).some((r) => r.seq === 40)).toBe(false)
  })

  test('a 10 MB body: 413 from its Content-Length, answered before the body is sent', async () => {
    const size = 10 * 1024 * 1024
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${t.httpUrl}/api/v1/lorawan/ttn`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': size, 'x-kerbside-secret': TTN_SECRET } })
      req.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); req.destroy() })
      req.on('error', reject)
      // Only the first 64 KiB are ever sent: the answer must come without the rest.
      req.write(Buffer.alloc(64 * 1024, 0x20))
    })
    expect(status).toBe(413)
  })

  test('services up afterwards: health and a normal uplink', async () => {
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200)
    expect((await tts(ttsUplink({ devEui: 'A84041000181C61A', fCnt: 8, fPort: 2, payload: hex('0D3B01F400000001'), receivedAt: at(1) }))).body).toMatchObject({ outcome: 'stored', seq: 8, fillPct: 55 })
  })
})

describe('frames without a usable distance', () => {
  const gapsOf = (deviceId: string) => t.db.query<{ afterSeq: number; beforeSeq: number; missing: number }>(
    `SELECT after_seq AS "afterSeq", before_seq AS "beforeSeq", missing FROM device_gaps WHERE device_id = $1 AND NOT lead_in ORDER BY after_seq`, [deviceId]).then((r) => r.rows)
  const ldds = (fCnt: number, frame: string, ago: number, gateways = 1) => tts(ttsUplink({ devEui: 'A840410001810E75', fCnt, fPort: 2, payload: hex(frame), receivedAt: at(ago), gateways }))

  test('no echo, "No Sensor" and the blind zone: quarantined or flagged with the reason, the frame counter still counted (no gap), copies change nothing', async () => {
    await t.db.query(`INSERT INTO bins (bin_id, uprn, stream, capacity_l) VALUES ('nr-1', 100000000004, 'food', 240)`)
    expect((await api('PUT', '/api/v1/lorawan/devices/A840410001810E75', { model: 'dragino-ldds75', binId: 'nr-1' })).status).toBe(201)
    expect((await ldds(1, '0D3B01F400000001', 700)).body).toMatchObject({ outcome: 'stored', seq: 1, fillPct: 55 })
    // Distance 0: no echo came back. Quarantined with its reason; a copy from a second gateway is the same frame.
    const noEcho = { status: 202, body: { outcome: 'quarantined', reason: 'no_measurement', detail: 'dragino-ldds75 sent no usable distance (no_echo); battery recorded', deviceId: 'lw-a840410001810e75', seq: 2, flags: ['no_echo'] } }
    expect(await ldds(2, '0D3B000000000001', 690)).toEqual(noEcho)
    expect(await ldds(2, '0D3B000000000001', 690, 2)).toEqual(noEcho)
    // FCnt 4 arrives before FCnt 3 ("No Sensor", 4 bytes): the reading opens a gap for 3, and 3 fills it.
    expect((await ldds(4, '0D3B01F400000001', 670)).body).toMatchObject({ outcome: 'stored', seq: 4 })
    expect(await gapsOf('lw-a840410001810e75')).toEqual([{ afterSeq: 2, beforeSeq: 4, missing: 1 }])
    expect((await ldds(3, '0E1C0B05', 680)).body).toMatchObject({ outcome: 'quarantined', reason: 'no_measurement', seq: 3, flags: ['no_sensor'] })
    // 100 mm is inside the 250 mm blind zone: waste at the sensor, stored as 100 % and flagged.
    expect((await ldds(5, '0D3B006400000001', 660)).body).toEqual({ outcome: 'stored', deviceId: 'lw-a840410001810e75', seq: 5, fillPct: 100, flags: ['blind_zone'] })
    expect((await ldds(5, '0D3B006400000001', 660, 3)).body).toMatchObject({ outcome: 'stored', seq: 5 })

    expect((await readings('lw-a840410001810e75')).map((r) => [r.seq, r.fillPct])).toEqual([[1, 55], [4, 55], [5, 100]])
    expect(await gapsOf('lw-a840410001810e75')).toEqual([{ afterSeq: 2, beforeSeq: 4, missing: 0 }])
    const { rows: [device] } = await t.db.query<{ lastSeq: number }>(`SELECT last_seq AS "lastSeq" FROM devices WHERE device_id = 'lw-a840410001810e75'`)
    expect(device!.lastSeq).toBe(5)
    expect(await count(t.db, `SELECT 1 FROM quarantine WHERE device_id = 'lw-a840410001810e75' AND reason = 'no_measurement'`)).toBe(3) // two envelopes of FCnt 2, one of FCnt 3
    const shown = await api('GET', '/api/v1/lorawan/devices/A840410001810E75')
    expect(shown.body.frames).toEqual([
      { seq: 5, ts: at(660).toISOString(), stored: true, reason: null, flags: ['blind_zone'] },
      { seq: 3, ts: at(680).toISOString(), stored: false, reason: 'no_measurement', flags: ['no_sensor'] },
      { seq: 2, ts: at(690).toISOString(), stored: false, reason: 'no_measurement', flags: ['no_echo'] },
    ])
    // The next reading after a frame without one opens no gap either.
    expect((await ldds(6, '0D3B000A00000001', 650)).body).toMatchObject({ outcome: 'quarantined', seq: 6, flags: ['invalid_reading'] })
    expect((await ldds(7, '0D3B01F400000001', 640)).body).toMatchObject({ outcome: 'stored', seq: 7 })
    expect((await gapsOf('lw-a840410001810e75')).map((g) => g.missing)).toEqual([0])
  })

  test('a Milesight attribute frame (power-on, versions) is a frame without a reading, not an undecodable one', async () => {
    await t.db.query(`INSERT INTO bins (bin_id, uprn, stream, capacity_l) VALUES ('nr-2', 100000000003, 'food', 240)`)
    expect((await api('PUT', '/api/v1/lorawan/devices/24E1247100000E31', { model: 'milesight-em310-udl', binId: 'nr-2' })).status).toBe(201)
    expect((await cs('up', chirpstackUp({ devEui: '24E1247100000E31', fCnt: 1, fPort: 85, payload: hex('01755C 03820802 040000'), receivedAt: at(120) }))).body).toMatchObject({ outcome: 'stored', seq: 1 })
    expect((await cs('up', chirpstackUp({ devEui: '24E1247100000E31', fCnt: 2, fPort: 85, payload: hex('ff0bff ff0101 ff166136c39073840000'), receivedAt: at(110) }))).body)
      .toMatchObject({ outcome: 'quarantined', reason: 'no_measurement', seq: 2, flags: ['device_attributes'] })
    expect((await cs('up', chirpstackUp({ devEui: '24E1247100000E31', fCnt: 3, fPort: 85, payload: hex('01755C 03820802 040000'), receivedAt: at(100) }))).body).toMatchObject({ outcome: 'stored', seq: 3 })
    expect(await gapsOf('lw-24e1247100000e31')).toEqual([])
  })
})

describe('the LoRaWAN simulator', () => {
  test('registers one sensor of each model on its bins and sends their rounds through both network servers', async () => {
    let x = 0.37
    const random = () => (x = (x * 9301 + 49297) % 233280 / 233280)
    const o = { url: t.httpUrl, adminKey: t.adminKey, secrets: { ttn: TTN_SECRET, chirpstack: CS_SECRET }, bins: ['sim-1', 'sim-2', 'sim-3', 'sim-4'], random }
    const sensors = await registerSensors(o)
    expect(new Set(sensors.map((s) => s.model)).size).toBe(4)
    await sendRound(o, sensors, at(30))
    await sendRound(o, sensors, at(20))
    const { rows } = await t.db.query<{ deviceId: string; n: number }>(`SELECT r.device_id AS "deviceId", count(*)::int AS n FROM bin_readings r JOIN devices d ON d.device_id = r.device_id WHERE d.bin_id LIKE 'sim-%' GROUP BY 1`)
    expect(rows.map((r) => r.n)).toEqual([2, 2, 2, 2])
  })
})

describe('the live feed', () => {
  test('a stored webhook reading reaches live subscribers through the broker, as a device reading does', async () => {
    const mqtt = (await import('mqtt')).default
    await t.db.query(`INSERT INTO bins (bin_id, uprn, stream, capacity_l) VALUES ('live-1', 100000000004, 'food', 240)`)
    expect((await api('PUT', '/api/v1/lorawan/devices/24E1247100000777', { model: 'milesight-em310-udl', binId: 'live-1' })).status).toBe(201)
    const sub = mqtt.connect(t.mqttUrl, { clientId: 'kerbside-live-test', username: 'kerbside-live-test', password: t.ctx.secrets.serviceSecret, reconnectPeriod: 0 })
    await new Promise<void>((resolve, reject) => { sub.once('connect', () => resolve()); sub.once('error', reject) })
    const seen: { topic: string; fillPct: number }[] = []
    sub.on('message', (topic, payload) => seen.push({ topic, fillPct: (JSON.parse(payload.toString()) as { fillPct: number }).fillPct }))
    await sub.subscribeAsync('kerbside/v1/bins/lw-24e1247100000777/#', { qos: 0 })
    const res = await tts(ttsUplink({ devEui: '24E1247100000777', fCnt: 3, fPort: 85, payload: hex('01755C 03820802 040000'), receivedAt: at(30) }))
    expect(res.status).toBe(200)
    await waitFor(() => seen.length === 1, 5000, 'the reading on the live feed')
    expect(seen).toEqual([{ topic: 'kerbside/v1/bins/lw-24e1247100000777/reading', fillPct: 53 }])
    await sub.endAsync()
  })
})
