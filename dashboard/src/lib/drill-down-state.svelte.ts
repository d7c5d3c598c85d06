// The collections behind a KPI (drill-down): which KPI, optionally one round or one exception code,
// a page at a time, oldest first as the API gives them.
import { answer, api, signedIn } from './api-client.ts'
import type { DrillKpi, KpiCollectionPage } from './api-types.ts'
import type { ContractScope } from './contract-scope.svelte.ts'
import { Resource } from './resource.svelte.ts'

export interface DrillQuestion {
  kpi: DrillKpi
  round?: string | null
  code?: string | null
}

const KPI_TITLES: Record<DrillKpi, string> = {
  missed: 'Missed collections',
  late: 'Collected after the scheduled day',
  exceptions: 'Crew exceptions',
  not_rectified: 'Misses not put right in time',
  repeat: 'Repeat misses',
}

export class DrillDownState {
  page = new Resource<KpiCollectionPage>()
  question = $state<DrillQuestion | null>(null)
  offset = $state(0)
  readonly limit: number
  #contractId = ''
  #from = ''
  #to = ''

  constructor(limit = 25) {
    this.limit = limit
  }

  get title(): string {
    const q = this.question
    if (!q) return ''
    return `${KPI_TITLES[q.kpi]}${q.code ? ` — ${q.code.replace('_', ' ')}` : ''}${q.round ? ` — round ${q.round}` : ''}`
  }

  get total(): number {
    return this.page.data?.total ?? 0
  }

  open(key: string, scope: ContractScope, q: DrillQuestion): void {
    if (!scope.question) return
    this.question = q
    this.offset = 0
    this.#contractId = scope.contractId!
    this.#from = scope.from
    this.#to = scope.to
    this.#load(key)
  }

  /** Another page: delta −1 or +1. */
  turn(key: string, delta: number): void {
    const next = this.offset + delta * this.limit
    if (next < 0 || next >= this.total) return
    this.offset = next
    this.#load(key)
  }

  close(): void {
    this.question = null
    this.page.reset()
  }

  #load(key: string): void {
    const q = this.question!
    const params = {
      path: { contractId: this.#contractId },
      query: { kpi: q.kpi, round: q.round ?? undefined, code: q.code ?? undefined, from: this.#from, to: this.#to, limit: this.limit, offset: this.offset },
    }
    void this.page.load((signal) => answer<KpiCollectionPage>(api.GET('/api/v1/contracts/{contractId}/collections', { params, ...signedIn(key, signal) })))
  }
}
