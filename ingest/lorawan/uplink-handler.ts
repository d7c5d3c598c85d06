// The LoRaWAN front door into the one ingest pipeline: a network server's event, parsed from its
// envelope (tts-envelope.ts, chirpstack-envelope.ts), becomes a bin reading of the device contract —
// the frame counter mapped to the device's seq, the payload decoded by the sensor model's codec,
// the distance turned into a fill level for the bin — and is submitted to the pipeline like any
// MQTT device's reading: same validation, idempotency, seq/gap tracking and quarantine. The outcome
// is known only after the pipeline has committed it, and that is when the network server gets its
// 2xx; while Kerbside shuts down it gets a 503 and sends the uplink again later.
// What cannot become a reading (unknown DevEUI, an undecodable payload, an envelope not understood)
// goes into the same quarantine table with its reason and is answered, so that nothing is lost and
// the network server does not retry what can never succeed.
import type { Registry } from 'prom-client'
import { Counter } from 'prom-client'
import type { Logger } from '../../core/log.ts'
import { deviceTopic } from '../../core/contract/topics.ts'
import type { Database } from '../../storage/database.ts'
import { quarantineUplink, recordBattery, recordJoin } from '../../storage/lorawan-devices.ts'
import { accountFrameWithoutReading, noteFlaggedReading } from '../../storage/lorawan-frames.ts'
import { codecFor } from '../codecs/index.ts'
import { geometryFor, toReading } from '../codecs/fill-level.ts'
import type { DecodeResult } from '../codecs/types.ts'
import type { Pipeline, Verdict } from '../pipeline.ts'
import { createRefusalLog } from '../refusal-log.ts'
import type { DecodedItem } from '../write-batch.ts'
import type { LoRaWANEvent, NetworkServer, ParseResult } from './events.ts'
import { createUplinkMapper } from './uplink-mapper.ts'

export type OutcomeName = 'stored' | 'quarantined' | 'recorded' | 'ignored' | 'no_reading' | 'retry'

export interface Outcome {
  statusCode: 200 | 202 | 400 | 503
  body: { outcome: OutcomeName; reason?: string; detail?: string; deviceId?: string; seq?: number; fillPct?: number; flags?: string[] }
}

export interface LoRaWANIngestOptions {
  db: Database
  pipeline: Pipeline
  logger: Logger
  registry: Registry
}

export interface LoRaWANIngest {
  /** Handle one parsed event; `raw` is the envelope as received, kept in quarantine when refused. */
  handle(source: NetworkServer, parsed: ParseResult, raw: Buffer): Promise<Outcome>
}

function eventsCounter(registry: Registry): Counter<'source' | 'event' | 'outcome'> {
  const name = 'kerbside_lorawan_events_total'
  return (registry.getSingleMetric(name) as Counter<'source' | 'event' | 'outcome'> | undefined)
    ?? new Counter({ name, help: 'Network-server events received, by source, event and outcome (stored, quarantined, recorded, ignored, no_reading, retry)', labelNames: ['source', 'event', 'outcome'], registers: [registry] })
}

