// The embedded database's own thread. PGlite runs PostgreSQL in WebAssembly synchronously on the
// thread that calls it: on the main thread every statement stops the broker from reading sockets
// and answering, so the one process of `kerbside start` was bound to one core. Here the in-thread
// adapter (storage/pglite-adapter.ts: fsync at commit, disk-full handling, engine restart,
// checkpoints) runs unchanged on a worker thread, and storage/pglite-worker-client.ts gives the
// main thread the same Database interface over messages.
import { parentPort, workerData } from 'node:worker_threads'
import type { Queryable } from './database.ts'
import { createPgliteDatabase, type PgliteDatabase } from './pglite-adapter.ts'
import { forwardingLogger, toWire, type Reply, type Request, type State, type WorkerOptions } from './pglite-worker-protocol.ts'

if (!parentPort) throw new Error('storage/pglite-worker.ts runs as a worker thread (see storage/pglite-worker-client.ts)')
const port = parentPort
const post = (r: Reply) => port.postMessage(r)

interface OpenTx { tx: Queryable; lastError?: unknown; finish(commit: boolean, failed?: boolean): void }

const transactions = new Map<number, OpenTx>()
let nextTx = 1

async function main() {
  const opts = workerData as WorkerOptions
  let db: PgliteDatabase
  try {
    // The caller holds the folder's lock (it outlives this thread) and checked the free space.
    db = await createPgliteDatabase({ ...opts, worker: false, lockHeld: true, logger: forwardingLogger(post) })
  } catch (err) {
    post({ type: 'failed', error: toWire(err) })
    return
  }
  const state = (): State => ({ health: db.health(), fsyncStats: { ...db.fsyncStats } })
  post({ type: 'ready', state: state() })

  const target = (tx?: number): Queryable => {
    if (tx === undefined) return db
    const open = transactions.get(tx)
    if (!open) throw new Error(`transaction ${tx} is not open`)
    // The statement's own error is kept: a rollback because of it ends the transaction with it,
    // classified (disk full, engine stopped) as the in-thread adapter does.
    const remember = <T>(p: Promise<T>) => p.catch((err: unknown) => { open.lastError = err; throw err })
    return { query: (sql, params) => remember(open.tx.query(sql, params)), exec: (sql) => remember(open.tx.exec(sql)) }
  }

  const handle = async (req: Request): Promise<unknown> => {
    switch (req.op) {
      case 'query': return target(req.tx).query(req.sql, req.params)
      case 'exec': return target(req.tx).exec(req.sql)
      case 'begin': return begin()
      case 'run': {
        const f = (await import(req.module) as Record<string, unknown>)[req.fn]
        if (typeof f !== 'function') throw new Error(`${req.module} exports no function ${req.fn}`)
        return db.transaction((tx) => (f as (tx: Queryable, args: unknown) => Promise<unknown>)(tx, req.args))
      }
      case 'commit':
      case 'rollback': {
        const open = transactions.get(req.tx)
        if (!open) throw new Error(`transaction ${req.tx} is not open`)
        open.finish(req.op === 'commit', req.op === 'rollback' && req.failed)
        return undefined // the answer is sent by begin's settlement (below)
      }
      case 'close':
        await db.close()
        return undefined
    }
  }

  // A transaction stays open in db.transaction() while the caller sends its statements; COMMIT or
  // ROLLBACK is answered once PGlite has finished it (a failed COMMIT, disk full, reaches the caller).
  const pendingEnd = new Map<number, number>() // tx -> id of the commit/rollback request
  const begin = () => new Promise<number>((resolveBegin, rejectBegin) => {
    const txId = nextTx++
    let began = false
    db.transaction((tx) => new Promise<void>((resolve, reject) => {
      began = true
      const open: OpenTx = { tx, finish: (commit, failed) => (commit ? resolve() : reject(failed && open.lastError !== undefined ? open.lastError : ROLLBACK)) }
      transactions.set(txId, open)
      resolveBegin(txId)
    })).then(
      () => settle(txId, null),
      (err: unknown) => (began ? settle(txId, err) : rejectBegin(err)),
    )
  })
  const settle = (txId: number, err: unknown) => {
    transactions.delete(txId)
    const id = pendingEnd.get(txId)
    pendingEnd.delete(txId)
    if (id === undefined) return
    post(err === null || err === ROLLBACK ? { type: 'result', id, value: undefined, state: state() } : { type: 'error', id, error: toWire(err), state: state() })
  }

  port.on('message', (req: Request) => {
    if (req.op === 'commit' || req.op === 'rollback') pendingEnd.set(req.tx, req.id)
    handle(req).then(
      (value) => {
        if (req.op === 'commit' || req.op === 'rollback') return
        post({ type: 'result', id: req.id, value, state: state() })
        if (req.op === 'close') port.close()
      },
      (err: unknown) => {
        if (req.op === 'commit' || req.op === 'rollback') pendingEnd.delete(req.tx)
        post({ type: 'error', id: req.id, error: toWire(err), state: state() })
      },
    )
  })
}

const ROLLBACK = Symbol('rollback')

void main()
