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

const LIMIT = 500

/** An open report whose return visit is due before `now`: overdue. */
export const isOverdue = (r: ReportRow, now: number): boolean => r.status === 'open' && r.expectedDatetime !== null && Date.parse(r.expectedDatetime) < now

export class ReportsState {
  list = new Resource<ReportRow[]>()
  filters = $state<ReportFilters>({ status: '', validity: '', stream: '', from: '', to: '' })
  readonly limit = LIMIT

  constructor(today: string = londonDay()) {
    this.filters.from = addDays(today, -29)
    this.filters.to = today
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

  /** Whether the list hit the limit: there may be older reports than those shown. */
  get truncated(): boolean {
    return (this.list.data?.length ?? 0) >= LIMIT
  }

  async load(key: string): Promise<void> {
    if (this.problem) return
    const f = this.filters
    // Council days to instants: from the start of `from` to the last moment of `to`, in London.
    const from = f.from ? new Date(londonDayStart(f.from)).toISOString() : undefined
    const to = f.to ? new Date(londonDayStart(addDays(f.to, 1)) - 1).toISOString() : undefined
    // An empty filter is no filter; the stream is one the API listed (the server checks it again).
    const query = { status: f.status || undefined, validity: f.validity || undefined, stream: (f.stream || undefined) as WasteStream | undefined, from, to, limit: LIMIT }
    await this.list.load((signal) => answer<ReportRow[]>(api.GET('/api/v1/reports', { params: { query }, ...signedIn(key, signal) })))
  }

  stop(): void {
    this.list.stop()
  }
}
