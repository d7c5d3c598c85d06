// The contact centre's household view: find a household (UPRN, postcode or address), its summary,
// its collection history a page at a time, and the first-contact check for a resident's "my bin was
// not emptied" — the verdict, its evidence and what to tell them.
import { answer, api, signedIn } from './api-client.ts'
import type { CollectionHistory, FirstContactAnswer, HouseholdMatch, HouseholdSummary, WasteStream } from './api-types.ts'
import { isDay } from './periods.ts'
import { Resource } from './resource.svelte.ts'

/** A UPRN is up to 12 digits, no check digit. */
export const isUprn = (s: string): boolean => /^\d{1,12}$/.test(s.trim()) && Number(s) > 0

export class HouseholdState {
  q = $state('')
  results = new Resource<HouseholdMatch[]>()
  uprn = $state<number | null>(null)
  summary = new Resource<HouseholdSummary>()
  history = new Resource<CollectionHistory>()
  historyOffset = $state(0)
  readonly historyLimit: number
  /** The first-contact question: which stream, which day (empty: the latest due). */
  stream = $state<WasteStream | ''>('')
  date = $state('')
  check = new Resource<FirstContactAnswer>()
  checkProblem = $state<string | null>(null)

  constructor(historyLimit = 20) {
    this.historyLimit = historyLimit
  }

  /** Search; an exact UPRN opens the household at once. Returns the UPRN to open, if any. */
  async search(key: string): Promise<number | null> {
    const q = this.q.trim()
    if (q.length < 2) {
      this.results.reset()
      return null
    }
    await this.results.load((signal) => answer<HouseholdMatch[]>(api.GET('/api/v1/households', { params: { query: { q, limit: 20 } }, ...signedIn(key, signal) })))
    const hits = this.results.data ?? []
    if (isUprn(q) && hits.length === 1 && hits[0]!.uprn === Number(q)) return hits[0]!.uprn
    return null
  }

  /** Open a household (from the route); the same one again does nothing. */
  open(key: string, uprn: number): void {
    if (this.uprn === uprn && this.summary.status !== 'idle') return
    this.uprn = uprn
    this.historyOffset = 0
    this.check.reset()
    this.checkProblem = null
    this.date = ''
    this.stream = ''
    void this.summary.load((signal) => answer<HouseholdSummary>(api.GET('/api/v1/households/{uprn}', { params: { path: { uprn } }, ...signedIn(key, signal) }))).then(() => {
      // Ask about the first bin's stream unless the agent has chosen one meanwhile.
      if (this.uprn === uprn && this.stream === '') this.stream = (this.streams[0] ?? '') as WasteStream | ''
    })
    this.#loadHistory(key)
  }

  close(): void {
    this.uprn = null
    this.summary.reset()
    this.history.reset()
    this.check.reset()
  }

  /** The streams this household has bins for, in the order the API lists them. */
  get streams(): string[] {
    return [...new Set((this.summary.data?.bins ?? []).filter((b) => b.active).map((b) => b.stream))]
  }

  turnHistory(key: string, delta: number): void {
    const next = this.historyOffset + delta * this.historyLimit
    if (next < 0 || next >= (this.history.data?.total ?? 0)) return
    this.historyOffset = next
    this.#loadHistory(key)
  }

  #loadHistory(key: string): void {
    if (this.uprn === null) return
    const params = { path: { uprn: this.uprn }, query: { limit: this.historyLimit, offset: this.historyOffset } }
    void this.history.load((signal) => answer<CollectionHistory>(api.GET('/api/v1/households/{uprn}/collections', { params, ...signedIn(key, signal) })))
  }

  /** Run the first-contact check for the chosen stream and day. */
  async runCheck(key: string): Promise<void> {
    this.checkProblem = null
    if (this.uprn === null) return
    if (!this.stream) {
      this.checkProblem = 'Choose the bin the resident is calling about.'
      return
    }
    if (this.date && !isDay(this.date)) {
      this.checkProblem = 'Enter the collection day as a date, or leave it empty for the latest collection.'
      return
    }
    const params = { path: { uprn: this.uprn }, query: { stream: this.stream, date: this.date || undefined } }
    await this.check.load((signal) => answer<FirstContactAnswer>(api.GET('/api/v1/households/{uprn}/first-contact', { params, ...signedIn(key, signal) })))
  }

  stop(): void {
    this.results.stop()
    this.summary.stop()
    this.history.stop()
    this.check.stop()
  }
}
