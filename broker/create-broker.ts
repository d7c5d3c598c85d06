// The MQTT broker (aedes, MQTT 3.1.1). Built here, listened on by the caller (see listeners.ts):
// nothing connects or listens at import time. Device authentication and the topic ACL are injected
// as small functions (device-auth.ts, topic-acl.ts).
import { Aedes, type Client, type PublishPacket } from 'aedes'
import type { Registry } from 'prom-client'
import type { Logger } from '../core/log.ts'
import { parseTopic } from '../core/contract/topics.ts'
import type { DeviceCredentials } from '../storage/devices.ts'
import { clientErrorReason } from './client-errors.ts'
import { createAuthenticator, principalOf } from './device-auth.ts'
import { createBrokerMetrics, type BrokerMetrics } from './metrics.ts'
import { createBackends, type PersistenceOptions } from './persistence.ts'
import { createAcl, willRefusal } from './topic-acl.ts'
import { startStuckQueueSweeper } from './stuck-queue.ts'
import { startRevocationWatch } from './revocation.ts'
import { ensureUniqueOutgoingIds } from './outgoing-ids.ts'
import type { Pipeline } from '../ingest/pipeline.ts'

export interface BrokerOptions {
  logger: Logger
  registry: Registry
  lookupDevice: (deviceId: string) => Promise<DeviceCredentials | null>
  serviceSecret: string
  persistence: PersistenceOptions
  /** Disconnect a subscriber whose socket does not drain within this time, so it cannot stall delivery. */
  drainTimeoutMs: number
  authFailuresPerMinute: number
  /** Broker id; nodes of one cluster need distinct ids. */
  id?: string
  /**
   * The ingest pipeline this node commits its devices' messages to. With it, a device's PUBLISH is
   * answered (PUBACK) only after its batch has committed, and subscribers get it only then. Without
   * it (tests of the broker alone, or a benchmark of the ceiling) aedes acknowledges at once.
   */
  pipeline?: Pipeline
  /** Device ids revoked in the last `withinSeconds`; connected ones are disconnected at once. */
  revokedRecently?: (withinSeconds: number) => Promise<string[]>
}

export interface Broker {
  aedes: Aedes
  metrics: BrokerMetrics
  /** Feed a connection from any transport (TCP, TLS, WebSocket stream) to the broker. */
  handle: (stream: Parameters<Aedes['handle']>[0], req?: Parameters<Aedes['handle']>[1]) => void
  /** False while the pipeline cannot commit (the database is away or its disk is full). */
  ready(): boolean
  /** Why it is not ready, in words an operator can act on; null when ready. */
  problem(): string | null
  /**
   * For a shutdown that loses nothing: refuse new device connections and publishes, commit what the
   * pipeline holds and acknowledge it (up to `timeoutMs`); the rest is not acknowledged and devices
   * send it again after the restart.
   */
  drain(timeoutMs: number): Promise<{ committed: number; abandoned: number }>
  close(): Promise<void>
}

const REFUSED = Buffer.alloc(0)

