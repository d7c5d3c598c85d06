// The Things Stack v3 application messages (webhooks, MQTT, Storage Integration), JSON as in its
// documentation "Data Formats" (thethingsindustries.com/docs/integrations/data-formats): one object
// per message, `end_device_ids` naming the device and one field naming the event — `uplink_message`,
// `join_accept`, `downlink_ack`, `location_solved`, `service_data` … Empty fields are omitted, so a
// missing `f_cnt` is 0 and a missing `frm_payload` is an empty payload.
import { base64Of, devEuiOf, fCntOf, isObject, timeOf, type ParseResult } from './events.ts'

const OTHER_EVENTS = ['downlink_ack', 'downlink_nack', 'downlink_sent', 'downlink_failed', 'downlink_queued', 'downlink_queue_invalidated', 'location_solved', 'service_data', 'uplink_normalized']

export function parseTtsMessage(body: unknown): ParseResult {
  if (!isObject(body)) return { ok: false, devEui: null, detail: 'the message is not a JSON object' }
  const ids = body.end_device_ids
  if (!isObject(ids)) return { ok: false, devEui: null, detail: 'end_device_ids is missing' }
  const devEui = devEuiOf(ids.dev_eui)
  if (!devEui) return { ok: false, devEui: null, detail: `end_device_ids.dev_eui ${JSON.stringify(ids.dev_eui ?? null).slice(0, 40)} is not a DevEUI (is the device registered with one?)` }
  const topReceived = timeOf(body.received_at)

  const up = body.uplink_message
  if (isObject(up)) {
    if (body.simulated === true) return { ok: true, event: { kind: 'ignored', devEui, event: 'simulated uplink' } }
    const fCnt = fCntOf(up.f_cnt)
    if (fCnt === null) return { ok: false, devEui, detail: `uplink_message.f_cnt ${JSON.stringify(up.f_cnt)} is not a frame counter` }
    const payload = base64Of(up.frm_payload)
    if (payload === false) return { ok: false, devEui, detail: 'uplink_message.frm_payload is not base64' }
    // The Network Server's time of reception, set once per uplink; the Application Server's (the
    // top-level received_at) only when the other is absent.
    const receivedAt = timeOf(up.received_at) ?? topReceived
    if (!receivedAt) return { ok: false, devEui, detail: 'uplink_message.received_at is missing or not a time' }
    const battery = isObject(up.last_battery_percentage) ? up.last_battery_percentage.f_value ?? up.last_battery_percentage.value : undefined
    return {
      ok: true,
      event: {
        kind: 'up', devEui, fCnt, payload, receivedAt,
        fPort: typeof up.f_port === 'number' ? up.f_port : undefined,
        decoded: isObject(up.decoded_payload) ? up.decoded_payload : null,
        gateways: Array.isArray(up.rx_metadata) ? up.rx_metadata.length : 0,
        ...(typeof battery === 'number' && battery >= 0 && battery <= 100 ? { batteryPct: battery } : {}),
      },
    }
  }
  const join = body.join_accept
  if (isObject(join)) {
    const at = timeOf(join.received_at) ?? topReceived
    if (!at) return { ok: false, devEui, detail: 'join_accept.received_at is missing or not a time' }
    return { ok: true, event: { kind: 'join', devEui, at } }
  }
  const other = OTHER_EVENTS.find((k) => k in body)
  if (other) return { ok: true, event: { kind: 'ignored', devEui, event: other } }
  return { ok: false, devEui, detail: `no known event field (uplink_message, join_accept, ${OTHER_EVENTS.slice(0, 3).join(', ')} …)` }
}
