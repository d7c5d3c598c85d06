// Ingest from an external MQTT broker (EMQX, HiveMQ, Mosquitto): the front door of the ingest
// pipeline for deployments whose devices connect to a broker other than Kerbside's own. A standard
// MQTT client on a persistent session at QoS 1 (with MQTT 5 shared subscriptions, several workers
// split the load); each message goes through the pipeline (pipeline.ts) and is acknowledged only
// after its batch commits. While commits wait, the unacknowledged window fills and ingest stops
// reading from the broker: memory stays bounded. Kerbside's own broker does not need this: it hands
// its devices' messages to the pipeline in-process (broker/create-broker.ts).
import type { Registry } from 'prom-client'
import { ALL_DEVICE_TOPICS } from '../core/contract/topics.ts'
import type { Logger } from '../core/log.ts'
import type { Database } from '../storage/database.ts'
import { connectAckAfterCommit, type ReceivedMessage } from './ack-after-commit.ts'
import type { IngestMetrics } from './metrics.ts'
import { createPipeline, type Pipeline } from './pipeline.ts'
import type { BatchStats } from './write-batch.ts'

export interface IngestOptions {
  db: Database
  logger: Logger
  registry: Registry
  mqttUrl: string
  clientId: string
  username?: string
  password?: string
  /** MQTT 5 shared-subscription group: several ingest workers split the load (external brokers). */
  sharedGroup?: string
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. Shared subscriptions need 5. */
  protocolVersion?: 4 | 5
  batchSize: number
  batchMs: number
  maxPending: number
  maxPayloadBytes: number
  /** Called after each commit with what was stored. */
  onCommit?: (stats: BatchStats) => void
  /** A pipeline to share with other front doors; by default ingest makes its own. */
  pipeline?: Pipeline
}

export interface Ingest {
  metrics: IngestMetrics
  pipeline: Pipeline
  /** Connect and subscribe; resolves once the subscription is in place. */
  start(): Promise<void>
  /** Stop reading, write and acknowledge what is buffered, disconnect. */
  stop(): Promise<void>
  ready(): boolean
}

export function createIngest(opts: IngestOptions): Ingest {
  const { logger } = opts
  const pipeline = opts.pipeline ?? createPipeline(opts)
  const metrics = pipeline.metrics
  let connection: ReturnType<typeof connectAckAfterCommit> | null = null
  let subscribed = false

  const onMessage = (msg: ReceivedMessage) => {
    pipeline.submit({ topic: msg.topic, payload: msg.payload }, (err) => {
      // Not stored (shutting down): no PUBACK, and the broker delivers it again on our session.
      if (!err) msg.ack()
    })
  }

  return {
    metrics,
    pipeline,
    ready: () => subscribed && connection?.client.connected === true && pipeline.healthy(),
    start() {
      const v5 = opts.protocolVersion === 5 || opts.sharedGroup !== undefined
      const filters = ALL_DEVICE_TOPICS.map((t) => (opts.sharedGroup ? `$share/${opts.sharedGroup}/${t}` : t))
      return new Promise<void>((resolve, reject) => {
        connection = connectAckAfterCommit(opts.mqttUrl, {
          clientId: opts.clientId,
          username: opts.username,
          password: opts.password,
          clean: false, // persistent session: the broker keeps our subscription and queue while we are away
          protocolVersion: v5 ? 5 : 4,
          properties: v5 ? { sessionExpiryInterval: 7 * 24 * 3600, receiveMaximum: Math.min(65_535, opts.maxPending) } : undefined,
          reconnectPeriod: 1000,
          connectTimeout: 10_000,
          maxPending: opts.maxPending,
          onMessage,
        })
        const client = connection.client
        let first = true
        client.on('connect', () => {
          metrics.connected.set(1)
          logger.info({ url: opts.mqttUrl, clientId: opts.clientId }, 'ingest connected to broker')
          // One SUBSCRIBE per filter: aedes 1.2 with a shared (Redis) persistence stores a
          // multi-filter SUBSCRIBE once per filter under one broadcast key, and never answers it.
          Promise.all(filters.map((f) => client.subscribeAsync(f, { qos: 1 }))).then((grants) => {
            const refused = grants.flat().filter((g) => g.qos !== 0 && g.qos !== 1)
            if (refused.length > 0) throw new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`)
            subscribed = true
            if (first) { first = false; resolve() }
          }).catch((err: Error) => {
            logger.error({ err: err.message }, 'ingest could not subscribe')
            if (first) { first = false; reject(err) }
          })
        })
        client.on('close', () => { metrics.connected.set(0); subscribed = false })
        client.on('error', (err) => {
          logger.warn({ err: err.message }, 'ingest MQTT error')
          // Bad credentials will not fix themselves: fail start-up instead of retrying for ever.
          if (first && /Not authorized|Bad username/i.test(err.message)) { first = false; client.end(true); reject(err) }
        })
      })
    },
    async stop() {
      const client = connection?.client
      // Write and acknowledge what we hold before disconnecting; what cannot be stored in time is
      // not acknowledged, and the broker keeps it for our session.
      await pipeline.close()
      if (client) await client.endAsync(false)
      metrics.connected.set(0)
    },
  }
}
