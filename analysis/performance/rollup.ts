// The KPI roll-up (storage migration 060): round-day counts stored per contract and day, marked
// stale by triggers when outcomes, reports or cancellations change, and refreshed by the daily job.
// Readers take the days that are rolled up and still hold from the table, and compute the rest
// live with the same query, so a figure never depends on when the job last ran. The why-missed
// roll-up (analysis/why-missed/rollup.ts) is refreshed here too, for the days rolled up here and the
// days its own marks say changed.
import { eachDay, type IsoDate } from '../calendar/dates.ts'
import { keptValue } from '../kept-value.ts'
import type { Database, Queryable } from '../../storage/database.ts'
import { COUNT_COLUMNS, COUNT_FIELDS, type RoundDayCounts } from './counts.ts'
import type { DateRange } from './periods.ts'
import { roundDayCounts } from './round-day-counts.ts'
import { allContractTerms, type ContractTerms } from './terms.ts'
import { storeWhyMissedDays, whyMissedDaysToRefresh } from '../why-missed/rollup.ts'

export const DEFAULT_TIME_ZONE = 'Europe/London'
/** Days recomputed in one transaction: short transactions, few round trips. */
const BATCH_DAYS = 14

export interface CountsQuery extends DateRange {
  terms: Pick<ContractTerms, 'contractId' | 'repeatWindowDays'>
  now: Date
  timeZone: string
}

export interface LoadedCounts {
  rows: RoundDayCounts[]
  /** Days read from the roll-up, and days computed live (not rolled up, stale, or past a deadline). */
  rolledUpDays: number
  liveDays: number
}

// A rolled-up day holds while nothing it was computed from has changed: not marked stale, computed
// with the same repeat window and time zone, and no rectification deadline passed since.
// Each with its row's version (xmin: every refresh rewrites the row in the transaction that rewrites
// the day's counts), so that a reader can tell a day recomputed since it last read it.
const FRESH_DAYS_SQL = `
SELECT d.day, d.xmin::text AS version FROM kpi_days d
 WHERE d.contract_id = $1 AND d.day BETWEEN $2 AND $3
   AND d.repeat_window_days = $4 AND d.time_zone = $5
   AND d.computed_at <= $6 AND (d.settles_at IS NULL OR d.settles_at > $6)
   AND NOT EXISTS (SELECT 1 FROM kpi_stale_days s WHERE s.contract_id = d.contract_id AND s.day = d.day)`

const SELECT_ROLLED_UP = `SELECT round_id AS "roundId", day, ${COUNT_FIELDS.map((f) => `${COUNT_COLUMNS[f]} AS "${f}"`).join(', ')}
  FROM kpi_round_days WHERE contract_id = $1 AND day = ANY ($2::date[])`

// The same rows summed by the database over rounds (one row per day) or over days (one per round):
// a city's month is a few thousand round-day rows, and what the contract's KPIs and trends need is
// one row per day, so they no longer grow with the number of rounds summed. Counts are additive.
const SUMS = COUNT_FIELDS.map((f) => `sum(${COUNT_COLUMNS[f]})::int AS "${f}"`).join(', ')
const SELECT_ROLLED_UP_BY_DAY = `SELECT '' AS "roundId", day, ${SUMS}
  FROM kpi_round_days WHERE contract_id = $1 AND day = ANY ($2::date[]) GROUP BY day`
const SELECT_ROLLED_UP_BY_ROUND = `SELECT round_id AS "roundId", min(day) AS day, ${SUMS}
  FROM kpi_round_days WHERE contract_id = $1 AND day = ANY ($2::date[]) GROUP BY round_id`

/**
 * How the counts are wanted: per round and day (as stored), per day (all rounds summed, `roundId`
 * ''), or per round (all days summed, `day` the first day that round has counts on).
 */
export type CountsGrain = 'round-day' | 'day' | 'round'

/** Rows summed to a coarser grain: by day or by round; counts are additive. */
function regroup(rows: readonly RoundDayCounts[], grain: CountsGrain): RoundDayCounts[] {
  if (grain === 'round-day') return [...rows]
  const out = new Map<string, RoundDayCounts>()
  for (const r of rows) {
    const key = grain === 'day' ? r.day : r.roundId
    const known = out.get(key)
    if (!known) {
      out.set(key, { ...r, roundId: grain === 'day' ? '' : r.roundId })
      continue
    }
    for (const f of COUNT_FIELDS) known[f] += r[f]
    if (grain === 'round' && r.day < known.day) known.day = r.day
  }
  return [...out.values()]
}

