// The embedded database on its own thread, behind the same Database interface as the in-thread
// adapter: every query, exec and transaction statement is one message to storage/pglite-worker.ts
// and one answer. The main thread (broker, pipeline, API) keeps running while PostgreSQL works.
//
// What stays as it was: the data folder's lock (held here, on the main thread, so that it outlives
// the worker), fsync at every commit, disk-full and engine-stopped handling, engine restarts and
// checkpoints (all inside the worker, by the in-thread adapter), and the errors callers see:
// DatabaseError, DatabaseUnavailableError (with its code) or the SQL error with its SQLSTATE `code`.
// If the worker thread itself ends unexpectedly, calls in flight fail with DatabaseUnavailableError
// (nothing of them was acknowledged: an open transaction ended with the thread, uncommitted) and the
// next call starts a new worker on the same folder, as a restart of the process would.
import { Worker } from 'node:worker_threads'
import type { Logger } from '../core/log.ts'
import { DatabaseError, DatabaseUnavailableError, inProcessLock, type Capabilities, type Database, type Queryable, type QueryResult } from './database.ts'
import type { FsyncStats } from './pglite-fsync.ts'
import { fromWire, type Reply, type Request, type State, type WireError, type WorkerOptions } from './pglite-worker-protocol.ts'

export interface PgliteWorkerDatabase extends Database {
  readonly fsyncStats: FsyncStats
  /** The engine runs on a worker thread. */
  readonly thread: 'worker'
  readonly pglite?: undefined
  health(): { ok: boolean; reason?: string }
  /**
   * Run `fn(tx, args)`, an export of the module at `module` (a file URL), in one transaction on the
   * engine's thread: one message there and one answer back, instead of one per statement. `args`
   * and the result cross by structured clone.
   */
  transactionIn<R>(module: string, fn: string, args: unknown): Promise<R>
  /** End the engine's thread at once, as a crash of it would (tests of what callers then see). */
  endThread(): Promise<void>
}

type Busy = (message: string) => Error
// Distributive Omit keeps the union's members apart.
type Outgoing = Request extends infer R ? R extends Request ? Omit<R, 'id'> : never : never

const ENTRY = new URL('./pglite-worker-entry.mjs', import.meta.url)
const RESTART_BACKOFF_MS = 5_000

interface Call { resolve(v: unknown): void; reject(e: Error): void }
interface Thread { worker: Worker; calls: Map<number, Call>; ended: boolean }

/** Is `db` the embedded database on a worker thread (which can run a whole transaction there)? */
export const onWorkerThread = (db: Database): db is PgliteWorkerDatabase => (db as Partial<PgliteWorkerDatabase>).thread === 'worker'

export interface WorkerDeps {
  logger: Logger
  /** Builds the adapter's EmbeddedDatabaseBusyError (the class lives with the in-thread adapter). */
  busy: Busy
  /** Releases the data folder's lock, taken by the caller. */
  release: (() => Promise<void>) | null
  /** Least time between two starts of the thread (default 5 s): a thread that keeps failing is not restarted in a loop. */
  restartBackoffMs?: number
}

