// The contract performance page: the contract's KPIs, points, deduction and score for the chosen
// days, the league of its rounds (sortable), and the trends. Three requests, each with its own
// state, so that a slow trend does not hold the KPI cards back.
import { answer, api, signedIn } from './api-client.ts'
import type { ContractPerformance, League, LeagueRow, ScoreComponent, Trends } from './api-types.ts'
import type { ContractScope } from './contract-scope.svelte.ts'
import { granularityFor } from './periods.ts'
import { Resource } from './resource.svelte.ts'

export type LeagueSortKey = 'rank' | 'name' | 'stream' | 'scheduled' | 'missed' | 'missedPer100k' | 'onDayPct' | 'rectifiedInTimePct' | 'points' | 'score'
export type SortDirection = 'ascending' | 'descending'

/** How each column sorts a round; nulls (no data) always last. */
const LEAGUE_VALUE: Record<LeagueSortKey, (r: LeagueRow) => number | string | null> = {
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

export function sortLeague(rows: readonly LeagueRow[], key: LeagueSortKey, dir: SortDirection): LeagueRow[] {
  const value = LEAGUE_VALUE[key]
  const sign = dir === 'ascending' ? 1 : -1
  return [...rows].sort((a, b) => {
    const x = value(a)
    const y = value(b)
    if (x === null || y === null) return x === y ? a.rank - b.rank : x === null ? 1 : -1
    const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number)
    return c !== 0 ? sign * c : a.rank - b.rank
  })
}

/** The target of one KPI from the score's components (the API's own targets for the contract). */
export const targetOf = (targets: readonly ScoreComponent[], kpi: ScoreComponent['kpi']): ScoreComponent | null => targets.find((t) => t.kpi === kpi) ?? null

export class PerformanceState {
  performance = new Resource<ContractPerformance>()
  league = new Resource<League>()
  trends = new Resource<Trends>()
  sortKey = $state<LeagueSortKey>('rank')
  sortDir = $state<SortDirection>('ascending')
  #asked: string | null = null

  get rounds(): LeagueRow[] {
    return sortLeague(this.league.data?.rounds ?? [], this.sortKey, this.sortDir)
  }

  /** Sort by a column; the same column again turns the order round. Numbers start with the largest. */
  sortBy(key: LeagueSortKey): void {
    if (this.sortKey === key) this.sortDir = this.sortDir === 'ascending' ? 'descending' : 'ascending'
    else {
      this.sortKey = key
      this.sortDir = key === 'rank' || key === 'name' || key === 'stream' ? 'ascending' : 'descending'
    }
  }

  /** Load for the scope's question, unless that is what is loaded (or loading) already. */
  sync(key: string, scope: ContractScope, force = false): void {
    const asked = scope.question
    if (!asked || (asked === this.#asked && !force)) return
    this.#asked = asked
    const path = { contractId: scope.contractId! }
    const range = { from: scope.from, to: scope.to }
    void this.performance.load((signal) => answer<ContractPerformance>(api.GET('/api/v1/contracts/{contractId}/performance', { params: { path, query: range }, ...signedIn(key, signal) })))
    void this.league.load((signal) => answer<League>(api.GET('/api/v1/contracts/{contractId}/league', { params: { path, query: range }, ...signedIn(key, signal) })))
    const trends = { ...range, granularity: granularityFor(range) }
    void this.trends.load((signal) => answer<Trends>(api.GET('/api/v1/contracts/{contractId}/trends', { params: { path, query: trends }, ...signedIn(key, signal) })))
  }

  stop(): void {
    this.performance.stop()
    this.league.stop()
    this.trends.stop()
  }
}
