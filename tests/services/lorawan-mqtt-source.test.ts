// The network servers' MQTT integrations as a front door, through the machine's Mosquitto
// (127.0.0.1:1883) standing in for each server's broker: The Things Stack's uplink topic at QoS 0,
// ChirpStack's event topics at QoS 1; stored like webhook uplinks, a copy recognised.
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { Registry } from 'prom-client'
import { silentLogger } from '../../core/log.ts'
import { startLoRaWANMqttSource, type RunningMqttSource } from '../../ingest/lorawan/mqtt-source.ts'
import { createLoRaWANIngest } from '../../ingest/lorawan/uplink-handler.ts'
import { registerLoRaWANDevice } from '../../storage/lorawan-devices.ts'
import { chirpstackStatus, chirpstackUp, ttsUplink } from '../../simulators/lorawan/envelopes.ts'
import { count, seedMinimalRegistry, startTestStack, waitFor, type TestStack } from '../helpers/stack.ts'

const MOSQUITTO = process.env.MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883'
const app = `kerbside-${randomBytes(4).toString('hex')}`
const T0 = Math.floor(Date.now() / 1000) * 1000 - 120_000
let t: TestStack
const sources: RunningMqttSource[] = []

beforeAll(async () => {
  t = await startTestStack({})
  await seedMinimalRegistry(t.db)
  await registerLoRaWANDevice(t.db, { devEui: '24E124713B15CCC1', model: 'milesight-em310-udl', binId: 'bin-1' })
  await registerLoRaWANDevice(t.db, { devEui: 'A84041000181CCC2', model: 'dragino-ldds75', binId: 'bin-2' })
}, 120_000)
afterAll(async () => {
  for (const s of sources) await s.stop()
  await t?.close()
})

test('uplinks from The Things Stack (QoS 0) and ChirpStack (QoS 1) MQTT integrations are stored once', async () => {
  const ingest = createLoRaWANIngest({ db: t.db, pipeline: t.stack.pipeline, logger: silentLogger, registry: new Registry() })
  const tts = startLoRaWANMqttSource({ server: 'ttn', url: MOSQUITTO, topic: `v3/${app}@ttn/devices/+/up` }, ingest, silentLogger)
  const cs = startLoRaWANMqttSource({ server: 'chirpstack', url: MOSQUITTO, topic: `application/${app}/device/+/event/+`, clientId: `${app}-cs` }, ingest, silentLogger)
  sources.push(tts, cs)
  await waitFor(() => tts.ready() && cs.ready(), 10_000, 'both subscriptions')

  const pub = await mqtt.connectAsync(MOSQUITTO, { reconnectPeriod: 0 })
  const up = ttsUplink({ devEui: '24E124713B15CCC1', fCnt: 9, fPort: 85, payload: Buffer.from('01755C03820802040000', 'hex'), receivedAt: new Date(T0) })
  await pub.publishAsync(`v3/${app}@ttn/devices/dev1/up`, JSON.stringify(up), { qos: 0 })
  await pub.publishAsync(`v3/${app}@ttn/devices/dev1/up`, JSON.stringify(up), { qos: 0 })
  const csUp = chirpstackUp({ devEui: 'A84041000181CCC2', fCnt: 4, fPort: 2, payload: Buffer.from('0D3B01F400000001', 'hex'), receivedAt: new Date(T0 + 1000) })
  await pub.publishAsync(`application/${app}/device/a84041000181ccc2/event/up`, JSON.stringify(csUp), { qos: 1 })
  await pub.publishAsync(`application/${app}/device/a84041000181ccc2/event/status`, JSON.stringify(chirpstackStatus('A84041000181CCC2', new Date(T0 + 2000), 71)), { qos: 1 })
  await pub.publishAsync(`application/${app}/device/a84041000181ccc2/event/up`, 'not json', { qos: 1 })
  await pub.endAsync()

  await waitFor(async () => (await count(t.db, `SELECT 1 FROM bin_readings WHERE device_id IN ('lw-24e124713b15ccc1', 'lw-a84041000181ccc2')`)) === 2, 10_000, 'both readings')
  await waitFor(async () => (await count(t.db, `SELECT 1 FROM quarantine WHERE reason = 'bad_envelope'`)) === 1, 10_000, 'the bad message in quarantine')
  const { rows } = await t.db.query<{ deviceId: string; seq: number; fillPct: number }>(`SELECT device_id AS "deviceId", seq, fill_pct AS "fillPct" FROM bin_readings WHERE device_id LIKE 'lw-%' ORDER BY device_id`)
  expect(rows).toEqual([{ deviceId: 'lw-24e124713b15ccc1', seq: 9, fillPct: 53 }, { deviceId: 'lw-a84041000181ccc2', seq: 4, fillPct: 55 }])
  await waitFor(async () => (await t.db.query<{ p: number | null }>(`SELECT battery_pct AS p FROM lorawan_devices WHERE dev_eui = 'A84041000181CCC2'`)).rows[0]?.p === 71, 10_000, 'the status battery')
})