export async function createPgliteWorkerDatabase(opts: WorkerOptions, deps: WorkerDeps): Promise<PgliteWorkerDatabase> {
  const { logger, busy } = deps
  const backoff = deps.restartBackoffMs ?? RESTART_BACKOFF_MS
  const fsyncStats: FsyncStats = { calls: 0, ms: 0, deferred: false }
  let health: State['health'] = { ok: true }
  let nextId = 1
  let closed = false
  let problem: string | null = null
  let lastStart = 0

  const apply = (s: State) => {
    health = s.health
    Object.assign(fsyncStats, s.fsyncStats)
  }

  const start = (): Promise<Thread> => new Promise((resolve, reject) => {
    lastStart = Date.now()
    const worker = new Worker(ENTRY, { workerData: opts })
    const t: Thread = { worker, calls: new Map(), ended: false }
    let ready = false
    worker.on('message', (r: Reply) => {
      switch (r.type) {
        case 'ready': ready = true; apply(r.state); resolve(t); break
        case 'failed': reject(fromWire(r.error, busy)); break
        case 'log': logger[r.level](rebuildErr(r.obj, busy), r.msg); break
        case 'result':
        case 'error': {
          const call = t.calls.get(r.id)
          t.calls.delete(r.id)
          apply(r.state)
          if (r.type === 'result') call?.resolve(r.value)
          else call?.reject(fromWire(r.error, busy))
        }
      }
    })
    const end = (why: string, err?: Error) => {
      if (t.ended) return
      t.ended = true
      if (!ready) return reject(err ?? new DatabaseError(`The embedded database thread ended before it was ready (${why}).`))
      if (closed) return
      problem = `The embedded database thread ended (${why}).`
      health = { ok: false, reason: problem }
      logger.error({ err }, `${problem} Nothing in flight was acknowledged; it restarts on the next request.`)
      for (const call of t.calls.values()) call.reject(new DatabaseUnavailableError(`${problem} It restarts on the next request.`, 'KERBSIDE_ERR_DATABASE_UNAVAILABLE', { cause: err }))
      t.calls.clear()
    }
    worker.on('error', (err) => end(err.message, err))
    worker.on('exit', (code) => end(`exit code ${code}`))
  })

  let thread: Thread
  try {
    thread = await start()
  } catch (err) {
    await deps.release?.()
    throw err
  }
  let restarting: Promise<Thread> | null = null

  const live = async (): Promise<Thread> => {
    if (closed) throw new DatabaseError('The embedded database is closed.')
    if (!thread.ended) return thread
    restarting ??= (async () => {
      const wait = lastStart + backoff - Date.now()
      if (wait > 0) throw new DatabaseUnavailableError(`${problem ?? 'The embedded database thread ended.'} Next restart attempt in ${Math.ceil(wait / 1000)} s.`, 'KERBSIDE_ERR_DATABASE_UNAVAILABLE')
      try {
        thread = await start()
      } catch (err) {
        throw err instanceof DatabaseUnavailableError ? err : new DatabaseUnavailableError(`The embedded database thread could not be restarted yet: ${(err as Error).message}`, 'KERBSIDE_ERR_DATABASE_UNAVAILABLE', { cause: err })
      }
      problem = null
      logger.warn({ dataDir: opts.dataDir }, 'embedded database thread restarted on the same folder; nothing committed was lost')
      return thread
    })().finally(() => { restarting = null })
    return restarting
  }

  const send = async <T>(req: Outgoing, on?: Thread): Promise<T> => {
    const t = on ?? await live()
    if (t.ended) throw new DatabaseUnavailableError(problem ?? 'The embedded database thread ended.', 'KERBSIDE_ERR_DATABASE_UNAVAILABLE')
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      t.calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
      t.worker.postMessage({ ...req, id })
    })
  }

  // A transaction's statements go to the thread it began on: after a restart of the thread they fail
  // (the transaction ended with the old one) rather than run outside any transaction.
  const inTx = (tx: number, t: Thread, failed: { last?: Error }): Queryable => {
    const track = <T>(p: Promise<T>) => p.catch((err: Error) => { failed.last = err; throw err })
    return {
      query: <T>(sql: string, params?: readonly unknown[]) => track(send<QueryResult<T>>({ op: 'query', sql, params, tx }, t)),
      exec: (sql: string) => track(send<void>({ op: 'exec', sql, tx }, t)),
    }
  }

  return {
    kind: 'pglite',
    thread: 'worker',
    fsyncStats,
    capabilities: undefined as unknown as Capabilities,
    query: <T>(sql: string, params?: readonly unknown[]) => send<QueryResult<T>>({ op: 'query', sql, params }),
    exec: (sql) => send<void>({ op: 'exec', sql }),
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
      const t = await live()
      const tx = await send<number>({ op: 'begin' }, t)
      const failed: { last?: Error } = {}
      let value: T
      try {
        value = await fn(inTx(tx, t, failed))
      } catch (err) {
        // The rollback's own error (the statement's error classified: disk full, engine stopped) wins.
        await send({ op: 'rollback', tx, failed: err === failed.last }, t)
        throw err
      }
      await send({ op: 'commit', tx }, t)
      return value
    },
    transactionIn: <R>(module: string, fn: string, args: unknown) => send<R>({ op: 'run', module, fn, args }),
    withLock: inProcessLock(),
    endThread: async () => { await thread.worker.terminate() },
    health: () => (thread.ended && !closed ? { ok: false, reason: problem ?? 'the embedded database thread ended' } : health),
    close: async () => {
      if (closed) return
      try {
        await restarting?.catch(() => undefined)
        if (!thread.ended) await send({ op: 'close' }, thread).catch((err: unknown) => logger.warn({ err }, 'embedded database close failed'))
        closed = true
        await thread.worker.terminate()
      } finally {
        closed = true
        await deps.release?.()
      }
    },
  }
}

function rebuildErr(obj: Record<string, unknown>, busy: Busy): Record<string, unknown> {
  const err = obj.err as WireError | undefined
  return err && typeof err === 'object' && 'kind' in err ? { ...obj, err: fromWire(err, busy) } : obj
}
