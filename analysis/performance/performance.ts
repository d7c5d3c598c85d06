// Contractor performance for a contract over a range of days: KPIs against targets, default points,
// the monthly deduction and the score; the league table of its rounds; and trends by day, week or
// month. All from round-day counts (rollup.ts), summed: by the database to one row per day (KPIs,
// trends) or per round (league), so that a bigger city's many rounds do not slow the KPIs.
import type { Queryable } from '../../storage/database.ts'
import { addCounts, emptyCounts, sumCounts, type KpiCounts, type RoundDayCounts } from './counts.ts'
import { defaultPoints, kpiFigures, monthDeduction, type KpiFigures, type MonthDeduction, type Points } from './kpis.ts'
import { bucketOf, buckets, checkRange, type DateRange, type Granularity } from './periods.ts'
import { eachDay } from '../calendar/dates.ts'
import { cachedLeague, keepLeague, roundsVersion } from './league-cache.ts'
import { DEFAULT_TIME_ZONE, freshDays, loadRoundDayCounts, type CountsGrain, type LoadedCounts } from './rollup.ts'
import { contractScore, type ScoreComponent } from './score.ts'
import { contractTerms, type ContractTerms } from './terms.ts'

export interface PerformanceOptions extends DateRange {
  /** Deadlines are judged as of this instant (default now). */
  now?: Date
  timeZone?: string
}

export interface Assessment {
  figures: KpiFigures
  points: Points
  score: number | null
  targets: ScoreComponent[]
}

export interface ContractPerformance extends Assessment {
  contract: { contractId: string; name: string; contractorId: string }
  terms: ContractTerms
  from: string
  to: string
  asOf: Date
  deduction: { months: MonthDeduction[]; total: number }
  source: { rolledUpDays: number; liveDays: number }
}

export function assess(counts: KpiCounts, terms: ContractTerms): Assessment {
  const figures = kpiFigures(counts)
  const { score, components } = contractScore(figures, terms)
  return { figures, points: defaultPoints(counts, terms), score, targets: components }
}

/** Monthly deductions over a range, each month capped on its own (kpis.ts). */
export function deductions(rows: readonly RoundDayCounts[], range: DateRange, terms: ContractTerms): { months: MonthDeduction[]; total: number } {
  const byMonth = new Map<string, KpiCounts>()
  for (const r of rows) byMonth.set(r.day.slice(0, 7), addCounts(byMonth.get(r.day.slice(0, 7)) ?? emptyCounts(), r))
  const months = buckets(range, 'month').map((b) =>
    monthDeduction({ month: b.period, from: b.from, to: b.to }, defaultPoints(byMonth.get(b.period) ?? emptyCounts(), terms).total, terms))
  return { months, total: Math.round(months.reduce((s, m) => s + m.deduction, 0) * 100) / 100 }
}

async function load(db: Queryable, contractId: string, opts: PerformanceOptions, grain: CountsGrain) {
  const range = checkRange({ from: opts.from, to: opts.to })
  const terms = await contractTerms(db, contractId)
  const now = opts.now ?? new Date()
  const counts = await loadRoundDayCounts(db, { terms, ...range, now, timeZone: opts.timeZone ?? DEFAULT_TIME_ZONE, grain })
  return { range, terms, now, counts }
}

export async function contractPerformance(db: Queryable, contractId: string, opts: PerformanceOptions): Promise<ContractPerformance> {
  const { range, terms, now, counts } = await load(db, contractId, opts, 'day')
  return {
    contract: { contractId: terms.contractId, name: terms.name, contractorId: terms.contractorId },
    terms, ...range, asOf: now,
    ...assess(sumCounts(counts.rows), terms),
    deduction: deductions(counts.rows, range, terms),
    source: { rolledUpDays: counts.rolledUpDays, liveDays: counts.liveDays },
  }
}

export interface LeagueRow extends Assessment {
  rank: number
  roundId: string
  name: string
  stream: string
  vehicleId: string | null
}

/** The columns a league can be ordered by: its rank (the score order), the round, or one figure. */
export const LEAGUE_SORTS = ['rank', 'name', 'stream', 'scheduled', 'missed', 'missedPer100k', 'onDayPct', 'rectifiedInTimePct', 'points', 'score'] as const
export type LeagueSort = (typeof LEAGUE_SORTS)[number]
export type LeagueOrder = 'asc' | 'desc'

export interface LeagueOptions extends PerformanceOptions {
  /** Order of the rows (default rank); `rank` is the league's own order whatever the sort. */
  sort?: LeagueSort
  order?: LeagueOrder
  /** Rows from `offset` (default 0), at most `limit` (default every ranked round). */
  limit?: number
  offset?: number
}

export interface League {
  from: string
  to: string
  asOf: Date
  /** Rounds in the league (ranked): what the pages add up to. */
  total: number
  sort: LeagueSort
  order: LeagueOrder
  offset: number
  limit: number | null
  /** The whole contract (every round summed): the figures the league's rows share out. */
  totals: Assessment
  rounds: LeagueRow[]
}

const LEAGUE_VALUE: Record<LeagueSort, (r: LeagueRow) => number | string | null> = {
  rank: (r) => r.rank,
  name: (r) => r.name,
  stream: (r) => r.stream,
  scheduled: (r) => r.figures.scheduled,
  missed: (r) => r.figures.missed,
  missedPer100k: (r) => r.figures.missedPer100k,
  onDayPct: (r) => r.figures.onDayPct,
  rectifiedInTimePct: (r) => r.figures.rectifiedInTimePct,
  points: (r) => r.points.total,
  score: (r) => r.score,
}