export function createLoRaWANIngest(opts: LoRaWANIngestOptions): LoRaWANIngest {
  const { db, pipeline } = opts
  const counter = eventsCounter(opts.registry)
  const refusals = createRefusalLog(opts.logger)
  const mapper = createUplinkMapper(db)

  async function quarantine(source: NetworkServer, event: string, devEui: string | null, deviceId: string | null, reason: string, detail: string, raw: Buffer, statusCode: 202 | 400 = 202): Promise<Outcome> {
    const topic = `lorawan/${source}/${devEui ?? 'unknown'}/${event}`
    await quarantineUplink(db, { topic, deviceId, reason, detail, payload: raw })
    refusals.record(new Map([[{ topic, payload: raw, receivedAt: new Date(), parsed: null, result: { ok: false, reason: 'schema', detail } } satisfies DecodedItem, { reason, detail }]]))
    return { statusCode, body: { outcome: 'quarantined', reason, detail } }
  }

  const submit = (topic: string, body: object): Promise<{ err: Error | null; verdict?: Verdict }> =>
    new Promise((resolve) => pipeline.submit({ topic, payload: Buffer.from(JSON.stringify(body)), receivedAt: new Date(), forward: true }, (err, verdict) => resolve({ err, verdict })))

  async function uplink(source: NetworkServer, ev: Extract<LoRaWANEvent, { kind: 'up' }>, raw: Buffer): Promise<Outcome> {
    const mapped = await mapper.map(ev.devEui, ev.fCnt, ev.receivedAt)
    if (!mapped) return quarantine(source, 'up', ev.devEui, null, 'unknown_dev_eui', `DevEUI ${ev.devEui} is not registered: register it with its model and bin (PUT /api/v1/lorawan/devices/${ev.devEui})`, raw)
    const { device, mapping } = mapped
    if (!mapping.ok) return quarantine(source, 'up', ev.devEui, device.deviceId, 'f_cnt_session_overlap', mapping.detail, raw)
    const codec = codecFor(device.model)
    if (!codec) return quarantine(source, 'up', ev.devEui, device.deviceId, 'unknown_model', `model ${device.model} has no codec`, raw)
    // The raw frame when there is one (Kerbside's own tested codec); the network server's decoded fields otherwise.
    const decoded: DecodeResult = ev.payload && ev.payload.length > 0 ? codec.decode(ev.payload, ev.fPort)
      : ev.decoded ? codec.fromDecoded(ev.decoded) : { ok: false, detail: 'the uplink has neither a payload nor decoded fields' }
    // A frame that gives no reading was still heard with its frame counter: quarantined with its
    // reason, and its seq counted in the device's sequence, so it shows as neither a gap nor a loss.
    const withoutReading = async (reason: string, detail: string, flags: string[]): Promise<Outcome> => {
      const q = await quarantine(source, 'up', ev.devEui, device.deviceId, reason, detail, raw)
      await accountFrameWithoutReading(db, { deviceId: device.deviceId, seq: mapping.seq, ts: ev.receivedAt, reason, flags })
      return { statusCode: q.statusCode, body: { ...q.body, deviceId: device.deviceId, seq: mapping.seq, ...(flags.length > 0 ? { flags } : {}) } }
    }
    if (!decoded.ok) return withoutReading('undecodable_payload', `${codec.model}: ${decoded.detail}`, [])
    const conv = toReading(decoded.values, geometryFor(device.capacityL, device.calibration), codec.battery)
    if (!conv.reading) {
      // No distance, but the battery is worth keeping (the reading would have carried it).
      if (conv.batteryPct !== undefined || conv.batteryV !== undefined) await recordBattery(db, ev.devEui, ev.receivedAt, conv.batteryPct ?? null, conv.batteryV ?? null)
      const battery = conv.batteryPct !== undefined || conv.batteryV !== undefined ? '; battery recorded' : ''
      return withoutReading('no_measurement', `${codec.model} sent no usable distance (${conv.flags.join(', ') || 'none'})${battery}`, conv.flags)
    }
    const body = { seq: mapping.seq, ts: ev.receivedAt.toISOString(), ...conv.reading }
    const { err, verdict } = await submit(deviceTopic('bin', device.deviceId, 'reading'), body)
    if (err) return { statusCode: 503, body: { outcome: 'retry', reason: err.name, detail: err.message } }
    if (verdict?.refused) return { statusCode: 202, body: { outcome: 'quarantined', reason: verdict.reason, deviceId: device.deviceId, seq: mapping.seq } }
    // A clamped value (blind zone, overfull, beyond the bin's depth) is stored and its flags noted.
    if (conv.flags.length > 0) await noteFlaggedReading(db, { deviceId: device.deviceId, seq: mapping.seq, ts: ev.receivedAt, flags: conv.flags })
    return { statusCode: 200, body: { outcome: 'stored', deviceId: device.deviceId, seq: mapping.seq, fillPct: conv.reading.fillPct, ...(conv.flags.length > 0 ? { flags: conv.flags } : {}) } }
  }

  async function dispatch(source: NetworkServer, parsed: ParseResult, raw: Buffer): Promise<Outcome> {
    if (!parsed.ok) return quarantine(source, 'unknown', parsed.devEui, null, 'bad_envelope', parsed.detail, raw, 400)
    const ev = parsed.event
    switch (ev.kind) {
      case 'up':
        return uplink(source, ev, raw)
      case 'join':
        if (!(await recordJoin(db, ev.devEui, ev.at))) return quarantine(source, 'join', ev.devEui, null, 'unknown_dev_eui', `DevEUI ${ev.devEui} is not registered`, raw)
        return { statusCode: 200, body: { outcome: 'recorded' } }
      case 'status':
        if (!(await recordBattery(db, ev.devEui, ev.at, ev.batteryPct, null))) return quarantine(source, 'status', ev.devEui, null, 'unknown_dev_eui', `DevEUI ${ev.devEui} is not registered`, raw)
        return { statusCode: 200, body: { outcome: 'recorded' } }
      case 'ignored':
        return { statusCode: 200, body: { outcome: 'ignored', reason: ev.event } }
    }
  }

  return {
    async handle(source, parsed, raw) {
      const outcome = await dispatch(source, parsed, raw)
      counter.inc({ source, event: parsed.ok ? parsed.event.kind : 'unknown', outcome: outcome.body.outcome })
      return outcome
    },
  }
}
