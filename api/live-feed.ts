// The live feed: a QoS 0 subscription to device telemetry on the broker, validated with the same
// contract as ingest and fanned out to WebSocket listeners (the dashboard's live map).
// It is a view, not a store: what ingest commits is the record. It remembers the last few minutes of
// events, so that a listener can ask for what it missed: a dashboard whose map snapshot was made a
// little before it connected, or whose connection dropped for a moment (`since`).
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

/** How long, and how many, recent events the feed keeps for listeners that ask for what they missed. */
export const REPLAY_WINDOW_MS = 5 * 60_000
export const REPLAY_MAX_EVENTS = 50_000

export interface LiveFeed {
  subscribe(listener: LiveListener): () => void
  /** Events the feed passed on after `sinceMs` (epoch ms, this server's clock), oldest first; at most the replay window's. */
  since(sinceMs: number): LiveEvent[]
  listeners(): number
  close(): Promise<void>
}

/** A feed fed by hand (tests, or a process without a broker). */
export function createLocalFeed(now: () => number = Date.now): LiveFeed & { publish(event: LiveEvent): void } {
  const listeners = new Set<LiveListener>()
  // A ring of recent events: `at` and `events` in step, `head` the oldest kept.
  let at: number[] = []
  let events: LiveEvent[] = []
  let head = 0
  const trim = (t: number) => {
    while (head < at.length && (at[head]! < t - REPLAY_WINDOW_MS || at.length - head > REPLAY_MAX_EVENTS)) head++
    if (head > 4096 && head * 2 > at.length) { at = at.slice(head); events = events.slice(head); head = 0 }
  }
  return {
    publish: (event) => {
      const t = now()
      at.push(t)
      events.push(event)
      trim(t)
      for (const l of listeners) l(event)
    },
    since(sinceMs) {
      trim(now())
      let lo = head
      let hi = at.length
      while (lo < hi) { const mid = (lo + hi) >>> 1; if (at[mid]! <= sinceMs) lo = mid + 1; else hi = mid }
      return events.slice(lo)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    listeners: () => listeners.size,
    close: async () => { listeners.clear(); at = []; events = []; head = 0 },
  }
}

export function connectLiveFeed(opts: { url: string; username: string; password: string; clientId: string; logger: Logger; maxPayloadBytes: number }): LiveFeed {
  const local = createLocalFeed()
  const client: MqttClient = mqtt.connect(opts.url, { clientId: opts.clientId, username: opts.username, password: opts.password, clean: true, reconnectPeriod: 1000 })
  client.on('connect', () => client.subscribe(ALL_DEVICE_TOPICS, { qos: 0 }))
  client.on('error', (err) => opts.logger.warn({ err: err.message }, 'live feed MQTT error'))
  client.on('message', (topic, payload) => {
    const parsed = parseTopic(topic)
    if (!parsed) return
    const result = decodePayload(parsed.message, payload, parsed.binary, opts.maxPayloadBytes)
    if (!result.ok) return
    local.publish({ type: result.message.kind, deviceId: parsed.deviceId, deviceKind: parsed.deviceKind, data: result.message.body })
  })
  return {
    subscribe: local.subscribe,
    since: local.since,
    listeners: local.listeners,
    close: async () => { await client.endAsync(true); await local.close() },
  }
}
