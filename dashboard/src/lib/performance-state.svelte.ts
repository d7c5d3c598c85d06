// The contract performance page: the contract's KPIs, points, deduction and score for the chosen
// days, the league of its rounds (a page at a time, sorted by the server by any column), and the
// trends. Three requests, each with its own state, so that a slow trend does not hold the KPI cards back.
import { answer, api, signedIn } from './api-client.ts'
import type { ContractPerformance, League, LeagueRow, ScoreComponent, Trends } from './api-types.ts'
import type { ContractScope } from './contract-scope.svelte.ts'
import { granularityFor } from './periods.ts'
import { Resource } from './resource.svelte.ts'

/** The columns the server can sort the league by. */
export type LeagueSortKey = League['sort']
export type SortDirection = 'ascending' | 'descending'

const ORDER: Record<SortDirection, 'asc' | 'desc'> = { ascending: 'asc', descending: 'desc' }

/** The target of one KPI from the score's components (the API's own targets for the contract). */
export const targetOf = (targets: readonly ScoreComponent[], kpi: ScoreComponent['kpi']): ScoreComponent | null => targets.find((t) => t.kpi === kpi) ?? null

export class PerformanceState {
  performance = new Resource<ContractPerformance>()
  /** One page of the league, sorted by the server: a city has hundreds of rounds. */
  league = new Resource<League>()
  trends = new Resource<Trends>()
  sortKey = $state<LeagueSortKey>('rank')
  sortDir = $state<SortDirection>('ascending')
  offset = $state(0)
  readonly pageSize: number
  #asked: string | null = null
  #key = ''
  #path = { contractId: '' }
  #range = { from: '', to: '' }

  constructor(pageSize = 25) {
    this.pageSize = pageSize
  }

  /** The rounds of the page shown, in the order asked for. */
  get rounds(): LeagueRow[] {
    return this.league.data?.rounds ?? []
  }

  /** Rounds in the whole league (all pages). */
  get total(): number {
    return this.league.data?.total ?? 0
  }

  /** Sort by a column (from the first page); the same column again turns the order round. Numbers start with the largest. */
  sortBy(key: LeagueSortKey): void {
    if (this.sortKey === key) this.sortDir = this.sortDir === 'ascending' ? 'descending' : 'ascending'
    else {
      this.sortKey = key
      this.sortDir = key === 'rank' || key === 'name' || key === 'stream' ? 'ascending' : 'descending'
    }
    this.offset = 0
    this.#loadLeague()
  }

  /** Another page of the league: delta −1 or +1. */
  turn(delta: number): void {
    const next = this.offset + delta * this.pageSize
    if (next < 0 || next >= this.total) return
    this.offset = next
    this.#loadLeague()
  }

  /** Load for the scope's question, unless that is what is loaded (or loading) already. */
  sync(key: string, scope: ContractScope, force = false): void {
    const asked = scope.question
    if (!asked || (asked === this.#asked && !force)) return
    if (asked !== this.#asked) this.offset = 0
    this.#asked = asked
    this.#key = key
    const path = (this.#path = { contractId: scope.contractId! })
    const range = (this.#range = { from: scope.from, to: scope.to })
    void this.performance.load((signal) => answer<ContractPerformance>(api.GET('/api/v1/contracts/{contractId}/performance', { params: { path, query: range }, ...signedIn(key, signal) })))
    this.#loadLeague()
    const trends = { ...range, granularity: granularityFor(range) }
    void this.trends.load((signal) => answer<Trends>(api.GET('/api/v1/contracts/{contractId}/trends', { params: { path, query: trends }, ...signedIn(key, signal) })))
  }

  #loadLeague(): void {
    if (!this.#asked) return
    const key = this.#key
    const query = { ...this.#range, sort: this.sortKey, order: ORDER[this.sortDir], limit: this.pageSize, offset: this.offset }
    void this.league.load((signal) => answer<League>(api.GET('/api/v1/contracts/{contractId}/league', { params: { path: this.#path, query }, ...signedIn(key, signal) })))
  }

  stop(): void {
    this.performance.stop()
    this.league.stop()
    this.trends.stop()
  }
}
