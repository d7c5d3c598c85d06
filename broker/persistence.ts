// Where the broker keeps sessions, offline queues, retained and will messages:
//   memory  - the aedes default; offline queues die with the process (fine for demos and tests)
//   level   - durable on local disk (single node): sessions and queues survive a broker restart
//   redis   - shared by several aedes nodes (cluster), with mqemitter-redis carrying messages between them
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { Readable } from 'node:stream'
import { Redis } from 'ioredis'
import { createBrokerEmitter } from './emitter.ts'

const require = createRequire(import.meta.url)

export type PersistenceKind = 'memory' | 'level' | 'redis'

export interface PersistenceOptions {
  kind: PersistenceKind
  dataDir: string
  redisUrl: string
  /**
   * Redis key prefix for sessions, queues and retained messages (tests use one per run). Pub/sub
   * channels between nodes are not prefixed (Redis pub/sub ignores key prefixes and databases):
   * two clusters must not share one Redis.
   */
  redisPrefix?: string
}

export interface BrokerBackends {
  persistence?: unknown
  mq?: unknown
  /** Release what aedes.close() does not: the persistence store. Call after aedes.close(). */
  close(): Promise<void>
}

/** ioredis' own hand-shake commands: CLIENT SETINFO, INFO, … fail on older servers by design. */
const HANDSHAKE = new Set(['client', 'info', 'auth', 'select', 'hello', 'readonly'])

/**
 * A Redis connection whose commands nobody awaits cannot reject unhandled. aedes-persistence-redis
 * (11.2) sends some commands and forgets them (`lrem`/`rpush` of the will list in putWill and
 * delWill, which aedes calls at every CONNECT, and `lrem` of a stale packet key): when the
 * connection closes with one queued, ioredis rejects it with "Connection is closed" and nothing
 * catches it — an unhandled rejection that ends a Node process by default. Every command's promise
 * gets a handler that reports the error; callers that await a command still get its rejection.
 */
export class DetachedSafeRedis extends Redis {
  onDetachedError: (err: Error) => void = () => undefined

  override sendCommand(...args: Parameters<Redis['sendCommand']>): ReturnType<Redis['sendCommand']> {
    const answer = super.sendCommand(...args) as Promise<unknown>
    if (!HANDSHAKE.has(args[0].name)) answer.catch((err: Error) => this.onDetachedError(err))
    return answer
  }
}

export function createBackends(opts: PersistenceOptions, onRedisError: (err: Error) => void = () => undefined): BrokerBackends {
  switch (opts.kind) {
    case 'memory':
      return { mq: createBrokerEmitter(), close: async () => undefined }
    case 'level': {
      // aedes 1.x needs the async persistence class; the package's main export wraps it for aedes 0.x.
      const AsyncLevelPersistence = require('aedes-persistence-level/asyncPersistence.js')
      const db = new ClassicLevel(join(opts.dataDir, 'broker'))
      const persistence = new AsyncLevelPersistence(db)
      return { persistence, mq: createBrokerEmitter(), close: () => persistence.destroy() }
    }
    case 'redis': {
      const AsyncRedisPersistence = require('aedes-persistence-redis/asyncPersistence.js')
      const mqemitterRedis = require('mqemitter-redis')
      const keyPrefix = opts.redisPrefix ? `${opts.redisPrefix}:` : undefined
      const conn = new DetachedSafeRedis(opts.redisUrl, { keyPrefix })
      let closing = false
      // Once closing, commands aedes still sends for clients it is letting go fail by design.
      conn.onDetachedError = (err) => { if (!closing) onRedisError(err) }
      // Deliver whole offline queues on reconnect (the default of 1000 would hold the rest back).
      const persistence = new AsyncRedisPersistence({ conn, maxSessionDelivery: 1_000_000 })
      // aedes pipes createRetainedStreamCombi()'s result, but aedes-persistence-redis (11.2 and 12.0)
      // returns an async generator there, and SUBSCRIBE then throws "stream.pipe is not a function".
      const retained = persistence.createRetainedStreamCombi.bind(persistence)
      persistence.createRetainedStreamCombi = (patterns: string[]) => Readable.from(retained(patterns))
      // mqemitter-redis quits its two connections at close without handling the QUIT's promise (7.2:
      // "Connection is closed" when the socket ends first): it gets connections that handle it.
      // The subscriber connection without ioredis' hand-shake (CLIENT SETINFO, then the INFO ready
      // check): ioredis 5.8.2–5.x can write mqemitter-redis's SUBSCRIBE before that INFO, which Redis
      // then refuses ("Connection in subscriber mode"), a fatal error that ended the broker at start
      // (ioredis issue 2037, fixed in 6.0; seen once in tests/faults/cluster-kill.test.ts).
      const subConn = new DetachedSafeRedis(opts.redisUrl, { enableReadyCheck: false, disableClientInfo: true })
      const pubConn = new DetachedSafeRedis(opts.redisUrl)
      const mq = mqemitterRedis({ subConn, pubConn })
      subConn.onDetachedError = pubConn.onDetachedError = (err) => { if (!mq.closing) conn.onDetachedError(err) }
      return {
        persistence,
        mq,
        // aedes.close() closes the mq; the persistence is ours to close. QUIT rather than the
        // persistence's destroy() (an immediate disconnect): commands aedes sent while its clients
        // were closing get their replies first, instead of rejecting with "Connection is closed".
        close: async () => {
          closing = true
          await conn.quit().catch(() => undefined)
        },
      }
    }
  }
}
