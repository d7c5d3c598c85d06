// The breakdowns of a range, kept per database, contract, range and time zone while what they were
// summed from holds: summing a city's four weeks of street × cell rows is most of a why-missed answer,
// and the page asks the same range again and again. An entry is used only when its token still
// matches what the caller read now: every day of the range rolled up (no day computed live, none
// marked stale), each day's roll-up row version (xmin: a refresh rewrites it with the day's rows),
// and the rounds' version (vehicle and stream are read from the round). The names of the cells shown
// are kept with it, by the cells asked for, and the breakdowns and hotspots made from the rows. As analysis/performance/league-cache.ts does for the league.
import type { Queryable } from '../../storage/database.ts'
import type { BreakdownRow } from './breakdowns.ts'

/** Few: a city's entry is ten thousand rows. */
const MAX_ENTRIES = 4

export interface KeptBreakdowns {
  rows: BreakdownRow[]
  /** Cell names by the cells asked for (their keys joined). */
  names: Map<string, Map<string, { ward: string | null; mainStreet: string | null }>>
  /** The answer's breakdowns and hotspots made from the rows, by the hotspot options (why-missed.ts). */
  figures: Map<string, unknown>
}

interface Entry { token: string; value: KeptBreakdowns }

// Per database object: two databases (tests, tiers) never share an entry, even with equal versions.
const kept = new WeakMap<object, Map<string, Entry>>()

/** A version of every round: it changes when one is added, removed or changed. */
export async function allRoundsVersion(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ v: string }>(`SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) AS v FROM rounds`)
  return rows[0]!.v
}

export function keptBreakdowns(db: Queryable, key: string, token: string): KeptBreakdowns | undefined {
  const entries = kept.get(db)
  const entry = entries?.get(key)
  if (!entries || !entry) return undefined
  entries.delete(key)
  if (entry.token !== token) return undefined
  entries.set(key, entry) // most recently used last
  return entry.value
}

export function keepBreakdowns(db: Queryable, key: string, token: string, value: KeptBreakdowns): void {
  let entries = kept.get(db)
  if (!entries) kept.set(db, (entries = new Map()))
  entries.delete(key)
  entries.set(key, { token, value })
  if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!)
}
