// LORAWAN_MQTT_SOURCES is checked at start, and a mistake says where it is; ChirpStack's event comes from its topic.
import { expect, test } from 'vitest'
import { parseMqttMessage, parseMqttSources } from '../../ingest/lorawan/mqtt-source.ts'

test('a list of sources is read; a mistake names its place', () => {
  expect(parseMqttSources('[{"server":"ttn","url":"mqtts://eu1.cloud.thethings.network:8883","username":"kerbside-bins@ttn","password":"NNSXS.X","topic":"v3/kerbside-bins@ttn/devices/+/up"}]'))
    .toEqual([{ server: 'ttn', url: 'mqtts://eu1.cloud.thethings.network:8883', username: 'kerbside-bins@ttn', password: 'NNSXS.X', topic: 'v3/kerbside-bins@ttn/devices/+/up' }])
  expect(() => parseMqttSources('[{"server":"loriot","url":"mqtt://x","topic":"t"}]')).toThrow(/LORAWAN_MQTT_SOURCES\/0\/server/)
  expect(() => parseMqttSources('[{"server":"ttn","url":"http://x","topic":"t"}]')).toThrow(/LORAWAN_MQTT_SOURCES\/0\/url/)
  expect(() => parseMqttSources('{')).toThrow(/not JSON/)
})

test("ChirpStack's event type is the topic's last level; a body that is not JSON is a bad envelope", () => {
  const body = Buffer.from(JSON.stringify({ deviceInfo: { devEui: 'a84041000181c61a' }, batteryLevel: 50, time: '2026-12-06T05:00:00Z' }))
  expect(parseMqttMessage('chirpstack', 'application/abc/device/a84041000181c61a/event/status', body)).toMatchObject({ ok: true, event: { kind: 'status', batteryPct: 50 } })
  expect(parseMqttMessage('ttn', 'v3/app@ttn/devices/d/up', Buffer.from('nope'))).toMatchObject({ ok: false, detail: expect.stringContaining('not JSON') })
})
