// One count for every caller. Counting a city's rows takes time that grows with the city, and the
// answer changes slowly: the last count is answered while it is younger than `freshMs`; an older
// one is still answered at once and counted again in the background (one count at a time, shared);
// `invalidate()` (after a registry change) makes the next caller wait for a new count.

import type { Database, Queryable } from '../storage/database.ts'

/**
 * Run a background count on one core: PostgreSQL would otherwise plan parallel workers for a count
 * over a city's rows and take both cores of a small server from the requests people are waiting for.
 */
export function onOneCore<T>(db: Database, count: (tx: Queryable) => Promise<T>): () => Promise<T> {
  return () => db.transaction(async (tx) => {
    await tx.query('SET LOCAL max_parallel_workers_per_gather = 0')
    return count(tx)
  })
}

export interface SharedCount<T> {
  /** The latest count, and when it was made. */
  get(): Promise<{ value: T; at: Date }>
  invalidate(): void
}

export function sharedCount<T>(count: () => Promise<T>, opts: { freshMs: number; onError: (err: unknown) => void; now?: () => number }): SharedCount<T> {
  const now = opts.now ?? Date.now
  let held: { value: T; at: Date } | null = null
  let counting: Promise<{ value: T; at: Date }> | null = null
  let generation = 0
  const recount = () => {
    if (counting) return counting
    const started = generation
    const at = new Date(now())
    const run = count()
      .then((value) => {
        const counted = { value, at }
        if (started === generation) held = counted // a registry change while counting: that count may predate it
        return counted
      })
      .finally(() => { if (counting === run) counting = null })
    counting = run
    return run
  }
  return {
    async get() {
      if (!held) return recount()
      if (now() - held.at.getTime() > opts.freshMs) recount().catch(opts.onError)
      return held
    },
    invalidate() {
      generation++
      held = null
      counting = null
    },
  }
}
