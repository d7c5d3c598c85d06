// One way into the database. Every query in Kerbside goes through this interface; two adapters
// implement it: `pg` for PostgreSQL/TimescaleDB servers and PGlite (TimescaleDB build) embedded.
// Adapters normalise result types so that callers never see which one they talk to:
//   int8 and numeric -> number, timestamptz -> Date, date -> 'YYYY-MM-DD' string, json/jsonb -> parsed.

export interface QueryResult<T> {
  rows: T[]
  rowCount: number
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>
  /** Run a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export type Tier = 'timescaledb' | 'timescaledb-apache' | 'postgresql'

export interface Capabilities {
  tier: Tier
  /** TimescaleDB hypertables available (full or Apache edition). */
  hypertables: boolean
  /** Compression, continuous aggregates and policy jobs (full edition only). */
  continuousAggregates: boolean
  compression: boolean
  retentionPolicies: boolean
  serverVersion: string
  timescaleVersion: string | null
}

export interface Database extends Queryable {
  readonly kind: 'pg' | 'pglite'
  /** Filled in by `detectCapabilities` once migrations ran. */
  capabilities: Capabilities
  /** Run `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * Run `fn` only if no other process (or caller) holds the lock `key`: a session-level
   * pg_try_advisory_lock on servers, an in-process lock on the embedded database (one process owns
   * it). `fn` uses the database normally, in as many transactions as it likes; long jobs do not
   * hold one transaction open. Returns `{ ran: false }` when someone else has the lock.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>
  /** Can it take writes now (readiness)? False after a disk-full or engine failure until a write succeeds again. */
  health?(): { ok: boolean; reason?: string }
  close(): Promise<void>
}

export class DatabaseError extends Error {
  override name = 'KERBSIDE_ERR_DATABASE'
}

/**
 * The database cannot take writes now; nothing of the failed call was committed, everything
 * committed before is kept, and a later retry may succeed without a restart. `code` says why:
 * KERBSIDE_ERR_DISK_FULL (SQLSTATE 53100 or the engine stopped on a full disk) or
 * KERBSIDE_ERR_DATABASE_UNAVAILABLE (the embedded engine stopped for another reason).
 */
export class DatabaseUnavailableError extends DatabaseError {
  override name = 'KERBSIDE_ERR_DATABASE_UNAVAILABLE'
  constructor(message: string, readonly code: 'KERBSIDE_ERR_DISK_FULL' | 'KERBSIDE_ERR_DATABASE_UNAVAILABLE', options?: ErrorOptions) {
    super(message, options)
  }
}

/** Stable 32-bit key for an advisory lock name (FNV-1a), so that every process derives the same key. */
export function lockKey(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h | 0
}

/** Parse int8/numeric text into a number; values beyond 2^53 would lose precision, so refuse them loudly. */
export function toSafeNumber(text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) && Number.isInteger(n)) throw new DatabaseError(`integer ${text} is beyond the safe range of a JavaScript number`)
  return n
}

/** In-process named locks: the embedded database has a single owner process. */
export function inProcessLock(): Database['withLock'] {
  const held = new Set<string>()
  return async (key, fn) => {
    if (held.has(key)) return { ran: false }
    held.add(key)
    try {
      return { ran: true, value: await fn() }
    } finally {
      held.delete(key)
    }
  }
}

const pad = (n: number) => String(n).padStart(2, '0')
/** A Date from a driver that parsed a `date` column as local midnight, back to its calendar day. */
export const dateOnly = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
