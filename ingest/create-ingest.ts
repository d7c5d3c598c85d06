// Ingest: a standard MQTT client (aedes or any MQTT 3.1.1/5 broker) on a persistent session at
// QoS 1. Messages are decoded and validated, collected into batches (by size and time), written in
// one transaction each, and acknowledged only after the commit. A slow database holds batches back,
// the unacknowledged window fills, and ingest stops reading from the broker: memory stays bounded.
import type { Registry } from 'prom-client'
import { decodePayload } from '../core/contract/codec.ts'
import { ALL_DEVICE_TOPICS, parseTopic } from '../core/contract/topics.ts'
import type { Logger } from '../core/log.ts'
import type { Database } from '../storage/database.ts'
import { connectAckAfterCommit, type ReceivedMessage } from './ack-after-commit.ts'
import { createIngestMetrics, type IngestMetrics } from './metrics.ts'
import { writeBatch, type BatchStats, type DecodedItem } from './write-batch.ts'

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
  /** 4 = MQTT 3.1.1 (aedes), 5 = MQTT 5. Shared subscriptions need 5. */
  protocolVersion?: 4 | 5
  batchSize: number
  batchMs: number
  maxPending: number
  maxPayloadBytes: number
  /** Called after each commit with what was stored (the embedded stack uses it for live jobs). */
  onCommit?: (stats: BatchStats) => void
}

export interface Ingest {
  metrics: IngestMetrics
  /** Connect and subscribe; resolves once the subscription is in place. */
  start(): Promise<void>
  /** Stop reading, write and acknowledge what is buffered, disconnect. */
  stop(): Promise<void>
  ready(): boolean
}

interface Pending { item: DecodedItem; ack: () => void }

// SQLSTATE classes 22 (data exception) and 23 (integrity violation) mean a row the database will
// never take: such a batch is split to find the message, which is quarantined. Anything else
// (connection lost, server restarting, lock timeout) is retried with backoff, without acknowledging.
const isPoison = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^(22|23)/.test(code)
}

export function createIngest(opts: IngestOptions): Ingest {
  const { db, logger } = opts
  const metrics = createIngestMetrics(opts.registry)
  let buffer: Pending[] = []
  let timer: NodeJS.Timeout | null = null
  let flushing: Promise<void> | null = null
  let stopping = false
  let connection: ReturnType<typeof connectAckAfterCommit> | null = null
  let subscribed = false

  const decode = (msg: ReceivedMessage): DecodedItem => {
    const receivedAt = new Date()
    const parsed = parseTopic(msg.topic)
    if (!parsed) return { topic: msg.topic, payload: msg.payload, receivedAt, parsed, result: { ok: false, reason: 'unknown_topic', detail: 'topic is not part of the device contract v1' } }
    return { topic: msg.topic, payload: msg.payload, receivedAt, parsed, result: decodePayload(parsed.message, msg.payload, parsed.binary, opts.maxPayloadBytes, receivedAt.getTime()) }
  }

  const onMessage = (msg: ReceivedMessage) => {
    metrics.received.inc()
    buffer.push({ item: decode(msg), ack: msg.ack })
    metrics.pending.set(connection?.pending() ?? buffer.length)
    if (buffer.length >= opts.batchSize) kick()
    else if (!timer) timer = setTimeout(kick, opts.batchMs)
  }

  function kick() {
    if (timer) { clearTimeout(timer); timer = null }
    if (flushing) return
    flushing = flushAll().finally(() => {
      flushing = null
      if (buffer.length > 0 && !timer) timer = setTimeout(kick, buffer.length >= opts.batchSize ? 0 : opts.batchMs)
    })
  }

  async function flushAll(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, opts.batchSize)
      buffer = buffer.slice(batch.length)
      await commitWithRetry(batch)
      metrics.pending.set(connection?.pending() ?? buffer.length)
      if (buffer.length < opts.batchSize && !stopping) break // let the timer gather a fuller batch
    }
  }

  async function commitWithRetry(batch: Pending[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await commit(batch)
        return
      } catch (err) {
        if (isPoison(err)) {
          metrics.dbErrors.inc({ kind: 'data' })
          await isolatePoison(batch)
          return
        }
        metrics.dbErrors.inc({ kind: 'transient' })
        const delay = Math.min(30_000, 100 * 2 ** Math.min(attempt, 9))
        logger.warn({ err: (err as Error).message, attempt, retryInMs: delay, batch: batch.length }, 'batch write failed; nothing acknowledged, retrying')
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }

  async function commit(batch: Pending[]): Promise<void> {
    const t0 = performance.now()
    const stats = await db.transaction((tx) => writeBatch(tx, batch.map((p) => p.item), { invalidateRollup: !db.capabilities.continuousAggregates }))
    const committedAt = Date.now()
    for (const p of batch) p.ack()
    metrics.record(stats, batch.length, (performance.now() - t0) / 1000)
    for (const p of batch) {
      const r = p.item.result
      if (r.ok && r.message.kind !== 'status') metrics.messageAge.observe((committedAt - Date.parse(r.message.body.ts)) / 1000)
    }
    opts.onCommit?.(stats)
  }

  // Split a batch the database refuses until the refused messages stand alone; quarantine those.
  async function isolatePoison(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const p = batch[0]!
      logger.error({ topic: p.item.topic }, 'message refused by the database; quarantined as storage_error')
      const item: DecodedItem = { ...p.item, result: { ok: false, reason: 'storage_error', detail: 'the database refused this message' } }
      await commitWithRetry([{ item, ack: p.ack }])
      return
    }
    const half = Math.ceil(batch.length / 2)
    for (const part of [batch.slice(0, half), batch.slice(half)]) {
      try {
        await commit(part)
      } catch (err) {
        if (!isPoison(err)) { await commitWithRetry(part); continue }
        await isolatePoison(part)
      }
    }
  }

  return {
    metrics,
    ready: () => subscribed && connection?.client.connected === true,
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
      stopping = true
      if (timer) { clearTimeout(timer); timer = null }
      const client = connection?.client
      // Stop reading new messages, then write and acknowledge what we hold before disconnecting.
      client?.removeAllListeners('message')
      while (flushing || buffer.length > 0) {
        if (!flushing) kick()
        await flushing
      }
      if (client) await client.endAsync(false)
      metrics.connected.set(0)
    },
  }
}
