// The MQTT broker (aedes, MQTT 3.1.1). Built here, listened on by the caller (see listeners.ts):
// nothing connects or listens at import time. Device authentication and the topic ACL are injected
// as small functions (device-auth.ts, topic-acl.ts).
import { Aedes, type Client } from 'aedes'
import type { Registry } from 'prom-client'
import type { Logger } from '../core/log.ts'
import { parseTopic } from '../core/contract/topics.ts'
import type { DeviceCredentials } from '../storage/devices.ts'
import { clientErrorReason } from './client-errors.ts'
import { createAuthenticator, principalOf } from './device-auth.ts'
import { createBrokerMetrics, type BrokerMetrics } from './metrics.ts'
import { createBackends, type PersistenceOptions } from './persistence.ts'
import { createAcl } from './topic-acl.ts'
import { startStuckQueueSweeper } from './stuck-queue.ts'

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
}

export interface Broker {
  aedes: Aedes
  metrics: BrokerMetrics
  /** Feed a connection from any transport (TCP, TLS, WebSocket stream) to the broker. */
  handle: (stream: Parameters<Aedes['handle']>[0], req?: Parameters<Aedes['handle']>[1]) => void
  /**
   * For a shutdown that loses nothing: disconnect devices and refuse new ones, then wait (up to
   * `timeoutMs`) until the connected service sessions (ingest) have taken and acknowledged every
   * message queued for them. With memory persistence those messages would die with the process.
   */
  drain(timeoutMs: number): Promise<{ drained: boolean; queued: number }>
  close(): Promise<void>
}

export async function createBroker(opts: BrokerOptions): Promise<Broker> {
  const { logger } = opts
  const metrics = createBrokerMetrics(opts.registry)
  const backends = createBackends(opts.persistence)

  const authenticate = createAuthenticator({
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
    authorizePublish: acl.authorizePublish,
    authorizeSubscribe: acl.authorizeSubscribe,
    authorizeForward: (_client, packet) => {
      metrics.messagesOut.inc()
      return packet
    },
  })

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

  return {
    aedes,
    metrics,
    handle: (stream, req) => void aedes.handle(stream, req),
    async drain(timeoutMs) {
      draining = true
      const clients = () => Object.values((aedes as unknown as { clients: Record<string, Client & { clean: boolean }> }).clients)
      for (const c of clients()) if (principalOf(c)?.type === 'device') c.close()
      const persistence = (aedes as unknown as { persistence: { outgoingStream(c: Client): AsyncIterable<unknown> } }).persistence
      const until = Date.now() + timeoutMs
      for (;;) {
        let queued = 0
        for (const c of clients()) {
          if (c.clean || principalOf(c)?.type !== 'service') continue
          for await (const _ of persistence.outgoingStream(c)) queued++
        }
        if (queued === 0) return { drained: true, queued }
        if (Date.now() >= until) {
          logger.warn({ queued }, 'shutting down with messages still queued for ingest; with durable persistence they are delivered after the restart')
          return { drained: false, queued }
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async close() {
      stopSweeper()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await backends.close()
    },
  }
}