export interface FreshDay {
  day: IsoDate
  /** Changes whenever the day is rolled up again. */
  version: string
}

/** The days of a range whose roll-up holds as of `now` (the others are computed live). */
export async function freshDays(db: Queryable, q: CountsQuery): Promise<FreshDay[]> {
  const { contractId, repeatWindowDays } = q.terms
  return (await db.query<FreshDay>(FRESH_DAYS_SQL, [contractId, q.from, q.to, repeatWindowDays, q.timeZone, q.now.toISOString()])).rows
}

/** Round-day counts of a contract over a range: the roll-up where it holds, live elsewhere; summed to `grain` (default none). */
export async function loadRoundDayCounts(db: Queryable, q: CountsQuery & { grain?: CountsGrain; fresh?: readonly FreshDay[] }): Promise<LoadedCounts> {
  const { contractId, repeatWindowDays } = q.terms
  const grain = q.grain ?? 'round-day'
  const freshWithVersions = q.fresh ?? await freshDays(db, q)
  const fresh = freshWithVersions.map((r) => r.day)
  const select = grain === 'day' ? SELECT_ROLLED_UP_BY_DAY : grain === 'round' ? SELECT_ROLLED_UP_BY_ROUND : SELECT_ROLLED_UP
  const rolled = fresh.length === 0 ? []
    : grain === 'day' ? await keptDaySums(db, contractId, freshWithVersions, async () => (await db.query<RoundDayCounts>(select, [contractId, fresh])).rows)
      : (await db.query<RoundDayCounts>(select, [contractId, fresh])).rows
  const freshSet = new Set(fresh)
  const liveDays = eachDay(q.from, q.to).filter((d) => !freshSet.has(d))
  const live = await roundDayCounts(db, { contractId, days: liveDays, now: q.now, repeatWindowDays, timeZone: q.timeZone })
  const merged = live.rows.length === 0 ? rolled : regroup(rolled.concat(live.rows), grain)
  const rows = merged.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : 0))
  return { rows, rolledUpDays: fresh.length, liveDays: liveDays.length }
}

// A contract's days summed over its rounds (the KPIs and trends of a range), kept per database while
// the days are the same and each still has the roll-up version it was summed at: a day's round rows
// are written only with its kpi_days row (refreshDays, one transaction), whose version (xmin) then
// changes. Summing a city's month is a few thousand round-day rows (570 rounds at 210,000
// households); kept, an answer reads only which days hold (freshDays), as it does anyway.
const MAX_KEPT_SUMS = 16

async function keptDaySums(db: Queryable, contractId: string, fresh: readonly FreshDay[], sum: () => Promise<RoundDayCounts[]>): Promise<RoundDayCounts[]> {
  const key = JSON.stringify([contractId, fresh.map((f) => `${f.day}@${f.version}`)])
  // The versions are in the key: nothing more to compare. Copies: the caller sorts and adds these rows into its own.
  return (await keptValue(db, key, '', MAX_KEPT_SUMS, sum)).map((r) => ({ ...r }))
}

export interface RefreshOptions {
  now: Date
  timeZone?: string
  /** Only this contract (default every contract). */
  contractId?: string
  /** Also roll up the days of this range that never were (stale and expired days are always refreshed). */
  ensure?: DateRange
  /** Only refresh days in this range (default every day that needs it). */
  only?: DateRange
}

export interface RefreshReport {
  contracts: number
  days: number
  rows: number
  /** Days of the why-missed roll-up recomputed (its rows are not counted in `rows`). */
  whyMissedDays: number
}

// Days of a contract to recompute: marked stale, past a deadline, computed under other terms, or
// (within $5–$6) never rolled up.
const DAYS_TO_REFRESH_SQL = `
SELECT day FROM kpi_stale_days WHERE contract_id = $1
UNION
SELECT day FROM kpi_days WHERE contract_id = $1 AND (settles_at <= $2 OR repeat_window_days <> $3 OR time_zone <> $4)
UNION
SELECT d::date FROM generate_series($5::date, $6::date, interval '1 day') AS d
 WHERE $5::date IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kpi_days k WHERE k.contract_id = $1 AND k.day = d::date)
ORDER BY day`

