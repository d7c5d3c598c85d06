// The ranked league of a contract's rounds, kept per database, contract and range while what it was
// computed from holds: ranking a city's hundreds of rounds sums and scores every one of them, and a
// contract manager paging or re-sorting the league asks the same question again and again. An entry
// is used only when its token still matches what the caller read now: every day of the range rolled
// up (no live day), each day's roll-up version, the contract's terms, and its rounds' version (a
// round renamed, added or removed). A day computed live is never kept.
import type { Queryable } from '../../storage/database.ts'

const MAX_ENTRIES = 32

interface Entry<T> {
  token: string
  value: T
}

// Per database object: two databases (tests, tiers) never share an entry, even with equal versions.
const caches = new WeakMap<object, Map<string, Entry<unknown>>>()

/** A version of a contract's rounds: it changes when one is added, removed or changed (xmin of the newest row version). */
export async function roundsVersion(db: Queryable, contractId: string): Promise<string> {
  const { rows } = await db.query<{ v: string }>(
    `SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) AS v FROM rounds WHERE contract_id = $1`, [contractId])
  return rows[0]!.v
}

export function cachedLeague<T>(db: Queryable, key: string, token: string): T | undefined {
  const entries = caches.get(db)
  const entry = entries?.get(key)
  if (!entries || !entry) return undefined
  if (entry.token !== token) {
    entries.delete(key)
    return undefined
  }
  // Most recently used last: the first is the one to drop.
  entries.delete(key)
  entries.set(key, entry)
  return entry.value as T
}

export function keepLeague<T>(db: Queryable, key: string, token: string, value: T): void {
  let entries = caches.get(db)
  if (!entries) caches.set(db, (entries = new Map()))
  entries.delete(key)
  entries.set(key, { token, value })
  if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!)
}
