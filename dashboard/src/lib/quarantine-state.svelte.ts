// Refused input, for the operator: what ingest quarantined (a faulty sensor's fillPct 142, a
// payload that is not JSON, an uplink from an unregistered LoRaWAN device), a page at a time, newest
// first, filtered by device, reason and days, with the counts by reason, and one entry's raw payload.
// Read from /api/v1/quarantine; the payload only reaches roles that may see it (a lift carries a bin
// tag and a position), so a missing payload is said in words, not shown as empty.
import { answer, api, signedIn } from './api-client.ts'
import type { QuarantinedPayload, QuarantinePage } from './api-types.ts'
import { addDays, isDay, londonDayStart } from './periods.ts'
import { Resource } from './resource.svelte.ts'

export interface QuarantineFilters {
  deviceId: string
  reason: string
  /** Last refused from / to, council days (inclusive); empty: open-ended. */
  from: string
  to: string
}

export const PAGE_SIZE = 50

export class QuarantineState {
  list = new Resource<QuarantinePage>()
  entry = new Resource<QuarantinedPayload>()
  filters = $state<QuarantineFilters>({ deviceId: '', reason: '', from: '', to: '' })
  offset = $state(0)
  /** The entry whose payload is open. */
  openId = $state<number | null>(null)
  readonly pageSize = PAGE_SIZE

  /** Filters from a link (#/quarantine?deviceId=bin-0042&reason=schema), over the current ones. */
  applyQuery(q: Record<string, string>): void {
    const f = this.filters
    if (q.deviceId !== undefined) f.deviceId = q.deviceId
    if (q.reason !== undefined) f.reason = q.reason
    if (q.from !== undefined && (q.from === '' || isDay(q.from))) f.from = q.from
    if (q.to !== undefined && (q.to === '' || isDay(q.to))) f.to = q.to
  }

  get problem(): string | null {
    const { from, to, reason } = this.filters
    if ((from && !isDay(from)) || (to && !isDay(to))) return 'Enter dates as dd/mm/yyyy, or leave them empty.'
    if (from && to && to < from) return 'The last day is before the first.'
    if (reason && !/^[a-z][a-z0-9_]{0,63}$/.test(reason)) return 'Choose a reason from the list.'
    return null
  }

  get total(): number {
    return this.list.data?.total ?? 0
  }

  get hasPrevious(): boolean {
    return this.offset > 0
  }

  get hasNext(): boolean {
    return this.offset + PAGE_SIZE < this.total
  }

  /** Load the first page for the filters as they are now. */
  async search(key: string): Promise<void> {
    this.offset = 0
    await this.load(key)
  }

  async page(key: string, direction: 1 | -1): Promise<void> {
    this.offset = Math.max(0, this.offset + direction * PAGE_SIZE)
    await this.load(key)
  }

  async load(key: string): Promise<void> {
    if (this.problem) return
    const f = this.filters
    // Council days to instants: from the start of `from` to the start of the day after `to`, in London.
    const query = {
      deviceId: f.deviceId.trim() || undefined, reason: f.reason || undefined,
      from: f.from ? new Date(londonDayStart(f.from)).toISOString() : undefined,
      to: f.to ? new Date(londonDayStart(addDays(f.to, 1))).toISOString() : undefined,
      limit: PAGE_SIZE, offset: this.offset,
    }
    await this.list.load((signal) => answer<QuarantinePage>(api.GET('/api/v1/quarantine', { params: { query }, ...signedIn(key, signal) })))
  }

  /** Open one entry's payload (again: close it). */
  async open(id: number, key: string): Promise<void> {
    if (this.openId === id) {
      this.openId = null
      this.entry.reset()
      return
    }
    this.openId = id
    await this.entry.load((signal) => answer<QuarantinedPayload>(api.GET('/api/v1/quarantine/{id}', { params: { path: { id } }, ...signedIn(key, signal) })))
  }

  stop(): void {
    this.list.stop()
    this.entry.stop()
  }
}

const REASONS: Record<string, string> = {
  schema: 'Breaks the device contract',
  bad_json: 'Not JSON',
  bad_encoding: 'Unreadable encoding',
  payload_too_large: 'Too large',
  bad_timestamp: 'Unreadable time',
  timestamp_out_of_range: 'Time out of range',
  unknown_topic: 'Unknown topic',
  unknown_device: 'Unknown device',
  wrong_device_kind: 'Wrong kind of device',
  duplicate: 'Same sequence number, different content',
  seq_regression: 'Sequence number went back',
  storage_error: 'The database refused it',
  unknown_dev_eui: 'Unregistered LoRaWAN device',
  undecodable_payload: 'LoRaWAN frame not understood',
  no_measurement: 'No usable measurement',
  unknown_model: 'Sensor model without a decoder',
  f_cnt_session_overlap: 'LoRaWAN frame counter overlap',
  bad_envelope: 'Not a network-server message',
}

/** A reason in words, with its stable name for searching the logs: "Breaks the device contract". */
export const reasonLabel = (reason: string): string => REASONS[reason] ?? reason.replace(/_/g, ' ')