/** Recompute and store the days whose roll-up no longer holds. Safe to run concurrently with writers. */
export async function refreshRollup(db: Database, opts: RefreshOptions): Promise<RefreshReport> {
  const timeZone = opts.timeZone ?? DEFAULT_TIME_ZONE
  const contracts = (await allContractTerms(db)).filter((c) => !opts.contractId || c.contractId === opts.contractId)
  if (!opts.contractId) {
    await db.query(`DELETE FROM kpi_stale_days WHERE contract_id NOT IN (SELECT contract_id FROM contracts)`)
    await db.query(`DELETE FROM why_missed_stale_days WHERE contract_id NOT IN (SELECT contract_id FROM contracts)`)
  }
  const report: RefreshReport = { contracts: contracts.length, days: 0, rows: 0, whyMissedDays: 0 }
  for (const terms of contracts) {
    const { rows } = await db.query<{ day: string }>(DAYS_TO_REFRESH_SQL, [
      terms.contractId, opts.now.toISOString(), terms.repeatWindowDays, timeZone, opts.ensure?.from ?? null, opts.ensure?.to ?? null,
    ])
    const days = rows.map((r) => r.day).filter((d) => !opts.only || (d >= opts.only.from && d <= opts.only.to))
    for (let i = 0; i < days.length; i += BATCH_DAYS) {
      report.rows += await refreshDays(db, terms, days.slice(i, i + BATCH_DAYS), opts.now, timeZone)
      report.days += Math.min(BATCH_DAYS, days.length - i)
    }
    // Why-missed follows: the days just rolled up, and those its own marks (registry changes too) name.
    const whyDays = await whyMissedDaysToRefresh(db, { contractId: terms.contractId, timeZone, ensure: opts.ensure, only: opts.only })
    for (let i = 0; i < whyDays.length; i += BATCH_DAYS) {
      await storeWhyMissedDays(db, { contractId: terms.contractId, days: whyDays.slice(i, i + BATCH_DAYS), now: opts.now, timeZone })
      report.whyMissedDays += Math.min(BATCH_DAYS, whyDays.length - i)
    }
  }
  return report
}

async function refreshDays(db: Database, terms: ContractTerms, days: IsoDate[], now: Date, timeZone: string): Promise<number> {
  const { contractId, repeatWindowDays } = terms
  return db.transaction(async (tx) => {
    // Lock the marks first: a writer marking one of these days again waits until this commits,
    // and a mark it made before is seen here by its version, so only marks computed over go.
    const marks = (await tx.query<{ day: string; version: number }>(
      `SELECT day, version FROM kpi_stale_days WHERE contract_id = $1 AND day = ANY ($2::date[]) FOR UPDATE`, [contractId, days])).rows
    const { rows, settlesAt } = await roundDayCounts(tx, { contractId, days, now, repeatWindowDays, timeZone })
    await tx.query(`DELETE FROM kpi_round_days WHERE contract_id = $1 AND day = ANY ($2::date[])`, [contractId, days])
    if (rows.length > 0) {
      const columns = COUNT_FIELDS.map((f) => COUNT_COLUMNS[f])
      await tx.query(
        `INSERT INTO kpi_round_days (contract_id, round_id, day, ${columns.join(', ')})
         SELECT $1, * FROM unnest($2::text[], $3::date[], ${columns.map((_, i) => `$${i + 4}::int[]`).join(', ')})`,
        [contractId, rows.map((r) => r.roundId), rows.map((r) => r.day), ...COUNT_FIELDS.map((f) => rows.map((r) => r[f]))],
      )
    }
    await tx.query(
      `INSERT INTO kpi_days (contract_id, day, computed_at, repeat_window_days, time_zone, settles_at)
       SELECT $1, day, $3, $4, $5, settles FROM unnest($2::date[], $6::timestamptz[]) AS t(day, settles)
       ON CONFLICT (contract_id, day) DO UPDATE SET computed_at = excluded.computed_at, repeat_window_days = excluded.repeat_window_days,
         time_zone = excluded.time_zone, settles_at = excluded.settles_at`,
      [contractId, days, now.toISOString(), repeatWindowDays, timeZone, days.map((d) => settlesAt.get(d)?.toISOString() ?? null)],
    )
    if (marks.length > 0) {
      await tx.query(
        `DELETE FROM kpi_stale_days s USING unnest($2::date[], $3::bigint[]) AS m(day, version)
          WHERE s.contract_id = $1 AND s.day = m.day AND s.version = m.version`,
        [contractId, marks.map((m) => m.day), marks.map((m) => m.version)],
      )
    }
    return rows.length
  })
}
