// Which contract and which days the contract pages (performance, why missed) look at. One instance
// for the app, so moving between those pages keeps the choice.
import { answer, api, signedIn } from './api-client.ts'
import type { ContractSummary } from './api-types.ts'
import { isThinMonth, londonDay, presetRange, rangeProblem, type DayRange, type PresetId } from './periods.ts'
import { Resource } from './resource.svelte.ts'

export class ContractScope {
  contracts = new Resource<ContractSummary[]>()
  contractId = $state<string | null>(null)
  preset = $state<PresetId>('month')
  from = $state('')
  to = $state('')
  #today: () => string
  /** A period was chosen by the person (a preset or days), not only given as the default. */
  #chosen = false

  constructor(today: () => string = () => londonDay()) {
    this.#today = today
    this.setPreset('month')
    this.#chosen = false
  }

  get contract(): ContractSummary | null {
    return this.contracts.data?.find((c) => c.contractId === this.contractId) ?? null
  }

  get range(): DayRange {
    return { from: this.from, to: this.to }
  }

  /** Why the chosen days cannot be asked for, or null. */
  get problem(): string | null {
    return rangeProblem(this.range)
  }

  /** A key that changes when the question does: pages reload when it changes. */
  get question(): string | null {
    if (!this.contractId || this.problem) return null
    return `${this.contractId}|${this.from}|${this.to}`
  }

  /** Load the contracts once; the first one is chosen unless one already is. */
  async loadContracts(key: string): Promise<void> {
    await this.contracts.load((signal) => answer<ContractSummary[]>(api.GET('/api/v1/contracts', signedIn(key, signal))))
    const list = this.contracts.data ?? []
    if (!list.some((c) => c.contractId === this.contractId)) this.contractId = list[0]?.contractId ?? null
  }

  /**
   * For pages that explain rather than track (Why missed): on the default "this month so far" early in
   * a month, the last four complete weeks instead. A period the person chose is kept.
   */
  preferCompletePeriod(): void {
    if (this.#chosen || this.preset !== 'month' || !isThinMonth(this.#today())) return
    this.setPreset('4w-complete')
    this.#chosen = false
  }

  setPreset(id: PresetId): void {
    this.#chosen = true
    this.preset = id
    if (id === 'custom') return
    const r = presetRange(id, this.#today())
    this.from = r.from
    this.to = r.to
  }

  setDays(from: string, to: string): void {
    this.#chosen = true
    this.preset = 'custom'
    this.from = from
    this.to = to
  }
}
