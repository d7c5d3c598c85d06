// The `pg` adapter: PostgreSQL or TimescaleDB servers through a connection pool.
import pg from 'pg'
import type { Logger } from '../core/log.ts'
import { type Capabilities, type Database, type Queryable, type QueryResult, lockKey, toSafeNumber } from './database.ts'

const { Pool, types } = pg

// Result types, normalised to match the PGlite adapter (see database.ts).
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    switch (oid) {
      case types.builtins.INT8:
      case types.builtins.NUMERIC:
        return toSafeNumber
      case types.builtins.DATE:
        return (v: string) => v
      default:
        return types.getTypeParser(oid, format)
    }
  },
} as pg.CustomTypesConfig

/** Whether a client's connection is unusable (so it is destroyed rather than returned to the pool). */
const brokenConnection = (client: pg.PoolClient): boolean => {
  const c = client as unknown as { _ending?: boolean; connection?: { stream?: { destroyed?: boolean } } }
  return Boolean(c._ending || c.connection?.stream?.destroyed)
}

export interface PgOptions {
  connectionString: string
  poolSize?: number
  logger: Logger
  applicationName?: string
}

export function createPgDatabase(opts: PgOptions): Database & { pool: pg.Pool } {
  const pool = new Pool({
    connectionString: opts.connectionString,
    max: opts.poolSize ?? 10,
    types: typeParsers,
    application_name: opts.applicationName ?? 'kerbside',
    connectionTimeoutMillis: 10_000,
  })
  // An idle client that loses its server emits here; without a listener the process would crash.
  pool.on('error', (err) => opts.logger.error({ err }, 'PostgreSQL pool client error'))

  const query = async <T>(client: Pick<pg.Pool, 'query'>, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
    const res = await client.query(sql, params as unknown[])
    return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 }
  }

  async function transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await pool.connect()
    // A checked-out client whose connection dies emits 'error'; the pool only listens on idle ones.
    // Without this the process would crash; the failed query rejects and the caller retries.
    const onError = (err: Error) => opts.logger.warn({ err: err.message }, 'PostgreSQL connection lost during a transaction')
    client.on('error', onError)
    try {
      await client.query('BEGIN')
      const value = await fn({ query: (sql, params) => query(client, sql, params), exec: async (sql) => void (await client.query(sql)) })
      await client.query('COMMIT')
      return value
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      client.off('error', onError)
      // A client whose connection broke must not go back to the pool.
      client.release(brokenConnection(client))
    }
  }

  return {
    kind: 'pg',
    pool,
    capabilities: undefined as unknown as Capabilities,
    query: (sql, params) => query(pool, sql, params),
    exec: async (sql) => void (await pool.query(sql)),
    transaction,
    async withLock(key, fn) {
      // A session-level lock on a dedicated connection, released explicitly (also on failure).
      const client = await pool.connect()
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [lockKey(key)])
        if (!rows[0]?.locked) return { ran: false as const }
        try {
          return { ran: true as const, value: await fn() }
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [lockKey(key)])
        }
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
  }
}
