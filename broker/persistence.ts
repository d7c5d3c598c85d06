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
  /** Redis key prefix, so that several clusters (or test runs) can share one Redis. */
  redisPrefix?: string
}

export interface BrokerBackends {
  persistence?: unknown
  mq?: unknown
  /** Release what aedes.close() does not: the persistence store. Call after aedes.close(). */
  close(): Promise<void>
}

export function createBackends(opts: PersistenceOptions): BrokerBackends {
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
      const conn = new Redis(opts.redisUrl, { keyPrefix })
      // Deliver whole offline queues on reconnect (the default of 1000 would hold the rest back).
      const persistence = new AsyncRedisPersistence({ conn, maxSessionDelivery: 1_000_000 })
      // aedes pipes createRetainedStreamCombi()'s result, but aedes-persistence-redis (11.2 and 12.0)
      // returns an async generator there, and SUBSCRIBE then throws "stream.pipe is not a function".
      const retained = persistence.createRetainedStreamCombi.bind(persistence)
      persistence.createRetainedStreamCombi = (patterns: string[]) => Readable.from(retained(patterns))
      const mq = mqemitterRedis({ connectionString: opts.redisUrl, keyPrefix })
      return {
        persistence,
        mq,
        // aedes.close() closes the mq; the persistence is ours to close. QUIT rather than the
        // persistence's destroy() (an immediate disconnect): commands aedes sent while its clients
        // were closing get their replies first, instead of rejecting with "Connection is closed".
        close: async () => { await conn.quit().catch(() => undefined) },
      }
    }
  }
}
