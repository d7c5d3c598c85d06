// A network server's MQTT integration as a LoRaWAN front door, beside the webhooks:
//   The Things Stack: v3/{application id}@{tenant}/devices/{device id}/up (join, down/…) —
//     MQTT 3.1.1 and QoS 0 only: the server sends once and keeps nothing for a subscriber that is
//     away, so what it publishes while Kerbside is disconnected is lost unless the Storage
//     Integration backfill reads it back (tts-backfill.ts).
//   ChirpStack: application/{application id}/device/{devEui}/event/{up|join|status|…} — QoS 1 on
//     a persistent session, acknowledged only after the commit (ack-after-commit.ts), so the broker
//     redelivers what Kerbside had not committed.
// Each message goes through the same handler as the webhooks (uplink-handler.ts).
import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Logger } from '../../core/log.ts'
import { connectAckAfterCommit, type AckAfterCommitClient, type ReceivedMessage } from '../ack-after-commit.ts'
import { parseChirpStackEvent } from './chirpstack-envelope.ts'
import type { NetworkServer, ParseResult } from './events.ts'
import { parseTtsMessage } from './tts-envelope.ts'
import type { LoRaWANIngest } from './uplink-handler.ts'

export interface LoRaWANMqttSource {
  server: NetworkServer
  url: string
  username?: string
  password?: string
  /** e.g. `v3/kerbside-bins@ttn/devices/+/up` or `application/{id}/device/+/event/+` */
  topic: string
  clientId?: string
}

/** The event a message carries: The Things Stack names it in the body, ChirpStack in the topic's last level. */
export function parseMqttMessage(server: NetworkServer, topic: string, payload: Buffer): ParseResult {
  let body: unknown
  try {
    body = JSON.parse(payload.toString('utf8'))
  } catch {
    return { ok: false, devEui: null, detail: 'the message is not JSON (set the integration to JSON)' }
  }
  if (server === 'ttn') return parseTtsMessage(body)
  const levels = topic.split('/')
  return parseChirpStackEvent(levels[levels.length - 2] === 'event' ? levels[levels.length - 1]! : '', body)
}

export interface RunningMqttSource { ready(): boolean; stop(): Promise<void> }

export function startLoRaWANMqttSource(src: LoRaWANMqttSource, ingest: LoRaWANIngest, logger: Logger): RunningMqttSource {
  const qos = src.server === 'ttn' ? 0 : 1
  let subscribed = false
  const onMessage = (msg: ReceivedMessage) => {
    ingest.handle(src.server, parseMqttMessage(src.server, msg.topic, msg.payload), msg.payload).then((outcome) => {
      // Not taken (Kerbside is closing): no PUBACK, so a QoS 1 broker sends it again after the restart.
      if (outcome.body.outcome !== 'retry') msg.ack()
    }, (err: Error) => logger.error({ err: err.message, topic: msg.topic }, 'LoRaWAN MQTT message not handled; left unacknowledged'))
  }
  const connection: AckAfterCommitClient = connectAckAfterCommit(src.url, {
    clientId: src.clientId ?? `kerbside-lorawan-${src.server}-${process.pid}`,
    username: src.username,
    password: src.password,
    clean: qos === 0, // a persistent session is what makes QoS 1 redeliver; QoS 0 has nothing to keep
    protocolVersion: 4,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    maxPending: 5000,
    onMessage,
  })
  connection.client.on('connect', () => {
    connection.client.subscribeAsync(src.topic, { qos }).then(() => {
      subscribed = true
      logger.info({ url: src.url, topic: src.topic, qos }, `subscribed to the ${src.server} MQTT integration`)
    }, (err: Error) => logger.error({ err: err.message, topic: src.topic }, `could not subscribe to the ${src.server} MQTT integration`))
  })
  connection.client.on('close', () => { subscribed = false })
  connection.client.on('error', (err) => logger.warn({ err: err.message, url: src.url }, `${src.server} MQTT integration`))
  return {
    ready: () => subscribed && connection.client.connected,
    stop: () => new Promise<void>((resolve) => { connection.client.end(false, {}, () => resolve()) }),
  }
}

const SourceSchema = Type.Array(Type.Object({
  server: Type.Union([Type.Literal('ttn'), Type.Literal('chirpstack')]),
  url: Type.String({ pattern: '^(mqtts?|wss?)://' }),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  topic: Type.String({ minLength: 1 }),
  clientId: Type.Optional(Type.String()),
}, { additionalProperties: false }))
const checkSources = TypeCompiler.Compile(SourceSchema)

/** LORAWAN_MQTT_SOURCES, checked at start: a mistake stops the process with where it is. */
export function parseMqttSources(json: string): LoRaWANMqttSource[] {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch (err) {
    throw new Error(`LORAWAN_MQTT_SOURCES is not JSON: ${(err as Error).message}`)
  }
  if (!checkSources.Check(value)) {
    const first = checkSources.Errors(value).First()
    throw new Error(`LORAWAN_MQTT_SOURCES${first?.path ?? ''}: ${first?.message ?? 'not a list of sources'}`)
  }
  return value
}
