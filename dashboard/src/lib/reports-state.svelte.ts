// Missed-bin reports (filed over Open311 by the CRM) with their status, validity and return-visit
// deadline, filtered as the contract manager chooses. Read from /api/v1/reports: Open311's own
// document carries neither the validity nor the reason a report was judged invalid.
import { answer, api, signedIn } from './api-client.ts'
import type { ReportRow, WasteStream } from './api-types.ts'
import { addDays, isDay, londonDay, londonDayStart } from './periods.ts'
import { Resource } from './resource.svelte.ts'

export interface ReportFilters {
  status: '' | 'open' | 'closed'
  validity: '' | 'pending' | 'valid' | 'invalid'
  stream: string
  /** Reported from / to, council days (inclusive). */
  from: string
  to: string
}

/** Reports in a page: the newest first, older and newer pages on request (the API's `after` cursor). */
export const PAGE_SIZE = 100

/** One page of the list as the API answered it. */
export interface ReportsPage {
  reports: ReportRow[]
  /** Which page this is, 0 the newest. */
  page: number
  /** The `after` of the next (older) page, from the answer's Link rel="next"; null: this is the last. */
  next: number | null
}

/** The `after` of a Link header's rel="next" URL, or null when there is none. */
export function nextAfter(link: string | null): number | null {
  for (const part of (link ?? '').split(',')) {
    const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part)
    if (!m) continue
    const after = Number(new URL(m[1]!, 'http://kerbside.invalid').searchParams.get('after'))
    return Number.isSafeInteger(after) && after > 0 ? after : null
  }
  return null
}

type ReportsQuery = { status?: 'open' | 'closed'; validity?: 'pending' | 'valid' | 'invalid'; stream?: WasteStream; from?: string; to?: string }

/** An open report whose return visit is due before `now`: overdue. */
export const isOverdue = (r: ReportRow, now: number): boolean => r.status === 'open' && r.expectedDatetime !== null && Date.parse(r.expectedDatetime) < now

export class ReportsState {
  list = new Resource<ReportsPage>()
  filters = $state<ReportFilters>({ status: '', validity: '', stream: '', from: '', to: '' })
  readonly pageSize: number
  /** The page asked for last, 0 the newest; the pages before it are found again by their cursors. */
  page = 0
  /** The `after` of each page from the newest to the one shown (undefined for the newest). */
  #cursors: (number | undefined)[] = [undefined]
  /** The filters the shown pages were asked with: paging keeps them, even while the form is being changed. */
  #query: ReportsQuery = {}

  constructor(today: string = londonDay(), pageSize = PAGE_SIZE) {
    this.filters.from = addDays(today, -29)
    this.filters.to = today
    this.pageSize = pageSize
  }

  /** Filters from a link (#/reports?validity=invalid), over the current ones. */
  applyQuery(q: Record<string, string>): void {
    const f = this.filters
    if (q.status === 'open' || q.status === 'closed') f.status = q.status
    if (q.validity === 'pending' || q.validity === 'valid' || q.validity === 'invalid') f.validity = q.validity
    if (q.stream) f.stream = q.stream
    if (q.from && isDay(q.from)) f.from = q.from
    if (q.to && isDay(q.to)) f.to = q.to
  }

  get problem(): string | null {
    const { from, to } = this.filters
    if ((from && !isDay(from)) || (to && !isDay(to))) return 'Enter dates as dates, or leave them empty.'
    if (from && to && to < from) return 'The last day is before the first.'
    return null
  }

  /** There are older reports than this page's (the API said so). */
  get hasOlder(): boolean {
    return (this.list.data?.next ?? null) !== null
  }

  /** The page shown is not the newest. */
  get hasNewer(): boolean {
    return (this.list.data?.page ?? 0) > 0
  }

  /** Where the page shown starts in the whole list, from 1. */
  get firstShown(): number {
    return (this.list.data?.page ?? 0) * this.pageSize + 1
  }

  /** The newest page with the filters as they are now. */
  async load(key: string): Promise<void> {
    if (this.problem) return
    const f = this.filters
    // Council days to instants: from the start of `from` to the last moment of `to`, in London.
    const from = f.from ? new Date(londonDayStart(f.from)).toISOString() : undefined
    const to = f.to ? new Date(londonDayStart(addDays(f.to, 1)) - 1).toISOString() : undefined
    // An empty filter is no filter; the stream is one the API listed (the server checks it again).
    this.#query = { status: f.status || undefined, validity: f.validity || undefined, stream: (f.stream || undefined) as WasteStream | undefined, from, to }
    this.#cursors = [undefined]
    this.page = 0
    await this.#fetch(key)
  }

  /** The next page of older reports, with the filters of the pages shown. */
  async older(key: string): Promise<void> {
    const shown = this.list.data
    if (!shown || shown.next === null || this.list.status === 'loading') return
    this.#cursors = [...this.#cursors.slice(0, shown.page + 1), shown.next]
    this.page = shown.page + 1
    await this.#fetch(key)
  }

  /** The page of newer reports before the one shown. */
  async newer(key: string): Promise<void> {
    const shown = this.list.data
    if (!shown || shown.page === 0 || this.list.status === 'loading') return
    this.page = shown.page - 1
    await this.#fetch(key)
  }

  /** The page asked for last, again (after a failure). */
  async retry(key: string): Promise<void> {
    await this.#fetch(key)
  }

  async #fetch(key: string): Promise<void> {
    const page = this.page
    const query = { ...this.#query, limit: this.pageSize, after: this.#cursors[page] }
    await this.list.load(async (signal) => {
      const pending = api.GET('/api/v1/reports', { params: { query }, ...signedIn(key, signal) })
      const reports = await answer<ReportRow[]>(pending)
      return { reports, page, next: nextAfter((await pending).response.headers.get('link')) }
    })
  }

  stop(): void {
    this.list.stop()
  }
}
