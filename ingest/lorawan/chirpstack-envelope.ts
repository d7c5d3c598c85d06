// ChirpStack v4 integration events, JSON marshaler (the Protobuf JSON mapping of its
// integration.proto: camelCase names, bytes as base64, zero values left out). The HTTP integration
// names the event in the query (`?event=up|join|status|ack|txack|log|location|integration`); the
// MQTT integration in the topic (`application/{id}/device/{devEui}/event/{event}`).
// UplinkEvent: deduplicationId, time, deviceInfo {tenantId, applicationId, deviceProfileName,
// deviceName, devEui, tags}, devAddr, adr, dr, fCnt, fPort, confirmed, data, object, rxInfo, txInfo.
// StatusEvent: margin, externalPowerSource, batteryLevelUnavailable, batteryLevel (%).
import { base64Of, devEuiOf, fCntOf, isObject, timeOf, type ParseResult } from './events.ts'

export const CHIRPSTACK_EVENTS = ['up', 'join', 'status', 'ack', 'txack', 'log', 'location', 'integration'] as const

export function parseChirpStackEvent(event: string, body: unknown): ParseResult {
  if (!isObject(body)) return { ok: false, devEui: null, detail: 'the event is not a JSON object' }
  const info = body.deviceInfo
  const devEui = isObject(info) ? devEuiOf(info.devEui) : null
  if (!devEui) return { ok: false, devEui: null, detail: 'deviceInfo.devEui is missing or not a DevEUI' }
  if (!(CHIRPSTACK_EVENTS as readonly string[]).includes(event)) return { ok: false, devEui, detail: `event ${JSON.stringify(event.slice(0, 20))} is not a ChirpStack v4 event type` }
  // `time` is the time of the uplink's reception as ChirpStack deduplicated it; a gateway's own
  // clock (rxInfo[].nsTime, then gwTime) only if it is absent.
  const rx = Array.isArray(body.rxInfo) ? body.rxInfo.filter(isObject) : []
  const at = timeOf(body.time) ?? rx.map((r) => timeOf(r.nsTime) ?? timeOf(r.gwTime)).find((t) => t !== null) ?? null

  switch (event) {
    case 'up': {
      const fCnt = fCntOf(body.fCnt)
      if (fCnt === null) return { ok: false, devEui, detail: `fCnt ${JSON.stringify(body.fCnt)} is not a frame counter` }
      const payload = base64Of(body.data)
      if (payload === false) return { ok: false, devEui, detail: 'data is not base64' }
      if (!at) return { ok: false, devEui, detail: 'time is missing or not a time (and no rxInfo time either)' }
      return {
        ok: true,
        event: {
          kind: 'up', devEui, fCnt, payload, receivedAt: at,
          fPort: typeof body.fPort === 'number' ? body.fPort : undefined,
          decoded: isObject(body.object) ? body.object : null,
          gateways: rx.length,
        },
      }
    }
    case 'join':
      if (!at) return { ok: false, devEui, detail: 'time is missing or not a time' }
      return { ok: true, event: { kind: 'join', devEui, at } }
    case 'status': {
      const level = body.batteryLevelUnavailable === true || body.externalPowerSource === true ? null : body.batteryLevel
      return { ok: true, event: { kind: 'status', devEui, at: at ?? new Date(), batteryPct: typeof level === 'number' && level >= 0 && level <= 100 ? level : null } }
    }
    default:
      return { ok: true, event: { kind: 'ignored', devEui, event } }
  }
}
