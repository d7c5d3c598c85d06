// The live feed: a QoS 0 subscription to device telemetry on the broker, validated with the same
// contract as ingest and fanned out to WebSocket listeners (the dashboard's live map).
// It is a view, not a store: what ingest commits is the record.
import mqtt, { type MqttClient } from 'mqtt'
import { decodePayload } from '../core/contract/codec.ts'
import type { ContractMessage } from '../core/contract/messages.ts'
import { ALL_DEVICE_TOPICS, parseTopic, type DeviceKind } from '../core/contract/topics.ts'
import type { Logger } from '../core/log.ts'

export interface LiveEvent {
  type: ContractMessage['kind']
  deviceId: string
  deviceKind: DeviceKind
  data: ContractMessage['body']
}

export type LiveListener = (event: LiveEvent) => void

export interface LiveFeed {
  subscribe(listener: LiveListener): () => void
  listeners(): number
  close(): Promise<void>
}

/** A feed fed by hand (tests, or a process without a broker). */
export function createLocalFeed(): LiveFeed & { publish(event: LiveEvent): void } {
  const listeners = new Set<LiveListener>()
  return {
    publish: (event) => { for (const l of listeners) l(event) },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    listeners: () => listeners.size,
    close: async () => listeners.clear(),
  }
}

export function connectLiveFeed(opts: { url: string; username: string; password: string; clientId: string; logger: Logger; maxPayloadBytes: number }): LiveFeed {
  const local = createLocalFeed()
  const client: MqttClient = mqtt.connect(opts.url, { clientId: opts.clientId, username: opts.username, password: opts.password, clean: true, reconnectPeriod: 1000 })
  client.on('connect', () => client.subscribe(ALL_DEVICE_TOPICS, { qos: 0 }))
  client.on('error', (err) => opts.logger.warn({ err: err.message }, 'live feed MQTT error'))
  client.on('message', (topic, payload) => {
    if (local.listeners() === 0) return
    const parsed = parseTopic(topic)
    if (!parsed) return
    const result = decodePayload(parsed.message, payload, parsed.binary, opts.maxPayloadBytes)
    if (!result.ok) return
    local.publish({ type: result.message.kind, deviceId: parsed.deviceId, deviceKind: parsed.deviceKind, data: result.message.body })
  })
  return {
    subscribe: local.subscribe,
    listeners: local.listeners,
    close: async () => { await client.endAsync(true); await local.close() },
  }
}
