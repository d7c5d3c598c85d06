// The Devices page: sensors and vehicle units with their online state and when they were last heard
// from, a page at a time, kept current by live status events.
import { apiGet, describeError } from './api-client.ts'
import type { Device, DeviceStatus, LiveEvent } from './api-types.ts'
import type { LoadStatus } from './city-state.svelte.ts'

export type KindFilter = 'all' | 'bin' | 'vehicle'

export class DevicesState {
  status = $state<LoadStatus>('idle')
  error = $state<string | null>(null)
  devices = $state<Device[]>([])
  kind = $state<KindFilter>('all')
  offset = $state(0)
  readonly pageSize: number
  /** True when the API returned a full page: there may be more. */
  hasMore = $state(false)
  #abort: AbortController | null = null

  constructor(pageSize = 100) {
    this.pageSize = pageSize
  }

  async load(key: string): Promise<void> {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    this.status = 'loading'
    this.error = null
    const query = new URLSearchParams({ limit: String(this.pageSize), offset: String(this.offset) })
    if (this.kind !== 'all') query.set('kind', this.kind)
    try {
      const devices = await apiGet<Device[]>(`/api/v1/devices?${query}`, key, abort.signal)
      if (abort.signal.aborted) return
      this.devices = devices
      this.hasMore = devices.length === this.pageSize
      this.status = 'ready'
    } catch (err) {
      if (abort.signal.aborted) return
      this.error = describeError(err)
      this.status = 'error'
    }
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
    const ts = (event.data as { ts?: string }).ts
    if (ts && (!device.lastTs || Date.parse(ts) > Date.parse(device.lastTs))) device.lastTs = ts
    device.online = true
  }

  stop(): void {
    this.#abort?.abort()
  }
}
