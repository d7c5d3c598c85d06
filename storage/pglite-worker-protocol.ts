// What the embedded database's worker thread (storage/pglite-worker.ts) and the adapter that talks
// to it (storage/pglite-worker-client.ts) send each other. Values cross by structured clone; errors
// cannot (their class and SQL fields would be lost), so they cross as plain objects and are
// rebuilt on the caller's side as the same classes the in-thread adapter throws.
import type { Logger } from '../core/log.ts'
import { DatabaseError, DatabaseUnavailableError } from './database.ts'
import type { FsyncStats } from './pglite-fsync.ts'

export interface WorkerOptions {
  dataDir?: string
  fsync?: boolean
  minFreeBytes?: number
  checkpointWalBytes?: number
  checkpointCheckMs?: number
}

export type Request =
  | { id: number; op: 'query'; sql: string; params?: readonly unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  /** Run export `fn` of `module` (a file URL) as fn(tx, args) in one transaction on the worker. */
  | { id: number; op: 'run'; module: string; fn: string; args: unknown }
  | { id: number; op: 'commit'; tx: number }
  /** `failed`: the caller gives up because of the error of its last statement (not one of its own). */
  | { id: number; op: 'rollback'; tx: number; failed?: boolean }
  | { id: number; op: 'close' }

export interface State { health: { ok: boolean; reason?: string }; fsyncStats: FsyncStats }

export type Reply =
  | { type: 'ready'; state: State }
  | { type: 'failed'; error: WireError }
  | { type: 'result'; id: number; value: unknown; state: State }
  | { type: 'error'; id: number; error: WireError; state: State }
  | { type: 'log'; level: LogLevel; obj: Record<string, unknown>; msg: string }

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'

export interface WireError {
  /** Which class to rebuild. */
  kind: 'unavailable' | 'busy' | 'database' | 'other'
  name: string
  message: string
  stack?: string
  /** Every other own field (SQLSTATE `code`, `detail`, `constraint`, …), kept as they were. */
  fields: Record<string, unknown>
  cause?: WireError
}

export function toWire(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { kind: 'other', name: 'Error', message: String(err), fields: {} }
  const fields: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(err)) {
    if (k === 'cause' || typeof v === 'function') continue
    fields[k] = typeof v === 'object' && v !== null ? safeClone(v) : v
  }
  const kind = err instanceof DatabaseUnavailableError ? 'unavailable'
    : err.name === 'KERBSIDE_ERR_DATABASE_BUSY' ? 'busy'
      : err instanceof DatabaseError ? 'database' : 'other'
  return { kind, name: err.name, message: err.message, stack: err.stack, fields, cause: err.cause !== undefined && depth < 3 ? toWire(err.cause, depth + 1) : undefined }
}

function safeClone(v: unknown): unknown {
  try {
    return structuredClone(v)
  } catch {
    return String(v)
  }
}

/** An error from the worker as the class the in-thread adapter would have thrown, with its fields. */
export function fromWire(w: WireError, busy: (message: string) => Error): Error {
  const options = w.cause ? { cause: fromWire(w.cause, busy) } : undefined
  let err: Error
  if (w.kind === 'unavailable') err = new DatabaseUnavailableError(w.message, w.fields.code as DatabaseUnavailableError['code'], options)
  else if (w.kind === 'busy') err = busy(w.message)
  else if (w.kind === 'database') err = new DatabaseError(w.message, options)
  else {
    err = new Error(w.message, options)
    err.name = w.name
  }
  Object.assign(err, w.fields)
  if (w.stack) err.stack = w.stack
  return err
}

/** A logger for the worker's side: each line goes to the caller's logger (pino does not cross threads). */
export function forwardingLogger(post: (r: Reply) => void): Logger {
  const line = (level: LogLevel) => (objOrMsg: unknown, msg?: string) => {
    const obj = typeof objOrMsg === 'object' && objOrMsg !== null ? { ...(objOrMsg as Record<string, unknown>) } : {}
    if (obj.err !== undefined) obj.err = toWire(obj.err)
    post({ type: 'log', level, obj, msg: typeof objOrMsg === 'string' ? objOrMsg : msg ?? '' })
  }
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug') } as unknown as Logger
}