/** Rows ordered by one column, either way; no data (null) always last, ties in rank order. */
export function sortLeague(rows: readonly LeagueRow[], sort: LeagueSort, order: LeagueOrder): LeagueRow[] {
  const value = LEAGUE_VALUE[sort]
  const sign = order === 'asc' ? 1 : -1
  return [...rows].sort((a, b) => {
    const x = value(a)
    const y = value(b)
    if (x === null || y === null) return x === y ? a.rank - b.rank : x === null ? 1 : -1
    const c = typeof x === 'string' ? x.localeCompare(String(y), 'en-GB') : x - (y as number)
    return c !== 0 ? sign * c : a.rank - b.rank
  })
}

/**
 * The contract's rounds ranked by score (best first), then by fewer misses per 100,000, then by
 * round id. Rounds with nothing decided in the range are left out; rounds without a score rank last.
 * A city's league is hundreds of rounds: the caller asks for a page of it in the order it shows
 * (`sort`, `order`, `limit`, `offset`), with the number of rounds and the contract's totals.
 */
export async function roundLeague(db: Queryable, contractId: string, opts: LeagueOptions): Promise<League> {
  const range = checkRange({ from: opts.from, to: opts.to })
  const terms = await contractTerms(db, contractId)
  const now = opts.now ?? new Date()
  const q = { terms, ...range, now, timeZone: opts.timeZone ?? DEFAULT_TIME_ZONE }
  const fresh = await freshDays(db, q)
  // Every day rolled up: the ranking is kept while those days, the terms and the rounds are unchanged.
  const keepable = fresh.length === eachDay(range.from, range.to).length
  const key = `${contractId}|${range.from}|${range.to}|${q.timeZone}`
  const token = keepable ? JSON.stringify([terms, fresh, await roundsVersion(db, contractId)]) : ''
  let ranked = keepable ? cachedLeague<RankedLeague>(db, key, token) : undefined
  if (!ranked) {
    ranked = await rankRounds(db, contractId, terms, await loadRoundDayCounts(db, { ...q, grain: 'round', fresh }))
    if (keepable) keepLeague(db, key, token, ranked)
  }
  const sort = opts.sort ?? 'rank'
  const order = opts.order ?? 'asc'
  const offset = opts.offset ?? 0
  const limit = opts.limit ?? null
  const ordered = sort === 'rank' && order === 'asc' ? ranked.rounds : sortLeague(ranked.rounds, sort, order)
  return {
    ...range, asOf: now, total: ranked.rounds.length, sort, order, offset, limit, totals: ranked.totals,
    rounds: ordered.slice(offset, limit === null ? undefined : offset + limit),
  }
}

interface RankedLeague {
  rounds: LeagueRow[]
  totals: Assessment
}

async function rankRounds(db: Queryable, contractId: string, terms: ContractTerms, counts: LoadedCounts): Promise<RankedLeague> {
  // Grain 'round': one row per round already (the roll-up and live days summed).
  const meta = new Map((await db.query<{ roundId: string; name: string; stream: string; vehicleId: string | null }>(
    `SELECT round_id AS "roundId", name, stream, vehicle_id AS "vehicleId" FROM rounds WHERE contract_id = $1`, [contractId])).rows.map((r) => [r.roundId, r]))
  const rows = counts.rows.map((c) => ({ roundId: c.roundId, name: meta.get(c.roundId)?.name ?? c.roundId, stream: meta.get(c.roundId)?.stream ?? 'unknown', vehicleId: meta.get(c.roundId)?.vehicleId ?? null, ...assess(c, terms) }))
    .filter((r) => r.figures.scheduled > 0)
  // Keys where null sorts last (Infinity − Infinity is NaN, which falls through to the next key).
  const best = (x: number | null) => (x === null ? Infinity : -x)
  const least = (x: number | null) => (x === null ? Infinity : x)
  rows.sort((a, b) => best(a.score) - best(b.score)
    || least(a.figures.missedPer100k) - least(b.figures.missedPer100k)
    || (a.roundId < b.roundId ? -1 : a.roundId > b.roundId ? 1 : 0))
  return { rounds: rows.map((r, i) => ({ rank: i + 1, ...r })), totals: assess(sumCounts(counts.rows), terms) }
}

export interface TrendPoint extends Assessment {
  period: string
  from: string
  to: string
}

export async function performanceTrends(db: Queryable, contractId: string, opts: PerformanceOptions & { granularity: Granularity }): Promise<{ from: string; to: string; asOf: Date; granularity: Granularity; points: TrendPoint[] }> {
  const { range, terms, now, counts } = await load(db, contractId, opts, 'day')
  const byPeriod = new Map<string, KpiCounts>()
  for (const r of counts.rows) {
    const period = bucketOf(r.day, opts.granularity)
    byPeriod.set(period, addCounts(byPeriod.get(period) ?? emptyCounts(), r))
  }
  const points = buckets(range, opts.granularity).map((b) => ({ period: b.period, from: b.from, to: b.to, ...assess(byPeriod.get(b.period) ?? emptyCounts(), terms) }))
  return { ...range, asOf: now, granularity: opts.granularity, points }
}