export async function createBroker(opts: BrokerOptions): Promise<Broker> {
  const { logger } = opts
  const metrics = createBrokerMetrics(opts.registry)
  let lastRedisWarning = 0
  const backends = createBackends(opts.persistence, (err) => {
    if (Date.now() - lastRedisWarning < 10_000) return // an outage fails every command: one line per 10 s
    lastRedisWarning = Date.now()
    logger.warn({ err: err.message }, 'a Redis command of the broker persistence failed (sessions and offline queues may be stale until Redis answers again)')
  })

  const authenticateCredentials = createAuthenticator({
    lookupDevice: opts.lookupDevice,
    serviceSecret: opts.serviceSecret,
    failuresPerMinute: opts.authFailuresPerMinute,
    logger,
    onReject: (reason) => metrics.rejections.inc({ reason }),
  })
  const acl = createAcl((reason, client, topic) => {
    metrics.rejections.inc({ reason })
    logger.warn({ clientId: client?.id, topic: topic.slice(0, 200), reason }, 'MQTT request refused')
  })
  // The last will is authorised at CONNECT by the same rules as a publish, before aedes stores it:
  // a device's will may only say that it went offline.
  const authenticate: typeof authenticateCredentials = (client, username, password, done) => authenticateCredentials(client, username, password, (err, ok) => {
    if (err || !ok) return done(err, ok)
    const will = (client as unknown as { _will?: PublishPacket | null })._will
    const who = principalOf(client)
    const reason = will && who ? willRefusal(who, will) : null
    if (!reason) return done(null, true)
    metrics.rejections.inc({ reason })
    logger.warn({ clientId: client.id, topic: will!.topic.slice(0, 200), reason }, 'MQTT login refused: the last will is not the device\'s own status')
    done(Object.assign(new Error(`last will refused: ${reason}`), { returnCode: 5 }), null)
  })

  // The front door of the ingest pipeline: aedes calls authorizePublish before it answers PUBACK, and
  // reads no further from that socket until the callbacks of the packets it parsed from one chunk
  // have returned (lib/client.js nextBatch). Calling back after the commit therefore makes the PUBACK
  // mean "stored", and a slow database slows reading, not memory.
  const pipeline = opts.pipeline
  // A committed batch answers many PUBLISHes of one connection in the same turn of the event loop:
  // cork each connection on its first answer and uncork them all on the next tick, so that their
  // PUBACKs leave in one write (the connection wrapper's _writev) instead of one system call each.
  const corked = new Set<{ cork(): void; uncork(): void }>()
  const corkUntilNextTick = (client: Client | null) => {
    const conn = client?.conn as unknown as { cork?: () => void; uncork?: () => void } | undefined
    if (!conn?.cork || !conn.uncork || corked.has(conn as never)) return
    if (corked.size === 0) process.nextTick(() => { for (const c of corked) c.uncork(); corked.clear() })
    conn.cork()
    corked.add(conn as { cork(): void; uncork(): void })
  }
  const toPipeline = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => {
    metrics.awaitingCommit.inc()
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    pipeline!.submit({ topic: packet.topic, payload }, (err, verdict) => {
      metrics.awaitingCommit.dec()
      corkUntilNextTick(client)
      if (err) {
        metrics.rejections.inc({ reason: 'shutting_down' })
        return callback(err) // no PUBACK: aedes closes the connection and the device sends it again
      }
      if (verdict?.refused && verdict.reason === 'unknown_device' && client !== null) {
        // The device was revoked (or removed) after it logged in: what it sends is quarantined and
        // not acknowledged, and the connection is closed now rather than at the next revocation
        // check. A PUBACK would tell it the message was stored.
        metrics.rejections.inc({ reason: 'revoked_device' })
        return callback(new Error('publish refused: the device was revoked'))
      }
      if (verdict?.refused) {
        // Quarantined, then acknowledged (a device cannot fix a bad message by resending it), but
        // not passed on: subscribers (the live feed) see only what was stored.
        packet.payload = REFUSED
        packet.retain = false
      }
      callback(null)
    })
  }
  const authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) =>
    acl.authorizePublish(client, packet, (err) => {
      if (err && client === null) {
        // A stored will the ACL refuses (aedes' will sweep after an unclean stop). An error here
        // would abort the sweep, reach aedes' 'error' event and leave the will stored to fail again
        // at every start; instead it is emptied, so that it is published to no one (see
        // authorizeForward) and then deleted by the sweep like any other.
        packet.payload = REFUSED
        packet.retain = false
        return callback(null)
      }
      if (err || !pipeline) return callback(err)
      if (client !== null && principalOf(client)?.type !== 'device') return callback(null) // Kerbside's own services
      toPipeline(client, packet, callback)
    })

  let draining = false
  const aedes = await Aedes.createBroker({
    id: opts.id,
    // While draining for a shutdown, only Kerbside's own services may connect.
    preConnect: (_client, packet, callback) => callback(null, !draining || String((packet as { username?: string }).username ?? '').startsWith('kerbside-')),
    persistence: backends.persistence,
    mq: backends.mq,
    drainTimeout: opts.drainTimeoutMs,
    // Device ids are up to 64 characters; MQTT 3.1.1 allows servers to accept longer client ids.
    maxClientsIdLength: 128,
    maxTopicLevels: 16,
    authenticate,
    authorizePublish,
    authorizeSubscribe: acl.authorizeSubscribe,
    authorizeForward: (_client, packet) => {
      // Emptied because refused (by the pipeline, or a stored will the ACL refused): sent to no one.
      if (packet.payload.length === 0 && parseTopic(packet.topic)) return null
      metrics.messagesOut.inc()
      return packet
    },
  })

  // Two queued messages of one session must never share a packet id (aedes 1.2 lets a new
  // connection's counter reuse an id that a queued message still holds; see outgoing-ids.ts).
  ensureUniqueOutgoingIds(aedes, () => logger.debug('packet id held by a queued message: the new message takes another'))

  // aedes reports failures of its own background work (the will sweep, heartbeats) here; unheard,
  // an 'error' event would end the process.
  ;(aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => logger.error({ err: err.message }, 'MQTT broker background task failed'))
  aedes.on('client', () => metrics.connected.inc())
  aedes.on('clientReady', (client: Client) => {
    const conn = client.conn as { kerbsideTransport?: string }
    metrics.connections.inc({ transport: conn.kerbsideTransport ?? 'other' })
  })
  aedes.on('clientDisconnect', () => metrics.connected.dec())
  aedes.on('clientError', (client: Client, err: Error) => {
    metrics.clientErrors.inc({ reason: clientErrorReason(err) })
    logger.debug({ clientId: client?.id, err: err.message }, 'MQTT client error')
  })
  aedes.on('connectionError', (client: Client, err: Error) => {
    metrics.clientErrors.inc({ reason: clientErrorReason(err) })
    logger.debug({ clientId: client?.id, err: err.message }, 'MQTT connection error')
  })
  aedes.on('publish', (packet, client) => {
    if (!client) return
    const who = principalOf(client)
    if (who?.type !== 'device') return
    metrics.messagesIn.inc({ kind: parseTopic(packet.topic)?.message ?? 'other' })
  })

  const stopSweeper = startStuckQueueSweeper(aedes, logger, (n) => metrics.queueRepairs.inc(n))
  const stopRevocationWatch = opts.revokedRecently
    ? startRevocationWatch({ aedes, logger, revokedRecently: opts.revokedRecently, onDisconnect: () => metrics.revokedDisconnects.inc() })
    : () => undefined

  return {
    aedes,
    metrics,
    handle: (stream, req) => void aedes.handle(stream, req),
    ready: () => pipeline?.healthy() ?? true,
    problem: () => pipeline?.problem() ?? null,
    async drain(timeoutMs) {
      draining = true
      if (!pipeline) return { committed: 0, abandoned: 0 }
      const result = await pipeline.close(timeoutMs)
      if (result.abandoned > 0) logger.warn(result, 'shutting down with messages not stored: they were not acknowledged, and devices send them again after the restart')
      return result
    },
    async close() {
      stopSweeper()
      stopRevocationWatch()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await backends.close()
    },
  }
}
