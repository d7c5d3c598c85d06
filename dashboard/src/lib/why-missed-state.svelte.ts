// "Why bins are missed" for the chosen contract and days: the breakdowns, the hotspots (grid cells or
// streets) for the map, the households with repeat misses and the cost of return trips.
import { answer, api, signedIn } from './api-client.ts'
import type { Breakdown, Hotspot, WhyMissed } from './api-types.ts'
import type { ContractScope } from './contract-scope.svelte.ts'
import { Resource } from './resource.svelte.ts'

export const DIMENSIONS = [
  { id: 'round', label: 'Round' },
  { id: 'street', label: 'Street' },
  { id: 'vehicle', label: 'Vehicle' },
  { id: 'weekday', label: 'Weekday' },
  { id: 'hour', label: 'Time of day' },
  { id: 'window', label: 'Against round hours' },
  { id: 'ward', label: 'Ward' },
  { id: 'stream', label: 'Stream' },
] as const
export type DimensionId = (typeof DIMENSIONS)[number]['id']

/** Miss-rate bands against the contract's target (missed per 100,000): within, up to 2×, 3×, beyond. */
export const RATE_BANDS = [
  { id: 'within', label: 'Within target', colour: '#2f7d32' },
  { id: 'over', label: 'Up to 2× target', colour: '#8a6d00' },
  { id: 'high', label: '2–3× target', colour: '#c2410c' },
  { id: 'severe', label: 'Over 3× target', colour: '#b91c1c' },
] as const

export function rateBand(per100k: number | null, target: number): number {
  if (per100k === null) return 0
  if (per100k <= target) return 0
  if (per100k <= 2 * target) return 1
  if (per100k <= 3 * target) return 2
  return 3
}

/** Breakdown rows in reading order: weekdays and hours by time, the rest by misses (then by rate). */
export function orderRows(dim: DimensionId, rows: readonly Breakdown[]): Breakdown[] {
  const timeOrder = (k: string) => (k === 'not_passed' ? 99 : k === 'before' ? 0 : k === 'within' ? 1 : k === 'after' ? 2 : Number(k))
  if (dim === 'weekday' || dim === 'hour' || dim === 'window') return [...rows].sort((a, b) => timeOrder(a.key) - timeOrder(b.key))
  return [...rows].sort((a, b) => b.missed - a.missed || (b.missedPer100k ?? 0) - (a.missedPer100k ?? 0) || a.key.localeCompare(b.key))
}

export class WhyMissedState {
  result = new Resource<WhyMissed>()
  dimension = $state<DimensionId>('round')
  hotspotKind = $state<'cells' | 'streets'>('cells')
  #asked: string | null = null

  /** Round names by id, from the answer's round rows, so that a breakdown says "Residual Saturday 1", not res-sat-1. */
  get roundNames(): Record<string, string> {
    return Object.fromEntries((this.result.data?.by.round ?? []).map((r) => [r.key, r.name ?? r.key]))
  }

  /** How many rows the chosen breakdown has in all (the answer gives those with the most misses). */
  get rowCount(): number {
    return this.result.data?.rowCounts[this.dimension] ?? 0
  }

  get rows(): Breakdown[] {
    const by = this.result.data?.by
    return by ? orderRows(this.dimension, by[this.dimension]) : []
  }

  get hotspots(): Hotspot[] {
    const h = this.result.data?.hotspots
    return h ? (this.hotspotKind === 'cells' ? h.cells : h.streets) : []
  }

  sync(key: string, scope: ContractScope, force = false): void {
    const asked = scope.question
    if (!asked || (asked === this.#asked && !force)) return
    this.#asked = asked
    const params = { path: { contractId: scope.contractId! }, query: { from: scope.from, to: scope.to, households: 100 } }
    void this.result.load((signal) => answer<WhyMissed>(api.GET('/api/v1/contracts/{contractId}/why-missed', { params, ...signedIn(key, signal) })))
  }

  stop(): void {
    this.result.stop()
  }
}
