// The Devices page: sensors and vehicle units with the household of each bin sensor, their online
// state, battery and last refused message; searched by device id, DevEUI, UPRN, postcode or the
// start of an address, filtered by kind and state, a page at a time (by device id: each next page
// starts after the last id shown, so a deep page costs what the first does); the fleet's counts by
// state above the list. Live status events keep the rows on screen current.
import { answer, api, describeError, signedIn } from './api-client.ts'
import type { DeviceListItem, DeviceStatus, DeviceSummary, LiveEvent } from './api-types.ts'
import type { LoadStatus } from './city-state.svelte.ts'
import { Resource } from './resource.svelte.ts'

export type KindFilter = 'all' | 'bin' | 'vehicle'
export type StateFilter = 'all' | 'online' | 'silent' | 'low_battery' | 'quarantined' | 'revoked'

export class DevicesState {
  status = $state<LoadStatus>('idle')
  error = $state<string | null>(null)
  devices = $state<DeviceListItem[]>([])
  kind = $state<KindFilter>('all')
  deviceState = $state<StateFilter>('all')
  /** What was searched (the box's text when the search ran). */
  search = $state('')
  /** The position of the first row shown (0-based), for "101–200". */
  offset = $state(0)
  readonly pageSize: number
  /** True when the API has more devices after this page. */
  hasMore = $state(false)
  /** The fleet's counts by kind and state. */
  readonly summary = new Resource<DeviceSummary>()
  // The id each page shown so far started after (null: the first page), for "Previous".
  #starts: (string | null)[] = [null]
  #abort: AbortController | null = null

  constructor(pageSize = 100) {
    this.pageSize = pageSize
  }

  /** Load the page at the current position. */
  async load(key: string): Promise<void> {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    this.status = 'loading'
    this.error = null
    const after = this.#starts[this.#starts.length - 1] ?? null
    // One more than a page, to know whether there is a next one.
    const q = {
      limit: this.pageSize + 1, after: after ?? undefined, q: this.search.trim() || undefined,
      kind: this.kind === 'all' ? undefined : this.kind, state: this.deviceState === 'all' ? undefined : this.deviceState,
    }
    try {
      const devices = await answer<DeviceListItem[]>(api.GET('/api/v1/devices', { params: { query: q }, ...signedIn(key, abort.signal) }))
      if (abort.signal.aborted) return
      this.hasMore = devices.length > this.pageSize
      this.devices = devices.slice(0, this.pageSize)
      this.status = 'ready'
    } catch (err) {
      if (abort.signal.aborted) return
      this.error = describeError(err)
      this.status = 'error'
    }
  }

  loadSummary(key: string): Promise<void> {
    return this.summary.load((signal) => answer<DeviceSummary>(api.GET('/api/v1/device-summary', signedIn(key, signal))))
  }

  /** A new search or filter: back to the first page. */
  restart(key: string, change: { search?: string; kind?: KindFilter; deviceState?: StateFilter }): Promise<void> {
    if (change.search !== undefined) this.search = change.search
    if (change.kind !== undefined) this.kind = change.kind
    if (change.deviceState !== undefined) this.deviceState = change.deviceState
    this.#starts = [null]
    this.offset = 0
    return this.load(key)
  }

  next(key: string): Promise<void> {
    const last = this.devices[this.devices.length - 1]
    if (!this.hasMore || !last) return Promise.resolve()
    this.#starts.push(last.deviceId)
    this.offset += this.devices.length
    return this.load(key)
  }

  previous(key: string): Promise<void> {
    if (this.#starts.length <= 1) return Promise.resolve()
    this.#starts.pop()
    this.offset = Math.max(0, this.offset - this.pageSize)
    return this.load(key)
  }

  get hasPrevious(): boolean {
    return this.offset > 0
  }

  /** Live: a device connecting or dropping updates its row; a message moves its last-seen time. */
  apply(event: LiveEvent): void {
    const device = this.devices.find((d) => d.deviceId === event.deviceId)
    if (!device) return
    if (event.type === 'status') {
      const s = event.data as DeviceStatus
      device.online = s.online
      device.onlineSince = s.online ? (s.ts ?? new Date().toISOString()) : device.onlineSince
      return
    }
    const data = event.data as { ts?: string; batteryV?: number | null }
    if (data.ts && (!device.lastTs || Date.parse(data.ts) > Date.parse(device.lastTs))) device.lastTs = data.ts
    if (event.type === 'reading' && typeof data.batteryV === 'number') device.batteryV = data.batteryV
    device.online = true
  }

  stop(): void {
    this.#abort?.abort()
    this.summary.stop()
  }
}
